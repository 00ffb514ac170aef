//! libuv's run modes (`run_once`, `run_nowait`, `run` with `Handle::stop`) and the runtime's
//! metrics.

use std::time::{Duration, Instant};

use proactor::io::AsyncRead;
use proactor::time::sleep;
use proactor::{OpKind, Runtime};

use crate::LIMIT;

pub fn run_nowait_never_waits_and_run_once_waits_once(runtime: Runtime) {
    // Nothing alive: neither waits.
    assert!(!runtime.run_once().unwrap());
    assert!(!runtime.run_nowait().unwrap());
    let sleeper = runtime.spawn(sleep(Duration::from_secs(3600)));
    let start = Instant::now();
    for _ in 0..10 {
        assert!(runtime.run_nowait().unwrap(), "the sleeper is alive");
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "run_nowait waited"
    );
    sleeper.abort();
    let quick = runtime.spawn(async {
        sleep(Duration::from_millis(20)).await;
        5
    });
    let start = Instant::now();
    while runtime.run_once().unwrap() {
        assert!(start.elapsed() < LIMIT);
    }
    assert!(
        start.elapsed() >= Duration::from_millis(20),
        "run_once waited for the timer"
    );
    assert!(quick.is_finished());
    assert_eq!(runtime.block_on(quick).unwrap(), 5);
}

pub fn run_ends_when_tasks_do_or_when_stopped(runtime: Runtime) {
    let handle = runtime.handle();
    let done = runtime.spawn(async {
        sleep(Duration::from_millis(5)).await;
        "done"
    });
    runtime.run().unwrap();
    assert!(done.is_finished());
    // A task that never ends: only a stop from another thread ends `run`.
    let _forever = runtime.spawn(std::future::pending::<()>());
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        handle.stop();
    });
    let start = Instant::now();
    runtime.run().unwrap();
    assert!(start.elapsed() < LIMIT);
    stopper.join().unwrap();
    assert_eq!(
        runtime.metrics().num_alive_tasks(),
        1,
        "stopping drops nothing"
    );
    assert_eq!(runtime.block_on(done).unwrap(), "done");
}

pub fn metrics_count_tasks_timers_and_operations(runtime: Runtime) {
    let before = runtime.metrics();
    assert_eq!(before.num_alive_tasks(), 0);
    assert_eq!(before.ops_in_flight(), 0);
    runtime.block_on(async {
        let (_client, mut server) = crate::tcp_pair().await;
        let reading = proactor::spawn(async move {
            let (result, _) = server.read(Vec::with_capacity(16)).await;
            result
        });
        let sleeping = proactor::spawn(sleep(Duration::from_secs(3600)));
        proactor::yield_now().await;
        proactor::yield_now().await;
        let metrics = Runtime::current_metrics();
        assert_eq!(metrics.num_alive_tasks(), 2);
        assert_eq!(metrics.num_timers(), 1);
        let receives: usize = metrics
            .ops_in_flight_by_kind()
            .iter()
            .filter(|(kind, _)| matches!(kind, OpKind::Read | OpKind::Recv | OpKind::RecvPooled))
            .map(|(_, count)| count)
            .sum();
        assert_eq!(receives, 1, "{:?}", metrics.ops_in_flight_by_kind());
        assert!(metrics.ops_in_flight() >= 1);
        reading.abort();
        sleeping.abort();
        let _ = reading.await;
        let _ = sleeping.await;
    });
    let after = runtime.metrics();
    assert!(after.spawned_tasks_count() >= before.spawned_tasks_count() + 2);
    assert!(after.poll_count() > before.poll_count());
    assert!(after.turn_count() > before.turn_count());
    assert_eq!(after.num_alive_tasks(), 0);
    assert_eq!(after.num_timers(), 0);
    let pool = after.thread_pool();
    assert!(pool.running <= pool.threads && pool.threads <= pool.max_threads);
}

pub fn shutdown_gracefully_lets_tasks_finish_then_cuts_the_rest(runtime: Runtime) {
    use std::cell::Cell;
    use std::rc::Rc;

    let backend = runtime.backend();
    // Everything finishes: it returns as soon as the last task ends, not at the deadline.
    let finished = Rc::new(Cell::new(false));
    let flag = finished.clone();
    runtime.spawn(async move {
        sleep(Duration::from_millis(10)).await;
        flag.set(true);
    });
    let start = Instant::now();
    assert_eq!(runtime.shutdown_gracefully(LIMIT).unwrap(), 0);
    assert!(finished.get());
    assert!(start.elapsed() < LIMIT / 2, "waited for the deadline");

    // One never ends: cut short at the deadline, and dropped (not leaked).
    let runtime = proactor::Builder::new().backend(backend).build().unwrap();
    let dropped = Rc::new(Cell::new(false));
    struct SetOnDrop(Rc<Cell<bool>>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let guard = SetOnDrop(dropped.clone());
    runtime.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    let start = Instant::now();
    assert_eq!(
        runtime
            .shutdown_gracefully(Duration::from_millis(100))
            .unwrap(),
        1
    );
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert!(dropped.get(), "the cut task was dropped with the runtime");

    // A group: each runtime drains its own.
    let group = proactor::Builder::new()
        .backend(backend)
        .threads(2)
        .build_group()
        .unwrap();
    let finishing = group.spawn(|| sleep(Duration::from_millis(10)));
    let _forever = group.spawn(std::future::pending::<()>);
    assert_eq!(group.shutdown_gracefully(Duration::from_millis(100)), 1);
    assert!(finishing.is_finished());
}

pub fn hooks_run_around_waits_and_threads(runtime: Runtime) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    let backend = runtime.backend();
    drop(runtime);
    let events = Arc::new(Mutex::new(Vec::new()));
    let (park, unpark) = (Arc::clone(&events), Arc::clone(&events));
    let runtime = proactor::Builder::new()
        .backend(backend)
        .on_thread_park(move || park.lock().unwrap().push("park"))
        .on_thread_unpark(move || unpark.lock().unwrap().push("unpark"))
        .build()
        .unwrap();
    runtime.block_on(sleep(Duration::from_millis(10)));
    let seen = events.lock().unwrap().clone();
    assert!(!seen.is_empty());
    // Each wait is bracketed: park, then unpark.
    for pair in seen.chunks(2) {
        assert_eq!(pair, ["park", "unpark"], "{seen:?}");
    }
    assert_eq!(runtime.metrics().park_count() as usize, seen.len() / 2);

    let (started, stopped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (start, stop) = (Arc::clone(&started), Arc::clone(&stopped));
    let group = proactor::Builder::new()
        .backend(backend)
        .threads(2)
        .on_thread_start(move || {
            // On the group's thread, before its runtime runs anything.
            assert!(std::thread::current()
                .name()
                .unwrap()
                .starts_with("proactor-"));
            start.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_stop(move || {
            stop.fetch_add(1, Ordering::SeqCst);
        })
        .build_group()
        .unwrap();
    assert_eq!(started.load(Ordering::SeqCst), 2);
    assert_eq!(stopped.load(Ordering::SeqCst), 0);
    drop(group);
    assert_eq!(stopped.load(Ordering::SeqCst), 2);
}
