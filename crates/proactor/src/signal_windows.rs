//! Console control events as futures (Windows): [`ctrl_c`].
//!
//! Windows has no Unix signals; a console process gets control events instead, through a
//! handler (`SetConsoleCtrlHandler`) that the system calls on a thread of its own. Listening
//! installs, once and for the rest of the process, a handler that counts each Ctrl-C and
//! wakes every [`ctrl_c`] future waiting for one, in whichever runtime (and on whichever
//! thread) it waits. Once installed, Ctrl-C no longer ends the process; the other events
//! (Ctrl-Break, closing the console, logoff, shutdown) keep their default handling.
//!
//! `signal` and `SignalKind` are Unix only for now.
//!
//! # Examples
//!
//! ```no_run
//! # proactor::Runtime::new()?.block_on(async {
//! proactor::signal::ctrl_c().await?;
//! println!("interrupted: shutting down");
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::future::poll_fn;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Poll, Waker};

/// `CTRL_C_EVENT`.
const CTRL_C: u32 = 0;

/// Ctrl-C events since the handler was installed.
static DELIVERED: AtomicUsize = AtomicUsize::new(0);
/// Identifies each waiting future in [`WAITING`].
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
/// Futures waiting for a Ctrl-C: (id, waker).
static WAITING: Mutex<Vec<(u64, Waker)>> = Mutex::new(Vec::new());
/// Whether installing the handler worked (the OS error code otherwise).
static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();

fn waiting() -> MutexGuard<'static, Vec<(u64, Waker)>> {
    WAITING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Called by the system on a thread of its own, so it may lock and wake like any thread;
/// returns whether it took the event (1) or leaves it to the next handler (0).
extern "system" fn handler(event: u32) -> i32 {
    if event != CTRL_C {
        return 0; // Not ours: the next handler, or the default one, deals with it.
    }
    DELIVERED.fetch_add(1, Ordering::SeqCst);
    for (_, waker) in waiting().drain(..) {
        waker.wake();
    }
    1
}

fn install() -> io::Result<()> {
    let installed = INSTALLED.get_or_init(|| {
        crate::sys::add_console_ctrl_handler(handler)
            .map_err(|error| error.raw_os_error().unwrap_or(0))
    });
    installed.map_err(io::Error::from_raw_os_error)
}

/// Removes a dropped future's waker.
struct Waiting {
    id: u64,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        waiting().retain(|(id, _)| *id != self.id);
    }
}

/// Waits for Ctrl-C (`CTRL_C_EVENT`) in the console.
///
/// The handler is installed when the future is first polled; a Ctrl-C before that is not
/// seen (and, if no handler was ever installed, ends the process as usual).
///
/// # Errors
///
/// The OS error if the handler cannot be installed.
///
/// # Cancel safety
///
/// Dropping the future stops it waiting; a Ctrl-C that arrives meanwhile is not kept for a
/// later call.
///
/// # Examples
///
/// ```no_run
/// # proactor::Runtime::new()?.block_on(async {
/// proactor::signal::ctrl_c().await?;
/// println!("bye");
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    install()?;
    let seen = DELIVERED.load(Ordering::SeqCst);
    let waiting_here = Waiting {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
    };
    poll_fn(|cx| {
        // Registered before the count is read again, so a delivery in between is not missed.
        let mut list = waiting();
        list.retain(|(id, _)| *id != waiting_here.id);
        list.push((waiting_here.id, cx.waker().clone()));
        drop(list);
        if DELIVERED.load(Ordering::SeqCst) != seen {
            return Poll::Ready(());
        }
        Poll::Pending
    })
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The system's call of the handler, made here: there is no console to press Ctrl-C in
    /// under a test runner (and Wine has none without a terminal).
    fn deliver() -> i32 {
        handler(CTRL_C)
    }

    #[test]
    fn ctrl_c_completes_on_each_event_and_not_before() {
        let runtime = crate::Runtime::new().unwrap();
        runtime.block_on(async {
            let early = crate::time::timeout(Duration::from_millis(50), ctrl_c()).await;
            assert!(early.is_err(), "no event yet");
            for _ in 0..3 {
                let waiter = crate::spawn(ctrl_c());
                crate::time::sleep(Duration::from_millis(10)).await;
                let from = std::thread::spawn(deliver);
                assert_eq!(from.join().unwrap(), 1, "the handler takes Ctrl-C");
                crate::time::timeout(Duration::from_secs(10), waiter)
                    .await
                    .expect("woken by the event")
                    .unwrap()
                    .unwrap();
            }
            assert_eq!(handler(1), 0, "Ctrl-Break is left to the default");
        });
        assert!(waiting().is_empty(), "no waker is left behind");
    }
}
