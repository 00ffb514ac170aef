//! The executor and timers.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use proactor::time::{interval, sleep, timeout};
use proactor::{spawn, yield_now, Runtime};

pub fn spawn_and_join(runtime: Runtime) {
    let total = runtime.block_on(async {
        let handles: Vec<_> = (0..100u64).map(|i| spawn(async move { i * 2 })).collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, 9900);
}

pub fn abort_drops_the_task(runtime: Runtime) {
    runtime.block_on(async {
        let dropped = Rc::new(Cell::new(false));
        struct SetOnDrop(Rc<Cell<bool>>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let guard = SetOnDrop(Rc::clone(&dropped));
        let handle = spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
        });
        yield_now().await;
        handle.abort();
        let error = handle.await.unwrap_err();
        assert!(error.is_cancelled());
        assert!(dropped.get(), "the task's future was dropped");
    });
}

pub fn panicking_task_is_a_join_error(runtime: Runtime) {
    runtime.block_on(async {
        let error = spawn(async { panic!("task panic") }).await.unwrap_err();
        assert!(error.is_panic());
        // The runtime carries on.
        assert_eq!(spawn(async { 5 }).await.unwrap(), 5);
    });
}

pub fn detached_tasks_run_on(runtime: Runtime) {
    let ran = Rc::new(Cell::new(false));
    let flag = Rc::clone(&ran);
    runtime.block_on(async move {
        drop(spawn(async move {
            sleep(Duration::from_millis(5)).await;
            flag.set(true);
        }));
        sleep(Duration::from_millis(50)).await;
    });
    assert!(ran.get());
}

pub fn yield_now_lets_others_run(runtime: Runtime) {
    runtime.block_on(async {
        let counter = Rc::new(Cell::new(0));
        let other = Rc::clone(&counter);
        let handle = spawn(async move {
            other.set(other.get() + 1);
        });
        while counter.get() == 0 {
            yield_now().await;
        }
        handle.await.unwrap();
    });
}

pub fn sleep_waits_its_duration(runtime: Runtime) {
    runtime.block_on(async {
        let start = Instant::now();
        sleep(Duration::from_millis(30)).await;
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(30), "{elapsed:?}");
        assert!(elapsed < crate::LIMIT);
        // Many sleeps at once end in deadline order.
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        let handles: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| {
                let order = Rc::clone(&order);
                spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    order.borrow_mut().push(ms);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(*order.borrow(), [10, 20, 30]);
    });
}

/// Timers with one deadline fire in the order they were set, as libuv's and tokio's do:
/// code that arms "A then B" for the same instant may rely on A running first.
pub fn equal_deadlines_fire_in_the_order_set(runtime: Runtime) {
    runtime.block_on(async {
        let count = 10_000;
        // A timer first polled after its deadline is ready at once, ahead of those set in
        // time: a loaded machine gets a longer delay rather than a false failure.
        for delay_ms in [50, 250, 2000] {
            let deadline = Instant::now() + Duration::from_millis(delay_ms);
            let order = Rc::new(std::cell::RefCell::new(Vec::new()));
            let late = Rc::new(std::cell::Cell::new(false));
            let handles: Vec<_> = (0..count)
                .map(|n| {
                    let (order, late) = (Rc::clone(&order), Rc::clone(&late));
                    spawn(async move {
                        let sleep = proactor::time::sleep_until(deadline);
                        late.set(late.get() || Instant::now() >= deadline);
                        sleep.await;
                        order.borrow_mut().push(n);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
            if late.get() {
                continue;
            }
            let order = order.borrow();
            assert_eq!(order.len(), count);
            let first = order.windows(2).position(|pair| pair[0] > pair[1]);
            assert_eq!(first, None, "timers of one deadline fired out of order");
            return;
        }
        panic!("the machine is too slow to set 10,000 timers in 2 s");
    });
}

pub fn timeout_elapses_and_completes(runtime: Runtime) {
    runtime.block_on(async {
        let start = Instant::now();
        let result = timeout(Duration::from_millis(20), std::future::pending::<()>()).await;
        assert!(result.is_err());
        assert!(start.elapsed() >= Duration::from_millis(20));
        let result = timeout(Duration::from_secs(5), async { 3 }).await;
        assert_eq!(result, Ok(3));
    });
}

/// Durations too long for any clock (`Duration::MAX`, `u64::MAX` seconds) mean "never":
/// nothing panics or fails, an endless sleep stays pending while short ones end, and a timeout
/// that long just waits for its future.
pub fn endless_durations_never_end(runtime: Runtime) {
    runtime.block_on(async {
        for endless in [Duration::MAX, Duration::from_secs(u64::MAX)] {
            let start = Instant::now();
            let short = timeout(Duration::from_millis(20), sleep(endless)).await;
            assert!(short.is_err(), "the endless sleep ended");
            assert!(start.elapsed() < crate::LIMIT);
            assert_eq!(timeout(endless, async { 7 }).await, Ok(7));
            let waited = timeout(endless, sleep(Duration::from_millis(20))).await;
            assert_eq!(waited, Ok(()));
            // Moved to now, an endless sleep ends.
            let mut moved = sleep(endless);
            moved.reset(Instant::now());
            moved.await;
            let mut ticks = interval(endless);
            ticks.tick().await;
            let second = timeout(Duration::from_millis(20), ticks.tick()).await;
            assert!(second.is_err(), "an endless interval ticked twice");
        }
        // A task sleeping forever does not keep the others from running, and is dropped with
        // its runtime's block_on.
        let forever = spawn(sleep(Duration::MAX));
        sleep(Duration::from_millis(5)).await;
        forever.abort();
    });
}

pub fn interval_ticks(runtime: Runtime) {
    runtime.block_on(async {
        let start = Instant::now();
        let mut ticks = interval(Duration::from_millis(10));
        let first = ticks.tick().await;
        for _ in 0..4 {
            ticks.tick().await;
        }
        assert!(
            first.duration_since(start) < Duration::from_millis(10),
            "first tick at once"
        );
        assert!(
            start.elapsed() >= Duration::from_millis(40),
            "{:?}",
            start.elapsed()
        );
    });
}

pub fn many_timers_armed_and_cancelled(runtime: Runtime) {
    runtime.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| {
                spawn(timeout(
                    Duration::from_secs(60 + i),
                    std::future::pending::<()>(),
                ))
            })
            .collect();
        yield_now().await;
        yield_now().await;
        for handle in &handles {
            handle.abort();
        }
        for handle in handles {
            assert!(handle.await.unwrap_err().is_cancelled());
        }
        assert!(start.elapsed() < crate::LIMIT);
        // A fresh short sleep still fires on time: no cancelled timer is in its way.
        let before = Instant::now();
        sleep(Duration::from_millis(5)).await;
        assert!(before.elapsed() < Duration::from_secs(2));
    });
}

pub fn handle_spawns_from_another_thread(runtime: Runtime) {
    let handle = runtime.handle();
    let (sender, receiver) = std::sync::mpsc::channel();
    let start = Instant::now();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        handle.spawn(async move {
            sender.send(std::thread::current().id()).unwrap();
        });
    });
    let here = std::thread::current().id();
    let ran_on = runtime.block_on(async move {
        loop {
            if let Ok(id) = receiver.try_recv() {
                return id;
            }
            // Sleeps in the kernel between checks: the remote spawn must wake the loop.
            sleep(Duration::from_millis(5)).await;
            assert!(start.elapsed() < crate::LIMIT, "remote spawn never ran");
        }
    });
    assert_eq!(
        ran_on, here,
        "Send futures from a Handle run on the runtime's thread"
    );
    thread.join().unwrap();
    // An idle runtime (no timer, no I/O) sleeps in the kernel; a remote dispatch wakes it.
    let handle = runtime.handle();
    let signal: std::sync::Arc<std::sync::Mutex<(bool, Option<std::task::Waker>)>> =
        Default::default();
    let remote = std::sync::Arc::clone(&signal);
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        handle.dispatch(move || {
            let mut state = remote.lock().unwrap();
            state.0 = true;
            if let Some(waker) = state.1.take() {
                waker.wake();
            }
        });
    });
    let start = Instant::now();
    runtime.block_on(std::future::poll_fn(|cx| {
        let mut state = signal.lock().unwrap();
        if state.0 {
            return std::task::Poll::Ready(());
        }
        state.1 = Some(cx.waker().clone());
        std::task::Poll::Pending
    }));
    assert!(start.elapsed() < crate::LIMIT);
    thread.join().unwrap();
}

pub fn panics_in_remote_tasks_do_not_stop_the_runtime(runtime: Runtime) {
    let handle = runtime.handle();
    handle.spawn(async { panic!("remote task panic") });
    let (sender, receiver) = std::sync::mpsc::channel();
    handle.spawn(async move { sender.send(7).unwrap() });
    let value = runtime.block_on(async move {
        loop {
            if let Ok(value) = receiver.try_recv() {
                return value;
            }
            sleep(Duration::from_millis(1)).await;
        }
    });
    assert_eq!(value, 7);
}

/// A group of two pinned runtimes on the backend under test runs a future on each, on
/// threads of their own, and takes work from outside for a chosen one.
pub fn group_of_pinned_runtimes(runtime: Runtime) {
    let backend = runtime.backend();
    drop(runtime);
    let group = proactor::Builder::new()
        .backend(backend)
        .threads(2)
        .pin_to_cores(true)
        .build_group()
        .expect("a group on the backend under test");
    let caller = std::thread::current().id();
    let ran = group.run(|index| async move {
        sleep(Duration::from_millis(1)).await;
        (
            index,
            std::thread::current().id(),
            proactor::current_backend(),
        )
    });
    assert_eq!(ran.len(), 2);
    assert_eq!((ran[0].0, ran[1].0), (0, 1), "in runtime order");
    assert!(ran
        .iter()
        .all(|(_, thread, used)| *thread != caller && *used == backend));
    assert_ne!(ran[0].1, ran[1].1, "one thread per runtime");
    let (sender, receiver) = std::sync::mpsc::channel();
    group.spawn_on(1, move || async move {
        yield_now().await;
        sender.send(std::thread::current().id()).unwrap();
    });
    let thread = receiver
        .recv_timeout(crate::LIMIT)
        .expect("the task spawned on runtime 1 ran");
    assert_eq!(thread, ran[1].1);
}

/// Ticks due at `first + n × period`: the missed ones taken at once (`Burst`, the default),
/// the schedule moved (`Delay`), or the missed ones dropped with the schedule kept (`Skip`).
pub fn interval_missed_ticks(runtime: Runtime) {
    use proactor::time::MissedTickBehavior;
    let period = Duration::from_millis(20);
    for behavior in [
        MissedTickBehavior::Burst,
        MissedTickBehavior::Delay,
        MissedTickBehavior::Skip,
    ] {
        runtime.block_on(async {
            let mut ticks = interval(period);
            ticks.set_missed_tick_behavior(behavior);
            let first = ticks.tick().await;
            // Busy past two ticks (at +20 and +40 ms).
            std::thread::sleep(Duration::from_millis(55));
            let taken = Instant::now();
            let late = ticks.tick().await;
            assert_eq!(late, first + period, "{behavior:?}: the first missed tick");
            let next = ticks.tick().await;
            match behavior {
                MissedTickBehavior::Burst => assert_eq!(next, first + 2 * period),
                MissedTickBehavior::Delay => {
                    assert!(next >= taken + period, "{behavior:?}: {next:?} {taken:?}")
                }
                MissedTickBehavior::Skip => {
                    let since = next.duration_since(first);
                    assert_eq!(since.as_nanos() % period.as_nanos(), 0, "on the schedule");
                    assert!(
                        next > taken,
                        "{behavior:?}: a tick to come, not a missed one"
                    );
                    assert!(next <= Instant::now() + period, "the schedule's next tick");
                }
            }
        });
    }
}

/// `interval_at` starts where it is told; `reset` starts the schedule again from now.
pub fn interval_at_and_reset(runtime: Runtime) {
    use proactor::time::interval_at;
    runtime.block_on(async {
        let start = Instant::now() + Duration::from_millis(15);
        let mut ticks = interval_at(start, Duration::from_millis(10));
        assert_eq!(ticks.tick().await, start);
        assert!(Instant::now() >= start);
        let reset_at = Instant::now();
        ticks.reset();
        let next = ticks.tick().await;
        assert!(next >= reset_at + Duration::from_millis(10));
    });
}

/// `timeout_at`: the future's output before the deadline, `Elapsed` at it.
pub fn timeout_at_elapses_and_completes(runtime: Runtime) {
    use proactor::time::timeout_at;
    runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_millis(20);
        let elapsed = timeout_at(deadline, std::future::pending::<()>()).await;
        assert!(elapsed.is_err());
        assert!(Instant::now() >= deadline);
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(timeout_at(far, async { 3 }).await, Ok(3));
        // A deadline already past elapses at once, unless the future is ready first.
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(timeout_at(past, async { 4 }).await, Ok(4));
        assert!(timeout_at(past, std::future::pending::<()>())
            .await
            .is_err());
    });
}

/// A handle names its task's place in the runtime's table: once the task has ended and its
/// output was taken, the place goes to the next task, which the old task's handles do not
/// reach.
pub fn handles_of_an_ended_task_leave_the_next_alone(runtime: Runtime) {
    runtime.block_on(async {
        let first = spawn(async { 1 });
        let stale = first.abort_handle();
        assert_eq!(first.await.unwrap(), 1);
        assert!(stale.is_finished());
        // Spawned into the place the first one left.
        let second = spawn(async {
            yield_now().await;
            2
        });
        stale.abort();
        assert!(!second.is_finished());
        assert_eq!(
            second.await.unwrap(),
            2,
            "not aborted by the old task's handle"
        );
    });
}

/// A task's output outlives its runtime for its handle; a task the runtime's drop cut short
/// is cancelled, not pending forever.
pub fn handles_outlive_their_runtime(runtime: Runtime) {
    let ended = runtime.spawn(async { String::from("kept") });
    let cut_short = runtime.spawn(std::future::pending::<()>());
    runtime.block_on(yield_now());
    assert!(ended.is_finished());
    assert!(!cut_short.is_finished());
    drop(runtime);
    assert!(cut_short.is_finished());
    let other = Runtime::new().unwrap();
    assert_eq!(other.block_on(ended).unwrap(), "kept");
    assert!(other.block_on(cut_short).unwrap_err().is_cancelled());
}

/// Aborting a task from inside itself ends it at its next turn; a task awaiting another that
/// panics gets the panic; the runtime counts only tasks that have not ended, also while their
/// outputs wait for their handles.
pub fn aborts_panics_and_alive_counts(runtime: Runtime) {
    runtime.block_on(async {
        let (sender, receiver) = std::sync::mpsc::channel::<proactor::task::AbortHandle>();
        let itself = spawn(async move {
            let abort = receiver.recv().unwrap();
            abort.abort();
            // Still running until its next turn.
            yield_now().await;
            unreachable!("aborted at its next turn");
        });
        sender.send(itself.abort_handle()).unwrap();
        assert!(itself.await.unwrap_err().is_cancelled());

        let waiting = spawn(async { spawn(async { panic!("inner") }).await });
        let error = waiting.await.unwrap().unwrap_err();
        assert_eq!(
            *error.try_into_panic().unwrap().downcast::<&str>().unwrap(),
            "inner"
        );

        let ended = spawn(async { 3 });
        let running = spawn(std::future::pending::<()>());
        yield_now().await;
        assert_eq!(
            Runtime::current_metrics().num_alive_tasks(),
            1,
            "the pending one"
        );
        running.abort();
        assert!(running.await.unwrap_err().is_cancelled());
        assert_eq!(Runtime::current_metrics().num_alive_tasks(), 0);
        assert_eq!(ended.await.unwrap(), 3);
    });
}
