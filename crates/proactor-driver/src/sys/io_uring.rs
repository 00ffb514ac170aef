//! io_uring: completion-based I/O on Linux, the primary backend.
//!
//! Each operation becomes one SQE whose `user_data` is its [`OpId`]; everything submitted since
//! the last `poll` goes to the kernel in that poll's single `io_uring_enter`, which also waits,
//! and every CQE waiting is then taken. The ring is set up for one issuer thread with deferred
//! task work (completions run only when this thread asks), the fastest mode on kernels that
//! have it, with a plain setup as the fallback.
//!
//! An opcode probe at start finds what the kernel lacks; such operations fall back one by one:
//! operations that never block run at once, socket operations wait for readiness with
//! `POLL_ADD` and then run (as on epoll), and file operations go to the thread pool.
//!
//! Closing a descriptor does not end what the kernel is doing with it (each operation holds
//! its own reference to the file), so a `Close` first cancels every operation waiting on the
//! descriptor: with one `ASYNC_CANCEL` by descriptor (Linux 5.19), else one per operation
//! found in the slots. An operation that would touch the descriptor again after the close
//! (a readiness fallback's retry) completes as cancelled instead: the number may already name
//! something else.

use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_uring::{opcode, squeue, types, IoUring as Ring, Probe};

use super::checks::IOV_MAX;
use super::unix::{self, Control, FdKind, Waker};
use super::Backend;
use super::FOREVER;
use crate::buffer_pool::{Part, Shared as BufferShared};
use crate::pool::{Pool, Reply};
use crate::slots::Slots;
use crate::{Completion, Config, Op, OpId, OpKind};

/// `user_data` of the waker's poll; slot indices never reach `u32::MAX`.
const WAKE: u64 = u64::MAX;
/// `user_data` of cancel requests, whose own completions carry nothing we need.
const CANCEL: u64 = u64::MAX - 1;
/// `user_data` of the timeouts linked to operations with a deadline: their own completions
/// (`ETIME` when one fired, `ECANCELED` when its operation finished first) carry nothing we
/// need either; the operation's tells (see `deadline_result`).
const DEADLINE: u64 = u64::MAX - 2;

/// `user_data` of the updates that take a descriptor out of the registered table: the
/// table index in the low 32 bits, generation 0 (never an operation's).
const UNREGISTERED_MAX: u64 = u32::MAX as u64;

/// What the update that takes a descriptor out of the table writes there: one "no file".
static NO_FILE: [RawFd; 1] = [-1];

/// The most descriptors registered at once (the kernel's table is made this size, sparse, on
/// the first registration; the process's descriptor limit may lower it).
const REGISTERED_TABLE: u32 = 16_384;

/// Descriptors registered with the ring (`Driver::register_fd`): operations on them name
/// their index in the ring's table (`IOSQE_FIXED_FILE`), which spares the kernel the lookup
/// and the reference count of the file on every operation.
#[derive(Default)]
struct Registered {
    /// The kernel has what it takes (a sparse table, `IORING_OP_FILES_UPDATE`).
    supported: bool,
    /// The table's size, 0 until the first registration makes it.
    capacity: u32,
    /// Index + 1 in the table of each descriptor number, 0 for none.
    by_fd: Vec<u32>,
    /// Indices free for a new descriptor. An index taken out of the table comes back only
    /// when the update doing it completed, so a new registration never races it.
    free: Vec<u32>,
    /// Indices never used yet start here.
    next: u32,
    /// Descriptors registered now: 0 keeps every operation off the lookup.
    count: usize,
}

impl Registered {
    #[inline]
    fn index_of(&self, fd: RawFd) -> Option<u32> {
        let slot = *self.by_fd.get(usize::try_from(fd).ok()?)?;
        slot.checked_sub(1)
    }
}

/// Kinds whose entry names their descriptor in the entry's `fd` field, and so may use its
/// registered index instead.
const REGISTERED_KINDS: u64 = OpKind::Read.bit()
    | OpKind::ReadVectored.bit()
    | OpKind::Write.bit()
    | OpKind::WriteVectored.bit()
    | OpKind::Fsync.bit()
    | OpKind::Accept.bit()
    | OpKind::AcceptMultishot.bit()
    | OpKind::Connect.bit()
    | OpKind::Send.bit()
    | OpKind::SendZc.bit()
    | OpKind::Recv.bit()
    | OpKind::RecvPooled.bit()
    | OpKind::SendMsg.bit()
    | OpKind::RecvMsg.bit()
    | OpKind::Shutdown.bit();

/// `op`'s entry, naming its descriptor's registered index if it has one.
#[inline(always)]
fn use_registered(registered: &Registered, op: &Op, entry: squeue::Entry) -> squeue::Entry {
    // Nothing registered, the common case: one test.
    if registered.count == 0 || REGISTERED_KINDS & op.kind().bit() == 0 {
        return entry;
    }
    match op.fd().and_then(|fd| registered.index_of(fd)) {
        Some(index) => {
            #[cfg(test)]
            tests::REGISTERED_ENTRIES.with(|count| count.set(count.get() + 1));
            with_registered(entry, index)
        }
        None => entry,
    }
}

/// `entry` naming the registered index `index` instead of its descriptor.
fn with_registered(entry: squeue::Entry, index: u32) -> squeue::Entry {
    let mut entry = entry.flags(squeue::Flags::FIXED_FILE);
    // SAFETY: `squeue::Entry` is `repr(C)` around the kernel's `io_uring_sqe`, whose `fd`
    // (an `__s32`) sits at byte 4 in every version of the ABI (after `opcode: u8`,
    // `flags: u8`, `ioprio: u16`); with IOSQE_FIXED_FILE the kernel reads it as the index.
    // The pointer is derived from a live, exclusively borrowed entry.
    unsafe {
        std::ptr::addr_of_mut!(entry)
            .cast::<u8>()
            .add(4)
            .cast::<i32>()
            .write_unaligned(index as i32);
    }
    entry
}

/// Kinds the kernel always runs on a worker thread, looking their descriptors up only when a
/// worker starts them: until then a cancel by descriptor cannot see them, and a close queued
/// after them would run first.
const RESOLVED_LATE: u64 = OpKind::Fsync.bit()
    | OpKind::Fallocate.bit()
    | OpKind::Ftruncate.bit()
    | OpKind::Splice.bit()
    | OpKind::OpenAt.bit()
    | OpKind::Statx.bit()
    | OpKind::RenameAt.bit()
    | OpKind::UnlinkAt.bit()
    | OpKind::MkDirAt.bit()
    | OpKind::SymlinkAt.bit()
    | OpKind::LinkAt.bit();

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
enum State {
    /// The kernel is doing the operation.
    #[default]
    Kernel,
    /// Fallback for a missing opcode: the kernel polls the descriptor; we do the syscall.
    Polling,
    /// On the thread pool; the `Op` travels with the job.
    Pool,
    /// Finished; the completion waits in `ready`.
    Done,
}

#[derive(Default)]
pub(crate) struct Slot {
    op: Option<Op>,
    control: Control,
    timespec: types::Timespec,
    state: State,
    cancel_requested: bool,
    /// A multishot operation: every CQE of it takes the rare path (its last may come
    /// without `IORING_CQE_F_MORE` and still carry a result that is one of its many).
    multishot: bool,
    /// A zero-copy send's result, kept from its first CQE until the notification that the
    /// kernel let go of its buffer (the operation ends only then).
    zero_copy_result: Option<i32>,
    /// When the operation was submitted, to tell whether its descriptor was closed after.
    seq: u64,
}

impl crate::slots::HoldsOp for Slot {
    fn op(&mut self) -> &mut Option<Op> {
        &mut self.op
    }
}

pub(crate) struct IoUring {
    ring: Ring,
    slots: Slots<Slot>,
    /// [`OpKind`] bits that take a fallback path.
    fallback: u64,
    /// Operations whose memory the kernel may still touch (`Kernel` and `Polling` states).
    in_kernel: usize,
    waker: Arc<Waker>,
    wake_armed: bool,
    reply: Arc<Reply>,
    ready: Vec<Completion>,
    from_pool: Vec<Completion>,
    /// CQEs for the rare paths, with their flags.
    cqes: Vec<(u64, i32, u32)>,
    /// Operations submitted so far: each slot's `seq`.
    submitted: u64,
    /// The `seq` of the last `Close` of each descriptor number closed while operations were
    /// in the kernel; emptied whenever none are (a map: a number need not be open, or small).
    closed: HashMap<RawFd, u64>,
    /// Whether the kernel cancels by descriptor (`IORING_ASYNC_CANCEL_FD`, Linux 5.19).
    cancel_by_fd: bool,
    /// Operations on the thread pool, whose queue a `Close` looks through when there are any.
    pooled: usize,
    /// Scratch for the operations a `Close` cancels one by one (reused).
    closing: Vec<OpId>,
    /// At least as many as the operations in the kernel of a [`RESOLVED_LATE`] kind that name
    /// a descriptor: counted when submitted, recounted by the next `Close` that looks.
    late: usize,
    /// This driver among the process's (see `Backend::identity`).
    identity: u64,
    registered: Registered,
    /// Multishot pooled receives take bundles of buffers (Linux 6.10, `Config::recv_bundles`).
    bundles: bool,
    /// Scratch for the buffer indices of a bundle (reused).
    bundle: Vec<u16>,
    /// Scratch for the buffer parts one receive filled (reused).
    parts: Vec<Part>,
    /// Buffer rings are registered for incremental consumption where the kernel has it
    /// (`Config::incremental_buffers`).
    incremental: bool,
}

/// The parts of `shared`'s buffers a pooled receive of `received` bytes filled, the first in
/// buffer `first`, into `parts`: whole buffers (`indices` is scratch for a bundle's), or parts
/// of them on a ring the kernel consumes incrementally.
fn filled_parts(
    shared: &BufferShared,
    first: u16,
    received: usize,
    flags: u32,
    indices: &mut Vec<u16>,
    parts: &mut Vec<Part>,
) {
    if shared.is_incremental() {
        let more = io_uring::cqueue::buffer_more(flags);
        return shared.take_parts(first, received, more, parts);
    }
    let size = shared.buffer_size();
    // More bytes than one buffer holds: a bundle, its buffers filled in turn.
    let count = received.div_ceil(size).max(1);
    indices.clear();
    shared.bundle(first, count, indices);
    let last = indices.len() - 1;
    shared.lent_by_kernel(indices.len());
    for (at, &index) in indices.iter().enumerate() {
        let len = if at == last {
            received - last * size
        } else {
            size
        };
        parts.push(Part {
            index,
            offset: 0,
            len: len as u32,
        });
    }
    shared.taken_from_ring(indices.len() as u32);
}

/// `IOU_PBUF_RING_INC`: the kernel consumes a ring's buffers incrementally.
const PBUF_RING_INC: u16 = 2;

fn opcode_of(kind: OpKind) -> Option<u8> {
    Some(match kind {
        OpKind::Nop => opcode::Nop::CODE,
        OpKind::Timeout => opcode::Timeout::CODE,
        OpKind::Read => opcode::Read::CODE,
        OpKind::ReadVectored => opcode::Readv::CODE,
        OpKind::Write => opcode::Write::CODE,
        OpKind::WriteVectored => opcode::Writev::CODE,
        OpKind::Fsync => opcode::Fsync::CODE,
        OpKind::Close => opcode::Close::CODE,
        OpKind::Accept => opcode::Accept::CODE,
        OpKind::Connect => opcode::Connect::CODE,
        OpKind::Send => opcode::Send::CODE,
        // Linux 6.0; before it, a plain send on the fallback path.
        OpKind::SendZc => opcode::SendZc::CODE,
        OpKind::Recv => opcode::Recv::CODE,
        OpKind::AcceptMultishot => opcode::AcceptMulti::CODE,
        // Pools are buffer rings, registered only where the kernel has them (else free lists,
        // served by the fallback path).
        OpKind::RecvPooled => opcode::Recv::CODE,
        OpKind::SendMsg => opcode::SendMsg::CODE,
        OpKind::RecvMsg => opcode::RecvMsg::CODE,
        OpKind::Shutdown => opcode::Shutdown::CODE,
        OpKind::Socket => opcode::Socket::CODE,
        OpKind::OpenAt => opcode::OpenAt::CODE,
        OpKind::Statx => opcode::Statx::CODE,
        OpKind::Poll => opcode::PollAdd::CODE,
        OpKind::RenameAt => opcode::RenameAt::CODE,
        OpKind::UnlinkAt => opcode::UnlinkAt::CODE,
        OpKind::MkDirAt => opcode::MkDirAt::CODE,
        OpKind::SymlinkAt => opcode::SymlinkAt::CODE,
        OpKind::LinkAt => opcode::LinkAt::CODE,
        OpKind::Fallocate => opcode::Fallocate::CODE,
        OpKind::Ftruncate => opcode::Ftruncate::CODE,
        OpKind::Splice => opcode::Splice::CODE,
        // No opcode: always the fallback (poll, then the syscall).
        OpKind::SendFile | OpKind::ConnectNamedPipe | OpKind::ReadDirectoryChanges => return None,
        OpKind::Blocking | OpKind::WaitExit => return None,
    })
}

fn build_ring(entries: u32) -> io::Result<Ring> {
    let mut fast = Ring::builder();
    fast.setup_coop_taskrun()
        .setup_taskrun_flag()
        .setup_single_issuer()
        .setup_defer_taskrun();
    match fast.build(entries) {
        Ok(ring) => Ok(ring),
        // Kernels before 6.1 reject the flags they don't know with EINVAL.
        Err(error) if error.raw_os_error() == Some(libc::EINVAL) => Ring::builder().build(entries),
        Err(error) => Err(error),
    }
}

/// Whether the kernel takes `IORING_ASYNC_CANCEL_FD` (Linux 5.19), asked once per process on
/// the first ring: a cancel by descriptor for -1 fails with `EBADF` where the flag is known
/// and `EINVAL` where it is not.
fn cancels_by_fd(ring: &mut Ring) -> io::Result<bool> {
    const UNKNOWN: u8 = 0;
    const YES: u8 = 1;
    const NO: u8 = 2;
    static SUPPORTED: AtomicU8 = AtomicU8::new(UNKNOWN);
    match SUPPORTED.load(Ordering::Relaxed) {
        YES => return Ok(true),
        NO => return Ok(false),
        _ => {}
    }
    let entry = opcode::AsyncCancel2::new(types::CancelBuilder::fd(types::Fd(-1)).all())
        .build()
        .user_data(CANCEL);
    // SAFETY: the entry points to no memory; the ring is new, so there is room for it.
    unsafe { ring.submission().push(&entry) }
        .map_err(|_| io::Error::other("a new io_uring has no room for one entry"))?;
    ring.submit_and_wait(1)?;
    let Some(cqe) = ring.completion().next() else {
        return Err(io::Error::other(
            "io_uring did not complete the cancel probe",
        ));
    };
    let supported = cqe.result() != -libc::EINVAL;
    SUPPORTED.store(if supported { YES } else { NO }, Ordering::Relaxed);
    Ok(supported)
}

impl IoUring {
    pub(crate) fn new(config: &Config) -> io::Result<IoUring> {
        let ring = build_ring(config.entries)?;
        if !ring.params().is_feature_ext_arg() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the kernel's io_uring lacks IORING_FEAT_EXT_ARG (Linux 5.11)",
            ));
        }
        let mut probe = Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        for (name, code) in [
            ("NOP", opcode::Nop::CODE),
            ("TIMEOUT", opcode::Timeout::CODE),
            ("POLL_ADD", opcode::PollAdd::CODE),
            ("ASYNC_CANCEL", opcode::AsyncCancel::CODE),
        ] {
            if !probe.is_supported(code) {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("the kernel's io_uring lacks {name}"),
                ));
            }
        }
        let mut fallback = 0;
        for kind in OpKind::ALL {
            let missing = opcode_of(kind).is_none_or(|code| !probe.is_supported(code));
            // Nop and Timeout are always in the ring (checked above).
            let forced = config.fallback_kinds.contains(&kind)
                && !matches!(kind, OpKind::Nop | OpKind::Timeout);
            if missing || forced {
                fallback |= kind.bit();
            }
        }
        if fallback != 0 {
            crate::trace::event!(
                debug,
                kinds = ?crate::trace::Kinds(fallback),
                "io_uring: operations on the fallback path"
            );
        }
        let files_update = probe.is_supported(opcode::FilesUpdate::CODE);
        let bundles = config.recv_bundles && ring.params().is_feature_recvsend_bundle();
        let mut ring = ring;
        let cancel_by_fd = cancels_by_fd(&mut ring)?;
        let waker = Arc::new(Waker::new()?);
        Ok(IoUring {
            ring,
            slots: Slots::new(),
            fallback,
            in_kernel: 0,
            reply: Reply::new(Arc::clone(&waker)),
            waker,
            wake_armed: false,
            ready: Vec::new(),
            from_pool: Vec::new(),
            cqes: Vec::new(),
            submitted: 0,
            closed: HashMap::new(),
            cancel_by_fd,
            pooled: 0,
            closing: Vec::new(),
            late: 0,
            identity: super::next_identity(),
            registered: Registered {
                supported: files_update,
                ..Registered::default()
            },
            bundles,
            bundle: Vec::new(),
            parts: Vec::new(),
            incremental: config.incremental_buffers,
        })
    }

    /// Before `fd` is closed by the operation submitted as `seq`: ends every operation waiting
    /// on it, so that each completes now (as cancelled) rather than whenever its file next
    /// becomes ready, which could be never or after its number names another file.
    /// `in_ring`: the close itself goes through the ring, after what is queued now.
    fn before_close(&mut self, fd: RawFd, seq: u64, in_ring: bool) {
        if self.pooled > 0 {
            let IoUring {
                reply,
                slots,
                ready,
                pooled,
                ..
            } = self;
            Pool::global().cancel_using_fd(reply, fd, |id, op| {
                *pooled -= 1;
                if let Some(slot) = slots.get_mut(id) {
                    slot.state = State::Done;
                    ready.push(Completion {
                        id,
                        result: Err(unix::cancelled()),
                        op,
                        more: false,
                    });
                }
            });
        }
        if self.in_kernel == 0 {
            // Nothing submitted before can touch a descriptor again.
            self.closed.clear();
            return;
        }
        self.closed.insert(fd, seq);
        let by_fd = in_ring && self.cancel_by_fd;
        if by_fd {
            // The kernel finds the file by number when it runs the cancel, so it must run
            // before the close: SQEs are issued in the order they were queued.
            self.push(
                opcode::AsyncCancel2::new(types::CancelBuilder::fd(types::Fd(fd)).all())
                    .build()
                    .user_data(CANCEL),
            );
            if self.late == 0 {
                return;
            }
        }
        // One by one, by identity: an older kernel, a close done at once outside the ring, or
        // (with a cancel by descriptor) what that cancel cannot see yet.
        let mut closing = std::mem::take(&mut self.closing);
        let mut late = 0;
        for id in self.slots.ids() {
            let Some(slot) = self.slots.get(id) else {
                continue;
            };
            let Some(op) = slot.op.as_ref() else { continue };
            let in_kernel = matches!(slot.state, State::Kernel | State::Polling);
            let resolved_late = RESOLVED_LATE & op.kind().bit() != 0;
            if in_kernel && resolved_late && op.fds().iter().any(Option::is_some) {
                late += 1;
            }
            if in_kernel
                && !slot.cancel_requested
                && slot.seq < seq
                && (resolved_late || !by_fd)
                && op.uses_fd(fd)
            {
                closing.push(id);
            }
        }
        self.late = late;
        for id in closing.drain(..) {
            if let Some(slot) = self.slots.get_mut(id) {
                slot.cancel_requested = true;
            }
            self.push(
                opcode::AsyncCancel::new(id.to_u64())
                    .build()
                    .user_data(CANCEL),
            );
        }
        self.closing = closing;
    }

    /// Starts the `Close` in slot `id`, after ending what waits on its descriptor.
    #[cold]
    #[inline(never)]
    /// Registers `fd` with the ring (see `Driver::register_fd`). Making the table, on the
    /// first call, and each registration are system calls; the operations that follow
    /// name the index.
    fn register(&mut self, fd: RawFd) -> io::Result<()> {
        super::checks::check_open(fd)?;
        let registered = &mut self.registered;
        if !registered.supported || registered.index_of(fd).is_some() {
            return Ok(());
        }
        if registered.capacity == 0 {
            let capacity = REGISTERED_TABLE.min(descriptor_limit());
            self.ring.submitter().register_files_sparse(capacity)?;
            self.registered.capacity = capacity;
        }
        let registered = &mut self.registered;
        let index = match registered.free.pop() {
            Some(index) => index,
            None if registered.next < registered.capacity => {
                registered.next += 1;
                registered.next - 1
            }
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::OutOfMemory,
                    "the ring's table of registered descriptors is full",
                ))
            }
        };
        if let Err(error) = self.ring.submitter().register_files_update(index, &[fd]) {
            self.registered.free.push(index);
            return Err(error);
        }
        let registered = &mut self.registered;
        let at = fd as usize;
        if registered.by_fd.len() <= at {
            registered.by_fd.resize(at + 1, 0);
        }
        registered.by_fd[at] = index + 1;
        registered.count += 1;
        Ok(())
    }

    /// Takes `fd` out of the registered table, if it is there: by an update queued behind
    /// what is queued now, so operations already queued on its index still find the file,
    /// and a close queued after it closes it for good (the table holds a reference).
    fn unregister(&mut self, fd: RawFd) {
        let Some(index) = self.registered.index_of(fd) else {
            return;
        };
        self.registered.by_fd[fd as usize] = 0;
        self.registered.count -= 1;
        self.push(
            opcode::FilesUpdate::new(NO_FILE.as_ptr(), 1)
                .offset(index as i32)
                .build()
                .user_data(u64::from(index)),
        );
    }

    fn submit_close(&mut self, id: OpId) -> OpId {
        let Some(slot) = self.slots.get_mut(id) else {
            return id;
        };
        let (Some(Op::Close { fd }), seq) = (&slot.op, slot.seq) else {
            return id;
        };
        let fd = *fd;
        let in_ring = self.fallback & OpKind::Close.bit() == 0;
        if self.registered.count > 0 {
            self.unregister(fd);
        }
        self.before_close(fd, seq, in_ring);
        if !in_ring {
            self.fallback(id);
            return id;
        }
        self.in_kernel += 1;
        self.push(
            opcode::Close::new(types::Fd(fd))
                .build()
                .user_data(id.to_u64()),
        );
        id
    }

    /// Whether a descriptor of operation `id` was closed after it was submitted: it must not
    /// be touched again (its number may name another file by now).
    fn closed_under(&self, id: OpId) -> bool {
        let Some(slot) = self.slots.get(id) else {
            return false;
        };
        let Some(op) = slot.op.as_ref() else {
            return false;
        };
        op.fds().into_iter().flatten().any(|fd| {
            self.closed
                .get(&fd)
                .is_some_and(|&closed| closed > slot.seq)
        })
    }

    /// Starts `op`, with a deadline `timeout` from now if one is given (see
    /// `Backend::submit_with_timeout`).
    /// `make` builds the operation where it is kept, in its slot (inlined, it is written
    /// there directly rather than copied in through the callers' frames).
    #[inline(always)]
    fn start(&mut self, make: impl FnOnce() -> Op, deadline: Option<Duration>) -> OpId {
        // A linked pair needs both entries in one submission: room for them is made before
        // the slot is taken (which may hand the queue to the kernel).
        let room = deadline.is_some() && self.room_for(2);
        self.submitted += 1;
        let seq = self.submitted;
        let (id, slot) = self.slots.insert();
        slot.state = State::Kernel;
        slot.cancel_requested = false;
        slot.zero_copy_result = None;
        slot.control.reset();
        slot.seq = seq;
        crate::slots::place_op(&mut slot.op, make());
        let Some(op) = slot.op.as_ref() else {
            return id;
        };
        let kind = op.kind();
        let multishot = op.is_multishot();
        let checked = unix::validate(op, self.identity);
        slot.multishot = multishot;
        // A multishot receive is re-armed by the kernel and by us, each time without a link:
        // its deadline is the heap's.
        let linked = room && !multishot;
        if let Err(error) = checked {
            self.finish_now(id, Err(error));
            return id;
        }
        if kind == OpKind::Close {
            self.submit_close(id);
            return self.in_heap(id, deadline);
        }

        if self.fallback & kind.bit() != 0 {
            crate::trace::event!(trace, id = ?id, kind = ?kind, "io_uring: fallback path");
            self.fallback(id);
            return self.in_heap(id, deadline);
        }
        let Slot {
            op: Some(op),
            control,
            timespec,
            ..
        } = slot
        else {
            return id;
        };
        let late = RESOLVED_LATE & kind.bit() != 0 && op.fds().iter().any(Option::is_some);
        let Some(entry) = build_entry(op, control, timespec, self.bundles) else {
            self.fallback(id);
            return self.in_heap(id, deadline);
        };
        let entry = use_registered(&self.registered, op, entry);
        // Kept in the slot until the CQEs come, as the entry's own pointers are.
        let link_timespec: *const types::Timespec = match deadline {
            Some(timeout) if linked => {
                let scratch = control.scratch();
                scratch.deadline = timespec_of(timeout);
                &scratch.deadline
            }
            _ => std::ptr::null(),
        };
        self.in_kernel += 1;
        self.late += usize::from(late);
        let entry = entry.user_data(id.to_u64());
        match deadline {
            Some(timeout) if linked => {
                let link = opcode::LinkTimeout::new(link_timespec)
                    .build()
                    .user_data(DEADLINE);
                self.push(entry.flags(squeue::Flags::IO_LINK));
                self.push(link);
                self.slots.arm_deadline(id, timeout, true);
            }
            _ => {
                self.push(entry);
                self.in_heap(id, deadline);
            }
        }
        id
    }

    /// Gives `id` its deadline, if it has one, in the slot table's heap; returns `id`.
    #[inline]
    fn in_heap(&mut self, id: OpId, deadline: Option<Duration>) -> OpId {
        if let Some(timeout) = deadline {
            self.slots.arm_deadline(id, timeout, false);
        }
        id
    }

    /// Makes room for `count` entries in the submission queue, handing what it holds to the
    /// kernel if need be (so a linked pair reaches the kernel in one submission); false if
    /// it cannot (a queue smaller than that, or a failing kernel).
    fn room_for(&mut self, count: usize) -> bool {
        loop {
            let submission = self.ring.submission();
            if submission.capacity() - submission.len() >= count {
                return true;
            }
            if submission.capacity() < count {
                return false;
            }
            drop(submission);
            if self.hand_over().is_err() {
                return false;
            }
        }
    }

    /// Hands the submission queue to the kernel to make room in it; a full completion queue
    /// (`EBUSY`, `EAGAIN`) is reaped first, and a signal is no failure. The caller retries.
    fn hand_over(&mut self) -> io::Result<()> {
        match self.ring.submit() {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(error.raw_os_error(), Some(libc::EBUSY) | Some(libc::EAGAIN)) =>
            {
                let mut ready = std::mem::take(&mut self.ready);
                self.reap(&mut ready);
                self.ready = ready;
                Ok(())
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Queues `entry`, flushing the submission queue to the kernel if it is full.
    #[inline(always)]
    fn push(&mut self, entry: squeue::Entry) {
        // SAFETY: every pointer in `entry` points into an operation's buffers or its slot's
        // control block, both owned by the driver and left in place until the CQE arrives
        // (or, for WAKE/CANCEL entries, into nothing or the waker the driver owns).
        if unsafe { self.ring.submission().push(&entry) }.is_err() {
            self.push_full(entry);
        }
    }

    /// `push` when the submission queue is full: the uncommon path, kept out of line so
    /// the common one is a few instructions with no spilled registers.
    #[inline(never)]
    fn push_full(&mut self, entry: squeue::Entry) {
        loop {
            // SAFETY: as in `push`: what `entry` points to stays in place until its CQE.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return;
            }
            match self.hand_over() {
                Ok(()) => {}
                Err(error) => {
                    let user_data = entry.get_user_data();
                    if user_data != WAKE && user_data != CANCEL && user_data != DEADLINE {
                        self.in_kernel -= 1;
                        self.finish_now(OpId::from_u64(user_data), Err(error));
                    }
                    return;
                }
            }
        }
    }

    /// Completes `id` with `result` outside the kernel path.
    fn finish_now(&mut self, id: OpId, result: io::Result<usize>) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        let Some(mut op) = slot.op.take() else { return };
        let mut result = unix::finish(&mut op, &mut slot.control, result);
        if slot.cancel_requested {
            result = discard_created_fd(&op, result);
        }
        slot.state = State::Done;
        self.ready.push(Completion::new(id, result, op));
    }

    fn send_to_pool(&mut self, id: OpId) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        let Some(op) = slot.op.take() else { return };
        slot.state = State::Pool;
        self.pooled += 1;
        Pool::global().execute(id, op, &self.reply);
    }

    /// Runs an operation whose opcode the kernel lacks.
    fn fallback(&mut self, id: OpId) {
        let Some(op) = self.slots.get_mut(id).and_then(|slot| slot.op.as_ref()) else {
            return;
        };
        let (fd, poll_flags) = match *op {
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
            | Op::Blocking { .. } => return self.send_to_pool(id),
            Op::Read {
                offset: Some(_), ..
            }
            | Op::ReadVectored {
                offset: Some(_), ..
            }
            | Op::Write {
                offset: Some(_), ..
            }
            | Op::WriteVectored {
                offset: Some(_), ..
            } => return self.send_to_pool(id),
            Op::Read { fd, .. }
            | Op::ReadVectored { fd, .. }
            | Op::Accept { fd, .. }
            | Op::AcceptMultishot { fd }
            | Op::Recv { fd, .. }
            | Op::RecvPooled { fd, .. }
            | Op::RecvMsg { fd, .. } => (fd, libc::POLLIN),
            Op::Write { fd, .. }
            | Op::WriteVectored { fd, .. }
            | Op::Connect { fd, .. }
            | Op::Send { fd, .. }
            | Op::SendZc { fd, .. }
            | Op::SendMsg { fd, .. }
            | Op::Splice { fd_out: fd, .. }
            | Op::SendFile { socket: fd, .. }
            | Op::Poll {
                fd, writable: true, ..
            } => (fd, libc::POLLOUT),
            Op::Poll { fd, .. } => (fd, libc::POLLIN),
            Op::Nop
            | Op::Timeout { .. }
            | Op::Close { .. }
            | Op::Shutdown { .. }
            | Op::Socket { .. }
            | Op::ConnectNamedPipe { .. }
            | Op::ReadDirectoryChanges { .. }
            | Op::WaitExit { .. } => {
                // These never wait: do them now (WaitExit answers Unsupported: a pidfd and
                // Op::Poll are Linux's way).
                let Some(slot) = self.slots.get_mut(id) else {
                    return;
                };
                let Some(op) = slot.op.as_mut() else { return };
                let result = unix::perform(op, &mut slot.control);
                return self.finish_now(id, result);
            }
        };
        match unix::fd_kind(fd) {
            Ok(FdKind::Blocking) => return self.send_to_pool(id),
            Ok(FdKind::Pollable) => {}
            Err(error) => return self.finish_now(id, Err(error)),
        }
        if let Err(error) = unix::set_nonblocking(fd) {
            return self.finish_now(id, Err(error));
        }
        // A splice's input is tried here too, and must not block the thread either.
        if let Op::Splice { fd_in, .. } = *op {
            let input = unix::fd_kind(fd_in).and_then(|kind| match kind {
                FdKind::Pollable => unix::set_nonblocking(fd_in),
                FdKind::Blocking => Ok(()),
            });
            if let Err(error) = input {
                return self.finish_now(id, Err(error));
            }
        }
        loop {
            let Some(slot) = self.slots.get_mut(id) else {
                return;
            };
            let Some(op) = slot.op.as_mut() else { return };
            match unix::perform(op, &mut slot.control) {
                Err(error) if unix::would_block(&error) && !unix::must_not_wait(op) => {
                    let (fd, poll_flags) = match op {
                        Op::Splice { .. } => poll_target(op),
                        _ => (fd, poll_flags),
                    };
                    slot.state = State::Polling;
                    self.in_kernel += 1;
                    return self.push(poll_entry(fd, poll_flags, id));
                }
                // A multishot receive goes on until the socket has nothing more.
                Ok(count) if op.is_item(count) => {
                    let item = op.split_item();
                    self.ready.push(item_completion(id, count, item));
                }
                result => return self.finish_now(id, result),
            }
        }
    }

    /// Takes every CQE: finished operations go straight into `out` (their slots freed);
    /// returns whether the waker fired.
    fn reap(&mut self, out: &mut Vec<Completion>) -> bool {
        let mut woken = false;
        {
            let IoUring {
                ring,
                slots,
                in_kernel,
                cqes,
                registered,
                ..
            } = self;
            for cqe in ring.completion() {
                let (user_data, raw, flags) = (cqe.user_data(), cqe.result(), cqe.flags());
                match user_data {
                    WAKE => woken = true,
                    CANCEL | DEADLINE => {}
                    // The index is out of the table: free for another descriptor.
                    index if index <= UNREGISTERED_MAX => registered.free.push(index as u32),
                    _ => {
                        let id = OpId::from_u64(user_data);
                        let raw = if raw == -libc::ECANCELED || raw == -libc::EINTR {
                            deadline_result(slots, id, raw)
                        } else {
                            raw
                        };
                        let Some(slot) = slots.get_mut(id) else {
                            continue;
                        };
                        // The common case inline: the kernel finished the operation.
                        // A pooled receive's buffer, one of many completions, or a zero-copy
                        // send's result or notification: rare path
                        // (and all after one, so an operation's completions keep their order).
                        let finished = slot.state == State::Kernel
                            && flags & (POOLED_FLAGS | NOTIF_FLAG) == 0
                            && !slot.multishot
                            && cqes.is_empty()
                            && (raw != -libc::EAGAIN
                                || slot.cancel_requested
                                || !slot.op.as_ref().is_some_and(waits_on_eagain));
                        if !finished {
                            cqes.push((user_data, raw, flags));
                            continue;
                        }
                        // Finished where it is: a claimed operation stays in its slot.
                        let Some(op) = slot.op.as_mut() else {
                            continue;
                        };
                        let result = if raw == -libc::ETIME && matches!(op, Op::Timeout { .. }) {
                            Ok(0)
                        } else {
                            unix::from_kernel_result(raw)
                        };
                        let mut result = unix::finish(op, &mut slot.control, result);
                        if slot.cancel_requested {
                            result = discard_created_fd(op, result);
                        }
                        *in_kernel -= 1;
                        slots.finish_in_place(id, result, out);
                    }
                }
            }
        }
        if woken {
            self.waker.drain();
            self.waker.reset();
            self.wake_armed = false;
        }
        // The rare cases (readiness fallbacks) may submit again, so they run after the
        // completion queue is released.
        let mut rare = std::mem::take(&mut self.cqes);
        for &(user_data, raw, flags) in &rare {
            self.handle_completion(OpId::from_u64(user_data), raw, flags, out);
        }
        rare.clear();
        self.cqes = rare;
        woken
    }

    fn handle_completion(&mut self, id: OpId, raw: i32, flags: u32, out: &mut Vec<Completion>) {
        // Rare paths only (the inline reap took the rest), so the lookup costs nothing that
        // matters.
        let closed_under = self.closed_under(id);
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        let mut raw = raw;
        if slot.state == State::Kernel && matches!(slot.op, Some(Op::SendZc { .. })) {
            if io_uring::cqueue::notif(flags) {
                // The kernel let go of the buffer: the send ends with the result it kept.
                #[cfg(test)]
                tests::ZERO_COPY_NOTIFICATIONS.with(|count| count.set(count.get() + 1));
                match slot.zero_copy_result.take() {
                    Some(result) => raw = result,
                    // A notification comes only after a result with `IORING_CQE_F_MORE`.
                    None => return,
                }
            } else if io_uring::cqueue::more(flags) {
                // The result, while the kernel may still read the buffer: keep it until the
                // notification. (Without the flag no notification follows: it ends now.)
                slot.zero_copy_result = Some(raw);
                return;
            }
        }
        if slot.state == State::Kernel && (flags & POOLED_FLAGS != 0 || slot.multishot) {
            return self.pooled_completion(id, raw, flags, out);
        }
        match slot.state {
            // The common case first: the kernel finished the operation.
            State::Kernel
                if raw != -libc::EAGAIN
                    || slot.cancel_requested
                    || !slot.op.as_ref().is_some_and(waits_on_eagain) =>
            {
                let Some(op) = slot.op.as_mut() else { return };
                let result = if raw == -libc::ETIME && matches!(op, Op::Timeout { .. }) {
                    Ok(0)
                } else {
                    unix::from_kernel_result(raw)
                };
                let mut result = unix::finish(op, &mut slot.control, result);
                if slot.cancel_requested {
                    result = discard_created_fd(op, result);
                }
                self.in_kernel -= 1;
                self.slots.finish_in_place(id, result, out);
            }
            // It would wait for readiness of a descriptor closed since: it ends here.
            State::Kernel | State::Polling if closed_under => {
                self.in_kernel -= 1;
                self.finish_now(id, Err(unix::cancelled()));
            }
            State::Kernel => {
                // EAGAIN for an O_NONBLOCK descriptor (read and write do not wait for those):
                // wait for readiness with POLL_ADD instead, as the fallback does.
                slot.state = State::Polling;
                let Some(op) = slot.op.as_ref() else { return };
                let (fd, flags) = poll_target(op);
                // Its linked timeout ended with this answer: the heap keeps what is left.
                self.slots.unlink_deadline(id);
                self.push(poll_entry(fd, flags, id));
            }
            State::Polling if raw >= 0 && !slot.cancel_requested => {
                let Some(op) = slot.op.as_mut() else { return };
                // Ready: do the syscall; if it still would block, poll again.
                match unix::perform(op, &mut slot.control) {
                    Err(error) if unix::would_block(&error) => {
                        let (fd, flags) = poll_target(op);
                        self.push(poll_entry(fd, flags, id));
                    }
                    // A multishot receive goes on: this receive is one of its completions.
                    Ok(count) if op.is_item(count) => {
                        let item = op.split_item();
                        let (fd, flags) = poll_target(op);
                        self.slots.item(item_completion(id, count, item), out);
                        self.push(poll_entry(fd, flags, id));
                    }
                    result => {
                        self.in_kernel -= 1;
                        self.finish_now(id, result);
                    }
                }
            }
            State::Polling => {
                self.in_kernel -= 1;
                let result = if slot.cancel_requested {
                    Err(unix::cancelled())
                } else {
                    unix::from_kernel_result(raw)
                };
                self.finish_now(id, result);
            }
            State::Pool | State::Done => {}
        }
    }

    /// A CQE of a pooled receive or a multishot operation: the buffer the kernel picked is
    /// lent into the operation; each receive (or accepted connection) of a multishot
    /// operation is one of its completions, and the operation goes on (armed again if the
    /// kernel ended it early, as it does when its completion queue overflows).
    fn pooled_completion(&mut self, id: OpId, raw: i32, flags: u32, out: &mut Vec<Completion>) {
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        let cancel_requested = slot.cancel_requested;
        let Some(op) = slot.op.as_mut() else { return };
        let mut raw = raw;
        // The buffers (or parts of buffers) the receive filled; all before the last are
        // completions of their own.
        let mut parts = std::mem::take(&mut self.parts);
        let mut early = 0;
        if let Op::RecvPooled { pool, buffer, .. } = op {
            if let Some(index) = io_uring::cqueue::buffer_select(flags) {
                let received = usize::try_from(raw).unwrap_or(0);
                filled_parts(
                    &pool.shared,
                    index,
                    received,
                    flags,
                    &mut self.bundle,
                    &mut parts,
                );
                if let Some(&last) = parts.last() {
                    early = parts.len() - 1;
                    *buffer = Some(pool.shared.lend_part(last));
                    raw = last.len as i32;
                }
                #[cfg(test)]
                if early > 0 {
                    tests::BUNDLES.with(|count| count.set(count.get() + 1));
                }
            }
        }
        if early > 0 {
            // Made before the last one's, in the order the bytes came.
            let Op::RecvPooled {
                fd,
                pool,
                multishot,
                ..
            } = &*op
            else {
                unreachable!("a bundle is a pooled receive's")
            };
            let (fd, pool, multishot) = (*fd, pool.clone(), *multishot);
            for &part in &parts[..early] {
                let buffer = pool.shared.lend_part(part);
                let item = Op::RecvPooled {
                    fd,
                    pool: pool.clone(),
                    multishot,
                    buffer: Some(buffer),
                };
                self.slots
                    .item(item_completion(id, part.len as usize, item), out);
            }
        }
        parts.clear();
        self.parts = parts;
        let Some(slot) = self.slots.get_mut(id) else {
            return;
        };
        let Some(op) = slot.op.as_mut() else { return };
        if raw >= 0 && op.is_item(raw as usize) {
            let item = op.split_item();
            self.slots
                .item(item_completion(id, raw as usize, item), out);
            if io_uring::cqueue::more(flags) {
                return;
            }
            if cancel_requested {
                self.in_kernel -= 1;
                return self.finish_now(id, Err(unix::cancelled()));
            }
            let Some(Slot {
                op: Some(op),
                control,
                timespec,
                ..
            }) = self.slots.get_mut(id)
            else {
                return;
            };
            if let Some(entry) = build_entry(op, control, timespec, self.bundles) {
                let entry = use_registered(&self.registered, op, entry);
                self.push(entry.user_data(id.to_u64()));
            }
            return;
        }
        if raw == -libc::EAGAIN && matches!(op, Op::AcceptMultishot { .. }) && !cancel_requested {
            // A non-blocking listener: wait for readiness, then go on as the fallback path
            // does (accepting while connections wait).
            let (fd, poll_flags) = poll_target(op);
            slot.state = State::Polling;
            return self.push(poll_entry(fd, poll_flags, id));
        }
        let result = unix::finish(op, &mut slot.control, unix::from_kernel_result(raw));
        self.in_kernel -= 1;
        self.slots.finish_in_place(id, result, out);
    }

    /// Takes the pool's results, if it posted any: one atomic load when it did not.
    #[inline]
    fn collect_pool(&mut self) {
        // The closure borrows only the fields it names (not `self`), so it can run while
        // `reply` and `from_pool` are borrowed.
        self.reply.collect(&mut self.from_pool, |mut completion| {
            self.pooled -= 1;
            if let Some(slot) = self.slots.get_mut(completion.id) {
                if slot.cancel_requested {
                    completion.result = discard_created_fd(&completion.op, completion.result);
                }
                slot.state = State::Done;
                self.ready.push(completion);
            }
        });
    }

    /// Hands out the completions finished outside the kernel (checks, fallbacks, the pool).
    #[inline]
    fn deliver(&mut self, completions: &mut Vec<Completion>) -> usize {
        // Mostly empty here (the kernel's completions go straight out in `reap`).
        if self.ready.is_empty() {
            return 0;
        }
        self.deliver_ready(completions)
    }

    #[inline(never)]
    fn deliver_ready(&mut self, completions: &mut Vec<Completion>) -> usize {
        let count = self.ready.len();
        for completion in self.ready.drain(..) {
            self.slots.finish(completion, completions);
        }
        count
    }

    /// One `io_uring_enter`: submits everything queued and waits up to `wait`.
    fn enter(&mut self, wait: Option<Duration>) -> io::Result<()> {
        let result = match wait {
            Some(Duration::ZERO) => {
                let submission = self.ring.submission();
                if submission.is_empty() && !submission.taskrun() && !submission.cq_overflow() {
                    return Ok(());
                }
                drop(submission);
                self.ring.submit()
            }
            Some(wait) => {
                let timespec = timespec_of(wait);
                let args = types::SubmitArgs::new().timespec(&timespec);
                self.ring.submitter().submit_with_args(1, &args)
            }
            None => self.ring.submit_and_wait(1),
        };
        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.raw_os_error() {
                Some(libc::ETIME) | Some(libc::EINTR) | Some(libc::EBUSY) | Some(libc::EAGAIN) => {
                    Ok(())
                }
                _ => Err(error),
            },
        }
    }
}

/// An operation's kernel result `raw` (`ECANCELED` or `EINTR`), as a cancellation when its
/// linked timeout fired: no cancel was asked for (by the caller, a `Close` or the drop), and
/// it had a link. Bytes moved come as a count, never here: they stay its result.
#[cold]
fn deadline_result(slots: &mut Slots<Slot>, id: OpId, raw: i32) -> i32 {
    let asked = slots.get(id).is_none_or(|slot| slot.cancel_requested);
    if !asked && slots.linked_deadline_fired(id) {
        -libc::ECANCELED
    } else {
        raw
    }
}

/// `entry` (a receive) with `IORING_RECVSEND_POLL_FIRST` added to its `ioprio` (the
/// io-uring crate sets `ioprio` for multishot but has no setter for this flag).
fn with_poll_first(entry: squeue::Entry) -> squeue::Entry {
    const IORING_RECVSEND_POLL_FIRST: u16 = 1;
    // SAFETY: `squeue::Entry` is `repr(C)` around the kernel's 64-byte SQE, whose `ioprio`
    // is the u16 at byte offset 2; it is written through a pointer to the entry's own bytes.
    let mut entry = entry;
    unsafe {
        let ioprio = (&mut entry as *mut squeue::Entry)
            .cast::<u8>()
            .add(2)
            .cast::<u16>();
        ioprio.write_unaligned(ioprio.read_unaligned() | IORING_RECVSEND_POLL_FIRST);
    }
    entry
}

/// CQE flags only pooled receives carry: a buffer picked from a ring (`IORING_CQE_F_BUFFER`),
/// more to come (`IORING_CQE_F_MORE`), from the kernel's uapi header.
const POOLED_FLAGS: u32 = 1 | 2;

/// The CQE flag of a zero-copy send's notification that the kernel no longer references its
/// buffer (`IORING_CQE_F_NOTIF`).
const NOTIF_FLAG: u32 = 8;

/// One completion of a multishot operation `id` that goes on: `count` bytes, in `op`.
fn item_completion(id: OpId, count: usize, op: Op) -> Completion {
    Completion {
        id,
        result: Ok(count),
        op,
        more: true,
    }
}

/// Whether an EAGAIN from the kernel means "wait for readiness" rather than an answer.
fn waits_on_eagain(op: &Op) -> bool {
    is_socket_like(op) && !unix::must_not_wait(op)
}

fn is_socket_like(op: &Op) -> bool {
    matches!(
        op,
        Op::Accept { .. }
            | Op::AcceptMultishot { .. }
            | Op::Connect { .. }
            | Op::Send { .. }
            | Op::SendZc { .. }
            | Op::Recv { .. }
            | Op::SendMsg { .. }
            | Op::RecvMsg { .. }
            | Op::Read { offset: None, .. }
            | Op::Write { offset: None, .. }
            | Op::ReadVectored { offset: None, .. }
            | Op::WriteVectored { offset: None, .. }
            | Op::Splice { .. }
            | Op::SendFile { .. }
    )
}

fn poll_target(op: &Op) -> (RawFd, i16) {
    if let Op::Splice { fd_in, fd_out, .. } = *op {
        // Either end may be the one that blocks (polling an empty input's always writable
        // output pipe would spin). Both ready now: the output's poll completes at once and
        // the splice is tried again.
        return match unix::splice_waits_for(fd_in, fd_out) {
            Some((fd, false)) => (fd, libc::POLLIN),
            Some((fd, true)) => (fd, libc::POLLOUT),
            None => (fd_out, libc::POLLOUT),
        };
    }
    let fd = op.fd().unwrap_or(-1);
    let flags = match op {
        Op::Write { .. }
        | Op::WriteVectored { .. }
        | Op::Connect { .. }
        | Op::Send { .. }
        | Op::SendZc { .. }
        | Op::SendMsg { .. }
        | Op::SendFile { .. } => libc::POLLOUT,
        _ => libc::POLLIN,
    };
    (fd, flags)
}

fn poll_entry(fd: RawFd, flags: i16, id: OpId) -> squeue::Entry {
    opcode::PollAdd::new(types::Fd(fd), flags as u32)
        .build()
        .user_data(id.to_u64())
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

/// The SQE for `op`, pointing into `control` and `timespec` (both in the op's slot). `None`
/// for what the ring cannot do (the fallback path does it).
// Inline: in `start` it is most of the submission's work, and out of line its 64-byte
// answer is copied once more (a multishot run's re-arm, the other caller, is rare).
#[inline(always)]
fn build_entry(
    op: &mut Op,
    control: &mut Control,
    timespec: &mut types::Timespec,
    bundles: bool,
) -> Option<squeue::Entry> {
    let entry = match op {
        Op::Nop => opcode::Nop::new().build(),
        Op::Timeout { duration } => {
            *timespec = timespec_of(*duration);
            opcode::Timeout::new(timespec).build()
        }
        Op::Read { fd, buf, offset } => {
            let (pointer, len) = buf.read_destination();
            opcode::Read::new(types::Fd(*fd), pointer, clamp(len))
                .offset(offset.unwrap_or(u64::MAX))
                .build()
        }
        // More buffers than the kernel takes per call: the fallback does it in parts.
        Op::ReadVectored { bufs, .. } | Op::WriteVectored { bufs, .. } if bufs.len() > IOV_MAX => {
            return None
        }
        Op::ReadVectored { fd, bufs, offset } => {
            let iovecs = &mut control.vectored().iovecs;
            unix::fill_iovecs(iovecs, bufs, true);
            opcode::Readv::new(types::Fd(*fd), iovecs.as_ptr(), iovecs.len() as u32)
                .offset(offset.unwrap_or(u64::MAX))
                .build()
        }
        Op::Write { fd, buf, offset } => {
            let (pointer, len) = buf.write_source();
            opcode::Write::new(types::Fd(*fd), pointer, clamp(len))
                .offset(offset.unwrap_or(u64::MAX))
                .build()
        }
        Op::WriteVectored { fd, bufs, offset } => {
            let iovecs = &mut control.vectored().iovecs;
            unix::fill_iovecs(iovecs, bufs, false);
            opcode::Writev::new(types::Fd(*fd), iovecs.as_ptr(), iovecs.len() as u32)
                .offset(offset.unwrap_or(u64::MAX))
                .build()
        }
        Op::Fsync { fd, data_only } => {
            let flags = if *data_only {
                types::FsyncFlags::DATASYNC
            } else {
                types::FsyncFlags::empty()
            };
            opcode::Fsync::new(types::Fd(*fd)).flags(flags).build()
        }
        Op::Close { fd } => opcode::Close::new(types::Fd(*fd)).build(),
        Op::Accept { fd, .. } => {
            let scratch = control.scratch();
            scratch.address_len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            opcode::Accept::new(
                types::Fd(*fd),
                (&mut scratch.address as *mut libc::sockaddr_storage).cast(),
                &mut scratch.address_len,
            )
            .flags(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK)
            .build()
        }
        Op::AcceptMultishot { fd } => opcode::AcceptMulti::new(types::Fd(*fd))
            .flags(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK)
            .build(),
        Op::Connect { fd, addr } => {
            let scratch = control.scratch();
            let len = unix::write_socket_addr(addr, &mut scratch.address);
            opcode::Connect::new(
                types::Fd(*fd),
                (&scratch.address as *const libc::sockaddr_storage).cast(),
                len,
            )
            .build()
        }
        Op::Send { fd, buf, flags } => {
            let (pointer, len) = buf.write_source();
            opcode::Send::new(types::Fd(*fd), pointer, clamp(len))
                .flags(*flags | libc::MSG_NOSIGNAL)
                .build()
        }
        Op::SendZc { fd, buf, flags } => {
            let (pointer, len) = buf.write_source();
            opcode::SendZc::new(types::Fd(*fd), pointer, clamp(len))
                .flags(*flags | libc::MSG_NOSIGNAL)
                .build()
        }
        Op::Recv { fd, buf, flags } => {
            let (pointer, len) = buf.read_destination();
            opcode::Recv::new(types::Fd(*fd), pointer, clamp(len))
                .flags(*flags)
                .build()
        }
        Op::RecvPooled {
            fd,
            pool,
            multishot,
            ..
        } => {
            let shared = &pool.shared;
            // A free-list pool (no buffer ring) is served by the fallback path.
            let crate::buffer_pool::Lending::Ring(_) = shared.lending else {
                return None;
            };
            // Poll first: a buffer is picked only when bytes are there, so an empty pool
            // fails a receive only then, as on the other backends (without it the kernel
            // fails at once).
            let entry = if *multishot && bundles {
                opcode::RecvMultiBundle::new(types::Fd(*fd), shared.group).build()
            } else if *multishot {
                opcode::RecvMulti::new(types::Fd(*fd), shared.group).build()
            } else {
                opcode::Recv::new(
                    types::Fd(*fd),
                    std::ptr::null_mut(),
                    clamp(shared.buffer_size()),
                )
                .buf_group(shared.group)
                .build()
                .flags(squeue::Flags::BUFFER_SELECT)
            };
            with_poll_first(entry)
        }
        Op::SendMsg {
            fd,
            bufs,
            addr,
            fds,
            flags,
        } => {
            unix::prepare_send(control, bufs, addr.as_ref(), fds.as_raw());
            opcode::SendMsg::new(types::Fd(*fd), &control.scratch().msghdr)
                .flags((*flags | libc::MSG_NOSIGNAL) as u32)
                .build()
        }
        Op::RecvMsg {
            fd,
            bufs,
            flags,
            max_fds,
            ..
        } => {
            unix::prepare_receive(control, bufs, usize::from(*max_fds));
            // Received descriptors are close-on-exec from the start, as std's are.
            opcode::RecvMsg::new(types::Fd(*fd), &mut control.scratch().msghdr)
                .flags((*flags | libc::MSG_CMSG_CLOEXEC) as u32)
                .build()
        }
        Op::Shutdown { fd, how } => {
            let how = match how {
                std::net::Shutdown::Read => libc::SHUT_RD,
                std::net::Shutdown::Write => libc::SHUT_WR,
                std::net::Shutdown::Both => libc::SHUT_RDWR,
            };
            opcode::Shutdown::new(types::Fd(*fd), how).build()
        }
        Op::Socket {
            domain,
            socket_type,
            protocol,
        } => opcode::Socket::new(
            *domain,
            *socket_type | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            *protocol,
        )
        .build(),
        Op::OpenAt {
            dir,
            path,
            flags,
            mode,
            beneath: true,
        } => {
            let how = unix::open_how_beneath(*flags | libc::O_CLOEXEC, *mode, control);
            // io_uring's OpenHow is a transparent wrapper of the kernel's open_how, which is
            // what libc's is too (three u64 in the same order); the one in the control block
            // stays in place until the CQE.
            let how = (how as *const libc::open_how).cast::<types::OpenHow>();
            opcode::OpenAt2::new(types::Fd(dir.unwrap_or(libc::AT_FDCWD)), path.as_ptr(), how)
                .build()
        }
        Op::OpenAt {
            dir,
            path,
            flags,
            mode,
            beneath: false,
        } => opcode::OpenAt::new(types::Fd(dir.unwrap_or(libc::AT_FDCWD)), path.as_ptr())
            .flags(*flags | libc::O_CLOEXEC)
            .mode(*mode)
            .build(),
        Op::Statx {
            dir, path, flags, ..
        } => {
            let flags = if path.as_bytes().is_empty() {
                *flags | libc::AT_EMPTY_PATH
            } else {
                *flags
            };
            opcode::Statx::new(
                types::Fd(dir.unwrap_or(libc::AT_FDCWD)),
                path.as_ptr(),
                (&mut control.scratch().statx as *mut libc::statx).cast(),
            )
            .flags(flags)
            .mask(libc::STATX_BASIC_STATS | libc::STATX_BTIME)
            .build()
        }
        Op::Poll { fd, writable } => {
            let events = if *writable {
                libc::POLLOUT
            } else {
                libc::POLLIN
            };
            opcode::PollAdd::new(types::Fd(*fd), events as u32).build()
        }
        Op::RenameAt {
            old_dir,
            old_path,
            new_dir,
            new_path,
            flags,
        } => opcode::RenameAt::new(
            at(*old_dir),
            old_path.as_ptr(),
            at(*new_dir),
            new_path.as_ptr(),
        )
        .flags(*flags)
        .build(),
        Op::UnlinkAt { dir, path, flags } => opcode::UnlinkAt::new(at(*dir), path.as_ptr())
            .flags(*flags)
            .build(),
        Op::MkDirAt { dir, path, mode } => opcode::MkDirAt::new(at(*dir), path.as_ptr())
            .mode(*mode)
            .build(),
        Op::SymlinkAt { target, dir, link } => {
            opcode::SymlinkAt::new(at(*dir), target.as_ptr(), link.as_ptr()).build()
        }
        Op::LinkAt {
            old_dir,
            old_path,
            new_dir,
            new_path,
            flags,
        } => opcode::LinkAt::new(
            at(*old_dir),
            old_path.as_ptr(),
            at(*new_dir),
            new_path.as_ptr(),
        )
        .flags(*flags)
        .build(),
        Op::Fallocate {
            fd,
            mode,
            offset,
            len,
        } => opcode::Fallocate::new(types::Fd(*fd), *len)
            .offset(*offset)
            .mode(*mode)
            .build(),
        Op::Ftruncate { fd, len } => opcode::Ftruncate::new(types::Fd(*fd), *len).build(),
        Op::Splice {
            fd_in,
            offset_in,
            fd_out,
            offset_out,
            len,
            flags,
        } => {
            // -1: the descriptor's own position (and the only choice for pipes and sockets).
            let position = |offset: &Option<u64>| {
                offset.map_or(-1, |offset| offset.min(i64::MAX as u64) as i64)
            };
            opcode::Splice::new(
                types::Fd(*fd_in),
                position(offset_in),
                types::Fd(*fd_out),
                position(offset_out),
                *len,
            )
            .flags(*flags)
            .build()
        }
        // Never built: these kinds always take the fallback path.
        Op::SendFile { .. } | Op::ConnectNamedPipe { .. } | Op::ReadDirectoryChanges { .. } => {
            return None
        }
        Op::Blocking { .. } | Op::WaitExit { .. } => return None,
    };
    Some(entry)
}

/// `duration` for the kernel, which refuses seconds past `i64::MAX` (`Duration::MAX` would be
/// `EINVAL`) and adds a wait's to the clock without a check for overflow: "forever" is a
/// century, as on the other backends.
fn timespec_of(duration: Duration) -> types::Timespec {
    types::Timespec::from(duration.min(FOREVER))
}

/// A directory descriptor, or the current directory.
fn at(dir: Option<RawFd>) -> types::Fd {
    types::Fd(dir.unwrap_or(libc::AT_FDCWD))
}

/// The process's soft limit on open descriptors (the kernel allows no larger table).
fn descriptor_limit() -> u32 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the limit into `limit`, which lives through the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    u32::try_from(limit.rlim_cur).unwrap_or(u32::MAX)
}

/// io_uring lengths are 32-bit; a longer buffer is a short read or write, as POSIX allows.
#[inline]
fn clamp(len: usize) -> u32 {
    len.min(u32::MAX as usize) as u32
}

impl Backend for IoUring {
    type Slot = Slot;

    #[inline]
    fn slots(&mut self) -> &mut Slots<Slot> {
        &mut self.slots
    }

    #[inline]
    fn submit(&mut self, op: Op) -> OpId {
        self.start(|| op, None)
    }

    #[inline]
    fn submit_with(&mut self, make: impl FnOnce() -> Op) -> OpId {
        self.start(make, None)
    }

    /// Links an `IORING_OP_LINK_TIMEOUT` to the operation's entry when it goes to the kernel
    /// as one request; what takes another path (a fallback, a multishot receive, a queue too
    /// small for the pair) has its deadline in the slot table's heap instead.
    fn submit_with_timeout(&mut self, op: Op, timeout: Duration) -> OpId {
        self.start(|| op, Some(timeout))
    }

    fn cancel(&mut self, id: OpId) -> io::Result<()> {
        let Some(slot) = self.slots.get_mut(id) else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no operation in flight has this id (it completed, or never existed)",
            ));
        };
        match slot.state {
            State::Done => {}
            State::Pool => match Pool::global().cancel(id, &self.reply) {
                // Not started: it never will be.
                Some(op) => {
                    self.pooled -= 1;
                    slot.op = Some(op);
                    self.finish_now(id, Err(unix::cancelled()));
                }
                // Running: it completes with its own result.
                None => slot.cancel_requested = true,
            },
            State::Kernel | State::Polling => {
                if !slot.cancel_requested {
                    slot.cancel_requested = true;
                    self.push(
                        opcode::AsyncCancel::new(id.to_u64())
                            .build()
                            .user_data(CANCEL),
                    );
                }
            }
        }
        Ok(())
    }

    fn poll(
        &mut self,
        completions: &mut Vec<Completion>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let deadline = match timeout {
            Some(timeout) if !timeout.is_zero() => {
                let start = Instant::now();
                Some(
                    start
                        .checked_add(timeout)
                        .unwrap_or(start + Duration::from_secs(1 << 40)),
                )
            }
            _ => None,
        };
        let before = self.slots.finished();
        // The first wait is `timeout` itself: the clock is read again only to go on waiting
        // after a return that brought nothing (a signal, a cancel's own completion).
        let mut first = true;
        loop {
            if !self.wake_armed {
                self.wake_armed = true;
                self.push(
                    opcode::PollAdd::new(types::Fd(self.waker.fd()), libc::POLLIN as u32)
                        .build()
                        .user_data(WAKE),
                );
            }
            self.collect_pool();
            self.deliver(completions);
            let wait = match (self.slots.finished() > before, timeout, deadline) {
                (true, _, _) | (false, Some(_), None) => Some(Duration::ZERO),
                (false, Some(timeout), Some(_)) if first => Some(timeout),
                (false, _, Some(deadline)) => {
                    Some(deadline.saturating_duration_since(Instant::now()))
                }
                (false, None, _) => None,
            };
            first = false;
            self.enter(wait)?;
            let woken = self.reap(completions);
            self.collect_pool();
            self.deliver(completions);
            if self.slots.finished() > before || woken {
                return Ok((self.slots.finished() - before) as usize);
            }
            let expired = match (timeout, deadline) {
                (Some(_), None) => true,
                (_, Some(deadline)) => Instant::now() >= deadline,
                (None, None) => false,
            };
            if expired {
                return Ok(0);
            }
        }
    }

    fn flush(&mut self, completions: &mut Vec<Completion>) -> io::Result<usize> {
        // A zero-timeout enter makes the system call only when submissions are queued; what
        // the kernel finished inline (a send the socket took at once) is in the completion
        // queue when it returns. The waker is left to `poll`, which re-arms it if it fired.
        let before = self.slots.finished();
        self.collect_pool();
        self.deliver(completions);
        self.enter(Some(Duration::ZERO))?;
        self.reap(completions);
        self.collect_pool();
        self.deliver(completions);
        Ok((self.slots.finished() - before) as usize)
    }

    fn waker(&self) -> &Arc<Waker> {
        &self.waker
    }

    fn in_flight(&self) -> usize {
        self.slots.len()
    }

    /// Registers the pool as a provided-buffer ring the kernel lends from; a kernel without
    /// buffer rings (before 5.19), or a test forcing the fallback path, leaves it a free list.
    fn register_pool(&mut self, pool: &mut crate::buffer_pool::Shared) -> io::Result<()> {
        if self.fallback & OpKind::RecvPooled.bit() != 0 {
            return Ok(());
        }
        pool.make_ring()?;
        let crate::buffer_pool::Lending::Ring(ring) = &pool.lending else {
            return Ok(());
        };
        let register = |flags: u16| {
            // SAFETY: the ring's memory belongs to the pool, which the driver keeps until
            // after this backend (and so the ring) is gone; the pool's buffers likewise.
            unsafe {
                self.ring.submitter().register_buf_ring_with_flags(
                    ring.entries.as_ptr() as u64,
                    pool.capacity() as u16,
                    pool.group,
                    flags,
                )
            }
        };
        let mut incremental = self.incremental && pool.streams_only;
        let mut registered = register(if incremental { PBUF_RING_INC } else { 0 });
        if incremental && registered.is_err() {
            // A kernel without incremental consumption (before Linux 6.12) refuses the flag.
            incremental = false;
            registered = register(0);
        }
        match registered {
            Ok(()) => {
                pool.set_incremental(incremental);
                Ok(())
            }
            Err(error) => {
                pool.make_list();
                match error.raw_os_error() {
                    Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => Ok(()),
                    _ => Err(error),
                }
            }
        }
    }

    fn identity(&self) -> u64 {
        self.identity
    }

    fn unregister_pool(&mut self, pool: &crate::buffer_pool::Shared) {
        if let crate::buffer_pool::Lending::Ring(_) = pool.lending {
            // No operation names the pool (each holds a handle), so the kernel selects from
            // it no more; a failure leaves a registration the ring's end removes.
            let _ = self.ring.submitter().unregister_buf_ring(pool.group);
        }
    }

    fn forget_fd(&mut self, fd: RawFd) {
        // The number names another file now: the old one, closed outside the driver, is let
        // go of (the table held it open).
        if self.registered.count > 0 {
            self.unregister(fd);
        }
    }

    fn register_fd(&mut self, fd: RawFd) -> io::Result<()> {
        self.register(fd)
    }

    fn unregister_fd(&mut self, fd: RawFd) -> io::Result<()> {
        super::checks::check_fd_number(fd)?;
        if self.registered.count > 0 {
            self.unregister(fd);
        }
        Ok(())
    }
}

impl Drop for IoUring {
    fn drop(&mut self) {
        self.reply.close();
        // The kernel may still write into buffers and control blocks: cancel everything, and
        // wait (bounded) for it to let go before any of that memory is freed.
        let in_kernel: Vec<OpId> = self
            .slots
            .ids()
            .filter(|&id| {
                self.slots.get(id).is_some_and(|slot| {
                    matches!(slot.state, State::Kernel | State::Polling) && !slot.cancel_requested
                })
            })
            .collect();
        for id in in_kernel {
            if let Some(slot) = self.slots.get_mut(id) {
                slot.cancel_requested = true;
            }
            self.push(
                opcode::AsyncCancel::new(id.to_u64())
                    .build()
                    .user_data(CANCEL),
            );
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.in_kernel > 0 && Instant::now() < deadline {
            if self.enter(Some(Duration::from_millis(100))).is_err() {
                break;
            }
            let mut ready = std::mem::take(&mut self.ready);
            self.reap(&mut ready);
            self.ready = ready;
        }
        for completion in self.ready.drain(..) {
            if let (Ok(fd), true) = (&completion.result, completion.op.creates_fd()) {
                unix::close_quietly(*fd as RawFd);
            }
        }
        for fd in self.slots.made_and_held() {
            unix::close_quietly(fd);
        }
        if self.in_kernel > 0 {
            // The kernel did not let go in time: leak the slots (buffers and control blocks)
            // rather than free memory it may still write to.
            crate::trace::error!("proactor: {} io_uring operations did not finish after cancel; leaking their memory", self.in_kernel);
            std::mem::forget(std::mem::replace(&mut self.slots, Slots::new()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::{Duration, Instant};

    use crate::{Backend, Buffer, Completion, Driver, Op, OpId};

    thread_local! {
        /// Zero-copy notifications this thread's drivers handled: each ends a send.
        pub(super) static ZERO_COPY_NOTIFICATIONS: std::cell::Cell<u32> =
            const { std::cell::Cell::new(0) };
        /// Entries this thread's drivers made name a registered index.
        pub(super) static REGISTERED_ENTRIES: std::cell::Cell<u32> =
            const { std::cell::Cell::new(0) };
        /// Completions of pooled receives that filled more than one buffer (bundles).
        pub(super) static BUNDLES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    /// A pipe as proactor's callers make them: non-blocking. (read, write)
    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors pipe2 writes.
        let made = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
        assert_eq!(made, 0, "pipe2: {}", std::io::Error::last_os_error());
        // SAFETY: pipe2 returned two new descriptors nothing else owns.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn wait(driver: &mut Driver, id: OpId) -> Completion {
        let limit = Instant::now() + Duration::from_secs(10);
        let mut completions = Vec::new();
        while Instant::now() < limit {
            driver
                .poll(&mut completions, Some(Duration::from_secs(1)))
                .expect("poll");
            if let Some(position) = completions.iter().position(|c| c.id == id) {
                return completions.swap_remove(position);
            }
        }
        panic!("no completion for {id:?}");
    }

    /// A zero-copy send ends at the kernel's notification, not at its result: exactly one
    /// completion, with the count and the buffer, after one notification (on a kernel with
    /// `SEND_ZC`; without it, a plain send with no notification).
    #[test]
    fn a_zero_copy_send_completes_at_its_notification() {
        use std::io::Read;
        let Ok(mut driver) = Driver::with_backend(Backend::IoUring) else {
            return;
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let reader = std::thread::spawn(move || {
            let mut received = Vec::new();
            server.read_to_end(&mut received).unwrap();
            received
        });
        let message = vec![3u8; 1 << 20];
        let before = ZERO_COPY_NOTIFICATIONS.with(|count| count.get());
        let id = driver.submit(Op::SendZc {
            fd: client.as_raw_fd(),
            buf: Buffer::from(message.clone()),
            flags: 0,
        });
        let completion = wait(&mut driver, id);
        assert!(!completion.more);
        assert_eq!(completion.result.unwrap(), message.len());
        assert_eq!(completion.op.into_buffer().unwrap().len(), message.len());
        assert_eq!(driver.in_flight(), 0);
        let notified = ZERO_COPY_NOTIFICATIONS.with(|count| count.get()) - before;
        let zero_copy = driver.backend() == Backend::IoUring && kernel_has_send_zc();
        assert_eq!(notified, u32::from(zero_copy), "notifications handled");
        client.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(reader.join().unwrap(), message);

        // An error (not a socket): one completion, whether or not a notification follows.
        let (read, _write) = pipe();
        let id = driver.submit(Op::SendZc {
            fd: read.as_raw_fd(),
            buf: Buffer::from("x"),
            flags: 0,
        });
        let completion = wait(&mut driver, id);
        let error = completion.result.unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENOTSOCK), "{error}");
        assert_eq!(driver.in_flight(), 0);
    }

    fn kernel_has_send_zc() -> bool {
        let Ok(ring) = io_uring::IoUring::new(2) else {
            return false;
        };
        let mut probe = io_uring::Probe::new();
        ring.submitter().register_probe(&mut probe).is_ok()
            && probe.is_supported(io_uring::opcode::SendZc::CODE)
    }

    /// A read of an empty non-blocking pipe: a kernel that answers it with `EAGAIN` (rather
    /// than waiting inside) ends its linked timeout with it, and the read waits for readiness
    /// with `POLL_ADD`, its deadline going on from the slot table's heap. Either way the
    /// deadline ends it in time.
    #[test]
    fn a_deadline_outlives_the_move_to_readiness() {
        let Ok(mut driver) = Driver::with_backend(Backend::IoUring) else {
            return;
        };
        let (read, write) = pipe();
        let start = Instant::now();
        let id = driver.submit_with_timeout(
            Op::Read {
                fd: read.as_raw_fd(),
                buf: Buffer::from(Vec::with_capacity(8)),
                offset: None,
            },
            Duration::from_millis(50),
        );
        let completion = wait(&mut driver, id);
        let error = completion.result.expect_err("timed out");
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut, "{error}");
        assert!(start.elapsed() >= Duration::from_millis(45));
        // With data in time: the read's own result.
        let id = driver.submit_with_timeout(
            Op::Read {
                fd: read.as_raw_fd(),
                buf: Buffer::from(Vec::with_capacity(8)),
                offset: None,
            },
            Duration::from_secs(5),
        );
        driver.flush(&mut Vec::new()).expect("flush");
        // SAFETY: writes 3 bytes from a live array to a pipe we own.
        let written = unsafe { libc::write(write.as_raw_fd(), b"abc".as_ptr().cast(), 3) };
        assert_eq!(written, 3);
        let completion = wait(&mut driver, id);
        assert_eq!(completion.result.expect("read"), 3);
    }

    /// A submission queue of one entry has no room for a linked pair: the deadline is the
    /// heap's, with the same outcome.
    #[test]
    fn a_queue_too_small_to_link_still_times_out() {
        let config = crate::Config::new().backend(Backend::IoUring).entries(1);
        let Ok(mut driver) = Driver::with_config(config) else {
            return;
        };
        let (read, _write) = pipe();
        let ids: Vec<OpId> = (0..3)
            .map(|_| {
                driver.submit_with_timeout(
                    Op::Read {
                        fd: read.as_raw_fd(),
                        buf: Buffer::from(Vec::with_capacity(8)),
                        offset: None,
                    },
                    Duration::from_millis(20),
                )
            })
            .collect();
        let limit = Instant::now() + Duration::from_secs(10);
        let mut completions = Vec::new();
        while completions.len() < ids.len() && Instant::now() < limit {
            driver
                .poll(&mut completions, Some(Duration::from_secs(1)))
                .expect("poll");
        }
        assert_eq!(completions.len(), ids.len());
        for completion in completions {
            assert!(ids.contains(&completion.id));
            let error = completion.result.expect_err("timed out");
            assert_eq!(error.kind(), std::io::ErrorKind::TimedOut, "{error}");
        }
    }

    /// A slot is what an idle connection's pending read costs in the driver: the large
    /// scratch of other kinds (statx, socket addresses, message headers) stays out of it.
    #[test]
    fn registered_descriptors_are_named_by_index_and_held_until_let_go() {
        let mut driver = Driver::with_config(crate::Config::new().backend(crate::Backend::IoUring))
            .expect("io_uring");
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let number = a.as_raw_fd();
        driver.register_fd(number).unwrap();
        let before = REGISTERED_ENTRIES.with(|count| count.get());
        let send = driver.submit(Op::Send {
            fd: number,
            buf: Buffer::from("by index"),
            flags: 0,
        });
        assert_eq!(wait(&mut driver, send).result.unwrap(), 8);
        assert_eq!(REGISTERED_ENTRIES.with(|count| count.get()) - before, 1);
        // Closed outside the driver, the socket stays open: the table holds it.
        drop(a);
        b.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut bytes = [0u8; 16];
        use std::io::Read;
        assert_eq!((&b).read(&mut bytes).unwrap(), 8);
        let still_open = (&b).read(&mut bytes).unwrap_err();
        assert_eq!(still_open.kind(), std::io::ErrorKind::WouldBlock);
        // Let go of (the update runs at the next entry into the kernel): the end of the stream.
        driver.forget_fd(number);
        let nop = driver.submit(Op::Nop);
        wait(&mut driver, nop);
        b.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert_eq!((&b).read(&mut bytes).unwrap(), 0);
    }

    /// A multishot pooled receive of bytes that fill many buffers, with and without bundles:
    /// the same bytes, in order, one completion per buffer; with bundles, fewer trips.
    /// `incremental`: a stream pool consumed incrementally, whose receives may end at a
    /// buffer's end and go on in the next.
    fn receive_in_buffers(bundles: bool, incremental: bool) -> u32 {
        use std::io::Write;
        let mut driver = Driver::with_config(
            crate::Config::new()
                .backend(crate::Backend::IoUring)
                .recv_bundles(bundles)
                .incremental_buffers(incremental),
        )
        .expect("io_uring");
        let pool = driver.stream_buffer_pool(1024, 64).unwrap();
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        let sent: Vec<u8> = (0..40_000u32).map(|at| (at % 251) as u8).collect();
        let before = BUNDLES.with(|count| count.get());
        let id = driver.submit(Op::RecvPooled {
            fd: a.as_raw_fd(),
            pool: pool.clone(),
            multishot: true,
            buffer: None,
        });
        let mut received = Vec::new();
        let mut completions = Vec::new();
        let limit = Instant::now() + Duration::from_secs(10);
        // In two writes: the first receive after the first takes one buffer, and what comes
        // while the run goes on, several at once.
        b.write_all(&sent[..1000]).unwrap();
        let mut written = false;
        while received.len() < sent.len() {
            assert!(Instant::now() < limit, "received {} bytes", received.len());
            driver
                .poll(&mut completions, Some(Duration::from_millis(100)))
                .unwrap();
            if !written {
                b.write_all(&sent[1000..]).unwrap();
                written = true;
            }
            for completion in completions.drain(..) {
                assert_eq!(completion.id, id);
                let count = completion.result.unwrap();
                let Op::RecvPooled {
                    buffer: Some(buffer),
                    ..
                } = completion.op
                else {
                    panic!("a completion without its buffer");
                };
                assert_eq!(buffer.len(), count);
                assert!(count <= 1024);
                received.extend_from_slice(&buffer);
            }
        }
        assert_eq!(received, sent);
        driver.cancel(id).unwrap();
        BUNDLES.with(|count| count.get()) - before
    }

    #[test]
    fn bundles_fill_buffers_in_order() {
        let bundles = receive_in_buffers(true, false);
        let probe = io_uring::IoUring::new(2).unwrap();
        if probe.params().is_feature_recvsend_bundle() {
            assert!(bundles > 0, "no completion filled more than one buffer");
        }
        assert_eq!(
            receive_in_buffers(false, false),
            0,
            "bundles when asked for none"
        );
    }

    #[test]
    fn incremental_buffers_keep_the_bytes_in_order() {
        receive_in_buffers(true, true);
        receive_in_buffers(false, true);
    }

    /// Receives of `messages` sends of 100 bytes each into a stream pool of four 1 KiB
    /// buffers, one send at a time, keeping every buffer: how many of the pool's buffers
    /// they hold, and the bytes.
    fn hold_small_receives(incremental: bool, messages: u8) -> (usize, Vec<u8>, crate::BufferPool) {
        use std::io::Write;
        let mut driver = Driver::with_config(
            crate::Config::new()
                .backend(crate::Backend::IoUring)
                .incremental_buffers(incremental),
        )
        .expect("io_uring");
        let pool = driver.stream_buffer_pool(1024, 4).unwrap();
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        let id = driver.submit(Op::RecvPooled {
            fd: a.as_raw_fd(),
            pool: pool.clone(),
            multishot: true,
            buffer: None,
        });
        let mut held = Vec::new();
        let mut received = Vec::new();
        let mut completions = Vec::new();
        let limit = Instant::now() + Duration::from_secs(10);
        for message in 0..messages {
            b.write_all(&[message; 100]).unwrap();
            let want = (usize::from(message) + 1) * 100;
            while received.len() < want {
                assert!(Instant::now() < limit, "received {} bytes", received.len());
                driver
                    .poll(&mut completions, Some(Duration::from_millis(100)))
                    .unwrap();
                for completion in completions.drain(..) {
                    let Op::RecvPooled {
                        buffer: Some(buffer),
                        ..
                    } = completion.op
                    else {
                        panic!("a completion without its buffer: {:?}", completion.result);
                    };
                    assert_eq!(buffer.len(), completion.result.unwrap());
                    received.extend_from_slice(&buffer);
                    held.push(buffer);
                }
            }
        }
        let lent = pool.capacity() - pool.available();
        driver.cancel(id).unwrap();
        drop(held);
        (lent, received, pool)
    }

    /// Whether the running kernel is at least `major.minor`.
    fn kernel_at_least(major: u32, minor: u32) -> bool {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut numbers = release
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|part| part.parse::<u32>().ok());
        let found = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
        found >= (major, minor)
    }

    #[test]
    fn small_receives_share_a_buffer() {
        let expected: Vec<u8> = (0..12u8).flat_map(|message| [message; 100]).collect();
        // Twelve 100-byte receives: ten share the first buffer, the eleventh ends it (24
        // bytes) and goes on in the second.
        let (lent, received, pool) = hold_small_receives(true, 12);
        assert_eq!(received, expected);
        if pool.shared.is_incremental() {
            assert_eq!(lent, 2, "twelve small receives in two buffers");
        } else {
            assert!(
                !kernel_at_least(6, 12),
                "no incremental consumption on this kernel"
            );
        }
        assert_eq!(
            pool.available(),
            4,
            "every buffer back once its parts are dropped"
        );
        // Without it, each receive takes a whole buffer: four receives take them all.
        let (lent, received, pool) = hold_small_receives(false, 4);
        assert_eq!(received, expected[..400]);
        assert_eq!(lent, 4);
        assert_eq!(pool.available(), 4);
    }

    /// One receive at a time, each buffer dropped before the next: the ring is kept short,
    /// so the same few buffers go round instead of every buffer of the pool in turn (which
    /// would make all of its memory resident).
    #[test]
    fn the_ring_keeps_few_buffers_in_use() {
        use std::io::Write;
        let mut driver = Driver::with_config(crate::Config::new().backend(crate::Backend::IoUring))
            .expect("io_uring");
        let pool = driver.buffer_pool(4096, 1024).unwrap();
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut used = std::collections::HashSet::new();
        for _ in 0..1000 {
            b.write_all(&[7; 100]).unwrap();
            let id = driver.submit(Op::RecvPooled {
                fd: a.as_raw_fd(),
                pool: pool.clone(),
                multishot: false,
                buffer: None,
            });
            let completion = wait(&mut driver, id);
            assert_eq!(completion.result.unwrap(), 100);
            let Op::RecvPooled {
                buffer: Some(buffer),
                ..
            } = completion.op
            else {
                panic!("no buffer");
            };
            used.insert(buffer.as_ptr() as usize);
        }
        assert!(used.len() <= 65, "{} buffers of 1024 used", used.len());
        assert_eq!(pool.available(), 1024);
    }

    /// More receives at once than the ring holds, every buffer kept: each gets its bytes
    /// (at most after one more try, if it found the ring empty while buffers waited outside
    /// it: the ring grows then), and every buffer comes back.
    #[test]
    fn a_burst_deepens_the_ring() {
        use std::io::Write;
        let mut driver = Driver::with_config(crate::Config::new().backend(crate::Backend::IoUring))
            .expect("io_uring");
        let pool = driver.buffer_pool(4096, 256).unwrap();
        let pairs: Vec<_> = (0..100)
            .map(|_| {
                let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
                b.write_all(b"burst").unwrap();
                (a, b)
            })
            .collect();
        let receive = |driver: &mut Driver, at: usize| {
            driver.submit(Op::RecvPooled {
                fd: pairs[at].0.as_raw_fd(),
                pool: pool.clone(),
                multishot: false,
                buffer: None,
            })
        };
        assert_eq!(
            pool.shared.ring_fill(),
            Some((64, 64)),
            "a ring of 64 to begin with"
        );
        let ids: Vec<OpId> = (0..100).map(|at| receive(&mut driver, at)).collect();
        let mut completions = Vec::new();
        let limit = Instant::now() + Duration::from_secs(10);
        while completions.len() < ids.len() {
            assert!(
                Instant::now() < limit,
                "{} of 100 completed",
                completions.len()
            );
            driver
                .poll(&mut completions, Some(Duration::from_millis(100)))
                .unwrap();
        }
        let mut held = Vec::new();
        let mut again = Vec::new();
        for completion in completions {
            let at = ids.iter().position(|id| *id == completion.id).unwrap();
            match completion.result {
                Ok(5) => held.push(completion),
                Err(error) if crate::is_pool_exhausted(&error) => again.push(at),
                other => panic!("receive {at}: {other:?}"),
            }
        }
        // The kernel may hold a receive that found the ring empty until the ring is topped
        // up (it was, from the spares, as buffers left it); one that failed instead grew the
        // ring for the next.
        if !again.is_empty() {
            assert!(
                pool.shared.ring_fill().unwrap().1 > 64,
                "the ring did not grow"
            );
        }
        for at in again {
            let id = receive(&mut driver, at);
            let completion = wait(&mut driver, id);
            assert_eq!(
                completion.result.as_ref().ok(),
                Some(&5),
                "receive {at} again"
            );
            held.push(completion);
        }
        drop(held);
        assert_eq!(pool.available(), 256);
    }

    #[test]
    fn a_slot_stays_small() {
        let size = std::mem::size_of::<super::Slot>();
        assert!(size <= 192, "an io_uring slot is {size} bytes");
    }
}
