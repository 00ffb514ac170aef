//! Signals, on every backend this machine has (`epoll::two_listeners_both_receive`).
//!
//! Tests run in parallel in one process and signals are process-wide: each test only asserts
//! that its listeners see its own `raise` (they may see other tests' raises too).

#![cfg(target_os = "linux")]

mod common;

use std::future::Future;
use std::io::{self, ErrorKind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::per_backend;
use proactor::signal::{ctrl_c, signal, SignalKind};
use proactor::time::{sleep, timeout};
use proactor::{Backend, Runtime};

const LIMIT: Duration = Duration::from_secs(20);

fn run(runtime: Runtime, test: impl Future<Output = io::Result<()>>) {
    runtime
        .block_on(timeout(LIMIT, test))
        .expect("the test timed out")
        .expect("the test failed");
}

fn raise(number: i32) {
    // SAFETY: plain libc call; every signal raised here has a handler by then.
    assert_eq!(unsafe { libc::raise(number) }, 0);
}

per_backend! {
    two_listeners_both_receive,
    each_delivery_wakes_again,
    listeners_in_another_runtime_receive,
    ctrl_c_completes_on_sigint,
    invalid_signals_are_invalid_input,
    cancelled_recv_loses_nothing,
}

fn two_listeners_both_receive(runtime: Runtime) {
    run(runtime, async {
        let mut first = signal(SignalKind::user_defined1())?;
        let mut second = signal(SignalKind::user_defined1())?;
        assert_eq!(first.kind(), SignalKind::user_defined1());
        // One waits in a task, the other here.
        let task = proactor::spawn(async move { first.recv().await });
        sleep(Duration::from_millis(20)).await;
        raise(libc::SIGUSR1);
        assert_eq!(second.recv().await, Some(()));
        assert_eq!(task.await.expect("listener task"), Some(()));
        Ok(())
    });
}

/// A real-time signal of this test's own (by backend), so parallel tests raise no other.
fn own_signal(runtime: &Runtime, offset: i32) -> i32 {
    let backend = if runtime.backend() == Backend::IoUring {
        0
    } else {
        1
    };
    libc::SIGRTMIN() + offset * 2 + backend
}

fn each_delivery_wakes_again(runtime: Runtime) {
    let number = own_signal(&runtime, 1);
    run(runtime, async {
        let mut listener = signal(SignalKind::from_raw(number))?;
        for _ in 0..3 {
            raise(number);
            listener.recv().await;
        }
        // Nothing new: still waiting.
        assert!(timeout(Duration::from_millis(50), listener.recv())
            .await
            .is_err());
        // Hangups too (other tests may raise more of them: at least this one is seen).
        let mut hangups = signal(SignalKind::hangup())?;
        raise(libc::SIGHUP);
        hangups.recv().await;
        Ok(())
    });
}

fn listeners_in_another_runtime_receive(runtime: Runtime) {
    let backend = runtime.backend();
    run(runtime, async move {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let other = std::thread::spawn(move || {
            let runtime = common::runtime(backend);
            runtime.block_on(async {
                let mut listener = signal(SignalKind::window_change())?;
                ready_tx.send(()).expect("main thread waits");
                timeout(LIMIT, listener.recv()).await?;
                Ok::<(), io::Error>(())
            })
        });
        let mut here = signal(SignalKind::window_change())?;
        while ready_rx.try_recv().is_err() {
            sleep(Duration::from_millis(1)).await;
        }
        raise(libc::SIGWINCH);
        here.recv().await;
        let deadline = std::time::Instant::now() + LIMIT;
        while !other.is_finished() {
            assert!(std::time::Instant::now() < deadline);
            sleep(Duration::from_millis(1)).await;
        }
        other.join().expect("other runtime's thread")
    });
}

fn ctrl_c_completes_on_sigint(runtime: Runtime) {
    run(runtime, async {
        // A listener first, so no SIGINT can hit the default action (ending the tests).
        let _guard = signal(SignalKind::interrupt())?;
        let task = proactor::spawn(ctrl_c());
        sleep(Duration::from_millis(20)).await;
        raise(libc::SIGINT);
        task.await.expect("ctrl_c task")
    });
}

fn invalid_signals_are_invalid_input(runtime: Runtime) {
    run(runtime, async {
        for number in [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGBUS,
            0,
            -1,
            1000,
            i32::MAX,
            i32::MIN,
        ] {
            let error = signal(SignalKind::from_raw(number)).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "signal {number}");
        }
        // In range but reserved by the C library (glibc's thread signals 32 and 33).
        assert_eq!(
            signal(SignalKind::from_raw(32)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        Ok(())
    });
}

fn cancelled_recv_loses_nothing(runtime: Runtime) {
    let number = own_signal(&runtime, 2);
    run(runtime, async {
        let mut listener = signal(SignalKind::from_raw(number))?;
        assert!(timeout(Duration::from_millis(10), listener.recv())
            .await
            .is_err());
        raise(number);
        assert_eq!(listener.recv().await, Some(()));
        // SIGQUIT as well (no core dump: the handler catches it).
        let mut quit = signal(SignalKind::quit())?;
        raise(libc::SIGQUIT);
        assert_eq!(quit.recv().await, Some(()));
        Ok(())
    });
}

static CHAINED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn earlier_handler(_: i32) {
    CHAINED.fetch_add(1, Ordering::SeqCst);
}

/// A handler installed before ours still runs. Not per backend: it installs a process-wide
/// handler of its own, once.
#[test]
fn earlier_handler_is_chained() {
    // SAFETY: an all-zero sigaction is valid; the handler only touches an atomic.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = earlier_handler as extern "C" fn(i32) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        assert_eq!(
            libc::sigaction(libc::SIGURG, &action, std::ptr::null_mut()),
            0
        );
    }
    run(common::runtime(Backend::Epoll), async {
        let mut urgent = signal(SignalKind::from_raw(libc::SIGURG))?;
        raise(libc::SIGURG);
        urgent.recv().await;
        assert_eq!(CHAINED.load(Ordering::SeqCst), 1);
        Ok(())
    });
}
