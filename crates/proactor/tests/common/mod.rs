//! What the test files share (each includes it with `mod common;`): the macros that instantiate
//! a test once per backend of the system it is built for, the runtime each instance gets, and a
//! `run` that bounds the test's future.
//!
//! ```ignore
//! mod common;
//! use common::{per_backend, run};
//!
//! per_backend! {
//!     echo_round_trips,
//!     #[cfg(unix)]
//!     unix_pair_round_trips,
//! }
//!
//! fn echo_round_trips(runtime: Runtime) { run(&runtime, async { /* ... */ }) }
//! ```
//!
//! gives `io_uring::echo_round_trips` and `epoll::echo_round_trips` on Linux,
//! `iocp::echo_round_trips` on Windows and `kqueue::echo_round_trips` on macOS and the BSDs.

// Each test file is its own crate and uses only part of this module.
#![allow(dead_code, unused_imports, unused_macros)]

use std::future::Future;
use std::time::Duration;

use proactor::time::timeout;
use proactor::{Backend, Builder, Runtime};

/// No test waits longer than this for one [`run`].
pub const LIMIT: Duration = Duration::from_secs(30);

/// A runtime on `backend`.
pub fn runtime(backend: Backend) -> Runtime {
    Builder::new()
        .backend(backend)
        .build()
        .expect("runtime on the backend under test")
}

/// Runs `future` on `runtime`, failing the test if it takes longer than [`LIMIT`].
pub fn run<F: Future>(runtime: &Runtime, future: F) -> F::Output {
    runtime
        .block_on(timeout(LIMIT, future))
        .expect("the test's future did not finish in time")
}

/// What a per-backend test takes: a [`Runtime`] on the backend, or the [`Backend`] itself for
/// tests that build their own runtimes.
pub trait Fixture {
    fn for_backend(backend: Backend) -> Self;
}

impl Fixture for Runtime {
    fn for_backend(backend: Backend) -> Runtime {
        runtime(backend)
    }
}

impl Fixture for Backend {
    fn for_backend(backend: Backend) -> Backend {
        backend
    }
}

/// Instantiates each listed test (a `fn(Runtime)` or `fn(Backend)` at the crate's root) once
/// per backend of this system: `io_uring` and `epoll` on Linux, `iocp` on Windows, `kqueue` on
/// macOS and the BSDs. Attributes before a test (`#[cfg(unix)]`,
/// `#[cfg_attr(windows, ignore = "...")]`) go to each of its instances.
macro_rules! per_backend {
    ($($(#[$attribute:meta])* $test:ident),* $(,)?) => {
        $crate::common::instances! { io_uring, IoUring, target_os = "linux"; $($(#[$attribute])* $test),* }
        $crate::common::instances! { epoll, Epoll, target_os = "linux"; $($(#[$attribute])* $test),* }
        $crate::common::instances! { iocp, Iocp, windows; $($(#[$attribute])* $test),* }
        $crate::common::instances! { kqueue, Kqueue, kqueue; $($(#[$attribute])* $test),* }
    };
}

/// [`per_backend!`] for tests that need Linux: instances on io_uring and epoll only.
macro_rules! linux_only {
    ($($(#[$attribute:meta])* $test:ident),* $(,)?) => {
        $crate::common::instances! { io_uring, IoUring, target_os = "linux"; $($(#[$attribute])* $test),* }
        $crate::common::instances! { epoll, Epoll, target_os = "linux"; $($(#[$attribute])* $test),* }
    };
}

/// One backend's module of instances, built only where `$system` holds.
macro_rules! instances {
    ($module:ident, $backend:ident, $system:meta; $($(#[$attribute:meta])* $test:ident),*) => {
        #[cfg($system)]
        mod $module {
            $(
                $(#[$attribute])*
                #[test]
                fn $test() {
                    crate::$test($crate::common::Fixture::for_backend(
                        proactor::Backend::$backend,
                    ));
                }
            )*
        }
    };
}

pub(crate) use {instances, linux_only, per_backend};
