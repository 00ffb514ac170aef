//! Serving axum: a `Router` on proactor in a few lines, with `compat::hyper::serve`
//! (feature `hyper-server`), axum's `axum::serve` under the same shape.
//!
//! ```toml
//! [dependencies]
//! proactor = { version = "0.1", features = ["hyper-server"] }
//! # Plus the extractors the app uses (`json`, `query`, ...); `tokio` only for `ConnectInfo`:
//! # axum's own server and tokio's runtime go unused.
//! axum = { version = "0.8", default-features = false, features = ["http1", "http2", "tokio"] }
//! ```
//!
//! | tokio and axum | proactor |
//! |---|---|
//! | `axum::serve(listener, router)` | `compat::hyper::serve(listener, router.into_make_service())` |
//! | `axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())` | `compat::hyper::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())`: the same, and `ConnectInfo<SocketAddr>` in handlers |
//! | `.with_graceful_shutdown(signal)` | the same, and `.shutdown_timeout(limit)` to bound the wait for open connections |
//! | hyper-util's `auto::Builder` (HTTP/1 and HTTP/2 on one port) | built in: `serve` picks the protocol from the first bytes (HTTP/2 with prior knowledge, h2c) |
//! | `tokio::net::TcpListener` | [`proactor::net::TcpListener`](crate::net::TcpListener); one per thread with [`bind_reuse_port`](crate::net::TcpListener::bind_reuse_port) under a [`RuntimeGroup`](crate::RuntimeGroup) |
//!
//! # A server that stops gracefully
//!
//! Here the signal is a channel, so that the example can stop its own server; a program would
//! wait for [`signal::ctrl_c`](crate::signal::ctrl_c).
//!
//! ```
//! use std::future::IntoFuture;
//! use std::net::SocketAddr;
//!
//! use axum::extract::ConnectInfo;
//! use axum::routing::get;
//! use axum::Router;
//! use http_body_util::{BodyExt, Empty};
//! use proactor::compat::hyper::serve;
//! use proactor::compat::Compat;
//!
//! # proactor::Runtime::new()?.block_on(async {
//! let app = Router::new()
//!     .route("/", get(|| async { "Hello, world!" }))
//!     .route(
//!         "/me",
//!         get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
//!     );
//! let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
//!     .with_graceful_shutdown(async move {
//!         let _ = stopped.await;
//!     });
//! let address = server.local_addr()?;
//! let server = proactor::spawn(server.into_future());
//!
//! // A client, on hyper's client over the same adapter.
//! let stream = proactor::net::TcpStream::connect(address).await?;
//! let me = stream.local_addr()?;
//! let (mut sender, connection) = hyper::client::conn::http1::handshake(Compat::new(stream))
//!     .await
//!     .map_err(std::io::Error::other)?;
//! let connection = proactor::spawn(connection);
//! let request = hyper::Request::get("/me").header("host", "example").body(Empty::<bytes::Bytes>::new());
//! let response = sender
//!     .send_request(request.expect("a valid request"))
//!     .await
//!     .map_err(std::io::Error::other)?;
//! let body = response.into_body().collect().await.map_err(std::io::Error::other)?;
//! assert_eq!(body.to_bytes(), me.to_string());
//!
//! // Stop: the listener closes, the idle connection is closed, the server ends.
//! let _ = stop.send(());
//! server.await.expect("server task")?;
//! let _ = connection.await;
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # One server per core
//!
//! A [`RuntimeGroup`](crate::RuntimeGroup) runs one `serve` per thread, each on a listener of
//! its own bound to the same port; the kernel spreads the connections (Linux, macOS, FreeBSD).
//!
//! ```no_run
//! use axum::routing::get;
//! use axum::Router;
//!
//! let group = proactor::Builder::new().build_group()?;
//! let results = group.run(|_index| async {
//!     let app = Router::new().route("/", get(|| async { "Hello, world!" }));
//!     let listener = proactor::net::TcpListener::bind_reuse_port("0.0.0.0:3000").await?;
//!     proactor::compat::hyper::serve(listener, app.into_make_service()).await
//! });
//! for result in results {
//!     result?;
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # proactor's I/O inside a handler
//!
//! axum wants each handler's future to be `Send`, and proactor's futures are not (they stay
//! on their runtime's thread). Every request of a `serve` runs on the thread that accepted it,
//! so a handler can [`spawn`](crate::spawn) the proactor part as a task of that thread and
//! wait for its result through a channel, whose receiver is `Send`:
//!
//! ```
//! use axum::http::StatusCode;
//! use axum::routing::get;
//! use axum::Router;
//!
//! async fn config() -> Result<String, StatusCode> {
//!     let (sender, receiver) = tokio::sync::oneshot::channel();
//!     // The task is not `Send`; only the receiver is kept across the `await`.
//!     drop(proactor::spawn(async move {
//!         let _ = sender.send(proactor::fs::read_to_string("Cargo.toml").await);
//!     }));
//!     match receiver.await {
//!         Ok(Ok(text)) => Ok(text),
//!         _ => Err(StatusCode::INTERNAL_SERVER_ERROR),
//!     }
//! }
//!
//! let app: Router = Router::new().route("/config", get(config));
//! # let _ = app;
//! ```
//!
//! # What `serve` does not do
//!
//! - **HTTP/1 upgrades** (axum's `WebSocketUpgrade`): hyper hands an upgraded connection over
//!   as a `Send` object, and proactor's streams are not `Send`. Serve WebSocket on a
//!   connection of its own with a WebSocket crate over `Compat` instead.
//! - **TLS**: `serve` takes a `TcpListener`. For HTTPS, accept yourself, run the handshake
//!   with a TLS crate over `Compat` (tokio-rustls, say), and serve each connection with hyper's
//!   `http1::Builder` / `http2::Builder::new(HyperExecutor)` as `examples/hyper_server.rs`
//!   does, the `Router` wrapped as a hyper service (hyper-util's `TowerToHyperService`, or
//!   tower's `ServiceExt::oneshot` in hyper's `service_fn`).
