//! Many runtimes, one per thread: the thread-per-core model.
//!
//! Each thread runs its own [`Runtime`](super::Runtime) with its own driver; nothing is shared
//! between them on the I/O path. Work reaches a thread through its [`Handle`] (whose wake-ups
//! go through that driver's notifier), to a chosen thread or to the one with the fewest tasks
//! from the group in flight.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use super::remote::{self, RemoteJoinHandle};
use super::{spawn, Builder, Handle};

/// Calls a thread's stop hook when dropped: after the runtime, however the thread ends.
struct OnStop(Option<super::Hook>);

impl Drop for OnStop {
    fn drop(&mut self) {
        super::Hooks::run(&self.0);
    }
}

/// What one thread of the group shares with the group.
struct Member {
    handle: Handle,
    /// Tasks sent by the group and not finished yet.
    load: Arc<AtomicUsize>,
    stop: Arc<Stop>,
    thread: Option<thread::JoinHandle<()>>,
}

/// Ends a member thread's loop.
#[derive(Default)]
struct Stop {
    requested: AtomicBool,
    waker: Mutex<Option<Waker>>,
    /// Why the thread ended on its own: its driver failed (see `Runtime::try_block_on`).
    failure: Mutex<Option<String>>,
    /// A graceful stop: until when the thread lets its tasks finish.
    graceful_until: Mutex<Option<std::time::Instant>>,
    /// Tasks a graceful stop cut short on this thread.
    cut_short: AtomicUsize,
}

impl Stop {
    fn request(&self) {
        self.requested.store(true, Ordering::Release);
        let waker = self
            .waker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A group of runtimes, one per thread (optionally pinned to cores), that accept work from
/// any thread.
///
/// Dropping the group stops every thread after its current turn (tasks still running are
/// dropped, cancelling their I/O) and joins them.
///
/// # Examples
///
/// ```
/// let group = proactor::Builder::new().threads(2).build_group()?;
/// let results = group.run(|index| async move { index * 10 });
/// assert_eq!(results, vec![0, 10]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RuntimeGroup {
    members: Vec<Member>,
    next: AtomicUsize,
}

impl RuntimeGroup {
    pub(crate) fn start(builder: &Builder, threads: usize, pin: bool) -> io::Result<RuntimeGroup> {
        // Thread i goes to the i-th core this thread may use, not to core i: `taskset` or a
        // cpuset may have given the process other cores, and pinning outside them fails or
        // piles the threads onto cores the process was not meant to have.
        let cores = if pin {
            crate::sys::allowed_cores()
        } else {
            Vec::new()
        };
        let mut members = Vec::with_capacity(threads);
        for index in 0..threads.max(1) {
            let core = (!cores.is_empty()).then(|| cores[index % cores.len()]);
            let (sender, receiver) = mpsc::channel();
            let stop = Arc::new(Stop::default());
            let thread_stop = Arc::clone(&stop);
            let builder = builder.clone();
            let thread = thread::Builder::new()
                .name(format!("proactor-{index}"))
                .spawn(move || {
                    let worker = crate::trace::Worker::enter(index);
                    if let Some(core) = core {
                        crate::sys::pin_to_core(core);
                    }
                    let hooks = builder.hooks.clone();
                    // Declared before the runtime, so dropped after it.
                    let _on_stop = OnStop(hooks.thread_stop.clone());
                    let runtime = match builder.build() {
                        Ok(runtime) => runtime,
                        Err(error) => {
                            let _ = sender.send(Err(error));
                            return;
                        }
                    };
                    super::Hooks::run(&hooks.thread_start);
                    worker.started(runtime.backend());
                    let _ = sender.send(Ok(runtime.handle()));
                    let ran = runtime.try_block_on(std::future::poll_fn(|cx| {
                        if thread_stop.requested.load(Ordering::Acquire) {
                            return Poll::Ready(());
                        }
                        *thread_stop
                            .waker
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                            Some(cx.waker().clone());
                        // Checked again: a stop requested before the waker was stored.
                        if thread_stop.requested.load(Ordering::Acquire) {
                            return Poll::Ready(());
                        }
                        Poll::Pending
                    }));
                    let graceful_until = *thread_stop
                        .graceful_until
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    let ran = match (ran, graceful_until) {
                        (Ok(()), Some(until)) => runtime
                            .shutdown_gracefully(
                                until.saturating_duration_since(std::time::Instant::now()),
                            )
                            .map(|cut_short| {
                                thread_stop.cut_short.store(cut_short, Ordering::Release);
                            }),
                        (ran, _) => ran,
                    };
                    // Not a panic: the group reports it to whoever waits on this thread.
                    if let Err(error) = ran {
                        worker.failed(&error);
                        *thread_stop
                            .failure
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                            Some(error.to_string());
                    }
                })?;
            let handle = match receiver.recv() {
                Ok(Ok(handle)) => handle,
                Ok(Err(error)) => {
                    let _ = thread.join();
                    return Err(error);
                }
                Err(_) => {
                    let _ = thread.join();
                    return Err(io::Error::other("a runtime thread ended before it started"));
                }
            };
            members.push(Member {
                handle,
                load: Arc::new(AtomicUsize::new(0)),
                stop,
                thread: Some(thread),
            });
        }
        Ok(RuntimeGroup {
            members,
            next: AtomicUsize::new(0),
        })
    }

    /// Number of runtimes (threads) in the group.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = proactor::Builder::new().threads(3).build_group()?;
    /// assert_eq!(group.len(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the group has no runtimes (never: it has at least one).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = proactor::Builder::new().threads(1).build_group()?;
    /// assert!(!group.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The handle of runtime `index`.
    ///
    /// # Panics
    ///
    /// If `index >= len()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = proactor::Builder::new().threads(2).build_group()?;
    /// group.handle(1).dispatch(|| println!("on thread 1"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle(&self, index: usize) -> &Handle {
        &self.members[index].handle
    }

    /// Runs the future `make` builds on runtime `index` (the closure is sent; the future it
    /// makes need not be `Send`); the [`RemoteJoinHandle`] awaits its output from any thread,
    /// or aborts it.
    ///
    /// # Panics
    ///
    /// If `index >= len()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = proactor::Builder::new().threads(2).build_group()?;
    /// let task = group.spawn_on(1, || async { std::thread::current().name().map(String::from) });
    /// let runtime = proactor::Runtime::new()?;
    /// assert_eq!(runtime.block_on(task).unwrap().as_deref(), Some("proactor-1"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_on<F, Fut>(&self, index: usize, make: F) -> RemoteJoinHandle<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let member = &self.members[index];
        let load = Arc::clone(&member.load);
        load.fetch_add(1, Ordering::Relaxed);
        let (finisher, handle) = remote::pair(Some(Box::new(move || {
            load.fetch_sub(1, Ordering::Relaxed);
        })));
        member.handle.dispatch(move || {
            drop(spawn(remote::run(make(), finisher)));
        });
        handle
    }

    /// Runs the future `make` builds on the runtime with the fewest tasks from the group
    /// still running (taking turns among equals), as tokio's multi-threaded `spawn`: the
    /// [`RemoteJoinHandle`] awaits its output from any thread, or aborts it.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = proactor::Builder::new().threads(2).build_group()?;
    /// let task = group.spawn(|| async { 6 * 7 });
    /// let runtime = proactor::Runtime::new()?;
    /// assert_eq!(runtime.block_on(task).unwrap(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F, Fut>(&self, make: F) -> RemoteJoinHandle<Fut::Output>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.members.len();
        let index = (0..count)
            .map(|offset| (start + offset) % count)
            .min_by_key(|&index| self.members[index].load.load(Ordering::Relaxed))
            .unwrap_or(0);
        self.spawn_on(index, make)
    }

    /// Runs `make(index)` on every runtime at once and waits for all of them; returns their
    /// outputs in runtime order. The typical server: one listener per runtime with
    /// `SO_REUSEPORT`.
    ///
    /// # Panics
    ///
    /// If one of the futures panics (its thread's runtime reports the panic and the group
    /// re-raises it here), or a runtime thread died.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = proactor::Builder::new().threads(2).build_group()?;
    /// let names = group.run(|_| async { std::thread::current().name().map(String::from) });
    /// assert_eq!(names, [Some("proactor-0".into()), Some("proactor-1".into())]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run<F, Fut, T>(&self, make: F) -> Vec<T>
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let make = Arc::new(make);
        let (sender, receiver) = mpsc::channel();
        for index in 0..self.members.len() {
            let make = Arc::clone(&make);
            let sender = sender.clone();
            self.members[index].handle.dispatch(move || {
                let task = spawn(make(index));
                drop(spawn(async move {
                    let _ = sender.send((index, task.await));
                }));
            });
        }
        drop(sender);
        let mut outputs: Vec<Option<T>> = (0..self.members.len()).map(|_| None).collect();
        for _ in 0..self.members.len() {
            let Ok((index, output)) = receiver.recv() else {
                let failures: Vec<String> = self
                    .members
                    .iter()
                    .filter_map(|member| member.stop.failure.lock().ok()?.clone())
                    .collect();
                panic!(
                    "proactor: a runtime thread of the group ended: {}",
                    failures.join("; ")
                );
            };
            match output {
                Ok(value) => outputs[index] = Some(value),
                Err(error) => match error.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(error) => panic!("proactor: a group task ended early: {error}"),
                },
            }
        }
        outputs.into_iter().flatten().collect()
    }
}

impl RuntimeGroup {
    /// Ends the group gracefully: each runtime runs its tasks until they have all finished
    /// or `timeout` has passed, then is dropped with the rest (their operations cancelled);
    /// returns how many tasks were cut short in all (see
    /// [`Runtime::shutdown_gracefully`](crate::Runtime::shutdown_gracefully)). Dropping the
    /// group instead stops every runtime at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let group = proactor::Builder::new().threads(2).build_group()?;
    /// let _finishing = group.spawn(|| proactor::time::sleep(Duration::from_millis(5)));
    /// let _forever = group.spawn(|| std::future::pending::<()>());
    /// assert_eq!(group.shutdown_gracefully(Duration::from_millis(100)), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_gracefully(mut self, timeout: Duration) -> usize {
        let until = std::time::Instant::now() + timeout;
        for member in &self.members {
            *member
                .stop
                .graceful_until
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(until);
            member.stop.request();
        }
        let mut cut_short = 0;
        for member in &mut self.members {
            if let Some(thread) = member.thread.take() {
                let _ = thread.join();
            }
            cut_short += member.stop.cut_short.load(Ordering::Acquire);
        }
        cut_short
    }
}

impl Drop for RuntimeGroup {
    fn drop(&mut self) {
        for member in &self.members {
            member.stop.request();
        }
        for member in &mut self.members {
            if let Some(thread) = member.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

impl std::fmt::Debug for RuntimeGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeGroup")
            .field("threads", &self.members.len())
            .finish()
    }
}
