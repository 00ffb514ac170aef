//! `TcpSocket`: a TCP socket set up before it connects or listens (tokio's `TcpSocket`).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::tcp::as_inet;
use super::{Descriptor, TcpListener, TcpStream};
use crate::runtime::op;
use proactor_driver::Op;

/// A TCP socket not yet connected or listening, for what must be set first: an address to
/// connect from ([`bind`](TcpSocket::bind) before [`connect`](TcpSocket::connect)), address
/// or port reuse, buffer sizes. [`connect`](TcpSocket::connect) makes it a [`TcpStream`],
/// [`listen`](TcpSocket::listen) a [`TcpListener`].
///
/// # Examples
///
/// ```
/// use proactor::net::{TcpListener, TcpSocket};
///
/// proactor::Runtime::new()?.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let socket = TcpSocket::new_v4()?;
///     socket.set_send_buffer_size(256 * 1024)?;
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let from = socket.local_addr()?;
///     let stream = socket.connect(listener.local_addr()?).await?;
///     assert_eq!(stream.local_addr()?, from);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TcpSocket {
    descriptor: Descriptor,
}

impl TcpSocket {
    /// A TCP socket for IPv4.
    ///
    /// # Errors
    ///
    /// The OS error (out of descriptors, say).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// # let _ = socket;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(socket2::Domain::IPV4)
    }

    /// A TCP socket for IPv6.
    ///
    /// # Errors
    ///
    /// The OS error (no IPv6 on this host, say).
    ///
    /// # Examples
    ///
    /// ```
    /// if let Ok(socket) = proactor::net::TcpSocket::new_v6() {
    ///     # let _ = socket;
    /// }
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(socket2::Domain::IPV6)
    }

    fn new(domain: socket2::Domain) -> io::Result<TcpSocket> {
        let socket = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        Ok(TcpSocket {
            descriptor: Descriptor::adopt(socket),
        })
    }

    /// Allows binding an address in use by connections that are closing (`SO_REUSEADDR`):
    /// a restarted server binds past its old connections in `TIME_WAIT`. On Windows it lets
    /// another socket take the address over as well, so leave it off there unless that is
    /// what is meant.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// socket.set_reuseaddr(true)?;
    /// assert!(socket.reuseaddr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_reuseaddr(&self, reuse: bool) -> io::Result<()> {
        self.descriptor.socket().set_reuse_address(reuse)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!proactor::net::TcpSocket::new_v4()?.reuseaddr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.descriptor.socket().reuse_address()
    }

    /// Lets several sockets bind the same address and port (`SO_REUSEPORT`): each of several
    /// listeners then gets a share of the connections.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// socket.set_reuseport(true)?;
    /// assert!(socket.reuseport()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    pub fn set_reuseport(&self, reuse: bool) -> io::Result<()> {
        self.descriptor.socket().set_reuse_port(reuse)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!proactor::net::TcpSocket::new_v4()?.reuseport()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    pub fn reuseport(&self) -> io::Result<bool> {
        self.descriptor.socket().reuse_port()
    }

    /// Asks for a send buffer of `size` bytes (`SO_SNDBUF`); the OS may round it (Linux
    /// doubles it for its own bookkeeping), so read back what it took with
    /// [`send_buffer_size`](TcpSocket::send_buffer_size).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// socket.set_send_buffer_size(128 * 1024)?;
    /// assert!(socket.send_buffer_size()? >= 128 * 1024);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.descriptor.socket().set_send_buffer_size(size as usize)
    }

    /// The send buffer's size (`SO_SNDBUF`).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::net::TcpSocket::new_v4()?.send_buffer_size()? > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        Ok(clamp(self.descriptor.socket().send_buffer_size()?))
    }

    /// Asks for a receive buffer of `size` bytes (`SO_RCVBUF`), rounded as the send buffer
    /// is.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// socket.set_recv_buffer_size(128 * 1024)?;
    /// assert!(socket.recv_buffer_size()? >= 128 * 1024);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.descriptor.socket().set_recv_buffer_size(size as usize)
    }

    /// The receive buffer's size (`SO_RCVBUF`).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::net::TcpSocket::new_v4()?.recv_buffer_size()? > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        Ok(clamp(self.descriptor.socket().recv_buffer_size()?))
    }

    /// Sends keep-alive probes on an idle connection (`SO_KEEPALIVE`).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// socket.set_keepalive(true)?;
    /// assert!(socket.keepalive()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.descriptor.socket().set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!proactor::net::TcpSocket::new_v4()?.keepalive()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn keepalive(&self) -> io::Result<bool> {
        self.descriptor.socket().keepalive()
    }

    /// Sends small writes at once instead of gathering them (`TCP_NODELAY`, Nagle's
    /// algorithm off).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// socket.set_nodelay(true)?;
    /// assert!(socket.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.descriptor.socket().set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!proactor::net::TcpSocket::new_v4()?.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.descriptor.socket().tcp_nodelay()
    }

    /// How a close with unsent bytes behaves (`SO_LINGER`): `None` lets the OS send them
    /// after the close; `Some(Duration::ZERO)` drops them and resets the connection.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// socket.set_linger(Some(Duration::ZERO))?;
    /// assert_eq!(socket.linger()?, Some(Duration::ZERO));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.descriptor.socket().set_linger(linger)
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::net::TcpSocket::new_v4()?.linger()?, None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.descriptor.socket().linger()
    }

    /// Binds the socket to `addr`: the address a connection comes from, or the one a
    /// listener listens on. Port 0 picks a free port ([`local_addr`](TcpSocket::local_addr)
    /// says which).
    ///
    /// # Errors
    ///
    /// The OS error (`AddrInUse`, `AddrNotAvailable`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_ne!(socket.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.descriptor.socket().bind(&addr.into())
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS error; `InvalidInput` if it is not an IP address (never bound, on some OSes).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = proactor::net::TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert!(socket.local_addr()?.ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        as_inet(self.descriptor.socket().local_addr()?)
    }

    /// Connects to `addr` and returns the stream, from the bound address if
    /// [`bind`](TcpSocket::bind) set one.
    ///
    /// # Errors
    ///
    /// The OS error (`ConnectionRefused`, `TimedOut`, ...).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = proactor::net::TcpSocket::new_v4()?
    ///         .connect(listener.local_addr()?)
    ///         .await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        op::submit(Op::Connect {
            fd: self.descriptor.fd(),
            addr,
        })
        .await
        .result?;
        Ok(TcpStream::from_descriptor(self.descriptor))
    }

    /// Listens for connections, at most `backlog` waiting to be accepted, and returns the
    /// listener. Bind first: a socket never bound listens on a port the OS picks.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::TcpSocket::new_v4()?;
    ///     socket.bind("127.0.0.1:0".parse().unwrap())?;
    ///     let listener = socket.listen(1024)?;
    ///     let address = listener.local_addr()?;
    ///     let client = proactor::net::TcpStream::connect(address).await?;
    ///     let (_stream, peer) = listener.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        self.descriptor.socket().listen(backlog)?;
        Ok(TcpListener::from_descriptor(self.descriptor))
    }

    /// Wraps a stream made with std, to set options on it through this type; it is
    /// switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let socket = proactor::net::TcpSocket::from_std_stream(std)?;
    /// assert!(socket.local_addr()?.ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std_stream(stream: std::net::TcpStream) -> io::Result<TcpSocket> {
        stream.set_nonblocking(true)?;
        Ok(TcpSocket {
            descriptor: Descriptor::adopt(stream),
        })
    }
}

/// A buffer size as `u32` (tokio's type), saturating.
fn clamp(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

lend_descriptor!(TcpSocket, |this| this.descriptor);
