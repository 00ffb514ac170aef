//! proactor-driver: a portable, completion-based I/O driver.
//!
//! Unix asks the kernel "tell me when this descriptor is ready"; io_uring and Windows' I/O
//! completion ports say "do this operation and tell me when it is done". Code written against
//! completion runs on readiness backends too (do the operation when the descriptor is ready),
//! but not the other way round, so this driver speaks completion everywhere:
//!
//! ```text
//! submit(op, owned buffers)  →  kernel or worker thread does the work  →  completion(result, buffers back)
//! ```
//!
//! There is no async here and no executor: create a [`Driver`], [`submit`](Driver::submit)
//! [`Op`]s, [`poll`](Driver::poll) for [`Completion`]s, [`cancel`](Driver::cancel) what you no
//! longer want, and wake a blocked poll from another thread with a [`Notifier`]. Runtimes build
//! on this layer.
//!
//! An executor need not keep a table of its own beside the driver's: it
//! [claims](Driver::submit_claimed) each operation for a token (say, the index of the task
//! that waits for it). A claimed completion stays in the operation's slot instead of coming
//! out of `poll`, `poll` lists the tokens whose completions came ([`Driver::woken`]), and the
//! task takes its completion with [`claim`](Driver::claim) — or only the result and the buffer
//! with [`claim_with`](Driver::claim_with), leaving the rest of the operation where it is. An
//! operation that finished inside `submit` (a send the socket took at once, on a readiness
//! backend) is the claimant's at once.
//!
//! On the readiness backends (epoll, kqueue) a stream's reads and writes need no operation
//! where nothing has to wait ([`Driver::transfers_now`]): [`try_recv_now`](Driver::try_recv_now)
//! and [`try_send_now`](Driver::try_send_now) make one non-blocking call, and a read that
//! found nothing waits with [`watch_readable`](Driver::watch_readable) for the socket's next
//! readable edge, its token coming through `woken` like a claim's, and lends no buffer
//! meanwhile. io_uring and IOCP answer `None` and `false` there: an operation in the ring's
//! batch costs less than a system call of its own.
//!
//! # Backends
//!
//! | OS | backend |
//! |---|---|
//! | Linux | io_uring; epoll when io_uring is missing, disabled or blocked by seccomp |
//! | macOS, FreeBSD | kqueue: `EVFILT_READ`/`EVFILT_WRITE` edge-triggered, an `EVFILT_USER` wake, `EVFILT_PROC` for [`Op::WaitExit`], `sendfile(2)` for [`Op::SendFile`] |
//! | Windows | I/O completion ports: overlapped `WSARecv`/`WSASend`/`AcceptEx`/`ConnectEx`/`ReadFile`/`WriteFile`/`TransmitFile`/`ConnectNamedPipe` |
//! | every OS | a thread pool for what the OS cannot do asynchronously |
//!
//! On Windows, [`Fd`] is a `SOCKET` or `HANDLE` value; sockets and files must be overlapped
//! (std's and socket2's sockets are; open files with `FILE_FLAG_OVERLAPPED`), reads and writes
//! of files take an offset, and path operations (`OpenAt`, `RenameAt`, ...) complete with
//! `Unsupported` (run them with `std::fs` in an [`Op::Blocking`] job). The `windows` module (on
//! Windows) has what only Windows has: named pipes and a `CompletionPort` many threads drain.
//!
//! Every backend gives the same results for the same operations: one conformance suite runs
//! against each.
//!
//! # Rules the driver keeps
//!
//! - Buffers are owned: an operation takes its [`Buffer`]s by value and its completion gives
//!   them back, whether it succeeded, failed or was cancelled.
//! - Nothing the kernel may still touch is freed early: dropping the driver cancels what is in
//!   flight and waits for the kernel to let go.
//! - No heap allocation per operation in steady state.
//! - Errors are [`std::io::Error`] with the OS's own code; bad input never panics.
//!
//! # Features
//!
//! - `tracing` (off by default): [`tracing`](https://docs.rs/tracing) events for the backend
//!   chosen and why (`debug`), the io_uring → epoll fallback (`warn`, once per process) and
//!   the operations io_uring runs on its fallback path (`debug`), thread-pool threads started
//!   and retired (`debug`), and every operation submitted and completed (`trace`). Without a
//!   subscriber an event costs an atomic load or two and allocates nothing; without the
//!   feature it compiles to nothing. Warnings and errors go to the `log` crate whenever no
//!   `tracing` subscriber is installed.
//! - `fault-injection` (off by default; for tests): `Config::faults` puts seeded faults
//!   between the driver's API and its backend — errors, short reads and writes, delayed and
//!   reordered completions — each one the OS could produce for that operation, so code that
//!   survives them on one backend survives every backend's real behaviour.
//!
//! # Examples
//!
//! Read a file at an offset:
//!
//! ```ignore-windows
//! use std::os::fd::AsRawFd;
//! use std::time::Duration;
//! use proactor_driver::{Buffer, Driver, Op};
//!
//! let file = std::fs::File::open("Cargo.toml")?;
//! let mut driver = Driver::new()?;
//! driver.submit(Op::Read { fd: file.as_raw_fd(), buf: Buffer::from(Vec::with_capacity(9)), offset: Some(0) });
//! let mut completions = Vec::new();
//! while completions.is_empty() {
//!     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
//! }
//! let read = completions.pop().unwrap();
//! assert_eq!(read.result?, 9);
//! assert_eq!(read.op.into_buffer().unwrap().as_slice(), b"[package]");
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs)]
// docs.rs builds with `--cfg docsrs`: platform-specific items there carry their platform's badge.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Where other crates' docs link to this one's items when these docs are not built beside them
// (`cargo doc -p proactor --no-deps`): docs.rs, for the semver-compatible release.
#![doc(html_root_url = "https://docs.rs/proactor-driver/0.1")]

mod buf;
mod buffer_pool;
#[cfg(windows)]
mod completion_port;
pub mod datagram;
mod driver;
#[cfg(feature = "fault-injection")]
mod fault;
mod message;
mod op;
mod pool;
mod slots;
mod sys;
mod trace;
#[cfg(windows)]
pub mod windows;

pub use buf::Buffer;
pub use buffer_pool::{is_pool_exhausted, BufferPool, PooledBuffer, MAX_BUFFERS};
pub use driver::{Backend, Config, Driver, Notifier};
#[cfg(feature = "fault-injection")]
pub use fault::{FaultCounts, Faults};
pub use message::{Address, Descriptors, UnixAddr};
pub use op::{path_to_cstring, BlockingJob, Completion, Metadata, Op, OpId, OpKind};
pub use pool::PoolStats;

/// A raw descriptor as the OS names it: a file descriptor on Unix.
///
/// # Examples
///
/// ```
/// use std::os::fd::AsRawFd;
/// use proactor_driver::Fd;
///
/// let file = std::fs::File::open("/")?;
/// let fd: Fd = file.as_raw_fd();
/// assert!(fd >= 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(unix)]
pub type Fd = std::os::fd::RawFd;
/// A raw descriptor as the OS names it: a `SOCKET` or a `HANDLE` value on Windows (both are
/// pointer-sized; `socket.as_raw_socket()` is one as it is, `file.as_raw_handle() as Fd` the
/// other).
#[cfg(windows)]
pub type Fd = std::os::windows::io::RawSocket;
/// A raw descriptor as the OS names it.
#[cfg(not(any(unix, windows)))]
pub type Fd = i32;

/// Whether `error` is the one a cancelled operation completes with (`ECANCELED` on Unix).
///
/// # Examples
///
/// ```
/// use proactor_driver::is_cancelled;
///
/// assert!(!is_cancelled(&std::io::Error::other("something else")));
/// ```
pub fn is_cancelled(error: &std::io::Error) -> bool {
    sys::is_cancelled(error)
}
