//! A TCP echo server: one runtime per core, each with its own `SO_REUSEPORT` listener, so the
//! kernel spreads connections over the cores and nothing is shared between them. Windows
//! has no `SO_REUSEPORT`: there one runtime listens (unless `--threads` says otherwise).
//!
//! ```text
//! cargo run --release --example echo -- [--addr 127.0.0.1:7878] [--threads N] [--backend io_uring|epoll|iocp]
//! ```

use std::net::SocketAddr;

use proactor::io::{AsyncRead, AsyncWrite};
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

async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(16 * 1024);
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
        if index == 0 {
            let backend = proactor::current_backend_reason();
            println!("echo: listening on {address} with {threads} threads ({backend})");
        }
        // Out of descriptors, the acceptor backs off and closes the connections it cannot
        // take, rather than spinning on accept.
        let mut acceptor = Acceptor::new("echo", listener, Default::default());
        loop {
            let (stream, ticket) = acceptor.accept().await;
            drop(proactor::spawn(async move {
                let _ = serve(stream).await;
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
