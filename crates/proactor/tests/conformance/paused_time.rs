//! A stopped clock (`time::pause`, `advance`, `resume`, `Builder::start_paused`): timers end
//! without real waiting, in deadline order, and I/O still completes.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use proactor::time::{self, interval, sleep, timeout, MissedTickBehavior};
use proactor::{spawn, yield_now, Builder, Runtime};

use crate::LIMIT;

/// The same backend, started paused.
fn paused(runtime: Runtime) -> Runtime {
    let backend = runtime.backend();
    drop(runtime);
    Builder::new()
        .backend(backend)
        .start_paused(true)
        .build()
        .unwrap()
}

pub fn a_paused_clock_runs_timers_without_waiting(runtime: Runtime) {
    let runtime = paused(runtime);
    let real = Instant::now();
    runtime.block_on(async {
        let start = time::now();
        sleep(Duration::from_secs(3600)).await;
        assert_eq!(
            time::now() - start,
            Duration::from_secs(3600),
            "exactly to the deadline"
        );
        // A day of minute ticks.
        let mut ticks = interval(Duration::from_secs(60));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let first = ticks.tick().await;
        let mut last = first;
        for _ in 0..1440 {
            last = ticks.tick().await;
        }
        assert_eq!(last - first, Duration::from_secs(1440 * 60));
        // A future that never ends times out at its deadline.
        let before = time::now();
        let timed_out = timeout(Duration::from_secs(30), std::future::pending::<()>()).await;
        assert!(timed_out.is_err());
        assert_eq!(time::now() - before, Duration::from_secs(30));
    });
    assert!(
        real.elapsed() < LIMIT,
        "a paused day took {:?}",
        real.elapsed()
    );
}

pub fn timers_of_many_tasks_end_in_deadline_order(runtime: Runtime) {
    let runtime = paused(runtime);
    runtime.block_on(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let start = time::now();
        let tasks: Vec<_> = [50u64, 10, 40, 20, 30]
            .into_iter()
            .map(|seconds| {
                let order = order.clone();
                spawn(async move {
                    sleep(Duration::from_secs(seconds)).await;
                    order.borrow_mut().push((seconds, time::now() - start));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let order = order.borrow();
        let seconds: Vec<u64> = order.iter().map(|(seconds, _)| *seconds).collect();
        assert_eq!(seconds, [10, 20, 30, 40, 50]);
        for (seconds, elapsed) in order.iter() {
            assert_eq!(
                *elapsed,
                Duration::from_secs(*seconds),
                "each woke at its deadline"
            );
        }
    });
}

pub fn advance_moves_the_clock_by_hand(runtime: Runtime) {
    runtime.block_on(async {
        time::pause();
        let woke = Rc::new(RefCell::new(None));
        let start = time::now();
        let sleeper = {
            let woke = woke.clone();
            spawn(async move {
                sleep(Duration::from_millis(1500)).await;
                *woke.borrow_mut() = Some(time::now() - start);
            })
        };
        yield_now().await;
        time::advance(Duration::from_secs(1)).await;
        assert_eq!(*woke.borrow(), None, "not due yet");
        assert_eq!(time::now() - start, Duration::from_secs(1));
        time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            *woke.borrow(),
            Some(Duration::from_secs(2)),
            "woken by the advance"
        );
        sleeper.await.unwrap();
        // Running again, from where it stood.
        time::resume();
        let resumed = time::now();
        assert!(resumed >= start + Duration::from_secs(2));
        sleep(Duration::from_millis(5)).await;
        assert!(time::now() >= resumed + Duration::from_millis(5));
    });
}

pub fn a_paused_clock_with_no_timers_waits_for_io(runtime: Runtime) {
    use proactor::io::AsyncRead;

    let runtime = paused(runtime);
    runtime.block_on(async {
        let (client, mut server) = crate::tcp_pair().await;
        let mut client = client.into_std().unwrap();
        client.set_nonblocking(false).unwrap();
        // Real time passes on another thread; no timer is armed here, so the runtime waits
        // for the read rather than jumping anywhere.
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            std::io::Write::write_all(&mut client, b"late").unwrap();
            client
        });
        let clock = time::now();
        let (result, bytes) = server.read(Vec::with_capacity(8)).await;
        assert_eq!(&bytes[..result.unwrap()], b"late");
        assert_eq!(time::now(), clock, "the stopped clock did not move");
        drop(writer.join().unwrap());
    });
}

/// A panic's message, whether it was a literal or formatted.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(text), _) => text.to_string(),
        (_, Some(text)) => text.clone(),
        _ => String::new(),
    }
}

pub fn misuse_of_the_clock_panics_clearly(runtime: Runtime) {
    runtime.block_on(async {
        let resumed = std::panic::catch_unwind(time::resume).unwrap_err();
        let message = panic_message(&*resumed);
        assert!(message.contains("not stopped"), "{message}");
        time::pause();
        let paused_twice = std::panic::catch_unwind(time::pause).unwrap_err();
        let message = panic_message(&*paused_twice);
        assert!(message.contains("already stopped"), "{message}");
        time::resume();
    });
    let outside = std::panic::catch_unwind(time::pause).unwrap_err();
    let message = panic_message(&*outside);
    assert!(message.contains("inside a proactor runtime"), "{message}");
    // Outside a runtime the clock is the system's.
    let before = Instant::now();
    assert!(time::now() >= before);
}
