//! Unix: descriptors are `RawFd`s.

use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{BorrowedFd, FromRawFd, IntoRawFd};
use std::path::Path;

use proactor_driver::Fd;

/// Types whose descriptor the crate can take over.
pub(crate) trait IntoFd {
    fn into_fd(self) -> Fd;
}

impl<T: IntoRawFd> IntoFd for T {
    fn into_fd(self) -> Fd {
        self.into_raw_fd()
    }
}

/// socket2's view of the socket `fd`; it does not close the descriptor.
///
/// # Safety
///
/// `fd` must be an open socket for as long as the returned value is used.
pub(crate) unsafe fn borrow_socket(fd: Fd) -> ManuallyDrop<socket2::Socket> {
    // SAFETY: the caller keeps `fd` open; ManuallyDrop keeps the Socket from closing it.
    ManuallyDrop::new(unsafe { socket2::Socket::from_raw_fd(fd) })
}

/// A std handle on a duplicate of the open file `fd`: it stays valid even if `fd` is
/// closed meanwhile.
///
/// # Safety
///
/// `fd` must be open for the duration of the call.
pub(crate) unsafe fn duplicate_file(fd: Fd) -> io::Result<std::fs::File> {
    // SAFETY: the caller keeps `fd` open for the call; only the duplicate escapes.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    Ok(std::fs::File::from(borrowed.try_clone_to_owned()?))
}

/// Closes `fd` outside the driver.
///
/// # Safety
///
/// The caller owns `fd` and gives it up.
pub(crate) unsafe fn close(fd: Fd) {
    // SAFETY: the caller owns `fd`; nothing uses it afterwards.
    unsafe { libc::close(fd) };
}

/// Whether `path` holds a NUL byte.
pub(crate) fn has_nul(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().contains(&0)
}

/// Pins the calling thread to `core` (Linux); elsewhere a no-op, as there is no portable way.
pub(crate) fn pin_to_core(core: usize) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: cpu_set_t is a plain bit set; zeroed is empty, CPU_SET writes within it,
        // and sched_setaffinity reads it for the calling thread (pid 0). Failure (a core the
        // cgroup forbids) leaves the thread unpinned, which is harmless.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(core, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = core;
}
