//! Completion emulated on readiness, shared by every readiness mechanism (epoll, kqueue): a
//! mechanism only provides [`Poller`] (register a descriptor, wait for events).
//!
//! An operation is tried at once. If it would block, it joins its descriptor's queue for its
//! direction (reads: read, recv, recvmsg, accept; writes: write, send, sendmsg, connect; a
//! splice: whichever of its two ends is not ready, moving if that changes), and the
//! descriptor is registered edge-triggered for both directions, once. When an edge
//! arrives, the queue is run from the front until an operation would block again, so two reads
//! on one socket complete in the order they were submitted. Regular files are always "ready"
//! yet may block on storage, so their operations (and open, statx, fsync) go to the thread
//! pool. Timeouts sit in a heap whose nearest deadline bounds the wait.
//!
//! Streams need no operation at all where nothing has to wait: `try_transfer_now` makes one
//! non-blocking receive or send outside any slot (when no operation waits ahead of it that
//! way), and `watch_readable` records a token in the descriptor's state, woken through the
//! slot table's `woken` list at the next readable edge, as mio and tokio wait. A receive that
//! found the socket empty, or took fewer bytes than it had room for, marks the direction
//! `blocked` until the next edge (unless an event said the peer hung up: an end that came
//! with the last bytes brings no edge of its own), so neither the next try nor the next
//! operation asks the kernel again for nothing. Every edge clears the mark, whether or not
//! anything waits, and registering a descriptor reports what is already there, so a mark
//! never outlives the emptiness it records.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::timers::Timers;
use super::unix::{self, Control, FdKind, Waker};
use super::{Backend, Transfer};
use crate::pool::{Pool, Reply};
use crate::slots::Slots;
use crate::{Completion, Op, OpId};

/// What a wait reports.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    /// A registered descriptor (or the waker, by its descriptor number) is ready.
    Ready {
        fd: RawFd,
        /// Readable, or hung up / in error (the read queue must look).
        readable: bool,
        /// Writable, or hung up / in error.
        writable: bool,
        /// The peer hung up, or the socket is in error: as the mechanism saw it when it
        /// reported the event. Without it, a receive that leaves the socket empty can wait
        /// for the next edge (bytes, an end or an error that come later bring one); with it,
        /// what follows the bytes may be an end, which no later edge announces.
        ended: bool,
    },
    /// A process watched with [`Poller::watch_exit`] exited.
    #[cfg_attr(not(kqueue), allow(dead_code))] // Only kqueue watches processes.
    Exited { pid: u32 },
}

/// What a readiness mechanism provides.
pub(crate) trait Poller: Sized {
    /// Opens the mechanism, watching `waker` (for readability only: a writable edge on every
    /// drain would end each wait early). The waker outlives the poller, so a poller may keep
    /// it and wait on a descriptor the waker owns.
    fn new(waker: &Arc<Waker>) -> io::Result<Self>;
    /// Watches `fd` for both directions, edge-triggered, until deregistered or closed.
    fn register(&mut self, fd: RawFd) -> io::Result<()>;
    fn deregister(&mut self, fd: RawFd);
    /// Watches for process `pid`'s exit, reported once as [`Event::Exited`]; `Ok(false)` if
    /// it has already exited (or does not exist), so nothing will be reported.
    fn watch_exit(&mut self, pid: u32) -> io::Result<bool> {
        let _ = pid;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this backend cannot wait for a process exit; on Linux poll a pidfd with Op::Poll",
        ))
    }
    /// Stops watching `pid` before its exit was reported.
    fn unwatch_exit(&mut self, pid: u32) {
        let _ = pid;
    }
    /// Waits up to `timeout` (`None`: no limit) and appends the events to `events`.
    fn wait(&mut self, events: &mut Vec<Event>, timeout: Option<Duration>) -> io::Result<()>;
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Direction {
    Read,
    Write,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
enum Place {
    /// Waiting in its descriptor's queue for readiness.
    #[default]
    Queued,
    /// A timeout in the heap.
    Timer,
    /// Running on the thread pool (its `Op` travels with the job).
    Pool,
    /// A `WaitExit` in `exits`, waiting for its process.
    Exit,
    /// Finished; the completion waits in `ready` to be handed out.
    Done,
}

#[derive(Default)]
pub(crate) struct Slot {
    op: Option<Op>,
    control: Control,
    place: Place,
    cancel_requested: bool,
}

impl crate::slots::HoldsOp for Slot {
    fn op(&mut self) -> &mut Option<Op> {
        &mut self.op
    }
}

/// The operations waiting on one direction of a descriptor, first in first out. Nearly always
/// none or one (a connection's read, its write), so the first is kept inline and only a second
/// allocates: a `VecDeque` of each direction allocated room for four on its first push and kept
/// it, 48 bytes of heap for each connection that ever waited to read, and 32 bytes more in
/// every descriptor's state (idle-bench).
#[derive(Default)]
struct Waiting {
    /// Empty only if `rest` is.
    first: Option<OpId>,
    // Boxed: 8 bytes in every descriptor's state instead of a `VecDeque`'s 32, for a queue
    // that is rarely made.
    #[allow(clippy::box_collection)]
    rest: Option<Box<VecDeque<OpId>>>,
}

impl Waiting {
    fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    fn front(&self) -> Option<OpId> {
        self.first
    }

    fn push_back(&mut self, id: OpId) {
        match self.first {
            None => self.first = Some(id),
            Some(_) => self.rest.get_or_insert_default().push_back(id),
        }
    }

    fn pop_front(&mut self) -> Option<OpId> {
        let front = self.first.take();
        self.first = self.rest.as_mut().and_then(|rest| rest.pop_front());
        front
    }

    /// Takes out `id`, wherever it waits.
    fn remove(&mut self, id: OpId) {
        if let Some(rest) = &mut self.rest {
            rest.retain(|&queued| queued != id);
        }
        if self.first == Some(id) {
            self.pop_front();
        }
    }

    /// Takes out every operation, in order, into `into`.
    fn drain_into(&mut self, into: &mut Vec<OpId>) {
        into.extend(self.first.take());
        if let Some(rest) = &mut self.rest {
            into.extend(rest.drain(..));
        }
    }

    /// Empties it, keeping the capacity of what it allocated.
    fn clear(&mut self) {
        self.first = None;
        if let Some(rest) = &mut self.rest {
            rest.clear();
        }
    }
}

#[derive(Default)]
struct FdState {
    kind: Option<FdKind>,
    registered: bool,
    readers: Waiting,
    writers: Waiting,
    /// A transfer tried outside any operation (`try_transfer_now`) found the socket with
    /// nothing to read / no room to write, and no edge has come since: the next operation
    /// that way waits for the edge without asking the kernel again. An edge that comes
    /// after the attempt clears it, and one that came before the descriptor was registered
    /// is reported by the registration itself, so no wait is missed.
    blocked: [bool; 2],
    /// Who is woken (a token, as a claim's) at the next readable edge, without an operation
    /// (`watch_readable`): at most one at a time.
    read_watcher: Option<u64>,
    /// An event said the peer hung up (or the socket is in error). From then on a receive
    /// that leaves the socket empty does not mean the next bytes bring an edge: what follows
    /// may be the end, which no later edge announces.
    hung_up: bool,
}

impl FdState {
    fn queue(&mut self, direction: Direction) -> &mut Waiting {
        match direction {
            Direction::Read => &mut self.readers,
            Direction::Write => &mut self.writers,
        }
    }

    fn blocked(&mut self, direction: Direction) -> &mut bool {
        &mut self.blocked[direction as usize]
    }

    /// Forgets what was known of a descriptor number that now names something new, keeping
    /// the queues' capacity. Returns the watcher of the old one, which must be woken (to find
    /// its socket gone) rather than wait for an edge that will not come.
    #[must_use]
    fn reset(&mut self) -> Option<u64> {
        self.kind = None;
        self.registered = false;
        self.readers.clear();
        self.writers.clear();
        self.blocked = [false; 2];
        self.hung_up = false;
        self.read_watcher.take()
    }
}

/// The readiness backend over poller `P`.
pub(crate) struct Readiness<P> {
    poller: P,
    slots: Slots<Slot>,
    /// Per-descriptor state, indexed by descriptor number (they are small and dense).
    fds: Vec<FdState>,
    timers: Timers,
    /// `WaitExit` operations and their processes; one poller watch serves every operation
    /// waiting on one process.
    exits: Vec<(u32, OpId)>,
    /// Operations finished and not handed out yet, with their results; each operation stays
    /// in its slot until then (a claimed one until its claim).
    ready: Vec<(OpId, io::Result<usize>)>,
    /// Completions of multishot operations that go on, handed out before `ready` (where a
    /// multishot operation's last completion waits).
    items: Vec<Completion>,
    events: Vec<Event>,
    waker: Arc<Waker>,
    reply: Arc<Reply>,
    from_pool: Vec<Completion>,
    /// Operations on the thread pool, whose queue a `Close` looks through when there are any.
    pooled: usize,
    /// This driver among the process's (see `Backend::identity`).
    identity: u64,
}

enum Route {
    Now,
    Pool,
    Timer(Duration),
    Close(RawFd),
    Queue(RawFd, Direction),
    QueueOrPool(RawFd, Direction),
    Exit(u32),
}

fn route(op: &Op) -> Route {
    match *op {
        Op::Nop
        | Op::Shutdown { .. }
        | Op::Socket { .. }
        | Op::ConnectNamedPipe { .. }
        | Op::ReadDirectoryChanges { .. } => Route::Now,
        Op::Timeout { duration } => Route::Timer(duration),
        Op::Fsync { .. }
        | Op::OpenAt { .. }
        | Op::Statx { .. }
        | Op::RenameAt { .. }
        | Op::UnlinkAt { .. }
        | Op::MkDirAt { .. }
        | Op::SymlinkAt { .. }
        | Op::LinkAt { .. }
        | Op::Fallocate { .. }
        | Op::Ftruncate { .. }
        | Op::Blocking { .. } => Route::Pool,
        Op::Close { fd } => Route::Close(fd),
        Op::Read { fd, .. } | Op::ReadVectored { fd, .. } => {
            Route::QueueOrPool(fd, Direction::Read)
        }
        Op::Write { fd, .. } | Op::WriteVectored { fd, .. } | Op::Splice { fd_out: fd, .. } => {
            Route::QueueOrPool(fd, Direction::Write)
        }
        Op::Poll {
            fd, writable: true, ..
        } => Route::Queue(fd, Direction::Write),
        Op::Poll { fd, .. } => Route::Queue(fd, Direction::Read),
        Op::Accept { fd, .. }
        | Op::AcceptMultishot { fd }
        | Op::Recv { fd, .. }
        | Op::RecvPooled { fd, .. }
        | Op::RecvMsg { fd, .. } => Route::Queue(fd, Direction::Read),
        Op::Connect { fd, .. }
        | Op::Send { fd, .. }
        | Op::SendZc { fd, .. }
        | Op::SendMsg { fd, .. }
        | Op::SendFile { socket: fd, .. } => Route::Queue(fd, Direction::Write),
        Op::WaitExit { pid } => Route::Exit(pid),
    }
}

impl<P: Poller> Readiness<P> {
    pub(crate) fn new() -> io::Result<Readiness<P>> {
        let waker = Arc::new(Waker::new()?);
        let poller = P::new(&waker)?;
        Ok(Readiness {
            poller,
            slots: Slots::new(),
            fds: Vec::new(),
            timers: Timers::default(),
            exits: Vec::new(),
            ready: Vec::new(),
            items: Vec::new(),
            events: Vec::with_capacity(256),
            reply: Reply::new(Arc::clone(&waker)),
            waker,
            from_pool: Vec::new(),
            pooled: 0,
            identity: super::next_identity(),
        })
    }

    /// The state of a descriptor the driver has seen (no growth for unknown numbers).
    #[inline]
    fn known_fd(&mut self, fd: RawFd) -> Option<&mut FdState> {
        self.fds.get_mut(usize::try_from(fd).ok()?)
    }

    /// The state of a descriptor known to be open (the table grows to its number).
    #[inline]
    fn fd_state(&mut self, fd: RawFd) -> Option<&mut FdState> {
        fd_state(&mut self.fds, fd)
    }

    /// See [`made_fd`].
    fn made_fd(&mut self, fd: RawFd, socket: bool) {
        made_fd(&mut self.fds, self.slots.woken(), fd, socket);
    }

    /// Records the result of `id` for the next `poll` to hand out.
    fn complete(&mut self, id: OpId, result: io::Result<usize>) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        // Finished where it is: the completion is made when it is handed out or claimed.
        let Some(op) = slot.op.as_mut() else { return };
        let mut result = unix::finish(op, &mut slot.control, result);
        if slot.cancel_requested {
            result = discard_created_fd(op, result);
        }
        slot.place = Place::Done;
        if let (Ok(fd), true) = (&result, op.creates_fd()) {
            let socket = makes_socket(op);
            self.made_fd(*fd as RawFd, socket);
        }
        self.ready.push((id, result));
    }

    /// Runs the operation here if the kernel can promise it will not block (a file read
    /// from the page cache, an open from the dentry cache: see
    /// `unix::try_without_blocking`), else sends it to the pool.
    fn run_or_send_to_pool(&mut self, id: OpId) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        #[cfg(target_os = "linux")]
        if let Some(op) = slot.op.as_mut() {
            if let Some(result) = unix::try_without_blocking(op, &mut slot.control) {
                self.complete(id, result);
                return;
            }
        }
        if let Some(op) = slot.op.take() {
            self.send_to_pool(id, op);
        }
    }

    fn send_to_pool(&mut self, id: OpId, op: Op) {
        if let Some(slot) = self.slots.get_mut(id) {
            slot.place = Place::Pool;
        }
        self.pooled += 1;
        Pool::global().execute(id, op, &self.reply);
    }

    /// Learns what `fd` is the first time it is used (one fstat, and `O_NONBLOCK` for what
    /// readiness serves).
    #[inline]
    fn kind_of(&mut self, fd: RawFd) -> io::Result<FdKind> {
        if let Some(kind) = self.known_fd(fd).and_then(|state| state.kind) {
            return Ok(kind);
        }
        self.learn_kind(fd)
    }

    #[inline(never)]
    fn learn_kind(&mut self, fd: RawFd) -> io::Result<FdKind> {
        // fstat first: a bad number fails here, before the table grows to it.
        let kind = unix::fd_kind(fd)?;
        if kind == FdKind::Pollable {
            unix::set_nonblocking(fd)?;
        }
        if let Some(state) = self.fd_state(fd) {
            state.kind = Some(kind);
        }
        Ok(kind)
    }

    fn start_queued(&mut self, id: OpId, fd: RawFd, direction: Direction) {
        // A splice may wait on its input instead: learn that too (and make it non-blocking)
        // before the first try.
        let input = match self.slots.get(id).and_then(|slot| slot.op.as_ref()) {
            Some(&Op::Splice { fd_in, .. }) => Some(fd_in),
            _ => None,
        };
        for fd in [Some(fd), input].into_iter().flatten() {
            if let Err(error) = self.kind_of(fd) {
                return self.complete(id, Err(error));
            }
        }
        let (busy, blocked) = match self.fd_state(fd) {
            Some(state) => (
                !state.queue(direction).is_empty(),
                std::mem::take(state.blocked(direction)),
            ),
            None => (false, false),
        };
        if busy || (blocked && is_plain_transfer(self.slots.get(id))) {
            return self.wait_in_queue(id, fd, direction);
        }
        let mut tries = 0;
        loop {
            let Some(slot) = self.slots.get_mut(id) else {
                return;
            };
            let Some(op) = slot.op.as_mut() else { return };
            match unix::perform(op, &mut slot.control) {
                Err(error) if unix::would_block(&error) && !unix::must_not_wait(op) => {}
                Ok(count) if op.is_item(count) => {
                    let item = op.split_item();
                    self.push_item(id, count, item);
                    continue;
                }
                result => return self.complete(id, result),
            }
            match waits_on(op, fd, direction) {
                Some((fd, direction)) => return self.wait_in_queue(id, fd, direction),
                None if tries < RETRIES => tries += 1,
                None => return self.wait_in_queue(id, fd, direction),
            }
        }
    }

    /// Puts `id` at the back of `fd`'s queue for `direction`, watching `fd` first if it is
    /// not watched yet.
    fn wait_in_queue(&mut self, id: OpId, fd: RawFd, direction: Direction) {
        let needs_registration = self.fd_state(fd).is_some_and(|state| !state.registered);
        if needs_registration {
            match self.poller.register(fd) {
                Ok(()) => {
                    if let Some(state) = self.fd_state(fd) {
                        state.registered = true;
                    }
                }
                Err(error) => return self.complete(id, Err(error)),
            }
        }
        if let Some(state) = self.fd_state(fd) {
            state.queue(direction).push_back(id);
        }
    }

    /// Runs `fd`'s queue for `direction` from the front until an operation would block.
    fn run_queue(&mut self, fd: RawFd, direction: Direction, ended: bool) {
        if let Some(state) = self.fd_state(fd) {
            *state.blocked(direction) = false;
        }
        let mut tries = 0;
        loop {
            let Some(id) = self
                .fd_state(fd)
                .and_then(|state| state.queue(direction).front())
            else {
                return;
            };
            let result = match self.slots.get_mut(id) {
                Some(Slot {
                    op: Some(op),
                    control,
                    ..
                }) => match unix::perform(op, control) {
                    // A multishot receive goes on receiving, at the front of the queue, until
                    // a receive leaves the socket empty: then the next edge brings it back
                    // (unless this event said the peer hung up: then on to the end).
                    Ok(count) if op.is_item(count) => {
                        let drained = !ended && op.drained_by(count);
                        let item = op.split_item();
                        self.push_item(id, count, item);
                        if drained {
                            return;
                        }
                        continue;
                    }
                    result => result,
                },
                // A stale entry (impossible: cancel and close remove entries) is skipped.
                _ => Err(io::Error::from_raw_os_error(libc::ECANCELED)),
            };
            if matches!(&result, Err(error) if unix::would_block(error)) {
                // A splice may now be blocked by its other end: it moves to that queue.
                let place = self
                    .slots
                    .get(id)
                    .and_then(|slot| slot.op.as_ref())
                    .map(|op| waits_on(op, fd, direction));
                match place {
                    Some(Some(place)) if place != (fd, direction) => {
                        if let Some(state) = self.fd_state(fd) {
                            state.queue(direction).pop_front();
                        }
                        self.wait_in_queue(id, place.0, place.1);
                        tries = 0;
                        continue;
                    }
                    Some(None) if tries < RETRIES => {
                        tries += 1;
                        continue;
                    }
                    _ => return,
                }
            }
            if let Some(state) = self.fd_state(fd) {
                state.queue(direction).pop_front();
            }
            self.complete(id, result);
            tries = 0;
        }
    }

    fn close(&mut self, id: OpId, fd: RawFd) {
        let mut waiting = Vec::new();
        if let Some(state) = self.known_fd(fd) {
            state.readers.drain_into(&mut waiting);
            state.writers.drain_into(&mut waiting);
            if state.registered {
                self.poller.deregister(fd);
            }
            if let Some(watcher) = self.known_fd(fd).and_then(FdState::reset) {
                self.slots.woken().push(watcher);
            }
        }
        for waiter in waiting {
            self.complete(waiter, Err(unix::cancelled()));
        }
        if self.pooled > 0 {
            // Jobs not started yet would run on whatever the number names by then.
            let Readiness {
                reply,
                slots,
                pooled,
                ..
            } = self;
            let mut taken = Vec::new();
            Pool::global().cancel_using_fd(reply, fd, |id, op| {
                *pooled -= 1;
                if let Some(slot) = slots.get_mut(id) {
                    slot.op = Some(op);
                    taken.push(id);
                }
            });
            for waiter in taken {
                self.complete(waiter, Err(unix::cancelled()));
            }
        }
        let result = match self.slots.get_mut(id) {
            Some(Slot {
                op: Some(op),
                control,
                ..
            }) => unix::perform(op, control),
            _ => return,
        };
        self.complete(id, result);
    }

    fn watch_exit(&mut self, id: OpId, pid: u32) {
        if !self.exits.iter().any(|&(watched, _)| watched == pid) {
            match self.poller.watch_exit(pid) {
                Ok(true) => {}
                Ok(false) => return self.complete(id, Ok(0)),
                Err(error) => return self.complete(id, Err(error)),
            }
        }
        if let Some(slot) = self.slots.get_mut(id) {
            slot.place = Place::Exit;
        }
        self.exits.push((pid, id));
    }

    /// Completes every operation waiting for `pid` (the poller's watch has ended).
    fn exited(&mut self, pid: u32) {
        let mut index = 0;
        while index < self.exits.len() {
            if self.exits[index].0 == pid {
                let (_, id) = self.exits.swap_remove(index);
                self.complete(id, Ok(0));
            } else {
                index += 1;
            }
        }
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        let slots = &self.slots;
        self.timers
            .next_deadline(|id| slots.get(id).is_some_and(|slot| slot.place == Place::Timer))
    }

    fn fire_timers(&mut self, now: Instant) {
        while let Some(id) = self.timers.pop_due(now) {
            if self
                .slots
                .get(id)
                .is_some_and(|slot| slot.place == Place::Timer)
            {
                self.complete(id, Ok(0));
            }
        }
    }

    /// Takes the pool's results, if it posted any: one atomic load when it did not.
    fn collect_pool(&mut self) {
        // The closure borrows only the fields it names (not `self`), so it can run while
        // `reply` and `from_pool` are borrowed.
        self.reply.collect(&mut self.from_pool, |mut completion| {
            self.pooled -= 1;
            if let Some(slot) = self.slots.get_mut(completion.id) {
                if slot.cancel_requested {
                    completion.result = discard_created_fd(&completion.op, completion.result);
                }
                slot.place = Place::Done;
                let made = match (&completion.result, completion.op.creates_fd()) {
                    (Ok(fd), true) => Some((*fd as RawFd, makes_socket(&completion.op))),
                    _ => None,
                };
                // The operation travelled with the job: back into its slot.
                slot.op = Some(completion.op);
                self.ready.push((completion.id, completion.result));
                if let Some((fd, socket)) = made {
                    made_fd(&mut self.fds, self.slots.woken(), fd, socket);
                }
            }
        });
    }

    fn handle_events(&mut self) -> bool {
        let mut woken = false;
        let mut events = std::mem::take(&mut self.events);
        for event in events.drain(..) {
            let (fd, readable, writable, ended) = match event {
                Event::Ready {
                    fd,
                    readable,
                    writable,
                    ended,
                } => (fd, readable, writable, ended),
                Event::Exited { pid } => {
                    self.exited(pid);
                    continue;
                }
            };
            if fd == self.waker.fd() {
                self.waker.drain();
                self.waker.reset();
                woken = true;
                continue;
            }
            if ended {
                if let Some(state) = self.fd_state(fd) {
                    state.hung_up = true;
                }
            }
            if readable {
                self.run_queue(fd, Direction::Read, ended);
                if let Some(watcher) = self
                    .fd_state(fd)
                    .and_then(|state| state.read_watcher.take())
                {
                    self.slots.woken().push(watcher);
                    woken = true;
                }
            }
            if writable {
                self.run_queue(fd, Direction::Write, ended);
            }
        }
        self.events = events;
        woken
    }

    fn deliver(&mut self, completions: &mut Vec<Completion>) -> usize {
        let items = self.items.len();
        if items > 0 {
            self.deliver_items(completions);
        }
        let count = items + self.ready.len();
        for (id, result) in self.ready.drain(..) {
            self.slots.finish_in_place(id, result, completions);
        }
        count
    }
}

impl<P: Poller> Readiness<P> {
    /// Records one completion of the multishot operation `id` (result `count`, in `op`) for
    /// the next hand-out. A connection it accepted is a new descriptor: whatever was known
    /// about an old one with its number is stale.
    fn push_item(&mut self, id: OpId, count: usize, op: Op) {
        if op.creates_fd() {
            self.made_fd(count as RawFd, makes_socket(&op));
        }
        self.items.push(item_completion(id, count, op));
    }

    /// Hands out (or queues for their claimants) the completions of multishot operations
    /// that go on, in the order they came.
    #[cold]
    fn deliver_items(&mut self, completions: &mut Vec<Completion>) {
        let mut items = std::mem::take(&mut self.items);
        for item in items.drain(..) {
            self.slots.item(item, completions);
        }
        self.items = items;
    }
}

/// One completion of a multishot operation `id` that goes on: `count` bytes, in `op`.
fn item_completion(id: OpId, count: usize, op: Op) -> Completion {
    Completion {
        id,
        result: Ok(count),
        op,
        more: true,
    }
}

/// The state of descriptor `fd` in `fds`, which grows to its number (`Readiness::fd_state`,
/// for where `self` as a whole is borrowed).
// Inline, as the method's body was: out of line it cost `complete`, which runs for every
// operation, two instructions an operation (callgrind, nop-driver-epoll).
#[inline]
fn fd_state(fds: &mut Vec<FdState>, fd: RawFd) -> Option<&mut FdState> {
    let index = usize::try_from(fd).ok()?;
    if index >= fds.len() {
        grow_to(fds, index);
    }
    fds.get_mut(index)
}

#[inline(never)]
fn grow_to(fds: &mut Vec<FdState>, index: usize) {
    fds.resize_with(index + 1, FdState::default);
}

/// How many times a splice whose two ends are both ready after an `EAGAIN` is tried again at
/// once before it waits anyway (on the end its queue names).
const RETRIES: u32 = 3;

/// Where `op`, which would block, waits: in the queue it was routed to, except that a splice
/// waits for whichever of its ends is not ready (an empty input would never make its always
/// writable output pipe send an edge). `None`: a splice whose ends are both ready now, to be
/// tried again.
/// Whether `op`, which creates a descriptor, makes a socket (non-blocking from the start,
/// so pollable) rather than opens a file.
fn makes_socket(op: &Op) -> bool {
    matches!(
        op,
        Op::Accept { .. } | Op::AcceptMultishot { .. } | Op::Socket { .. }
    )
}

/// Records that `fd` is a new descriptor (a `socket` or not): whatever was known about an
/// old one with its number is stale, and a watcher of that one is woken (to find it gone)
/// rather than left waiting for an edge that cannot come.
fn made_fd(fds: &mut Vec<FdState>, woken: &mut Vec<u64>, fd: RawFd, socket: bool) {
    if let Some(state) = fd_state(fds, fd) {
        if let Some(watcher) = state.reset() {
            woken.push(watcher);
        }
        if socket {
            state.kind = Some(FdKind::Pollable);
        }
    }
}

/// Whether the operation in `slot` is a plain receive, read, send or write: one whose first
/// try a transfer outside it that would have blocked already made (see `FdState::blocked`).
fn is_plain_transfer(slot: Option<&Slot>) -> bool {
    matches!(
        slot.and_then(|slot| slot.op.as_ref()),
        Some(Op::Recv { .. } | Op::Read { .. } | Op::Send { .. } | Op::Write { .. })
    )
}

fn waits_on(op: &Op, fd: RawFd, direction: Direction) -> Option<(RawFd, Direction)> {
    match *op {
        Op::Splice { fd_in, fd_out, .. } => {
            unix::splice_waits_for(fd_in, fd_out).map(|(fd, writable)| {
                let direction = if writable {
                    Direction::Write
                } else {
                    Direction::Read
                };
                (fd, direction)
            })
        }
        _ => Some((fd, direction)),
    }
}

/// A cancelled operation that created a descriptor anyway: close it, report the cancel.
fn discard_created_fd(op: &Op, result: io::Result<usize>) -> io::Result<usize> {
    match result {
        Ok(fd) if op.creates_fd() => {
            unix::close_quietly(fd as RawFd);
            Err(unix::cancelled())
        }
        other => other,
    }
}

impl<P: Poller> Backend for Readiness<P> {
    type Slot = Slot;

    #[inline]
    fn slots(&mut self) -> &mut Slots<Slot> {
        &mut self.slots
    }

    #[inline]
    fn finishes_in_submit(&self) -> bool {
        true
    }

    /// An operation that finished and waits in `ready` (see `Slots::end_ready`).
    #[inline]
    fn end_ready(&mut self, id: OpId) {
        if !self.items.is_empty() {
            // A multishot operation's last completion comes after its others, at `poll`.
            return;
        }
        self.slots
            .end_ready(&mut self.ready, id, |slot| slot.place == Place::Done);
    }

    fn submit(&mut self, op: Op) -> OpId {
        let (id, slot) = self.slots.insert();
        slot.place = Place::Queued;
        slot.cancel_requested = false;
        slot.control.reset();
        let checked = unix::validate(&op, self.identity);
        let route = route(&op);
        crate::slots::place_op(&mut slot.op, op);
        if let Err(error) = checked {
            self.complete(id, Err(error));
            return id;
        }
        match route {
            Route::Now => {
                let result = match self.slots.get_mut(id) {
                    Some(Slot {
                        op: Some(op),
                        control,
                        ..
                    }) => unix::perform(op, control),
                    _ => return id,
                };
                self.complete(id, result);
            }
            Route::Timer(duration) => {
                if let Some(slot) = self.slots.get_mut(id) {
                    slot.place = Place::Timer;
                }
                self.timers.add(id, duration);
            }
            Route::Pool => self.run_or_send_to_pool(id),
            Route::Close(fd) => self.close(id, fd),
            Route::Exit(pid) => self.watch_exit(id, pid),
            Route::Queue(fd, direction) => self.start_queued(id, fd, direction),
            Route::QueueOrPool(fd, direction) => match self.kind_of(fd) {
                Ok(FdKind::Blocking) => self.run_or_send_to_pool(id),
                Ok(FdKind::Pollable) => self.start_queued(id, fd, direction),
                Err(error) => self.complete(id, Err(error)),
            },
        }
        id
    }

    fn cancel(&mut self, id: OpId) -> io::Result<()> {
        let Some(slot) = self.slots.get_mut(id) else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no operation in flight has this id (it completed, or never existed)",
            ));
        };
        match slot.place {
            Place::Done => {}
            Place::Pool => match Pool::global().cancel(id, &self.reply) {
                // Not started: it never will be.
                Some(op) => {
                    self.pooled -= 1;
                    slot.op = Some(op);
                    self.complete(id, Err(unix::cancelled()));
                }
                // Running: it completes with its own result.
                None => slot.cancel_requested = true,
            },
            Place::Timer => self.complete(id, Err(unix::cancelled())),
            Place::Exit => {
                if let Some(index) = self.exits.iter().position(|&(_, waiting)| waiting == id) {
                    let (pid, _) = self.exits.swap_remove(index);
                    if !self.exits.iter().any(|&(watched, _)| watched == pid) {
                        self.poller.unwatch_exit(pid);
                    }
                }
                self.complete(id, Err(unix::cancelled()));
            }
            Place::Queued => {
                // A splice may wait in its input's queue rather than its output's.
                let fds = match slot.op.as_ref() {
                    Some(&Op::Splice { fd_in, fd_out, .. }) => [Some(fd_out), Some(fd_in)],
                    op => [op.and_then(Op::fd), None],
                };
                for fd in fds.into_iter().flatten() {
                    if let Some(state) = self.known_fd(fd) {
                        state.readers.remove(id);
                        state.writers.remove(id);
                    }
                }
                self.complete(id, Err(unix::cancelled()));
            }
        }
        Ok(())
    }

    fn poll(
        &mut self,
        completions: &mut Vec<Completion>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let start = Instant::now();
        let deadline = timeout.map(|timeout| {
            start
                .checked_add(timeout)
                .unwrap_or(start + Duration::from_secs(1 << 40))
        });
        loop {
            self.collect_pool();
            let now = Instant::now();
            let mut wait = match (self.ready.is_empty() && self.items.is_empty(), deadline) {
                (false, _) => Some(Duration::ZERO),
                (true, Some(deadline)) => Some(deadline.saturating_duration_since(now)),
                (true, None) => None,
            };
            if let Some(timer) = self.next_deadline() {
                let until_timer = timer.saturating_duration_since(now);
                wait = Some(wait.map_or(until_timer, |wait| wait.min(until_timer)));
            }
            match self.poller.wait(&mut self.events, wait) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
            let woken = self.handle_events();
            self.fire_timers(Instant::now());
            self.collect_pool();
            let expired = deadline.is_some_and(|deadline| Instant::now() >= deadline);
            if !self.ready.is_empty() || !self.items.is_empty() || woken || expired {
                return Ok(self.deliver(completions));
            }
        }
    }

    fn flush(&mut self, completions: &mut Vec<Completion>) -> io::Result<usize> {
        // Operations start inside `submit`; those that finished there are already ready.
        self.collect_pool();
        Ok(self.deliver(completions))
    }

    fn waker(&self) -> &Arc<Waker> {
        &self.waker
    }

    fn in_flight(&self) -> usize {
        self.slots.len()
    }

    fn identity(&self) -> u64 {
        self.identity
    }

    #[inline]
    fn transfers_now(&self) -> bool {
        true
    }

    /// Watches a socket already known to be pollable for its next readable edge, for `token`
    /// (see `Driver::watch_readable`).
    fn watch_readable(&mut self, fd: RawFd, token: u64) -> bool {
        let Some(state) = self.known_fd(fd) else {
            return false;
        };
        // One watch at a time: two reads of one socket waiting at once (even in one task,
        // with one token) take turns in its queue instead.
        let watched = state.read_watcher.is_some();
        if state.kind != Some(FdKind::Pollable) || !state.readers.is_empty() || watched {
            return false;
        }
        if !state.registered {
            // Registered now, the descriptor reports at once what is already there.
            if self.poller.register(fd).is_err() {
                return false;
            }
        }
        let Some(state) = self.known_fd(fd) else {
            return false;
        };
        state.registered = true;
        state.read_watcher = Some(token);
        true
    }

    /// Counted when asked (for metrics), not kept up to date on every watch.
    fn readable_watches(&self) -> usize {
        self.fds
            .iter()
            .filter(|state| state.read_watcher.is_some())
            .count()
    }

    fn unwatch_readable(&mut self, fd: RawFd, token: u64) {
        if let Some(state) = self.known_fd(fd) {
            if state.read_watcher == Some(token) {
                state.read_watcher = None;
            }
        }
    }

    /// One receive or send on a socket already known to be pollable, when no operation waits
    /// ahead of it that way; `None` (after noting it, see `FdState::blocked`) if it would
    /// block.
    fn try_transfer_now(&mut self, fd: RawFd, transfer: Transfer<'_>) -> Option<io::Result<usize>> {
        let state = self.known_fd(fd)?;
        if state.kind != Some(FdKind::Pollable) {
            return None;
        }
        let direction = match transfer {
            Transfer::Receive(_) => Direction::Read,
            Transfer::Send(_) => Direction::Write,
        };
        if !state.queue(direction).is_empty() {
            return None;
        }
        let room = match &transfer {
            // A receive that left the socket empty (or found it so) means nothing is there
            // until the next edge: no need to ask.
            Transfer::Receive(_) if state.blocked[Direction::Read as usize] => return None,
            Transfer::Receive(buf) => buf.read_capacity(),
            Transfer::Send(_) => 0,
        };
        let result = unix::transfer_now(fd, transfer);
        match &result {
            Err(error) if unix::would_block(error) => {
                *state.blocked(direction) = true;
                return None;
            }
            // Fewer bytes than there was room for: the receive took all there was, so it
            // left the socket empty (as tokio's reads assume), unless an end may follow
            // with no edge of its own.
            Ok(count) if direction == Direction::Read && (1..room).contains(count) => {
                *state.blocked(direction) = !state.hung_up;
            }
            _ => {}
        }
        Some(result)
    }

    fn forget_fd(&mut self, fd: RawFd) {
        let Some(state) = self.known_fd(fd) else {
            return;
        };
        if !state.readers.is_empty() || !state.writers.is_empty() || state.read_watcher.is_some() {
            // Operations (or a watcher) wait on it: it is in use, not new.
            return;
        }
        let registered = state.registered;
        let _no_watcher = state.reset();
        if registered {
            self.poller.deregister(fd);
        }
    }
}

impl<P> Drop for Readiness<P> {
    fn drop(&mut self) {
        // Pool jobs own their operations; from now on the pool disposes of their results.
        self.reply.close();
        for (id, result) in std::mem::take(&mut self.ready) {
            let creates = self
                .slots
                .get_mut(id)
                .and_then(|slot| slot.op.as_ref())
                .is_some_and(Op::creates_fd);
            if let (Ok(fd), true) = (result, creates) {
                unix::close_quietly(fd as RawFd);
            }
        }
        for item in std::mem::take(&mut self.items) {
            if let (Ok(fd), true) = (item.result, item.op.creates_fd()) {
                unix::close_quietly(fd as RawFd);
            }
        }
        for fd in self.slots.made_and_held() {
            unix::close_quietly(fd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{OpId, Waiting};

    fn id(index: u32) -> OpId {
        OpId {
            index,
            generation: 1,
        }
    }

    fn drained(waiting: &mut Waiting) -> Vec<OpId> {
        let mut out = Vec::new();
        waiting.drain_into(&mut out);
        out
    }

    #[test]
    fn waiting_operations_keep_their_order_inline_and_beyond() {
        let mut waiting = Waiting::default();
        assert!(waiting.is_empty());
        waiting.push_back(id(1));
        assert!(waiting.rest.is_none(), "one waiter allocates nothing");
        for index in 2..=5 {
            waiting.push_back(id(index));
        }
        assert_eq!(waiting.front(), Some(id(1)));
        waiting.remove(id(3));
        waiting.remove(id(1));
        assert_eq!(waiting.pop_front(), Some(id(2)));
        assert_eq!(drained(&mut waiting), [id(4), id(5)]);
        assert!(waiting.is_empty());

        waiting.push_back(id(6));
        waiting.push_back(id(7));
        waiting.remove(id(6));
        assert_eq!(waiting.front(), Some(id(7)), "the next one moves up");
        waiting.clear();
        assert!(waiting.is_empty());
        assert_eq!(waiting.pop_front(), None);
    }
}
