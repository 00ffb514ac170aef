//! Windows: I/O completion ports. Operations are real overlapped calls (`WSARecv`, `WSASend`,
//! `WSARecvFrom`, `WSASendTo`, `AcceptEx`, `ConnectEx`, `ReadFile`, `WriteFile`) whose
//! completion packets `GetQueuedCompletionStatusEx` drains in batches; what has no overlapped
//! form (flushes, lengths, handle metadata, user closures) runs on the thread pool, whose
//! results come back through a packet posted to the same port. A pooled receive waits as a
//! zero-byte `WSARecv`, so an idle socket holds none of its pool's buffers; when that ends,
//! a buffer is taken and what waits is received into it without blocking. A multishot accept
//! is one `AcceptEx` after another in the same slot, each connection a completion of its own.
//!
//! Each operation's `OVERLAPPED` sits first in its slot, at a stable address, next to the
//! operation's identity, so a dequeued packet names its operation without a lookup table. The
//! slot (and the operation's buffers and socket addresses) stays with the driver until that
//! packet arrives, whatever the caller cancelled or dropped.
//!
//! A handle is associated with the port the first time the driver uses it, with
//! `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS` where the handle allows it: an operation that
//! finishes at once is completed on the spot and no packet follows; where the mode could not be
//! set, a packet follows every call that did not fail outright, and the driver waits for it.

use std::collections::HashMap;
use std::io;
use std::mem::{size_of, zeroed};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{
    GetHandleInformation, GetLastError, ERROR_INVALID_PARAMETER, ERROR_IO_PENDING, ERROR_MORE_DATA,
    ERROR_PIPE_CONNECTED, HANDLE, INVALID_HANDLE_VALUE, NTSTATUS, STATUS_PENDING, WAIT_TIMEOUT,
};
use windows_sys::Win32::Networking::WinSock::{
    self as winsock, TransmitFile, WSARecv, WSARecvFrom, WSASend, WSASendTo, SOCKADDR,
    SOCKADDR_STORAGE, SOCKET, SOCKET_ERROR, SO_UPDATE_ACCEPT_CONTEXT, SO_UPDATE_CONNECT_CONTEXT,
    WSABUF, WSAEINVAL, WSAEMSGSIZE, WSA_IO_PENDING,
};
use windows_sys::Win32::Storage::FileSystem::{
    ReadDirectoryChangesW, ReadFile, SetFileCompletionNotificationModes, WriteFile,
};
use windows_sys::Win32::System::Pipes::ConnectNamedPipe;
use windows_sys::Win32::System::Threading::{
    RegisterWaitForSingleObject, UnregisterWaitEx, WT_EXECUTEINWAITTHREAD, WT_EXECUTEONLYONCE,
};
use windows_sys::Win32::System::IO::{
    CancelIoEx, CreateIoCompletionPort, DeviceIoControl, GetQueuedCompletionStatusEx,
    PostQueuedCompletionStatus, OVERLAPPED, OVERLAPPED_ENTRY,
};

use super::checks::{self, IOV_MAX};
use super::timers::Timers;
use super::windows::{self as win, unsupported, HandleKind, Waker, WAKE_KEY};
use super::Backend;
use crate::pool::{Pool, Reply};
use crate::slots::Slots;
use crate::{Address, Buffer, Completion, Fd, Op, OpId};

/// `FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE`.
const SKIP_MODES: u8 = 0x1 | 0x2;
/// Room `AcceptEx` needs per address: the largest address plus 16 bytes.
const ACCEPT_ADDRESS_LEN: u32 = (size_of::<SOCKADDR_STORAGE>() + 16) as u32;
/// Most packets taken per `GetQueuedCompletionStatusEx`.
const BATCH: usize = 256;

/// The kernel's view of an operation: its `OVERLAPPED` first, so the pointer a packet carries
/// is also a pointer to the identity next to it.
#[repr(C)]
struct Packet {
    overlapped: OVERLAPPED,
    id: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
enum Place {
    /// Being started.
    #[default]
    Starting,
    /// Owned by the kernel until its packet arrives.
    Kernel,
    /// A timeout in the heap.
    Timer,
    /// Running on the thread pool (its `Op` travels with the job).
    Pool,
    /// Finished; the completion waits in `ready` to be handed out.
    Done,
}

/// What the kernel may read or write while an operation is in flight, besides its buffers.
struct Control {
    bufs: Vec<WSABUF>,
    address: SOCKADDR_STORAGE,
    address_len: i32,
    flags: u32,
    accept_socket: SOCKET,
    accept_buffer: [u8; 2 * ACCEPT_ADDRESS_LEN as usize],
    /// A vectored read or write of a file or pipe runs one buffer at a time (Windows has no
    /// general gather/scatter for them): the buffer in hand, and the bytes the earlier ones
    /// moved.
    part: usize,
    moved: usize,
    /// A pooled receive on a socket that carries messages (datagrams): its zero-byte receive
    /// peeks, as one that did not would take the datagram and drop all of it.
    messages: bool,
    /// An `Op::Poll` on a waitable handle: the registered wait and what its callback reads.
    wait: WaitContext,
    /// An `Op::Poll` on a socket: the socket driver's poll, its input and its output.
    afd: win::AfdPollInfo,
}

/// What a wait thread's callback needs to post an `Op::Poll`'s packet. The callback reads
/// `port` and `overlapped` (set before the wait is registered, unchanged until it is gone) and
/// swaps `fired`; nothing else of the slot.
struct WaitContext {
    registration: HANDLE,
    port: HANDLE,
    overlapped: *mut OVERLAPPED,
    /// Whoever swaps it first (the callback, or a cancel) posts the one packet.
    fired: AtomicBool,
}

#[repr(C)]
pub(crate) struct Slot {
    /// First: the packet's OVERLAPPED pointer is the slot's address.
    packet: Packet,
    op: Option<Op>,
    place: Place,
    /// The handle the kernel works on, for `CancelIoEx` and socket error codes.
    handle: Fd,
    kind: HandleKind,
    cancel_requested: bool,
    control: Control,
}

impl crate::slots::HoldsOp for Slot {
    fn op(&mut self) -> &mut Option<Op> {
        &mut self.op
    }
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            packet: Packet {
                // SAFETY: an all-zero OVERLAPPED is the documented initial state.
                overlapped: unsafe { zeroed() },
                id: 0,
            },
            op: None,
            place: Place::Starting,
            handle: 0,
            kind: HandleKind::Stream,
            cancel_requested: false,
            control: Control {
                bufs: Vec::new(),
                // SAFETY: plain data; zero is a valid (empty) address.
                address: unsafe { zeroed() },
                address_len: 0,
                flags: 0,
                accept_socket: winsock::INVALID_SOCKET,
                accept_buffer: [0; 2 * ACCEPT_ADDRESS_LEN as usize],
                part: 0,
                moved: 0,
                messages: false,
                wait: WaitContext {
                    registration: null_mut(),
                    port: null_mut(),
                    overlapped: null_mut(),
                    fired: AtomicBool::new(false),
                },
                afd: win::AfdPollInfo::new(winsock::INVALID_SOCKET, 0),
            },
        }
    }
}

#[derive(Clone, Copy)]
struct HandleState {
    kind: HandleKind,
    /// Whether an operation that succeeds at once is followed by no packet.
    skips_packet_on_success: bool,
    /// A listener's address family, learned at its first accept.
    family: Option<i32>,
    /// Whether a socket carries messages (datagrams), learned at its first pooled receive.
    messages: Option<bool>,
}

/// What starting an operation gave.
enum Started {
    /// The kernel has it; a packet will tell.
    Pending,
    /// Finished at once with this many bytes (a packet follows unless the handle skips it).
    Now(u32),
    /// Finished at once with a warning (a message or datagram longer than the buffer): like a
    /// success, a packet follows unless the handle skips it.
    Warning(i32, u32),
    /// Finished at once, and no packet follows whatever the handle's mode (a pipe client that
    /// connected before `ConnectNamedPipe`).
    Done(u32),
    /// Failed at once (no packet is queued for a call that fails outright).
    Failed(io::Error),
}

pub(crate) struct Iocp {
    waker: Arc<Waker>,
    slots: Slots<Slot>,
    handles: HashMap<Fd, HandleState>,
    timers: Timers,
    ready: Vec<Completion>,
    entries: Vec<OVERLAPPED_ENTRY>,
    reply: Arc<Reply>,
    from_pool: Vec<Completion>,
    /// Operations whose packet has not arrived yet.
    in_kernel: usize,
    /// `Op::Poll` waits registered (part of `in_kernel`), which a `Close` looks for when
    /// there are any.
    waits: usize,
    /// Operations on the thread pool, whose queue a `Close` looks through when there are any.
    pooled: usize,
    /// This driver among the process's (see `Backend::identity`).
    identity: u64,
}

enum Route {
    Now,
    Pool,
    Timer(Duration),
    Kernel(Fd),
    /// Wait for a waitable handle (a process, a console input, an event) to be signalled.
    Wait(Fd),
    Close(Fd),
    Unsupported(&'static str),
}

fn route(op: &Op) -> Route {
    match op {
        Op::Nop | Op::Shutdown { .. } | Op::Socket { .. } => Route::Now,
        Op::Timeout { duration } => Route::Timer(*duration),
        Op::Fsync { .. } | Op::Ftruncate { .. } | Op::Fallocate { .. } | Op::Blocking { .. } => {
            Route::Pool
        }
        Op::Statx {
            dir: Some(_), path, ..
        } if path.as_bytes().is_empty() => Route::Pool,
        Op::Close { fd } => Route::Close(*fd),
        Op::Read { fd, .. }
        | Op::ReadVectored { fd, .. }
        | Op::Write { fd, .. }
        | Op::WriteVectored { fd, .. }
        | Op::Send { fd, .. }
        | Op::SendZc { fd, .. }
        | Op::Recv { fd, .. }
        | Op::RecvPooled { fd, .. }
        | Op::SendMsg { fd, .. }
        | Op::RecvMsg { fd, .. }
        | Op::Accept { fd, .. }
        | Op::AcceptMultishot { fd }
        | Op::Connect { fd, .. }
        | Op::SendFile { socket: fd, .. }
        | Op::ConnectNamedPipe { pipe: fd }
        | Op::ReadDirectoryChanges { dir: fd, .. } => Route::Kernel(*fd),
        // A socket's poll goes to the kernel, a waitable handle's to a registered wait (see
        // `start_wait`).
        Op::Poll { fd, .. } => Route::Wait(*fd),
        Op::Statx { .. } => Route::Unsupported("statx with a path"),
        Op::OpenAt { .. } => Route::Unsupported("openat"),
        Op::RenameAt { .. } => Route::Unsupported("renameat"),
        Op::UnlinkAt { .. } => Route::Unsupported("unlinkat"),
        Op::MkDirAt { .. } => Route::Unsupported("mkdirat"),
        Op::SymlinkAt { .. } => Route::Unsupported("symlinkat"),
        Op::LinkAt { .. } => Route::Unsupported("linkat"),
        Op::Splice { .. } => Route::Unsupported("splice"),
        // kqueue's EVFILT_PROC; Windows waits for a process with Op::Poll on its handle.
        Op::WaitExit { .. } => Route::Unsupported("waiting for a process exit by its ID"),
    }
}

fn invalid_input(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

impl Iocp {
    pub(crate) fn new() -> io::Result<Iocp> {
        win::start_winsock()?;
        let waker = Arc::new(Waker::new()?);
        Ok(Iocp {
            reply: Reply::new(Arc::clone(&waker)),
            waker,
            slots: Slots::new(),
            handles: HashMap::new(),
            timers: Timers::default(),
            ready: Vec::new(),
            entries: Vec::with_capacity(BATCH),
            from_pool: Vec::new(),
            in_kernel: 0,
            waits: 0,
            pooled: 0,
            identity: super::next_identity(),
        })
    }

    /// What `fd` is, associating it with the port the first time.
    fn handle_state(&mut self, fd: Fd) -> io::Result<HandleState> {
        if let Some(state) = self.handles.get(&fd) {
            return Ok(*state);
        }
        let kind = win::handle_kind(fd)?;
        // SAFETY: associates an existing handle with our port under key 0; a bad handle fails.
        let port = unsafe { CreateIoCompletionPort(win::handle(fd), self.waker.port(), 0, 0) };
        if port.is_null() {
            // SAFETY: reads this thread's last error.
            let code = unsafe { GetLastError() };
            // ERROR_INVALID_PARAMETER: already associated. A handle belongs to one port for its
            // life; this driver assumes it is its own (a value it forgot with `forget_fd` and
            // sees again) — a handle of another driver's port would never complete here.
            if code != ERROR_INVALID_PARAMETER {
                return Err(io::Error::from_raw_os_error(code as i32));
            }
        }
        let may_skip = kind != HandleKind::Socket || win::socket_is_ifs(fd);
        let skips_packet_on_success = may_skip && {
            // SAFETY: a plain call on a handle associated above.
            unsafe { SetFileCompletionNotificationModes(win::handle(fd), SKIP_MODES) != 0 }
        };
        let state = HandleState {
            kind,
            skips_packet_on_success,
            family: None,
            messages: None,
        };
        self.handles.insert(fd, state);
        Ok(state)
    }

    fn listener_family(&mut self, fd: Fd) -> io::Result<i32> {
        if let Some(family) = self.handles.get(&fd).and_then(|state| state.family) {
            return Ok(family);
        }
        let family = win::socket_family(fd)?;
        if let Some(state) = self.handles.get_mut(&fd) {
            state.family = Some(family);
        }
        Ok(family)
    }

    fn carries_messages(&mut self, fd: Fd) -> io::Result<bool> {
        if let Some(messages) = self.handles.get(&fd).and_then(|state| state.messages) {
            return Ok(messages);
        }
        let messages = win::is_message_socket(fd)?;
        if let Some(state) = self.handles.get_mut(&fd) {
            state.messages = Some(messages);
        }
        Ok(messages)
    }

    /// Records the final result of `id` for the next `poll` to hand out.
    fn complete(&mut self, id: OpId, result: io::Result<usize>) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        let Some(op) = slot.op.take() else { return };
        let mut result = result.map_err(|error| win::portable_error(&op, error));
        if slot.cancel_requested {
            result = discard_created_fd(&op, result);
        }
        slot.place = Place::Done;
        self.ready.push(Completion::new(id, result, op));
    }

    /// Finishes an operation the kernel ended with Win32/Winsock error `code` (0: success)
    /// after moving `bytes`.
    fn finish(&mut self, id: OpId, mut code: i32, mut bytes: u32) {
        match self.slots.get(id).and_then(|slot| slot.op.as_ref()) {
            Some(Op::RecvPooled { .. }) => return self.receive_pooled(id, code),
            Some(Op::AcceptMultishot { .. }) => return self.accept_multishot(id, code),
            _ => {}
        }
        // A transfer done in parts starts its next part here. Parts that finish at once come
        // round this loop rather than through `started` and back (a recursion as deep as the
        // parts: a write of 100,000 buffers to a file is 100,000 of them).
        loop {
            let Some(slot) = self.slots.get_mut(id) else {
                return;
            };
            match next_part(slot, code, bytes) {
                Part::Started(started) => {
                    let skips = self
                        .handles
                        .get(&slot.handle)
                        .is_some_and(|state| state.skips_packet_on_success);
                    match self.started(id, started, skips) {
                        Some((next_code, next_bytes)) => (code, bytes) = (next_code, next_bytes),
                        None => return,
                    }
                }
                Part::Finished(total) => {
                    (code, bytes) = (0, total);
                    break;
                }
                Part::NotVectored => break,
            }
        }
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        let Some(op) = slot.op.as_mut() else { return };
        let control = &mut slot.control;
        let result = match op {
            Op::Read { buf, .. } | Op::Recv { buf, .. } | Op::ReadDirectoryChanges { buf, .. } => {
                raw_result(code, bytes, true).inspect(|&count| {
                    // SAFETY: the kernel reported `count` bytes written into read_destination's
                    // memory, which the WSABUF/ReadFile call described.
                    unsafe { buf.commit_read(count) }
                })
            }
            Op::ReadVectored { bufs, .. } => {
                raw_result(code, bytes, true).inspect(|&count| checks::commit_vectored(bufs, count))
            }
            Op::RecvMsg { bufs, source, .. } => raw_result(code, bytes, true).inspect(|&count| {
                checks::commit_vectored(bufs, count);
                // SAFETY: the kernel wrote `address_len` bytes of address into `address`.
                *source = unsafe {
                    win::read_socket_addr(
                        (&control.address as *const SOCKADDR_STORAGE).cast(),
                        control.address_len,
                    )
                }
                .map(Address::Ip);
            }),
            Op::Accept { fd, peer } => {
                let accepted =
                    std::mem::replace(&mut control.accept_socket, winsock::INVALID_SOCKET);
                let result = raw_result(code, bytes, false).and_then(|_| {
                    // The accepted socket inherits the listener's properties only once told
                    // which listener it came from (getsockname, shutdown, ... need it).
                    win::set_socket_option(
                        accepted as Fd,
                        SO_UPDATE_ACCEPT_CONTEXT,
                        &(*fd as SOCKET),
                    )?;
                    *peer = accept_peer(*fd, &control.accept_buffer);
                    Ok(accepted)
                });
                if result.is_err() && accepted != winsock::INVALID_SOCKET {
                    win::close_quietly(accepted as Fd);
                }
                result
            }
            Op::Connect { fd, .. } => raw_result(code, bytes, false).and_then(|_| {
                win::set_socket_option(*fd, SO_UPDATE_CONNECT_CONTEXT, &0u32)?;
                Ok(0)
            }),
            Op::Poll { .. } => {
                raw_result(code, bytes, false).and_then(|_| poll_events(control.afd.seen()))
            }
            _ => raw_result(code, bytes, false),
        };
        let result = match result {
            // Cancelled, or its handle closed under it (by `Close`, or outside the driver): the
            // one error a cancel gives everywhere.
            Err(error) if is_abort(&error) => Err(win::cancelled()),
            other => other,
        };
        self.complete(id, result);
    }

    /// Moves pooled receive `id` on once its zero-byte receive ended with `code` (0: bytes, or
    /// the end of the stream, are there): receives into a buffer from the pool without waiting,
    /// and a multishot receive again and again, one completion each, while bytes wait; then
    /// another zero-byte receive waits for more, with no buffer parked meanwhile.
    fn receive_pooled(&mut self, id: OpId, mut code: i32) {
        loop {
            let Some(slot) = self.slots.get_mut(id) else {
                return;
            };
            let fd = slot.handle;
            // A zero-byte peek finds a datagram longer than nothing: one waits.
            if code == WSAEMSGSIZE {
                code = 0;
            }
            let result = if code != 0 {
                raw_result(code, 0, true)
            } else if slot.cancel_requested {
                // Its zero-byte receive ended as it was cancelled: what waits stays in the
                // socket for the next receive.
                Err(win::cancelled())
            } else {
                let Some(op) = slot.op.as_mut() else { return };
                let Op::RecvPooled { pool, buffer, .. } = op else {
                    return;
                };
                match win::receive_pooled(fd, slot.control.messages, pool, buffer) {
                    Ok(Some(count)) if op.is_item(count) => {
                        let item = op.split_item();
                        self.ready.push(Completion {
                            id,
                            result: Ok(count),
                            op: item,
                            more: true,
                        });
                        continue;
                    }
                    Ok(Some(count)) => Ok(count),
                    Ok(None) => {
                        let skips = self
                            .handles
                            .get(&fd)
                            .is_some_and(|state| state.skips_packet_on_success);
                        let started = start(slot, None);
                        match self.started(id, started, skips) {
                            // Bytes came since (or the receive failed at once): round again.
                            Some((next_code, _)) => {
                                code = next_code;
                                continue;
                            }
                            None => return,
                        }
                    }
                    Err(error) => match error.raw_os_error() {
                        // A receive side this process shut down is the end of the stream.
                        Some(code) => raw_result(code, 0, true),
                        None => Err(error),
                    },
                }
            };
            let result = match result {
                Err(error) if is_abort(&error) => Err(win::cancelled()),
                other => other,
            };
            return self.complete(id, result);
        }
    }

    /// Moves multishot accept `id` on once an `AcceptEx` ended with `code` (0: a connection):
    /// hands the connection out as one of its many completions, then issues the next
    /// `AcceptEx` in the same OVERLAPPED at once (its last use is over: the packet was
    /// dequeued, or none comes for a call that finished at once on a handle that skips it),
    /// round again while connections already wait. An error or a cancel ends it.
    fn accept_multishot(&mut self, id: OpId, mut code: i32) {
        loop {
            let Some(slot) = self.slots.get_mut(id) else {
                return;
            };
            let Some(op) = slot.op.as_mut() else { return };
            let listener = slot.handle;
            let accepted =
                std::mem::replace(&mut slot.control.accept_socket, winsock::INVALID_SOCKET);
            let result = raw_result(code, 0, false).and_then(|_| {
                // As for `Op::Accept`: the socket learns its listener (getsockname, shutdown).
                win::set_socket_option(
                    accepted as Fd,
                    SO_UPDATE_ACCEPT_CONTEXT,
                    &(listener as SOCKET),
                )?;
                Ok(accepted as usize)
            });
            match result {
                // Handed out even when a cancel came meanwhile: the connection was taken from
                // the backlog, and only the caller can serve (or close) it now.
                Ok(socket) => {
                    let item = op.split_item();
                    self.ready.push(Completion {
                        id,
                        result: Ok(socket),
                        op: item,
                        more: true,
                    });
                }
                Err(error) => {
                    // Failed, or cancelled before a connection came: the socket made for it
                    // is still ours.
                    if accepted != winsock::INVALID_SOCKET {
                        win::close_quietly(accepted as Fd);
                    }
                    let error = if is_abort(&error) {
                        win::cancelled()
                    } else {
                        error
                    };
                    return self.complete(id, Err(error));
                }
            }
            if slot.cancel_requested {
                // The cancel met this AcceptEx as it finished: nothing is pending to end.
                return self.complete(id, Err(win::cancelled()));
            }
            let family = match self.listener_family(listener) {
                Ok(family) => family,
                Err(error) => return self.complete(id, Err(error)),
            };
            let skips = self
                .handles
                .get(&listener)
                .is_some_and(|state| state.skips_packet_on_success);
            let Some(slot) = self.slots.get_mut(id) else {
                return;
            };
            let started = start(slot, Some(family));
            match self.started(id, started, skips) {
                // Another connection was waiting (or the call failed at once): round again.
                Some((next_code, _)) => code = next_code,
                None => return,
            }
        }
    }

    fn send_to_pool(&mut self, id: OpId) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        let Some(op) = slot.op.take() else { return };
        slot.place = Place::Pool;
        self.pooled += 1;
        Pool::global().execute(id, op, &self.reply);
    }

    /// Starts an overlapped operation on `fd`.
    fn start_kernel(&mut self, id: OpId, fd: Fd) {
        let state = match self.handle_state(fd) {
            Ok(state) => state,
            Err(error) => return self.complete(id, Err(error)),
        };
        let family = match self.slots.get(id).and_then(|slot| slot.op.as_ref()) {
            Some(Op::Accept { .. } | Op::AcceptMultishot { .. }) => {
                match self.listener_family(fd) {
                    Ok(family) => Some(family),
                    Err(error) => return self.complete(id, Err(error)),
                }
            }
            _ => None,
        };
        let messages = match self.slots.get(id).and_then(|slot| slot.op.as_ref()) {
            Some(Op::RecvPooled { .. }) if state.kind == HandleKind::Socket => {
                match self.carries_messages(fd) {
                    Ok(messages) => messages,
                    Err(error) => return self.complete(id, Err(error)),
                }
            }
            _ => false,
        };
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        slot.handle = fd;
        slot.control.messages = messages;
        slot.kind = state.kind;
        slot.control.part = 0;
        slot.control.moved = 0;
        let started = start(slot, family);
        if let Some((code, bytes)) = self.started(id, started, state.skips_packet_on_success) {
            self.finish(id, code, bytes);
        }
    }

    /// Moves an operation on by what starting it (or its next part) gave. Returns the error
    /// code and byte count to [`finish`](Iocp::finish) it with when it ended at once with no
    /// packet to follow; the caller does that.
    fn started(
        &mut self,
        id: OpId,
        started: Started,
        skips_packet_on_success: bool,
    ) -> Option<(i32, u32)> {
        let slot = self.slots.get_mut(id)?;
        match started {
            Started::Pending => {
                slot.place = Place::Kernel;
                self.in_kernel += 1;
                None
            }
            Started::Now(_) | Started::Warning(..) if !skips_packet_on_success => {
                // The port was not told to skip this packet: it will come, with the result.
                slot.place = Place::Kernel;
                self.in_kernel += 1;
                None
            }
            Started::Now(bytes) | Started::Done(bytes) => Some((0, bytes)),
            Started::Warning(code, bytes) => Some((code, bytes)),
            Started::Failed(error) => {
                // An AcceptEx that failed outright leaves its socket to us.
                let accepted =
                    std::mem::replace(&mut slot.control.accept_socket, winsock::INVALID_SOCKET);
                if accepted != winsock::INVALID_SOCKET {
                    win::close_quietly(accepted as Fd);
                }
                let code = error.raw_os_error().unwrap_or(0);
                if code != 0 {
                    Some((code, 0))
                } else {
                    self.complete(id, Err(error));
                    None
                }
            }
        }
    }

    /// Registers a one-shot wait on `fd`: a wait thread's callback posts the operation's packet
    /// when the handle is signalled (Wine 8 has no wait-completion packets, and this works on
    /// every Windows).
    fn start_wait(&mut self, id: OpId, fd: Fd) {
        if matches!(win::handle_kind(fd), Ok(HandleKind::Socket)) {
            return self.start_kernel(id, fd);
        }
        let mut flags = 0u32;
        // SAFETY: any value may be asked about; a closed or made-up one fails, where a wait
        // registered on it would never end.
        if unsafe { GetHandleInformation(win::handle(fd), &mut flags) } == 0 {
            return self.complete(id, Err(win::last_error()));
        }
        let writable = matches!(
            self.slots.get(id).and_then(|slot| slot.op.as_ref()),
            Some(Op::Poll { writable: true, .. })
        );
        if writable {
            return self.complete(id, Err(unsupported("poll of a handle for writability")));
        }
        let port = self.waker.port();
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        slot.handle = fd;
        slot.kind = HandleKind::Stream;
        // SAFETY: a fresh OVERLAPPED: Internal 0 is the status the callback's packet reports.
        slot.packet.overlapped = unsafe { zeroed() };
        let wait = &mut slot.control.wait;
        wait.port = port;
        wait.overlapped = &mut slot.packet.overlapped;
        wait.fired = AtomicBool::new(false);
        let mut registration: HANDLE = null_mut();
        // SAFETY: the context (the slot's WaitContext) stays at its address until the wait is
        // unregistered, which happens before the slot is reused (on the packet, on cancel, or
        // when the driver is dropped); the callback only posts to the port.
        let ok = unsafe {
            RegisterWaitForSingleObject(
                &mut registration,
                win::handle(fd),
                Some(wait_fired),
                (wait as *const WaitContext).cast(),
                u32::MAX, // INFINITE
                WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD,
            )
        };
        if ok == 0 {
            return self.complete(id, Err(win::last_error()));
        }
        slot.control.wait.registration = registration;
        slot.place = Place::Kernel;
        self.in_kernel += 1;
        self.waits += 1;
    }

    /// Ends a registered wait early; exactly one packet still comes for it.
    fn cancel_wait(slot: &mut Slot) {
        let registration = std::mem::replace(&mut slot.control.wait.registration, null_mut());
        if registration.is_null() {
            return;
        }
        // SAFETY: INVALID_HANDLE_VALUE waits for a callback in progress to return, so after
        // this no callback touches the context.
        unsafe { UnregisterWaitEx(registration, INVALID_HANDLE_VALUE) };
        if !slot.control.wait.fired.swap(true, Ordering::AcqRel) {
            // SAFETY: the port is open (the waker owns it); the OVERLAPPED is the slot's.
            unsafe {
                PostQueuedCompletionStatus(
                    slot.control.wait.port,
                    0,
                    WAIT_CANCELLED_KEY,
                    slot.control.wait.overlapped,
                )
            };
        }
    }

    fn close(&mut self, id: OpId, fd: Fd) {
        let kind = self.handles.remove(&fd).map(|state| state.kind);
        if self.waits > 0 {
            // Windows leaves a handle closed under a registered wait undefined: end the waits
            // first (each still completes, as cancelled, through its packet).
            let waiting: Vec<OpId> = self
                .slots
                .ids()
                .filter(|&waiting| {
                    self.slots.get(waiting).is_some_and(|slot| {
                        slot.place == Place::Kernel && slot.handle == fd && is_wait(slot)
                    })
                })
                .collect();
            for waiting in waiting {
                if let Some(slot) = self.slots.get_mut(waiting) {
                    slot.cancel_requested = true;
                    Iocp::cancel_wait(slot);
                }
            }
        }
        if self.pooled > 0 {
            // Jobs not started yet would run on whatever the value names by then.
            let Iocp {
                reply,
                slots,
                pooled,
                ..
            } = self;
            let mut taken = Vec::new();
            Pool::global().cancel_using_fd(reply, fd, |waiting, op| {
                *pooled -= 1;
                if let Some(slot) = slots.get_mut(waiting) {
                    slot.op = Some(op);
                    taken.push(waiting);
                }
            });
            for waiting in taken {
                self.complete(waiting, Err(win::cancelled()));
            }
        }
        // Operations still pending on it end (with ERROR_OPERATION_ABORTED) before it goes.
        // SAFETY: NULL cancels every operation of this process on the handle; a bad value fails.
        unsafe { CancelIoEx(win::handle(fd), null()) };
        let result = win::close(fd, kind);
        self.complete(id, result);
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        let slots = &self.slots;
        self.timers
            .next_deadline(|id| slots.get(id).is_some_and(|slot| slot.place == Place::Timer))
    }

    fn fire_timers(&mut self, now: Instant) {
        while let Some(id) = self.timers.pop_due(now) {
            if self
                .slots
                .get(id)
                .is_some_and(|slot| slot.place == Place::Timer)
            {
                self.complete(id, Ok(0));
            }
        }
    }

    /// Takes the pool's results, if it posted any: one atomic load when it did not.
    fn collect_pool(&mut self) {
        // The closure borrows only the fields it names (not `self`), so it can run while
        // `reply` and `from_pool` are borrowed.
        self.reply.collect(&mut self.from_pool, |mut completion| {
            self.pooled -= 1;
            if let Some(slot) = self.slots.get_mut(completion.id) {
                if slot.cancel_requested {
                    completion.result = discard_created_fd(&completion.op, completion.result);
                }
                slot.place = Place::Done;
                self.ready.push(completion);
            }
        });
    }

    /// Waits up to `timeout` for packets and handles them; returns whether a wake arrived.
    fn dequeue(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        let milliseconds = match timeout {
            None => u32::MAX, // INFINITE
            // Rounded up, so a wait for 0.3 ms does not spin.
            Some(timeout) => {
                let millis = timeout.as_nanos().div_ceil(1_000_000);
                u32::try_from(millis)
                    .unwrap_or(u32::MAX - 1)
                    .min(u32::MAX - 1)
            }
        };
        let mut removed = 0u32;
        self.entries.clear();
        // SAFETY: `entries` has room for BATCH entries; the kernel writes `removed` of them.
        let ok = unsafe {
            GetQueuedCompletionStatusEx(
                self.waker.port(),
                self.entries.as_mut_ptr(),
                BATCH as u32,
                &mut removed,
                milliseconds,
                0,
            )
        };
        if ok == 0 {
            // SAFETY: reads this thread's last error.
            let code = unsafe { GetLastError() };
            if code == WAIT_TIMEOUT {
                return Ok(false);
            }
            return Err(io::Error::from_raw_os_error(code as i32));
        }
        // SAFETY: the kernel initialised the first `removed` entries.
        unsafe { self.entries.set_len(removed as usize) };
        let mut woken = false;
        for index in 0..self.entries.len() {
            let entry = self.entries[index];
            if entry.lpCompletionKey == WAKE_KEY {
                self.waker.reset();
                woken = true;
                continue;
            }
            // A handle stays tied to the port it was first associated with: one the driver
            // once worked on and gave back (`into_raw`, a std socket the caller went on
            // using) queues other code's OVERLAPPEDs here. Only a pointer to the OVERLAPPED
            // of one of our slots is ours; anything else is not even read.
            let ours = self
                .slots
                .index_of_field(entry.lpOverlapped as usize, |slot| {
                    std::ptr::addr_of!(slot.packet.overlapped).cast()
                });
            if entry.lpOverlapped.is_null() || ours.is_none() {
                continue;
            }
            // SAFETY: the pointer is the OVERLAPPED, first field of the `Packet`, of one of
            // this driver's slots (checked just above); slots never move or free while the
            // driver lives, so the identity next to it is readable.
            let (raw_id, status) = unsafe {
                let packet = entry.lpOverlapped.cast::<Packet>();
                ((*packet).id, (*packet).overlapped.Internal as NTSTATUS)
            };
            let id = OpId::from_u64(raw_id);
            let Some(slot) = self.slots.get_mut(id) else {
                continue;
            };
            if slot.place != Place::Kernel {
                continue;
            }
            if status == STATUS_PENDING
                && matches!(
                    slot.op,
                    Some(Op::RecvPooled { .. } | Op::AcceptMultishot { .. })
                )
            {
                // A pooled receive starts its next zero-byte receive in the same OVERLAPPED
                // as soon as one ends, without a turn of `poll`, and a multishot accept its
                // next AcceptEx. Should a packet come for one that finished at once on a
                // handle set to skip it (Wine posts one for some operations, see `end_ready`
                // below; not seen for receives or accepts), it would find the next one
                // pending, and ending that would hand its OVERLAPPED to a third call while the
                // kernel still has it. A finished operation's status is never pending: this
                // packet is not the one in flight.
                continue;
            }
            self.in_kernel -= 1;
            if entry.lpCompletionKey == WAIT_KEY || entry.lpCompletionKey == WAIT_CANCELLED_KEY {
                self.waits -= 1;
                let registration =
                    std::mem::replace(&mut slot.control.wait.registration, null_mut());
                if !registration.is_null() {
                    // The one-shot wait is over; NULL: do not wait for its callback, which
                    // has posted and is returning.
                    // SAFETY: a registration this driver made, unregistered once.
                    unsafe { UnregisterWaitEx(registration, null_mut()) };
                }
                let result = if entry.lpCompletionKey == WAIT_KEY {
                    Ok(1) // POLLIN: the handle is signalled.
                } else {
                    Err(win::cancelled())
                };
                self.complete(id, result);
                continue;
            }
            let code = if status >= 0 {
                0
            } else if slot.kind == HandleKind::Socket {
                // SAFETY: the packet was dequeued: the operation is complete.
                unsafe { win::socket_status_error(slot.handle, entry.lpOverlapped, status) }
            } else {
                win::status_error(status) as i32
            };
            self.finish(id, code, entry.dwNumberOfBytesTransferred);
        }
        Ok(woken)
    }

    fn deliver(&mut self, completions: &mut Vec<Completion>) -> usize {
        let count = self.ready.len();
        for completion in self.ready.drain(..) {
            self.slots.finish(completion, completions);
        }
        count
    }
}

enum Part {
    /// Not a vectored file operation done in parts.
    NotVectored,
    /// The next part was started.
    Started(Started),
    /// Every part is done (or one fell short): the whole operation moved this many bytes.
    Finished(u32),
}

/// After a part of a vectored transfer done in parts: starts the next part if this one moved
/// its whole share and more remains (a short part means the end of a file or a full pipe:
/// the operation ends there, as a gathering syscall would).
///
/// Files and pipes have no general scatter/gather, so their vectored reads and writes go one
/// buffer per part. A socket takes a whole WSABUF array per call, but at most [`IOV_MAX`]
/// buffers of it (Wine hands the array to `sendmsg`, which takes no more): a write of more
/// goes that many per part, each part whole before the next starts, as an overlapped send on
/// a stream completes only once all of it is sent; a read of more fills the first `IOV_MAX`
/// buffers at most (see `start`).
fn next_part(slot: &mut Slot, code: i32, bytes: u32) -> Part {
    let socket = slot.kind == HandleKind::Socket;
    let (count, is_read) = match slot.op.as_ref() {
        Some(Op::ReadVectored { bufs, .. }) if !socket => (bufs.len(), true),
        Some(Op::WriteVectored { bufs, .. }) if !socket || bufs.len() > IOV_MAX => {
            (bufs.len(), false)
        }
        _ => return Part::NotVectored,
    };
    let step = if socket { IOV_MAX } else { 1 };
    let moved_before = slot.control.moved;
    let total = (moved_before + bytes as usize).min(u32::MAX as usize) as u32;
    if code != 0 {
        // An error (or a cancel) after earlier parts moved bytes: report them, as a short
        // transfer (an error comes again on the next call). An end of file or a broken pipe
        // is no error.
        return if moved_before > 0 {
            Part::Finished(total)
        } else {
            Part::NotVectored
        };
    }
    if slot.cancel_requested {
        // Cancelled while this part ran, which finished anyway: no next part, and every byte
        // moved so far is the result.
        return Part::Finished(total);
    }
    let part = slot.control.part;
    let part_len = match slot.op.as_mut() {
        Some(Op::ReadVectored { bufs, .. }) => bufs[part].read_capacity(),
        Some(Op::WriteVectored { bufs, .. }) => bufs
            .get(part..(part + step).min(bufs.len()))
            .map_or(0, |share| share.iter().map(Buffer::len).sum()),
        _ => 0,
    };
    let full = bytes as usize == part_len;
    // Reads of a pipe stop at the first part: waiting for more could block forever.
    let may_go_on = !is_read || slot.kind == HandleKind::Disk;
    if full && may_go_on && part + step < count && total < u32::MAX {
        slot.control.moved = total as usize;
        slot.control.part = part + step;
        return Part::Started(start(slot, None));
    }
    Part::Finished(total)
}

/// The completion key of a registered wait's packet: the handle was signalled.
const WAIT_KEY: usize = 2;
/// The completion key of a registered wait's packet posted by a cancel.
const WAIT_CANCELLED_KEY: usize = 3;

/// Runs on a wait thread when a polled handle is signalled. Only `RegisterWaitForSingleObject`
/// calls it, with the `WaitContext` pointer it was given at registration as `context`.
// SAFETY: callers pass that registered context (the blocks inside say what it promises).
unsafe extern "system" fn wait_fired(context: *mut std::ffi::c_void, _timed_out: bool) {
    // SAFETY: the context is the slot's WaitContext, alive until the wait is unregistered
    // (which waits for this callback); only its atomic is written.
    let wait = unsafe { &*(context as *const WaitContext) };
    if !wait.fired.swap(true, Ordering::AcqRel) {
        // SAFETY: the port outlives every registered wait (the driver unregisters them before
        // the waker, which owns the port, can go).
        unsafe { PostQueuedCompletionStatus(wait.port, 0, WAIT_KEY, wait.overlapped) };
    }
}

/// Whether an operation ended because it was cancelled or its handle closed under it (Wine
/// reports a socket closed with a receive pending as `ERROR_HANDLES_CLOSED`).
fn is_abort(error: &io::Error) -> bool {
    win::is_cancelled(error) || error.raw_os_error() == Some(676)
}

/// The result of a finished operation from its error code and byte count.
fn raw_result(code: i32, bytes: u32, is_read: bool) -> io::Result<usize> {
    if code == 0 {
        Ok(bytes as usize)
    } else if is_read {
        win::read_result(code, bytes)
    } else {
        Err(io::Error::from_raw_os_error(code))
    }
}

/// The peer address `AcceptEx` left in its buffer.
fn accept_peer(listener: Fd, buffer: &[u8]) -> Option<std::net::SocketAddr> {
    let get = win::extensions(listener).ok()?.get_accept_ex_sockaddrs?;
    let mut local: *mut SOCKADDR = null_mut();
    let mut local_len = 0i32;
    let mut remote: *mut SOCKADDR = null_mut();
    let mut remote_len = 0i32;
    // SAFETY: `buffer` is the AcceptEx output buffer laid out with these lengths; the function
    // only sets the four out values to point inside it.
    unsafe {
        get(
            buffer.as_ptr().cast(),
            0,
            ACCEPT_ADDRESS_LEN,
            ACCEPT_ADDRESS_LEN,
            &mut local,
            &mut local_len,
            &mut remote,
            &mut remote_len,
        );
        win::read_socket_addr(remote, remote_len)
    }
}

/// A cancelled operation that created a socket anyway: close it, report the cancel.
fn discard_created_fd(op: &Op, result: io::Result<usize>) -> io::Result<usize> {
    match result {
        Ok(fd) if op.creates_fd() => {
            win::close_quietly(fd as Fd);
            Err(win::cancelled())
        }
        other => other,
    }
}

/// Describes `bufs` as WSABUFs (reusing the vector) for a read or a write.
fn fill_wsabufs(wsabufs: &mut Vec<WSABUF>, bufs: &mut [Buffer], for_read: bool) {
    wsabufs.clear();
    for buf in bufs {
        let (pointer, len) = if for_read {
            buf.read_destination()
        } else {
            let (pointer, len) = buf.write_source();
            (pointer.cast_mut(), len)
        };
        wsabufs.push(WSABUF {
            len: u32::try_from(len).unwrap_or(u32::MAX),
            buf: pointer,
        });
    }
}

fn fill_one_wsabuf(wsabufs: &mut Vec<WSABUF>, buf: &mut Buffer, for_read: bool) {
    fill_wsabufs(wsabufs, std::slice::from_mut(buf), for_read);
}

/// The result of a Winsock overlapped call that returned `result` and reported `bytes`.
fn socket_started(result: i32, bytes: u32, overlapped: *const OVERLAPPED) -> Started {
    if result == 0 {
        return Started::Now(bytes);
    }
    let error = win::last_socket_error();
    match error.raw_os_error() {
        Some(WSA_IO_PENDING) => Started::Pending,
        // A truncated datagram is a warning status (STATUS_BUFFER_OVERFLOW), not an error:
        // the port treats it as a success (a packet unless skipped), and the count of bytes
        // delivered is in the status block.
        Some(WSAEMSGSIZE) => {
            // SAFETY: `overlapped` is the slot's, and the call has returned.
            let bytes = unsafe { (*overlapped).InternalHigh } as u32;
            Started::Warning(WSAEMSGSIZE, bytes)
        }
        _ => Started::Failed(error),
    }
}

/// The result of a `ReadFile`/`WriteFile`-style call that returned `ok`.
fn file_started(ok: i32, overlapped: &OVERLAPPED) -> Started {
    // Some calls (ReadDirectoryChangesW) return TRUE for "queued": the status block still
    // says pending, and a packet will follow.
    if ok != 0 && overlapped.Internal as NTSTATUS == STATUS_PENDING {
        return Started::Pending;
    }
    if ok != 0 {
        return Started::Now(overlapped.InternalHigh as u32);
    }
    let error = win::last_error();
    match error.raw_os_error().map(|code| code as u32) {
        Some(ERROR_IO_PENDING) => Started::Pending,
        // STATUS_BUFFER_OVERFLOW (a message longer than the buffer) is a warning, treated as a
        // success by the port: a packet follows unless the handle skips it. Taking it as a
        // failure would let a late packet name the slot's next operation.
        Some(ERROR_MORE_DATA) => {
            Started::Warning(ERROR_MORE_DATA as i32, overlapped.InternalHigh as u32)
        }
        _ => Started::Failed(error),
    }
}

fn set_offset(overlapped: &mut OVERLAPPED, offset: u64) {
    overlapped.Anonymous.Anonymous.Offset = offset as u32;
    overlapped.Anonymous.Anonymous.OffsetHigh = (offset >> 32) as u32;
}

/// Issues the overlapped call for the operation in `slot`.
fn start(slot: &mut Slot, family: Option<i32>) -> Started {
    let fd = slot.handle;
    let kind = slot.kind;
    // SAFETY: an all-zero OVERLAPPED is its documented initial state: a fresh one every call.
    slot.packet.overlapped = unsafe { zeroed() };
    let overlapped: *mut OVERLAPPED = &mut slot.packet.overlapped;
    let control = &mut slot.control;
    let Some(op) = slot.op.as_mut() else {
        return Started::Failed(win::cancelled());
    };
    match op {
        Op::Read { buf, offset, .. } => match kind {
            HandleKind::Socket => {
                fill_one_wsabuf(&mut control.bufs, buf, true);
                control.flags = 0;
                recv(fd, control, overlapped)
            }
            _ => {
                let (pointer, len) = buf.read_destination();
                transfer_file(fd, kind, Transfer::Read(pointer, len), *offset, overlapped)
            }
        },
        Op::ReadVectored { bufs, offset, .. } => match kind {
            // At most IOV_MAX buffers per call (see `next_part`); a read may fill fewer.
            HandleKind::Socket => {
                let end = bufs.len().min(IOV_MAX);
                fill_wsabufs(&mut control.bufs, &mut bufs[..end], true);
                control.flags = 0;
                recv(fd, control, overlapped)
            }
            // No general scatter read for files (ReadFileScatter wants whole pages): one
            // buffer at a time, the next once this one is full (see `next_part`).
            _ => {
                let (pointer, len) = bufs[control.part].read_destination();
                let offset = offset.map(|offset| offset + control.moved as u64);
                transfer_file(fd, kind, Transfer::Read(pointer, len), offset, overlapped)
            }
        },
        Op::Write { buf, offset, .. } => match kind {
            HandleKind::Socket => {
                fill_one_wsabuf(&mut control.bufs, buf, false);
                send(fd, control, 0, overlapped)
            }
            _ => {
                let (pointer, len) = buf.write_source();
                transfer_file(fd, kind, Transfer::Write(pointer, len), *offset, overlapped)
            }
        },
        Op::WriteVectored { bufs, offset, .. } => match kind {
            // At most IOV_MAX buffers per call, from the part in hand (see `next_part`).
            HandleKind::Socket => {
                let end = (control.part + IOV_MAX).min(bufs.len());
                fill_wsabufs(&mut control.bufs, &mut bufs[control.part..end], false);
                send(fd, control, 0, overlapped)
            }
            // As for reads: one buffer at a time, skipping empty ones.
            _ => {
                while control.part < bufs.len() && bufs[control.part].is_empty() {
                    control.part += 1;
                }
                match bufs.get(control.part) {
                    Some(buf) => {
                        let (pointer, len) = buf.write_source();
                        let offset = offset.map(|offset| offset + control.moved as u64);
                        transfer_file(fd, kind, Transfer::Write(pointer, len), offset, overlapped)
                    }
                    None => Started::Done(0),
                }
            }
        },
        // A plain send: Windows has no zero-copy send to ask for (see `Op::SendZc`).
        Op::Send { buf, flags, .. } | Op::SendZc { buf, flags, .. } => {
            if kind != HandleKind::Socket {
                return not_a_socket();
            }
            fill_one_wsabuf(&mut control.bufs, buf, false);
            send(fd, control, *flags as u32, overlapped)
        }
        Op::Recv { buf, flags, .. } => {
            if kind != HandleKind::Socket {
                return not_a_socket();
            }
            fill_one_wsabuf(&mut control.bufs, buf, true);
            control.flags = *flags as u32;
            recv(fd, control, overlapped)
        }
        Op::Poll { writable, .. } => {
            if kind != HandleKind::Socket {
                return not_a_socket();
            }
            // As wepoll asks: the end of the stream counts as readable, a reset or a failed
            // connect as both (the read or write that follows reports it).
            let wanted = if *writable {
                win::AFD_POLL_SEND
            } else {
                win::AFD_POLL_RECEIVE | win::AFD_POLL_ACCEPT | win::AFD_POLL_DISCONNECT
            };
            let events = wanted
                | win::AFD_POLL_ABORT
                | win::AFD_POLL_CONNECT_FAIL
                | win::AFD_POLL_LOCAL_CLOSE;
            control.afd = win::AfdPollInfo::new(win::base_socket(fd), events);
            let info: *mut win::AfdPollInfo = &mut control.afd;
            let size = size_of::<win::AfdPollInfo>() as u32;
            // SAFETY: the poll info (input and output) and the OVERLAPPED live in the slot
            // until the operation's packet arrives or the call fails here.
            let ok = unsafe {
                DeviceIoControl(
                    win::handle(fd),
                    win::IOCTL_AFD_POLL,
                    info.cast(),
                    size,
                    info.cast(),
                    size,
                    null_mut(),
                    overlapped,
                )
            };
            // SAFETY: the call has returned; the OVERLAPPED is the slot's.
            file_started(ok, unsafe { &*overlapped })
        }
        Op::RecvPooled { .. } => {
            if kind != HandleKind::Socket {
                return not_a_socket();
            }
            // Zero bytes: the call ends when bytes (or the end of the stream, or an error)
            // arrive, with no buffer of the pool's parked in it while the socket is idle; the
            // bytes are then taken into a pool buffer (see `Iocp::receive_pooled`). A datagram
            // socket's peeks (see `Control::messages`). The pointer is any valid one: nothing
            // is written through it.
            control.bufs.clear();
            control.bufs.push(WSABUF {
                len: 0,
                buf: control.accept_buffer.as_mut_ptr(),
            });
            control.flags = if control.messages {
                winsock::MSG_PEEK as u32
            } else {
                0
            };
            recv(fd, control, overlapped)
        }
        Op::SendMsg {
            bufs, addr, flags, ..
        } => {
            if kind != HandleKind::Socket {
                return not_a_socket();
            }
            fill_wsabufs(&mut control.bufs, bufs, false);
            let (address, len) = match addr {
                // Refused at submission (`checks::validate`): no Unix domain sockets here.
                Some(Address::Unix(_)) => {
                    return Started::Failed(unsupported("Unix domain addresses"))
                }
                Some(Address::Ip(addr)) => {
                    let len = win::write_socket_addr(addr, &mut control.address);
                    (
                        (&control.address as *const SOCKADDR_STORAGE).cast::<SOCKADDR>(),
                        len,
                    )
                }
                None => (null(), 0),
            };
            let mut sent = 0u32;
            // SAFETY: the WSABUFs, the address and the OVERLAPPED live in the slot (and the
            // buffers in the op) until the operation's packet arrives or it fails here.
            let result = unsafe {
                WSASendTo(
                    win::socket(fd),
                    control.bufs.as_ptr(),
                    control.bufs.len() as u32,
                    &mut sent,
                    *flags as u32,
                    address,
                    len,
                    overlapped,
                    None,
                )
            };
            socket_started(result, sent, overlapped)
        }
        Op::RecvMsg { bufs, flags, .. } => {
            if kind != HandleKind::Socket {
                return not_a_socket();
            }
            fill_wsabufs(&mut control.bufs, bufs, true);
            control.flags = *flags as u32;
            control.address_len = size_of::<SOCKADDR_STORAGE>() as i32;
            let mut received = 0u32;
            // SAFETY: as for WSASendTo; the address and its length are written by the kernel
            // while the operation is pending, and both stay in the slot until its packet.
            let result = unsafe {
                WSARecvFrom(
                    win::socket(fd),
                    control.bufs.as_ptr(),
                    control.bufs.len() as u32,
                    &mut received,
                    &mut control.flags,
                    (&mut control.address as *mut SOCKADDR_STORAGE).cast(),
                    &mut control.address_len,
                    overlapped,
                    None,
                )
            };
            socket_started(result, received, overlapped)
        }
        Op::Accept { .. } | Op::AcceptMultishot { .. } => {
            if kind != HandleKind::Socket {
                return not_a_socket();
            }
            let accept_ex = match win::extensions(fd) {
                Ok(extensions) => match extensions.accept_ex {
                    Some(accept_ex) => accept_ex,
                    None => return Started::Failed(unsupported("AcceptEx")),
                },
                Err(error) => return Started::Failed(error),
            };
            let family = family.unwrap_or(i32::from(winsock::AF_INET));
            let accepted = match win::new_socket(family, winsock::SOCK_STREAM, 0) {
                Ok(socket) => socket,
                Err(error) => return Started::Failed(error),
            };
            control.accept_socket = accepted;
            let mut received = 0u32;
            // SAFETY: the output buffer and the OVERLAPPED live in the slot until the packet;
            // no data is received with the connection (length 0), only the two addresses.
            let ok = unsafe {
                accept_ex(
                    win::socket(fd),
                    accepted,
                    control.accept_buffer.as_mut_ptr().cast(),
                    0,
                    ACCEPT_ADDRESS_LEN,
                    ACCEPT_ADDRESS_LEN,
                    &mut received,
                    overlapped,
                )
            };
            socket_started(if ok != 0 { 0 } else { SOCKET_ERROR }, received, overlapped)
        }
        Op::Connect { addr, .. } => {
            if kind != HandleKind::Socket {
                return not_a_socket();
            }
            let connect_ex = match win::extensions(fd) {
                Ok(extensions) => match extensions.connect_ex {
                    Some(connect_ex) => connect_ex,
                    None => return Started::Failed(unsupported("ConnectEx")),
                },
                Err(error) => return Started::Failed(error),
            };
            let len = win::write_socket_addr(addr, &mut control.address);
            let address = (&control.address as *const SOCKADDR_STORAGE).cast::<SOCKADDR>();
            let attempt = || {
                let mut sent = 0u32;
                // SAFETY: the address and the OVERLAPPED live in the slot until the packet.
                let ok = unsafe {
                    connect_ex(
                        win::socket(fd),
                        address,
                        len,
                        null(),
                        0,
                        &mut sent,
                        overlapped,
                    )
                };
                socket_started(if ok != 0 { 0 } else { SOCKET_ERROR }, sent, overlapped)
            };
            match attempt() {
                // ConnectEx needs a bound socket (connect binds implicitly; ConnectEx does not).
                Started::Failed(error) if error.raw_os_error() == Some(WSAEINVAL) => {
                    if let Err(error) = bind_unspecified(fd, addr) {
                        return Started::Failed(error);
                    }
                    attempt()
                }
                other => other,
            }
        }
        Op::SendFile {
            file, offset, len, ..
        } => {
            if kind != HandleKind::Socket {
                return not_a_socket();
            }
            if *len == 0 {
                // TransmitFile reads a length of 0 as "the whole file".
                return Started::Done(0);
            }
            // SAFETY: `overlapped` points into the slot, exclusively ours until the call.
            set_offset(unsafe { &mut *overlapped }, *offset);
            // TransmitFile takes at most 2^31 - 2 bytes per call; the caller resubmits the rest.
            let len = (*len).min(i32::MAX as u32 - 1);
            // SAFETY: the OVERLAPPED lives in the slot until the packet; the file handle is the
            // caller's, borrowed for the operation as every descriptor is; no head/tail buffers.
            let ok = unsafe {
                TransmitFile(
                    win::socket(fd),
                    win::handle(*file),
                    len,
                    0,
                    overlapped,
                    null(),
                    0,
                )
            };
            socket_started(if ok != 0 { 0 } else { SOCKET_ERROR }, 0, overlapped)
                .or_bytes_from(overlapped)
        }
        Op::ConnectNamedPipe { .. } => {
            // SAFETY: the OVERLAPPED lives in the slot until the packet (or the call fails).
            let ok = unsafe { ConnectNamedPipe(win::handle(fd), overlapped) };
            // SAFETY: read after the call returned.
            match file_started(ok, unsafe { &*overlapped }) {
                // The client came first: connected, and Windows queues no packet for it.
                Started::Failed(error)
                    if error.raw_os_error() == Some(ERROR_PIPE_CONNECTED as i32) =>
                {
                    Started::Done(0)
                }
                other => other,
            }
        }
        Op::ReadDirectoryChanges {
            buf,
            recursive,
            filter,
            ..
        } => {
            let (pointer, len) = buf.read_destination();
            if pointer as usize % 4 != 0 {
                return Started::Failed(invalid_input(
                    "a directory-changes buffer must start 4-byte aligned (use an empty Vec with capacity)",
                ));
            }
            let len = u32::try_from(len).unwrap_or(u32::MAX);
            // SAFETY: the buffer is owned by the op and the OVERLAPPED by the slot until the
            // packet; no byte count is asked for (asynchronous), and no completion routine.
            let ok = unsafe {
                ReadDirectoryChangesW(
                    win::handle(fd),
                    pointer.cast(),
                    len,
                    i32::from(*recursive),
                    *filter,
                    null_mut(),
                    overlapped,
                    None,
                )
            };
            // SAFETY: read after the call returned.
            file_started(ok, unsafe { &*overlapped })
        }
        _ => Started::Failed(invalid_input("not an overlapped operation")),
    }
}

impl Started {
    /// A synchronous success whose byte count the call did not report: it is in the
    /// OVERLAPPED's status block.
    fn or_bytes_from(self, overlapped: *const OVERLAPPED) -> Started {
        match self {
            // SAFETY: `overlapped` is the slot's, and the call has returned.
            Started::Now(_) => Started::Now(unsafe { (*overlapped).InternalHigh } as u32),
            other => other,
        }
    }
}

/// Whether `slot` holds a registered wait (an `Op::Poll` on a waitable handle) rather than
/// an overlapped call (a socket's poll is one).
fn is_wait(slot: &Slot) -> bool {
    matches!(slot.op, Some(Op::Poll { .. })) && slot.kind != HandleKind::Socket
}

/// A socket poll's result in `WSAPoll`'s words (`POLLRDNORM`, `POLLWRNORM`, `POLLHUP`,
/// `POLLERR`), from the socket driver's events.
fn poll_events(seen: u32) -> io::Result<usize> {
    if seen & win::AFD_POLL_LOCAL_CLOSE != 0 {
        // Closed under the wait: what a cancel gives.
        return Err(win::cancelled());
    }
    let mut events = 0;
    if seen & (win::AFD_POLL_RECEIVE | win::AFD_POLL_ACCEPT | win::AFD_POLL_DISCONNECT) != 0 {
        events |= winsock::POLLRDNORM;
    }
    if seen & win::AFD_POLL_SEND != 0 {
        events |= winsock::POLLWRNORM;
    }
    if seen & win::AFD_POLL_ABORT != 0 {
        events |= winsock::POLLHUP;
    }
    if seen & win::AFD_POLL_CONNECT_FAIL != 0 {
        events |= winsock::POLLERR;
    }
    Ok(events as u16 as usize)
}

fn not_a_socket() -> Started {
    Started::Failed(io::Error::from_raw_os_error(winsock::WSAENOTSOCK))
}

fn bind_unspecified(fd: Fd, peer: &std::net::SocketAddr) -> io::Result<()> {
    let local: std::net::SocketAddr = match peer {
        std::net::SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        std::net::SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    // SAFETY: plain data; filled below.
    let mut storage: SOCKADDR_STORAGE = unsafe { zeroed() };
    let len = win::write_socket_addr(&local, &mut storage);
    // SAFETY: `storage` holds `len` bytes of address for the call.
    if unsafe {
        winsock::bind(
            win::socket(fd),
            (&storage as *const SOCKADDR_STORAGE).cast(),
            len,
        )
    } == SOCKET_ERROR
    {
        return Err(win::last_socket_error());
    }
    Ok(())
}

fn recv(fd: Fd, control: &mut Control, overlapped: *mut OVERLAPPED) -> Started {
    let mut received = 0u32;
    // SAFETY: the WSABUFs describe buffers owned by the op, and they, the flags and the
    // OVERLAPPED stay in the slot until the operation's packet arrives or it fails here.
    let result = unsafe {
        WSARecv(
            win::socket(fd),
            control.bufs.as_ptr(),
            control.bufs.len() as u32,
            &mut received,
            &mut control.flags,
            overlapped,
            None,
        )
    };
    socket_started(result, received, overlapped)
}

fn send(fd: Fd, control: &mut Control, flags: u32, overlapped: *mut OVERLAPPED) -> Started {
    let mut sent = 0u32;
    // SAFETY: as for `recv`.
    let result = unsafe {
        WSASend(
            win::socket(fd),
            control.bufs.as_ptr(),
            control.bufs.len() as u32,
            &mut sent,
            flags,
            overlapped,
            None,
        )
    };
    socket_started(result, sent, overlapped)
}

fn file_offset(
    kind: HandleKind,
    offset: Option<u64>,
    overlapped: *mut OVERLAPPED,
) -> Result<(), Started> {
    match (kind, offset) {
        (HandleKind::Disk, None) => Err(Started::Failed(invalid_input(
            "the driver keeps no file position on Windows: give reads and writes of files an offset",
        ))),
        (HandleKind::Disk, Some(offset)) => {
            // SAFETY: `overlapped` points into the slot, exclusively ours until the call.
            set_offset(unsafe { &mut *overlapped }, offset);
            Ok(())
        }
        // Pipes and devices have no position; the offset fields stay zero.
        _ => Ok(()),
    }
}

/// What a file read or write moves: where a read puts its bytes or where a write takes them
/// from, and how many.
enum Transfer {
    Read(*mut u8, usize),
    Write(*const u8, usize),
}

/// Starts an overlapped `ReadFile` or `WriteFile` on a file, pipe or device.
fn transfer_file(
    fd: Fd,
    kind: HandleKind,
    transfer: Transfer,
    offset: Option<u64>,
    overlapped: *mut OVERLAPPED,
) -> Started {
    if let Err(started) = file_offset(kind, offset, overlapped) {
        return started;
    }
    let handle = win::handle(fd);
    // A longer buffer is a short read or write, as on Unix.
    let clamp = |len: usize| u32::try_from(len).unwrap_or(u32::MAX);
    // SAFETY: the buffer is owned by the op and the OVERLAPPED by the slot until the packet
    // arrives or the call fails here; no byte count is asked for (it would be unreliable for
    // an asynchronous call), it comes from the OVERLAPPED.
    let ok = unsafe {
        match transfer {
            Transfer::Read(pointer, len) => {
                ReadFile(handle, pointer, clamp(len), null_mut(), overlapped)
            }
            Transfer::Write(pointer, len) => {
                WriteFile(handle, pointer, clamp(len), null_mut(), overlapped)
            }
        }
    };
    // SAFETY: as above; read after the call returned.
    file_started(ok, unsafe { &*overlapped })
}

impl Backend for Iocp {
    type Slot = Slot;

    // `end_ready` is the default: a completion in `ready` is not ended early, as readiness
    // backends do, since its slot must stay reserved until the next `poll`. Wine posts a
    // packet for some operations that finished at once on a handle set to skip it
    // (ReadDirectoryChangesW), and that packet names the slot by its OVERLAPPED: a slot
    // reused at once would take it as its new operation's. It also keeps a multishot
    // receive's items first: they wait in `ready` ahead of its last completion, and `deliver`
    // hands them to the slot table in that order, so a claim sees them before the end.
    #[inline]
    fn slots(&mut self) -> &mut Slots<Slot> {
        &mut self.slots
    }

    fn submit(&mut self, op: Op) -> OpId {
        let (id, slot) = self.slots.insert();
        slot.place = Place::Starting;
        slot.cancel_requested = false;
        slot.packet.id = id.to_u64();
        let checked = checks::validate(&op, self.identity);
        let route = route(&op);
        crate::slots::place_op(&mut slot.op, op);
        if let Err(error) = checked {
            self.complete(id, Err(error));
            return id;
        }
        match route {
            Route::Now => {
                let result = match self.slots.get_mut(id).and_then(|slot| slot.op.as_ref()) {
                    Some(Op::Nop) => Ok(0),
                    Some(Op::Shutdown { fd, how }) => win::shutdown(*fd, *how),
                    Some(Op::Socket {
                        domain,
                        socket_type,
                        protocol,
                    }) => win::new_socket(*domain, *socket_type, *protocol)
                        .map(|socket| socket as usize),
                    _ => return id,
                };
                self.complete(id, result);
            }
            Route::Timer(duration) => {
                if let Some(slot) = self.slots.get_mut(id) {
                    slot.place = Place::Timer;
                }
                self.timers.add(id, duration);
            }
            Route::Pool => self.send_to_pool(id),
            Route::Kernel(fd) => self.start_kernel(id, fd),
            Route::Wait(fd) => self.start_wait(id, fd),
            Route::Close(fd) => self.close(id, fd),
            Route::Unsupported(what) => self.complete(id, Err(unsupported(what))),
        }
        id
    }

    fn cancel(&mut self, id: OpId) -> io::Result<()> {
        let Some(slot) = self.slots.get_mut(id) else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no operation in flight has this id (it completed, or never existed)",
            ));
        };
        match slot.place {
            Place::Done | Place::Starting => {}
            Place::Pool => match Pool::global().cancel(id, &self.reply) {
                // Not started: it never will be.
                Some(op) => {
                    self.pooled -= 1;
                    slot.op = Some(op);
                    self.complete(id, Err(win::cancelled()));
                }
                // Running: it completes with its own result.
                None => slot.cancel_requested = true,
            },
            Place::Timer => self.complete(id, Err(win::cancelled())),
            Place::Kernel if is_wait(slot) => {
                slot.cancel_requested = true;
                Iocp::cancel_wait(slot);
            }
            Place::Kernel => {
                slot.cancel_requested = true;
                // SAFETY: the OVERLAPPED is the pending operation's; ERROR_NOT_FOUND (it is
                // completing already) is fine: its packet comes either way.
                unsafe { CancelIoEx(win::handle(slot.handle), &slot.packet.overlapped) };
            }
        }
        Ok(())
    }

    fn poll(
        &mut self,
        completions: &mut Vec<Completion>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let start = Instant::now();
        let deadline = timeout.map(|timeout| {
            start
                .checked_add(timeout)
                .unwrap_or(start + Duration::from_secs(1 << 40))
        });
        loop {
            self.collect_pool();
            let now = Instant::now();
            let mut wait = match (self.ready.is_empty(), deadline) {
                (false, _) => Some(Duration::ZERO),
                (true, Some(deadline)) => Some(deadline.saturating_duration_since(now)),
                (true, None) => None,
            };
            if let Some(timer) = self.next_deadline() {
                let until_timer = timer.saturating_duration_since(now);
                wait = Some(wait.map_or(until_timer, |wait| wait.min(until_timer)));
            }
            let woken = self.dequeue(wait)?;
            self.fire_timers(Instant::now());
            self.collect_pool();
            let expired = deadline.is_some_and(|deadline| Instant::now() >= deadline);
            if !self.ready.is_empty() || woken || expired {
                return Ok(self.deliver(completions));
            }
        }
    }

    fn flush(&mut self, completions: &mut Vec<Completion>) -> io::Result<usize> {
        // Operations start inside `submit`; those that finished there (skipped completion
        // packets) are already ready.
        self.collect_pool();
        Ok(self.deliver(completions))
    }

    fn waker(&self) -> &Arc<Waker> {
        &self.waker
    }

    fn in_flight(&self) -> usize {
        self.slots.len()
    }

    fn identity(&self) -> u64 {
        self.identity
    }

    fn forget_fd(&mut self, fd: Fd) {
        self.handles.remove(&fd);
    }
}

impl Drop for Iocp {
    fn drop(&mut self) {
        // Pool jobs own their operations; from now on the pool disposes of their results.
        self.reply.close();
        let pending: Vec<OpId> = self
            .slots
            .ids()
            .filter(|&id| {
                self.slots
                    .get(id)
                    .is_some_and(|slot| slot.place == Place::Kernel)
            })
            .collect();
        for id in pending {
            if let Some(slot) = self.slots.get_mut(id) {
                slot.cancel_requested = true;
                if is_wait(slot) {
                    Iocp::cancel_wait(slot);
                } else {
                    // SAFETY: as in `cancel`.
                    unsafe { CancelIoEx(win::handle(slot.handle), &slot.packet.overlapped) };
                }
            }
        }
        // The kernel writes into the slots until each packet arrives: wait for them all.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.in_kernel > 0 && Instant::now() < deadline {
            if self.dequeue(Some(Duration::from_millis(100))).is_err() {
                break;
            }
        }
        if self.in_kernel > 0 {
            // Something never completed: its memory must outlive us, so leak every slot.
            std::mem::forget(std::mem::replace(&mut self.slots, Slots::new()));
        }
        for completion in self.ready.drain(..) {
            if let (Ok(fd), true) = (&completion.result, completion.op.creates_fd()) {
                win::close_quietly(*fd as Fd);
            }
        }
        for fd in self.slots.made_and_held() {
            win::close_quietly(fd);
        }
    }
}
