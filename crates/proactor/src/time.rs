//! Time: sleeping, deadlines on futures, and intervals.
//!
//! Every runtime keeps its timers in one structure; the nearest deadline bounds the driver's
//! wait, so a timer costs no system call of its own. Arming a timer is a push onto a binary
//! heap plus a slot in a slab (both reused, so steady state allocates nothing); cancelling one
//! (dropping its future) frees its slot at once and leaves its heap entry to be skipped later,
//! so arming and cancelling many timers stays cheap. The entry of a timer cancelled while its
//! deadline is the latest of all (a long timeout armed per request) goes at once.
//!
//! Timers measure against the runtime's clock, [`now`]: the system's monotonic clock, which a
//! test may stop ([`pause`], [`Builder::start_paused`](crate::Builder::start_paused)) and move
//! by hand ([`advance`]); a stopped clock jumps to the nearest deadline whenever the runtime
//! has nothing else to do, so timer-heavy tests run without sleeping real time.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::runtime::{current, try_with, Inner};

mod clock;
mod heap;
#[cfg(feature = "hyper")]
mod send;
#[cfg(feature = "hyper")]
pub(crate) use send::SendSleep;

pub(crate) use clock::Clock;

/// Identifies an armed timer: its slab index and that slot's generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimerKey {
    index: u32,
    generation: u32,
}

#[derive(Default)]
struct Slot {
    generation: u32,
    waker: Option<Waker>,
}

/// The runtime's timers.
#[derive(Default)]
pub(crate) struct Timers {
    /// Deadlines by time; an entry whose slot moved on to another generation is stale.
    heap: heap::Deadlines,
    slots: Vec<Slot>,
    free: Vec<u32>,
    armed: usize,
}

impl Timers {
    fn arm(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.generation = slot.generation.wrapping_add(1);
        slot.waker = Some(waker);
        self.armed += 1;
        self.heap
            .push(heap::Entry::new(deadline, index, slot.generation));
        TimerKey {
            index,
            generation: slot.generation,
        }
    }

    fn slot(&mut self, key: TimerKey) -> Option<&mut Slot> {
        self.slots
            .get_mut(key.index as usize)
            .filter(|slot| slot.generation == key.generation && slot.waker.is_some())
    }

    fn disarm(&mut self, key: TimerKey) {
        let Some(slot) = self.slot(key) else { return };
        slot.waker = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(key.index);
        self.armed -= 1;
        if self.heap.take_back(key.index, key.generation) {
            return;
        }
        // Stale heap entries are skipped when they surface; rebuild once they dominate, so a
        // flood of cancelled far-off timers does not grow the heap without bound.
        if self.heap.len() > 1024 && self.heap.len() > 4 * self.armed {
            let slots = &self.slots;
            self.heap
                .retain(|entry| slots[entry.index as usize].generation == entry.generation);
        }
    }

    /// Drops stale entries from the top of the heap; returns the nearest live deadline.
    /// Timers armed now.
    pub(crate) fn armed(&self) -> usize {
        self.armed
    }

    pub(crate) fn nearest(&mut self) -> Option<Instant> {
        while let Some(entry) = self.heap.peek() {
            let slot = &self.slots[entry.index as usize];
            if slot.generation == entry.generation && slot.waker.is_some() {
                return Some(entry.deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// How long from `now` until the nearest deadline (`None`: no timers).
    pub(crate) fn until_next(&mut self, clock: &Clock) -> Option<Duration> {
        // The clock is read only when a timer is armed: most turns of a busy server have none.
        let deadline = self.nearest()?;
        Some(deadline.saturating_duration_since(clock.now()))
    }

    /// Wakes every timer whose deadline has passed on `clock`.
    pub(crate) fn fire(&mut self, clock: &Clock) {
        let Some(first) = self.nearest() else { return };
        let now = clock.now();
        if first > now {
            return;
        }
        while let Some(heap::Entry {
            deadline,
            index,
            generation,
            ..
        }) = self.heap.peek()
        {
            if deadline > now {
                break;
            }
            self.heap.pop();
            let key = TimerKey { index, generation };
            let waker = self.slot(key).and_then(|slot| slot.waker.take());
            if let Some(waker) = waker {
                let slot = &mut self.slots[index as usize];
                slot.generation = slot.generation.wrapping_add(1);
                self.free.push(index);
                self.armed -= 1;
                waker.wake();
            }
        }
    }
}

/// A deadline far enough away to mean "never", for durations past what `Instant` holds.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 86_400)
}

/// `start + duration`, or a century from now where that is past what `Instant` holds (a
/// caller's `Duration::MAX` means "never", never a panic).
pub(crate) fn saturating_add(start: Instant, duration: Duration) -> Instant {
    start.checked_add(duration).unwrap_or_else(far_future)
}

/// The runtime's clock: what [`sleep`], [`timeout`] and [`interval`] measure against, as
/// tokio's `time::Instant::now()`. The same as `std::time::Instant::now()` unless a test
/// [paused](pause) the clock (outside a runtime, always the same).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// proactor::Runtime::new()?.block_on(async {
///     let start = proactor::time::now();
///     proactor::time::sleep(Duration::from_millis(5)).await;
///     assert!(proactor::time::now() - start >= Duration::from_millis(5));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn now() -> Instant {
    try_with(|inner| inner.clock.now()).unwrap_or_else(Instant::now)
}

/// Stops this runtime's clock, for tests of timer-heavy code that should not wait real time,
/// as tokio's `time::pause`. While it is stopped, [`now`] stands still, [`advance`] moves it
/// forward by hand, and whenever the runtime has nothing to run but timers to wait for, it
/// jumps to the nearest deadline at once (after a look for I/O that has already finished):
/// `sleep(Duration::from_secs(3600))` ends without waiting. Operations in flight do not hold
/// it back (a read with a [`timeout`] times out at once if nothing else runs), and the
/// kernel's own deadlines (`set_read_timeout`) keep real time.
///
/// [`Builder::start_paused`](crate::Builder::start_paused) starts a runtime paused. Each
/// runtime of a group has its own clock.
///
/// # Panics
///
/// Outside a runtime, or when the clock is already stopped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// proactor::Runtime::new()?.block_on(async {
///     proactor::time::pause();
///     let start = std::time::Instant::now();
///     let clock = proactor::time::now();
///     proactor::time::sleep(Duration::from_secs(24 * 3600)).await;
///     assert!(proactor::time::now() - clock >= Duration::from_secs(24 * 3600));
///     assert!(start.elapsed() < Duration::from_secs(60), "a day passed at once");
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn pause() {
    let paused = try_with(|inner| inner.clock.pause())
        .expect("time::pause must be called from inside a proactor runtime");
    assert!(paused, "time::pause: the clock is already stopped");
}

/// Lets this runtime's clock run again from where it stands (it never goes back), as
/// tokio's `time::resume`.
///
/// # Panics
///
/// Outside a runtime, or when the clock is not stopped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// proactor::Runtime::new()?.block_on(async {
///     proactor::time::pause();
///     proactor::time::advance(Duration::from_secs(10)).await;
///     let moved = proactor::time::now();
///     proactor::time::resume();
///     assert!(proactor::time::now() >= moved);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn resume() {
    let resumed = try_with(|inner| inner.clock.resume())
        .expect("time::resume must be called from inside a proactor runtime");
    assert!(resumed, "time::resume: the clock is not stopped");
}

/// Moves this runtime's stopped clock forward by `duration`, wakes the timers whose deadlines
/// it passed, and lets the woken tasks run before returning, as tokio's `time::advance`.
///
/// # Panics
///
/// Outside a runtime, or when the clock is not stopped ([`pause`]).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// proactor::Runtime::new()?.block_on(async {
///     proactor::time::pause();
///     let fired = std::rc::Rc::new(std::cell::Cell::new(false));
///     let flag = fired.clone();
///     let _timer = proactor::spawn(async move {
///         proactor::time::sleep(Duration::from_secs(5)).await;
///         flag.set(true);
///     });
///     proactor::yield_now().await; // the task arms its timer
///     proactor::time::advance(Duration::from_secs(4)).await;
///     assert!(!fired.get());
///     proactor::time::advance(Duration::from_secs(1)).await;
///     assert!(fired.get());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn advance(duration: Duration) {
    let moved = try_with(|inner| {
        let moved = inner.clock.advance(duration);
        if moved {
            inner.timers.borrow_mut().fire(&inner.clock);
        }
        moved
    })
    .expect("time::advance must be called from inside a proactor runtime");
    assert!(
        moved,
        "time::advance: the clock is not stopped (time::pause)"
    );
    crate::yield_now().await;
}

/// Waits until `duration` has passed.
///
/// # Panics
///
/// When polled outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let runtime = proactor::Runtime::new()?;
/// let start = Instant::now();
/// runtime.block_on(proactor::time::sleep(Duration::from_millis(10)));
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(saturating_add(now(), duration))
}

/// Waits until `deadline`.
///
/// # Panics
///
/// When polled outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let runtime = proactor::Runtime::new()?;
/// let deadline = Instant::now() + Duration::from_millis(5);
/// runtime.block_on(proactor::time::sleep_until(deadline));
/// assert!(Instant::now() >= deadline);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
        runtime: None,
    }
}

/// The future [`sleep`] and [`sleep_until`] return. Dropping it cancels the timer.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let sleep = proactor::time::sleep(std::time::Duration::from_millis(1));
/// let deadline = sleep.deadline();
/// runtime.block_on(sleep);
/// assert!(std::time::Instant::now() >= deadline);
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a sleep does nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    key: Option<TimerKey>,
    /// The runtime whose timers hold this sleep once it is armed.
    runtime: Option<Rc<Inner>>,
}

impl Sleep {
    /// When this sleep ends.
    ///
    /// # Examples
    ///
    /// ```
    /// let sleep = proactor::time::sleep(std::time::Duration::from_secs(1));
    /// assert!(sleep.deadline() > std::time::Instant::now());
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline (the timer is re-armed at the next poll).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut sleep = proactor::time::sleep(std::time::Duration::from_secs(3600));
    /// sleep.reset(std::time::Instant::now());
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(sleep);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = deadline;
    }

    fn disarm(&mut self) {
        if let (Some(key), Some(runtime)) = (self.key.take(), &self.runtime) {
            runtime.timers.borrow_mut().disarm(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let runtime = Rc::clone(self.runtime.get_or_insert_with(current));
        if runtime.clock.now() >= self.deadline {
            self.disarm();
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let mut timers = runtime.timers.borrow_mut();
        match self.key.and_then(|key| timers.slot(key)) {
            Some(slot) => {
                let waker = slot.waker.get_or_insert_with(|| cx.waker().clone());
                if !waker.will_wake(cx.waker()) {
                    *waker = cx.waker().clone();
                }
            }
            // Not armed yet, or fired (which frees the slot) before the deadline check above
            // saw it pass: arm it.
            None => {
                let key = timers.arm(deadline, cx.waker().clone());
                drop(timers);
                self.key = Some(key);
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// The error [`timeout`] gives when the deadline passes first.
///
/// # Examples
///
/// ```
/// let error = proactor::time::Elapsed::default();
/// let io: std::io::Error = error.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(elapsed: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, elapsed)
    }
}

/// Runs `future` for at most `duration`; on expiry it is dropped (cancelling its I/O).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let runtime = proactor::Runtime::new()?;
/// let result = runtime.block_on(proactor::time::timeout(
///     Duration::from_millis(5),
///     std::future::pending::<()>(),
/// ));
/// assert!(result.is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: future.into_future(),
        sleep: sleep(duration),
    }
}

/// Runs `future` until `deadline` at most; on expiry it is dropped (cancelling its I/O), as
/// [`timeout`] does for a duration.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let runtime = proactor::Runtime::new()?;
/// let deadline = Instant::now() + Duration::from_millis(5);
/// let result = runtime.block_on(proactor::time::timeout_at(
///     deadline,
///     std::future::pending::<()>(),
/// ));
/// assert!(result.is_err());
/// assert!(Instant::now() >= deadline);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: future.into_future(),
        sleep: sleep_until(deadline),
    }
}

/// The future [`timeout`] returns.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let fast = proactor::time::timeout(std::time::Duration::from_secs(5), async { 1 });
/// assert_eq!(runtime.block_on(fast), Ok(1));
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a timeout does nothing unless awaited"]
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of the pinned
        // Timeout, and Timeout has no Drop or Unpin impl that could move it.
        let (future, sleep) = unsafe {
            let this = self.get_unchecked_mut();
            (
                Pin::new_unchecked(&mut this.future),
                Pin::new(&mut this.sleep),
            )
        };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match sleep.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Ticks every `period`, the first tick at once.
///
/// Ticks missed while the task was busy are taken at once, one after another, until the
/// schedule is caught up ([`MissedTickBehavior::Burst`], tokio's default);
/// [`set_missed_tick_behavior`](Interval::set_missed_tick_behavior) chooses otherwise.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let start = Instant::now();
///     let mut interval = proactor::time::interval(Duration::from_millis(5));
///     for _ in 0..3 {
///         interval.tick().await;
///     }
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let start = Instant::now() + Duration::from_millis(5);
///     let mut interval = proactor::time::interval_at(start, Duration::from_millis(5));
///     assert_eq!(interval.tick().await, start);
///     assert!(Instant::now() >= start);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    Interval {
        period: period.max(Duration::from_nanos(1)),
        sleep: sleep_until(start),
        missed: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does with ticks it missed (its task was busy past them), as tokio's.
///
/// # Examples
///
/// ```
/// use proactor::time::MissedTickBehavior;
///
/// assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Takes the missed ticks at once, one after another, until caught up with the schedule
    /// (ticks at `start + n × period`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut interval = proactor::time::interval(std::time::Duration::from_secs(1));
    /// interval.set_missed_tick_behavior(proactor::time::MissedTickBehavior::Burst);
    /// ```
    #[default]
    Burst,
    /// Takes one tick at once, and the next a full period after it: the schedule moves.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut interval = proactor::time::interval(std::time::Duration::from_secs(1));
    /// interval.set_missed_tick_behavior(proactor::time::MissedTickBehavior::Delay);
    /// ```
    Delay,
    /// Takes one tick at once, and the next at the schedule's next tick after now: the ticks
    /// missed are dropped, the schedule kept.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut interval = proactor::time::interval(std::time::Duration::from_secs(1));
    /// interval.set_missed_tick_behavior(proactor::time::MissedTickBehavior::Skip);
    /// ```
    Skip,
}

impl MissedTickBehavior {
    /// When the tick after one due at `due` is, at `now`.
    fn next(self, due: Instant, now: Instant, period: Duration) -> Instant {
        let next = saturating_add(due, period);
        if next > now {
            return next;
        }
        match self {
            MissedTickBehavior::Burst => next,
            MissedTickBehavior::Delay => saturating_add(now, period),
            MissedTickBehavior::Skip => {
                let late = now.duration_since(due).as_nanos();
                let into = late % period.as_nanos();
                // `into < period`, so this fits a Duration.
                saturating_add(now, period - Duration::from_nanos(into as u64))
            }
        }
    }
}

/// The stream of ticks [`interval`] returns.
///
/// # Examples
///
/// ```
/// let interval = proactor::time::interval(std::time::Duration::from_secs(1));
/// assert_eq!(interval.period(), std::time::Duration::from_secs(1));
/// ```
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    sleep: Sleep,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns when it was due.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let mut interval = proactor::time::interval(std::time::Duration::from_millis(1));
    ///     interval.tick().await;
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// [`tick`](Interval::tick) as a poll: `Ready` with when the tick was due once it is,
    /// else `Pending`, waking `cx` then.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let mut interval = proactor::time::interval(std::time::Duration::from_millis(1));
    ///     poll_fn(|cx| interval.poll_tick(cx)).await;
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.sleep.deadline();
        let next = self.missed.next(due, now(), self.period);
        self.sleep.reset(next);
        Poll::Ready(due)
    }

    /// Starts the schedule again from now: the next tick a full period from now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let mut interval = proactor::time::interval(Duration::from_millis(5));
    ///     interval.reset();
    ///     let before = Instant::now();
    ///     interval.tick().await;
    ///     assert!(before.elapsed() >= Duration::from_millis(4));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&mut self) {
        self.sleep.reset(saturating_add(now(), self.period));
    }

    /// What to do with missed ticks from now on (see [`MissedTickBehavior`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::time::MissedTickBehavior;
    ///
    /// let mut interval = proactor::time::interval(std::time::Duration::from_secs(1));
    /// interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    /// assert_eq!(interval.missed_tick_behavior(), MissedTickBehavior::Skip);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// What the interval does with missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// let interval = proactor::time::interval(std::time::Duration::from_secs(1));
    /// assert_eq!(
    ///     interval.missed_tick_behavior(),
    ///     proactor::time::MissedTickBehavior::Burst
    /// );
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// The time between ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// let interval = proactor::time::interval(std::time::Duration::from_millis(3));
    /// assert_eq!(interval.period().as_millis(), 3);
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}
