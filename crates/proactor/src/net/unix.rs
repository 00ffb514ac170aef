//! Unix domain sockets: streams and datagrams between processes on one machine.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net as std_unix;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use proactor_driver::{Address, Buffer, Descriptors, Fd, Op, UnixAddr};

use super::{Descriptor, Stream};
use crate::io::{AsyncRead, AsyncWrite, Interest, RawStream, Ready};
use crate::runtime::op;
use crate::{BufResult, IoBuf};

/// std's view of a socket we own, for address queries; never closes it.
fn std_view<T: FromRawFd>(fd: Fd) -> ManuallyDrop<T> {
    // SAFETY: the descriptor is open while its owner lives (callers hold it), and
    // ManuallyDrop keeps the std value from closing it.
    ManuallyDrop::new(unsafe { T::from_raw_fd(fd) })
}

/// A Unix stream socket listening for connections.
///
/// # Examples
///
/// ```
/// use proactor::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("proactor-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("listener.sock");
/// # let _ = std::fs::remove_file(&path);
/// proactor::Runtime::new()?.block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let client = UnixStream::connect(&path).await?;
///     let (_server, _) = listener.accept().await?;
///     # drop(client);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    descriptor: Descriptor,
}

impl UnixListener {
    /// Binds to `path` (which must not exist) and listens.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the path exists, or the OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("proactor-doc-bind-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("bind.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = proactor::net::UnixListener::bind(&path)?;
    ///     assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     // A second listener on the same path is refused.
    ///     let error = proactor::net::UnixListener::bind(&path).unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let listener = std_unix::UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            descriptor: Descriptor::adopt(listener),
        })
    }

    /// Waits for a connection.
    ///
    /// # Errors
    ///
    /// The OS error; the listener stays usable. Out of descriptors (`EMFILE`), wait before
    /// retrying: the error comes back at once while the shortage lasts (see
    /// [`TcpListener::accept`](crate::net::TcpListener::accept)).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    /// use proactor::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("proactor-doc-accept-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("accept.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = UnixListener::bind(&path)?;
    ///     let mut client = UnixStream::connect(&path).await?;
    ///     let (mut server, _peer) = listener.accept().await?;
    ///     client.write_all(&b"ping"[..]).await.0?;
    ///     let (count, buffer) = server.read(Vec::with_capacity(8)).await;
    ///     assert_eq!(&buffer[..count?], b"ping");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, std_unix::SocketAddr)> {
        let completion = op::submit(Op::Accept {
            fd: self.descriptor.fd(),
            peer: None,
        })
        .await;
        let stream = UnixStream::from_descriptor(Descriptor::from_driver(completion.result? as Fd));
        let peer = stream.peer_addr()?;
        Ok((stream, peer))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockname`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// let listener = proactor::net::UnixListener::bind("/tmp/example.sock")?;
    /// println!("{:?}", listener.local_addr()?.as_pathname());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<std_unix::SocketAddr> {
        std_view::<std_unix::UnixListener>(self.descriptor.fd()).local_addr()
    }

    /// Accepts connections from one submission that goes on accepting (io_uring's multishot
    /// accept; the other backends accept again while connections wait), read with
    /// [`Incoming::next`](crate::net::Incoming::next), as
    /// [`TcpListener::incoming`](crate::net::TcpListener::incoming). Connections accepted and
    /// not yet taken when it is dropped are closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("proactor-incoming-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("incoming.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = UnixListener::bind(&path)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     let mut incoming = listener.incoming();
    ///     let stream = incoming.next().await?;
    ///     # let _ = stream;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn incoming(&self) -> super::Incoming<'_, UnixListener> {
        super::Incoming::new(self)
    }
}

/// Conversions to and from std's `UnixListener`, as tokio's.
impl UnixListener {
    /// Wraps a listener made with std; it is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-listener-from-std-{}", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// proactor::Runtime::new()?.block_on(async {
    ///     let std = std::os::unix::net::UnixListener::bind(&path)?;
    ///     let listener = proactor::net::UnixListener::from_std(std)?;
    ///     # let _ = listener;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(listener: std_unix::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            descriptor: Descriptor::adopt(listener),
        })
    }

    /// Gives the socket to std's `UnixListener`, still in non-blocking mode; the runtime
    /// forgets it.
    ///
    /// # Errors
    ///
    /// None today (an `io::Result` as tokio's).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-listener-into-std-{}", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = proactor::net::UnixListener::bind(&path)?;
    ///     let listener: std::os::unix::net::UnixListener = listener.into_std()?;
    ///     assert!(listener.local_addr()?.as_pathname().is_some());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std_unix::UnixListener> {
        Ok(self.descriptor.into_std())
    }
}

impl super::Listener for UnixListener {
    type Stream = UnixStream;
}

impl super::incoming::private::Accepting for UnixListener {
    fn listening_fd(&self) -> Fd {
        self.descriptor.fd()
    }

    fn accepted(fd: Fd) -> UnixStream {
        UnixStream::from_descriptor(Descriptor::from_driver(fd))
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("fd", &self.descriptor.fd())
            .finish()
    }
}

/// A Unix stream socket connection. Read and write with [`AsyncRead`] and [`AsyncWrite`].
///
/// # Examples
///
/// ```
/// use proactor::io::{AsyncRead, AsyncWrite};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut a, mut b) = proactor::net::UnixStream::pair()?;
///     a.write_all(b"hi".to_vec()).await.0?;
///     let (count, buffer) = b.read(Vec::with_capacity(8)).await;
///     assert_eq!(&buffer[..count?], b"hi");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    stream: Rc<Stream>,
}

impl UnixStream {
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
    /// let stream = proactor::net::UnixStream::connect("/tmp/proactor.sock").await?;
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
    /// let stream = proactor::net::UnixStream::connect("/tmp/proactor.sock").await?;
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

    fn from_descriptor(descriptor: Descriptor) -> UnixStream {
        UnixStream {
            stream: Rc::new(Stream::new(descriptor)),
        }
    }

    /// The byte stream, for the poll-based adapters.
    #[cfg(compat)]
    pub(crate) fn shared(&self) -> &Stream {
        &self.stream
    }

    /// Connects to the socket at `path`.
    ///
    /// The connect runs on the thread pool: a Unix connect completes at once or fails, except
    /// when the listener's backlog is full, where it would block.
    ///
    /// # Errors
    ///
    /// `NotFound` without a socket at `path`, `ConnectionRefused` when nothing listens.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     // Nothing listens at this path.
    ///     let error = proactor::net::UnixStream::connect("/nonexistent/proactor.sock")
    ///         .await
    ///         .unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref().to_path_buf();
        let mut connecting = op::submit(Op::Blocking {
            job: Box::new(move || {
                let stream = std_unix::UnixStream::connect(path)?;
                stream.set_nonblocking(true)?;
                Ok(stream.into_raw_fd() as usize)
            }),
        });
        // A connect cancelled while the job waits in connect(2) still connects: its socket
        // must be closed when it arrives.
        connecting.on_orphan(op::Orphan::CloseMade);
        let completion = connecting.await;
        let fd = completion.result? as Fd;
        op::adopt(fd);
        Ok(UnixStream::from_descriptor(Descriptor::from_driver(fd)))
    }

    /// A connected pair of sockets.
    ///
    /// # Errors
    ///
    /// The OS error from `socketpair`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, mut b) = proactor::net::UnixStream::pair()?;
    ///     b.write_all(&b"from b"[..]).await.0?;
    ///     b.shutdown(std::net::Shutdown::Write).await?;
    ///     let (result, bytes) = a.read_to_end(Vec::new()).await;
    ///     result?;
    ///     assert_eq!(bytes, b"from b");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std_unix::UnixStream::pair()?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        Ok((
            UnixStream::from_descriptor(Descriptor::adopt(a)),
            UnixStream::from_descriptor(Descriptor::adopt(b)),
        ))
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
    ///     let (mut stream, _peer) = proactor::net::UnixStream::pair()?;
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

    /// The limit [`set_read_timeout`](UnixStream::set_read_timeout) set, if any.
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
    ///     let (mut stream, _peer) = proactor::net::UnixStream::pair()?;
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
    ///     let (mut stream, _peer) = proactor::net::UnixStream::pair()?;
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

    /// The limit [`set_write_timeout`](UnixStream::set_write_timeout) set, if any.
    ///
    /// # Errors
    ///
    /// None today; the `Result` matches std's.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut stream, _peer) = proactor::net::UnixStream::pair()?;
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
    /// The OS error from `getpeername`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let (a, _b) = proactor::net::UnixStream::pair()?;
    /// assert!(a.peer_addr()?.is_unnamed());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer_addr(&self) -> io::Result<std_unix::SocketAddr> {
        std_view::<std_unix::UnixStream>(self.stream.descriptor().fd()).peer_addr()
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
    /// let (a, _b) = proactor::net::UnixStream::pair()?;
    /// assert!(a.local_addr()?.is_unnamed());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<std_unix::SocketAddr> {
        std_view::<std_unix::UnixStream>(self.stream.descriptor().fd()).local_addr()
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
    /// let (a, _b) = proactor::net::UnixStream::pair()?;
    /// a.shutdown(std::net::Shutdown::Both).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        self.stream.shutdown(how).await
    }
}

/// Conversions to and from std's `UnixStream`, as tokio's.
impl UnixStream {
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
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = proactor::net::UnixStream::from_std(a)?;
    ///     # let _ = a;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(stream: std_unix::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream::from_descriptor(Descriptor::adopt(stream)))
    }

    /// Gives the socket to std's `UnixStream`, still in non-blocking mode; the runtime
    /// forgets it.
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
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixStream::pair()?;
    ///     b.try_write(b"hi")?;
    ///     let mut a: std::os::unix::net::UnixStream = a.into_std()?;
    ///     a.set_nonblocking(false)?;
    ///     let mut bytes = [0; 2];
    ///     a.read_exact(&mut bytes)?;
    ///     assert_eq!(&bytes, b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std_unix::UnixStream> {
        Ok(Stream::into_descriptor(self.stream)?.into_std())
    }
}

/// Readiness and non-blocking attempts, as tokio's (see `TcpStream`'s, which behave the same).
impl UnixStream {
    /// Waits until the stream is ready for something in `interest` and says what it found
    /// (level-triggered; see [`TcpStream::ready`](crate::net::TcpStream::ready)).
    ///
    /// # Errors
    ///
    /// What the wait met; `InvalidInput` for an empty `interest`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::Interest;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixStream::pair()?;
    ///     b.try_write(b"x")?;
    ///     let ready = a.ready(Interest::READABLE).await?;
    ///     assert!(ready.is_readable());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.stream.ready(interest).await
    }

    /// Waits until a read would not wait (bytes, or the peer's close).
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixStream::pair()?;
    ///     drop(b);
    ///     a.readable().await?;
    ///     assert_eq!(a.try_read(&mut [0; 8])?, 0, "the end of the stream");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until a write would not wait.
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = proactor::net::UnixStream::pair()?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_write(b"hi")?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Reads what has arrived without waiting: `Ok(0)` at the end of the stream,
    /// `WouldBlock` when nothing is there (or a cancelled read is still in flight); bytes
    /// a cancelled read kept first.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing is there; what the receive met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixStream::pair()?;
    ///     let nothing = a.try_read(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(nothing.kind(), std::io::ErrorKind::WouldBlock);
    ///     b.try_write(b"ok")?;
    ///     let mut bytes = [0; 8];
    ///     assert_eq!(a.try_read(&mut bytes)?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.try_read(buf)
    }

    /// Writes as much of `buf` as the socket takes without waiting; `WouldBlock` when it
    /// has no room.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when there is no room; what the send met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = proactor::net::UnixStream::pair()?;
    ///     assert_eq!(a.try_write(b"hello")?, 5);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.stream.try_write(buf)
    }
}

/// Descriptor passing (`SCM_RIGHTS`).
///
/// Named `send_with_fds`/`recv_with_fds` rather than after std's unstable
/// `send_vectored_with_ancillary` and `SocketAncillary`: those lend the kernel a borrowed
/// control buffer of any kind of ancillary data, which completion-based I/O cannot do (the
/// kernel may use it after the future is gone); descriptors are the one kind most programs
/// pass, and here they go in as `BorrowedFd`s and come out as `OwnedFd`s.
impl UnixStream {
    /// Writes `buf` with duplicates of `fds` passed along (`SCM_RIGHTS`): the peer receives
    /// them with [`recv_with_fds`](UnixStream::recv_with_fds), as new descriptors to the same
    /// open files. Like a write, it may send part of `buf`; the descriptors go with its first
    /// byte (send the rest with `write_all`).
    ///
    /// The descriptors are duplicated (close-on-exec) for the send, so the caller may close
    /// its own at once, even while a dropped send is still in flight.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an empty `buf` (a stream passes descriptors only with bytes) or more
    /// than 253 descriptors; the error of duplicating one (e.g. `EMFILE`); `TimedOut` past
    /// the write timeout; or the OS error.
    ///
    /// # Buffer ownership
    ///
    /// The buffer is the kernel's until the send completes, and comes back with the result;
    /// the duplicates are closed then. A send dropped in flight may still go.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use std::os::fd::AsFd;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixStream::pair()?;
    ///     let file = std::fs::File::open("Cargo.toml")?;
    ///     let (sent, _) = a.send_with_fds(&b"x"[..], &[file.as_fd()]).await;
    ///     assert_eq!(sent?, 1);
    ///     let (received, _) = b.recv_with_fds(Vec::with_capacity(1), 1).await;
    ///     let (_, fds) = received?;
    ///     let mut text = String::new();
    ///     std::fs::File::from(fds.into_iter().next().unwrap()).read_to_string(&mut text)?;
    ///     assert!(text.contains("[package]"));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_with_fds<B: IoBuf>(
        &self,
        buf: B,
        fds: &[BorrowedFd<'_>],
    ) -> BufResult<usize, B> {
        let buffer = buf.into_buffer();
        if buffer.is_empty() && !fds.is_empty() {
            let error = io::Error::new(
                io::ErrorKind::InvalidInput,
                "a stream passes descriptors only with at least one byte",
            );
            return (Err(error), B::from_buffer(buffer));
        }
        let stream = &self.stream;
        let timeout = stream.write_timeout();
        let (result, buffer) = send_with_fds(stream.descriptor().fd(), buffer, fds, timeout).await;
        (result, B::from_buffer(buffer))
    }

    /// Reads into `buf` and takes up to `max_fds` descriptors passed with those bytes
    /// (`SCM_RIGHTS`): owned, close-on-exec. 0 bytes and no descriptors: the peer closed its
    /// end. Descriptors come with the receive that reads the first byte sent with them (which
    /// may also read bytes sent before them, never bytes sent after).
    ///
    /// It reads from the socket: bytes an earlier cancelled [`read`](AsyncRead::read) kept
    /// for the next read are not among them, so use one or the other on a stream, not both
    /// after a cancel.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for `max_fds` over 253; `InvalidData` if more descriptors came than
    /// `max_fds` left room for (the OS closed the rest, and this closes those that came: none
    /// leaks; the bytes are in the buffer); `TimedOut` past the read timeout; or the OS error.
    ///
    /// # Buffer ownership
    ///
    /// The buffer is the kernel's until the receive completes, and comes back with the
    /// result. A receive dropped in flight loses the bytes it received (unlike a `read`) and
    /// closes the descriptors that came with them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsFd;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixStream::pair()?;
    ///     let (one, other) = std::os::unix::net::UnixStream::pair()?;
    ///     a.send_with_fds(&b"pair"[..], &[one.as_fd(), other.as_fd()]).await.0?;
    ///     let (received, buffer) = b.recv_with_fds(Vec::with_capacity(8), 2).await;
    ///     let (count, fds) = received?;
    ///     assert_eq!((&buffer[..count], fds.len()), (&b"pair"[..], 2));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv_with_fds<B: IoBuf>(
        &self,
        buf: B,
        max_fds: usize,
    ) -> BufResult<(usize, Vec<OwnedFd>), B> {
        let stream = &self.stream;
        recv_with_fds(
            stream.descriptor().fd(),
            buf,
            max_fds,
            stream.read_timeout(),
        )
        .await
    }
}

impl AsyncRead for UnixStream {
    // The stream's future itself, not one more async layer around it: every layer holds its
    // own copy of the buffer, and the future sits in every pending read's task.
    fn read<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.stream.read(buf)
    }

    fn raw_source(&mut self) -> Option<RawStream> {
        self.stream.raw_source()
    }
}

impl AsyncWrite for UnixStream {
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

/// Reads through a shared reference, as std's `impl Read for &UnixStream` does: one read and one
/// write may be in flight at once, which is what [`crate::io::split`] builds on.
impl AsyncRead for &UnixStream {
    // The stream's future itself, not one more async layer around it: every layer holds its
    // own copy of the buffer, and the future sits in every pending read's task.
    fn read<B: IoBuf>(&mut self, buf: B) -> impl Future<Output = BufResult<usize, B>> {
        self.stream.read(buf)
    }

    fn raw_source(&mut self) -> Option<RawStream> {
        self.stream.raw_source()
    }
}

/// Writes through a shared reference (see the `AsyncRead` impl for `&UnixStream`).
impl AsyncWrite for &UnixStream {
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

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("fd", &self.stream.descriptor().fd())
            .finish()
    }
}

/// A Unix datagram socket.
///
/// # Examples
///
/// ```
/// proactor::Runtime::new()?.block_on(async {
///     let (a, b) = proactor::net::UnixDatagram::pair()?;
///     a.send(&b"datagram"[..]).await.0?;
///     let (count, buffer) = b.recv(Vec::with_capacity(64)).await;
///     assert_eq!(&buffer[..count?], b"datagram");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixDatagram {
    descriptor: Descriptor,
    /// A one-element vector reused by every message operation, so `send_to` and `recv_from`
    /// allocate nothing (as `UdpSocket`'s).
    vector: RefCell<Option<Vec<Buffer>>>,
    /// The address box reused by `send_to` and `recv_from` (the driver writes a sender's
    /// address into it).
    address: RefCell<Option<Box<UnixAddr>>>,
}

impl UnixDatagram {
    /// Binds a datagram socket to `path`.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the path exists, or the OS error.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UnixDatagram::bind("/tmp/example.dgram")?;
    /// # let _ = socket;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::adopt(std_unix::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address (it can still send, and receive replies once connected).
    ///
    /// # Errors
    ///
    /// The OS error from `socket`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UnixDatagram::unbound()?;
    /// # let _ = socket;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::adopt(std_unix::UnixDatagram::unbound()?)
    }

    /// A connected pair of datagram sockets.
    ///
    /// # Errors
    ///
    /// The OS error from `socketpair`.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixDatagram::pair()?;
    ///     // Each send is one datagram: two sends, two receives.
    ///     a.send(&b"one"[..]).await.0?;
    ///     a.send(&b"two"[..]).await.0?;
    ///     let (count, first) = b.recv(Vec::with_capacity(16)).await;
    ///     assert_eq!(&first[..count?], b"one");
    ///     let (count, second) = b.recv(Vec::with_capacity(16)).await;
    ///     assert_eq!(&second[..count?], b"two");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std_unix::UnixDatagram::pair()?;
        Ok((UnixDatagram::adopt(a)?, UnixDatagram::adopt(b)?))
    }

    fn adopt(socket: std_unix::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            descriptor: Descriptor::adopt(socket),
            vector: RefCell::new(None),
            address: RefCell::new(None),
        })
    }

    /// Sets the only peer this socket sends to and receives from; it never blocks.
    ///
    /// # Errors
    ///
    /// `NotFound` without a socket at `path`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UnixDatagram::unbound()?;
    /// socket.connect("/tmp/example.dgram")?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        std_view::<std_unix::UnixDatagram>(self.descriptor.fd()).connect(path)
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` without a peer, or the OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixDatagram::pair()?;
    ///     let (sent, _buffer) = a.send(b"datagram".to_vec()).await;
    ///     assert_eq!(sent?, 8);
    ///     # drop(b);
    ///     // Without a peer, a send fails rather than waiting.
    ///     let lonely = proactor::net::UnixDatagram::unbound()?;
    ///     assert!(lonely.send(&b"nowhere"[..]).await.0.is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        super::send(self.descriptor.fd(), buf).await
    }

    /// Receives a datagram; one longer than the buffer is truncated.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixDatagram::pair()?;
    ///     a.send(&b"longer than four"[..]).await.0?;
    ///     // The buffer holds 4 bytes: the rest of the datagram is discarded.
    ///     let (count, buffer) = b.recv(Vec::with_capacity(4)).await;
    ///     assert_eq!(&buffer[..count?], b"long");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        super::recv(self.descriptor.fd(), buf).await
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
    /// let socket = proactor::net::UnixDatagram::unbound()?;
    /// assert!(socket.local_addr()?.is_unnamed());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<std_unix::SocketAddr> {
        std_view::<std_unix::UnixDatagram>(self.descriptor.fd()).local_addr()
    }
}

/// Conversions to and from std's `UnixDatagram`, as tokio's.
impl UnixDatagram {
    /// Wraps a socket made with std; it is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixDatagram::pair()?;
    ///     let a = proactor::net::UnixDatagram::from_std(a)?;
    ///     # let _ = a;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(socket: std_unix::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            descriptor: Descriptor::adopt(socket),
            vector: RefCell::new(None),
            address: RefCell::new(None),
        })
    }

    /// Gives the socket to std's `UnixDatagram`, still in non-blocking mode; the runtime
    /// forgets it.
    ///
    /// # Errors
    ///
    /// None today (an `io::Result` as tokio's).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixDatagram::pair()?;
    ///     let a: std::os::unix::net::UnixDatagram = a.into_std()?;
    ///     b.try_send(b"one")?;
    ///     let mut bytes = [0; 8];
    ///     assert_eq!(a.recv(&mut bytes)?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std_unix::UnixDatagram> {
        Ok(self.descriptor.into_std())
    }
}

/// Readiness and non-blocking attempts, as tokio's.
impl UnixDatagram {
    /// Waits until the socket is ready for something in `interest` and says what it found
    /// (level-triggered: a socket ready now answers at once).
    ///
    /// # Errors
    ///
    /// What the wait met; `InvalidInput` for an empty `interest`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::Interest;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = proactor::net::UnixDatagram::pair()?;
    ///     assert!(a.ready(Interest::WRITABLE).await?.is_writable());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.descriptor.ready(interest).await
    }

    /// Waits until a datagram is there to receive.
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixDatagram::pair()?;
    ///     b.try_send(b"one")?;
    ///     a.readable().await?;
    ///     let mut bytes = [0; 8];
    ///     assert_eq!(a.try_recv(&mut bytes)?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until a send would not wait.
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = proactor::net::UnixDatagram::pair()?;
    ///     a.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Receives one datagram into `buf` without waiting (cut to `buf`'s length);
    /// `WouldBlock` when none is there.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram is there; what the receive met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = proactor::net::UnixDatagram::pair()?;
    ///     let nothing = a.try_recv(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(nothing.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.descriptor.try_recv(buf)
    }

    /// Sends `buf` as one datagram to the connected peer without waiting; `WouldBlock` when
    /// the socket has no room.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when there is no room; what the send met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = proactor::net::UnixDatagram::pair()?;
    ///     assert_eq!(a.try_send(b"datagram")?, 8);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.descriptor.try_send(buf)
    }
}

/// Unconnected sockets: datagrams to and from addresses, as tokio's.
impl UnixDatagram {
    fn vector_with(&self, buffer: Buffer) -> Vec<Buffer> {
        let mut vector = self.vector.borrow_mut().take().unwrap_or_default();
        vector.clear();
        vector.push(buffer);
        vector
    }

    fn return_vector(&self, mut vector: Vec<Buffer>) -> Buffer {
        let buffer = vector
            .pop()
            .unwrap_or_else(|| unreachable!("the vector holds the one buffer it was given"));
        *self.vector.borrow_mut() = Some(vector);
        buffer
    }

    fn address_box(&self) -> Box<UnixAddr> {
        self.address
            .borrow_mut()
            .take()
            .unwrap_or_else(|| Box::new(UnixAddr::unnamed()))
    }

    fn return_address(&self, address: Option<Address>) {
        if let Some(Address::Unix(address)) = address {
            *self.address.borrow_mut() = Some(address);
        }
    }

    /// Sends a datagram to the socket bound at `target`, as tokio's `send_to`. On Linux, a
    /// path that starts with a NUL byte names an abstract address (`"\0name"`), as in tokio
    /// (mio) and std's `SocketAddrExt::from_abstract_name`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a path too long for a socket address (107 bytes on Linux, 103 on
    /// macOS and the BSDs) or holding a NUL byte; `NotFound` without a socket at `target`;
    /// `ConnectionRefused` for a path that is no datagram socket; or the OS error.
    ///
    /// # Buffer ownership
    ///
    /// The buffer is the kernel's until the send completes, and comes back with the result.
    /// A send dropped in flight may still go.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("proactor-send-to-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// # let _ = std::fs::remove_file(dir.join("b"));
    /// proactor::Runtime::new()?.block_on(async {
    ///     let a = proactor::net::UnixDatagram::unbound()?;
    ///     let b = proactor::net::UnixDatagram::bind(dir.join("b"))?;
    ///     let (sent, _) = a.send_to(b"hello".to_vec(), dir.join("b")).await;
    ///     assert_eq!(sent?, 5);
    ///     let (received, buffer) = b.recv_from(Vec::with_capacity(64)).await;
    ///     let (count, from) = received?;
    ///     assert_eq!(&buffer[..count], b"hello");
    ///     // An unbound sender's address is unnamed: there is no path to reply to.
    ///     assert!(from.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_to<B: IoBuf>(&self, buf: B, target: impl AsRef<Path>) -> BufResult<usize, B> {
        let mut address = self.address_box();
        match UnixAddr::from_bytes(target.as_ref().as_os_str().as_bytes()) {
            Ok(target) => *address = target,
            Err(error) => {
                self.return_address(Some(Address::Unix(address)));
                return (Err(error), buf);
            }
        }
        self.send_to_address(buf, address, Descriptors::new()).await
    }

    /// Sends a datagram to `target`, an address as std gives it (e.g. from
    /// [`recv_from`](UnixDatagram::recv_from), or Linux's abstract addresses made with
    /// `SocketAddrExt::from_abstract_name`), as std's `send_to_addr`.
    ///
    /// # Errors
    ///
    /// As [`send_to`](UnixDatagram::send_to); `InvalidInput` (from the OS) for an unnamed
    /// address.
    ///
    /// # Buffer ownership
    ///
    /// As [`send_to`](UnixDatagram::send_to).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let name = format!("proactor-send-to-addr-{}", std::process::id());
    ///     let address = SocketAddr::from_abstract_name(name.as_bytes())?;
    ///     let b = std::os::unix::net::UnixDatagram::bind_addr(&address)?;
    ///     let b = proactor::net::UnixDatagram::from_std(b)?;
    ///     let a = proactor::net::UnixDatagram::unbound()?;
    ///     a.send_to_addr(&b"abstract"[..], &address).await.0?;
    ///     let (count, buffer) = b.recv(Vec::with_capacity(16)).await;
    ///     assert_eq!(&buffer[..count?], b"abstract");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_to_addr<B: IoBuf>(
        &self,
        buf: B,
        target: &std_unix::SocketAddr,
    ) -> BufResult<usize, B> {
        let mut address = self.address_box();
        *address = from_std_addr(target);
        self.send_to_address(buf, address, Descriptors::new()).await
    }

    async fn send_to_address<B: IoBuf>(
        &self,
        buf: B,
        address: Box<UnixAddr>,
        fds: Descriptors,
    ) -> BufResult<usize, B> {
        let sent = send_message(
            self.descriptor.fd(),
            self.vector_with(buf.into_buffer()),
            Some(Address::Unix(address)),
            fds,
            None,
        )
        .await;
        self.return_address(sent.addr);
        (sent.result, B::from_buffer(self.return_vector(sent.bufs)))
    }

    /// Receives a datagram and its sender's address, as tokio's `recv_from` (the address
    /// std's type). One longer than the buffer is cut, as std's.
    ///
    /// The address of a sender that is not bound is unnamed (`is_unnamed`): there is no
    /// replying to it.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Buffer ownership
    ///
    /// The buffer is the kernel's until the receive completes, and comes back with the result.
    /// A datagram is received whole or not at all: a receive dropped in flight loses none.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("proactor-recv-from-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// # let _ = (std::fs::remove_file(dir.join("a")), std::fs::remove_file(dir.join("b")));
    /// proactor::Runtime::new()?.block_on(async {
    ///     let a = proactor::net::UnixDatagram::bind(dir.join("a"))?;
    ///     let b = proactor::net::UnixDatagram::bind(dir.join("b"))?;
    ///     a.send_to(&b"longer than four"[..], dir.join("b")).await.0?;
    ///     let (received, buffer) = b.recv_from(Vec::with_capacity(4)).await;
    ///     let (count, from) = received?;
    ///     // Cut to the buffer, as std's; the sender is `a`, bound, so it can be answered.
    ///     assert_eq!(&buffer[..count], b"long");
    ///     assert_eq!(from.as_pathname(), Some(dir.join("a").as_path()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv_from<B: IoBuf>(&self, buf: B) -> BufResult<(usize, std_unix::SocketAddr), B> {
        // Descriptors sent to a receive without room are closed, as they always were here,
        // and the datagram is received.
        let (result, buffer) = self.recv_from_with_room(buf, None).await;
        (result.map(|(count, _, source)| (count, source)), buffer)
    }

    /// Receives a datagram, its sender's address and up to `room` descriptors sent with it
    /// (`None`: none, and descriptors that came anyway are closed without an error).
    async fn recv_from_with_room<B: IoBuf>(
        &self,
        buf: B,
        room: Option<u8>,
    ) -> BufResult<(usize, Vec<OwnedFd>, std_unix::SocketAddr), B> {
        let received = recv_message(
            self.descriptor.fd(),
            self.vector_with(buf.into_buffer()),
            Some(Address::Unix(self.address_box())),
            room.unwrap_or(0),
            None,
        )
        .await;
        let buffer = B::from_buffer(self.return_vector(received.bufs));
        let fds = received.fds;
        let fds_truncated = received.fds_truncated && room.is_some();
        let result = received.result.and_then(|count| {
            let fds = owned_fds(fds, fds_truncated, room.unwrap_or(0), count)?;
            let source = match &received.source {
                Some(Address::Unix(source)) => to_std_addr(source)?,
                // Some systems report no address at all for an unbound sender.
                _ => unnamed(),
            };
            Ok((count, fds, source))
        });
        self.return_address(received.source);
        (result, buffer)
    }
}

/// Descriptor passing (`SCM_RIGHTS`): see [`UnixStream::send_with_fds`].
impl UnixDatagram {
    /// Sends a datagram to the connected peer, with duplicates of `fds` (see
    /// [`UnixStream::send_with_fds`], which this mirrors).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for more than 253 descriptors; `NotConnected` without a peer; the
    /// error of duplicating a descriptor (e.g. `EMFILE`); or the OS error.
    ///
    /// # Buffer ownership
    ///
    /// As [`send`](UnixDatagram::send); the duplicates are closed when the send completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsFd;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixDatagram::pair()?;
    ///     let file = std::fs::File::open("Cargo.toml")?;
    ///     a.send_with_fds(&b"a file"[..], &[file.as_fd()]).await.0?;
    ///     let (received, buffer) = b.recv_with_fds(Vec::with_capacity(16), 1).await;
    ///     let (count, fds) = received?;
    ///     assert_eq!((&buffer[..count], fds.len()), (&b"a file"[..], 1));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_with_fds<B: IoBuf>(
        &self,
        buf: B,
        fds: &[BorrowedFd<'_>],
    ) -> BufResult<usize, B> {
        send_with_fds(self.descriptor.fd(), buf, fds, None).await
    }

    /// Receives a datagram and up to `max_fds` descriptors sent with it (see
    /// [`UnixStream::recv_with_fds`], which this mirrors). A datagram longer than the buffer
    /// is cut, as by [`recv`](UnixDatagram::recv).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for `max_fds` over 253; `InvalidData` if more descriptors came than
    /// `max_fds` (those that came are closed: none leaks); or the OS error.
    ///
    /// # Buffer ownership
    ///
    /// As [`recv`](UnixDatagram::recv). A receive dropped in flight whose datagram brought
    /// descriptors closes them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::os::fd::AsFd;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::net::UnixDatagram::pair()?;
    ///     // One end of a socket pair, passed: what is written to it comes out of the other.
    ///     let (mut reader, writer) = std::os::unix::net::UnixStream::pair()?;
    ///     a.send_with_fds(&b"w"[..], &[writer.as_fd()]).await.0?;
    ///     drop(writer);
    ///     let (received, _buffer) = b.recv_with_fds(Vec::with_capacity(4), 4).await;
    ///     let (_, fds) = received?;
    ///     let mut writer = std::fs::File::from(fds.into_iter().next().unwrap());
    ///     writer.write_all(b"through a passed socket")?;
    ///     drop(writer);
    ///     let mut text = String::new();
    ///     reader.read_to_string(&mut text)?;
    ///     assert_eq!(text, "through a passed socket");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv_with_fds<B: IoBuf>(
        &self,
        buf: B,
        max_fds: usize,
    ) -> BufResult<(usize, Vec<OwnedFd>), B> {
        recv_with_fds(self.descriptor.fd(), buf, max_fds, None).await
    }

    /// Sends a datagram to the socket bound at `target`, with duplicates of `fds`: the
    /// unconnected form of [`send_with_fds`](UnixDatagram::send_with_fds), addressed as
    /// [`send_to`](UnixDatagram::send_to) is. tokio has no descriptor passing; std's
    /// (unstable `unix_socket_ancillary_data`) is `send_vectored_with_ancillary_to`.
    ///
    /// # Errors
    ///
    /// As [`send_to`](UnixDatagram::send_to) for the address, and as
    /// [`send_with_fds`](UnixDatagram::send_with_fds) for the descriptors (`InvalidInput` for
    /// more than 253).
    ///
    /// # Buffer ownership
    ///
    /// As [`send_to`](UnixDatagram::send_to); the duplicates are closed when the send
    /// completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsFd;
    ///
    /// let dir = std::env::temp_dir().join(format!("proactor-send-fds-to-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// # let _ = std::fs::remove_file(dir.join("b"));
    /// proactor::Runtime::new()?.block_on(async {
    ///     let a = proactor::net::UnixDatagram::unbound()?;
    ///     let b = proactor::net::UnixDatagram::bind(dir.join("b"))?;
    ///     let file = std::fs::File::open("Cargo.toml")?;
    ///     let (sent, _) = a.send_to_with_fds(&b"a file"[..], &[file.as_fd()], dir.join("b")).await;
    ///     assert_eq!(sent?, 6);
    ///     let (received, buffer) = b.recv_from_with_fds(Vec::with_capacity(16), 1).await;
    ///     let (count, fds, from) = received?;
    ///     assert_eq!((&buffer[..count], fds.len()), (&b"a file"[..], 1));
    ///     assert!(from.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_to_with_fds<B: IoBuf>(
        &self,
        buf: B,
        fds: &[BorrowedFd<'_>],
        target: impl AsRef<Path>,
    ) -> BufResult<usize, B> {
        let mut address = self.address_box();
        let prepared = UnixAddr::from_bytes(target.as_ref().as_os_str().as_bytes())
            .and_then(|target| Ok((target, duplicates(fds)?)));
        match prepared {
            Ok((target, duplicates)) => {
                *address = target;
                self.send_to_address(buf, address, duplicates).await
            }
            Err(error) => {
                self.return_address(Some(Address::Unix(address)));
                (Err(error), buf)
            }
        }
    }

    /// Receives a datagram, its sender's address and up to `max_fds` descriptors sent with
    /// it: [`recv_from`](UnixDatagram::recv_from) and
    /// [`recv_with_fds`](UnixDatagram::recv_with_fds) in one. tokio has no descriptor
    /// passing; std's (unstable) is `recv_vectored_with_ancillary_from`.
    ///
    /// # Errors
    ///
    /// As [`recv_with_fds`](UnixDatagram::recv_with_fds): `InvalidInput` for `max_fds` over
    /// 253; `InvalidData` if more descriptors came than `max_fds` (all are closed); or the
    /// OS error.
    ///
    /// # Buffer ownership
    ///
    /// As [`recv_with_fds`](UnixDatagram::recv_with_fds).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsFd;
    ///
    /// let dir = std::env::temp_dir().join(format!("proactor-recv-fds-from-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// # let _ = (std::fs::remove_file(dir.join("a")), std::fs::remove_file(dir.join("b")));
    /// proactor::Runtime::new()?.block_on(async {
    ///     let a = proactor::net::UnixDatagram::bind(dir.join("a"))?;
    ///     let b = proactor::net::UnixDatagram::bind(dir.join("b"))?;
    ///     let (reader, _writer) = std::os::unix::net::UnixStream::pair()?;
    ///     a.send_to_with_fds(&b"r"[..], &[reader.as_fd()], dir.join("b")).await.0?;
    ///     let (received, _) = b.recv_from_with_fds(Vec::with_capacity(4), 2).await;
    ///     let (_, fds, from) = received?;
    ///     // Bound, so `a` can be answered at its path.
    ///     assert_eq!((fds.len(), from.as_pathname()), (1, Some(dir.join("a").as_path())));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv_from_with_fds<B: IoBuf>(
        &self,
        buf: B,
        max_fds: usize,
    ) -> BufResult<(usize, Vec<OwnedFd>, std_unix::SocketAddr), B> {
        let Ok(room) = u8::try_from(max_fds) else {
            return (Err(too_many_fds()), buf);
        };
        self.recv_from_with_room(buf, Some(room)).await
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("fd", &self.descriptor.fd())
            .finish()
    }
}

lend_descriptor!(UnixStream, |this| this.stream.descriptor);
lend_descriptor!(UnixListener, |this| this.descriptor);
lend_descriptor!(UnixDatagram, |this| this.descriptor);

/// What a `sendmsg` gives back: its result, and its buffers and address for reuse.
struct Sent {
    result: io::Result<usize>,
    bufs: Vec<Buffer>,
    addr: Option<Address>,
}

/// Sends one message on `fd` (see `Op::SendMsg`).
async fn send_message(
    fd: Fd,
    bufs: Vec<Buffer>,
    addr: Option<Address>,
    fds: Descriptors,
    timeout: Option<Duration>,
) -> Sent {
    let op = Op::SendMsg {
        fd,
        bufs,
        addr,
        fds,
        flags: 0,
    };
    let completion = op::submit_timed(op, timeout).await;
    match completion.op {
        Op::SendMsg { bufs, addr, .. } => Sent {
            result: completion.result,
            bufs,
            addr,
        },
        _ => unreachable!("the completion of a sendmsg is a sendmsg"),
    }
}

/// What a `recvmsg` gives back (see `Op::RecvMsg`).
struct Received {
    result: io::Result<usize>,
    bufs: Vec<Buffer>,
    source: Option<Address>,
    fds: Descriptors,
    fds_truncated: bool,
}

/// Receives one message on `fd` (see `Op::RecvMsg`). A receive dropped in flight has its
/// completion dropped when it comes, which closes the descriptors it brought.
async fn recv_message(
    fd: Fd,
    bufs: Vec<Buffer>,
    source: Option<Address>,
    max_fds: u8,
    timeout: Option<Duration>,
) -> Received {
    let op = Op::RecvMsg {
        fd,
        bufs,
        flags: 0,
        source,
        max_fds,
        fds: Descriptors::new(),
        fds_truncated: false,
    };
    let completion = op::submit_timed(op, timeout).await;
    match completion.op {
        Op::RecvMsg {
            bufs,
            source,
            fds,
            fds_truncated,
            ..
        } => Received {
            result: completion.result,
            bufs,
            source,
            fds,
            fds_truncated,
        },
        _ => unreachable!("the completion of a recvmsg is a recvmsg"),
    }
}

/// Sends `buf` on `fd` with duplicates of `fds` (see `UnixStream::send_with_fds`).
async fn send_with_fds<B: IoBuf>(
    fd: Fd,
    buf: B,
    fds: &[BorrowedFd<'_>],
    timeout: Option<Duration>,
) -> BufResult<usize, B> {
    let duplicates = match duplicates(fds) {
        Ok(duplicates) => duplicates,
        Err(error) => return (Err(error), buf),
    };
    let sent = send_message(fd, vec![buf.into_buffer()], None, duplicates, timeout).await;
    (sent.result, B::from_buffer(one_buffer(sent.bufs)))
}

/// Duplicates of `fds`, owned by a send until its completion: the caller's descriptors may be
/// closed (and their numbers reused) while a dropped send is still in flight.
fn duplicates(fds: &[BorrowedFd<'_>]) -> io::Result<Descriptors> {
    let duplicates = fds
        .iter()
        .map(|fd| fd.try_clone_to_owned())
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Descriptors::from(duplicates))
}

fn too_many_fds() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "a message passes at most 253 descriptors (SCM_MAX_FD)",
    )
}

/// The descriptors a receive with room for `room` got, or `InvalidData` when more came (then
/// all are closed, `fds` dropped here, so a receiver that made too little room leaks none).
fn owned_fds(
    fds: Descriptors,
    truncated: bool,
    room: u8,
    count: usize,
) -> io::Result<Vec<OwnedFd>> {
    if truncated {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "more descriptors came than the {room} there was room for: all of them were \
                 closed (the message's {count} bytes are in the buffer)"
            ),
        ));
    }
    Ok(fds.into_owned())
}

/// Receives into `buf` on `fd` with room for `max_fds` descriptors (see
/// `UnixStream::recv_with_fds`).
async fn recv_with_fds<B: IoBuf>(
    fd: Fd,
    buf: B,
    max_fds: usize,
    timeout: Option<Duration>,
) -> BufResult<(usize, Vec<OwnedFd>), B> {
    // The driver takes at most 253 (Linux's SCM_MAX_FD), in a byte.
    let Ok(room) = u8::try_from(max_fds) else {
        return (Err(too_many_fds()), buf);
    };
    let received = recv_message(fd, vec![buf.into_buffer()], None, room, timeout).await;
    let buffer = B::from_buffer(one_buffer(received.bufs));
    let (fds, truncated) = (received.fds, received.fds_truncated);
    let result = received
        .result
        .and_then(|count| Ok((count, owned_fds(fds, truncated, room, count)?)));
    (result, buffer)
}

fn one_buffer(mut bufs: Vec<Buffer>) -> Buffer {
    bufs.pop()
        .unwrap_or_else(|| unreachable!("a message operation gives back the buffer it was given"))
}

/// The driver's form of a std address (no allocation: both hold the bytes inline).
fn from_std_addr(address: &std_unix::SocketAddr) -> UnixAddr {
    if let Some(path) = address.as_pathname() {
        // std's path fits a sun_path, so it fits a UnixAddr (as long as Linux's).
        return UnixAddr::from_bytes(path.as_os_str().as_bytes())
            .unwrap_or_else(|_| UnixAddr::unnamed());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        if let Some(name) = address.as_abstract_name() {
            let mut bytes = [0u8; UnixAddr::CAPACITY];
            let len = (name.len() + 1).min(UnixAddr::CAPACITY);
            bytes[1..len].copy_from_slice(&name[..len - 1]);
            return UnixAddr::from_bytes(&bytes[..len]).unwrap_or_else(|_| UnixAddr::unnamed());
        }
    }
    UnixAddr::unnamed()
}

/// std's form of an address the driver reported.
fn to_std_addr(address: &UnixAddr) -> io::Result<std_unix::SocketAddr> {
    match address.as_bytes() {
        [] => Ok(unnamed()),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        [0, name @ ..] => {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            std_unix::SocketAddr::from_abstract_name(name)
        }
        path => std_unix::SocketAddr::from_pathname(Path::new(OsStr::from_bytes(path))),
    }
}

/// An unnamed address: std makes one from an empty path (a `sockaddr_un` with no path bytes).
fn unnamed() -> std_unix::SocketAddr {
    std_unix::SocketAddr::from_pathname("")
        .unwrap_or_else(|_| unreachable!("an empty path has no NUL byte and fits"))
}
