//! Cancellation: what dropping a future does to the operation it started.
//!
//! A future that is dropped before it completes (by [`time::timeout`](crate::time::timeout),
//! by a `select` that took another branch, by [`JoinHandle::abort`](crate::JoinHandle::abort),
//! by returning early) **cancels** its operation. With completion I/O the operation may
//! already be in the kernel, and may finish anyway in the moment before the cancel lands, so
//! proactor keeps three promises:
//!
//! 1. **Memory is safe**: the buffer stays alive inside the runtime until the kernel has let
//!    go of it, and is freed then. Nothing you can do from safe code frees it early.
//! 2. **A dropped read loses no bytes.** If the cancelled read on a stream had received bytes,
//!    the stream keeps them, and the next read returns them first (TCP and Unix streams,
//!    their halves, pipes and child stdio, the `compat` adapters). A file has no such race:
//!    its cursor moves only when a read completes, so the next read starts at the same place.
//! 3. **A descriptor made by a cancelled operation is closed**, never leaked: an `accept`,
//!    `connect` or `open` that completes after its future was dropped has its result closed.
//!
//! What a dropped **write** did is not known: the kernel may have taken some of the bytes
//! (they are sent), all of them, or none. For a byte stream that means its framing is lost,
//! so treat a dropped write like a failed one and end the connection; for a file at an offset,
//! write again (the write is positional, so repeating it is harmless).
//!
//! # A dropped read, and the next one
//!
//! The read below is started, polled once (the operation is now submitted), and dropped, as
//! a `select` that took another branch would drop it. The bytes it may have received are not
//! lost:
//!
//! ```
//! use std::future::Future;
//! use std::io::Write as _;
//! use std::pin::pin;
//! use std::task::Poll;
//! use proactor::io::AsyncRead;
//!
//! let runtime = proactor::Runtime::new()?;
//! runtime.block_on(async {
//!     let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//!     let mut stream = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
//!     let (mut peer, _) = listener.accept()?;
//!     peer.write_all(b"hello")?;
//!
//!     let mut received = Vec::new();
//!     {
//!         let mut read = pin!(stream.read(Vec::with_capacity(64)));
//!         let first_poll = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
//!         if let Poll::Ready((result, buffer)) = first_poll {
//!             result?;
//!             received = buffer;
//!         }
//!     } // dropped here: the read is cancelled, and may have received "hello" meanwhile
//!
//!     while received.len() < 5 {
//!         received.reserve(64); // reads fill spare capacity
//!         let (result, buffer) = stream.read(received).await;
//!         assert!(result? > 0);
//!         received = buffer;
//!     }
//!     assert_eq!(received, b"hello");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Call by call
//!
//! "Cancel-safe" means: dropping the future and calling again later behaves as if the first
//! call had never been made.
//!
//! | call | dropping its future | cancel-safe |
//! |---|---|---|
//! | [`AsyncRead::read`](crate::io::AsyncRead::read) on a stream | the bytes received are kept for the next read; **the buffer you passed goes with the future**, with whatever it held before the read (so `read(mem::take(&mut frame))` loses a half-read frame) | yes, for the stream's bytes |
//! | [`AsyncRead::read_buf`](crate::io::AsyncRead::read_buf)`(&mut BytesMut)` | nothing: the buffer stays yours with what it held (only its spare capacity was lent), and the bytes received are kept for the next read; the cancel-safe way to read into a buffer that holds part of a frame (tokio's `read_buf`) | yes |
//! | [`read_exact`](crate::io::AsyncRead::read_exact), [`read_to_end`](crate::io::AsyncRead::read_to_end) | the bytes already in the buffer go with it (the read in flight keeps its own) | no, as in tokio |
//! | [`AsyncWrite::write`](crate::io::AsyncWrite::write) | some, all or none of the bytes were sent | no |
//! | [`write_all`](crate::io::AsyncWrite::write_all) | a prefix of unknown length was sent | no, as in tokio |
//! | [`File`](crate::fs::File) `read`/`read_at` | nothing happened that matters: the cursor did not move | yes |
//! | [`File`](crate::fs::File) `write`/`write_at` | the bytes may or may not be in the file; the cursor did not move | repeat it |
//! | [`TcpListener::accept`](crate::net::TcpListener::accept) | a connection the kernel accepted meanwhile is closed | no (tokio's is): keep an accept loop in a task of its own rather than racing it against a timer |
//! | [`TcpStream::connect`](crate::net::TcpStream::connect) | the attempt is abandoned and the socket closed | yes |
//! | [`UdpSocket::recv`](crate::net::UdpSocket::recv), [`recv_from`](crate::net::UdpSocket::recv_from) | a datagram it had received is dropped | no |
//! | [`BufReader`](crate::io::BufReader) `fill_buf`, `read`, `read_until` | nothing is lost; `read_until` leaves what it found in your vector | yes |
//! | [`BufReader::read_line`](crate::io::BufReader::read_line), [`Lines::next_line`](crate::io::Lines::next_line) | the part of the line read so far is lost | no, as in tokio |
//! | [`io::copy`](crate::io::copy) | bytes read but not yet written are dropped (up to 64 KiB, or the splice pipe's 256 KiB); the writer has a prefix, in order | no |
//! | [`time::sleep`](crate::time::sleep), [`Interval::tick`](crate::time::Interval::tick) | the timer stops; the next `tick` waits for the same deadline | yes |
//! | [`time::timeout`](crate::time::timeout) | drops the inner future: its row applies | as the inner future |
//! | [`Signal::recv`](crate::signal::Signal::recv) | a delivery is kept for the next call | yes |
//! | [`signal::ctrl_c`](crate::signal::ctrl_c) | each call makes a listener when first polled, so a Ctrl-C between two calls is missed | make one [`signal`](crate::signal::signal) and `recv` it in a loop |
//! | [`Child::wait`](crate::process::Child::wait) | the child runs on and can be waited for again | yes |
//! | path operations ([`fs::rename`](crate::fs::rename), [`fs::create_dir`](crate::fs::create_dir), ...) | the operation may or may not have happened | check before repeating |
//! | [`JoinHandle`](crate::JoinHandle) | the task is detached and runs on; [`abort`](crate::JoinHandle::abort) stops it | yes |
//! | [`spawn_blocking`](crate::spawn_blocking)'s handle | the closure runs to its end; its output is dropped | yes |
//!
//! Dropping a whole task (ending the runtime, or [`JoinHandle::abort`](crate::JoinHandle::abort))
//! drops every future in it, each with its row above.
