//! Spawned tasks: their storage, their wakers, and the handle that awaits their output.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::context;
use super::Shared;

/// A task's future, type-erased.
pub(crate) type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

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

/// One slot of the task table.
pub(crate) struct TaskSlot {
    pub(crate) future: Option<LocalFuture>,
    /// The task's waker, also as a std `Waker` made once at spawn, so a poll touches no
    /// reference count. Taken out, with the future, while the task is polled.
    pub(crate) waker: Option<(Arc<TaskWaker>, Waker)>,
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

/// Shared between a task and its [`JoinHandle`].
pub(crate) struct JoinState<T> {
    output: RefCell<Option<Result<T, JoinError>>>,
    waiter: RefCell<Option<Waker>>,
    aborted: Cell<bool>,
    /// Set when the task ends (its output may have been taken since).
    done: Cell<bool>,
    /// The task's own waker, so `abort` can make the runtime look at it.
    task: RefCell<Option<Waker>>,
    /// The [`JoinSet`](crate::task::JoinSet) the task belongs to, and its key there: told
    /// when the task ends.
    set: RefCell<Option<(Rc<crate::task::Finished>, usize)>>,
}

impl<T> JoinState<T> {
    fn finish(&self, output: Result<T, JoinError>) {
        *self.output.borrow_mut() = Some(output);
        self.done.set(true);
        if let Some(waiter) = self.waiter.borrow_mut().take() {
            waiter.wake();
        }
        let set = self.set.borrow_mut().take();
        if let Some((finished, key)) = set {
            finished.push(key);
        }
    }
}

/// What an [`AbortHandle`] needs of a task, whatever its output type.
trait Abort {
    fn abort(&self);
    fn is_finished(&self) -> bool;
}

impl<T> Abort for JoinState<T> {
    fn abort(&self) {
        if self.done.get() {
            return;
        }
        self.aborted.set(true);
        if let Some(task) = self.task.borrow().as_ref() {
            task.wake_by_ref();
        }
    }

    fn is_finished(&self) -> bool {
        self.done.get()
    }
}

/// The task's future as the runtime stores it: catches panics, honours `abort`, and hands the
/// output to the [`JoinHandle`].
pub(crate) struct Task<F: Future> {
    future: Pin<Box<F>>,
    state: Rc<JoinState<F::Output>>,
}

impl<F: Future> Future for Task<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.aborted.get() {
            self.state.finish(Err(JoinError { panic: None }));
            return Poll::Ready(());
        }
        if self.state.task.borrow().is_none() {
            *self.state.task.borrow_mut() = Some(cx.waker().clone());
        }
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                self.state.finish(Ok(output));
                Poll::Ready(())
            }
            Err(panic) => {
                self.state.finish(Err(JoinError { panic: Some(panic) }));
                Poll::Ready(())
            }
        }
    }
}

pub(crate) fn task<F: Future + 'static>(future: F) -> (Task<F>, JoinHandle<F::Output>) {
    let state = Rc::new(JoinState {
        output: RefCell::new(None),
        waiter: RefCell::new(None),
        aborted: Cell::new(false),
        done: Cell::new(false),
        task: RefCell::new(None),
        set: RefCell::new(None),
    });
    let task = Task {
        future: Box::pin(future),
        state: Rc::clone(&state),
    };
    (task, JoinHandle { state })
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
    state: Rc<JoinState<T>>,
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
        self.state.abort();
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
            state: Rc::clone(&self.state) as Rc<dyn Abort>,
        }
    }

    /// The output, if the task has ended and it was not taken yet.
    pub(crate) fn take_output(&self) -> Option<Result<T, JoinError>> {
        self.state.output.borrow_mut().take()
    }

    /// Makes the task's end known to `finished` under `key` (once), or stops that.
    pub(crate) fn report_to(&self, set: Option<(Rc<crate::task::Finished>, usize)>) {
        *self.state.set.borrow_mut() = set;
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
        self.state.done.get()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(output) = self.state.output.borrow_mut().take() {
            return Poll::Ready(output);
        }
        *self.state.waiter.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
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
    state: Rc<dyn Abort>,
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
        self.state.abort();
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
        self.state.is_finished()
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
