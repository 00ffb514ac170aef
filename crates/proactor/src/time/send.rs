//! A sleep that is `Send` and `Sync`, for APIs that demand it (hyper's `rt::Sleep`): it names
//! its runtime by the runtime's shared `Arc` instead of holding the thread-bound `Rc`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use super::TimerKey;
use crate::runtime::{try_current, Inner, Shared};

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
        SendSleep::until(
            Instant::now()
                .checked_add(duration)
                .unwrap_or_else(super::far_future),
        )
    }

    pub(crate) fn until(deadline: Instant) -> SendSleep {
        SendSleep {
            deadline,
            armed: None,
        }
    }

    /// The current runtime, if it is the one holding this sleep's timer.
    fn holder(&self) -> Option<(TimerKey, std::rc::Rc<Inner>)> {
        let (key, shared) = self.armed.as_ref()?;
        let inner = try_current()?;
        Arc::ptr_eq(&inner.shared, shared).then_some((*key, inner))
    }

    fn disarm(&mut self) {
        if let Some((key, inner)) = self.holder() {
            inner.timers.borrow_mut().disarm(key);
        }
        self.armed = None;
    }
}

impl Future for SendSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.disarm();
            return Poll::Ready(());
        }
        let Some(inner) = try_current() else {
            self.armed = None;
            return Poll::Ready(());
        };
        if let Some((key, holder)) = self.holder() {
            let mut timers = holder.timers.borrow_mut();
            if let Some(slot) = timers.slot(key) {
                let waker = slot.waker.get_or_insert_with(|| cx.waker().clone());
                if !waker.will_wake(cx.waker()) {
                    *waker = cx.waker().clone();
                }
                return Poll::Pending;
            }
        }
        // Not armed yet, fired before the deadline check saw it pass, or armed elsewhere.
        let key = inner
            .timers
            .borrow_mut()
            .arm(self.deadline, cx.waker().clone());
        self.armed = Some((key, Arc::clone(&inner.shared)));
        Poll::Pending
    }
}

impl Drop for SendSleep {
    fn drop(&mut self) {
        self.disarm();
    }
}
