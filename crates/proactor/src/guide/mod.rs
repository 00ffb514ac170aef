//! The guide: how proactor works and how to use it. Pages of prose and examples, no API.
//!
//! # The one idea
//!
//! Operating systems offer two shapes of asynchronous I/O. *Readiness* (epoll, kqueue) says
//! "this descriptor can be read now; go and read it". *Completion* (io_uring, Windows' I/O
//! completion ports) says "give me the read and a buffer; I will tell you when the bytes are
//! in it". Code written for completion runs on a readiness system too: wait until the
//! descriptor is ready, then do the operation on the caller's behalf. The other way round does
//! not work: readiness code calls `read` itself, which a completion system never asks it to.
//!
//! So proactor speaks **completion everywhere, with readiness emulated**: every operation is
//! submitted with the buffers it needs, and its completion gives them back with the result.
//! On io_uring and IOCP the kernel does the work; on epoll and kqueue the driver does the
//! syscall when the descriptor is ready; what the OS cannot do asynchronously at all (regular
//! files on epoll, `getaddrinfo`, a closure you hand it) runs on a thread pool and completes
//! the same way. Your code cannot tell which: one conformance suite runs on every backend.
//!
//! # The layers
//!
//! | layer | crate / module | what it is |
//! |---|---|---|
//! | driver | [`proactor_driver`] | submit an [`Op`](proactor_driver::Op), poll for its [`Completion`](proactor_driver::Completion); no async, no executor. io_uring or epoll on Linux, kqueue on macOS and FreeBSD, IOCP on Windows, and the thread pool. |
//! | runtime | [`Runtime`](crate::Runtime), [`spawn`](crate::spawn), [`RuntimeGroup`](crate::RuntimeGroup) | one driver and one single-threaded executor per thread (thread-per-core); tasks stay on the thread that spawned them and need not be `Send`. |
//! | I/O types | [`net`](crate::net), [`fs`](crate::fs), [`process`](crate::process), [`time`](crate::time), [`signal`](crate::signal), [`io`](crate::io) | futures over driver operations, taking and giving back owned buffers ([`IoBuf`](crate::IoBuf)). |
//! | compat | `compat` (features `futures-io`, `tokio`, `hyper`) | the poll-based traits of futures-io, tokio and hyper for proactor's streams, at the cost of one copy per direction. |
//!
//! ```
//! use proactor::io::{AsyncRead, AsyncWrite};
//! use proactor::net::{TcpListener, TcpStream};
//!
//! let runtime = proactor::Runtime::new()?;
//! runtime.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let address = listener.local_addr()?;
//!     // A task: runs on this thread, concurrently with the rest of this block.
//!     let server = proactor::spawn(async move {
//!         let (mut stream, _) = listener.accept().await?;
//!         let (result, buffer) = stream.read(Vec::with_capacity(64)).await;
//!         result?;
//!         let (result, _) = stream.write_all(buffer).await; // echo it back
//!         result
//!     });
//!     let mut client = TcpStream::connect(address).await?;
//!     let (result, _) = client.write_all(&b"hello"[..]).await;
//!     result?;
//!     let (result, reply) = client.read_exact(Vec::with_capacity(5)).await;
//!     result?;
//!     assert_eq!(reply, b"hello");
//!     server.await.expect("server task")?;
//!     println!("ran on {}", proactor::current_backend_reason());
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Pages
//!
//! - [`owned_buffers`]: why I/O takes buffers by value, and how to live with it.
//! - [`cancellation`]: what dropping a future does to the operation it started, call by call.
//! - [`coming_from_tokio`]: each common tokio call and its proactor counterpart.
//! - [`observability`]: the `tracing` feature: which backend was chosen and why, fallbacks,
//!   thread-pool growth, every operation.
//! - [`serving_axum`]: an axum `Router` on proactor in a few lines (feature `hyper-server`).
//! - [`both_runtimes`]: protocol code written once over tokio's I/O traits, run on tokio and
//!   on proactor.

pub mod both_runtimes;
pub mod cancellation;
pub mod coming_from_tokio;
pub mod observability;
pub mod owned_buffers;
pub mod serving_axum;
