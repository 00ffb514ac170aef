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

struct Options {
    address: SocketAddr,
    threads: Option<usize>,
    backend: Option<Backend>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        address: "127.0.0.1:7878".parse().map_err(|_| "default address")?,
        threads: None,
        backend: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => {
                options.address = value
                    .parse()
                    .map_err(|error| format!("--addr {value}: {error}"))?
            }
            "--threads" => {
                options.threads = Some(
                    value
                        .parse()
                        .map_err(|error| format!("--threads {value}: {error}"))?,
                )
            }
            "--backend" => {
                options.backend = Some(match value.as_str() {
                    "io_uring" => Backend::IoUring,
                    "epoll" => Backend::Epoll,
                    "iocp" => Backend::Iocp,
                    other => {
                        return Err(format!(
                            "--backend {other}: expected io_uring, epoll or iocp"
                        ))
                    }
                })
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(options)
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
    let options = match options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("echo: {error}\nusage: echo [--addr HOST:PORT] [--threads N] [--backend io_uring|epoll|iocp]");
            std::process::exit(2);
        }
    };
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
        Err(error) => {
            eprintln!("echo: cannot start the runtimes: {error}");
            std::process::exit(1);
        }
    };
    // Port 0 picks a free port: bind once to learn it, then every runtime binds that one.
    let address =
        match std::net::TcpListener::bind(options.address).and_then(|probe| probe.local_addr()) {
            Ok(address) if options.address.port() == 0 => address,
            Ok(_) => options.address,
            Err(error) => {
                eprintln!("echo: cannot bind {}: {error}", options.address);
                std::process::exit(1);
            }
        };
    let threads = group.len();
    let results = group.run(move |index| async move {
        let listener = listen(address).await?;
        if index == 0 {
            let backend = proactor::current_backend_reason();
            println!(
                "echo: listening on {} with {threads} threads ({backend})",
                listener.local_addr()?
            );
        }
        loop {
            match listener.accept().await {
                Ok((stream, _)) => drop(proactor::spawn(serve(stream))),
                // Out of descriptors, say: the listener stays usable; try again shortly.
                Err(error) => {
                    eprintln!("echo: accept: {error}");
                    proactor::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    });
    for result in results {
        if let Err(error) = result {
            eprintln!("echo: {error}");
            std::process::exit(1);
        }
    }
}
