//! Which faults an operation may honestly get: what its descriptor is (a stream socket, a
//! pipe, a regular file, or something else), the error the OS gives such an operation on such
//! a descriptor, and whether a short transfer is something the OS could have done.
//!
//! A datagram or a record (eventfd, inotify, signalfd, a message-mode pipe) is transferred
//! whole or not at all: a short read of one would drop bytes and a short write would send a
//! truncated message, neither of which the OS ever does. So only byte streams and regular
//! files are shortened, and only operations whose errors callers must handle anyway fail.

use std::io;

use crate::{Fd, Op};

/// What a descriptor is, as far as faults care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// A connected (or listening) `SOCK_STREAM` socket: TCP, a Unix stream.
    StreamSocket,
    /// A pipe or a FIFO in byte mode.
    Pipe,
    /// A regular file.
    File,
    /// Anything else: datagram and record descriptors, terminals, devices.
    Other,
}

impl Target {
    fn is_byte_stream(self) -> bool {
        matches!(self, Target::StreamSocket | Target::Pipe | Target::File)
    }
}

/// Fails `op` before it starts, if some error the OS could give it is one its callers must
/// expect anyway; returns that error, or `None` to let the operation run.
///
/// A reset stream socket is also shut down both ways, so that what follows agrees with the
/// reset on both ends (later reads end, later writes fail, the peer sees the end of the
/// stream), as after a real one: an injected reset that left the connection working would
/// let a caller that goes on see bytes after it. An error on a file is one a real disk can
/// give once and not again, so it needs nothing more.
pub(super) fn fail(op: &Op) -> Option<io::Error> {
    let (fd, code) = match *op {
        Op::Read { fd, .. }
        | Op::ReadVectored { fd, .. }
        | Op::Write { fd, .. }
        | Op::WriteVectored { fd, .. } => match target(fd) {
            Target::StreamSocket => (fd, codes::CONNECTION_RESET),
            Target::File => (fd, codes::IO),
            // A pipe's read ends at end of file, and its write fails only once the reader
            // is gone, which a fault cannot make true.
            Target::Pipe | Target::Other => return None,
        },
        Op::Recv { fd, .. }
        | Op::Send { fd, .. }
        | Op::SendZc { fd, .. }
        | Op::RecvMsg { fd, .. }
        | Op::SendMsg { fd, .. } => match target(fd) {
            Target::StreamSocket => (fd, codes::CONNECTION_RESET),
            _ => return None,
        },
        Op::Fsync { fd, .. } => match target(fd) {
            Target::File => (fd, codes::IO),
            _ => return None,
        },
        // A connection reset between the handshake and the accept: servers accept again.
        // The connection that failed is not one any client will miss.
        Op::Accept { fd, .. } => match target(fd) {
            Target::StreamSocket => return Some(io::Error::from_raw_os_error(codes::ABORTED)),
            _ => return None,
        },
        _ => return None,
    };
    if code == codes::CONNECTION_RESET {
        shut_down(fd);
    }
    Some(io::Error::from_raw_os_error(code))
}

/// Whether the OS could transfer fewer bytes than `op` offers: a read, write, send or receive
/// on a byte stream or a regular file without flags that ask for all or nothing, or a splice
/// or sendfile (which move "up to" their length anywhere).
pub(super) fn may_be_short(op: &Op) -> bool {
    match *op {
        Op::Read { fd, .. }
        | Op::Write { fd, .. }
        | Op::ReadVectored { fd, .. }
        | Op::WriteVectored { fd, .. } => target(fd).is_byte_stream(),
        Op::Recv { fd, flags, .. } | Op::Send { fd, flags, .. } | Op::SendZc { fd, flags, .. } => {
            flags == 0 && target(fd) == Target::StreamSocket
        }
        // Descriptors travel with the first byte of a message: a short one could not be
        // completed by the caller as the OS would.
        Op::RecvMsg {
            fd, flags, max_fds, ..
        } => flags == 0 && max_fds == 0 && target(fd) == Target::StreamSocket,
        Op::SendMsg {
            fd,
            flags,
            ref addr,
            ref fds,
            ..
        } => flags == 0 && addr.is_none() && fds.is_empty() && target(fd) == Target::StreamSocket,
        Op::Splice { .. } | Op::SendFile { .. } => true,
        _ => false,
    }
}

#[cfg(unix)]
mod codes {
    pub(super) const CONNECTION_RESET: i32 = libc::ECONNRESET;
    pub(super) const IO: i32 = libc::EIO;
    pub(super) const ABORTED: i32 = libc::ECONNABORTED;
}

#[cfg(windows)]
mod codes {
    use windows_sys::Win32::Foundation::ERROR_IO_DEVICE;
    use windows_sys::Win32::Networking::WinSock::{WSAECONNABORTED, WSAECONNRESET};

    pub(super) const CONNECTION_RESET: i32 = WSAECONNRESET;
    pub(super) const IO: i32 = ERROR_IO_DEVICE as i32;
    pub(super) const ABORTED: i32 = WSAECONNABORTED;
}

#[cfg(not(any(unix, windows)))]
mod codes {
    pub(super) const CONNECTION_RESET: i32 = 1;
    pub(super) const IO: i32 = 2;
    pub(super) const ABORTED: i32 = 3;
}

/// Ends both directions of a stream socket.
#[cfg(unix)]
fn shut_down(fd: Fd) {
    // SAFETY: shutdown takes any value and fails with EBADF or ENOTCONN for one it cannot
    // shut down; it touches no memory of ours.
    unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
}

/// Ends both directions of a stream socket.
#[cfg(windows)]
fn shut_down(fd: Fd) {
    use windows_sys::Win32::Networking::WinSock::{shutdown, SD_BOTH, SOCKET};
    // SAFETY: shutdown takes any value and fails with WSAENOTSOCK or WSAENOTCONN for one it
    // cannot shut down; it touches no memory of ours.
    unsafe { shutdown(fd as SOCKET, SD_BOTH) };
}

#[cfg(not(any(unix, windows)))]
fn shut_down(_fd: Fd) {}

/// What `fd` is. Asked only when a fault is about to be injected, so faults cost no system
/// call on the operations they spare.
#[cfg(unix)]
pub(super) fn target(fd: Fd) -> Target {
    use std::mem::{size_of, MaybeUninit};

    let mut socket_type: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: both out pointers are valid for writes of the sizes given; a descriptor that is
    // not a socket (or not open) fails with ENOTSOCK (or EBADF) and writes nothing.
    let is_socket = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut socket_type as *mut libc::c_int).cast(),
            &mut len,
        )
    } == 0;
    if is_socket {
        return if socket_type == libc::SOCK_STREAM {
            Target::StreamSocket
        } else {
            Target::Other
        };
    }
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `stat` is writable memory for a `struct stat`.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } < 0 {
        return Target::Other;
    }
    // SAFETY: fstat succeeded and filled it.
    match unsafe { stat.assume_init() }.st_mode & libc::S_IFMT {
        libc::S_IFREG => Target::File,
        libc::S_IFIFO => Target::Pipe,
        _ => Target::Other,
    }
}

/// What `fd` is. Asked only when a fault is about to be injected.
#[cfg(windows)]
pub(super) fn target(fd: Fd) -> Target {
    use std::mem::size_of;
    use windows_sys::Win32::Foundation::HANDLE;
    use windows_sys::Win32::Networking::WinSock::{
        getsockopt, SOCKET, SOCK_STREAM, SOL_SOCKET, SO_TYPE,
    };
    use windows_sys::Win32::Storage::FileSystem::{GetFileType, FILE_TYPE_DISK, FILE_TYPE_PIPE};
    use windows_sys::Win32::System::Pipes::{GetNamedPipeInfo, PIPE_TYPE_MESSAGE};

    let mut socket_type = 0i32;
    let mut len = size_of::<i32>() as i32;
    // SAFETY: valid out pointers of the sizes given; a value that is not a socket fails with
    // WSAENOTSOCK and writes nothing.
    let is_socket = unsafe {
        getsockopt(
            fd as SOCKET,
            SOL_SOCKET,
            SO_TYPE,
            (&mut socket_type as *mut i32).cast(),
            &mut len,
        )
    } == 0;
    if is_socket {
        return if socket_type == SOCK_STREAM {
            Target::StreamSocket
        } else {
            Target::Other
        };
    }
    let handle = fd as usize as HANDLE;
    // SAFETY: GetFileType accepts any value and reports FILE_TYPE_UNKNOWN for a bad one.
    match unsafe { GetFileType(handle) } {
        FILE_TYPE_DISK => Target::File,
        FILE_TYPE_PIPE => {
            let mut flags = 0u32;
            // SAFETY: `flags` is a valid out pointer; the other outputs are optional (null).
            let known = unsafe {
                GetNamedPipeInfo(
                    handle,
                    &mut flags,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            } != 0;
            // A message-mode pipe delivers whole messages, like a datagram socket.
            if known && flags & PIPE_TYPE_MESSAGE == 0 {
                Target::Pipe
            } else {
                Target::Other
            }
        }
        _ => Target::Other,
    }
}

/// What `fd` is: nothing is known on a platform without a backend.
#[cfg(not(any(unix, windows)))]
pub(super) fn target(_fd: Fd) -> Target {
    Target::Other
}
