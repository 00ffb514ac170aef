//! idle-bench: resident memory per idle TCP connection with a pending read, proactor (io_uring
//! and epoll) against tokio. See README.md ("Memory per idle connection").
//!
//! ```text
//! idle-bench [measure] [--conns N] [--size S] [--kinds K[,K..]] [--runs R]
//! idle-bench server --kind K [--addr ADDR] [--conns N] [--size S]
//! ```
//!
//! `measure` starts each server as a child process (`idle-bench server`), samples its `VmRSS`
//! once it is up and idle, opens N connections and does one echo round trip of S bytes on each
//! (so every server task has been through a read into its whole buffer and is back at its next,
//! pending read), waits a second, samples `VmRSS` again and divides the growth by N. Separate
//! processes, so no server sees another's heap, and so the client's own sockets and buffers are
//! not counted.

#[cfg(target_os = "linux")]
mod echo_connection;

#[cfg(target_os = "linux")]
mod idle {
    use std::io::{self, BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    const USAGE: &str = "\
idle-bench: resident memory per idle TCP connection with a pending read, per server

USAGE:
    idle-bench [measure] [OPTIONS]        measure every kind (the default subcommand)
    idle-bench server --kind K [OPTIONS]  run one server in this process, on one thread

MEASURE OPTIONS:
    --conns N        connections per run (default 10000; capped to what RLIMIT_NOFILE allows)
    --size S         each connection's read buffer, bytes; also the echo size (default 4096)
    --kinds K[,K..]  the servers to measure, in this order (default: all built in)
    --runs R         runs per kind, interleaved across kinds (default 3)

SERVER OPTIONS:
    --kind K         the server
    --addr ADDR      where to listen (default 127.0.0.1:0); prints `listening on ADDR`
    --conns N        connections to expect: the descriptor limit must hold them (default 10000)
    --size S         read buffer per connection, bytes (default 4096)

    -h, --help       this text

KINDS:
    proactor-uring   proactor Runtime on io_uring
    proactor-epoll   proactor Runtime on epoll
    proactor-uring-pooled  proactor on io_uring, pooled reads (multishot receive into a
                     buffer ring of 1024 buffers of S bytes, shared by every connection)
    proactor-epoll-pooled  proactor on epoll, pooled reads (the same pool, a free list)
    tokio            tokio current_thread runtime (needs the `peers` feature)
";

    const DEFAULT_CONNS: usize = 10_000;
    /// Buffers in a pooled server's pool, shared by all its connections.
    const POOL_BUFFERS: usize = 1024;
    const DEFAULT_SIZE: usize = 4096;
    const DEFAULT_RUNS: usize = 3;
    /// Upper bounds on the options, so a typo fails here rather than as an allocation abort.
    const MAX_CONNS: usize = 1_000_000;
    const MAX_SIZE: usize = 16 << 20;
    const MAX_RUNS: usize = 101;
    /// Descriptors beyond the connections: stdio, the listener, the ring or epoll instance and
    /// its eventfd, the pipe to the child, and slack for what a runtime opens lazily.
    const FD_RESERVE: libc::rlim_t = 64;
    /// Long enough for allocator and runtime bookkeeping after the last accept or echo to
    /// finish, short enough that three kinds times three runs take well under a minute.
    const SETTLE: Duration = Duration::from_secs(1);
    const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
    const IO_TIMEOUT: Duration = Duration::from_secs(10);

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    // Without the `peers` feature every kind is proactor's.
    #[allow(clippy::enum_variant_names)]
    enum Kind {
        ProactorUring,
        ProactorEpoll,
        ProactorUringPooled,
        ProactorEpollPooled,
        #[cfg(feature = "peers")]
        Tokio,
    }

    impl Kind {
        const ALL: &'static [Kind] = &[
            Kind::ProactorUring,
            Kind::ProactorEpoll,
            Kind::ProactorUringPooled,
            Kind::ProactorEpollPooled,
            #[cfg(feature = "peers")]
            Kind::Tokio,
        ];

        fn name(self) -> &'static str {
            match self {
                Kind::ProactorUring => "proactor-uring",
                Kind::ProactorEpoll => "proactor-epoll",
                Kind::ProactorUringPooled => "proactor-uring-pooled",
                Kind::ProactorEpollPooled => "proactor-epoll-pooled",
                #[cfg(feature = "peers")]
                Kind::Tokio => "tokio",
            }
        }

        fn parse(name: &str) -> Result<Kind, String> {
            if let Some(kind) = Kind::ALL.iter().copied().find(|kind| kind.name() == name) {
                return Ok(kind);
            }
            if name == "tokio" {
                return Err("tokio is a peer: build with `--features peers`".into());
            }
            let known: Vec<&str> = Kind::ALL.iter().map(|kind| kind.name()).collect();
            Err(format!(
                "unknown kind {name:?} (known: {})",
                known.join(", ")
            ))
        }
    }

    struct ServerOptions {
        kind: Kind,
        addr: SocketAddr,
        conns: usize,
        size: usize,
    }

    struct MeasureOptions {
        conns: usize,
        size: usize,
        kinds: Vec<Kind>,
        runs: usize,
    }

    enum Mode {
        Help,
        Server(ServerOptions),
        Measure(MeasureOptions),
    }

    fn parse(args: Vec<String>) -> Result<Mode, String> {
        if args.iter().any(|arg| arg == "-h" || arg == "--help") {
            return Ok(Mode::Help);
        }
        let (subcommand, flags) = match args.first().map(String::as_str) {
            Some("server") => ("server", &args[1..]),
            Some("measure") => ("measure", &args[1..]),
            Some("help") => return Ok(Mode::Help),
            Some(other) if !other.starts_with('-') => {
                return Err(format!("unknown subcommand {other:?}"))
            }
            _ => ("measure", &args[..]),
        };

        let mut kind = None;
        let mut addr: SocketAddr = ([127, 0, 0, 1], 0).into();
        let mut conns = DEFAULT_CONNS;
        let mut size = DEFAULT_SIZE;
        let mut kinds = Kind::ALL.to_vec();
        let mut runs = DEFAULT_RUNS;
        let mut flags = flags.iter();
        while let Some(flag) = flags.next() {
            let value = flags
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?;
            let count = |max: usize| match value.parse::<usize>() {
                Ok(0) => Err(format!("{flag} must be positive")),
                Ok(n) if n > max => Err(format!("{flag} {n} is above the limit of {max}")),
                Ok(n) => Ok(n),
                Err(_) => Err(format!("{flag}: not a number: {value:?}")),
            };
            match (subcommand, flag.as_str()) {
                (_, "--conns") => conns = count(MAX_CONNS)?,
                (_, "--size") => size = count(MAX_SIZE)?,
                ("server", "--kind") => kind = Some(Kind::parse(value)?),
                ("server", "--addr") => {
                    addr = value
                        .parse()
                        .map_err(|_| format!("--addr: not an address: {value:?}"))?
                }
                ("measure", "--kinds") => {
                    kinds = value
                        .split(',')
                        .filter(|name| !name.is_empty())
                        .map(Kind::parse)
                        .collect::<Result<_, _>>()?;
                    if kinds.is_empty() {
                        return Err("--kinds names no kind".into());
                    }
                }
                ("measure", "--runs") => runs = count(MAX_RUNS)?,
                _ => return Err(format!("unknown option {flag} for {subcommand}")),
            }
        }
        Ok(match subcommand {
            "server" => Mode::Server(ServerOptions {
                kind: kind.ok_or("server needs --kind")?,
                addr,
                conns,
                size,
            }),
            _ => Mode::Measure(MeasureOptions {
                conns,
                size,
                kinds,
                runs,
            }),
        })
    }

    pub fn main() -> i32 {
        let command = match parse(std::env::args().skip(1).collect()) {
            Ok(command) => command,
            Err(message) => {
                eprintln!("idle-bench: {message} (--help for usage)");
                return 2;
            }
        };
        let result = match command {
            Mode::Help => {
                print!("{USAGE}");
                Ok(())
            }
            Mode::Server(options) => server(&options),
            Mode::Measure(options) => measure(&options),
        };
        match result {
            Ok(()) => 0,
            Err(error) => {
                eprintln!("idle-bench: {error}");
                1
            }
        }
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit; the soft limit now in force.
    fn raise_nofile() -> io::Result<libc::rlim_t> {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `limit` is a valid, writable rlimit that outlives the call.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: `raised` is a valid rlimit that outlives the call; the kernel only reads it.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
                return Err(io::Error::last_os_error());
            }
            return Ok(raised.rlim_cur);
        }
        Ok(limit.rlim_cur)
    }

    fn too_few_descriptors(limit: libc::rlim_t, conns: usize) -> io::Error {
        io::Error::other(format!(
            "RLIMIT_NOFILE is {limit}, too low for {conns} connections and {FD_RESERVE} spare \
             descriptors (raise the hard limit, e.g. `ulimit -Hn`, or pass a smaller --conns)"
        ))
    }

    // ---- the servers ----

    fn server(options: &ServerOptions) -> io::Result<()> {
        // The client side caps its count to the same limit, which this process inherits; a
        // server started by hand gets the clear error here rather than EMFILE from accept.
        let limit = raise_nofile()?;
        if (options.conns as libc::rlim_t).saturating_add(FD_RESERVE) > limit {
            return Err(too_few_descriptors(limit, options.conns));
        }
        match options.kind {
            Kind::ProactorUring => serve_proactor(options, proactor::Backend::IoUring, false),
            Kind::ProactorEpoll => serve_proactor(options, proactor::Backend::Epoll, false),
            Kind::ProactorUringPooled => serve_proactor(options, proactor::Backend::IoUring, true),
            Kind::ProactorEpollPooled => serve_proactor(options, proactor::Backend::Epoll, true),
            #[cfg(feature = "peers")]
            Kind::Tokio => serve_tokio(options),
        }
    }

    /// Tells the parent which port we got.
    fn announce(address: SocketAddr) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "listening on {address}")?;
        stdout.flush()
    }

    /// The echo server of src/echo/server.rs, without its pinning and exit counting (one
    /// thread, and the parent kills it), and with a plain `bind`.
    fn serve_proactor(
        options: &ServerOptions,
        backend: proactor::Backend,
        pooled: bool,
    ) -> io::Result<()> {
        use proactor::net::TcpListener;

        let runtime = proactor::Builder::new().backend(backend).build()?;
        let (address, size) = (options.addr, options.size);
        runtime.block_on(async move {
            let listener = TcpListener::bind(address).await?;
            // A silent fallback would put epoll's figure in the io_uring row.
            if proactor::current_backend() != backend {
                return Err(io::Error::other(format!(
                    "asked for {backend}, got {}",
                    proactor::current_backend_reason()
                )));
            }
            // The pool is part of what is measured: made before the first sample, its pages
            // count as they are touched.
            let pool = match pooled {
                true => Some(proactor::io::BufferPool::new(size, POOL_BUFFERS)?),
                false => None,
            };
            announce(listener.local_addr()?)?;
            loop {
                let (stream, _) = listener.accept().await?;
                // A task of each kind's own: one future for both would be as large as the
                // larger in every connection.
                match pool.clone() {
                    Some(pool) => drop(proactor::spawn(async move {
                        let _ = crate::echo_connection::serve_pooled(stream, pool).await;
                    })),
                    None => drop(proactor::spawn(async move {
                        let _ = crate::echo_connection::serve(stream, size).await;
                    })),
                }
            }
        })
    }

    /// The tokio echo server of src/echo/server.rs, likewise.
    #[cfg(feature = "peers")]
    fn serve_tokio(options: &ServerOptions) -> io::Result<()> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        async fn serve(mut stream: tokio::net::TcpStream, size: usize) -> io::Result<()> {
            stream.set_nodelay(true)?;
            let mut buffer = vec![0u8; size];
            loop {
                let n = stream.read(&mut buffer).await?;
                if n == 0 {
                    return Ok(());
                }
                stream.write_all(&buffer[..n]).await?;
            }
        }

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let (address, size) = (options.addr, options.size);
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(address).await?;
            announce(listener.local_addr()?)?;
            loop {
                let (stream, _) = listener.accept().await?;
                tokio::spawn(async move {
                    let _ = serve(stream, size).await;
                });
            }
        })
    }

    // ---- the measurement ----

    /// Kills the server however the run ends, so an error leaves no process behind.
    struct Child(std::process::Child);

    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    impl Child {
        fn pid(&self) -> u32 {
            self.0.id()
        }

        /// An error if the server is gone (it would otherwise show as an RSS read failure).
        fn check_alive(&mut self, kind: Kind) -> io::Result<()> {
            match self.0.try_wait()? {
                None => Ok(()),
                Some(status) => Err(io::Error::other(format!(
                    "the {} server exited ({status})",
                    kind.name()
                ))),
            }
        }
    }

    /// `VmRSS` of process `pid`, bytes.
    fn rss(pid: u32) -> io::Result<u64> {
        let path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&path)
            .map_err(|error| io::Error::new(error.kind(), format!("{path}: {error}")))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .ok_or_else(|| io::Error::other(format!("{path}: no VmRSS line in kB")))
    }

    /// `MemAvailable`, bytes, if the kernel reports it.
    fn mem_available() -> Option<u64> {
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemAvailable:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    }

    struct Sample {
        before: u64,
        after: u64,
        conns: usize,
    }

    impl Sample {
        fn per_conn(&self) -> f64 {
            (self.after as f64 - self.before as f64) / self.conns as f64
        }
    }

    fn start_server(kind: Kind, conns: usize, size: usize) -> io::Result<(Child, SocketAddr)> {
        let exe = std::env::current_exe()?;
        let child = Command::new(&exe)
            .args(["server", "--kind", kind.name(), "--addr", "127.0.0.1:0"])
            .args(["--conns", &conns.to_string(), "--size", &size.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| {
                io::Error::new(error.kind(), format!("starting {}: {error}", exe.display()))
            })?;
        let mut child = Child(child);
        let stdout = child
            .0
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no pipe from the server's stdout"))?;
        // On a thread, so a server that never announces costs a timeout, not a hang.
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let result = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = sender.send(result);
        });
        let line = match receiver.recv_timeout(STARTUP_TIMEOUT) {
            Ok(line) => line?,
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the {} server did not say where it listens within {} s",
                        kind.name(),
                        STARTUP_TIMEOUT.as_secs()
                    ),
                ))
            }
        };
        let parsed = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|address| address.parse::<SocketAddr>().ok());
        match parsed {
            Some(address) => Ok((child, address)),
            None => {
                child.check_alive(kind)?;
                Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the {} server printed {:?}, not `listening on ADDR`",
                        kind.name(),
                        line.trim()
                    ),
                ))
            }
        }
    }

    /// One connection, through one echo of `message`: by its end the server's task has read
    /// into its buffer and gone back to wait in its next read.
    fn connect_and_echo(address: SocketAddr, message: &[u8]) -> io::Result<TcpStream> {
        let mut stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.write_all(message)?;
        let mut reply = vec![0u8; message.len()];
        stream.read_exact(&mut reply)?;
        if reply != message {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the echo came back different",
            ));
        }
        Ok(stream)
    }

    fn run_once(kind: Kind, conns: usize, size: usize) -> io::Result<Sample> {
        let (mut child, address) = start_server(kind, conns, size)?;
        thread::sleep(SETTLE);
        child.check_alive(kind)?;
        let before = rss(child.pid())?;

        // The whole buffer, so every page of it is written on every server: tokio's is zeroed
        // by calloc, proactor's is uninitialised, and either would be only partly resident
        // after a smaller echo.
        let message: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut streams = Vec::with_capacity(conns);
        // One at a time: the server accepts each before the next connects, so the listen
        // backlog (somaxconn) never overflows into SYN retransmits.
        for i in 0..conns {
            let stream = connect_and_echo(address, &message).map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!("{}: connection {} of {conns}: {error}", kind.name(), i + 1),
                )
            })?;
            streams.push(stream);
        }
        thread::sleep(SETTLE);
        child.check_alive(kind)?;
        let after = rss(child.pid())?;
        // The server goes first: closing the clients first would wake every one of its tasks
        // to read EOF, work for nothing on a busy machine.
        drop(child);
        drop(streams);
        Ok(Sample {
            before,
            after,
            conns,
        })
    }

    fn median(values: &[f64]) -> f64 {
        let mut values = values.to_vec();
        values.sort_by(f64::total_cmp);
        let middle = values.len() / 2;
        if values.len() % 2 == 1 {
            values[middle]
        } else {
            (values[middle - 1] + values[middle]) / 2.0
        }
    }

    /// `1234567` as `1,234,567`.
    fn grouped(value: f64) -> String {
        let rounded = value.round();
        let digits = format!("{}", rounded.abs() as u64);
        let mut out = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(digit);
        }
        if rounded < 0.0 {
            out.insert(0, '-');
        }
        out
    }

    fn mib(bytes: u64) -> f64 {
        bytes as f64 / (1024.0 * 1024.0)
    }

    fn measure(options: &MeasureOptions) -> io::Result<()> {
        let limit = raise_nofile()?;
        let fit = limit.saturating_sub(FD_RESERVE);
        if fit == 0 {
            return Err(too_few_descriptors(limit, options.conns));
        }
        let conns = if options.conns as libc::rlim_t > fit {
            eprintln!(
                "idle-bench: RLIMIT_NOFILE is {limit}: capping --conns {} to {fit}",
                options.conns
            );
            fit as usize
        } else {
            options.conns
        };
        let size = options.size;
        if let Some(available) = mem_available() {
            let buffers = (conns as u64).saturating_mul(size as u64);
            if buffers > available / 2 {
                return Err(io::Error::other(format!(
                    "{conns} buffers of {size} B ({:.0} MiB) would take over half of the \
                     {:.0} MiB available; pass a smaller --conns or --size",
                    mib(buffers),
                    mib(available)
                )));
            }
        }

        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); options.kinds.len()];
        // Interleaved, so a drift in the machine's state spreads over every kind alike.
        for run in 1..=options.runs {
            for (index, &kind) in options.kinds.iter().enumerate() {
                let sample = run_once(kind, conns, size)?;
                eprintln!(
                    "{:<15} run {run}/{}: VmRSS {:.1} MiB idle, {:.1} MiB with {conns} \
                     connections: {} B per connection",
                    kind.name(),
                    options.runs,
                    mib(sample.before),
                    mib(sample.after),
                    grouped(sample.per_conn()),
                );
                samples[index].push(sample.per_conn());
            }
        }

        let medians: Vec<f64> = samples.iter().map(|runs| median(runs)).collect();
        let tokio = options
            .kinds
            .iter()
            .position(|kind| kind.name() == "tokio")
            .map(|index| medians[index]);
        let runs = match options.runs {
            1 => "one run".to_string(),
            n => format!("median of {n} runs (interleaved)"),
        };
        println!(
            "{conns} idle connections with a pending read of {size} B, VmRSS growth per \
             connection, {runs}"
        );
        println!();
        print!(
            "| server | bytes per connection | beyond the {} B buffer | runs |",
            grouped(size as f64)
        );
        println!("{}", if tokio.is_some() { " ÷ tokio |" } else { "" });
        print!("|---|---:|---:|---|");
        println!("{}", if tokio.is_some() { "---:|" } else { "" });
        for ((kind, median), runs) in options.kinds.iter().zip(&medians).zip(&samples) {
            let runs: Vec<String> = runs.iter().map(|&value| grouped(value)).collect();
            print!(
                "| {} | {} | {} | {} |",
                kind.name(),
                grouped(*median),
                grouped(median - size as f64),
                runs.join(", ")
            );
            match tokio {
                Some(tokio) if tokio > 0.0 => println!(" {:.2}× |", median / tokio),
                Some(_) => println!(" – |"),
                None => println!(),
            }
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn main() {
    std::process::exit(idle::main());
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("idle-bench measures io_uring and epoll servers and runs on Linux only");
    std::process::exit(1);
}
