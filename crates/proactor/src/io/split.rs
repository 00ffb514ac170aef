//! `split`: a read half and a write half of one stream, usable from two tasks.

use std::fmt;
use std::io;
use std::rc::Rc;

use super::{AsyncRead, AsyncWrite, RawStream};
use crate::{BufResult, IoBuf};

/// Splits a stream into a read half and a write half that can be moved to two tasks of the
/// same runtime, so one read and one write are in flight at once.
///
/// It works for any stream that reads and writes through a shared reference
/// (`&TcpStream`, `&UnixStream`, as in std, and `&DuplexStream`); the halves share it in an `Rc`, and
/// [`ReadHalf::unsplit`] gives it back. [`TcpStream::into_split`](crate::net::TcpStream::into_split)
/// does the same for TCP without the type parameter.
///
/// # Examples
///
/// ```
/// use proactor::io::{split, AsyncRead, AsyncWrite};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (a, mut b) = proactor::io::duplex(1 << 20);
///     let (mut reader, mut writer) = split(a);
///     let echo = proactor::spawn(async move {
///         let (count, bytes) = reader.read(Vec::with_capacity(16)).await;
///         (count.map(|count| bytes[..count].to_vec()), reader)
///     });
///     writer.write_all(&b"ping"[..]).await.0?;
///     b.write_all(&b"pong"[..]).await.0?;
///     let (received, reader) = echo.await.unwrap();
///     assert_eq!(received?, b"pong");
///     let stream = reader.unsplit(writer).expect("halves of one stream");
///     # let _ = stream;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn split<T>(stream: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    for<'a> &'a T: AsyncRead + AsyncWrite,
{
    let stream = Rc::new(stream);
    (
        ReadHalf {
            stream: Rc::clone(&stream),
        },
        WriteHalf { stream },
    )
}

/// The reading half of a stream, from [`split`].
///
/// # Examples
///
/// ```
/// use proactor::io::{split, AsyncRead, AsyncWrite};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (a, mut b) = proactor::io::duplex(1 << 20);
///     let (mut reader, _writer) = split(a);
///     b.write_all(&b"to the read half"[..]).await.0?;
///     let (count, bytes) = reader.read(Vec::with_capacity(32)).await;
///     assert_eq!(&bytes[..count?], b"to the read half");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ReadHalf<T> {
    stream: Rc<T>,
}

/// The writing half of a stream, from [`split`]; its `shutdown` ends the stream's writing
/// direction for both halves.
///
/// # Examples
///
/// ```
/// use proactor::io::{split, AsyncRead, AsyncWrite};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (a, mut b) = proactor::io::duplex(1 << 20);
///     let (_reader, mut writer) = split(a);
///     writer.write_all(&b"last words"[..]).await.0?;
///     writer.shutdown().await?; // the peer sees the end of the stream
///     let (result, bytes) = b.read_to_end(Vec::new()).await;
///     result?;
///     assert_eq!(bytes, b"last words");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct WriteHalf<T> {
    stream: Rc<T>,
}

impl<T> ReadHalf<T> {
    /// Puts the stream back together; `Err` gives both halves back if they came from two
    /// different streams.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::split;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::io::duplex(1 << 20);
    ///     let (reader, writer) = split(a);
    ///     let (other_reader, other_writer) = split(b);
    ///     // Halves of two different streams are given back, not joined.
    ///     let (reader, other_writer) = match reader.unsplit(other_writer) {
    ///         Err(halves) => halves,
    ///         Ok(_) => unreachable!("different streams"),
    ///     };
    ///     let a = reader.unsplit(writer).expect("halves of one stream");
    ///     let b = other_reader.unsplit(other_writer).expect("halves of one stream");
    ///     # let _ = (a, b);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unsplit(self, write: WriteHalf<T>) -> Result<T, (ReadHalf<T>, WriteHalf<T>)> {
        if !Rc::ptr_eq(&self.stream, &write.stream) {
            return Err((self, write));
        }
        drop(write);
        match Rc::try_unwrap(self.stream) {
            Ok(stream) => Ok(stream),
            // `split` makes exactly two references, one per half, and the write half is gone.
            Err(_) => unreachable!("only the two halves share the stream"),
        }
    }

    /// Whether `write` is the other half of the same stream.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, b) = proactor::io::duplex(1 << 20);
    ///     let (reader, writer) = proactor::io::split(a);
    ///     let (_, other) = proactor::io::split(b);
    ///     assert!(reader.is_pair_of(&writer));
    ///     assert!(!reader.is_pair_of(&other));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_pair_of(&self, write: &WriteHalf<T>) -> bool {
        Rc::ptr_eq(&self.stream, &write.stream)
    }
}

impl<T> AsyncRead for ReadHalf<T>
where
    for<'a> &'a T: AsyncRead,
{
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let mut stream: &T = &self.stream;
        stream.read(buf).await
    }

    fn raw_source(&mut self) -> Option<RawStream> {
        let mut stream: &T = &self.stream;
        stream.raw_source()
    }

    fn raw_consumed(&mut self, count: u64) {
        let mut stream: &T = &self.stream;
        stream.raw_consumed(count);
    }
}

impl<T> AsyncWrite for WriteHalf<T>
where
    for<'a> &'a T: AsyncWrite,
{
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let mut stream: &T = &self.stream;
        stream.write(buf).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        let mut stream: &T = &self.stream;
        stream.flush().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        let mut stream: &T = &self.stream;
        stream.shutdown().await
    }

    fn raw_sink(&mut self) -> Option<RawStream> {
        let mut stream: &T = &self.stream;
        stream.raw_sink()
    }

    fn raw_written(&mut self, count: u64) {
        let mut stream: &T = &self.stream;
        stream.raw_written(count);
    }
}

impl<T: fmt::Debug> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(&self.stream).finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(&self.stream).finish()
    }
}
