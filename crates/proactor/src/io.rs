//! Reading and writing with owned buffers.
//!
//! [`AsyncRead::read`] takes a buffer by value and gives it back with the count, because the
//! kernel fills it after the call has returned (io_uring, IOCP). The provided methods
//! (`read_exact`, `read_to_end`, `write_all`) loop over the one required method, narrowing the
//! buffer with slice views rather than copying.
//!
//! [`BufReader`] and [`BufWriter`] add a user-space buffer (lines, delimiters, gathered small
//! writes); [`copy`], [`read_to_string`] and [`split`] are the usual helpers. Poll-based code
//! (futures-io, tokio's traits) uses these streams through `compat::Compat` (features
//! `futures-io` and `tokio`), with one internal buffer per direction.

#![allow(async_fn_in_trait)] // Runtime futures are !Send by design: tasks stay on their thread.

use std::io;

use proactor_driver::Buffer;

use crate::{BufResult, IoBuf};

mod buffered;
mod split;
mod util;

pub use buffered::{BufReader, BufWriter, Lines};
pub use split::{split, ReadHalf, WriteHalf};
pub use util::{copy, read_to_string};

fn unexpected_eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "stream ended before the buffer was full",
    )
}

/// Restores the view a buffer had before a loop narrowed it.
fn restore(buffer: Buffer, view: Option<std::ops::Range<usize>>) -> Buffer {
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
    ///     let (mut a, mut b) = proactor::net::UnixStream::pair()?;
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
    ///     let (mut a, mut b) = proactor::net::UnixStream::pair()?;
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
        let view = buffer.view();
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
    ///     let (mut a, mut b) = proactor::net::UnixStream::pair()?;
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
    ///     let (mut a, _b) = proactor::net::UnixStream::pair()?;
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
    ///     let (mut a, mut b) = proactor::net::UnixStream::pair()?;
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
        let view = buffer.view();
        while !buffer.is_empty() {
            let (result, back) = self.write(buffer).await;
            buffer = back;
            match result {
                Ok(0) => {
                    let error =
                        io::Error::new(io::ErrorKind::WriteZero, "writer accepted no bytes");
                    return (Err(error), B::from_buffer(restore(buffer, view)));
                }
                Ok(count) => {
                    buffer = buffer
                        .slice(count..)
                        .unwrap_or_else(|_| unreachable!("count is within the view"));
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return (Err(error), B::from_buffer(restore(buffer, view))),
            }
        }
        (Ok(()), B::from_buffer(restore(buffer, view)))
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
    ///     let (a, _b) = proactor::net::UnixStream::pair()?;
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
    /// # Errors
    ///
    /// The OS error, e.g. `NotConnected`.
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
}
