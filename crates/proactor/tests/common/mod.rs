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

#[cfg(unix)]
use proactor::net::UnixStream;
use proactor::net::{TcpListener, TcpStream};
#[cfg(windows)]
use proactor::process::{ChildStdin, Command, Stdio};
use proactor::time::{sleep, timeout};
use proactor::{spawn, Backend, Builder, Runtime};

/// No test waits longer than this for one [`run`].
pub const LIMIT: Duration = Duration::from_secs(30);

/// A runtime on `backend`; with `PROACTOR_TEST_FAULTS=SEED`, over a driver that delays and
/// reorders completions (seeded faults that change no result, only when results arrive), so
/// any test can be run against the completion orders every backend may produce.
pub fn runtime(backend: Backend) -> Runtime {
    let builder = Builder::new().backend(backend);
    let builder = match test_faults() {
        Some(faults) => builder.faults(faults),
        None => builder,
    };
    builder.build().expect("runtime on the backend under test")
}

/// The faults `PROACTOR_TEST_FAULTS=SEED` asks for: delays and reordering only.
pub fn test_faults() -> Option<proactor::Faults> {
    let seed = std::env::var("PROACTOR_TEST_FAULTS").ok()?.parse().ok()?;
    Some(proactor::Faults {
        seed,
        delay_rate: 0.5,
        reorder: true,
        ..proactor::Faults::default()
    })
}

/// Runs `future` on `runtime`, failing the test if it takes longer than [`LIMIT`].
pub fn run<F: Future>(runtime: &Runtime, future: F) -> F::Output {
    runtime
        .block_on(timeout(LIMIT, future))
        .expect("the test's future did not finish in time")
}

/// Two connected TCP streams on the loopback interface: (accepted, connected).
pub async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let client = spawn(async move { TcpStream::connect(address).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (server, client.await.unwrap())
}

/// The stream [`stream_pair`] makes: a Unix socket where there are Unix sockets, else TCP.
#[cfg(unix)]
pub type Stream = UnixStream;
/// The stream [`stream_pair`] makes: a Unix socket where there are Unix sockets, else TCP.
#[cfg(not(unix))]
pub type Stream = TcpStream;

/// Two connected streams for tests of what any stream does: a Unix socket pair, or on
/// Windows (no `AF_UNIX` under Wine, none in proactor there) a TCP pair.
pub async fn stream_pair() -> (Stream, Stream) {
    #[cfg(unix)]
    return UnixStream::pair().unwrap();
    #[cfg(not(unix))]
    return tcp_pair().await;
}

/// A writer whose reader is gone, so its writes fail with `BrokenPipe` at once: a Unix socket
/// whose peer is closed (`EPIPE`).
#[cfg(unix)]
pub async fn broken_writer() -> UnixStream {
    let (writer, reader) = UnixStream::pair().unwrap();
    drop(reader);
    // The close goes through the driver: let it complete before writing.
    sleep(Duration::from_millis(20)).await;
    writer
}

/// A writer whose reader is gone, so its writes fail with `BrokenPipe` at once: the stdin pipe
/// of a child that has exited (`ERROR_NO_DATA`, "the pipe is being closed"). Not a TCP stream:
/// a write to a closed TCP peer is accepted, and only the writes after the peer's reset has
/// come back fail.
#[cfg(windows)]
pub async fn broken_writer() -> ChildStdin {
    let mut child = Command::new("cmd")
        .args(["/C", "exit 0"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    assert!(child.wait().await.unwrap().success());
    stdin
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
