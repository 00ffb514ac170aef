//! The runtime: a single-threaded executor on top of one driver.
//!
//! One turn of the loop polls every task that is ready, then hands everything those tasks
//! submitted to the driver in one `poll` (one `io_uring_enter` on io_uring), which also waits
//! for the next completions or the nearest timer. Completions wake the tasks that wait for
//! them. Tasks need not be `Send`: they never leave the thread. Other threads reach a runtime
//! through a [`Handle`], whose wake-ups go through the driver's notifier, so an idle runtime
//! sleeps in the kernel and never spins.

mod context;
pub(crate) mod group;
mod metrics;
pub(crate) mod op;
mod remote;
mod task;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, RawWakerVTable, Waker};
use std::time::Duration;

use proactor_driver::{Backend, Completion, Config, Driver, Notifier, OpId};

pub use metrics::RuntimeMetrics;
pub use remote::RemoteJoinHandle;
pub use task::{AbortHandle, JoinError, JoinHandle};

pub(crate) use context::{current, try_current, try_with, with};
use op::{ForeignWakers, Orphan, Token};
use task::{TaskWaker, Tasks, MAIN};

use crate::time::{Clock, Timers};

/// A `Send` closure another thread asked this runtime to run on its own thread.
type RemoteJob = Box<dyn FnOnce() + Send>;

/// What other threads share with a runtime.
pub(crate) struct Shared {
    notifier: Notifier,
    remote: Mutex<Remote>,
    /// Set when `remote` has something, so the loop can skip the lock when it is empty.
    remote_pending: AtomicBool,
    /// `Handle::stop` was called: `Runtime::run` returns at its next turn.
    stop_requested: AtomicBool,
}

#[derive(Default)]
struct Remote {
    woken: Vec<usize>,
    jobs: Vec<RemoteJob>,
    /// The runtime is gone: a job sent now is dropped at once (a remote task's handle then
    /// says "cancelled" instead of waiting for a runtime that will never run it).
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Remote> {
        self.remote
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn wake_remote(&self, index: usize) {
        self.lock().woken.push(index);
        self.remote_pending.store(true, Ordering::Release);
        self.notifier.notify();
    }

    fn push_job(&self, job: RemoteJob) {
        let mut remote = self.lock();
        if remote.closed {
            drop(remote);
            drop(job);
            return;
        }
        remote.jobs.push(job);
        drop(remote);
        self.remote_pending.store(true, Ordering::Release);
        self.notifier.notify();
    }

    /// Marks the runtime gone and gives back the jobs it will never run.
    fn close(&self) -> Vec<RemoteJob> {
        let mut remote = self.lock();
        remote.closed = true;
        std::mem::take(&mut remote.jobs)
    }
}

/// The runtime's state, reached through the thread's context while it runs.
pub(crate) struct Inner {
    pub(crate) driver: RefCell<Driver>,
    /// What to do with the completions of operations whose futures were dropped in flight
    /// (only those with something to do: the rest are disposed of).
    pub(crate) orphans: RefCell<HashMap<OpId, Orphan>>,
    /// Wakers of operation futures polled under a waker not their task's own.
    pub(crate) foreign: RefCell<ForeignWakers>,
    /// The task being polled: its token, and its waker's data and vtable, which an operation
    /// future compares with the waker it is polled under (`task_token`).
    polling: Cell<(Token, *const (), *const RawWakerVTable)>,
    /// What the task being polled may still finish without waiting before it must let the
    /// others run (see `poll_budget`).
    budget: Cell<u32>,
    /// The driver's woken tokens, taken out to wake their tasks (reused).
    woken: RefCell<Vec<u64>>,
    pub(crate) timers: RefCell<Timers>,
    /// What the timers measure against: the system's clock, or a test's stopped one.
    pub(crate) clock: Clock,
    tasks: RefCell<Tasks>,
    ready: RefCell<VecDeque<usize>>,
    main_woken: Cell<bool>,
    pub(crate) shared: Arc<Shared>,
    completions: RefCell<Vec<Completion>>,
    remote_woken: RefCell<Vec<usize>>,
    remote_jobs: RefCell<Vec<RemoteJob>>,
    /// Stream sockets are registered with the driver (`Builder::register_sockets`).
    pub(crate) register_sockets: bool,
    counters: metrics::Counters,
    /// Woken when the last task ends (`shutdown_gracefully` waits for it).
    idle_waiter: Cell<Option<Waker>>,
    hooks: Hooks,
}

/// How many reads and writes a task may finish without waiting in one poll before it is made
/// to let the other tasks (and the driver's turn, and the timers) run: tokio's coop budget,
/// for the readiness backends, where a socket that always has bytes would otherwise keep
/// one task running for ever.
const BUDGET: u32 = 128;

const NOT_POLLING: (Token, *const (), *const RawWakerVTable) =
    (Token::UNSET, std::ptr::null(), std::ptr::null());

impl Inner {
    /// Spends one unit of the polled task's budget on a read or write that may finish without
    /// waiting: `Pending`, with the task woken to run again after the others, once it is
    /// spent. Always ready outside this runtime's own polls (nothing to yield to here).
    #[inline]
    pub(crate) fn poll_budget(&self, cx: &Context<'_>) -> Poll<()> {
        if self.polling.get().1.is_null() {
            return Poll::Ready(());
        }
        let left = self.budget.get();
        if left == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.budget.set(left - 1);
        Poll::Ready(())
    }

    /// The token of the task being polled, if `waker` is its own waker.
    #[inline]
    pub(crate) fn task_token(&self, waker: &Waker) -> Option<Token> {
        let (token, data, vtable) = self.polling.get();
        (waker.data() == data && std::ptr::eq(waker.vtable(), vtable)).then_some(token)
    }

    /// Takes the driver's woken tokens (see `wake_taken`), leaving them empty there.
    #[inline]
    fn take_woken(&self, driver: &mut Driver) -> Option<Vec<u64>> {
        let woken = driver.woken();
        if woken.is_empty() {
            return None;
        }
        let mut taken = self.woken.take();
        std::mem::swap(woken, &mut taken);
        Some(taken)
    }

    /// Wakes whom the tokens taken from the driver name (once the driver is no longer
    /// borrowed: another waker may run any code).
    fn wake_taken(&self, mut taken: Vec<u64>) {
        for &token in &taken {
            if token < Token::FOREIGN {
                self.schedule_task(token as usize);
            } else if token == Token::MAIN.0 {
                self.main_woken.set(true);
            } else if token != Token::UNSET.0 {
                let index = (token & !Token::FOREIGN) as usize;
                let waker = self.foreign.borrow_mut().take(index);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
        taken.clear();
        *self.woken.borrow_mut() = taken;
    }

    /// Queues task `index`, as its waker would, without going through the waker. A task that
    /// has finished is skipped by `run_ready`.
    #[inline]
    fn schedule_task(&self, index: usize) {
        if self.tasks.borrow().to_queue(index) {
            self.ready.borrow_mut().push_back(index);
        }
    }

    pub(crate) fn schedule(&self, index: usize) {
        if index == MAIN {
            self.main_woken.set(true);
        } else {
            self.ready.borrow_mut().push_back(index);
        }
    }

    /// Polls every task that was ready when the turn began (tasks woken during the turn
    /// wait for the next, so I/O they submitted gets batched).
    fn run_ready(&self) {
        let count = self.ready.borrow().len();
        // Counted here and added once per turn: a register, not a store per poll.
        let mut polls = 0;
        for _ in 0..count {
            let Some(index) = self.ready.borrow_mut().pop_front() else {
                break;
            };
            // Woken after it finished (or its slot is free): nothing to do.
            let Some((mut task, wakers, aborted)) = self.tasks.borrow_mut().take_to_poll(index)
            else {
                continue;
            };
            wakers.0.scheduled.store(false, Ordering::Release);
            let polled = if aborted {
                task.as_mut().cancel();
                Poll::Ready(())
            } else {
                let mut cx = Context::from_waker(&wakers.1);
                self.polling
                    .set((Token(index as u64), wakers.1.data(), wakers.1.vtable()));
                self.budget.set(BUDGET);
                let polled = task.as_mut().poll_run(&mut cx);
                self.polling.set(NOT_POLLING);
                polled
            };
            polls += 1;
            match polled {
                Poll::Pending => self.tasks.borrow_mut().put_back(index, task, wakers),
                Poll::Ready(()) => {
                    let (unwanted, ended) = self.tasks.borrow_mut().ended(index, task, wakers);
                    // A detached task's future went with its end; what is left of it, and
                    // the telling, with no borrow held.
                    drop(unwanted);
                    let idle = ended.idle;
                    ended.tell();
                    if idle {
                        if let Some(waiter) = self.idle_waiter.take() {
                            waiter.wake();
                        }
                    }
                }
            }
        }
        let counted = &self.counters.polls;
        counted.set(counted.get().wrapping_add(polls));
    }

    /// Takes what other threads sent: wakes and jobs. Inline, the common case (nothing
    /// sent) is one load, twice per turn.
    #[inline]
    fn take_remote(&self) {
        if self.shared.remote_pending.load(Ordering::Acquire) {
            self.take_remote_sent();
        }
    }

    #[inline(never)]
    fn take_remote_sent(&self) {
        if !self.shared.remote_pending.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut woken = self.remote_woken.borrow_mut();
        let mut jobs = self.remote_jobs.borrow_mut();
        {
            let mut remote = self.shared.lock();
            std::mem::swap(&mut remote.woken, &mut *woken);
            std::mem::swap(&mut remote.jobs, &mut *jobs);
        }
        for index in woken.drain(..) {
            self.schedule(index);
        }
        drop(woken);
        let jobs: Vec<RemoteJob> = jobs.drain(..).collect();
        for job in jobs {
            job();
        }
    }

    /// One wait in the driver, then the wakes its completions and the timers cause.
    fn park(&self, block: bool) -> io::Result<()> {
        let paused = self.clock.is_paused();
        let timeout = if !block {
            Some(Duration::ZERO)
        } else {
            match self.timers.borrow_mut().until_next(&self.clock) {
                // A stopped clock never reaches a deadline by waiting: look for I/O that has
                // finished, and jump to the deadline if none has (below).
                Some(_) if paused => Some(Duration::ZERO),
                until => until,
            }
        };
        metrics::Counters::bump(&self.counters.turns);
        let parks = timeout != Some(Duration::ZERO);
        if parks {
            metrics::Counters::bump(&self.counters.parks);
            Hooks::run(&self.hooks.park);
        }
        let mut completions = self.completions.borrow_mut();
        let woken = {
            let mut driver = self.driver.borrow_mut();
            let polled = driver.poll(&mut completions, timeout);
            if parks {
                Hooks::run(&self.hooks.unpark);
            }
            polled?;
            self.take_woken(&mut driver)
        };
        self.deliver(woken, &mut completions);
        drop(completions);
        let mut timers = self.timers.borrow_mut();
        if block && paused && !self.has_work() {
            if let Some(deadline) = timers.nearest() {
                self.clock.advance_to(deadline);
            }
        }
        timers.fire(&self.clock);
        Ok(())
    }

    /// One `park`; a transient failure of the driver (memory short for a while, a busy ring)
    /// is no error: it sleeps `pause`, doubled each time in a row (1 to 100 ms), as a tight
    /// retry would only burn the core until memory comes back.
    fn park_or_back_off(&self, block: bool, pause: &mut Duration) -> io::Result<()> {
        match self.park(block) {
            Ok(()) => {
                *pause = Duration::ZERO;
                Ok(())
            }
            Err(error) if is_transient(&error) => {
                *pause = (*pause * 2).clamp(Duration::from_millis(1), Duration::from_millis(100));
                std::thread::sleep(*pause);
                Ok(())
            }
            Err(error) => Err(driver_failed(error)),
        }
    }

    /// Starts the operations submitted so far at once (see `Driver::flush`) and records the
    /// completions already there, waking their tasks; never waits. Does nothing while the
    /// runtime is inside its driver (nothing polls tasks then, so this is not expected).
    pub(crate) fn flush(&self) {
        let (Ok(mut completions), Ok(mut driver)) = (
            self.completions.try_borrow_mut(),
            self.driver.try_borrow_mut(),
        ) else {
            return;
        };
        // A failure of the driver itself leaves the operations in flight, and the next
        // `park` reports it; completions appended before it are recorded either way.
        let _ = driver.flush(&mut completions);
        let woken = self.take_woken(&mut driver);
        drop(driver);
        self.deliver(woken, &mut completions);
    }

    /// Wakes the claimants of what the driver's poll or flush finished, and hands the
    /// completions it gave out (operations nobody claims any more) to their orphan actions.
    fn deliver(&self, woken: Option<Vec<u64>>, completions: &mut Vec<Completion>) {
        if let Some(woken) = woken {
            self.wake_taken(woken);
        }
        for completion in completions.drain(..) {
            op::orphaned(self, completion);
        }
    }

    /// Whether a task (or `block_on`'s future) is queued to run, besides the one running.
    #[cfg(compat)]
    pub(crate) fn has_runnable(&self) -> bool {
        self.main_woken.get() || !self.ready.borrow().is_empty()
    }

    /// A snapshot of the metrics (see [`RuntimeMetrics`]).
    fn metrics(&self) -> RuntimeMetrics {
        let alive_tasks = self.alive_tasks();
        let counters = &self.counters;
        let (ops_in_flight, (ops_by_kind, ops_in_pool)) = match self.driver.try_borrow_mut() {
            Ok(mut driver) => {
                // A read waiting for its socket without an operation (epoll, kqueue) is a
                // receive in flight all the same, to whoever reads the metrics.
                let watches = driver.readable_watches();
                let (mut kinds, in_pool) = driver.in_flight_by_kind();
                if watches > 0 {
                    match kinds
                        .iter_mut()
                        .find(|(kind, _)| *kind == proactor_driver::OpKind::Recv)
                    {
                        Some((_, count)) => *count += watches,
                        None => kinds.push((proactor_driver::OpKind::Recv, watches)),
                    }
                }
                (driver.in_flight() + watches, (kinds, in_pool))
            }
            // Asked from inside the driver (a drop it runs): nothing to count.
            Err(_) => (0, (Vec::new(), 0)),
        };
        let remote_queue = {
            let remote = self.shared.lock();
            remote.woken.len() + remote.jobs.len()
        };
        RuntimeMetrics {
            alive_tasks,
            counters: (
                counters.spawned.get(),
                counters.polls.get(),
                counters.turns.get(),
                counters.parks.get(),
            ),
            timers: self.timers.try_borrow().map_or(0, |timers| timers.armed()),
            remote_queue,
            ops_in_flight,
            ops_by_kind,
            ops_in_pool,
            pool: proactor_driver::Driver::pool_stats(),
        }
    }

    fn alive_tasks(&self) -> usize {
        self.tasks.borrow().alive()
    }

    fn has_work(&self) -> bool {
        !self.ready.borrow().is_empty()
            || self.main_woken.get()
            || self.shared.remote_pending.load(Ordering::Acquire)
    }
}

/// A single-threaded runtime: an executor, timers and one I/O driver.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let runtime = proactor::Runtime::new()?;
/// let value = runtime.block_on(async {
///     proactor::time::sleep(Duration::from_millis(1)).await;
///     proactor::spawn(async { 40 + 2 }).await.unwrap()
/// });
/// assert_eq!(value, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    inner: Rc<Inner>,
}

impl Runtime {
    /// A runtime on the best backend the machine has (see [`Driver::new`]).
    ///
    /// # Errors
    ///
    /// The driver's error when no backend can be set up.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// println!("{}", runtime.backend());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Runs `future` to completion on this thread, running spawned tasks meanwhile.
    ///
    /// # Panics
    ///
    /// If called from within a running runtime on the same thread (nesting would deadlock
    /// the outer one), or if the driver itself fails (an operation's own failure is never a
    /// panic: it is in that operation's result); [`try_block_on`](Runtime::try_block_on)
    /// returns that failure instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert_eq!(runtime.block_on(async { 7 }), 7);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.try_block_on(future)
            .unwrap_or_else(|error| panic!("proactor: {error}"))
    }

    /// Runs `future` to completion as [`block_on`](Runtime::block_on) does, but returns an
    /// error instead of panicking if the driver itself fails.
    ///
    /// A driver fails only when its own kernel object does (the io_uring ring or epoll
    /// instance closed or replaced under it, the kernel out of memory for long): transient
    /// conditions (interrupted or busy waits, a full completion queue, short memory) are
    /// retried, with a growing pause, and never reach the caller. After a failure the
    /// runtime's tasks and operations stay where they were; every later call fails the same
    /// way, so a server can log it and exit instead of losing its threads to a panic.
    ///
    /// # Errors
    ///
    /// The driver's error, its message prefixed with "the I/O driver failed".
    ///
    /// # Panics
    ///
    /// If called from within a running runtime on the same thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// match runtime.try_block_on(async { 7 }) {
    ///     Ok(value) => assert_eq!(value, 7),
    ///     Err(error) => eprintln!("cannot go on: {error}"),
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_block_on<F: Future>(&self, future: F) -> io::Result<F::Output> {
        let _entered = context::enter(Rc::clone(&self.inner));
        let main = Arc::new(TaskWaker {
            index: MAIN,
            scheduled: AtomicBool::new(false),
            shared: Arc::clone(&self.inner.shared),
        });
        let main_waker = Waker::from(Arc::clone(&main));
        let mut future = pin!(future);
        self.inner.main_woken.set(true);
        let mut pause = Duration::ZERO;
        loop {
            if self.inner.main_woken.replace(false) {
                main.scheduled.store(false, Ordering::Release);
                self.inner
                    .polling
                    .set((Token::MAIN, main_waker.data(), main_waker.vtable()));
                self.inner.budget.set(BUDGET);
                let polled = future.as_mut().poll(&mut Context::from_waker(&main_waker));
                self.inner.polling.set(NOT_POLLING);
                if let Poll::Ready(output) = polled {
                    // What the last poll queued (a close of a stream it dropped) starts now:
                    // the runtime may not run again for a long time.
                    self.inner.flush();
                    return Ok(output);
                }
            }
            self.inner.run_ready();
            self.inner.take_remote();
            let block = !self.inner.has_work();
            self.inner.park_or_back_off(block, &mut pause)?;
            self.inner.take_remote();
        }
    }

    /// Spawns a task on this runtime from its own thread, outside `block_on`, as tokio's
    /// `Runtime::spawn` (the future need not be `Send`); it runs at the runtime's next turn
    /// (`block_on`, [`run`](Runtime::run), [`run_once`](Runtime::run_once)).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let local = std::rc::Rc::new(5); // not Send: fine on the runtime's own thread
    /// let task = runtime.spawn(async move { *local * 2 });
    /// assert_eq!(runtime.block_on(task).unwrap(), 10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Rc::clone(&self.inner).spawn_task(future)
    }

    /// Ends the runtime gracefully: runs its tasks until all have finished or `timeout` has
    /// passed, then drops it with those still alive (their operations cancelled, as dropping
    /// a runtime does). Returns how many tasks were cut short. Pair it with a signal the
    /// tasks watch (a channel, [`signal::ctrl_c`](crate::signal::ctrl_c)) so that loops that
    /// never end on their own (an accept loop) stop taking new work and let the rest finish.
    /// (tokio's `shutdown_timeout` cancels at once and waits only for its blocking threads;
    /// dropping a proactor runtime is that.)
    ///
    /// # Errors
    ///
    /// The driver's own failure (see [`try_block_on`](Runtime::try_block_on)); the runtime
    /// is dropped either way.
    ///
    /// # Panics
    ///
    /// If called from within a running runtime on the same thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// let finishing = runtime.spawn(proactor::time::sleep(Duration::from_millis(5)));
    /// let _forever = runtime.spawn(std::future::pending::<()>());
    /// let cut_short = runtime.shutdown_gracefully(Duration::from_millis(50))?;
    /// assert_eq!(cut_short, 1, "the pending task; the sleep finished");
    /// # drop(finishing);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_gracefully(self, timeout: Duration) -> io::Result<usize> {
        let inner = Rc::clone(&self.inner);
        let waited = self.try_block_on(crate::time::timeout(
            timeout,
            std::future::poll_fn(move |cx| {
                if inner.shared.remote_pending.load(Ordering::Acquire) {
                    // Work other threads sent first (spawns among it): the loop takes it
                    // before this is polled again.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                if inner.alive_tasks() == 0 {
                    return Poll::Ready(());
                }
                inner.idle_waiter.set(Some(cx.waker().clone()));
                Poll::Pending
            }),
        ));
        let cut_short = self.inner.alive_tasks();
        drop(self);
        waited.map(|_| cut_short)
    }

    /// One turn of the loop, as libuv's `uv_run(UV_RUN_ONCE)`, for a program that drives the
    /// runtime from a loop of its own (a GUI's or a game's): runs the tasks ready now; if
    /// none was ready and tasks are alive, waits once for I/O, a timer or another thread;
    /// then runs what that woke. Returns whether tasks are still alive (spawned and not
    /// finished), as `uv_run` returns whether handles are.
    ///
    /// # Errors
    ///
    /// The driver's own failure (see [`try_block_on`](Runtime::try_block_on)).
    ///
    /// # Panics
    ///
    /// If called from within a running runtime on the same thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// let task = runtime.spawn(async {
    ///     proactor::time::sleep(Duration::from_millis(5)).await;
    ///     7
    /// });
    /// while runtime.run_once()? {
    ///     // the program's own work between turns
    /// }
    /// assert!(task.is_finished());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run_once(&self) -> io::Result<bool> {
        self.turn(true)
    }

    /// As [`run_once`](Runtime::run_once) without waiting (libuv's `UV_RUN_NOWAIT`): runs
    /// what is ready and what finished I/O and passed timers wake, and returns at once.
    ///
    /// # Errors
    ///
    /// The driver's own failure.
    ///
    /// # Panics
    ///
    /// If called from within a running runtime on the same thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let task = runtime.handle().spawn(async { 1 + 1 });
    /// while !task.is_finished() {
    ///     runtime.run_nowait()?; // never blocks
    /// }
    /// assert_eq!(runtime.block_on(task).unwrap(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run_nowait(&self) -> io::Result<bool> {
        self.turn(false)
    }

    /// Runs the spawned tasks until none is alive or [`Handle::stop`] is called, as libuv's
    /// `uv_run(UV_RUN_DEFAULT)` (which runs until no handle is active, or `uv_stop`).
    ///
    /// # Errors
    ///
    /// The driver's own failure.
    ///
    /// # Panics
    ///
    /// If called from within a running runtime on the same thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let handle = runtime.handle();
    /// runtime.handle().spawn(async move {
    ///     let _forever = proactor::spawn(std::future::pending::<()>());
    ///     handle.stop(); // else `run` would wait for the pending task
    /// });
    /// runtime.run()?;
    /// assert_eq!(runtime.metrics().num_alive_tasks(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run(&self) -> io::Result<()> {
        loop {
            let alive = self.turn(true)?;
            let stop = self
                .inner
                .shared
                .stop_requested
                .swap(false, Ordering::AcqRel);
            if !alive || stop {
                return Ok(());
            }
        }
    }

    fn turn(&self, may_wait: bool) -> io::Result<bool> {
        let _entered = context::enter(Rc::clone(&self.inner));
        let inner = &*self.inner;
        inner.take_remote();
        inner.run_ready();
        inner.take_remote();
        let wait = may_wait
            && !inner.has_work()
            && inner.alive_tasks() > 0
            && !inner.shared.stop_requested.load(Ordering::Acquire);
        // A transient failure makes this a turn that found nothing; the caller turns again.
        let mut pause = Duration::ZERO;
        inner.park_or_back_off(wait, &mut pause)?;
        inner.take_remote();
        inner.run_ready();
        // What the tasks queued (a close of a stream one dropped) starts now: the caller's
        // loop may not turn this one again for a while.
        inner.flush();
        Ok(inner.alive_tasks() > 0)
    }

    /// A snapshot of this runtime's metrics: tasks, polls, turns, timers, operations in
    /// flight by kind, and the thread pool (see [`RuntimeMetrics`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let metrics = runtime.metrics();
    /// assert_eq!(metrics.num_alive_tasks(), 0);
    /// assert_eq!(metrics.ops_in_flight(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        self.inner.metrics()
    }

    /// The metrics of the runtime this thread runs, from inside one of its tasks (see
    /// [`metrics`](Runtime::metrics)).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let alive = runtime.block_on(async {
    ///     let _task = proactor::spawn(std::future::pending::<()>());
    ///     proactor::Runtime::current_metrics().num_alive_tasks()
    /// });
    /// assert_eq!(alive, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn current_metrics() -> RuntimeMetrics {
        current().metrics()
    }

    /// A handle other threads use to send work to this runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let handle = runtime.handle();
    /// let (sender, receiver) = std::sync::mpsc::channel();
    /// std::thread::spawn(move || {
    ///     handle.spawn(async move { sender.send(5).unwrap() });
    /// });
    /// runtime.block_on(async {
    ///     while receiver.try_recv().is_err() {
    ///         proactor::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle(&self) -> Handle {
        Handle {
            shared: Arc::clone(&self.inner.shared),
        }
    }

    /// The backend the runtime's driver runs on.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// println!("{}", runtime.backend());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backend(&self) -> Backend {
        self.inner.driver.borrow().backend()
    }

    /// Why that backend was chosen (see [`Driver::backend_reason`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// println!("{}", runtime.backend_reason());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backend_reason(&self) -> String {
        self.inner.driver.borrow().backend_reason().to_string()
    }

    /// How many faults the driver has injected so far (see [`Builder::faults`]); all zero
    /// for a runtime built without them.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::{Builder, Faults};
    ///
    /// let runtime = Builder::new().faults(Faults { delay_rate: 1.0, ..Faults::default() }).build()?;
    /// runtime.block_on(proactor::time::sleep(std::time::Duration::from_millis(1)));
    /// println!("{:?}", runtime.fault_counts());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "fault-injection")]
    pub fn fault_counts(&self) -> crate::FaultCounts {
        self.inner.driver.borrow().fault_counts()
    }
}

/// Whether a failed wait in the driver is worth retrying: the backends already retry an
/// interrupted or busy wait themselves, so what reaches here transient is the kernel short of
/// memory (`ENOMEM`; Windows' `ERROR_NOT_ENOUGH_MEMORY`).
fn is_transient(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::OutOfMemory
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Drop tasks inside this runtime's context: their futures cancel their operations on
        // drop. Never panics, even when dropped while another runtime runs on this thread.
        let _entered = context::enter_for_drop(Rc::clone(&self.inner));
        // Their handles find them gone, and say "cancelled"; the outputs of tasks that ended
        // stay for their handles.
        let (running, joins) = self.inner.tasks.borrow_mut().take_running();
        drop(running);
        for join in joins {
            join.ended();
        }
        // Jobs other threads sent and this runtime will never run (remote tasks among them,
        // whose handles then say "cancelled").
        drop(self.inner.shared.close());
        // The tasks' streams queued their closes; start them now rather than whenever the
        // last stream that keeps this runtime's driver alive goes.
        self.inner.flush();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("backend", &self.backend())
            .finish()
    }
}

/// Builds a [`Runtime`] with a chosen backend and queue depth.
///
/// # Examples
///
/// ```
/// use proactor::{Backend, Builder};
///
/// # #[cfg(target_os = "linux")] {
/// let runtime = Builder::new().backend(Backend::Epoll).entries(1024).build()?;
/// assert_eq!(runtime.backend(), Backend::Epoll);
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    config: Config,
    threads: Option<usize>,
    pin: bool,
    register_sockets: bool,
    start_paused: bool,
    hooks: Hooks,
}

/// A function the runtime calls at a point of its loop or its thread's life (see
/// `Builder::on_thread_park` and the rest).
#[derive(Clone)]
pub(crate) struct Hook(Arc<dyn Fn() + Send + Sync>);

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hook")
    }
}

/// The hooks a builder was given.
#[derive(Clone, Debug, Default)]
pub(crate) struct Hooks {
    park: Option<Hook>,
    unpark: Option<Hook>,
    pub(crate) thread_start: Option<Hook>,
    pub(crate) thread_stop: Option<Hook>,
}

impl Hooks {
    pub(crate) fn run(hook: &Option<Hook>) {
        if let Some(Hook(hook)) = hook {
            hook();
        }
    }
}

impl Builder {
    /// The defaults: the best backend, 256 submission entries.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Builder::new().build()?;
    /// # let _ = runtime;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Forces a backend (see [`Config::backend`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = proactor::Builder::new().backend(proactor::Backend::Epoll);
    /// # let _ = builder;
    /// ```
    pub fn backend(mut self, backend: Backend) -> Builder {
        self.config = self.config.backend(backend);
        self
    }

    /// The driver's submission queue size (see [`Config::entries`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = proactor::Builder::new().entries(4096);
    /// # let _ = builder;
    /// ```
    pub fn entries(mut self, entries: u32) -> Builder {
        self.config = self.config.entries(entries);
        self
    }

    /// Runs the runtime over a driver that injects seeded faults (feature `fault-injection`,
    /// for tests): errors, short reads and writes, delayed and reordered completions, each one
    /// the OS could produce for that operation (see [`Faults`](crate::Faults)). Every
    /// runtime of a group gets the same seed.
    ///
    /// # Examples
    ///
    /// Bytes written through short writes and read through short reads arrive whole:
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    /// use proactor::{Builder, Faults};
    ///
    /// let faults = Faults { error_rate: 0.0, short_rate: 1.0, ..Faults::new(3) };
    /// let runtime = Builder::new().faults(faults).build()?;
    /// runtime.block_on(async {
    ///     let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let reader = proactor::spawn(async move { server.read_to_end(Vec::new()).await });
    ///     client.write_all(vec![7u8; 100_000]).await.0?;
    ///     drop(client);
    ///     let (result, received) = reader.await.unwrap();
    ///     assert_eq!(result?, 100_000);
    ///     assert!(received.iter().all(|&byte| byte == 7));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// assert!(runtime.fault_counts().shorts > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "fault-injection")]
    pub fn faults(mut self, faults: crate::Faults) -> Builder {
        self.config = self.config.faults(faults);
        self
    }

    /// Registers every connected TCP and Unix stream socket the runtime makes or adopts with
    /// its driver ([`Driver::register_fd`](proactor_driver::Driver::register_fd)): on
    /// io_uring their reads and writes then name the ring's table of registered files, which
    /// spares the kernel a descriptor lookup and a file reference count on each. For servers
    /// with long-lived, busy connections; each new connection costs one more system call (the
    /// registration). Where the kernel or the backend has no such table it changes nothing,
    /// and a full table (16,384) leaves the rest unregistered: it never fails a connection.
    /// Streams close through the driver, which takes them out of the table first. Default: off.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{AsyncRead, AsyncWrite};
    ///
    /// let runtime = proactor::Builder::new().register_sockets(true).build()?;
    /// runtime.block_on(async {
    ///     let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"registered".to_vec()).await.0?;
    ///     let (result, bytes) = server.read(Vec::with_capacity(16)).await;
    ///     assert_eq!(&bytes[..result?], b"registered");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn register_sockets(mut self, register: bool) -> Builder {
        self.register_sockets = register;
        self
    }

    /// Starts the runtime with its clock stopped (see [`time::pause`](crate::time::pause)), as
    /// tokio's `Builder::start_paused`: for tests of timer-heavy code. Default: off.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let runtime = proactor::Builder::new().start_paused(true).build()?;
    /// let start = std::time::Instant::now();
    /// runtime.block_on(proactor::time::sleep(Duration::from_secs(3600)));
    /// assert!(start.elapsed() < Duration::from_secs(60), "an hour passed at once");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.start_paused = paused;
        self
    }

    /// Calls `hook` on the runtime's thread each time the runtime is about to wait in its
    /// driver because nothing is ready (for I/O, a timer or another thread), as tokio's
    /// `on_thread_park`; libuv's prepare handles run at this point of its loop (they run
    /// every iteration; a turn here that finds work does not wait, and calls no hook). Keep
    /// it short: the runtime waits only once it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let parks = Arc::new(AtomicUsize::new(0));
    /// let counted = Arc::clone(&parks);
    /// let runtime = proactor::Builder::new()
    ///     .on_thread_park(move || {
    ///         counted.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build()?;
    /// runtime.block_on(proactor::time::sleep(std::time::Duration::from_millis(5)));
    /// assert!(parks.load(Ordering::Relaxed) >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_park(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.hooks.park = Some(Hook(Arc::new(hook)));
        self
    }

    /// Calls `hook` each time the runtime's wait in its driver ends, before it runs what the
    /// wait woke, as tokio's `on_thread_unpark` (libuv's check handles).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let unparks = Arc::new(AtomicUsize::new(0));
    /// let counted = Arc::clone(&unparks);
    /// let runtime = proactor::Builder::new()
    ///     .on_thread_unpark(move || {
    ///         counted.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build()?;
    /// runtime.block_on(proactor::time::sleep(std::time::Duration::from_millis(5)));
    /// assert!(unparks.load(Ordering::Relaxed) >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_unpark(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.hooks.unpark = Some(Hook(Arc::new(hook)));
        self
    }

    /// Calls `hook` on each thread of a [`build_group`](Builder::build_group) group when it
    /// starts, before its runtime runs anything, as tokio's `on_thread_start` (for thread
    /// names in logs, thread-local set-up).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let counted = Arc::clone(&started);
    /// let group = proactor::Builder::new()
    ///     .threads(2)
    ///     .on_thread_start(move || {
    ///         counted.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build_group()?;
    /// assert_eq!(started.load(Ordering::Relaxed), 2);
    /// # drop(group);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_start(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.hooks.thread_start = Some(Hook(Arc::new(hook)));
        self
    }

    /// Calls `hook` on each thread of a group as it ends, after its runtime is gone, as
    /// tokio's `on_thread_stop`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let stopped = Arc::new(AtomicUsize::new(0));
    /// let counted = Arc::clone(&stopped);
    /// let group = proactor::Builder::new()
    ///     .threads(2)
    ///     .on_thread_stop(move || {
    ///         counted.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build_group()?;
    /// drop(group);
    /// assert_eq!(stopped.load(Ordering::Relaxed), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_stop(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.hooks.thread_stop = Some(Hook(Arc::new(hook)));
        self
    }

    /// How many runtimes [`build_group`](Builder::build_group) starts (default: one per
    /// core the process may use).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = proactor::Builder::new().threads(2).build_group()?;
    /// assert_eq!(group.len(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn threads(mut self, threads: usize) -> Builder {
        self.threads = Some(threads.max(1));
        self
    }

    /// Pins the group's thread `i` to the `i`-th of the cores the calling thread may run on
    /// (modulo their count), on Linux and Windows: under `taskset -c 2,3`, thread 0 runs on
    /// core 2 and thread 1 on core 3.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = proactor::Builder::new().threads(1).pin_to_cores(true).build_group()?;
    /// # let _ = group;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pin_to_cores(mut self, pin: bool) -> Builder {
        self.pin = pin;
        self
    }

    /// Starts a [`RuntimeGroup`](group::RuntimeGroup): one runtime per thread.
    ///
    /// # Errors
    ///
    /// The first runtime's or thread's error; runtimes already started are stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = proactor::Builder::new().threads(2).build_group()?;
    /// assert_eq!(group.run(|index| async move { index }), [0, 1]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build_group(self) -> io::Result<group::RuntimeGroup> {
        let threads = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        group::RuntimeGroup::start(&self, threads, self.pin)
    }

    /// Builds the runtime on this thread.
    ///
    /// # Errors
    ///
    /// The driver's error when the backend cannot be set up.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Builder::new().build()?;
    /// # let _ = runtime;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(self) -> io::Result<Runtime> {
        let driver = Driver::with_config(self.config)?;
        let shared = Arc::new(Shared {
            notifier: driver.notifier(),
            remote: Mutex::new(Remote::default()),
            remote_pending: AtomicBool::new(false),
            stop_requested: AtomicBool::new(false),
        });
        Ok(Runtime {
            inner: Rc::new(Inner {
                driver: RefCell::new(driver),
                orphans: RefCell::new(HashMap::new()),
                foreign: RefCell::new(ForeignWakers::default()),
                polling: Cell::new(NOT_POLLING),
                budget: Cell::new(BUDGET),
                woken: RefCell::new(Vec::new()),
                timers: RefCell::new(Timers::default()),
                clock: {
                    let clock = Clock::default();
                    if self.start_paused {
                        clock.pause();
                    }
                    clock
                },
                tasks: RefCell::new(Tasks::default()),
                ready: RefCell::new(VecDeque::new()),
                main_woken: Cell::new(false),
                shared,
                completions: RefCell::new(Vec::new()),
                remote_woken: RefCell::new(Vec::new()),
                remote_jobs: RefCell::new(Vec::new()),
                register_sockets: self.register_sockets,
                counters: metrics::Counters::default(),
                idle_waiter: Cell::new(None),
                hooks: self.hooks,
            }),
        })
    }
}

/// A driver failure, as `try_block_on` and the run modes report it.
fn driver_failed(error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("the I/O driver failed: {error}"))
}

/// Sends work to a [`Runtime`] from any thread.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let handle = runtime.handle();
/// let other = std::thread::spawn(move || handle.spawn(async { println!("on the runtime's thread") }));
/// other.join().unwrap();
/// runtime.block_on(proactor::yield_now());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    /// Spawns a `Send` future on the runtime's thread, from any thread, as tokio's
    /// `Handle::spawn`; it starts at the runtime's next turn. The [`RemoteJoinHandle`] awaits
    /// its output from anywhere (or aborts it); dropping it lets the task run on.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let handle = runtime.handle();
    /// let task = std::thread::spawn(move || handle.spawn(async { 6 * 7 })).join().unwrap();
    /// assert_eq!(runtime.block_on(task).unwrap(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F>(&self, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (finisher, handle) = remote::pair(None);
        // Through `spawn`, so the task is the runtime's like any other.
        self.shared
            .push_job(Box::new(move || drop(spawn(remote::run(future, finisher)))));
        handle
    }

    /// Makes [`Runtime::run`] return at its next turn, from any thread, as libuv's `uv_stop`
    /// (tasks stay; a later `run` goes on with them). `block_on` is not affected: it returns
    /// when its future does.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let handle = runtime.handle();
    /// runtime.handle().spawn(std::future::pending::<()>());
    /// std::thread::spawn(move || handle.stop());
    /// runtime.run()?; // returns once stopped, with the pending task alive
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop(&self) {
        self.shared.stop_requested.store(true, Ordering::Release);
        self.shared.notifier.notify();
    }

    /// Runs a `Send` closure on the runtime's thread, at its next turn.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.handle().dispatch(|| println!("hello from the runtime's thread"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dispatch(&self, job: impl FnOnce() + Send + 'static) {
        self.shared.push_job(Box::new(job));
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Spawns a task on the current runtime; it starts at the runtime's next turn.
///
/// # Panics
///
/// Outside a runtime (there is nowhere to run it).
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let handle = proactor::spawn(async { "done" });
///     assert_eq!(handle.await.unwrap(), "done");
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    current().spawn_task(future)
}

/// The backend of the runtime running this code.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// assert_eq!(runtime.block_on(async { proactor::current_backend() }), runtime.backend());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn current_backend() -> Backend {
    with(|inner| inner.driver.borrow().backend())
}

/// Why the running runtime's backend was chosen (see [`Driver::backend_reason`]).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// println!("{}", runtime.block_on(async { proactor::current_backend_reason() }));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn current_backend_reason() -> String {
    with(|inner| inner.driver.borrow().backend_reason().to_string())
}

/// Gives other tasks a turn before continuing.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::yield_now());
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn yield_now() {
    struct YieldNow {
        yielded: bool,
    }
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.yielded {
                return Poll::Ready(());
            }
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    YieldNow { yielded: false }.await
}
