//! Driver operations as futures.
//!
//! [`submit`] hands an operation to the driver and returns a future for its completion. The
//! runtime keeps one entry per operation in flight in a vector indexed by the driver's slot
//! index, so waiting, completing and waking allocate nothing. Dropping the future before it
//! completes cancels the operation; the completion, when it arrives, goes to a hook the owner
//! left (a stream keeps the bytes a cancelled read received) or is disposed of (a descriptor
//! it created is closed).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use proactor_driver::{Completion, Op, OpId};

use super::{try_with, with};

/// What to do with the completion of an operation whose future was dropped.
pub(crate) enum Orphan {
    /// Keep the bytes a cancelled read received, from `start` in the returned buffer, for
    /// the stream's next read: no byte is lost to a cancel.
    KeepReceived {
        leftover: Rc<RefCell<Vec<u8>>>,
        start: usize,
    },
}

impl Orphan {
    fn take(self, completion: Completion) {
        match self {
            Orphan::KeepReceived { leftover, start } => {
                let count = match completion.result {
                    Ok(count) if count > 0 => count,
                    _ => return,
                };
                if let Some(buffer) = completion.op.into_buffer() {
                    if let Some(bytes) = buffer.as_slice().get(start..start + count) {
                        leftover.borrow_mut().extend_from_slice(bytes);
                    }
                }
            }
        }
    }
}

enum Entry {
    Vacant,
    Waiting(Option<Waker>),
    Done(Completion),
    Orphaned(Option<Orphan>),
}

#[derive(Default)]
pub(crate) struct Ops {
    entries: Vec<Entry>,
}

impl Ops {
    fn entry(&mut self, id: OpId) -> &mut Entry {
        let index = id.index();
        if index >= self.entries.len() {
            self.entries.resize_with(index + 1, || Entry::Vacant);
        }
        &mut self.entries[index]
    }

    /// Records a completion from the driver and wakes its waiter.
    pub(crate) fn complete(&mut self, completion: Completion) {
        let entry = self.entry(completion.id);
        match std::mem::replace(entry, Entry::Vacant) {
            Entry::Waiting(waker) => {
                *entry = Entry::Done(completion);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            Entry::Orphaned(Some(orphan)) => orphan.take(completion),
            Entry::Orphaned(None) | Entry::Vacant | Entry::Done(_) => dispose(completion),
        }
    }
}

/// Drops a completion nobody will take, closing a descriptor it created.
fn dispose(completion: Completion) {
    if let (Ok(fd), Op::Accept { .. } | Op::Socket { .. } | Op::OpenAt { .. }) =
        (&completion.result, &completion.op)
    {
        #[cfg(unix)]
        // SAFETY: the operation created this descriptor and nobody else has seen it.
        unsafe {
            libc::close(*fd as i32)
        };
    }
}

/// Closes `fd` through the driver without waiting (readiness backends then forget what they
/// cached about it); outside a runtime, closes it at once.
pub(crate) fn close_detached(fd: proactor_driver::Fd) {
    let submitted = try_with(|inner| {
        let id = inner.driver.borrow_mut().submit(Op::Close { fd });
        *inner.ops.borrow_mut().entry(id) = Entry::Orphaned(None);
    });
    if submitted.is_none() {
        #[cfg(unix)]
        // SAFETY: the caller owns `fd` and gives it up.
        unsafe {
            libc::close(fd)
        };
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
pub(crate) fn submit(op: Op) -> Submitted {
    let id = with(|inner| {
        let id = inner.driver.borrow_mut().submit(op);
        *inner.ops.borrow_mut().entry(id) = Entry::Waiting(None);
        id
    });
    Submitted {
        id: Some(id),
        orphan: None,
    }
}

/// The completion of a submitted operation.
pub(crate) struct Submitted {
    id: Option<OpId>,
    orphan: Option<Orphan>,
}

impl Submitted {
    /// What receives the completion if this future is dropped before it completes.
    pub(crate) fn on_orphan(&mut self, orphan: Orphan) {
        self.orphan = Some(orphan);
    }
}

impl Future for Submitted {
    type Output = Completion;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Completion> {
        let Some(id) = self.id else {
            panic!("proactor: operation future polled after it completed");
        };
        let completion = with(|inner| {
            let mut ops = inner.ops.borrow_mut();
            let entry = ops.entry(id);
            match std::mem::replace(entry, Entry::Vacant) {
                Entry::Done(completion) => Some(completion),
                Entry::Waiting(waker) => {
                    let waker = match waker {
                        Some(waker) if waker.will_wake(cx.waker()) => waker,
                        _ => cx.waker().clone(),
                    };
                    *entry = Entry::Waiting(Some(waker));
                    None
                }
                other => {
                    *entry = other;
                    None
                }
            }
        });
        match completion {
            Some(completion) => {
                self.id = None;
                Poll::Ready(completion)
            }
            None => Poll::Pending,
        }
    }
}

impl Drop for Submitted {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        let orphan = self.orphan.take();
        // Outside the runtime (it is being torn down), the driver's own drop cancels.
        try_with(move |inner| {
            let mut ops = inner.ops.borrow_mut();
            let entry = ops.entry(id);
            match std::mem::replace(entry, Entry::Vacant) {
                // Completed but never polled: the hook (or disposal) takes it now.
                Entry::Done(completion) => {
                    drop(ops);
                    match orphan {
                        Some(orphan) => orphan.take(completion),
                        None => dispose(completion),
                    }
                }
                _ => {
                    *entry = Entry::Orphaned(orphan);
                    drop(ops);
                    // NotFound would mean the driver already handed it out; the entry
                    // then receives it at the runtime's next turn.
                    let _ = inner.driver.borrow_mut().cancel(id);
                }
            }
        });
    }
}
