//! hyper 1.x on proactor: `rt::Read` and `rt::Write` for [`Compat`], an executor and a timer
//! for hyper's connection builders ([`HyperExecutor`], [`HyperTimer`], also at
//! [`compat`](super)'s root), and, with the `hyper-server` feature, [`serve`]: axum's
//! `axum::serve` for proactor, a listener's HTTP/1.1 and HTTP/2 server in one call.
//!
//! # Examples
//!
//! ```no_run
//! use axum::routing::get;
//! use axum::Router;
//!
//! #[proactor::main]
//! async fn main() -> std::io::Result<()> {
//!     let app = Router::new().route("/", get(|| async { "Hello, world!" }));
//!     let listener = proactor::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     proactor::compat::hyper::serve(listener, app.into_make_service()).await
//! }
//! ```

#[cfg(feature = "hyper-server")]
mod serve;

#[cfg(feature = "hyper-server")]
pub use serve::{serve, Serve, WithGracefulShutdown};

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::ReadBufCursor;

use super::{Adaptable, Compat};
use crate::time::SendSleep;

/// Reads through the adapter's read buffer (one copy into hyper's buffer, whose unfilled part
/// is never zeroed).
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
impl<T: Adaptable> hyper::rt::Read for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let this = self.get_mut();
        let available = ready!(this.poll_fill_buf(cx))?;
        let count = available.len().min(buf.remaining());
        buf.put_slice(&available[..count]);
        this.consume(count);
        Poll::Ready(Ok(()))
    }
}

/// Writes are accepted into the write buffer and sent in the background; hyper flushes after
/// each batch of responses, which waits for them.
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
impl<T: Adaptable> hyper::rt::Write for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_from(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_vectored_from(cx, bufs)
    }

    /// `false`, so hyper flattens headers and small bodies into its own buffer before writing:
    /// measured with `crates/proactor-bench/hyper-callgrind.sh` (a 14-byte body), hyper's
    /// queueing of vectored pieces cost ~530 more instructions per request than the flatten.
    /// Vectored writes still work, gathering into the write buffer with one copy.
    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_all(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_shutdown_write(cx)
    }
}

/// hyper's executor for proactor: runs the futures hyper spawns (HTTP/2 streams, client
/// connection tasks) as tasks of the current runtime. They need not be `Send`, so hyper can
/// serve `Compat` streams, which stay on their thread.
///
/// # Panics
///
/// `execute` panics outside a proactor runtime, as [`spawn`](crate::spawn) does; hyper calls
/// it from the connection future, which runs inside one.
///
/// # Examples
///
/// ```no_run
/// use proactor::compat::{Compat, HyperExecutor, HyperTimer};
///
/// # proactor::Runtime::new()?.block_on(async {
/// let listener = proactor::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let (stream, _) = listener.accept().await?;
/// let service = hyper::service::service_fn(|_request| async {
///     Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
///         bytes::Bytes::from_static(b"hello"),
///     )))
/// });
/// hyper::server::conn::http2::Builder::new(HyperExecutor)
///     .timer(HyperTimer)
///     .serve_connection(Compat::new(stream), service)
///     .await
///     .map_err(std::io::Error::other)?;
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct HyperExecutor;

#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
impl<F> hyper::rt::Executor<F> for HyperExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        // Dropping the handle detaches the task: hyper does not wait for it.
        drop(crate::spawn(future));
    }
}

/// hyper's timer for proactor (header-read timeouts, HTTP/2 keep-alive pings), on the
/// current runtime's timers.
///
/// hyper requires its sleeps to be `Send` and `Sync`; these name their runtime by a shared
/// handle rather than holding it, so they are. A sleep polled outside a proactor runtime ends
/// at once (it cannot wait there, and must not hang).
///
/// # Examples
///
/// ```no_run
/// use proactor::compat::{Compat, HyperTimer};
///
/// # proactor::Runtime::new()?.block_on(async {
/// let listener = proactor::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let (stream, _) = listener.accept().await?;
/// let service = hyper::service::service_fn(|_request| async {
///     Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
/// });
/// hyper::server::conn::http1::Builder::new()
///     .timer(HyperTimer)
///     .header_read_timeout(std::time::Duration::from_secs(5))
///     .serve_connection(Compat::new(stream), service)
///     .await
///     .map_err(std::io::Error::other)?;
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct HyperTimer;

#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
impl hyper::rt::Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SendSleep::after(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SendSleep::until(deadline))
    }

    /// Moves one of these sleeps in place (HTTP/2 keep-alive pings reset theirs), instead
    /// of hyper's default of allocating a new one.
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<SendSleep>() {
            Some(mut ours) => ours.reset(deadline),
            None => *sleep = self.sleep_until(deadline),
        }
    }
}

impl hyper::rt::Sleep for SendSleep {}
