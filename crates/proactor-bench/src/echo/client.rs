//! The load generator: one thread, one raw io_uring ring (SINGLE_ISSUER | DEFER_TASKRUN), N
//! connections, each sending an M-byte message and waiting for the whole echo before it sends
//! again. Per connection a send and a recv go in flight together; every completion batch is
//! answered with one `io_uring_enter`. The clock is read once per batch; each finished round
//! trip goes into a fixed histogram (no allocation in the loop).

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use io_uring::{opcode, squeue, types, IoUring};

use crate::echo::histogram::Histogram;
use crate::echo::sys;

const SEND: u64 = 1;
const RECV: u64 = 2;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub addr: SocketAddr,
    pub conns: usize,
    pub size: usize,
    /// Unmeasured time after all connections are up (duration mode only).
    pub warmup: Duration,
    /// Length of the measured window (duration mode).
    pub duration: Duration,
    /// Round-trip mode: exactly this many round trips in all, measured from the first, then
    /// the connections close. Overrides warmup and duration.
    pub round_trips: Option<u64>,
}

pub struct ClientResult {
    pub round_trips: u64,
    pub elapsed: Duration,
    pub histogram: Histogram,
    /// The client thread's own CPU time and run-queue wait during the window.
    pub sched: sys::Sched,
}

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Start,
    End,
}

struct Conn {
    fd: RawFd,
    buffer: Box<[u8]>,
    sent: usize,
    received: usize,
    started: Instant,
}

/// Queues `entry`, submitting first when the submission queue is full.
///
/// # Safety
///
/// Whatever `entry` points at (buffers) must stay valid until its completion is reaped.
unsafe fn push(ring: &mut IoUring, entry: &squeue::Entry) -> io::Result<()> {
    loop {
        // SAFETY: our caller keeps the entry's buffers alive until it completes.
        if unsafe { ring.submission().push(entry) }.is_ok() {
            return Ok(());
        }
        ring.submit()?;
    }
}

fn send_entry(conn: &Conn, slot: usize, message: &[u8]) -> squeue::Entry {
    let rest = &message[conn.sent..];
    opcode::Send::new(types::Fd(conn.fd), rest.as_ptr(), rest.len() as u32)
        .build()
        .user_data(((slot as u64) << 2) | SEND)
}

fn recv_entry(conn: &mut Conn, slot: usize) -> squeue::Entry {
    let rest = &mut conn.buffer[conn.received..];
    opcode::Recv::new(types::Fd(conn.fd), rest.as_mut_ptr(), rest.len() as u32)
        .build()
        .user_data(((slot as u64) << 2) | RECV)
}

fn ring_for(conns: usize) -> io::Result<IoUring> {
    let entries = ((2 * conns).next_power_of_two() as u32).clamp(256, 32768);
    IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .setup_coop_taskrun()
        .build(entries)
        .or_else(|_| IoUring::new(entries))
}

/// Runs the ping-pong against `options.addr`; `on_window` is called when the measured window
/// starts and ends (the caller samples the server's counters there).
pub fn run(options: &ClientOptions, on_window: &mut dyn FnMut(Window)) -> io::Result<ClientResult> {
    let size = options.size;
    let message: Box<[u8]> = (0..size).map(|i| (i % 251) as u8).collect();
    let mut streams = Vec::with_capacity(options.conns);
    for _ in 0..options.conns {
        let stream = TcpStream::connect(options.addr)?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    let mut conns: Vec<Conn> = streams
        .iter()
        .map(|stream| Conn {
            fd: stream.as_raw_fd(),
            buffer: vec![0u8; size].into_boxed_slice(),
            sent: 0,
            received: 0,
            started: Instant::now(),
        })
        .collect();
    let mut ring = ring_for(options.conns)?;
    let mut completions: Vec<(u64, i32)> = Vec::with_capacity(ring.params().cq_entries() as usize);
    let mut histogram = Histogram::new();

    let start = Instant::now();
    let limit = options.round_trips;
    let mut measuring = limit.is_some();
    let warm_end = start + options.warmup;
    let mut window_start = start;
    let mut window_end = start;
    let mut sched_start = sys::thread_sched();
    let mut sched = sys::Sched::default();
    if measuring {
        on_window(Window::Start);
        sched_start = sys::thread_sched();
    }
    let mut measured: u64 = 0;
    let mut begun: u64 = 0;
    let mut in_flight: usize = 0;
    let mut stopping = false;

    for (slot, conn) in conns.iter_mut().enumerate() {
        if limit.is_some_and(|limit| begun >= limit) {
            break;
        }
        begun += 1;
        conn.started = start;
        let send = send_entry(conn, slot, &message);
        let recv = recv_entry(conn, slot);
        // SAFETY: `message` and each connection's boxed buffer live until the loop below has
        // drained every op (`in_flight` reaches 0) and are never moved meanwhile.
        unsafe {
            push(&mut ring, &send)?;
            push(&mut ring, &recv)?;
        }
        in_flight += 2;
    }

    while in_flight > 0 {
        ring.submit_and_wait(1)?;
        let now = Instant::now();
        if !stopping {
            if !measuring && now >= warm_end {
                on_window(Window::Start);
                sched_start = sys::thread_sched();
                window_start = now;
                measuring = true;
            } else if measuring && limit.is_none() && now >= window_start + options.duration {
                sched = sys::thread_sched().since(sched_start);
                window_end = now;
                on_window(Window::End);
                stopping = true;
                // Ends every op in flight: recvs return 0, sends fail.
                for conn in &conns {
                    // SAFETY: shutting down a socket `streams` owns.
                    unsafe { libc::shutdown(conn.fd, libc::SHUT_RDWR) };
                }
            }
        }
        completions.clear();
        completions.extend(ring.completion().map(|cqe| (cqe.user_data(), cqe.result())));
        for &(data, result) in &completions {
            in_flight -= 1;
            if stopping {
                continue;
            }
            let slot = (data >> 2) as usize;
            let conn = &mut conns[slot];
            if result < 0 || (result == 0 && data & 3 == RECV) {
                return Err(if result < 0 {
                    io::Error::from_raw_os_error(-result)
                } else {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed")
                });
            }
            let next = if data & 3 == SEND {
                conn.sent += result as usize;
                (conn.sent < size).then(|| send_entry(conn, slot, &message))
            } else {
                conn.received += result as usize;
                (conn.received < size).then(|| recv_entry(conn, slot))
            };
            if let Some(entry) = next {
                // SAFETY: as above.
                unsafe { push(&mut ring, &entry)? };
                in_flight += 1;
                continue;
            }
            if conn.sent < size || conn.received < size {
                continue;
            }
            // A whole round trip.
            if measuring {
                histogram.record(now.duration_since(conn.started).as_nanos() as u64);
                measured += 1;
            }
            if let Some(limit) = limit {
                if measured >= limit {
                    sched = sys::thread_sched().since(sched_start);
                    window_end = now;
                    on_window(Window::End);
                    stopping = true;
                    continue;
                }
                if begun >= limit {
                    continue;
                }
            }
            begun += 1;
            conn.sent = 0;
            conn.received = 0;
            conn.started = now;
            let send = send_entry(conn, slot, &message);
            let recv = recv_entry(conn, slot);
            // SAFETY: as above.
            unsafe {
                push(&mut ring, &send)?;
                push(&mut ring, &recv)?;
            }
            in_flight += 2;
        }
    }
    drop(ring);
    drop(streams);
    Ok(ClientResult {
        round_trips: measured,
        elapsed: window_end.duration_since(window_start),
        histogram,
        sched,
    })
}
