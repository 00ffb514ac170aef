//! Name resolution without blocking the runtime: the system resolver runs on the thread
//! pool.
//!
//! [`lookup_host`] resolves `"host:port"` (and the other shapes of [`ToSocketAddrs`]) to
//! socket addresses; numeric addresses are parsed on the spot, without a pool hop.
//! [`lookup_host_with`] takes `getaddrinfo`'s hints as [`LookupOptions`] (libuv's
//! `uv_getaddrinfo` takes them too; tokio has no such call): only IPv4 or only IPv6
//! addresses, addresses for one socket type, only families the host has an address of
//! (`AI_ADDRCONFIG`), numeric hosts only (`AI_NUMERICHOST`), and the wildcard addresses to
//! bind a server to (`AI_PASSIVE`).
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

use std::fmt;
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
    crate::blocking::run(move || {
        crate::sys::host_name(&socket2::SockAddr::from(SocketAddr::new(ip, 0)))
    })
    .await
}

/// The address family a [`lookup_host_with`] returns (`getaddrinfo`'s `ai_family`).
///
/// # Examples
///
/// ```
/// use proactor::dns::{lookup_host_with, Family, LookupOptions};
///
/// proactor::Runtime::new()?.block_on(async {
///     // The builder's `&mut LookupOptions` passes as the `&LookupOptions`.
///     let addresses: Vec<_> = lookup_host_with(Some("localhost"), 80, LookupOptions::new().family(Family::V4))
///         .await?
///         .collect();
///     assert!(addresses.iter().all(|address| address.is_ipv4()));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Family {
    /// IPv4 and IPv6 addresses (`AF_UNSPEC`), the default.
    #[default]
    Any,
    /// IPv4 addresses only (`AF_INET`).
    V4,
    /// IPv6 addresses only (`AF_INET6`).
    V6,
}

/// The socket type a [`lookup_host_with`] is for (`getaddrinfo`'s `ai_socktype`). Socket
/// addresses carry no type, so this only narrows what the resolver considers; with `Any`
/// (the default) each address is still returned once.
///
/// # Examples
///
/// ```
/// use proactor::dns::{lookup_host_with, LookupOptions, SocketType};
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut options = LookupOptions::new();
///     options.socket_type(SocketType::Datagram);
///     let mut addresses = lookup_host_with(Some("127.0.0.1"), 53, &options).await?;
///     assert_eq!(addresses.next(), Some(([127, 0, 0, 1], 53).into()));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SocketType {
    /// Any type, the default.
    #[default]
    Any,
    /// Stream sockets: TCP (`SOCK_STREAM`).
    Stream,
    /// Datagram sockets: UDP (`SOCK_DGRAM`).
    Datagram,
}

/// How [`lookup_host_with`] resolves: `getaddrinfo`'s hints, typed. The default is what
/// [`lookup_host`] does: any family, any socket type, no flags.
///
/// # Examples
///
/// ```
/// use proactor::dns::{lookup_host_with, Family, LookupOptions, SocketType};
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut options = LookupOptions::new();
///     options
///         .family(Family::V4)
///         .socket_type(SocketType::Stream)
///         .numeric_host(true);
///     let addresses: Vec<_> = lookup_host_with(Some("127.0.0.1"), 80, &options).await?.collect();
///     assert_eq!(addresses, [([127, 0, 0, 1], 80).into()]);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LookupOptions {
    pub(crate) family: Family,
    pub(crate) socket_type: SocketType,
    pub(crate) addrconfig: bool,
    pub(crate) numeric_host: bool,
    pub(crate) passive: bool,
}

impl LookupOptions {
    /// Any family, any socket type, no flags: what [`lookup_host`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::dns::{lookup_host_with, LookupOptions};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let options = LookupOptions::new();
    ///     assert!(lookup_host_with(Some("localhost"), 80, &options).await?.count() > 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> LookupOptions {
        LookupOptions::default()
    }

    /// Returns only addresses of `family`. A numeric host of the other family is an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::dns::{lookup_host_with, Family, LookupOptions};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut options = LookupOptions::new();
    ///     options.family(Family::V6);
    ///     let mut addresses = lookup_host_with(Some("::1"), 443, &options).await?;
    ///     assert_eq!(addresses.next(), Some("[::1]:443".parse().unwrap()));
    ///     assert!(lookup_host_with(Some("127.0.0.1"), 443, &options).await.is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn family(&mut self, family: Family) -> &mut LookupOptions {
        self.family = family;
        self
    }

    /// Asks for addresses for sockets of `socket_type` only (see [`SocketType`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::dns::{lookup_host_with, LookupOptions, SocketType};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut options = LookupOptions::new();
    ///     options.socket_type(SocketType::Stream);
    ///     assert!(lookup_host_with(Some("localhost"), 80, &options).await?.count() > 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn socket_type(&mut self, socket_type: SocketType) -> &mut LookupOptions {
        self.socket_type = socket_type;
        self
    }

    /// `AI_ADDRCONFIG`: returns IPv4 addresses only if the host has an IPv4 address
    /// configured, and IPv6 ones only if it has an IPv6 address (loopback addresses do not
    /// count on Linux), so a client never tries a family it cannot reach.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use proactor::dns::{lookup_host_with, LookupOptions};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut options = LookupOptions::new();
    ///     options.addrconfig(true);
    ///     let addresses: Vec<_> = lookup_host_with(Some("example.com"), 443, &options).await?.collect();
    ///     println!("{addresses:?}");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn addrconfig(&mut self, addrconfig: bool) -> &mut LookupOptions {
        self.addrconfig = addrconfig;
        self
    }

    /// `AI_NUMERICHOST`: the host must be an IP address (IPv6 without brackets, with a
    /// `%scope` if need be); a name is refused with `InvalidInput` rather than looked up, so
    /// the lookup never waits for DNS, and it runs at once, without a hop to the thread pool.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::dns::{lookup_host_with, LookupOptions};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut options = LookupOptions::new();
    ///     options.numeric_host(true);
    ///     assert_eq!(lookup_host_with(Some("192.0.2.1"), 80, &options).await?.count(), 1);
    ///     let error = lookup_host_with(Some("localhost"), 80, &options).await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn numeric_host(&mut self, numeric_host: bool) -> &mut LookupOptions {
        self.numeric_host = numeric_host;
        self
    }

    /// `AI_PASSIVE`: with no host, the wildcard addresses (`0.0.0.0`, `::`), to bind a
    /// server to; without it, no host gives the loopback addresses. It changes nothing for a
    /// lookup with a host.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::dns::{lookup_host_with, LookupOptions};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut options = LookupOptions::new();
    ///     options.passive(true);
    ///     let addresses: Vec<_> = lookup_host_with(None, 8080, &options).await?.collect();
    ///     assert!(!addresses.is_empty());
    ///     assert!(addresses.iter().all(|address| address.ip().is_unspecified()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn passive(&mut self, passive: bool) -> &mut LookupOptions {
        self.passive = passive;
        self
    }
}

/// Resolves `host` (a name or an IP address; `None`: see [`LookupOptions::passive`]) with
/// `getaddrinfo`'s hints from `options`, and gives each address with `port`, once, in the
/// resolver's order. `GetAddrInfoW` on Windows.
///
/// A lookup of a name runs on the thread pool, so a slow DNS server never stalls the
/// runtime; with [`numeric_host`](LookupOptions::numeric_host) or no host there is nothing to
/// wait for, and it runs at once.
///
/// # Errors
///
/// `InvalidInput` for a name when [`numeric_host`](LookupOptions::numeric_host) is set, or a
/// host with a NUL character; `NotFound` for a name without an address of the family asked
/// for; otherwise the resolver's error (e.g. for a numeric host of the other family).
///
/// # Panics
///
/// Outside a runtime, for a lookup that needs the thread pool.
///
/// # Examples
///
/// ```
/// use proactor::dns::{lookup_host_with, Family, LookupOptions};
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut options = LookupOptions::new();
///     options.family(Family::V4);
///     let addresses: Vec<_> = lookup_host_with(Some("localhost"), 80, &options).await?.collect();
///     assert!(!addresses.is_empty());
///     assert!(addresses.iter().all(|address| address.is_ipv4() && address.port() == 80));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn lookup_host_with(
    host: Option<&str>,
    port: u16,
    options: &LookupOptions,
) -> io::Result<impl Iterator<Item = SocketAddr> + fmt::Debug> {
    let options = *options;
    let found = match host {
        Some(host) if !options.numeric_host => {
            let host = host.to_owned();
            crate::blocking::run(move || crate::sys::lookup(Some(&host), port, &options)).await
        }
        _ => crate::sys::lookup(host, port, &options),
    };
    let found = found.map_err(|error| match host {
        Some(host)
            if options.numeric_host
                && error.kind() == io::ErrorKind::NotFound
                && !is_ip_literal(host) =>
        {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{host:?} is not an IP address, and numeric_host forbids looking up a name"
                ),
            )
        }
        _ => error,
    })?;
    // With any socket type the resolver gives each address once per type.
    let mut addresses = Vec::with_capacity(found.len());
    for address in found {
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    Ok(addresses.into_iter())
}

/// Whether `host` is an IP address as `getaddrinfo` reads one (an IPv6 one may end in a
/// `%scope`).
fn is_ip_literal(host: &str) -> bool {
    let address = host.split_once('%').map_or(host, |(address, _)| address);
    address.parse::<IpAddr>().is_ok()
}
