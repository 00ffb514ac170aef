//! `#[proactor::test]` and `#[proactor::main]`, as a user of the crate writes them.
//!
//! These also compile the examples in proactor-macros' docs, which cannot compile there.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

#[proactor::test]
async fn default_runtime_runs_the_body() {
    let backend = proactor::current_backend();
    assert!(
        matches!(
            backend,
            proactor::Backend::IoUring
                | proactor::Backend::Epoll
                | proactor::Backend::Kqueue
                | proactor::Backend::Iocp
        ),
        "unexpected backend {backend}"
    );
    proactor::time::sleep(Duration::from_millis(1)).await;
}

#[proactor::test]
async fn spawned_task_runs() {
    assert_eq!(proactor::spawn(async { 1 + 1 }).await.unwrap(), 2);
}

#[proactor::test]
async fn spawned_tasks_need_not_be_send() {
    let counter = Rc::new(Cell::new(0));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let counter = Rc::clone(&counter);
            proactor::spawn(async move {
                proactor::yield_now().await;
                counter.set(counter.get() + 1);
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(counter.get(), 4);
}

#[cfg(not(windows))]
#[proactor::test(backend = "epoll")]
async fn forced_epoll() {
    assert_eq!(proactor::current_backend(), proactor::Backend::Epoll);
    assert_eq!(proactor::spawn(async { 3 }).await.unwrap(), 3);
}

#[cfg(not(windows))]
#[proactor::test(backend = "epoll", entries = 1024)]
async fn forced_epoll_with_entries() {
    assert_eq!(proactor::current_backend(), proactor::Backend::Epoll);
    proactor::time::sleep(Duration::from_millis(1)).await;
}

#[cfg(windows)]
#[proactor::test(backend = "iocp", entries = 1024)]
async fn forced_iocp_with_entries() {
    assert_eq!(proactor::current_backend(), proactor::Backend::Iocp);
    proactor::time::sleep(Duration::from_millis(1)).await;
}

#[proactor::test(entries = 8)]
async fn small_queue() {
    let tasks: Vec<_> = (0..32u64)
        .map(|i| {
            proactor::spawn(async move {
                proactor::time::sleep(Duration::from_millis(i % 3)).await;
                i
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.unwrap();
    }
    assert_eq!(sum, (0..32).sum::<u64>());
}

#[proactor::test]
async fn result_returning_test() -> Result<(), proactor::JoinError> {
    // `?` needs the error type from the signature.
    assert_eq!(proactor::spawn(async { 7 }).await?, 7);
    Ok(())
}

#[proactor::test(start_paused = true)]
async fn a_test_can_start_with_the_clock_stopped() {
    let real = std::time::Instant::now();
    let clock = proactor::time::now();
    proactor::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
    assert_eq!(
        proactor::time::now() - clock,
        std::time::Duration::from_secs(24 * 3600)
    );
    assert!(real.elapsed() < std::time::Duration::from_secs(10));
}

#[proactor::test(entries = 64)]
async fn result_with_converted_error() -> std::io::Result<()> {
    // `?` converts `JoinError` into `io::Error`.
    let value = proactor::spawn(async { "ok" }).await?;
    assert_eq!(value, "ok");
    Ok(())
}

#[proactor::test]
async fn early_return() -> Result<(), String> {
    if proactor::spawn(async { true }).await.unwrap() {
        return Ok(());
    }
    Err("not reached".to_owned())
}

#[proactor::test]
#[should_panic(expected = "inside the runtime")]
async fn panics_propagate() {
    proactor::yield_now().await;
    panic!("inside the runtime");
}

#[proactor::test]
#[ignore = "shows that other attributes are kept"]
async fn ignored() {
    unreachable!("an ignored test does not run");
}

mod main_macro {
    //! `#[proactor::main]` on functions other than `main`, called from tests.

    use std::time::Duration;

    #[proactor::main]
    async fn plain() -> u32 {
        proactor::spawn(async { 40 }).await.unwrap() + 2
    }

    #[cfg_attr(not(windows), proactor::main(backend = "epoll", entries = 1024))]
    #[cfg_attr(windows, proactor::main(backend = "iocp", entries = 1024))]
    async fn with_arguments() -> std::io::Result<proactor::Backend> {
        proactor::time::sleep(Duration::from_millis(1)).await;
        Ok(proactor::current_backend())
    }

    #[proactor::main]
    async fn takes_arguments(name: String, count: usize) -> String {
        let repeated = proactor::spawn(async move { name.repeat(count) });
        repeated.await.unwrap()
    }

    #[test]
    fn main_runs_the_body() {
        assert_eq!(plain(), 42);
    }

    #[test]
    fn main_with_arguments() {
        let forced = if cfg!(windows) {
            proactor::Backend::Iocp
        } else {
            proactor::Backend::Epoll
        };
        assert_eq!(with_arguments().unwrap(), forced);
    }

    #[test]
    fn main_moves_its_inputs() {
        assert_eq!(takes_arguments("ab".to_owned(), 3), "ababab");
    }

    #[test]
    fn main_can_be_called_twice() {
        assert_eq!(plain(), 42);
        assert_eq!(plain(), 42);
    }
}
