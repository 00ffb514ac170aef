//! Seeded faults between the driver's API and its backend, for tests (feature
//! `fault-injection`): errors, short transfers, delayed and reordered completions, each one
//! the OS itself could have produced, so that code which survives them survives the OS.
//!
//! The layer never lies about what happened. An error is decided before the operation reaches
//! the backend, so nothing was transferred, and a reset it reports is made true (the socket is
//! shut down both ways); a short transfer is real (the backend was given
//! less room), and the buffers come back as that short transfer left them; a delayed
//! completion carries its real result; reordering never swaps two completions that name the
//! same descriptor, so whatever order one descriptor's operations complete in on the backend
//! is the order the caller sees.
//!
//! The layer hands out identifiers of its own, because a completion it holds back has left
//! the backend, which may give its slot index to a new operation: the index must stay unique
//! among operations the caller sees in flight (see [`OpId::index`](crate::OpId::index)).

mod plausible;
mod short;

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use crate::slots::Slots;
use crate::sys;
use crate::trace;
use crate::{Completion, Fd, Op, OpId};

use short::Narrowed;

/// The most `poll` (or `flush`) calls a delayed completion is held back for.
const MOST_DELAY: u64 = 4;

/// Which faults a [`Driver`](crate::Driver) built with [`Config::faults`](crate::Config::faults)
/// injects, and the seed of its choices. Rates are probabilities from 0 to 1.
///
/// - `error_rate`: an operation fails before it starts, with the error the OS gives that
///   kind of operation on that kind of descriptor and that callers must handle anyway:
///   `ECONNRESET` for I/O on a stream socket, `EIO` for file I/O and `fsync`, `ECONNABORTED`
///   for an accept (the Windows equivalents there). Other operations never fail by fault. A
///   reset is made true: the socket is shut down both ways, so later reads on it end, later
///   writes fail and the peer reads the end of the stream, as after a real reset.
/// - `short_rate`: a read, write, send, receive (vectored or not), splice or sendfile on a
///   byte stream or a regular file transfers fewer bytes than it could, at least one.
///   Datagrams, records (eventfd, inotify) and terminals are never shortened: the OS moves
///   those whole.
/// - `delay_rate`: a completion is held back for up to 4 calls of `poll` or `flush`. A `poll`
///   that may wait does not, while a completion is held: it hands out the earliest held
///   completions instead of returning empty-handed, so a delay never becomes a hang.
///   Completions that name the same descriptor keep their order.
/// - `reorder`: the completions one `poll` hands out are shuffled, except that those naming
///   the same descriptor keep their order.
///
/// The same seed makes the same choices for the same sequence of submissions and
/// completions; the OS decides that sequence, so a run repeats exactly only when the
/// operations' timing does.
///
/// # Examples
///
/// Every read of a file is short, and reading it to the end still gives all of it:
///
/// ```ignore-windows
/// use std::os::fd::AsRawFd;
/// use std::time::Duration;
/// use proactor_driver::{Buffer, Config, Driver, Faults, Op};
///
/// let faults = Faults { short_rate: 1.0, ..Faults::default() };
/// let mut driver = Driver::with_config(Config::new().faults(faults))?;
/// let file = std::fs::File::open("Cargo.toml")?;
/// let mut contents = Vec::with_capacity(64 * 1024);
/// loop {
///     let offset = contents.len() as u64;
///     driver.submit(Op::Read { fd: file.as_raw_fd(), buf: Buffer::from(contents), offset: Some(offset) });
///     let mut completions = Vec::new();
///     while completions.is_empty() {
///         driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
///     }
///     let completion = completions.pop().unwrap();
///     let count = completion.result?;
///     contents = completion.op.into_buffer().unwrap().into_vec().unwrap();
///     if count == 0 {
///         break;
///     }
/// }
/// assert_eq!(contents, std::fs::read("Cargo.toml")?);
/// assert!(driver.fault_counts().shorts > 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Seeds the choices.
    pub seed: u64,
    /// How often an operation that may fail fails.
    pub error_rate: f64,
    /// How often a transfer that may be short is short.
    pub short_rate: f64,
    /// How often a completion is held back.
    pub delay_rate: f64,
    /// Whether each `poll` shuffles what it hands out.
    pub reorder: bool,
}

impl Faults {
    /// Every kind of fault, seeded with `seed`: 1% errors, a quarter of transfers short, a
    /// quarter of completions delayed, completions reordered.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Faults;
    ///
    /// // The same mix without errors, for a test that wants every transfer to succeed.
    /// let faults = Faults { error_rate: 0.0, ..Faults::new(42) };
    /// assert_eq!(faults.seed, 42);
    /// assert!(faults.reorder);
    /// ```
    pub fn new(seed: u64) -> Faults {
        Faults {
            seed,
            error_rate: 0.01,
            short_rate: 0.25,
            delay_rate: 0.25,
            reorder: true,
        }
    }
}

/// How many faults a driver has injected so far (see
/// [`Driver::fault_counts`](crate::Driver::fault_counts)).
///
/// # Examples
///
/// ```
/// use proactor_driver::{Config, Driver, Faults};
///
/// let driver = Driver::with_config(Config::new().faults(Faults::new(1)))?;
/// let counts = driver.fault_counts();
/// assert_eq!(counts.errors + counts.shorts + counts.delays + counts.reorders, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultCounts {
    /// Operations failed before they started.
    pub errors: u64,
    /// Transfers shortened.
    pub shorts: u64,
    /// Completions held back.
    pub delays: u64,
    /// `poll` calls whose completions were shuffled.
    pub reorders: u64,
}

/// A small, fast generator (SplitMix64): the choices need to be reproducible from a seed,
/// not unpredictable.
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `rate`.
    fn chance(&mut self, rate: f64) -> bool {
        // 53 random bits: every f64 in [0, 1) on a uniform grid.
        rate > 0.0 && ((self.next() >> 11) as f64) / ((1u64 << 53) as f64) < rate
    }

    /// Uniform in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// What the layer knows of an operation it handed out an identifier for.
#[derive(Default)]
struct Slot {
    /// The backend's identifier, while the backend has the operation.
    backend: Option<OpId>,
    narrowed: Narrowed,
    /// Where a claimed completion's operation waits for its claimant.
    op: Option<Op>,
}

impl crate::slots::HoldsOp for Slot {
    fn op(&mut self) -> &mut Option<Op> {
        &mut self.op
    }
}

/// A completion held back, and the hand-out (a count of `poll` and `flush` calls) it waits
/// for.
struct Held {
    completion: Completion,
    due: u64,
}

/// The faults of one driver.
pub(crate) struct FaultLayer {
    faults: Faults,
    rng: Rng,
    counts: FaultCounts,
    slots: Slots<Slot>,
    /// By the backend's slot index: the backend's identifier there and ours for it.
    by_backend: Vec<Option<(OpId, OpId)>>,
    /// Completions not yet considered for holding: injected errors, and what the backend
    /// handed out in the current call.
    incoming: Vec<Completion>,
    /// Completions held back, in the order they came.
    held: Vec<Held>,
    /// What `held` keeps between hand-outs, reused.
    kept: Vec<Held>,
    /// What one hand-out gives, reused.
    due_now: Vec<Completion>,
    /// Hand-outs so far: the clock of `Held::due`.
    now: u64,
    /// By descriptor: the latest `due` of a held completion naming it (or of one already
    /// handed out: a stale entry only holds a newcomer back as long as the old one would
    /// have been). Cleared whenever nothing is held.
    latest: HashMap<Fd, u64>,
}

impl FaultLayer {
    pub(crate) fn new(faults: Faults) -> FaultLayer {
        FaultLayer {
            faults,
            rng: Rng(faults.seed),
            counts: FaultCounts::default(),
            slots: Slots::new(),
            by_backend: Vec::new(),
            incoming: Vec::new(),
            held: Vec::new(),
            kept: Vec::new(),
            due_now: Vec::new(),
            now: 0,
            latest: HashMap::new(),
        }
    }

    pub(crate) fn counts(&self) -> FaultCounts {
        self.counts
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn submit(&mut self, backend: &mut sys::Selected, op: Op) -> OpId {
        self.submit_inner(backend, op, None)
    }

    /// As `submit`, with the backend keeping a deadline: a fault that fails the operation
    /// before it starts comes first, as it would with no deadline.
    pub(crate) fn submit_with_timeout(
        &mut self,
        backend: &mut sys::Selected,
        op: Op,
        timeout: Duration,
    ) -> OpId {
        self.submit_inner(backend, op, Some(timeout))
    }

    fn submit_inner(
        &mut self,
        backend: &mut sys::Selected,
        mut op: Op,
        timeout: Option<Duration>,
    ) -> OpId {
        let (id, slot) = self.slots.insert();
        debug_assert!(slot.backend.is_none() && !slot.narrowed.is_short());
        if self.rng.chance(self.faults.error_rate) {
            if let Some(error) = plausible::fail(&op) {
                trace::event!(debug, id = ?id, kind = ?op.kind(), error = %error, "fault: error");
                self.counts.errors += 1;
                self.incoming.push(Completion {
                    id,
                    result: Err(error),
                    op,
                    more: false,
                });
                return id;
            }
        }
        if self.rng.chance(self.faults.short_rate)
            && plausible::may_be_short(&op)
            && slot.narrowed.narrow(&mut op, &mut self.rng)
        {
            trace::event!(debug, id = ?id, kind = ?op.kind(), "fault: short");
            self.counts.shorts += 1;
        }
        let backend_id = match timeout {
            Some(timeout) => backend.submit_with_timeout(op, timeout),
            None => backend.submit_with(|| op),
        };
        slot.backend = Some(backend_id);
        let index = backend_id.index();
        if index >= self.by_backend.len() {
            self.by_backend.resize(index + 1, None);
        }
        self.by_backend[index] = Some((backend_id, id));
        id
    }

    pub(crate) fn cancel(&mut self, backend: &mut sys::Selected, id: OpId) -> io::Result<()> {
        match self.slots.get_mut(id) {
            Some(slot) => match slot.backend {
                Some(backend_id) => backend.cancel(backend_id),
                // Completed already (held back, or failed by a fault): its completion comes
                // with that result, as a real driver's does for an operation that finished
                // before the cancel.
                None => Ok(()),
            },
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no operation in flight has this id (it completed, or never existed)",
            )),
        }
    }

    pub(crate) fn poll(
        &mut self,
        backend: &mut sys::Selected,
        completions: &mut Vec<Completion>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        // Something to hand out already: look at what else is ready, never wait.
        let wait = if self.held.is_empty() && self.incoming.is_empty() {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        let before = self.incoming.len();
        let result = backend.poll(&mut self.incoming, wait);
        self.adopt(before);
        result?;
        Ok(self.hand_out(completions, timeout != Some(Duration::ZERO)))
    }

    pub(crate) fn flush(
        &mut self,
        backend: &mut sys::Selected,
        completions: &mut Vec<Completion>,
    ) -> io::Result<usize> {
        let before = self.incoming.len();
        let result = backend.flush(&mut self.incoming);
        self.adopt(before);
        result?;
        Ok(self.hand_out(completions, false))
    }

    /// Gives the backend's completions from `incoming[start..]` the identifiers the caller
    /// knows and their buffers back as the caller gave them (less what was not transferred).
    fn adopt(&mut self, start: usize) {
        for completion in &mut self.incoming[start..] {
            let index = completion.id.index();
            let Some((backend_id, id)) = self.by_backend.get(index).copied().flatten() else {
                debug_assert!(false, "a completion the layer did not submit");
                continue;
            };
            if backend_id != completion.id {
                debug_assert!(false, "a completion the layer did not submit");
                continue;
            }
            completion.id = id;
            if completion.more {
                // One of many: the operation goes on in the backend.
                continue;
            }
            self.by_backend[index] = None;
            if let Some(slot) = self.slots.get_mut(id) {
                slot.backend = None;
                if slot.narrowed.is_short() {
                    let count = *completion.result.as_ref().unwrap_or(&0);
                    slot.narrowed.restore(&mut completion.op, count);
                }
            }
        }
    }

    /// Moves what is due to `completions`, holding back some of what came in; with `must`,
    /// hands out at least the earliest held completions. Returns how many it moved.
    fn hand_out(&mut self, completions: &mut Vec<Completion>, must: bool) -> usize {
        // Gathered here first, then each ended through the slot table (which holds a claimed
        // one in its slot and hands out the rest).
        let mut due_now = std::mem::take(&mut self.due_now);
        let start = due_now.len();
        let completions_out = completions;
        let completions = &mut due_now;
        self.now += 1;
        self.release(completions, self.now);
        for completion in self.incoming.drain(..) {
            let mut due = self.now;
            if self.rng.chance(self.faults.delay_rate) {
                let polls = 1 + self.rng.below(MOST_DELAY as usize) as u64;
                trace::event!(debug, id = ?completion.id, polls, "fault: delay");
                self.counts.delays += 1;
                due += polls;
            }
            // Never ahead of an earlier completion on the same descriptor.
            let fds = descriptors(&completion);
            for fd in fds.iter().flatten() {
                if let Some(&latest) = self.latest.get(fd) {
                    due = due.max(latest);
                }
            }
            if due <= self.now {
                completions.push(completion);
            } else {
                for fd in fds.iter().flatten() {
                    let latest = self.latest.entry(*fd).or_insert(due);
                    *latest = (*latest).max(due);
                }
                self.held.push(Held { completion, due });
            }
        }
        if must && completions.len() == start {
            if let Some(earliest) = self.held.iter().map(|held| held.due).min() {
                self.release(completions, earliest);
            }
        }
        if self.held.is_empty() {
            self.latest.clear();
        }
        if self.faults.reorder {
            self.shuffle(&mut completions[start..]);
        }
        let count = completions.len() - start;
        for completion in completions.drain(..) {
            self.slots.finish(completion, completions_out);
        }
        self.due_now = due_now;
        count
    }

    pub(crate) fn hold(&mut self, id: OpId, token: u64) {
        self.slots.hold(id, token)
    }

    pub(crate) fn claim(&mut self, id: OpId, token: u64) -> Option<Completion> {
        self.slots.claim(id, token)
    }

    pub(crate) fn claim_with<T>(
        &mut self,
        id: OpId,
        token: u64,
        take: impl FnOnce(io::Result<usize>, &mut Op) -> T,
    ) -> Option<T> {
        self.slots.claim_with(id, token, take)
    }

    pub(crate) fn unclaim(&mut self, id: OpId) -> Option<Completion> {
        self.slots.unclaim(id)
    }

    pub(crate) fn woken(&mut self) -> &mut Vec<u64> {
        self.slots.woken()
    }

    /// Moves the held completions due at `due` or sooner to `completions`, in the order
    /// they came.
    fn release(&mut self, completions: &mut Vec<Completion>, due: u64) {
        for held in self.held.drain(..) {
            if held.due <= due {
                completions.push(held.completion);
            } else {
                self.kept.push(held);
            }
        }
        std::mem::swap(&mut self.held, &mut self.kept);
    }

    /// Shuffles by random swaps of neighbours that name no common descriptor: any two that
    /// do never pass each other.
    fn shuffle(&mut self, completions: &mut [Completion]) {
        if completions.len() < 2 {
            return;
        }
        let mut swapped = false;
        for _ in 0..2 * completions.len() {
            let index = self.rng.below(completions.len() - 1);
            if !conflict(&completions[index], &completions[index + 1]) {
                completions.swap(index, index + 1);
                swapped = true;
            }
        }
        if swapped {
            self.counts.reorders += 1;
        }
    }
}

impl Drop for FaultLayer {
    fn drop(&mut self) {
        // As the backends do with completions nobody collected: a descriptor made for nobody
        // is closed.
        let held = self.held.drain(..).map(|held| held.completion);
        for completion in self.incoming.drain(..).chain(held) {
            if let (Ok(fd), true) = (&completion.result, completion.op.creates_fd()) {
                sys::close_quietly(*fd as Fd);
            }
        }
    }
}

/// Every descriptor a completion names: the operation's own, and one it made.
fn descriptors(completion: &Completion) -> [Option<Fd>; 3] {
    let [first, second] = completion.op.fds();
    let made = match (&completion.result, completion.op.creates_fd()) {
        (Ok(fd), true) => Some(*fd as Fd),
        _ => None,
    };
    [first, second, made]
}

/// Whether two completions name a common descriptor, so their order must be kept.
fn conflict(a: &Completion, b: &Completion) -> bool {
    let theirs = descriptors(b);
    descriptors(a)
        .iter()
        .flatten()
        .any(|fd| theirs.contains(&Some(*fd)))
}
