//! proactor: portable, completion-based async I/O for Rust.
//!
//! A thread-per-core runtime on top of [`proactor_driver`]: io_uring or epoll on Linux,
//! kqueue on macOS and the BSDs, I/O completion ports on Windows, with a thread pool for what
//! the OS cannot do asynchronously. Tasks run on the thread that spawned them and need not be
//! `Send`; I/O takes owned buffers and gives them back with the result, because the kernel
//! works on them after the call returns.
//!
//! The same code runs on every OS. Windows lacks, for now: Unix sockets (Wine, where this is
//! tested, has none), Unix signals ([`signal`] has the console's control events there), and
//! owners in [`fs`] (each item says so in its docs); it adds `windows::named_pipe`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//!
//! let runtime = proactor::Runtime::new()?;
//! runtime.block_on(async {
//!     let task = proactor::spawn(async {
//!         proactor::time::sleep(Duration::from_millis(1)).await;
//!         "slept"
//!     });
//!     assert_eq!(task.await.unwrap(), "slept");
//! });
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Start with the [`guide`]: the one idea (completion everywhere, readiness emulated), the
//! layers, owned buffers, cancellation, a page for readers coming from tokio, serving axum,
//! and protocol code that runs on both runtimes.
//!
//! # Features
//!
//! - `macros` (default): `#[proactor::main]` and `#[proactor::test]`.
//! - `futures-io`, `tokio`, `hyper`: `compat::Compat` gives proactor's streams
//!   the poll-based I/O traits of `futures-io`, tokio and hyper 1.x (with an executor and a
//!   timer for hyper), for crates written against those; the native owned-buffer
//!   [`io`] traits avoid the adapter's one copy per direction.
//! - `hyper-server`: `compat::hyper::serve`, axum's `axum::serve` for proactor: an axum
//!   `Router` (any tower service) on a listener, HTTP/1.1 and HTTP/2, graceful shutdown; see
//!   [`guide::serving_axum`].
//! - `tracing`: [`tracing`](https://docs.rs/tracing) events for backend choice, fallbacks,
//!   thread-pool growth and (at trace level) every operation; see
//!   [`guide::observability`].
//! - `fault-injection` (for tests): `Builder::faults` runs the runtime over a driver that
//!   injects seeded faults the OS could produce — errors, short reads and writes, delayed and
//!   reordered completions — to check that code above it loses, duplicates and reorders no
//!   byte when the OS does its worst.

#![warn(missing_docs)]
// docs.rs builds with `--cfg docsrs`: feature-gated items there carry their feature's badge.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod blocking;
mod buf;
#[cfg(compat)]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "futures-io", feature = "tokio", feature = "hyper")))
)]
pub mod compat;
pub mod dns;
pub mod fs;
pub mod guide;
pub mod io;
pub mod net;
pub mod process;
mod runtime;
#[cfg_attr(windows, path = "signal_windows.rs")]
pub mod signal;
mod sys;
pub mod task;
pub mod time;
mod trace;
#[cfg_attr(windows, path = "tty_windows.rs")]
pub mod tty;
#[cfg(any(unix, windows))]
mod tty_restore;
#[cfg(windows)]
pub mod windows;

pub use blocking::{spawn_blocking, BlockingHandle};
pub use buf::{BufResult, IoBuf, Slice};
pub use proactor_driver::{Backend, OpKind, PoolStats};
#[cfg(feature = "fault-injection")]
pub use proactor_driver::{FaultCounts, Faults};
pub use runtime::group::RuntimeGroup;
pub use runtime::{current_backend, current_backend_reason};
pub use runtime::{
    spawn, yield_now, AbortHandle, Builder, Handle, JoinError, JoinHandle, RemoteJoinHandle,
    Runtime, RuntimeMetrics,
};

#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use proactor_macros::{main, test};
