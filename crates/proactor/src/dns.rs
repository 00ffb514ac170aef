//! Name resolution without blocking the runtime: the system resolver runs on the thread
//! pool.
//!
//! [`lookup_host`] resolves `"host:port"` (and the other shapes of [`ToSocketAddrs`]) to
//! socket addresses; numeric addresses are parsed on the spot, without a pool hop.
//! [`lookup_addr`] finds the name of an IP address (`getnameinfo`).
//!
//! # Examples
//!
//! ```
//! proactor::Runtime::new()?.block_on(async {
//!     let addresses: Vec<_> = proactor::dns::lookup_host("localhost:80").await?.collect();
//!     assert!(addresses.iter().all(|address| address.ip().is_loopback()));
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::net::{IpAddr, SocketAddr};

/// What [`lookup_host`] accepts: the same shapes as `bind` and `connect` (`"host:port"`,
/// `("host", port)`, socket addresses, an IP address with a port).
pub use crate::net::ToSocketAddrs;

/// Resolves `host` to socket addresses, in the order the system resolver gives them.
///
/// Numeric addresses are parsed at once; names go to the system resolver
/// (`getaddrinfo`, through [`std::net::ToSocketAddrs`]) on the thread pool, so a slow DNS
/// server never stalls the runtime.
///
/// # Errors
///
/// `InvalidInput` for a string that is not `host:port`, or the resolver's error (for
/// instance for a name that does not exist).
///
/// # Panics
///
/// Outside a runtime, for a name that needs the resolver.
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut numeric = proactor::dns::lookup_host("127.0.0.1:8080").await?;
///     assert_eq!(numeric.next(), Some(SocketAddr::from(([127, 0, 0, 1], 8080))));
///
///     let local: Vec<SocketAddr> = proactor::dns::lookup_host(("localhost", 443)).await?.collect();
///     assert!(local.iter().all(|address| address.port() == 443));
///
///     assert!(proactor::dns::lookup_host("no port").await.is_err());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn lookup_host(
    host: impl ToSocketAddrs,
) -> io::Result<impl Iterator<Item = SocketAddr> + std::fmt::Debug> {
    Ok(crate::net::resolve(host).await?.into_iter())
}

/// Finds the host name of `ip` (a reverse lookup, `getnameinfo` with `NI_NAMEREQD`;
/// `GetNameInfoW` on Windows), on the thread pool.
///
/// # Errors
///
/// `NotFound` if the address has no name; another error if the resolver fails (for instance
/// `WouldBlock` for a temporary failure worth retrying).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use std::net::Ipv4Addr;
///
/// proactor::Runtime::new()?.block_on(async {
///     let name = proactor::dns::lookup_addr(Ipv4Addr::LOCALHOST.into()).await?;
///     assert!(!name.is_empty()); // usually "localhost"
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn lookup_addr(ip: IpAddr) -> io::Result<String> {
    crate::blocking::run(move || name_of(ip)).await
}

#[cfg(windows)]
fn name_of(ip: IpAddr) -> io::Result<String> {
    crate::sys::host_name(&socket2::SockAddr::from(SocketAddr::new(ip, 0)))
}

#[cfg(unix)]
fn name_of(ip: IpAddr) -> io::Result<String> {
    use std::ffi::CStr;

    let address = socket2::SockAddr::from(SocketAddr::new(ip, 0));
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
        return Err(resolver_error(code));
    }
    // SAFETY: getnameinfo succeeded, so `host` holds a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) };
    Ok(name.to_string_lossy().into_owned())
}

#[cfg(unix)]
fn resolver_error(code: libc::c_int) -> io::Error {
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
    io::Error::new(kind, format!("reverse lookup failed: {message}"))
}
