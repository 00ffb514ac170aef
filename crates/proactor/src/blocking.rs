//! Running blocking code on the driver's thread pool (libuv's `uv_queue_work`).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use proactor_driver::Op;

use crate::runtime::op::{self, Submitted};

/// Where the closure leaves its output for the handle.
type Slot<T> = Arc<Mutex<Option<T>>>;

/// Runs `work` on the driver's thread pool and returns a handle that awaits its output.
///
/// Use it for code that blocks (CPU-heavy work, a synchronous library, a syscall with no
/// driver operation): it runs on a pool thread while this runtime's thread keeps serving
/// other tasks. The closure starts right away, whether or not the handle is awaited.
///
/// Awaiting the returned `BlockingHandle` gives the closure's return value. Dropping the
/// handle detaches the closure: it still runs to the end, and its output is dropped.
///
/// # Errors
///
/// Awaiting the handle gives an error (kind `Other`, with the panic message) if the closure
/// panicked; the pool keeps serving. It never hangs on a panic.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let sum = runtime.block_on(async {
///     proactor::spawn_blocking(|| (1..=100u64).sum::<u64>()).await
/// })?;
/// assert_eq!(sum, 5050);
///
/// let error = runtime
///     .block_on(async { proactor::spawn_blocking(|| -> u8 { panic!("boom") }).await })
///     .unwrap_err();
/// assert!(error.to_string().contains("boom"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn spawn_blocking<F, T>(work: F) -> BlockingHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot: Slot<T> = Arc::new(Mutex::new(None));
    let output = Arc::clone(&slot);
    let job = Box::new(move || {
        let value = work();
        *output.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
        Ok(0)
    });
    let mut submitted = op::submit(Op::Blocking { job });
    // A cancel would keep a closure that has not started from ever running.
    submitted.detach_on_drop();
    BlockingHandle { submitted, slot }
}

/// Awaits the output of a closure given to [`spawn_blocking`]; dropping it detaches the
/// closure, which runs on.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let caller = std::thread::current().id();
///     let handle = proactor::spawn_blocking(|| std::thread::current().id());
///     assert_ne!(handle.await?, caller, "it ran on a pool thread");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "dropping the handle detaches the closure; await it to get its output"]
pub struct BlockingHandle<T> {
    submitted: Submitted,
    slot: Slot<T>,
}

impl<T> Future for BlockingHandle<T> {
    type Output = io::Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let completion = match Pin::new(&mut self.submitted).poll(cx) {
            Poll::Ready(completion) => completion,
            Poll::Pending => return Poll::Pending,
        };
        Poll::Ready(completion.result.and_then(|_| {
            self.slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or_else(|| io::Error::other("the blocking closure left no output"))
        }))
    }
}

impl<T> fmt::Debug for BlockingHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingHandle").finish_non_exhaustive()
    }
}

/// Runs a fallible `work` on the pool, folding a panic into its error.
pub(crate) async fn run<F, T>(work: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    spawn_blocking(work).await?
}
