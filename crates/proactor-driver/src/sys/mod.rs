//! Platform backends: the only place that names one.
//!
//! Every backend provides the same small set of functions, written down once as the
//! [`Backend`] trait so the compiler checks each file against it:
//!
//! - `submit(op) -> OpId` — take ownership of an operation and start it (or queue it);
//! - `cancel(id)` — ask for an early end; the completion still arrives exactly once;
//! - `submit_with_timeout(op, timeout)` — `submit` with a deadline: by default the slot
//!   table's heap, which `poll` and `flush` check, cancelling what is past it (io_uring links
//!   a timeout to the operation's entry instead);
//! - `poll(completions, timeout)` — wait (zero, finite or infinite) and hand out completions;
//! - `flush(completions)` — start what is queued now, without waiting, and hand out the
//!   completions already there (a system call only where submissions are queued: io_uring);
//! - `waker()` — what another thread uses to end a blocked `poll`;
//! - `in_flight()` — operations submitted and not yet handed out;
//! - `forget_fd(fd)` — drop what is cached about a descriptor number that now names something new;
//! - `slots()` — its table of operations (`slots.rs`, one type for every backend, each with
//!   its own per-operation state). Each backend ends an operation with `Slots::finish` (or
//!   `finish_in_place`); claims (`hold`, `claim`, `claim_with`, `unclaim`, `woken`: a claimed
//!   operation's completion waits in its slot for its claimant) are the trait's own methods
//!   over the table, written once. A readiness backend also ends at once, for a claim, an
//!   operation that finished inside `submit` (`end_ready`).
//!
//! Files: `io_uring.rs` (Linux, completion-based), `readiness.rs` (completion emulated on
//! readiness, shared by every readiness mechanism) with `epoll.rs` (Linux) and `kqueue.rs`
//! (macOS, the BSDs) providing its register/wait, `unix.rs` (each operation as a direct
//! syscall, shared control blocks, the waker), `iocp.rs` (Windows, completion-based) with
//! `windows.rs` (its system calls, the waker, what runs on the pool), `checks.rs` (input
//! checks every backend shares) and `unsupported.rs` (answers `Unsupported` where no backend
//! exists yet, so the crate builds and type-checks everywhere).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::slots::{HoldsOp, Slots};
use crate::{Backend as BackendKind, Completion, Config, Op, OpId};

mod checks;
#[cfg(target_os = "linux")]
mod epoll;
#[cfg(target_os = "linux")]
mod io_uring;
#[cfg(windows)]
mod iocp;
#[cfg(kqueue)]
mod kqueue;
#[cfg(any(target_os = "linux", kqueue))]
mod readiness;
#[cfg(any(target_os = "linux", kqueue, windows))]
mod timers;
#[cfg(unix)]
mod unix;
#[cfg(not(any(target_os = "linux", kqueue, windows)))]
mod unsupported;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
pub(crate) use unix::{
    close_quietly, duplicate, into_owned_fds, is_cancelled, perform_blocking, recv_many, send_many,
    Waker,
};
#[cfg(not(any(unix, windows)))]
pub(crate) use unsupported::{
    close_quietly, is_cancelled, perform_blocking, recv_many, send_many, Waker,
};
#[cfg(windows)]
pub(crate) use windows::{
    close_quietly, create_named_pipe, disconnect_named_pipe, is_cancelled, open_directory,
    open_named_pipe, perform_blocking, recv_many, send_many, Port, Waker,
};

/// The bytes of `sun_path` a Unix domain address may use, or `None` where message operations
/// carry no Unix domain addresses nor descriptors (Windows: no such sockets here).
#[cfg(target_os = "linux")]
pub(crate) const SUN_PATH_LEN: Option<usize> = Some(108);
#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) const SUN_PATH_LEN: Option<usize> = Some(104);
#[cfg(not(unix))]
pub(crate) const SUN_PATH_LEN: Option<usize> = None;

/// What "never" becomes where a clock or a system call needs a number: a century. A longer
/// timeout (up to `Duration::MAX`) waits this long instead, which no program outlives, rather
/// than fail or overflow: every backend treats it the same way.
pub(crate) const FOREVER: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The contract every backend keeps (see the module docs).
pub(crate) trait Backend {
    /// What the backend keeps per operation, in the slot table every backend shares.
    type Slot: HoldsOp;
    fn slots(&mut self) -> &mut Slots<Self::Slot>;
    fn submit(&mut self, op: Op) -> OpId;
    /// As `submit`, with the operation built by `make` where the backend keeps it (io_uring
    /// builds it in its slot); by default built, then submitted.
    #[inline]
    fn submit_with(&mut self, make: impl FnOnce() -> Op) -> OpId {
        self.submit(make())
    }
    fn cancel(&mut self, id: OpId) -> io::Result<()>;
    fn poll(
        &mut self,
        completions: &mut Vec<Completion>,
        timeout: Option<Duration>,
    ) -> io::Result<usize>;
    fn flush(&mut self, completions: &mut Vec<Completion>) -> io::Result<usize>;
    fn waker(&self) -> &std::sync::Arc<Waker>;
    fn in_flight(&self) -> usize;
    fn forget_fd(&mut self, fd: crate::Fd);
    /// Tries `transfer` on the socket `fd` at once, outside any operation (see
    /// [`Driver::try_recv_now`](crate::Driver::try_recv_now)). Not by default: where the
    /// kernel runs operations itself (io_uring, IOCP), an operation batched with the others
    /// costs less than a system call of its own.
    #[inline]
    fn try_transfer_now(
        &mut self,
        fd: crate::Fd,
        transfer: Transfer<'_>,
    ) -> Option<io::Result<usize>> {
        let _ = (fd, transfer);
        None
    }
    /// Wakes `token` at the socket `fd`'s next readable edge, without an operation (see
    /// [`Driver::watch_readable`](crate::Driver::watch_readable)). Not by default.
    #[inline]
    fn watch_readable(&mut self, fd: crate::Fd, token: u64) -> bool {
        let _ = (fd, token);
        false
    }
    /// Withdraws what `watch_readable` asked for `token`.
    #[inline]
    fn unwatch_readable(&mut self, fd: crate::Fd, token: u64) {
        let _ = (fd, token);
    }
    /// How many sockets `watch_readable` watches now.
    fn readable_watches(&self) -> usize {
        0
    }
    /// Whether `try_transfer_now` ever transfers anything here.
    #[inline]
    fn transfers_now(&self) -> bool {
        false
    }
    /// Registers `fd` for cheaper operations (see
    /// [`Driver::register_fd`](crate::Driver::register_fd)). Only checks it by default: the
    /// backends without a registered table have nothing to gain.
    fn register_fd(&mut self, fd: crate::Fd) -> io::Result<()> {
        checks::check_open(fd)
    }
    /// Takes `fd` out of the registered table (see `register_fd`); checks it by default.
    fn unregister_fd(&mut self, fd: crate::Fd) -> io::Result<()> {
        checks::check_fd_number(fd)
    }
    /// This driver among the process's, from [`next_identity`]: a pool carries its driver's,
    /// and another driver refuses it.
    fn identity(&self) -> u64;

    /// Readies a new buffer pool for this backend's pooled receives. By default a free list,
    /// which the backend takes from when a receive runs.
    fn register_pool(&mut self, pool: &mut crate::buffer_pool::Shared) -> io::Result<()> {
        let _ = pool;
        Ok(())
    }

    /// Forgets a pool nothing holds any more (no operation names it). Nothing by default.
    fn unregister_pool(&mut self, pool: &crate::buffer_pool::Shared) {
        let _ = pool;
    }

    /// Starts `op` with a deadline `timeout` from now (see
    /// [`Driver::submit_with_timeout`](crate::Driver::submit_with_timeout)). By default the
    /// slot table keeps it, and [`expire_deadlines`](Backend::expire_deadlines) cancels the
    /// operation as `cancel` does when it passes; the table turns the cancellation it ends
    /// with into a time-out. io_uring links a timeout to the operation's entry instead.
    fn submit_with_timeout(&mut self, op: Op, timeout: Duration) -> OpId {
        let id = self.submit(op);
        // One that finished inside `submit` is no longer in flight, and gets no deadline.
        self.slots().arm_deadline(id, timeout, false);
        id
    }

    /// Cancels, the way `cancel` does, every operation whose deadline passed by `now`.
    fn expire_deadlines(&mut self, now: Instant) {
        while let Some(id) = self.slots().pop_expired(now) {
            // Cannot fail: `pop_expired` returns only operations in flight.
            let _ = self.cancel(id);
        }
    }

    /// `poll` with the operations' deadlines: each wait ends by the nearest, whose operation
    /// is then cancelled, and the wait goes on (for its completion, if nothing else) as long
    /// as `timeout` allows. Without deadlines, `poll` itself.
    #[inline]
    fn poll_with_deadlines(
        &mut self,
        completions: &mut Vec<Completion>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        if !self.slots().has_deadlines() {
            return self.poll(completions, timeout);
        }
        self.poll_deadlines(completions, timeout)
    }

    #[inline(never)]
    fn poll_deadlines(
        &mut self,
        completions: &mut Vec<Completion>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let start = Instant::now();
        let end = timeout.map(|timeout| start + timeout.min(FOREVER));
        loop {
            let now = Instant::now();
            self.expire_deadlines(now);
            let mut wait = end.map(|end| end.saturating_duration_since(now));
            if let Some(next) = self.slots().next_deadline() {
                let until = next.saturating_duration_since(now);
                wait = Some(wait.map_or(until, |wait| wait.min(until)));
            }
            let count = self.poll(completions, wait)?;
            if count > 0 {
                return Ok(count);
            }
            let now = Instant::now();
            let due = self.slots().next_deadline().is_some_and(|next| next <= now);
            // Nothing came and no deadline passed: woken, or out of time.
            if !due {
                return Ok(0);
            }
            if end.is_some_and(|end| now >= end) {
                // Out of time too: the cancellations start, and what they end at once is
                // handed out.
                self.expire_deadlines(now);
                return self.poll(completions, Some(Duration::ZERO));
            }
        }
    }

    /// `flush`, after cancelling what is past its deadline.
    #[inline]
    fn flush_with_deadlines(&mut self, completions: &mut Vec<Completion>) -> io::Result<usize> {
        if self.slots().has_deadlines() {
            self.expire_deadlines(Instant::now());
        }
        self.flush(completions)
    }

    /// `cancel` asked for by the caller: a deadline still to come no longer counts.
    #[inline]
    fn cancel_by_caller(&mut self, id: OpId) -> io::Result<()> {
        self.slots().disarm_deadline(id);
        self.cancel(id)
    }

    /// Ends now, for the claim that follows, an operation `id` that finished and waits in the
    /// backend's own queue (readiness backends: one that finished inside `submit`). Nothing
    /// by default: the backend hands it out at its next `poll`.
    #[inline]
    fn end_ready(&mut self, id: OpId) {
        let _ = id;
    }

    /// Whether an operation can finish inside `submit`, so that a claim right after it may
    /// take the completion (readiness backends start operations there). Where it cannot, a
    /// claim before the next `poll` or `flush` finds nothing.
    #[inline]
    fn finishes_in_submit(&self) -> bool {
        false
    }

    // Claims are the slot table's, the same for every backend.

    #[inline]
    fn hold(&mut self, id: OpId, token: u64) {
        self.slots().hold(id, token);
    }

    #[inline]
    fn claim(&mut self, id: OpId, token: u64) -> Option<Completion> {
        self.end_ready(id);
        self.slots().claim(id, token)
    }

    #[inline]
    fn claim_with<T>(
        &mut self,
        id: OpId,
        token: u64,
        take: impl FnOnce(io::Result<usize>, &mut Op) -> T,
    ) -> Option<T> {
        self.end_ready(id);
        self.slots().claim_with(id, token, take)
    }

    fn unclaim(&mut self, id: OpId) -> Option<Completion> {
        self.slots().unclaim(id)
    }

    #[inline]
    fn woken(&mut self) -> &mut Vec<u64> {
        self.slots().woken()
    }
}

/// A receive or a send tried outside any operation (see `Backend::try_transfer_now`).
#[cfg_attr(windows, allow(dead_code))] // IOCP transfers only through operations.
pub(crate) enum Transfer<'a> {
    /// Into the buffer's room, as `Op::Recv` reads.
    Receive(&'a mut crate::Buffer),
    /// Of the buffer's bytes, as `Op::Send` sends.
    Send(&'a crate::Buffer),
}

/// The backend a driver runs on, chosen at run time.
// One per driver, called on every operation: a box would add an indirection for nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Selected {
    #[cfg(target_os = "linux")]
    IoUring(io_uring::IoUring),
    #[cfg(target_os = "linux")]
    Epoll(readiness::Readiness<epoll::Epoll>),
    #[cfg(kqueue)]
    Kqueue(readiness::Readiness<kqueue::Kqueue>),
    #[cfg(windows)]
    Iocp(iocp::Iocp),
    #[cfg(not(any(target_os = "linux", kqueue, windows)))]
    Unsupported(unsupported::Unsupported),
}

macro_rules! forward {
    ($self:ident, $backend:ident => $call:expr) => {
        match $self {
            #[cfg(target_os = "linux")]
            Selected::IoUring($backend) => $call,
            #[cfg(target_os = "linux")]
            Selected::Epoll($backend) => $call,
            #[cfg(kqueue)]
            Selected::Kqueue($backend) => $call,
            #[cfg(windows)]
            Selected::Iocp($backend) => $call,
            #[cfg(not(any(target_os = "linux", kqueue, windows)))]
            Selected::Unsupported($backend) => $call,
        }
    };
}

/// The backend's functions, forwarded to the one chosen.
impl Selected {
    #[inline]
    pub(crate) fn submit_with(&mut self, make: impl FnOnce() -> Op) -> OpId {
        forward!(self, backend => backend.submit_with(make))
    }

    pub(crate) fn submit_with_timeout(&mut self, op: Op, timeout: Duration) -> OpId {
        forward!(self, backend => backend.submit_with_timeout(op, timeout))
    }

    pub(crate) fn cancel(&mut self, id: OpId) -> io::Result<()> {
        forward!(self, backend => backend.cancel_by_caller(id))
    }

    #[inline]
    pub(crate) fn poll(
        &mut self,
        completions: &mut Vec<Completion>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        forward!(self, backend => backend.poll_with_deadlines(completions, timeout))
    }

    #[inline]
    pub(crate) fn flush(&mut self, completions: &mut Vec<Completion>) -> io::Result<usize> {
        forward!(self, backend => backend.flush_with_deadlines(completions))
    }

    pub(crate) fn waker(&self) -> &std::sync::Arc<Waker> {
        forward!(self, backend => backend.waker())
    }

    pub(crate) fn in_flight(&self) -> usize {
        forward!(self, backend => backend.in_flight())
    }

    pub(crate) fn in_flight_by_kind(&mut self) -> (Vec<(crate::OpKind, usize)>, usize) {
        forward!(self, backend => backend.slots().count_kinds())
    }

    pub(crate) fn forget_fd(&mut self, fd: crate::Fd) {
        forward!(self, backend => backend.forget_fd(fd))
    }

    #[inline]
    pub(crate) fn try_transfer_now(
        &mut self,
        fd: crate::Fd,
        transfer: Transfer<'_>,
    ) -> Option<io::Result<usize>> {
        forward!(self, backend => backend.try_transfer_now(fd, transfer))
    }

    #[inline]
    pub(crate) fn watch_readable(&mut self, fd: crate::Fd, token: u64) -> bool {
        forward!(self, backend => backend.watch_readable(fd, token))
    }

    #[inline]
    pub(crate) fn unwatch_readable(&mut self, fd: crate::Fd, token: u64) {
        forward!(self, backend => backend.unwatch_readable(fd, token))
    }

    pub(crate) fn readable_watches(&self) -> usize {
        forward!(self, backend => backend.readable_watches())
    }

    #[inline]
    pub(crate) fn transfers_now(&self) -> bool {
        forward!(self, backend => backend.transfers_now())
    }

    pub(crate) fn register_fd(&mut self, fd: crate::Fd) -> io::Result<()> {
        forward!(self, backend => backend.register_fd(fd))
    }

    pub(crate) fn unregister_fd(&mut self, fd: crate::Fd) -> io::Result<()> {
        forward!(self, backend => backend.unregister_fd(fd))
    }

    pub(crate) fn identity(&self) -> u64 {
        forward!(self, backend => backend.identity())
    }

    pub(crate) fn unregister_pool(&mut self, pool: &crate::buffer_pool::Shared) {
        forward!(self, backend => backend.unregister_pool(pool))
    }

    pub(crate) fn register_pool(
        &mut self,
        pool: &mut crate::buffer_pool::Shared,
    ) -> io::Result<()> {
        forward!(self, backend => backend.register_pool(pool))
    }

    #[inline]
    pub(crate) fn hold(&mut self, id: OpId, token: u64) {
        forward!(self, backend => backend.hold(id, token))
    }

    #[inline]
    pub(crate) fn claim(&mut self, id: OpId, token: u64) -> Option<Completion> {
        forward!(self, backend => backend.claim(id, token))
    }

    #[inline]
    pub(crate) fn claim_with<T>(
        &mut self,
        id: OpId,
        token: u64,
        take: impl FnOnce(io::Result<usize>, &mut Op) -> T,
    ) -> Option<T> {
        forward!(self, backend => backend.claim_with(id, token, take))
    }

    pub(crate) fn unclaim(&mut self, id: OpId) -> Option<Completion> {
        forward!(self, backend => backend.unclaim(id))
    }

    #[inline]
    pub(crate) fn woken(&mut self) -> &mut Vec<u64> {
        forward!(self, backend => backend.woken())
    }

    #[inline]
    pub(crate) fn finishes_in_submit(&self) -> bool {
        forward!(self, backend => backend.finishes_in_submit())
    }
}

/// Opens the backend `config` asks for; returns it with its kind and why it was chosen.
#[cfg(target_os = "linux")]
pub(crate) fn open(config: &Config) -> io::Result<(Selected, BackendKind, String)> {
    let (wanted, why) = match config.backend {
        Some(backend) => (Some(backend), "chosen by the caller"),
        None => match std::env::var("PROACTOR_BACKEND") {
            Ok(value) => match value.as_str() {
                "io_uring" | "io-uring" | "uring" => (Some(BackendKind::IoUring), "PROACTOR_BACKEND=io_uring"),
                "epoll" => (Some(BackendKind::Epoll), "PROACTOR_BACKEND=epoll"),
                "" => (None, ""),
                other => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("PROACTOR_BACKEND={other:?} is not a backend of this platform (io_uring, epoll)"),
                    ))
                }
            },
            Err(_) => (None, ""),
        },
    };
    match wanted {
        Some(BackendKind::IoUring) => {
            let backend = io_uring::IoUring::new(config)?;
            Ok((
                Selected::IoUring(backend),
                BackendKind::IoUring,
                format!("io_uring: {why}"),
            ))
        }
        Some(BackendKind::Epoll) => {
            let backend = readiness::Readiness::new()?;
            Ok((
                Selected::Epoll(backend),
                BackendKind::Epoll,
                format!("epoll: {why}"),
            ))
        }
        Some(other) => Err(unsupported_backend(other)),
        None => match io_uring::IoUring::new(config) {
            Ok(backend) => Ok((
                Selected::IoUring(backend),
                BackendKind::IoUring,
                "io_uring: available".into(),
            )),
            Err(error) => {
                let reason = format!(
                    "epoll: io_uring unavailable: {}",
                    describe_setup_error(&error)
                );
                warn_once(&reason);
                let backend = readiness::Readiness::new()?;
                Ok((Selected::Epoll(backend), BackendKind::Epoll, reason))
            }
        },
    }
}

#[cfg(target_os = "linux")]
fn describe_setup_error(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::ENOSYS) => "io_uring_setup failed with ENOSYS (kernel without io_uring)".into(),
        Some(libc::EPERM) => {
            "io_uring_setup failed with EPERM (blocked by seccomp or kernel.io_uring_disabled)"
                .into()
        }
        Some(libc::ENOMEM) => "io_uring_setup failed with ENOMEM (RLIMIT_MEMLOCK too low?)".into(),
        Some(code) => format!("io_uring_setup failed with errno {code} ({error})"),
        None => error.to_string(),
    }
}

#[cfg(kqueue)]
pub(crate) fn open(config: &Config) -> io::Result<(Selected, BackendKind, String)> {
    let (wanted, why) = match config.backend {
        Some(backend) => (backend, "chosen by the caller"),
        None => match std::env::var("PROACTOR_BACKEND").as_deref() {
            Ok("kqueue") => (BackendKind::Kqueue, "PROACTOR_BACKEND=kqueue"),
            Ok("") | Err(_) => (BackendKind::Kqueue, "the platform's backend"),
            Ok(other) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "PROACTOR_BACKEND={other:?} is not a backend of this platform (kqueue)"
                    ),
                ))
            }
        },
    };
    match wanted {
        BackendKind::Kqueue => Ok((
            Selected::Kqueue(readiness::Readiness::new()?),
            BackendKind::Kqueue,
            format!("kqueue: {why}"),
        )),
        other => Err(unsupported_backend(other)),
    }
}

#[cfg(windows)]
pub(crate) fn open(config: &Config) -> io::Result<(Selected, BackendKind, String)> {
    let (wanted, why) = match config.backend {
        Some(backend) => (backend, "chosen by the caller"),
        None => match std::env::var("PROACTOR_BACKEND").as_deref() {
            Ok("iocp") => (BackendKind::Iocp, "PROACTOR_BACKEND=iocp"),
            Ok("") | Err(_) => (BackendKind::Iocp, "the platform's backend"),
            Ok(other) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("PROACTOR_BACKEND={other:?} is not a backend of this platform (iocp)"),
                ))
            }
        },
    };
    match wanted {
        BackendKind::Iocp => Ok((
            Selected::Iocp(iocp::Iocp::new()?),
            BackendKind::Iocp,
            format!("iocp: {why}"),
        )),
        other => Err(unsupported_backend(other)),
    }
}

#[cfg(not(any(target_os = "linux", kqueue, windows)))]
pub(crate) fn open(config: &Config) -> io::Result<(Selected, BackendKind, String)> {
    let _ = config;
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "proactor has no backend for this platform yet",
    ))
}

fn unsupported_backend(backend: BackendKind) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("the {backend} backend does not exist on this platform"),
    )
}

/// A number no other driver of the process has.
#[cfg_attr(not(any(target_os = "linux", kqueue, windows)), allow(dead_code))]
pub(crate) fn next_identity() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Logs a fallback once per process, so a thousand drivers don't log a thousand lines.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn warn_once(reason: &str) {
    static LOGGED: AtomicBool = AtomicBool::new(false);
    if !LOGGED.swap(true, Ordering::Relaxed) {
        crate::trace::warning!("proactor: {reason}");
    }
}
