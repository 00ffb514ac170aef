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
//! - `lookup(host, port, options)`: `getaddrinfo` with [`LookupOptions`] as its hints, for
//!   `dns::lookup_host_with`; it blocks while the resolver asks DNS.
//! - `host_name(address)`: the name of an address (`getnameinfo`), for `dns::lookup_addr`.
//!
//! Windows adds what its file handles need: `file_ids` (volume, file index and link count,
//! which std does not expose) and `overlapped_file` (a std file reopened for the driver),
//! `add_console_ctrl_handler` for `signal::ctrl_c` and `disk_space` for `fs::statfs`; its
//! `console` module has the console calls of `tty`.
//!
//! [`LookupOptions`]: crate::dns::LookupOptions
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

/// The IP socket address in the `len` bytes at `address` (an `addrinfo`'s `ai_addr`); `None`
/// for another family.
///
/// # Safety
///
/// `address` must point to `len` readable bytes.
unsafe fn ip_address(address: *const u8, len: usize) -> Option<std::net::SocketAddr> {
    // SAFETY: the storage is as long as `*room` says, and at most that much is copied from
    // `address`, which the caller vouches for.
    let copied = unsafe {
        socket2::SockAddr::try_init(|storage, room| {
            let len = len.min(*room as usize);
            std::ptr::copy_nonoverlapping(address, storage.cast::<u8>(), len);
            *room = len as _;
            Ok(())
        })
    };
    copied.ok()?.1.as_socket()
}
