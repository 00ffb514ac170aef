//! The timers' deadlines: a binary min-heap, as `std::collections::BinaryHeap` but with the
//! one operation that one lacks: taking back the entry pushed last while it still sits at the
//! end, which is where a deadline later than every other one stays. A server arming a long
//! timeout per request and cancelling it a moment later (hyper's header-read timeout) then
//! leaves nothing behind for the next turn to pop.

use std::time::Instant;

/// A deadline, with the slot and generation of the timer it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) deadline: Instant,
    pub(super) index: u32,
    pub(super) generation: u32,
    /// When it was pushed (set by [`Deadlines::push`]): equal deadlines come out in the order
    /// they were set, as libuv's and tokio's timers fire.
    sequence: u64,
}

impl Entry {
    pub(super) fn new(deadline: Instant, index: u32, generation: u32) -> Entry {
        Entry {
            deadline,
            index,
            generation,
            sequence: 0,
        }
    }

    fn before(&self, other: &Entry) -> bool {
        (self.deadline, self.sequence) < (other.deadline, other.sequence)
    }
}

/// Entries ordered by deadline, earliest first; equal deadlines in the order pushed.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    entries: Vec<Entry>,
    pushed: u64,
}

impl Deadlines {
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The earliest entry.
    pub(super) fn peek(&self) -> Option<Entry> {
        self.entries.first().copied()
    }

    pub(super) fn push(&mut self, mut entry: Entry) {
        entry.sequence = self.pushed;
        self.pushed += 1;
        self.entries.push(entry);
        let mut at = self.entries.len() - 1;
        while at > 0 {
            let parent = (at - 1) / 2;
            if !entry.before(&self.entries[parent]) {
                break;
            }
            self.entries[at] = self.entries[parent];
            at = parent;
        }
        self.entries[at] = entry;
    }

    /// Removes the earliest entry.
    pub(super) fn pop(&mut self) {
        let Some(last) = self.entries.pop() else {
            return;
        };
        if !self.entries.is_empty() {
            self.sift_down(0, last);
        }
    }

    /// Removes `entry` if it is the last one (a heap minus its last element is a heap);
    /// returns whether it did.
    pub(super) fn take_back(&mut self, index: u32, generation: u32) -> bool {
        match self.entries.last() {
            Some(last) if last.index == index && last.generation == generation => {
                self.entries.pop();
                true
            }
            _ => false,
        }
    }

    /// Keeps the entries `keep` accepts, then restores the heap order.
    pub(super) fn retain(&mut self, keep: impl FnMut(&Entry) -> bool) {
        self.entries.retain(keep);
        for at in (0..self.entries.len() / 2).rev() {
            self.sift_down(at, self.entries[at]);
        }
    }

    /// Puts `entry` at `at` and moves it down until no child is earlier.
    fn sift_down(&mut self, mut at: usize, entry: Entry) {
        let len = self.entries.len();
        loop {
            let left = 2 * at + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.entries[right].before(&self.entries[left]) {
                right
            } else {
                left
            };
            if !self.entries[child].before(&entry) {
                break;
            }
            self.entries[at] = self.entries[child];
            at = child;
        }
        self.entries[at] = entry;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn entry(base: Instant, millis: u64, index: u32) -> Entry {
        Entry::new(base + Duration::from_millis(millis), index, 1)
    }

    fn drain(heap: &mut Deadlines) -> Vec<u32> {
        let mut order = Vec::new();
        while let Some(first) = heap.peek() {
            order.push(first.index);
            heap.pop();
        }
        order
    }

    #[test]
    fn pops_in_deadline_order() {
        let base = Instant::now();
        let mut heap = Deadlines::default();
        // A fixed shuffle of 0..64 (multiplying by an odd number modulo 64).
        for n in 0..64u32 {
            let index = (n * 37) % 64;
            heap.push(entry(base, u64::from(index), index));
        }
        assert_eq!(drain(&mut heap), (0..64).collect::<Vec<_>>());
    }

    #[test]
    fn the_latest_deadline_pushed_last_is_taken_back() {
        let base = Instant::now();
        let mut heap = Deadlines::default();
        heap.push(entry(base, 5, 0));
        heap.push(entry(base, 30_000, 1));
        assert!(heap.take_back(1, 1));
        assert_eq!(heap.len(), 1);
        // An earlier deadline sifts up, away from the end: it stays for `pop` to skip.
        heap.push(entry(base, 30_000, 2));
        heap.push(entry(base, 1, 3));
        assert!(!heap.take_back(3, 1));
        assert!(!heap.take_back(2, 7), "another generation is another timer");
        assert_eq!(drain(&mut heap), [3, 0, 2]);
    }

    #[test]
    fn equal_deadlines_pop_in_the_order_pushed() {
        let base = Instant::now();
        let mut heap = Deadlines::default();
        for index in 0..1000u32 {
            // Two deadlines interleaved, so ties meet other entries while sifting.
            heap.push(entry(base, u64::from(index % 2), index));
        }
        heap.pop();
        heap.push(entry(base, 0, 1000));
        let expected: Vec<u32> = (2..1000)
            .step_by(2)
            .chain([1000])
            .chain((1..1000).step_by(2))
            .collect();
        assert_eq!(drain(&mut heap), expected);
    }

    #[test]
    fn retain_keeps_the_order() {
        let base = Instant::now();
        let mut heap = Deadlines::default();
        for index in (0..100u32).rev() {
            heap.push(entry(base, u64::from(index), index));
        }
        heap.retain(|entry| entry.index % 3 == 0);
        assert_eq!(
            drain(&mut heap),
            (0..100).filter(|n| n % 3 == 0).collect::<Vec<_>>()
        );
    }
}
