//! The driver: the one type users hold.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::sys;
use crate::trace;
use crate::{Completion, Op, OpId, OpKind};

/// Which OS mechanism a [`Driver`] runs on.
///
/// # Examples
///
/// ```ignore-windows
/// use proactor_driver::{Backend, Driver};
///
/// let driver = Driver::with_backend(Backend::Epoll)?;
/// assert_eq!(driver.backend(), Backend::Epoll);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Linux io_uring: completion-based, batched submission.
    IoUring,
    /// Linux epoll: completion emulated on readiness, files on the thread pool.
    Epoll,
    /// macOS and BSD kqueue: completion emulated on readiness, files on the thread pool.
    Kqueue,
    /// Windows I/O completion ports: overlapped operations, completion packets.
    Iocp,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::IoUring => "io_uring",
            Backend::Epoll => "epoll",
            Backend::Kqueue => "kqueue",
            Backend::Iocp => "iocp",
        })
    }
}

/// How to build a [`Driver`].
///
/// # Examples
///
/// ```
/// use proactor_driver::{Config, Driver};
///
/// let driver = Driver::with_config(Config::new().entries(1024))?;
/// println!("running on {}", driver.backend());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) entries: u32,
    pub(crate) backend: Option<crate::Backend>,
    pub(crate) fallback_kinds: Vec<OpKind>,
    pub(crate) recv_bundles: bool,
    pub(crate) incremental_buffers: bool,
    #[cfg(feature = "fault-injection")]
    pub(crate) faults: Option<crate::Faults>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            entries: 256,
            backend: None,
            fallback_kinds: Vec::new(),
            recv_bundles: std::env::var_os("PROACTOR_RECV_BUNDLES")
                .is_none_or(|value| value != "0"),
            incremental_buffers: std::env::var_os("PROACTOR_INCREMENTAL_BUFFERS")
                .is_none_or(|value| value != "0"),
            #[cfg(feature = "fault-injection")]
            faults: None,
        }
    }
}

impl Config {
    /// The defaults: 256 submission entries, the best backend available.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = proactor_driver::Config::new();
    /// # let _ = config;
    /// ```
    pub fn new() -> Config {
        Config::default()
    }

    /// Size of the submission queue (io_uring rounds it up to a power of two). More operations
    /// than this may be in flight; the queue is flushed to the kernel when it fills.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = proactor_driver::Config::new().entries(4096);
    /// # let _ = config;
    /// ```
    pub fn entries(mut self, entries: u32) -> Config {
        self.entries = entries;
        self
    }

    /// Forces a backend instead of picking the best one. Without this, the environment
    /// variable `PROACTOR_BACKEND` (`io_uring` or `epoll`) decides for the whole process.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Backend, Config};
    ///
    /// let config = Config::new().backend(Backend::Epoll);
    /// # let _ = config;
    /// ```
    pub fn backend(mut self, backend: Backend) -> Config {
        self.backend = Some(backend);
        self
    }

    /// Whether a multishot pooled receive ([`Op::RecvPooled`] with `multishot`) takes a
    /// bundle of buffers per completion on io_uring where the kernel can (Linux 6.10): when
    /// more bytes wait than one buffer holds, one completion fills several, and each comes
    /// out as its own completion as before; fewer trips through the completion queue for a
    /// stream that sends faster than it is read. Default: on, unless the environment
    /// variable `PROACTOR_RECV_BUNDLES` is `0` (to compare). The other backends receive
    /// again while bytes wait, with or without it.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = proactor_driver::Config::new().recv_bundles(false);
    /// # let _ = config;
    /// ```
    pub fn recv_bundles(mut self, bundles: bool) -> Config {
        self.recv_bundles = bundles;
        self
    }

    /// Whether io_uring's buffer pools are consumed incrementally where the kernel can
    /// (`IOU_PBUF_RING_INC`, Linux 6.12): a pooled receive takes only the bytes it got from
    /// the buffer it fills, and the next receive goes on in the same buffer, so a
    /// [`PooledBuffer`](crate::PooledBuffer) may be a part of a pool buffer and small
    /// receives share one buffer instead of each taking a whole one (less memory touched,
    /// fewer buffers out). A buffer goes back to its pool when the kernel has filled it and
    /// every part of it is dropped. Default: on, unless the environment variable
    /// `PROACTOR_INCREMENTAL_BUFFERS` is `0` (to compare). The other backends lend whole
    /// buffers either way.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = proactor_driver::Config::new().incremental_buffers(false);
    /// # let _ = config;
    /// ```
    pub fn incremental_buffers(mut self, incremental: bool) -> Config {
        self.incremental_buffers = incremental;
        self
    }

    /// Sends these operations down the path used when the kernel lacks their opcode (for
    /// testing that path on a kernel that has them all). Only io_uring has such a path.
    #[doc(hidden)]
    pub fn fallback_for(mut self, kinds: &[OpKind]) -> Config {
        self.fallback_kinds = kinds.to_vec();
        self
    }

    /// Injects seeded faults between the driver's API and its backend (feature
    /// `fault-injection`, for tests): errors, short transfers, delayed and reordered
    /// completions, each one the OS could produce for that operation (see [`Faults`]).
    ///
    /// [`Faults`]: crate::Faults
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::{Config, Driver, Faults, Op};
    ///
    /// let mut driver = Driver::with_config(Config::new().faults(Faults::new(7)))?;
    /// let id = driver.submit(Op::Nop);
    /// let mut completions = Vec::new();
    /// // A delayed completion never makes a waiting poll hang.
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, None)?;
    /// }
    /// assert_eq!(completions[0].id, id);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "fault-injection")]
    pub fn faults(mut self, faults: crate::Faults) -> Config {
        self.faults = Some(faults);
        self
    }
}

/// A completion-based I/O driver: submit operations, poll for their completions.
///
/// There is no async here and no executor: this is the layer a runtime (ours or another), or a
/// callback-style program, builds on. A driver belongs to the thread that created it (it is
/// neither `Send` nor `Sync`, which lets io_uring run in its single-issuer mode); other
/// threads reach it through a [`Notifier`].
///
/// # Examples
///
/// A timeout, and the wait for it:
///
/// ```
/// use std::time::Duration;
/// use proactor_driver::{Driver, Op};
///
/// let mut driver = Driver::new()?;
/// let id = driver.submit(Op::Timeout { duration: Duration::from_millis(5) });
/// let mut completions = Vec::new();
/// while completions.is_empty() {
///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
/// }
/// assert_eq!(completions[0].id, id);
/// assert_eq!(completions[0].result.as_ref().ok(), Some(&0));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Driver {
    backend: sys::Selected,
    /// Every pool made for this driver, kept as long as it (after the backend: declared
    /// later, so dropped later, once no kernel can select from them).
    pools: Vec<crate::BufferPool>,
    /// Boxed: only tests have it, and the common path pays one test of a pointer for it.
    #[cfg(feature = "fault-injection")]
    faults: Option<Box<crate::fault::FaultLayer>>,
    kind: Backend,
    reason: String,
    _single_thread: PhantomData<*const ()>,
}

impl Driver {
    /// Creates a driver on the best backend available: io_uring, or epoll if io_uring is
    /// missing, disabled or blocked (logged once through the `log` facade, with the reason).
    /// `PROACTOR_BACKEND=io_uring|epoll` forces one for the whole process.
    ///
    /// # Errors
    ///
    /// The OS error if no backend could be set up (out of descriptors, say), or
    /// `InvalidInput` for an unknown `PROACTOR_BACKEND` value.
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = proactor_driver::Driver::new()?;
    /// println!("{}", driver.backend_reason());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Driver> {
        Driver::with_config(Config::new())
    }

    /// Creates a driver on `backend`, whatever the environment says.
    ///
    /// # Errors
    ///
    /// The OS error if that backend cannot be set up here (e.g. `EPERM` for io_uring under a
    /// seccomp profile that blocks it), `Unsupported` if the platform lacks it.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor_driver::{Backend, Driver};
    ///
    /// let driver = Driver::with_backend(Backend::Epoll)?;
    /// assert_eq!(driver.backend(), Backend::Epoll);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_backend(backend: Backend) -> io::Result<Driver> {
        Driver::with_config(Config::new().backend(backend))
    }

    /// Creates a driver from a [`Config`].
    ///
    /// # Errors
    ///
    /// As [`Driver::new`] and [`Driver::with_backend`]; `InvalidInput` for zero entries or
    /// more than 32,768.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Config, Driver};
    ///
    /// assert!(Driver::with_config(Config::new().entries(0)).is_err());
    /// ```
    pub fn with_config(config: Config) -> io::Result<Driver> {
        if config.entries == 0 || config.entries > 32_768 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "queue depth (entries) must be between 1 and 32768",
            ));
        }
        let (backend, kind, reason) = sys::open(&config)?;
        trace::event!(debug, backend = %kind, reason = %reason, "driver created");
        Ok(Driver {
            backend,
            #[cfg(feature = "fault-injection")]
            faults: config
                .faults
                .map(|faults| Box::new(crate::fault::FaultLayer::new(faults))),
            pools: Vec::new(),
            kind,
            reason,
            _single_thread: PhantomData,
        })
    }

    /// Makes a pool of `count` buffers of `buffer_size` bytes that this driver lends to
    /// pooled receives ([`Op::RecvPooled`]): on io_uring a provided-buffer ring the kernel
    /// picks from, elsewhere a free list the backend takes from when data is there. The
    /// memory is allocated once, here. The driver keeps the pool until nothing else does (no
    /// handle, no lent buffer, no operation naming it): then a later `buffer_pool` call
    /// retires it (or the driver's end does). Make pools once and share them; a pool per
    /// connection works, but costs a registration each.
    ///
    /// # Errors
    ///
    /// `InvalidInput` unless `count` is a power of two from 1 to [`MAX_BUFFERS`] and
    /// `buffer_size` from 1 byte to 4 GiB; what the kernel answers when registering the ring
    /// fails for another reason than lacking buffer rings (then it is a free list).
    ///
    /// [`MAX_BUFFERS`]: crate::MAX_BUFFERS
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Driver;
    ///
    /// let mut driver = Driver::new()?;
    /// let pool = driver.buffer_pool(4096, 256)?;
    /// assert_eq!(pool.available(), 256);
    /// assert!(driver.buffer_pool(4096, 100).is_err(), "not a power of two");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn buffer_pool(
        &mut self,
        buffer_size: usize,
        count: usize,
    ) -> io::Result<crate::BufferPool> {
        self.make_pool(buffer_size, count, false)
    }

    /// As [`buffer_pool`](Driver::buffer_pool), for receives from stream sockets (TCP, Unix
    /// streams) only: on io_uring its buffers are consumed incrementally where the kernel can
    /// (see [`Config::incremental_buffers`]), so small receives share a buffer and leave the
    /// rest of it for the next, and an idle server touches far less of the pool. A receive
    /// may then end where a buffer does, short of what was waiting (the next receive gets the
    /// rest), which a stream allows and a datagram does not: a datagram would be cut off.
    /// Elsewhere it is the same as `buffer_pool`.
    ///
    /// # Errors
    ///
    /// As [`buffer_pool`](Driver::buffer_pool).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut driver = proactor_driver::Driver::new()?;
    /// let pool = driver.stream_buffer_pool(16 * 1024, 64)?;
    /// assert_eq!(pool.available(), 64);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stream_buffer_pool(
        &mut self,
        buffer_size: usize,
        count: usize,
    ) -> io::Result<crate::BufferPool> {
        self.make_pool(buffer_size, count, true)
    }

    fn make_pool(
        &mut self,
        buffer_size: usize,
        count: usize,
        streams_only: bool,
    ) -> io::Result<crate::BufferPool> {
        // Pools nobody holds any more (no handle, no lent buffer, no operation naming them)
        // go now, and their group numbers with them.
        let backend = &mut self.backend;
        self.pools.retain(|pool| {
            let held = std::sync::Arc::strong_count(&pool.shared) > 1;
            if !held {
                backend.unregister_pool(&pool.shared);
            }
            held
        });
        // The lowest group number free: pools are few, and made rarely.
        let mut used: Vec<u16> = self.pools.iter().map(|pool| pool.shared.group).collect();
        used.sort_unstable();
        let mut free = 0u32;
        for taken in used {
            if u32::from(taken) != free {
                break;
            }
            free += 1;
        }
        let group = u16::try_from(free).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a driver has at most 65536 buffer pools at once",
            )
        })?;
        let mut shared =
            crate::buffer_pool::Shared::new(buffer_size, count, group, self.backend.identity())?;
        shared.streams_only = streams_only;
        self.backend.register_pool(&mut shared)?;
        let pool = crate::BufferPool {
            shared: std::sync::Arc::new(shared),
        };
        self.pools.push(pool.clone());
        Ok(pool)
    }

    /// Starts `op` and returns its identifier; its [`Completion`] comes from a later
    /// [`poll`](Driver::poll), exactly once.
    ///
    /// Submission never fails: bad input (a closed descriptor, a buffer with no room, ...)
    /// completes the operation with the error, and the buffers come back with it. On io_uring
    /// the operation reaches the kernel at the next `poll`, together with everything else
    /// submitted since the last one.
    ///
    /// # Buffer ownership
    ///
    /// The driver owns `op` and its buffers until the completion hands them back.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit(Op::Nop);
    /// assert_eq!(driver.in_flight(), 1);
    /// # let _ = id;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn submit(&mut self, op: Op) -> OpId {
        #[cfg(feature = "tracing")]
        let kind = op.kind();
        #[cfg(feature = "fault-injection")]
        let id = match self.faults.as_deref_mut() {
            Some(faults) => faults.submit(&mut self.backend, op),
            None => self.backend.submit_with(|| op),
        };
        #[cfg(not(feature = "fault-injection"))]
        let id = self.backend.submit_with(|| op);
        trace::event!(trace, id = ?id, kind = ?kind, "submit");
        id
    }

    /// Starts `op` with a deadline: as [`submit`](Driver::submit), but if `timeout` passes
    /// before the operation finishes, it is cancelled and completes with an error of kind
    /// [`ErrorKind::TimedOut`](io::ErrorKind::TimedOut).
    ///
    /// The completion still arrives exactly once: the operation's own result if it finished
    /// first (bytes a receive got before the deadline stopped it are its result, never lost),
    /// else the time-out. A [`cancel`](Driver::cancel) before the deadline ends it with the
    /// cancellation error as usual. A zero `timeout` times out at once, unless the operation
    /// finishes as it starts. On a multishot receive ([`Op::RecvPooled`] with `multishot`)
    /// the deadline bounds the whole run: the completions before it come as usual, and the
    /// last is the time-out.
    ///
    /// The deadline stops what can be stopped, as `cancel` does: work the thread pool has
    /// already started runs to its end and completes with its own result. A deadline passes
    /// inside [`poll`](Driver::poll) or [`flush`](Driver::flush), which wait no longer than
    /// the nearest one; a driver nobody polls times nothing out (io_uring's kernel may stop
    /// the operation on time, but its completion, like any other, comes from `poll`).
    ///
    /// # Buffer ownership
    ///
    /// As [`submit`](Driver::submit): the buffers come back with the completion, a time-out
    /// included. An `Accept`, `Socket` or `OpenAt` whose descriptor the OS made as the
    /// deadline passed has it closed, as a cancel does.
    ///
    /// # Examples
    ///
    /// A receive on a socket nobody writes to:
    ///
    /// ```ignore-windows
    /// use std::os::fd::AsRawFd;
    /// use std::time::Duration;
    /// use proactor_driver::{Buffer, Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let (socket, _peer) = std::os::unix::net::UnixStream::pair()?;
    /// let recv = Op::Recv { fd: socket.as_raw_fd(), buf: Buffer::from(Vec::with_capacity(64)), flags: 0 };
    /// let id = driver.submit_with_timeout(recv, Duration::from_millis(10));
    /// let mut completions = Vec::new();
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// assert_eq!(completions[0].id, id);
    /// let error = completions[0].result.as_ref().unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn submit_with_timeout(&mut self, op: Op, timeout: Duration) -> OpId {
        #[cfg(feature = "tracing")]
        let kind = op.kind();
        #[cfg(feature = "fault-injection")]
        let id = match self.faults.as_deref_mut() {
            Some(faults) => faults.submit_with_timeout(&mut self.backend, op, timeout),
            None => self.backend.submit_with_timeout(op, timeout),
        };
        #[cfg(not(feature = "fault-injection"))]
        let id = self.backend.submit_with_timeout(op, timeout);
        trace::event!(trace, id = ?id, kind = ?kind, timeout = ?timeout, "submit with timeout");
        id
    }

    /// [`submit_with_timeout`](Driver::submit_with_timeout) and a
    /// [claim](Driver::claim) for `token` at once, as
    /// [`submit_claimed`](Driver::submit_claimed) is for `submit`: however the operation
    /// ends, by its own result or by the deadline, its completion waits in its slot and
    /// `token` goes to [`woken`](Driver::woken).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::{Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let sleep = Op::Timeout { duration: Duration::from_secs(60) };
    /// let id = driver.submit_claimed_with_timeout(sleep, Duration::from_millis(5), 9);
    /// while driver.woken().is_empty() {
    ///     driver.poll(&mut Vec::new(), Some(Duration::from_secs(5)))?;
    /// }
    /// assert_eq!(driver.woken().pop(), Some(9));
    /// let completion = driver.claim(id, 9).expect("it came");
    /// assert_eq!(completion.result.unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn submit_claimed_with_timeout(&mut self, op: Op, timeout: Duration, token: u64) -> OpId {
        let id = self.submit_with_timeout(op, timeout);
        #[cfg(feature = "fault-injection")]
        if let Some(faults) = self.faults.as_deref_mut() {
            faults.hold(id, token);
            return id;
        }
        self.backend.hold(id, token);
        id
    }

    /// Asks for the operation `id` to end early.
    ///
    /// Its completion still arrives exactly once: with a cancellation error (see
    /// [`is_cancelled`](crate::is_cancelled)), or with its real result if it finished first —
    /// bytes already transferred are never lost. Either way the buffers come back. An
    /// `Accept`, `Socket` or `OpenAt` cancelled after the kernel made the descriptor has it
    /// closed and reports the cancellation. Work queued for the thread pool that no thread has
    /// started never runs (it completes cancelled); work already running runs to its end and
    /// completes with its own result.
    ///
    /// # Errors
    ///
    /// `NotFound` if no operation with this identifier is in flight (it was already handed
    /// out by `poll`, or the identifier is from another driver).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::{is_cancelled, Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit(Op::Timeout { duration: Duration::from_secs(60) });
    /// driver.cancel(id)?;
    /// let mut completions = Vec::new();
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// assert!(is_cancelled(completions[0].result.as_ref().unwrap_err()));
    /// assert!(driver.cancel(id).is_err(), "a finished id is stale");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cancel(&mut self, id: OpId) -> io::Result<()> {
        #[cfg(feature = "fault-injection")]
        if let Some(faults) = self.faults.as_deref_mut() {
            return faults.cancel(&mut self.backend, id);
        }
        self.backend.cancel(id)
    }

    /// Submits what is queued, waits for completions and appends them to `completions`
    /// (a [claimed](Driver::claim) one stays in its slot and its token goes to
    /// [`woken`](Driver::woken) instead); returns how many operations finished.
    ///
    /// `timeout` `Some(Duration::ZERO)` only collects what is ready; `Some(limit)` waits until
    /// at least one completion arrives, a [`Notifier`] wakes the driver, or `limit` passes;
    /// `None` waits without limit for a completion or a wake. Many completions are taken per
    /// call. Reusing one `completions` vector keeps polling free of allocation.
    ///
    /// # Errors
    ///
    /// Only a failure of the backend itself (which leaves operations in flight, to be
    /// collected by a later call); an operation's own failure is in its [`Completion`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::Driver;
    ///
    /// let mut driver = Driver::new()?;
    /// let mut completions = Vec::new();
    /// assert_eq!(driver.poll(&mut completions, Some(Duration::ZERO))?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn poll(
        &mut self,
        completions: &mut Vec<Completion>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let start = completions.len();
        #[cfg(feature = "fault-injection")]
        let count = match self.faults.as_deref_mut() {
            Some(faults) => faults.poll(&mut self.backend, completions, timeout)?,
            None => self.backend.poll(completions, timeout)?,
        };
        #[cfg(not(feature = "fault-injection"))]
        let count = self.backend.poll(completions, timeout)?;
        trace::completed(&completions[start..]);
        Ok(count)
    }

    /// Starts every operation submitted so far at once, without waiting, and appends the
    /// completions already available to `completions` (or holds a claimed one, as
    /// [`poll`](Driver::poll) does); returns how many operations finished.
    ///
    /// [`submit`](Driver::submit) only queues on io_uring, where the next `poll` hands the
    /// whole queue to the kernel in one `io_uring_enter`. `flush` does that enter now (and
    /// none when nothing is queued), so an operation the kernel finishes inline — a send the
    /// socket buffer takes, a receive of bytes already there — completes in this call;
    /// readiness and IOCP backends start operations inside `submit` and only hand out what
    /// finished there. For a caller that needs one result before it can go on (a flush of a
    /// buffered writer); everything else batches better through `poll`.
    ///
    /// # Errors
    ///
    /// As [`poll`](Driver::poll): only a failure of the backend itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit(Op::Nop);
    /// let mut completions = Vec::new();
    /// // A NOP finishes as soon as it starts, on every backend.
    /// assert_eq!(driver.flush(&mut completions)?, 1);
    /// assert_eq!(completions[0].id, id);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn flush(&mut self, completions: &mut Vec<Completion>) -> io::Result<usize> {
        let start = completions.len();
        #[cfg(feature = "fault-injection")]
        let count = match self.faults.as_deref_mut() {
            Some(faults) => faults.flush(&mut self.backend, completions)?,
            None => self.backend.flush(completions)?,
        };
        #[cfg(not(feature = "fault-injection"))]
        let count = self.backend.flush(completions)?;
        trace::completed(&completions[start..]);
        Ok(count)
    }

    /// Submits `op` and [claims](Driver::claim) its completion at once, for `token`: however
    /// soon it finishes, its completion waits in its slot for a claim, and `poll` never hands
    /// it out. (A claim after a plain `submit` cannot promise that: the operation may have
    /// finished inside `submit`, and on a readiness backend the claim then takes it at once.)
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::{Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit_claimed(Op::Nop, 3);
    /// let mut completions = Vec::new();
    /// while driver.claim(id, 3).is_none() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// assert!(completions.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn submit_claimed(&mut self, op: Op, token: u64) -> OpId {
        let id = self.submit(op);
        #[cfg(feature = "fault-injection")]
        if let Some(faults) = self.faults.as_deref_mut() {
            faults.hold(id, token);
            return id;
        }
        self.backend.hold(id, token);
        id
    }

    /// As [`submit_claimed`](Driver::submit_claimed), with the operation built by `make`
    /// where the backend keeps it: on io_uring, inlined, it is written into its slot directly
    /// instead of copied there through the callers' frames (an executor's hot path).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit_claimed_with(|| Op::Nop, 3);
    /// # let _ = id;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn submit_claimed_with(&mut self, make: impl FnOnce() -> Op, token: u64) -> OpId {
        #[cfg(feature = "fault-injection")]
        if let Some(faults) = self.faults.as_deref_mut() {
            let id = faults.submit(&mut self.backend, make());
            faults.hold(id, token);
            return id;
        }
        let id = self.backend.submit_with(make);
        self.backend.hold(id, token);
        id
    }

    /// Claims the completion of the operation `id` for the caller: returns it if it has come,
    /// and otherwise keeps it, when it comes, in the operation's slot instead of handing it
    /// out through [`poll`](Driver::poll), and adds `token` to [`woken`](Driver::woken).
    ///
    /// This is how an executor waits for many operations without a table of its own: claim
    /// an operation right after submitting it, with the token of the task that waits for it
    /// (claiming again replaces the token); after each `poll`, wake the tasks whose tokens
    /// are in `woken`; each claims again and gets its completion. The completion is written
    /// once, into the slot, and read once, by the claim that returns it; until then the slot
    /// stays reserved, and [`in_flight`](Driver::in_flight) no longer counts it.
    ///
    /// Returns `None` for an identifier that names nothing in flight or held (a completion
    /// already handed out or taken).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::{Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit(Op::Nop);
    /// assert!(driver.claim(id, 7).is_none(), "not come yet");
    /// let mut completions = Vec::new();
    /// while driver.woken().is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// assert!(completions.is_empty(), "a claimed completion stays in its slot");
    /// assert_eq!(driver.woken().pop(), Some(7));
    /// let completion = driver.claim(id, 7).expect("it came");
    /// assert_eq!(completion.id, id);
    /// assert!(driver.claim(id, 7).is_none(), "taken once");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn claim(&mut self, id: OpId, token: u64) -> Option<Completion> {
        #[cfg(feature = "fault-injection")]
        let completion = match self.faults.as_deref_mut() {
            Some(faults) => faults.claim(id, token),
            None => self.backend.claim(id, token),
        };
        #[cfg(not(feature = "fault-injection"))]
        let completion = self.backend.claim(id, token);
        // A claimed completion is recorded when it is taken, as `poll` records the rest.
        if let Some(completion) = &completion {
            trace::completed(std::slice::from_ref(completion));
        }
        completion
    }

    /// As [`claim`](Driver::claim), but a completion that has come is not moved out whole:
    /// `take` gets its result and its operation where it lies, takes what it needs (a buffer,
    /// with [`Op::take_buffer`]), and its value is returned; what it leaves of the operation
    /// is dropped. The cheap way to wait for a read or a write.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::{Buffer, Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit(Op::Nop);
    /// driver.claim(id, 1);
    /// while driver.woken().is_empty() {
    ///     driver.poll(&mut Vec::new(), Some(Duration::from_secs(5)))?;
    /// }
    /// let result = driver.claim_with(id, 1, |result, _op| result);
    /// assert_eq!(result.unwrap().unwrap(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn claim_with<T>(
        &mut self,
        id: OpId,
        token: u64,
        take: impl FnOnce(io::Result<usize>, &mut Op) -> T,
    ) -> Option<T> {
        #[cfg(feature = "tracing")]
        let take = |result: io::Result<usize>, op: &mut Op| {
            if ::tracing::enabled!(::tracing::Level::TRACE) {
                ::tracing::trace!(id = ?id, kind = ?op.kind(), result = ?result, "complete");
            }
            take(result, op)
        };
        #[cfg(feature = "fault-injection")]
        if let Some(faults) = self.faults.as_deref_mut() {
            return faults.claim_with(id, token, take);
        }
        self.backend.claim_with(id, token, take)
    }

    /// Gives up the claim on `id` (see [`claim`](Driver::claim)): returns its completion if it
    /// has come; one still to come is handed out by [`poll`](Driver::poll) as if it had never
    /// been claimed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::{Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit(Op::Timeout { duration: Duration::from_millis(1) });
    /// driver.claim(id, 1);
    /// assert!(driver.unclaim(id).is_none(), "not come yet");
    /// let mut completions = Vec::new();
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// assert_eq!(completions[0].id, id);
    /// assert!(driver.woken().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unclaim(&mut self, id: OpId) -> Option<Completion> {
        #[cfg(feature = "fault-injection")]
        let completion = match self.faults.as_deref_mut() {
            Some(faults) => faults.unclaim(id),
            None => self.backend.unclaim(id),
        };
        #[cfg(not(feature = "fault-injection"))]
        let completion = self.backend.unclaim(id);
        if let Some(completion) = &completion {
            trace::completed(std::slice::from_ref(completion));
        }
        completion
    }

    /// The tokens of claimed operations whose completions came (see
    /// [`claim`](Driver::claim)), in the order they came; the caller drains it. A token can
    /// appear once per claim.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut driver = proactor_driver::Driver::new()?;
    /// for token in driver.woken().drain(..) {
    ///     println!("wake {token}");
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn woken(&mut self) -> &mut Vec<u64> {
        #[cfg(feature = "fault-injection")]
        if let Some(faults) = self.faults.as_deref_mut() {
            return faults.woken();
        }
        self.backend.woken()
    }

    /// Whether an operation may finish inside [`submit`](Driver::submit), so that a
    /// [`claim`](Driver::claim) right after it can take the completion: true on the readiness
    /// backends (epoll, kqueue), which try the syscall at once (a send the socket takes is
    /// done before `submit` returns). On io_uring and IOCP a completion comes only through
    /// [`poll`](Driver::poll) or [`flush`](Driver::flush), so an executor that
    /// [`submit_claimed`](Driver::submit_claimed) an operation for the task being polled can
    /// leave the poll as pending without claiming: the token is woken when it finishes.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit_claimed(Op::Nop, 7);
    /// if !driver.finishes_in_submit() {
    ///     // Nothing can have finished yet: no need to look.
    ///     assert!(driver.claim(id, 7).is_none());
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn finishes_in_submit(&self) -> bool {
        #[cfg(feature = "fault-injection")]
        if self.faults.is_some() {
            // Its delays and short completions may be handed out at any claim.
            return true;
        }
        self.backend.finishes_in_submit()
    }

    /// A handle that wakes this driver's `poll` from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::Driver;
    ///
    /// let mut driver = Driver::new()?;
    /// let notifier = driver.notifier();
    /// std::thread::spawn(move || notifier.notify());
    /// // Returns once the other thread has woken it.
    /// driver.poll(&mut Vec::new(), Some(Duration::from_secs(10)))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn notifier(&self) -> Notifier {
        Notifier {
            waker: Arc::clone(self.backend.waker()),
        }
    }

    /// The backend this driver runs on.
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = proactor_driver::Driver::new()?;
    /// println!("{}", driver.backend());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backend(&self) -> Backend {
        self.kind
    }

    /// Why this backend was chosen, e.g. `"epoll: io_uring unavailable: io_uring_setup failed
    /// with EPERM (blocked by seccomp or kernel.io_uring_disabled)"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = proactor_driver::Driver::new()?;
    /// assert!(driver.backend_reason().starts_with(&driver.backend().to_string()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backend_reason(&self) -> &str {
        &self.reason
    }

    /// Receives into `buf`'s room from the socket `fd` at once, without an operation, where
    /// that is what an [`Op::Recv`] would have done first: on the readiness backends (epoll,
    /// kqueue), for a socket an earlier operation showed to be one, with no receive waiting
    /// on it ahead of this one. `Some` holds the result, final as an operation's would be
    /// (the bytes are in `buf`, as [`Op::Recv`] leaves them). `None` means nothing was
    /// received: the backend does not transfer outside operations (io_uring and IOCP, where
    /// an operation batched with the others costs less than a system call of its own), the
    /// socket is unknown or busy, or it had nothing to read: it said so, or the last receive
    /// took fewer bytes than it had room for (all there was, as tokio's reads assume too)
    /// and no readable edge has come since, unless the peer had hung up by then. The next
    /// receive operation on it then waits for readiness without asking again. Submit the
    /// operation.
    ///
    /// An executor's fast path: a read that can be served now costs one system call and no
    /// slot, claim or wake.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::io::Write;
    /// use std::os::fd::AsRawFd;
    /// use std::time::Duration;
    /// use proactor_driver::{Backend, Buffer, Driver, Op};
    ///
    /// let mut driver = Driver::with_backend(Backend::Epoll)?;
    /// let (mut ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    /// let fd = theirs.as_raw_fd();
    /// // The first receive is an operation: it shows the driver what `fd` is.
    /// let buf = Buffer::from(Vec::with_capacity(16));
    /// let id = driver.submit(Op::Recv { fd, buf, flags: 0 });
    /// ours.write_all(b"ping")?;
    /// let mut completions = Vec::new();
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// assert_eq!((completions[0].id, completions[0].result.as_ref().ok()), (id, Some(&4)));
    ///
    /// ours.write_all(b"pong")?;
    /// let mut buf = Buffer::from(Vec::with_capacity(16));
    /// assert_eq!(driver.try_recv_now(fd, &mut buf).transpose()?, Some(4));
    /// assert_eq!(buf.as_slice(), b"pong");
    /// // Nothing more to read: no answer, and a receive operation would wait.
    /// assert!(driver.try_recv_now(fd, &mut buf).is_none());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn try_recv_now(
        &mut self,
        fd: crate::Fd,
        buf: &mut crate::Buffer,
    ) -> Option<io::Result<usize>> {
        self.try_transfer_now(fd, sys::Transfer::Receive(buf))
    }

    /// Sends `buf`'s bytes on the socket `fd` at once, without an operation, where that is
    /// what an [`Op::Send`] would have done first: as [`try_recv_now`](Driver::try_recv_now)
    /// (readiness backends, a socket shown to be one, no send waiting on it ahead of this
    /// one). `Some` holds the result, possibly a short count; `None` means nothing was sent
    /// (the socket had no room, or the backend does not do this): submit the operation.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::io::Read;
    /// use std::os::fd::AsRawFd;
    /// use std::time::Duration;
    /// use proactor_driver::{Backend, Buffer, Driver, Op};
    ///
    /// let mut driver = Driver::with_backend(Backend::Epoll)?;
    /// let (mut ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    /// let fd = theirs.as_raw_fd();
    /// let id = driver.submit(Op::Send { fd, buf: Buffer::from("ping"), flags: 0 });
    /// let mut completions = Vec::new();
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// assert_eq!(completions[0].id, id);
    ///
    /// assert_eq!(driver.try_send_now(fd, &Buffer::from("pong")).transpose()?, Some(4));
    /// let mut received = [0; 8];
    /// ours.read_exact(&mut received)?;
    /// assert_eq!(&received, b"pingpong");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn try_send_now(
        &mut self,
        fd: crate::Fd,
        buf: &crate::Buffer,
    ) -> Option<io::Result<usize>> {
        self.try_transfer_now(fd, sys::Transfer::Send(buf))
    }

    /// Asks for `token` in [`woken`](Driver::woken) at the next readable edge of the socket
    /// `fd` (bytes, an end or an error arriving), without an operation: after
    /// [`try_recv_now`](Driver::try_recv_now) found nothing, an executor waits this way and
    /// receives with `try_recv_now` again when woken, as a readiness runtime does. No buffer
    /// is lent and nothing is received while waiting, so giving up the wait loses nothing.
    ///
    /// Returns `false` where this cannot be done: the backend does not transfer outside
    /// operations (see [`transfers_now`](Driver::transfers_now)), the socket is unknown to
    /// the driver, a receive operation waits on it, or it is watched already (one watch at
    /// a time, whatever its token). Submit the receive operation instead. A wake may find nothing to read (another
    /// receive took it): try again, and watch again.
    ///
    /// A token stays until its edge comes, the socket is closed through the driver (which
    /// wakes it), or [`unwatch_readable`](Driver::unwatch_readable).
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::io::Write;
    /// use std::os::fd::AsRawFd;
    /// use std::time::Duration;
    /// use proactor_driver::{Backend, Buffer, Driver, Op};
    ///
    /// let mut driver = Driver::with_backend(Backend::Epoll)?;
    /// let (mut ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    /// let fd = theirs.as_raw_fd();
    /// // A first operation shows the driver what `fd` is.
    /// driver.submit(Op::Send { fd, buf: Buffer::from("hello"), flags: 0 });
    /// let mut completions = Vec::new();
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    ///
    /// let mut buf = Buffer::from(Vec::with_capacity(16));
    /// assert!(driver.try_recv_now(fd, &mut buf).is_none());
    /// assert!(driver.watch_readable(fd, 42));
    /// ours.write_all(b"ping")?;
    /// while !driver.woken().contains(&42) {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// driver.woken().clear();
    /// assert_eq!(driver.try_recv_now(fd, &mut buf).transpose()?, Some(4));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn watch_readable(&mut self, fd: crate::Fd, token: u64) -> bool {
        if !self.transfers_now() {
            return false;
        }
        self.backend.watch_readable(fd, token)
    }

    /// Withdraws the wait [`watch_readable`](Driver::watch_readable) registered for `token`
    /// on `fd`, if it is still there (a wait whose future was dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut driver = proactor_driver::Driver::new()?;
    /// # #[cfg(unix)]
    /// driver.unwatch_readable(0, 42); // Nothing watched: nothing happens.
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn unwatch_readable(&mut self, fd: crate::Fd, token: u64) {
        self.backend.unwatch_readable(fd, token);
    }

    /// Whether [`try_recv_now`](Driver::try_recv_now) and
    /// [`try_send_now`](Driver::try_send_now) can transfer anything on this driver (the
    /// readiness backends, without injected faults), for an executor to ask once instead of
    /// before every read and write.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor_driver::{Backend, Driver};
    ///
    /// assert!(Driver::with_backend(Backend::Epoll)?.transfers_now());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn transfers_now(&self) -> bool {
        #[cfg(feature = "fault-injection")]
        if self.faults.is_some() {
            return false;
        }
        self.backend.transfers_now()
    }

    #[inline]
    fn try_transfer_now(
        &mut self,
        fd: crate::Fd,
        transfer: sys::Transfer<'_>,
    ) -> Option<io::Result<usize>> {
        // Injected faults apply to operations; a transfer outside them would dodge them.
        #[cfg(feature = "fault-injection")]
        if self.faults.is_some() {
            return None;
        }
        let result = self.backend.try_transfer_now(fd, transfer);
        trace::event!(trace, fd = ?fd, result = ?result, "transferred without an operation");
        result
    }

    /// Tells the driver that descriptor number `fd` now names something it has not seen: a
    /// descriptor made outside the driver whose number may have belonged to one closed
    /// outside it. Readiness backends cache per-descriptor state (registration, file or
    /// socket) that would otherwise be stale; io_uring caches nothing. Descriptors made by
    /// `Accept`, `Socket` or `OpenAt` and closed by `Close` need no call. A descriptor with
    /// operations waiting on it is left alone.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut driver = proactor_driver::Driver::new()?;
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// driver.forget_fd(listener.as_raw_fd());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn forget_fd(&mut self, fd: crate::Fd) {
        self.backend.forget_fd(fd);
    }

    /// Registers `fd` for cheaper operations: on io_uring it goes into the ring's table of
    /// registered files, and the operations on it that follow name their index there
    /// (`IOSQE_FIXED_FILE`), so the kernel skips looking the descriptor up and counting a
    /// reference to its file for each one. Worth it for a long-lived, busy socket or file;
    /// an operation costs the same either way in user space. The other backends, and
    /// io_uring on a kernel without the table (before Linux 5.19's sparse tables), have
    /// nothing to gain and only check `fd`: operations behave the same everywhere.
    ///
    /// The table holds the file open: close a registered descriptor with [`Op::Close`]
    /// (which takes it out first), or call [`unregister_fd`](Driver::unregister_fd) (or
    /// [`forget_fd`](Driver::forget_fd)) before closing it any other way; else the file
    /// stays open (a peer sees no end of the stream) until the driver is dropped. Registering
    /// again is a no-op.
    ///
    /// # Errors
    ///
    /// The OS's error for a descriptor that is not open (`EBADF`; `ERROR_INVALID_HANDLE` on
    /// Windows); on io_uring, the kernel's error from registering, or `OutOfMemory` when the
    /// table (16,384 entries, or the process's descriptor limit) is full.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::os::fd::IntoRawFd;
    /// use std::time::Duration;
    /// use proactor_driver::{Buffer, Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = a.into_raw_fd();
    /// driver.register_fd(a)?;
    /// driver.submit(Op::Send { fd: a, buf: Buffer::from("hi"), flags: 0 });
    /// let mut completions = Vec::new();
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// assert_eq!(completions[0].result.as_ref().unwrap(), &2);
    /// // Closed through the driver: out of the table, then closed.
    /// driver.submit(Op::Close { fd: a });
    /// # let mut completions = Vec::new();
    /// # while completions.is_empty() {
    /// #     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// # }
    /// # use std::io::Read;
    /// # let mut got = Vec::new();
    /// # b.read_to_end(&mut got)?;
    /// # assert_eq!(got, b"hi");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn register_fd(&mut self, fd: crate::Fd) -> io::Result<()> {
        self.backend.register_fd(fd)
    }

    /// Takes `fd` out of the registered table (see [`register_fd`](Driver::register_fd)), for
    /// a descriptor about to be closed outside the driver or handed elsewhere: operations
    /// already queued on it still find its file, and it closes when its last user lets go.
    /// A descriptor not registered is left as it is.
    ///
    /// # Errors
    ///
    /// `EBADF` for a negative number (`ERROR_INVALID_HANDLE` for `INVALID_SOCKET` on
    /// Windows).
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::os::fd::AsRawFd;
    ///
    /// let mut driver = proactor_driver::Driver::new()?;
    /// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// driver.register_fd(socket.as_raw_fd())?;
    /// driver.unregister_fd(socket.as_raw_fd())?;
    /// drop(socket); // closed for good: the driver holds nothing of it
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unregister_fd(&mut self, fd: crate::Fd) -> io::Result<()> {
        self.backend.unregister_fd(fd)
    }

    /// Operations submitted whose completions have not been handed out yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = proactor_driver::Driver::new()?;
    /// assert_eq!(driver.in_flight(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn in_flight(&self) -> usize {
        #[cfg(feature = "fault-injection")]
        if let Some(faults) = self.faults.as_deref() {
            return faults.in_flight();
        }
        self.backend.in_flight()
    }

    /// The operations in flight by kind, as [`in_flight`](Driver::in_flight) counts them
    /// (kinds with none left out), and how many of them the thread pool holds now, whose
    /// kind is not counted here: what libuv's `uv_metrics` and tokio's runtime metrics would
    /// show of a loop's work.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::{Driver, Op, OpKind};
    ///
    /// let mut driver = Driver::new()?;
    /// driver.submit(Op::Timeout { duration: Duration::from_secs(60) });
    /// let (kinds, in_pool) = driver.in_flight_by_kind();
    /// assert_eq!(kinds, [(OpKind::Timeout, 1)]);
    /// assert_eq!(in_pool, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn in_flight_by_kind(&mut self) -> (Vec<(crate::OpKind, usize)>, usize) {
        self.backend.in_flight_by_kind()
    }

    /// How many sockets are watched for their next readable edge now (see
    /// [`watch_readable`](Driver::watch_readable)): reads that wait without an operation,
    /// which [`in_flight`](Driver::in_flight) does not count.
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = proactor_driver::Driver::new()?;
    /// assert_eq!(driver.readable_watches(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn readable_watches(&self) -> usize {
        self.backend.readable_watches()
    }

    /// What the process's thread pool (shared by every driver) is doing now: its threads,
    /// how many run a job, and the jobs waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let stats = proactor_driver::Driver::pool_stats();
    /// assert!(stats.max_threads >= 1);
    /// ```
    pub fn pool_stats() -> crate::PoolStats {
        crate::pool::Pool::global().stats()
    }

    /// How many faults this driver has injected so far; all zero without
    /// [`Config::faults`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor_driver::{Config, Driver, Faults, Op};
    ///
    /// let faults = Faults { delay_rate: 1.0, ..Faults::default() };
    /// let mut driver = Driver::with_config(Config::new().faults(faults))?;
    /// driver.submit(Op::Nop);
    /// let mut completions = Vec::new();
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// assert_eq!(driver.fault_counts().delays, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "fault-injection")]
    pub fn fault_counts(&self) -> crate::FaultCounts {
        self.faults
            .as_deref()
            .map(crate::fault::FaultLayer::counts)
            .unwrap_or_default()
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("backend", &self.kind)
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// Wakes a [`Driver`] blocked in [`poll`](Driver::poll), from any thread.
///
/// Wakes coalesce: many calls before the driver looks cost one wake. A wake while the driver is
/// not polling makes its next `poll` return at once.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use proactor_driver::Driver;
///
/// let mut driver = Driver::new()?;
/// let notifier = driver.notifier();
/// let waker = std::thread::spawn(move || {
///     std::thread::sleep(Duration::from_millis(10));
///     notifier.notify();
/// });
/// driver.poll(&mut Vec::new(), None)?; // would block forever without the wake
/// waker.join().unwrap();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Notifier {
    waker: Arc<sys::Waker>,
}

impl Notifier {
    /// Wakes the driver.
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = proactor_driver::Driver::new()?;
    /// driver.notifier().notify();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn notify(&self) {
        self.waker.wake();
    }
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier").finish_non_exhaustive()
    }
}
