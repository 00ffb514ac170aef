//! A sleep that is `Send` and `Sync`, for APIs that demand it (hyper's `rt::Sleep`): it names
//! its runtime by the runtime's shared `Arc` instead of holding the thread-bound `Rc`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use super::TimerKey;
use crate::runtime::{try_with, Shared};

/// Waits until `deadline` on the runtime that polls it.
///
/// Polled outside a proactor runtime it ends at once: there is no timer to wait on, and
/// ending is the only answer that cannot hang. Moved to another runtime, it arms a timer
/// there; the first runtime's timer then fires into a stale waker, which is harmless.
pub(crate) struct SendSleep {
    deadline: Instant,
    /// The armed timer and the runtime whose timers hold it.
    armed: Option<(TimerKey, Arc<Shared>)>,
}

impl SendSleep {
    /// Ends `duration` from now (durations past what `Instant` holds mean never).
    pub(crate) fn after(duration: std::time::Duration) -> SendSleep {
        SendSleep::until(super::saturating_add(super::now(), duration))
    }

    pub(crate) fn until(deadline: Instant) -> SendSleep {
        SendSleep {
            deadline,
            armed: None,
        }
    }

    /// Moves the deadline; the timer is armed again at the next poll.
    pub(crate) fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = deadline;
    }

    fn disarm(&mut self) {
        if let Some((key, shared)) = self.armed.take() {
            // Only the runtime holding the timer can free it; elsewhere (another runtime, or
            // none) it fires into a stale waker later, which is harmless.
            try_with(|inner| {
                if Arc::ptr_eq(&inner.shared, &shared) {
                    inner.timers.borrow_mut().disarm(key);
                }
            });
        }
    }
}

/// What a poll found, decided while the runtime's context is borrowed.
enum Polled {
    Pending,
    Elapsed,
    Armed(TimerKey, Arc<Shared>),
}

impl Future for SendSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        // Through the borrowed context (no reference count taken), once per poll.
        let polled = try_with(|inner| {
            if let Some((key, shared)) = &this.armed {
                if Arc::ptr_eq(&inner.shared, shared) {
                    let mut timers = inner.timers.borrow_mut();
                    return match timers.slot(*key) {
                        Some(slot) => {
                            let waker = slot.waker.get_or_insert_with(|| cx.waker().clone());
                            if !waker.will_wake(cx.waker()) {
                                *waker = cx.waker().clone();
                            }
                            Polled::Pending
                        }
                        // Its slot moved on: it fired, which a timer does only once its
                        // deadline has passed (only this sleep disarms its own timer). So no
                        // clock read is needed here.
                        None => Polled::Elapsed,
                    };
                }
            }
            // Not armed yet, or armed on another runtime.
            if inner.clock.now() >= this.deadline {
                return Polled::Elapsed;
            }
            let key = inner
                .timers
                .borrow_mut()
                .arm(this.deadline, cx.waker().clone());
            Polled::Armed(key, Arc::clone(&inner.shared))
        });
        match polled {
            Some(Polled::Pending) => Poll::Pending,
            Some(Polled::Armed(key, shared)) => {
                this.armed = Some((key, shared));
                Poll::Pending
            }
            Some(Polled::Elapsed) => {
                this.disarm();
                Poll::Ready(())
            }
            // Outside a runtime: nothing to wait on, and it must not hang.
            None => {
                this.armed = None;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for SendSleep {
    fn drop(&mut self) {
        self.disarm();
    }
}
