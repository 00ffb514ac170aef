//! Free functions over the owned-buffer traits: `copy` and `read_to_string`.

use std::io;

use super::{AsyncRead, AsyncWrite};
use crate::{BufResult, IoBuf};

/// The buffer `copy` moves bytes through.
const COPY_BUFFER: usize = 64 * 1024;

/// Copies everything `reader` yields into `writer` until the end of the stream; returns how
/// many bytes were copied. The writer is not flushed or shut down.
///
/// Bytes move through one 64 KiB buffer that goes from the read to the write by value, so
/// no byte is copied in user space and nothing is allocated after the first read. It does not
/// splice between descriptors: a generic reader and writer may buffer bytes of their own
/// ([`BufReader`](super::BufReader), a stream's bytes kept from a cancelled read) that a
/// kernel-side move would skip. To send a file over a socket without the copy into user
/// space, use [`TcpStream::send_file`](crate::net::TcpStream::send_file).
///
/// # Errors
///
/// The first read or write error (`Interrupted` is retried), or `WriteZero` if the writer
/// accepts nothing. How many bytes had been copied by then is not reported.
///
/// # Cancel safety
///
/// Dropping the future drops the bytes read but not yet written.
///
/// # Examples
///
/// ```
/// use proactor::io::{copy, AsyncRead, AsyncWrite};
/// use proactor::net::UnixStream;
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut source, mut reader) = UnixStream::pair()?;
///     let (mut writer, mut sink) = UnixStream::pair()?;
///     source.write_all(&b"through the middle"[..]).await.0?;
///     drop(source);
///     assert_eq!(copy(&mut reader, &mut writer).await?, 18);
///     let (count, bytes) = sink.read(Vec::with_capacity(64)).await;
///     assert_eq!(&bytes[..count?], b"through the middle");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead,
    W: AsyncWrite,
{
    let mut buf = Vec::with_capacity(COPY_BUFFER);
    let mut copied = 0u64;
    loop {
        buf.clear();
        let (result, back) = reader.read(buf).await;
        buf = back;
        match result {
            Ok(0) => return Ok(copied),
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
        let (result, back) = writer.write_all(buf).await;
        buf = back;
        result?;
        copied += buf.len() as u64;
    }
}

/// Reads everything `reader` yields into a new `String`.
///
/// # Errors
///
/// `InvalidData` if the bytes are not UTF-8, or the first read error.
///
/// # Examples
///
/// ```
/// use proactor::io::{read_to_string, AsyncWrite};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut a, mut b) = proactor::net::UnixStream::pair()?;
///     a.write_all(&b"all of it"[..]).await.0?;
///     drop(a);
///     assert_eq!(read_to_string(&mut b).await?, "all of it");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read_to_string<R: AsyncRead>(reader: &mut R) -> io::Result<String> {
    let (result, bytes) = reader.read_to_end(Vec::new()).await;
    result?;
    String::from_utf8(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// A mutable reference reads as what it points to, so adapters can borrow a stream
/// (`BufReader::new(&mut stream)`).
impl<R: AsyncRead> AsyncRead for &mut R {
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        (**self).read(buf).await
    }
}

/// A mutable reference writes as what it points to.
impl<W: AsyncWrite> AsyncWrite for &mut W {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        (**self).write(buf).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        (**self).flush().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        (**self).shutdown().await
    }
}
