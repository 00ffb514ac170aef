//! [`RemoteJoinHandle`]: the `Send` handle of a task spawned on another runtime's thread
//! ([`Handle::spawn`](super::Handle::spawn), [`RuntimeGroup::spawn`](super::group::RuntimeGroup::spawn)).
//!
//! The task runs on its runtime as any other; what it shares with the handle is one
//! `Arc<Mutex<..>>`: its output, the waker of whoever awaits it, its own waker (for an abort
//! from another thread) and the abort flag. A task that never finishes (its runtime ended,
//! or it was never started) still answers: whatever drops it says "cancelled".

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::task::JoinError;

struct State<T> {
    output: Option<Result<T, JoinError>>,
    /// The output was given (it may have been taken since).
    finished: bool,
    /// Whoever awaits the handle.
    joiner: Option<Waker>,
    /// The task, while it waits: an abort wakes it to end.
    task: Option<Waker>,
    aborted: bool,
}

type Shared<T> = Arc<Mutex<State<T>>>;

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, State<T>> {
    // Nothing runs user code under the lock, so a poisoned lock still holds whole state.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Gives the task's result to its handle once: the output, or when dropped unfinished (the
/// task's runtime ended first, or it never ran), "cancelled".
pub(crate) struct Finisher<T> {
    shared: Shared<T>,
    /// Run when the task is over, whichever way (a group's load count).
    on_end: Option<Box<dyn FnOnce() + Send>>,
}

impl<T> Finisher<T> {
    fn finish(&mut self, output: Result<T, JoinError>) {
        let joiner = {
            let mut state = lock(&self.shared);
            if state.finished {
                return;
            }
            state.finished = true;
            state.output = Some(output);
            state.task = None;
            state.joiner.take()
        };
        if let Some(on_end) = self.on_end.take() {
            on_end();
        }
        if let Some(joiner) = joiner {
            joiner.wake();
        }
    }
}

impl<T> Drop for Finisher<T> {
    fn drop(&mut self) {
        self.finish(Err(JoinError::cancelled()));
    }
}

/// A new task's two ends: what finishes it (sent to the runtime that runs it, see [`run`])
/// and the handle that awaits it. `on_end` runs when the task is over, whichever way.
pub(crate) fn pair<T: Send + 'static>(
    on_end: Option<Box<dyn FnOnce() + Send>>,
) -> (Finisher<T>, RemoteJoinHandle<T>) {
    let shared: Shared<T> = Arc::new(Mutex::new(State {
        output: None,
        finished: false,
        joiner: None,
        task: None,
        aborted: false,
    }));
    let finisher = Finisher {
        shared: Arc::clone(&shared),
        on_end,
    };
    (finisher, RemoteJoinHandle { shared })
}

/// The task to spawn on the runtime that runs `future`: `future` to its end (or its abort),
/// its panic caught and handed to the handle.
pub(crate) async fn run<F: Future>(future: F, mut finisher: Finisher<F::Output>) {
    let mut future = pin!(future);
    let output = std::future::poll_fn(|cx| {
        {
            let mut state = lock(&finisher.shared);
            if state.aborted {
                return Poll::Ready(Err(JoinError::cancelled()));
            }
            match &mut state.task {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                task => *task = Some(cx.waker().clone()),
            }
        }
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(JoinError::panicked(panic))),
        }
    })
    .await;
    finisher.finish(output);
}

/// Awaits a task spawned on another runtime's thread, from any thread or runtime: `Send`,
/// unlike [`JoinHandle`](crate::JoinHandle), whose task shares its thread. As tokio's
/// `JoinHandle`: the output, or a [`JoinError`] if the task panicked, was aborted, or its
/// runtime ended before it did. Dropping the handle lets the task run on.
///
/// # Examples
///
/// ```
/// let group = proactor::Builder::new().threads(2).build_group()?;
/// let task = group.spawn(|| async { std::thread::current().name().map(String::from) });
/// let runtime = proactor::Runtime::new()?;
/// let name = runtime.block_on(task).unwrap();
/// assert!(name.unwrap().starts_with("proactor-"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RemoteJoinHandle<T> {
    shared: Shared<T>,
}

impl<T> RemoteJoinHandle<T> {
    /// Asks the task to stop: it is dropped at its next turn on its runtime (now, if it is
    /// waiting) and the handle gives a cancelled [`JoinError`]. A task that already finished
    /// keeps its output.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let task = runtime.handle().spawn(std::future::pending::<()>());
    /// task.abort();
    /// let result = runtime.block_on(task);
    /// assert!(result.unwrap_err().is_cancelled());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort(&self) {
        let task = {
            let mut state = lock(&self.shared);
            if state.finished {
                return;
            }
            state.aborted = true;
            state.task.take()
        };
        if let Some(task) = task {
            task.wake();
        }
    }

    /// Whether the task has ended (its output, if any, waits here).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let task = runtime.handle().spawn(async { 1 });
    /// assert!(!task.is_finished(), "it starts at the runtime's next turn");
    /// runtime.block_on(async {
    ///     while !task.is_finished() {
    ///         proactor::yield_now().await;
    ///     }
    /// });
    /// assert_eq!(runtime.block_on(task).unwrap(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        lock(&self.shared).finished
    }
}

impl<T> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = lock(&self.shared);
        if let Some(output) = state.output.take() {
            return Poll::Ready(output);
        }
        assert!(
            !state.finished,
            "a RemoteJoinHandle polled again after it gave its output"
        );
        match &mut state.joiner {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            joiner => *joiner = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
