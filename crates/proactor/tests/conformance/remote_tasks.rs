//! Tasks spawned on another runtime's thread (`Handle::spawn`, `RuntimeGroup::spawn`,
//! `spawn_on`): their `RemoteJoinHandle` gives the output, the panic or the abort, from any
//! thread, and never waits for a runtime that is gone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use proactor::time::timeout;
use proactor::{Builder, Runtime};

use crate::LIMIT;

/// Sets its flag when dropped: shows a future was dropped, not leaked.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

pub fn remote_tasks_give_outputs_panics_and_aborts(runtime: Runtime) {
    let handle = runtime.handle();
    // Spawned from another thread, awaited on the runtime itself.
    let task = std::thread::spawn({
        let handle = handle.clone();
        move || handle.spawn(async { std::thread::current().id() })
    })
    .join()
    .unwrap();
    let here = std::thread::current().id();
    let ran_on = runtime.block_on(async { timeout(LIMIT, task).await.unwrap().unwrap() });
    assert_eq!(ran_on, here);

    let panicked = handle.spawn(async {
        panic!("remote boom");
    });
    let error = runtime.block_on(async { timeout(LIMIT, panicked).await.unwrap().unwrap_err() });
    assert!(error.is_panic());
    assert_eq!(
        *error.try_into_panic().unwrap().downcast::<&str>().unwrap(),
        "remote boom"
    );

    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let waiting = handle.spawn(async move {
        let _flag = flag;
        std::future::pending::<()>().await;
    });
    runtime.block_on(proactor::yield_now());
    assert!(!waiting.is_finished());
    // Aborted from another thread while it waits.
    let waiting = std::thread::spawn(move || {
        waiting.abort();
        waiting
    })
    .join()
    .unwrap();
    let error = runtime.block_on(async { timeout(LIMIT, waiting).await.unwrap().unwrap_err() });
    assert!(error.is_cancelled());
    assert!(
        dropped.load(Ordering::SeqCst),
        "the aborted future was dropped"
    );
}

pub fn a_remote_task_of_a_dropped_runtime_is_cancelled(runtime: Runtime) {
    let backend = runtime.backend();
    let doomed = Builder::new().backend(backend).build().unwrap();
    let handle = doomed.handle();
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    // Queued, never run: the runtime goes first.
    let never_ran = handle.spawn(async move {
        let _flag = flag;
    });
    drop(doomed);
    assert!(
        dropped.load(Ordering::SeqCst),
        "the queued future was dropped with the runtime"
    );
    let sent_after = handle.spawn(async { 1 });
    runtime.block_on(async {
        assert!(timeout(LIMIT, never_ran)
            .await
            .unwrap()
            .unwrap_err()
            .is_cancelled());
        assert!(timeout(LIMIT, sent_after)
            .await
            .unwrap()
            .unwrap_err()
            .is_cancelled());
    });
}

pub fn group_spawns_are_joined_from_anywhere(runtime: Runtime) {
    let backend = runtime.backend();
    let group = Builder::new()
        .backend(backend)
        .threads(2)
        .build_group()
        .unwrap();
    let tasks: Vec<_> = (0..8u64)
        .map(|index| {
            group.spawn(move || async move {
                // Not Send: made and run on the chosen thread.
                let local = std::rc::Rc::new(index);
                proactor::time::sleep(Duration::from_millis(1)).await;
                (*local * 10, std::thread::current().name().map(String::from))
            })
        })
        .collect();
    let on_one = group.spawn_on(1, || async {
        std::thread::current().name().map(String::from)
    });
    // Awaited on this thread's runtime, while the group's threads run them.
    let outputs = runtime.block_on(async {
        let mut outputs = Vec::new();
        for task in tasks {
            outputs.push(timeout(LIMIT, task).await.unwrap().unwrap());
        }
        outputs
    });
    for (index, (value, thread)) in outputs.into_iter().enumerate() {
        assert_eq!(value, index as u64 * 10);
        assert!(thread.unwrap().starts_with("proactor-"));
    }
    let name = runtime.block_on(async { timeout(LIMIT, on_one).await.unwrap().unwrap() });
    assert_eq!(name.as_deref(), Some("proactor-1"));
    // Aborted: the group's load count goes back down, so later spawns still spread.
    let stuck = group.spawn_on(0, std::future::pending::<()>);
    stuck.abort();
    let error = runtime.block_on(async { timeout(LIMIT, stuck).await.unwrap().unwrap_err() });
    assert!(error.is_cancelled());
}
