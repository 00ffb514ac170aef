//! Driver operations as futures.
//!
//! [`submit`] hands an operation to the driver and returns a future for its completion. The
//! runtime keeps one entry per operation in a slab of its own (reused, so waiting, completing
//! and waking allocate nothing in steady state), and maps the driver's slot index to it while
//! the driver holds the operation. The entry outlives the driver's slot: a completion waits in
//! it until its future takes it, while the driver may already reuse the slot. Dropping the
//! future before it completes cancels the operation; the completion, when it arrives, goes to
//! the owner's [`Orphan`] action (a stream keeps the bytes a cancelled read received) or is
//! disposed of (a descriptor it created is closed).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use proactor_driver::{Completion, Op, OpId};

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
}

impl Leftover {
    /// Takes what the next read returns without reading: kept bytes (as many as `room`), or
    /// the end of the stream a cancelled read met once they are all gone.
    pub(crate) fn take_kept(
        &mut self,
        room: usize,
        into: impl FnOnce(&[u8]) -> usize,
    ) -> Option<usize> {
        if !self.bytes.is_empty() && room > 0 {
            let count = into(&self.bytes);
            self.bytes.drain(..count);
            return Some(count);
        }
        if self.ended && room > 0 {
            self.ended = false;
            return Some(0);
        }
        None
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
    /// The operation's result, when Ok, is a descriptor it made (a pool job that connects):
    /// nobody will take it, so close it.
    #[cfg_attr(not(unix), allow(dead_code))] // Unix sockets' connect is its only user.
    CloseMade,
}

impl Orphan {
    /// The operation is now in flight with nobody waiting for it.
    fn adopted(&self) {
        match self {
            Orphan::KeepReceived { leftover, .. } => leftover.borrow_mut().pending += 1,
            Orphan::CloseMade => {}
        }
    }

    /// Its completion arrived (`in_flight`: it had been [`adopted`](Orphan::adopted)).
    fn take(self, completion: Completion, in_flight: bool) {
        match self {
            Orphan::KeepReceived { leftover, start } => {
                let mut leftover = leftover.borrow_mut();
                if let (Ok(count), Some(buffer)) = (completion.result, completion.op.into_buffer())
                {
                    if let Some(bytes) = buffer.as_slice().get(start..start + count) {
                        leftover.bytes.extend_from_slice(bytes);
                    }
                    // Zero bytes into a buffer with room is the end of the stream.
                    if count == 0 && buffer.read_capacity() > 0 {
                        leftover.ended = true;
                    }
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

enum Entry {
    Free,
    Waiting { id: OpId, waker: Option<Waker> },
    Done(Completion),
    Orphaned { id: OpId, orphan: Option<Orphan> },
}

#[derive(Default)]
pub(crate) struct Ops {
    entries: Vec<Entry>,
    free: Vec<usize>,
    /// Entry of each operation the driver holds, by the driver's slot index.
    by_slot: Vec<usize>,
}

impl Ops {
    #[inline]
    fn insert(&mut self, entry: Entry) -> usize {
        match self.free.pop() {
            Some(token) => {
                let old = std::mem::replace(&mut self.entries[token], entry);
                debug_assert!(matches!(old, Entry::Free));
                // A free token's entry is `Free` (see `release`), which owns nothing: skip
                // its out-of-line drop on this hot path.
                std::mem::forget(old);
                token
            }
            None => {
                self.entries.push(entry);
                self.entries.len() - 1
            }
        }
    }

    /// Frees `token`, whose entry the caller has already set to `Free`.
    #[inline]
    fn release(&mut self, token: usize) {
        debug_assert!(matches!(self.entries[token], Entry::Free));
        self.free.push(token);
    }

    #[inline]
    fn track(&mut self, id: OpId, token: usize) {
        let slot = id.index();
        if slot >= self.by_slot.len() {
            self.by_slot.resize(slot + 1, usize::MAX);
        }
        self.by_slot[slot] = token;
    }

    /// Records every completion in `completions`, in order, leaving it empty.
    #[inline]
    pub(crate) fn complete_all(&mut self, completions: &mut Vec<Completion>) {
        // One completion per turn is the common case for a connection at a time: `pop`
        // skips the drain, whose drop is an out-of-line call.
        if completions.len() == 1 {
            if let Some(completion) = completions.pop() {
                self.complete(completion);
            }
            return;
        }
        for completion in completions.drain(..) {
            self.complete(completion);
        }
    }

    /// Records a completion from the driver and wakes its waiter.
    pub(crate) fn complete(&mut self, completion: Completion) {
        let Some(&token) = self.by_slot.get(completion.id.index()) else {
            return dispose(completion);
        };
        let Some(entry) = self.entries.get_mut(token) else {
            return dispose(completion);
        };
        // Matched in place, so the common case moves the completion once and drops nothing.
        match entry {
            Entry::Waiting { id, waker } if *id == completion.id => {
                let waker = waker.take();
                // What is left of the `Waiting` entry owns nothing: skip its drop.
                std::mem::forget(std::mem::replace(entry, Entry::Done(completion)));
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            Entry::Orphaned { id, orphan } if *id == completion.id => {
                let orphan = orphan.take();
                *entry = Entry::Free;
                self.release(token);
                match orphan {
                    Some(orphan) => orphan.take(completion, true),
                    None => dispose(completion),
                }
            }
            // Not ours (impossible: the driver hands out each id once, while it is tracked).
            _ => dispose(completion),
        }
    }
}

/// Drops a completion nobody will take, closing a descriptor it created.
fn dispose(completion: Completion) {
    if let (Ok(fd), Op::Accept { .. } | Op::Socket { .. } | Op::OpenAt { .. }) =
        (&completion.result, &completion.op)
    {
        // SAFETY: the operation created this descriptor and nobody else has seen it.
        unsafe { crate::sys::close(*fd as proactor_driver::Fd) };
    }
}

/// Closes `fd` through `runtime`'s driver without waiting (readiness backends then forget
/// what they cached about it); without a runtime, closes it at once.
pub(crate) fn close_detached(fd: proactor_driver::Fd, runtime: Option<&Inner>) {
    match runtime {
        Some(inner) => {
            let id = inner.driver.borrow_mut().submit(Op::Close { fd });
            let mut ops = inner.ops.borrow_mut();
            let token = ops.insert(Entry::Orphaned { id, orphan: None });
            ops.track(id, token);
            drop(ops);
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
    let id = runtime.driver.borrow_mut().submit(op);
    let mut ops = runtime.ops.borrow_mut();
    let token = ops.insert(Entry::Waiting { id, waker: None });
    ops.track(id, token);
    drop(ops);
    Submitted {
        runtime,
        token: Some(token),
        orphan: None,
        detached: false,
    }
}

/// The completion of a submitted operation.
pub(crate) struct Submitted {
    /// The runtime whose driver runs the operation (whatever runtime is current when this
    /// future is polled or dropped).
    runtime: Rc<Inner>,
    /// The entry, until the completion is taken.
    token: Option<usize>,
    orphan: Option<Orphan>,
    /// Dropped before it completes, the operation runs on instead of being cancelled.
    detached: bool,
}

impl Submitted {
    /// What receives the completion if this future is dropped before it completes.
    pub(crate) fn on_orphan(&mut self, orphan: Orphan) {
        self.orphan = Some(orphan);
    }

    /// Dropping this future before it completes leaves the operation to run to its end (its
    /// completion is disposed of) instead of cancelling it.
    pub(crate) fn detach_on_drop(&mut self) {
        self.detached = true;
    }

    /// As `poll`, but an operation not done yet is first started at once, with everything
    /// else its runtime has queued (`Inner::flush`): one the kernel finishes inline (a send
    /// the socket buffer takes) is then ready in this call instead of after the runtime's
    /// next turn and another poll of the task. For a caller that cannot go on without the
    /// result (a flush); everything else batches better by waiting.
    ///
    /// The flush comes before the first poll registers the task's waker, so an operation it
    /// completes wakes nobody: the task goes on in this poll instead of being queued again.
    ///
    /// Only when no other task waits to run in this turn: those would submit operations of
    /// their own, and the turn's end hands them all to the kernel in one system call, where
    /// a flush per task would make one each (measured under wrk with 64 connections: 1.0
    /// `io_uring_enter` per request flushing always, 0.03 batching). The last task of a turn
    /// flushes everyone's operations, and is spared the extra poll.
    #[cfg(compat)]
    pub(crate) fn poll_now(&mut self, cx: &mut Context<'_>) -> Poll<Completion> {
        let waiting = self.token.is_some_and(|token| {
            matches!(
                self.runtime.ops.borrow().entries.get(token),
                Some(Entry::Waiting { .. })
            )
        });
        if waiting && !self.runtime.has_runnable() {
            self.runtime.flush();
        }
        Pin::new(self).poll(cx)
    }
}

impl Future for Submitted {
    type Output = Completion;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Completion> {
        let this = &mut *self;
        let Some(token) = this.token else {
            panic!("proactor: operation future polled after it completed");
        };
        let mut ops = this.runtime.ops.borrow_mut();
        let entry = &mut ops.entries[token];
        match entry {
            Entry::Done(_) => {
                let Entry::Done(completion) = std::mem::replace(entry, Entry::Free) else {
                    unreachable!("matched Done just above")
                };
                ops.release(token);
                this.token = None;
                Poll::Ready(completion)
            }
            Entry::Waiting { waker, .. } => {
                if !waker
                    .as_ref()
                    .is_some_and(|waker| waker.will_wake(cx.waker()))
                {
                    *waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            // Only this future moves its entry out of Waiting or Done.
            Entry::Free | Entry::Orphaned { .. } => Poll::Pending,
        }
    }
}

impl Drop for Submitted {
    #[inline]
    fn drop(&mut self) {
        // Inline, the common case (the completion was taken) is one test.
        if let Some(token) = self.token.take() {
            self.abandon(token);
        }
    }
}

impl Submitted {
    /// Dropped before its completion was taken: hands the completion, now or when it comes,
    /// to the orphan action (or disposal), cancelling the operation if it is still running.
    #[inline(never)]
    fn abandon(&mut self, token: usize) {
        let orphan = self.orphan.take();
        {
            let inner = &self.runtime;
            let mut ops = inner.ops.borrow_mut();
            let entry = &mut ops.entries[token];
            match std::mem::replace(entry, Entry::Free) {
                // Completed but never polled: the orphan action (or disposal) takes it now.
                Entry::Done(completion) => {
                    ops.release(token);
                    drop(ops);
                    match orphan {
                        Some(orphan) => orphan.take(completion, false),
                        None => dispose(completion),
                    }
                }
                Entry::Waiting { id, .. } => {
                    if let Some(orphan) = &orphan {
                        orphan.adopted();
                    }
                    *entry = Entry::Orphaned { id, orphan };
                    drop(ops);
                    // The completion still comes, exactly once, to the orphaned entry.
                    if !self.detached {
                        let _ = inner.driver.borrow_mut().cancel(id);
                    }
                }
                other => *entry = other,
            }
        }
    }
}
