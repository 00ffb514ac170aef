//! A TCP echo server: one runtime per core, each with its own `SO_REUSEPORT` listener, so the
//! kernel spreads connections over the cores and nothing is shared between them. Windows
//! has no `SO_REUSEPORT`: there one runtime listens (unless `--threads` says otherwise).
//!
//! ```text
//! cargo run --release --example echo -- [--addr 127.0.0.1:7878] [--threads N] [--backend io_uring|epoll|iocp]
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use proactor::io::{AsyncWrite, BufferPool};
use proactor::net::{TcpListener, TcpStream};
use proactor::{Backend, Builder};

#[path = "common/accept.rs"]
mod accept;
#[path = "common/args.rs"]
mod args;

use accept::Acceptor;
use args::{fail, Args};

const USAGE: &str = "\
usage: echo [--addr HOST:PORT] [--threads N] [--backend io_uring|epoll|iocp]

A TCP echo server: one runtime per core, each with its own listener.

  --addr HOST:PORT   where to listen (default 127.0.0.1:7878; port 0 picks a free port)
  --threads N        how many runtimes (default: one per core the process may use;
                     one on Windows)
  --backend NAME     io_uring, epoll or iocp (default: the best this system has)
  -h, --help         print this text";

struct Options {
    address: SocketAddr,
    threads: Option<usize>,
    backend: Option<Backend>,
}

fn options() -> Options {
    let mut options = Options {
        address: SocketAddr::from(([127, 0, 0, 1], 7878)),
        threads: None,
        backend: None,
    };
    let mut args = Args::new("echo", USAGE);
    while let Some(flag) = args.next_flag() {
        match flag.as_str() {
            "--addr" => options.address = args.address(&flag),
            "--threads" => options.threads = Some(args.positive(&flag)),
            "--backend" => {
                options.backend =
                    Some(args.backend(&flag, &[Backend::IoUring, Backend::Epoll, Backend::Iocp]))
            }
            _ => args.unknown(&flag),
        }
    }
    options
}

/// Each runtime's read buffers: a connection waiting for bytes holds none (an idle one costs
/// about a kilobyte, not a buffer); one is lent when bytes arrive and goes back once they
/// are echoed. When every one is lent, reads get buffers allocated for them rather than
/// wait, so peers that hold buffers cannot stall the rest.
const BUFFER_SIZE: usize = 16 * 1024;
const BUFFERS: usize = 256;

/// How long an echo may wait for the peer to take it: one that stops reading is dropped,
/// with the buffer it held.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

async fn serve(stream: TcpStream, pool: BufferPool) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut reads = stream.pooled_reads(&pool);
    while let Some(buffer) = reads.next().await {
        // The lent buffer is written as it is, and goes back to the pool after.
        let (result, _) = (&stream).write_all(buffer?).await;
        result?;
    }
    Ok(())
}

/// Whether the OS lacks `SO_REUSEPORT`, so that one listener serves the port.
const ONE_LISTENER: bool = cfg!(windows);

/// This runtime's listener on `address`: one per runtime where the kernel spreads
/// connections over `SO_REUSEPORT` listeners, else the only one.
async fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    if ONE_LISTENER {
        TcpListener::bind(address).await
    } else {
        TcpListener::bind_reuse_port(address).await
    }
}

fn main() {
    let options = options();
    let mut builder = Builder::new().pin_to_cores(true);
    // Without SO_REUSEPORT (Windows) only one runtime can listen on the port.
    let threads = options.threads.or(ONE_LISTENER.then_some(1));
    if let Some(threads) = threads {
        builder = builder.threads(threads);
    }
    if let Some(backend) = options.backend {
        builder = builder.backend(backend);
    }
    let group = match builder.build_group() {
        Ok(group) => group,
        Err(error) => fail("echo", format_args!("cannot start the runtimes: {error}")),
    };
    // Port 0 picks a free port: bind once to learn it, then every runtime binds that one.
    let address =
        match std::net::TcpListener::bind(options.address).and_then(|probe| probe.local_addr()) {
            Ok(address) if options.address.port() == 0 => address,
            Ok(_) => options.address,
            Err(error) => fail(
                "echo",
                format_args!("cannot bind: {}: {error}", options.address),
            ),
        };
    let threads = group.len();
    let results = group.run(move |index| async move {
        let listener = match listen(address).await {
            Ok(listener) => listener,
            Err(error) => return Err(format!("cannot listen: {address}: {error}")),
        };
        let pool = match BufferPool::new(BUFFER_SIZE, BUFFERS) {
            Ok(pool) => pool.allocate_when_empty(true),
            Err(error) => return Err(format!("cannot make the read buffers: {error}")),
        };
        if index == 0 {
            let backend = proactor::current_backend_reason();
            println!("echo: listening on {address} with {threads} threads ({backend})");
        }
        // Out of descriptors, the acceptor backs off and closes the connections it cannot
        // take, rather than spinning on accept.
        let mut acceptor = Acceptor::new("echo", listener, Default::default());
        loop {
            let (stream, ticket) = acceptor.accept().await;
            let pool = pool.clone();
            drop(proactor::spawn(async move {
                let _ = serve(stream, pool).await;
                drop(ticket);
            }));
        }
        #[allow(unreachable_code)]
        Ok::<(), String>(())
    });
    for result in results {
        if let Err(message) = result {
            fail("echo", message);
        }
    }
}
