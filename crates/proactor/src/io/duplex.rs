//! `duplex`: two connected in-memory streams, for tests and for joining two parts of a program
//! without a socket.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};

use proactor_driver::Buffer;

use super::{AsyncRead, AsyncWrite};
use crate::{BufResult, IoBuf};

/// Two streams connected in memory: what one writes, the other reads, with at most
/// `max_buf_size` bytes in flight each way (a writer waits while its direction is full).
///
/// The equivalent of `tokio::io::duplex`. Both ends are `Send`, so they can sit in two
/// runtimes' tasks; no descriptor is involved (nothing for the driver to do), which also makes
/// them a portable stand-in for a socket pair in tests. Ending one end's writing side with
/// [`shutdown`](AsyncWrite::shutdown) or dropping it makes the other end read the end of the
/// stream after the bytes already written; writing to an end whose peer is gone is
/// `BrokenPipe`. A `max_buf_size` of 0 is taken as 1.
///
/// # Cancel safety
///
/// A read or write that is dropped before it completes has moved no bytes.
///
/// # Examples
///
/// ```
/// use proactor::io::{duplex, AsyncRead, AsyncWrite};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut client, mut server) = duplex(64);
///     client.write_all(&b"ping"[..]).await.0?;
///     let (count, request) = server.read(Vec::with_capacity(16)).await;
///     assert_eq!(&request[..count?], b"ping");
///     server.write_all(&b"pong"[..]).await.0?;
///     drop(server);
///     let (result, reply) = client.read_to_end(Vec::new()).await;
///     result?;
///     assert_eq!(reply, b"pong");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let one = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    let two = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    (
        DuplexStream {
            read: Arc::clone(&one),
            write: Arc::clone(&two),
        },
        DuplexStream {
            read: two,
            write: one,
        },
    )
}

/// One end of a [`duplex`] pair.
///
/// # Examples
///
/// ```
/// use proactor::io::{duplex, AsyncWrite};
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut a, b) = duplex(4);
///     drop(b);
///     let (result, _) = a.write(&b"nobody reads"[..]).await;
///     assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct DuplexStream {
    /// Bytes the peer wrote for this end.
    read: Arc<Mutex<Pipe>>,
    /// Bytes this end writes for the peer.
    write: Arc<Mutex<Pipe>>,
}

/// One direction.
struct Pipe {
    bytes: VecDeque<u8>,
    max: usize,
    /// The writing end shut down or went away: the reader sees the end after `bytes`.
    writer_closed: bool,
    /// The reading end went away: writes fail.
    reader_closed: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl Pipe {
    fn new(max: usize) -> Pipe {
        Pipe {
            bytes: VecDeque::new(),
            max: max.max(1),
            writer_closed: false,
            reader_closed: false,
            reader: None,
            writer: None,
        }
    }
}

/// A pipe's lock; a panic elsewhere while it was held leaves the bytes as they were.
fn lock(pipe: &Mutex<Pipe>) -> std::sync::MutexGuard<'_, Pipe> {
    pipe.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Stores `waker` in `slot` unless an equivalent one is there.
fn remember(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(known) if known.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

impl DuplexStream {
    async fn read_shared<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        let mut buffer: Buffer = buf.into_buffer();
        if buffer.read_capacity() == 0 {
            return (Ok(0), B::from_buffer(buffer));
        }
        let count = poll_fn(|context| {
            let mut pipe = lock(&self.read);
            if pipe.bytes.is_empty() {
                if pipe.writer_closed {
                    return Poll::Ready(0);
                }
                remember(&mut pipe.reader, context.waker());
                return Poll::Pending;
            }
            let count = buffer.fill_from(pipe.bytes.make_contiguous());
            pipe.bytes.drain(..count);
            if let Some(writer) = pipe.writer.take() {
                writer.wake();
            }
            Poll::Ready(count)
        })
        .await;
        (Ok(count), B::from_buffer(buffer))
    }

    async fn write_shared<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        let buffer: Buffer = buf.into_buffer();
        let bytes = buffer.as_slice();
        if bytes.is_empty() {
            return (Ok(0), B::from_buffer(buffer));
        }
        let result = poll_fn(|context| {
            let mut pipe = lock(&self.write);
            if pipe.reader_closed {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the other end of the duplex stream is gone",
                )));
            }
            if pipe.writer_closed {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "this end of the duplex stream was shut down for writing",
                )));
            }
            let room = pipe.max.saturating_sub(pipe.bytes.len());
            if room == 0 {
                remember(&mut pipe.writer, context.waker());
                return Poll::Pending;
            }
            let count = room.min(bytes.len());
            pipe.bytes.extend(&bytes[..count]);
            if let Some(reader) = pipe.reader.take() {
                reader.wake();
            }
            Poll::Ready(Ok(count))
        })
        .await;
        (result, B::from_buffer(buffer))
    }
}

impl AsyncRead for DuplexStream {
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        self.read_shared(buf).await
    }
}

/// Reads through a shared reference, as `&TcpStream` does, so that [`split`](fn@super::split)
/// takes a duplex end too.
impl AsyncRead for &DuplexStream {
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        self.read_shared(buf).await
    }
}

impl AsyncWrite for DuplexStream {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        self.write_shared(buf).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        (&*self).flush().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        (&*self).shutdown().await
    }
}

impl AsyncWrite for &DuplexStream {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        self.write_shared(buf).await
    }

    /// Nothing to flush: written bytes are readable at once.
    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// The peer reads the end of the stream after what was written; later writes here are
    /// `BrokenPipe`.
    async fn shutdown(&mut self) -> io::Result<()> {
        let mut pipe = lock(&self.write);
        pipe.writer_closed = true;
        if let Some(reader) = pipe.reader.take() {
            reader.wake();
        }
        Ok(())
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        let mut outgoing = lock(&self.write);
        outgoing.writer_closed = true;
        if let Some(reader) = outgoing.reader.take() {
            reader.wake();
        }
        drop(outgoing);
        let mut incoming = lock(&self.read);
        incoming.reader_closed = true;
        // Buffered bytes nobody will read: free them now rather than with the last end.
        incoming.bytes = VecDeque::new();
        if let Some(writer) = incoming.writer.take() {
            writer.wake();
        }
    }
}

impl fmt::Debug for DuplexStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let readable = lock(&self.read).bytes.len();
        let written = lock(&self.write).bytes.len();
        f.debug_struct("DuplexStream")
            .field("readable", &readable)
            .field("unread_by_peer", &written)
            .finish()
    }
}
