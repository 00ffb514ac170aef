//! TCP: listeners, streams and their halves.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use proactor_driver::{Fd, Op};

use super::{each_address, new_ip_socket, resolve, Descriptor, Stream, ToSocketAddrs};
use crate::io::{AsyncRead, AsyncWrite, Interest, RawStream, Ready};
use crate::runtime::op;
use crate::{BufResult, IoBuf};

const BACKLOG: i32 = 1024;

pub(crate) fn as_inet(address: socket2::SockAddr) -> io::Result<SocketAddr> {
    address
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an IP socket address"))
}

/// A TCP socket listening for connections.
///
/// # Examples
///
/// ```
/// use proactor::net::{TcpListener, TcpStream};
///
/// proactor::Runtime::new()?.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let address = listener.local_addr()?;
///     let client = proactor::spawn(async move { TcpStream::connect(address).await });
///     let (_stream, peer) = listener.accept().await?;
///     assert_eq!(peer, client.await.unwrap()?.local_addr()?);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    descriptor: Descriptor,
}

impl TcpListener {
    /// A listener on a socket already listening.
    pub(crate) fn from_descriptor(descriptor: Descriptor) -> TcpListener {
        TcpListener { descriptor }
    }

    /// Binds to `addr` (with `SO_REUSEADDR` on Unix) and listens; the first address that
    /// works wins.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the port is taken, or the OS error for each address tried (the last).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert_ne!(listener.local_addr()?.port(), 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        TcpListener::bind_with(addr, false).await
    }

    /// Binds with `SO_REUSEPORT` as well, so each of several runtimes can own a listener on
    /// the same port and the kernel spreads connections among them.
    ///
    /// Windows has no `SO_REUSEPORT` (its `SO_REUSEADDR` lets listeners share a port but
    /// gives no say in which gets a connection), so there this is `Unsupported`.
    ///
    /// # Errors
    ///
    /// As [`bind`](TcpListener::bind); `Unsupported` on Windows.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)]
    /// proactor::Runtime::new()?.block_on(async {
    ///     let first = proactor::net::TcpListener::bind_reuse_port("127.0.0.1:0").await?;
    ///     let second = proactor::net::TcpListener::bind_reuse_port(first.local_addr()?).await?;
    ///     assert_eq!(first.local_addr()?, second.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn bind_reuse_port(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        if cfg!(windows) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "Windows has no SO_REUSEPORT",
            ));
        }
        TcpListener::bind_with(addr, true).await
    }

    async fn bind_with(addr: impl ToSocketAddrs, reuse_port: bool) -> io::Result<TcpListener> {
        each_address(resolve(addr).await?, |address| async move {
            let descriptor = new_ip_socket(&address, socket2::Type::STREAM).await?;
            let socket = descriptor.socket();
            // On Unix SO_REUSEADDR only lets a restarted server bind past old connections
            // in TIME_WAIT; on Windows it would let another socket take the port over.
            #[cfg(unix)]
            socket.set_reuse_address(true)?;
            if reuse_port {
                #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
                socket.set_reuse_port(true)?;
            }
            socket.bind(&address.into())?;
            socket.listen(BACKLOG)?;
            Ok(TcpListener { descriptor })
        })
        .await
    }

    /// Wraps a listener made with std; it is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let std = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let listener = proactor::net::TcpListener::from_std(std)?;
    ///     # let _ = listener;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            descriptor: Descriptor::adopt(listener),
        })
    }

    /// Gives the socket to std's `TcpListener`, still in non-blocking mode, as tokio's; the
    /// runtime forgets it.
    ///
    /// # Errors
    ///
    /// None today (an `io::Result` as tokio's).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let address = listener.local_addr()?;
    ///     let listener: std::net::TcpListener = listener.into_std()?;
    ///     assert_eq!(listener.local_addr()?, address);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.descriptor.into_std())
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// # Errors
    ///
    /// The OS error; `EMFILE` (too many open files) and similar leave the listener usable,
    /// so an accept loop can retry once descriptors are free. Not at once: such an error
    /// lasts as long as the shortage, and on Linux comes back at once even with no
    /// connection waiting, so a loop that retries straight away spins. Wait before retrying
    /// (a timer that grows, or until a connection closes), as with std and tokio; serve's
    /// accept loop (`examples/common/accept.rs`) shows one.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the accept; a connection the kernel accepted anyway is
    /// closed, never leaked.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// loop {
    ///     let (stream, peer) = listener.accept().await?;
    ///     println!("connection from {peer}");
    ///     # drop(stream);
    /// }
    /// # #[allow(unreachable_code)]
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let completion = op::submit(Op::Accept {
            fd: self.descriptor.fd(),
            peer: None,
        })
        .await;
        let stream = TcpStream::from_descriptor(Descriptor::from_driver(completion.result? as Fd));
        let peer = match completion.op {
            Op::Accept {
                peer: Some(peer), ..
            } => peer,
            _ => stream.peer_addr()?,
        };
        Ok((stream, peer))
    }

    /// Accepts connections from one submission that goes on accepting (io_uring's multishot
    /// accept; the other backends accept again while connections wait), read with
    /// [`Incoming::next`](crate::net::Incoming::next): a server's accept loop without an
    /// operation per connection. Connections accepted and not yet taken when it is dropped
    /// are closed.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// let mut incoming = listener.incoming();
    /// loop {
    ///     let stream = incoming.next().await?;
    ///     println!("connection from {}", stream.peer_addr()?);
    /// }
    /// # #[allow(unreachable_code)]
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn incoming(&self) -> super::Incoming<'_> {
        super::Incoming::new(self)
    }

    /// The descriptor, for the multishot accept.
    pub(crate) fn fd(&self) -> Fd {
        self.descriptor.fd()
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = proactor::net::TcpListener::bind("[::1]:0").await?;
    ///     assert!(listener.local_addr()?.is_ipv6());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        as_inet(self.descriptor.socket().local_addr()?)
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("fd", &self.descriptor.fd())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A TCP connection.
///
/// Read and write with [`AsyncRead`] and [`AsyncWrite`]; one read and one write may be in
/// flight at once (split it with [`into_split`](TcpStream::into_split) to do both from
/// different tasks).
///
/// # Examples
///
/// ```no_run
/// use proactor::io::{AsyncRead, AsyncWrite};
///
/// # proactor::Runtime::new()?.block_on(async {
/// let mut stream = proactor::net::TcpStream::connect("127.0.0.1:7878").await?;
/// let (result, _) = stream.write_all(b"ping".to_vec()).await;
/// result?;
/// let (result, reply) = stream.read(Vec::with_capacity(64)).await;
/// println!("{} bytes: {:?}", result?, reply);
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    stream: Rc<Stream>,
}

impl TcpStream {
    /// Writes `buf` with a zero-copy send: on io_uring (Linux 6.0) `IORING_OP_SEND_ZC`, where
    /// the network card reads the bytes from `buf` itself instead of the kernel copying them
    /// first; the buffer comes back once the kernel has let go of it (its notification), so
    /// it may be reused at once. Elsewhere, and on older kernels, a plain send. One send, as
    /// [`write`](crate::io::AsyncWrite::write): it returns how many bytes went.
    ///
    /// Whether it pays depends on the network card and the size: measured over loopback,
    /// where the kernel copies anyway, it never did (1.4–3.4× a plain send's CPU per GiB from
    /// 4 KiB to 1 MiB writes, `sendzc-bench`); peers report gains above ~10 KiB on real
    /// hardware. Measure on yours before using it. Honours
    /// [`set_write_timeout`](TcpStream::set_write_timeout).
    ///
    /// # Errors
    ///
    /// As a send's: a reset peer, a write timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncRead;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let (result, buffer) = client.write_zero_copy(vec![7u8; 64 * 1024]).await;
    ///     let sent = result?;
    ///     assert_eq!(buffer.len(), 64 * 1024, "the buffer comes back whole");
    ///     let (result, received) = server.read_exact(Vec::with_capacity(sent)).await;
    ///     result?;
    ///     assert!(received.iter().all(|&byte| byte == 7));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn write_zero_copy<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        self.stream.write_zero_copy(buf).await
    }

    /// Receives bytes into `buf` without taking them: the next read (or peek) gets the same
    /// bytes. Waits until there are some; 0 means the end of the stream. Bytes a cancelled
    /// read kept for this stream come first, as they do for a read.
    ///
    /// # Errors
    ///
    /// What the receive met (a reset, say), or the error a cancelled read met, which the next
    /// read then returns too.
    ///
    /// # Cancel safety
    ///
    /// Safe: a peek takes nothing, so dropping it loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(&b"GET / HTTP/1.1"[..]).await.0?;
    ///     let (count, peeked) = server.peek(Vec::with_capacity(3)).await;
    ///     assert_eq!(&peeked[..count?], b"GET");
    ///     let (result, read) = server.read_exact(Vec::with_capacity(14)).await;
    ///     result?;
    ///     assert_eq!(read, b"GET / HTTP/1.1", "the peeked bytes are read again");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn peek<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        self.stream.peek(buf).await
    }

    /// Waits until the stream is ready for something in `interest` and says what it found,
    /// as tokio's `TcpStream::ready`. Level-triggered: a stream that is ready now answers at
    /// once, and readiness can be gone again by the time a `try_read` or `try_write` runs
    /// (which then says `WouldBlock`: wait again). Bytes a cancelled read kept make it
    /// readable at once.
    ///
    /// # Errors
    ///
    /// What the wait met; `InvalidInput` for an empty `interest`.
    ///
    /// # Cancel safety
    ///
    /// Safe: a wait takes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::Interest;
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_server, _) = listener.accept().await?;
    ///     let ready = client.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_writable() && !ready.is_readable());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.stream.ready(interest).await
    }

    /// Waits until a read would not wait: bytes arrived, or the peer closed its end. Then
    /// [`try_read`](TcpStream::try_read) takes them. As tokio's `TcpStream::readable`; see
    /// [`ready`](TcpStream::ready).
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncWrite;
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(&b"ping"[..]).await.0?;
    ///     let mut bytes = [0; 16];
    ///     let count = loop {
    ///         server.readable().await?;
    ///         match server.try_read(&mut bytes) {
    ///             Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&bytes[..count], b"ping");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until a write would not wait: the socket has room for bytes (or the connection
    /// is gone, which the write then reports). As tokio's `TcpStream::writable`; see
    /// [`ready`](TcpStream::ready).
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     client.writable().await?;
    ///     assert_eq!(client.try_write(b"hello")?, 5);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Reads what has arrived into `buf` without waiting, as tokio's `TcpStream::try_read`:
    /// `Ok(0)` at the end of the stream (or for an empty `buf`), `WouldBlock` when nothing
    /// is there yet. Bytes a cancelled read kept come first, and while a cancelled read is
    /// still in flight the answer is `WouldBlock` (its bytes come before any new ones).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing is there; what the receive met.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let _client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let nothing = server.try_read(&mut [0; 16]).unwrap_err();
    ///     assert_eq!(nothing.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.try_read(buf)
    }

    /// Writes as much of `buf` as the socket takes without waiting, as tokio's
    /// `TcpStream::try_write`: the count written, or `WouldBlock` when the socket has no room.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when there is no room; what the send met (a reset peer, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncRead;
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     assert_eq!(client.try_write(b"hello")?, 5);
    ///     let (result, bytes) = server.read_exact(Vec::with_capacity(5)).await;
    ///     result?;
    ///     assert_eq!(bytes, b"hello");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.stream.try_write(buf)
    }

    /// Reads into a buffer lent by `pool` when bytes arrive: while it waits, no buffer is
    /// parked for this stream (the memory an idle connection costs is the pool's share, not
    /// a buffer of its own). An empty buffer: the peer closed its end. Dropped in flight, it
    /// keeps what it received for the next read.
    ///
    /// # Errors
    ///
    /// What the receive met; `InvalidInput` for a pool of another runtime. A pool with no
    /// buffer left is no error: the read waits for one to come back (bytes stay in the
    /// socket meanwhile), so size the pool for what the code holds at once.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use proactor::io::BufferPool;
    ///
    /// # proactor::Runtime::new()?.block_on(async {
    /// let pool = BufferPool::new(4096, 1024)?;
    /// let stream = proactor::net::TcpStream::connect("127.0.0.1:7878").await?;
    /// let buffer = stream.read_pooled(&pool).await?;
    /// println!("{:?}", &buffer[..]);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_pooled(
        &self,
        pool: &crate::io::BufferPool,
    ) -> impl std::future::Future<Output = io::Result<crate::io::PooledBuffer>> + '_ {
        super::pooled::ReadPooled::new(&self.stream, pool)
    }

    /// Reads into buffers lent by `pool`, from one submission that goes on receiving (see
    /// [`PooledReads`](crate::net::PooledReads)): on io_uring a multishot receive, which
    /// costs no submission per read.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use proactor::io::BufferPool;
    ///
    /// # proactor::Runtime::new()?.block_on(async {
    /// let pool = BufferPool::new(4096, 1024)?;
    /// let stream = proactor::net::TcpStream::connect("127.0.0.1:7878").await?;
    /// let mut reads = stream.pooled_reads(&pool);
    /// while let Some(buffer) = reads.next().await {
    ///     println!("{} bytes", buffer?.len());
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pooled_reads(&self, pool: &crate::io::BufferPool) -> super::PooledReads<'_> {
        super::PooledReads::new(&self.stream, pool)
    }

    pub(crate) fn from_descriptor(descriptor: Descriptor) -> TcpStream {
        TcpStream {
            stream: Rc::new(Stream::new(descriptor)),
        }
    }

    /// The byte stream, for the poll-based adapters.
    #[cfg(compat)]
    pub(crate) fn shared(&self) -> &Stream {
        &self.stream
    }

    /// Connects to `addr`, trying each address it resolves to in turn.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when nothing listens there, or the OS error of the last attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_address(resolve(addr).await?, |address| async move {
            let descriptor = new_ip_socket(&address, socket2::Type::STREAM).await?;
            op::submit(Op::Connect {
                fd: descriptor.fd(),
                addr: address,
            })
            .await
            .result?;
            Ok(TcpStream::from_descriptor(descriptor))
        })
        .await
    }

    /// Wraps a stream made with std; it is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let std = std::net::TcpStream::connect(listener.local_addr()?)?;
    ///     let stream = proactor::net::TcpStream::from_std(std)?;
    ///     # let _ = stream;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream::from_descriptor(Descriptor::adopt(stream)))
    }

    /// Gives the socket to std's `TcpStream`, still in non-blocking mode (call
    /// `set_nonblocking(false)` for blocking calls), as tokio's; the runtime forgets it.
    ///
    /// # Errors
    ///
    /// `InvalidData` while bytes a cancelled read received are the stream's (they would be
    /// lost: read them first); the stream is closed then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use proactor::io::AsyncWrite;
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(&b"to std"[..]).await.0?;
    ///     let mut server: std::net::TcpStream = server.into_std()?;
    ///     server.set_nonblocking(false)?;
    ///     let mut bytes = [0; 6];
    ///     server.read_exact(&mut bytes)?;
    ///     assert_eq!(&bytes, b"to std");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(Stream::into_descriptor(self.stream)?.into_std())
    }

    /// Limits how long each read may wait: one that has received nothing when `timeout`
    /// passes fails with [`ErrorKind::TimedOut`](io::ErrorKind::TimedOut), and the stream stays
    /// usable (bytes that arrive later go to the next read). `None`, the default, waits as long
    /// as it takes. Applies to [`read`](crate::io::AsyncRead::read), `read_pooled` and the
    /// adapters' reads, each on its own (as std's `set_read_timeout`); a `pooled_reads` run
    /// is not bounded by it. On io_uring the kernel times each read (a linked timeout): no
    /// timer of the runtime's is involved.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std refuses it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor::io::AsyncRead;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let mut stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_read_timeout(Some(Duration::from_millis(20)))?;
    ///     // The peer sends nothing.
    ///     let (result, _buffer) = stream.read(Vec::with_capacity(64)).await;
    ///     assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }

    /// The limit [`set_read_timeout`](TcpStream::set_read_timeout) set, if any.
    ///
    /// # Errors
    ///
    /// None today; the `Result` matches std's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let mut stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.read_timeout()?, None);
    ///     stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    ///     assert_eq!(stream.read_timeout()?, Some(Duration::from_secs(5)));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.stream.read_timeout())
    }

    /// Limits how long each write may wait for room: one that has sent nothing when `timeout`
    /// passes fails with [`ErrorKind::TimedOut`](io::ErrorKind::TimedOut) (one that sent part
    /// returns that count). A server that echoes or proxies buffers lent by a shared pool uses
    /// it to bound how long a peer that stops reading can hold them. `None`, the default,
    /// waits as long as it takes. Each write on its own, as std's `set_write_timeout`
    /// (`write_all` is several).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std refuses it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let mut stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    ///     assert_eq!(stream.write_timeout()?, Some(Duration::from_secs(10)));
    ///     assert!(stream.set_write_timeout(Some(Duration::ZERO)).is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_write_timeout(timeout)
    }

    /// The limit [`set_write_timeout`](TcpStream::set_write_timeout) set, if any.
    ///
    /// # Errors
    ///
    /// None today; the `Result` matches std's.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let mut stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.write_timeout()?, None);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.stream.write_timeout())
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the connection is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// println!("{}", stream.peer_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        as_inet(self.stream.descriptor().socket().peer_addr()?)
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// assert!(stream.local_addr()?.ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        as_inet(self.stream.descriptor().socket().local_addr()?)
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_nodelay(true)?;
    /// assert!(stream.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.stream.descriptor().socket().set_tcp_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_nodelay(true)?;
    ///     assert!(stream.nodelay()?);
    ///     stream.set_nodelay(false)?;
    ///     assert!(!stream.nodelay()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.stream.descriptor().socket().tcp_nodelay()
    }

    /// Sends keepalive probes after `idle` without traffic (`None`: no keepalive).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_keepalive(Some(std::time::Duration::from_secs(60)))?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_keepalive(&self, idle: Option<Duration>) -> io::Result<()> {
        let socket = self.stream.descriptor().socket();
        match idle {
            Some(idle) => socket.set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(idle)),
            None => socket.set_keepalive(false),
        }
    }

    /// Sets `SO_LINGER`: `Some(Duration::ZERO)` makes close send a reset.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_linger(Some(std::time::Duration::ZERO))?;
    /// assert_eq!(stream.linger()?, Some(std::time::Duration::ZERO));
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.stream.descriptor().socket().set_linger(linger)
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.linger()?, None); // the OS default: close returns at once
    ///     stream.set_linger(Some(Duration::from_secs(2)))?;
    ///     assert_eq!(stream.linger()?, Some(Duration::from_secs(2)));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.stream.descriptor().socket().linger()
    }

    /// Shuts down one or both directions.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the connection is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.shutdown(std::net::Shutdown::Write).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.stream.shutdown(how).await
    }

    /// Sends `len` bytes of `file` from `offset`, without copying them through user space
    /// on Linux (file to pipe to socket with `splice`, in the kernel or io_uring), macOS,
    /// FreeBSD and DragonFly (`sendfile(2)`) and Windows (`TransmitFile`); elsewhere, and for
    /// files `sendfile` refuses, through a buffer. Returns how many bytes were sent, fewer
    /// than `len` only if the file ends first. The file's cursor is not used or moved.
    ///
    /// # Errors
    ///
    /// The first read or send error, e.g. `BrokenPipe` if the peer went away.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the transfer part way; how much of the range was sent is
    /// then unknown, so end the connection (as after any failed response).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// let stream = proactor::net::TcpStream::connect("127.0.0.1:8080").await?;
    /// let file = proactor::fs::File::open("index.html").await?;
    /// let length = file.metadata().await?.len();
    /// let sent = stream.send_file(&file, 0, length).await?;
    /// assert_eq!(sent, length);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_file(
        &self,
        file: &crate::fs::File,
        offset: u64,
        len: u64,
    ) -> io::Result<u64> {
        self.stream.send_file(file.fd(), offset, len).await
    }

    /// Splits into a read half and a write half that can move to different tasks; the
    /// socket closes when both are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (reader, writer) = stream.into_split();
    /// # let _ = (reader, writer);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (
            OwnedReadHalf {
                stream: Rc::clone(&self.stream),
            },
            OwnedWriteHalf {
                stream: self.stream,
            },
        )
    }
}

impl AsyncRead for TcpStream {
    // The stream's future itself, not one more async layer around it: every layer holds its
    // own copy of the buffer, and the future sits in every pending read's task.
    fn read<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.stream.read(buf)
    }

    fn raw_source(&mut self) -> Option<RawStream> {
        self.stream.raw_source()
    }
}

impl AsyncWrite for TcpStream {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.stream.write(buf)
    }

    fn write_all<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        self.stream.write_all(buf)
    }

    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.stream.shutdown_write().await
    }

    fn raw_sink(&mut self) -> Option<RawStream> {
        Some(self.stream.raw_sink())
    }
}

/// Reads through a shared reference, as std's `impl Read for &TcpStream` does: one read and one
/// write may be in flight at once, which is what [`crate::io::split`] builds on.
impl AsyncRead for &TcpStream {
    // The stream's future itself, not one more async layer around it: every layer holds its
    // own copy of the buffer, and the future sits in every pending read's task.
    fn read<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.stream.read(buf)
    }

    fn raw_source(&mut self) -> Option<RawStream> {
        self.stream.raw_source()
    }
}

/// Writes through a shared reference (see the `AsyncRead` impl for `&TcpStream`).
impl AsyncWrite for &TcpStream {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.stream.write(buf)
    }

    fn write_all<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        self.stream.write_all(buf)
    }

    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.stream.shutdown_write().await
    }

    fn raw_sink(&mut self) -> Option<RawStream> {
        Some(self.stream.raw_sink())
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("fd", &self.stream.descriptor().fd())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

/// The reading half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// # Examples
///
/// ```
/// # proactor::Runtime::new()?.block_on(async {
/// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// # let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
/// let (reader, _writer) = stream.into_split();
/// println!("{:?}", reader);
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct OwnedReadHalf {
    stream: Rc<Stream>,
}

/// The writing half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// # Examples
///
/// ```
/// # proactor::Runtime::new()?.block_on(async {
/// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// # let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
/// let (_reader, writer) = stream.into_split();
/// println!("{:?}", writer);
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct OwnedWriteHalf {
    stream: Rc<Stream>,
}

/// Readiness and non-blocking reads on the reading half, as tokio's (see
/// [`TcpStream::ready`] and [`TcpStream::try_read`]).
impl OwnedReadHalf {
    /// Waits until a read would not wait (bytes, or the peer's close).
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::{TcpListener, TcpStream};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let (reader, _writer) = server.into_split();
    ///     client.try_write(b"hi")?;
    ///     reader.readable().await?;
    ///     assert_eq!(reader.try_read(&mut [0; 8])?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.stream.ready(Interest::READABLE).await.map(drop)
    }

    /// Reads what has arrived without waiting (see [`TcpStream::try_read`]).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing is there; what the receive met.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (reader, _writer) = stream.into_split();
    /// let nothing = reader.try_read(&mut [0; 8]).unwrap_err();
    /// assert_eq!(nothing.kind(), std::io::ErrorKind::WouldBlock);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.try_read(buf)
    }
}

/// Readiness and non-blocking writes on the writing half, as tokio's (see
/// [`TcpStream::ready`] and [`TcpStream::try_write`]).
impl OwnedWriteHalf {
    /// Waits until a write would not wait.
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (_reader, writer) = stream.into_split();
    /// writer.writable().await?;
    /// assert_eq!(writer.try_write(b"hi")?, 2);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.stream.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Writes as much of `buf` as the socket takes without waiting (see
    /// [`TcpStream::try_write`]).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when there is no room; what the send met.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (_reader, writer) = stream.into_split();
    /// assert_eq!(writer.try_write(b"hi")?, 2);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.stream.try_write(buf)
    }
}

impl OwnedReadHalf {
    /// The byte stream, for the poll-based adapters.
    #[cfg(compat)]
    pub(crate) fn shared(&self) -> &Stream {
        &self.stream
    }
}

impl OwnedWriteHalf {
    /// The byte stream, for the poll-based adapters.
    #[cfg(compat)]
    pub(crate) fn shared(&self) -> &Stream {
        &self.stream
    }
}

impl AsyncRead for OwnedReadHalf {
    // The stream's future itself, not one more async layer around it: every layer holds its
    // own copy of the buffer, and the future sits in every pending read's task.
    fn read<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.stream.read(buf)
    }

    fn raw_source(&mut self) -> Option<RawStream> {
        self.stream.raw_source()
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn write<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.stream.write(buf)
    }

    fn write_all<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        self.stream.write_all(buf)
    }

    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.stream.shutdown_write().await
    }

    fn raw_sink(&mut self) -> Option<RawStream> {
        Some(self.stream.raw_sink())
    }
}

lend_descriptor!(TcpStream, |this| this.stream.descriptor);
lend_descriptor!(TcpListener, |this| this.descriptor);
