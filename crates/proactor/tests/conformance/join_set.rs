//! `task::JoinSet` and `AbortHandle`: outputs in the order tasks end, each once; aborts;
//! detaching; a dropped set stops its tasks.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use proactor::task::JoinSet;
use proactor::time::sleep;
use proactor::{spawn, yield_now, Runtime};

/// Sets its flag when dropped: whether a task's future was dropped.
struct SetOnDrop(Rc<Cell<bool>>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

pub fn join_set_yields_outputs_as_tasks_end(runtime: Runtime) {
    runtime.block_on(async {
        let mut set = JoinSet::new();
        // Ending in the reverse of the order spawned.
        for n in 0..20u64 {
            set.spawn(async move {
                sleep(Duration::from_millis(2 * (20 - n))).await;
                n
            });
        }
        assert_eq!(set.len(), 20);
        let mut order = Vec::new();
        while let Some(output) = set.join_next().await {
            order.push(output.unwrap());
            assert_eq!(set.len(), 20 - order.len());
        }
        assert_eq!(order, (0..20u64).rev().collect::<Vec<_>>());
        assert!(set.join_next().await.is_none(), "empty: None at once");
        // A set is reused after it emptied: keys are taken again.
        for n in 0..1000u64 {
            set.spawn(async move { n });
        }
        let mut total = 0;
        while let Some(output) = set.join_next().await {
            total += output.unwrap();
        }
        assert_eq!(total, 499_500);
    });
}

pub fn join_set_reports_panics_and_aborts(runtime: Runtime) {
    runtime.block_on(async {
        let mut set = JoinSet::new();
        let dropped = Rc::new(Cell::new(false));
        let guard = SetOnDrop(Rc::clone(&dropped));
        let forever = set.spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
            "never"
        });
        set.spawn(async { panic!("boom") });
        set.spawn(async { "fine" });
        yield_now().await;
        assert!(!forever.is_finished());
        forever.abort();
        let (mut panics, mut cancels, mut fine) = (0, 0, 0);
        while let Some(output) = set.join_next().await {
            match output {
                Ok(text) => {
                    assert_eq!(text, "fine");
                    fine += 1;
                }
                Err(error) if error.is_panic() => panics += 1,
                Err(error) if error.is_cancelled() => cancels += 1,
                Err(error) => panic!("{error:?}"),
            }
        }
        assert_eq!((panics, cancels, fine), (1, 1, 1));
        assert!(forever.is_finished());
        assert!(dropped.get(), "the aborted task's future was dropped");
    });
}

pub fn dropping_a_join_set_aborts_its_tasks(runtime: Runtime) {
    runtime.block_on(async {
        let dropped = Rc::new(Cell::new(false));
        let guard = SetOnDrop(Rc::clone(&dropped));
        let mut set = JoinSet::new();
        let abort = set.spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
        });
        yield_now().await;
        drop(set);
        // The task is stopped at its next turn.
        for _ in 0..3 {
            yield_now().await;
        }
        assert!(dropped.get(), "the task's future was dropped");
        assert!(abort.is_finished());
    });
}

pub fn detached_join_set_tasks_run_on(runtime: Runtime) {
    runtime.block_on(async {
        let ran = Rc::new(Cell::new(false));
        let mut set = JoinSet::new();
        let flag = Rc::clone(&ran);
        set.spawn(async move {
            sleep(Duration::from_millis(5)).await;
            flag.set(true);
        });
        set.detach_all();
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
        drop(set);
        sleep(Duration::from_millis(50)).await;
        assert!(ran.get(), "a detached task runs to its end");
        // A set's own later task is not confused with a detached one's report.
        let mut set = JoinSet::new();
        set.spawn(async { 1 });
        assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
    });
}

pub fn join_set_shutdown_and_join_all(runtime: Runtime) {
    runtime.block_on(async {
        let mut set = JoinSet::new();
        for _ in 0..10 {
            set.spawn(std::future::pending::<()>());
        }
        set.shutdown().await;
        assert!(set.is_empty());
        let mut set = JoinSet::new();
        for n in 0..10u32 {
            set.spawn(async move {
                sleep(Duration::from_millis(u64::from(n % 3))).await;
                n
            });
        }
        let mut outputs = set.join_all().await;
        outputs.sort_unstable();
        assert_eq!(outputs, (0..10).collect::<Vec<_>>());
    });
}

pub fn abort_handle_stops_a_spawned_task(runtime: Runtime) {
    runtime.block_on(async {
        let handle = spawn(sleep(Duration::from_secs(3600)));
        let abort = handle.abort_handle();
        let copy = abort.clone();
        assert!(!abort.is_finished());
        copy.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
        assert!(abort.is_finished());
        // Aborting a finished task changes nothing.
        let handle = spawn(async { 5 });
        let abort = handle.abort_handle();
        yield_now().await;
        abort.abort();
        assert_eq!(handle.await.unwrap(), 5);
    });
}

proactor::task_local! {
    static REQUEST: u32;
}

/// `task_local!`: each task sees its own scope's value across awaits while tasks interleave;
/// scopes nest; outside one the value is not set, also after a panic inside one.
pub fn task_locals_follow_their_futures(runtime: Runtime) {
    runtime.block_on(async {
        let mut set = JoinSet::new();
        for id in 0..10u32 {
            set.spawn(REQUEST.scope(id, async move {
                for _ in 0..5 {
                    assert_eq!(REQUEST.get(), id);
                    yield_now().await;
                    sleep(Duration::from_millis(u64::from(id % 3))).await;
                }
                let inner = REQUEST.scope(id + 100, async { REQUEST.get() }).await;
                assert_eq!(inner, id + 100);
                REQUEST.get()
            }));
        }
        let mut seen = Vec::new();
        while let Some(id) = set.join_next().await {
            seen.push(id.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert!(
            REQUEST.try_with(|id| *id).is_err(),
            "not set outside a scope"
        );
        let panicked = std::panic::catch_unwind(|| REQUEST.sync_scope(5, || panic!("inside")));
        assert!(panicked.is_err());
        assert!(
            REQUEST.try_with(|id| *id).is_err(),
            "a panic leaves no value behind"
        );
    });
}
