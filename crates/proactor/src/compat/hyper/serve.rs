//! [`serve`]: axum's `axum::serve(listener, app)` for proactor, an accept loop that serves
//! a tower service over hyper.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{ready, Context, Poll, Waker};
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::{http1, http2};
use hyper::{Request, Response};
use tower_service::Service;

use super::{HyperExecutor, HyperTimer};
use crate::compat::sealed::Endpoint;
use crate::compat::{Compat, EndpointOf};
use crate::net::{TcpListener, TcpStream};
use crate::task::JoinSet;
use crate::time::{sleep, timeout};

type BoxError = Box<dyn StdError + Send + Sync>;

/// What an HTTP/2 client sends first (RFC 9113 §3.4); no HTTP/1 request starts like it.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How long a new connection may take to send its first bytes: hyper's default for a request's
/// header (`header_read_timeout`), which starts counting only once we hand the connection over.
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

/// The first wait after a failed accept; each further failure doubles it, up to a second.
const FIRST_DELAY: Duration = Duration::from_millis(10);
const LONGEST_DELAY: Duration = Duration::from_secs(1);

/// Serves `make_service` on `listener`: HTTP/1.1, and HTTP/2 for clients that send its preface
/// first (prior knowledge, h2c), on the same port. axum's `axum::serve` for proactor.
///
/// `make_service` is called with each connection's peer address and gives the service for that
/// connection: with axum, `router.into_make_service()`, or
/// `router.into_make_service_with_connect_info::<SocketAddr>()` for handlers that take a
/// `ConnectInfo<SocketAddr>`. The service is cloned for each request, as axum's `Router` is
/// built to be. Without axum, any tower service will do, whose response is a tower service of
/// hyper's requests: tower's `service_fn` makes both from closures.
///
/// Each connection is a task on this thread ([`spawn`](crate::spawn)); the service's futures
/// need not be `Send`. Run one `serve` per runtime of a
/// [`RuntimeGroup`](crate::RuntimeGroup), each on a listener of its own
/// ([`TcpListener::bind_reuse_port`]), to use every core.
///
/// The returned [`Serve`] runs when awaited; it never ends unless given a signal with
/// [`with_graceful_shutdown`](Serve::with_graceful_shutdown). Dropping it (say, a
/// [`timeout`](crate::time::timeout) around it) closes the listener and every connection at
/// once.
///
/// # Connections
///
/// - The protocol is chosen from the first bytes (up to 24, the HTTP/2 preface), which hyper
///   then reads again. A connection that sends nothing for 30 seconds is closed; one slow to
///   send is a task of its own meanwhile, and holds up no other.
/// - HTTP/1.1 keeps connections alive, with hyper's 30-second limit for the header of each
///   request ([`HyperTimer`] times it). HTTP/2 streams run as tasks ([`HyperExecutor`]).
///   [`Serve::http1`] and [`Serve::http2`] tune either protocol.
/// - HTTP/1 upgrades (WebSocket) are not served: hyper hands an upgraded connection over as
///   a `Send` object, and proactor's streams stay on their thread. A handler asking for one
///   (axum's `WebSocketUpgrade`) finds the connection not upgradable.
/// - A connection that fails (a reset, garbage, a timeout) ends alone; with the `tracing`
///   feature its error is a debug event.
/// - A failed accept never ends the server. An error of the one connection being accepted
///   (reset before it was taken) is passed over; any other (out of descriptors: `EMFILE`)
///   pauses accepting for 10 ms, then 20 ms, ... up to a second while it lasts, or until one
///   of this server's connections ends and frees its descriptor.
///
/// # Examples
///
/// An axum `Router`:
///
/// ```no_run
/// use axum::routing::get;
/// use axum::Router;
///
/// #[proactor::main]
/// async fn main() -> std::io::Result<()> {
///     let app = Router::new().route("/", get(|| async { "Hello, world!" }));
///     let listener = proactor::net::TcpListener::bind("127.0.0.1:3000").await?;
///     proactor::compat::hyper::serve(listener, app.into_make_service()).await
/// }
/// ```
///
/// The peer's address in a handler, and a graceful stop on Ctrl-C:
///
/// ```no_run
/// use std::net::SocketAddr;
///
/// use axum::extract::ConnectInfo;
/// use axum::routing::get;
/// use axum::Router;
///
/// #[proactor::main]
/// async fn main() -> std::io::Result<()> {
///     let app = Router::new().route(
///         "/",
///         get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { format!("hello, {peer}") }),
///     );
///     let listener = proactor::net::TcpListener::bind("127.0.0.1:3000").await?;
///     let service = app.into_make_service_with_connect_info::<SocketAddr>();
///     proactor::compat::hyper::serve(listener, service)
///         .with_graceful_shutdown(async {
///             let _ = proactor::signal::ctrl_c().await;
///         })
///         .await
/// }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "hyper-server")))]
pub fn serve<M, S, B>(listener: TcpListener, make_service: M) -> Serve<M>
where
    M: Service<SocketAddr, Response = S, Error = Infallible> + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    Serve {
        listener,
        make_service,
        builders: Builders::new(),
    }
}

/// An HTTP server on a listener, from [`serve`]: `.await` it to run it.
///
/// # Examples
///
/// ```no_run
/// # proactor::Runtime::new()?.block_on(async {
/// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
/// let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
/// let server = proactor::compat::hyper::serve(listener, app.into_make_service());
/// println!("listening on {}", server.local_addr()?);
/// server.await
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "hyper-server")))]
pub struct Serve<M> {
    listener: TcpListener,
    make_service: M,
    builders: Builders,
}

impl<M> Serve<M> {
    /// Stops when `signal` completes: the listener is closed at once, each connection is told
    /// to finish (HTTP/1.1 ends after the response in progress, HTTP/2 sends `GOAWAY` and ends
    /// after its open streams), and the server ends when they all have.
    ///
    /// That last wait is as long as the slowest connection's; bound it with
    /// [`shutdown_timeout`](WithGracefulShutdown::shutdown_timeout).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// proactor::compat::hyper::serve(listener, app.into_make_service())
    ///     .with_graceful_shutdown(async {
    ///         let _ = proactor::signal::ctrl_c().await;
    ///     })
    ///     .await
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<M, F>
    where
        F: Future<Output = ()> + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
            limit: None,
        }
    }

    /// hyper's builder for the HTTP/1.1 connections, to tune them: its limits (`max_buf_size`,
    /// `max_headers`), `keep_alive`, `header_read_timeout` (30 seconds unless set).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # proactor::Runtime::new()?.block_on(async {
    /// let app = axum::Router::new();
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let mut server = proactor::compat::hyper::serve(listener, app.into_make_service());
    /// server
    ///     .http1()
    ///     .header_read_timeout(Duration::from_secs(5))
    ///     .max_buf_size(64 * 1024);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn http1(&mut self) -> &mut http1::Builder {
        &mut self.builders.http1
    }

    /// hyper's builder for the HTTP/2 connections, to tune them: `max_concurrent_streams`,
    /// window sizes, `keep_alive_interval` (pings, timed by [`HyperTimer`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let app = axum::Router::new();
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let mut server = proactor::compat::hyper::serve(listener, app.into_make_service());
    /// server.http2().max_concurrent_streams(64);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn http2(&mut self) -> &mut http2::Builder<HyperExecutor> {
        &mut self.builders.http2
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let app = axum::Router::new();
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let server = proactor::compat::hyper::serve(listener, app.into_make_service());
    /// assert_ne!(server.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

impl<M> fmt::Debug for Serve<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

impl<M, S, B> IntoFuture for Serve<M>
where
    M: Service<SocketAddr, Response = S, Error = Infallible> + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(
            self.listener,
            self.make_service,
            self.builders,
            std::future::pending(),
            None,
        ))
    }
}

/// A server that stops gracefully, from [`Serve::with_graceful_shutdown`]: `.await` it to run
/// it.
///
/// # Examples
///
/// ```no_run
/// use std::future::IntoFuture;
///
/// # proactor::Runtime::new()?.block_on(async {
/// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
/// let listener = proactor::net::TcpListener::bind("127.0.0.1:3000").await?;
/// // A task of its own, as any future: this one can go on meanwhile.
/// let server = proactor::spawn(
///     proactor::compat::hyper::serve(listener, app.into_make_service())
///         .with_graceful_shutdown(async {
///             let _ = proactor::signal::ctrl_c().await;
///         })
///         .into_future(),
/// );
/// server.await.expect("server task")?;
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "hyper-server")))]
pub struct WithGracefulShutdown<M, F> {
    serve: Serve<M>,
    signal: F,
    limit: Option<Duration>,
}

impl<M, F> WithGracefulShutdown<M, F> {
    /// Gives the connections at most `limit`, once the signal came, to finish; those still
    /// open then are closed, and the server ends.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # proactor::Runtime::new()?.block_on(async {
    /// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// proactor::compat::hyper::serve(listener, app.into_make_service())
    ///     .with_graceful_shutdown(async {
    ///         let _ = proactor::signal::ctrl_c().await;
    ///     })
    ///     .shutdown_timeout(Duration::from_secs(10))
    ///     .await
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_timeout(mut self, limit: Duration) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let app = axum::Router::new();
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let server = proactor::compat::hyper::serve(listener, app.into_make_service())
    ///     .with_graceful_shutdown(std::future::pending());
    /// assert_ne!(server.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.serve.local_addr()
    }
}

impl<M, F> fmt::Debug for WithGracefulShutdown<M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .field("listener", &self.serve.listener)
            .field("shutdown_timeout", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<M, S, B, F> IntoFuture for WithGracefulShutdown<M, F>
where
    M: Service<SocketAddr, Response = S, Error = Infallible> + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>>>>;

    fn into_future(self) -> Self::IntoFuture {
        let Serve {
            listener,
            make_service,
            builders,
        } = self.serve;
        Box::pin(run(
            listener,
            make_service,
            builders,
            self.signal,
            self.limit,
        ))
    }
}

/// The accept loop: until `signal`, then the drain.
async fn run<M, S, B>(
    listener: TcpListener,
    mut make_service: M,
    builders: Builders,
    signal: impl Future<Output = ()>,
    limit: Option<Duration>,
) -> io::Result<()>
where
    M: Service<SocketAddr, Response = S, Error = Infallible>,
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    let builders = Rc::new(builders);
    let draining = Rc::new(Draining::default());
    // Owned, so that dropping the server closes its connections too.
    let mut connections = JoinSet::new();
    let mut signal = pin!(signal);
    let mut delay = None;
    loop {
        let accepted = {
            let mut accept = pin!(listener.accept());
            poll_fn(|cx| {
                // Collect the ended ones, whose results would otherwise pile up.
                while let Poll::Ready(Some(_)) = connections.poll_join_next(cx) {}
                if signal.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                accept.as_mut().poll(cx).map(Some)
            })
            .await
        };
        match accepted {
            None => break,
            Some(Ok((stream, peer))) => {
                delay = None;
                let Ok(()) = poll_fn(|cx| make_service.poll_ready(cx)).await;
                let Ok(service) = make_service.call(peer).await;
                let connection = serve_connection(
                    stream,
                    peer,
                    service,
                    Rc::clone(&builders),
                    Watcher::new(&draining),
                );
                connections.spawn(connection);
            }
            Some(Err(error)) if of_one_connection(&error) => {}
            Some(Err(error)) => {
                let wait =
                    delay.map_or(FIRST_DELAY, |last: Duration| (last * 2).min(LONGEST_DELAY));
                delay = Some(wait);
                #[cfg(feature = "tracing")]
                tracing::warn!(%error, ?wait, "accept failed; pausing");
                #[cfg(not(feature = "tracing"))]
                let _ = error;
                if pause(wait, &mut connections, signal.as_mut()).await {
                    break;
                }
            }
        }
    }
    drop(listener);
    draining.start();
    let drained = async { while connections.join_next().await.is_some() {} };
    match limit {
        Some(limit) => {
            // Past the limit, the connections still open are aborted as the set drops.
            let _ = timeout(limit, drained).await;
        }
        None => drained.await,
    }
    Ok(())
}

/// Waits `wait`, or less if a connection ends (freeing its descriptor); whether the signal
/// came meanwhile.
async fn pause<T: 'static>(
    wait: Duration,
    connections: &mut JoinSet<T>,
    mut signal: Pin<&mut impl Future<Output = ()>>,
) -> bool {
    let mut sleep = pin!(sleep(wait));
    poll_fn(|cx| {
        if signal.as_mut().poll(cx).is_ready() {
            return Poll::Ready(true);
        }
        if let Poll::Ready(Some(_)) = connections.poll_join_next(cx) {
            return Poll::Ready(false);
        }
        sleep.as_mut().poll(cx).map(|()| false)
    })
    .await
}

/// An error of the connection being accepted (reset or aborted before it was taken, or an
/// error on its network, which Linux reports from `accept`), not of the listener: the next
/// accept may work at once.
fn of_one_connection(error: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted
            | ConnectionReset
            | Interrupted
            | WouldBlock
            | HostUnreachable
            | NetworkUnreachable
            | NetworkDown
    )
}

/// hyper's connection builders, shared by every connection of one server.
struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<HyperExecutor>,
}

impl Builders {
    fn new() -> Builders {
        let mut http1 = http1::Builder::new();
        // With a timer, hyper limits each request's header to 30 seconds.
        http1.timer(HyperTimer);
        let mut http2 = http2::Builder::new(HyperExecutor);
        http2.timer(HyperTimer);
        Builders { http1, http2 }
    }
}

/// One connection, from its first bytes to its end.
async fn serve_connection<S, B>(
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
    builders: Rc<Builders>,
    watcher: Watcher,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    // Responses are flushed whole; Nagle's algorithm would only hold back their last segment.
    let _ = stream.set_nodelay(true);
    let detecting = pin!(timeout(FIRST_BYTES_TIMEOUT, detect(Compat::new(stream))));
    let detected = watcher.unless_draining(detecting).await;
    let (io, http2) = match detected {
        Some(Ok(Ok(Some(detected)))) => detected,
        // Draining before a request began, silent for too long, closed or failed first.
        _ => return,
    };
    let service = TowerToHyper(service);
    let result = if http2 {
        let connection = pin!(builders.http2.serve_connection(io, service));
        watcher
            .drive(connection, |connection| connection.graceful_shutdown())
            .await
    } else {
        let connection = pin!(builders.http1.serve_connection(io, service));
        watcher
            .drive(connection, |connection| connection.graceful_shutdown())
            .await
    };
    #[cfg(feature = "tracing")]
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (result, peer);
}

/// Reads until the first bytes say which protocol this is: the adapter to serve, with those
/// bytes still unread, and whether it is HTTP/2. None if the peer closed before saying.
async fn detect(mut io: Compat<TcpStream>) -> io::Result<Option<(Compat<TcpStream>, bool)>> {
    // The bytes taken out of the adapter while they matched the preface so far: almost every
    // client sends its first request whole, so this stays empty, and the adapter's buffer is
    // looked at only.
    let mut taken = Vec::new();
    let http2 = loop {
        poll_fn(|cx| io.poll_fill_buf(cx).map_ok(drop)).await?;
        let available = io.buffered();
        if available.is_empty() {
            return Ok(None);
        }
        let wanted = &PREFACE[taken.len()..];
        let count = available.len().min(wanted.len());
        if available[..count] != wanted[..count] {
            break false;
        }
        if count == wanted.len() {
            break true;
        }
        taken.extend_from_slice(&available[..count]);
        io.consume(count);
    };
    if !taken.is_empty() {
        // Back in front of the stream, for hyper to read first.
        let mut stream = io.into_inner();
        if let Endpoint::Stream(inner) = stream.endpoint() {
            inner.unread(&taken);
        }
        io = Compat::new(stream);
    }
    Ok(Some((io, http2)))
}

/// The connections of one server, told to finish when it stops.
#[derive(Default)]
struct Draining {
    started: Cell<bool>,
    /// Each open connection's task, by the connection's number.
    waiting: RefCell<HashMap<u64, Waker>>,
    next: Cell<u64>,
}

impl Draining {
    fn start(&self) {
        self.started.set(true);
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for waker in waiting.into_values() {
            waker.wake();
        }
    }
}

/// One connection's place in its server's [`Draining`].
struct Watcher {
    draining: Rc<Draining>,
    id: u64,
}

impl Watcher {
    fn new(draining: &Rc<Draining>) -> Watcher {
        let id = draining.next.get();
        draining.next.set(id.wrapping_add(1));
        Watcher {
            draining: Rc::clone(draining),
            id,
        }
    }

    /// Whether draining started; if not, the task is woken when it does.
    fn poll_started(&self, cx: &mut Context<'_>) -> bool {
        if self.draining.started.get() {
            return true;
        }
        let mut waiting = self.draining.waiting.borrow_mut();
        match waiting.get_mut(&self.id) {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            Some(waker) => waker.clone_from(cx.waker()),
            None => {
                waiting.insert(self.id, cx.waker().clone());
            }
        }
        false
    }

    /// `future`'s output, or None if draining starts first.
    async fn unless_draining<F: Future>(&self, mut future: Pin<&mut F>) -> Option<F::Output> {
        poll_fn(|cx| {
            if self.poll_started(cx) {
                return Poll::Ready(None);
            }
            future.as_mut().poll(cx).map(Some)
        })
        .await
    }

    /// Runs a hyper connection to its end, calling `shutdown` on it once draining starts.
    async fn drive<C: Future>(
        &self,
        mut connection: Pin<&mut C>,
        shutdown: impl Fn(Pin<&mut C>),
    ) -> C::Output {
        let mut told = false;
        poll_fn(|cx| {
            if !told && self.poll_started(cx) {
                told = true;
                shutdown(connection.as_mut());
            }
            connection.as_mut().poll(cx)
        })
        .await
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.draining.waiting.borrow_mut().remove(&self.id);
    }
}

/// A tower service as hyper's: cloned for each request, which it is called with once ready.
#[derive(Clone)]
struct TowerToHyper<S>(S);

impl<S> hyper::service::Service<Request<Incoming>> for TowerToHyper<S>
where
    S: Service<Request<Incoming>> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Oneshot<S>;

    fn call(&self, request: Request<Incoming>) -> Oneshot<S> {
        Oneshot {
            service: self.0.clone(),
            request: Some(request),
            future: None,
        }
    }
}

pin_project_lite::pin_project! {
    /// Waits for the service to be ready, then calls it with the request.
    struct Oneshot<S: Service<Request<Incoming>>> {
        service: S,
        request: Option<Request<Incoming>>,
        #[pin]
        future: Option<S::Future>,
    }
}

impl<S: Service<Request<Incoming>>> Future for Oneshot<S> {
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            if let Some(future) = this.future.as_mut().as_pin_mut() {
                return future.poll(cx);
            }
            ready!(this.service.poll_ready(cx))?;
            let Some(request) = this.request.take() else {
                unreachable!("the request is taken only with the future set just below")
            };
            this.future.set(Some(this.service.call(request)));
        }
    }
}
