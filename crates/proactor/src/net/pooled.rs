//! Pooled reads of a stream socket: one read into a buffer lent when bytes arrive
//! ([`ReadPooled`]), or a run of them from one submission ([`PooledReads`], multishot where
//! the kernel has it). Either keeps, when dropped in flight, what it received for the
//! stream's next read, as a plain read does.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use proactor_driver::{is_pool_exhausted, Op, PooledBuffer};

use super::Stream;
use crate::io::BufferPool;
use crate::runtime::op::{self, Submitted};

/// The buffer a pooled receive's completion holds (or the one allocated for a receive when
/// the pool was empty), or an empty one (the end of the stream).
pub(crate) fn buffer_of(op: Op) -> PooledBuffer {
    match op {
        Op::RecvPooled {
            buffer: Some(buffer),
            ..
        } => buffer,
        Op::Recv { buf, .. } => PooledBuffer::from(buf.into_inner().into_vec().unwrap_or_default()),
        _ => PooledBuffer::from(Vec::new()),
    }
}

/// Whether a read of `pool` starts now with a buffer allocated for it: every buffer is lent,
/// and the pool says not to wait (`BufferPool::allocate_when_empty`).
fn allocates(pool: &BufferPool) -> bool {
    pool.allocate_when_empty && pool.available() == 0
}

impl Stream {
    /// Starts a pooled receive, unless bytes a cancelled read kept (or the error or end it
    /// met) come first: those are returned at once, bytes in a buffer of their own.
    /// `allocate`: a plain receive into a buffer of the pool's size allocated for it.
    fn begin_pooled(
        &self,
        pool: &BufferPool,
        multishot: bool,
        allocate: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<io::Result<PooledBuffer>, Submitted>> {
        if self.poll_no_pending_reads(cx).is_pending() {
            return Poll::Pending;
        }
        if let Some(leftover) = self.leftover.get() {
            let room = pool.buffer_size();
            let mut kept = Vec::new();
            let taken = leftover.borrow_mut().take_kept(room, |bytes| {
                let count = bytes.len().min(room);
                kept.extend_from_slice(&bytes[..count]);
                count
            });
            if let Some(taken) = taken {
                return Poll::Ready(Ok(taken.map(|_| PooledBuffer::from(kept))));
            }
        }
        let fd = self.descriptor.fd();
        let op = if allocate {
            Op::Recv {
                fd,
                buf: proactor_driver::Buffer::from(Vec::with_capacity(pool.buffer_size())),
                flags: 0,
            }
        } else {
            Op::RecvPooled {
                fd,
                pool: pool.pool.clone(),
                multishot,
                buffer: None,
            }
        };
        // A run of receives is not one read: the limit is each single one's.
        let timeout = if multishot && !allocate {
            None
        } else {
            self.read_timeout()
        };
        Poll::Ready(Err(op::submit_timed(op, timeout)))
    }

    /// For the poll-based adapters: starts one pooled read (first waiting for a buffer to
    /// come back if every one is lent and the pool does not allocate), or returns bytes a
    /// cancelled read kept. A read dropped in flight keeps its bytes for the next.
    #[cfg(compat)]
    pub(crate) fn poll_begin_read_pooled(
        &self,
        pool: &BufferPool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<io::Result<PooledBuffer>, Submitted>> {
        let allocate = allocates(pool);
        if !allocate {
            std::task::ready!(pool.pool.poll_available(cx));
        }
        let begun = std::task::ready!(self.begin_pooled(pool, false, allocate, cx));
        Poll::Ready(begun.map_err(|mut submitted| {
            submitted.on_orphan(self.keep_pooled());
            submitted
        }))
    }

    /// What keeps the bytes of pooled receives dropped in flight, for the next read.
    fn keep_pooled(&self) -> op::Orphan {
        op::Orphan::KeepPooled {
            leftover: std::rc::Rc::clone(self.leftover.get_or_init(Default::default)),
        }
    }
}

/// A read into a buffer lent by a pool (see `TcpStream::read_pooled`).
pub(crate) struct ReadPooled<'a> {
    stream: &'a Stream,
    pool: BufferPool,
    receiving: Option<Submitted>,
}

impl<'a> ReadPooled<'a> {
    pub(crate) fn new(stream: &'a Stream, pool: &BufferPool) -> ReadPooled<'a> {
        ReadPooled {
            stream,
            pool: pool.clone(),
            receiving: None,
        }
    }
}

impl Future for ReadPooled<'_> {
    type Output = io::Result<PooledBuffer>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            if this.receiving.is_none() {
                // Bytes waited and every buffer was lent: wait for one to come back, or
                // read into one allocated now.
                let allocate = allocates(&this.pool);
                if !allocate {
                    std::task::ready!(this.pool.pool.poll_available(cx));
                }
                match std::task::ready!(this.stream.begin_pooled(&this.pool, false, allocate, cx)) {
                    Ok(kept) => return Poll::Ready(kept),
                    Err(receiving) => this.receiving = Some(receiving),
                }
            }
            let Some(receiving) = this.receiving.as_mut() else {
                unreachable!("started just above")
            };
            let completion = std::task::ready!(Pin::new(receiving).poll(cx));
            this.receiving = None;
            match completion.result {
                Err(error) if is_pool_exhausted(&error) => continue,
                result => return Poll::Ready(result.map(|_| buffer_of(completion.op))),
            }
        }
    }
}

impl Drop for ReadPooled<'_> {
    fn drop(&mut self) {
        if let Some(receiving) = &mut self.receiving {
            receiving.on_orphan(self.stream.keep_pooled());
        }
    }
}

/// Reads of a stream socket into buffers lent by a pool, from one submission that goes on
/// receiving (io_uring's multishot receive; the other backends receive again while bytes
/// wait): made by [`TcpStream::pooled_reads`](crate::net::TcpStream::pooled_reads) (and
/// `UnixStream`'s), read with [`next`](PooledReads::next).
///
/// Bytes are received as they arrive, whether or not `next` is being awaited, each receive
/// holding a buffer until it is taken and dropped. When the pool runs dry the run pauses
/// (the bytes stay in the socket, whose window then pushes back on the sender) and starts
/// again once a buffer is back: a reader that keeps every buffer of its pool waits for
/// ever, so size the pool for what the code holds at once. Dropping it keeps what it
/// received and nobody took for the stream's next read.
///
/// # Examples
///
/// ```no_run
/// use proactor::io::BufferPool;
/// use proactor::net::TcpListener;
///
/// # proactor::Runtime::new()?.block_on(async {
/// let pool = BufferPool::new(4096, 256)?;
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let (stream, _) = listener.accept().await?;
/// let mut reads = stream.pooled_reads(&pool);
/// while let Some(buffer) = reads.next().await {
///     println!("got {} bytes", buffer?.len());
/// }
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct PooledReads<'a> {
    stream: &'a Stream,
    pool: BufferPool,
    receiving: Option<Submitted>,
    ended: bool,
}

impl<'a> PooledReads<'a> {
    pub(crate) fn new(stream: &'a Stream, pool: &BufferPool) -> PooledReads<'a> {
        PooledReads {
            stream,
            pool: pool.clone(),
            receiving: None,
            ended: false,
        }
    }

    /// The next buffer received; `None` once the peer has closed its end.
    ///
    /// # Errors
    ///
    /// What the receive met (a reset, say); the next call receives again.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncWrite, BufferPool};
    ///
    /// # proactor::Runtime::new()?.block_on(async {
    /// let pool = BufferPool::new(4096, 16)?;
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let mut client = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (server, _) = listener.accept().await?;
    /// client.write_all(&b"hello"[..]).await.0?;
    /// drop(client);
    /// let mut reads = server.pooled_reads(&pool);
    /// let mut received = Vec::new();
    /// while let Some(buffer) = reads.next().await {
    ///     received.extend_from_slice(&buffer?);
    /// }
    /// assert_eq!(received, b"hello");
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn next(&mut self) -> Option<io::Result<PooledBuffer>> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// As [`next`](PooledReads::next), for poll-based code.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use proactor::io::BufferPool;
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let pool = BufferPool::new(4096, 8)?;
    /// # let stream = proactor::net::TcpStream::connect("127.0.0.1:7878").await?;
    /// let mut reads = stream.pooled_reads(&pool);
    /// let first = std::future::poll_fn(|cx| reads.poll_next(cx)).await;
    /// # let _ = first;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<PooledBuffer>>> {
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            if self.receiving.is_none() {
                // The last run met an empty pool: wait for a buffer to come back, or read
                // into one allocated now (then the run starts again).
                let allocate = allocates(&self.pool);
                if !allocate {
                    std::task::ready!(self.pool.pool.poll_available(cx));
                }
                match std::task::ready!(self.stream.begin_pooled(&self.pool, true, allocate, cx)) {
                    Ok(Ok(kept)) if kept.is_empty() => {
                        self.ended = true;
                        return Poll::Ready(None);
                    }
                    Ok(kept) => return Poll::Ready(Some(kept)),
                    Err(receiving) => self.receiving = Some(receiving),
                }
            }
            let Some(receiving) = self.receiving.as_mut() else {
                unreachable!("started just above")
            };
            let completion = std::task::ready!(receiving.poll_next(cx));
            if !completion.more {
                self.receiving = None;
            }
            return Poll::Ready(match completion.result {
                Ok(0) if !completion.more => {
                    self.ended = true;
                    None
                }
                Ok(_) => Some(Ok(buffer_of(completion.op))),
                // Bytes wait and the pool is empty: the run starts again once a buffer is
                // back (every byte stays in the socket until then).
                Err(error) if is_pool_exhausted(&error) => continue,
                Err(error) => Some(Err(error)),
            });
        }
    }
}

impl Drop for PooledReads<'_> {
    fn drop(&mut self) {
        if let Some(receiving) = &mut self.receiving {
            receiving.on_orphan(self.stream.keep_pooled());
        }
    }
}
