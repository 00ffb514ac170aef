//! Poll-based I/O for code written against `futures-io`, tokio or hyper: [`Compat`] gives
//! proactor's streams `futures_io::{AsyncRead, AsyncBufRead, AsyncWrite}` (feature
//! `futures-io`), `tokio::io::{AsyncRead, AsyncBufRead, AsyncWrite}` (feature `tokio`) and
//! `hyper::rt::{Read, Write}` (feature `hyper`, with `HyperExecutor` and `HyperTimer` for
//! hyper's connection builders; see `examples/hyper_server.rs` and `examples/hyper_client.rs`;
//! with feature `hyper-server`, `hyper::serve` runs an axum `Router` on a listener).
//!
//! # What it costs
//!
//! Poll-based traits lend the caller's `&mut [u8]` for one call only, while a completion-based
//! read or write needs memory the kernel can use after that call returns. So `Compat` owns one
//! buffer per direction (16 KiB unless [`Compat::with_capacity`] says otherwise, allocated on
//! first use and then reused) and the bytes are **copied once**: from the read buffer into the
//! caller's slice, and from the caller's slice into the write buffer. Nothing else is
//! allocated per operation. The native [`AsyncRead`](crate::io::AsyncRead) and
//! [`AsyncWrite`](crate::io::AsyncWrite) avoid the copy: they take the caller's own buffer by
//! value and the kernel fills or sends it directly. Code that can hand buffers over (a
//! protocol that reads into a `BytesMut` it owns, a server sending whole responses) should use
//! the native traits; `Compat` is for reusing poll-based crates as they are.
//!
//! # Writes are accepted, then sent
//!
//! `poll_write` copies what fits into the write buffer, submits the write and returns
//! `Ready(n)` at once: a poll-based caller may retry a `Pending` write with different bytes, so
//! the adapter cannot leave a half-decided write behind. The next `poll_write`, `poll_flush` or
//! `poll_close` (`poll_shutdown`) first waits for that write to finish, and reports its error if
//! it failed. So **flush before dropping** the adapter: dropping it cancels a write still in
//! flight, and the bytes the kernel had not taken are lost.
//!
//! A call that has to wait for the write starts it at once instead of at the runtime's next
//! turn (on io_uring, one `io_uring_enter` that waits for nothing), so a write the socket
//! takes straight away is done within that call: a request-response protocol flushing
//! after each response, as hyper does, costs one poll of its task per exchange, not two.
//! It does so only when no other task waits to run in the turn; otherwise the turn's end
//! sends every task's writes in one system call, as usual.
//!
//! # Cancel safety
//!
//! A poll-based read that is abandoned part way (a `read` future of `AsyncReadExt` dropped by
//! a `select!`, a timeout) loses no bytes: the read stays in flight inside the adapter and its
//! bytes are handed out by the next `poll_read` or `poll_fill_buf`. Dropping the adapter
//! itself with a read in flight cancels it and, as the native API promises, the stream keeps
//! the bytes that read had received; [`Compat::into_inner`] also gives back the bytes the
//! adapter had buffered, so none are lost when switching back to the native API. (On epoll
//! and kqueue a read that finds nothing holds no operation at all: it waits for the socket's
//! next readable edge and receives then, and a write the socket takes is sent within the
//! call that accepts it.)
//!
//! # Errors
//!
//! Once a read or a write fails, every later call in that direction returns the same error
//! again (same kind, same OS code) instead of touching the stream; a closed child stdin, or use
//! outside a proactor runtime, is a clear error, never a panic.
//!
//! # Examples
//!
//! ```ignore-windows
//! # #[cfg(feature = "futures-io")]
//! # {
//! use std::future::poll_fn;
//! use std::pin::Pin;
//!
//! use proactor::compat::Compat;
//! use proactor::net::UnixStream;
//!
//! proactor::Runtime::new()?.block_on(async {
//!     let (a, b) = UnixStream::pair()?;
//!     let (mut a, mut b) = (Compat::new(a), Compat::new(b));
//!     let written = poll_fn(|cx| futures_io::AsyncWrite::poll_write(Pin::new(&mut a), cx, b"hi")).await?;
//!     poll_fn(|cx| futures_io::AsyncWrite::poll_flush(Pin::new(&mut a), cx)).await?;
//!     let mut bytes = [0u8; 8];
//!     let count = poll_fn(|cx| futures_io::AsyncRead::poll_read(Pin::new(&mut b), cx, &mut bytes)).await?;
//!     assert_eq!((written, &bytes[..count]), (2, &b"hi"[..]));
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # }
//! # Ok::<(), std::io::Error>(())
//! ```

#[cfg(feature = "futures-io")]
mod futures;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub mod hyper;
#[cfg(feature = "tokio")]
mod tokio;

#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub use self::hyper::{HyperExecutor, HyperTimer};

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use proactor_driver::{is_pool_exhausted, Buffer, Op, PooledBuffer};

use crate::fs::File;
use crate::net::poll::Begun;
use crate::runtime::op::{self, Submitted};

/// Each direction's buffer, unless [`Compat::with_capacity`] is used.
const DEFAULT_CAPACITY: usize = 16 * 1024;

/// A proactor stream that [`Compat`] can wrap: [`TcpStream`](crate::net::TcpStream) and its
/// halves, [`UnixStream`](crate::net::UnixStream), [`File`], and a child's
/// [`ChildStdin`](crate::process::ChildStdin), [`ChildStdout`](crate::process::ChildStdout)
/// and [`ChildStderr`](crate::process::ChildStderr).
///
/// Sealed: the adapter drives the stream's driver operations itself.
///
/// # Examples
///
/// ```
/// fn adapt<T: proactor::compat::Adaptable>(stream: T) -> proactor::compat::Compat<T> {
///     proactor::compat::Compat::new(stream)
/// }
/// # let _ = adapt::<proactor::net::TcpStream>;
/// ```
pub trait Adaptable: sealed::Sealed + Unpin {}

pub(crate) mod sealed {
    /// An [`Endpoint`], behind a type the sealed trait can name.
    pub struct Access<'a>(pub(crate) Endpoint<'a>);

    /// What an adapter reads and writes.
    pub(crate) enum Endpoint<'a> {
        /// A socket or a pipe, with its kept bytes of cancelled reads.
        Stream(&'a crate::net::Stream),
        /// A file, read and written at its cursor.
        File(&'a mut crate::fs::File),
        /// Closed by its owner (a child's stdin after `shutdown`).
        Closed,
    }

    pub trait Sealed {
        fn access(&mut self) -> Access<'_>;

        /// Ends the writing direction of a pipe (sockets are shut down; files need nothing).
        fn close(&mut self) {}
    }
}

use sealed::{Access, Endpoint};

/// What the adapter works on: the sealed trait's view of the stream.
trait EndpointOf {
    fn endpoint(&mut self) -> Endpoint<'_>;
}

impl<T: sealed::Sealed> EndpointOf for T {
    fn endpoint(&mut self) -> Endpoint<'_> {
        self.access().0
    }
}

impl sealed::Sealed for crate::net::TcpStream {
    fn access(&mut self) -> Access<'_> {
        Access(Endpoint::Stream(self.shared()))
    }
}
impl Adaptable for crate::net::TcpStream {}

impl sealed::Sealed for crate::net::OwnedReadHalf {
    fn access(&mut self) -> Access<'_> {
        Access(Endpoint::Stream(self.shared()))
    }
}
impl Adaptable for crate::net::OwnedReadHalf {}

impl sealed::Sealed for crate::net::OwnedWriteHalf {
    fn access(&mut self) -> Access<'_> {
        Access(Endpoint::Stream(self.shared()))
    }
}
impl Adaptable for crate::net::OwnedWriteHalf {}

#[cfg(unix)]
impl sealed::Sealed for crate::net::UnixStream {
    fn access(&mut self) -> Access<'_> {
        Access(Endpoint::Stream(self.shared()))
    }
}
#[cfg(unix)]
impl Adaptable for crate::net::UnixStream {}

impl sealed::Sealed for File {
    fn access(&mut self) -> Access<'_> {
        Access(Endpoint::File(self))
    }
}
impl Adaptable for File {}

impl sealed::Sealed for crate::process::ChildStdin {
    fn access(&mut self) -> Access<'_> {
        Access(match self.pipe() {
            Some(pipe) => Endpoint::Stream(pipe),
            None => Endpoint::Closed,
        })
    }

    fn close(&mut self) {
        crate::process::ChildStdin::close(self);
    }
}
impl Adaptable for crate::process::ChildStdin {}

impl sealed::Sealed for crate::process::ChildStdout {
    fn access(&mut self) -> Access<'_> {
        Access(Endpoint::Stream(self.pipe()))
    }
}
impl Adaptable for crate::process::ChildStdout {}

impl sealed::Sealed for crate::process::ChildStderr {
    fn access(&mut self) -> Access<'_> {
        Access(Endpoint::Stream(self.pipe()))
    }
}
impl Adaptable for crate::process::ChildStderr {}

/// An error kept to be returned again: `io::Error` is not `Clone`.
#[derive(Debug)]
struct Sticky {
    kind: io::ErrorKind,
    code: Option<i32>,
    message: String,
}

impl Sticky {
    fn of(error: &io::Error) -> Sticky {
        Sticky {
            kind: error.kind(),
            code: error.raw_os_error(),
            message: error.to_string(),
        }
    }

    fn error(&self) -> io::Error {
        match self.code {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(self.kind, self.message.clone()),
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the stream was shut down")
}

/// Operations need the runtime the stream's driver runs in: a clear error elsewhere (a tokio
/// runtime, a plain thread) instead of the panic `op::submit` would give.
fn in_runtime() -> io::Result<()> {
    // A look at the context, without the reference count `try_current` would take: this is
    // on every read and write.
    match crate::runtime::try_with(|_| ()) {
        Some(()) => Ok(()),
        None => Err(io::Error::other(
            "proactor I/O used outside a proactor runtime (Runtime::block_on or a spawned task)",
        )),
    }
}

fn into_vec(buffer: Buffer) -> Vec<u8> {
    buffer
        .into_inner()
        .into_vec()
        .unwrap_or_else(|_| unreachable!("the adapter's buffers are vectors"))
}

fn check_offset(offset: u64) -> io::Result<u64> {
    if offset > i64::MAX as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "file offset past i64::MAX",
        ));
    }
    Ok(offset)
}

/// `Compat::poll_fill` for a socket read through a pool: the next buffer received (empty at
/// the end of the stream), or the bytes the stream kept from a cancelled read.
fn poll_fill_pooled(
    stream: &crate::net::Stream,
    pool: &crate::io::BufferPool,
    read: &mut Reading,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    loop {
        if read.op.is_none() {
            in_runtime()?;
            // All handed out: the buffer goes back to its pool before the next read waits.
            read.lent = None;
            read.pos = 0;
            match ready!(stream.poll_begin_read_pooled(pool, cx)) {
                Ok(Ok(kept)) => {
                    read.lent = Some(kept);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(error)) => {
                    read.error = Some(Sticky::of(&error));
                    return Poll::Ready(Err(error));
                }
                Err(submitted) => {
                    read.op = Some(InFlight {
                        submitted,
                        offset: None,
                        started: false,
                    })
                }
            }
        }
        let Some(in_flight) = &mut read.op else {
            unreachable!("a read was started just above")
        };
        let completion = ready!(Pin::new(&mut in_flight.submitted).poll(cx));
        read.op = None;
        match completion.result {
            Ok(_) => {
                read.lent = Some(crate::net::pooled::buffer_of(completion.op));
                return Poll::Ready(Ok(()));
            }
            // Every buffer was lent when bytes came: wait for one (or allocate), then again.
            Err(error) if is_pool_exhausted(&error) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                read.error = Some(Sticky::of(&error));
                return Poll::Ready(Err(error));
            }
        }
    }
}

/// An operation the adapter owns, with the file offset it started at (for files).
struct InFlight {
    submitted: Submitted,
    offset: Option<u64>,
    /// A write that was waited for once, and started at once then (see `poll_drain`).
    started: bool,
}

#[derive(Default)]
struct Reading {
    /// Bytes read and not yet handed out are `buf[pos..]` (or `lent[pos..]`); empty while a
    /// read has it.
    buf: Vec<u8>,
    pos: usize,
    /// Where reads of a socket take their buffers (see `Compat::with_pool`).
    pool: Option<crate::io::BufferPool>,
    /// The buffer the last pooled read got, handed out from `pos`.
    lent: Option<PooledBuffer>,
    op: Option<InFlight>,
    /// Waiting, with no read in flight, for the socket's next readable edge (epoll, kqueue).
    watch: Option<crate::net::poll::ReadableWatch>,
    error: Option<Sticky>,
}

impl Reading {
    /// What was read and not yet handed out.
    fn unread(&self) -> &[u8] {
        let read = match &self.lent {
            Some(lent) => &lent[..],
            None => &self.buf[..],
        };
        read.get(self.pos..).unwrap_or_default()
    }
}

#[derive(Default)]
struct Writing {
    /// Bytes accepted and not yet sent are `buf[written..]`.
    buf: Vec<u8>,
    written: usize,
    op: Option<InFlight>,
    shutdown: Option<Submitted>,
    shut: bool,
    error: Option<Sticky>,
}

/// A proactor stream with poll-based `futures-io` and tokio I/O traits (see the
/// [module](self) for what that costs and when bytes are sent).
///
/// # Examples
///
/// ```ignore-windows
/// # #[cfg(feature = "tokio")]
/// # {
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// use proactor::compat::Compat;
///
/// proactor::Runtime::new()?.block_on(async {
///     let (a, b) = proactor::net::UnixStream::pair()?;
///     let (mut a, mut b) = (Compat::new(a), Compat::new(b));
///     poll_fn(|cx| tokio::io::AsyncWrite::poll_write(Pin::new(&mut a), cx, b"tokio")).await?;
///     poll_fn(|cx| tokio::io::AsyncWrite::poll_flush(Pin::new(&mut a), cx)).await?;
///     let mut storage = [0u8; 16];
///     let mut buf = tokio::io::ReadBuf::new(&mut storage);
///     poll_fn(|cx| tokio::io::AsyncRead::poll_read(Pin::new(&mut b), cx, &mut buf)).await?;
///     assert_eq!(buf.filled(), b"tokio");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Compat<T> {
    io: T,
    capacity: usize,
    read: Reading,
    write: Writing,
}

impl<T: Adaptable> Compat<T> {
    /// Wraps `io` with a 16 KiB buffer per direction, each allocated on first use.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::net::UnixStream::pair()?;
    ///     let adapter = proactor::compat::Compat::new(stream);
    ///     # let _ = adapter;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(io: T) -> Compat<T> {
        Compat::with_capacity(DEFAULT_CAPACITY, io)
    }

    /// Wraps `io` with a buffer of `capacity` bytes (at least 1) per direction: the most one
    /// read or write moves.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::net::UnixStream::pair()?;
    ///     let adapter = proactor::compat::Compat::with_capacity(64 * 1024, stream);
    ///     # let _ = adapter;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_capacity(capacity: usize, io: T) -> Compat<T> {
        Compat {
            io,
            capacity: capacity.max(1),
            read: Reading::default(),
            write: Writing::default(),
        }
    }

    /// Wraps `io` so that reads of a socket take their buffers from `pool` (see
    /// [`BufferPool`](crate::io::BufferPool)) instead of a buffer of the adapter's own: a
    /// buffer is lent when bytes arrive and goes back once they are all handed out, so a
    /// connection waiting for its next request holds none. For servers of many mostly idle
    /// connections (hyper's keep-alive): the 16 KiB an adapter otherwise keeps for reading
    /// is then shared. Writes go through a 16 KiB buffer as with [`new`](Compat::new), let
    /// go of at each flush so that an idle adapter holds no buffer at all (the next write
    /// allocates one again, as large as it needs); files and pipes read as with `new`. It
    /// trades a little CPU per request (the pool's bookkeeping, that allocation) for the
    /// memory: see the hyper figures in the bench crate's README.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// proactor::Runtime::new()?.block_on(async {
    ///     let pool = proactor::io::BufferPool::new(16 * 1024, 256)?;
    ///     let (stream, _peer) = proactor::net::UnixStream::pair()?;
    ///     let adapter = proactor::compat::Compat::with_pool(&pool, stream);
    ///     # let _ = adapter;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_pool(pool: &crate::io::BufferPool, io: T) -> Compat<T> {
        let mut compat = Compat::new(io);
        compat.read.pool = Some(pool.clone());
        compat
    }

    /// The stream.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::net::UnixStream::pair()?;
    ///     let adapter = proactor::compat::Compat::new(stream);
    ///     println!("{:?}", adapter.get_ref().peer_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The stream, mutably. Reading or writing it directly while the adapter holds bytes in
    /// either direction reorders them: flush, and read what is buffered, first.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::net::UnixStream::pair()?;
    ///     let mut adapter = proactor::compat::Compat::new(stream);
    ///     let _stream: &mut proactor::net::UnixStream = adapter.get_mut();
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// The stream back, with no byte read lost: bytes the adapter had read but not handed out
    /// go back to the stream (its next read returns them; a file's cursor moves back over
    /// them), and a read in flight is cancelled with its bytes kept by the stream. A write in
    /// flight is cancelled and bytes not yet sent are dropped: flush first.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::net::UnixStream::pair()?;
    ///     let stream = proactor::compat::Compat::new(stream).into_inner();
    ///     # let _ = stream;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> T {
        let Compat {
            mut io,
            read,
            write,
            ..
        } = self;
        let unread = read.unread();
        if !unread.is_empty() {
            match io.endpoint() {
                Endpoint::Stream(stream) => stream.unread(unread),
                Endpoint::File(file) => {
                    file.set_position(file.position().saturating_sub(unread.len() as u64))
                }
                Endpoint::Closed => {}
            }
        }
        // A read in flight is cancelled here; its bytes go to the stream (after those above).
        drop(read);
        drop(write);
        io
    }

    /// The buffered bytes, reading more if none are left; empty at the end of the stream.
    pub(crate) fn poll_fill_buf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(self.poll_fill(cx))?;
        Poll::Ready(Ok(self.read.unread()))
    }

    /// The bytes read and not yet handed out, without reading more.
    #[cfg(feature = "hyper-server")]
    pub(crate) fn buffered(&self) -> &[u8] {
        self.read.unread()
    }

    pub(crate) fn consume(&mut self, amount: usize) {
        // Saturating, as BufReader::consume: never a panic, never a cursor moved backwards.
        let left = self.read.unread().len();
        self.read.pos += amount.min(left);
    }

    /// Copies buffered bytes into `out`, reading first if none are buffered.
    #[cfg(feature = "futures-io")]
    pub(crate) fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let available = ready!(self.poll_fill_buf(cx))?;
        let count = available.len().min(out.len());
        out[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Poll::Ready(Ok(count))
    }

    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Compat {
            io, capacity, read, ..
        } = self;
        if !read.unread().is_empty() {
            return Poll::Ready(Ok(()));
        }
        if let Some(sticky) = &read.error {
            return Poll::Ready(Err(sticky.error()));
        }
        if let (Some(pool), Endpoint::Stream(stream)) = (read.pool.clone(), io.endpoint()) {
            if stream.is_socket() {
                return poll_fill_pooled(stream, &pool, read, cx);
            }
        }
        loop {
            if read.op.is_none() {
                in_runtime()?;
                // Woken by the edge (or by anything else): begin again.
                read.watch = None;
                read.buf.clear();
                read.pos = 0;
                if read.buf.capacity() == 0 {
                    read.buf.reserve_exact(*capacity);
                }
                let started = match io.endpoint() {
                    Endpoint::Stream(stream) => {
                        match ready!(stream.poll_begin_read(cx, &mut read.buf)) {
                            Begun::Filled(Ok(())) => return Poll::Ready(Ok(())),
                            Begun::Filled(Err(error)) => Err(error),
                            Begun::Watching(watch) => {
                                read.watch = Some(watch);
                                return Poll::Pending;
                            }
                            Begun::Submitted(submitted) => Ok(InFlight {
                                submitted,
                                offset: None,
                                started: false,
                            }),
                        }
                    }
                    Endpoint::File(file) => check_offset(file.position()).map(|offset| InFlight {
                        submitted: op::submit(Op::Read {
                            fd: file.fd(),
                            buf: Buffer::from(std::mem::take(&mut read.buf)),
                            offset: Some(offset),
                        }),
                        offset: Some(offset),
                        started: false,
                    }),
                    Endpoint::Closed => Err(closed()),
                };
                match started {
                    Ok(in_flight) => read.op = Some(in_flight),
                    Err(error) => {
                        read.error = Some(Sticky::of(&error));
                        return Poll::Ready(Err(error));
                    }
                }
            }
            let Some(in_flight) = &mut read.op else {
                unreachable!("a read was started just above")
            };
            let (result, buffer) = ready!(in_flight.submitted.poll_buffer(cx));
            let offset = in_flight.offset;
            read.op = None;
            read.buf = into_vec(buffer);
            match result {
                Ok(count) => {
                    if let (Some(offset), Endpoint::File(file)) = (offset, io.endpoint()) {
                        file.set_position(offset + count as u64);
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    read.error = Some(Sticky::of(&error));
                    return Poll::Ready(Err(error));
                }
            }
        }
    }

    /// Accepts up to one buffer's worth of `data` and submits its write (see the module's
    /// "Writes are accepted, then sent").
    pub(crate) fn poll_write_from(
        &mut self,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.write.shut {
            return Poll::Ready(Err(closed()));
        }
        in_runtime()?;
        let count = data.len().min(self.capacity);
        let room = self.write_room(count);
        let write = &mut self.write;
        if write.buf.capacity() == 0 {
            write.buf.reserve_exact(room);
        }
        write.buf.clear();
        write.buf.extend_from_slice(&data[..count]);
        write.written = 0;
        if let Err(error) = self.begin_write() {
            self.write.buf.clear();
            self.write.error = Some(Sticky::of(&error));
            return Poll::Ready(Err(error));
        }
        Poll::Ready(Ok(count))
    }

    /// As [`poll_write_from`](Compat::poll_write_from), gathering `bufs` in order into the
    /// write buffer (as many bytes as fit), so a caller's pieces cost one copy, not two.
    pub(crate) fn poll_write_vectored_from(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        let total: usize = bufs.iter().map(|buf| buf.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        if self.write.shut {
            return Poll::Ready(Err(closed()));
        }
        in_runtime()?;
        let room = self.write_room(total.min(self.capacity));
        let write = &mut self.write;
        if write.buf.capacity() == 0 {
            write.buf.reserve_exact(room);
        }
        write.buf.clear();
        write.written = 0;
        for buf in bufs {
            let room = self.capacity - write.buf.len();
            if room == 0 {
                break;
            }
            write.buf.extend_from_slice(&buf[..buf.len().min(room)]);
        }
        let count = write.buf.len();
        if let Err(error) = self.begin_write() {
            self.write.buf.clear();
            self.write.error = Some(Sticky::of(&error));
            return Poll::Ready(Err(error));
        }
        Poll::Ready(Ok(count))
    }

    /// How much a write buffer made for a write of `count` bytes holds: its whole capacity,
    /// kept for the next writes; or, where it goes at each flush (`with_pool`), what this
    /// write needs (small responses then come from the allocator's fast per-size caches).
    fn write_room(&self, count: usize) -> usize {
        match self.read.pool {
            Some(_) => count,
            None => self.capacity,
        }
    }

    /// Submits a write of the accepted bytes not yet sent.
    fn begin_write(&mut self) -> io::Result<()> {
        let Compat { io, write, .. } = self;
        let view = Buffer::from(std::mem::take(&mut write.buf))
            .slice(write.written..)
            .unwrap_or_else(|_| unreachable!("written is within the accepted bytes"));
        let started = match io.endpoint() {
            Endpoint::Stream(stream) => {
                let mut view = view;
                if stream.transfers_now() {
                    // Sent in this call where the socket takes it, with no operation.
                    while let Some(result) = stream.try_write_now(&view) {
                        match result {
                            Ok(0) => break,
                            Ok(count) => {
                                write.written += count;
                                if count >= view.len() {
                                    write.buf = into_vec(view);
                                    return Ok(());
                                }
                                view = view
                                    .slice(count..)
                                    .unwrap_or_else(|_| unreachable!("count is within the view"));
                            }
                            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                            Err(error) => {
                                write.buf = into_vec(view);
                                return Err(error);
                            }
                        }
                    }
                }
                Ok(InFlight {
                    submitted: stream.begin_write(view),
                    offset: None,
                    started: false,
                })
            }
            Endpoint::File(file) => {
                let fd = file.fd();
                if file.appends() {
                    Ok(InFlight {
                        submitted: op::submit(Op::Write {
                            fd,
                            buf: view,
                            offset: File::APPEND_OFFSET,
                        }),
                        offset: None,
                        started: false,
                    })
                } else {
                    match check_offset(file.position()) {
                        Ok(offset) => Ok(InFlight {
                            submitted: op::submit(Op::Write {
                                fd,
                                buf: view,
                                offset: Some(offset),
                            }),
                            offset: Some(offset),
                            started: false,
                        }),
                        Err(error) => {
                            write.buf = into_vec(view);
                            Err(error)
                        }
                    }
                }
            }
            Endpoint::Closed => {
                write.buf = into_vec(view);
                Err(closed())
            }
        };
        write.op = Some(started?);
        Ok(())
    }

    /// Waits until every accepted byte is sent.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if let Some(sticky) = &self.write.error {
                return Poll::Ready(Err(sticky.error()));
            }
            if self.write.op.is_none() {
                if self.write.written >= self.write.buf.len() {
                    self.write.buf.clear();
                    self.write.written = 0;
                    return Poll::Ready(Ok(()));
                }
                in_runtime()?;
                if let Err(error) = self.begin_write() {
                    self.write.error = Some(Sticky::of(&error));
                    return Poll::Ready(Err(error));
                }
            }
            let Compat { io, write, .. } = self;
            let Some(in_flight) = &mut write.op else {
                unreachable!("a write is in flight")
            };
            // Waiting for a write means the caller cannot go on without it (a flush, or
            // more bytes than the buffer holds): start it now instead of after the
            // runtime's next turn (if no other task is about to run, see `poll_now`), so
            // one the socket takes at once is done in this poll. Once per write: later
            // polls come from wakes, when it is done or blocked.
            let (result, buffer) = if in_flight.started {
                ready!(in_flight.submitted.poll_buffer(cx))
            } else {
                in_flight.started = true;
                ready!(in_flight.submitted.poll_buffer_now(cx))
            };
            let offset = in_flight.offset;
            write.op = None;
            write.buf = into_vec(buffer);
            match result {
                Ok(0) => {
                    let error =
                        io::Error::new(io::ErrorKind::WriteZero, "writer accepted no bytes");
                    write.error = Some(Sticky::of(&error));
                    return Poll::Ready(Err(error));
                }
                Ok(count) => {
                    write.written += count;
                    if let (Some(offset), Endpoint::File(file)) = (offset, io.endpoint()) {
                        file.set_position(offset + count as u64);
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    write.error = Some(Sticky::of(&error));
                    return Poll::Ready(Err(error));
                }
            }
        }
    }

    /// Sends what was accepted; streams have nothing more to flush.
    pub(crate) fn poll_flush_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        if self.read.pool.is_some() {
            // An adapter reading through a pool keeps no buffer of its own while idle: the
            // write buffer goes once flushed (a server's connection, between responses).
            self.write.buf = Vec::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Sends what was accepted, then ends the writing direction: a socket is shut down, a
    /// child's stdin closed; a file needs nothing.
    pub(crate) fn poll_shutdown_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        if self.write.shut {
            return Poll::Ready(Ok(()));
        }
        let Compat { io, write, .. } = self;
        match io.endpoint() {
            Endpoint::Stream(stream) if stream.is_socket() => {
                if write.shutdown.is_none() {
                    in_runtime()?;
                    write.shutdown = Some(stream.begin_shutdown());
                }
                let Some(submitted) = &mut write.shutdown else {
                    unreachable!("a shutdown was started just above")
                };
                let completion = ready!(Pin::new(submitted).poll(cx));
                write.shutdown = None;
                crate::net::write_side_ended_is_done(completion.result.map(drop))?;
            }
            Endpoint::Stream(_) => io.close(),
            Endpoint::File(_) | Endpoint::Closed => {}
        }
        self.write.shut = true;
        Poll::Ready(Ok(()))
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Compat<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compat")
            .field("io", &self.io)
            .field("buffered", &self.read.unread().len())
            .field(
                "unsent",
                &(self.write.buf.len() - self.write.written.min(self.write.buf.len())),
            )
            .field("read_error", &self.read.error)
            .field("write_error", &self.write.error)
            .finish()
    }
}
