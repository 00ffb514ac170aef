//! The echo servers: read up to `size` bytes, write them back, per connection, on one thread
//! pinned to one core. Each runs in its own process (`echo-bench server --kind K`), prints
//! `listening on ADDR` on stdout once it accepts, and with `--exit-after-conns K` exits after
//! its K-th connection has closed (so callgrind and strace see a whole run end by itself).

use std::io;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::echo::raw;
use crate::echo::sys;

/// A server implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ProactorUring,
    ProactorEpoll,
    ProactorUringPooled,
    ProactorEpollPooled,
    ProactorUringRegistered,
    Tokio,
    Compio,
    Monoio,
    RawUring,
    RawUringDefer,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::ProactorUring,
        Kind::ProactorEpoll,
        Kind::ProactorUringPooled,
        Kind::ProactorEpollPooled,
        Kind::ProactorUringRegistered,
        Kind::Tokio,
        Kind::Compio,
        Kind::Monoio,
        Kind::RawUring,
        Kind::RawUringDefer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::ProactorUring => "proactor-uring",
            Kind::ProactorEpoll => "proactor-epoll",
            Kind::ProactorUringPooled => "proactor-uring-pooled",
            Kind::ProactorEpollPooled => "proactor-epoll-pooled",
            Kind::ProactorUringRegistered => "proactor-uring-registered",
            Kind::Tokio => "tokio",
            Kind::Compio => "compio",
            Kind::Monoio => "monoio",
            Kind::RawUring => "raw-uring",
            Kind::RawUringDefer => "raw-uring-defer",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|kind| kind.name() == name)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::ProactorUring => "proactor, io_uring (a Runtime on the main thread)",
            Kind::ProactorEpoll => "proactor, epoll (a Runtime on the main thread)",
            Kind::ProactorUringPooled => {
                "proactor, io_uring, pooled reads (multishot receive, buffer ring)"
            }
            Kind::ProactorEpollPooled => "proactor, epoll, pooled reads",
            Kind::ProactorUringRegistered => {
                "proactor, io_uring, sockets registered (Builder::register_sockets)"
            }
            Kind::Tokio => "tokio 1.x current_thread",
            Kind::Compio => "compio 0.19 (io_uring)",
            Kind::Monoio => "monoio 0.2 (IoUringDriver)",
            Kind::RawUring => "raw io-uring loop, plain ring",
            Kind::RawUringDefer => "raw io-uring loop, SINGLE_ISSUER|DEFER_TASKRUN",
        }
    }
}

/// What the server command line sets.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub kind: Kind,
    pub addr: SocketAddr,
    /// Read buffer size: each read asks for up to this many bytes.
    pub size: usize,
    pub cpu: usize,
    /// Exit (status 0) once this many connections have closed; 0 = never.
    pub exit_after_conns: usize,
}

static CLOSED: AtomicUsize = AtomicUsize::new(0);

/// Called by every server when a connection ends (EOF or error).
pub fn connection_closed(exit_after: usize) {
    let closed = CLOSED.fetch_add(1, Ordering::Relaxed) + 1;
    if exit_after != 0 && closed >= exit_after {
        std::process::exit(0);
    }
}

/// Tells the parent (or a script) which port we got.
pub fn announce(address: SocketAddr) {
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "listening on {address}");
    let _ = stdout.flush();
}

pub fn run(options: &ServerOptions) -> io::Result<()> {
    sys::raise_nofile();
    // Every thread the server starts inherits this (proactor's group pins its thread within
    // this thread's mask: to the same core).
    sys::pin_to(options.cpu)?;
    match options.kind {
        Kind::ProactorUring => run_proactor(options, proactor::Backend::IoUring, false, false),
        Kind::ProactorEpoll => run_proactor(options, proactor::Backend::Epoll, false, false),
        Kind::ProactorUringPooled => run_proactor(options, proactor::Backend::IoUring, true, false),
        Kind::ProactorEpollPooled => run_proactor(options, proactor::Backend::Epoll, true, false),
        Kind::ProactorUringRegistered => {
            run_proactor(options, proactor::Backend::IoUring, false, true)
        }
        Kind::Tokio => run_tokio(options),
        Kind::Compio => run_compio(options),
        Kind::Monoio => run_monoio(options),
        Kind::RawUring => raw::run(options, false),
        Kind::RawUringDefer => raw::run(options, true),
    }
}

/// Buffers in a pooled server's pool: more than the connections a run has reads in flight
/// for at once (each holds one only from its receive until its write went).
pub const POOL_BUFFERS: usize = 1024;

/// As crates/proactor/examples/echo.rs, with one runtime (on the core `--cpu` gave); `pooled`:
/// reads into buffers of one pool (see `echo_connection::serve_pooled`).
fn run_proactor(
    options: &ServerOptions,
    backend: proactor::Backend,
    pooled: bool,
    register_sockets: bool,
) -> io::Result<()> {
    use proactor::net::TcpListener;

    // One runtime on this thread, as the tokio server runs: a group's thread would wait in
    // `io_uring_enter` while this one hands it the work, which valgrind (3.19, which holds its
    // lock through that call) turns into a deadlock.
    let runtime = proactor::Builder::new()
        .backend(backend)
        .register_sockets(register_sockets)
        .build()?;
    let (address, size, exit_after) = (options.addr, options.size, options.exit_after_conns);
    runtime.block_on(async move {
        let listener = TcpListener::bind_reuse_port(address).await?;
        if proactor::current_backend() != backend {
            return Err(io::Error::other(format!(
                "asked for {backend}, got {}",
                proactor::current_backend_reason()
            )));
        }
        // A pool's buffers are sized for the traffic, not for one message: at least 4 KiB,
        // so a receive that leaves the socket empty is seen to (it takes less than its room).
        let pool = match pooled {
            true => Some(proactor::io::BufferPool::new(size.max(4096), POOL_BUFFERS)?),
            false => None,
        };
        announce(listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let pool = pool.clone();
            drop(proactor::spawn(async move {
                let _ = match pool {
                    Some(pool) => crate::echo_connection::serve_pooled(stream, pool).await,
                    None => crate::echo_connection::serve(stream, size).await,
                };
                connection_closed(exit_after);
            }));
        }
    })
}

fn run_tokio(options: &ServerOptions) -> io::Result<()> {
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
    let (size, exit_after) = (options.size, options.exit_after_conns);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.addr).await?;
        announce(listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                let _ = serve(stream, size).await;
                connection_closed(exit_after);
            });
        }
    })
}

fn run_compio(options: &ServerOptions) -> io::Result<()> {
    use compio::io::{AsyncRead, AsyncWriteExt};
    use compio::BufResult;

    async fn serve(mut stream: compio::net::TcpStream, size: usize) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut buffer = Vec::with_capacity(size);
        loop {
            let BufResult(result, back) = stream.read(buffer).await;
            if result? == 0 {
                return Ok(());
            }
            let BufResult(result, back) = stream.write_all(back).await;
            result?;
            buffer = back;
            buffer.clear();
        }
    }

    let runtime = compio::runtime::Runtime::new()?;
    let (size, exit_after) = (options.size, options.exit_after_conns);
    runtime.block_on(async move {
        let listener = compio::net::TcpListener::bind(options.addr).await?;
        announce(listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            compio::runtime::spawn(async move {
                let _ = serve(stream, size).await;
                connection_closed(exit_after);
            })
            .detach();
        }
    })
}

fn run_monoio(options: &ServerOptions) -> io::Result<()> {
    use monoio::io::{AsyncReadRent, AsyncWriteRentExt};

    async fn serve(mut stream: monoio::net::TcpStream, size: usize) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut buffer = Vec::with_capacity(size);
        loop {
            let (result, back) = stream.read(buffer).await;
            if result? == 0 {
                return Ok(());
            }
            let (result, back) = stream.write_all(back).await;
            result?;
            buffer = back;
            buffer.clear();
        }
    }

    let mut runtime = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new().build()?;
    let (size, exit_after) = (options.size, options.exit_after_conns);
    let address = options.addr;
    runtime.block_on(async move {
        let listener = monoio::net::TcpListener::bind(address)?;
        announce(listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            drop(monoio::spawn(async move {
                let _ = serve(stream, size).await;
                connection_closed(exit_after);
            }));
        }
    })
}
