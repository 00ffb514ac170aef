//! Console control events as futures (Windows): [`ctrl_c`], [`ctrl_break`], [`ctrl_close`],
//! [`ctrl_logoff`], [`ctrl_shutdown`].
//!
//! Windows has no Unix signals; a console process gets control events instead, through a
//! handler (`SetConsoleCtrlHandler`) that the system calls on a thread of its own. Listening
//! installs, once and for the rest of the process, a handler that counts each event and
//! wakes every future waiting for that kind, in whichever runtime (and on whichever thread)
//! it waits; several listeners of one kind each get it. An event kind that was listened to
//! no longer has its default effect (Ctrl-C and Ctrl-Break no longer end the process); the
//! kinds nobody listened to keep theirs.
//!
//! Closing the console, logging off and shutting down end the process whatever the handler
//! does, once it returns (or after about 5 seconds): for those the handler waits up to
//! [`GRACE`] after waking the listeners, so they can save their work before the process
//! goes.
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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Poll, Waker};

/// `CTRL_C_EVENT`.
const CTRL_C: u32 = 0;
/// `CTRL_BREAK_EVENT`.
const CTRL_BREAK: u32 = 1;
/// `CTRL_CLOSE_EVENT`: the console window is closing.
const CTRL_CLOSE: u32 = 2;
/// `CTRL_LOGOFF_EVENT` (services only).
const CTRL_LOGOFF: u32 = 5;
/// `CTRL_SHUTDOWN_EVENT` (services only).
const CTRL_SHUTDOWN: u32 = 6;
/// Event codes are below this.
const KINDS: usize = 7;

/// How long the handler holds the process after a close, logoff or shutdown event it woke
/// listeners for (Windows ends it about 5 seconds after the event regardless).
pub const GRACE: std::time::Duration = std::time::Duration::from_secs(4);

/// Events of each kind since the handler was installed.
static DELIVERED: [AtomicUsize; KINDS] = [const { AtomicUsize::new(0) }; KINDS];
/// Whether anyone has listened for each kind (the handler takes only those).
static LISTENED: [AtomicBool; KINDS] = [const { AtomicBool::new(false) }; KINDS];
/// Identifies each waiting future in [`WAITING`].
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
/// Futures waiting for an event: (id, kind, waker).
static WAITING: Mutex<Vec<(u64, u32, Waker)>> = Mutex::new(Vec::new());
/// Whether installing the handler worked (the OS error code otherwise).
static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();

fn waiting() -> MutexGuard<'static, Vec<(u64, u32, Waker)>> {
    WAITING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Called by the system on a thread of its own, so it may lock and wake like any thread;
/// returns whether it took the event (1) or leaves it to the next handler (0).
extern "system" fn handler(event: u32) -> i32 {
    let kind = event as usize;
    if kind >= KINDS || !LISTENED[kind].load(Ordering::SeqCst) {
        return 0; // Not ours: the next handler, or the default one, deals with it.
    }
    DELIVERED[kind].fetch_add(1, Ordering::SeqCst);
    let mut list = waiting();
    let mut index = 0;
    while index < list.len() {
        if list[index].1 == event {
            list.swap_remove(index).2.wake();
        } else {
            index += 1;
        }
    }
    drop(list);
    if matches!(event, CTRL_CLOSE | CTRL_LOGOFF | CTRL_SHUTDOWN) {
        // The process ends when this returns: give the listeners their time.
        std::thread::sleep(GRACE);
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
        waiting().retain(|(id, _, _)| *id != self.id);
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
    event(CTRL_C).await
}

/// Waits for Ctrl-Break (`CTRL_BREAK_EVENT`) in the console; once listened for, Ctrl-Break
/// no longer ends the process.
///
/// # Errors
///
/// The OS error if the handler cannot be installed.
///
/// # Examples
///
/// ```no_run
/// # proactor::Runtime::new()?.block_on(async {
/// proactor::signal::ctrl_break().await?;
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn ctrl_break() -> io::Result<()> {
    event(CTRL_BREAK).await
}

/// Waits for the console window to be closed (`CTRL_CLOSE_EVENT`); the process ends
/// [`GRACE`] later at most (see the [module docs](self)).
///
/// # Errors
///
/// The OS error if the handler cannot be installed.
///
/// # Examples
///
/// ```no_run
/// # proactor::Runtime::new()?.block_on(async {
/// proactor::signal::ctrl_close().await?;
/// // Save quickly: the process is about to end.
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn ctrl_close() -> io::Result<()> {
    event(CTRL_CLOSE).await
}

/// Waits for the user to log off (`CTRL_LOGOFF_EVENT`; only services get it).
///
/// # Errors
///
/// The OS error if the handler cannot be installed.
///
/// # Examples
///
/// ```no_run
/// # proactor::Runtime::new()?.block_on(async {
/// proactor::signal::ctrl_logoff().await?;
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn ctrl_logoff() -> io::Result<()> {
    event(CTRL_LOGOFF).await
}

/// Waits for the system to shut down (`CTRL_SHUTDOWN_EVENT`; only services get it).
///
/// # Errors
///
/// The OS error if the handler cannot be installed.
///
/// # Examples
///
/// ```no_run
/// # proactor::Runtime::new()?.block_on(async {
/// proactor::signal::ctrl_shutdown().await?;
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn ctrl_shutdown() -> io::Result<()> {
    event(CTRL_SHUTDOWN).await
}

/// Waits for the next control event `kind`.
async fn event(kind: u32) -> io::Result<()> {
    LISTENED[kind as usize].store(true, Ordering::SeqCst);
    install()?;
    let seen = DELIVERED[kind as usize].load(Ordering::SeqCst);
    let waiting_here = Waiting {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
    };
    poll_fn(|cx| {
        // Registered before the count is read again, so a delivery in between is not missed.
        let mut list = waiting();
        list.retain(|(id, _, _)| *id != waiting_here.id);
        list.push((waiting_here.id, kind, cx.waker().clone()));
        drop(list);
        if DELIVERED[kind as usize].load(Ordering::SeqCst) != seen {
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
            assert_eq!(
                handler(CTRL_BREAK),
                0,
                "Ctrl-Break nobody listens for is left to the default"
            );
            // Two listeners of Ctrl-Break, and one of Ctrl-C that must not wake.
            let first = crate::spawn(ctrl_break());
            let second = crate::spawn(ctrl_break());
            let other = crate::spawn(ctrl_c());
            crate::time::sleep(Duration::from_millis(10)).await;
            let from = std::thread::spawn(|| handler(CTRL_BREAK));
            assert_eq!(from.join().unwrap(), 1, "the handler takes Ctrl-Break now");
            for waiter in [first, second] {
                crate::time::timeout(Duration::from_secs(10), waiter)
                    .await
                    .expect("each listener gets it")
                    .unwrap()
                    .unwrap();
            }
            crate::time::sleep(Duration::from_millis(10)).await;
            assert!(
                !other.is_finished(),
                "Ctrl-C listeners are not woken by Ctrl-Break"
            );
            assert_eq!(std::thread::spawn(deliver).join().unwrap(), 1);
            crate::time::timeout(Duration::from_secs(10), other)
                .await
                .expect("woken by its own event")
                .unwrap()
                .unwrap();
        });
        let left: Vec<(u64, u32)> = waiting().iter().map(|(id, kind, _)| (*id, *kind)).collect();
        assert!(left.is_empty(), "no waker is left behind: {left:?}");
    }
}
