//! Buffer pools: equal-size buffers a driver lends to receives, so an idle connection parks no
//! buffer of its own while it waits (see [`Op::RecvPooled`](crate::Op::RecvPooled)).
//!
//! On io_uring a pool is a provided-buffer ring (`IORING_REGISTER_PBUF_RING`): the kernel
//! picks a buffer when data arrives and says which in the completion; a buffer goes back by
//! one entry written at the ring's tail. Elsewhere (epoll, kqueue, IOCP, and io_uring on a
//! kernel without buffer rings) the pool is a free list the backend takes from when the
//! receive runs. Either way the memory is one allocation made when the pool is, the pool
//! lives as long as its driver or its last lent buffer (whichever is later), and a lent buffer
//! goes back to its pool when it is dropped, wherever that happens: in the caller's hands, in
//! a completion nobody took, in a cancelled operation.

use std::alloc::{self, Layout};
use std::fmt;
use std::io;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicU16, AtomicU32};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// The most buffers one pool holds: io_uring's limit for a buffer ring (2^15), which the
/// other backends keep too so a pool behaves the same everywhere.
///
/// # Examples
///
/// ```
/// use proactor_driver::{Driver, MAX_BUFFERS};
///
/// let mut driver = Driver::new()?;
/// assert!(driver.buffer_pool(16, MAX_BUFFERS * 2).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
pub const MAX_BUFFERS: usize = 1 << 15;

/// A set of equal-size buffers a [`Driver`](crate::Driver) lends to receives
/// ([`Op::RecvPooled`](crate::Op::RecvPooled)), made by
/// [`Driver::buffer_pool`](crate::Driver::buffer_pool).
///
/// Cloning the handle shares the pool; buffers may be sent to and dropped on any thread. When
/// every buffer is lent out, a pooled receive completes with an error that
/// [`is_pool_exhausted`](crate::is_pool_exhausted) recognises (never waits): drop buffers (or
/// make a larger pool) and receive again.
///
/// On io_uring the kernel takes buffers from a ring, in order. The ring holds 64 of the pool's
/// buffers to begin with, not all: kept short, the same few buffers go round, so a server
/// that is mostly idle touches (makes resident) only those, not its whole pool. The ring is
/// topped up from the rest as the kernel takes buffers, and its depth doubles whenever a
/// receive found it empty while buffers waited outside it; that receive completes with the
/// same exhaustion error (rare: a burst of receives larger than the ring at once), and
/// receiving again finds buffers.
///
/// # Examples
///
/// ```
/// use proactor_driver::Driver;
///
/// let mut driver = Driver::new()?;
/// let pool = driver.buffer_pool(4096, 64)?;
/// assert_eq!(pool.buffer_size(), 4096);
/// assert_eq!(pool.capacity(), 64);
/// assert_eq!(pool.available(), 64);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct BufferPool {
    pub(crate) shared: Arc<Shared>,
}

/// A buffer lent by a [`BufferPool`], holding what one receive got; it goes back to its pool
/// when dropped. It derefs to the received bytes (mutably too: it is the caller's until then).
///
/// # Examples
///
/// ```
/// use proactor_driver::PooledBuffer;
///
/// // Bytes a stream kept outside any pool (e.g. from a cancelled plain read) come in one too.
/// let buffer = PooledBuffer::from(b"hello".to_vec());
/// assert_eq!(&buffer[..], b"hello");
/// ```
pub struct PooledBuffer {
    storage: Storage,
}

enum Storage {
    Lent {
        shared: Arc<Shared>,
        index: u16,
        /// Where in the buffer the bytes start: past 0 only for a part of a buffer the kernel
        /// consumes incrementally (see `Ring::incremental`).
        offset: u32,
        len: u32,
    },
    Owned(Vec<u8>),
}

/// How the buffers not lent out are kept.
pub(crate) enum Lending {
    /// A free list the backend takes from when a receive runs.
    List(Mutex<Vec<u16>>),
    /// An io_uring provided-buffer ring: the kernel takes from it.
    #[cfg(target_os = "linux")]
    Ring(Ring),
}

/// An io_uring buffer ring's memory: `entries` 16-byte entries whose first one's last two
/// bytes are the tail the kernel reads.
#[cfg(target_os = "linux")]
pub(crate) struct Ring {
    pub(crate) entries: NonNull<io_uring::types::BufRingEntry>,
    layout: Layout,
    /// The tail as we last published it, and the buffers kept out of the ring; held while an
    /// entry is written, as buffers come back from any thread.
    state: Mutex<RingState>,
    /// Buffers in the ring now: put there and not yet taken by the kernel.
    in_ring: AtomicU32,
    /// How many buffers the ring is kept filled with (see `RingState::spare`).
    depth: AtomicU32,
    /// How many buffers `RingState::spare` holds (read without the lock).
    spare_count: AtomicU32,
    /// The ring position each buffer was last put at: a bundle's completion names only its
    /// first buffer, and the rest are the entries after it.
    positions: Box<[std::sync::atomic::AtomicU16]>,
    /// Whether the kernel consumes buffers incrementally (`IOU_PBUF_RING_INC`): a receive
    /// takes only the bytes it got from the buffer at the ring's head, and the next receive
    /// goes on where it ended, so small receives share one buffer instead of each taking a
    /// whole one. A buffer then goes out as several parts, and back once the kernel has used
    /// it up and every part is dropped.
    pub(crate) incremental: bool,
    /// Per buffer, with `incremental`: how far the kernel has filled it (0: not begun, so
    /// still wholly in the ring). Written by the driver's thread alone.
    consumed: Box<[AtomicU32]>,
    /// Per buffer, with `incremental`: twice its parts out, plus one while the kernel may
    /// still fill it (`KERNEL_HOLDS`). It counts as lent while a part is out, and goes back
    /// to the ring when this falls to zero.
    holds: Box<[AtomicU32]>,
}

/// In `Ring::holds`: the kernel may still fill the buffer. Each part out adds `PART_HOLDS`.
#[cfg(target_os = "linux")]
const KERNEL_HOLDS: u32 = 1;
#[cfg(target_os = "linux")]
const PART_HOLDS: u32 = 2;

/// What a buffer ring's lock guards.
#[cfg(target_os = "linux")]
struct RingState {
    tail: u16,
    /// Buffers in the pool but not in the ring, the last back on top. The ring is kept to
    /// `Ring::depth` buffers, not the whole pool: the kernel takes buffers from the ring in
    /// order, so a ring of every buffer would put each one to use in turn, and an idle server
    /// would have touched (made resident) its whole pool. Kept short, the same few buffers go
    /// round; the depth doubles whenever a receive finds the ring empty while buffers wait
    /// here, so a busy server soon has as many in it as it needs.
    spare: Vec<u16>,
}

/// The ring's first depth (see `RingState::spare`).
#[cfg(target_os = "linux")]
const FIRST_DEPTH: u32 = 64;

/// One part of a pool buffer that a receive filled: the buffer, where the bytes start, and
/// how many there are.
#[cfg(target_os = "linux")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) index: u16,
    pub(crate) offset: u32,
    pub(crate) len: u32,
}

pub(crate) struct Shared {
    memory: NonNull<u8>,
    layout: Layout,
    buffer_size: usize,
    count: u16,
    /// The group id the kernel knows the pool by (io_uring), unique within its driver.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring reads it.
    pub(crate) group: u16,
    /// The driver the pool belongs to (its backend's identity): another refuses it, on every
    /// backend alike (an io_uring group means nothing to another ring).
    pub(crate) owner: u64,
    /// Buffers out of the pool: in a completion or the caller's hands.
    lent: AtomicUsize,
    /// Made for stream receives only (`Driver::stream_buffer_pool`): the kernel may consume
    /// its buffers incrementally.
    pub(crate) streams_only: bool,
    pub(crate) lending: Lending,
    /// Who waits for a buffer to come back (see `BufferPool::poll_available`), and whether
    /// anyone does (so a buffer's return looks at one flag, not a lock).
    waiters: Mutex<Vec<Waker>>,
    waiting: AtomicBool,
}

impl Shared {
    /// A pool of `count` buffers of `buffer_size` bytes, all free.
    pub(crate) fn new(
        buffer_size: usize,
        count: usize,
        group: u16,
        owner: u64,
    ) -> io::Result<Shared> {
        if buffer_size == 0 || buffer_size > u32::MAX as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a pool's buffer size must be between 1 byte and 4 GiB",
            ));
        }
        if count == 0 || count > MAX_BUFFERS || !count.is_power_of_two() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a pool holds a power of two of buffers, 1 to {MAX_BUFFERS}"),
            ));
        }
        let layout = buffer_size
            .checked_mul(count)
            .and_then(|size| Layout::from_size_align(size, 64).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "pool too large"))?;
        // SAFETY: the layout's size is at least 1 (both factors are).
        let memory = NonNull::new(unsafe { alloc::alloc(layout) })
            .ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?;
        Ok(Shared {
            memory,
            layout,
            buffer_size,
            count: count as u16,
            group,
            owner,
            lent: AtomicUsize::new(0),
            streams_only: false,
            waiters: Mutex::new(Vec::new()),
            waiting: AtomicBool::new(false),
            lending: Lending::List(Mutex::new((0..count as u16).rev().collect())),
        })
    }

    /// Where buffer `index` starts.
    pub(crate) fn address(&self, index: u16) -> *mut u8 {
        debug_assert!(index < self.count);
        // SAFETY: index < count, so the offset stays inside the one allocation.
        unsafe { self.memory.as_ptr().add(index as usize * self.buffer_size) }
    }

    pub(crate) fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring uses it.
    pub(crate) fn capacity(&self) -> usize {
        self.count as usize
    }

    /// Takes a free buffer from a free-list pool (`None`: all are lent). A pool the kernel
    /// lends from (an io_uring driver's) cannot be taken from by hand: an error.
    pub(crate) fn take(&self) -> io::Result<Option<u16>> {
        match &self.lending {
            Lending::List(free) => {
                let Some(index) = lock(free).pop() else {
                    return Ok(None);
                };
                self.lent.fetch_add(1, Ordering::SeqCst);
                Ok(Some(index))
            }
            #[cfg(target_os = "linux")]
            Lending::Ring(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a buffer ring's buffers are lent by the kernel, not taken by hand",
            )),
        }
    }

    /// Returns a buffer taken with [`take`](Shared::take) and not lent after all.
    pub(crate) fn untake(&self, index: u16) {
        self.give_back(index);
    }

    /// Records that the kernel lent `count` buffers (io_uring reported them in a completion).
    #[cfg(target_os = "linux")]
    pub(crate) fn lent_by_kernel(&self, count: usize) {
        self.lent.fetch_add(count, Ordering::SeqCst);
    }

    /// The buffer `index`, lent, holding `len` received bytes.
    pub(crate) fn lend(self: &Arc<Self>, index: u16, len: usize) -> PooledBuffer {
        debug_assert!(len <= self.buffer_size);
        PooledBuffer {
            storage: Storage::Lent {
                shared: Arc::clone(self),
                index,
                offset: 0,
                len: len.min(self.buffer_size) as u32,
            },
        }
    }

    /// The part `part` of a buffer, lent (see [`take_parts`](Shared::take_parts)).
    #[cfg(target_os = "linux")]
    pub(crate) fn lend_part(self: &Arc<Self>, part: Part) -> PooledBuffer {
        debug_assert!(part.offset as usize + part.len as usize <= self.buffer_size);
        PooledBuffer {
            storage: Storage::Lent {
                shared: Arc::clone(self),
                index: part.index,
                offset: part.offset,
                len: part.len,
            },
        }
    }

    fn give_back(&self, index: u16) {
        match &self.lending {
            Lending::List(free) => lock(free).push(index),
            #[cfg(target_os = "linux")]
            Lending::Ring(ring) if ring.incremental => {
                // Its last part: no longer lent, though the kernel may still be filling it;
                // back in the ring once the kernel is done with it too.
                let before = ring.holds[index as usize].fetch_sub(PART_HOLDS, Ordering::AcqRel);
                if before >= 2 * PART_HOLDS {
                    return;
                }
                if before == PART_HOLDS {
                    self.put_back(ring, index);
                }
            }
            #[cfg(target_os = "linux")]
            Lending::Ring(ring) => self.put_back(ring, index),
        }
        self.lent.fetch_sub(1, Ordering::SeqCst);
        // Paired with `poll_available`: it sets the flag, then looks at `lent`; this changes
        // `lent`, then looks at the flag. One of the two sees the other.
        if self.waiting.load(Ordering::SeqCst) {
            self.wake_waiters();
        }
    }

    #[cold]
    fn wake_waiters(&self) {
        self.waiting.store(false, Ordering::SeqCst);
        for waker in std::mem::take(&mut *lock(&self.waiters)) {
            waker.wake();
        }
    }

    /// Makes the pool a buffer ring with every buffer in it.
    #[cfg(target_os = "linux")]
    pub(crate) fn make_ring(&mut self) -> io::Result<()> {
        let size = self.count as usize * std::mem::size_of::<io_uring::types::BufRingEntry>();
        // The kernel wants the ring page-aligned.
        let layout = Layout::from_size_align(size.max(4096), 4096)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pool too large"))?;
        // SAFETY: the layout's size is at least one page.
        let entries = NonNull::new(unsafe { alloc::alloc_zeroed(layout) })
            .ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?
            .cast();
        let depth = FIRST_DEPTH.min(u32::from(self.count));
        let ring = Ring {
            entries,
            layout,
            state: Mutex::new(RingState {
                tail: 0,
                spare: (depth as u16..self.count).rev().collect(),
            }),
            in_ring: AtomicU32::new(0),
            depth: AtomicU32::new(depth),
            spare_count: AtomicU32::new(u32::from(self.count) - depth),
            positions: (0..self.count).map(|_| AtomicU16::new(0)).collect(),
            incremental: false,
            consumed: (0..self.count).map(|_| AtomicU32::new(0)).collect(),
            holds: (0..self.count).map(|_| AtomicU32::new(0)).collect(),
        };
        {
            let mut state = lock(&ring.state);
            for index in 0..depth as u16 {
                self.provide(&ring, &mut state, index);
            }
        }
        self.lending = Lending::Ring(ring);
        Ok(())
    }

    /// The buffers of a bundle the kernel filled from the ring: `count` entries in ring order
    /// from the one it put buffer `first` in, whose indices go to `into` (`first` included).
    #[cfg(target_os = "linux")]
    pub(crate) fn bundle(&self, first: u16, count: usize, into: &mut Vec<u16>) {
        let Lending::Ring(ring) = &self.lending else {
            into.push(first);
            return;
        };
        let start =
            ring.positions[usize::from(first) % self.count as usize].load(Ordering::Relaxed);
        into.push(first);
        for step in 1..count.min(self.count as usize) {
            let slot = start.wrapping_add(step as u16) & (self.count - 1);
            // SAFETY: slot < count, inside the ring. The kernel took this entry, after the
            // one of `first`, for the bundle: its buffer is lent until this completion hands
            // it out and it is dropped, so no return writes the entry meanwhile (a return
            // writes at the tail, which stays short of every entry whose buffer is out).
            let index = unsafe { (*ring.entries.as_ptr().add(slot as usize)).bid() };
            into.push(index);
        }
    }

    /// The parts of the pool's buffers that a receive of `received` bytes filled, into
    /// `parts` in the order the bytes came, for a ring the kernel consumes incrementally: it
    /// began in buffer `first` where the last receive into it ended, went on into the
    /// buffers after it in the ring when that one filled, and `more` (the completion's
    /// `IORING_CQE_F_BUF_MORE`) says the last one still has room the kernel goes on filling.
    /// Each part holds its buffer out of the ring; a buffer the kernel used up goes back when
    /// its last part is dropped.
    #[cfg(target_os = "linux")]
    pub(crate) fn take_parts(
        &self,
        first: u16,
        received: usize,
        more: bool,
        parts: &mut Vec<Part>,
    ) {
        let Lending::Ring(ring) = &self.lending else {
            return;
        };
        if received == 0 && more {
            // Nothing received and nothing consumed: the buffer stays the kernel's.
            return;
        }
        let size = self.buffer_size;
        let mut index = first;
        let mut position = ring.positions[usize::from(first)].load(Ordering::Relaxed);
        let mut left = received;
        let mut used_up = 0;
        // Bounded by the ring's length: a kernel that reported more bytes than the buffers
        // after `first` hold gets the rest dropped rather than a loop.
        for _ in 0..self.count {
            let at = usize::from(index);
            let offset = ring.consumed[at].load(Ordering::Relaxed) as usize;
            if offset == 0 {
                // Its first part: the kernel holds the buffer until it is used up (nothing
                // else holds it: it was in the ring untouched).
                ring.holds[at].store(KERNEL_HOLDS, Ordering::Release);
            }
            let len = left.min(size - offset);
            if ring.holds[at].fetch_add(PART_HOLDS, Ordering::AcqRel) < PART_HOLDS {
                // No part of it was out: it is lent again.
                self.lent.fetch_add(1, Ordering::SeqCst);
            }
            parts.push(Part {
                index,
                offset: offset as u32,
                len: len as u32,
            });
            left -= len;
            if left == 0 && more {
                ring.consumed[at].store((offset + len) as u32, Ordering::Relaxed);
                break;
            }
            // Used up: the kernel moved on to the next buffer. Its parts hold it now (one
            // was just taken, so this never lets it go).
            ring.consumed[at].store(0, Ordering::Relaxed);
            ring.holds[at].fetch_sub(KERNEL_HOLDS, Ordering::AcqRel);
            used_up += 1;
            if left == 0 {
                break;
            }
            position = position.wrapping_add(1);
            let slot = position & (self.count - 1);
            // SAFETY: slot < count, inside the ring. The kernel took this entry, after the
            // one it filled before, for the same receive: its buffer is out of the ring until
            // its parts are dropped, so no return writes the entry meanwhile.
            index = unsafe { (*ring.entries.as_ptr().add(slot as usize)).bid() };
        }
        // After the walk, which reads the entries the kernel took: a refill writes entries.
        if used_up > 0 {
            self.taken_from_ring(used_up);
        }
    }

    /// Records whether the kernel consumes the ring's buffers incrementally (as registered).
    #[cfg(target_os = "linux")]
    pub(crate) fn set_incremental(&mut self, incremental: bool) {
        if let Lending::Ring(ring) = &mut self.lending {
            ring.incremental = incremental;
        }
    }

    /// Whether the kernel consumes this pool's buffers incrementally (see `Ring::incremental`).
    #[cfg(target_os = "linux")]
    pub(crate) fn is_incremental(&self) -> bool {
        matches!(&self.lending, Lending::Ring(ring) if ring.incremental)
    }

    /// Makes a pool that could not be registered as a ring a free list again.
    #[cfg(target_os = "linux")]
    pub(crate) fn make_list(&mut self) {
        self.lending = Lending::List(Mutex::new((0..self.count).rev().collect()));
    }

    /// Puts buffer `index`, back from its holder, in the ring if the ring is short of its
    /// depth, else among the spares.
    #[cfg(target_os = "linux")]
    fn put_back(&self, ring: &Ring, index: u16) {
        let mut state = lock(&ring.state);
        if ring.in_ring.load(Ordering::Acquire) < ring.depth.load(Ordering::Relaxed) {
            self.provide(ring, &mut state, index);
        } else {
            state.spare.push(index);
            ring.spare_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records that the kernel took `count` buffers out of the ring, and tops the ring up
    /// from the spares once a quarter of its depth is gone. On the driver's thread.
    #[cfg(target_os = "linux")]
    pub(crate) fn taken_from_ring(&self, count: u32) {
        let Lending::Ring(ring) = &self.lending else {
            return;
        };
        let left = ring
            .in_ring
            .fetch_sub(count, Ordering::AcqRel)
            .saturating_sub(count);
        let depth = ring.depth.load(Ordering::Relaxed);
        if left < depth - depth / 4 && ring.spare_count.load(Ordering::Relaxed) > 0 {
            self.refill(ring);
        }
    }

    /// A receive found the ring empty (`ENOBUFS`): if buffers wait among the spares, the ring
    /// was too short for the load, so its depth doubles and it is filled up to it.
    #[cfg(target_os = "linux")]
    pub(crate) fn ran_dry(&self) {
        let Lending::Ring(ring) = &self.lending else {
            return;
        };
        if ring.spare_count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let depth = ring.depth.load(Ordering::Relaxed);
        ring.depth
            .store((depth * 2).min(u32::from(self.count)), Ordering::Relaxed);
        self.refill(ring);
    }

    /// The buffers in the ring now and the depth it is kept to (`None`: not a ring).
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn ring_fill(&self) -> Option<(u32, u32)> {
        let Lending::Ring(ring) = &self.lending else {
            return None;
        };
        Some((
            ring.in_ring.load(Ordering::Relaxed),
            ring.depth.load(Ordering::Relaxed),
        ))
    }

    #[cfg(target_os = "linux")]
    fn refill(&self, ring: &Ring) {
        let mut state = lock(&ring.state);
        while ring.in_ring.load(Ordering::Acquire) < ring.depth.load(Ordering::Relaxed) {
            let Some(index) = state.spare.pop() else {
                break;
            };
            ring.spare_count.fetch_sub(1, Ordering::Relaxed);
            self.provide(ring, &mut state, index);
        }
    }

    /// Puts buffer `index` at the ring's tail and publishes it to the kernel.
    #[cfg(target_os = "linux")]
    fn provide(&self, ring: &Ring, state: &mut RingState, index: u16) {
        let tail = &mut state.tail;
        let slot = *tail & (self.count - 1);
        // SAFETY: slot < count, the ring's length; the kernel reads entries only between its
        // head and the published tail, and this one is past the tail until the store below.
        unsafe {
            let entry = &mut *ring.entries.as_ptr().add(slot as usize);
            entry.set_addr(self.address(index) as u64);
            entry.set_len(self.buffer_size as u32);
            entry.set_bid(index);
        }
        ring.positions[index as usize].store(*tail, Ordering::Relaxed);
        *tail = tail.wrapping_add(1);
        // SAFETY: the tail field is the first entry's last two bytes, inside the ring and
        // 2-byte aligned; the kernel reads it with acquire ordering, so the entry written
        // above is visible to it first.
        unsafe {
            let field = io_uring::types::BufRingEntry::tail(ring.entries.as_ptr());
            (*field.cast::<AtomicU16>()).store(*tail, Ordering::Release);
        }
        ring.in_ring.fetch_add(1, Ordering::AcqRel);
    }
}

// SAFETY: the pool's memory is reached only through a lent buffer (its holder's alone until
// it goes back) or by the kernel while the buffer is in the ring; the free list and the
// ring's tail are behind locks, so buffers may come back from any thread.
unsafe impl Send for Shared {}
// SAFETY: as for `Send`: shared references only read the sizes and take the locks.
unsafe impl Sync for Shared {}

/// Locks `mutex`, whose data (indices, a tail) stays consistent even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Last handle and last buffer gone, and the driver (which holds a handle) with them:
        // no kernel can select from the pool any more.
        // SAFETY: allocated in `new` with this layout.
        unsafe { alloc::dealloc(self.memory.as_ptr(), self.layout) };
    }
}

#[cfg(target_os = "linux")]
impl Drop for Ring {
    fn drop(&mut self) {
        // Dropped with its pool (after the driver whose kernel read it), or unregistered.
        // SAFETY: allocated in `make_ring` with this layout.
        unsafe { alloc::dealloc(self.entries.as_ptr().cast(), self.layout) };
    }
}

impl BufferPool {
    /// The size of each buffer: the most one pooled receive gets.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut driver = proactor_driver::Driver::new()?;
    /// assert_eq!(driver.buffer_pool(2048, 8)?.buffer_size(), 2048);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn buffer_size(&self) -> usize {
        self.shared.buffer_size
    }

    /// How many buffers the pool has.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut driver = proactor_driver::Driver::new()?;
    /// assert_eq!(driver.buffer_pool(2048, 8)?.capacity(), 8);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.count as usize
    }

    /// Ready when the pool has a buffer (not lent out); otherwise `cx` is woken when one comes
    /// back, from whatever thread drops it. For a reader that met an exhausted pool and
    /// waits for a buffer rather than failing (as the runtime's pooled reads do).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let mut driver = proactor_driver::Driver::new()?;
    /// let pool = driver.buffer_pool(64, 1)?;
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(pool.poll_available(&mut cx).is_ready());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_available(&self, cx: &mut Context<'_>) -> Poll<()> {
        let shared = &self.shared;
        if shared.lent.load(Ordering::SeqCst) < shared.count as usize {
            return Poll::Ready(());
        }
        {
            let mut waiters = lock(&shared.waiters);
            if !waiters.iter().any(|waiter| waiter.will_wake(cx.waker())) {
                waiters.push(cx.waker().clone());
            }
        }
        shared.waiting.store(true, Ordering::SeqCst);
        if shared.lent.load(Ordering::SeqCst) < shared.count as usize {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// How many buffers are in the pool now, not lent out.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut driver = proactor_driver::Driver::new()?;
    /// let pool = driver.buffer_pool(2048, 8)?;
    /// assert_eq!(pool.available(), 8);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn available(&self) -> usize {
        (self.shared.count as usize).saturating_sub(self.shared.lent.load(Ordering::Relaxed))
    }
}

impl fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferPool")
            .field("buffer_size", &self.buffer_size())
            .field("capacity", &self.capacity())
            .field("available", &self.available())
            .finish()
    }
}

impl PooledBuffer {
    /// Whether the buffer is out of a pool (and goes back to it when dropped), rather than
    /// bytes kept outside any pool.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!proactor_driver::PooledBuffer::from(vec![1, 2]).is_lent());
    /// ```
    pub fn is_lent(&self) -> bool {
        matches!(self.storage, Storage::Lent { .. })
    }
}

impl From<Vec<u8>> for PooledBuffer {
    fn from(bytes: Vec<u8>) -> PooledBuffer {
        PooledBuffer {
            storage: Storage::Owned(bytes),
        }
    }
}

impl Deref for PooledBuffer {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        let (start, len) = self.lent_part();
        match &self.storage {
            // SAFETY: see `lent_part`.
            Storage::Lent { .. } => unsafe { std::slice::from_raw_parts(start, len) },
            Storage::Owned(bytes) => bytes,
        }
    }
}

impl DerefMut for PooledBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        let (start, len) = self.lent_part();
        match &mut self.storage {
            // SAFETY: see `lent_part`; `&mut self` makes this the only view of the part.
            Storage::Lent { .. } => unsafe { std::slice::from_raw_parts_mut(start, len) },
            Storage::Owned(bytes) => bytes,
        }
    }
}

impl PooledBuffer {
    /// Where a lent buffer's (or part's) bytes start, and how many there are (`(null, 0)`
    /// for bytes owned outside a pool). The memory is the holder's: a lent buffer is out of
    /// the ring (or free list) and parts of one buffer never overlap, so nothing else reads
    /// or writes it until it goes back; the `len` bytes from `offset` were received, inside
    /// the buffer (see `lend_part`).
    fn lent_part(&self) -> (*mut u8, usize) {
        match &self.storage {
            Storage::Lent {
                shared,
                index,
                offset,
                len,
            } => (
                // SAFETY: `offset` is inside buffer `index`, which is inside the pool's one
                // allocation.
                unsafe { shared.address(*index).add(*offset as usize) },
                *len as usize,
            ),
            Storage::Owned(_) => (std::ptr::null_mut(), 0),
        }
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Storage::Lent { shared, index, .. } = &self.storage {
            shared.give_back(*index);
        }
    }
}

impl fmt::Debug for PooledBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledBuffer")
            .field("len", &self.len())
            .field("lent", &self.is_lent())
            .finish()
    }
}

/// What a pooled receive's error carries when its pool had no buffer left.
#[derive(Debug)]
struct PoolExhausted;

impl fmt::Display for PoolExhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "buffer pool exhausted: every buffer is lent out (drop some, or use a larger pool)",
        )
    }
}

impl std::error::Error for PoolExhausted {}

/// The error a pooled receive completes with when its pool has no buffer left.
pub(crate) fn exhausted() -> io::Error {
    io::Error::new(io::ErrorKind::OutOfMemory, PoolExhausted)
}

/// Whether `error` says a pooled receive found its pool empty (see [`BufferPool`]): the
/// same error on every backend (kind `OutOfMemory`).
///
/// # Examples
///
/// ```
/// assert!(!proactor_driver::is_pool_exhausted(&std::io::Error::other("no")));
/// ```
pub fn is_pool_exhausted(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<PoolExhausted>())
}
