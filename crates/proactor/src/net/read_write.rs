//! The futures of a stream's read and write, written by hand rather than as `async fn`s: a
//! pending read sits in the task of every idle connection, and a generated future would
//! keep the argument, the driver buffer and the operation side by side (240 bytes against
//! this one's ~90), and cost a state machine's moves on every poll.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::Stream;
use crate::runtime::op::BufferResult;
use crate::{BufResult, IoBuf};

/// What starting a read gave: its result at once (bytes a cancelled read kept, or a receive
/// that did not have to wait), a wait for the socket's next readable edge (with the buffer
/// and the token watching), or a receive in flight.
pub(crate) enum Begun<B> {
    Done(BufResult<usize, B>),
    Watching(proactor_driver::Buffer, u64),
    /// The receive, where its bytes start in its buffer, and whether it may have finished
    /// already (see `op::submit_polled`).
    Reading(BufferResult, usize, bool),
}

enum ReadState<B> {
    /// Not started: waits for cancelled reads still in flight (their bytes come first).
    Start(B),
    /// Waiting for the socket's next readable edge, to try again (see
    /// `Driver::watch_readable`): nothing is received meanwhile, so a drop loses nothing.
    Watching(proactor_driver::Buffer, u64),
    Reading(BufferResult, usize),
    Done,
}

/// A stream's read (see `Stream::read`). Nothing happens until it is polled; dropping it
/// while the receive is in flight cancels the receive, and the stream keeps what it got.
pub(crate) struct Read<'a, B> {
    stream: &'a Stream,
    state: ReadState<B>,
}

// The buffer is moved out by value, never pinned.
impl<B> Unpin for Read<'_, B> {}

impl<'a, B: IoBuf> Read<'a, B> {
    pub(super) fn new(stream: &'a Stream, buf: B) -> Read<'a, B> {
        Read {
            stream,
            state: ReadState::Start(buf),
        }
    }
}

impl<B: IoBuf> Future for Read<'_, B> {
    type Output = BufResult<usize, B>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let ReadState::Start(_) | ReadState::Watching(..) = this.state {
            // Cancelled reads in flight received what comes first (checked again after a
            // wait: another read of the stream may have been dropped meanwhile).
            if this.stream.poll_no_pending_reads(cx).is_pending()
                || this.stream.poll_budget(cx).is_pending()
            {
                return Poll::Pending;
            }
            let buffer = match std::mem::replace(&mut this.state, ReadState::Done) {
                ReadState::Start(buf) => buf.into_buffer(),
                ReadState::Watching(buffer, token) => {
                    // Woken by the edge, the driver has dropped the watch already; woken by
                    // anything else, it is withdrawn, to be asked for again if need be.
                    this.stream.unwatch_readable(token);
                    buffer
                }
                _ => unreachable!("matched Start or Watching just above"),
            };
            match this.stream.begin_read(buffer, cx) {
                Begun::Done(output) => return Poll::Ready(output),
                Begun::Watching(buffer, token) => {
                    // Woken at the next edge (or by anything else: then it looks again).
                    this.state = ReadState::Watching(buffer, token);
                    return Poll::Pending;
                }
                Begun::Reading(reading, start, may_be_done) => {
                    this.state = ReadState::Reading(reading, start);
                    if !may_be_done {
                        // Claimed for this task: it is woken when the receive ends.
                        return Poll::Pending;
                    }
                }
            }
        }
        let ReadState::Reading(reading, _) = &mut this.state else {
            panic!("proactor: read future polled after it completed");
        };
        let done = std::task::ready!(reading.poll_into(cx, B::from_buffer));
        this.state = ReadState::Done;
        Poll::Ready(done)
    }
}

impl<B> Drop for Read<'_, B> {
    fn drop(&mut self) {
        match &mut self.state {
            // Dropped with its receive in flight: the receive is cancelled, and what it got
            // is kept for the stream's next read (the bytes are not the caller's to lose).
            ReadState::Reading(reading, start) => {
                reading.on_orphan(self.stream.keep_received(*start));
            }
            // Nothing received: the wait is withdrawn.
            ReadState::Watching(_, token) => self.stream.unwatch_readable(*token),
            ReadState::Start(_) | ReadState::Done => {}
        }
    }
}

enum WriteState<B> {
    Start(B),
    Writing(BufferResult),
    Done,
}

/// A stream's write (see `Stream::write`). Nothing happens until it is polled.
pub(crate) struct Write<'a, B> {
    stream: &'a Stream,
    state: WriteState<B>,
    _buffer: PhantomData<B>,
}

// The buffer is moved out by value, never pinned.
impl<B> Unpin for Write<'_, B> {}

impl<'a, B: IoBuf> Write<'a, B> {
    pub(super) fn new(stream: &'a Stream, buf: B) -> Write<'a, B> {
        Write {
            stream,
            state: WriteState::Start(buf),
            _buffer: PhantomData,
        }
    }
}

impl<B: IoBuf> Future for Write<'_, B> {
    type Output = BufResult<usize, B>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let WriteState::Start(_) = this.state {
            std::task::ready!(this.stream.poll_budget(cx));
            let WriteState::Start(buf) = std::mem::replace(&mut this.state, WriteState::Done)
            else {
                unreachable!("matched Start just above")
            };
            let buffer = buf.into_buffer();
            if let Some(result) = this.stream.try_write_now(&buffer) {
                return Poll::Ready((result, B::from_buffer(buffer)));
            }
            let (writing, may_be_done) = this.stream.begin_write_polled(buffer, cx);
            this.state = WriteState::Writing(writing.buffer());
            if !may_be_done {
                // Claimed for this task: it is woken when the send ends.
                return Poll::Pending;
            }
        }
        let WriteState::Writing(writing) = &mut this.state else {
            panic!("proactor: write future polled after it completed");
        };
        let done = std::task::ready!(writing.poll_into(cx, B::from_buffer));
        this.state = WriteState::Done;
        Poll::Ready(done)
    }
}

enum WriteAllState<B> {
    Start(B),
    /// A send of what is left: `remaining` bytes, the caller's view once the loop narrowed
    /// the buffer (see `io::restore`).
    Writing {
        writing: BufferResult,
        remaining: usize,
        narrowed: Option<Option<std::ops::Range<usize>>>,
    },
    Done,
}

/// A stream's `write_all` (see `AsyncWrite::write_all`), written by hand for the same reason
/// as `Write`: a generated one keeps the caller's buffer, the driver buffer and a `Write`
/// side by side (224 bytes against this one's ~120), and it sits in every connection's task.
pub(crate) struct WriteAll<'a, B> {
    stream: &'a Stream,
    state: WriteAllState<B>,
}

// The buffer is moved out by value, never pinned.
impl<B> Unpin for WriteAll<'_, B> {}

impl<'a, B: IoBuf> WriteAll<'a, B> {
    pub(super) fn new(stream: &'a Stream, buf: B) -> WriteAll<'a, B> {
        WriteAll {
            stream,
            state: WriteAllState::Start(buf),
        }
    }
}

impl<B: IoBuf> Future for WriteAll<'_, B> {
    type Output = BufResult<(), B>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let WriteAllState::Start(_) = this.state {
            std::task::ready!(this.stream.poll_budget(cx));
            let WriteAllState::Start(buf) = std::mem::replace(&mut this.state, WriteAllState::Done)
            else {
                unreachable!("matched Start just above")
            };
            let buffer = buf.into_buffer();
            let remaining = buffer.len();
            if remaining == 0 {
                return Poll::Ready((Ok(()), B::from_buffer(buffer)));
            }
            let rest = Rest {
                buffer,
                remaining,
                narrowed: None,
            };
            let Rest {
                buffer,
                remaining,
                narrowed,
            } = match this.stream.transfers_now() {
                true => match rest.send_now(this.stream) {
                    Step::Finished(output) => return Poll::Ready(output),
                    Step::Rest(rest) => rest,
                },
                false => rest,
            };
            let (writing, may_be_done) = this.stream.begin_write_polled(buffer, cx);
            this.state = WriteAllState::Writing {
                writing: writing.buffer(),
                remaining,
                narrowed,
            };
            if !may_be_done {
                // Claimed for this task: it is woken when the send ends.
                return Poll::Pending;
            }
        }
        loop {
            let WriteAllState::Writing {
                writing,
                remaining,
                narrowed,
            } = &mut this.state
            else {
                panic!("proactor: write_all polled after it completed");
            };
            let (result, buffer) = std::task::ready!(Pin::new(writing).poll(cx));
            let (remaining, mut narrowed) = (*remaining, narrowed.take());
            this.state = WriteAllState::Done;
            let (buffer, remaining) = match result {
                Ok(0) => {
                    let error = std::io::Error::new(
                        std::io::ErrorKind::WriteZero,
                        "writer accepted no bytes",
                    );
                    let buffer = crate::io::restore(buffer, narrowed);
                    return Poll::Ready((Err(error), B::from_buffer(buffer)));
                }
                Ok(count) if count >= remaining => {
                    let buffer = crate::io::restore(buffer, narrowed);
                    return Poll::Ready((Ok(()), B::from_buffer(buffer)));
                }
                Ok(count) => {
                    if narrowed.is_none() {
                        narrowed = Some(buffer.view());
                    }
                    let rest = buffer
                        .slice(count..)
                        .unwrap_or_else(|_| unreachable!("count is within the view"));
                    (rest, remaining - count)
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {
                    (buffer, remaining)
                }
                Err(error) => {
                    let buffer = crate::io::restore(buffer, narrowed);
                    return Poll::Ready((Err(error), B::from_buffer(buffer)));
                }
            };
            let rest = Rest {
                buffer,
                remaining,
                narrowed,
            };
            let Rest {
                buffer,
                remaining,
                narrowed,
            } = match this.stream.transfers_now() {
                true => match rest.send_now(this.stream) {
                    Step::Finished(output) => return Poll::Ready(output),
                    Step::Rest(rest) => rest,
                },
                false => rest,
            };
            let (writing, may_be_done) = this.stream.begin_write_polled(buffer, cx);
            this.state = WriteAllState::Writing {
                writing: writing.buffer(),
                remaining,
                narrowed,
            };
            if !may_be_done {
                return Poll::Pending;
            }
        }
    }
}

/// What is left to send of a `write_all`, before a send.
struct Rest {
    buffer: proactor_driver::Buffer,
    remaining: usize,
    /// The caller's view, once the loop narrowed the buffer (see `io::restore`).
    narrowed: Option<Option<std::ops::Range<usize>>>,
}

/// Where a `write_all` stands after a send.
enum Step<B> {
    Finished(BufResult<(), B>),
    Rest(Rest),
}

impl Rest {
    /// Sends what is left at once, outside operations, while the socket takes it (see
    /// `Stream::try_write_now`): where the `write_all` stands when it stops taking it.
    fn send_now<B: IoBuf>(self, stream: &super::Stream) -> Step<B> {
        let mut rest = self;
        while let Some(result) = stream.try_write_now(&rest.buffer) {
            match rest.advance(result) {
                Step::Rest(more) => rest = more,
                finished => return finished,
            }
        }
        Step::Rest(rest)
    }

    /// Where the `write_all` stands once a send of these bytes gave `result` (`buffer`
    /// holds them).
    #[inline]
    fn advance<B: IoBuf>(self, result: std::io::Result<usize>) -> Step<B> {
        let Rest {
            buffer,
            remaining,
            mut narrowed,
        } = self;
        match result {
            Ok(0) => {
                let error =
                    std::io::Error::new(std::io::ErrorKind::WriteZero, "writer accepted no bytes");
                let buffer = crate::io::restore(buffer, narrowed);
                Step::Finished((Err(error), B::from_buffer(buffer)))
            }
            Ok(count) if count >= remaining => {
                let buffer = crate::io::restore(buffer, narrowed);
                Step::Finished((Ok(()), B::from_buffer(buffer)))
            }
            Ok(count) => {
                if narrowed.is_none() {
                    narrowed = Some(buffer.view());
                }
                let buffer = buffer
                    .slice(count..)
                    .unwrap_or_else(|_| unreachable!("count is within the view"));
                Step::Rest(Rest {
                    buffer,
                    remaining: remaining - count,
                    narrowed,
                })
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => Step::Rest(Rest {
                buffer,
                remaining,
                narrowed,
            }),
            Err(error) => {
                let buffer = crate::io::restore(buffer, narrowed);
                Step::Finished((Err(error), B::from_buffer(buffer)))
            }
        }
    }
}
