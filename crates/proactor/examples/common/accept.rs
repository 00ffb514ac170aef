//! The examples' accept loop: [`Acceptor::accept`] waits for the next connection and rides out
//! what makes `accept` fail for a while, instead of spinning on it.
//!
//! Out of descriptors (`EMFILE`, `ENFILE`), `accept` fails at once for as long as the
//! shortage lasts (on Linux even with no connection waiting), so a loop that simply retries
//! burns a core and fills the log. Here the first failure starts an episode: reported once,
//! then retried after 10 ms, 20 ms, ... up to a second, or as soon as one of this runtime's
//! connections ends; the first connection accepted again ends the episode, reported too.
//! Meanwhile, the connections waiting in the backlog are accepted with a descriptor kept in
//! reserve for the purpose and closed at once (libuv's trick), so that their clients learn
//! now instead of waiting on a server that cannot take them.
//!
//! The library's `accept` reports the error and leaves the policy to its caller, as std's and
//! tokio's do; each example includes this file with `#[path = "common/accept.rs"] mod accept;`.

// Each example uses only part of it.
#![allow(dead_code)]

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use proactor::net::{TcpListener, TcpStream};
use proactor::time::{sleep, timeout};

/// The first wait after a failed accept; each further failure doubles it.
const FIRST_DELAY: Duration = Duration::from_millis(10);
const LONGEST_DELAY: Duration = Duration::from_secs(1);
/// How long shedding waits for another connection before taking the backlog to be empty (an
/// accept with a free descriptor waits rather than failing).
const SHED_WAIT: Duration = Duration::from_millis(1);
/// The most connections shed between two retries, so that a flood of them still leaves room
/// to notice that descriptors are free again.
const SHED_BATCH: usize = 256;

/// A listener with the accept loop described above.
pub struct Acceptor {
    listener: TcpListener,
    /// The program's name, for its messages.
    name: &'static str,
    open: Arc<AtomicUsize>,
    ended: Rc<Ended>,
    /// The descriptor given up to accept (and close) a connection when there is no other.
    reserve: Option<std::fs::File>,
    trouble: Option<Trouble>,
}

/// An episode of failing accepts.
struct Trouble {
    since: Instant,
    /// The error last reported (kind and OS code): a different one is reported too.
    error: (io::ErrorKind, Option<i32>),
    delay: Duration,
    shed: usize,
}

/// Held by an accepted connection while it is open: counts it, and ends a back-off of its
/// acceptor when it goes, since its descriptor is then free.
pub struct Ticket {
    open: Arc<AtomicUsize>,
    ended: Rc<Ended>,
    count: usize,
}

impl Ticket {
    /// How many connections (sharing the acceptor's count) were open with this one, when it
    /// was accepted.
    pub fn open(&self) -> usize {
        self.count
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        self.ended.count.set(self.ended.count.get().wrapping_add(1));
        if let Some(waker) = self.ended.waker.take() {
            waker.wake();
        }
    }
}

/// Connections ended on this runtime, and the acceptor waiting for the next one to.
#[derive(Default)]
struct Ended {
    count: Cell<u64>,
    waker: Cell<Option<Waker>>,
}

impl Acceptor {
    /// Accepts on `listener`; `open` counts the connections open, and may be shared with other
    /// runtimes' acceptors. `name` starts each message.
    pub fn new(name: &'static str, listener: TcpListener, open: Arc<AtomicUsize>) -> Acceptor {
        Acceptor {
            listener,
            name,
            open,
            ended: Rc::default(),
            reserve: reserve(),
            trouble: None,
        }
    }

    /// The next connection, and the ticket it holds while open.
    pub async fn accept(&mut self) -> (TcpStream, Ticket) {
        loop {
            if self.reserve.is_none() {
                self.reserve = reserve();
            }
            match self.listener.accept().await {
                Ok((stream, _)) => {
                    self.recovered();
                    let count = self.open.fetch_add(1, Ordering::Relaxed) + 1;
                    let ticket = Ticket {
                        open: Arc::clone(&self.open),
                        ended: Rc::clone(&self.ended),
                        count,
                    };
                    return (stream, ticket);
                }
                // A client that gave up while waiting: its error, not the listener's.
                Err(error) if of_one_connection(&error) => {}
                Err(error) => self.back_off(&error).await,
            }
        }
    }

    /// Reports `error` if it starts an episode (or differs from the last), sheds the waiting
    /// connections if descriptors ran out, and waits before the next try.
    async fn back_off(&mut self, error: &io::Error) {
        let error_key = (error.kind(), error.raw_os_error());
        let report = match &mut self.trouble {
            Some(trouble) if trouble.error == error_key => false,
            Some(trouble) => {
                trouble.error = error_key;
                true
            }
            None => {
                self.trouble = Some(Trouble {
                    since: Instant::now(),
                    error: error_key,
                    delay: FIRST_DELAY,
                    shed: 0,
                });
                true
            }
        };
        let out = out_of_descriptors(error);
        if report {
            let closing = if out {
                ", closing waiting connections unserved"
            } else {
                ""
            };
            eprintln!("{}: accept: {error}; backing off{closing}", self.name);
        }
        let shed = if out { self.shed().await } else { 0 };
        let Some(trouble) = &mut self.trouble else {
            return;
        };
        trouble.shed += shed;
        let delay = trouble.delay;
        trouble.delay = (delay * 2).min(LONGEST_DELAY);
        self.pause(delay).await;
    }

    /// Ends an episode, if there was one, saying so.
    fn recovered(&mut self) {
        if let Some(trouble) = self.trouble.take() {
            let shed = match trouble.shed {
                0 => String::new(),
                count => format!("; closed {count} connections unserved"),
            };
            eprintln!(
                "{}: accept: working again after {:.1?}{shed}",
                self.name,
                trouble.since.elapsed()
            );
        }
    }

    /// Accepts and closes the connections waiting in the backlog, with the reserve descriptor
    /// given up for them; how many.
    async fn shed(&mut self) -> usize {
        // Without the reserve (not back yet), an accept would only fail again.
        let Some(reserve) = self.reserve.take() else {
            return 0;
        };
        drop(reserve);
        let mut shed = 0;
        while shed < SHED_BATCH {
            match timeout(SHED_WAIT, self.listener.accept()).await {
                Ok(Ok((stream, _))) => {
                    drop(stream);
                    shed += 1;
                    // The close goes through the driver: let it run, so that the next accept
                    // finds the descriptor free.
                    proactor::yield_now().await;
                }
                // None waiting, or still no descriptor: the reserve comes back before the
                // next try.
                _ => break,
            }
        }
        shed
    }

    /// Waits `delay`, or less if one of this runtime's connections ends meanwhile.
    async fn pause(&self, delay: Duration) {
        let ended = &self.ended;
        let seen = ended.count.get();
        let mut sleep = pin!(sleep(delay));
        poll_fn(|cx| {
            if ended.count.get() != seen || sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            ended.waker.set(Some(cx.waker().clone()));
            Poll::Pending
        })
        .await;
        ended.waker.take();
        // A connection's close goes through the driver: let it run before the next try.
        proactor::yield_now().await;
    }
}

/// An error of the connection being accepted (reset or aborted before it was taken, or an
/// error on its network, which Linux reports from `accept`), not of the listener: the next
/// accept may work at once.
fn of_one_connection(error: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted
            | ConnectionReset
            | Interrupted
            | WouldBlock
            | HostUnreachable
            | NetworkUnreachable
            | NetworkDown
    )
}

/// Whether `error` says the process (`EMFILE`) or the system (`ENFILE`) has no descriptor to
/// give, which giving up the reserve descriptor helps with.
#[cfg(unix)]
pub fn out_of_descriptors(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

#[cfg(not(unix))]
pub fn out_of_descriptors(_: &io::Error) -> bool {
    false
}

/// A descriptor to keep in reserve. None on Windows, where sockets are handles and there is
/// no descriptor table to fill.
#[cfg(unix)]
fn reserve() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null").ok()
}

#[cfg(not(unix))]
fn reserve() -> Option<std::fs::File> {
    None
}
