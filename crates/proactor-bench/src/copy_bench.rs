//! copy-bench: TCP → TCP over loopback through a copying middle, which is
//! `proactor::io::copy` (splicing, and through its buffer loop) on io_uring and epoll, or
//! `tokio::io::copy` on tokio's current-thread runtime (only built with the `peers` feature).
//!
//! ```text
//! copy-bench [--mib N] [--rounds R] [--only V[,V..]] [--middle-cpu C] [--peer-cpu C]
//! ```
//!
//! A source process writes N MiB into one connection; the middle (this process) copies it to a
//! second connection; a sink process reads it and checks every 4 KiB page's header (its page
//! number), so a lost, repeated or shifted byte range fails the run. The peers are processes
//! of their own (`copy-bench source ADDR BYTES [CPU]`, `copy-bench sink ADDR [CPU]`, started
//! by the middle), so the middle's CPU time is its process's, and valgrind, which holds its
//! lock across `io_uring_enter`, runs only the middle. Source and sink use `read(2)` and
//! `write(2)`, which no middle uses (they use recv/send, splice, io_uring_enter, epoll_wait),
//! so `strace -c -f` tells the middle's system calls apart. The middle runs inside
//! `run_middle`, for `callgrind --toggle-collect`. Every round runs every variant once, in
//! turn; the table gives medians over the rounds.

#[cfg(target_os = "linux")]
#[path = "echo/sys.rs"]
#[allow(dead_code)] // Shared with echo-bench, which uses the rest.
mod sys;

#[cfg(target_os = "linux")]
mod bench {
    use std::io;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    use super::sys;

    const PAGE: usize = 4096;
    const PEER_CHUNK: usize = 256 * 1024;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Variant {
        UringSplice,
        UringBuffer,
        UringPooled,
        EpollSplice,
        EpollBuffer,
        EpollPooled,
        #[cfg(feature = "peers")]
        Tokio,
    }

    impl Variant {
        pub const ALL: &[Variant] = &[
            Variant::UringSplice,
            Variant::UringBuffer,
            Variant::UringPooled,
            Variant::EpollSplice,
            Variant::EpollBuffer,
            Variant::EpollPooled,
            #[cfg(feature = "peers")]
            Variant::Tokio,
        ];

        pub fn name(self) -> &'static str {
            match self {
                Variant::UringSplice => "proactor-uring-splice",
                Variant::UringBuffer => "proactor-uring-buffer",
                Variant::UringPooled => "proactor-uring-pooled",
                Variant::EpollSplice => "proactor-epoll-splice",
                Variant::EpollBuffer => "proactor-epoll-buffer",
                Variant::EpollPooled => "proactor-epoll-pooled",
                #[cfg(feature = "peers")]
                Variant::Tokio => "tokio-copy",
            }
        }

        fn parse(name: &str) -> Option<Variant> {
            Variant::ALL
                .iter()
                .copied()
                .find(|variant| variant.name() == name)
        }
    }

    /// A reader that hides its descriptor, so `proactor::io::copy` takes its buffer loop: the
    /// same function, without the kernel path.
    struct NoSplice<R>(R);

    impl<R: proactor::io::AsyncRead> proactor::io::AsyncRead for NoSplice<R> {
        async fn read<B: proactor::IoBuf>(&mut self, buf: B) -> proactor::BufResult<usize, B> {
            self.0.read(buf).await
        }
    }

    /// One run's figures.
    struct Run {
        seconds: f64,
        /// CPU the middle's process used: io_uring's kernel workers and the runtime's pool
        /// threads count.
        cpu_seconds: f64,
    }

    fn process_cpu() -> Duration {
        cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
    }

    fn cpu_clock(clock: libc::clockid_t) -> Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec to write.
        unsafe { libc::clock_gettime(clock, &mut now) };
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    fn write_fd(fd: i32, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            // SAFETY: the pointer and length describe `bytes`.
            let count = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
            if count < 0 {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            bytes = &bytes[count as usize..];
        }
        Ok(())
    }

    /// Writes `total` bytes, each 4 KiB page starting with its page number.
    fn source(stream: TcpStream, total: usize) -> io::Result<()> {
        let mut chunk = vec![0u8; PEER_CHUNK];
        let mut sent = 0;
        while sent < total {
            let len = PEER_CHUNK.min(total - sent);
            for (index, page) in chunk[..len].chunks_mut(PAGE).enumerate() {
                let number = ((sent / PAGE) + index) as u64;
                let header = number.to_le_bytes();
                let n = page.len().min(8);
                page[..n].copy_from_slice(&header[..n]);
            }
            write_fd(stream.as_raw_fd(), &chunk[..len])?;
            sent += len;
        }
        stream.shutdown(std::net::Shutdown::Write)
    }

    /// Reads to the end, checking each page's header; the bytes read.
    fn sink(stream: TcpStream) -> io::Result<usize> {
        let mut buf = vec![0u8; PEER_CHUNK];
        let mut position = 0usize;
        loop {
            // SAFETY: the pointer and length describe `buf`.
            let count =
                unsafe { libc::read(stream.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if count < 0 {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            let count = count as usize;
            if count == 0 {
                return Ok(position);
            }
            let end = position + count;
            let mut page = position / PAGE;
            while page * PAGE < end {
                let header = (page as u64).to_le_bytes();
                for (index, &expected) in header.iter().enumerate() {
                    let at = page * PAGE + index;
                    if at >= position && at < end && buf[at - position] != expected {
                        return Err(io::Error::other(format!(
                            "byte {at} is {} where page {page}'s header has {expected}",
                            buf[at - position]
                        )));
                    }
                }
                page += 1;
            }
            position = end;
        }
    }

    /// `copy-bench source ADDR BYTES [CPU]` and `copy-bench sink ADDR [CPU]`: a peer process.
    /// The sink prints the bytes it read.
    fn peer(args: &[String]) -> Result<(), String> {
        let cpu_at = if args[0] == "source" { 3 } else { 2 };
        if let Some(cpu) = args.get(cpu_at) {
            let cpu = cpu.parse().map_err(|e| format!("CPU: {e}"))?;
            sys::pin_to(cpu).map_err(|e| format!("pinning to CPU {cpu}: {e}"))?;
        }
        let address = args.get(1).ok_or("no address")?;
        let stream = TcpStream::connect(address).map_err(|e| format!("connect {address}: {e}"))?;
        if args[0] == "source" {
            let total = args.get(2).ok_or("no byte count")?;
            let total = total.parse().map_err(|e| format!("bytes: {e}"))?;
            source(stream, total).map_err(|e| format!("source: {e}"))
        } else {
            let received = sink(stream).map_err(|e| format!("sink: {e}"))?;
            println!("{received}");
            Ok(())
        }
    }

    /// The copying middle, timed from the start of the copy to its end.
    #[inline(never)]
    fn run_middle(variant: Variant, from: TcpStream, to: TcpStream) -> io::Result<(u64, Duration)> {
        match variant {
            Variant::UringSplice
            | Variant::UringBuffer
            | Variant::UringPooled
            | Variant::EpollSplice
            | Variant::EpollBuffer
            | Variant::EpollPooled => {
                let backend = match variant {
                    Variant::UringSplice | Variant::UringBuffer | Variant::UringPooled => {
                        proactor::Backend::IoUring
                    }
                    _ => proactor::Backend::Epoll,
                };
                let runtime = proactor::Builder::new().backend(backend).build()?;
                runtime.block_on(async {
                    let mut from = proactor::net::TcpStream::from_std(from)?;
                    let mut to = proactor::net::TcpStream::from_std(to)?;
                    let start = Instant::now();
                    let copied = match variant {
                        Variant::UringSplice | Variant::EpollSplice => {
                            proactor::io::copy(&mut from, &mut to).await?
                        }
                        Variant::UringPooled | Variant::EpollPooled => {
                            copy_pooled(&from, &to).await?
                        }
                        _ => proactor::io::copy(&mut NoSplice(&mut from), &mut to).await?,
                    };
                    let elapsed = start.elapsed();
                    to.shutdown(std::net::Shutdown::Write).await?;
                    Ok((copied, elapsed))
                })
            }
            #[cfg(feature = "peers")]
            Variant::Tokio => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    from.set_nonblocking(true)?;
                    to.set_nonblocking(true)?;
                    let mut from = tokio::net::TcpStream::from_std(from)?;
                    let mut to = tokio::net::TcpStream::from_std(to)?;
                    let start = Instant::now();
                    let copied = tokio::io::copy(&mut from, &mut to).await?;
                    let elapsed = start.elapsed();
                    tokio::io::AsyncWriteExt::shutdown(&mut to).await?;
                    Ok((copied, elapsed))
                })
            }
        }
    }

    /// Copies with pooled reads: each buffer a pool lends (4 KiB; on io_uring, a multishot
    /// receive, in bundles where the kernel has them) is written on as it is.
    async fn copy_pooled(
        from: &proactor::net::TcpStream,
        to: &proactor::net::TcpStream,
    ) -> io::Result<u64> {
        use proactor::io::AsyncWrite;
        let pool = proactor::io::BufferPool::new(PAGE, 256)?;
        let mut reads = from.pooled_reads(&pool);
        let mut writer = to;
        let mut copied = 0;
        while let Some(buffer) = reads.next().await {
            let buffer = buffer?;
            copied += buffer.len() as u64;
            let (result, _) = writer.write_all(buffer).await;
            result?;
        }
        Ok(copied)
    }

    fn spawn_peer(
        role: &str,
        address: std::net::SocketAddr,
        extra: Option<usize>,
        cpu: Option<usize>,
    ) -> io::Result<std::process::Child> {
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command.arg(role).arg(address.to_string());
        if let Some(extra) = extra {
            command.arg(extra.to_string());
        }
        if let Some(cpu) = cpu {
            command.arg(cpu.to_string());
        }
        command.stdout(std::process::Stdio::piped()).spawn()
    }

    fn one_run(variant: Variant, total: usize, options: &Options) -> io::Result<Run> {
        let source_listener = TcpListener::bind("127.0.0.1:0")?;
        let sink_listener = TcpListener::bind("127.0.0.1:0")?;
        let sink = spawn_peer("sink", sink_listener.local_addr()?, None, options.peer_cpu)?;
        let (to, _) = sink_listener.accept()?;
        let source = spawn_peer(
            "source",
            source_listener.local_addr()?,
            Some(total),
            options.peer_cpu,
        )?;
        let (from, _) = source_listener.accept()?;
        let cpu_start = process_cpu();
        let (copied, elapsed) = run_middle(variant, from, to)?;
        let cpu = process_cpu().saturating_sub(cpu_start);
        let source = source.wait_with_output()?;
        let sink = sink.wait_with_output()?;
        if !source.status.success() || !sink.status.success() {
            return Err(io::Error::other(format!(
                "{}: a peer failed (source {}, sink {})",
                variant.name(),
                source.status,
                sink.status
            )));
        }
        let received: usize = String::from_utf8_lossy(&sink.stdout)
            .trim()
            .parse()
            .map_err(|_| io::Error::other("the sink printed no count"))?;
        if copied != total as u64 || received != total {
            return Err(io::Error::other(format!(
                "{}: copied {copied}, received {received} of {total}",
                variant.name()
            )));
        }
        Ok(Run {
            seconds: elapsed.as_secs_f64(),
            cpu_seconds: cpu.as_secs_f64(),
        })
    }

    struct Options {
        mib: usize,
        rounds: usize,
        only: Vec<Variant>,
        middle_cpu: Option<usize>,
        peer_cpu: Option<usize>,
    }

    fn options() -> Result<Options, String> {
        let cpus = sys_cpus();
        let mut options = Options {
            mib: 1024,
            rounds: 7,
            only: Variant::ALL.to_vec(),
            middle_cpu: cpus.last().copied(),
            peer_cpu: (cpus.len() > 1).then(|| cpus[0]),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--mib" => options.mib = value()?.parse().map_err(|e| format!("--mib: {e}"))?,
                "--rounds" => {
                    options.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?
                }
                "--only" => {
                    options.only = value()?
                        .split(',')
                        .map(|name| Variant::parse(name).ok_or(format!("no variant {name}")))
                        .collect::<Result<_, _>>()?
                }
                "--middle-cpu" => {
                    options.middle_cpu =
                        Some(value()?.parse().map_err(|e| format!("--middle-cpu: {e}"))?)
                }
                "--peer-cpu" => {
                    options.peer_cpu = Some(value()?.parse().map_err(|e| format!("--peer-cpu: {e}"))?)
                }
                "--no-pin" => {
                    options.middle_cpu = None;
                    options.peer_cpu = None;
                }
                "--help" => {
                    return Err(format!(
                        "copy-bench [--mib N] [--rounds R] [--only V[,V..]] [--middle-cpu C] [--peer-cpu C] [--no-pin]\nvariants: {}",
                        Variant::ALL.iter().map(|variant| variant.name()).collect::<Vec<_>>().join(", ")
                    ))
                }
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(options)
    }

    fn sys_cpus() -> Vec<usize> {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: the size is the set's; pid 0 is this thread.
        if unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) }
            != 0
        {
            return Vec::new();
        }
        // SAFETY: CPU_ISSET reads the set filled above.
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect()
    }

    fn median(values: &mut [f64]) -> f64 {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    pub fn main() -> Result<(), String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if matches!(args.first().map(String::as_str), Some("source" | "sink")) {
            return peer(&args);
        }
        let options = options()?;
        if let Some(cpu) = options.middle_cpu {
            sys::pin_to(cpu).map_err(|error| format!("pinning to CPU {cpu}: {error}"))?;
        }
        let total = options.mib * 1024 * 1024;
        println!(
            "copy-bench: {} MiB per run, {} rounds, middle on CPU {:?}, source and sink on CPU {:?}; {} on {}",
            options.mib,
            options.rounds,
            options.middle_cpu,
            options.peer_cpu,
            sys::kernel_release(),
            sys::cpu_model()
        );
        let mut results: Vec<Vec<Run>> = options.only.iter().map(|_| Vec::new()).collect();
        for round in 0..options.rounds {
            for (index, &variant) in options.only.iter().enumerate() {
                let run = one_run(variant, total, &options).map_err(|error| error.to_string())?;
                eprintln!(
                    "round {round} {:<22} {:>7.2} GiB/s  {:>6.1} ms CPU",
                    variant.name(),
                    options.mib as f64 / 1024.0 / run.seconds,
                    run.cpu_seconds * 1e3
                );
                results[index].push(run);
            }
        }
        let gib = options.mib as f64 / 1024.0;
        #[cfg(feature = "peers")]
        let reference = results
            .iter()
            .zip(&options.only)
            .find(|(_, &variant)| variant == Variant::Tokio)
            .map(|(runs, _)| {
                median(&mut runs.iter().map(|run| gib / run.seconds).collect::<Vec<_>>())
            });
        // Built without the peers there is no tokio run to compare with.
        #[cfg(not(feature = "peers"))]
        let reference: Option<f64> = None;
        println!(
            "| variant | GiB/s (median) | min … max | CPU ms per GiB (median) | × tokio-copy |"
        );
        println!("|---|---:|---:|---:|---:|");
        for (runs, variant) in results.iter().zip(&options.only) {
            let mut rates: Vec<f64> = runs.iter().map(|run| gib / run.seconds).collect();
            let mut cpu: Vec<f64> = runs.iter().map(|run| run.cpu_seconds * 1e3 / gib).collect();
            let rate = median(&mut rates);
            let ratio = reference.map_or("-".to_string(), |tokio| format!("{:.2}", rate / tokio));
            println!(
                "| {} | {:.2} | {:.2} … {:.2} | {:.0} | {} |",
                variant.name(),
                rate,
                rates[0],
                rates[rates.len() - 1],
                median(&mut cpu),
                ratio
            );
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn main() {
    if let Err(error) = bench::main() {
        eprintln!("{error}");
        std::process::exit(2);
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("copy-bench runs on Linux only");
}
