//! What the crate needs from the OS that is spelled differently on Unix and Windows.
//!
//! Everything platform-specific outside the driver lives here, behind one `cfg`: each
//! platform file provides the same items, in the same order:
//!
//! - `IntoFd`: types whose ownership the crate takes over as a raw [`Fd`] (an `OwnedFd` on
//!   Unix; an `OwnedSocket` or `OwnedHandle` on Windows).
//! - `borrow_socket(fd)`: socket2's view of an open socket, for options; it never closes.
//! - `take_ownership(fd)`: a std type owning a descriptor the crate gives up (`into_std`).
//! - `duplicate_file(fd)`: a std `File` on a duplicate of an open file, for pool jobs.
//! - `close(fd)`: closes a descriptor the driver cannot (no runtime, or nobody took it).
//! - `has_nul(path)`: whether a path holds a NUL character, which no OS call accepts.
//! - `allowed_cores()`: the cores the calling thread may run on (its affinity mask), where
//!   the OS says.
//! - `pin_to_core(core)`: pins the calling thread to one core, where the OS allows it.
//!
//! Windows adds what its file handles need: `file_ids` (volume, file index and link count,
//! which std does not expose) and `overlapped_file` (a std file reopened for the driver),
//! `add_console_ctrl_handler` for `signal::ctrl_c`, `host_name` for `dns::lookup_addr` and
//! `disk_space` for `fs::statfs`; its `console` module has the console calls of `tty`.
//!
//! [`Fd`]: proactor_driver::Fd

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(windows)]
pub(crate) mod console;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;
