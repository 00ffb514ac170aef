//! Free functions over the owned-buffer traits: `copy` and `read_to_string`.

use std::io;

use super::{AsyncRead, AsyncWrite, RawStream};
use crate::{BufResult, IoBuf};

/// The buffer `copy` moves bytes through when it cannot splice.
const COPY_BUFFER: usize = 64 * 1024;

/// Copies everything `reader` yields into `writer` until the end of the stream; returns how
/// many bytes were copied, which is how many reached the writer. The writer is not flushed or
/// shut down.
///
/// Bytes move through one 64 KiB buffer that goes from the read to the write by value: no
/// byte is copied between user-space buffers, and nothing is allocated after the first read.
///
/// On Linux, a bulk stream moves inside the kernel instead, reader → pipe → writer with
/// `splice(2)`, and never enters user space: from the first read that fills at least half
/// the buffer (32 KiB: a file, or a stream whose sender is ahead of the copy), while both
/// ends offer their descriptor ([`AsyncRead::raw_source`], [`AsyncWrite::raw_sink`]:
/// sockets, pipes, child stdio, files, and wrappers such as [`BufReader`](super::BufReader)
/// once they hold no bytes of their own). After four splices in a row that each moved less
/// than 16 KiB (the stream turned to small messages) the copy goes back to the buffer, and
/// splices again at the next read that fills half of it; each switch waits until the pipe is
/// empty, so no byte is lost, repeated or reordered. Small messages stay on the buffer
/// because splicing them costs more: each chunk takes two splices through the pipe (on
/// io_uring, each a hand-off to the kernel's workers) where the buffer takes one read and
/// one write, and the memory copies saved are small. In a request/response proxy over 100
/// connections, splicing every message took 1.02–1.56× the buffer's CPU per request from
/// 64 B to 16 KiB on io_uring (up to 1.15× on epoll); from 32 KiB it paid on epoll and broke
/// even on io_uring, and a bulk stream spliced takes half the CPU (the bench crate's README,
/// `copy-bench`). One pipe (asked for 256 KiB of room) is made the first time the copy
/// splices and closed with the call. An end that cannot splice (a file system without it, a
/// file in append mode) is found out at the first spliced chunk, and the copy goes on through
/// the buffer without losing or repeating a byte.
///
/// Bytes a [`BufReader`](super::BufReader) or a stream (from a cancelled read) already holds
/// are read from it first, before anything is spliced.
///
/// # Errors
///
/// The first read or write error (`Interrupted` is retried), or `WriteZero` if the writer
/// accepts nothing. How many bytes had been copied by then is not reported. A splice into a
/// socket whose peer has gone also raises `SIGPIPE` (the kernel's splice has no
/// `MSG_NOSIGNAL`, which proactor's sends use); Rust programs ignore it unless they ask for
/// it back.
///
/// # Cancel safety
///
/// Dropping the future stops the copy. What the writer received is then a prefix of what the
/// reader gave, in order and with no byte twice; the bytes taken from the reader but not yet
/// written are lost: up to 64 KiB through the buffer, up to the pipe's room (256 KiB) when
/// splicing. A file's cursor stands past the last chunk it completed; the pipe is closed. A
/// splice the kernel is already running when the future is dropped (io_uring runs them on
/// its own threads, and cannot stop one that has begun) still finishes, so wait a moment
/// before writing to the writer again if the order matters.
///
/// # Examples
///
/// ```
/// use proactor::io::{copy, AsyncRead, AsyncWrite};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut source, mut reader) = proactor::io::duplex(1 << 20);
///     let (mut writer, mut sink) = proactor::io::duplex(1 << 20);
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
    #[cfg(target_os = "linux")]
    let mut kernel = super::splice::Splice::default();
    let mut buf = Vec::new();
    let mut copied = 0u64;
    loop {
        #[cfg(target_os = "linux")]
        if kernel.copy(reader, writer, &mut copied).await? {
            return Ok(copied);
        }
        if buf.capacity() == 0 {
            buf.reserve_exact(COPY_BUFFER);
        }
        buf.clear();
        let (result, back) = reader.read(buf).await;
        buf = back;
        match result {
            Ok(0) => return Ok(copied),
            #[cfg(target_os = "linux")]
            Ok(count) => kernel.buffered(count),
            #[cfg(not(target_os = "linux"))]
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

/// Copies both ways between `a` and `b` at once, as a proxy does, until both directions
/// have ended: what `a` sends goes to `b` and what `b` sends goes to `a`. When one side ends
/// its sending (end of stream), the other side's writing direction is shut down, so the end
/// travels through; the other direction goes on until it ends too. Returns how many bytes
/// went from `a` to `b` and from `b` to `a`. Each direction is an [`io::copy`](copy) (which
/// splices inside the kernel on Linux where it can).
///
/// For streams that read and write through a shared reference (`&TcpStream`,
/// `&UnixStream`, `&DuplexStream`), as both directions of each run at once.
///
/// # Errors
///
/// The first error of either direction; the other direction is then stopped (its
/// operations cancelled).
///
/// # Cancel safety
///
/// As [`copy`]'s, for each direction.
///
/// # Examples
///
/// ```
/// use proactor::io::{copy_bidirectional, duplex, AsyncRead, AsyncWrite};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut client, mut proxy_front) = duplex(1 << 16);
///     let (mut proxy_back, mut server) = duplex(1 << 16);
///     let proxy = proactor::spawn(async move {
///         copy_bidirectional(&mut proxy_front, &mut proxy_back).await
///     });
///     client.write_all(&b"request"[..]).await.0?;
///     client.shutdown().await?;
///     let (result, request) = server.read_to_end(Vec::new()).await;
///     result?;
///     assert_eq!(request, b"request");
///     server.write_all(&b"response"[..]).await.0?;
///     server.shutdown().await?;
///     let (result, response) = client.read_to_end(Vec::new()).await;
///     result?;
///     assert_eq!(response, b"response");
///     assert_eq!(proxy.await.unwrap()?, (7, 8));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: ?Sized,
    B: ?Sized,
    for<'x> &'x A: AsyncRead + AsyncWrite,
    for<'x> &'x B: AsyncRead + AsyncWrite,
{
    let (a, b): (&A, &B) = (a, b);
    let a_to_b = one_way(a, b);
    let b_to_a = one_way(b, a);
    let mut a_to_b = std::pin::pin!(a_to_b);
    let mut b_to_a = std::pin::pin!(b_to_a);
    let (mut sent, mut received) = (None, None);
    std::future::poll_fn(|cx| {
        if sent.is_none() {
            if let std::task::Poll::Ready(count) = a_to_b.as_mut().poll(cx) {
                sent = Some(count?);
            }
        }
        if received.is_none() {
            if let std::task::Poll::Ready(count) = b_to_a.as_mut().poll(cx) {
                received = Some(count?);
            }
        }
        match (sent, received) {
            (Some(sent), Some(received)) => std::task::Poll::Ready(Ok((sent, received))),
            _ => std::task::Poll::Pending,
        }
    })
    .await
}

/// One direction of [`copy_bidirectional`]: everything `from` sends, then the end.
async fn one_way<F, T>(mut from: &F, mut to: &T) -> io::Result<u64>
where
    F: ?Sized,
    T: ?Sized,
    for<'x> &'x F: AsyncRead,
    for<'x> &'x T: AsyncWrite,
{
    let copied = copy(&mut from, &mut to).await?;
    to.shutdown().await?;
    Ok(copied)
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
///     let (mut a, mut b) = proactor::io::duplex(1 << 20);
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

    fn raw_source(&mut self) -> Option<RawStream> {
        (**self).raw_source()
    }

    fn raw_consumed(&mut self, count: u64) {
        (**self).raw_consumed(count);
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

    fn raw_sink(&mut self) -> Option<RawStream> {
        (**self).raw_sink()
    }

    fn raw_written(&mut self, count: u64) {
        (**self).raw_written(count);
    }
}
