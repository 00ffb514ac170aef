//! More completions than the completion queue holds. A ring of one submission entry has two
//! completion entries; what does not fit waits in the kernel's overflow list
//! (`IORING_FEAT_NODROP`) until an enter flushes it, and a full queue can refuse submissions
//! (`EBUSY`) meanwhile. Every operation must still complete exactly once, with its own result.
//! The readiness and IOCP backends have no such queue, and must give the same outcome.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
use proactor_driver::OpKind;
use proactor_driver::{is_cancelled, Backend, Buffer, Completion, Config, Driver, Op, OpId};

use crate::harness::{bytes_of, raw, room, socket_pair, Flavor, Harness, OwnedSocket, LIMIT};

/// The smallest queue a driver accepts: io_uring then has two completion entries.
const ENTRIES: u32 = 1;

/// The harness's driver replaced by one with the smallest queue, on the same backend.
fn tiny(mut harness: Harness) -> Harness {
    let config = Config::new().entries(ENTRIES);
    let config = match harness.flavor {
        #[cfg(target_os = "linux")]
        Flavor::IoUring => config.backend(Backend::IoUring),
        #[cfg(target_os = "linux")]
        Flavor::Epoll => config.backend(Backend::Epoll),
        #[cfg(target_os = "linux")]
        Flavor::IoUringFallback => config.backend(Backend::IoUring).fallback_for(&OpKind::ALL),
        #[cfg(windows)]
        Flavor::Iocp => config.backend(Backend::Iocp),
    };
    harness.driver = Driver::with_config(config).expect("a driver with a one-entry queue");
    harness
}

/// Polls (bounded) until every id in `expected` has completed, counting those in `early` (from
/// a flush), failing on an id that completes twice or one that was never submitted; then
/// checks nothing more arrives and nothing is left in flight.
fn collect(
    harness: &mut Harness,
    expected: &[OpId],
    early: Vec<Completion>,
) -> HashMap<OpId, Completion> {
    let mut done: HashMap<OpId, Completion> = HashMap::with_capacity(expected.len());
    let wanted: std::collections::HashSet<OpId> = expected.iter().copied().collect();
    assert_eq!(wanted.len(), expected.len(), "ids are unique");
    let deadline = Instant::now() + LIMIT;
    let mut batch = early;
    let mut largest_batch = 0;
    loop {
        largest_batch = largest_batch.max(batch.len());
        for completion in batch.drain(..) {
            let id = completion.id;
            assert!(wanted.contains(&id), "{id:?} was never submitted");
            assert!(
                done.insert(id, completion).is_none(),
                "{:?}: {id:?} completed twice",
                harness.flavor
            );
        }
        if done.len() == expected.len() {
            break;
        }
        let now = Instant::now();
        assert!(
            now < deadline,
            "{:?}: {} of {} operations completed within {LIMIT:?}",
            harness.flavor,
            done.len(),
            expected.len()
        );
        harness
            .driver
            .poll(
                &mut batch,
                Some((deadline - now).min(Duration::from_secs(1))),
            )
            .expect("poll");
    }
    // A duplicate would come in a later batch: look once more.
    harness
        .driver
        .poll(&mut batch, Some(Duration::from_millis(20)))
        .expect("poll");
    assert!(
        batch.is_empty(),
        "{:?}: completions after all were delivered: {batch:?}",
        harness.flavor
    );
    assert_eq!(harness.driver.in_flight(), 0);
    eprintln!(
        "{:?}: {} completions, at most {largest_batch} in one poll",
        harness.flavor,
        expected.len()
    );
    done
}

/// How many of `wanted` socket pairs to make. A common soft limit of 1,024 descriptors is too
/// few for 1,000 pairs on each backend at once (the suite runs the backends' instances of a
/// test in parallel), so the soft limit is raised to the hard one first (raising it disturbs
/// nobody), and fewer pairs are made if even that is short.
#[cfg(unix)]
fn affordable_pairs(wanted: usize) -> usize {
    // Instances of one test that may run at once (io_uring, epoll, io_uring_fallback), and
    // room for the suite's other tests.
    const AT_ONCE: u64 = 3;
    const SPARE: u64 = 512;
    // SAFETY: an all-zero rlimit is a valid value to be overwritten.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: getrlimit writes into the rlimit it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return wanted;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads a valid rlimit; a soft limit up to the hard one is allowed.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    let room = limit.rlim_cur.saturating_sub(SPARE) / 2 / AT_ONCE;
    wanted
        .min(usize::try_from(room).unwrap_or(usize::MAX))
        .max(16)
}

#[cfg(windows)]
fn affordable_pairs(wanted: usize) -> usize {
    wanted
}

/// Writes `bytes` to `socket` directly (not through the driver): what the peer then receives
/// arrives while nobody reaps.
fn write_directly(socket: &OwnedSocket, bytes: &[u8]) {
    use std::io::Write;
    #[cfg(unix)]
    let mut stream = std::os::unix::net::UnixStream::from(socket.try_clone().expect("dup"));
    #[cfg(windows)]
    let mut stream = std::net::TcpStream::from(socket.try_clone().expect("duplicate"));
    stream.write_all(bytes).expect("write to the peer");
}

pub fn nops_overflow_the_completion_queue(harness: Harness) {
    let mut harness = tiny(harness);
    let ids: Vec<OpId> = (0..4096).map(|_| harness.submit(Op::Nop)).collect();
    for (id, completion) in collect(&mut harness, &ids, Vec::new()) {
        assert!(
            matches!(completion.result, Ok(0)),
            "{id:?}: {:?}",
            completion.result
        );
        assert!(matches!(completion.op, Op::Nop));
    }
}

pub fn zero_timeouts_overflow_the_completion_queue(harness: Harness) {
    let mut harness = tiny(harness);
    let ids: Vec<OpId> = (0..4096)
        .map(|_| {
            harness.submit(Op::Timeout {
                duration: Duration::ZERO,
            })
        })
        .collect();
    for (id, completion) in collect(&mut harness, &ids, Vec::new()) {
        assert!(
            matches!(completion.result, Ok(0)),
            "{id:?}: {:?}",
            completion.result
        );
    }
}

/// Sends and receives on one stream, all submitted before the first poll: the receives
/// complete as the sends land, in one flood, and every byte sent is received once.
pub fn sends_and_receives_overflow_the_completion_queue(harness: Harness) {
    const COUNT: usize = 2048;
    let mut harness = tiny(harness);
    let (left, right) = socket_pair();
    let recvs: Vec<OpId> = (0..COUNT)
        .map(|_| {
            harness.submit(Op::Recv {
                fd: raw(&right),
                buf: room(1),
                flags: 0,
            })
        })
        .collect();
    let sends: Vec<OpId> = (0..COUNT)
        .map(|index| {
            harness.submit(Op::Send {
                fd: raw(&left),
                buf: Buffer::from(vec![(index % 251) as u8]),
                flags: 0,
            })
        })
        .collect();
    let mut all = recvs.clone();
    all.extend_from_slice(&sends);
    let mut done = collect(&mut harness, &all, Vec::new());
    for id in &sends {
        let completion = done.remove(id).unwrap();
        assert_eq!(completion.result.unwrap(), 1, "{id:?}: a one-byte send");
    }
    // Concurrent operations on one stream may run in any order: compare counts per value.
    let mut received = [0usize; 251];
    for id in &recvs {
        let completion = done.remove(id).unwrap();
        assert_eq!(completion.result.unwrap(), 1, "{id:?}: a one-byte receive");
        received[bytes_of(completion.op)[0] as usize] += 1;
    }
    let mut sent = [0usize; 251];
    for index in 0..COUNT {
        sent[index % 251] += 1;
    }
    assert_eq!(received, sent, "every byte sent is received once");
}

/// A receive on each of many sockets, submitted; then data arrives for all of them while the
/// application does not poll, so their completions pile up beyond the queue before the first
/// reap.
pub fn completions_pile_up_while_nobody_reaps(harness: Harness) {
    let mut harness = tiny(harness);
    let pairs: Vec<(OwnedSocket, OwnedSocket)> =
        (0..affordable_pairs(1000)).map(|_| socket_pair()).collect();
    let ids: Vec<OpId> = pairs
        .iter()
        .map(|(_, right)| {
            harness.submit(Op::Recv {
                fd: raw(right),
                buf: room(8),
                flags: 0,
            })
        })
        .collect();
    // Into the kernel now (io_uring submits at the next enter); nothing can be ready yet.
    let mut early = Vec::new();
    harness.driver.flush(&mut early).expect("flush");
    assert!(
        early.is_empty(),
        "received before anything was sent: {early:?}"
    );
    for (index, (left, _)) in pairs.iter().enumerate() {
        write_directly(left, &(index as u16).to_le_bytes());
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut done = collect(&mut harness, &ids, Vec::new());
    for (index, id) in ids.iter().enumerate() {
        let completion = done.remove(id).unwrap();
        assert_eq!(completion.result.unwrap(), 2, "pair {index}");
        assert_eq!(
            bytes_of(completion.op),
            (index as u16).to_le_bytes(),
            "pair {index} received its own bytes"
        );
    }
}

/// Timers that fire while the application does not poll.
pub fn timers_fire_while_nobody_reaps(harness: Harness) {
    let mut harness = tiny(harness);
    let ids: Vec<OpId> = (0..1000)
        .map(|index| {
            harness.submit(Op::Timeout {
                duration: Duration::from_micros(index % 3000),
            })
        })
        .collect();
    let mut early = Vec::new();
    harness.driver.flush(&mut early).expect("flush");
    std::thread::sleep(Duration::from_millis(50));
    for (id, completion) in collect(&mut harness, &ids, early) {
        assert!(
            matches!(completion.result, Ok(0)),
            "{id:?}: {:?}",
            completion.result
        );
    }
}

/// Many cancels at once: each cancelled operation completes once, cancelled, while io_uring's
/// cancel requests add completions of their own to the flood.
pub fn cancels_overflow_the_completion_queue(harness: Harness) {
    const COUNT: usize = 1000;
    let mut harness = tiny(harness);
    let (_left, right) = socket_pair();
    let mut ids = Vec::with_capacity(COUNT);
    for index in 0..COUNT {
        ids.push(if index % 2 == 0 {
            harness.submit(Op::Timeout {
                duration: Duration::from_secs(3600),
            })
        } else {
            harness.submit(Op::Recv {
                fd: raw(&right),
                buf: room(4),
                flags: 0,
            })
        });
    }
    let mut early = Vec::new();
    harness.driver.flush(&mut early).expect("flush");
    assert!(early.is_empty(), "nothing could complete yet: {early:?}");
    for &id in &ids {
        harness
            .driver
            .cancel(id)
            .expect("cancel an operation in flight");
    }
    for (id, completion) in collect(&mut harness, &ids, Vec::new()) {
        let error = completion
            .result
            .expect_err("a cancelled operation that could not finish");
        assert!(is_cancelled(&error), "{id:?}: {error:?}");
        if let Op::Recv { buf, .. } = completion.op {
            assert_eq!(
                buf.read_capacity(),
                4,
                "the receive's buffer comes back empty"
            );
        }
    }
}

/// A multishot accept whose connections overflow the completion queue: io_uring ends a
/// multishot operation whose completion did not fit (the last without `IORING_CQE_F_MORE`,
/// yet a connection); the driver re-arms it, and every connection is delivered once.
pub fn multishot_accept_overflowing_the_queue_loses_no_connection(harness: Harness) {
    const CLIENTS: usize = 64;
    let mut harness = tiny(harness);
    let listener = crate::harness::listener(false);
    let address = listener.local_addr().unwrap();
    let id = harness.submit(Op::AcceptMultishot { fd: raw(&listener) });
    harness.poll_now();
    // Every client connects before the driver looks again: the queue overflows.
    let clients: Vec<std::net::TcpStream> = (0..CLIENTS)
        .map(|_| std::net::TcpStream::connect(address).expect("connect"))
        .collect();
    let mut accepted = Vec::new();
    let deadline = Instant::now() + LIMIT;
    while accepted.len() < CLIENTS {
        assert!(
            Instant::now() < deadline,
            "{:?}: {} of {CLIENTS} connections delivered",
            harness.flavor,
            accepted.len()
        );
        let Some(completion) = harness.try_wait(id, Duration::from_millis(100)) else {
            continue;
        };
        assert!(
            completion.more,
            "{:?}: the run ended: {:?}",
            harness.flavor, completion.result
        );
        let fd = completion.result.expect("a connection");
        // SAFETY: the accept made this descriptor, and nothing else owns it.
        accepted.push(unsafe { crate::harness::socket_from_raw(fd) });
    }
    harness.driver.cancel(id).expect("cancel");
    let last = harness.wait(id);
    assert!(!last.more && last.result.as_ref().is_err_and(is_cancelled));
    drop((clients, accepted));
}

/// A multishot pooled receive whose receives overflow the completion queue: each of its
/// completions comes once, in order, and the bytes are all there.
pub fn multishot_receive_overflowing_the_queue_loses_no_byte(harness: Harness) {
    let mut harness = tiny(harness);
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.buffer_pool(4, 256).expect("pool");
    let id = harness.submit(Op::RecvPooled {
        fd: raw(&server),
        pool: pool.clone(),
        multishot: true,
        buffer: None,
    });
    harness.poll_now();
    let message: Vec<u8> = (0..400u32).map(|i| (i % 251) as u8).collect();
    let (sent, _) = harness.ok(Op::Send {
        fd: raw(&client),
        buf: Buffer::from(message.clone()),
        flags: 0,
    });
    assert_eq!(sent, message.len());
    let mut received = Vec::new();
    let mut buffers = Vec::new();
    while received.len() < message.len() {
        let completion = harness.wait(id);
        assert!(
            completion.more,
            "{:?}: the run ended: {:?}",
            harness.flavor, completion.result
        );
        let Op::RecvPooled {
            buffer: Some(buffer),
            ..
        } = completion.op
        else {
            panic!("a receive without its buffer")
        };
        received.extend_from_slice(&buffer);
        buffers.push(buffer);
    }
    assert_eq!(received, message, "{:?}", harness.flavor);
    drop(client);
    let last = harness.wait(id);
    assert!(!last.more);
    assert_eq!(last.result.expect("end of stream"), 0);
    drop(buffers);
    assert_eq!(pool.available(), 256);
}
