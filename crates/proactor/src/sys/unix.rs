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

/// A std type (or socket2's) owning `fd`, which the crate gives up (`into_std`).
///
/// # Safety
///
/// The caller owns `fd`, an open descriptor of the kind `T` wraps, and gives it up.
pub(crate) unsafe fn take_ownership<T: FromRawFd>(fd: Fd) -> T {
    // SAFETY: the caller hands over its ownership of the open descriptor `fd`.
    unsafe { T::from_raw_fd(fd) }
}

/// The descriptor `fd` of `owner`, borrowed for as long as `owner` is (`AsFd`).
///
/// `owner` must keep `fd` open for as long as it lives (it closes `fd` only when dropped), as
/// every I/O type passing itself here does.
pub(crate) fn borrow_fd<T: ?Sized>(_owner: &T, fd: Fd) -> std::os::fd::BorrowedFd<'_> {
    // SAFETY: `owner` keeps `fd` open while the borrow of it lasts (its contract above).
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
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

/// One word of a Linux CPU mask: the kernel's bitmap is an array of `unsigned long`.
#[cfg(target_os = "linux")]
type MaskWord = libc::c_ulong;
#[cfg(target_os = "linux")]
const MASK_BITS: usize = MaskWord::BITS as usize;

/// The cores the calling thread may run on, in increasing order: its affinity mask, which is
/// what `taskset` and cpusets narrow for a whole process (Linux). Empty where the OS will not
/// say, which leaves a group's threads unpinned.
pub(crate) fn allowed_cores() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        // cpu_set_t holds 1024 CPUs; a kernel built for more refuses a mask that small
        // (EINVAL), so the mask grows until it fits, up to 2^20 CPUs.
        let mut words = 1024 / MASK_BITS;
        loop {
            let mut mask: Vec<MaskWord> = vec![0; words];
            // SAFETY: the call writes at most the given size into `mask`, which has that many
            // bytes; the C library zeroes what the kernel leaves. The set is a plain array of
            // words whatever its length, so the cast only renames the pointer's type.
            let result = unsafe {
                libc::sched_getaffinity(
                    0,
                    std::mem::size_of_val(mask.as_slice()),
                    mask.as_mut_ptr().cast(),
                )
            };
            if result == 0 {
                return (0..words * MASK_BITS)
                    .filter(|core| mask[core / MASK_BITS] & (1 << (core % MASK_BITS)) != 0)
                    .collect();
            }
            let too_small = io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL);
            if !too_small || words * MASK_BITS >= 1 << 20 {
                return Vec::new();
            }
            words *= 2;
        }
    }
    #[cfg(not(target_os = "linux"))]
    Vec::new()
}

/// Pins the calling thread to `core` (Linux); elsewhere a no-op, as there is no portable way.
pub(crate) fn pin_to_core(core: usize) {
    #[cfg(target_os = "linux")]
    {
        // A mask just long enough for `core`: the kernel takes shorter masks than its own.
        let mut mask: Vec<MaskWord> = vec![0; core / MASK_BITS + 1];
        mask[core / MASK_BITS] |= 1 << (core % MASK_BITS);
        // SAFETY: the call reads the given size from `mask`, which has that many bytes (the
        // cast only renames the pointer's type, as above). Failure (a core the cgroup forbids)
        // leaves the thread unpinned, which is harmless.
        unsafe {
            libc::sched_setaffinity(
                0,
                std::mem::size_of_val(mask.as_slice()),
                mask.as_ptr().cast(),
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = core;
}

/// `getaddrinfo(host, port)` with `options` as its hints: the IP addresses, in the
/// resolver's order. Blocks while the resolver asks DNS.
pub(crate) fn lookup(
    host: Option<&str>,
    port: u16,
    options: &crate::dns::LookupOptions,
) -> io::Result<Vec<std::net::SocketAddr>> {
    use crate::dns::{Family, SocketType};
    use std::ffi::CString;

    let host = host
        .map(CString::new)
        .transpose()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a host name with a NUL byte"))?;
    // A numeric service: getaddrinfo looks no service name up.
    let service = CString::new(port.to_string())
        .unwrap_or_else(|_| unreachable!("a number's digits hold no NUL"));
    // SAFETY: all-zero is a valid addrinfo (no flags, null pointers).
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = match options.family {
        Family::Any => libc::AF_UNSPEC,
        Family::V4 => libc::AF_INET,
        Family::V6 => libc::AF_INET6,
    };
    hints.ai_socktype = match options.socket_type {
        SocketType::Any => 0,
        SocketType::Stream => libc::SOCK_STREAM,
        SocketType::Datagram => libc::SOCK_DGRAM,
    };
    for (wanted, flag) in [
        (options.addrconfig, libc::AI_ADDRCONFIG),
        (options.numeric_host, libc::AI_NUMERICHOST),
        (options.passive, libc::AI_PASSIVE),
    ] {
        if wanted {
            hints.ai_flags |= flag;
        }
    }
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: the strings are NUL-terminated and live across the call; `hints` is a valid
    // addrinfo; `list` is writable.
    let code = unsafe {
        libc::getaddrinfo(
            host.as_ref().map_or(std::ptr::null(), |host| host.as_ptr()),
            service.as_ptr(),
            &hints,
            &mut list,
        )
    };
    if code != 0 {
        return Err(resolver_error(code, "lookup"));
    }
    let mut addresses = Vec::new();
    let mut entry = list;
    while !entry.is_null() {
        // SAFETY: an entry of getaddrinfo's list, valid until freeaddrinfo below.
        let info = unsafe { &*entry };
        // SAFETY: getaddrinfo's `ai_addr` holds `ai_addrlen` bytes.
        if let Some(address) =
            unsafe { super::ip_address(info.ai_addr.cast(), info.ai_addrlen as usize) }
        {
            addresses.push(address);
        }
        entry = info.ai_next;
    }
    // SAFETY: the list getaddrinfo returned, freed once; no entry is used after this.
    unsafe { libc::freeaddrinfo(list) };
    Ok(addresses)
}

/// The host name of `address` (`getnameinfo` with `NI_NAMEREQD`).
pub(crate) fn host_name(address: &socket2::SockAddr) -> io::Result<String> {
    use std::ffi::CStr;

    let mut host = [0 as libc::c_char; 1025]; // NI_MAXHOST
                                              // SAFETY: `address` is a valid sockaddr of the given length; `host` is writable for its
                                              // length; no service buffer is asked for.
    let code = unsafe {
        libc::getnameinfo(
            address.as_ptr().cast(),
            address.len(),
            host.as_mut_ptr(),
            host.len() as _, // socklen_t, or size_t on FreeBSD
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if code != 0 {
        return Err(resolver_error(code, "reverse lookup"));
    }
    // SAFETY: getnameinfo succeeded, so `host` holds a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) };
    Ok(name.to_string_lossy().into_owned())
}

/// The error for a resolver's `EAI_*` code, with its message.
fn resolver_error(code: libc::c_int, what: &str) -> io::Error {
    if code == libc::EAI_SYSTEM {
        return io::Error::last_os_error();
    }
    // SAFETY: gai_strerror returns a static NUL-terminated message for any code.
    let message = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(code)) }
        .to_string_lossy()
        .into_owned();
    let kind = match code {
        libc::EAI_NONAME => io::ErrorKind::NotFound,
        libc::EAI_AGAIN => io::ErrorKind::WouldBlock,
        libc::EAI_MEMORY => io::ErrorKind::OutOfMemory,
        libc::EAI_FAMILY => io::ErrorKind::Unsupported,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("{what} failed: {message}"))
}
