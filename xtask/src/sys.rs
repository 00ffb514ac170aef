//! The few operating-system calls std does not wrap: signals to a process or
//! process group, `flock`, the effective user id and, on Linux, a parent-death
//! signal. Declared directly (libc is linked into every Rust program on Unix
//! anyway) so that the xtask has no dependencies.
//!
//! The xtask only works on Linux, but it compiles everywhere, as it is a
//! workspace member that `check-unix --workspace` checks for macOS and FreeBSD
//! and `test-windows --workspace` builds for Windows; elsewhere than Unix the
//! functions here are stand-ins that are never reached.

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus};

/// Signals the runner sends; the numbers are the same on Linux, macOS and the BSDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Term = 15,
    Kill = 9,
}

#[cfg(unix)]
mod imp {
    use super::Signal;
    use std::fs::File;
    use std::io;
    use std::os::raw::c_int;
    use std::os::unix::io::AsRawFd;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::path::Path;
    use std::process::{Command, ExitStatus};

    // pid_t and uid_t are 32-bit on every Unix Rust supports.
    unsafe extern "C" {
        fn kill(pid: i32, sig: c_int) -> c_int;
        fn flock(fd: c_int, operation: c_int) -> c_int;
        fn geteuid() -> u32;
        #[cfg(target_os = "linux")]
        fn prctl(option: c_int, ...) -> c_int;
    }

    const LOCK_EX: c_int = 2;
    const LOCK_NB: c_int = 4;

    pub fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { geteuid() == 0 }
    }

    pub fn lock(file: &File, on_wait: impl FnOnce()) -> io::Result<()> {
        let fd = file.as_raw_fd();
        // SAFETY: fd is an open descriptor owned by `file`, alive for the call.
        if unsafe { flock(fd, LOCK_EX | LOCK_NB) } == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::WouldBlock {
            return Err(error);
        }
        on_wait();
        loop {
            // SAFETY: as above.
            if unsafe { flock(fd, LOCK_EX) } == 0 {
                return Ok(());
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }

    pub fn send_signal(pid: u32, whole_group: bool, signal: Signal) {
        let Ok(pid) = i32::try_from(pid) else { return };
        let target = if whole_group { -pid } else { pid };
        // SAFETY: kill only sends a signal. pid is a child of ours that the
        // caller has not seen exit; errors (e.g. it just exited) are harmless.
        unsafe { kill(target, signal as c_int) };
    }

    pub fn configure_child(cmd: &mut Command, own_group: bool) {
        if own_group {
            cmd.process_group(0);
        }
        #[cfg(target_os = "linux")]
        // SAFETY: the closure runs between fork and exec and only makes the
        // async-signal-safe prctl system call.
        unsafe {
            cmd.pre_exec(|| {
                // PR_SET_PDEATHSIG = 1: the child gets SIGTERM when the process
                // that started it (this runner) dies, however it dies, so a
                // killed runner cannot leave a Windows test running.
                if prctl(1, Signal::Term as std::os::raw::c_ulong) == 0 {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            });
        }
    }

    pub fn exec(cmd: &mut Command) -> io::Result<ExitStatus> {
        Err(cmd.exec())
    }

    pub fn signal_of(status: ExitStatus) -> Option<u8> {
        status.signal().and_then(|sig| u8::try_from(sig).ok())
    }

    pub fn is_executable(path: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
}

#[cfg(not(unix))]
mod imp {
    use super::Signal;
    use std::fs::File;
    use std::io;
    use std::path::Path;
    use std::process::{Command, ExitStatus};

    pub fn is_root() -> bool {
        false
    }

    pub fn lock(_file: &File, _on_wait: impl FnOnce()) -> io::Result<()> {
        Ok(())
    }

    pub fn send_signal(_pid: u32, _whole_group: bool, _signal: Signal) {}

    pub fn configure_child(_cmd: &mut Command, _own_group: bool) {}

    pub fn exec(cmd: &mut Command) -> io::Result<ExitStatus> {
        cmd.status()
    }

    pub fn signal_of(_status: ExitStatus) -> Option<u8> {
        None
    }

    pub fn is_executable(path: &Path) -> bool {
        path.is_file()
    }
}

/// Whether this process runs as root (and so can run apt-get without sudo).
pub fn is_root() -> bool {
    imp::is_root()
}

/// Takes an exclusive `flock` on `file`, held until it is closed; `on_wait` is
/// called first if another process holds it.
pub fn lock(file: &File, on_wait: impl FnOnce()) -> io::Result<()> {
    imp::lock(file, on_wait)
}

/// Sends `signal` to child `pid`, or to its whole process group (whose id is
/// `pid`, see [`configure_child`]).
pub fn send_signal(pid: u32, whole_group: bool, signal: Signal) {
    imp::send_signal(pid, whole_group, signal);
}

/// Prepares a child the runner will supervise: in a process group of its own
/// if `own_group` (so that everything it starts can be killed together), and
/// on Linux ended when the runner dies.
pub fn configure_child(cmd: &mut Command, own_group: bool) {
    imp::configure_child(cmd, own_group);
}

/// Replaces this process with `cmd` (Unix); returns only if that fails.
/// Elsewhere runs it and returns its status.
pub fn exec(cmd: &mut Command) -> io::Result<ExitStatus> {
    imp::exec(cmd)
}

/// The signal that killed a process, if one did.
pub fn signal_of(status: ExitStatus) -> Option<u8> {
    imp::signal_of(status)
}

/// Like the shell's `[ -x path ]` for a regular file.
pub fn is_executable(path: &Path) -> bool {
    imp::is_executable(path)
}

/// The parent's process id; it changes when the parent dies and this process
/// is adopted (by init or a subreaper).
pub fn parent_id() -> u32 {
    #[cfg(unix)]
    return std::os::unix::process::parent_id();
    #[cfg(not(unix))]
    return 0;
}
