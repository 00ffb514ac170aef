//! `BufReader` and `BufWriter`: a user-space buffer in front of an owned-buffer stream.

use std::io;

use proactor_driver::Buffer;

use super::{AsyncRead, AsyncWrite, RawStream};
use crate::{BufResult, IoBuf};

/// std's and tokio's default buffer size.
const DEFAULT_CAPACITY: usize = 8 * 1024;

/// Adds a read buffer to a reader, for line- and delimiter-oriented reading ([`read_line`],
/// [`read_until`], [`lines`]) and for many small reads at the cost of one system call.
///
/// Reads go through one internal `Vec<u8>` that is handed to the reader by value and comes
/// back filled; a read into a buffer at least as large as the internal one while it is empty
/// goes straight to the reader, without a copy. Writes pass through to the inner stream when
/// it is also a writer, so a `BufReader<TcpStream>` still answers.
///
/// # Cancel safety
///
/// The internal buffer is only lent to the inner reader when it holds no unread bytes, so
/// dropping a [`fill_buf`](BufReader::fill_buf), [`read`](AsyncRead::read) or
/// [`read_until`](BufReader::read_until) future part way loses nothing the reader promises
/// to keep (proactor's streams keep a cancelled read's bytes for the next read);
/// [`read_until`](BufReader::read_until) leaves what it had found so far in the caller's
/// vector. The next fill allocates a fresh buffer, because the lent one went with the
/// cancelled read.
///
/// [`read_line`]: BufReader::read_line
/// [`read_until`]: BufReader::read_until
/// [`lines`]: BufReader::lines
///
/// # Examples
///
/// ```
/// use proactor::io::{AsyncWrite, BufReader};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut a, b) = proactor::io::duplex(1 << 20);
///     a.write_all(&b"first\nsecond\n"[..]).await.0?;
///     let mut reader = BufReader::new(b);
///     let mut line = String::new();
///     reader.read_line(&mut line).await?;
///     assert_eq!(line, "first\n");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct BufReader<R> {
    inner: R,
    /// Bytes read and not yet consumed are `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    capacity: usize,
}

impl<R: AsyncRead> BufReader<R> {
    /// A reader with an 8 KiB buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let reader = proactor::io::BufReader::new(stream);
    ///     assert_eq!(reader.capacity(), 8192);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A reader with a buffer of `capacity` bytes (at least 1: an empty buffer could not tell
    /// a full one from the end of the stream).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let reader = proactor::io::BufReader::with_capacity(64 * 1024, stream);
    ///     assert_eq!(reader.capacity(), 65536);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        let capacity = capacity.max(1);
        BufReader {
            inner,
            buf: Vec::with_capacity(capacity),
            pos: 0,
            capacity,
        }
    }

    /// The buffered bytes, reading more from the inner reader first if none are left; empty
    /// at the end of the stream. Mark what you used with [`consume`](BufReader::consume).
    ///
    /// # Errors
    ///
    /// The inner reader's error (`Interrupted` is retried).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncWrite, BufReader};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, b) = proactor::io::duplex(1 << 20);
    ///     a.write_all(&b"abc"[..]).await.0?;
    ///     let mut reader = BufReader::new(b);
    ///     assert_eq!(reader.fill_buf().await?, b"abc");
    ///     reader.consume(2);
    ///     assert_eq!(reader.buffer(), b"c");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.buf.len() {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            self.pos = 0;
            if buf.capacity() < self.capacity {
                buf.reserve_exact(self.capacity);
            }
            loop {
                let (result, back) = self.inner.read(buf).await;
                buf = back;
                match result {
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => {
                        self.buf = buf;
                        return Err(error);
                    }
                    Ok(_) => break,
                }
            }
            self.buf = buf;
        }
        Ok(&self.buf[self.pos..])
    }

    /// Reads until `byte` (included) or the end of the stream, appending to `buf`; returns
    /// how many bytes were appended (0 at the end of the stream).
    ///
    /// # Errors
    ///
    /// The inner reader's error; what was read before it is in `buf`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes found before the future was dropped are in `buf`, the rest are
    /// still in the reader.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncWrite, BufReader};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, b) = proactor::io::duplex(1 << 20);
    ///     a.write_all(&b"key=value"[..]).await.0?;
    ///     drop(a);
    ///     let mut reader = BufReader::new(b);
    ///     let mut key = Vec::new();
    ///     assert_eq!(reader.read_until(b'=', &mut key).await?, 4);
    ///     assert_eq!(key, b"key=");
    ///     let mut value = Vec::new();
    ///     reader.read_until(b'=', &mut value).await?;
    ///     assert_eq!(value, b"value");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn read_until(&mut self, byte: u8, buf: &mut Vec<u8>) -> io::Result<usize> {
        let mut appended = 0;
        loop {
            let available = self.fill_buf().await?;
            if available.is_empty() {
                return Ok(appended);
            }
            let (used, done) = match available.iter().position(|&b| b == byte) {
                Some(at) => (at + 1, true),
                None => (available.len(), false),
            };
            buf.extend_from_slice(&available[..used]);
            self.consume(used);
            appended += used;
            if done {
                return Ok(appended);
            }
        }
    }

    /// Reads a line (through `\n`, included) and appends it to `buf`; returns how many bytes
    /// were appended (0 at the end of the stream).
    ///
    /// # Errors
    ///
    /// `InvalidData` if the line is not UTF-8 (`buf` is left as it was, the line consumed),
    /// or the inner reader's error.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe, as in tokio: if the future is dropped part way, the bytes of the line
    /// read so far are lost and `buf`'s contents are unspecified. Use
    /// [`read_until`](BufReader::read_until) where that matters.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncWrite, BufReader};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, b) = proactor::io::duplex(1 << 20);
    ///     a.write_all(&b"one\ntwo"[..]).await.0?;
    ///     drop(a);
    ///     let mut reader = BufReader::new(b);
    ///     let mut text = String::new();
    ///     while reader.read_line(&mut text).await? > 0 {}
    ///     assert_eq!(text, "one\ntwo");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn read_line(&mut self, buf: &mut String) -> io::Result<usize> {
        let mut bytes = std::mem::take(buf).into_bytes();
        let start = bytes.len();
        let mut result = self.read_until(b'\n', &mut bytes).await;
        if std::str::from_utf8(&bytes[start..]).is_err() {
            bytes.truncate(start);
            result = Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ));
        }
        // What was in `buf` was a String, and what follows it was just checked.
        *buf = String::from_utf8(bytes)
            .unwrap_or_else(|_| unreachable!("a String plus checked UTF-8 is UTF-8"));
        result
    }

    /// The lines of the stream, without their `\n` or `\r\n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncWrite, BufReader};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, b) = proactor::io::duplex(1 << 20);
    ///     a.write_all(&b"one\r\ntwo\n"[..]).await.0?;
    ///     drop(a);
    ///     let mut lines = BufReader::new(b).lines();
    ///     assert_eq!(lines.next_line().await?.as_deref(), Some("one"));
    ///     assert_eq!(lines.next_line().await?.as_deref(), Some("two"));
    ///     assert_eq!(lines.next_line().await?, None);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn lines(self) -> Lines<R> {
        Lines { reader: self }
    }
}

impl<R> BufReader<R> {
    /// Marks `amount` buffered bytes as used (at most as many as are buffered).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncWrite, BufReader};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, b) = proactor::io::duplex(1 << 20);
    ///     a.write_all(&b"header:body"[..]).await.0?;
    ///     let mut reader = BufReader::new(b);
    ///     assert_eq!(reader.fill_buf().await?, b"header:body");
    ///     reader.consume(7); // "header:" is used up
    ///     assert_eq!(reader.buffer(), b"body");
    ///     reader.consume(100); // more than is buffered: just empties it
    ///     assert!(reader.buffer().is_empty());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn consume(&mut self, amount: usize) {
        // Saturating: an amount past what is buffered (usize::MAX included) drops the rest of
        // the buffer, never wraps the cursor backwards.
        self.pos = self.pos.saturating_add(amount).min(self.buf.len());
    }

    /// The buffered bytes not yet consumed, without reading.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     assert!(proactor::io::BufReader::new(stream).buffer().is_empty());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos.min(self.buf.len())..]
    }

    /// The size of the internal buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     assert_eq!(proactor::io::BufReader::new(stream).capacity(), 8192);
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let reader = proactor::io::BufReader::with_capacity(100, stream);
    ///     assert_eq!(reader.capacity(), 100);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The inner reader.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let reader = proactor::io::BufReader::new(stream);
    ///     println!("{:?}", reader.get_ref());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably; reading from it directly skips the buffered bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let mut reader = proactor::io::BufReader::new(stream);
    ///     let _inner: &mut proactor::io::DuplexStream = reader.get_mut();
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader; buffered bytes not yet consumed are dropped (take them with
    /// [`buffer`](BufReader::buffer) first).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let stream = proactor::io::BufReader::new(stream).into_inner();
    ///     # let _ = stream;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// Buffered bytes first; a read at least as large as the buffer while it is empty goes
/// straight to the inner reader.
impl<R: AsyncRead> AsyncRead for BufReader<R> {
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let mut buffer: Buffer = buf.into_buffer();
        if buffer.read_capacity() == 0 {
            return (Ok(0), B::from_buffer(buffer));
        }
        if self.pos >= self.buf.len() && buffer.read_capacity() >= self.capacity {
            let (result, buffer) = self.inner.read(buffer).await;
            return (result, B::from_buffer(buffer));
        }
        if let Err(error) = self.fill_buf().await {
            return (Err(error), B::from_buffer(buffer));
        }
        let count = buffer.fill_from(&self.buf[self.pos..]);
        self.consume(count);
        (Ok(count), B::from_buffer(buffer))
    }

    /// The inner reader's, once every buffered byte has been read.
    fn raw_source(&mut self) -> Option<RawStream> {
        if self.pos < self.buf.len() {
            return None;
        }
        self.inner.raw_source()
    }

    fn raw_consumed(&mut self, count: u64) {
        self.inner.raw_consumed(count);
    }
}

/// Writes go to the inner stream unbuffered.
impl<R: AsyncWrite> AsyncWrite for BufReader<R> {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        self.inner.write(buf).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.inner.shutdown().await
    }

    fn raw_sink(&mut self) -> Option<RawStream> {
        self.inner.raw_sink()
    }

    fn raw_written(&mut self, count: u64) {
        self.inner.raw_written(count);
    }
}

/// The lines of a [`BufReader`], from [`BufReader::lines`].
///
/// # Examples
///
/// ```
/// use proactor::io::{AsyncWrite, BufReader};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut a, b) = proactor::io::duplex(1 << 20);
///     a.write_all(&b"alpha\nbeta\ngamma"[..]).await.0?;
///     drop(a);
///     let mut lines = BufReader::new(b).lines();
///     let mut all = Vec::new();
///     while let Some(line) = lines.next_line().await? {
///         all.push(line);
///     }
///     // The last line needs no newline.
///     assert_eq!(all, ["alpha", "beta", "gamma"]);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Lines<R> {
    reader: BufReader<R>,
}

impl<R: AsyncRead> Lines<R> {
    /// The next line without its `\n` or `\r\n`, or `None` at the end of the stream.
    ///
    /// # Errors
    ///
    /// As [`BufReader::read_line`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe (see [`BufReader::read_line`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncWrite, BufReader};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (mut a, b) = proactor::io::duplex(1 << 20);
    ///     a.write_all(&b"ok\n\xff\n"[..]).await.0?;
    ///     let mut lines = BufReader::new(b).lines();
    ///     assert_eq!(lines.next_line().await?.as_deref(), Some("ok"));
    ///     // A line that is not UTF-8 is an error, not a panic.
    ///     let error = lines.next_line().await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        if line.ends_with('\n') {
            line.pop();
            if line.ends_with('\r') {
                line.pop();
            }
        }
        Ok(Some(line))
    }

    /// The reader, with any bytes it buffered past the last line.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let reader = proactor::io::BufReader::new(stream).lines().into_inner();
    ///     assert!(reader.buffer().is_empty());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> BufReader<R> {
        self.reader
    }
}

/// Adds a write buffer to a writer: small writes are gathered and sent in one system call
/// when the buffer fills or on [`flush`](AsyncWrite::flush).
///
/// A write at least as large as the buffer goes straight to the inner writer (after what is
/// buffered), without a copy. Call `flush` (or `shutdown`) before dropping it: bytes still
/// buffered when it is dropped are discarded, as in tokio. Reads pass through to the inner
/// stream when it is also a reader.
///
/// # Errors
///
/// A write error keeps the bytes the inner writer did not take, so a later flush retries
/// them. A flush whose future was dropped while its write was in flight leaves the buffer
/// with that write (the kernel may have sent part of it); every later write or flush then
/// fails with `Other` ("a cancelled flush ...") instead of sending bytes out of order.
///
/// # Examples
///
/// ```
/// use proactor::io::{AsyncRead, AsyncWrite, BufWriter};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (a, mut b) = proactor::io::duplex(1 << 20);
///     let mut writer = BufWriter::new(a);
///     for word in [&b"gathered "[..], b"into ", b"one send"] {
///         writer.write_all(word).await.0?;
///     }
///     writer.flush().await?;
///     let (count, bytes) = b.read(Vec::with_capacity(64)).await;
///     assert_eq!(&bytes[..count?], b"gathered into one send");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct BufWriter<W> {
    inner: W,
    buf: Vec<u8>,
    capacity: usize,
    /// A write of the buffer is (or was, when its future was dropped) in flight.
    writing: bool,
}

fn cancelled_flush() -> io::Error {
    io::Error::other("a cancelled flush left the BufWriter's bytes half sent")
}

impl<W: AsyncWrite> BufWriter<W> {
    /// A writer with an 8 KiB buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     assert_eq!(proactor::io::BufWriter::new(stream).capacity(), 8192);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_CAPACITY, inner)
    }

    /// A writer with a buffer of `capacity` bytes (0: every write goes straight through).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let writer = proactor::io::BufWriter::with_capacity(1 << 16, stream);
    ///     assert_eq!(writer.capacity(), 65536);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            capacity,
            writing: false,
        }
    }

    /// Sends every buffered byte to the inner writer (without flushing it).
    /// Copies all of `bytes` in, sending the buffer whenever it fills: for bytes the caller
    /// only borrows, which the owned-buffer [`write`](AsyncWrite::write) cannot take (tokio's
    /// `write_all(&[u8])` on a `BufWriter`). [`flush`](AsyncWrite::flush) sends the rest.
    ///
    /// # Errors
    ///
    /// The inner writer's error from sending the buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{duplex, AsyncRead, AsyncWrite, BufWriter};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (near, mut far) = duplex(1024);
    ///     let mut writer = BufWriter::new(near);
    ///     let name = String::from("world");
    ///     writer.write_slice(b"hello, ").await?;
    ///     writer.write_slice(name.as_bytes()).await?;
    ///     writer.flush().await?;
    ///     let (count, bytes) = far.read(Vec::with_capacity(64)).await;
    ///     assert_eq!(&bytes[..count?], b"hello, world");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn write_slice(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        if self.writing {
            return Err(cancelled_flush());
        }
        if self.capacity == 0 {
            // No buffer to copy into: the bytes go on in a copy of their own.
            return self.inner.write_all(bytes.to_vec()).await.0;
        }
        while !bytes.is_empty() {
            let room = self.capacity.saturating_sub(self.buf.len());
            if room == 0 {
                self.write_buffered().await?;
                continue;
            }
            let taken = bytes.len().min(room);
            self.buf.extend_from_slice(&bytes[..taken]);
            bytes = &bytes[taken..];
        }
        Ok(())
    }

    async fn write_buffered(&mut self) -> io::Result<()> {
        if self.writing {
            return Err(cancelled_flush());
        }
        let mut written = 0;
        let result = loop {
            if written >= self.buf.len() {
                break Ok(());
            }
            let view = match std::mem::take(&mut self.buf).slice(written..) {
                Ok(view) => view,
                // `written` is below the length checked above.
                Err(_) => unreachable!("written is within the buffer"),
            };
            self.writing = true;
            let (result, back) = self.inner.write(view).await;
            self.writing = false;
            self.buf = back.into_inner();
            match result {
                Ok(0) => {
                    break Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "writer accepted no bytes",
                    ))
                }
                Ok(count) => written += count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => break Err(error),
            }
        };
        self.buf.drain(..written.min(self.buf.len()));
        result
    }

    /// The buffered bytes not yet sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncWrite;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let mut writer = proactor::io::BufWriter::new(stream);
    ///     writer.write(&b"held"[..]).await.0?;
    ///     assert_eq!(writer.buffer(), b"held");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The size of the internal buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     assert_eq!(proactor::io::BufWriter::new(stream).capacity(), 8192);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The inner writer.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let writer = proactor::io::BufWriter::new(stream);
    ///     println!("{:?}", writer.get_ref());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably; writing to it directly goes before the buffered bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let mut writer = proactor::io::BufWriter::new(stream);
    ///     let _inner: &mut proactor::io::DuplexStream = writer.get_mut();
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The inner writer; bytes still buffered are discarded (flush first).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncWrite;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (stream, _peer) = proactor::io::duplex(1 << 20);
    ///     let mut writer = proactor::io::BufWriter::new(stream);
    ///     writer.flush().await?;
    ///     let stream = writer.into_inner();
    ///     # let _ = stream;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: AsyncWrite> AsyncWrite for BufWriter<W> {
    /// Buffers `buf`'s bytes (sending what was buffered first if they do not fit), or, if
    /// `buf` is at least as large as the buffer, writes it straight through.
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let buffer = buf.into_buffer();
        let len = buffer.len();
        if self.buf.len() + len > self.capacity {
            if let Err(error) = self.write_buffered().await {
                return (Err(error), B::from_buffer(buffer));
            }
        }
        if len >= self.capacity {
            let (result, buffer) = self.inner.write(buffer).await;
            return (result, B::from_buffer(buffer));
        }
        if self.writing {
            return (Err(cancelled_flush()), B::from_buffer(buffer));
        }
        self.buf.extend_from_slice(buffer.as_slice());
        (Ok(len), B::from_buffer(buffer))
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.write_buffered().await?;
        self.inner.flush().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.write_buffered().await?;
        self.inner.shutdown().await
    }

    /// The inner writer's, while nothing is buffered (and no cancelled flush left bytes
    /// half sent).
    fn raw_sink(&mut self) -> Option<RawStream> {
        if !self.buf.is_empty() || self.writing {
            return None;
        }
        self.inner.raw_sink()
    }

    fn raw_written(&mut self, count: u64) {
        self.inner.raw_written(count);
    }
}

/// Reads go to the inner stream unbuffered.
impl<W: AsyncRead> AsyncRead for BufWriter<W> {
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        self.inner.read(buf).await
    }

    fn raw_source(&mut self) -> Option<RawStream> {
        self.inner.raw_source()
    }

    fn raw_consumed(&mut self, count: u64) {
        self.inner.raw_consumed(count);
    }
}
