//! accept-bench: an accept storm. Clients connect and close as fast as they can; the server
//! accepts each connection and closes it, and exits after the N-th. Compares proactor's
//! `accept()` loop (one operation per connection) with its multishot `incoming()` (one
//! submission for all), on io_uring and epoll, and tokio's accept loop. See README.md
//! ("Accept storm").
//!
//! ```text
//! accept-bench [measure] [--conns N] [--runs R] [--kinds K[,K..]]
//! accept-bench server --kind K [--addr ADDR] [--conns N] [--cpu C]
//! accept-bench client --addr ADDR [--conns N] [--threads T] [--cpu C]
//! ```
//!
//! `measure` runs each server as a child (pinned to CPU 0) against the client (its threads
//! pinned to CPU 1), interleaving kinds, and reports accepted connections per second (from
//! the client's first connect to the server's exit), median of R runs. `accept-costs.sh`
//! runs the server under callgrind and strace for the instructions and syscalls per accept.

#[cfg(target_os = "linux")]
#[path = "echo/sys.rs"]
#[allow(dead_code)] // The scheduler accounting is echo-bench's.
mod sys;

#[cfg(target_os = "linux")]
mod accept {
    use std::io::{self, BufRead, BufReader, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::sys;

    const USAGE: &str = "\
accept-bench: accepted connections per second, per server, under a storm of connects

USAGE:
    accept-bench [measure] [--conns N] [--runs R] [--kinds K[,K..]]
    accept-bench server --kind K [--addr ADDR] [--conns N] [--cpu C]
    accept-bench client --addr ADDR [--conns N] [--threads T] [--cpu C]

    --conns N    connections per run (default 20000)
    --runs R     runs per kind, interleaved (default 5)
    --threads T  client threads connecting at once (default 4)

KINDS:
    proactor-uring            accept() loop on io_uring (an operation per connection)
    proactor-uring-incoming   incoming() on io_uring (one multishot accept)
    proactor-epoll            accept() loop on epoll
    proactor-epoll-incoming   incoming() on epoll
    tokio                     tokio current_thread accept loop (needs the `peers` feature)
";

    const KINDS: &[&str] = &[
        "proactor-uring",
        "proactor-uring-incoming",
        "proactor-epoll",
        "proactor-epoll-incoming",
        #[cfg(feature = "peers")]
        "tokio",
    ];

    struct Options {
        subcommand: String,
        kind: Option<String>,
        kinds: Vec<String>,
        addr: String,
        conns: usize,
        runs: usize,
        threads: usize,
        cpu: Option<usize>,
    }

    fn parse() -> Result<Options, String> {
        let mut args: Vec<String> = std::env::args().skip(1).collect();
        if args.iter().any(|arg| arg == "-h" || arg == "--help") {
            print!("{USAGE}");
            std::process::exit(0);
        }
        let subcommand = match args.first().map(String::as_str) {
            Some(name @ ("server" | "client" | "measure")) => {
                let name = name.to_string();
                args.remove(0);
                name
            }
            _ => "measure".to_string(),
        };
        let mut options = Options {
            subcommand,
            kind: None,
            kinds: KINDS.iter().map(|kind| kind.to_string()).collect(),
            addr: "127.0.0.1:0".into(),
            conns: 20_000,
            runs: 5,
            threads: 4,
            cpu: None,
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || match value.parse::<usize>() {
                Ok(0) | Err(_) => Err(format!("{flag}: not a positive number: {value:?}")),
                Ok(n) => Ok(n),
            };
            match flag.as_str() {
                "--kind" => options.kind = Some(value.clone()),
                "--kinds" => options.kinds = value.split(',').map(str::to_string).collect(),
                "--addr" => options.addr = value.clone(),
                "--conns" => options.conns = number()?,
                "--runs" => options.runs = number()?,
                "--threads" => options.threads = number()?,
                "--cpu" => options.cpu = Some(value.parse().map_err(|_| "--cpu: a number")?),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        for kind in options.kinds.iter().chain(options.kind.iter()) {
            if !KINDS.contains(&kind.as_str()) {
                return Err(format!(
                    "unknown kind {kind:?} (known: {})",
                    KINDS.join(", ")
                ));
            }
        }
        Ok(options)
    }

    pub fn main() -> i32 {
        let options = match parse() {
            Ok(options) => options,
            Err(message) => {
                eprintln!("accept-bench: {message} (--help for usage)");
                return 2;
            }
        };
        let result = match options.subcommand.as_str() {
            "server" => server(&options),
            "client" => client(&options).map(|_| ()),
            _ => measure(&options),
        };
        match result {
            Ok(()) => 0,
            Err(error) => {
                eprintln!("accept-bench: {error}");
                1
            }
        }
    }

    fn announce(address: SocketAddr) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "listening on {address}")?;
        stdout.flush()
    }

    fn server(options: &Options) -> io::Result<()> {
        sys::raise_nofile();
        if let Some(cpu) = options.cpu {
            sys::pin_to(cpu)?;
        }
        let address: SocketAddr = options
            .addr
            .parse()
            .map_err(|_| io::Error::other(format!("--addr: not an address: {}", options.addr)))?;
        let kind = options.kind.as_deref().unwrap_or("proactor-uring");
        let backend = match kind {
            "proactor-uring" | "proactor-uring-incoming" => proactor::Backend::IoUring,
            "proactor-epoll" | "proactor-epoll-incoming" => proactor::Backend::Epoll,
            #[cfg(feature = "peers")]
            "tokio" => return serve_tokio(address, options.conns),
            other => return Err(io::Error::other(format!("unknown kind {other}"))),
        };
        let incoming = kind.ends_with("-incoming");
        let conns = options.conns;
        let runtime = proactor::Builder::new().backend(backend).build()?;
        runtime.block_on(async move {
            let listener = proactor::net::TcpListener::bind(address).await?;
            if proactor::current_backend() != backend {
                return Err(io::Error::other(format!(
                    "asked for {backend}, got {}",
                    proactor::current_backend_reason()
                )));
            }
            announce(listener.local_addr()?)?;
            if incoming {
                let mut incoming = listener.incoming();
                for _ in 0..conns {
                    drop(incoming.next().await?);
                }
            } else {
                for _ in 0..conns {
                    drop(listener.accept().await?);
                }
            }
            Ok(())
        })
    }

    #[cfg(feature = "peers")]
    fn serve_tokio(address: SocketAddr, conns: usize) -> io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(address).await?;
            announce(listener.local_addr()?)?;
            for _ in 0..conns {
                drop(listener.accept().await?);
            }
            Ok(())
        })
    }

    /// Connects and closes `--conns` times over `--threads` threads; returns when all are done.
    fn client(options: &Options) -> io::Result<Duration> {
        let address: SocketAddr = options
            .addr
            .parse()
            .map_err(|_| io::Error::other(format!("--addr: not an address: {}", options.addr)))?;
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let threads: Vec<_> = (0..options.threads)
            .map(|_| {
                let next = Arc::clone(&next);
                let (conns, cpu) = (options.conns, options.cpu);
                std::thread::spawn(move || -> io::Result<()> {
                    if let Some(cpu) = cpu {
                        sys::pin_to(cpu)?;
                    }
                    while next.fetch_add(1, Ordering::Relaxed) < conns {
                        let stream = TcpStream::connect(address)?;
                        reset_on_close(&stream)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for thread in threads {
            thread
                .join()
                .map_err(|_| io::Error::other("a client thread panicked"))??;
        }
        Ok(start.elapsed())
    }

    /// Makes closing `stream` a reset: no TIME_WAIT left behind to run the ports out.
    fn reset_on_close(stream: &TcpStream) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket and a `linger` that outlives the call; the kernel only reads it.
        let result = unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn run_once(kind: &str, conns: usize) -> io::Result<f64> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(&exe)
            .args([
                "server",
                "--kind",
                kind,
                "--conns",
                &conns.to_string(),
                "--cpu",
                "0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
        let Some(address) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(format!("{kind} did not start")));
        };
        let start = Instant::now();
        let options = Options {
            subcommand: "client".into(),
            kind: None,
            kinds: Vec::new(),
            addr: address.to_string(),
            conns,
            runs: 1,
            threads: 4,
            cpu: Some(1),
        };
        let outcome = client(&options);
        let status = child.wait()?;
        let elapsed = start.elapsed();
        outcome?;
        if !status.success() {
            return Err(io::Error::other(format!("{kind} exited with {status}")));
        }
        Ok(conns as f64 / elapsed.as_secs_f64())
    }

    fn measure(options: &Options) -> io::Result<()> {
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); options.kinds.len()];
        for run in 0..options.runs {
            for (index, kind) in options.kinds.iter().enumerate() {
                let rate = run_once(kind, options.conns)?;
                eprintln!(
                    "{kind:<24} run {}/{}: {rate:.0} accepts/s",
                    run + 1,
                    options.runs
                );
                rates[index].push(rate);
            }
        }
        let median = |values: &[f64]| {
            let mut sorted = values.to_vec();
            sorted.sort_by(|a, b| a.total_cmp(b));
            sorted[sorted.len() / 2]
        };
        let base = median(rates.last().expect("a kind"));
        println!(
            "{} connections per run, accepted/s (median of {} interleaved runs)\n",
            options.conns, options.runs
        );
        println!(
            "| server | accepted/s | ÷ {} |",
            options.kinds.last().expect("a kind")
        );
        println!("|---|---:|---:|");
        for (kind, values) in options.kinds.iter().zip(&rates) {
            let rate = median(values);
            println!("| {kind} | {rate:.0} | {:.2}× |", rate / base);
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn main() {
    std::process::exit(accept::main());
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("accept-bench runs on Linux only");
    std::process::exit(1);
}
