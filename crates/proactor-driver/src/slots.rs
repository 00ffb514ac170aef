//! Stable-address, generation-checked storage for operations in flight.
//!
//! The kernel keeps pointers into an operation's control block (iovec arrays, `msghdr`,
//! socket addresses, timespecs) until it completes, so a slot must never move: slots live in
//! fixed-size chunks that are allocated once and never reallocated. A freed slot keeps its
//! state (and the capacity of any vectors in it) for the next operation, so steady-state
//! submission allocates nothing. Each reuse bumps the slot's generation, so an old [`OpId`]
//! never matches the slot's new occupant.

use crate::OpId;

const CHUNK: usize = 64;

struct Entry<S> {
    generation: u32,
    occupied: bool,
    state: S,
}

pub(crate) struct Slots<S> {
    chunks: Vec<Box<[Entry<S>; CHUNK]>>,
    free: Vec<u32>,
    occupied: usize,
}

impl<S: Default> Slots<S> {
    pub(crate) fn new() -> Slots<S> {
        Slots {
            chunks: Vec::new(),
            free: Vec::new(),
            occupied: 0,
        }
    }

    /// Claims a free slot (growing by one chunk if none is free) and returns its identifier.
    pub(crate) fn insert(&mut self) -> (OpId, &mut S) {
        let index = match self.free.pop() {
            Some(index) => index,
            // `grow` always frees CHUNK indices.
            None => self.grow(),
        };
        self.occupied += 1;
        let entry = self.entry_mut(index);
        entry.occupied = true;
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
            state: S::default(),
        }));
        self.chunks.push(chunk);
        // Reversed so the lowest index is handed out first.
        self.free.extend((base + 1..base + CHUNK as u32).rev());
        base
    }

    fn entry_mut(&mut self, index: u32) -> &mut Entry<S> {
        let index = index as usize;
        &mut self.chunks[index / CHUNK][index % CHUNK]
    }

    fn entry(&self, index: u32) -> Option<&Entry<S>> {
        let index = index as usize;
        self.chunks
            .get(index / CHUNK)
            .map(|chunk| &chunk[index % CHUNK])
    }

    /// The state of the operation `id`, if it is still in flight.
    pub(crate) fn get_mut(&mut self, id: OpId) -> Option<&mut S> {
        let index = id.index as usize;
        let entry = self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)?;
        (entry.occupied && entry.generation == id.generation).then_some(&mut entry.state)
    }

    /// The state of the operation `id`, if it is still in flight.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring uses it.
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

    /// Whether `id` names an operation in flight.
    pub(crate) fn contains(&self, id: OpId) -> bool {
        self.entry(id.index)
            .is_some_and(|entry| entry.occupied && entry.generation == id.generation)
    }

    /// Releases the slot of `id`; its state stays for reuse. Returns false for a stale id.
    pub(crate) fn remove(&mut self, id: OpId) -> bool {
        if !self.contains(id) {
            return false;
        }
        self.entry_mut(id.index).occupied = false;
        self.free.push(id.index);
        self.occupied -= 1;
        true
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_ids_do_not_match_reused_slots() {
        let mut slots: Slots<u32> = Slots::new();
        let (first, state) = slots.insert();
        *state = 7;
        assert!(slots.remove(first));
        let (second, state) = slots.insert();
        assert_eq!(*state, 7, "state is kept for reuse");
        assert_eq!(first.index, second.index);
        assert!(slots.get_mut(first).is_none());
        assert!(!slots.remove(first));
        assert!(slots.get_mut(second).is_some());
        assert_eq!(slots.len(), 1);
    }

    #[test]
    fn addresses_are_stable_across_growth() {
        let mut slots: Slots<[u8; 16]> = Slots::new();
        let (id, state) = slots.insert();
        let address = state as *const [u8; 16];
        for _ in 0..10 * CHUNK {
            slots.insert();
        }
        assert_eq!(slots.get_mut(id).unwrap() as *const [u8; 16], address);
        assert_eq!(slots.ids().count(), 10 * CHUNK + 1);
    }
}
