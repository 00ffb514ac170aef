//! Checks and bookkeeping every backend shares: bad input rejected the same way at
//! submission, and bytes of a vectored read spread over its buffers.

use std::io;

use super::SUN_PATH_LEN;
use crate::{Address, Buffer, Fd, Op, UnixAddr};

/// The most buffers one `readv`/`writev`/`sendmsg` takes on Linux, macOS and the BSDs
/// (`IOV_MAX`, `UIO_MAXIOV`). A vectored read or write of more runs as several calls of at
/// most this many each; a message (`SendMsg`, `RecvMsg`) cannot be split, so it is refused.
pub(crate) const IOV_MAX: usize = 1024;

fn invalid_input(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Rejects what no backend should hand to the kernel. Run once at submission, on every
/// backend, so each reports bad input the same way.
#[inline]
pub(crate) fn validate(op: &Op, identity: u64) -> io::Result<()> {
    match op {
        Op::Read { buf, .. } | Op::Recv { buf, .. } => check_read_buffer(buf),
        Op::ReadDirectoryChanges { buf, .. } => check_read_buffer(buf),
        Op::RecvMsg {
            max_fds, fds, bufs, ..
        } if *max_fds > 0 || !fds.is_empty() => {
            check_descriptor_count(usize::from(*max_fds))?;
            if !fds.is_empty() {
                return Err(invalid_input(
                    "a message receive is submitted without descriptors: they are its output",
                ));
            }
            check_vector_len(bufs, true)
        }
        Op::ReadVectored { bufs, .. } | Op::RecvMsg { bufs, .. } => {
            check_vector_len(bufs, matches!(op, Op::RecvMsg { .. }))?;
            if bufs.iter().any(|buf| check_read_buffer(buf).is_err()) {
                return Err(invalid_input(
                    "every buffer of a vectored read needs room to read into",
                ));
            }
            Ok(())
        }
        Op::RecvPooled { pool, .. } if pool.shared.owner != identity => Err(invalid_input(
            "this buffer pool belongs to another driver: use a pool made by the driver that runs \
             the receive",
        )),
        Op::RecvPooled {
            buffer: Some(_), ..
        } => Err(invalid_input(
            "a pooled receive is submitted without a buffer: the pool lends one",
        )),
        Op::WriteVectored { bufs, .. } => check_vector_len(bufs, false),
        Op::SendMsg {
            bufs, addr, fds, ..
        } => {
            check_vector_len(bufs, true)?;
            if !fds.is_empty() {
                check_descriptor_count(fds.len())?;
            }
            match addr {
                Some(Address::Unix(addr)) => check_unix_address(addr),
                _ => Ok(()),
            }
        }
        Op::Statx { path, dir, .. } if path.as_bytes().is_empty() && dir.is_none() => {
            Err(invalid_input("statx with an empty path needs a descriptor"))
        }
        _ => Ok(()),
    }
}

#[inline]
fn check_read_buffer(buf: &Buffer) -> io::Result<()> {
    if buf.read_capacity() == 0 {
        return Err(invalid_input(
            "read buffer has no room: give it spare capacity (or use a non-empty slice); static buffers cannot be read into",
        ));
    }
    Ok(())
}

/// The most descriptors one message carries: Linux's `SCM_MAX_FD`.
pub(crate) const MAX_FDS: usize = 253;

/// Descriptors passed with a message: where the OS has them, and at most [`MAX_FDS`].
fn check_descriptor_count(count: usize) -> io::Result<()> {
    if SUN_PATH_LEN.is_none() {
        return Err(unix_sockets_unsupported());
    }
    if count > MAX_FDS {
        return Err(invalid_input(
            "a message passes at most 253 descriptors (SCM_MAX_FD)",
        ));
    }
    Ok(())
}

/// A Unix domain address fits this OS's `sun_path` (a path with its final NUL).
fn check_unix_address(addr: &UnixAddr) -> io::Result<()> {
    let Some(room) = SUN_PATH_LEN else {
        return Err(unix_sockets_unsupported());
    };
    let bytes = addr.as_bytes();
    let needed = match bytes.first() {
        Some(0) | None => bytes.len(),
        Some(_) => bytes.len() + 1,
    };
    if needed > room {
        return Err(invalid_input(
            "this Unix socket address is longer than the OS's sun_path (104 bytes on macOS and the BSDs)",
        ));
    }
    Ok(())
}

fn unix_sockets_unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "Unix domain addresses and descriptor passing are Unix only",
    )
}

fn check_vector_len(bufs: &[Buffer], message: bool) -> io::Result<()> {
    if bufs.is_empty() {
        return Err(invalid_input(
            "vectored operation needs at least one buffer",
        ));
    }
    if message && bufs.len() > IOV_MAX {
        return Err(invalid_input(
            "a message takes at most 1024 buffers (IOV_MAX): it cannot be split",
        ));
    }
    Ok(())
}

/// Commits `count` bytes of a vectored read to `bufs`, filling each in order.
pub(crate) fn commit_vectored(bufs: &mut [Buffer], mut count: usize) {
    for buf in bufs {
        if count == 0 {
            break;
        }
        let filled = count.min(buf.read_capacity());
        // SAFETY: a vectored read fills its iovecs in order; this buffer got `filled` bytes.
        unsafe { buf.commit_read(filled) };
        count -= filled;
    }
}

/// `fd` names an open descriptor (checked by `Driver::register_fd` on every backend): the
/// OS's error (`EBADF`) if not.
#[cfg(unix)]
pub(crate) fn check_open(fd: Fd) -> io::Result<()> {
    // SAFETY: F_GETFD only reads the descriptor's flags; any number may be asked about.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `fd` could name a descriptor at all (`EBADF` for a negative number, as the OS says).
#[cfg(unix)]
pub(crate) fn check_fd_number(fd: Fd) -> io::Result<()> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    Ok(())
}

/// `fd` names an open socket or handle: the OS's error (`ERROR_INVALID_HANDLE`) if not.
#[cfg(windows)]
pub(crate) fn check_open(fd: Fd) -> io::Result<()> {
    check_fd_number(fd)?;
    let mut flags = 0;
    // SAFETY: GetHandleInformation only reads the handle's flags into `flags`, which lives
    // through the call; a handle that is not open is reported, not touched.
    if unsafe { windows_sys::Win32::Foundation::GetHandleInformation(fd as _, &mut flags) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `fd` could name a socket at all (`ERROR_INVALID_HANDLE` for `INVALID_SOCKET`).
#[cfg(windows)]
pub(crate) fn check_fd_number(fd: Fd) -> io::Result<()> {
    if fd == windows_sys::Win32::Networking::WinSock::INVALID_SOCKET as Fd {
        return Err(io::Error::from_raw_os_error(
            windows_sys::Win32::Foundation::ERROR_INVALID_HANDLE as i32,
        ));
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn check_open(fd: Fd) -> io::Result<()> {
    check_fd_number(fd)
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn check_fd_number(fd: Fd) -> io::Result<()> {
    let _ = fd;
    Ok(())
}
