//! Spawned tasks: their storage, their wakers, and the handles that await or abort them.
//!
//! A task is one allocation: its future, which becomes its output when it ends (a
//! [`Stage`]). The runtime owns it, in a slot of its task table ([`Tasks`]), from the spawn
//! until the task's [`JoinHandle`] takes the output or is dropped; the handles name the slot
//! by index and generation instead of sharing an allocation with the task. The waker belongs
//! to the slot, made once and kept for every task the slot holds, so a spawn into a slot
//! used before makes no waker. (tokio's task is one allocation too, its waker inside it; a
//! waker inside ours would need the future to be `Send`, as std makes wakers only of `Arc`s
//! of `Send + Sync` values without `unsafe`.)

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::context;
use super::{Inner, Shared};
use crate::task::Finished;

/// What wakes one task (or, with index [`MAIN`], the future given to `block_on`).
pub(crate) struct TaskWaker {
    pub(crate) index: usize,
    /// Set while the task sits in a run queue, so repeated wakes queue it once.
    pub(crate) scheduled: AtomicBool,
    pub(crate) shared: Arc<Shared>,
}

/// The index that stands for `block_on`'s own future.
pub(crate) const MAIN: usize = usize::MAX;

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        // On the runtime's own thread, inside it: a plain push. Anywhere else: the shared
        // queue, and a wake of the driver in case it sleeps.
        let local = context::try_with(|inner| {
            if Arc::ptr_eq(&inner.shared, &self.shared) {
                inner.schedule(self.index);
                true
            } else {
                false
            }
        });
        if local != Some(true) {
            self.shared.wake_remote(self.index);
        }
    }
}

pin_project_lite::pin_project! {
    /// A task: its future while it runs, its output once it has ended (until its handle
    /// takes it).
    #[project = StageProjection]
    enum Stage<F: Future> {
        Running { #[pin] future: F },
        Ended { output: Option<Result<F::Output, JoinError>> },
    }
}

/// What the runtime does with a task, whatever its future.
pub(crate) trait Run {
    /// Polls the future, catching its panic; `Ready` once the task has ended (its output, or
    /// the panic as a [`JoinError`], kept for the handle).
    fn poll_run(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;

    /// Ends the task without polling it again (an abort): the future is dropped and the
    /// output is "cancelled".
    fn cancel(self: Pin<&mut Self>);

    /// Moves the output of an ended task into `into`, an `Option<Result<T, JoinError>>`
    /// for the task's output type `T` (an `Any`, as the table holds tasks of every type).
    fn take_output(self: Pin<&mut Self>, into: &mut dyn Any);
}

impl<F: Future> Run for Stage<F>
where
    F::Output: 'static,
{
    fn poll_run(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let output = match self.as_mut().project() {
            StageProjection::Running { future } => {
                match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(output)) => Ok(output),
                    Err(panic) => Err(JoinError::panicked(panic)),
                }
            }
            StageProjection::Ended { .. } => return Poll::Ready(()),
        };
        // Drops the future in place: it was pinned, and is never moved.
        self.set(Stage::Ended {
            output: Some(output),
        });
        Poll::Ready(())
    }

    fn cancel(mut self: Pin<&mut Self>) {
        self.set(Stage::Ended {
            output: Some(Err(JoinError::cancelled())),
        });
    }

    fn take_output(self: Pin<&mut Self>, into: &mut dyn Any) {
        if let (StageProjection::Ended { output }, Some(into)) = (
            self.project(),
            into.downcast_mut::<Option<Result<F::Output, JoinError>>>(),
        ) {
            *into = output.take();
        }
    }
}

/// A task as the table keeps it.
pub(crate) type Boxed = Pin<Box<dyn Run>>;

/// Where a slot's task is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// No task (its last one ended and was let go, or none was ever spawned here).
    Free,
    /// Spawned and not ended: its future is in the slot, or out of it while it is polled.
    Running,
    /// Ended: its output waits in the slot for its [`JoinHandle`].
    Ended,
}

/// Who hears of a task's end.
#[derive(Default)]
pub(crate) enum Join {
    #[default]
    Nobody,
    /// The task awaiting its [`JoinHandle`].
    Waiter(Waker),
    /// The [`JoinSet`](crate::task::JoinSet) it belongs to, and its key there.
    Set(Rc<Finished>, usize),
}

impl Join {
    /// Tells whom it names that the task has ended (with no borrow held: a waker may run any
    /// code).
    pub(crate) fn ended(self) {
        match self {
            Join::Nobody => {}
            Join::Waiter(waker) => waker.wake(),
            Join::Set(finished, key) => finished.push(key),
        }
    }
}

/// One slot of the task table.
struct TaskSlot {
    task: Option<Boxed>,
    /// The slot's waker, also as a std `Waker`, both made with the slot, so neither a spawn
    /// nor a poll touches a reference count. Taken out while the task is polled.
    waker: Option<(Arc<TaskWaker>, Waker)>,
    join: Join,
    /// Bumped by each spawn into the slot, so a handle of an earlier task never finds this
    /// one (0 is never used: a handle that took its output holds it).
    generation: u32,
    phase: Phase,
    aborted: bool,
    /// The task's [`JoinHandle`] is alive: its output is kept when it ends.
    joined: bool,
}

/// The generation no slot has: the handle that holds it has taken its task's output.
const TAKEN: u32 = 0;

/// The runtime's tasks.
#[derive(Default)]
pub(crate) struct Tasks {
    slots: Vec<TaskSlot>,
    free: Vec<u32>,
    /// Tasks spawned and not ended.
    alive: usize,
}

/// A task's slot: its index and the generation of its spawn there.
#[derive(Clone, Copy)]
struct Key {
    index: u32,
    generation: u32,
}

impl Tasks {
    /// How many tasks are spawned and not ended.
    pub(crate) fn alive(&self) -> usize {
        self.alive
    }

    fn slot(&mut self, key: Key) -> Option<&mut TaskSlot> {
        self.slots
            .get_mut(key.index as usize)
            .filter(|slot| slot.generation == key.generation && slot.phase != Phase::Free)
    }

    /// Lets the slot go (its task has ended and nobody wants its output).
    fn free(&mut self, index: usize) -> Option<Boxed> {
        let slot = &mut self.slots[index];
        slot.phase = Phase::Free;
        self.free.push(index as u32);
        slot.task.take()
    }

    /// The running task at `index`, taken out to be polled, with its wakers and whether it
    /// was aborted; `None` if the slot holds no running task (a wake after its end). Inline,
    /// as `put_back`: they are on every poll, and a call of each cost ~20 instructions of
    /// register saving (callgrind).
    #[inline]
    pub(crate) fn take_to_poll(
        &mut self,
        index: usize,
    ) -> Option<(Boxed, (Arc<TaskWaker>, Waker), bool)> {
        let slot = self.slots.get_mut(index)?;
        if slot.phase != Phase::Running {
            return None;
        }
        match (slot.task.take(), slot.waker.take()) {
            (Some(task), Some(wakers)) => Some((task, wakers, slot.aborted)),
            (task, wakers) => {
                // Being polled already (a nested turn cannot happen; kept as found).
                slot.task = task;
                slot.waker = wakers;
                None
            }
        }
    }

    /// Puts back a task that is still pending after its poll.
    #[inline]
    pub(crate) fn put_back(&mut self, index: usize, task: Boxed, wakers: (Arc<TaskWaker>, Waker)) {
        let slot = &mut self.slots[index];
        slot.task = Some(task);
        slot.waker = Some(wakers);
    }

    /// Records the end of the task at `index`: its output stays for its handle, or it is let
    /// go. Returns what to drop and whom to tell, once the table is no longer borrowed.
    pub(crate) fn ended(
        &mut self,
        index: usize,
        task: Boxed,
        wakers: (Arc<TaskWaker>, Waker),
    ) -> (Option<Boxed>, Ended) {
        self.alive -= 1;
        let slot = &mut self.slots[index];
        slot.waker = Some(wakers);
        slot.phase = Phase::Ended;
        let join = std::mem::take(&mut slot.join);
        let unwanted = if slot.joined {
            slot.task = Some(task);
            None
        } else {
            self.free(index);
            Some(task)
        };
        let ended = Ended {
            join,
            idle: self.alive == 0,
        };
        (unwanted, ended)
    }

    /// Whether a wake of the task at `index` is to queue it: not if it is queued already.
    /// A task being polled (its waker out of the slot) is queued once more: an operation it
    /// waits for completed under it (in a flush), and polled again it takes the completion.
    #[inline]
    pub(crate) fn to_queue(&self, index: usize) -> bool {
        match self.slots.get(index).map(|slot| &slot.waker) {
            Some(Some((waker, _))) => !waker.scheduled.swap(true, Ordering::AcqRel),
            _ => true,
        }
    }

    /// Takes out every running task, ending each (as cancelled) for its handle, to be
    /// dropped with the runtime; the outputs of ended tasks stay for their handles.
    pub(crate) fn take_running(&mut self) -> (Vec<Boxed>, Vec<Join>) {
        let mut running = Vec::new();
        let mut joins = Vec::new();
        for index in 0..self.slots.len() {
            let slot = &mut self.slots[index];
            if slot.phase != Phase::Running {
                continue;
            }
            joins.push(std::mem::take(&mut slot.join));
            if let Some(task) = slot.task.take() {
                running.push(task);
            }
            self.alive -= 1;
            // Free: its handle finds it gone, and says "cancelled".
            self.free(index);
        }
        (running, joins)
    }
}

/// What a task's end tells (see [`Tasks::ended`]).
pub(crate) struct Ended {
    join: Join,
    /// No task is alive any more.
    pub(crate) idle: bool,
}

impl Ended {
    pub(crate) fn tell(self) {
        self.join.ended();
    }
}

impl Inner {
    /// Adds `future` to the table as a task, queued to run at the next turn.
    pub(crate) fn spawn_task<F>(self: Rc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let task: Boxed = Box::pin(Stage::Running { future });
        let mut tasks = self.tasks.borrow_mut();
        let index = match tasks.free.pop() {
            Some(index) => index as usize,
            None => {
                let index = tasks.slots.len();
                let waker = Arc::new(TaskWaker {
                    index,
                    scheduled: AtomicBool::new(false),
                    shared: Arc::clone(&self.shared),
                });
                let std_waker = Waker::from(Arc::clone(&waker));
                tasks.slots.push(TaskSlot {
                    task: None,
                    waker: Some((waker, std_waker)),
                    join: Join::Nobody,
                    generation: TAKEN,
                    phase: Phase::Free,
                    aborted: false,
                    joined: false,
                });
                index
            }
        };
        tasks.alive += 1;
        let slot = &mut tasks.slots[index];
        let generation = match slot.generation.wrapping_add(1) {
            TAKEN => TAKEN + 1,
            generation => generation,
        };
        slot.generation = generation;
        slot.task = Some(task);
        slot.phase = Phase::Running;
        slot.aborted = false;
        slot.joined = true;
        if let Some((waker, _)) = &slot.waker {
            // Queued below even if a wake of the slot's last task is still in the queue (it
            // may have been taken while the slot was free, leaving the flag set).
            waker.scheduled.store(true, Ordering::Release);
        }
        drop(tasks);
        self.ready.borrow_mut().push_back(index);
        super::metrics::Counters::bump(&self.counters.spawned);
        JoinHandle {
            id: TaskId {
                runtime: self,
                key: Key {
                    index: index as u32,
                    generation,
                },
            },
            output: PhantomData,
        }
    }
}

/// A handle's way to its task: the runtime, and the task's slot there.
#[derive(Clone)]
struct TaskId {
    runtime: Rc<Inner>,
    key: Key,
}

impl TaskId {
    fn abort(&self) {
        let mut tasks = self.runtime.tasks.borrow_mut();
        let Some(slot) = tasks.slot(self.key) else {
            return;
        };
        if slot.phase != Phase::Running || slot.aborted {
            return;
        }
        slot.aborted = true;
        // Queued (once) so the runtime looks at it; a task being polled now (its waker out
        // of the slot) is queued again, as a wake during its poll would.
        let queue = match &slot.waker {
            Some((waker, _)) => !waker.scheduled.swap(true, Ordering::AcqRel),
            None => true,
        };
        drop(tasks);
        if queue {
            self.runtime
                .ready
                .borrow_mut()
                .push_back(self.key.index as usize);
        }
    }

    fn is_finished(&self) -> bool {
        if self.key.generation == TAKEN {
            return true;
        }
        let mut tasks = self.runtime.tasks.borrow_mut();
        // A slot that moved on held a task that ended (or was dropped with its runtime).
        tasks
            .slot(self.key)
            .is_none_or(|slot| slot.phase != Phase::Running)
    }
}

/// Awaits a spawned task's output. Dropping it detaches the task, which runs on.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let sum = runtime.block_on(async {
///     let handle = proactor::spawn(async { 1 + 2 });
///     handle.await.unwrap()
/// });
/// assert_eq!(sum, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinHandle<T> {
    id: TaskId,
    /// The output is the task's, in the runtime's table (`fn() -> T`: the handle is `Unpin`
    /// whatever `T` is).
    output: PhantomData<fn() -> T>,
}

impl<T> JoinHandle<T> {
    /// Stops the task at its next turn: its future is dropped (cancelling the I/O it waits
    /// on) and awaiting the handle gives a cancelled [`JoinError`]. A finished task is not
    /// affected.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let handle = proactor::spawn(proactor::time::sleep(std::time::Duration::from_secs(3600)));
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort(&self) {
        if self.id.key.generation != TAKEN {
            self.id.abort();
        }
    }

    /// A handle that stops the task without awaiting it (see [`AbortHandle`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let handle = proactor::spawn(std::future::pending::<()>());
    ///     let abort = handle.abort_handle();
    ///     abort.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    ///     assert!(abort.is_finished());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort_handle(&self) -> AbortHandle
    where
        T: 'static,
    {
        AbortHandle {
            id: self.id.clone(),
        }
    }

    /// Makes the task's end known to `finished` under `key` (once), or stops that.
    pub(crate) fn report_to(&self, set: Option<(Rc<Finished>, usize)>) {
        let join = match set {
            Some((finished, key)) => Join::Set(finished, key),
            None => Join::Nobody,
        };
        let (dropped, tell) = {
            let mut tasks = self.id.runtime.tasks.borrow_mut();
            match tasks.slot(self.id.key) {
                Some(slot) if slot.phase == Phase::Running => {
                    (std::mem::replace(&mut slot.join, join), Join::Nobody)
                }
                // Ended already: told now, as its end would have.
                Some(_) => (Join::Nobody, join),
                None => (join, Join::Nobody),
            }
        };
        // With no borrow held: a waker's drop or wake may run any code.
        drop(dropped);
        tell.ended();
    }

    /// Whether the task has finished (with an output, a panic, or by abort).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let handle = proactor::spawn(async {});
    ///     proactor::yield_now().await;
    ///     assert!(handle.is_finished());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.id.is_finished()
    }
}

impl<T: 'static> JoinHandle<T> {
    /// The output, if the task has ended and it was not taken yet; with `waiter`, made the
    /// task's waiter if it has not ended.
    fn poll_output(&mut self, waiter: Option<&Waker>) -> Option<Result<T, JoinError>> {
        if self.id.key.generation == TAKEN {
            return None;
        }
        let (task, replaced) = {
            let mut tasks = self.id.runtime.tasks.borrow_mut();
            match tasks.slot(self.id.key) {
                // Gone with its runtime, before it ended.
                None => {
                    drop(tasks);
                    self.id.key.generation = TAKEN;
                    return Some(Err(JoinError::cancelled()));
                }
                Some(slot) if slot.phase == Phase::Running => {
                    let replaced = match (waiter, &slot.join) {
                        (Some(waiter), Join::Waiter(old)) if old.will_wake(waiter) => None,
                        (Some(waiter), _) => Some(std::mem::replace(
                            &mut slot.join,
                            Join::Waiter(waiter.clone()),
                        )),
                        (None, _) => None,
                    };
                    (None, replaced)
                }
                Some(_) => (tasks.free(self.id.key.index as usize), None),
            }
        };
        // Dropped with no borrow held: a waker's drop may run any code.
        drop(replaced);
        let mut task = task?;
        self.id.key.generation = TAKEN;
        let mut output = None;
        task.as_mut().take_output(&mut output);
        drop(task);
        output
    }

    /// The output, if the task has ended and it was not taken yet.
    pub(crate) fn take_output(mut self) -> Option<Result<T, JoinError>> {
        self.poll_output(None)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if self.id.key.generation == TAKEN {
            return;
        }
        let (task, join) = {
            let mut tasks = self.id.runtime.tasks.borrow_mut();
            match tasks.slot(self.id.key) {
                Some(slot) if slot.phase == Phase::Running => {
                    slot.joined = false;
                    (None, std::mem::take(&mut slot.join))
                }
                Some(_) => (tasks.free(self.id.key.index as usize), Join::Nobody),
                None => (None, Join::Nobody),
            }
        };
        // The output and the waiter go with no borrow held: their drops may run any code.
        drop(task);
        drop(join);
    }
}

impl<T: 'static> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut().poll_output(Some(cx.waker())) {
            Some(output) => Poll::Ready(output),
            None => Poll::Pending,
        }
    }
}

/// Why a task ended without an output.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let result = runtime.block_on(async {
///     proactor::spawn(async { panic!("boom") }).await
/// });
/// assert!(result.unwrap_err().is_panic());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinError {
    panic: Option<Box<dyn Any + Send>>,
}

impl JoinError {
    /// The error of a task that was aborted (or dropped before it ended).
    pub(crate) fn cancelled() -> JoinError {
        JoinError { panic: None }
    }

    /// The error of a task that panicked with `panic`.
    pub(crate) fn panicked(panic: Box<dyn Any + Send>) -> JoinError {
        JoinError { panic: Some(panic) }
    }

    /// Whether the task was aborted through [`JoinHandle::abort`].
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let handle = proactor::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.panic.is_none()
    }

    /// Whether the task panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let error = runtime.block_on(async { proactor::spawn(async { panic!("boom") }).await }).unwrap_err();
    /// assert!(error.is_panic());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_panic(&self) -> bool {
        self.panic.is_some()
    }

    /// The panic's payload, to resume it with [`std::panic::resume_unwind`].
    ///
    /// # Errors
    ///
    /// Gives the error back if the task was aborted rather than panicking.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let error = runtime.block_on(async { proactor::spawn(async { panic!("boom") }).await }).unwrap_err();
    /// let payload = error.try_into_panic().ok().unwrap();
    /// assert_eq!(*payload.downcast::<&str>().unwrap(), "boom");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send>, JoinError> {
        match self.panic {
            Some(panic) => Ok(panic),
            None => Err(self),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_panic() {
            f.write_str("JoinError::Panic(..)")
        } else {
            f.write_str("JoinError::Cancelled")
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_panic() {
            f.write_str("task panicked")
        } else {
            f.write_str("task was aborted")
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(error: JoinError) -> std::io::Error {
        std::io::Error::other(error.to_string())
    }
}

/// Stops a spawned task without owning its output: made by
/// [`JoinHandle::abort_handle`] and [`JoinSet::spawn`](crate::task::JoinSet::spawn). As a task
/// and its handles live on their runtime's thread, so does this (it is not `Send`).
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let mut set = proactor::task::JoinSet::new();
///     let abort = set.spawn(std::future::pending::<()>());
///     abort.abort();
///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct AbortHandle {
    id: TaskId,
}

impl AbortHandle {
    /// Stops the task at its next turn, as [`JoinHandle::abort`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let handle = proactor::spawn(std::future::pending::<()>());
    ///     handle.abort_handle().abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort(&self) {
        self.id.abort();
    }

    /// Whether the task has finished (with an output, a panic, or by abort).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let handle = proactor::spawn(async {});
    ///     let abort = handle.abort_handle();
    ///     handle.await.unwrap();
    ///     assert!(abort.is_finished());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.id.is_finished()
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
