//! The fault-injecting layer (`Config::faults`) on each Linux backend: faults are ones the OS
//! could produce and never misreport what happened — bytes of a stream arrive once and in
//! order through short transfers, delays and reordering; errors transfer nothing; buffers come
//! back as a real transfer leaves them; a delayed completion never hangs a poll, is cancelled
//! the way a finished operation is, and never shares its index with a newer operation.
//!
//! `PROACTOR_FAULT_ITERATIONS` (default 4) sets how many seeds the stream test runs.

#![cfg(target_os = "linux")]

use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use proactor_driver::{Backend, Buffer, Completion, Config, Driver, Faults, Op, OpId};

const LIMIT: Duration = Duration::from_secs(20);

/// Descriptor counts are per process, and one test counts them: the tests run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
}

fn driver(backend: Backend, faults: Faults) -> Driver {
    Driver::with_config(Config::new().backend(backend).faults(faults)).expect("driver")
}

fn iterations() -> u64 {
    std::env::var("PROACTOR_FAULT_ITERATIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(4)
}

/// Polls until `id` completes; other completions are kept in `stash`.
fn wait(driver: &mut Driver, stash: &mut Vec<Completion>, id: OpId) -> Completion {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(position) = stash.iter().position(|completion| completion.id == id) {
            return stash.remove(position);
        }
        let now = Instant::now();
        assert!(now < deadline, "no completion for {id:?} within {LIMIT:?}");
        driver.poll(stash, Some(deadline - now)).expect("poll");
    }
}

/// The kinds of buffer a read can be given, in turn.
fn read_buffer(turn: usize) -> Buffer {
    match turn % 4 {
        0 => Buffer::from(Vec::with_capacity(1000)),
        1 => {
            let mut vec = Vec::with_capacity(700);
            vec.extend_from_slice(b"kept");
            Buffer::from(vec)
        }
        2 => Buffer::from(BytesMut::with_capacity(500)),
        _ => Buffer::from(vec![0u8; 900].into_boxed_slice())
            .slice(100..800)
            .unwrap(),
    }
}

/// The bytes a completed read added, checking that the buffer came back as the caller gave
/// it, filled as far as the count says.
fn received(turn: usize, buf: Buffer, count: usize) -> Vec<u8> {
    match turn % 4 {
        0 => {
            let vec = buf.into_vec().unwrap();
            assert_eq!((vec.len(), vec.capacity()), (count, 1000));
            vec
        }
        1 => {
            let vec = buf.into_vec().unwrap();
            assert_eq!((vec.len(), vec.capacity()), (4 + count, 700));
            assert_eq!(&vec[..4], b"kept");
            vec[4..].to_vec()
        }
        2 => {
            let bytes = buf.into_bytes_mut().unwrap();
            assert_eq!(bytes.len(), count);
            bytes.to_vec()
        }
        _ => {
            assert_eq!(buf.view(), Some(100..800));
            buf.as_slice()[..count].to_vec()
        }
    }
}

/// One writer and one reader on a Unix stream pair, through one faulty driver: the reader
/// gets exactly the bytes sent, in order, through short, delayed and reordered transfers;
/// every buffer comes back as a real transfer leaves it.
fn stream_bytes_arrive_once_in_order(backend: Backend) {
    let mut totals = (0, 0, 0);
    for seed in 0..iterations() {
        let faults = Faults {
            seed,
            error_rate: 0.0,
            short_rate: 0.5,
            delay_rate: 0.5,
            reorder: true,
        };
        let mut driver = driver(backend, faults);
        let (a, b) = UnixStream::pair().unwrap();
        let sent: Vec<u8> = (0..200_000u32)
            .map(|i| (i * 7 + seed as u32) as u8)
            .collect();
        let mut stash = Vec::new();
        let mut written = 0;
        let mut got = Vec::new();
        let mut write: Option<OpId> = None;
        let mut read: Option<(OpId, usize)> = None;
        let mut turn = 0;
        let deadline = Instant::now() + LIMIT;
        while got.len() < sent.len() {
            assert!(Instant::now() < deadline, "seed {seed}: stuck");
            if write.is_none() && written < sent.len() {
                let chunk = Buffer::from(sent.clone()).slice(written..).unwrap();
                let op = if turn % 3 == 0 {
                    Op::Write {
                        fd: a.as_raw_fd(),
                        buf: chunk,
                        offset: None,
                    }
                } else {
                    Op::Send {
                        fd: a.as_raw_fd(),
                        buf: chunk,
                        flags: 0,
                    }
                };
                write = Some(driver.submit(op));
            }
            if read.is_none() {
                let op = if turn % 2 == 0 {
                    Op::Recv {
                        fd: b.as_raw_fd(),
                        buf: read_buffer(turn),
                        flags: 0,
                    }
                } else {
                    Op::Read {
                        fd: b.as_raw_fd(),
                        buf: read_buffer(turn),
                        offset: None,
                    }
                };
                read = Some((driver.submit(op), turn));
            }
            turn += 1;
            driver.poll(&mut stash, Some(LIMIT)).expect("poll");
            for completion in stash.drain(..) {
                if Some(completion.id) == write {
                    write = None;
                    let count = completion.result.expect("write");
                    assert!(count > 0);
                    let buf = completion.op.into_buffer().unwrap();
                    assert_eq!(buf.view(), Some(written..sent.len()), "seed {seed}");
                    written += count;
                } else if let Some((id, kind)) = read.filter(|(id, _)| *id == completion.id) {
                    read = None;
                    let count = completion.result.expect("read");
                    assert!(count > 0, "seed {seed}: end of stream before the end");
                    let buf = completion.op.into_buffer().unwrap();
                    got.extend_from_slice(&received(kind, buf, count));
                    let _ = id;
                } else {
                    panic!("seed {seed}: a completion nobody submitted: {completion:?}");
                }
            }
        }
        assert!(got == sent, "seed {seed}: the bytes differ");
        let counts = driver.fault_counts();
        totals.0 += counts.shorts;
        totals.1 += counts.delays;
        totals.2 += counts.reorders;
    }
    assert!(
        totals.0 > 0 && totals.1 > 0,
        "faults were injected: {totals:?}"
    );
}

/// An injected error is one the OS gives that operation on that descriptor, and the
/// operation transferred nothing; a reset is true on both ends; datagrams and pipes are never
/// failed, datagrams never cut.
fn errors_are_plausible_and_transfer_nothing(backend: Backend) {
    let faults = Faults {
        seed: 1,
        error_rate: 1.0,
        short_rate: 1.0,
        delay_rate: 0.0,
        reorder: false,
    };
    let mut driver = driver(backend, faults);
    let mut stash = Vec::new();

    let (a, mut b) = UnixStream::pair().unwrap();
    let id = driver.submit(Op::Send {
        fd: a.as_raw_fd(),
        buf: Buffer::from(&b"never sent"[..]),
        flags: 0,
    });
    let error = wait(&mut driver, &mut stash, id).result.unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ECONNRESET));
    // No byte went out, the peer reads the end of the stream, and the reset end sends no
    // more.
    b.set_read_timeout(Some(LIMIT)).unwrap();
    assert_eq!(b.read(&mut [0u8; 16]).unwrap(), 0);
    assert!((&a).write(b"more").is_err());

    let (c, d) = UnixDatagram::pair().unwrap();
    c.send(b"a whole datagram").unwrap();
    let id = driver.submit(Op::Recv {
        fd: d.as_raw_fd(),
        buf: Buffer::from(Vec::with_capacity(64)),
        flags: 0,
    });
    let completion = wait(&mut driver, &mut stash, id);
    assert_eq!(completion.result.unwrap(), 16, "a datagram comes whole");

    // A pipe's write fails only once its reader is gone, which a fault cannot make true: it
    // is shortened, never failed.
    let (mut reader, writer) = pipe();
    let id = driver.submit(Op::Write {
        fd: writer.as_raw_fd(),
        buf: Buffer::from(&b"into the pipe"[..]),
        offset: None,
    });
    let count = wait(&mut driver, &mut stash, id).result.unwrap();
    assert!((1..13).contains(&count));
    drop(writer);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, &b"into the pipe"[..count]);

    let path =
        std::env::temp_dir().join(format!("proactor-faults-{}-{backend}", std::process::id()));
    std::fs::write(&path, b"contents").unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let id = driver.submit(Op::Read {
        fd: file.as_raw_fd(),
        buf: Buffer::from(Vec::with_capacity(64)),
        offset: Some(0),
    });
    let completion = wait(&mut driver, &mut stash, id);
    assert_eq!(
        completion.result.unwrap_err().raw_os_error(),
        Some(libc::EIO)
    );
    assert!(completion.op.into_buffer().unwrap().is_empty());
    std::fs::remove_file(&path).unwrap();

    // A NOP has no error the OS would give it.
    let id = driver.submit(Op::Nop);
    assert_eq!(wait(&mut driver, &mut stash, id).result.unwrap(), 0);
    assert!(stash.is_empty());
    assert_eq!(driver.fault_counts().errors, 2);
}

/// A pipe: (read end, write end).
fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let result = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(result, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: pipe2 made two descriptors that nothing else owns.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// Held completions come out without a poll waiting for them, even a poll without a
/// timeout, and within a few polls that do not wait.
fn delays_never_hang(backend: Backend) {
    let faults = Faults {
        seed: 3,
        delay_rate: 1.0,
        ..Faults::default()
    };
    let mut driver = driver(backend, faults);
    let mut completions = Vec::new();
    for _ in 0..20 {
        let id = driver.submit(Op::Nop);
        let start = Instant::now();
        while completions.is_empty() {
            driver.poll(&mut completions, None).expect("poll");
        }
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(completions.pop().unwrap().id, id);

        let id = driver.submit(Op::Nop);
        let mut polls = 0;
        while completions.is_empty() {
            driver
                .poll(&mut completions, Some(Duration::ZERO))
                .expect("poll");
            polls += 1;
            assert!(polls <= 10, "held for {polls} polls");
        }
        assert_eq!(completions.pop().unwrap().id, id);
    }
    assert!(driver.fault_counts().delays >= 40);
}

/// A completion held back has finished: cancelling it succeeds and it comes once, with its
/// real result; afterwards its id is stale.
fn cancel_of_a_held_completion_gets_its_result(backend: Backend) {
    let faults = Faults {
        seed: 5,
        delay_rate: 1.0,
        ..Faults::default()
    };
    let mut driver = driver(backend, faults);
    let (a, b) = UnixStream::pair().unwrap();
    (&a).write_all(b"abc").unwrap();
    let id = driver.submit(Op::Recv {
        fd: b.as_raw_fd(),
        buf: Buffer::from(Vec::with_capacity(8)),
        flags: 0,
    });
    let mut completions = Vec::new();
    // Polls that do not wait leave it held (delays last at least one such poll).
    let deadline = Instant::now() + LIMIT;
    while driver.fault_counts().delays == 0 {
        assert!(Instant::now() < deadline);
        driver
            .poll(&mut completions, Some(Duration::ZERO))
            .expect("poll");
        assert!(completions.is_empty());
    }
    driver
        .cancel(id)
        .expect("a held completion can be cancelled");
    let completion = wait(&mut driver, &mut completions, id);
    assert_eq!(
        completion.result.unwrap(),
        3,
        "the real result, not a cancel"
    );
    assert_eq!(completion.op.into_buffer().unwrap().as_slice(), b"abc");
    assert_eq!(
        driver.cancel(id).unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
    for _ in 0..10 {
        driver
            .poll(&mut completions, Some(Duration::ZERO))
            .expect("poll");
    }
    assert!(completions.is_empty(), "it came once");
    assert_eq!(driver.in_flight(), 0);
}

/// While a completion is held back the backend reuses its slot; the index the caller sees
/// must still name one operation in flight at a time.
fn indices_stay_unique_while_held(backend: Backend) {
    let faults = Faults {
        seed: 9,
        delay_rate: 0.7,
        reorder: true,
        ..Faults::default()
    };
    let mut driver = driver(backend, faults);
    let mut live: HashSet<usize> = HashSet::new();
    let mut completions = Vec::new();
    let mut done = 0;
    let deadline = Instant::now() + LIMIT;
    while done < 5_000 {
        assert!(Instant::now() < deadline);
        while live.len() < 32 {
            let op = if done % 2 == 0 {
                Op::Nop
            } else {
                Op::Timeout {
                    duration: Duration::from_micros(10),
                }
            };
            let id = driver.submit(op);
            assert!(
                live.insert(id.index()),
                "index {} reused in flight",
                id.index()
            );
        }
        driver
            .poll(&mut completions, Some(Duration::from_secs(1)))
            .expect("poll");
        for completion in completions.drain(..) {
            assert!(live.remove(&completion.id.index()));
            done += 1;
        }
        assert_eq!(driver.in_flight(), live.len());
    }
    assert!(driver.fault_counts().reorders > 0);
}

/// Two reads on one socket complete in submission order on epoll (documented): delays and
/// reordering keep that.
fn one_descriptors_order_is_kept(backend: Backend) {
    for seed in 0..20 {
        let faults = Faults {
            seed,
            delay_rate: 0.5,
            reorder: true,
            ..Faults::default()
        };
        let mut driver = driver(backend, faults);
        let (a, b) = UnixStream::pair().unwrap();
        let mut ids = Vec::new();
        for _ in 0..8 {
            // Other work around them, to be reordered with.
            driver.submit(Op::Nop);
            ids.push(driver.submit(Op::Recv {
                fd: b.as_raw_fd(),
                buf: Buffer::from(Vec::with_capacity(1)),
                flags: 0,
            }));
        }
        driver.flush(&mut Vec::new()).expect("flush");
        (&a).write_all(b"01234567").unwrap();
        let mut order = Vec::new();
        let mut completions = Vec::new();
        let deadline = Instant::now() + LIMIT;
        while order.len() < 8 {
            assert!(Instant::now() < deadline);
            driver
                .poll(&mut completions, Some(Duration::from_millis(100)))
                .expect("poll");
            for completion in completions.drain(..) {
                if let Some(turn) = ids.iter().position(|id| *id == completion.id) {
                    let byte = completion.op.into_buffer().unwrap().as_slice()[0];
                    order.push((turn, byte));
                }
            }
        }
        if backend == Backend::Epoll {
            let expected: Vec<(usize, u8)> = (0..8).map(|i| (i, b'0' + i as u8)).collect();
            assert_eq!(order, expected, "seed {seed}");
        } else {
            // io_uring serves them in its own order; each still gets one byte, once.
            let mut bytes: Vec<u8> = order.iter().map(|(_, byte)| *byte).collect();
            bytes.sort_unstable();
            assert_eq!(bytes, b"01234567");
        }
    }
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A socket made by an operation whose completion is held back when the driver is dropped is
/// closed, as the backends close what nobody collected.
fn held_descriptors_are_closed_on_drop(backend: Backend) {
    let before = open_descriptors();
    for seed in 0..10 {
        let faults = Faults {
            seed,
            delay_rate: 1.0,
            ..Faults::default()
        };
        let mut driver = driver(backend, faults);
        driver.submit(Op::Socket {
            domain: libc::AF_UNIX,
            socket_type: libc::SOCK_STREAM,
            protocol: 0,
        });
        let deadline = Instant::now() + LIMIT;
        while driver.fault_counts().delays == 0 {
            assert!(Instant::now() < deadline);
            driver
                .poll(&mut Vec::new(), Some(Duration::ZERO))
                .expect("poll");
        }
        drop(driver);
    }
    assert_eq!(open_descriptors(), before);
}

macro_rules! per_backend {
    ($($test:ident),* $(,)?) => {
        mod io_uring {
            $(#[test] fn $test() { let _alone = super::alone(); super::$test(proactor_driver::Backend::IoUring) })*
        }
        mod epoll {
            $(#[test] fn $test() { let _alone = super::alone(); super::$test(proactor_driver::Backend::Epoll) })*
        }
    };
}

per_backend! {
    stream_bytes_arrive_once_in_order,
    errors_are_plausible_and_transfer_nothing,
    delays_never_hang,
    cancel_of_a_held_completion_gets_its_result,
    indices_stay_unique_while_held,
    one_descriptors_order_is_kept,
    held_descriptors_are_closed_on_drop,
}
