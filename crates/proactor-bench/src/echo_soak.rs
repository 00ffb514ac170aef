//! echo-soak: a proactor echo server churned by thousands of connections for a bounded time,
//! with random drops, then checked for leaks (resident memory and descriptors back to where
//! they were).
//!
//! ```text
//! echo-soak [--seconds N] [--connections N] [--threads N] [--server-threads N] [--seed S]
//!           [--backend io_uring|epoll] [--reads owned|pooled]
//! ```
//!
//! The server runs in this process (a `RuntimeGroup` on its own threads, an accept loop and an
//! echo task per connection, as `crates/proactor/examples/echo.rs`, with that example's
//! acceptor, which backs off when `accept` fails, e.g. out of descriptors). Client threads
//! drive it through plain blocking std sockets (with timeouts): each keeps its share of the
//! connections open and repeatedly picks one at random to do one of: an echo of a random size
//! (1 B to 16 KiB, checked byte for byte), a graceful close and reconnect, a reset (`SO_LINGER`
//! 0, then close) and reconnect, a half-close (shutdown of the write side, then read to EOF)
//! and reconnect, or nothing (the connection stays idle). Every second the process's RSS and
//! open descriptors are sampled. At the end the clients close everything, the server is given
//! up to 5 s to drop its side, and the run fails (exit status 1) on an echo mismatch, on more
//! descriptors than before the first client connected (beyond `FD_MARGIN`), or on an RSS above
//! the one after the first second by more than `RSS_MARGIN_*` (see `rss_limit`).

#[cfg(target_os = "linux")]
#[path = "../../proactor/examples/common/accept.rs"]
mod accept;

#[cfg(target_os = "linux")]
mod echo_connection;

#[cfg(target_os = "linux")]
mod soak {
    use std::io::{self, Read, Write};
    use std::net::{Shutdown, SocketAddr, TcpStream};
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};
    use std::thread;
    use std::time::{Duration, Instant};

    use proactor::net::TcpListener;
    use proactor::Backend;

    use crate::accept::Acceptor;

    const USAGE: &str = "\
echo-soak: churn a proactor echo server with connections, check RSS and descriptors after

USAGE:
    echo-soak [OPTIONS]

OPTIONS:
    --seconds N         how long the clients run (default 30)
    --connections N     connections kept open (default 2000; capped to what RLIMIT_NOFILE allows,
                        two descriptors each, as both ends are in this process)
    --threads N         client threads (default 2)
    --server-threads N  server runtimes (default 1)
    --seed S            PRNG seed (default 1)
    --backend NAME      io_uring or epoll (default: the best this system has)
    --reads KIND        owned (each connection reads into its own buffer, the default) or
                        pooled (reads into buffers a pool of 1024 x 4 KiB per server runtime
                        lends, multishot on io_uring)
    -h, --help          this text";

    /// Largest echo request.
    const MAX_SIZE: usize = 16 * 1024;
    /// Descriptors the end may have beyond the baseline (taken before any client connected).
    const FD_MARGIN: usize = 4;
    /// The end's RSS may exceed the one after warm-up by the larger of these.
    const RSS_MARGIN_FRACTION: f64 = 0.20;
    const RSS_MARGIN_BYTES: u64 = 16 << 20;
    /// Descriptors kept out of the connection budget (runtime, listener, stdio, the acceptor's
    /// reserve, and server-side closes still in flight while clients reconnect).
    const FD_RESERVE: u64 = 256;
    const IO_TIMEOUT: Duration = Duration::from_secs(10);
    const DRAIN_WAIT: Duration = Duration::from_secs(5);

    struct Options {
        seconds: u64,
        connections: usize,
        threads: usize,
        server_threads: usize,
        seed: u64,
        backend: Option<Backend>,
        pooled: bool,
    }

    fn parse() -> Result<Options, String> {
        let mut options = Options {
            seconds: 30,
            connections: 2000,
            threads: 2,
            server_threads: 1,
            seed: 1,
            backend: None,
            pooled: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            if flag == "-h" || flag == "--help" {
                println!("{USAGE}");
                std::process::exit(0);
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{flag}: not a number: {value}"))
            };
            let positive = || match number()? {
                0 => Err(format!("{flag} must be positive")),
                n => Ok(n),
            };
            match flag.as_str() {
                "--seconds" => options.seconds = positive()?,
                "--connections" => options.connections = positive()? as usize,
                "--threads" => options.threads = positive()? as usize,
                "--server-threads" => options.server_threads = positive()? as usize,
                "--seed" => options.seed = number()?,
                "--backend" => {
                    options.backend = Some(match value.as_str() {
                        "io_uring" | "io-uring" | "uring" => Backend::IoUring,
                        "epoll" => Backend::Epoll,
                        _ => return Err(format!("--backend: io_uring or epoll, not {value}")),
                    })
                }
                "--reads" => {
                    options.pooled = match value.as_str() {
                        "owned" => false,
                        "pooled" => true,
                        _ => return Err(format!("--reads: owned or pooled, not {value}")),
                    }
                }
                _ => return Err(format!("unknown option {flag}\n\n{USAGE}")),
            }
        }
        Ok(options)
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit; the soft limit now in force.
    fn raise_nofile() -> u64 {
        // SAFETY: rlimit is two integers; all zeroes is valid.
        let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
        // SAFETY: `limit` is a valid, writable rlimit.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: `raised` is a valid rlimit; the kernel only reads it.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                return raised.rlim_cur as u64;
            }
        }
        limit.rlim_cur as u64
    }

    /// VmRSS of this process, in bytes.
    fn rss() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kib| kib * 1024)
    }

    /// Open descriptors of this process (less the one reading the directory).
    fn fds() -> usize {
        std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count().saturating_sub(1))
    }

    fn mib(bytes: u64) -> f64 {
        bytes as f64 / (1024.0 * 1024.0)
    }

    /// xorshift64*.
    struct Rng(u64);

    impl Rng {
        fn new(seed: u64) -> Rng {
            // splitmix64 of the seed, so that nearby seeds give unrelated streams (and never 0).
            let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Rng((z ^ (z >> 31)) | 1)
        }

        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn fill(&mut self, buffer: &mut [u8]) {
            for chunk in buffer.chunks_mut(8) {
                let bytes = self.next().to_le_bytes();
                chunk.copy_from_slice(&bytes[..chunk.len()]);
            }
        }
    }

    /// What the clients count, over all threads.
    #[derive(Default)]
    struct Stats {
        round_trips: AtomicU64,
        bytes: AtomicU64,
        connects: AtomicU64,
        closes: AtomicU64,
        resets: AtomicU64,
        half_closes: AtomicU64,
        idles: AtomicU64,
        mismatches: AtomicU64,
        errors: [AtomicU64; ERROR_KINDS.len()],
    }

    const ERROR_KINDS: [&str; 6] = [
        "connect",
        "reset/broken pipe",
        "timeout",
        "early EOF",
        "data after half-close",
        "other",
    ];

    impl Stats {
        fn error(&self, kind: usize) {
            self.errors[kind].fetch_add(1, Ordering::Relaxed);
        }

        fn io_error(&self, error: &io::Error) {
            use io::ErrorKind::*;
            let kind = match error.kind() {
                ConnectionReset | ConnectionAborted | BrokenPipe => 1,
                WouldBlock | TimedOut => 2,
                UnexpectedEof => 3,
                _ => 5,
            };
            self.error(kind);
        }

        fn get(counter: &AtomicU64) -> u64 {
            counter.load(Ordering::Relaxed)
        }
    }

    fn connect(address: SocketAddr, stats: &Stats) -> Option<TcpStream> {
        let stream = match TcpStream::connect_timeout(&address, IO_TIMEOUT) {
            Ok(stream) => stream,
            Err(_) => {
                stats.error(0);
                return None;
            }
        };
        let setup = stream
            .set_nodelay(true)
            .and_then(|()| stream.set_read_timeout(Some(IO_TIMEOUT)))
            .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)));
        if setup.is_err() {
            stats.error(0);
            return None;
        }
        stats.connects.fetch_add(1, Ordering::Relaxed);
        Some(stream)
    }

    /// Closes `stream` with a reset: `SO_LINGER` 0 makes `close` send RST.
    fn reset(stream: TcpStream) {
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: the descriptor is open (owned by `stream`); `linger` is a valid option value
        // of the size given.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
        drop(stream);
    }

    /// One echo of a random size; false if the connection is to be dropped.
    fn echo(
        stream: &mut TcpStream,
        rng: &mut Rng,
        out: &mut [u8],
        back: &mut [u8],
        stats: &Stats,
    ) -> bool {
        let size = 1 + rng.below(MAX_SIZE);
        rng.fill(&mut out[..size]);
        // Loopback buffers hold 16 KiB both ways, so writing it all before reading cannot
        // deadlock against the server's echo.
        let result = stream
            .write_all(&out[..size])
            .and_then(|()| stream.read_exact(&mut back[..size]));
        if let Err(error) = result {
            stats.io_error(&error);
            return false;
        }
        if out[..size] != back[..size] {
            stats.mismatches.fetch_add(1, Ordering::Relaxed);
            let at = (0..size).find(|&i| out[i] != back[i]).unwrap_or(0);
            eprintln!("echo-soak: MISMATCH: {size}-byte echo differs from byte {at}");
            return false;
        }
        stats.round_trips.fetch_add(1, Ordering::Relaxed);
        stats.bytes.fetch_add(size as u64, Ordering::Relaxed);
        true
    }

    /// Shuts down the write side and reads to EOF; the server echoes nothing more and closes.
    fn half_close(mut stream: TcpStream, stats: &Stats) {
        if let Err(error) = stream.shutdown(Shutdown::Write) {
            stats.io_error(&error);
            return;
        }
        let mut scratch = [0u8; 512];
        match stream.read(&mut scratch) {
            Ok(0) => {}
            Ok(_) => stats.error(4),
            Err(error) => stats.io_error(&error),
        }
    }

    fn client(address: SocketAddr, count: usize, seed: u64, stop: &AtomicBool, stats: &Stats) {
        let mut rng = Rng::new(seed);
        let mut connections: Vec<Option<TcpStream>> = Vec::with_capacity(count);
        for _ in 0..count {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            connections.push(connect(address, stats));
        }
        let (mut out, mut back) = (vec![0u8; MAX_SIZE], vec![0u8; MAX_SIZE]);
        while !stop.load(Ordering::Relaxed) && !connections.is_empty() {
            let pick = rng.below(connections.len());
            let slot = &mut connections[pick];
            let Some(mut stream) = slot.take() else {
                // Lost earlier (an error, or a failed connect): try again.
                *slot = connect(address, stats);
                continue;
            };
            let roll = rng.below(100);
            let keep = match roll {
                0..=69 => echo(&mut stream, &mut rng, &mut out, &mut back, stats),
                70..=77 => {
                    stats.closes.fetch_add(1, Ordering::Relaxed);
                    false
                }
                78..=85 => {
                    stats.resets.fetch_add(1, Ordering::Relaxed);
                    reset(stream);
                    *slot = connect(address, stats);
                    continue;
                }
                86..=92 => {
                    stats.half_closes.fetch_add(1, Ordering::Relaxed);
                    half_close(stream, stats);
                    *slot = connect(address, stats);
                    continue;
                }
                _ => {
                    stats.idles.fetch_add(1, Ordering::Relaxed);
                    true
                }
            };
            if keep {
                *slot = Some(stream);
            } else {
                drop(stream);
                *slot = connect(address, stats);
            }
        }
        // Everything closes gracefully here, as `connections` goes.
    }

    /// Starts the server on its own threads; its address and its count of open connections.
    fn start_server(options: &Options) -> Result<(SocketAddr, Arc<AtomicUsize>, String), String> {
        let mut builder = proactor::Builder::new()
            .threads(options.server_threads)
            .pin_to_cores(false);
        if let Some(backend) = options.backend {
            builder = builder.backend(backend);
        }
        let group = builder
            .build_group()
            .map_err(|error| format!("cannot start the runtimes: {error}"))?;
        // Port 0 picks a free port: bind once to learn it, then every runtime binds that one.
        let address = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|probe| probe.local_addr())
            .map_err(|error| format!("cannot bind: {error}"))?;
        let open = Arc::new(AtomicUsize::new(0));
        let (ready, listening) = mpsc::channel::<Result<String, String>>();
        let server_open = Arc::clone(&open);
        let pooled = options.pooled;
        thread::Builder::new()
            .name("echo-soak-server".into())
            .spawn(move || {
                group.run(move |_| {
                    let open = Arc::clone(&server_open);
                    let ready = ready.clone();
                    async move {
                        let listener = match TcpListener::bind_reuse_port(address).await {
                            Ok(listener) => listener,
                            Err(error) => {
                                let _ = ready.send(Err(format!("cannot listen: {error}")));
                                return;
                            }
                        };
                        let pool = match pooled {
                            true => match proactor::io::BufferPool::new(4096, 1024) {
                                Ok(pool) => Some(pool),
                                Err(error) => {
                                    let _ = ready.send(Err(format!("no buffer pool: {error}")));
                                    return;
                                }
                            },
                            false => None,
                        };
                        let _ = ready.send(Ok(proactor::current_backend_reason()));
                        let mut acceptor = Acceptor::new("echo-soak server", listener, open);
                        loop {
                            let (stream, ticket) = acceptor.accept().await;
                            let pool = pool.clone();
                            drop(proactor::spawn(async move {
                                let _ = match pool {
                                    Some(pool) => {
                                        crate::echo_connection::serve_pooled(stream, pool).await
                                    }
                                    None => crate::echo_connection::serve(stream, MAX_SIZE).await,
                                };
                                drop(ticket);
                            }));
                        }
                    }
                });
            })
            .map_err(|error| format!("cannot start the server thread: {error}"))?;
        let mut backend = String::new();
        for _ in 0..options.server_threads {
            backend = listening
                .recv()
                .map_err(|_| "the server thread died".to_string())??;
        }
        Ok((address, open, backend))
    }

    /// The end's RSS may exceed the one after warm-up by 20% or 16 MiB, whichever is larger.
    /// Not zero: the allocator keeps freed memory (glibc's per-thread arenas, fragmentation)
    /// rather than handing it back, and the first second does not touch every size class of
    /// buffer. A leak per connection or per echo, though, grows with the run: at thousands of
    /// reconnects and tens of thousands of echoes a second, even a few hundred bytes each
    /// overrun 16 MiB within a minute.
    fn rss_limit(warm: u64) -> u64 {
        warm + ((warm as f64 * RSS_MARGIN_FRACTION) as u64).max(RSS_MARGIN_BYTES)
    }

    pub fn main() -> i32 {
        let mut options = match parse() {
            Ok(options) => options,
            Err(message) => {
                eprintln!("echo-soak: {message}");
                return 2;
            }
        };
        let limit = raise_nofile();
        let (address, open, backend) = match start_server(&options) {
            Ok(server) => server,
            Err(message) => {
                eprintln!("echo-soak: {message}");
                return 2;
            }
        };
        // Let the runtimes settle (their threads, the acceptor's reserve) before the baseline.
        thread::sleep(Duration::from_millis(200));
        let base_fds = fds();
        let base_rss = rss();
        let fit = (limit.saturating_sub(base_fds as u64 + FD_RESERVE) / 2) as usize;
        if options.connections > fit {
            println!(
                "echo-soak: RLIMIT_NOFILE is {limit}: capping --connections {} to {fit} \
                 (two descriptors each, {FD_RESERVE} kept spare)",
                options.connections
            );
            options.connections = fit.max(1);
        }
        options.threads = options.threads.min(options.connections);
        println!(
            "echo-soak: server on {address} ({} runtime(s), {backend}); {} connections over \
             {} client threads for {} s, seed {}; RLIMIT_NOFILE {limit}",
            options.server_threads,
            options.connections,
            options.threads,
            options.seconds,
            options.seed
        );
        println!(
            "baseline (no client yet): rss {:.1} MiB, fds {base_fds}",
            mib(base_rss)
        );

        let stats = Arc::new(Stats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for index in 0..options.threads {
            let count = options.connections / options.threads
                + usize::from(index < options.connections % options.threads);
            let (stats, stop) = (Arc::clone(&stats), Arc::clone(&stop));
            let seed = options.seed.wrapping_add(index as u64);
            let spawned = thread::Builder::new()
                .name(format!("echo-soak-client-{index}"))
                .spawn(move || client(address, count, seed, &stop, &stats));
            match spawned {
                Ok(handle) => clients.push(handle),
                Err(error) => {
                    eprintln!("echo-soak: cannot start a client thread: {error}");
                    return 2;
                }
            }
        }

        let started = Instant::now();
        let (mut warm_rss, mut warm_fds) = (0, 0);
        let (mut peak_rss, mut peak_fds) = (base_rss, base_fds);
        let mut last_trips = 0;
        for second in 1..=options.seconds {
            let deadline = started + Duration::from_secs(second);
            thread::sleep(deadline.saturating_duration_since(Instant::now()));
            let (now_rss, now_fds) = (rss(), fds());
            if second == 1 {
                (warm_rss, warm_fds) = (now_rss, now_fds);
            }
            peak_rss = peak_rss.max(now_rss);
            peak_fds = peak_fds.max(now_fds);
            let trips = Stats::get(&stats.round_trips);
            println!(
                "{second:>4} s  rss {:>7.1} MiB  fds {now_fds:>6}  server conns {:>6}  \
                 echoes/s {:>7}  connects {:>8}",
                mib(now_rss),
                open.load(Ordering::Relaxed),
                trips - last_trips,
                Stats::get(&stats.connects),
            );
            last_trips = trips;
        }
        stop.store(true, Ordering::Relaxed);
        for handle in clients {
            let _ = handle.join();
        }
        let elapsed = started.elapsed();

        // The server sees EOF on every connection; give it a bounded time to close its side.
        let drain = Instant::now();
        while drain.elapsed() < DRAIN_WAIT
            && (open.load(Ordering::Relaxed) > 0 || fds() > base_fds + FD_MARGIN)
        {
            thread::sleep(Duration::from_millis(20));
        }
        let (end_rss, end_fds) = (rss(), fds());
        let left_open = open.load(Ordering::Relaxed);

        let get = Stats::get;
        println!();
        println!(
            "ran {:.1} s: {} round trips ({:.0}/s), {:.1} MiB echoed, {} connects, {} graceful \
             closes, {} resets, {} half-closes, {} idle picks",
            elapsed.as_secs_f64(),
            get(&stats.round_trips),
            get(&stats.round_trips) as f64 / elapsed.as_secs_f64(),
            mib(get(&stats.bytes)),
            get(&stats.connects),
            get(&stats.closes),
            get(&stats.resets),
            get(&stats.half_closes),
            get(&stats.idles),
        );
        let errors: Vec<String> = ERROR_KINDS
            .iter()
            .zip(&stats.errors)
            .filter(|(_, count)| get(count) > 0)
            .map(|(kind, count)| format!("{kind} {}", get(count)))
            .collect();
        println!(
            "client errors: {}",
            if errors.is_empty() {
                "none".to_string()
            } else {
                errors.join(", ")
            }
        );
        println!(
            "rss: baseline {:.1} MiB, after warm-up {:.1} MiB, peak {:.1} MiB, end {:.1} MiB \
             (limit {:.1} MiB)",
            mib(base_rss),
            mib(warm_rss),
            mib(peak_rss),
            mib(end_rss),
            mib(rss_limit(warm_rss))
        );
        println!(
            "fds: baseline {base_fds}, after warm-up {warm_fds}, peak {peak_fds}, end {end_fds} \
             (limit {}); server connections still open: {left_open}",
            base_fds + FD_MARGIN
        );

        let mut failures = Vec::new();
        let mismatches = get(&stats.mismatches);
        if mismatches > 0 {
            failures.push(format!("{mismatches} echo mismatch(es)"));
        }
        if end_fds > base_fds + FD_MARGIN {
            failures.push(format!(
                "{end_fds} descriptors open at the end, {base_fds} before the clients"
            ));
        }
        if end_rss > rss_limit(warm_rss) {
            failures.push(format!(
                "RSS grew from {:.1} MiB after warm-up to {:.1} MiB",
                mib(warm_rss),
                mib(end_rss)
            ));
        }
        if failures.is_empty() {
            println!("echo-soak: OK");
            0
        } else {
            println!("echo-soak: FAILED: {}", failures.join("; "));
            1
        }
    }
}

#[cfg(target_os = "linux")]
fn main() {
    std::process::exit(soak::main());
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("echo-soak runs on Linux only");
    std::process::exit(1);
}
