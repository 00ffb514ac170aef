//! An HTTP server on hyper 1.x and proactor: HTTP/1.1, and HTTP/2 for clients that speak it
//! from the first byte (`curl --http2-prior-knowledge`, h2c). One runtime per core, each with
//! its own `SO_REUSEPORT` listener; connections go through `compat::Compat`.
//!
//! ```text
//! cargo run --release --example hyper_server -- [--addr 127.0.0.1:3000] [--threads N] [--backend io_uring|epoll]
//! curl http://127.0.0.1:3000/
//! curl --http2-prior-knowledge http://127.0.0.1:3000/
//! curl --data 'echo me' http://127.0.0.1:3000/echo
//! ```
//!
//! `GET /` answers "Hello, world!", `POST /echo` sends the request body back, anything else
//! is a 404.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use proactor::compat::{Compat, HyperExecutor, HyperTimer};
use proactor::net::{TcpListener, TcpStream};
use proactor::{Backend, Builder};
use tokio::io::AsyncBufReadExt;

#[path = "common/args.rs"]
mod args;

use args::{fail, Args};

/// What an HTTP/2 client sends first (RFC 9113 §3.4); no HTTP/1 request starts like it.
const PREFACE: &[u8] = b"PRI * HTTP/2.0";

const USAGE: &str = "\
usage: hyper_server [--addr HOST:PORT] [--threads N] [--backend io_uring|epoll]

An HTTP/1.1 and HTTP/2 (prior knowledge) server on hyper: GET / says hello, POST /echo
sends the body back. One runtime per core, each with its own listener.

  --addr HOST:PORT   where to listen (default 127.0.0.1:3000; port 0 picks a free port)
  --threads N        how many runtimes (default: one per core the process may use)
  --backend NAME     io_uring or epoll (default: the best this system has)
  -h, --help         print this text";

struct Options {
    address: SocketAddr,
    threads: Option<usize>,
    backend: Option<Backend>,
}

fn options() -> Options {
    let mut options = Options {
        address: SocketAddr::from(([127, 0, 0, 1], 3000)),
        threads: None,
        backend: None,
    };
    let mut args = Args::new("hyper_server", USAGE);
    while let Some(flag) = args.next_flag() {
        match flag.as_str() {
            "--addr" => options.address = args.address(&flag),
            "--threads" => options.threads = Some(args.positive(&flag)),
            "--backend" => {
                options.backend = Some(args.backend(&flag, &[Backend::IoUring, Backend::Epoll]))
            }
            _ => args.unknown(&flag),
        }
    }
    options
}

async fn respond(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => Response::new(Full::new(Bytes::from_static(b"Hello, world!\n"))),
        (&Method::POST, "/echo") => match request.into_body().collect().await {
            Ok(body) => Response::new(Full::new(body.to_bytes())),
            Err(error) => {
                let mut response = Response::new(Full::new(Bytes::from(error.to_string())));
                *response.status_mut() = StatusCode::BAD_REQUEST;
                response
            }
        },
        _ => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"not found\n")));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    };
    Ok(response)
}

/// Serves one connection, choosing the protocol from its first bytes.
async fn serve(stream: TcpStream) -> Result<(), Box<dyn std::error::Error>> {
    stream.set_nodelay(true)?;
    let mut io = Compat::new(stream);
    // Look at the first bytes without consuming them: hyper reads them again.
    let first = io.fill_buf().await?;
    let http2 = !first.is_empty() && PREFACE.starts_with(&first[..first.len().min(PREFACE.len())]);
    let service = hyper::service::service_fn(respond);
    if http2 {
        hyper::server::conn::http2::Builder::new(HyperExecutor)
            .timer(HyperTimer)
            .serve_connection(io, service)
            .await?;
    } else {
        hyper::server::conn::http1::Builder::new()
            .timer(HyperTimer)
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(io, service)
            .await?;
    }
    Ok(())
}

fn main() {
    let options = options();
    let mut builder = Builder::new().pin_to_cores(true);
    if let Some(threads) = options.threads {
        builder = builder.threads(threads);
    }
    if let Some(backend) = options.backend {
        builder = builder.backend(backend);
    }
    let group = match builder.build_group() {
        Ok(group) => group,
        Err(error) => fail(
            "hyper_server",
            format_args!("cannot start the runtimes: {error}"),
        ),
    };
    // Port 0 picks a free port: bind once to learn it, then every runtime binds that one.
    let address =
        match std::net::TcpListener::bind(options.address).and_then(|probe| probe.local_addr()) {
            Ok(address) if options.address.port() == 0 => address,
            Ok(_) => options.address,
            Err(error) => fail(
                "hyper_server",
                format_args!("cannot bind: {}: {error}", options.address),
            ),
        };
    let threads = group.len();
    let results = group.run(move |index| async move {
        let listener = match TcpListener::bind_reuse_port(address).await {
            Ok(listener) => listener,
            Err(error) => return Err(format!("cannot listen: {address}: {error}")),
        };
        if index == 0 {
            let backend = proactor::current_backend_reason();
            println!(
                "hyper_server: listening on http://{address} with {threads} threads ({backend})"
            );
        }
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => drop(proactor::spawn(async move {
                    // A peer that resets or sends garbage ends its connection with an error
                    // in hyper's result; the server goes on.
                    if let Err(error) = serve(stream).await {
                        eprintln!("hyper_server: {peer}: {error}");
                    }
                })),
                // Out of descriptors, say: the listener stays usable; try again shortly.
                Err(error) => {
                    eprintln!("hyper_server: accept: {address}: {error}");
                    proactor::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        #[allow(unreachable_code)]
        Ok::<(), String>(())
    });
    for result in results {
        if let Err(message) = result {
            fail("hyper_server", message);
        }
    }
}
