//! Unix signals as futures: [`ctrl_c`], and [`signal`] for any catchable signal.
//!
//! Listening for a signal installs, once per signal and for the rest of the process, a
//! minimal handler (`SA_RESTART`): it counts the delivery and writes one byte into a
//! non-blocking self-pipe, then calls the handler that was installed before it, if any. One
//! process-wide thread reads that pipe and wakes every [`Signal`] listening for what arrived,
//! in whichever runtime (and on whichever thread) it waits. Signals are process-wide while
//! runtimes are per thread, so the wake-up lives outside any one runtime: a runtime that
//! is busy or idle never delays or swallows another's signals.
//!
//! Every listener of a signal sees every delivery, though deliveries that arrive while a
//! listener is not waiting are merged into one (as the OS merges pending signals anyway).
//!
//! Once a signal has had a listener, its default action (for `SIGINT` and `SIGTERM`,
//! terminating the process) no longer happens, even after the listeners are dropped.
//!
//! # Examples
//!
//! ```no_run
//! # proactor::Runtime::new()?.block_on(async {
//! proactor::signal::ctrl_c().await?;
//! println!("interrupted: shutting down");
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```

#![cfg(unix)]

use std::ffi::{c_int, c_void};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Signal numbers this module can track: 1 to `SLOTS - 1` (the highest any supported OS
/// has is FreeBSD's 128).
const SLOTS: usize = 129;

/// Deliveries of each signal since its handler was installed (written by the handler).
static DELIVERED: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
/// The handler each signal had before ours (`sa_sigaction`), and its `sa_flags`.
static PREVIOUS_HANDLER: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static PREVIOUS_FLAGS: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];
/// The self-pipe's writing end, or -1 before it exists.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// Identifies each listener in the registry.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// What the handlers and the reading thread share with listeners.
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    started: false,
    installed: [false; SLOTS],
    waiting: Vec::new(),
});

struct Registry {
    /// Whether the pipe and its reading thread exist.
    started: bool,
    installed: [bool; SLOTS],
    /// Listeners waiting for a delivery: (listener id, signal number, waker).
    waiting: Vec<(u64, usize, Waker)>,
}

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A kind of signal to listen for (a signal number).
///
/// # Examples
///
/// ```
/// use proactor::signal::SignalKind;
///
/// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
/// assert_eq!(SignalKind::from_raw(libc::SIGUSR2), SignalKind::user_defined2());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// Any signal number; [`signal`] checks that it can be listened for.
    ///
    /// # Examples
    ///
    /// ```
    /// let kind = proactor::signal::SignalKind::from_raw(libc::SIGWINCH);
    /// assert_eq!(kind.as_raw_value(), libc::SIGWINCH);
    /// ```
    pub const fn from_raw(number: c_int) -> SignalKind {
        SignalKind(number)
    }

    /// The signal number.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// ```
    pub const fn as_raw_value(self) -> c_int {
        self.0
    }

    /// `SIGINT`: interrupt from the terminal (Ctrl-C).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: a polite request to terminate.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal hung up; daemons often reload their configuration on it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::hangup().as_raw_value(), libc::SIGHUP);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: quit from the terminal (Ctrl-\\).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::quit().as_raw_value(), libc::SIGQUIT);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`: for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::user_defined1().as_raw_value(), libc::SIGUSR1);
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`: for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::user_defined2().as_raw_value(), libc::SIGUSR2);
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::child().as_raw_value(), libc::SIGCHLD);
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGPIPE`: a write to a pipe or socket nobody reads any more.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::pipe().as_raw_value(), libc::SIGPIPE);
    /// ```
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGALRM`: a timer set with `alarm(2)` expired.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::alarm().as_raw_value(), libc::SIGALRM);
    /// ```
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGWINCH`: the terminal's window size changed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::signal::SignalKind::window_change().as_raw_value(), libc::SIGWINCH);
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<c_int> for SignalKind {
    fn from(number: c_int) -> SignalKind {
        SignalKind(number)
    }
}

/// Listens for one kind of signal: each [`recv`](Signal::recv) completes on a delivery
/// that came after the previous one (or after the listener was made).
///
/// Several listeners of one signal, in one runtime or several, each see every delivery.
/// Dropping a listener stops it listening; the handler stays installed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use proactor::signal::{signal, SignalKind};
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut first = signal(SignalKind::user_defined1())?;
///     let mut second = signal(SignalKind::user_defined1())?;
///     // SAFETY: raising a signal that now has a handler.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     proactor::time::timeout(Duration::from_secs(10), first.recv()).await?;
///     proactor::time::timeout(Duration::from_secs(10), second.recv()).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Signal {
    kind: SignalKind,
    slot: usize,
    id: u64,
    /// The delivery count this listener has seen up to.
    seen: usize,
}

/// Listens for the signal `kind` from now on.
///
/// The first listener of a signal installs its handler, which stays for the rest of the
/// process (the signal's default action no longer happens). A handler installed before,
/// by other code, still runs: ours calls it after recording the delivery.
///
/// # Errors
///
/// `InvalidInput` for a signal that cannot be listened for: out of range or unknown to the
/// OS, `SIGKILL` and `SIGSTOP` (which cannot be caught), and `SIGSEGV`, `SIGBUS`, `SIGILL`
/// and `SIGFPE` (which a handler that returns would raise again at once). Otherwise an OS
/// error setting up the self-pipe or its thread.
///
/// # Examples
///
/// ```
/// use proactor::signal::{signal, SignalKind};
///
/// let hangups = signal(SignalKind::hangup())?;
/// # drop(hangups);
/// let error = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
/// assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let number = kind.0;
    let forbidden = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
    ];
    let slot = usize::try_from(number)
        .ok()
        .filter(|slot| (1..SLOTS).contains(slot) && !forbidden.contains(&number))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {number} cannot be listened for"),
            )
        })?;
    let mut registry = registry();
    if !registry.started {
        start()?;
        registry.started = true;
    }
    if !registry.installed[slot] {
        install(number, slot)?;
        registry.installed[slot] = true;
    }
    Ok(Signal {
        kind,
        slot,
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        seen: DELIVERED[slot].load(Ordering::SeqCst),
    })
}

/// Waits for `SIGINT` (Ctrl-C in a terminal).
///
/// The listener is made when the future is first polled; a Ctrl-C before that is not seen
/// (and, if no listener ever existed, terminates the process as usual).
///
/// # Errors
///
/// As [`signal`], for setting up the listener.
///
/// # Examples
///
/// ```no_run
/// # proactor::Runtime::new()?.block_on(async {
/// proactor::signal::ctrl_c().await?;
/// println!("bye");
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    signal(SignalKind::interrupt())?.recv().await;
    Ok(())
}

impl Signal {
    /// Waits for the next delivery. Always `Some` on Unix; the `Option` keeps tokio's shape,
    /// so `while signal.recv().await.is_some()` loops work unchanged.
    ///
    /// Cancel-safe: a delivery is never lost by dropping the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor::signal::{signal, SignalKind};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2())?;
    ///     // SAFETY: raising a signal that now has a handler.
    ///     unsafe { libc::raise(libc::SIGUSR2) };
    ///     let got = proactor::time::timeout(Duration::from_secs(10), usr2.recv()).await?;
    ///     assert_eq!(got, Some(()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery, for hand-written futures; registers `cx`'s waker when
    /// there is none yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use proactor::signal::{signal, SignalKind};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut alarms = signal(SignalKind::alarm())?;
    ///     let pending = poll_fn(|cx| std::task::Poll::Ready(alarms.poll_recv(cx).is_pending())).await;
    ///     assert!(pending);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if self.take_delivery() {
            return Poll::Ready(Some(()));
        }
        let mut registry = registry();
        // Checked again under the lock the reading thread wakes under: a delivery is either
        // seen here or wakes the waker registered here.
        if self.take_delivery() {
            drop(registry);
            self.forget();
            return Poll::Ready(Some(()));
        }
        let (id, slot) = (self.id, self.slot);
        match registry.waiting.iter_mut().find(|(other, ..)| *other == id) {
            Some((_, _, waker)) => waker.clone_from(cx.waker()),
            None => registry.waiting.push((id, slot, cx.waker().clone())),
        }
        Poll::Pending
    }

    /// The signal this listener listens for.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::signal::{signal, SignalKind};
    ///
    /// let listener = signal(SignalKind::hangup())?;
    /// assert_eq!(listener.kind(), SignalKind::hangup());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    fn take_delivery(&mut self) -> bool {
        let now = DELIVERED[self.slot].load(Ordering::SeqCst);
        if now == self.seen {
            return false;
        }
        self.seen = now;
        true
    }

    fn forget(&self) {
        registry().waiting.retain(|(other, ..)| *other != self.id);
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.forget();
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}

/// Makes the self-pipe and starts the thread reading it.
//
// kqueue's EVFILT_SIGNAL (macOS, the BSDs) is not used: it only records deliveries, at a lower
// precedence than handlers, and leaves the signal's disposition alone, so SIGINT would still
// kill the process unless a handler or SIG_IGN is installed. SIG_IGN is inherited across
// exec (children spawned later would ignore the signal), so the handler stays either way, and
// it already counts, chains and wakes with one write. The only part EVFILT_SIGNAL could
// replace is this thread's blocking read, and a kqueue per driver would not help: signals
// are process-wide and the wake-up deliberately lives outside every runtime.
fn start() -> io::Result<()> {
    let mut fds: [RawFd; 2] = [-1; 2];
    // SAFETY: fds has room for the two descriptors pipe writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let [read, write] = fds;
    let configured = (|| {
        for fd in fds {
            // SAFETY: plain fcntl on a descriptor we just made.
            if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // The handler must never block; the reading thread does.
        // SAFETY: plain fcntl on a descriptor we just made.
        let flags = unsafe { libc::fcntl(write, libc::F_GETFL) };
        // SAFETY: as above.
        if flags < 0 || unsafe { libc::fcntl(write, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
        std::thread::Builder::new()
            .name("proactor-signal".into())
            .spawn(move || read_deliveries(read))
            .map(drop)
    })();
    if let Err(error) = configured {
        for fd in fds {
            // SAFETY: we made these descriptors and nothing else has seen them.
            unsafe { libc::close(fd) };
        }
        return Err(error);
    }
    WAKE_FD.store(write, Ordering::SeqCst);
    Ok(())
}

/// The reading thread: wakes the listeners of each signal whose count changed.
fn read_deliveries(read: RawFd) {
    let mut last = [0usize; SLOTS];
    let mut sink = [0u8; 128];
    loop {
        // SAFETY: reads into a local buffer of its size.
        let count = unsafe { libc::read(read, sink.as_mut_ptr().cast(), sink.len()) };
        if count == 0 {
            return; // Impossible: the writing end is never closed.
        }
        if count < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
        let mut registry = registry();
        let mut changed = [false; SLOTS];
        for (slot, delivered) in DELIVERED.iter().enumerate() {
            let now = delivered.load(Ordering::SeqCst);
            changed[slot] = now != last[slot];
            last[slot] = now;
        }
        registry.waiting.retain(|(_, slot, waker)| {
            if changed[*slot] {
                waker.wake_by_ref();
                false
            } else {
                true
            }
        });
    }
}

/// The signature of a handler installed with `SA_SIGINFO`.
type InfoHandler = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);
/// The signature of a plain handler.
type PlainHandler = extern "C" fn(c_int);

/// Installs the handler for `number`, keeping the previous one to chain to.
fn install(number: c_int, slot: usize) -> io::Result<()> {
    // SAFETY: an all-zero sigaction is a valid value (empty mask, no flags).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as InfoHandler as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART | libc::SA_SIGINFO;
    // SAFETY: an all-zero sigaction is a valid value to be overwritten.
    let mut previous: libc::sigaction = unsafe { std::mem::zeroed() };
    // Reads the previous handler first, so the handler never chains to a stale one.
    // SAFETY: a null new action only queries; `previous` is writable.
    if unsafe { libc::sigaction(number, std::ptr::null(), &mut previous) } < 0 {
        return Err(invalid_signal(number));
    }
    PREVIOUS_HANDLER[slot].store(previous.sa_sigaction, Ordering::SeqCst);
    PREVIOUS_FLAGS[slot].store(previous.sa_flags, Ordering::SeqCst);
    // SAFETY: `action` is fully initialized and `handler` is async-signal-safe.
    if unsafe { libc::sigaction(number, &action, std::ptr::null_mut()) } < 0 {
        return Err(invalid_signal(number));
    }
    Ok(())
}

fn invalid_signal(number: c_int) -> io::Error {
    let os = io::Error::last_os_error();
    if os.raw_os_error() == Some(libc::EINVAL) {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {number} cannot be listened for"),
        )
    } else {
        os
    }
}

/// The signal handler: only atomics, `write(2)` and the chained handler, all
/// async-signal-safe.
extern "C" fn handler(number: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let saved = errno();
    if let Some(delivered) = usize::try_from(number).ok().and_then(|n| DELIVERED.get(n)) {
        delivered.fetch_add(1, Ordering::SeqCst);
    }
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = number as u8;
        // SAFETY: writes one byte from a local into the non-blocking pipe; a full pipe
        // (EAGAIN) already wakes the reader, which reads the counts, not the bytes.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    if let Ok(slot) = usize::try_from(number) {
        if let (Some(previous), Some(flags)) =
            (PREVIOUS_HANDLER.get(slot), PREVIOUS_FLAGS.get(slot))
        {
            chain(
                number,
                info,
                context,
                previous.load(Ordering::SeqCst),
                flags.load(Ordering::SeqCst),
            );
        }
    }
    set_errno(saved);
}

/// Calls the handler that was installed before ours, if it was a function.
fn chain(
    number: c_int,
    info: *mut libc::siginfo_t,
    context: *mut c_void,
    previous: libc::sighandler_t,
    flags: c_int,
) {
    if previous == libc::SIG_DFL || previous == libc::SIG_IGN {
        return;
    }
    if flags & libc::SA_SIGINFO != 0 {
        // SAFETY: sigaction reported this value as the signal's previous handler, installed
        // with SA_SIGINFO, so it is a function of this signature.
        let previous: InfoHandler = unsafe { std::mem::transmute(previous) };
        previous(number, info, context);
    } else {
        // SAFETY: sigaction reported this value as the signal's previous handler, installed
        // without SA_SIGINFO, so it is a plain handler function.
        let previous: PlainHandler = unsafe { std::mem::transmute(previous) };
        previous(number);
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn errno_location() -> *mut c_int {
    // SAFETY: returns this thread's errno; no preconditions.
    unsafe { libc::__errno_location() }
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
fn errno_location() -> *mut c_int {
    // SAFETY: returns this thread's errno; no preconditions.
    unsafe { libc::__error() }
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
))]
fn errno() -> c_int {
    // SAFETY: the location is this thread's errno, valid for the thread's lifetime.
    unsafe { *errno_location() }
}

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
))]
fn set_errno(value: c_int) {
    // SAFETY: as in `errno`.
    unsafe { *errno_location() = value };
}

// Elsewhere the handler cannot restore errno (a `write` failing on a full pipe may change it).
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
)))]
fn errno() -> c_int {
    0
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
)))]
fn set_errno(_: c_int) {}
