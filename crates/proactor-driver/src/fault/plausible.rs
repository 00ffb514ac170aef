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

/// The error `op` completes with when a fault fails it, or `None` if no error the OS could
/// give it is one its callers must expect anyway.
pub(super) fn error_for(op: &Op) -> Option<io::Error> {
    let code = match *op {
        Op::Read { fd, .. } | Op::ReadVectored { fd, .. } => match target(fd) {
            Target::StreamSocket => codes::CONNECTION_RESET,
            Target::File => codes::IO,
            // A pipe's read ends at end of file; it does not fail.
            Target::Pipe | Target::Other => return None,
        },
        Op::Write { fd, .. } | Op::WriteVectored { fd, .. } => match target(fd) {
            Target::StreamSocket => codes::CONNECTION_RESET,
            Target::Pipe => codes::BROKEN_PIPE,
            Target::File => codes::IO,
            Target::Other => return None,
        },
        Op::Recv { fd, .. }
        | Op::Send { fd, .. }
        | Op::RecvMsg { fd, .. }
        | Op::SendMsg { fd, .. } => match target(fd) {
            Target::StreamSocket => codes::CONNECTION_RESET,
            _ => return None,
        },
        Op::Fsync { fd, .. } => match target(fd) {
            Target::File => codes::IO,
            _ => return None,
        },
        // A connection reset between the handshake and the accept: servers retry.
        Op::Accept { fd, .. } => match target(fd) {
            Target::StreamSocket => codes::ACCEPT_ABORTED,
            _ => return None,
        },
        _ => return None,
    };
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
        Op::Recv { fd, flags, .. } | Op::Send { fd, flags, .. } => {
            flags == 0 && target(fd) == Target::StreamSocket
        }
        Op::RecvMsg { fd, flags, .. } => flags == 0 && target(fd) == Target::StreamSocket,
        Op::SendMsg {
            fd, flags, addr, ..
        } => flags == 0 && addr.is_none() && target(fd) == Target::StreamSocket,
        Op::Splice { .. } | Op::SendFile { .. } => true,
        _ => false,
    }
}

#[cfg(unix)]
mod codes {
    pub(super) const CONNECTION_RESET: i32 = libc::ECONNRESET;
    pub(super) const BROKEN_PIPE: i32 = libc::EPIPE;
    pub(super) const IO: i32 = libc::EIO;
    pub(super) const ACCEPT_ABORTED: i32 = libc::ECONNABORTED;
}

#[cfg(windows)]
mod codes {
    use windows_sys::Win32::Foundation::{ERROR_IO_DEVICE, ERROR_NO_DATA};
    use windows_sys::Win32::Networking::WinSock::WSAECONNRESET;

    pub(super) const CONNECTION_RESET: i32 = WSAECONNRESET;
    /// What a write to a pipe whose reader is gone gives ("the pipe is being closed").
    pub(super) const BROKEN_PIPE: i32 = ERROR_NO_DATA as i32;
    pub(super) const IO: i32 = ERROR_IO_DEVICE as i32;
    /// `AcceptEx` reports a connection reset before it was accepted this way.
    pub(super) const ACCEPT_ABORTED: i32 = WSAECONNRESET;
}

#[cfg(not(any(unix, windows)))]
mod codes {
    pub(super) const CONNECTION_RESET: i32 = 0;
    pub(super) const BROKEN_PIPE: i32 = 0;
    pub(super) const IO: i32 = 0;
    pub(super) const ACCEPT_ABORTED: i32 = 0;
}

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
