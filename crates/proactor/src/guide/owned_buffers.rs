//! Owned buffers, and why.
//!
//! With completion I/O the kernel writes into the buffer *after* the call that started the
//! read has returned, and keeps doing so until the completion arrives. A `&mut [u8]` borrowed
//! by a future cannot promise that: the future can be dropped (by a timeout, a `select`) while
//! the kernel still holds the pointer, and the memory would be freed or reused under it. So
//! every proactor operation takes its buffer **by value** and gives it back with the result,
//! as a [`BufResult`](crate::BufResult) `(io::Result<T>, B)`, whether it succeeded, failed or
//! was cancelled. A dropped operation's buffer stays alive inside the runtime until the
//! kernel has let go of it.
//!
//! The buffer types are those of [`IoBuf`](crate::IoBuf): `Vec<u8>` and [`BytesMut`] (reads
//! fill their spare capacity and grow their length; writes send their contents), `Box<[u8]>`
//! (reads fill all of it), `&'static [u8]` (write only) and a [`Slice`](crate::Slice) of any
//! of them, to read into or write from a range.
//!
//! [`BytesMut`]: https://docs.rs/bytes/1/bytes/struct.BytesMut.html
//!
//! # A read returns its buffer
//!
//! ```
//! use proactor::io::AsyncRead;
//!
//! let runtime = proactor::Runtime::new()?;
//! runtime.block_on(async {
//!     let mut file = proactor::fs::File::open("Cargo.toml").await?;
//!     // Room for 9 bytes: the read fills the spare capacity and sets the length.
//!     let (result, buffer) = file.read(Vec::with_capacity(9)).await;
//!     let count = result?;
//!     assert_eq!(count, 9);
//!     assert_eq!(buffer, b"[package]");
//!
//!     // The same buffer again, for the next bytes: clear it, keep its allocation.
//!     let mut buffer = buffer;
//!     buffer.clear();
//!     let (result, buffer) = file.read(buffer).await;
//!     assert!(result? > 0);
//!     assert_eq!(buffer.capacity(), 9, "no new allocation");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Living with it
//!
//! - **A read needs room**: `Vec::with_capacity(n)` (or `reserve(n)`), not `vec![0; n]`,
//!   whose bytes are all in use (a read into it fails with `InvalidInput`); or a
//!   `Box<[u8]>`, which is filled whole.
//! - **Reuse one buffer per connection**: read into it, write it out, clear it. A loop of
//!   reads allocates nothing after the first.
//! - **Errors give the buffer back too**: `let (result, buf) = ...; result?;` drops it, which
//!   is fine when you are leaving anyway; match on `result` to keep it.
//! - **Read into part of a buffer** with [`IoBuf::slice`](crate::IoBuf::slice) and recover the
//!   whole with [`Slice::into_inner`](crate::Slice::into_inner):
//!
//! ```
//! use proactor::io::AsyncRead;
//! use proactor::IoBuf;
//!
//! let runtime = proactor::Runtime::new()?;
//! runtime.block_on(async {
//!     let mut file = proactor::fs::File::open("Cargo.toml").await?;
//!     let header = *b"head:     ";
//!     let buffer: Box<[u8]> = Box::new(header);
//!     // Read 5 bytes into bytes 5..10, after the header.
//!     let (result, slice) = file.read_exact(buffer.slice(5..)?).await;
//!     result?;
//!     assert_eq!(&*slice.into_inner(), b"head:[pack");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! - **`&mut` APIs on top**: [`BufReader`](crate::io::BufReader) and
//!   [`BufWriter`](crate::io::BufWriter) own a buffer internally and offer
//!   `read_line(&mut String)`, `read_until(byte, &mut Vec<u8>)` and
//!   [`lines`](crate::io::BufReader::lines); [`io::read_to_string`](crate::io::read_to_string)
//!   and [`fs::read`](crate::fs::read) return fresh values.
//! - **Poll-based crates** (anything written against tokio's or futures' `AsyncRead` with
//!   `&mut [u8]`) use the `compat` adapters (features `tokio`, `futures-io`), which own one
//!   buffer per direction and copy between it and yours: one copy, which the native API
//!   avoids.
//!
//! # Buffers lent when bytes arrive: pooled reads
//!
//! A read parks its buffer with the kernel until bytes come, so ten thousand idle
//! connections hold ten thousand buffers. A [`BufferPool`](crate::io::BufferPool) is a set of
//! equal-size buffers the runtime's driver lends instead, only when bytes are there (on
//! io_uring the kernel picks one from a provided-buffer ring; elsewhere the backend takes one
//! when the socket is readable). [`TcpStream::read_pooled`](crate::net::TcpStream::read_pooled)
//! reads once; [`pooled_reads`](crate::net::TcpStream::pooled_reads) keeps receiving from one
//! submission (io_uring's multishot receive). A lent
//! [`PooledBuffer`](crate::io::PooledBuffer) derefs to the bytes, can be written as it is
//! (it is an [`IoBuf`](crate::IoBuf)), and goes back to its pool when dropped, on any thread.
//! When every buffer is out, reads wait for one to come back: size the pool for what your
//! code holds at once, not for the connections (measured on this project's echo server:
//! about 1.1–1.5 KB per idle connection with a 1,024-buffer pool, against 5.1 KB with a
//! 4 KiB buffer each).
//!
//! With untrusted peers, a pool shared by every connection is also a way to stall them all: a
//! peer that sends but never reads what is written back makes your code hold a buffer per
//! such connection. Two settings close that (the `echo` example uses both):
//! [`allocate_when_empty(true)`](crate::io::BufferPool::allocate_when_empty), so a read that
//! finds the pool empty gets a buffer allocated for it instead of waiting, and
//! [`set_write_timeout`](crate::net::TcpStream::set_write_timeout), so a write the peer never
//! takes fails and the connection (with its buffer) goes.
//!
//! ```
//! use proactor::io::{AsyncWrite, BufferPool};
//! use proactor::net::{TcpListener, TcpStream};
//!
//! let runtime = proactor::Runtime::new()?;
//! runtime.block_on(async {
//!     // One pool for every connection of this runtime.
//!     let pool = BufferPool::new(4096, 256)?;
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (server, _) = listener.accept().await?;
//!     client.write_all(&b"ping"[..]).await.0?;
//!     // An echo: each buffer received is written back as it is, then goes back to the pool.
//!     let mut reads = server.pooled_reads(&pool);
//!     let mut writer = &server;
//!     let buffer = reads.next().await.expect("not the end")?;
//!     assert_eq!(&buffer[..], b"ping");
//!     writer.write_all(buffer).await.0?;
//!     assert_eq!(pool.available(), 256, "the buffer is back");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
