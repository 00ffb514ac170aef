//! No descriptor leaks, counted in `/proc/self/fd`, on each backend:
//!
//! - an `Accept` cancelled right after a client connected, whichever way the race goes (the
//!   completion carries the new socket, or the driver closes the socket it got and reports the
//!   cancellation, or the accept never happened and the connection still waits in the backlog);
//! - an `OpenAt` cancelled right after submission;
//! - an `AcceptMultishot` cancelled likewise (the connection handed out, or still in the
//!   backlog; the socket IOCP made ahead for an `AcceptEx` that did not happen, closed);
//! - a driver dropped with operations in flight (a receive nobody answers, a long timeout,
//!   accepts, an open), which must also neither crash nor hang.
//!
//! Descriptor counts are process-wide, so the tests take a lock and never run at the same time;
//! counts are compared exactly.
//!
//! On Windows the same runs on IOCP with the process's handle count (`GetProcessHandleCount`)
//! for the descriptor list, without the `OpenAt` cases (the driver opens nothing there).

#![cfg(any(target_os = "linux", windows))]

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use proactor_driver::{is_cancelled, Backend, Buffer, Completion, Driver, Op, OpId};

use os::{
    assert_same_fds, close, count, lingering, open_fds, prepare_thread, raw, was_accepted, Open,
};

/// Rounds of each cancellation race.
const ROUNDS: usize = 200;
/// Bound on any single wait.
const LIMIT: Duration = Duration::from_secs(10);

static FD_LOCK: Mutex<()> = Mutex::new(());

fn serialize() -> MutexGuard<'static, ()> {
    FD_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// After a driver is dropped: its waker's eventfd may stay open a moment longer, until a pool
/// thread that delivered the driver's last completion drops its handle to it. Waits (bounded)
/// for the count to come back, then insists on it exactly.
fn assert_fds_settle(expected: &Open, context: &str) -> Option<Duration> {
    let start = Instant::now();
    let mut waited = None;
    while open_fds() != *expected && start.elapsed() < LIMIT {
        thread::sleep(Duration::from_micros(100));
        waited = Some(start.elapsed());
    }
    assert_same_fds(expected, context);
    waited
}

/// The driver, or `None` (with a note) when io_uring is not available here.
fn driver(backend: Backend) -> Option<Driver> {
    match Driver::with_backend(backend) {
        Ok(driver) => Some(driver),
        #[cfg(target_os = "linux")]
        Err(error)
            if backend == Backend::IoUring
                && matches!(error.raw_os_error(), Some(libc::EPERM) | Some(libc::ENOSYS)) =>
        {
            eprintln!("io_uring: SKIPPED, not available here: {error}");
            None
        }
        Err(error) => panic!("{backend}: cannot create the driver: {error}"),
    }
}

/// Waits for the completion of `id`, looking first among `early` ones already polled.
fn wait_for(driver: &mut Driver, id: OpId, early: &mut Vec<Completion>) -> Completion {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(index) = early.iter().position(|completion| completion.id == id) {
            return early.swap_remove(index);
        }
        let now = Instant::now();
        assert!(
            now < deadline,
            "{}: no completion for {id:?} within {LIMIT:?}",
            driver.backend()
        );
        driver
            .poll(early, Some(deadline - now))
            .expect("driver poll");
    }
}

/// Cancels `id`; `NotFound` is fine only if its completion was already handed out.
fn cancel(driver: &mut Driver, id: OpId, early: &[Completion]) {
    match driver.cancel(id) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => assert!(
            early.iter().any(|completion| completion.id == id),
            "{}: cancel({id:?}) says NotFound, but its completion was never handed out",
            driver.backend()
        ),
        Err(error) => panic!("{}: cancel({id:?}) failed: {error}", driver.backend()),
    }
}

/// Spins for about `micros` microseconds, to shift where a race lands.
fn spin(micros: u64) {
    let until = Instant::now() + Duration::from_micros(micros);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

// ---------------------------------------------------------------------------------------------
// (a) Accept cancelled while a client connects.
// ---------------------------------------------------------------------------------------------

/// How a cancelled accept ended, counted per way of ordering the race.
#[derive(Debug, Default)]
struct AcceptOutcomes {
    /// The accept won: its completion carried the new socket (the test closed it).
    delivered: [usize; 4],
    /// The kernel accepted, the driver closed the socket and reported the cancellation.
    closed_by_driver: [usize; 4],
    /// Cancelled before accepting: the connection still waited in the backlog.
    never_accepted: [usize; 4],
}

/// The orders of (a), by `round % 4`.
const ACCEPT_ORDERS: [&str; 4] = [
    "connect, submit, cancel",
    "submit, connect, cancel",
    "submit, poll(0), connect, cancel",
    "connect, submit, poll(0), cancel",
];

fn accept_cancel_race(backend: Backend) {
    let _serial = serialize();
    prepare_thread();
    let before = open_fds();
    let Some(mut driver) = driver(backend) else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address: SocketAddr = listener.local_addr().unwrap();
    let listen_fd = raw(&listener);
    let baseline = open_fds();
    let mut outcomes = AcceptOutcomes::default();
    let mut early = Vec::new();

    for round in 0..ROUNDS {
        let accept = || Op::Accept {
            fd: listen_fd,
            peer: None,
        };
        let connect = || TcpStream::connect(address).expect("connect to the listener");
        // Vary the order so the race lands on both sides.
        let order = round % 4;
        let (id, client) = match order {
            0 => {
                let client = connect();
                (driver.submit(accept()), client)
            }
            1 => {
                let id = driver.submit(accept());
                (id, connect())
            }
            2 => {
                let id = driver.submit(accept());
                driver.poll(&mut early, Some(Duration::ZERO)).unwrap();
                let client = connect();
                spin(round as u64 % 50);
                (id, client)
            }
            _ => {
                let client = connect();
                let id = driver.submit(accept());
                driver.poll(&mut early, Some(Duration::ZERO)).unwrap();
                (id, client)
            }
        };
        cancel(&mut driver, id, &early);
        let completion = wait_for(&mut driver, id, &mut early);
        match completion.result {
            Ok(fd) => {
                outcomes.delivered[order] += 1;
                close(fd);
            }
            Err(error) if is_cancelled(&error) => {
                if was_accepted(&listener, &client) {
                    outcomes.closed_by_driver[order] += 1;
                } else {
                    outcomes.never_accepted[order] += 1;
                }
            }
            Err(error) => panic!("{backend}: round {round}: accept failed: {error}"),
        }
        drop(client);
        assert!(early.is_empty(), "{backend}: stray completions {early:?}");
        assert_same_fds(
            &baseline,
            &format!("{backend}: after accept-cancel round {round} ({outcomes:?})"),
        );
    }
    assert_eq!(driver.in_flight(), 0);
    let total = |counts: &[usize; 4]| counts.iter().sum::<usize>();
    eprintln!(
        "{backend}: {ROUNDS} cancelled accepts: {} delivered a socket (closed by the test), {} \
         closed by the driver, {} never accepted; {} descriptors open before and after",
        total(&outcomes.delivered),
        total(&outcomes.closed_by_driver),
        total(&outcomes.never_accepted),
        count(&baseline)
    );
    for (order, name) in ACCEPT_ORDERS.iter().enumerate() {
        eprintln!(
            "{backend}:   {name}: {} delivered, {} closed by the driver, {} never accepted",
            outcomes.delivered[order],
            outcomes.closed_by_driver[order],
            outcomes.never_accepted[order]
        );
    }
    drop(driver);
    drop(listener);
    assert_fds_settle(&before, &format!("{backend}: after dropping the driver"));
}

#[cfg(target_os = "linux")]
#[test]
fn accept_cancel_race_leaks_no_fd_io_uring() {
    accept_cancel_race(Backend::IoUring);
}

#[cfg(target_os = "linux")]
#[test]
fn accept_cancel_race_leaks_no_fd_epoll() {
    accept_cancel_race(Backend::Epoll);
}

/// (a) with a deadline instead of a cancel: accepts whose deadlines pass (from at once to a
/// millisecond) while clients connect. Each ends with the socket, or `TimedOut` with the
/// socket closed by the driver or never made; none is left open.
fn accept_deadline_race(backend: Backend) {
    let _serial = serialize();
    prepare_thread();
    let before = open_fds();
    let Some(mut driver) = driver(backend) else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address: SocketAddr = listener.local_addr().unwrap();
    let listen_fd = raw(&listener);
    let baseline = open_fds();
    let (mut delivered, mut closed_by_driver, mut never_accepted) = (0, 0, 0);
    let mut early = Vec::new();
    for round in 0..ROUNDS {
        let accept = Op::Accept {
            fd: listen_fd,
            peer: None,
        };
        let deadline = Duration::from_micros(round as u64 % 5 * 250);
        let (id, client) = if round % 2 == 0 {
            let id = driver.submit_with_timeout(accept, deadline);
            driver.poll(&mut early, Some(Duration::ZERO)).unwrap();
            spin(round as u64 % 7 * 150);
            (id, TcpStream::connect(address).expect("connect"))
        } else {
            let client = TcpStream::connect(address).expect("connect");
            (driver.submit_with_timeout(accept, deadline), client)
        };
        let completion = wait_for(&mut driver, id, &mut early);
        match completion.result {
            Ok(fd) => {
                delivered += 1;
                close(fd);
            }
            Err(error) if error.kind() == io::ErrorKind::TimedOut => {
                if was_accepted(&listener, &client) {
                    closed_by_driver += 1;
                } else {
                    never_accepted += 1;
                }
            }
            Err(error) => panic!("{backend}: round {round}: accept failed: {error}"),
        }
        drop(client);
        assert!(early.is_empty(), "{backend}: stray completions {early:?}");
        assert_same_fds(
            &baseline,
            &format!("{backend}: after accept-deadline round {round}"),
        );
    }
    assert_eq!(driver.in_flight(), 0);
    eprintln!(
        "{backend}: {ROUNDS} accepts with deadlines: {delivered} delivered a socket, \
         {closed_by_driver} timed out after the kernel accepted (closed by the driver), \
         {never_accepted} timed out before"
    );
    drop(driver);
    drop(listener);
    assert_fds_settle(&before, &format!("{backend}: after dropping the driver"));
}

#[cfg(target_os = "linux")]
#[test]
fn accept_deadline_race_leaks_no_fd_io_uring() {
    accept_deadline_race(Backend::IoUring);
}

#[cfg(target_os = "linux")]
#[test]
fn accept_deadline_race_leaks_no_fd_epoll() {
    accept_deadline_race(Backend::Epoll);
}

/// Windows runs (a), (d), the deadline race and (c) in one test, one after the other: Wine
/// gives each thread that
/// uses Winsock an event of its own, closed only as the thread ends, so a test thread that
/// has just finished would change the handle list under the next test's feet.
#[cfg(windows)]
#[test]
fn cancelled_accepts_and_dropped_drivers_leak_no_handle_iocp() {
    accept_cancel_race(Backend::Iocp);
    accept_multishot_cancel_race(Backend::Iocp);
    accept_deadline_race(Backend::Iocp);
    dropping_driver_in_flight(Backend::Iocp);
}

// ---------------------------------------------------------------------------------------------
// (b) OpenAt cancelled right after submission.
// ---------------------------------------------------------------------------------------------

/// A temporary file, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> TempFile {
        // The time as well: Wine repeats process ids between runs.
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "proactor-fd-leaks-{tag}-{}-{}",
            std::process::id(),
            since_epoch.as_nanos()
        ));
        std::fs::write(&path, b"some contents").expect("write the temporary file");
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(target_os = "linux")]
fn open_at_cancel_race(backend: Backend) {
    let _serial = serialize();
    let file = TempFile::new(&format!("open-{backend}"));
    let before = open_fds();
    let Some(mut driver) = driver(backend) else {
        return;
    };
    let baseline = open_fds();
    // Per order (`round % 3`): [delivered, cancelled].
    let mut outcomes = [[0usize; 2]; 3];
    let mut early = Vec::new();
    for round in 0..ROUNDS {
        let op = Op::open_at(None, file.path(), libc::O_RDONLY, 0).expect("path without NUL");
        let id = driver.submit(op);
        let order = round % 3;
        match order {
            0 => {}
            1 => {
                driver.poll(&mut early, Some(Duration::ZERO)).unwrap();
            }
            _ => spin(round as u64 % 40),
        }
        cancel(&mut driver, id, &early);
        let completion = wait_for(&mut driver, id, &mut early);
        match completion.result {
            Ok(fd) => {
                outcomes[order][0] += 1;
                close(fd);
            }
            Err(error) if is_cancelled(&error) => outcomes[order][1] += 1,
            Err(error) => panic!("{backend}: round {round}: openat failed: {error}"),
        }
        assert_same_fds(
            &baseline,
            &format!("{backend}: after open-cancel round {round}"),
        );
    }
    assert_eq!(driver.in_flight(), 0);
    eprintln!(
        "{backend}: {ROUNDS} cancelled opens: {} delivered a descriptor (closed by the test), {} \
         reported cancelled; {} descriptors open before and after",
        outcomes.iter().map(|counts| counts[0]).sum::<usize>(),
        outcomes.iter().map(|counts| counts[1]).sum::<usize>(),
        count(&baseline)
    );
    for (order, name) in [
        "submit, cancel",
        "submit, poll(0), cancel",
        "submit, spin, cancel",
    ]
    .iter()
    .enumerate()
    {
        eprintln!(
            "{backend}:   {name}: {} delivered, {} cancelled",
            outcomes[order][0], outcomes[order][1]
        );
    }
    drop(driver);
    if let Some(waited) =
        assert_fds_settle(&before, &format!("{backend}: after dropping the driver"))
    {
        eprintln!(
            "{backend}: the dropped driver's last descriptor closed {waited:?} after the drop"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn open_at_cancel_race_leaks_no_fd_io_uring() {
    open_at_cancel_race(Backend::IoUring);
}

#[cfg(target_os = "linux")]
#[test]
fn open_at_cancel_race_leaks_no_fd_epoll() {
    open_at_cancel_race(Backend::Epoll);
}

// ---------------------------------------------------------------------------------------------
// (c) Dropping a driver with operations in flight.
// ---------------------------------------------------------------------------------------------

/// How (c) drops its driver.
#[derive(Debug, Clone, Copy)]
struct DropCase {
    /// Poll once (zero timeout) before dropping, closing what that hands out.
    poll_first: bool,
    /// Fill the thread pool with sleeping jobs first, so the open is still queued on the pool
    /// when the driver goes: the pool must then close what it opens.
    pool_busy: bool,
}

const DROP_CASES: [DropCase; 3] = [
    DropCase {
        poll_first: false,
        pool_busy: false,
    },
    DropCase {
        poll_first: true,
        pool_busy: false,
    },
    DropCase {
        poll_first: false,
        pool_busy: true,
    },
];

/// Default bound on pool threads (src/pool.rs): this many sleepers keep it busy.
const POOL_THREADS: usize = 64;

/// Starts a receive nobody answers, a one-hour timeout, an accept nobody connects to, an accept
/// whose client is already waiting, multishot accepts likewise (two clients waiting for one),
/// and an open, as `case` says; then drops the driver.
/// Returns how long the drop took and how many completions a first poll handed out.
fn drop_with_ops_in_flight(backend: Backend, case: DropCase, file: &Path) -> (Duration, usize) {
    let Some(mut driver) = driver(backend) else {
        return (Duration::ZERO, 0);
    };
    let quiet = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(quiet.local_addr().unwrap()).unwrap();
    let (server, _) = quiet.accept().unwrap();
    let waiting_client = TcpStream::connect(busy.local_addr().unwrap()).unwrap();
    let quiet_many = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_many = TcpListener::bind("127.0.0.1:0").unwrap();
    let waiting_clients =
        [(); 2].map(|_| TcpStream::connect(busy_many.local_addr().unwrap()).unwrap());

    if case.pool_busy {
        for _ in 0..POOL_THREADS {
            driver.submit(Op::Blocking {
                job: Box::new(|| {
                    thread::sleep(Duration::from_millis(200));
                    Ok(0)
                }),
            });
        }
    }
    driver.submit(Op::Recv {
        fd: raw(&server),
        buf: Buffer::from(Vec::with_capacity(1024)),
        flags: 0,
    });
    driver.submit(Op::Timeout {
        duration: Duration::from_secs(3600),
    });
    driver.submit(Op::Accept {
        fd: raw(&quiet),
        peer: None,
    });
    driver.submit(Op::Accept {
        fd: raw(&busy),
        peer: None,
    });
    driver.submit(Op::AcceptMultishot {
        fd: raw(&quiet_many),
    });
    driver.submit(Op::AcceptMultishot {
        fd: raw(&busy_many),
    });
    // The driver opens nothing on Windows.
    #[cfg(target_os = "linux")]
    driver.submit(Op::open_at(None, file, libc::O_RDONLY, 0).unwrap());
    #[cfg(windows)]
    let _ = file;
    let mut handed_out = 0;
    if case.poll_first {
        let mut completions = Vec::new();
        driver.poll(&mut completions, Some(Duration::ZERO)).unwrap();
        handed_out = completions.len();
        for completion in completions {
            // What may complete this early: the accepts with waiting clients, the open.
            if let (Ok(fd), Op::Accept { .. } | Op::AcceptMultishot { .. } | Op::OpenAt { .. }) =
                (&completion.result, &completion.op)
            {
                close(*fd);
            }
        }
    }
    let start = Instant::now();
    drop(driver);
    let took = start.elapsed();
    drop((client, server, waiting_client, quiet, busy));
    drop((waiting_clients, quiet_many, busy_many));
    (took, handed_out)
}

fn dropping_driver_in_flight(backend: Backend) {
    let _serial = serialize();
    let file = TempFile::new(&format!("drop-{backend}"));
    let before = open_fds();
    for case in DROP_CASES {
        // On a thread of its own, so a hang is seen and bounded here.
        let (done, finished) = mpsc::channel();
        let path = file.path().to_path_buf();
        let worker = thread::spawn(move || {
            let outcome = drop_with_ops_in_flight(backend, case, &path);
            let _ = done.send(outcome);
        });
        let (took, handed_out) = match finished.recv_timeout(Duration::from_secs(30)) {
            Ok(outcome) => outcome,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{backend}: dropping a driver with operations in flight hung for 30 s ({case:?})")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => unreachable!("the worker ends by sending its outcome"),
            },
        };
        worker.join().expect("the worker thread");
        // A pool job still queued or running when its driver went away closes what it opened
        // when it ends: give it time, then insist on the exact count.
        let settling = Instant::now();
        let mut settled = Duration::ZERO;
        let lingering = lingering(&before);
        while open_fds() != before && settling.elapsed() < LIMIT {
            thread::sleep(Duration::from_millis(1));
            settled = settling.elapsed();
        }
        assert_same_fds(
            &before,
            &format!("{backend}: after dropping a driver with operations in flight ({case:?})"),
        );
        eprintln!(
            "{backend}: dropped a driver with operations in flight ({case:?}, {handed_out} handed \
             out by the first poll) in {took:?}; {} descriptors open before and after{}",
            count(&before),
            if settled.is_zero() {
                String::new()
            } else {
                format!(
                    ", once the pool's jobs ended ({settled:?} after the drop; open until then: \
                     {lingering})"
                )
            }
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_driver_with_ops_in_flight_leaks_no_fd_io_uring() {
    dropping_driver_in_flight(Backend::IoUring);
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_driver_with_ops_in_flight_leaks_no_fd_epoll() {
    dropping_driver_in_flight(Backend::Epoll);
}

// ---------------------------------------------------------------------------------------------
// (d) AcceptMultishot cancelled while a client connects.
// ---------------------------------------------------------------------------------------------

/// As (a), with a multishot accept: its connection is either handed out as one of its many
/// completions or still waits in the backlog, never accepted and closed by the driver (it is
/// gone from the backlog then, and nobody saw it); the last completion says cancelled; and
/// whatever the driver made for an accept that did not happen (IOCP's socket made ahead for
/// `AcceptEx`) is closed.
fn accept_multishot_cancel_race(backend: Backend) {
    let _serial = serialize();
    prepare_thread();
    let before = open_fds();
    let Some(mut driver) = driver(backend) else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address: SocketAddr = listener.local_addr().unwrap();
    let listen_fd = raw(&listener);
    let baseline = open_fds();
    // Per order of ACCEPT_ORDERS: [delivered, still in the backlog].
    let mut outcomes = [[0usize; 2]; 4];
    let mut early = Vec::new();

    for round in 0..ROUNDS {
        let accept = || Op::AcceptMultishot { fd: listen_fd };
        let connect = || TcpStream::connect(address).expect("connect to the listener");
        let order = round % 4;
        let (id, client) = match order {
            0 => {
                let client = connect();
                (driver.submit(accept()), client)
            }
            1 => {
                let id = driver.submit(accept());
                (id, connect())
            }
            2 => {
                let id = driver.submit(accept());
                driver.poll(&mut early, Some(Duration::ZERO)).unwrap();
                let client = connect();
                spin(round as u64 % 50);
                (id, client)
            }
            _ => {
                let client = connect();
                let id = driver.submit(accept());
                driver.poll(&mut early, Some(Duration::ZERO)).unwrap();
                (id, client)
            }
        };
        cancel(&mut driver, id, &early);
        let mut delivered = 0;
        loop {
            let completion = wait_for(&mut driver, id, &mut early);
            match completion.result {
                Ok(fd) if completion.more => {
                    delivered += 1;
                    close(fd);
                }
                Err(error) if !completion.more && is_cancelled(&error) => break,
                other => panic!(
                    "{backend}: round {round}: {other:?} (more: {})",
                    completion.more
                ),
            }
        }
        assert!(
            delivered <= 1,
            "{backend}: round {round}: one client, {delivered} accepted"
        );
        if delivered == 1 {
            outcomes[order][0] += 1;
        } else {
            assert!(
                !was_accepted(&listener, &client),
                "{backend}: round {round} ({}): the connection was accepted and never handed out",
                ACCEPT_ORDERS[order]
            );
            outcomes[order][1] += 1;
        }
        drop(client);
        assert!(early.is_empty(), "{backend}: stray completions {early:?}");
        assert_same_fds(
            &baseline,
            &format!("{backend}: after multishot accept-cancel round {round} ({outcomes:?})"),
        );
    }
    assert_eq!(driver.in_flight(), 0);
    for (order, name) in ACCEPT_ORDERS.iter().enumerate() {
        eprintln!(
            "{backend}: cancelled multishot accepts, {name}: {} delivered, {} left in the backlog",
            outcomes[order][0], outcomes[order][1]
        );
    }
    drop(driver);
    drop(listener);
    assert_fds_settle(&before, &format!("{backend}: after dropping the driver"));
}

#[cfg(target_os = "linux")]
#[test]
fn accept_multishot_cancel_race_leaks_no_fd_io_uring() {
    accept_multishot_cancel_race(Backend::IoUring);
}

#[cfg(target_os = "linux")]
#[test]
fn accept_multishot_cancel_race_leaks_no_fd_epoll() {
    accept_multishot_cancel_race(Backend::Epoll);
}

// ---------------------------------------------------------------------------------------------
// What differs between the OSes: listing what is open, closing, and looking at a connection.
// ---------------------------------------------------------------------------------------------

/// Linux: descriptors listed from `/proc/self/fd`, with what each points to.
#[cfg(target_os = "linux")]
mod os {
    use std::io;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::{AsRawFd, RawFd};
    use std::time::Instant;

    use proactor_driver::Fd;

    use super::LIMIT;

    /// What is open in the process.
    pub type Open = Vec<(RawFd, String)>;

    pub fn raw(socket: &impl AsRawFd) -> Fd {
        socket.as_raw_fd()
    }

    /// How many descriptors `open` lists.
    pub fn count(open: &Open) -> usize {
        open.len()
    }

    /// Nothing to do on Linux (see the Windows one).
    pub fn prepare_thread() {}

    /// What is open now and was not in `before`.
    pub fn lingering(before: &Open) -> String {
        let now: Open = open_fds()
            .into_iter()
            .filter(|fd| !before.contains(fd))
            .collect();
        format!("{now:?}")
    }

    /// Descriptors open in this process, each with what it points to (`socket:[…]`, a path, …).
    pub fn open_fds() -> Open {
        let mut fds: Vec<(RawFd, String)> = std::fs::read_dir("/proc/self/fd")
            .expect("read /proc/self/fd")
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let fd = entry.file_name().to_str()?.parse().ok()?;
                let target = std::fs::read_link(entry.path()).ok()?.display().to_string();
                // Leave out the descriptor this listing reads the directory through, and the one
                // glibc's malloc briefly opens (and closes) in any thread to read this setting.
                let ours = target.starts_with("/proc/") && target.ends_with("/fd");
                let malloc = target == "/proc/sys/vm/overcommit_memory";
                (!ours && !malloc).then_some((fd, target))
            })
            .collect();
        fds.sort();
        fds
    }

    /// Panics, listing the difference, unless the open descriptors are exactly `expected`.
    pub fn assert_same_fds(expected: &Open, context: &str) {
        let now = open_fds();
        if now != *expected {
            let leaked: Vec<_> = now.iter().filter(|fd| !expected.contains(fd)).collect();
            let closed: Vec<_> = expected.iter().filter(|fd| !now.contains(fd)).collect();
            panic!(
                "{context}: {} descriptors open, expected {}; new: {leaked:?}; gone: {closed:?}",
                now.len(),
                expected.len()
            );
        }
    }

    pub fn close(fd: usize) {
        let fd = fd as RawFd;
        // SAFETY: the test owns `fd` (from a completion or its own accept) and nothing else uses it.
        let result = unsafe { libc::close(fd) };
        assert_eq!(result, 0, "close({fd}): {}", io::Error::last_os_error());
    }

    /// After a cancelled accept: finds out whether the connection of `client` was accepted (the
    /// client then sees the driver's close as end of stream) or still waits in `listener`'s
    /// backlog (then accepts and closes it here). Returns whether it had been accepted.
    pub fn was_accepted(listener: &TcpListener, client: &TcpStream) -> bool {
        let listener = listener.as_raw_fd();
        let deadline = Instant::now() + LIMIT;
        loop {
            let mut fds = [
                libc::pollfd {
                    fd: listener,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: client.as_raw_fd(),
                    events: libc::POLLIN | libc::POLLRDHUP,
                    revents: 0,
                },
            ];
            // SAFETY: `fds` is an array of two valid pollfd structures for the call.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, 10) };
            assert!(ready >= 0, "poll: {}", io::Error::last_os_error());
            if fds[0].revents & libc::POLLIN != 0 {
                // SAFETY: accepts on the listening socket; null address pointers are allowed.
                let fd = unsafe {
                    libc::accept4(
                        listener,
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                    )
                };
                if fd >= 0 {
                    close(fd as usize);
                    return false;
                }
                let error = io::Error::last_os_error();
                assert_eq!(error.kind(), io::ErrorKind::WouldBlock, "accept4: {error}");
            }
            if fds[1].revents != 0 {
                let mut byte = 0u8;
                // SAFETY: peeks at most one byte into a local.
                let count = unsafe {
                    libc::recv(
                        client.as_raw_fd(),
                        (&mut byte as *mut u8).cast(),
                        1,
                        libc::MSG_PEEK | libc::MSG_DONTWAIT,
                    )
                };
                // End of stream or reset: the server side was accepted and closed.
                if count == 0
                    || (count < 0 && io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock)
                {
                    return true;
                }
                assert!(
                    count <= 0,
                    "nobody writes to the client, yet it received data"
                );
            }
            assert!(
                Instant::now() < deadline,
                "a cancelled accept left its connection neither in the backlog nor closed: \
                 the accepted socket leaked"
            );
        }
    }
}

/// Windows: the process's handles, listed from the system's handle table
/// (`NtQuerySystemInformation(SystemExtendedHandleInformation)`), each with its object type
/// (`File` for sockets and files, `IoCompletion` for a port, ...). `GetProcessHandleCount`
/// would do for a count on Windows, but Wine answers it with 0.
///
/// Thread handles are left out, as threads are on Linux: the test harness holds one for each
/// test thread it starts and closes it when the test ends, whatever this test does.
#[cfg(windows)]
mod os {
    use std::io;
    use std::net::{TcpListener, TcpStream};
    use std::os::windows::io::AsRawSocket;
    use std::time::{Duration, Instant};

    use proactor_driver::Fd;
    use windows_sys::Wdk::Foundation::{NtQueryObject, ObjectTypeInformation};
    use windows_sys::Wdk::System::SystemInformation::NtQuerySystemInformation;
    use windows_sys::Win32::Foundation::UNICODE_STRING;
    use windows_sys::Win32::Networking::WinSock::closesocket;
    use windows_sys::Win32::System::Threading::GetCurrentProcessId;

    use super::LIMIT;

    /// The process's handles: (value, object type).
    pub type Open = Vec<(usize, String)>;

    /// `SystemExtendedHandleInformation`: not in windows-sys (undocumented, but stable since
    /// Windows XP and implemented by Wine).
    const SYSTEM_EXTENDED_HANDLE_INFORMATION: i32 = 64;
    const STATUS_INFO_LENGTH_MISMATCH: i32 = 0xC000_0004_u32 as i32;

    /// One entry of the system's handle table (`SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX`).
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct HandleEntry {
        object: usize,
        process_id: usize,
        handle_value: usize,
        granted_access: u32,
        creator_back_trace_index: u16,
        object_type_index: u16,
        handle_attributes: u32,
        reserved: u32,
    }

    pub fn raw(socket: &impl AsRawSocket) -> Fd {
        socket.as_raw_socket()
    }

    pub fn count(open: &Open) -> usize {
        open.len()
    }

    /// Wine's Winsock makes an event for each thread at its first socket call and keeps it
    /// until the thread ends: make it now, so it is not counted as the test's.
    pub fn prepare_thread() {
        drop(TcpListener::bind("127.0.0.1:0").expect("bind loopback"));
    }

    pub fn lingering(before: &Open) -> String {
        let now: Open = open_fds()
            .into_iter()
            .filter(|handle| !before.contains(handle))
            .collect();
        format!("{now:?}")
    }

    pub fn open_fds() -> Open {
        // The header (count and a reserved word) is two entries' worth of usize, then entries.
        let mut buffer: Vec<usize> = vec![0; 1 << 16];
        loop {
            let bytes = buffer.len() * size_of::<usize>();
            let mut needed = 0u32;
            // SAFETY: `buffer` is writable for `bytes` bytes and suitably aligned for the
            // structure; `needed` is a valid out pointer.
            let status = unsafe {
                NtQuerySystemInformation(
                    SYSTEM_EXTENDED_HANDLE_INFORMATION,
                    buffer.as_mut_ptr().cast(),
                    bytes as u32,
                    &mut needed,
                )
            };
            if status == STATUS_INFO_LENGTH_MISMATCH {
                let wanted = (needed as usize).max(bytes * 2) / size_of::<usize>() + 1;
                buffer.resize(wanted, 0);
                continue;
            }
            assert_eq!(status, 0, "NtQuerySystemInformation: status {status:#x}");
            break;
        }
        let entries = buffer[0];
        let room = (buffer.len() - 2) * size_of::<usize>() / size_of::<HandleEntry>();
        assert!(
            entries <= room,
            "{entries} handle entries in room for {room}"
        );
        // SAFETY: NtQuerySystemInformation wrote `entries` HandleEntry structures after the
        // two-word header, within the buffer (checked above); usize alignment suffices.
        let table = unsafe {
            std::slice::from_raw_parts(buffer.as_ptr().add(2).cast::<HandleEntry>(), entries)
        };
        // SAFETY: GetCurrentProcessId takes no arguments and cannot fail.
        let process = unsafe { GetCurrentProcessId() } as usize;
        let mut handles: Open = table
            .iter()
            .filter(|entry| entry.process_id == process)
            .map(|entry| (entry.handle_value, type_name(entry.handle_value)))
            .filter(|(_, kind)| kind != "Thread")
            .collect();
        handles.sort();
        handles
    }

    /// The object type of one of this process's handles (or why it is not known: a handle
    /// closed since the table was read).
    fn type_name(handle: usize) -> String {
        // A UNICODE_STRING header, then the name and more that this does not read.
        let mut buffer = [0usize; 128];
        let mut needed = 0u32;
        // SAFETY: `buffer` is writable for its size and aligned for the structure; a handle
        // closed meanwhile only makes the call fail.
        let status = unsafe {
            NtQueryObject(
                handle as _,
                ObjectTypeInformation,
                buffer.as_mut_ptr().cast(),
                size_of_val(&buffer) as u32,
                &mut needed,
            )
        };
        if status != 0 {
            return format!("<status {status:#x}>");
        }
        // SAFETY: on success the buffer starts with the type's name as a UNICODE_STRING whose
        // characters the call stored in the same buffer.
        let name = unsafe {
            let header = &*buffer.as_ptr().cast::<UNICODE_STRING>();
            std::slice::from_raw_parts(header.Buffer, usize::from(header.Length) / 2)
        };
        String::from_utf16_lossy(name)
    }

    pub fn assert_same_fds(expected: &Open, context: &str) {
        let now = open_fds();
        if now != *expected {
            let leaked: Vec<_> = now.iter().filter(|h| !expected.contains(h)).collect();
            let closed: Vec<_> = expected.iter().filter(|h| !now.contains(h)).collect();
            panic!(
                "{context}: {} handles open, expected {}; new: {leaked:?}; gone: {closed:?}",
                now.len(),
                expected.len()
            );
        }
    }

    /// Closes a socket an accept completed with.
    pub fn close(fd: usize) {
        // SAFETY: the test owns the socket (from a completion) and nothing else uses it.
        let result = unsafe { closesocket(fd) };
        assert_eq!(
            result,
            0,
            "closesocket({fd}): {}",
            io::Error::last_os_error()
        );
    }

    /// After a cancelled accept: finds out whether the connection of `client` was accepted (the
    /// client then sees the driver's close as end of stream or a reset) or still waits in
    /// `listener`'s backlog (then accepts and closes it here). Returns whether it had been
    /// accepted. Windows has no poll on both at once: each is tried without blocking in turn.
    pub fn was_accepted(listener: &TcpListener, client: &TcpStream) -> bool {
        listener.set_nonblocking(true).unwrap();
        client.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + LIMIT;
        let accepted = loop {
            match listener.accept() {
                Ok((server, _)) => {
                    drop(server);
                    break false;
                }
                Err(error) => {
                    assert_eq!(error.kind(), io::ErrorKind::WouldBlock, "accept: {error}")
                }
            }
            let mut byte = [0u8; 1];
            match client.peek(&mut byte) {
                // End of stream or reset: the server side was accepted and closed.
                Ok(0) => break true,
                Ok(_) => panic!("nobody writes to the client, yet it received data"),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => break true,
            }
            assert!(
                Instant::now() < deadline,
                "a cancelled accept left its connection neither in the backlog nor closed: \
                 the accepted socket leaked"
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        listener.set_nonblocking(false).unwrap();
        accepted
    }
}
