//! Windows system calls shared by the IOCP backend and the thread pool: the completion port and
//! its waker, Winsock start-up and extension functions, socket addresses, error codes, and the
//! operations that have no overlapped form (run on the pool).

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use windows_sys::core::GUID;
use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, RtlNtStatusToDosError, ERROR_BROKEN_PIPE, ERROR_HANDLE_EOF,
    ERROR_MORE_DATA, ERROR_OPERATION_ABORTED, FILETIME, HANDLE, INVALID_HANDLE_VALUE, NTSTATUS,
    WAIT_TIMEOUT,
};
use windows_sys::Win32::Networking::WinSock::{
    self as winsock, closesocket, getsockname, getsockopt, setsockopt, WSAGetLastError,
    WSAGetOverlappedResult, WSAIoctl, WSASocketW, WSAStartup, INVALID_SOCKET, LPFN_ACCEPTEX,
    LPFN_CONNECTEX, LPFN_GETACCEPTEXSOCKADDRS, SD_BOTH, SD_RECEIVE, SD_SEND,
    SIO_GET_EXTENSION_FUNCTION_POINTER, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6, SOCKADDR_STORAGE,
    SOCKET, SOCKET_ERROR, SOL_SOCKET, SO_PROTOCOL_INFOW, SO_TYPE, WSADATA, WSAEMSGSIZE,
    WSAENOTSOCK, WSAESHUTDOWN, WSAID_ACCEPTEX, WSAID_CONNECTEX, WSAID_GETACCEPTEXSOCKADDRS,
    WSAPROTOCOL_INFOW, WSA_FLAG_NO_HANDLE_INHERIT, WSA_FLAG_OVERLAPPED, XP1_IFS_HANDLES,
};
use windows_sys::Win32::Storage::FileSystem::{
    FileEndOfFileInfo, FlushFileBuffers, GetFileInformationByHandle, GetFileSizeEx, GetFileType,
    SetFileInformationByHandle, BY_HANDLE_FILE_INFORMATION, FILE_ATTRIBUTE_DIRECTORY,
    FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_REPARSE_POINT, FILE_END_OF_FILE_INFO, FILE_TYPE_DISK,
    FILE_TYPE_UNKNOWN,
};
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatusEx, PostQueuedCompletionStatus, OVERLAPPED,
    OVERLAPPED_ENTRY,
};

use crate::windows::Packet;
use crate::{Fd, Metadata, Op};

/// The completion key of the waker's packets; handles are associated with key 0.
pub(crate) const WAKE_KEY: usize = 1;

pub(crate) fn handle(fd: Fd) -> HANDLE {
    fd as usize as HANDLE
}

pub(crate) fn socket(fd: Fd) -> SOCKET {
    fd as SOCKET
}

pub(crate) fn last_error() -> io::Error {
    // SAFETY: GetLastError only reads the calling thread's last-error value.
    io::Error::from_raw_os_error(unsafe { GetLastError() } as i32)
}

pub(crate) fn last_socket_error() -> io::Error {
    // SAFETY: WSAGetLastError only reads the calling thread's last Winsock error.
    io::Error::from_raw_os_error(unsafe { WSAGetLastError() })
}

pub(crate) fn cancelled() -> io::Error {
    io::Error::from_raw_os_error(ERROR_OPERATION_ABORTED as i32)
}

pub(crate) fn is_cancelled(error: &io::Error) -> bool {
    error.raw_os_error() == Some(ERROR_OPERATION_ABORTED as i32)
}

/// The Win32 error an I/O status block reports (`OVERLAPPED.Internal` is an `NTSTATUS`).
pub(crate) fn status_error(status: NTSTATUS) -> u32 {
    // SAFETY: a pure table lookup in ntdll.
    unsafe { RtlNtStatusToDosError(status) }
}

/// The Winsock error of a failed overlapped socket operation (e.g. `WSAECONNRESET` where the
/// status table would give `ERROR_NETNAME_DELETED`), so sockets report what std's sockets do.
/// A cancelled operation keeps `ERROR_OPERATION_ABORTED`, also when its socket is gone.
///
/// # Safety
///
/// `overlapped` must be the completed operation's control block.
pub(crate) unsafe fn socket_status_error(
    fd: Fd,
    overlapped: *const OVERLAPPED,
    status: NTSTATUS,
) -> i32 {
    let code = status_error(status);
    if code == ERROR_OPERATION_ABORTED {
        return code as i32;
    }
    let mut bytes = 0u32;
    let mut flags = 0u32;
    // SAFETY: the operation has completed (its packet was dequeued), so this only reads its
    // status block; `fwait` is FALSE.
    let ok = unsafe { WSAGetOverlappedResult(socket(fd), overlapped, &mut bytes, 0, &mut flags) };
    if ok == 0 {
        // SAFETY: reads this thread's last Winsock error.
        let winsock_code = unsafe { WSAGetLastError() };
        // Only a socket's own error: WSAENOTSOCK means the socket was closed meanwhile.
        if winsock_code >= 10_000 && winsock_code != WSAENOTSOCK {
            return winsock_code;
        }
    }
    code as i32
}

/// Starts Winsock once per process (never cleaned up: sockets may outlive any driver).
pub(crate) fn start_winsock() -> io::Result<()> {
    static STARTED: OnceLock<i32> = OnceLock::new();
    let code = *STARTED.get_or_init(|| {
        // SAFETY: WSADATA is plain data that WSAStartup fills.
        let mut data: WSADATA = unsafe { zeroed() };
        // SAFETY: `data` is a valid out pointer; version 2.2.
        unsafe { WSAStartup(0x0202, &mut data) }
    });
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(code))
    }
}

/// Wakes a blocked `poll` from any thread with one packet on the port; owns the port, so the
/// port lives as long as anything (a pool reply, a notifier) may still post to it.
pub(crate) struct Waker {
    port: HANDLE,
    /// A wake packet is queued and not yet dequeued: later wakes need not post another.
    pending: AtomicBool,
}

// SAFETY: a completion port handle may be used from any thread; `pending` is atomic.
unsafe impl Send for Waker {}
// SAFETY: as above; every method takes `&self` and only posts to the port.
unsafe impl Sync for Waker {}

impl Waker {
    pub(crate) fn new() -> io::Result<Waker> {
        // SAFETY: creating a new port (INVALID_HANDLE_VALUE, no existing port); 0 threads means
        // as many concurrent threads as processors.
        let port = unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, 0) };
        if port.is_null() {
            return Err(last_error());
        }
        Ok(Waker {
            port,
            pending: AtomicBool::new(false),
        })
    }

    pub(crate) fn port(&self) -> HANDLE {
        self.port
    }

    pub(crate) fn wake(&self) {
        if self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        // SAFETY: the port is open while `self` lives; a packet with no OVERLAPPED is allowed.
        let posted = unsafe { PostQueuedCompletionStatus(self.port, 0, WAKE_KEY, null()) };
        if posted == 0 {
            // Nothing queued: the next wake must try again.
            self.pending.store(false, Ordering::Release);
        }
    }

    /// Called when a wake packet is dequeued, before looking for what the wake announced.
    pub(crate) fn reset(&self) {
        self.pending.store(false, Ordering::Release);
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        // SAFETY: the port was created by `new` and is closed once, here.
        unsafe { CloseHandle(self.port) };
    }
}

/// What a handle is, learned once when a driver first uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandleKind {
    Socket,
    /// A file on a disk: reads and writes take an offset.
    Disk,
    /// A pipe, a console or another character device: no offsets.
    Stream,
}

pub(crate) fn handle_kind(fd: Fd) -> io::Result<HandleKind> {
    let mut socket_type = 0i32;
    let mut len = size_of::<i32>() as i32;
    // SAFETY: valid out pointers; a value that is not a socket fails with WSAENOTSOCK.
    let is_socket = unsafe {
        getsockopt(
            socket(fd),
            SOL_SOCKET,
            SO_TYPE,
            (&mut socket_type as *mut i32).cast(),
            &mut len,
        )
    } == 0;
    if is_socket {
        return Ok(HandleKind::Socket);
    }
    // SAFETY: GetFileType accepts any value and reports FILE_TYPE_UNKNOWN for a bad one.
    match unsafe { GetFileType(handle(fd)) } {
        FILE_TYPE_DISK => Ok(HandleKind::Disk),
        FILE_TYPE_UNKNOWN => {
            let error = last_error();
            if error.raw_os_error() == Some(0) {
                Ok(HandleKind::Stream)
            } else {
                Err(error)
            }
        }
        _ => Ok(HandleKind::Stream),
    }
}

/// Whether a socket's provider hands out real kernel handles (IFS), the condition for skipping
/// completion packets on synchronous success; a layered provider (an LSP) may not.
pub(crate) fn socket_is_ifs(fd: Fd) -> bool {
    // SAFETY: WSAPROTOCOL_INFOW is plain data that getsockopt fills.
    let mut info: WSAPROTOCOL_INFOW = unsafe { zeroed() };
    let mut len = size_of::<WSAPROTOCOL_INFOW>() as i32;
    // SAFETY: valid out pointers of the right size.
    let ok = unsafe {
        getsockopt(
            socket(fd),
            SOL_SOCKET,
            SO_PROTOCOL_INFOW,
            (&mut info as *mut WSAPROTOCOL_INFOW).cast(),
            &mut len,
        )
    } == 0;
    ok && info.dwServiceFlags1 & XP1_IFS_HANDLES != 0
}

/// The address family of a bound socket (a listener's, to make `AcceptEx`'s socket).
/// Whether socket `fd` carries messages (datagrams), whose receive takes a whole message
/// however little of it fits, rather than a stream.
pub(crate) fn is_message_socket(fd: Fd) -> io::Result<bool> {
    let mut socket_type = 0i32;
    let mut len = size_of::<i32>() as i32;
    // SAFETY: valid out pointers; a value that is not a socket fails with WSAENOTSOCK.
    let ok = unsafe {
        getsockopt(
            socket(fd),
            SOL_SOCKET,
            SO_TYPE,
            (&mut socket_type as *mut i32).cast(),
            &mut len,
        )
    } == 0;
    if !ok {
        return Err(last_socket_error());
    }
    Ok(socket_type != i32::from(winsock::SOCK_STREAM))
}

pub(crate) fn socket_family(fd: Fd) -> io::Result<i32> {
    // SAFETY: SOCKADDR_STORAGE is plain data.
    let mut storage: SOCKADDR_STORAGE = unsafe { zeroed() };
    let mut len = size_of::<SOCKADDR_STORAGE>() as i32;
    // SAFETY: valid out pointers of the right size.
    if unsafe {
        getsockname(
            socket(fd),
            (&mut storage as *mut SOCKADDR_STORAGE).cast(),
            &mut len,
        )
    } != 0
    {
        return Err(last_socket_error());
    }
    Ok(i32::from(storage.ss_family))
}

/// A new overlapped, non-inheritable socket.
pub(crate) fn new_socket(domain: i32, socket_type: i32, protocol: i32) -> io::Result<SOCKET> {
    start_winsock()?;
    // SAFETY: no protocol info; the flags make it overlapped and not inherited by children.
    let socket = unsafe {
        WSASocketW(
            domain,
            socket_type,
            protocol,
            null(),
            0,
            WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT,
        )
    };
    if socket == INVALID_SOCKET {
        return Err(last_socket_error());
    }
    Ok(socket)
}

pub(crate) fn set_socket_option<T>(fd: Fd, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points at size_of::<T>() readable bytes for the call.
    let result = unsafe {
        setsockopt(
            socket(fd),
            SOL_SOCKET,
            name,
            (value as *const T).cast(),
            size_of::<T>() as i32,
        )
    };
    if result == SOCKET_ERROR {
        return Err(last_socket_error());
    }
    Ok(())
}

pub(crate) fn shutdown(fd: Fd, how: Shutdown) -> io::Result<usize> {
    let how = match how {
        Shutdown::Read => SD_RECEIVE,
        Shutdown::Write => SD_SEND,
        Shutdown::Both => SD_BOTH,
    };
    // SAFETY: a plain call on a socket value; a bad value fails with WSAENOTSOCK.
    if unsafe { winsock::shutdown(socket(fd), how) } == SOCKET_ERROR {
        return Err(last_socket_error());
    }
    Ok(0)
}

/// Closes a socket or a handle.
pub(crate) fn close(fd: Fd, kind: Option<HandleKind>) -> io::Result<usize> {
    if kind != Some(HandleKind::Disk) && kind != Some(HandleKind::Stream) {
        // SAFETY: closing a value the caller owns; a non-socket fails with WSAENOTSOCK.
        if unsafe { closesocket(socket(fd)) } == 0 {
            return Ok(0);
        }
        let error = last_socket_error();
        if kind == Some(HandleKind::Socket) || error.raw_os_error() != Some(WSAENOTSOCK) {
            return Err(error);
        }
    }
    // SAFETY: closing a handle the caller owns; a bad value fails with ERROR_INVALID_HANDLE.
    if unsafe { CloseHandle(handle(fd)) } == 0 {
        return Err(last_error());
    }
    Ok(0)
}

/// Closes something nobody will receive (a cancelled accept's socket); errors are moot.
pub(crate) fn close_quietly(fd: Fd) {
    let _ = close(fd, None);
}

/// The socket extension functions, looked up once through `WSAIoctl` (Wine's `mswsock.dll`
/// export of `GetAcceptExSockaddrs` does nothing; the looked-up pointer works everywhere).
pub(crate) struct Extensions {
    pub(crate) accept_ex: LPFN_ACCEPTEX,
    pub(crate) connect_ex: LPFN_CONNECTEX,
    pub(crate) get_accept_ex_sockaddrs: LPFN_GETACCEPTEXSOCKADDRS,
}

pub(crate) fn extensions(fd: Fd) -> io::Result<&'static Extensions> {
    static EXTENSIONS: OnceLock<Extensions> = OnceLock::new();
    if let Some(extensions) = EXTENSIONS.get() {
        return Ok(extensions);
    }
    // SAFETY: each pointer is filled by WSAIoctl as the type its GUID names.
    let extensions = unsafe {
        Extensions {
            accept_ex: extension(fd, WSAID_ACCEPTEX)?,
            connect_ex: extension(fd, WSAID_CONNECTEX)?,
            get_accept_ex_sockaddrs: extension(fd, WSAID_GETACCEPTEXSOCKADDRS)?,
        }
    };
    Ok(EXTENSIONS.get_or_init(|| extensions))
}

/// # Safety
///
/// `T` must be the function pointer type (an `Option<fn>`) that `guid` names.
unsafe fn extension<T>(fd: Fd, guid: GUID) -> io::Result<T> {
    let mut pointer: Option<unsafe extern "system" fn()> = None;
    let mut bytes = 0u32;
    // SAFETY: in: the GUID; out: one pointer-sized slot; synchronous (no OVERLAPPED).
    let result = unsafe {
        WSAIoctl(
            socket(fd),
            SIO_GET_EXTENSION_FUNCTION_POINTER,
            (&guid as *const GUID).cast(),
            size_of::<GUID>() as u32,
            (&mut pointer as *mut Option<unsafe extern "system" fn()>).cast(),
            size_of::<usize>() as u32,
            &mut bytes,
            null_mut(),
            None,
        )
    };
    if result == SOCKET_ERROR {
        return Err(last_socket_error());
    }
    if pointer.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "socket extension function missing",
        ));
    }
    // SAFETY: the caller names the type of the function WSAIoctl returned; both are
    // pointer-sized options of function pointers.
    Ok(unsafe { std::mem::transmute_copy(&pointer) })
}

/// Writes `addr` into `storage`; returns its length.
pub(crate) fn write_socket_addr(addr: &SocketAddr, storage: &mut SOCKADDR_STORAGE) -> i32 {
    // SAFETY: zero is a valid SOCKADDR_STORAGE, and clears padding.
    *storage = unsafe { zeroed() };
    match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: zero is a valid SOCKADDR_IN.
            let mut raw: SOCKADDR_IN = unsafe { zeroed() };
            raw.sin_family = winsock::AF_INET;
            raw.sin_port = v4.port().to_be();
            raw.sin_addr.S_un.S_addr = u32::from_ne_bytes(v4.ip().octets());
            // SAFETY: SOCKADDR_STORAGE is larger than and aligned for SOCKADDR_IN.
            unsafe { std::ptr::write((storage as *mut SOCKADDR_STORAGE).cast(), raw) };
            size_of::<SOCKADDR_IN>() as i32
        }
        SocketAddr::V6(v6) => {
            // SAFETY: zero is a valid SOCKADDR_IN6.
            let mut raw: SOCKADDR_IN6 = unsafe { zeroed() };
            raw.sin6_family = winsock::AF_INET6;
            raw.sin6_port = v6.port().to_be();
            raw.sin6_flowinfo = v6.flowinfo();
            raw.sin6_addr.u.Byte = v6.ip().octets();
            raw.Anonymous.sin6_scope_id = v6.scope_id();
            // SAFETY: SOCKADDR_STORAGE is larger than and aligned for SOCKADDR_IN6.
            unsafe { std::ptr::write((storage as *mut SOCKADDR_STORAGE).cast(), raw) };
            size_of::<SOCKADDR_IN6>() as i32
        }
    }
}

/// Reads a socket address of `len` bytes at `address`, which may be unaligned (`AcceptEx`'s
/// buffer packs them).
///
/// # Safety
///
/// `address` must point at `len` readable bytes.
pub(crate) unsafe fn read_socket_addr(address: *const SOCKADDR, len: i32) -> Option<SocketAddr> {
    if address.is_null() || (len as usize) < size_of::<u16>() {
        return None;
    }
    // SAFETY: at least the family is readable (checked above); unaligned reads throughout.
    let family = unsafe { std::ptr::read_unaligned(address.cast::<u16>()) };
    match family {
        winsock::AF_INET if len as usize >= size_of::<SOCKADDR_IN>() => {
            // SAFETY: `len` covers a SOCKADDR_IN.
            let raw: SOCKADDR_IN = unsafe { std::ptr::read_unaligned(address.cast()) };
            // SAFETY: every member of the address union is a view of the same 4 bytes.
            let ip = Ipv4Addr::from(unsafe { raw.sin_addr.S_un.S_addr }.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(raw.sin_port),
            )))
        }
        winsock::AF_INET6 if len as usize >= size_of::<SOCKADDR_IN6>() => {
            // SAFETY: `len` covers a SOCKADDR_IN6.
            let raw: SOCKADDR_IN6 = unsafe { std::ptr::read_unaligned(address.cast()) };
            // SAFETY: as above, 16 bytes viewed as bytes; the scope id union is a plain u32.
            let (ip, scope) = unsafe {
                (
                    Ipv6Addr::from(raw.sin6_addr.u.Byte),
                    raw.Anonymous.sin6_scope_id,
                )
            };
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(raw.sin6_port),
                raw.sin6_flowinfo,
                scope,
            )))
        }
        _ => None,
    }
}

/// Receives into a buffer taken from `pool` what waits in socket `fd`, without waiting: after
/// a pooled receive's zero-byte receive ended. `Some(count)`: `count` bytes, lent into
/// `buffer`, or 0 for the end of the stream; `None`: nothing waits (the zero-byte receive
/// ended for bytes another reader took). An empty pool is an error only when bytes wait, as
/// on io_uring, whose kernel takes a buffer only then; they stay in the socket.
///
/// The socket is in blocking mode (overlapped I/O breaks in non-blocking mode), so nothing
/// here calls `recv` unless it returns at once: for at most the bytes `FIONREAD` says wait,
/// or on a readable socket with none waiting (its end of stream, or its error).
pub(crate) fn receive_pooled(
    fd: Fd,
    messages: bool,
    pool: &crate::BufferPool,
    buffer: &mut Option<crate::PooledBuffer>,
) -> io::Result<Option<usize>> {
    let socket = socket(fd);
    // A FIONREAD that fails leaves it to `select` and a peek, which give the socket's error.
    let mut waiting = bytes_waiting(socket).unwrap_or(0);
    if waiting == 0 {
        if !readable(socket)? {
            return Ok(None);
        }
        let mut byte = 0u8;
        // SAFETY: one byte of a local, alive for the call; readable with nothing counted
        // waiting, the call returns at once.
        let peeked = unsafe { winsock::recv(socket, &mut byte, 1, winsock::MSG_PEEK) };
        if peeked == SOCKET_ERROR {
            let error = last_socket_error();
            // WSAEMSGSIZE: a datagram longer than the peek's byte, come since FIONREAD.
            if error.raw_os_error() != Some(WSAEMSGSIZE) {
                return Err(error);
            }
        } else if peeked == 0 {
            if messages {
                // An empty datagram, which a receive takes as it does any other (the peek
                // left it): a zero-byte receive of a readable socket returns at once.
                // SAFETY: no byte is written.
                unsafe { winsock::recv(socket, &mut byte, 0, 0) };
            }
            return Ok(Some(0));
        }
        // Bytes came since FIONREAD was asked.
        waiting = bytes_waiting(socket)?.max(1);
    }
    let shared = &pool.shared;
    let Some(index) = shared.take()? else {
        return Err(crate::buffer_pool::exhausted());
    };
    let len = (waiting as usize)
        .min(shared.buffer_size())
        .min(i32::MAX as usize);
    // SAFETY: the buffer was just taken from the free list, so nothing else uses its memory,
    // and it is buffer_size bytes long; at most the bytes waiting are asked for, so the call
    // returns at once.
    let received = unsafe { winsock::recv(socket, shared.address(index), len as i32, 0) };
    match received {
        // A datagram longer than the buffer, truncated to it (as `recv` without `MSG_TRUNC`
        // does on Unix): the buffer is full.
        SOCKET_ERROR if last_socket_error().raw_os_error() == Some(WSAEMSGSIZE) => {
            *buffer = Some(shared.lend(index, len));
            Ok(Some(len))
        }
        SOCKET_ERROR => {
            let error = last_socket_error();
            shared.untake(index);
            Err(error)
        }
        0 => {
            shared.untake(index);
            Ok(Some(0))
        }
        count => {
            let count = count as usize;
            *buffer = Some(shared.lend(index, count));
            Ok(Some(count))
        }
    }
}

/// How many bytes one `recv` on `socket` would get now (`FIONREAD`).
fn bytes_waiting(socket: SOCKET) -> io::Result<u32> {
    let mut waiting = 0u32;
    // SAFETY: FIONREAD writes one u32, a local alive for the call.
    if unsafe { winsock::ioctlsocket(socket, winsock::FIONREAD, &mut waiting) } == SOCKET_ERROR {
        return Err(last_socket_error());
    }
    Ok(waiting)
}

/// Whether a `recv` on `socket` would return at once (bytes, the end of the stream, or an
/// error wait): `select` with a zero timeout, which never blocks.
fn readable(socket: SOCKET) -> io::Result<bool> {
    // SAFETY: plain data; an empty set.
    let mut set: winsock::FD_SET = unsafe { zeroed() };
    set.fd_count = 1;
    set.fd_array[0] = socket;
    let timeout = winsock::TIMEVAL {
        tv_sec: 0,
        tv_usec: 0,
    };
    // SAFETY: the set and the timeout are locals alive for the call; nfds is ignored.
    let ready = unsafe { winsock::select(0, &mut set, null_mut(), null_mut(), &timeout) };
    if ready == SOCKET_ERROR {
        return Err(last_socket_error());
    }
    Ok(ready > 0)
}

/// Turns the error of a finished read into its result where Windows reports an ordinary end
/// as an error: end of file, a closed pipe, and a datagram larger than the buffer (delivered
/// truncated, as `recvmsg` does without `MSG_TRUNC`).
pub(crate) fn read_result(code: i32, bytes: u32) -> io::Result<usize> {
    match code as u32 {
        // ERROR_NOTIFY_ENUM_DIR (1022): directory changes overflowed; 0 says "rescan".
        ERROR_HANDLE_EOF | ERROR_BROKEN_PIPE | 1022 => Ok(0),
        // Reading a socket whose receive side this process shut down: the end of the stream,
        // as Unix reports it (Windows says WSAESHUTDOWN).
        _ if code == WSAESHUTDOWN => Ok(0),
        ERROR_MORE_DATA => Ok(bytes as usize),
        _ if code == WSAEMSGSIZE => Ok(bytes as usize),
        _ => Err(io::Error::from_raw_os_error(code)),
    }
}

/// The error Unix would give where Windows' differs in a way portable code checks: a send on
/// a socket whose sending side this process shut down is `WSAESHUTDOWN`, which std leaves
/// uncategorized, where Unix says `EPIPE` (`BrokenPipe`).
pub(crate) fn portable_error(op: &Op, error: io::Error) -> io::Error {
    let sends = matches!(
        op,
        Op::Send { .. }
            | Op::SendZc { .. }
            | Op::SendMsg { .. }
            | Op::Write { .. }
            | Op::WriteVectored { .. }
            | Op::SendFile { .. }
    );
    if sends && error.raw_os_error() == Some(WSAESHUTDOWN) {
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            "the socket's sending side is shut down (WSAESHUTDOWN)",
        )
    } else {
        error
    }
}

/// An operation the Windows driver has no form for.
pub(crate) fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} has no Windows form in the driver (path operations run with std::fs on the thread pool)"),
    )
}

/// Runs an operation with no overlapped form, on a pool thread.
pub(crate) fn perform_blocking(op: &mut Op) -> io::Result<usize> {
    match op {
        Op::Blocking { job } => std::mem::replace(job, Box::new(|| Ok(0)))(),
        Op::Fsync { fd, .. } => {
            // SAFETY: a plain call on a handle value; a bad one fails.
            if unsafe { FlushFileBuffers(handle(*fd)) } == 0 {
                return Err(last_error());
            }
            Ok(0)
        }
        Op::Ftruncate { fd, len } => set_end_of_file(*fd, *len),
        Op::Fallocate {
            fd,
            mode,
            offset,
            len,
        } => {
            if *mode != 0 {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "fallocate modes other than 0 are Linux-only",
                ));
            }
            if *len == 0 {
                // As fallocate and posix_fallocate answer an empty range.
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the range to allocate is empty",
                ));
            }
            let end = offset.checked_add(*len).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "offset + len overflows")
            })?;
            let mut size = 0i64;
            // SAFETY: valid out pointer.
            if unsafe { GetFileSizeEx(handle(*fd), &mut size) } == 0 {
                return Err(last_error());
            }
            // As posix_fallocate: the file grows to cover the range, never shrinks.
            if (size as u64) < end {
                set_end_of_file(*fd, end)?;
            }
            Ok(0)
        }
        Op::Statx {
            dir: Some(fd),
            path,
            metadata,
            ..
        } if path.as_bytes().is_empty() => {
            // SAFETY: plain data that GetFileInformationByHandle fills.
            let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { zeroed() };
            // SAFETY: valid out pointer.
            if unsafe { GetFileInformationByHandle(handle(*fd), &mut info) } == 0 {
                return Err(last_error());
            }
            **metadata = metadata_from(&info);
            Ok(0)
        }
        Op::Statx { .. } => Err(unsupported("statx with a path")),
        other => Err(unsupported(&format!("{:?}", other.kind()))),
    }
}

fn set_end_of_file(fd: Fd, len: u64) -> io::Result<usize> {
    let len = i64::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "length too large"))?;
    let info = FILE_END_OF_FILE_INFO { EndOfFile: len };
    // SAFETY: `info` is the structure FileEndOfFileInfo names, alive for the call.
    let ok = unsafe {
        SetFileInformationByHandle(
            handle(fd),
            FileEndOfFileInfo,
            (&info as *const FILE_END_OF_FILE_INFO).cast(),
            size_of::<FILE_END_OF_FILE_INFO>() as u32,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    Ok(0)
}

fn metadata_from(info: &BY_HANDLE_FILE_INFORMATION) -> Metadata {
    let attributes = info.dwFileAttributes;
    // Unix-style type and permission bits, as std and libuv report them on Windows.
    let file_type = if attributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        0o120000
    } else if attributes & FILE_ATTRIBUTE_DIRECTORY != 0 {
        0o040000
    } else {
        0o100000
    };
    let permissions = if attributes & FILE_ATTRIBUTE_READONLY != 0 {
        0o444
    } else {
        0o666
    } | if attributes & FILE_ATTRIBUTE_DIRECTORY != 0 {
        0o111
    } else {
        0
    };
    Metadata {
        dev: u64::from(info.dwVolumeSerialNumber),
        ino: (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
        mode: file_type | permissions,
        nlink: u64::from(info.nNumberOfLinks),
        size: (u64::from(info.nFileSizeHigh) << 32) | u64::from(info.nFileSizeLow),
        accessed: file_time(&info.ftLastAccessTime),
        modified: file_time(&info.ftLastWriteTime),
        created: file_time(&info.ftCreationTime),
        ..Metadata::default()
    }
}

/// A FILETIME (100 ns ticks since 1601) as a SystemTime; zero means "not recorded".
fn file_time(time: &FILETIME) -> Option<SystemTime> {
    let ticks = (u64::from(time.dwHighDateTime) << 32) | u64::from(time.dwLowDateTime);
    if ticks == 0 {
        return None;
    }
    const UNIX_EPOCH_TICKS: u64 = 116_444_736_000_000_000;
    let since =
        Duration::from_nanos((ticks % 10_000_000) * 100) + Duration::from_secs(ticks / 10_000_000);
    let epoch = Duration::from_secs(UNIX_EPOCH_TICKS / 10_000_000);
    Some(if since >= epoch {
        UNIX_EPOCH + (since - epoch)
    } else {
        UNIX_EPOCH - (epoch - since)
    })
}

/// A completion port of its own, for [`crate::CompletionPort`]: packets posted by anyone,
/// dequeued by whichever thread waits.
pub(crate) struct Port {
    handle: HANDLE,
}

// SAFETY: a completion port handle may be used from any thread, and the port's queue is the
// kernel's (each packet is dequeued by exactly one waiting thread).
unsafe impl Send for Port {}
// SAFETY: as above; every method takes `&self` and makes one kernel call.
unsafe impl Sync for Port {}

impl Port {
    pub(crate) fn new(concurrency: u32) -> io::Result<Port> {
        // SAFETY: creating a new port (no file handle, no existing port).
        let handle =
            unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, null_mut(), 0, concurrency) };
        if handle.is_null() {
            return Err(last_error());
        }
        Ok(Port { handle })
    }

    /// Queues a packet; `value` travels in the OVERLAPPED pointer's place and is never
    /// dereferenced (no I/O is associated with a posted packet).
    pub(crate) fn post(&self, key: usize, bytes: u32, value: usize) -> io::Result<()> {
        // SAFETY: the port is open while `self` lives; the OVERLAPPED argument of a posted
        // packet is passed through untouched.
        if unsafe {
            PostQueuedCompletionStatus(self.handle, bytes, key, value as *const OVERLAPPED)
        } == 0
        {
            return Err(last_error());
        }
        Ok(())
    }

    /// Waits up to `timeout` for packets and appends up to `packets`' spare capacity of them
    /// (at least one, at most 64); returns how many (0 when the wait timed out).
    pub(crate) fn harvest(
        &self,
        packets: &mut Vec<Packet>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        const MOST: usize = 64;
        let room = (packets.capacity() - packets.len()).clamp(1, MOST);
        // SAFETY: plain data; the kernel overwrites the entries it reports.
        let mut entries: [OVERLAPPED_ENTRY; MOST] = unsafe { zeroed() };
        let mut removed = 0u32;
        // SAFETY: `entries` has room for `room` entries; the kernel fills `removed` of them.
        let ok = unsafe {
            GetQueuedCompletionStatusEx(
                self.handle,
                entries.as_mut_ptr(),
                room as u32,
                &mut removed,
                wait_milliseconds(timeout),
                0,
            )
        };
        if ok == 0 {
            let error = last_error();
            if error.raw_os_error() == Some(WAIT_TIMEOUT as i32) {
                return Ok(0);
            }
            return Err(error);
        }
        packets.extend(entries[..removed as usize].iter().map(|entry| Packet {
            key: entry.lpCompletionKey,
            bytes: entry.dwNumberOfBytesTransferred,
            value: entry.lpOverlapped as usize,
        }));
        Ok(removed as usize)
    }
}

/// A wait for `GetQueuedCompletionStatusEx`: `None` is INFINITE; others round up to whole
/// milliseconds (so a wait for 0.3 ms does not spin) and stop short of INFINITE.
pub(crate) fn wait_milliseconds(timeout: Option<Duration>) -> u32 {
    match timeout {
        None => u32::MAX,
        Some(timeout) => u32::try_from(timeout.as_nanos().div_ceil(1_000_000))
            .unwrap_or(u32::MAX - 1)
            .min(u32::MAX - 1),
    }
}

impl Drop for Port {
    fn drop(&mut self) {
        // SAFETY: the port was created by `new` and is closed once, here.
        unsafe { CloseHandle(self.handle) };
    }
}

/// A path for a wide-character API: UTF-16, NUL-terminated, no interior NUL.
fn wide(name: &std::ffi::OsStr) -> io::Result<Vec<u16>> {
    use std::os::windows::ffi::OsStrExt;
    let mut wide: Vec<u16> = name.encode_wide().collect();
    if wide.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "name contains a NUL character",
        ));
    }
    wide.push(0);
    Ok(wide)
}

/// Creates the server end of a named pipe, overlapped.
pub(crate) fn create_named_pipe(
    name: &std::ffi::OsStr,
    config: &crate::windows::PipeServerConfig,
) -> io::Result<std::os::windows::io::OwnedHandle> {
    use windows_sys::Win32::Storage::FileSystem::{
        FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED, PIPE_ACCESS_INBOUND,
        PIPE_ACCESS_OUTBOUND,
    };
    use windows_sys::Win32::System::Pipes::{
        CreateNamedPipeW, PIPE_READMODE_MESSAGE, PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_MESSAGE,
        PIPE_UNLIMITED_INSTANCES, PIPE_WAIT,
    };
    let name = wide(name)?;
    if config.max_instances == 0 || config.max_instances > PIPE_UNLIMITED_INSTANCES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "max_instances must be 1 to 254, or 255 for no limit",
        ));
    }
    if !config.inbound && !config.outbound {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a pipe needs at least one direction",
        ));
    }
    let mut open_mode = FILE_FLAG_OVERLAPPED;
    if config.inbound {
        open_mode |= PIPE_ACCESS_INBOUND;
    }
    if config.outbound {
        open_mode |= PIPE_ACCESS_OUTBOUND;
    }
    if config.first_pipe_instance {
        open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
    }
    let mut pipe_mode = PIPE_WAIT;
    if config.message_mode {
        pipe_mode |= PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE;
    }
    if config.reject_remote_clients {
        pipe_mode |= PIPE_REJECT_REMOTE_CLIENTS;
    }
    // SAFETY: `name` is NUL-terminated UTF-16 alive for the call; default security.
    let handle = unsafe {
        CreateNamedPipeW(
            name.as_ptr(),
            open_mode,
            pipe_mode,
            config.max_instances,
            config.out_buffer_size,
            config.in_buffer_size,
            0,
            null(),
        )
    };
    if handle == INVALID_HANDLE_VALUE {
        return Err(last_error());
    }
    // SAFETY: a new handle nothing else owns.
    Ok(unsafe { std::os::windows::io::FromRawHandle::from_raw_handle(handle) })
}

/// Opens the client end of a named pipe, overlapped; `ERROR_PIPE_BUSY` when every instance is
/// taken (wait and retry, as clients of Windows pipes do).
pub(crate) fn open_named_pipe(
    name: &std::ffi::OsStr,
    config: &crate::windows::PipeClientConfig,
) -> io::Result<std::os::windows::io::OwnedHandle> {
    use windows_sys::Win32::Foundation::{GENERIC_READ, GENERIC_WRITE};
    use windows_sys::Win32::Storage::FileSystem::{
        CreateFileW, FILE_FLAG_OVERLAPPED, OPEN_EXISTING, SECURITY_IDENTIFICATION,
        SECURITY_SQOS_PRESENT,
    };
    use windows_sys::Win32::System::Pipes::{SetNamedPipeHandleState, PIPE_READMODE_MESSAGE};
    let name = wide(name)?;
    let mut access = 0;
    if config.read {
        access |= GENERIC_READ;
    }
    if config.write {
        access |= GENERIC_WRITE;
    }
    // SAFETY: `name` is NUL-terminated UTF-16 alive for the call. SECURITY_IDENTIFICATION
    // keeps a server from impersonating this client beyond identifying it.
    let handle = unsafe {
        CreateFileW(
            name.as_ptr(),
            access,
            0,
            null(),
            OPEN_EXISTING,
            FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
            null_mut(),
        )
    };
    if handle == INVALID_HANDLE_VALUE {
        return Err(last_error());
    }
    // SAFETY: a new handle nothing else owns.
    let owned: std::os::windows::io::OwnedHandle =
        unsafe { std::os::windows::io::FromRawHandle::from_raw_handle(handle) };
    if config.message_mode {
        let mode = PIPE_READMODE_MESSAGE;
        // SAFETY: `mode` outlives the call; the other settings stay as they are (NULL).
        if unsafe { SetNamedPipeHandleState(handle, &mode, null(), null()) } == 0 {
            return Err(last_error());
        }
    }
    Ok(owned)
}

/// Ends the connection of a pipe instance so it can take the next client.
pub(crate) fn disconnect_named_pipe(pipe: Fd) -> io::Result<()> {
    // SAFETY: a plain call on a handle value; a bad one fails.
    if unsafe { windows_sys::Win32::System::Pipes::DisconnectNamedPipe(handle(pipe)) } == 0 {
        return Err(last_error());
    }
    Ok(())
}

/// Opens a directory for `ReadDirectoryChangesW`: list access, every sharing mode (the watch
/// must not stop others from renaming or deleting inside it), overlapped.
pub(crate) fn open_directory(
    path: &std::path::Path,
) -> io::Result<std::os::windows::io::OwnedHandle> {
    use windows_sys::Win32::Storage::FileSystem::{
        CreateFileW, FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OVERLAPPED, FILE_LIST_DIRECTORY,
        FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, OPEN_EXISTING,
    };
    let name = wide(path.as_os_str())?;
    // SAFETY: `name` is NUL-terminated UTF-16 alive for the call; BACKUP_SEMANTICS is what
    // lets CreateFileW open a directory.
    let handle = unsafe {
        CreateFileW(
            name.as_ptr(),
            FILE_LIST_DIRECTORY,
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            null(),
            OPEN_EXISTING,
            FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OVERLAPPED,
            null_mut(),
        )
    };
    if handle == INVALID_HANDLE_VALUE {
        return Err(last_error());
    }
    // SAFETY: a new handle nothing else owns.
    Ok(unsafe { std::os::windows::io::FromRawHandle::from_raw_handle(handle) })
}

/// `IOCTL_AFD_POLL`: the socket driver's own readiness wait (what `WSAPoll`, libuv's
/// `uv_poll_t` and wepoll are built on), issued as an overlapped call so its end is a packet
/// on the port like any other operation's. Undocumented but stable since Windows XP, and
/// implemented by Wine.
pub(crate) const IOCTL_AFD_POLL: u32 = 0x0001_2024;
/// Bytes to receive.
pub(crate) const AFD_POLL_RECEIVE: u32 = 0x0001;
/// Room to send.
pub(crate) const AFD_POLL_SEND: u32 = 0x0004;
/// The peer shut down its sending side (a receive returns the end of the stream).
pub(crate) const AFD_POLL_DISCONNECT: u32 = 0x0008;
/// The connection was reset.
pub(crate) const AFD_POLL_ABORT: u32 = 0x0010;
/// The socket was closed here, under the wait.
pub(crate) const AFD_POLL_LOCAL_CLOSE: u32 = 0x0020;
/// A connection to accept.
pub(crate) const AFD_POLL_ACCEPT: u32 = 0x0080;
/// A connect failed.
pub(crate) const AFD_POLL_CONNECT_FAIL: u32 = 0x0100;

/// One socket of an `IOCTL_AFD_POLL` (`AFD_POLL_HANDLE_INFO`).
#[repr(C)]
pub(crate) struct AfdPollHandle {
    pub(crate) handle: HANDLE,
    pub(crate) events: u32,
    pub(crate) status: NTSTATUS,
}

/// `AFD_POLL_INFO` for one socket: the call's input, and its output (the events seen)
/// written back in place.
#[repr(C)]
pub(crate) struct AfdPollInfo {
    pub(crate) timeout: i64,
    pub(crate) number_of_handles: u32,
    pub(crate) exclusive: u32,
    pub(crate) handles: [AfdPollHandle; 1],
}

impl AfdPollInfo {
    /// A wait without a time limit for `events` on `socket`.
    pub(crate) fn new(socket: SOCKET, events: u32) -> AfdPollInfo {
        AfdPollInfo {
            timeout: i64::MAX,
            number_of_handles: 1,
            exclusive: 0,
            handles: [AfdPollHandle {
                handle: socket as usize as HANDLE,
                events,
                status: 0,
            }],
        }
    }

    /// The events the finished wait saw (none if it ended without its socket).
    pub(crate) fn seen(&self) -> u32 {
        if self.number_of_handles == 0 {
            0
        } else {
            self.handles[0].events
        }
    }
}

/// The socket the socket driver knows `fd` by (`SIO_BASE_HANDLE`): the same one unless a
/// layered service provider wraps it, as the poll must name the driver's own.
pub(crate) fn base_socket(fd: Fd) -> SOCKET {
    let mut base: SOCKET = winsock::INVALID_SOCKET;
    let mut returned = 0u32;
    // SAFETY: no input; the output is one SOCKET-sized value we own.
    let result = unsafe {
        winsock::WSAIoctl(
            socket(fd),
            winsock::SIO_BASE_HANDLE,
            std::ptr::null(),
            0,
            (&mut base as *mut SOCKET).cast(),
            size_of::<SOCKET>() as u32,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    if result == 0 && base != winsock::INVALID_SOCKET {
        base
    } else {
        socket(fd)
    }
}

/// One batch of `datagram::try_recv_many`: one `WSARecvFrom` per datagram until the batch is
/// full or the socket has no more. The socket is put in non-blocking mode first (what
/// socket2's `set_nonblocking` does; overlapped operations on it go on as before), so an
/// attempt never waits.
pub(crate) fn recv_many(
    fd: Fd,
    bufs: &mut [crate::Buffer],
    meta: &mut [crate::datagram::RecvMeta],
) -> io::Result<usize> {
    set_nonblocking(fd)?;
    for (i, buf) in bufs.iter_mut().enumerate() {
        let (pointer, room) = buf.read_destination();
        let wsabuf = winsock::WSABUF {
            len: room.min(u32::MAX as usize) as u32,
            buf: pointer,
        };
        // SAFETY: zero is a valid SOCKADDR_STORAGE.
        let mut address: SOCKADDR_STORAGE = unsafe { zeroed() };
        let mut address_len = size_of::<SOCKADDR_STORAGE>() as i32;
        let mut received = 0u32;
        let mut flags = 0u32;
        // SAFETY: the WSABUF describes the buffer's spare room, and the address and its
        // length are locals; all alive for the call, which (no OVERLAPPED) finishes before it
        // returns.
        let result = unsafe {
            winsock::WSARecvFrom(
                socket(fd),
                &wsabuf,
                1,
                &mut received,
                &mut flags,
                (&mut address as *mut SOCKADDR_STORAGE).cast(),
                &mut address_len,
                null_mut(),
                None,
            )
        };
        let (len, truncated) = if result == SOCKET_ERROR {
            let error = last_socket_error();
            match error.raw_os_error() {
                // Longer than the buffer: it is filled with the datagram's start, the rest
                // is lost (as `recvmsg` without `MSG_TRUNC` does on Unix).
                Some(WSAEMSGSIZE) => (wsabuf.len as usize, true),
                _ if i > 0 => return Ok(i),
                _ => return Err(error),
            }
        } else {
            (received as usize, false)
        };
        // SAFETY: the call wrote `len` bytes into the buffer's read destination.
        unsafe { buf.commit_read(len) };
        // SAFETY: the call wrote `address_len` bytes of the sender's address into `address`.
        let source =
            unsafe { read_socket_addr((&address as *const SOCKADDR_STORAGE).cast(), address_len) };
        meta[i] = crate::datagram::RecvMeta {
            len,
            addr: crate::datagram::ip_source(source)?,
            truncated,
        };
    }
    Ok(bufs.len())
}

/// One batch of `datagram::try_send_many`: one `WSASendTo` per datagram until all went or
/// the socket has no room (non-blocking, as for `recv_many`).
pub(crate) fn send_many(
    fd: Fd,
    bufs: &[crate::Buffer],
    targets: &[SocketAddr],
) -> io::Result<usize> {
    set_nonblocking(fd)?;
    for (i, buf) in bufs.iter().enumerate() {
        let (pointer, len) = buf.write_source();
        let wsabuf = winsock::WSABUF {
            len: len.min(u32::MAX as usize) as u32,
            buf: pointer as *mut u8,
        };
        // SAFETY: zero is a valid SOCKADDR_STORAGE.
        let mut address: SOCKADDR_STORAGE = unsafe { zeroed() };
        let (name, name_len) = match targets.get(i) {
            Some(target) => {
                let name_len = write_socket_addr(target, &mut address);
                (
                    (&address as *const SOCKADDR_STORAGE).cast::<SOCKADDR>(),
                    name_len,
                )
            }
            None => (null(), 0),
        };
        let mut sent = 0u32;
        // SAFETY: the WSABUF describes the buffer's bytes (only read), the address is a
        // local; all alive for the call, which (no OVERLAPPED) finishes before it returns.
        let result = unsafe {
            winsock::WSASendTo(
                socket(fd),
                &wsabuf,
                1,
                &mut sent,
                0,
                name,
                name_len,
                null_mut(),
                None,
            )
        };
        if result == SOCKET_ERROR {
            if i > 0 {
                return Ok(i);
            }
            return Err(last_socket_error());
        }
    }
    Ok(bufs.len())
}

/// Puts a socket in non-blocking mode (`FIONBIO`).
fn set_nonblocking(fd: Fd) -> io::Result<()> {
    let mut on = 1u32;
    // SAFETY: FIONBIO reads one u32, a local alive for the call.
    if unsafe { winsock::ioctlsocket(socket(fd), winsock::FIONBIO, &mut on) } == SOCKET_ERROR {
        return Err(last_socket_error());
    }
    Ok(())
}
