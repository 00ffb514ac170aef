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
//!
//! ```text
//! copy-bench rr [--sizes S[:S][,..]] [--conns C] [--requests R] [--rounds N] [--only P[,P..]]
//! ```
//!
//! Request/response through a proxy (`bench::rr`): C clients each send R requests and wait
//! for each answer, C backends answer them, through a proxy (this process) that runs one copy
//! per direction per connection; the table gives the proxy's CPU per request.

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

    /// The request/response workload (`copy-bench rr`): a proxy in the middle, clients and
    /// backends in one peer process. Each of `conns` clients sends a request of `request`
    /// bytes and waits for the backend's `response` bytes, `requests` times; the middle runs
    /// one copy per direction per connection. The first 8 bytes of every message carry its
    /// number, which the backend and the client check.
    pub mod rr {
        use std::io::{self, Read, Write};
        use std::net::{TcpListener, TcpStream};
        use std::time::Instant;

        use super::{median, process_cpu, sys, sys_cpus, NoSplice};

        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Proxy {
            Uring,
            UringBuffer,
            Epoll,
            EpollBuffer,
            #[cfg(feature = "peers")]
            Tokio,
        }

        impl Proxy {
            pub const ALL: &[Proxy] = &[
                Proxy::Uring,
                Proxy::UringBuffer,
                Proxy::Epoll,
                Proxy::EpollBuffer,
                #[cfg(feature = "peers")]
                Proxy::Tokio,
            ];

            pub fn name(self) -> &'static str {
                match self {
                    Proxy::Uring => "proactor-uring-copy",
                    Proxy::UringBuffer => "proactor-uring-buffer",
                    Proxy::Epoll => "proactor-epoll-copy",
                    Proxy::EpollBuffer => "proactor-epoll-buffer",
                    #[cfg(feature = "peers")]
                    Proxy::Tokio => "tokio-copy",
                }
            }

            fn parse(name: &str) -> Option<Proxy> {
                Proxy::ALL
                    .iter()
                    .copied()
                    .find(|proxy| proxy.name() == name)
            }
        }

        /// Reads exactly `buf.len()` bytes; `Ok(false)` at a clean end before the first byte.
        fn read_message(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<bool> {
            let mut filled = 0;
            while filled < buf.len() {
                match stream.read(&mut buf[filled..]) {
                    Ok(0) if filled == 0 => return Ok(false),
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(count) => filled += count,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            Ok(true)
        }

        fn check(buf: &[u8], number: u64, what: &str) -> io::Result<()> {
            let header = number.to_le_bytes();
            let n = buf.len().min(8);
            if buf[..n] != header[..n] {
                return Err(io::Error::other(format!(
                    "{what} {number} came with another number"
                )));
            }
            Ok(())
        }

        fn stamp(buf: &mut [u8], number: u64) {
            let n = buf.len().min(8);
            buf[..n].copy_from_slice(&number.to_le_bytes()[..n]);
        }

        /// `copy-bench rr-peer FRONT BACK CONNS REQUESTS REQUEST RESPONSE [CPU]`: connects
        /// `CONNS` clients to the proxy's front and as many backends to its back (the proxy
        /// pairs them in the order they connect, one front then one back), runs every client
        /// and backend on a thread of its own, and prints the requests answered.
        pub fn peer(args: &[String]) -> Result<(), String> {
            let number = |at: usize, what: &str| -> Result<usize, String> {
                args.get(at)
                    .ok_or(format!("no {what}"))?
                    .parse()
                    .map_err(|e| format!("{what}: {e}"))
            };
            let (conns, requests) = (number(3, "conns")?, number(4, "requests")?);
            let (request, response) = (number(5, "request")?, number(6, "response")?);
            if args.get(7).is_some() {
                let cpu = number(7, "CPU")?;
                sys::pin_to(cpu).map_err(|e| format!("pinning to CPU {cpu}: {e}"))?;
            }
            let mut threads = Vec::new();
            for _ in 0..conns {
                let mut front = TcpStream::connect(&args[1]).map_err(|e| format!("front: {e}"))?;
                let mut back = TcpStream::connect(&args[2]).map_err(|e| format!("back: {e}"))?;
                front.set_nodelay(true).map_err(|e| e.to_string())?;
                back.set_nodelay(true).map_err(|e| e.to_string())?;
                let builder = || std::thread::Builder::new().stack_size(64 * 1024);
                threads.push(
                    builder()
                        .spawn(move || -> io::Result<u64> {
                            let mut asked = vec![0u8; request];
                            let mut answer = vec![0u8; response];
                            for number in 0..requests as u64 {
                                stamp(&mut asked, number);
                                front.write_all(&asked)?;
                                if !read_message(&mut front, &mut answer)? {
                                    return Err(io::ErrorKind::UnexpectedEof.into());
                                }
                                check(&answer, number, "response")?;
                            }
                            Ok(requests as u64)
                        })
                        .map_err(|e| e.to_string())?,
                );
                threads.push(
                    builder()
                        .spawn(move || -> io::Result<u64> {
                            let mut asked = vec![0u8; request];
                            let mut answer = vec![0u8; response];
                            let mut number = 0;
                            while read_message(&mut back, &mut asked)? {
                                check(&asked, number, "request")?;
                                stamp(&mut answer, number);
                                back.write_all(&answer)?;
                                number += 1;
                            }
                            Ok(0)
                        })
                        .map_err(|e| e.to_string())?,
                );
            }
            let mut answered = 0;
            for thread in threads {
                answered += thread
                    .join()
                    .map_err(|_| "a peer thread panicked")?
                    .map_err(|e| format!("peer: {e}"))?;
            }
            println!("{answered}");
            Ok(())
        }

        /// The proxy: one copy per direction per connection, until every connection has
        /// ended both ways.
        #[inline(never)]
        fn run_proxy(proxy: Proxy, pairs: Vec<(TcpStream, TcpStream)>) -> io::Result<()> {
            match proxy {
                #[cfg(feature = "peers")]
                Proxy::Tokio => {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(async {
                        let mut tasks = Vec::new();
                        for (front, back) in pairs {
                            front.set_nonblocking(true)?;
                            back.set_nonblocking(true)?;
                            let front = tokio::net::TcpStream::from_std(front)?;
                            let back = tokio::net::TcpStream::from_std(back)?;
                            let (mut front_in, mut front_out) = front.into_split();
                            let (mut back_in, mut back_out) = back.into_split();
                            tasks.push(tokio::spawn(async move {
                                tokio::io::copy(&mut front_in, &mut back_out).await?;
                                tokio::io::AsyncWriteExt::shutdown(&mut back_out).await
                            }));
                            tasks.push(tokio::spawn(async move {
                                tokio::io::copy(&mut back_in, &mut front_out).await?;
                                tokio::io::AsyncWriteExt::shutdown(&mut front_out).await
                            }));
                        }
                        for task in tasks {
                            task.await.map_err(io::Error::other)??;
                        }
                        Ok(())
                    })
                }
                _ => {
                    let backend = match proxy {
                        Proxy::Uring | Proxy::UringBuffer => proactor::Backend::IoUring,
                        _ => proactor::Backend::Epoll,
                    };
                    let buffer = matches!(proxy, Proxy::UringBuffer | Proxy::EpollBuffer);
                    let runtime = proactor::Builder::new().backend(backend).build()?;
                    runtime.block_on(async {
                        use proactor::io::AsyncWrite;
                        let mut tasks = Vec::new();
                        for (front, back) in pairs {
                            let front = proactor::net::TcpStream::from_std(front)?;
                            let back = proactor::net::TcpStream::from_std(back)?;
                            let (front_in, front_out) = front.into_split();
                            let (back_in, back_out) = back.into_split();
                            for (mut from, mut to) in [(front_in, back_out), (back_in, front_out)] {
                                tasks.push(proactor::spawn(async move {
                                    if buffer {
                                        proactor::io::copy(&mut NoSplice(&mut from), &mut to)
                                            .await?;
                                    } else {
                                        proactor::io::copy(&mut from, &mut to).await?;
                                    }
                                    to.shutdown().await
                                }));
                            }
                        }
                        for task in tasks {
                            task.await
                                .map_err(|_| io::Error::other("a copy panicked"))??;
                        }
                        Ok(())
                    })
                }
            }
        }

        /// One run: (seconds, CPU seconds of this process) for `conns × requests` round trips.
        fn one_run(
            proxy: Proxy,
            size: (usize, usize),
            options: &Options,
        ) -> io::Result<(f64, f64)> {
            let front = TcpListener::bind("127.0.0.1:0")?;
            let back = TcpListener::bind("127.0.0.1:0")?;
            let mut command = std::process::Command::new(std::env::current_exe()?);
            command.arg("rr-peer").arg(front.local_addr()?.to_string());
            command.arg(back.local_addr()?.to_string());
            for value in [options.conns, options.requests, size.0, size.1] {
                command.arg(value.to_string());
            }
            if let Some(cpu) = options.peer_cpu {
                command.arg(cpu.to_string());
            }
            let peer = command.stdout(std::process::Stdio::piped()).spawn()?;
            let mut pairs = Vec::new();
            for _ in 0..options.conns {
                let (front, _) = front.accept()?;
                let (back, _) = back.accept()?;
                front.set_nodelay(true)?;
                back.set_nodelay(true)?;
                pairs.push((front, back));
            }
            let (cpu_start, start) = (process_cpu(), Instant::now());
            run_proxy(proxy, pairs)?;
            let (cpu, elapsed) = (process_cpu().saturating_sub(cpu_start), start.elapsed());
            let peer = peer.wait_with_output()?;
            let answered: usize = String::from_utf8_lossy(&peer.stdout)
                .trim()
                .parse()
                .unwrap_or(0);
            if !peer.status.success() || answered != options.conns * options.requests {
                return Err(io::Error::other(format!(
                    "{}: the peer failed ({}) or answered {answered} of {}",
                    proxy.name(),
                    peer.status,
                    options.conns * options.requests
                )));
            }
            Ok((elapsed.as_secs_f64(), cpu.as_secs_f64()))
        }

        struct Options {
            sizes: Vec<(usize, usize)>,
            conns: usize,
            requests: usize,
            rounds: usize,
            only: Vec<Proxy>,
            middle_cpu: Option<usize>,
            peer_cpu: Option<usize>,
        }

        fn size(text: &str) -> Result<usize, String> {
            let (digits, unit) = match text.strip_suffix(['k', 'K']) {
                Some(digits) => (digits, 1024),
                None => (text, 1),
            };
            digits
                .parse::<usize>()
                .map(|n| n * unit)
                .map_err(|e| format!("size {text}: {e}"))
        }

        fn options() -> Result<Options, String> {
            let cpus = sys_cpus();
            let mut options = Options {
                sizes: [64, 512, 4096, 16384, 65536].map(|n| (n, n)).to_vec(),
                conns: 100,
                requests: 100,
                rounds: 5,
                only: Proxy::ALL.to_vec(),
                middle_cpu: cpus.last().copied(),
                peer_cpu: (cpus.len() > 1).then(|| cpus[0]),
            };
            let mut args = std::env::args().skip(2);
            while let Some(arg) = args.next() {
                let mut value = || args.next().ok_or(format!("{arg} needs a value"));
                let count = |text: String| text.parse::<usize>().map_err(|e| format!("{arg}: {e}"));
                match arg.as_str() {
                    "--sizes" => {
                        options.sizes = value()?
                            .split(',')
                            .map(|pair| match pair.split_once(':') {
                                Some((request, response)) => Ok((size(request)?, size(response)?)),
                                None => size(pair).map(|n| (n, n)),
                            })
                            .collect::<Result<_, String>>()?
                    }
                    "--conns" => options.conns = count(value()?)?,
                    "--requests" => options.requests = count(value()?)?,
                    "--rounds" => options.rounds = count(value()?)?,
                    "--only" => {
                        options.only = value()?
                            .split(',')
                            .map(|name| Proxy::parse(name).ok_or(format!("no proxy {name}")))
                            .collect::<Result<_, _>>()?
                    }
                    "--middle-cpu" => options.middle_cpu = Some(count(value()?)?),
                    "--peer-cpu" => options.peer_cpu = Some(count(value()?)?),
                    "--no-pin" => {
                        options.middle_cpu = None;
                        options.peer_cpu = None;
                    }
                    _ => {
                        return Err(format!(
                            "copy-bench rr [--sizes S[:S][,..]] [--conns C] [--requests R] [--rounds N] [--only P[,P..]] [--middle-cpu C] [--peer-cpu C] [--no-pin]\n\
                             sizes take a k suffix; REQUEST:RESPONSE, or one size for both\nproxies: {}",
                            Proxy::ALL.iter().map(|proxy| proxy.name()).collect::<Vec<_>>().join(", ")
                        ))
                    }
                }
            }
            Ok(options)
        }

        pub fn main() -> Result<(), String> {
            let options = options()?;
            if let Some(cpu) = options.middle_cpu {
                sys::pin_to(cpu).map_err(|error| format!("pinning to CPU {cpu}: {error}"))?;
            }
            println!(
                "copy-bench rr: {} connections × {} requests per run, {} rounds, proxy on CPU {:?}, clients and backends on CPU {:?}; {} on {}",
                options.conns,
                options.requests,
                options.rounds,
                options.middle_cpu,
                options.peer_cpu,
                sys::kernel_release(),
                sys::cpu_model()
            );
            let requests = (options.conns * options.requests) as f64;
            // cpu[size][proxy] = CPU µs per request, one per round.
            let mut cpu = vec![vec![Vec::new(); options.only.len()]; options.sizes.len()];
            let mut rate = cpu.clone();
            // Interleaved: every round runs every size and proxy once, so drift in the
            // machine's load spreads over all of them.
            for round in 0..options.rounds {
                for (s, &size) in options.sizes.iter().enumerate() {
                    for (p, &proxy) in options.only.iter().enumerate() {
                        let (seconds, cpu_seconds) =
                            one_run(proxy, size, &options).map_err(|error| error.to_string())?;
                        eprintln!(
                            "round {round} {:>6}:{:<6} {:<22} {:>7.2} µs CPU/request {:>9.0} requests/s",
                            size.0,
                            size.1,
                            proxy.name(),
                            cpu_seconds * 1e6 / requests,
                            requests / seconds
                        );
                        cpu[s][p].push(cpu_seconds * 1e6 / requests);
                        rate[s][p].push(requests / seconds);
                    }
                }
            }
            let reference = options.only.iter().position(|&proxy| {
                #[cfg(feature = "peers")]
                let found = proxy == Proxy::Tokio;
                #[cfg(not(feature = "peers"))]
                let found = proxy == Proxy::UringBuffer;
                found
            });
            let reference_name = reference.map_or("-", |r| options.only[r].name());
            println!("| request:response | proxy | CPU µs/request (median) | min … max | × {reference_name} | requests/s (median) |");
            println!("|---|---|---:|---:|---:|---:|");
            for (s, size) in options.sizes.iter().enumerate() {
                let medians: Vec<f64> = cpu[s].iter_mut().map(|runs| median(runs)).collect();
                for (p, proxy) in options.only.iter().enumerate() {
                    let runs = &cpu[s][p];
                    let ratio = reference.map_or("-".to_string(), |r| {
                        format!("{:.2}", medians[p] / medians[r])
                    });
                    println!(
                        "| {}:{} | {} | {:.2} | {:.2} … {:.2} | {} | {:.0} |",
                        size.0,
                        size.1,
                        proxy.name(),
                        medians[p],
                        runs[0],
                        runs[runs.len() - 1],
                        ratio,
                        median(&mut rate[s][p])
                    );
                }
            }
            Ok(())
        }
    }

    pub fn main() -> Result<(), String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if matches!(args.first().map(String::as_str), Some("source" | "sink")) {
            return peer(&args);
        }
        match args.first().map(String::as_str) {
            Some("rr-peer") => return rr::peer(&args),
            Some("rr") => return rr::main(),
            _ => {}
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
