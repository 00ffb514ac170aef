//! Addresses a socket can bind or connect to: numeric ones resolve at once; host names are
//! looked up on the thread pool, so the runtime's thread never blocks on DNS.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What `bind`, `connect` and `send_to` accept: a [`SocketAddr`], an `(ip, port)` pair, a
/// slice of addresses, or a string such as `"127.0.0.1:8080"`, `"[::1]:0"` or
/// `"localhost:8080"`. Host names are resolved on the thread pool (`getaddrinfo` blocks).
///
/// It is sealed: the runtime decides how to resolve.
///
/// # Examples
///
/// ```
/// proactor::Runtime::new()?.block_on(async {
///     let listener = proactor::net::TcpListener::bind("localhost:0").await?;
///     assert!(listener.local_addr()?.ip().is_loopback());
///     let listener = proactor::net::TcpListener::bind(("127.0.0.1".parse::<std::net::IpAddr>().unwrap(), 0)).await?;
///     # let _ = listener;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use super::*;

    /// Resolution, kept out of the public API.
    pub trait Sealed {
        /// Addresses known without a lookup, or the host and port to look up.
        fn resolve(self) -> Resolution;
    }

    /// The outcome of a [`Sealed::resolve`].
    pub enum Resolution {
        /// Ready: no lookup needed (may be an error, e.g. a malformed string).
        Ready(io::Result<Vec<SocketAddr>>),
        /// A host name and port to look up.
        Lookup(String, u16),
    }
}

use sealed::{Resolution, Sealed};

macro_rules! numeric {
    ($($type:ty),*) => {
        $(
            impl ToSocketAddrs for $type {}
            impl Sealed for $type {
                fn resolve(self) -> Resolution {
                    Resolution::Ready(Ok(vec![SocketAddr::from(self)]))
                }
            }
        )*
    };
}

numeric!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for &[SocketAddr] {}
impl Sealed for &[SocketAddr] {
    fn resolve(self) -> Resolution {
        Resolution::Ready(Ok(self.to_vec()))
    }
}

impl ToSocketAddrs for &str {}
impl Sealed for &str {
    fn resolve(self) -> Resolution {
        if let Ok(address) = self.parse::<SocketAddr>() {
            return Resolution::Ready(Ok(vec![address]));
        }
        // "host:port": split at the last colon (IPv6 literals parsed above).
        match self
            .rsplit_once(':')
            .map(|(host, port)| (host, port.parse::<u16>()))
        {
            Some((host, Ok(port))) => (host, port).resolve(),
            _ => Resolution::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid socket address: expected HOST:PORT",
            ))),
        }
    }
}

impl ToSocketAddrs for String {}
impl Sealed for String {
    fn resolve(self) -> Resolution {
        self.as_str().resolve()
    }
}

impl ToSocketAddrs for &String {}
impl Sealed for &String {
    fn resolve(self) -> Resolution {
        self.as_str().resolve()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Sealed for (&str, u16) {
    fn resolve(self) -> Resolution {
        let (host, port) = self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolution::Ready(Ok(vec![SocketAddr::new(ip, port)])),
            Err(_) => Resolution::Lookup(host.to_string(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Sealed for (String, u16) {
    fn resolve(self) -> Resolution {
        (self.0.as_str(), self.1).resolve()
    }
}

/// Resolves `addr`: at once when numeric, on the thread pool for a host name.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addresses = match addr.resolve() {
        Resolution::Ready(addresses) => addresses?,
        Resolution::Lookup(host, port) => {
            crate::blocking::run(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                    .map(Iterator::collect)
            })
            .await?
        }
    };
    if addresses.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        ));
    }
    Ok(addresses)
}
