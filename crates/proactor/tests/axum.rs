//! An axum `Router` served by `compat::hyper::serve`: HTTP/1.1 and HTTP/2 on one port, the
//! peer's address in a handler, first bytes sent slowly, graceful shutdown with requests in
//! flight and with a deadline; run once per backend (`io_uring::...`, `epoll::...`,
//! `iocp::...` on Windows).

mod common;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use common::{per_backend, run};
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use proactor::compat::hyper::serve;
use proactor::compat::{Compat, HyperExecutor, HyperTimer};
use proactor::io::{AsyncRead, AsyncWrite};
use proactor::net::{TcpListener, TcpStream};
use proactor::time::{sleep, timeout};
use proactor::{spawn, JoinHandle, Runtime};
use tokio::sync::{mpsc, oneshot};

per_backend! {
    http1_and_http2_on_one_port,
    slow_first_bytes_are_read_again,
    graceful_shutdown_finishes_requests_in_flight,
    shutdown_timeout_closes_what_is_left,
    tuned_header_read_timeout_applies,
}

/// Bounds each wait of a test, well inside the whole test's limit.
const WAIT: Duration = Duration::from_secs(10);

/// `/` says hello, `/local` answers from a proactor task, `/peer` says who asked, `/slow` reports that it started on `started` and
/// answers once a `release` sender is sent to it (or dropped).
fn app(started: mpsc::UnboundedSender<oneshot::Sender<()>>) -> Router {
    let started = Arc::new(Mutex::new(started));
    Router::new()
        .route("/", get(|| async { "hello" }))
        // proactor's I/O, which is not `Send`, in a task of the serving thread; a `Send`
        // channel brings its result back to the handler.
        .route(
            "/local",
            get(|| async {
                let (sender, receiver) = oneshot::channel();
                drop(spawn(async move {
                    let shared = std::rc::Rc::new("local");
                    sleep(Duration::from_millis(1)).await;
                    let _ = sender.send(*shared);
                }));
                receiver.await.unwrap_or("lost")
            }),
        )
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/slow",
            get(move || {
                let (release, released) = oneshot::channel();
                let _ = started.lock().unwrap().send(release);
                async move {
                    let _ = released.await;
                    "finally"
                }
            }),
        )
}

/// A server on a free port with a shutdown signal: its address, its task, the sender that
/// stops it and the receiver of `/slow`'s starts.
struct Server {
    address: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
    stop: oneshot::Sender<()>,
    started: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
}

async fn start(shutdown_timeout: Option<Duration>) -> Server {
    let (started_tx, started) = mpsc::unbounded_channel();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service = app(started_tx).into_make_service_with_connect_info::<SocketAddr>();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = serve(listener, service).with_graceful_shutdown(async move {
        let _ = stopped.await;
    });
    let server = match shutdown_timeout {
        Some(limit) => server.shutdown_timeout(limit),
        None => server,
    };
    let address = server.local_addr().unwrap();
    Server {
        address,
        task: spawn(server.into_future()),
        stop,
        started,
    }
}

type Http1 = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;
type Http2 = hyper::client::conn::http2::SendRequest<Empty<Bytes>>;

/// An HTTP/1.1 client connection: its sender, its connection task and its local address.
async fn http1(address: SocketAddr) -> (Http1, JoinHandle<hyper::Result<()>>, SocketAddr) {
    let stream = TcpStream::connect(address).await.unwrap();
    let local = stream.local_addr().unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(Compat::new(stream))
        .await
        .unwrap();
    (sender, spawn(connection), local)
}

/// An HTTP/2 (prior knowledge) client connection, as [`http1`].
async fn http2(address: SocketAddr) -> (Http2, JoinHandle<hyper::Result<()>>, SocketAddr) {
    let stream = TcpStream::connect(address).await.unwrap();
    let local = stream.local_addr().unwrap();
    let (sender, connection) = hyper::client::conn::http2::Builder::new(HyperExecutor)
        .timer(HyperTimer)
        .handshake(Compat::new(stream))
        .await
        .unwrap();
    (sender, spawn(connection), local)
}

fn get_request(path: &str) -> Request<Empty<Bytes>> {
    Request::get(format!("http://test{path}"))
        .header("host", "test")
        .body(Empty::new())
        .unwrap()
}

async fn text(response: hyper::Response<hyper::body::Incoming>) -> String {
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

async fn stopped(server: Server) {
    let _ = server.stop.send(());
    timeout(WAIT, server.task)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

fn http1_and_http2_on_one_port(runtime: Runtime) {
    run(&runtime, async {
        let server = start(None).await;

        let (mut sender, connection, local) = http1(server.address).await;
        // Keep-alive: both requests on one connection.
        let response = sender.send_request(get_request("/")).await.unwrap();
        assert_eq!(response.version(), hyper::Version::HTTP_11);
        assert_eq!(text(response).await, "hello");
        let response = sender.send_request(get_request("/peer")).await.unwrap();
        assert_eq!(text(response).await, local.to_string());
        let response = sender.send_request(get_request("/local")).await.unwrap();
        assert_eq!(text(response).await, "local");
        drop(sender);
        timeout(WAIT, connection).await.unwrap().unwrap().unwrap();

        let (mut sender, connection, local) = http2(server.address).await;
        let response = sender.send_request(get_request("/")).await.unwrap();
        assert_eq!(response.version(), hyper::Version::HTTP_2);
        assert_eq!(text(response).await, "hello");
        let response = sender.send_request(get_request("/peer")).await.unwrap();
        assert_eq!(text(response).await, local.to_string());
        let response = sender.send_request(get_request("/local")).await.unwrap();
        assert_eq!(text(response).await, "local");
        drop(sender);
        timeout(WAIT, connection).await.unwrap().unwrap().unwrap();

        stopped(server).await;
    });
}

/// Clients that send their first bytes in pieces: HTTP/1 requests that start as the HTTP/2
/// preface does (`PR` of `PROPFIND`) or not, and the preface cut in two; the server waits to
/// know which protocol it is, and hyper then reads every byte.
fn slow_first_bytes_are_read_again(runtime: Runtime) {
    run(&runtime, async {
        let server = start(None).await;

        // "PR", as the preface starts, then not: HTTP/1 (a method axum does not route).
        let mut client = TcpStream::connect(server.address).await.unwrap();
        for piece in [
            &b"P"[..],
            b"R",
            b"OPFIND / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
        ] {
            client.write_all(piece).await.0.unwrap();
            sleep(Duration::from_millis(20)).await;
        }
        let (result, reply) = timeout(WAIT, client.read_to_end(Vec::new())).await.unwrap();
        result.unwrap();
        let reply = String::from_utf8(reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 405"), "{reply}");

        // A GET, its first byte alone.
        let mut client = TcpStream::connect(server.address).await.unwrap();
        for piece in [
            &b"G"[..],
            b"ET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n",
        ] {
            client.write_all(piece).await.0.unwrap();
            sleep(Duration::from_millis(20)).await;
        }
        let (result, reply) = timeout(WAIT, client.read_to_end(Vec::new())).await.unwrap();
        result.unwrap();
        let reply = String::from_utf8(reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.ends_with("hello"), "{reply}");

        // Half the HTTP/2 preface, a pause, then the rest from hyper's client.
        let mut stream = TcpStream::connect(server.address).await.unwrap();
        stream
            .write_all(&b"PRI * HTTP/2.0\r\n"[..])
            .await
            .0
            .unwrap();
        sleep(Duration::from_millis(20)).await;
        let (mut sender, connection) = hyper::client::conn::http2::Builder::new(HyperExecutor)
            .timer(HyperTimer)
            .handshake(Prefaced::new(stream))
            .await
            .unwrap();
        let connection = spawn(connection);
        let response = sender.send_request(get_request("/")).await.unwrap();
        assert_eq!(text(response).await, "hello");
        drop(sender);
        timeout(WAIT, connection).await.unwrap().unwrap().unwrap();

        stopped(server).await;
    });
}

fn graceful_shutdown_finishes_requests_in_flight(runtime: Runtime) {
    run(&runtime, async {
        let mut server = start(None).await;

        // An idle keep-alive connection, which shutdown closes at once.
        let (mut idle, idle_connection, _) = http1(server.address).await;
        let response = idle.send_request(get_request("/")).await.unwrap();
        assert_eq!(text(response).await, "hello");

        // A request in flight on each protocol.
        let (mut one, one_connection, _) = http1(server.address).await;
        let slow_one = spawn(async move { one.send_request(get_request("/slow")).await });
        let (mut two, two_connection, _) = http2(server.address).await;
        let slow_two = spawn(async move { two.send_request(get_request("/slow")).await });
        let mut releases = Vec::new();
        for _ in 0..2 {
            releases.push(timeout(WAIT, server.started.recv()).await.unwrap().unwrap());
        }

        let _ = server.stop.send(());
        timeout(WAIT, idle_connection)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        sleep(Duration::from_millis(50)).await;
        assert!(!server.task.is_finished(), "two requests are in flight");
        // No new connection is taken.
        let refused = timeout(WAIT, TcpStream::connect(server.address))
            .await
            .unwrap();
        assert!(refused.is_err(), "the listener is closed");

        let started = Instant::now();
        for release in releases {
            let _ = release.send(());
        }
        for slow in [slow_one, slow_two] {
            let response = timeout(WAIT, slow).await.unwrap().unwrap().unwrap();
            assert_eq!(text(response).await, "finally");
        }
        timeout(WAIT, server.task).await.unwrap().unwrap().unwrap();
        assert!(started.elapsed() < WAIT);
        // Both connections were ended by the server, cleanly.
        timeout(WAIT, one_connection)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        timeout(WAIT, two_connection)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        drop(idle);
    });
}

fn shutdown_timeout_closes_what_is_left(runtime: Runtime) {
    run(&runtime, async {
        let mut server = start(Some(Duration::from_millis(100))).await;
        let (mut one, one_connection, _) = http1(server.address).await;
        let slow_one = spawn(async move { one.send_request(get_request("/slow")).await });
        let (mut two, two_connection, _) = http2(server.address).await;
        let slow_two = spawn(async move { two.send_request(get_request("/slow")).await });
        // Held, never sent: the requests would never end.
        let mut releases = Vec::new();
        for _ in 0..2 {
            releases.push(timeout(WAIT, server.started.recv()).await.unwrap().unwrap());
        }

        let _ = server.stop.send(());
        let stopping = Instant::now();
        timeout(WAIT, server.task).await.unwrap().unwrap().unwrap();
        let waited = stopping.elapsed();
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        // The connections were closed under the requests, and the handlers dropped (the
        // HTTP/2 one was a task of its own).
        assert!(timeout(WAIT, slow_one).await.unwrap().unwrap().is_err());
        assert!(timeout(WAIT, slow_two).await.unwrap().unwrap().is_err());
        for mut release in releases {
            timeout(WAIT, release.closed())
                .await
                .expect("the handler is dropped");
        }
        let _ = timeout(WAIT, one_connection).await.unwrap().unwrap();
        let _ = timeout(WAIT, two_connection).await.unwrap().unwrap();
    });
}

/// `Serve::http1` reaches the connections: a header that stalls is cut off at the limit set.
fn tuned_header_read_timeout_applies(runtime: Runtime) {
    run(&runtime, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (started, _) = mpsc::unbounded_channel();
        let mut server = serve(listener, app(started).into_make_service());
        server
            .http1()
            .header_read_timeout(Duration::from_millis(100));
        let address = server.local_addr().unwrap();
        let server = spawn(server.into_future());

        let mut client = TcpStream::connect(address).await.unwrap();
        client
            .write_all(&b"GET / HTTP/1.1\r\nhost: t\r\n"[..])
            .await
            .0
            .unwrap();
        let sent = Instant::now();
        let (result, _) = timeout(WAIT, client.read_to_end(Vec::new())).await.unwrap();
        let waited = sent.elapsed();
        // hyper answers 408 or just closes; either way, at the limit and not at 30 seconds.
        let _ = result;
        assert!(waited >= Duration::from_millis(90), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        server.abort();
    });
}

/// A client connection whose first half of the HTTP/2 preface was already sent: hyper's client
/// writes the whole preface, so the half it repeats is dropped here.
struct Prefaced {
    io: Compat<TcpStream>,
    skip: usize,
}

impl Prefaced {
    fn new(stream: TcpStream) -> Prefaced {
        Prefaced {
            io: Compat::new(stream),
            skip: b"PRI * HTTP/2.0\r\n".len(),
        }
    }
}

impl hyper::rt::Read for Prefaced {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Prefaced {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.skip > 0 {
            let skipped = this.skip.min(buf.len());
            this.skip -= skipped;
            return Poll::Ready(Ok(skipped));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
