//! Driver operations as futures.
//!
//! [`submit`] hands an operation to the driver, claims its completion (see
//! `Driver::claim`) and returns a future for it. The runtime keeps no table of its own: the
//! driver's slot holds the completion until the future takes it, and the future's token,
//! which the driver reports when the completion comes, says whom to wake — the task polling
//! it (its index: no waker is cloned or called) or, for a future polled under another waker
//! (inside `FuturesUnordered`, say), that waker, kept in a small table. Dropping the future
//! before it completes cancels the operation and gives up the claim; the completion, when it
//! arrives, goes to the owner's [`Orphan`] action (a stream keeps the bytes a cancelled read
//! received) or is disposed of (a descriptor it created is closed).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use proactor_driver::{Buffer, Completion, Op, OpId};

use super::context::current;
use super::{try_with, Inner};

/// Bytes a cancelled read received, kept for the stream's next read.
#[derive(Debug, Default)]
pub(crate) struct Leftover {
    pub(crate) bytes: Vec<u8>,
    /// Cancelled reads whose completions have not arrived yet. A new read waits for them:
    /// their bytes come before anything it could receive.
    pub(crate) pending: usize,
    pub(crate) waiter: Option<Waker>,
    /// A cancelled read met the end of the stream: the next read returns it. A new read
    /// would find it again on Linux, but Wine answers a receive after the peer's close
    /// only once, so an end a cancel swallowed would leave the reader waiting forever.
    pub(crate) ended: bool,
    /// An error a cancelled read met (a reset): the next read returns it, after the kept
    /// bytes. The OS reports a reset once and a later receive finds the end of the stream,
    /// so a reset a cancel swallowed would make a broken connection look like one that
    /// ended cleanly, with no sign of the bytes it lost.
    pub(crate) error: Option<io::Error>,
}

impl Leftover {
    /// Takes what the next read returns without reading: kept bytes (as many as `room`), or
    /// the error or the end of the stream a cancelled read met once they are all gone.
    pub(crate) fn take_kept(
        &mut self,
        room: usize,
        into: impl FnOnce(&[u8]) -> usize,
    ) -> Option<io::Result<usize>> {
        if !self.bytes.is_empty() && room > 0 {
            let count = into(&self.bytes);
            self.bytes.drain(..count);
            return Some(Ok(count));
        }
        if let Some(error) = self.error.take() {
            return Some(Err(error));
        }
        if self.ended && room > 0 {
            self.ended = false;
            return Some(Ok(0));
        }
        None
    }

    /// As [`take_kept`](Leftover::take_kept) for a peek: the same answer, taking nothing
    /// (the error is given as a copy: its kind and OS code, or its kind and message).
    pub(crate) fn peek_kept(
        &self,
        room: usize,
        into: impl FnOnce(&[u8]) -> usize,
    ) -> Option<io::Result<usize>> {
        if !self.bytes.is_empty() && room > 0 {
            return Some(Ok(into(&self.bytes)));
        }
        if let Some(error) = &self.error {
            return Some(Err(match error.raw_os_error() {
                Some(code) => io::Error::from_raw_os_error(code),
                None => io::Error::new(error.kind(), error.to_string()),
            }));
        }
        if self.ended && room > 0 {
            return Some(Ok(0));
        }
        None
    }

    /// Whether a read has something here to return before it may read the descriptor.
    pub(crate) fn is_clear(&self) -> bool {
        self.pending == 0 && self.bytes.is_empty() && !self.ended && self.error.is_none()
    }

    /// Keeps `error`, which a cancelled read met, unless it is the cancel's own (or says
    /// nothing of the connection); the first one kept is the one returned.
    fn keep_error(&mut self, error: io::Error) {
        let says_nothing = proactor_driver::is_cancelled(&error)
            || proactor_driver::is_pool_exhausted(&error)
            || error.kind() == io::ErrorKind::Interrupted;
        if !says_nothing && self.error.is_none() {
            self.error = Some(error);
        }
    }
}

/// What to do with the completion of an operation whose future was dropped.
pub(crate) enum Orphan {
    /// Keep the bytes a cancelled read received, from `start` in the returned buffer, for
    /// the stream's next read: no byte is lost to a cancel.
    KeepReceived {
        leftover: Rc<RefCell<Leftover>>,
        start: usize,
    },
    /// Keep the bytes a cancelled pooled receive (or each receive of a multishot one) got in
    /// its lent buffer, for the stream's next read; the buffer goes back to its pool.
    KeepPooled { leftover: Rc<RefCell<Leftover>> },
    /// The operation's result, when Ok, is a descriptor it made (a pool job that connects):
    /// nobody will take it, so close it.
    #[cfg_attr(not(unix), allow(dead_code))] // Unix sockets' connect is its only user.
    CloseMade,
}

impl Orphan {
    /// The operation is now in flight with nobody waiting for it.
    fn adopted(&self) {
        match self {
            Orphan::KeepReceived { leftover, .. } | Orphan::KeepPooled { leftover } => {
                leftover.borrow_mut().pending += 1
            }
            Orphan::CloseMade => {}
        }
    }

    /// One completion of a multishot operation that goes on (`more`): its bytes are kept,
    /// and the action stays for the next.
    fn take_item(&self, completion: Completion) {
        if let Orphan::KeepPooled { leftover } = self {
            if let Op::RecvPooled {
                buffer: Some(buffer),
                ..
            } = &completion.op
            {
                leftover.borrow_mut().bytes.extend_from_slice(buffer);
            }
        }
    }

    /// Its completion arrived (`in_flight`: it had been [`adopted`](Orphan::adopted)).
    fn take(self, completion: Completion, in_flight: bool) {
        match self {
            Orphan::KeepReceived { leftover, start } => {
                let mut leftover = leftover.borrow_mut();
                match (completion.result, completion.op.into_buffer()) {
                    (Ok(count), Some(buffer)) => {
                        if let Some(bytes) = buffer.as_slice().get(start..start + count) {
                            leftover.bytes.extend_from_slice(bytes);
                        }
                        // Zero bytes into a buffer with room is the end of the stream.
                        if count == 0 && buffer.read_capacity() > 0 {
                            leftover.ended = true;
                        }
                    }
                    (Err(error), _) => leftover.keep_error(error),
                    (Ok(_), None) => {}
                }
                if in_flight {
                    leftover.pending -= 1;
                    if let Some(waiter) = leftover.waiter.take() {
                        waiter.wake();
                    }
                }
            }
            Orphan::KeepPooled { leftover } => {
                let mut leftover = leftover.borrow_mut();
                match (completion.result, &completion.op) {
                    (
                        Ok(_),
                        Op::RecvPooled {
                            buffer: Some(buffer),
                            ..
                        },
                    ) => leftover.bytes.extend_from_slice(buffer),
                    (Ok(0), _) => leftover.ended = true,
                    // A receive into a buffer allocated for it (the pool was empty).
                    (Ok(count), Op::Recv { buf, .. }) => leftover
                        .bytes
                        .extend_from_slice(buf.as_slice().get(..count).unwrap_or_default()),
                    (Ok(_), _) => {}
                    (Err(error), _) => leftover.keep_error(error),
                }
                if in_flight {
                    leftover.pending -= 1;
                    if let Some(waiter) = leftover.waiter.take() {
                        waiter.wake();
                    }
                }
            }
            Orphan::CloseMade => {
                if let Ok(fd) = completion.result {
                    // SAFETY: the operation made this descriptor for a future that is gone;
                    // nobody else has seen it.
                    unsafe { crate::sys::close(fd as proactor_driver::Fd) };
                }
            }
        }
    }
}

/// Drops a completion nobody will take, closing a descriptor it created.
fn dispose(completion: Completion) {
    if let (Ok(fd), true) = (&completion.result, completion.op.creates_fd()) {
        // SAFETY: the operation created this descriptor and nobody else has seen it.
        unsafe { crate::sys::close(*fd as proactor_driver::Fd) };
    }
}

/// Closes `fd` through `runtime`'s driver without waiting (readiness backends then forget
/// what they cached about it); without a runtime, closes it at once.
pub(crate) fn close_detached(fd: proactor_driver::Fd, runtime: Option<&Inner>) {
    match runtime {
        Some(inner) => {
            // Unclaimed: its completion comes out of `poll` and is disposed of.
            inner.driver.borrow_mut().submit(Op::Close { fd });
            // Inside the runtime's loop the close goes with the turn's batch. Outside it
            // (a stream dropped after `block_on` returned) nothing would start it before the
            // runtime next runs, which may be never: the peer would wait on an open socket.
            let running = try_with(|current| std::ptr::eq(current, inner)).unwrap_or(false);
            if !running {
                inner.flush();
            }
        }
        // SAFETY: the caller owns `fd` and gives it up.
        None => unsafe { crate::sys::close(fd) },
    }
}

/// Tells the driver `fd` is a descriptor it has not seen (see `Driver::forget_fd`).
pub(crate) fn adopt(fd: proactor_driver::Fd) {
    try_with(|inner| inner.driver.borrow_mut().forget_fd(fd));
}

/// Submits `op` to the current runtime's driver.
///
/// # Panics
///
/// Outside a runtime.
#[inline]
pub(crate) fn submit(op: Op) -> Submitted {
    let runtime = current();
    // Claimed at once: a completion that comes before the first poll waits in its slot.
    let id = runtime
        .driver
        .borrow_mut()
        .submit_claimed(op, Token::UNSET.0);
    Submitted::new(runtime, Some(id))
}

/// Submits `op` to the current runtime's driver, claimed at once for whoever polls under
/// `cx`. Returns the future, and whether the completion may already be there (see
/// `Driver::finishes_in_submit`): when it cannot be, the caller returns `Pending` without
/// looking, and is woken when it comes.
///
/// # Panics
///
/// Outside a runtime.
///
/// With a `timeout`, the operation ends with `TimedOut` if it has not finished in time (see
/// `Driver::submit_with_timeout`: on io_uring the kernel times it). `make` builds the
/// operation where the driver keeps it (see `Driver::submit_claimed_with`).
#[inline]
pub(crate) fn submit_polled(
    make: impl FnOnce() -> Op,
    timeout: Option<Duration>,
    cx: &Context<'_>,
) -> (Submitted, bool) {
    let mut submitted = Submitted::new(current(), None);
    let token = submitted.token(cx);
    let mut driver = submitted.runtime.driver.borrow_mut();
    let id = match timeout {
        None => driver.submit_claimed_with(make, token.0),
        Some(timeout) => driver.submit_claimed_with_timeout(make(), timeout, token.0),
    };
    let may_be_done = driver.finishes_in_submit();
    drop(driver);
    submitted.id = Some(id);
    (submitted, may_be_done)
}

/// As [`submit`], with an optional `timeout` (see [`submit_polled`]).
///
/// # Panics
///
/// Outside a runtime.
#[inline]
pub(crate) fn submit_timed(op: Op, timeout: Option<Duration>) -> Submitted {
    let Some(timeout) = timeout else {
        return submit(op);
    };
    let runtime = current();
    let id = runtime
        .driver
        .borrow_mut()
        .submit_claimed_with_timeout(op, timeout, Token::UNSET.0);
    Submitted::new(runtime, Some(id))
}

/// What the driver reports when a claimed completion comes: whom to wake.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Token(pub(crate) u64);

impl Token {
    /// Claimed, not yet polled: nobody to wake (the first poll finds the completion).
    pub(crate) const UNSET: Token = Token(u64::MAX - 1);
    /// `block_on`'s future.
    pub(crate) const MAIN: Token = Token(u64::MAX);
    /// Set for an index into the runtime's table of other wakers; clear for a task's index.
    pub(crate) const FOREIGN: u64 = 1 << 62;
}

/// Wakers of operation futures polled under a waker that is not their task's own, by index
/// (the `FOREIGN` tokens): each future keeps its entry until it completes or drops.
#[derive(Default)]
pub(crate) struct ForeignWakers {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl ForeignWakers {
    /// Records `waker` in the entry `held` (taking a new one if there is none); returns the
    /// entry.
    fn register(&mut self, held: Option<usize>, waker: &Waker) -> usize {
        let index = match held {
            Some(index) => index,
            None => match self.free.pop() {
                Some(index) => index,
                None => {
                    self.wakers.push(None);
                    self.wakers.len() - 1
                }
            },
        };
        let entry = &mut self.wakers[index];
        if !entry.as_ref().is_some_and(|old| old.will_wake(waker)) {
            *entry = Some(waker.clone());
        }
        index
    }

    fn release(&mut self, index: usize) {
        self.wakers[index] = None;
        self.free.push(index);
    }

    /// The waker of entry `index`, taken (its future registers again when polled).
    pub(crate) fn take(&mut self, index: usize) -> Option<Waker> {
        self.wakers.get_mut(index)?.take()
    }
}

/// The completion of a submitted operation.
pub(crate) struct Submitted {
    /// The runtime whose driver runs the operation (whatever runtime is current when this
    /// future is polled or dropped).
    runtime: Rc<Inner>,
    /// The operation, until its completion is taken.
    id: Option<OpId>,
    /// Its entry in the runtime's table of other wakers, if it was polled under one.
    foreign: Option<usize>,
    orphan: Option<Orphan>,
    /// Dropped before it completes, the operation runs on instead of being cancelled.
    detached: bool,
}

impl Submitted {
    #[inline]
    fn new(runtime: Rc<Inner>, id: Option<OpId>) -> Submitted {
        Submitted {
            runtime,
            id,
            foreign: None,
            orphan: None,
            detached: false,
        }
    }

    /// What receives the completion if this future is dropped before it completes.
    pub(crate) fn on_orphan(&mut self, orphan: Orphan) {
        self.orphan = Some(orphan);
    }

    /// Dropping this future before it completes leaves the operation to run to its end (its
    /// completion is disposed of) instead of cancelling it.
    pub(crate) fn detach_on_drop(&mut self) {
        self.detached = true;
    }

    /// The completion was taken from the driver: this future is done.
    #[inline]
    fn taken(&mut self, completion: Completion) -> Completion {
        self.done();
        completion
    }

    #[inline]
    fn done(&mut self) {
        self.id = None;
        if let Some(index) = self.foreign.take() {
            self.runtime.foreign.borrow_mut().release(index);
        }
    }
}

impl Submitted {
    /// The token that wakes whoever polls under `cx`.
    #[inline]
    fn token(&mut self, cx: &Context<'_>) -> Token {
        match self.runtime.task_token(cx.waker()) {
            Some(token) => token,
            None => {
                let index = self
                    .runtime
                    .foreign
                    .borrow_mut()
                    .register(self.foreign, cx.waker());
                self.foreign = Some(index);
                Token(Token::FOREIGN | index as u64)
            }
        }
    }

    /// The operation's own id, until its completion is taken.
    #[inline]
    fn id(&self) -> OpId {
        match self.id {
            Some(id) => id,
            None => panic!("proactor: operation future polled after it completed"),
        }
    }

    /// A future for the result and the buffer of a single-buffer operation (a read or a
    /// write), taken from the driver's slot without moving the whole completion.
    pub(crate) fn buffer(self) -> BufferResult {
        BufferResult(self)
    }
}

impl Submitted {
    /// As `poll`, for a multishot operation: a completion that says more leaves the operation
    /// this future's, to be polled again for the next.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Completion> {
        let id = self.id();
        let token = self.token(cx);
        let done = self.runtime.driver.borrow_mut().claim(id, token.0);
        match done {
            Some(completion) if completion.more => Poll::Ready(completion),
            Some(completion) => Poll::Ready(self.taken(completion)),
            None => Poll::Pending,
        }
    }
}

impl Future for Submitted {
    type Output = Completion;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Completion> {
        let this = &mut *self;
        let id = this.id();
        let token = this.token(cx);
        let done = this.runtime.driver.borrow_mut().claim(id, token.0);
        match done {
            Some(completion) => Poll::Ready(this.taken(completion)),
            None => Poll::Pending,
        }
    }
}

impl Submitted {
    /// As `poll`, for a single-buffer operation (a read or a write): only its result and
    /// buffer are taken from the driver's slot, not the whole completion.
    #[inline]
    pub(crate) fn poll_buffer(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<(io::Result<usize>, Buffer)> {
        let token = self.token(cx);
        self.claim_buffer(token)
    }

    /// As `poll_buffer`, with the buffer turned into the caller's type inside the claim: a
    /// `Vec` is a third of a `Buffer`, and it is the `Vec` that is then moved out.
    #[inline]
    pub(crate) fn poll_buffer_into<T>(
        &mut self,
        cx: &mut Context<'_>,
        into: impl FnOnce(Buffer) -> T,
    ) -> Poll<(io::Result<usize>, T)> {
        let token = self.token(cx);
        self.claim_buffer_into(token, into)
    }

    /// Takes the result and buffer if they came, else leaves `token` to be woken.
    #[inline]
    fn claim_buffer(&mut self, token: Token) -> Poll<(io::Result<usize>, Buffer)> {
        self.claim_buffer_into(token, |buffer| buffer)
    }

    #[inline]
    fn claim_buffer_into<T>(
        &mut self,
        token: Token,
        into: impl FnOnce(Buffer) -> T,
    ) -> Poll<(io::Result<usize>, T)> {
        let id = self.id();
        let done = self
            .runtime
            .driver
            .borrow_mut()
            .claim_with(id, token.0, |result, op| {
                let buffer = op.take_buffer();
                (
                    result,
                    into(buffer.unwrap_or_else(|| Buffer::from(&[][..]))),
                )
            });
        match done {
            Some(done) => {
                self.done();
                Poll::Ready(done)
            }
            None => Poll::Pending,
        }
    }

    /// As `poll_buffer`, but an operation not done yet is first started at once, with everything
    /// else its runtime has queued (`Inner::flush`): one the kernel finishes inline (a send
    /// the socket buffer takes) is then ready in this call instead of after the runtime's
    /// next turn and another poll of the task. For a caller that cannot go on without the
    /// result (a flush); everything else batches better by waiting.
    ///
    /// Only when no other task waits to run in this turn: those would submit operations of
    /// their own, and the turn's end hands them all to the kernel in one system call, where
    /// a flush per task would make one each (measured under wrk with 64 connections: 1.0
    /// `io_uring_enter` per request flushing always, 0.03 batching). The last task of a turn
    /// flushes everyone's operations, and is spared the extra poll.
    #[cfg(compat)]
    pub(crate) fn poll_buffer_now(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<(io::Result<usize>, Buffer)> {
        // The flush comes before this poll leaves its token, so an operation it completes
        // wakes nobody: the task goes on in this poll instead of being queued again.
        if self.id.is_some() && !self.runtime.has_runnable() {
            if let Poll::Ready(done) = self.claim_buffer(Token::UNSET) {
                return Poll::Ready(done);
            }
            self.runtime.flush();
        }
        self.poll_buffer(cx)
    }
}

/// The result and buffer of a read or a write (see [`Submitted::buffer`]).
pub(crate) struct BufferResult(Submitted);

impl BufferResult {
    /// See [`Submitted::on_orphan`].
    pub(crate) fn on_orphan(&mut self, orphan: Orphan) {
        self.0.on_orphan(orphan);
    }
}

impl Future for BufferResult {
    type Output = (io::Result<usize>, Buffer);

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.poll_buffer(cx)
    }
}

impl BufferResult {
    /// As `poll`, with the buffer turned into the caller's type as it is taken (see
    /// [`Submitted::poll_buffer_into`]).
    #[inline]
    pub(crate) fn poll_into<T>(
        &mut self,
        cx: &mut Context<'_>,
        into: impl FnOnce(Buffer) -> T,
    ) -> Poll<(io::Result<usize>, T)> {
        self.0.poll_buffer_into(cx, into)
    }
}

impl Drop for Submitted {
    #[inline]
    fn drop(&mut self) {
        // Inline, the common case (the completion was taken) is one test.
        if let Some(id) = self.id.take() {
            self.abandon(id);
        }
    }
}

impl Submitted {
    /// Dropped before its completion was taken: hands the completion, now or when it comes,
    /// to the orphan action (or disposal), cancelling the operation if it is still running.
    #[inline(never)]
    fn abandon(&mut self, id: OpId) {
        if let Some(index) = self.foreign.take() {
            self.runtime.foreign.borrow_mut().release(index);
        }
        let orphan = self.orphan.take();
        let inner = &self.runtime;
        let mut came = inner.driver.borrow_mut().unclaim(id);
        // A multishot operation's completions that came and were not taken: kept by the
        // orphan action (or dropped, their buffers going back to their pool).
        while let Some(item) = came.take_if(|completion| completion.more) {
            match &orphan {
                Some(orphan) => orphan.take_item(item),
                None => dispose(item),
            }
            came = inner.driver.borrow_mut().unclaim(id);
        }
        match came {
            // Completed but never taken: the orphan action (or disposal) takes it now.
            Some(completion) => match orphan {
                Some(orphan) => orphan.take(completion, false),
                None => dispose(completion),
            },
            // Still running: its completion comes out of the driver's `poll`, exactly once.
            None => {
                if let Some(orphan) = orphan {
                    orphan.adopted();
                    inner.orphans.borrow_mut().insert(id, orphan);
                }
                if !self.detached {
                    let _ = inner.driver.borrow_mut().cancel(id);
                }
            }
        }
    }
}

/// Handles a completion `poll` handed out: an operation nobody claims any more.
pub(crate) fn orphaned(inner: &Inner, completion: Completion) {
    let orphan = {
        let mut orphans = inner.orphans.borrow_mut();
        if orphans.is_empty() {
            None
        } else if completion.more {
            // One of a multishot operation's: its action stays for the rest.
            match orphans.get(&completion.id) {
                Some(orphan) => orphan.take_item(completion),
                None => dispose(completion),
            }
            return;
        } else {
            orphans.remove(&completion.id)
        }
    };
    match orphan {
        Some(orphan) => orphan.take(completion, true),
        None => dispose(completion),
    }
}
