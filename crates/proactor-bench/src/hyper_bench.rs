//! hyper-bench: one HTTP/1.1 hello-world server on hyper 1.x, over proactor (io_uring or
//! epoll, through `proactor::compat::Compat`; the `-pooled` kinds read through one buffer pool,
//! `Compat::with_pool`) or tokio (current_thread), on one thread pinned
//! to one CPU, for a load generator such as `wrk` on another CPU. `hyper-wrk.sh` runs the
//! kinds in interleaved rounds and prints medians and ratios.
//!
//! ```text
//! hyper-bench --kind proactor-uring|proactor-epoll|proactor-uring-pooled|proactor-epoll-pooled|tokio
//!             [--addr 127.0.0.1:0] [--cpu 0] [--one]
//! hyper-bench --client ADDR --requests N
//! ```
//!
//! The server prints `listening on ADDR` once it accepts; with `--one` it serves one connection
//! and exits. The client sends N keep-alive `GET /` requests on one connection, one at a time,
//! so `hyper-callgrind.sh` can count a server's instructions per request as a slope.

#[cfg(target_os = "linux")]
#[path = "echo/sys.rs"]
#[allow(dead_code)] // Shared with echo-bench, which uses the rest.
mod sys;

#[cfg(target_os = "linux")]
mod server {
    use std::convert::Infallible;
    use std::io::{self, Write};
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::body::Incoming;
    use hyper::{Request, Response};

    const BODY: &[u8] = b"Hello, world!\n";

    async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        Ok(Response::new(Full::new(Bytes::from_static(BODY))))
    }

    fn announce(address: SocketAddr) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "listening on {address}")?;
        stdout.flush()
    }

    /// `pooled`: the adapter reads into buffers of one pool for all connections
    /// (`Compat::with_pool`) instead of a buffer of its own.
    pub fn proactor(
        address: SocketAddr,
        backend: proactor::Backend,
        pooled: bool,
        one: bool,
    ) -> io::Result<()> {
        use proactor::compat::{Compat, HyperTimer};
        let runtime = proactor::Builder::new().backend(backend).build()?;
        runtime.block_on(async {
            let listener = proactor::net::TcpListener::bind(address).await?;
            let pool = match pooled {
                true => {
                    Some(proactor::io::BufferPool::new(16 * 1024, 256)?.allocate_when_empty(true))
                }
                false => None,
            };
            announce(listener.local_addr()?)?;
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                let io = match &pool {
                    Some(pool) => Compat::with_pool(pool, stream),
                    None => Compat::new(stream),
                };
                let serve = async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(HyperTimer)
                        .serve_connection(io, hyper::service::service_fn(hello))
                        .await;
                };
                if one {
                    serve.await;
                    return Ok(());
                }
                drop(proactor::spawn(serve));
            }
        })
    }

    /// tokio's TcpStream with hyper's I/O traits (what hyper-util's `TokioIo` does).
    struct TokioIo(tokio::net::TcpStream);

    impl hyper::rt::Read for TokioIo {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            mut buf: hyper::rt::ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            // SAFETY: the bytes tokio reports filled were written by the read; `advance`
            // marks exactly those, as hyper-util's TokioIo does.
            let filled = unsafe {
                let mut read_buf = tokio::io::ReadBuf::uninit(buf.as_mut());
                match tokio::io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, &mut read_buf) {
                    Poll::Ready(Ok(())) => read_buf.filled().len(),
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => return Poll::Pending,
                }
            };
            // SAFETY: see above.
            unsafe { buf.advance(filled) };
            Poll::Ready(Ok(()))
        }
    }

    impl hyper::rt::Write for TokioIo {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            tokio::io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut self.0), cx)
        }
    }

    /// hyper's timer on tokio's, as hyper-util's `TokioTimer`: one box per sleep (tokio's
    /// `Sleep` pinned inside it) and `reset` in place.
    #[derive(Clone, Copy)]
    struct TokioTimer;

    struct TokioSleep {
        inner: tokio::time::Sleep,
    }

    impl TokioSleep {
        fn inner(self: Pin<&mut Self>) -> Pin<&mut tokio::time::Sleep> {
            // SAFETY: structural pinning: `inner` is never moved out of a pinned
            // `TokioSleep`, which has no `Drop` or `Unpin` impl of its own.
            unsafe { self.map_unchecked_mut(|sleep| &mut sleep.inner) }
        }
    }

    impl std::future::Future for TokioSleep {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.inner().poll(cx)
        }
    }

    impl hyper::rt::Sleep for TokioSleep {}

    impl hyper::rt::Timer for TokioTimer {
        fn sleep(&self, duration: std::time::Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
            Box::pin(TokioSleep {
                inner: tokio::time::sleep(duration),
            })
        }

        fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
            Box::pin(TokioSleep {
                inner: tokio::time::sleep_until(deadline.into()),
            })
        }

        fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, deadline: std::time::Instant) {
            if let Some(sleep) = sleep.as_mut().downcast_mut_pin::<TokioSleep>() {
                sleep.inner().reset(deadline.into());
            }
        }
    }

    pub fn tokio(address: SocketAddr, one: bool) -> io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(address).await?;
            announce(listener.local_addr()?)?;
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                let serve = async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer)
                        .serve_connection(TokioIo(stream), hyper::service::service_fn(hello))
                        .await;
                };
                if one {
                    serve.await;
                    return Ok(());
                }
                tokio::spawn(serve);
            }
        })
    }

    /// `requests` keep-alive GETs on one connection, each waiting for its whole response.
    pub fn client(address: SocketAddr, requests: usize) -> io::Result<()> {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        let request = b"GET / HTTP/1.1\r\nhost: bench\r\n\r\n";
        let mut response = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        for _ in 0..requests {
            stream.write_all(request)?;
            response.clear();
            while !response.ends_with(BODY) {
                let count = stream.read(&mut chunk)?;
                if count == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "server closed",
                    ));
                }
                response.extend_from_slice(&chunk[..count]);
            }
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn main() {
    let mut kind = None;
    let mut address: std::net::SocketAddr = "127.0.0.1:0".parse().expect("a socket address");
    let mut cpu = 0usize;
    let mut one = false;
    let mut client: Option<std::net::SocketAddr> = None;
    let mut requests = 10_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--one" {
            one = true;
            continue;
        }
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--kind" => kind = Some(value),
            "--client" => client = value.parse().ok(),
            "--requests" => requests = value.parse().unwrap_or(requests),
            "--addr" => address = value.parse().unwrap_or(address),
            "--cpu" => cpu = value.parse().unwrap_or(cpu),
            _ => {
                eprintln!("usage: hyper-bench --kind proactor-uring|proactor-epoll|proactor-uring-pooled|proactor-epoll-pooled|tokio [--addr HOST:PORT] [--cpu N] [--one]\n       hyper-bench --client HOST:PORT [--requests N]");
                std::process::exit(2);
            }
        }
    }
    if let Some(address) = client {
        if let Err(error) = server::client(address, requests) {
            eprintln!("hyper-bench: client: {error}");
            std::process::exit(1);
        }
        return;
    }
    sys::raise_nofile();
    if let Err(error) = sys::pin_to(cpu) {
        eprintln!("hyper-bench: cannot pin to CPU {cpu}: {error}");
    }
    let result = match kind.as_deref() {
        Some("proactor-uring") => server::proactor(address, proactor::Backend::IoUring, false, one),
        Some("proactor-epoll") => server::proactor(address, proactor::Backend::Epoll, false, one),
        Some("proactor-uring-pooled") => {
            server::proactor(address, proactor::Backend::IoUring, true, one)
        }
        Some("proactor-epoll-pooled") => {
            server::proactor(address, proactor::Backend::Epoll, true, one)
        }
        Some("tokio") => server::tokio(address, one),
        _ => {
            eprintln!(
                "hyper-bench: --kind proactor-uring, proactor-epoll, proactor-uring-pooled, proactor-epoll-pooled or tokio"
            );
            std::process::exit(2);
        }
    };
    if let Err(error) = result {
        eprintln!("hyper-bench: {error}");
        std::process::exit(1);
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("hyper-bench runs on Linux only");
    std::process::exit(1);
}
