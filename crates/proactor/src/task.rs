//! Tasks, under tokio's names: [`spawn`], [`JoinHandle`] and [`AbortHandle`], and a
//! [`JoinSet`] of tasks whose outputs come back in the order the tasks end.
//!
//! Every task of a runtime runs on the runtime's thread, so nothing here asks for `Send`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//!
//! use proactor::task::JoinSet;
//!
//! let runtime = proactor::Runtime::new()?;
//! let order = runtime.block_on(async {
//!     let mut set = JoinSet::new();
//!     for (name, millis) in [("slow", 30), ("fast", 1)] {
//!         set.spawn(async move {
//!             proactor::time::sleep(Duration::from_millis(millis)).await;
//!             name
//!         });
//!     }
//!     let mut order = Vec::new();
//!     while let Some(done) = set.join_next().await {
//!         order.push(done.unwrap());
//!     }
//!     order
//! });
//! assert_eq!(order, ["fast", "slow"]);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

pub use crate::blocking::spawn_blocking;
pub use crate::runtime::{spawn, yield_now, AbortHandle, JoinError, JoinHandle, RemoteJoinHandle};

/// The keys of a [`JoinSet`]'s tasks that have ended, in the order they ended, and the task
/// waiting for the next. Each task of the set reports here when it ends, so waiting for the
/// next output looks at no task that has not ended.
#[derive(Default)]
pub(crate) struct Finished {
    keys: RefCell<VecDeque<usize>>,
    waiter: RefCell<Option<Waker>>,
}

impl Finished {
    /// The task with `key` ended.
    pub(crate) fn push(&self, key: usize) {
        self.keys.borrow_mut().push_back(key);
        let waiter = self.waiter.borrow_mut().take();
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

/// A set of spawned tasks whose outputs are taken in the order the tasks end, as tokio's
/// `JoinSet`: [`spawn`](JoinSet::spawn) adds one, [`join_next`](JoinSet::join_next) waits for
/// the next to end. Dropping the set aborts the tasks still in it.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let total = runtime.block_on(async {
///     let mut set = proactor::task::JoinSet::new();
///     for n in 1..=10u32 {
///         set.spawn(async move { n * n });
///     }
///     let mut total = 0;
///     while let Some(square) = set.join_next().await {
///         total += square.unwrap();
///     }
///     total
/// });
/// assert_eq!(total, 385);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinSet<T> {
    /// By key; a key is free again once its task's output was taken.
    handles: Vec<Option<JoinHandle<T>>>,
    free: Vec<usize>,
    len: usize,
    finished: Rc<Finished>,
}

impl<T: 'static> JoinSet<T> {
    /// An empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = proactor::task::JoinSet::<u32>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            handles: Vec::new(),
            free: Vec::new(),
            len: 0,
            finished: Rc::default(),
        }
    }

    /// How many tasks are in the set: spawned, and their outputs not taken yet.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut set = proactor::task::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert_eq!(set.len(), 1);
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 0);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no task is in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::task::JoinSet::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Spawns `future` as a task of the current runtime, in this set; returns a handle that
    /// aborts it.
    ///
    /// # Panics
    ///
    /// Outside a runtime, as [`spawn`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut set = proactor::task::JoinSet::new();
    ///     set.spawn(async { "done" });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "done");
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let handle = spawn(future);
        let key = match self.free.pop() {
            Some(key) => key,
            None => {
                self.handles.push(None);
                self.handles.len() - 1
            }
        };
        handle.report_to(Some((Rc::clone(&self.finished), key)));
        let abort = handle.abort_handle();
        self.handles[key] = Some(handle);
        self.len += 1;
        abort
    }

    /// Waits for the next task of the set to end and returns its output (or why it has
    /// none: a panic, an abort); `None` once the set is empty.
    ///
    /// Cancel safe: dropped before it returns, it takes nothing, and the next call gets
    /// the same output.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut set = proactor::task::JoinSet::<()>::new();
    ///     assert!(set.join_next().await.is_none(), "empty");
    ///     set.spawn(async { panic!("boom") });
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_panic());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// [`join_next`](JoinSet::join_next) as a poll: `Ready(None)` when the set is empty,
    /// `Pending` (waking `cx` when a task ends) while none has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut set = proactor::task::JoinSet::new();
    ///     set.spawn(async { 7 });
    ///     let output = poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(output.unwrap().unwrap(), 7);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if let Some(output) = self.try_join_next() {
            return Poll::Ready(Some(output));
        }
        if self.len == 0 {
            return Poll::Ready(None);
        }
        *self.finished.waiter.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }

    /// The output of a task of the set that has ended, if one has; never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut set = proactor::task::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert!(set.try_join_next().is_none(), "not run yet");
    ///     proactor::yield_now().await;
    ///     assert_eq!(set.try_join_next().unwrap().unwrap(), 1);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        loop {
            let key = self.finished.keys.borrow_mut().pop_front()?;
            // A key is reported once per task; one whose handle is gone was detached.
            let Some(handle) = self.handles.get_mut(key).and_then(Option::take) else {
                continue;
            };
            self.free.push(key);
            self.len -= 1;
            if let Some(output) = handle.take_output() {
                return Some(output);
            }
        }
    }

    /// Aborts every task in the set. They stay in it: [`join_next`](JoinSet::join_next)
    /// returns each one's output, a cancelled [`JoinError`] for those the abort stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut set = proactor::task::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.abort_all();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort_all(&mut self) {
        for handle in self.handles.iter().flatten() {
            handle.abort();
        }
    }

    /// Lets every task go: they run on, outside the set, which is left empty.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut set = proactor::task::JoinSet::new();
    ///     set.spawn(async {});
    ///     set.detach_all();
    ///     assert!(set.is_empty());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn detach_all(&mut self) {
        for handle in self.handles.drain(..).flatten() {
            handle.report_to(None);
        }
        self.free.clear();
        self.finished.keys.borrow_mut().clear();
        self.len = 0;
    }

    /// Aborts every task and waits until all have ended, their outputs dropped; the set is
    /// then empty.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut set = proactor::task::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs, in the order the tasks ended.
    ///
    /// # Panics
    ///
    /// If a task panicked (with its panic), or was aborted.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut set = proactor::task::JoinSet::new();
    ///     set.spawn(async { 2 });
    ///     set.spawn(async { 3 });
    ///     let mut outputs = set.join_all().await;
    ///     outputs.sort();
    ///     assert_eq!(outputs, [2, 3]);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len);
        while let Some(output) = self.join_next().await {
            match output {
                Ok(output) => outputs.push(output),
                Err(error) => match error.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(error) => panic!("a task of the set: {error}"),
                },
            }
        }
        outputs
    }
}

impl<T: 'static> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        for handle in self.handles.iter().flatten() {
            handle.abort();
        }
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}

/// Declares task-local values, as tokio's `task_local!`: a [`LocalKey`] whose value is set
/// for the length of a future with [`LocalKey::scope`] (every poll of that future sees it,
/// whichever task polls it) and read with [`LocalKey::with`] or [`LocalKey::get`].
///
/// # Examples
///
/// ```
/// proactor::task_local! {
///     static REQUEST_ID: u64;
/// }
///
/// let runtime = proactor::Runtime::new()?;
/// let seen = runtime.block_on(REQUEST_ID.scope(7, async {
///     proactor::yield_now().await;
///     REQUEST_ID.get()
/// }));
/// assert_eq!(seen, 7);
/// assert!(REQUEST_ID.try_with(|id| *id).is_err(), "not set outside the scope");
/// # Ok::<(), std::io::Error>(())
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static SLOT: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey { slot: SLOT }
        };
    };
}

/// A task-local value's key, declared with [`task_local!`](crate::task_local).
///
/// The value lives in the thread's slot while a future of its [`scope`](LocalKey::scope) is
/// polled, and in that future between polls; so it follows the future, not the thread.
///
/// # Examples
///
/// ```
/// proactor::task_local! {
///     static USER: String;
/// }
///
/// let name = USER.sync_scope("ada".to_string(), || USER.with(|user| user.clone()));
/// assert_eq!(name, "ada");
/// ```
pub struct LocalKey<T: 'static> {
    #[doc(hidden)]
    pub slot: std::thread::LocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    /// Runs `future` with the value set to `value`: every poll of it (and of what it awaits)
    /// sees the value. Scopes of one key nest: the inner value hides the outer one.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::task_local! {
    ///     static DEPTH: u32;
    /// }
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// let depths = runtime.block_on(DEPTH.scope(1, async {
    ///     let inner = DEPTH.scope(2, async { DEPTH.get() }).await;
    ///     (DEPTH.get(), inner)
    /// }));
    /// assert_eq!(depths, (1, 2));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            slot: Some(value),
            future,
        }
    }

    /// Runs `f` with the value set to `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::task_local! {
    ///     static LIMIT: usize;
    /// }
    ///
    /// assert_eq!(LIMIT.sync_scope(10, || LIMIT.get() * 2), 20);
    /// ```
    pub fn sync_scope<F: FnOnce() -> R, R>(&'static self, value: T, f: F) -> R {
        let mut slot = Some(value);
        let _swapped = Swapped::enter(self, &mut slot);
        f()
    }

    /// Runs `f` on the value.
    ///
    /// # Panics
    ///
    /// Outside a [`scope`](LocalKey::scope) of this key.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::task_local! {
    ///     static NAME: &'static str;
    /// }
    ///
    /// NAME.sync_scope("x", || NAME.with(|name| assert_eq!(*name, "x")));
    /// ```
    pub fn with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> R {
        match self.try_with(f) {
            Ok(output) => output,
            Err(error) => panic!("{error}"),
        }
    }

    /// Runs `f` on the value, if it is set.
    ///
    /// # Errors
    ///
    /// [`AccessError`] outside a [`scope`](LocalKey::scope) of this key.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::task_local! {
    ///     static NAME: &'static str;
    /// }
    ///
    /// assert!(NAME.try_with(|name| name.len()).is_err());
    /// ```
    pub fn try_with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> Result<R, AccessError> {
        self.slot.with(|slot| match slot.borrow().as_ref() {
            Some(value) => Ok(f(value)),
            None => Err(AccessError(())),
        })
    }

    /// A copy of the value.
    ///
    /// # Panics
    ///
    /// Outside a [`scope`](LocalKey::scope) of this key.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::task_local! {
    ///     static ID: u64;
    /// }
    ///
    /// assert_eq!(ID.sync_scope(3, || ID.get()), 3);
    /// ```
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalKey { .. }")
    }
}

/// Puts a scope's value in its key's slot, and takes it back out when dropped (also when
/// what ran in between panicked), so that the slot holds the outer value again.
struct Swapped<'a, T: 'static> {
    key: &'static LocalKey<T>,
    value: &'a mut Option<T>,
}

impl<'a, T: 'static> Swapped<'a, T> {
    fn enter(key: &'static LocalKey<T>, value: &'a mut Option<T>) -> Swapped<'a, T> {
        key.slot
            .with(|slot| std::mem::swap(&mut *slot.borrow_mut(), value));
        Swapped { key, value }
    }
}

impl<T: 'static> Drop for Swapped<'_, T> {
    fn drop(&mut self) {
        let value = &mut *self.value;
        // The thread is ending when the slot is gone: nothing to put back.
        let _ = self
            .key
            .slot
            .try_with(|slot| std::mem::swap(&mut *slot.borrow_mut(), value));
    }
}

pin_project_lite::pin_project! {
    /// The future [`LocalKey::scope`] returns: `future`, each poll with the value set.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::task_local! {
    ///     static ID: u64;
    /// }
    ///
    /// let future: proactor::task::TaskLocalFuture<u64, _> = ID.scope(1, async { ID.get() });
    /// assert_eq!(proactor::Runtime::new()?.block_on(future), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        // The value, between polls.
        slot: Option<T>,
        #[pin]
        future: F,
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _swapped = Swapped::enter(this.key, this.slot);
        this.future.poll(cx)
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture").finish_non_exhaustive()
    }
}

/// What [`LocalKey::try_with`] returns outside a scope of its key.
///
/// # Examples
///
/// ```
/// proactor::task_local! {
///     static ID: u64;
/// }
///
/// let error = ID.try_with(|id| *id).unwrap_err();
/// assert_eq!(error.to_string(), "task-local value not set: outside LocalKey::scope");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set: outside LocalKey::scope")
    }
}

impl std::error::Error for AccessError {}
