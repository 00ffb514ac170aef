//! The driver itself: timeouts, cancellation, stale identifiers, wakes, polling and drop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use proactor_driver::{is_cancelled, Buffer, Op, OpId};

use crate::harness::is_bad_fd;
use crate::harness::{bytes_of, into_raw, raw, room, socket_pair, Harness};

pub fn nop_completes(mut harness: Harness) {
    let ids: Vec<_> = (0..64).map(|_| harness.submit(Op::Nop)).collect();
    let mut completions = Vec::new();
    let deadline = Instant::now() + crate::harness::LIMIT;
    while completions.len() < ids.len() {
        assert!(Instant::now() < deadline);
        harness
            .driver
            .poll(&mut completions, Some(Duration::from_secs(1)))
            .unwrap();
    }
    let mut seen: Vec<_> = completions.iter().map(|completion| completion.id).collect();
    seen.sort_by_key(|id| id.index());
    let mut expected = ids.clone();
    expected.sort_by_key(|id| id.index());
    assert_eq!(seen, expected, "each exactly once");
    assert!(completions
        .iter()
        .all(|completion| matches!(completion.result, Ok(0))));
    assert_eq!(harness.driver.in_flight(), 0);
}

pub fn timeout_fires_after_its_duration(mut harness: Harness) {
    let start = Instant::now();
    let long = harness.submit(Op::Timeout {
        duration: Duration::from_millis(200),
    });
    let short = harness.submit(Op::Timeout {
        duration: Duration::from_millis(50),
    });
    let mut completions = Vec::new();
    while completions.is_empty() {
        harness
            .driver
            .poll(&mut completions, Some(crate::harness::LIMIT))
            .unwrap();
    }
    assert_eq!(completions[0].id, short, "the shorter timeout fires first");
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert_eq!(completions[0].result.as_ref().unwrap(), &0);
    let completion = harness.wait(long);
    assert!(completion.result.is_ok());
    assert!(
        start.elapsed() >= Duration::from_millis(200),
        "fired early: {:?}",
        start.elapsed()
    );
    // A zero timeout fires at once.
    harness.ok(Op::Timeout {
        duration: Duration::ZERO,
    });
}

pub fn timeout_can_be_cancelled(mut harness: Harness) {
    let start = Instant::now();
    let id = harness.submit(Op::Timeout {
        duration: Duration::from_secs(3600),
    });
    // Let io_uring see it first, so the cancel reaches the kernel.
    harness.poll_now();
    harness.driver.cancel(id).unwrap();
    let completion = harness.wait(id);
    assert!(is_cancelled(completion.result.as_ref().unwrap_err()));
    assert!(start.elapsed() < Duration::from_secs(5));
    // Cancelling right after submit, before any poll, works too.
    let id = harness.submit(Op::Timeout {
        duration: Duration::from_secs(3600),
    });
    harness.driver.cancel(id).unwrap();
    assert!(is_cancelled(harness.wait(id).result.as_ref().unwrap_err()));
}

/// A timeout too long for any clock (`Duration::MAX`, `u64::MAX` seconds) never fires and
/// never fails: it waits like any long one, and ends only when cancelled, exactly once. A
/// poll may wait that long too.
pub fn endless_timeouts_wait_until_cancelled(mut harness: Harness) {
    let endless = [Duration::MAX, Duration::from_secs(u64::MAX)]
        .map(|duration| harness.submit(Op::Timeout { duration }));
    let short = harness.submit(Op::Timeout {
        duration: Duration::from_millis(20),
    });
    assert_eq!(harness.wait(short).result.unwrap(), 0);
    for id in endless {
        if let Some(early) = harness.try_wait(id, Duration::from_millis(50)) {
            panic!(
                "{:?}: an endless timeout ended: {:?}",
                harness.flavor, early.result
            );
        }
    }
    for id in endless {
        harness.driver.cancel(id).unwrap();
        let error = harness.wait(id).result.unwrap_err();
        assert!(is_cancelled(&error), "{error}");
    }
    harness.poll_now();
    assert_eq!(harness.stashed(), 0, "each completed once");
    assert_eq!(harness.driver.in_flight(), 0);
    // An endless poll waits (without spinning) for what comes, and returns with it.
    let id = harness.submit(Op::Timeout {
        duration: Duration::from_millis(100),
    });
    let mut completions = Vec::new();
    #[cfg(unix)]
    let cpu_before = thread_cpu_time();
    let count = harness
        .driver
        .poll(&mut completions, Some(Duration::MAX))
        .expect("a poll without a practical limit");
    assert_eq!((count, completions[0].id), (1, id));
    #[cfg(unix)]
    {
        let busy = thread_cpu_time() - cpu_before;
        assert!(
            busy < Duration::from_millis(50),
            "{:?}: the poll spun for {busy:?} of its 100 ms wait",
            harness.flavor
        );
    }
}

/// CPU time this thread has used.
#[cfg(unix)]
fn thread_cpu_time() -> Duration {
    // SAFETY: all-zero is a valid timespec, which clock_gettime fills.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock and a pointer to a local timespec.
    let result = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(result, 0, "{}", std::io::Error::last_os_error());
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

pub fn cancel_pending_recv_returns_buffer(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let mut buffer = Vec::with_capacity(32);
    buffer.extend_from_slice(b"kept");
    let id = harness.submit(Op::Recv {
        fd: raw(&right),
        buf: Buffer::from(buffer),
        flags: 0,
    });
    assert!(
        harness.try_wait(id, Duration::from_millis(30)).is_none(),
        "nothing to receive yet"
    );
    harness.driver.cancel(id).unwrap();
    let completion = harness.wait(id);
    let error = completion.result.unwrap_err();
    assert!(is_cancelled(&error), "{error}");
    let buffer = completion.op.into_buffer().unwrap().into_vec().unwrap();
    assert_eq!(buffer, b"kept");
    assert_eq!(buffer.capacity(), 32, "the very same buffer comes back");
    // A second cancel of the same (finished) id is rejected.
    assert_eq!(
        harness.driver.cancel(id).unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
}

pub fn cancel_racing_completion_loses_no_bytes(mut harness: Harness) {
    let (left, right) = socket_pair();
    let mut sent = Vec::new();
    let mut received = Vec::new();
    let (mut cancelled, mut completed) = (0, 0);
    for round in 0u32..300 {
        let message = round.to_le_bytes();
        sent.extend_from_slice(&message);
        let send_op = || Op::Send {
            fd: raw(&left),
            buf: Buffer::from(message.to_vec()),
            flags: 0,
        };
        // Three orders, so both outcomes of the race happen: data first (the receive
        // usually wins), data after the receive reached the kernel (the cancel usually wins),
        // and everything in one batch.
        let early_send = (round % 3 == 0).then(|| harness.submit(send_op()));
        let recv = harness.submit(Op::Recv {
            fd: raw(&right),
            buf: room(4),
            flags: 0,
        });
        if round % 3 == 1 {
            harness.poll_now();
        }
        let late_send = (round % 3 == 2).then(|| harness.submit(send_op()));
        if let Err(error) = harness.driver.cancel(recv) {
            // Already handed out by the poll above: then it completed, it is not in flight.
            assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        }
        let send = early_send
            .or(late_send)
            .unwrap_or_else(|| harness.submit(send_op()));
        let completion = harness.wait(recv);
        match completion.result {
            Ok(count) => {
                completed += 1;
                assert!(count > 0);
                received.extend(bytes_of(completion.op));
            }
            Err(error) => {
                assert!(is_cancelled(&error), "{error}");
                cancelled += 1;
                assert!(completion.op.into_buffer().unwrap().is_empty());
            }
        }
        assert_eq!(harness.wait(send).result.unwrap(), 4);
        // Take what a cancelled receive left, so the next round starts on an empty socket.
        while received.len() < sent.len() {
            let (count, op) = harness.ok(Op::Recv {
                fd: raw(&right),
                buf: room(sent.len() - received.len()),
                flags: 0,
            });
            assert!(count > 0);
            received.extend(bytes_of(op));
        }
    }
    // Collect what cancelled receives left in the socket.
    while received.len() < sent.len() {
        let (count, op) = harness.ok(Op::Recv {
            fd: raw(&right),
            buf: room(4096),
            flags: 0,
        });
        assert!(count > 0);
        received.extend(bytes_of(op));
    }
    assert_eq!(received, sent, "every byte exactly once, in order");
    eprintln!(
        "{:?}: {completed} receives won the race, {cancelled} were cancelled",
        harness.flavor
    );
}

pub fn stale_id_is_rejected(mut harness: Harness) {
    let first = harness.submit(Op::Nop);
    harness.wait(first);
    // The slot is reused by the next operation; the old id must not reach it.
    let (_left, right) = socket_pair();
    let second = harness.submit(Op::Recv {
        fd: raw(&right),
        buf: room(8),
        flags: 0,
    });
    assert_eq!(first.index(), second.index(), "slot reused");
    assert_ne!(first, second);
    assert_eq!(
        harness.driver.cancel(first).unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
    assert!(
        harness
            .try_wait(second, Duration::from_millis(30))
            .is_none(),
        "the new op is untouched"
    );
    harness.driver.cancel(second).unwrap();
    assert!(is_cancelled(
        harness.wait(second).result.as_ref().unwrap_err()
    ));
}

pub fn wake_from_another_thread(mut harness: Harness) {
    let notifier = harness.driver.notifier();
    let waker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        notifier.notify();
    });
    let start = Instant::now();
    let count = harness
        .driver
        .poll(&mut Vec::new(), Some(Duration::from_secs(20)))
        .unwrap();
    assert_eq!(count, 0);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "woken, not timed out"
    );
    waker.join().unwrap();
    // Wakes coalesce and do not leave the driver spinning: a later poll blocks until timeout.
    let notifier = harness.driver.notifier();
    for _ in 0..100 {
        notifier.notify();
    }
    harness
        .driver
        .poll(&mut Vec::new(), Some(Duration::from_secs(5)))
        .unwrap();
    let start = Instant::now();
    harness
        .driver
        .poll(&mut Vec::new(), Some(Duration::from_millis(50)))
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(45),
        "poll returned early after coalesced wakes"
    );
    // The notifier is Send + Sync + Clone.
    fn assert_shareable<T: Send + Sync + Clone>(_: &T) {}
    assert_shareable(&harness.driver.notifier());
}

pub fn poll_with_zero_timeout_does_not_block(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let id = harness.submit(Op::Recv {
        fd: raw(&right),
        buf: room(8),
        flags: 0,
    });
    let start = Instant::now();
    for _ in 0..100 {
        assert_eq!(
            harness
                .driver
                .poll(&mut Vec::new(), Some(Duration::ZERO))
                .unwrap(),
            0
        );
    }
    assert!(start.elapsed() < Duration::from_secs(2));
    let start = Instant::now();
    assert_eq!(
        harness
            .driver
            .poll(&mut Vec::new(), Some(Duration::from_millis(100)))
            .unwrap(),
        0
    );
    assert!(
        start.elapsed() >= Duration::from_millis(95),
        "finite timeout waited {:?}",
        start.elapsed()
    );
    harness.driver.cancel(id).unwrap();
    harness.wait(id);
}

pub fn drop_with_operations_in_flight(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let listener = crate::harness::listener(false);
    let dir = crate::harness::TempDir::new();
    let file = crate::harness::open_read_only(&dir.file("f", &[7u8; 8192]));
    for _ in 0..10 {
        harness.submit(Op::Recv {
            fd: raw(&right),
            buf: room(1024),
            flags: 0,
        });
    }
    harness.submit(Op::Accept {
        fd: raw(&listener),
        peer: None,
    });
    harness.submit(Op::Timeout {
        duration: Duration::from_secs(3600),
    });
    for offset in 0..8 {
        harness.submit(Op::Read {
            fd: raw(&file),
            buf: room(1024),
            offset: Some(offset * 1024),
        });
    }
    harness.submit(Op::Blocking {
        job: Box::new(|| {
            std::thread::sleep(Duration::from_millis(50));
            Ok(0)
        }),
    });
    harness
        .driver
        .poll(&mut Vec::new(), Some(Duration::ZERO))
        .unwrap();
    let flavor = harness.flavor;
    let start = Instant::now();
    drop(harness);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "drop took {:?}",
        start.elapsed()
    );
    // Everything still works afterwards, and a fresh driver reuses nothing stale.
    let mut fresh = Harness::new(flavor);
    fresh.ok(Op::Nop);
}

pub fn close_completes_waiting_operations(mut harness: Harness) {
    let (left, right) = socket_pair();
    let waiting = harness.submit(Op::Recv {
        fd: raw(&right),
        buf: room(8),
        flags: 0,
    });
    harness.poll_now();
    let fd = into_raw(right);
    harness.ok(Op::Close { fd });
    // The close ends the receive, already in the kernel on io_uring and IOCP, while the peer
    // is still open and silent.
    let completion = harness
        .try_wait(waiting, Duration::from_secs(3))
        .expect("the close ends the receive waiting on it");
    let error = completion.result.unwrap_err();
    assert!(is_cancelled(&error), "{error}");
    drop(left);
}

#[cfg(unix)]
pub fn forgotten_descriptor_numbers_are_fresh(mut harness: Harness) {
    let (left, right) = socket_pair();
    let number = raw(&right);
    // Make the driver learn about `right`: a receive that has to wait for readiness.
    let waiting = harness.submit(Op::Recv {
        fd: number,
        buf: room(8),
        flags: 0,
    });
    harness.poll_now();
    harness.ok(Op::Send {
        fd: raw(&left),
        buf: Buffer::from("one"),
        flags: 0,
    });
    assert_eq!(harness.wait(waiting).result.unwrap(), 3);
    // The number now names a new socket, changed outside the driver: dup2 swaps the file
    // behind it atomically (a close and a reopen could race other tests for the number).
    drop(left);
    let (fresh, peer) = socket_pair();
    // SAFETY: both descriptors are open and owned by this test; `right` keeps owning the
    // number, which now refers to the new socket.
    assert_eq!(unsafe { libc::dup2(raw(&fresh), number) }, number);
    drop(fresh);
    harness.driver.forget_fd(number);
    let waiting = harness.submit(Op::Recv {
        fd: number,
        buf: room(8),
        flags: 0,
    });
    harness.poll_now();
    harness.ok(Op::Send {
        fd: raw(&peer),
        buf: Buffer::from("two"),
        flags: 0,
    });
    let completion = harness.wait(waiting);
    assert_eq!(bytes_of(completion.op), b"two");
}

/// On Windows a handle closed outside the driver (and forgotten) can have its value reused by
/// a new socket, which must then be associated with the driver's port afresh. The value comes
/// back at the system's choosing, so this tries a few sockets until one does.
#[cfg(windows)]
pub fn forgotten_descriptor_numbers_are_fresh(mut harness: Harness) {
    let (left, right) = socket_pair();
    let number = raw(&right);
    let waiting = harness.submit(Op::Recv {
        fd: number,
        buf: room(8),
        flags: 0,
    });
    harness.poll_now();
    harness.ok(Op::Send {
        fd: raw(&left),
        buf: Buffer::from("one"),
        flags: 0,
    });
    assert_eq!(harness.wait(waiting).result.unwrap(), 3);
    // The pairs below come from this listener, made first so it does not take the value.
    let listener = crate::harness::listener(false);
    let address = listener.local_addr().unwrap();
    drop((left, right));
    harness.driver.forget_fd(number);
    // Windows hands out a freed handle value again soon; keep what does not reuse it open
    // until the end, so the next try cannot get the same one.
    let mut others = Vec::new();
    let reused = (0..64).find_map(|_| {
        let client = std::net::TcpStream::connect(address).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        if raw(&client) == number {
            Some((client, server))
        } else if raw(&server) == number {
            Some((server, client))
        } else {
            others.push((client, server));
            None
        }
    });
    let Some((fresh, peer)) = reused else {
        eprintln!(
            "{:?}: the value {number} was not reused; nothing to check",
            harness.flavor
        );
        return;
    };
    let waiting = harness.submit(Op::Recv {
        fd: raw(&fresh),
        buf: room(8),
        flags: 0,
    });
    harness.poll_now();
    harness.ok(Op::Send {
        fd: raw(&peer),
        buf: Buffer::from("two"),
        flags: 0,
    });
    let completion = harness.wait(waiting);
    assert_eq!(bytes_of(completion.op), b"two");
}

/// A job cancelled before a pool thread starts it never runs and completes cancelled; one
/// already running completes with its own result. A job naming a descriptor the driver
/// closes before it starts does not run either (the number may name another file by then).
pub fn cancelled_pool_jobs_never_run(mut harness: Harness) {
    // The pool is the process's: one test at a time fills it.
    static FILLING: Mutex<()> = Mutex::new(());
    let _alone = FILLING.lock().unwrap_or_else(PoisonError::into_inner);
    // As many blocked jobs as the pool has threads (`PROACTOR_POOL_THREADS`, else 64) leave
    // every later job queued.
    let threads: usize = std::env::var("PROACTOR_POOL_THREADS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(64);
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let started = Arc::new(AtomicUsize::new(0));
    let blockers: Vec<OpId> = (0..threads)
        .map(|_| {
            let (gate, started) = (Arc::clone(&gate), Arc::clone(&started));
            harness.submit(Op::Blocking {
                job: Box::new(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    let (open, opened) = &*gate;
                    let open = open.lock().unwrap_or_else(PoisonError::into_inner);
                    // Bounded, so a failing test cannot leave the pool stuck.
                    let _open = opened
                        .wait_timeout_while(open, crate::harness::LIMIT, |open| !*open)
                        .unwrap_or_else(PoisonError::into_inner);
                    Ok(0)
                }),
            })
        })
        .collect();
    let open_gate = || {
        *gate.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        gate.1.notify_all();
    };
    let deadline = Instant::now() + crate::harness::LIMIT;
    while started.load(Ordering::SeqCst) < threads {
        if Instant::now() >= deadline {
            open_gate();
            panic!(
                "only {} of {threads} blocking jobs started",
                started.load(Ordering::SeqCst)
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // Every pool thread is busy: these wait in the queue.
    let ran = Arc::new(AtomicUsize::new(0));
    let queued: Vec<OpId> = (0..8)
        .map(|_| {
            let ran = Arc::clone(&ran);
            harness.submit(Op::Blocking {
                job: Box::new(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok(1)
                }),
            })
        })
        .collect();
    let dir = crate::harness::TempDir::new();
    let path = dir.file("truncated", b"");
    let file = crate::harness::file_into_raw(crate::harness::open_file(&path, false));
    // A thread-pool operation on readiness backends and IOCP (the kernel's on io_uring).
    let truncate = harness.submit(Op::Ftruncate { fd: file, len: 100 });
    for &id in &queued {
        harness.driver.cancel(id).unwrap();
    }
    // Running already: it ends with its own result.
    harness.driver.cancel(blockers[0]).unwrap();
    let close = harness.submit(Op::Close { fd: file });
    open_gate();
    for id in queued {
        let error = harness.wait(id).result.expect_err("a cancelled job ran");
        assert!(is_cancelled(&error), "{error}");
    }
    for id in blockers {
        assert_eq!(harness.wait(id).result.unwrap(), 0);
    }
    let truncated = harness.wait(truncate).result;
    harness.wait(close).result.expect("close");
    // Whatever was queued before is at least started once this has run.
    harness.ok(Op::Blocking {
        job: Box::new(|| Ok(0)),
    });
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(ran.load(Ordering::SeqCst), 0, "cancelled jobs ran");
    let len = std::fs::metadata(&path).unwrap().len();
    match truncated {
        Ok(_) => assert_eq!(len, 100),
        Err(error) => {
            assert!(is_cancelled(&error), "{error}");
            assert_eq!(len, 0, "a cancelled truncate ran");
        }
    }
    harness.poll_now();
    assert_eq!(harness.stashed(), 0, "each completed once");
    assert_eq!(harness.driver.in_flight(), 0);
}

/// Pool results arriving while the driver drains its waker must not leave it deaf to later
/// wakes (a lost wake-up made `poll` sleep until its timeout, or forever).
pub fn pool_bursts_never_lose_a_wake(mut harness: Harness) {
    for burst in 0..300 {
        let ids: Vec<_> = (0..4)
            .map(|_| {
                harness.submit(Op::Blocking {
                    job: Box::new(|| Ok(1)),
                })
            })
            .collect();
        let start = Instant::now();
        for id in ids {
            harness.wait(id);
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "burst {burst} took {:?}: a wake was lost",
            start.elapsed()
        );
    }
    // The notifier still works afterwards.
    let notifier = harness.driver.notifier();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        notifier.notify();
    });
    let start = Instant::now();
    harness.driver.poll(&mut Vec::new(), None).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    thread.join().unwrap();
}

/// Waiting for readiness itself, for descriptors whose readiness is the event (a pidfd, a
/// listening socket), and for code written around readiness (on Windows through the socket
/// driver's poll, whose events are `WSAPoll`'s).
pub fn poll_waits_for_readiness(mut harness: Harness) {
    #[cfg(unix)]
    let (readable_event, writable_event) = (libc::POLLIN as usize, libc::POLLOUT as usize);
    #[cfg(windows)]
    let (readable_event, writable_event) = {
        use windows_sys::Win32::Networking::WinSock::{POLLRDNORM, POLLWRNORM};
        (POLLRDNORM as usize, POLLWRNORM as usize)
    };
    let (left, right) = socket_pair();
    let readable = harness.submit(Op::Poll {
        fd: raw(&right),
        writable: false,
    });
    assert!(
        harness
            .try_wait(readable, Duration::from_millis(30))
            .is_none(),
        "not readable yet"
    );
    harness.ok(Op::Send {
        fd: raw(&left),
        buf: Buffer::from("x"),
        flags: 0,
    });
    let events = harness.wait(readable).result.unwrap();
    assert_ne!(events & readable_event, 0, "events {events:#x}");
    // The data is still there: polling does not consume it.
    let (count, _) = harness.ok(Op::Recv {
        fd: raw(&right),
        buf: room(4),
        flags: 0,
    });
    assert_eq!(count, 1);
    let (events, _) = harness.ok(Op::Poll {
        fd: raw(&left),
        writable: true,
    });
    assert_ne!(events & writable_event, 0, "events {events:#x}");
    let waiting = harness.submit(Op::Poll {
        fd: raw(&right),
        writable: false,
    });
    harness.poll_now();
    harness.driver.cancel(waiting).unwrap();
    assert!(is_cancelled(
        harness.wait(waiting).result.as_ref().unwrap_err()
    ));
    let error = harness.error(Op::Poll {
        fd: crate::harness::CLOSED_FD,
        writable: false,
    });
    assert!(is_bad_fd(&error), "{error}");
}

/// Pool replies and notifiers hold the waker after the driver is gone: waking then does
/// nothing, and a job finishing then disposes of its own result.
pub fn wakes_after_the_driver_is_gone_are_harmless(mut harness: Harness) {
    let flavor = harness.flavor;
    let notifier = harness.driver.notifier();
    let (finished_tx, finished_rx) = std::sync::mpsc::channel();
    harness.submit(Op::Blocking {
        job: Box::new(move || {
            std::thread::sleep(Duration::from_millis(50));
            let _ = finished_tx.send(());
            Ok(0)
        }),
    });
    drop(harness);
    for _ in 0..100 {
        notifier.notify();
    }
    finished_rx
        .recv_timeout(crate::harness::LIMIT)
        .expect("the pool job ran");
    // Its reply (and the wake that comes with it) land after the job returns.
    std::thread::sleep(Duration::from_millis(50));
    notifier.notify();
    drop(notifier);
    let mut fresh = Harness::new(flavor);
    fresh.ok(Op::Nop);
}

/// Waiting for a process exit by its ID is kqueue's (`EVFILT_PROC`); the other backends say
/// so (Linux waits on a pidfd, Windows on the process handle, both with `Op::Poll`).
pub fn wait_exit_needs_kqueue(mut harness: Harness) {
    let error = harness.error(Op::WaitExit {
        pid: std::process::id(),
    });
    assert_eq!(error.kind(), std::io::ErrorKind::Unsupported, "{error}");
    assert_eq!(harness.stashed(), 0);
}
