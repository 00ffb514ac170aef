//! Networking: TCP, UDP and Unix sockets with owned buffers.
//!
//! Shapes follow std and tokio (`TcpListener::bind`, `accept`, `TcpStream::connect`,
//! `UdpSocket::send_to`, ...); reads and writes take buffers by value (see [`crate::io`]).
//! Sockets are closed through the driver when dropped.
//!
//! Unix sockets (`UnixListener`, `UnixStream`, `UnixDatagram`) are Unix only for now;
//! Windows has `AF_UNIX` stream sockets, which these types do not cover yet.

/// The std traits that lend a socket's descriptor to other libraries (socket2's `SockRef`,
/// nix, a C library): `AsRawFd` and `AsFd` on Unix, `AsRawSocket` and `AsSocket` on Windows,
/// for `$type`, whose descriptor (a [`Descriptor`]) `$this` gives.
macro_rules! lend_descriptor {
    ($type:ty, |$this:ident| $descriptor:expr) => {
        #[cfg(unix)]
        impl std::os::fd::AsRawFd for $type {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                let $this = self;
                $descriptor.fd()
            }
        }

        #[cfg(unix)]
        impl std::os::fd::AsFd for $type {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                let $this = self;
                crate::sys::borrow_fd(self, $descriptor.fd())
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsRawSocket for $type {
            fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
                let $this = self;
                $descriptor.fd()
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsSocket for $type {
            fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
                let $this = self;
                crate::sys::borrow_fd(self, $descriptor.fd())
            }
        }
    };
}

mod addr;
mod incoming;
#[cfg(compat)]
pub(crate) mod poll;
pub(crate) mod pooled;
mod read_write;
mod readiness;
mod socket;
mod tcp;
mod udp;
#[cfg(unix)]
mod unix;

use std::cell::{Cell, OnceCell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use proactor_driver::{Fd, Op};

use crate::io::RawStream;
use crate::runtime::op::{self, Leftover, Orphan};
use crate::runtime::{try_current, Inner};
use crate::sys::{self, IntoFd};
use crate::{BufResult, IoBuf};

pub(crate) use addr::resolve;
pub use addr::ToSocketAddrs;
pub use incoming::{Incoming, Listener};
pub use pooled::PooledReads;
pub use socket::TcpSocket;
pub use tcp::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use udp::{RecvMeta, UdpSocket};
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// `MSG_PEEK`: a receive that leaves the bytes for the next.
#[cfg(unix)]
const PEEK: i32 = libc::MSG_PEEK;
#[cfg(windows)]
const PEEK: i32 = windows_sys::Win32::Networking::WinSock::MSG_PEEK;

/// An open socket owned by an I/O type; closed through the driver when dropped.
pub(crate) struct Descriptor {
    fd: Fd,
    /// The runtime it was made in, whose driver closes it.
    runtime: Option<Rc<Inner>>,
}

impl std::fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Descriptor").field("fd", &self.fd).finish()
    }
}

impl Descriptor {
    /// The runtime the socket was made in, whose driver closes it.
    #[cfg(compat)]
    pub(crate) fn runtime(&self) -> Option<&Rc<Inner>> {
        self.runtime.as_ref()
    }

    /// A receive into `buf` tried at once by the driver of the runtime the socket was made
    /// in (see `Driver::try_recv_now`): `None` to submit the operation.
    #[inline]
    pub(crate) fn try_recv_now(
        &self,
        buf: &mut proactor_driver::Buffer,
    ) -> Option<io::Result<usize>> {
        let runtime = self.runtime.as_deref()?;
        runtime.driver.borrow_mut().try_recv_now(self.fd, buf)
    }

    /// As `try_recv_now`, a send of `buf`'s bytes (see `Driver::try_send_now`).
    #[inline]
    fn try_send_now(&self, buf: &proactor_driver::Buffer) -> Option<io::Result<usize>> {
        let runtime = self.runtime.as_deref()?;
        runtime.driver.borrow_mut().try_send_now(self.fd, buf)
    }

    /// Takes ownership of a descriptor the driver made (`Socket`, `Accept`).
    pub(crate) fn from_driver(fd: Fd) -> Descriptor {
        Descriptor {
            fd,
            runtime: try_current(),
        }
    }

    /// Takes ownership of a descriptor made elsewhere (std, socket2): the driver is told its
    /// number names something new.
    pub(crate) fn adopt(fd: impl IntoFd) -> Descriptor {
        let fd = fd.into_fd();
        op::adopt(fd);
        Descriptor {
            fd,
            runtime: try_current(),
        }
    }

    pub(crate) fn fd(&self) -> Fd {
        self.fd
    }

    /// Gives the socket up to a std type without closing it (`into_std`): the driver
    /// forgets it (an epoll registration or io_uring's table entry would outlive the handover).
    #[cfg(unix)]
    pub(crate) fn into_std<T: std::os::fd::FromRawFd>(self) -> T {
        let fd = self.release();
        // SAFETY: the descriptor was this one's alone, and `release` gave it up unclosed.
        unsafe { sys::take_ownership(fd) }
    }

    /// As on Unix: the socket goes to a std type unclosed. It stays associated with the
    /// runtime's completion port (Windows has no way back), which synchronous calls on it do
    /// not mind.
    #[cfg(windows)]
    pub(crate) fn into_std<T: std::os::windows::io::FromRawSocket>(self) -> T {
        let fd = self.release();
        // SAFETY: the socket was this one's alone, and `release` gave it up unclosed.
        unsafe { sys::take_ownership(fd) }
    }

    /// The descriptor, no longer closed by this value, forgotten by its driver.
    fn release(self) -> Fd {
        let mut this = std::mem::ManuallyDrop::new(self);
        if let Some(runtime) = this.runtime.take() {
            runtime.driver.borrow_mut().forget_fd(this.fd);
        }
        this.fd
    }

    /// socket2's view of the socket, for options; it does not close the descriptor.
    pub(crate) fn socket(&self) -> std::mem::ManuallyDrop<socket2::Socket> {
        // SAFETY: the descriptor is open while `self` lives, and the view is used only
        // while it is borrowed from `self`.
        unsafe { sys::borrow_socket(self.fd) }
    }
}

impl Drop for Descriptor {
    fn drop(&mut self) {
        op::close_detached(self.fd, self.runtime.as_deref());
    }
}

/// Tries `attempt` on each address in turn; the last error if all fail.
pub(crate) async fn each_address<T, F, Fut>(
    addresses: Vec<SocketAddr>,
    mut attempt: F,
) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for address in addresses {
        match attempt(address).await {
            Ok(value) => return Ok(value),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to try")))
}

/// A new non-blocking, close-on-exec socket made by the driver.
pub(crate) async fn new_socket(domain: i32, socket_type: i32) -> io::Result<Descriptor> {
    let completion = op::submit(Op::Socket {
        domain,
        socket_type,
        protocol: 0,
    })
    .await;
    Ok(Descriptor::from_driver(completion.result? as Fd))
}

/// A new socket of `socket_type` for `address`'s family (the OS's own numbers, through
/// socket2), made by the driver.
pub(crate) async fn new_ip_socket(
    address: &SocketAddr,
    socket_type: socket2::Type,
) -> io::Result<Descriptor> {
    let domain = socket2::Domain::for_address(*address);
    new_socket(domain.into(), socket_type.into()).await
}

/// The state a byte stream shares between its halves.
#[derive(Debug)]
pub(crate) struct Stream {
    descriptor: Descriptor,
    /// A socket (recv/send) rather than a pipe (read/write).
    socket: bool,
    /// A socket whose runtime's driver receives and sends at once, outside operations,
    /// what needs no wait (see `Driver::transfers_now`): reads and writes try that first.
    transfers_now: bool,
    /// Bytes cancelled reads received; the next read returns them first. Made by the first
    /// read cancelled in flight: most streams never need one, and an idle connection's
    /// memory is what a server has the most of.
    leftover: OnceCell<Rc<RefCell<Leftover>>>,
    /// What only some streams use (timeouts, `send_file`'s pipe), made on first use: one
    /// word in every stream instead of the fields themselves.
    extras: OnceCell<Box<Extras>>,
}

/// The parts of a stream made on first use (see `Stream::extras`).
#[derive(Debug, Default)]
struct Extras {
    /// How long a read and a write may take (`set_read_timeout`, `set_write_timeout`), in
    /// nanoseconds, 0 for no limit.
    read_timeout: Cell<u64>,
    write_timeout: Cell<u64>,
    /// The pipe `send_file` moves file pages through (Linux), kept while it is known to be
    /// empty.
    #[cfg(target_os = "linux")]
    pipe: RefCell<Option<Pipe>>,
}

/// A pipe's two ends, closed through the driver.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub(crate) struct Pipe {
    read: Descriptor,
    write: Descriptor,
}

#[cfg(target_os = "linux")]
impl Pipe {
    pub(crate) fn new() -> io::Result<Pipe> {
        let mut fds = [0 as Fd; 2];
        // SAFETY: fds has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 made two descriptors that nothing else owns.
        let (read, write) = unsafe {
            use std::os::fd::{FromRawFd, OwnedFd};
            (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
        };
        Ok(Pipe {
            read: Descriptor::adopt(read),
            write: Descriptor::adopt(write),
        })
    }

    pub(crate) fn read_fd(&self) -> Fd {
        self.read.fd()
    }

    pub(crate) fn write_fd(&self) -> Fd {
        self.write.fd()
    }

    /// Asks for room for `size` bytes (`F_SETPIPE_SZ`) and returns the room it has, which is
    /// less when the system's limits (`/proc/sys/fs/pipe-max-size`, the user's pipe pages)
    /// say no.
    pub(crate) fn grow(&self, size: usize) -> usize {
        let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
        // SAFETY: fcntl with integer arguments on a descriptor this pipe owns.
        let mut room = unsafe { libc::fcntl(self.write.fd(), libc::F_SETPIPE_SZ, size) };
        if room < 0 {
            // SAFETY: as above.
            room = unsafe { libc::fcntl(self.write.fd(), libc::F_GETPIPE_SZ) };
        }
        // Every Linux pipe holds at least a page.
        usize::try_from(room).unwrap_or(4096).max(4096)
    }
}

impl Stream {
    /// A connected stream socket.
    pub(crate) fn new(descriptor: Descriptor) -> Stream {
        if let Some(runtime) = descriptor.runtime.as_deref() {
            if runtime.register_sockets {
                // An optimisation only: a socket the table has no room for works as well.
                let _ = runtime.driver.borrow_mut().register_fd(descriptor.fd);
            }
        }
        Stream::with_kind(descriptor, true)
    }

    /// One end of a pipe (a child's stdio, a Windows named pipe).
    pub(crate) fn pipe(descriptor: Descriptor) -> Stream {
        Stream::with_kind(descriptor, false)
    }

    fn with_kind(descriptor: Descriptor, socket: bool) -> Stream {
        let transfers_now = socket
            && descriptor
                .runtime
                .as_deref()
                .is_some_and(|runtime| runtime.driver.borrow().transfers_now());
        Stream {
            descriptor,
            socket,
            transfers_now,
            leftover: OnceCell::new(),
            extras: OnceCell::new(),
        }
    }

    pub(crate) fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The socket, for `into_std`: refused while bytes a cancelled read kept (or a cancelled
    /// read still in flight) would be lost with the stream, and while another handle shares
    /// the stream (a split half).
    pub(crate) fn into_descriptor(stream: Rc<Stream>) -> io::Result<Descriptor> {
        let stream = Rc::try_unwrap(stream).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the stream is shared (a split half lives): reunite it first",
            )
        })?;
        let clear = stream
            .leftover
            .get()
            .is_none_or(|leftover| leftover.borrow().is_clear());
        if !clear {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "bytes a cancelled read received would be lost: read them first",
            ));
        }
        Ok(stream.descriptor)
    }

    /// The descriptor, for reading it directly: only while no cancelled read's bytes are kept
    /// or still on their way (those come first).
    pub(crate) fn raw_source(&self) -> Option<RawStream> {
        let clear = self
            .leftover
            .get()
            .is_none_or(|leftover| leftover.borrow().is_clear());
        clear.then(|| RawStream::stream(self.descriptor.fd()))
    }

    /// The descriptor, for writing it directly (a stream buffers nothing it writes).
    pub(crate) fn raw_sink(&self) -> RawStream {
        RawStream::stream(self.descriptor.fd())
    }

    /// Receives into `buf` without taking the bytes (see `TcpStream::peek`): kept bytes of a
    /// cancelled read first (copied, not taken), else one receive with `MSG_PEEK`.
    pub(crate) async fn peek<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        std::future::poll_fn(|cx| self.poll_no_pending_reads(cx)).await;
        let mut buffer = buf.into_buffer();
        if let Some(leftover) = self.leftover.get() {
            let leftover = leftover.borrow();
            let room = buffer.read_capacity();
            if let Some(kept) = leftover.peek_kept(room, |bytes| buffer.fill_from(bytes)) {
                return (kept, B::from_buffer(buffer));
            }
        }
        recv_with(self.descriptor.fd(), B::from_buffer(buffer), PEEK).await
    }

    /// Reads into `buf`: kept bytes of a cancelled read first, else one receive.
    pub(crate) fn read<B: IoBuf>(&self, buf: B) -> read_write::Read<'_, B> {
        read_write::Read::new(self, buf)
    }

    /// Starts a read of what the stream holds for it: bytes a cancelled read kept (or the
    /// end of the stream it met), returned at once; else, where the driver transfers outside
    /// operations, bytes already there, or a wait for the next readable edge; else a receive
    /// in flight whose cancel keeps what it received.
    pub(super) fn begin_read<B: IoBuf>(
        &self,
        mut buffer: proactor_driver::Buffer,
        cx: &std::task::Context<'_>,
    ) -> read_write::Begun<B> {
        if let Some(leftover) = self.leftover.get() {
            let mut leftover = leftover.borrow_mut();
            let room = buffer.read_capacity();
            if let Some(kept) = leftover.take_kept(room, |bytes| buffer.fill_from(bytes)) {
                return read_write::Begun::Done((kept, B::from_buffer(buffer)));
            }
        }
        let fd = self.descriptor.fd();
        if self.transfers_now {
            // Bytes already there are received in this poll, with no operation to wait for;
            // else the task waits for the socket's next readable edge and tries again then,
            // lending no buffer meanwhile.
            if let Some(result) = self.descriptor.try_recv_now(&mut buffer) {
                return read_write::Begun::Done((result, B::from_buffer(buffer)));
            }
            if let Some(token) = self.watch_readable(cx) {
                return read_write::Begun::Watching(buffer, token);
            }
        }
        let start = if buffer.read_grows() { buffer.len() } else { 0 };
        let socket = self.socket;
        // Built where the driver keeps it (see `Driver::submit_claimed_with`).
        let (submitted, may_be_done) = op::submit_polled(
            move || Stream::read_op(fd, socket, buffer),
            self.read_timeout(),
            cx,
        );
        // What a cancel keeps is set up only if the read is dropped in flight (see
        // `read_write::Read`'s drop).
        read_write::Begun::Reading(submitted.buffer(), start, may_be_done)
    }

    /// Asks the stream's driver to wake the task polling under `cx` at the socket's next
    /// readable edge (see `Driver::watch_readable`); returns the token it watches with.
    /// Not for a read with a time limit (the operation keeps that), nor for a future polled
    /// outside its stream's runtime's own tasks (a runtime that is not running would never
    /// wake it): those submit the receive.
    #[inline]
    pub(crate) fn watch_readable(&self, cx: &std::task::Context<'_>) -> Option<u64> {
        if self.read_timeout().is_some() {
            return None;
        }
        let runtime = self.descriptor.runtime.as_deref()?;
        let token = runtime.task_token(cx.waker())?.0;
        let watching = runtime
            .driver
            .borrow_mut()
            .watch_readable(self.descriptor.fd(), token);
        watching.then_some(token)
    }

    /// Withdraws the wait `watch_readable` asked for `token`.
    pub(super) fn unwatch_readable(&self, token: u64) {
        if let Some(runtime) = self.descriptor.runtime.as_deref() {
            if let Ok(mut driver) = runtime.driver.try_borrow_mut() {
                driver.unwatch_readable(self.descriptor.fd(), token);
            }
        }
    }

    /// What keeps the bytes a read cancelled in flight received, `start` bytes into its
    /// buffer, for the next read.
    fn keep_received(&self, start: usize) -> Orphan {
        Orphan::KeepReceived {
            leftover: Rc::clone(self.leftover.get_or_init(Rc::default)),
            start,
        }
    }

    /// Cancelled reads still in flight received bytes that come before anything a new read
    /// could: ready once there are none (else `cx` is woken when there are none).
    #[inline]
    fn poll_no_pending_reads(&self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let Some(leftover) = self.leftover.get() else {
            return Poll::Ready(());
        };
        let mut leftover = leftover.borrow_mut();
        if leftover.pending == 0 {
            return Poll::Ready(());
        }
        leftover.waiter = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Writes `buf`: one send (or write, for a pipe).
    pub(crate) fn write<B: IoBuf>(&self, buf: B) -> read_write::Write<'_, B> {
        read_write::Write::new(self, buf)
    }

    /// Writes all of `buf`, in as many sends as it takes (see `AsyncWrite::write_all`).
    pub(crate) fn write_all<B: IoBuf>(&self, buf: B) -> read_write::WriteAll<'_, B> {
        read_write::WriteAll::new(self, buf)
    }

    /// Submits a write (a send on a socket) of `buf`'s bytes.
    #[cfg(compat)]
    pub(crate) fn begin_write(&self, buf: proactor_driver::Buffer) -> op::Submitted {
        let op = Stream::write_op(self.descriptor.fd(), self.socket, buf);
        op::submit_timed(op, self.write_timeout())
    }

    /// Where reads and writes may finish in the poll that starts them (see `transfers_now`),
    /// spends one unit of the task's budget (see `Inner::poll_budget`): `Pending` once a
    /// task has finished enough without waiting, so that a socket that always has bytes
    /// cannot keep it from letting the others run.
    #[inline]
    pub(crate) fn poll_budget(&self, cx: &std::task::Context<'_>) -> Poll<()> {
        match (self.transfers_now, self.descriptor.runtime.as_deref()) {
            (true, Some(runtime)) => runtime.poll_budget(cx),
            _ => Poll::Ready(()),
        }
    }

    /// Whether reads and writes try the socket at once, outside operations (see
    /// `Stream::transfers_now`'s field).
    #[inline]
    pub(crate) fn transfers_now(&self) -> bool {
        self.transfers_now
    }

    /// Sends `buf`'s bytes at once, in this poll and without an operation, where the socket
    /// has room and the backend would have tried that first anyway (see
    /// `Driver::try_send_now`); `None` to submit the write.
    #[inline]
    pub(crate) fn try_write_now(&self, buf: &proactor_driver::Buffer) -> Option<io::Result<usize>> {
        if !self.transfers_now {
            return None;
        }
        self.descriptor.try_send_now(buf)
    }

    /// As `begin_write`, claimed for whoever polls under `cx` (see `op::submit_polled`).
    pub(crate) fn begin_write_polled(
        &self,
        buf: proactor_driver::Buffer,
        cx: &std::task::Context<'_>,
    ) -> (op::Submitted, bool) {
        let (fd, socket) = (self.descriptor.fd(), self.socket);
        // Built where the driver keeps it (see `Driver::submit_claimed_with`).
        op::submit_polled(
            move || Stream::write_op(fd, socket, buf),
            self.write_timeout(),
            cx,
        )
    }

    /// Sends `buf` with a zero-copy send where the backend has one (see
    /// `TcpStream::write_zero_copy`).
    pub(crate) async fn write_zero_copy<B: IoBuf>(&self, buf: B) -> crate::BufResult<usize, B> {
        let op = Op::SendZc {
            fd: self.descriptor.fd(),
            buf: buf.into_buffer(),
            flags: 0,
        };
        let (result, buffer) = op::submit_timed(op, self.write_timeout()).buffer().await;
        (result, B::from_buffer(buffer))
    }

    /// The limit on each read (see `TcpStream::set_read_timeout`).
    #[inline]
    pub(crate) fn read_timeout(&self) -> Option<Duration> {
        from_nanos(self.extras.get()?.read_timeout.get())
    }

    /// The limit on each write (see `TcpStream::set_write_timeout`).
    #[inline]
    pub(crate) fn write_timeout(&self) -> Option<Duration> {
        from_nanos(self.extras.get()?.write_timeout.get())
    }

    /// Sets the limit on each read (`None`: no limit); a zero duration is refused, as std's
    /// `set_read_timeout` refuses it.
    pub(crate) fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_timeout(timeout, |extras| &extras.read_timeout)
    }

    /// Sets the limit on each write (see `set_read_timeout`).
    pub(crate) fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_timeout(timeout, |extras| &extras.write_timeout)
    }

    /// Stores `timeout` in the field `which` picks; no limit on a stream that never had one
    /// makes no `Extras`.
    fn set_timeout(
        &self,
        timeout: Option<Duration>,
        which: impl FnOnce(&Extras) -> &Cell<u64>,
    ) -> io::Result<()> {
        let nanos = to_nanos(timeout)?;
        if nanos == 0 && self.extras.get().is_none() {
            return Ok(());
        }
        which(self.extras.get_or_init(Box::default)).set(nanos);
        Ok(())
    }

    /// A receive on a socket, a read on a pipe.
    #[inline]
    pub(crate) fn read_op(fd: Fd, socket: bool, buf: proactor_driver::Buffer) -> Op {
        if socket {
            Op::Recv { fd, buf, flags: 0 }
        } else {
            Op::Read {
                fd,
                buf,
                offset: None,
            }
        }
    }

    /// A send on a socket, a write on a pipe.
    #[inline]
    fn write_op(fd: Fd, socket: bool, buf: proactor_driver::Buffer) -> Op {
        if socket {
            Op::Send { fd, buf, flags: 0 }
        } else {
            Op::Write {
                fd,
                buf,
                offset: None,
            }
        }
    }

    /// Sends `len` bytes of the file `file` from `offset` (see `TcpStream::send_file`).
    #[cfg(target_os = "linux")]
    pub(crate) async fn send_file(&self, file: Fd, offset: u64, len: u64) -> io::Result<u64> {
        // Taken out while in use: if this future is dropped half way, the pipe (which may
        // hold bytes meant for this call) is dropped with it instead of leaking them into
        // the next call.
        let extras = self.extras.get_or_init(Box::default);
        let pipe = match extras.pipe.borrow_mut().take() {
            Some(pipe) => pipe,
            None => Pipe::new()?,
        };
        const CHUNK: u64 = 64 * 1024;
        let mut sent = 0u64;
        while sent < len {
            let into_pipe = op::submit(Op::Splice {
                fd_in: file,
                offset_in: Some(offset + sent),
                fd_out: pipe.write.fd(),
                offset_out: None,
                len: (len - sent).min(CHUNK) as u32,
                flags: 0,
            })
            .await
            .result?;
            if into_pipe == 0 {
                break; // The file ended first.
            }
            let mut out_of_pipe = 0;
            while out_of_pipe < into_pipe {
                let moved = op::submit(Op::Splice {
                    fd_in: pipe.read.fd(),
                    offset_in: None,
                    fd_out: self.descriptor.fd(),
                    offset_out: None,
                    len: (into_pipe - out_of_pipe) as u32,
                    flags: 0,
                })
                .await
                .result?;
                if moved == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the socket accepted no bytes",
                    ));
                }
                out_of_pipe += moved;
            }
            sent += into_pipe as u64;
        }
        // Every byte that went in came out: the pipe is empty and can serve the next call.
        *extras.pipe.borrow_mut() = Some(pipe);
        Ok(sent)
    }

    /// Sends `len` bytes of the file `file` from `offset` with the driver's `SendFile`
    /// (`sendfile(2)` on macOS, FreeBSD and DragonFly, `TransmitFile` on Windows), which may
    /// send less than asked (a full socket buffer): the rest goes in further operations.
    /// Where the driver has no such operation (NetBSD, OpenBSD) or the file cannot be sent
    /// that way, the bytes go through a buffer instead.
    #[cfg(not(target_os = "linux"))]
    pub(crate) async fn send_file(&self, file: Fd, offset: u64, len: u64) -> io::Result<u64> {
        let mut sent = 0u64;
        while sent < len {
            let Some(position) = offset.checked_add(sent) else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "file offset plus length overflows",
                ));
            };
            let completion = op::submit(Op::SendFile {
                socket: self.descriptor.fd(),
                file,
                offset: position,
                len: (len - sent).min(1 << 30) as u32,
            })
            .await;
            match completion.result {
                Ok(0) => break, // The file ended first.
                Ok(count) => sent += count as u64,
                Err(error) if sent == 0 && cannot_send_file(&error) => {
                    return self.copy_file(file, offset, len).await;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(sent)
    }

    /// Sends `len` bytes of the file `file` from `offset` by reading them into a buffer and
    /// writing that.
    #[cfg(not(target_os = "linux"))]
    async fn copy_file(&self, file: Fd, offset: u64, len: u64) -> io::Result<u64> {
        use proactor_driver::Buffer;
        fn boxed(buffer: Buffer) -> Box<[u8]> {
            buffer
                .into_inner()
                .into_boxed_slice()
                .unwrap_or_else(|_| unreachable!("the chunk is a boxed slice"))
        }
        let mut chunk: Box<[u8]> = vec![0u8; 64 * 1024].into_boxed_slice();
        let mut sent = 0u64;
        while sent < len {
            let room = (len - sent).min(chunk.len() as u64) as usize;
            let completion = op::submit(Op::Read {
                fd: file,
                buf: Buffer::from(chunk).slice(..room)?,
                offset: Some(offset + sent),
            })
            .await;
            chunk = boxed(take_buffer(completion.op));
            let count = completion.result?;
            if count == 0 {
                break; // The file ended first.
            }
            let mut written = 0;
            while written < count {
                let (result, back) = self.write(Buffer::from(chunk).slice(written..count)?).await;
                chunk = boxed(back);
                match result? {
                    0 => {
                        return Err(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "the socket accepted no bytes",
                        ))
                    }
                    moved => written += moved,
                }
            }
            sent += count as u64;
        }
        Ok(sent)
    }

    pub(crate) async fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        op::submit(Op::Shutdown {
            fd: self.descriptor.fd(),
            how,
        })
        .await
        .result
        .map(drop)
    }

    /// `AsyncWrite::shutdown`: ends the writing direction, where one already ended counts as
    /// done (see [`write_side_ended_is_done`]).
    pub(crate) async fn shutdown_write(&self) -> io::Result<()> {
        write_side_ended_is_done(self.shutdown(std::net::Shutdown::Write).await)
    }
}

/// The rule of every stream's `AsyncWrite::shutdown`, the same on each backend: a writing
/// direction that has ended already — shut down before, or a connection the peer reset — is
/// done, not an error, as tokio's streams answer. hyper shuts down each connection it ends, and
/// would log every reset one as a failure otherwise. The inherent `shutdown(how)` and the
/// driver's `Op::Shutdown` report what the OS said (Linux: ENOTCONN after a reset).
pub(crate) fn write_side_ended_is_done(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotConnected | io::ErrorKind::ConnectionReset
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Whether `SendFile` failing with `error` means "copy through a buffer instead": the driver
/// has no such operation here, or the file is one `sendfile(2)` refuses (macOS answers
/// `ENOTSUP` for a file that is not a regular file; FreeBSD `EINVAL` for that and `EOPNOTSUPP`
/// for a file system without sendfile support).
#[cfg(not(target_os = "linux"))]
fn cannot_send_file(error: &io::Error) -> bool {
    #[cfg(unix)]
    let refused = error.raw_os_error().is_some_and(|code| {
        code == libc::EINVAL || code == libc::ENOTSUP || code == libc::EOPNOTSUPP
    });
    #[cfg(not(unix))]
    let refused = false;
    refused || error.kind() == io::ErrorKind::Unsupported
}

/// Sends `buf` on a connected socket.
pub(crate) async fn send<B: IoBuf>(fd: Fd, buf: B) -> BufResult<usize, B> {
    let (result, buffer) = op::submit(Op::Send {
        fd,
        buf: buf.into_buffer(),
        flags: 0,
    })
    .buffer()
    .await;
    (result, B::from_buffer(buffer))
}

/// Receives into `buf` from a connected socket (datagram sockets: no bytes to keep on cancel,
/// as a datagram is received whole or not at all).
pub(crate) async fn recv<B: IoBuf>(fd: Fd, buf: B) -> BufResult<usize, B> {
    recv_with(fd, buf, 0).await
}

/// As [`recv`], with `MSG_*` `flags`.
async fn recv_with<B: IoBuf>(fd: Fd, buf: B, flags: i32) -> BufResult<usize, B> {
    let (result, buffer) = op::submit(Op::Recv {
        fd,
        buf: buf.into_buffer(),
        flags,
    })
    .buffer()
    .await;
    (result, B::from_buffer(buffer))
}

/// The single buffer of a completed read or write.
pub(crate) fn take_buffer(op: Op) -> proactor_driver::Buffer {
    op.into_buffer()
        .unwrap_or_else(|| unreachable!("reads and writes carry one buffer"))
}

/// A stream timeout as stored: nanoseconds (at most `u64::MAX`, some 584 years), 0 for none.
fn to_nanos(timeout: Option<Duration>) -> io::Result<u64> {
    match timeout {
        None => Ok(0),
        Some(timeout) if timeout.is_zero() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot set a 0 duration timeout",
        )),
        Some(timeout) => Ok(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX)),
    }
}

#[inline]
fn from_nanos(nanos: u64) -> Option<Duration> {
    (nanos != 0).then(|| Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    /// Every connection has one: what it holds beyond its descriptor is made on first use.
    #[test]
    fn a_stream_stays_small() {
        let size = std::mem::size_of::<super::Stream>();
        assert!(size <= 40, "a stream is {size} bytes");
    }
}
