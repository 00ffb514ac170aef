//! Stable-address, generation-checked storage for operations in flight.
//!
//! The kernel keeps pointers into an operation's control block (iovec arrays, `msghdr`,
//! socket addresses, timespecs) until it completes, so a slot must never move: slots live in
//! fixed-size chunks that are allocated once and never reallocated. A freed slot keeps its
//! state (and the capacity of any vectors in it) for the next operation, so steady-state
//! submission allocates nothing. Each reuse bumps the slot's generation, so an old [`OpId`]
//! never matches the slot's new occupant.
//!
//! The table is also where a claimed operation's completion waits (see
//! [`Driver::claim`](crate::Driver::claim)): the slot stays reserved, its completion in it,
//! until the claimant takes it, and the claimant's token goes to a list of woken tokens. So a
//! layer above (the runtime) keeps no table of its own, and a completion moves once: from the
//! backend into its slot.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::time::{Duration, Instant};

use crate::{Completion, Op, OpId, OpKind};

const CHUNK: usize = 64;

/// No item: the end of an operation's list of waiting completions.
const NO_ITEM: u32 = u32::MAX;

/// A waiting completion of a multishot operation, and the next of the same operation's.
struct Item {
    completion: Option<Completion>,
    next: u32,
}

/// What the table needs of a backend's per-operation state: the place its operation is kept
/// while it runs, where a claimed completion's operation stays until the claim takes it (so it
/// moves once, into the completion the claim returns).
pub(crate) trait HoldsOp: Default {
    fn op(&mut self) -> &mut Option<Op>;
}

struct Entry<S> {
    generation: u32,
    /// The backend has the operation (its completion has not come yet).
    occupied: bool,
    claim: Claim,
    /// The first and last of this claimed multishot operation's completions that wait in
    /// the table's `items` for the claimant ([`NO_ITEM`] when none do).
    first_item: u32,
    last_item: u32,
    deadline: Deadline,
    state: S,
}

/// An operation's deadline (see
/// [`Driver::submit_with_timeout`](crate::Driver::submit_with_timeout)).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
enum Deadline {
    #[default]
    None,
    /// In the table's heap: `expire_deadlines` cancels the operation when it passes.
    Armed(Instant),
    /// The kernel keeps it (io_uring's linked timeout); kept here in case the operation
    /// leaves the kernel's hands before its end (then armed in the heap, for what remains).
    Linked(Instant),
    /// It passed and cancelled the operation: a cancellation it ends with is a time-out.
    Fired,
}

/// Who takes the completion of a slot's operation.
#[derive(Default)]
enum Claim {
    /// `poll` hands it out.
    #[default]
    None,
    /// The claimant, told by its token, takes it from the slot.
    Waiting(u64),
    /// It came and waits here for the claimant (the slot is reserved until then), its
    /// operation in the slot's state.
    Done(io::Result<usize>),
}

pub(crate) struct Slots<S> {
    chunks: Vec<Box<[Entry<S>; CHUNK]>>,
    free: Vec<u32>,
    occupied: usize,
    /// Tokens of claimed operations whose completions came, for the claimant to drain.
    woken: Vec<u64>,
    /// Completions of claimed multishot operations that go on, waiting for their claimants:
    /// one store for the table, each operation's a list through it in the order they came,
    /// so a connection whose receive goes on costs no queue of its own.
    items: Vec<Item>,
    /// Free places in `items`.
    free_items: Vec<u32>,
    /// Completions made so far (handed out or held; a multishot operation makes several), so
    /// a backend can tell whether a wait brought anything.
    finished: u64,
    /// Armed deadlines, nearest first, by operation. An entry whose operation ended (or whose
    /// deadline changed) is not removed: it is skipped when it reaches the top, as its slot's
    /// generation or deadline no longer matches.
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl<S: HoldsOp> Slots<S> {
    pub(crate) fn new() -> Slots<S> {
        Slots {
            chunks: Vec::new(),
            free: Vec::new(),
            occupied: 0,
            woken: Vec::new(),
            items: Vec::new(),
            free_items: Vec::new(),
            finished: 0,
            deadlines: BinaryHeap::new(),
        }
    }

    /// Claims a free slot (growing by one chunk if none is free) and returns its identifier.
    #[inline]
    pub(crate) fn insert(&mut self) -> (OpId, &mut S) {
        let index = match self.free.pop() {
            Some(index) => index,
            // `grow` always frees CHUNK indices.
            None => self.grow(),
        };
        self.occupied += 1;
        let entry = self.entry_mut(index);
        debug_assert!(
            matches!(entry.claim, Claim::None),
            "a free slot holds no claim"
        );
        entry.occupied = true;
        entry.deadline = Deadline::None;
        let generation = entry.generation.wrapping_add(1);
        // Generation 0 is never handed out: internal `user_data` values use it.
        entry.generation = if generation == 0 { 1 } else { generation };
        let id = OpId {
            index,
            generation: entry.generation,
        };
        (id, &mut entry.state)
    }

    /// Adds a chunk of free slots and claims the first; returns its index.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) -> u32 {
        let base = (self.chunks.len() * CHUNK) as u32;
        let chunk: Box<[Entry<S>; CHUNK]> = Box::new(std::array::from_fn(|_| Entry {
            generation: 0,
            occupied: false,
            claim: Claim::None,
            first_item: NO_ITEM,
            last_item: NO_ITEM,
            deadline: Deadline::None,
            state: S::default(),
        }));
        self.chunks.push(chunk);
        // Reversed so the lowest index is handed out first.
        self.free.extend((base + 1..base + CHUNK as u32).rev());
        base
    }

    #[inline]
    fn entry_mut(&mut self, index: u32) -> &mut Entry<S> {
        let index = index as usize;
        &mut self.chunks[index / CHUNK][index % CHUNK]
    }

    #[inline]
    fn entry(&self, index: u32) -> Option<&Entry<S>> {
        let index = index as usize;
        self.chunks
            .get(index / CHUNK)
            .map(|chunk| &chunk[index % CHUNK])
    }

    /// The state of the operation `id`, if it is still in flight.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: OpId) -> Option<&mut S> {
        let index = id.index as usize;
        let entry = self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)?;
        (entry.occupied && entry.generation == id.generation).then_some(&mut entry.state)
    }

    /// The state of the operation `id`, if it is still in flight.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring uses it.
    #[inline]
    pub(crate) fn get(&self, id: OpId) -> Option<&S> {
        let entry = self.entry(id.index)?;
        (entry.occupied && entry.generation == id.generation).then_some(&entry.state)
    }

    /// The index of the slot whose state has, at `address`, the field `field` points to:
    /// found from addresses alone, reading nothing at `address`. A pointer the kernel hands
    /// back (an `OVERLAPPED` dequeued from a completion port, which other code may have
    /// queued there) is checked to be one of ours before anything reads through it.
    #[cfg_attr(not(windows), allow(dead_code))] // Only IOCP gets pointers back.
    pub(crate) fn index_of_field(
        &self,
        address: usize,
        field: impl Fn(&S) -> *const u8,
    ) -> Option<u32> {
        let entry_size = std::mem::size_of::<Entry<S>>();
        self.chunks
            .iter()
            .enumerate()
            .find_map(|(chunk_index, chunk)| {
                let start = chunk.as_ptr() as usize;
                let offset = address.checked_sub(start)? / entry_size;
                let entry = chunk.get(offset)?;
                (field(&entry.state) as usize == address)
                    .then_some((chunk_index * CHUNK + offset) as u32)
            })
    }

    /// Ends the operation `id` with `completion`: its claimant finds it in the slot (and its
    /// token is woken), or, unclaimed, it goes to `out` and the slot is free again (its state
    /// stays for reuse). A stale id's completion goes to `out`.
    pub(crate) fn finish(&mut self, completion: Completion, out: &mut Vec<Completion>) {
        if completion.more {
            return self.item(completion, out);
        }
        let Completion { id, result, op, .. } = completion;
        match self.ended(id) {
            Some(entry) => {
                *entry.state.op() = Some(op);
                self.finish_in_place(id, result, out);
            }
            None => {
                self.finished += 1;
                out.push(Completion::new(id, result, op));
            }
        }
    }

    /// One completion of a multishot operation that goes on (`completion.more`): its
    /// claimant finds it queued in the slot, behind any before it (its token is woken when
    /// the queue was empty), or, unclaimed, it goes to `out`.
    pub(crate) fn item(&mut self, completion: Completion, out: &mut Vec<Completion>) {
        debug_assert!(completion.more);
        self.finished += 1;
        let id = completion.id;
        let token = match self.ended(id) {
            Some(Entry {
                claim: Claim::Waiting(token),
                ..
            }) => *token,
            _ => return out.push(completion),
        };
        let item = Item {
            completion: Some(completion),
            next: NO_ITEM,
        };
        let place = match self.free_items.pop() {
            Some(place) => {
                self.items[place as usize] = item;
                place
            }
            None => {
                self.items.push(item);
                (self.items.len() - 1) as u32
            }
        };
        let Slots { chunks, items, .. } = self;
        let entry = &mut chunks[id.index as usize / CHUNK][id.index as usize % CHUNK];
        let was_empty = entry.first_item == NO_ITEM;
        if was_empty {
            entry.first_item = place;
        } else {
            items[entry.last_item as usize].next = place;
        }
        entry.last_item = place;
        if was_empty {
            self.woken.push(token);
        }
    }

    /// Takes the next waiting completion of the multishot operation in `entry` from `items`
    /// (its place goes to `free`); `token`, if given, replaces the claim's.
    #[inline]
    fn next_item(
        items: &mut [Item],
        free: &mut Vec<u32>,
        entry: &mut Entry<S>,
        token: Option<u64>,
    ) -> Option<Completion> {
        if entry.first_item == NO_ITEM {
            return None;
        }
        Self::take_item(items, free, entry, token)
    }

    #[cold]
    fn take_item(
        items: &mut [Item],
        free: &mut Vec<u32>,
        entry: &mut Entry<S>,
        token: Option<u64>,
    ) -> Option<Completion> {
        let place = entry.first_item;
        let item = &mut items[place as usize];
        entry.first_item = item.next;
        if entry.first_item == NO_ITEM {
            entry.last_item = NO_ITEM;
        }
        let completion = item.completion.take();
        free.push(place);
        if let (Claim::Waiting(_), Some(token)) = (&entry.claim, token) {
            entry.claim = Claim::Waiting(token);
        }
        completion
    }

    /// As [`finish`](Slots::finish), for an operation still in its slot's state (where the
    /// backend finished it): a claimed one stays there, its result beside it.
    // Always: it is the reap's hot path, once per completion.
    #[inline(always)]
    pub(crate) fn finish_in_place(
        &mut self,
        id: OpId,
        result: io::Result<usize>,
        out: &mut Vec<Completion>,
    ) {
        self.finished += 1;
        let Some(entry) = self.ended(id) else {
            debug_assert!(false, "finished an operation not in flight");
            return;
        };
        // The common case inline: a claimant waits (an executor's operation).
        if let Claim::Waiting(token) = entry.claim {
            entry.occupied = false;
            entry.claim = Claim::Done(settle(&mut entry.deadline, result));
            self.occupied -= 1;
            self.woken.push(token);
            return;
        }
        self.finish_unclaimed(id, result, out);
    }

    /// `finish_in_place` of an operation nobody claimed: its completion goes out whole.
    #[inline(never)]
    fn finish_unclaimed(&mut self, id: OpId, result: io::Result<usize>, out: &mut Vec<Completion>) {
        let Some(entry) = self.ended(id) else {
            return;
        };
        entry.occupied = false;
        let result = settle(&mut entry.deadline, result);
        let op = entry.state.op().take();
        self.occupied -= 1;
        self.free.push(id.index);
        match op {
            Some(op) => out.push(Completion::new(id, result, op)),
            None => debug_assert!(false, "an operation in flight without its op"),
        }
    }

    /// Ends the operation `id` now if it finished and waits in the backend's `ready` queue
    /// (`done` tells from its state) with its result: it leaves the queue, and its slot holds
    /// the result for the claim that follows, which takes it. An operation that finished
    /// inside `submit` (a send the socket took at once, a receive of bytes already there) is
    /// its claimant's in the same turn, with no wait in the kernel and no extra turn of the
    /// caller's loop, as a readiness runtime's write that goes through returns at once. For
    /// the readiness backends, which start operations inside `submit`.
    #[cfg_attr(windows, allow(dead_code))] // IOCP keeps such slots until its next poll.
    #[inline]
    pub(crate) fn end_ready(
        &mut self,
        ready: &mut Vec<(OpId, io::Result<usize>)>,
        id: OpId,
        done: impl FnOnce(&S) -> bool,
    ) {
        let Some(entry) = self.ended(id) else {
            return;
        };
        if !done(&entry.state) {
            return;
        }
        // Usually the last: it finished just now, inside its `submit`.
        let result = if ready.last().is_some_and(|(last, _)| *last == id) {
            ready.pop()
        } else {
            ready
                .iter()
                .rposition(|(other, _)| *other == id)
                .map(|position| ready.remove(position))
        };
        let Some((_, result)) = result else {
            return;
        };
        if let Some(entry) = self.ended(id) {
            entry.occupied = false;
            entry.claim = Claim::Done(settle(&mut entry.deadline, result));
            self.occupied -= 1;
            self.finished += 1;
        }
    }

    /// Gives the operation `id`, in flight, a deadline `timeout` from now: in the heap
    /// ([`expire_deadlines`](crate::sys) cancels it when it passes), or, `linked`, kept by the
    /// kernel. Either way a cancellation the operation then ends with is a time-out.
    pub(crate) fn arm_deadline(&mut self, id: OpId, timeout: Duration, linked: bool) {
        let at = Instant::now() + timeout.min(crate::sys::FOREVER);
        let Some(entry) = self.ended(id) else {
            return;
        };
        if linked {
            entry.deadline = Deadline::Linked(at);
        } else {
            entry.deadline = Deadline::Armed(at);
            self.push_deadline(at, id);
        }
    }

    /// Adds a heap entry. Entries of operations that ended early stay until they reach the
    /// top: when they outnumber the operations in flight four to one, they are swept, so
    /// operations that finish well before long deadlines do not grow the heap without bound.
    fn push_deadline(&mut self, at: Instant, id: OpId) {
        if self.deadlines.len() >= 64 && self.deadlines.len() > 4 * self.occupied {
            let chunks = &self.chunks;
            self.deadlines
                .retain(|&Reverse((at, raw))| armed(chunks, OpId::from_u64(raw), at));
        }
        self.deadlines.push(Reverse((at, id.to_u64())));
    }

    /// The operation `id` left the kernel's hands with its deadline still to come (io_uring:
    /// a receive that answered `EAGAIN` now waits with `POLL_ADD`): the heap keeps it now.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring links.
    pub(crate) fn unlink_deadline(&mut self, id: OpId) {
        let Some(entry) = self.ended(id) else {
            return;
        };
        if let Deadline::Linked(at) = entry.deadline {
            entry.deadline = Deadline::Armed(at);
            self.push_deadline(at, id);
        }
    }

    /// The kernel's linked timeout of `id` fired (its operation ended with `ECANCELED` with
    /// no cancel asked for): returns whether `id` had one, now fired.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring links.
    pub(crate) fn linked_deadline_fired(&mut self, id: OpId) -> bool {
        let Some(entry) = self.ended(id) else {
            return false;
        };
        let linked = matches!(entry.deadline, Deadline::Linked(_));
        if linked {
            entry.deadline = Deadline::Fired;
        }
        linked
    }

    /// The caller cancels `id` itself: a deadline still to come no longer matters (the
    /// operation ends cancelled); one already passed stays (it came first: a time-out).
    pub(crate) fn disarm_deadline(&mut self, id: OpId) {
        if let Some(entry) = self.ended(id) {
            if matches!(entry.deadline, Deadline::Armed(_) | Deadline::Linked(_)) {
                entry.deadline = Deadline::None;
            }
        }
    }

    /// Whether any deadline may be armed (the heap holds entries, perhaps stale): when not,
    /// polls and flushes skip the deadline work altogether.
    #[inline]
    pub(crate) fn has_deadlines(&self) -> bool {
        !self.deadlines.is_empty()
    }

    /// The nearest armed deadline, dropping the stale entries above it.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, raw))) = self.deadlines.peek() {
            if self.armed(OpId::from_u64(raw), at) {
                return Some(at);
            }
            self.deadlines.pop();
        }
        None
    }

    /// The next operation whose armed deadline has passed at `now`, its deadline marked
    /// fired: the caller cancels it. `None` when no more are due.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<OpId> {
        while let Some(&Reverse((at, raw))) = self.deadlines.peek() {
            if at > now {
                return None;
            }
            self.deadlines.pop();
            let id = OpId::from_u64(raw);
            if self.armed(id, at) {
                if let Some(entry) = self.ended(id) {
                    entry.deadline = Deadline::Fired;
                }
                return Some(id);
            }
        }
        None
    }

    /// Whether `id` is in flight with its deadline armed at `at` (a heap entry is current).
    fn armed(&self, id: OpId, at: Instant) -> bool {
        armed(&self.chunks, id, at)
    }

    /// The entry of `id` if it is in flight.
    #[inline]
    fn ended(&mut self, id: OpId) -> Option<&mut Entry<S>> {
        let index = id.index as usize;
        self.chunks
            .get_mut(index / CHUNK)
            .map(|chunk| &mut chunk[index % CHUNK])
            .filter(|entry| entry.occupied && entry.generation == id.generation)
    }

    /// Claims the completion of `id` (see [`Driver::claim`](crate::Driver::claim)): returns it
    /// if it came (freeing the slot), else records `token` for when it comes.
    #[inline]
    pub(crate) fn claim(&mut self, id: OpId, token: u64) -> Option<Completion> {
        let index = id.index as usize;
        let entry = self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)?;
        if entry.generation != id.generation {
            return None;
        }
        if let Some(item) =
            Self::next_item(&mut self.items, &mut self.free_items, entry, Some(token))
        {
            return Some(item);
        }
        if let Claim::Done(_) = entry.claim {
            return self.take_done(id);
        }
        if entry.occupied {
            entry.claim = Claim::Waiting(token);
        }
        None
    }

    /// As [`claim`](Slots::claim), but a completion that came is handed to `take` in place
    /// (its result, and its operation where it is) instead of moved out whole; what `take`
    /// leaves of the operation is dropped.
    #[inline]
    pub(crate) fn claim_with<T>(
        &mut self,
        id: OpId,
        token: u64,
        take: impl FnOnce(io::Result<usize>, &mut Op) -> T,
    ) -> Option<T> {
        let index = id.index as usize;
        let entry = self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)?;
        if entry.generation != id.generation {
            return None;
        }
        if let Some(mut item) =
            Self::next_item(&mut self.items, &mut self.free_items, entry, Some(token))
        {
            return Some(take(item.result, &mut item.op));
        }
        if let Claim::Done(_) = entry.claim {
            let Claim::Done(result) = std::mem::take(&mut entry.claim) else {
                return None;
            };
            let slot = entry.state.op();
            let taken = slot.as_mut().map(|op| take(result, op));
            if slot.as_ref().is_some_and(Op::is_spent) {
                // Nothing left to drop (the common case: a read or write whose buffer was
                // taken): forgotten rather than dropped, which spares the drop calls.
                std::mem::forget(slot.take());
            } else {
                *slot = None;
            }
            self.free.push(id.index);
            return taken;
        }
        if entry.occupied {
            entry.claim = Claim::Waiting(token);
        }
        None
    }

    /// Claims the completion of the operation `id`, in flight, for when it comes (see
    /// [`Driver::submit_claimed`](crate::Driver::submit_claimed)): takes nothing.
    #[inline]
    pub(crate) fn hold(&mut self, id: OpId, token: u64) {
        if let Some(entry) = self.ended(id) {
            entry.claim = Claim::Waiting(token);
        }
    }

    /// Takes the completion waiting in the slot of `id` and frees the slot.
    #[inline]
    fn take_done(&mut self, id: OpId) -> Option<Completion> {
        let index = id.index as usize;
        let entry = &mut self.chunks[index / CHUNK][index % CHUNK];
        let Claim::Done(result) = std::mem::take(&mut entry.claim) else {
            return None;
        };
        let op = entry.state.op().take();
        self.free.push(id.index);
        Some(Completion {
            id,
            result,
            op: op?,
            more: false,
        })
    }

    /// Gives up the claim on `id`: a completion that came is returned (freeing the slot); one
    /// still to come goes out through `poll`. A multishot operation may have several queued:
    /// each call returns the next, and the claim ends with the call that returns `None`.
    pub(crate) fn unclaim(&mut self, id: OpId) -> Option<Completion> {
        let index = id.index as usize;
        let entry = self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)?;
        if entry.generation != id.generation {
            return None;
        }
        if let Some(item) = Self::next_item(&mut self.items, &mut self.free_items, entry, None) {
            return Some(item);
        }
        match entry.claim {
            Claim::Done(_) => self.take_done(id),
            Claim::Waiting(_) | Claim::None => {
                entry.claim = Claim::None;
                None
            }
        }
    }

    /// The descriptors made by completions that wait for claimants nobody will now be (the
    /// driver is going away): a backend closes them, as it does those it never handed out.
    pub(crate) fn made_and_held(&mut self) -> Vec<crate::Fd> {
        let mut made: Vec<crate::Fd> = self
            .items
            .drain(..)
            .filter_map(|item| item.completion)
            .filter(|item| item.op.creates_fd())
            .filter_map(|item| item.result.ok())
            .map(|fd| fd as crate::Fd)
            .collect();
        for chunk in &mut self.chunks {
            for entry in chunk.iter_mut() {
                if let Claim::Done(Ok(fd)) = entry.claim {
                    if entry.state.op().as_ref().is_some_and(Op::creates_fd) {
                        made.push(fd as crate::Fd);
                        entry.claim = Claim::None;
                    }
                }
            }
        }
        made
    }

    /// Tokens of claimed operations whose completions came since the claimant last drained.
    pub(crate) fn woken(&mut self) -> &mut Vec<u64> {
        &mut self.woken
    }

    /// How many operations have finished so far (handed out or held for their claimants).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring counts this way.
    pub(crate) fn finished(&self) -> u64 {
        self.finished
    }

    /// The operations in flight by kind (in `OpKind::ALL`'s order, kinds with none left out),
    /// and how many are away from the table, with the thread pool, whose kind it no longer
    /// holds.
    pub(crate) fn count_kinds(&mut self) -> (Vec<(OpKind, usize)>, usize) {
        let mut counts = [0usize; OpKind::ALL.len()];
        let mut away = 0;
        for chunk in &mut self.chunks {
            for entry in chunk.iter_mut().filter(|entry| entry.occupied) {
                match entry.state.op() {
                    Some(op) => {
                        let kind = op.kind();
                        if let Some(index) = OpKind::ALL.iter().position(|&known| known == kind) {
                            counts[index] += 1;
                        }
                    }
                    None => away += 1,
                }
            }
        }
        let kinds = OpKind::ALL
            .iter()
            .zip(counts)
            .filter(|&(_, count)| count > 0)
            .map(|(&kind, count)| (kind, count))
            .collect();
        (kinds, away)
    }

    /// Number of slots in use.
    pub(crate) fn len(&self) -> usize {
        self.occupied
    }

    /// Identifiers of every operation in flight.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring uses it.
    pub(crate) fn ids(&self) -> impl Iterator<Item = OpId> + '_ {
        self.chunks
            .iter()
            .enumerate()
            .flat_map(|(chunk_index, chunk)| {
                chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, entry)| entry.occupied)
                    .map(move |(offset, entry)| OpId {
                        index: (chunk_index * CHUNK + offset) as u32,
                        generation: entry.generation,
                    })
            })
    }
}

/// Whether `id` is in flight in `chunks` with its deadline armed at `at`.
fn armed<S>(chunks: &[Box<[Entry<S>; CHUNK]>], id: OpId, at: Instant) -> bool {
    let index = id.index as usize;
    chunks
        .get(index / CHUNK)
        .map(|chunk| &chunk[index % CHUNK])
        .is_some_and(|entry| {
            entry.occupied
                && entry.generation == id.generation
                && entry.deadline == Deadline::Armed(at)
        })
}

/// The result an operation ends with, given its deadline (which it no longer has): a
/// cancellation its deadline caused is a time-out; anything else, bytes moved before the
/// cancel took effect included, is its own result.
/// Puts `op` into a slot just taken from the free list, whose place holds none (claims and
/// finishes take operations out): written in place, with no copy out of the old value and
/// no call to drop it, which an assignment would make.
#[inline]
pub(crate) fn place_op(place: &mut Option<Op>, op: Op) {
    let old = place.replace(op);
    debug_assert!(old.is_none(), "a free slot holds no operation");
    // Nothing to drop: the old value is `None` (a `Some` would only leak).
    std::mem::forget(old);
}

#[inline]
fn settle(deadline: &mut Deadline, result: io::Result<usize>) -> io::Result<usize> {
    // Most operations have no deadline: nothing to write or compare.
    if let Deadline::None = deadline {
        return result;
    }
    settle_deadline(deadline, result)
}

#[cold]
fn settle_deadline(deadline: &mut Deadline, result: io::Result<usize>) -> io::Result<usize> {
    match (std::mem::take(deadline), result) {
        (Deadline::Fired, Err(error)) if crate::sys::is_cancelled(&error) => Err(timed_out()),
        (_, result) => result,
    }
}

/// What an operation whose deadline passed first completes with.
#[cold]
pub(crate) fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the operation's deadline passed before it finished",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct State {
        value: u32,
        op: Option<Op>,
    }

    impl HoldsOp for State {
        fn op(&mut self) -> &mut Option<Op> {
            &mut self.op
        }
    }

    #[test]
    fn stale_ids_do_not_match_reused_slots() {
        let mut slots: Slots<State> = Slots::new();
        let (first, state) = slots.insert();
        state.value = 7;
        slots.finish(nop(first), &mut Vec::new());
        let (second, state) = slots.insert();
        assert_eq!(state.value, 7, "state is kept for reuse");
        assert_eq!(first.index, second.index);
        assert!(slots.get_mut(first).is_none());
        assert!(slots.get_mut(second).is_some());
        assert_eq!(slots.len(), 1);
    }

    fn nop(id: OpId) -> Completion {
        Completion {
            id,
            result: Ok(0),
            op: crate::Op::Nop,
            more: false,
        }
    }

    #[test]
    fn a_claimed_completion_waits_in_its_slot() {
        let mut slots: Slots<State> = Slots::new();
        let (id, _) = slots.insert();
        assert!(slots.claim(id, 41).is_none());
        assert!(
            slots.claim(id, 42).is_none(),
            "a new token replaces the old"
        );
        let mut out = Vec::new();
        slots.finish(nop(id), &mut out);
        assert!(out.is_empty(), "a claimed completion stays in its slot");
        assert_eq!(slots.woken().drain(..).collect::<Vec<_>>(), [42]);
        assert_eq!(slots.len(), 0, "no longer in flight");
        let (other, _) = slots.insert();
        assert_ne!(other.index, id.index, "the slot stays reserved until taken");
        assert_eq!(
            slots.claim(id, 42).map(|completion| completion.id),
            Some(id)
        );
        assert!(slots.claim(id, 42).is_none(), "taken once");
        let (reused, _) = slots.insert();
        assert_eq!(reused.index, id.index);
        assert_eq!(slots.finished(), 1);
    }

    #[test]
    fn an_unclaimed_completion_goes_out() {
        let mut slots: Slots<State> = Slots::new();
        let (id, _) = slots.insert();
        assert!(slots.claim(id, 7).is_none());
        assert!(slots.unclaim(id).is_none(), "not come yet");
        let mut out = Vec::new();
        slots.finish(nop(id), &mut out);
        assert_eq!(out.len(), 1);
        assert!(slots.woken().is_empty());
        let (done, _) = slots.insert();
        assert!(slots.claim(done, 8).is_none());
        slots.finish(nop(done), &mut out);
        assert_eq!(
            slots.unclaim(done).map(|completion| completion.id),
            Some(done)
        );
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn deadlines_fire_once_and_only_for_their_own_operation() {
        let mut slots: Slots<State> = Slots::new();
        let (early, state) = slots.insert();
        state.op = Some(Op::Nop);
        slots.arm_deadline(early, Duration::ZERO, false);
        // It finishes before its deadline is looked at; its slot goes to another operation.
        slots.finish_in_place(early, Ok(0), &mut Vec::new());
        let (late, state) = slots.insert();
        state.op = Some(Op::Nop);
        assert_eq!(late.index, early.index);
        assert!(
            slots.pop_expired(Instant::now()).is_none(),
            "stale entry skipped"
        );
        slots.arm_deadline(late, Duration::ZERO, false);
        assert_eq!(slots.pop_expired(Instant::now()), Some(late));
        assert!(slots.pop_expired(Instant::now()).is_none(), "fires once");
        let mut out = Vec::new();
        #[cfg(unix)]
        let cancelled = io::Error::from_raw_os_error(libc::ECANCELED);
        #[cfg(windows)]
        let cancelled = io::Error::from_raw_os_error(995); // ERROR_OPERATION_ABORTED
        #[cfg(not(any(unix, windows)))]
        let cancelled = io::Error::from(io::ErrorKind::Interrupted);
        let cancel_counts = crate::sys::is_cancelled(&cancelled);
        slots.finish_in_place(late, Err(cancelled), &mut out);
        let error = out.pop().unwrap().result.unwrap_err();
        if cancel_counts {
            assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        }
        // A linked deadline is the kernel's, until the operation leaves its hands.
        let (linked, state) = slots.insert();
        state.op = Some(Op::Nop);
        slots.arm_deadline(linked, Duration::ZERO, true);
        assert!(slots.pop_expired(Instant::now()).is_none(), "the kernel's");
        slots.unlink_deadline(linked);
        assert_eq!(
            slots.pop_expired(Instant::now()),
            Some(linked),
            "now the heap's"
        );
        slots.finish_in_place(linked, Ok(3), &mut out);
        assert_eq!(
            out.pop().unwrap().result.unwrap(),
            3,
            "bytes moved stay the result"
        );
        // Finished ops leave entries that are swept, not kept forever.
        for _ in 0..1000 {
            let (id, state) = slots.insert();
            state.op = Some(Op::Nop);
            slots.arm_deadline(id, Duration::from_secs(60), false);
            slots.finish_in_place(id, Ok(0), &mut out);
        }
        assert!(slots.deadlines.len() <= 64, "{}", slots.deadlines.len());
    }

    #[test]
    fn addresses_are_stable_across_growth() {
        let mut slots: Slots<State> = Slots::new();
        let (id, state) = slots.insert();
        let address = state as *const State;
        for _ in 0..10 * CHUNK {
            slots.insert();
        }
        assert_eq!(slots.get_mut(id).unwrap() as *const State, address);
        assert_eq!(slots.ids().count(), 10 * CHUNK + 1);
    }
}
