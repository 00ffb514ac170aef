//! Reading and writing with owned buffers.
//!
//! [`AsyncRead::read`] takes a buffer by value and gives it back with the count, because the
//! kernel fills it after the call has returned (io_uring, IOCP). The provided methods
//! (`read_exact`, `read_to_end`, `write_all`) loop over the one required method, narrowing the
//! buffer with slice views rather than copying.
//!
//! [`BufReader`] and [`BufWriter`] add a user-space buffer (lines, delimiters, gathered small
//! writes); [`copy`], [`read_to_string`] and [`split`](fn@split) are the usual helpers, and
//! [`duplex`](fn@duplex) makes two streams connected in memory (for tests, or joining parts of
//! a program). Poll-based code (futures-io, tokio's traits) uses these streams through
//! `compat::Compat` (features `futures-io` and `tokio`), with one internal buffer per
//! direction.

#![allow(async_fn_in_trait)] // Runtime futures are !Send by design: tasks stay on their thread.

use std::io;

use proactor_driver::Buffer;

use crate::{BufResult, IoBuf};

mod buffer_pool;
mod buffered;
mod duplex;
mod raw;
pub(crate) mod ready;
#[cfg(target_os = "linux")]
mod splice;
mod split;
#[cfg(unix)]
pub mod unix;
mod util;

pub use buffer_pool::{is_pool_exhausted, BufferPool, PooledBuffer};
pub use buffered::{BufReader, BufWriter, Lines};
pub use duplex::{duplex, DuplexStream};
pub use raw::RawStream;
pub use ready::{Interest, Ready};
pub use split::{split, ReadHalf, WriteHalf};
pub use util::{copy, copy_bidirectional, read_to_string};

fn unexpected_eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "stream ended before the buffer was full",
    )
}

/// Restores the view a buffer had before a loop narrowed it.
/// The buffer as the caller gave it: `narrowed` holds the caller's own view (`None` inside)
/// if the loop narrowed the buffer, and is `None` if it did not.
#[inline]
pub(crate) fn restore(buffer: Buffer, narrowed: Option<Option<std::ops::Range<usize>>>) -> Buffer {
    let Some(view) = narrowed else {
        return buffer;
    };
    let whole = buffer.into_inner();
    match view {
        // The range was valid when the caller made it, and the loop only read into it.
        Some(range) => whole
            .slice(range)
            .unwrap_or_else(|_| unreachable!("a view stays in range")),
        None => whole,
    }
}

/// Reads bytes into owned buffers.
///
/// # Examples
///
/// ```no_run
/// use proactor::io::AsyncRead;
/// use proactor::net::TcpStream;
///
/// # proactor::Runtime::new()?.block_on(async {
/// let mut stream = TcpStream::connect("127.0.0.1:7878").await?;
/// let (result, buffer) = stream.read(Vec::with_capacity(4096)).await;
/// println!("read {} bytes: {:?}", result?, buffer);
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncRead {
    /// Reads some bytes into `buf` (see [`IoBuf`] for which part is filled) and returns how
    /// many; 0 means end of stream.
    ///
    /// # Buffer ownership
    ///
    /// The buffer comes back in every case. If the future is dropped before it completes, the
    /// read is cancelled; bytes it had already received are kept by the stream and returned
    /// by the next read.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, mut b) = proactor::io::duplex(1 << 20);
    ///     a.write_all(&b"abc"[..]).await.0?;
    ///     // A Vec is filled after its length, up to its capacity.
    ///     let (count, buffer) = b.read(Vec::with_capacity(16)).await;
    ///     assert_eq!(&buffer[..count?], b"abc");
    ///     drop(a);
    ///     let (count, _buffer) = b.read(buffer).await;
    ///     assert_eq!(count?, 0); // end of stream
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B>;

    /// Reads until `buf` is full.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the stream ends first (the bytes read so far are in the buffer), or
    /// the first read error.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, mut b) = proactor::io::duplex(1 << 20);
    ///     a.write_all(&b"12345678tail"[..]).await.0?;
    ///     drop(a);
    ///     let (result, header) = b.read_exact(Vec::with_capacity(8)).await;
    ///     result?;
    ///     assert_eq!(header, b"12345678");
    ///     let (result, _rest) = b.read_exact(Vec::with_capacity(8)).await;
    ///     assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    async fn read_exact<B: IoBuf>(&mut self, buf: B) -> BufResult<(), B> {
        let mut buffer = buf.into_buffer();
        let view = Some(buffer.view());
        let target = buffer.read_capacity();
        let grows = buffer.read_grows();
        let mut filled = 0;
        while filled < target {
            let (result, back) = self.read(buffer).await;
            buffer = back;
            match result {
                Ok(0) => return (Err(unexpected_eof()), B::from_buffer(restore(buffer, view))),
                Ok(count) => {
                    filled += count;
                    if !grows && filled < target {
                        // Next read goes after what this one filled.
                        buffer = buffer
                            .slice(count..)
                            .unwrap_or_else(|_| unreachable!("count is within the view"));
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return (Err(error), B::from_buffer(restore(buffer, view))),
            }
        }
        (Ok(()), B::from_buffer(restore(buffer, view)))
    }

    /// Reads until end of stream, appending to `buf` (growing it as needed); returns how many
    /// bytes were appended.
    ///
    /// # Errors
    ///
    /// The first read error; the bytes read before it are in the buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, mut b) = proactor::io::duplex(1 << 20);
    ///     a.write_all(vec![7u8; 100_000]).await.0?;
    ///     drop(a);
    ///     let (appended, all) = b.read_to_end(b"prefix".to_vec()).await;
    ///     assert_eq!(appended?, 100_000);
    ///     assert_eq!(all.len(), 100_006);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    async fn read_to_end(&mut self, buf: Vec<u8>) -> BufResult<usize, Vec<u8>> {
        let mut buf = buf;
        let start = buf.len();
        loop {
            if buf.capacity() - buf.len() < 4096 {
                buf.reserve(buf.capacity().clamp(8192, 1 << 20));
            }
            let (result, back) = self.read(buf).await;
            buf = back;
            match result {
                Ok(0) => return (Ok(buf.len() - start), buf),
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return (Err(error), buf),
            }
        }
    }

    /// Reads some bytes and appends them to `buf`, which may already hold bytes (a frame read
    /// in part); returns how many were appended, 0 at the end of the stream. An empty spare
    /// capacity grows first (by 8 KiB).
    ///
    /// The read fills `buf`'s spare capacity where it is (split off and joined back, no copy),
    /// so what `buf` held never leaves the caller's hands.
    ///
    /// # Cancel safety
    ///
    /// Safe in `select!` and under timeouts, which is what sets it apart from
    /// `read(mem::take(&mut buf))`: dropped before it completes, it leaves `buf` as it was
    /// (with less spare capacity), and the bytes the cancelled read received are kept by the
    /// stream for the next read (on proactor's sockets and pipes; see
    /// [cancellation](crate::guide::cancellation)).
    ///
    /// # Errors
    ///
    /// The read's error; `buf` keeps what it held.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use proactor::io::{AsyncRead, AsyncWrite};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, mut b) = proactor::io::duplex(1 << 20);
    ///     let mut frame = BytesMut::new();
    ///     a.write_all(&b"GET /"[..]).await.0?;
    ///     b.read_buf(&mut frame).await?;
    ///     a.write_all(&b" HTTP/1.1"[..]).await.0?;
    ///     b.read_buf(&mut frame).await?;
    ///     assert_eq!(&frame[..], b"GET / HTTP/1.1");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    async fn read_buf(&mut self, buf: &mut bytes::BytesMut) -> io::Result<usize> {
        if buf.capacity() == buf.len() {
            buf.reserve(8 * 1024);
        }
        // The spare capacity alone goes to the read: the bytes before it stay in `buf`.
        let spare = buf.split_off(buf.len());
        let (result, spare) = self.read(spare).await;
        // Back where it was split from: joined without a copy.
        buf.unsplit(spare);
        result
    }

    /// The descriptor this reader reads, while reading it directly would give exactly the
    /// bytes [`read`](AsyncRead::read) would: nothing buffered in user space, nothing kept
    /// from a cancelled read. [`copy`] asks before each chunk once the stream has shown itself
    /// bulk; when the writer offers its descriptor too, it moves the bytes inside the kernel
    /// (Linux `splice`) and reports what it took with [`raw_consumed`](AsyncRead::raw_consumed).
    ///
    /// The default, `None`, is always correct. A wrapper that holds bytes of its own passes
    /// its inner stream's answer on only while it holds none, as [`BufReader`] does; one that
    /// changes the bytes never does.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::io::{AsyncRead, AsyncWrite, BufReader};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, b) = proactor::net::UnixStream::pair()?;
    ///     a.write_all(&b"one\ntwo\n"[..]).await.0?;
    ///     let mut reader = BufReader::new(b);
    ///     let mut line = String::new();
    ///     reader.read_line(&mut line).await?;
    ///     // "two\n" waits in the buffer: the socket alone would skip it.
    ///     assert!(reader.raw_source().is_none());
    ///     reader.read_line(&mut line).await?;
    ///     assert!(reader.raw_source().is_some());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn raw_source(&mut self) -> Option<RawStream> {
        None
    }

    /// Tells the reader that `count` bytes were taken from the descriptor
    /// [`raw_source`](AsyncRead::raw_source) offered, behind its back: a
    /// [`File`](crate::fs::File) moves its cursor past them. The default does nothing, which
    /// is right for sockets and pipes; a wrapper that passes `raw_source` on passes this on.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncRead;
    ///
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-raw-consumed-{}", std::process::id()));
    /// # std::fs::write(&path, b"0123456789")?;
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut file = proactor::fs::File::open(&path).await?;
    ///     assert_eq!(file.raw_source().and_then(|raw| raw.offset()), Some(0));
    ///     file.raw_consumed(4);
    ///     let (count, bytes) = file.read(Vec::with_capacity(16)).await;
    ///     assert_eq!(&bytes[..count?], b"456789");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn raw_consumed(&mut self, count: u64) {
        let _ = count;
    }
}

/// Writes bytes from owned buffers.
///
/// # Examples
///
/// ```no_run
/// use proactor::io::AsyncWrite;
/// use proactor::net::TcpStream;
///
/// # proactor::Runtime::new()?.block_on(async {
/// let mut stream = TcpStream::connect("127.0.0.1:7878").await?;
/// let (result, _buffer) = stream.write_all(b"hello".to_vec()).await;
/// result?;
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncWrite {
    /// Writes some of `buf`'s bytes and returns how many.
    ///
    /// # Buffer ownership
    ///
    /// The buffer comes back in every case. Dropping the future cancels the write; bytes the
    /// kernel had already taken are sent regardless.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncWrite;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, _b) = proactor::io::duplex(1 << 20);
    ///     // A write may take only part of the buffer; `write_all` loops until it is all sent.
    ///     let (written, buffer) = a.write(b"some bytes".to_vec()).await;
    ///     assert!(written? <= buffer.len());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B>;

    /// Writes all of `buf`'s bytes.
    ///
    /// # Errors
    ///
    /// `WriteZero` if the writer accepts nothing, or the first write error.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, mut b) = proactor::io::duplex(1 << 20);
    ///     let reader = proactor::spawn(async move { b.read_to_end(Vec::new()).await });
    ///     // Larger than a socket buffer: several writes under the hood.
    ///     let (result, _buffer) = a.write_all(vec![1u8; 1 << 20]).await;
    ///     result?;
    ///     drop(a);
    ///     let (result, received) = reader.await.unwrap();
    ///     assert_eq!(result?, 1 << 20);
    ///     assert_eq!(received.len(), 1 << 20);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    async fn write_all<B: IoBuf>(&mut self, buf: B) -> BufResult<(), B> {
        let mut buffer = buf.into_buffer();
        let mut remaining = buffer.len();
        // The caller's view, once the loop narrows the buffer to what is left: usually one
        // write takes it all, and the buffer goes back as it came.
        let mut narrowed = None;
        while remaining > 0 {
            let (result, back) = self.write(buffer).await;
            buffer = back;
            match result {
                Ok(0) => {
                    let error =
                        io::Error::new(io::ErrorKind::WriteZero, "writer accepted no bytes");
                    return (Err(error), B::from_buffer(restore(buffer, narrowed)));
                }
                Ok(count) if count >= remaining => remaining = 0,
                Ok(count) => {
                    if narrowed.is_none() {
                        narrowed = Some(buffer.view());
                    }
                    remaining -= count;
                    buffer = buffer
                        .slice(count..)
                        .unwrap_or_else(|_| unreachable!("count is within the view"));
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return (Err(error), B::from_buffer(restore(buffer, narrowed))),
            }
        }
        (Ok(()), B::from_buffer(restore(buffer, narrowed)))
    }

    /// Flushes buffered bytes; sockets have none.
    ///
    /// # Errors
    ///
    /// Whatever the flush reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncWrite, BufWriter};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = proactor::io::duplex(1 << 20);
    ///     let mut writer = BufWriter::new(a);
    ///     writer.write_all(&b"held back"[..]).await.0?;
    ///     assert_eq!(writer.buffer(), b"held back");
    ///     writer.flush().await?; // now the socket has them
    ///     assert!(writer.buffer().is_empty());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    async fn flush(&mut self) -> io::Result<()>;

    /// Ends the writing side (for a socket: sends end of stream).
    ///
    /// A writing side that has ended already counts as done, on every backend: a second
    /// shutdown, or one after the peer reset the connection, returns `Ok` (as tokio's streams
    /// do), so code that shuts down every connection it ends — hyper does — sees no error for
    /// a peer that left first. The sockets' inherent `shutdown(how)` reports what the OS said.
    ///
    /// # Errors
    ///
    /// The OS error for anything else; a writer that buffers (`BufWriter`) reports the error
    /// of the write that flushes it first.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(&b"request"[..]).await.0?;
    ///     AsyncWrite::shutdown(&mut client).await?;
    ///     // The server reads to the end: the client said it sends no more.
    ///     let (result, request) = server.read_to_end(Vec::new()).await;
    ///     result?;
    ///     assert_eq!(request, b"request");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    async fn shutdown(&mut self) -> io::Result<()>;

    /// The descriptor this writer writes, while writing it directly would be exactly what
    /// [`write`](AsyncWrite::write) does: nothing buffered in user space. [`copy`] moves bytes
    /// into it inside the kernel when the reader offers a descriptor too, and reports what
    /// went with [`raw_written`](AsyncWrite::raw_written).
    ///
    /// The default, `None`, is always correct. A wrapper that holds bytes of its own passes
    /// its inner stream's answer on only while it holds none, as [`BufWriter`] does; one that
    /// changes the bytes never does.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::io::{AsyncWrite, BufWriter};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = proactor::net::UnixStream::pair()?;
    ///     let mut writer = BufWriter::new(a);
    ///     writer.write(&b"held"[..]).await.0?;
    ///     // "held" must go first.
    ///     assert!(writer.raw_sink().is_none());
    ///     writer.flush().await?;
    ///     assert!(writer.raw_sink().is_some());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn raw_sink(&mut self) -> Option<RawStream> {
        None
    }

    /// Tells the writer that `count` bytes were written to the descriptor
    /// [`raw_sink`](AsyncWrite::raw_sink) offered, behind its back: a
    /// [`File`](crate::fs::File) not in append mode moves its cursor past them. The default
    /// does nothing, which is right for sockets and pipes; a wrapper that passes `raw_sink`
    /// on passes this on.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncWrite;
    ///
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-raw-written-{}", std::process::id()));
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut file = proactor::fs::File::create(&path).await?;
    ///     file.write_all(&b"head"[..]).await.0?;
    ///     assert_eq!(file.raw_sink().and_then(|raw| raw.offset()), Some(4));
    ///     file.raw_written(2);
    ///     assert_eq!(file.raw_sink().and_then(|raw| raw.offset()), Some(6));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn raw_written(&mut self, count: u64) {
        let _ = count;
    }
}
