//! Timeouts for the backends that keep their own (readiness, IOCP): a heap of deadlines whose
//! nearest bounds each wait. A cancelled timeout is not removed from the heap; its entry is
//! skipped when it reaches the top (the caller says which identities are still timers).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::FOREVER;
use crate::OpId;

#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Timers {
    /// Arms a timeout for `id`, `duration` from now.
    pub(crate) fn add(&mut self, id: OpId, duration: Duration) {
        let now = Instant::now();
        let deadline = now + duration.min(FOREVER);
        self.heap.push(Reverse((deadline, id.to_u64())));
    }

    /// The nearest deadline of a timeout that is still armed (`armed` tells), dropping the
    /// stale entries above it.
    pub(crate) fn next_deadline(&mut self, mut armed: impl FnMut(OpId) -> bool) -> Option<Instant> {
        while let Some(&Reverse((deadline, raw))) = self.heap.peek() {
            if armed(OpId::from_u64(raw)) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Takes the next entry due at `now`, armed or stale (the caller checks); `None` when
    /// nothing more is due.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<OpId> {
        let &Reverse((deadline, raw)) = self.heap.peek()?;
        if deadline > now {
            return None;
        }
        self.heap.pop();
        Some(OpId::from_u64(raw))
    }
}
