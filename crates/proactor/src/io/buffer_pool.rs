//! Buffer pools for pooled reads: a connection waiting for bytes parks no buffer of its own;
//! one is lent from a pool when the bytes arrive (see [`TcpStream::read_pooled`]).
//!
//! [`TcpStream::read_pooled`]: crate::net::TcpStream::read_pooled

use std::fmt;
use std::io;

pub use proactor_driver::{is_pool_exhausted, PooledBuffer};

/// Equal-size buffers the runtime's driver lends to pooled reads
/// ([`TcpStream::read_pooled`], [`TcpStream::pooled_reads`]): on io_uring a provided-buffer
/// ring the kernel picks from, elsewhere a free list taken from when bytes are there. A lent
/// [`PooledBuffer`] goes back to its pool when dropped, on any thread.
///
/// A pool belongs to the runtime (thread) that made it; a read on another runtime refuses it.
/// When every buffer is lent out, reads wait for one to come back (the bytes stay in the
/// socket, whose window pushes back on the sender): size the pool for what the code holds at
/// once. The pool is shared, so a peer that stops reading while your code holds a buffer to
/// write to it holds that buffer from everyone: with untrusted peers, let reads
/// [allocate when the pool is empty](BufferPool::allocate_when_empty), or bound how long a
/// buffer may be held ([`set_write_timeout`](crate::net::TcpStream::set_write_timeout)), or
/// enough such peers stall every read. (The driver's own pooled receive answers an exhausted
/// pool with an error [`is_pool_exhausted`] recognises; the runtime's reads wait instead.)
///
/// [`TcpStream::read_pooled`]: crate::net::TcpStream::read_pooled
/// [`TcpStream::pooled_reads`]: crate::net::TcpStream::pooled_reads
///
/// # Examples
///
/// ```
/// use proactor::io::BufferPool;
///
/// # proactor::Runtime::new()?.block_on(async {
/// // 1024 buffers of 4 KiB: 4 MiB for every connection of this thread.
/// let pool = BufferPool::new(4096, 1024)?;
/// assert_eq!(pool.available(), 1024);
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct BufferPool {
    pub(crate) pool: proactor_driver::BufferPool,
    /// Reads get a buffer allocated for them when every buffer is lent, instead of waiting.
    pub(crate) allocate_when_empty: bool,
}

impl BufferPool {
    /// Makes a pool of `count` buffers of `buffer_size` bytes for the current runtime. The
    /// memory is allocated once, here.
    ///
    /// Its buffers serve reads of streams (TCP and Unix streams). On io_uring the kernel
    /// fills them incrementally where it can (Linux 6.12): a read takes only the bytes it got
    /// and the next read goes on in the same buffer, so small reads share one buffer and a
    /// read may end where a buffer does (the next read gets the rest). A buffer is back in
    /// the pool once every read's part of it is dropped.
    ///
    /// # Errors
    ///
    /// `InvalidInput` unless `count` is a power of two from 1 to 32768 and `buffer_size` at
    /// least 1; an error outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let pool = proactor::io::BufferPool::new(2048, 64)?;
    /// assert_eq!(pool.buffer_size(), 2048);
    /// assert!(proactor::io::BufferPool::new(2048, 100).is_err(), "not a power of two");
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(buffer_size: usize, count: usize) -> io::Result<BufferPool> {
        let pool = crate::runtime::try_with(|inner| {
            inner
                .driver
                .borrow_mut()
                .stream_buffer_pool(buffer_size, count)
        })
        .unwrap_or_else(|| {
            Err(io::Error::other(
                "a buffer pool is made inside a runtime (Runtime::block_on or a spawned task)",
            ))
        })?;
        Ok(BufferPool {
            pool,
            allocate_when_empty: false,
        })
    }

    /// With `true`, a read that finds every buffer lent gets one allocated for it instead of
    /// waiting for one to come back: a [`PooledBuffer`] of the same size that is freed, not
    /// returned, when dropped. The pool then bounds the memory of idle connections without
    /// letting a few peers that hold buffers (by not reading what is written back to them)
    /// stall every other read; memory beyond the pool grows with the buffers held, as it
    /// would with a buffer per connection. Applies to reads made through this handle (and
    /// its clones made after).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncWrite, BufferPool};
    ///
    /// # proactor::Runtime::new()?.block_on(async {
    /// let pool = BufferPool::new(4096, 1)?.allocate_when_empty(true);
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let mut client = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, _) = listener.accept().await?;
    /// client.write_all(&b"one"[..]).await.0?;
    /// let held = server.read_pooled(&pool).await?; // the pool's only buffer
    /// client.write_all(&b"two"[..]).await.0?;
    /// let more = server.read_pooled(&pool).await?; // allocated: no wait for `held`
    /// assert_eq!((&held[..], &more[..]), (&b"one"[..], &b"two"[..]));
    /// assert_eq!(pool.available(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn allocate_when_empty(mut self, allocate: bool) -> BufferPool {
        self.allocate_when_empty = allocate;
        self
    }

    /// The size of each buffer: the most one read gets.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// assert_eq!(proactor::io::BufferPool::new(512, 8)?.buffer_size(), 512);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn buffer_size(&self) -> usize {
        self.pool.buffer_size()
    }

    /// How many buffers the pool has.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// assert_eq!(proactor::io::BufferPool::new(512, 8)?.capacity(), 8);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.pool.capacity()
    }

    /// How many buffers are in the pool now, not lent out.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// assert_eq!(proactor::io::BufferPool::new(512, 8)?.available(), 8);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn available(&self) -> usize {
        self.pool.available()
    }
}

impl fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pool.fmt(f)
    }
}
