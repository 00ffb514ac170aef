//! The runtime over a fault-injecting driver (`Builder::faults`): seeded errors, short reads
//! and writes, delayed and reordered completions under TCP and Unix streams, `io::split`,
//! `BufReader`/`BufWriter`, `io::copy` between two pairs, the tokio adapter and files. For
//! every seed and every transfer: the bytes arrive once and in order, or an error ends the
//! transfer and what arrived is a prefix of what was sent (never a reordering or a
//! duplicate); nothing panics or hangs; and on Linux every descriptor is closed once the
//! runtime is gone.
//!
//! `PROACTOR_FAULT_SEEDS=N` runs N seeds per test (default 8), `PROACTOR_FAULT_SEED=S` only
//! seed S (to replay a failure), `PROACTOR_FAULT_BYTES=N` sends up to N bytes per transfer
//! (default 200,000).

mod common;

use std::future::Future;
use std::io;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{per_backend, run};
use proactor::compat::Compat;
use proactor::fs::File;
#[cfg(unix)]
use proactor::io::split;
use proactor::io::{copy, AsyncRead, AsyncWrite, BufReader, BufWriter};
use proactor::net::{TcpListener, TcpStream};
use proactor::time::timeout;
use proactor::{spawn, Backend, Builder, FaultCounts, Faults};

per_backend! {
    tcp_streams,
    #[cfg(unix)]
    unix_streams_split_and_buffered,
    copy_between_two_pairs,
    tokio_adapter,
    files_written_then_read_at_offsets,
    files_retried_after_errors_hold_exactly_what_was_written,
    datagrams_arrive_whole,
    lines_through_abandoned_read_until,
}

thread_local! {
    /// The seed running on this thread, for failure messages.
    static SEED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Descriptors are counted per process, so the tests of this file run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn env(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
}

fn seeds() -> Vec<u64> {
    match env("PROACTOR_FAULT_SEED") {
        Some(seed) => vec![seed],
        None => (0..env("PROACTOR_FAULT_SEEDS").unwrap_or(8)).collect(),
    }
}

fn most_bytes() -> usize {
    env("PROACTOR_FAULT_BYTES").unwrap_or(200_000) as usize
}

/// The test's own choices (lengths, chunk sizes), from the seed: SplitMix64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, salt: u64) -> Rng {
        Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ salt)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }
}

/// Bytes that differ from their neighbours and from any shifted copy of themselves, so a
/// lost, duplicated or reordered run shows.
fn pattern(len: usize, rng: &mut Rng) -> Vec<u8> {
    let salt = rng.next();
    (0..len as u64)
        .map(|index| {
            let mut value = Rng(index ^ salt);
            value.next() as u8
        })
        .collect()
}

/// How the transfers of one test ended, over all its seeds.
#[derive(Debug, Default)]
struct Tally {
    /// Transfers with no error at either end (so every byte arrived).
    complete: usize,
    /// Transfers an error ended (a prefix arrived).
    ended_by_error: usize,
    /// Bytes that arrived.
    bytes: usize,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.complete += other.complete;
        self.ended_by_error += other.ended_by_error;
        self.bytes += other.bytes;
    }
}

/// Checks one transfer: what arrived is a prefix of what was sent, and all of it when no
/// operation on the connections it went through failed. Counts it in `tally`.
///
/// `outcomes` are those of every writer and reader of those connections, not only of this
/// transfer's: a connection that is reset is reset for both directions, and either half of a
/// socket may be the one told (Linux reports a reset once, to whichever call comes first;
/// the other half then reads a plain end of stream).
fn check(
    tally: &mut Tally,
    what: &str,
    sent: &[u8],
    received: &[u8],
    outcomes: &[&io::Result<()>],
) {
    let what = format!("{what}, seed {}", SEED.get());
    let same = sent.iter().zip(received).position(|(a, b)| a != b);
    assert!(
        received.len() <= sent.len() && same.is_none(),
        "{what}: received {} bytes that are not a prefix of the {} sent (first difference at \
         {same:?}); outcomes {outcomes:?}",
        received.len(),
        sent.len(),
    );
    if outcomes.iter().all(|outcome| outcome.is_ok()) {
        assert_eq!(
            received.len(),
            sent.len(),
            "{what}: bytes lost with no error on the connection"
        );
        tally.complete += 1;
    } else {
        tally.ended_by_error += 1;
    }
    tally.bytes += received.len();
}

/// Writes `bytes` in chunks of random sizes through `write_all` (and, at random, single
/// `write` calls), flushes and shuts the writer down. The first error ends it, after a
/// shutdown so the reader sees the end of the stream.
async fn write_chunks<W: AsyncWrite>(writer: &mut W, bytes: &[u8], seed: u64) -> io::Result<()> {
    let mut rng = Rng::new(seed, 1);
    let mut sent = 0;
    let result = async {
        while sent < bytes.len() {
            let end = (sent + rng.between(1, 70_000)).min(bytes.len());
            let chunk = &bytes[sent..end];
            match rng.between(0, 3) {
                0 => writer.write_all(chunk.to_vec()).await.0?,
                1 => {
                    writer
                        .write_all(chunk.to_vec().into_boxed_slice())
                        .await
                        .0?
                }
                2 => writer.write_all(bytes::BytesMut::from(chunk)).await.0?,
                _ => {
                    let (result, _) = writer.write(chunk.to_vec()).await;
                    let count = result?;
                    sent += count;
                    continue;
                }
            }
            sent = end;
        }
        writer.flush().await?;
        writer.shutdown().await
    }
    .await;
    if result.is_err() {
        let _ = writer.shutdown().await;
    }
    result
}

/// Reads to the end of the stream through a mix of `read_exact` of random sizes, reads
/// abandoned when a short timeout expires first (the bytes a cancelled read received come
/// with the next read) and `read_to_end`; returns every byte received, with the first error.
async fn read_all<R: AsyncRead>(reader: &mut R, seed: u64) -> (Vec<u8>, io::Result<()>) {
    let mut rng = Rng::new(seed, 2);
    let mut received = Vec::new();
    loop {
        let want = rng.between(1, 20_000);
        match rng.between(0, 7) {
            0..=2 => {
                let wait = Duration::from_micros(rng.between(0, 1500) as u64);
                let Ok((result, buf)) = timeout(wait, reader.read(Vec::with_capacity(want))).await
                else {
                    continue;
                };
                match result {
                    Ok(0) => return (received, Ok(())),
                    Ok(_) => received.extend_from_slice(&buf),
                    Err(error) => return (received, Err(error)),
                }
            }
            3..=5 => {
                let (result, buf) = reader.read_exact(Vec::with_capacity(want)).await;
                received.extend_from_slice(&buf);
                match result {
                    Ok(()) => {}
                    // The stream ended inside this chunk.
                    Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
                        return (received, Ok(()))
                    }
                    Err(error) => return (received, Err(error)),
                }
            }
            _ => {
                let (result, buf) = reader.read_to_end(Vec::new()).await;
                received.extend_from_slice(&buf);
                return (received, result.map(drop));
            }
        }
    }
}

/// The faults for `seed`: each seed mixes its own rates, from none to most operations.
fn faults(seed: u64) -> Faults {
    let mut rng = Rng::new(seed, 8);
    let mut rate = |choices: &[f64]| choices[rng.between(0, choices.len() - 1)];
    Faults {
        seed,
        error_rate: rate(&[0.0, 0.005, 0.02, 0.05]),
        short_rate: rate(&[0.1, 0.3, 0.6, 0.9]),
        delay_rate: rate(&[0.1, 0.3, 0.6, 0.9]),
        reorder: seed % 4 != 3,
    }
}

/// Runs `scenario` for each seed on a fresh faulty runtime, checking that no descriptor
/// outlives the runtime and that no error comes where no fault injected one; reports the
/// figures and returns the faults injected.
fn for_each_seed<F, Fut>(backend: Backend, name: &str, scenario: F) -> FaultCounts
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Tally>,
{
    let _alone = alone();
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut counts = FaultCounts::default();
    let seeds = seeds();
    for &seed in &seeds {
        SEED.set(seed);
        let before = open_descriptors();
        let runtime = Builder::new()
            .backend(backend)
            .faults(faults(seed))
            .build()
            .expect("runtime");
        let one = run(&runtime, scenario(seed));
        let injected = runtime.fault_counts();
        drop(runtime);
        if injected.errors == 0 {
            assert_eq!(
                one.ended_by_error, 0,
                "{name}, seed {seed}: an error where no fault injected one"
            );
        }
        tally.add(one);
        counts.errors += injected.errors;
        counts.shorts += injected.shorts;
        counts.delays += injected.delays;
        counts.reorders += injected.reorders;
        descriptors_back_to(before, seed);
    }
    eprintln!(
        "{name} on {backend}: {} seeds, {} transfers complete, {} ended by an error, {} bytes; \
         injected {counts:?}; {:?}",
        seeds.len(),
        tally.complete,
        tally.ended_by_error,
        tally.bytes,
        started.elapsed()
    );
    counts
}

/// Checks that a test's transfers met shortened ones and delayed completions.
fn met_faults(counts: FaultCounts) {
    assert!(
        counts.shorts > 0 && counts.delays > 0,
        "faults were injected: {counts:?}"
    );
}

#[cfg(target_os = "linux")]
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[cfg(not(target_os = "linux"))]
fn open_descriptors() -> usize {
    0
}

/// Waits (bounded) for the process's descriptors to come back to `before`: closes started by
/// a dropped runtime may finish a moment later.
#[cfg(target_os = "linux")]
fn descriptors_back_to(before: usize, seed: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_descriptors() > before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(
        open_descriptors(),
        before,
        "seed {seed}: descriptors leaked"
    );
}

#[cfg(not(target_os = "linux"))]
fn descriptors_back_to(_before: usize, _seed: u64) {}

/// A connected TCP pair. An accept may fail (a fault aborts a connection before it was
/// accepted): servers accept again.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let client = spawn(async move { TcpStream::connect(address).await.unwrap() });
    let server = loop {
        match listener.accept().await {
            Ok((server, _)) => break server,
            Err(error) => assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted),
        }
    };
    (server, client.await.unwrap())
}

/// What one direction of a stream sent and received, and how its two ends finished.
struct Transfer {
    sent: Vec<u8>,
    received: Vec<u8>,
    wrote: io::Result<()>,
    read: io::Result<()>,
}

impl Transfer {
    /// Checks it alone: its connection carried nothing else.
    fn check(&self, tally: &mut Tally, what: &str) {
        let outcomes = [&self.wrote, &self.read];
        check(tally, what, &self.sent, &self.received, &outcomes);
    }

    /// Checks two transfers in opposite directions over one connection.
    fn check_both(there: &Transfer, back: &Transfer, tally: &mut Tally, what: &str) {
        let outcomes = [&there.wrote, &there.read, &back.wrote, &back.read];
        check(tally, what, &there.sent, &there.received, &outcomes);
        check(tally, what, &back.sent, &back.received, &outcomes);
    }
}

/// One direction of a stream: `write_chunks` in one task, `read_all` in another.
async fn transfer<W, R>(mut writer: W, mut reader: R, bytes: Vec<u8>, seed: u64) -> Transfer
where
    W: AsyncWrite + 'static,
    R: AsyncRead + 'static,
{
    let sent = bytes.clone();
    let writing = spawn(async move {
        let result = write_chunks(&mut writer, &bytes, seed).await;
        drop(writer);
        result
    });
    let (received, read) = read_all(&mut reader, seed).await;
    drop(reader);
    let wrote = writing.await.expect("the writer does not panic");
    Transfer {
        sent,
        received,
        wrote,
        read,
    }
}

/// TCP, both directions at once, with the whole streams and with `into_split` halves.
fn tcp_streams(backend: Backend) {
    let counts = for_each_seed(backend, "tcp_streams", |seed| async move {
        let mut rng = Rng::new(seed, 3);
        let mut tally = Tally::default();
        for round in 0..2 {
            let (server, client) = tcp_pair().await;
            let there = pattern(rng.between(0, most_bytes()), &mut rng);
            let back = pattern(rng.between(0, most_bytes()), &mut rng);
            if round == 0 {
                // One direction on whole streams.
                let there = transfer(client, server, there, seed).await;
                there.check(&mut tally, "tcp");
            } else {
                // Both directions at once, on halves.
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let returning = spawn(transfer(server_write, client_read, back, seed));
                let there = transfer(client_write, server_read, there, seed).await;
                let back = returning.await.expect("no panic");
                Transfer::check_both(&there, &back, &mut tally, "tcp halves");
            }
        }
        tally
    });
    met_faults(counts);
}

/// A Unix stream pair, both directions at once through `io::split` halves, each wrapped in a
/// `BufWriter` or `BufReader` of a random capacity.
#[cfg(unix)]
fn unix_streams_split_and_buffered(backend: Backend) {
    use proactor::net::UnixStream;

    let counts = for_each_seed(
        backend,
        "unix_streams_split_and_buffered",
        |seed| async move {
            let mut rng = Rng::new(seed, 4);
            let mut tally = Tally::default();
            let (a, b) = UnixStream::pair().unwrap();
            let (a_read, a_write) = split(a);
            let (b_read, b_write) = split(b);
            let there = pattern(rng.between(0, most_bytes()), &mut rng);
            let back = pattern(rng.between(0, most_bytes()), &mut rng);
            let capacities = [
                rng.between(1, 70_000),
                rng.between(1, 70_000),
                rng.between(1, 70_000),
                rng.between(1, 70_000),
            ];
            let returning = spawn(transfer(
                BufWriter::with_capacity(capacities[0], b_write),
                BufReader::with_capacity(capacities[1], a_read),
                back,
                seed,
            ));
            let there = transfer(
                BufWriter::with_capacity(capacities[2], a_write),
                BufReader::with_capacity(capacities[3], b_read),
                there,
                seed.wrapping_add(1),
            )
            .await;
            let back = returning.await.expect("no panic");
            Transfer::check_both(&there, &back, &mut tally, "unix split");
            tally
        },
    );
    met_faults(counts);
}

/// Bytes written into one pair, moved by `io::copy` into a second, read from its far end (on
/// Linux the copy splices inside the kernel when it can; through a `BufReader` it copies
/// through user space).
fn copy_between_two_pairs(backend: Backend) {
    let counts = for_each_seed(backend, "copy_between_two_pairs", |seed| async move {
        let mut rng = Rng::new(seed, 5);
        let mut tally = Tally::default();
        for round in 0..2 {
            let (first_in, mut first_out) = tcp_pair().await;
            let (mut second_in, second_out) = tcp_pair().await;
            let bytes = pattern(rng.between(0, most_bytes()), &mut rng);
            let sent = bytes.clone();
            let writing = spawn(async move {
                let mut first_in = first_in;
                write_chunks(&mut first_in, &bytes, seed).await
            });
            let copying = spawn(async move {
                let copied = if round == 0 {
                    copy(&mut first_out, &mut second_in).await
                } else {
                    let mut buffered = BufReader::with_capacity(3000, first_out);
                    let copied = copy(&mut buffered, &mut second_in).await;
                    first_out = buffered.into_inner();
                    copied
                };
                let shut = AsyncWrite::shutdown(&mut second_in).await;
                drop((first_out, second_in));
                copied.map(drop).and(shut)
            });
            let mut second_out = second_out;
            let (received, read) = read_all(&mut second_out, seed).await;
            drop(second_out);
            let wrote = writing.await.expect("the writer does not panic");
            let copied = copying.await.expect("the copy does not panic");
            check(
                &mut tally,
                "copy",
                &sent,
                &received,
                &[&wrote, &copied, &read],
            );
        }
        tally
    });
    met_faults(counts);
}

/// The tokio adapter over TCP halves: tokio's `write_all`/`shutdown` and `read_to_end`.
fn tokio_adapter(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let counts = for_each_seed(backend, "tokio_adapter", |seed| async move {
        let mut rng = Rng::new(seed, 6);
        let mut tally = Tally::default();
        let (server, client) = tcp_pair().await;
        let bytes = pattern(rng.between(0, most_bytes()), &mut rng);
        let sent = bytes.clone();
        let capacity = rng.between(1, 70_000);
        let chunk = rng.between(1, 100_000);
        let writing = spawn(async move {
            let mut writer = Compat::with_capacity(capacity, client);
            let mut result = Ok(());
            for piece in bytes.chunks(chunk) {
                result = writer.write_all(piece).await;
                if result.is_err() {
                    break;
                }
            }
            let shut = writer.shutdown().await;
            result.and(shut)
        });
        let mut reader = Compat::with_capacity(rng.between(1, 70_000), server);
        let mut received = Vec::new();
        // Reads abandoned when a short timeout expires first, then the rest: the adapter
        // keeps what an abandoned read was receiving for the next.
        let mut read = Ok(());
        let mut chunk = vec![0u8; rng.between(1, 20_000)];
        for _ in 0..rng.between(0, 50) {
            let wait = Duration::from_micros(rng.between(0, 1500) as u64);
            match timeout(wait, reader.read(&mut chunk)).await {
                Ok(Ok(0)) => break,
                Ok(Ok(count)) => received.extend_from_slice(&chunk[..count]),
                Ok(Err(error)) => {
                    read = Err(error);
                    break;
                }
                Err(_) => {}
            }
        }
        if read.is_ok() {
            read = reader.read_to_end(&mut received).await.map(drop);
        }
        drop(reader);
        let wrote = writing.await.expect("the writer does not panic");
        check(&mut tally, "tokio", &sent, &received, &[&wrote, &read]);
        tally
    });
    met_faults(counts);
}

/// A file written through its cursor with `write_all`, then read back at random offsets with
/// `read_exact_at` and from its start with `read_to_end`: every read that succeeds gives the
/// bytes the file holds, and the file holds a prefix of what was written (all of it when the
/// writes succeeded).
fn files_written_then_read_at_offsets(backend: Backend) {
    let counts = for_each_seed(
        backend,
        "files_written_then_read_at_offsets",
        |seed| async move {
            let mut rng = Rng::new(seed, 7);
            let mut tally = Tally::default();
            let path = std::env::temp_dir().join(format!(
                "proactor-faults-{}-{seed}-{}",
                std::process::id(),
                rng.next()
            ));
            let bytes = pattern(rng.between(0, most_bytes()), &mut rng);
            let mut file = File::create(&path).await.expect("create");
            let wrote = write_chunks(&mut file, &bytes, seed).await;
            let synced = file.sync_all().await;
            drop(file);
            let held = std::fs::read(&path).expect("read back with std");
            check(&mut tally, "file write", &bytes, &held, &[&wrote]);
            if let Err(error) = &synced {
                assert_eq!(error.raw_os_error(), io_error().raw_os_error());
            }

            let file = File::open(&path).await.expect("open");
            for _ in 0..20 {
                if held.is_empty() {
                    break;
                }
                let offset = rng.between(0, held.len() - 1);
                let len = rng.between(1, held.len() - offset);
                let (result, buf) = file
                    .read_exact_at(Vec::with_capacity(len), offset as u64)
                    .await;
                match result {
                    Ok(()) => assert!(buf == held[offset..offset + len], "read at {offset}"),
                    Err(error) => assert_eq!(
                        error.raw_os_error(),
                        io_error().raw_os_error(),
                        "read at {offset}: {error}"
                    ),
                }
            }
            let mut file = file;
            let (received, read) = read_all(&mut file, seed).await;
            check(&mut tally, "file read", &held, &received, &[&read]);

            // The file's bytes from an offset, sent on a socket (on Linux, spliced through a
            // pipe inside the kernel).
            let offset = rng.between(0, held.len());
            let (server, client) = tcp_pair().await;
            let sending = spawn(async move {
                let sent = client
                    .send_file(&file, offset as u64, (held.len() - offset) as u64)
                    .await;
                let shut = client.shutdown(std::net::Shutdown::Write).await;
                drop((client, file));
                (sent.map(drop).and(shut), held)
            });
            let mut server = server;
            let (received, read) = read_all(&mut server, seed).await;
            drop(server);
            let (sent, held) = sending.await.expect("the sender does not panic");
            check(
                &mut tally,
                "send_file",
                &held[offset..],
                &received,
                &[&sent, &read],
            );
            std::fs::remove_file(&path).unwrap();
            tally
        },
    );
    met_faults(counts);
}

/// Datagrams over a connected UDP pair and with addresses: each arrives whole (a datagram is
/// never shortened or failed by a fault: the OS moves it whole or not at all).
fn datagrams_arrive_whole(backend: Backend) {
    use proactor::net::UdpSocket;

    let counts = for_each_seed(backend, "datagrams_arrive_whole", |seed| async move {
        let mut rng = Rng::new(seed, 9);
        let mut tally = Tally::default();
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        for turn in 0..50 {
            let datagram = pattern(rng.between(1, 1400), &mut rng);
            let (sent, received) = if turn % 2 == 0 {
                let (sent, _) = a.send(datagram.clone()).await;
                let (received, buf) = b.recv(Vec::with_capacity(2048)).await;
                (sent, received.map(|count| buf[..count].to_vec()))
            } else {
                let (sent, _) = b.send_to(datagram.clone(), a.local_addr().unwrap()).await;
                let (received, buf) = a.recv_from(Vec::with_capacity(2048)).await;
                (sent, received.map(|(count, _)| buf[..count].to_vec()))
            };
            assert_eq!(sent.unwrap(), datagram.len(), "seed {seed}: sent whole");
            assert!(received.unwrap() == datagram, "seed {seed}: received whole");
            tally.complete += 1;
            tally.bytes += datagram.len();
        }
        tally
    });
    // Never shortened or failed: only delayed and reordered.
    assert_eq!((counts.errors, counts.shorts), (0, 0), "{counts:?}");
    assert!(counts.delays > 0, "{counts:?}");
}

/// Lines read with `BufReader::read_until` abandoned whenever a short timeout expires first
/// (it is cancel safe: what it found is in the caller's buffer, the rest still in the
/// reader), while the inner reads are short, delayed and cancelled in turn.
fn lines_through_abandoned_read_until(backend: Backend) {
    let counts = for_each_seed(
        backend,
        "lines_through_abandoned_read_until",
        |seed| async move {
            let mut rng = Rng::new(seed, 11);
            let mut tally = Tally::default();
            let (writer, reader) = common::stream_pair().await;
            let mut text = Vec::new();
            for line in 0..rng.between(0, 3000) {
                let filler = "=".repeat(rng.between(0, 200));
                text.extend_from_slice(format!("{seed} {line} {filler}\n").as_bytes());
            }
            let sent = text.clone();
            let writing = spawn(async move {
                let mut writer = writer;
                write_chunks(&mut writer, &text, seed).await
            });
            let mut reader = BufReader::with_capacity(rng.between(1, 5000), reader);
            let mut received = Vec::new();
            let mut line = Vec::new();
            let read = loop {
                let wait = Duration::from_micros(rng.between(0, 1000) as u64);
                match timeout(wait, reader.read_until(b'\n', &mut line)).await {
                    Ok(Ok(0)) => {
                        received.append(&mut line);
                        break Ok(());
                    }
                    Ok(Ok(_)) => {
                        assert!(
                            line.ends_with(b"\n") || !line.contains(&b'\n'),
                            "seed {seed}: one line at a time"
                        );
                        received.append(&mut line);
                    }
                    Ok(Err(error)) => {
                        received.append(&mut line);
                        break Err(error);
                    }
                    // Abandoned: the part of the line found so far stays in `line`.
                    Err(_) => {}
                }
            };
            drop(reader);
            let wrote = writing.await.expect("the writer does not panic");
            check(&mut tally, "lines", &sent, &received, &[&wrote, &read]);
            tally
        },
    );
    met_faults(counts);
}

/// A file error a fault injects is one a disk can give once and not again, and the
/// operation it fails transferred nothing: a writer that retries each failed `write` and
/// `flush` (through a `BufWriter`, which keeps what it did not send) leaves exactly the bytes
/// it meant to, and a reader that retries each failed `read` gets exactly the file.
fn files_retried_after_errors_hold_exactly_what_was_written(backend: Backend) {
    /// Retries of one operation before the test gives up: with at most 5% of operations
    /// failed, 100 failures in a row do not happen.
    const RETRIES: usize = 100;
    let counts = for_each_seed(backend, "files_retried_after_errors", |seed| async move {
        let mut rng = Rng::new(seed, 10);
        let mut tally = Tally::default();
        let path = std::env::temp_dir().join(format!(
            "proactor-faults-retried-{}-{seed}-{}",
            std::process::id(),
            rng.next()
        ));
        let bytes = pattern(rng.between(0, most_bytes()), &mut rng);
        let file = File::create(&path).await.expect("create");
        let mut writer = BufWriter::with_capacity(rng.between(1, 70_000), file);
        let mut written = 0;
        let mut failures = 0;
        while written < bytes.len() {
            let end = (written + rng.between(1, 30_000)).min(bytes.len());
            match writer.write(bytes[written..end].to_vec()).await.0 {
                Ok(count) => written += count,
                Err(error) => {
                    assert_eq!(error.raw_os_error(), io_error().raw_os_error(), "{error}");
                    failures += 1;
                    assert!(failures < RETRIES, "seed {seed}: writes keep failing");
                }
            }
        }
        while let Err(error) = writer.flush().await {
            assert_eq!(error.raw_os_error(), io_error().raw_os_error(), "{error}");
            failures += 1;
            assert!(failures < RETRIES, "seed {seed}: flushes keep failing");
        }
        drop(writer);
        let held = std::fs::read(&path).expect("read back with std");
        assert!(
            held == bytes,
            "seed {seed}: the file holds other bytes than were written"
        );

        let mut file = File::open(&path).await.expect("open");
        let mut received = Vec::new();
        loop {
            let (result, buf) = file.read(Vec::with_capacity(rng.between(1, 30_000))).await;
            match result {
                Ok(0) => break,
                Ok(_) => received.extend_from_slice(&buf),
                Err(error) => {
                    assert_eq!(error.raw_os_error(), io_error().raw_os_error(), "{error}");
                    assert!(buf.is_empty(), "a failed read gives no bytes");
                    failures += 1;
                    assert!(failures < RETRIES, "seed {seed}: reads keep failing");
                }
            }
        }
        assert!(
            received == bytes,
            "seed {seed}: reading retried gives other bytes"
        );
        drop(file);
        std::fs::remove_file(&path).unwrap();
        tally.complete += 1;
        tally.bytes += received.len();
        tally
    });
    met_faults(counts);
}

/// The error a fault fails file I/O with.
fn io_error() -> io::Error {
    #[cfg(unix)]
    return io::Error::from_raw_os_error(libc::EIO);
    #[cfg(windows)]
    return io::Error::from_raw_os_error(1117); // ERROR_IO_DEVICE
}
