//! Cancellation fuzzing through the runtime. On each backend a seeded generator starts
//! operations of every kind — TCP and Unix stream reads, a large TCP write to a peer that is not
//! reading, accept, TCP connects (finishing, or waiting on a full backlog), a Unix connect, a UDP
//! receive, file reads and writes, a write or truncate whose `File` is dropped with it, a timer,
//! `BufReader::fill_buf`, `io::copy` between streams, a child's `wait`, and two reads raced
//! against each other — and drops each at a random point: after 0 to 7 polls with the runtime turning in between, at a
//! random timeout, or when a timer wins a race. Then it checks what the cancellation guide
//! promises:
//!
//! - streams stay usable and lose nothing: every byte written to a stream is read, in order,
//!   whatever reads were dropped (a dropped read's bytes are kept for the next one);
//! - a dropped write sent a prefix of its buffer, and what is written next follows it;
//! - a dropped copy delivered a prefix of the source and left a suffix of it in the source;
//! - a file's cursor moves only with a completed read or write, and a dropped write put either
//!   its bytes or nothing in the file, never anything else; a dropped write or truncate whose
//!   `File` was dropped with it never touches the file opened next (which gets its number);
//! - a child whose `wait` was dropped can be waited for again;
//! - after the runtime is dropped (with operations of each kind still in flight in its tasks),
//!   the process has the descriptors and the heap allocations
//!   (count and bytes) it had before (measured after a warm-up run of the same mix, which fills
//!   what is legitimately kept: the thread pool's threads and queue).
//!
//! `PROACTOR_FUZZ_ITERATIONS` sets the iterations per backend (2,000 by default),
//! `PROACTOR_FUZZ_SEED` the seed (a failure prints the seed, iteration and kind that failed).
//! Descriptors and allocations are process-wide, so the backends' instances take turns.

#![cfg(target_os = "linux")]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use proactor::fs::{File, OpenOptions};
use proactor::io::{copy, AsyncRead, AsyncWrite, BufReader};
use proactor::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use proactor::process::Command;
use proactor::time::{sleep, timeout};
use proactor::{spawn, yield_now, Backend, Builder};

use common::per_backend;

// ---------------------------------------------------------------------------------------------
// Live heap allocations, counted on every thread.
// ---------------------------------------------------------------------------------------------

struct Counting;

static LIVE_ALLOCATIONS: AtomicI64 = AtomicI64::new(0);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);

fn count(allocations: i64, bytes: i64) {
    LIVE_ALLOCATIONS.fetch_add(allocations, Ordering::Relaxed);
    LIVE_BYTES.fetch_add(bytes, Ordering::Relaxed);
}

// SAFETY: forwards every call to the system allocator unchanged; it only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count(1, layout.size() as i64);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            count(1, layout.size() as i64);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(pointer, layout) };
        count(-1, -(layout.size() as i64));
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let moved = unsafe { System.realloc(pointer, layout, size) };
        if !moved.is_null() {
            count(0, size as i64 - layout.size() as i64);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// (live allocations, live bytes).
fn live() -> (i64, i64) {
    (
        LIVE_ALLOCATIONS.load(Ordering::SeqCst),
        LIVE_BYTES.load(Ordering::SeqCst),
    )
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Descriptors and allocations are the whole process's: the backends take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

// ---------------------------------------------------------------------------------------------
// The generator, the byte patterns, and the ways to drop a future.
// ---------------------------------------------------------------------------------------------

/// xorshift64*: small, seedable, good enough to pick kinds and cut points.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so that nearby seeds start far apart (and never at 0).
        let mut x = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((x ^ (x >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// In `low..high`.
    fn range(&mut self, low: usize, high: usize) -> usize {
        low + self.below((high - low) as u64) as usize
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// The byte at `position` of the stream or file tagged `tag`: never 0 (a file's holes are),
/// and not periodic, so a byte lost, repeated or moved shows.
fn pattern(tag: u64, position: u64) -> u8 {
    let mut x = position ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    (x as u8) | 1
}

fn pattern_bytes(tag: u64, start: u64, len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| pattern(tag, start + i)).collect()
}

/// How a future is dropped before it may finish.
#[derive(Clone, Copy, Debug)]
enum Cut {
    /// Polled this many times, the runtime turning (submitting, reaping) between polls.
    Polls(u32),
    /// `proactor::time::timeout` with this limit.
    Timeout(Duration),
    /// Raced against a timer of this duration by a hand-written `select`.
    Race(Duration),
}

impl Cut {
    fn random(rng: &mut Rng) -> Cut {
        match rng.below(3) {
            0 => Cut::Polls(rng.below(8) as u32),
            1 => Cut::Timeout(Duration::from_micros(rng.below(1500))),
            _ => Cut::Race(Duration::from_micros(rng.below(1500))),
        }
    }
}

enum Either<A, B> {
    Left(A),
    Right(B),
}

/// The first of two futures to finish; the other is dropped.
async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(output) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(output));
        }
        if let Poll::Ready(output) = b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(output));
        }
        Poll::Pending
    })
    .await
}

/// Polls `future` once, with the task's context.
async fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    let mut future = future;
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

/// Runs `future` until `how` cuts it: its output if it finished first.
async fn cut<F: Future>(future: F, how: Cut) -> Option<F::Output> {
    match how {
        Cut::Polls(polls) => {
            let mut future = pin!(future);
            for _ in 0..polls {
                if let Poll::Ready(output) = poll_once(future.as_mut()).await {
                    return Some(output);
                }
                yield_now().await;
            }
            None
        }
        Cut::Timeout(limit) => timeout(limit, future).await.ok(),
        Cut::Race(limit) => match race(future, sleep(limit)).await {
            Either::Left(output) => Some(output),
            Either::Right(()) => None,
        },
    }
}

/// No single wait in the fuzzer takes longer unless something is lost or stuck.
const LIMIT: Duration = Duration::from_secs(10);

async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    match timeout(LIMIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: not done within {LIMIT:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Checked streams: every byte written is expected back, in order.
// ---------------------------------------------------------------------------------------------

/// Unread bytes a stream may hold before the writer waits for the reader to catch up (the
/// writer's `write_all` is awaited, and would block on a full socket).
const MAX_UNREAD: u64 = 48 * 1024;

struct Checked<R, W> {
    reader: R,
    writer: W,
    tag: u64,
    written: u64,
    read: u64,
}

impl<R, W: AsyncWrite> Checked<R, W> {
    fn new(reader: R, writer: W, tag: u64) -> Checked<R, W> {
        Checked {
            reader,
            writer,
            tag,
            written: 0,
            read: 0,
        }
    }

    /// Checks `bytes` are what the stream holds at `at`.
    fn check_at(&self, at: u64, bytes: &[u8], what: &str) {
        for (i, &byte) in bytes.iter().enumerate() {
            let position = at + i as u64;
            assert!(
                position < self.written,
                "{what}: read byte {position} but only {} were written",
                self.written
            );
            assert_eq!(
                byte,
                pattern(self.tag, position),
                "{what}: byte {position} is wrong (lost, repeated or reordered bytes)"
            );
        }
    }

    /// Whether `amount` more bytes may be written without waiting for the reader.
    fn has_room(&self, amount: usize) -> bool {
        self.written - self.read + amount as u64 <= MAX_UNREAD
    }
}

/// Writes the stream's next `amount` bytes (awaited to the end: never cut).
async fn produce<W: AsyncWrite>(writer: &mut W, tag: u64, written: &mut u64, amount: usize) {
    let bytes = pattern_bytes(tag, *written, amount);
    let (result, _) = bounded("a producer's write", writer.write_all(bytes)).await;
    result.expect("a producer's write");
    *written += amount as u64;
}

impl<R: AsyncRead, W: AsyncWrite> Checked<R, W> {
    fn accept_read(&mut self, bytes: &[u8], what: &str) {
        self.check_at(self.read, bytes, what);
        self.read += bytes.len() as u64;
    }

    /// Reads until every byte written has been read.
    async fn drain(&mut self, what: &str) {
        while self.read < self.written {
            let missing = self.written - self.read;
            let (result, bytes) = match timeout(
                Duration::from_secs(5),
                self.reader.read(Vec::with_capacity(16 * 1024)),
            )
            .await
            {
                Ok(done) => done,
                Err(_) => panic!("{what}: {missing} bytes written never arrived"),
            };
            let count = result.expect("a draining read");
            assert!(
                count > 0,
                "{what}: end of stream with {missing} bytes unread"
            );
            self.accept_read(&bytes, what);
        }
    }

    /// One read cut at a random point, with bytes written before it or between its polls.
    async fn cut_read(&mut self, rng: &mut Rng, what: &str) -> bool {
        if rng.one_in(2) {
            let amount = rng.range(1, 4096);
            if self.has_room(amount) {
                produce(&mut self.writer, self.tag, &mut self.written, amount).await;
            }
        }
        let capacity = rng.range(1, 8192);
        let outcome = match Cut::random(rng) {
            Cut::Polls(polls) => {
                let produce_at = rng.below(u64::from(polls) + 1) as u32;
                let amount = rng.range(1, 4096);
                let produce_then = rng.one_in(2) && self.has_room(amount);
                let Checked {
                    reader,
                    writer,
                    tag,
                    written,
                    ..
                } = self;
                let mut read = pin!(reader.read(Vec::with_capacity(capacity)));
                let mut outcome = None;
                for poll in 0..polls {
                    if produce_then && poll == produce_at {
                        produce(writer, *tag, written, amount).await;
                    }
                    if let Poll::Ready(done) = poll_once(read.as_mut()).await {
                        outcome = Some(done);
                        break;
                    }
                    yield_now().await;
                }
                outcome
            }
            how => cut(self.reader.read(Vec::with_capacity(capacity)), how).await,
        };
        match outcome {
            Some((result, bytes)) => {
                let count = result.expect("a stream read");
                assert_eq!(count, bytes.len());
                self.accept_read(&bytes, what);
                true
            }
            None => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fuzzer.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    TcpRead,
    UnixRead,
    RacedReads,
    FillBuf,
    TcpWrite,
    Accept,
    Connect,
    UdpRecv,
    FileRead,
    FileWrite,
    Sleep,
    Copy,
    ChildWait,
    UnixConnect,
    FileDropped,
}

/// Each kind with its weight: spawning a child costs a fork and an exec, so it comes rarely.
const KINDS: [(Kind, u64); 15] = [
    (Kind::TcpRead, 4),
    (Kind::UnixRead, 4),
    (Kind::RacedReads, 3),
    (Kind::FillBuf, 4),
    (Kind::TcpWrite, 2),
    (Kind::Accept, 3),
    (Kind::Connect, 3),
    (Kind::UdpRecv, 3),
    (Kind::FileRead, 3),
    (Kind::FileWrite, 3),
    (Kind::Sleep, 3),
    (Kind::Copy, 2),
    (Kind::ChildWait, 1),
    (Kind::UnixConnect, 2),
    (Kind::FileDropped, 3),
];

fn pick(rng: &mut Rng) -> usize {
    let total: u64 = KINDS.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.below(total);
    for (index, (_, weight)) in KINDS.iter().enumerate() {
        if roll < *weight {
            return index;
        }
        roll -= weight;
    }
    unreachable!("the roll is below the total")
}

/// Per kind: (operations that finished before the cut, operations cut).
type Stats = [(u32, u32); KINDS.len()];

/// Size of the shared template large writes and copies take their bytes from.
const TEMPLATE: usize = 320 * 1024;
/// Size of the file reads read.
const READ_FILE: usize = 64 * 1024;
/// How far writes into the written file reach.
const WRITE_FILE: usize = 72 * 1024;
/// Bytes a cut `io::copy` may take from its reader without writing them: its buffer, or the
/// splice pipe's room.
const COPY_MAY_LOSE: usize = 64 * 1024 + 256 * 1024;

struct Fuzz {
    rng: Rng,
    tcp: Checked<TcpStream, TcpStream>,
    unix: Checked<UnixStream, UnixStream>,
    buffered: Checked<BufReader<UnixStream>, UnixStream>,
    listener: TcpListener,
    connect_to: SocketAddr,
    /// A listener whose backlog is full and never accepted: connects to it wait.
    full: (socket2::Socket, Vec<socket2::Socket>),
    unix_path: PathBuf,
    dir: PathBuf,
    write_listener: std::net::TcpListener,
    udp_sender: UdpSocket,
    udp_receiver: UdpSocket,
    udp_next: u64,
    udp_last: Option<u64>,
    read_file: File,
    write_file: File,
    /// Bytes of the written file a completed write put there.
    must_hold: Vec<bool>,
    template: Vec<u8>,
    file_tags: (u64, u64),
    iteration: usize,
}

/// What the file opened after a `File` is dropped holds, and must go on holding.
const VICTIM: &[u8] = b"the file opened next: nothing cut may write here";

/// A socket connecting to `address` without waiting for the handshake.
fn connecting(address: SocketAddr) -> socket2::Socket {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_nonblocking(true).unwrap();
    match socket.connect(&address.into()) {
        Ok(()) => {}
        Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(error) => panic!("connect to {address}: {error}"),
    }
    socket
}

/// A listener whose backlog is full: connects to it wait for a SYN it drops.
fn full_listener() -> (socket2::Socket, Vec<socket2::Socket>) {
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    listener
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    listener.listen(0).unwrap();
    let address = listener.local_addr().unwrap().as_socket().unwrap();
    // A backlog of 0 holds one connection; a few more make sure it is full.
    let fillers = (0..3).map(|_| connecting(address)).collect();
    std::thread::sleep(Duration::from_millis(10));
    (listener, fillers)
}

const TCP_TAG: u64 = 1;
const UNIX_TAG: u64 = 2;
const BUFFERED_TAG: u64 = 3;
const READ_FILE_TAG: u64 = 4;
const WRITE_FILE_TAG: u64 = 5;
const TEMPLATE_TAG: u64 = 6;
const UDP_TAG: u64 = 7;

impl Fuzz {
    async fn new(seed: u64, dir: &Path) -> Fuzz {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let tcp_writer = spawn(async move { TcpStream::connect(address).await.unwrap() });
        let (tcp_reader, _) = listener.accept().await.unwrap();
        let tcp_writer = tcp_writer.await.unwrap();
        let (unix_reader, unix_writer) = UnixStream::pair().unwrap();
        let (buffered_reader, buffered_writer) = UnixStream::pair().unwrap();

        // Connections to this one are accepted (and closed) at once, so connects finish.
        let target = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let connect_to = target.local_addr().unwrap();
        spawn(async move {
            while let Ok((stream, _)) = target.accept().await {
                drop(stream);
            }
        });

        let full = full_listener();

        let unix_path = dir.join("listener.sock");
        let unix_listener = UnixListener::bind(&unix_path).unwrap();
        spawn(async move {
            while let Ok((stream, _)) = unix_listener.accept().await {
                drop(stream);
            }
        });
        std::fs::write(dir.join("victim"), VICTIM).unwrap();

        // Small buffers, so a large write waits for the peer.
        let write_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket2::SockRef::from(&write_listener)
            .set_recv_buffer_size(4096)
            .unwrap();

        let udp_sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let udp_receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        udp_sender
            .connect(udp_receiver.local_addr().unwrap())
            .await
            .unwrap();
        udp_receiver
            .connect(udp_sender.local_addr().unwrap())
            .await
            .unwrap();

        let file_tags = (READ_FILE_TAG ^ (seed << 8), WRITE_FILE_TAG ^ (seed << 8));
        let read_path = dir.join("read");
        std::fs::write(&read_path, pattern_bytes(file_tags.0, 0, READ_FILE)).unwrap();
        let read_file = File::open(&read_path).await.unwrap();
        let write_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.join("written"))
            .await
            .unwrap();

        Fuzz {
            rng: Rng::new(seed),
            tcp: Checked::new(tcp_reader, tcp_writer, TCP_TAG),
            unix: Checked::new(unix_reader, unix_writer, UNIX_TAG),
            buffered: Checked::new(
                BufReader::with_capacity(4096, buffered_reader),
                buffered_writer,
                BUFFERED_TAG,
            ),
            listener,
            connect_to,
            full,
            unix_path,
            dir: dir.to_path_buf(),
            write_listener,
            udp_sender,
            udp_receiver,
            udp_next: 0,
            udp_last: None,
            read_file,
            write_file,
            must_hold: vec![false; WRITE_FILE + 8192],
            template: pattern_bytes(TEMPLATE_TAG, 0, TEMPLATE),
            file_tags,
            iteration: 0,
        }
    }

    /// One operation of `kind`, cut at a random point; whether it finished first.
    async fn step(&mut self, kind: Kind) -> bool {
        match kind {
            Kind::TcpRead => self.tcp.cut_read(&mut self.rng, "TCP stream").await,
            Kind::UnixRead => self.unix.cut_read(&mut self.rng, "Unix stream").await,
            Kind::RacedReads => self.raced_reads().await,
            Kind::FillBuf => self.fill_buf().await,
            Kind::TcpWrite => self.tcp_write().await,
            Kind::Accept => self.accept().await,
            Kind::Connect => self.connect().await,
            Kind::UdpRecv => self.udp_recv().await,
            Kind::FileRead => self.file_read().await,
            Kind::FileWrite => self.file_write().await,
            Kind::Sleep => {
                let duration = Duration::from_micros(self.rng.below(2000));
                let how = Cut::random(&mut self.rng);
                cut(sleep(duration), how).await.is_some()
            }
            Kind::Copy => self.copy().await,
            Kind::ChildWait => self.child_wait().await,
            Kind::UnixConnect => {
                let how = Cut::random(&mut self.rng);
                match cut(UnixStream::connect(&self.unix_path), how).await {
                    Some(result) => {
                        drop(result.expect("connect to a listening Unix socket"));
                        true
                    }
                    None => false,
                }
            }
            Kind::FileDropped => self.file_dropped().await,
        }
    }

    /// A TCP read and a Unix read raced: the loser is dropped, and keeps its bytes.
    async fn raced_reads(&mut self) -> bool {
        let amount = self.rng.range(0, 3000);
        if amount > 0 && self.rng.one_in(2) && self.tcp.has_room(amount) {
            let tcp = &mut self.tcp;
            produce(&mut tcp.writer, tcp.tag, &mut tcp.written, amount).await;
        }
        let amount = self.rng.range(0, 3000);
        if amount > 0 && self.rng.one_in(2) && self.unix.has_room(amount) {
            let unix = &mut self.unix;
            produce(&mut unix.writer, unix.tag, &mut unix.written, amount).await;
        }
        let how = Cut::random(&mut self.rng);
        let tcp = self.tcp.reader.read(Vec::with_capacity(2048));
        let unix = self.unix.reader.read(Vec::with_capacity(2048));
        match cut(race(tcp, unix), how).await {
            Some(Either::Left((result, bytes))) => {
                assert_eq!(result.expect("a raced TCP read"), bytes.len());
                self.tcp.accept_read(&bytes, "TCP stream (raced)");
                true
            }
            Some(Either::Right((result, bytes))) => {
                assert_eq!(result.expect("a raced Unix read"), bytes.len());
                self.unix.accept_read(&bytes, "Unix stream (raced)");
                true
            }
            None => false,
        }
    }

    /// `BufReader::fill_buf` cut; what it returned is checked and part of it consumed.
    async fn fill_buf(&mut self) -> bool {
        let stream = &mut self.buffered;
        if self.rng.one_in(2) {
            let amount = self.rng.range(1, 6000);
            if stream.has_room(amount) {
                produce(&mut stream.writer, stream.tag, &mut stream.written, amount).await;
            }
        }
        let how = Cut::random(&mut self.rng);
        let Some(result) = cut(stream.reader.fill_buf(), how).await else {
            return false;
        };
        let available = result.expect("fill_buf").len();
        assert!(available > 0, "fill_buf at the end of a stream still open");
        // The buffer is borrowed from the reader: check it through `buffer()`.
        let at = stream.read;
        stream.check_at(at, stream.reader.buffer(), "BufReader");
        let used = self.rng.range(0, available + 1);
        stream.reader.consume(used);
        stream.read += used as u64;
        true
    }

    /// Drains the buffered stream, checking every byte.
    async fn drain_buffered(&mut self) {
        let stream = &mut self.buffered;
        while stream.read < stream.written {
            let missing = stream.written - stream.read;
            let available = match timeout(Duration::from_secs(5), stream.reader.fill_buf()).await {
                Ok(result) => result.expect("fill_buf").len(),
                Err(_) => panic!("BufReader: {missing} bytes written never arrived"),
            };
            assert!(
                available > 0,
                "BufReader: end of stream with {missing} unread"
            );
            let at = stream.read;
            stream.check_at(at, stream.reader.buffer(), "BufReader");
            stream.reader.consume(available);
            stream.read += available as u64;
        }
    }

    /// A large write to a peer that does not read, cut; then more bytes, which must follow
    /// what the cut write sent.
    async fn tcp_write(&mut self) -> bool {
        let client = std::net::TcpStream::connect(self.write_listener.local_addr().unwrap())
            .expect("connect the writer");
        socket2::SockRef::from(&client)
            .set_send_buffer_size(4096)
            .unwrap();
        let (server, _) = self.write_listener.accept().expect("accept the writer");
        let mut client = TcpStream::from_std(client).unwrap();
        let mut server = TcpStream::from_std(server).unwrap();
        let len = self.rng.range(1, 256 * 1024);
        let data = self.template[..len].to_vec();
        let how = Cut::random(&mut self.rng);
        let outcome = if self.rng.one_in(2) {
            cut(client.write_all(data), how)
                .await
                .map(|(result, _)| result.map(|()| len))
        } else {
            cut(client.write(data), how).await.map(|(result, _)| result)
        };
        let reader = spawn(async move { server.read_to_end(Vec::new()).await });
        let marker = pattern_bytes(self.iteration as u64, u64::MAX / 2, 64);
        let (result, _) = bounded(
            "the write after a cut one",
            client.write_all(marker.clone()),
        )
        .await;
        result.expect("the write after a cut one");
        bounded("shutdown", AsyncWrite::shutdown(&mut client))
            .await
            .expect("shutdown");
        drop(client);
        let (result, received) = bounded("the peer's read to the end", reader)
            .await
            .expect("the reading task");
        result.expect("the peer's read");
        assert!(
            received.len() >= marker.len() && received.ends_with(&marker),
            "the bytes written after the cut write arrive last, whole ({} received)",
            received.len()
        );
        let sent = received.len() - marker.len();
        assert!(sent <= len, "more sent ({sent}) than the write had ({len})");
        assert!(
            received[..sent] == self.template[..sent],
            "a cut write sends a prefix of its buffer"
        );
        match outcome {
            Some(result) => {
                let written = result.expect("a write to a live peer");
                assert_eq!(sent, written, "a finished write sent what it said");
                true
            }
            None => false,
        }
    }

    async fn accept(&mut self) -> bool {
        let mut clients = Vec::new();
        if self.rng.one_in(2) {
            // Non-blocking: a backlog full of connections earlier cut accepts left behind
            // would make a blocking connect wait a second.
            clients.push(connecting(self.listener.local_addr().unwrap()));
        }
        let how = Cut::random(&mut self.rng);
        let outcome = cut(self.listener.accept(), how).await;
        drop(clients);
        match outcome {
            Some(result) => {
                let (stream, _) = result.expect("accept");
                drop(stream);
                true
            }
            None => false,
        }
    }

    async fn connect(&mut self) -> bool {
        let how = Cut::random(&mut self.rng);
        if self.rng.one_in(3) {
            // Waits for a SYN the listener drops: only the cut ends it.
            let address = self.full.0.local_addr().unwrap().as_socket().unwrap();
            let outcome = cut(TcpStream::connect(address), how).await;
            assert!(
                outcome.is_none(),
                "a connect to a full backlog finished: {outcome:?}"
            );
            return false;
        }
        match cut(TcpStream::connect(self.connect_to), how).await {
            Some(result) => {
                drop(result.expect("connect to a listening port"));
                true
            }
            None => false,
        }
    }

    /// A datagram received by a cut receive may be lost (the guide says so); one received is
    /// whole and comes in order.
    async fn udp_recv(&mut self) -> bool {
        if self.rng.one_in(2) {
            let sequence = self.udp_next;
            self.udp_next += 1;
            let mut datagram = sequence.to_le_bytes().to_vec();
            datagram.extend(pattern_bytes(UDP_TAG, sequence, (sequence % 193) as usize));
            let (result, _) = bounded("a UDP send", self.udp_sender.send(datagram)).await;
            result.expect("a UDP send");
        }
        let how = Cut::random(&mut self.rng);
        let Some((result, datagram)) =
            cut(self.udp_receiver.recv(Vec::with_capacity(512)), how).await
        else {
            return false;
        };
        let count = result.expect("a UDP receive");
        assert_eq!(count, datagram.len());
        assert!(count >= 8, "a datagram of {count} bytes");
        let sequence = u64::from_le_bytes(datagram[..8].try_into().unwrap());
        assert!(
            sequence < self.udp_next,
            "datagram {sequence} was never sent"
        );
        assert!(
            self.udp_last.is_none_or(|last| sequence > last),
            "datagram {sequence} after {:?}",
            self.udp_last
        );
        assert_eq!(
            datagram[8..],
            pattern_bytes(UDP_TAG, sequence, (sequence % 193) as usize)[..],
            "datagram {sequence} is whole"
        );
        self.udp_last = Some(sequence);
        true
    }

    /// A read at the cursor, cut: the cursor moves only if it finished.
    async fn file_read(&mut self) -> bool {
        let start = self.rng.range(0, READ_FILE + 1024) as u64;
        self.read_file.set_position(start);
        let capacity = self.rng.range(1, 8192);
        let how = Cut::random(&mut self.rng);
        match cut(self.read_file.read(Vec::with_capacity(capacity)), how).await {
            Some((result, bytes)) => {
                let count = result.expect("a file read");
                let expected = (READ_FILE as u64)
                    .saturating_sub(start)
                    .min(capacity as u64);
                assert_eq!(count as u64, expected, "a file read at {start}");
                assert_eq!(bytes, pattern_bytes(self.file_tags.0, start, count));
                assert_eq!(self.read_file.position(), start + count as u64);
                true
            }
            None => {
                assert_eq!(
                    self.read_file.position(),
                    start,
                    "a cut read leaves the cursor"
                );
                false
            }
        }
    }

    /// A write at an offset or at the cursor, cut: the cursor moves only if it finished; what
    /// it wrote is checked at the end (its bytes or nothing).
    async fn file_write(&mut self) -> bool {
        let start = self.rng.range(0, WRITE_FILE);
        let len = self.rng.range(1, 8192);
        let bytes = pattern_bytes(self.file_tags.1, start as u64, len);
        let how = Cut::random(&mut self.rng);
        let at_cursor = self.rng.one_in(2);
        let cursor_before = self.write_file.position();
        let outcome = if at_cursor {
            self.write_file.set_position(start as u64);
            cut(self.write_file.write(bytes), how).await
        } else {
            cut(self.write_file.write_at(bytes, start as u64), how).await
        };
        let position = self.write_file.position();
        match outcome {
            Some((result, _)) => {
                let count = result.expect("a file write");
                assert!(count > 0 && count <= len);
                self.must_hold[start..start + count].fill(true);
                if at_cursor {
                    assert_eq!(
                        position,
                        (start + count) as u64,
                        "the cursor moved by the write"
                    );
                } else {
                    assert_eq!(position, cursor_before, "write_at leaves the cursor");
                }
                true
            }
            None => {
                let expected = if at_cursor {
                    start as u64
                } else {
                    cursor_before
                };
                assert_eq!(position, expected, "a cut write leaves the cursor");
                false
            }
        }
    }

    /// A write or truncate cut, its `File` dropped with it (a request that timed out), and
    /// another file opened at once: it gets the closed descriptor's number, and must not get
    /// what the cut operation does if it still runs.
    async fn file_dropped(&mut self) -> bool {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join("dropped"))
            .await
            .unwrap();
        let how = Cut::Polls(self.rng.range(1, 4) as u32);
        let finished = if self.rng.one_in(2) {
            let bytes = pattern_bytes(self.iteration as u64, 0, self.rng.range(1, 4096));
            cut(file.write_at(bytes, 0), how).await.is_some()
        } else {
            cut(file.set_len(1), how).await.is_some()
        };
        drop(file);
        // The close runs in this turn.
        yield_now().await;
        let victim = std::fs::OpenOptions::new()
            .write(true)
            .open(self.dir.join("victim"))
            .unwrap();
        // What the cut operation does, it does while the victim holds the number.
        sleep(Duration::from_micros(self.rng.below(500))).await;
        drop(victim);
        assert_eq!(
            std::fs::read(self.dir.join("victim")).unwrap(),
            VICTIM,
            "a cut operation on a dropped File changed the file that got its descriptor"
        );
        finished
    }

    /// Every byte of the written file is what a write put there or a hole; those a finished
    /// write put there are there.
    fn check_written_file(&self, path: &Path) {
        let contents = std::fs::read(path).unwrap();
        for (position, &held) in self.must_hold.iter().enumerate() {
            let byte = contents.get(position).copied().unwrap_or(0);
            let expected = pattern(self.file_tags.1, position as u64);
            if held {
                assert_eq!(byte, expected, "byte {position} of the written file");
            } else {
                assert!(
                    byte == 0 || byte == expected,
                    "byte {position} of the written file is {byte}, neither a hole nor written"
                );
            }
        }
        assert!(contents.len() <= self.must_hold.len());
    }

    /// `io::copy` between two Unix streams, cut; the writer's peer has a prefix of the
    /// source, the source a suffix, and at most a copy buffer's worth is lost between them.
    async fn copy(&mut self) -> bool {
        let (mut source, mut from) = UnixStream::pair().unwrap();
        let (mut to, mut sink) = UnixStream::pair().unwrap();
        let len = self.rng.range(0, TEMPLATE);
        let data = self.template[..len].to_vec();
        let writer = spawn(async move {
            let (result, _) = source.write_all(data).await;
            result.expect("the source's write");
        });
        let reader = spawn(async move { sink.read_to_end(Vec::new()).await });
        let how = Cut::random(&mut self.rng);
        let outcome = cut(copy(&mut from, &mut to), how).await;
        drop(to);
        let (result, received) = bounded("the sink's read to the end", reader)
            .await
            .expect("the sink task");
        result.expect("the sink's read");
        let (result, rest) =
            bounded("reading the source's rest", from.read_to_end(Vec::new())).await;
        result.expect("reading the source's rest");
        bounded("the source's writer", writer)
            .await
            .expect("the source task");
        assert!(
            received[..] == self.template[..received.len()],
            "the sink has a prefix of the source ({} of {len} bytes)",
            received.len()
        );
        assert!(
            received.len() + rest.len() <= len,
            "{} copied and {} left of {len}: bytes repeated",
            received.len(),
            rest.len()
        );
        assert!(
            rest[..] == self.template[len - rest.len()..len],
            "the source keeps a suffix ({} of {len} bytes; {} copied)",
            rest.len(),
            received.len()
        );
        let lost = len - received.len() - rest.len();
        assert!(lost <= COPY_MAY_LOSE, "a cut copy lost {lost} bytes");
        match outcome {
            Some(result) => {
                let copied = result.expect("a copy");
                assert_eq!(copied as usize, len, "a finished copy copies everything");
                assert_eq!(received.len(), len);
                true
            }
            None => false,
        }
    }

    /// A child's `wait`, cut; the child is then waited for again.
    async fn child_wait(&mut self) -> bool {
        let mut child = Command::new("true").spawn().expect("spawn `true`");
        let how = Cut::random(&mut self.rng);
        let (status, finished) = match cut(child.wait(), how).await {
            Some(result) => (result, true),
            None => (bounded("waiting again", child.wait()).await, false),
        };
        assert!(status.expect("wait").success());
        finished
    }

    /// Tasks with operations of each kind in flight, for the runtime's drop to end: the
    /// acceptors' accepts (spawned at the start), reads with nothing to read, a connect to the
    /// full backlog, a UDP receive, a long timer, a child's wait, a copy and a file write.
    async fn leave_in_flight(self) {
        let Fuzz {
            tcp,
            unix,
            buffered,
            full,
            udp_receiver,
            udp_sender,
            write_file,
            ..
        } = self;
        let full_address = full.0.local_addr().unwrap().as_socket().unwrap();
        let mut tcp_reader = tcp.reader;
        spawn(async move { tcp_reader.read(Vec::with_capacity(64)).await });
        let mut unix_reader = unix.reader;
        spawn(async move { unix_reader.read(Vec::with_capacity(64)).await });
        let mut buffered_reader = buffered.reader;
        spawn(async move { buffered_reader.fill_buf().await.map(<[u8]>::len) });
        spawn(async move { TcpStream::connect(full_address).await });
        spawn(async move { udp_receiver.recv(Vec::with_capacity(64)).await });
        spawn(sleep(Duration::from_secs(3600)));
        let mut child = Command::new("sleep")
            .arg("3600")
            .spawn()
            .expect("spawn `sleep`");
        let pid = child.id();
        spawn(async move { child.wait().await });
        let (mut from, source) = UnixStream::pair().unwrap();
        let (mut to, sink) = UnixStream::pair().unwrap();
        spawn(async move { copy(&mut from, &mut to).await });
        spawn(async move {
            write_file
                .write_at(pattern_bytes(0, 0, 4096), WRITE_FILE as u64)
                .await
        });
        // Let each start.
        for _ in 0..4 {
            yield_now().await;
        }
        // The child's wait is ended by the runtime's drop; the child would run an hour.
        // SAFETY: kill with a plain pid: the child's, not reaped yet (its wait is pending).
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        // The other ends stay open until the runtime's drop, so nothing ends before it.
        spawn(async move {
            let _ends = (
                tcp.writer,
                unix.writer,
                buffered.writer,
                udp_sender,
                source,
                sink,
                full,
            );
            sleep(Duration::from_secs(3600)).await;
        });
    }

    async fn drain_all(&mut self) {
        self.tcp.drain("TCP stream").await;
        self.unix.drain("Unix stream").await;
        self.drain_buffered().await;
    }
}

/// Reports where a failing run was, so it can be replayed with `PROACTOR_FUZZ_SEED`.
struct Context {
    backend: Backend,
    seed: u64,
    iteration: usize,
    kind: Option<Kind>,
}

impl Drop for Context {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "cancel fuzz failed on {}: PROACTOR_FUZZ_SEED={} iteration {} kind {:?}",
                self.backend, self.seed, self.iteration, self.kind
            );
        }
    }
}

/// Runs `iterations` cut operations on a new runtime on `backend`, then drops the runtime.
fn run(backend: Backend, seed: u64, iterations: usize) -> Stats {
    let dir = std::env::temp_dir().join(format!(
        "proactor-cancel-fuzz-{}-{backend}-{seed}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = Builder::new().backend(backend).build().unwrap();
    let stats = runtime.block_on(async {
        let mut context = Context {
            backend,
            seed,
            iteration: 0,
            kind: None,
        };
        let mut fuzz = Fuzz::new(seed, &dir).await;
        let mut stats: Stats = [(0, 0); KINDS.len()];
        for iteration in 0..iterations {
            let index = pick(&mut fuzz.rng);
            let kind = KINDS[index].0;
            context.iteration = iteration;
            context.kind = Some(kind);
            fuzz.iteration = iteration;
            if fuzz.step(kind).await {
                stats[index].0 += 1;
            } else {
                stats[index].1 += 1;
            }
            if iteration % 64 == 63 {
                context.kind = None;
                fuzz.drain_all().await;
            }
        }
        context.kind = None;
        fuzz.drain_all().await;
        fuzz.check_written_file(&dir.join("written"));
        fuzz.leave_in_flight().await;
        stats
    });
    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    stats
}

fn iterations() -> usize {
    std::env::var("PROACTOR_FUZZ_ITERATIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2_000)
}

fn seed() -> u64 {
    std::env::var("PROACTOR_FUZZ_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0x00C0_FFEE)
}

/// Waits (bounded) until `settled` holds: closes go through the driver, and the pool's
/// threads end a moment after their last job.
fn settle(mut settled: impl FnMut() -> bool, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !settled() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Jobs the warm-up gives the pool at once: far more than the fuzzer's operations ever have
/// queued or running together, so that the measured run starts no pool thread and grows no
/// queue. (A burst of 8 left room for too few: under load, some seeds' runs on epoll then
/// grew the pool's queue by 512 bytes.)
const POOL_BURST: usize = 256;

/// Starts what the runtime keeps for the whole process once first needed, so that the measured
/// run does not: pool threads and room in the pool's queue, from a burst of [`POOL_BURST`]
/// jobs (the threads stay, idle, for the pool's timeout), and the thread that reaps children dropped unwaited (with its wake pipe), which
/// the run's end needs when the runtime's drop ends a child's `wait` before it reaped.
fn start_what_stays(backend: Backend) {
    let runtime = Builder::new().backend(backend).build().unwrap();
    runtime.block_on(async {
        let child = Command::new("sleep")
            .arg("3600")
            .spawn()
            .expect("spawn `sleep`");
        let pid = child.id();
        drop(child);
        // SAFETY: kill with a plain pid: the child's, which the reaper waits for.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        let reaped = Instant::now() + LIMIT;
        while Path::new(&format!("/proc/{pid}")).exists() {
            assert!(Instant::now() < reaped, "the reaper did not reap {pid}");
            sleep(Duration::from_millis(1)).await;
        }

        // The pool starts a thread for each job queued beyond its idle ones, up to its bound,
        // and queues the rest.
        let jobs: Vec<_> = (0..POOL_BURST)
            .map(|_| proactor::spawn_blocking(|| std::thread::sleep(Duration::from_millis(2))))
            .collect();
        for job in jobs {
            bounded("a pool job", job).await.expect("a pool job");
        }
    });
}

/// Waits (bounded) until the descriptors and live allocations stay the same for 50 ms.
fn quiet() {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut last = (open_fds(), live());
    let mut since = Instant::now();
    while since.elapsed() < Duration::from_millis(50) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        let now = (open_fds(), live());
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
}

fn cancel_fuzz(backend: Backend) {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let iterations = iterations();
    let seed = seed();
    // The warm-up starts what stays (pool threads, their queue's room) with the same mix,
    // then makes sure of what the mix may or may not start (see `start_what_stays`).
    run(backend, seed ^ 0x5A5A, iterations.min(300));
    start_what_stays(backend);
    // Pool jobs of the warm-up's last operations may still hold duplicates of their
    // descriptors, and the reaper a child's pidfd, for a moment after the runtime is gone.
    quiet();

    let fds_before = open_fds();
    let (allocations_before, bytes_before) = live();
    let start = Instant::now();
    let stats = run(backend, seed, iterations);
    let elapsed = start.elapsed();
    settle(|| open_fds() <= fds_before, Duration::from_secs(5));
    let fds_after = open_fds();
    let at_once = live();
    let settling = Instant::now();
    // A pool thread started in the measured run (a burst the warm-up did not have) holds its
    // allocations until it has been idle for its timeout (10 s).
    settle(
        || {
            let (allocations, bytes) = live();
            allocations <= allocations_before && bytes <= bytes_before
        },
        Duration::from_secs(12),
    );
    let (allocations_after, bytes_after) = live();
    let settled_in = settling.elapsed();

    eprintln!(
        "{backend}: seed {seed}, {iterations} iterations in {elapsed:?}; descriptors \
         {fds_before} -> {fds_after}; live allocations {allocations_before} -> \
         {allocations_after}, bytes {bytes_before} -> {bytes_after} (at once {} and {}, \
         settled in {settled_in:?})",
        at_once.0, at_once.1
    );
    for (index, (kind, _)) in KINDS.iter().enumerate() {
        eprintln!(
            "  {kind:?}: {} finished, {} cut",
            stats[index].0, stats[index].1
        );
    }
    assert_eq!(
        fds_after, fds_before,
        "{backend}: descriptors left open after the runtime was dropped"
    );
    assert!(
        allocations_after <= allocations_before && bytes_after <= bytes_before,
        "{backend}: allocations leaked: {} allocations, {} bytes",
        allocations_after - allocations_before,
        bytes_after - bytes_before
    );
    // Every kind was both finished and cut at least once in a default-sized run.
    if iterations >= 2_000 {
        for (index, (kind, _)) in KINDS.iter().enumerate() {
            assert!(
                stats[index].0 > 0 && stats[index].1 > 0,
                "{backend}: {kind:?} was never {}",
                if stats[index].0 == 0 {
                    "finished"
                } else {
                    "cut"
                }
            );
        }
    }
}

per_backend! {
    cancel_fuzz,
}
