//! [`RuntimeMetrics`]: what a runtime is doing and has done, for dashboards and for finding
//! where a server's time goes (tokio's `RuntimeMetrics` and libuv's `uv_metrics_info` are the
//! anchors). The counters are plain cells bumped on the runtime's own thread (no atomics on
//! the hot path); a snapshot reads them with the driver's and the thread pool's state.

use std::cell::Cell;

use proactor_driver::{OpKind, PoolStats};

/// The runtime's running counts, bumped on its thread.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) spawned: Cell<u64>,
    pub(crate) polls: Cell<u64>,
    pub(crate) turns: Cell<u64>,
    pub(crate) parks: Cell<u64>,
}

impl Counters {
    #[inline]
    pub(crate) fn bump(counter: &Cell<u64>) {
        counter.set(counter.get().wrapping_add(1));
    }
}

/// A snapshot of one runtime's metrics, from [`Runtime::metrics`](crate::Runtime::metrics).
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     proactor::spawn(async {}).await.unwrap();
/// });
/// let metrics = runtime.metrics();
/// assert_eq!(metrics.spawned_tasks_count(), 1);
/// assert_eq!(metrics.num_alive_tasks(), 0);
/// assert!(metrics.turn_count() >= 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RuntimeMetrics {
    pub(crate) alive_tasks: usize,
    pub(crate) counters: (u64, u64, u64, u64),
    pub(crate) timers: usize,
    pub(crate) remote_queue: usize,
    pub(crate) ops_in_flight: usize,
    pub(crate) ops_by_kind: Vec<(OpKind, usize)>,
    pub(crate) ops_in_pool: usize,
    pub(crate) pool: PoolStats,
}

impl RuntimeMetrics {
    /// Tasks spawned on this runtime and not finished (tokio's `num_alive_tasks`).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let metrics = runtime.block_on(async {
    ///     let _waiting = proactor::spawn(std::future::pending::<()>());
    ///     proactor::Runtime::current_metrics()
    /// });
    /// assert_eq!(metrics.num_alive_tasks(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn num_alive_tasks(&self) -> usize {
        self.alive_tasks
    }

    /// Tasks spawned on this runtime since it started.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert_eq!(runtime.metrics().spawned_tasks_count(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawned_tasks_count(&self) -> u64 {
        self.counters.0
    }

    /// Times a task was polled (tokio's `worker_poll_count`; `block_on`'s own future not
    /// counted).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async { proactor::spawn(async {}).await.unwrap() });
    /// assert!(runtime.metrics().poll_count() >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_count(&self) -> u64 {
        self.counters.1
    }

    /// Turns of the runtime's loop: each runs the ready tasks and looks at the driver once
    /// (libuv's `loop_count`).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(proactor::yield_now());
    /// assert!(runtime.metrics().turn_count() >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn turn_count(&self) -> u64 {
        self.counters.2
    }

    /// Turns that had nothing to run and waited in the driver for I/O, a timer or another
    /// thread (tokio's `worker_park_count`); the rest only looked.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(proactor::time::sleep(std::time::Duration::from_millis(1)));
    /// assert!(runtime.metrics().park_count() >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn park_count(&self) -> u64 {
        self.counters.3
    }

    /// Timers armed ([`sleep`](crate::time::sleep), [`timeout`](crate::time::timeout),
    /// [`interval`](crate::time::interval)s waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let metrics = runtime.block_on(async {
    ///     let _sleeping = proactor::spawn(proactor::time::sleep(std::time::Duration::from_secs(60)));
    ///     proactor::yield_now().await;
    ///     proactor::Runtime::current_metrics()
    /// });
    /// assert_eq!(metrics.num_timers(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn num_timers(&self) -> usize {
        self.timers
    }

    /// Wakes and jobs other threads sent that this runtime has not taken yet (tokio's
    /// `global_queue_depth`).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.handle().dispatch(|| {});
    /// assert_eq!(runtime.metrics().remote_queue_depth(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn remote_queue_depth(&self) -> usize {
        self.remote_queue
    }

    /// Operations submitted to the driver whose completions have not been handed out. A read
    /// that waits for its socket without an operation (on epoll and kqueue, a read that
    /// found nothing waits for the socket's next readable edge and receives then) counts as
    /// one too.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert_eq!(runtime.metrics().ops_in_flight(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ops_in_flight(&self) -> usize {
        self.ops_in_flight
    }

    /// The operations in flight by kind (kinds with none left out); those the thread pool
    /// holds now are counted by [`ops_in_thread_pool`](RuntimeMetrics::ops_in_thread_pool)
    /// instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncRead;
    /// use proactor::OpKind;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let _client = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let _reading = proactor::spawn(async move { server.read(Vec::with_capacity(16)).await });
    ///     proactor::yield_now().await;
    ///     let metrics = proactor::Runtime::current_metrics();
    ///     let reads: usize = metrics
    ///         .ops_in_flight_by_kind()
    ///         .iter()
    ///         .filter(|(kind, _)| matches!(kind, OpKind::Read | OpKind::Recv))
    ///         .map(|(_, count)| count)
    ///         .sum();
    ///     assert_eq!(reads, 1);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ops_in_flight_by_kind(&self) -> &[(OpKind, usize)] {
        &self.ops_by_kind
    }

    /// Operations of this runtime the thread pool holds now (file I/O on the readiness
    /// backends, [`spawn_blocking`](crate::spawn_blocking) jobs, opcodes a kernel lacks).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert_eq!(runtime.metrics().ops_in_thread_pool(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ops_in_thread_pool(&self) -> usize {
        self.ops_in_pool
    }

    /// The process's thread pool (shared by every runtime): threads started, threads
    /// running a job, jobs queued, and its bound (tokio's `num_blocking_threads`,
    /// `blocking_queue_depth`).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let pool = runtime.metrics().thread_pool();
    /// assert!(pool.running <= pool.threads && pool.threads <= pool.max_threads);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn thread_pool(&self) -> PoolStats {
        self.pool
    }
}
