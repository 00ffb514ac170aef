//! The thread pool: runs what the OS cannot do asynchronously (regular-file I/O on readiness
//! backends, opcodes a kernel lacks, [`Op::Blocking`] closures) and posts each result back to
//! the driver that asked, through the same `poll`.
//!
//! Threads start lazily, up to a bound, and exit after sitting idle. A job moves its [`Op`]
//! (and so its buffers) into the pool, so a driver dropped while a job runs frees nothing the
//! job still uses; the finished operation is dropped by the pool instead, and a descriptor it
//! created is closed. A panicking job completes with an error and its thread keeps serving.
//! Queueing and delivery reuse their vectors' capacity, so a job allocates nothing in steady
//! state.

use std::any::Any;
use std::collections::VecDeque;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::Duration;

use crate::{sys, trace, Completion, Op, OpId};

/// Default bound on pool threads; `PROACTOR_POOL_THREADS` overrides it.
const DEFAULT_MAX_THREADS: usize = 64;
/// How long an idle thread waits for work before it exits.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a driver receives its finished jobs.
pub(crate) struct Reply {
    done: Mutex<Vec<Completion>>,
    /// Whether `done` may hold something, so an idle driver skips the lock.
    has_results: AtomicBool,
    waker: Arc<sys::Waker>,
    /// Set when the driver is dropped: results are then disposed of by the pool.
    closed: AtomicBool,
}

impl Reply {
    pub(crate) fn new(waker: Arc<sys::Waker>) -> Arc<Reply> {
        Arc::new(Reply {
            done: Mutex::new(Vec::new()),
            has_results: AtomicBool::new(false),
            waker,
            closed: AtomicBool::new(false),
        })
    }

    fn deliver(&self, completion: Completion) {
        let mut done = lock(&self.done);
        if self.closed.load(Ordering::Acquire) {
            drop(done);
            dispose(completion);
            return;
        }
        done.push(completion);
        self.has_results.store(true, Ordering::Release);
        drop(done);
        self.waker.wake();
    }

    /// Hands each finished job to `each`, if the pool posted any: when it did not (nearly
    /// every call on a driver's hot path), this is one atomic load and a branch. `scratch` is
    /// the caller's to keep between calls, so that the vectors' capacity is reused and
    /// collecting allocates nothing.
    #[inline]
    pub(crate) fn collect(&self, scratch: &mut Vec<Completion>, each: impl FnMut(Completion)) {
        if self.has_results.load(Ordering::Acquire) {
            self.collect_posted(scratch, each);
        }
    }

    // Out of line and cold, so that the check inlined into the backends stays a load and a
    // branch: without `cold`, the compiler computes this call's arguments before the branch
    // (two more instructions per check on io_uring's poll, callgrind).
    #[cold]
    #[inline(never)]
    fn collect_posted(&self, scratch: &mut Vec<Completion>, mut each: impl FnMut(Completion)) {
        self.take(scratch);
        for completion in scratch.drain(..) {
            each(completion);
        }
    }

    /// Moves finished jobs into `into` (swapping vectors, so neither side allocates).
    fn take(&self, into: &mut Vec<Completion>) {
        let mut done = lock(&self.done);
        self.has_results.store(false, Ordering::Relaxed);
        if done.is_empty() {
            // Swapping now would trade a vector with capacity for an empty one, and the next
            // delivery would allocate.
            return;
        }
        if into.is_empty() {
            std::mem::swap(&mut *done, into);
        } else {
            into.append(&mut done);
        }
    }

    /// Marks the driver gone and disposes of results that were never collected.
    pub(crate) fn close(&self) {
        let mut done = lock(&self.done);
        self.closed.store(true, Ordering::Release);
        for completion in done.drain(..) {
            dispose(completion);
        }
    }
}

/// Drops a result nobody will receive, closing a descriptor it created.
fn dispose(completion: Completion) {
    if let (Ok(fd), true) = (&completion.result, completion.op.creates_fd()) {
        sys::close_quietly(*fd as crate::Fd);
    }
}

struct Job {
    id: OpId,
    op: Op,
    reply: Arc<Reply>,
    /// The duplicates `op` runs on (see [`hold`]).
    held: Held,
}

/// The descriptors a job runs on: (the caller's number, its duplicate).
#[derive(Default)]
struct Held {
    pairs: [(crate::Fd, crate::Fd); 2],
    len: usize,
}

impl Held {
    /// Whether the caller's descriptor `fd` is one of those duplicated.
    fn names(&self, fd: crate::Fd) -> bool {
        self.pairs[..self.len]
            .iter()
            .any(|&(original, _)| original == fd)
    }
}

/// Points `op` at duplicates of the descriptors it names. The caller may close its descriptor
/// as soon as it has cancelled the operation, while the job still waits in the queue or runs,
/// and the next descriptor opened then gets the number: a job working on the number would
/// write, truncate or read that other file. A duplicate is the job's own reference to what the
/// caller named, closed when the job ends. Negative numbers (`AT_FDCWD`, invalid ones) are
/// left for the call to judge.
#[cfg(unix)]
fn hold(op: &mut Op) -> io::Result<Held> {
    let mut held = Held::default();
    let mut failure = None;
    for fd in op.descriptors_mut().into_iter().flatten() {
        if *fd < 0 || failure.is_some() {
            continue;
        }
        match sys::duplicate(*fd) {
            Ok(duplicate) => {
                held.pairs[held.len] = (*fd, duplicate);
                held.len += 1;
                *fd = duplicate;
            }
            Err(error) => failure = Some(error),
        }
    }
    match failure {
        None => Ok(held),
        Some(error) => {
            release(op, held);
            Err(error)
        }
    }
}

/// Gives `op` the caller's numbers back and closes the duplicates.
#[cfg(unix)]
fn release(op: &mut Op, held: Held) {
    let pairs = &held.pairs[..held.len];
    for fd in op.descriptors_mut().into_iter().flatten() {
        if let Some(&(original, _)) = pairs.iter().find(|&&(_, duplicate)| duplicate == *fd) {
            *fd = original;
        }
    }
    for &(_, duplicate) in pairs {
        sys::close_quietly(duplicate);
    }
}

// Windows' pool runs console reads and user closures, on handles it does not close early.
#[cfg(not(unix))]
fn hold(_op: &mut Op) -> io::Result<Held> {
    Ok(Held::default())
}

#[cfg(not(unix))]
fn release(_op: &mut Op, _held: Held) {}

struct State {
    jobs: VecDeque<Job>,
    threads: usize,
    /// Threads waiting on the condition variable.
    idle: usize,
    /// Threads running a job; the others will take the next queued job without a new thread.
    running: usize,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    max_threads: usize,
    idle_timeout: Duration,
}

/// A bounded, lazily started pool of worker threads.
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

impl Pool {
    pub(crate) fn new(max_threads: usize, idle_timeout: Duration) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    jobs: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    running: 0,
                }),
                work: Condvar::new(),
                max_threads: max_threads.max(1),
                idle_timeout,
            }),
        }
    }

    /// The process-wide pool every driver shares.
    pub(crate) fn global() -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| {
            let max_threads = std::env::var("PROACTOR_POOL_THREADS")
                .ok()
                .and_then(|value| value.parse().ok())
                .unwrap_or(DEFAULT_MAX_THREADS);
            Pool::new(max_threads, DEFAULT_IDLE_TIMEOUT)
        })
    }

    /// Queues `op`; its completion is delivered to `reply`.
    pub(crate) fn execute(&self, id: OpId, mut op: Op, reply: &Arc<Reply>) {
        // Here, on the driver's thread, before anything it does next can close a descriptor.
        let held = match hold(&mut op) {
            Ok(held) => held,
            Err(error) => {
                return reply.deliver(Completion {
                    id,
                    result: Err(error),
                    op,
                    more: false,
                })
            }
        };
        let job = Job {
            id,
            op,
            reply: Arc::clone(reply),
            held,
        };
        let mut state = lock(&self.shared.state);
        state.jobs.push_back(job);
        if state.idle > 0 {
            self.shared.work.notify_one();
        }
        // Every thread not running a job takes one queued job: start another thread only for
        // jobs beyond those.
        let available = state.threads - state.running;
        if state.jobs.len() > available && state.threads < self.shared.max_threads {
            state.threads += 1;
            trace::event!(
                debug,
                threads = state.threads,
                max_threads = self.shared.max_threads,
                queued = state.jobs.len(),
                "pool thread started"
            );
            drop(state);
            let shared = Arc::clone(&self.shared);
            let spawned = thread::Builder::new()
                .name("proactor-pool".into())
                .spawn(move || worker(&shared));
            if let Err(error) = spawned {
                trace::warning!("proactor: thread pool cannot start a thread: {error}");
                let mut state = lock(&self.shared.state);
                state.threads -= 1;
                if state.threads == 0 {
                    // No thread will ever run the queue: fail its jobs rather than hang them.
                    let jobs: Vec<Job> = state.jobs.drain(..).collect();
                    drop(state);
                    for job in jobs {
                        let Job {
                            id,
                            mut op,
                            reply,
                            held,
                        } = job;
                        release(&mut op, held);
                        let result = Err(io::Error::new(
                            error.kind(),
                            format!("thread pool cannot start a thread: {error}"),
                        ));
                        reply.deliver(Completion::new(id, result, op));
                    }
                }
            }
        }
    }

    /// Takes the job `id` of `reply` back if no thread has started it yet: it will never
    /// run, and its operation comes back to the caller. `None` if it is running or done (it
    /// then completes with its own result).
    pub(crate) fn cancel(&self, id: OpId, reply: &Arc<Reply>) -> Option<Op> {
        let mut state = lock(&self.shared.state);
        let index = state
            .jobs
            .iter()
            .position(|job| job.id == id && Arc::ptr_eq(&job.reply, reply))?;
        let Job { mut op, held, .. } = state.jobs.remove(index)?;
        drop(state);
        release(&mut op, held);
        Some(op)
    }

    /// Takes back every job of `reply` not started yet that names descriptor `fd`, which is
    /// about to be closed (its number may then name something else by the time a thread
    /// would get to the job), and hands each to `each`.
    pub(crate) fn cancel_using_fd(
        &self,
        reply: &Arc<Reply>,
        fd: crate::Fd,
        mut each: impl FnMut(OpId, Op),
    ) {
        let mut state = lock(&self.shared.state);
        let mut index = 0;
        while index < state.jobs.len() {
            let job = &state.jobs[index];
            // A queued job runs on duplicates (see `hold`): the caller's numbers are in `held`.
            if Arc::ptr_eq(&job.reply, reply) && (job.op.uses_fd(fd) || job.held.names(fd)) {
                if let Some(Job {
                    id, mut op, held, ..
                }) = state.jobs.remove(index)
                {
                    release(&mut op, held);
                    each(id, op);
                }
            } else {
                index += 1;
            }
        }
    }

    #[cfg(test)]
    fn threads(&self) -> usize {
        lock(&self.shared.state).threads
    }

    /// What the pool is doing now.
    pub(crate) fn stats(&self) -> PoolStats {
        let state = lock(&self.shared.state);
        PoolStats {
            threads: state.threads,
            running: state.running,
            queued: state.jobs.len(),
            max_threads: self.shared.max_threads,
        }
    }
}

/// A look at the process's thread pool (shared by every driver), from
/// [`Driver::pool_stats`](crate::Driver::pool_stats): the anchor is libuv's threadpool and
/// tokio's blocking-pool metrics.
///
/// # Examples
///
/// ```
/// let stats = proactor_driver::Driver::pool_stats();
/// assert!(stats.running <= stats.threads && stats.threads <= stats.max_threads);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Threads started and not exited (they exit after sitting idle for a while).
    pub threads: usize,
    /// Threads running a job now.
    pub running: usize,
    /// Jobs waiting for a thread.
    pub queued: usize,
    /// The most threads the pool starts (`PROACTOR_POOL_THREADS`, default 64).
    pub max_threads: usize,
}

fn worker(shared: &Shared) {
    let mut state = lock(&shared.state);
    loop {
        if let Some(job) = state.jobs.pop_front() {
            state.running += 1;
            drop(state);
            let (reply, completion) = run(job);
            // Available again before the driver hears of the result, so the job it submits
            // next does not start a thread for nothing.
            lock(&shared.state).running -= 1;
            reply.deliver(completion);
            state = lock(&shared.state);
            continue;
        }
        state.idle += 1;
        let (next, timeout) = shared
            .work
            .wait_timeout(state, shared.idle_timeout)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state = next;
        state.idle -= 1;
        if timeout.timed_out() && state.jobs.is_empty() {
            state.threads -= 1;
            trace::event!(debug, threads = state.threads, "pool thread retired");
            return;
        }
    }
}

fn run(job: Job) -> (Arc<Reply>, Completion) {
    let Job {
        id,
        mut op,
        reply,
        held,
    } = job;
    let result = catch_unwind(AssertUnwindSafe(|| sys::perform_blocking(&mut op)))
        .unwrap_or_else(|panic| Err(panic_error(panic.as_ref())));
    release(&mut op, held);
    (reply, Completion::new(id, result, op))
}

fn panic_error(panic: &(dyn Any + Send)) -> io::Error {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string payload");
    io::Error::other(format!("thread pool job panicked: {message}"))
}

/// Locks, ignoring poisoning: a panic never happens while these locks are held (jobs run
/// unlocked and inside `catch_unwind`), and a stuck pool would be worse than a stale flag.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn wait_for(reply: &Reply, count: usize) -> Vec<Completion> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut done = Vec::new();
        while done.len() < count {
            assert!(
                Instant::now() < deadline,
                "pool jobs did not finish in time"
            );
            reply.take(&mut done);
            thread::sleep(Duration::from_millis(1));
        }
        done
    }

    fn blocking(job: impl FnOnce() -> io::Result<usize> + Send + 'static) -> Op {
        Op::Blocking { job: Box::new(job) }
    }

    #[test]
    fn panicking_job_reports_error_and_pool_keeps_working() {
        let pool = Pool::new(1, Duration::from_secs(5));
        let reply = Reply::new(Arc::new(sys::Waker::new().unwrap()));
        let id = OpId {
            index: 0,
            generation: 1,
        };
        pool.execute(id, blocking(|| panic!("boom")), &reply);
        pool.execute(id, blocking(|| Ok(42)), &reply);
        let done = wait_for(&reply, 2);
        let error = done[0].result.as_ref().unwrap_err();
        assert!(error.to_string().contains("boom"), "{error}");
        assert_eq!(*done[1].result.as_ref().unwrap(), 42);
    }

    #[test]
    fn threads_are_bounded_and_exit_when_idle() {
        let pool = Pool::new(3, Duration::from_millis(50));
        let reply = Reply::new(Arc::new(sys::Waker::new().unwrap()));
        for index in 0..20 {
            let id = OpId {
                index,
                generation: 1,
            };
            pool.execute(
                id,
                blocking(|| {
                    thread::sleep(Duration::from_millis(5));
                    Ok(1)
                }),
                &reply,
            );
            assert!(pool.threads() <= 3);
        }
        assert_eq!(wait_for(&reply, 20).len(), 20);
        let deadline = Instant::now() + Duration::from_secs(10);
        while pool.threads() > 0 {
            assert!(Instant::now() < deadline, "idle threads did not exit");
            thread::sleep(Duration::from_millis(10));
        }
        // And it starts again on demand.
        pool.execute(
            OpId {
                index: 0,
                generation: 2,
            },
            blocking(|| Ok(7)),
            &reply,
        );
        assert_eq!(*wait_for(&reply, 1)[0].result.as_ref().unwrap(), 7);
    }
}
