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

/// What an HTTP/2 client sends first (RFC 9113 §3.4); no HTTP/1 request starts like it.
const PREFACE: &[u8] = b"PRI * HTTP/2.0";

struct Options {
    address: SocketAddr,
    threads: Option<usize>,
    backend: Option<Backend>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        address: "127.0.0.1:3000".parse().map_err(|_| "default address")?,
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
                    other => return Err(format!("--backend {other}: expected io_uring or epoll")),
                })
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(options)
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
    let options = match options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("hyper_server: {error}\nusage: hyper_server [--addr HOST:PORT] [--threads N] [--backend io_uring|epoll]");
            std::process::exit(2);
        }
    };
    let mut builder = Builder::new().pin_to_cores(true);
    if let Some(threads) = options.threads {
        builder = builder.threads(threads);
    }
    if let Some(backend) = options.backend {
        builder = builder.backend(backend);
    }
    let group = match builder.build_group() {
        Ok(group) => group,
        Err(error) => {
            eprintln!("hyper_server: cannot start the runtimes: {error}");
            std::process::exit(1);
        }
    };
    // Port 0 picks a free port: bind once to learn it, then every runtime binds that one.
    let address =
        match std::net::TcpListener::bind(options.address).and_then(|probe| probe.local_addr()) {
            Ok(address) if options.address.port() == 0 => address,
            Ok(_) => options.address,
            Err(error) => {
                eprintln!("hyper_server: cannot bind {}: {error}", options.address);
                std::process::exit(1);
            }
        };
    let threads = group.len();
    let results = group.run(move |index| async move {
        let listener = TcpListener::bind_reuse_port(address).await?;
        if index == 0 {
            let backend = proactor::current_backend_reason();
            println!(
                "hyper_server: listening on http://{} with {threads} threads ({backend})",
                listener.local_addr()?
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
                    eprintln!("hyper_server: accept: {error}");
                    proactor::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    });
    for result in results {
        if let Err(error) = result {
            eprintln!("hyper_server: {error}");
            std::process::exit(1);
        }
    }
}
