//! Protocol code for both runtimes: a library whose types carry the stream, written once and
//! run on tokio and on proactor.
//!
//! A library such as mini-redis keeps its stream inside its own types: a `Connection` that
//! owns a `TcpStream`, reads frames from it and writes frames to it, shared by the client and
//! the server. Such a type cannot be half-ported, one side on proactor and the other on tokio:
//! whoever builds a `Connection` decides which stream is in it.
//!
//! The answer is to make the stream a type parameter bounded by **tokio's I/O traits**,
//! `S: tokio::io::AsyncRead + AsyncWrite + Unpin`, and to leave connecting, accepting and
//! spawning to the caller:
//!
//! - on tokio, `S` is `tokio::net::TcpStream` (or a TLS stream, or `tokio::io::DuplexStream`
//!   in tests), exactly as before;
//! - on proactor, `S` is `Compat<proactor::net::TcpStream>` (feature `tokio`): the adapter
//!   gives proactor's streams tokio's traits, at the cost of one copy per direction (see
//!   `compat`'s documentation), and its reads are cancel safe in `select!` as tokio's are.
//!
//! tokio's traits need no tokio runtime: `tokio::io::BufWriter`, `AsyncReadExt::read_buf`,
//! `AsyncWriteExt::write_all` and the rest (tokio's `io-util` feature) are plain futures over
//! `poll_read` and `poll_write`, and run on proactor's tasks. There is no adapter the other way:
//! code written over proactor's owned-buffer [`AsyncRead`](crate::io::AsyncRead) and
//! [`AsyncWrite`](crate::io::AsyncWrite) needs proactor's streams, which need a proactor
//! runtime. So shared code goes over tokio's traits (or futures-io's, which `Compat` also
//! implements with feature `futures-io`), and code that only ever runs on proactor can use the
//! native traits and skip the copy.
//!
//! What stays runtime-specific is small and at the edges: `TcpStream::connect`,
//! `TcpListener::accept`, `spawn`, `sleep`. Take the stream ready-made (a
//! `Connection::new(stream)`, as mini-redis's already is), and where the library must spawn or
//! sleep itself, take that as an argument or put each runtime's version behind a feature.
//!
//! # Example: mini-redis's `Connection`, on both runtimes
//!
//! ```
//! use std::io;
//!
//! use bytes::{Buf, BytesMut};
//! use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
//!
//! /// One line of RESP: `+OK` or `-ERR ...` (mini-redis has more kinds; the shape is the same).
//! #[derive(Debug, PartialEq)]
//! enum Frame {
//!     Simple(String),
//!     Error(String),
//! }
//!
//! /// Frames over any stream with tokio's traits, the runtime's choice.
//! struct Connection<S> {
//!     stream: BufWriter<S>,
//!     buffer: BytesMut,
//! }
//!
//! impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
//!     fn new(stream: S) -> Connection<S> {
//!         Connection { stream: BufWriter::new(stream), buffer: BytesMut::with_capacity(4096) }
//!     }
//!
//!     /// The next frame; None when the peer closed between frames.
//!     async fn read_frame(&mut self) -> io::Result<Option<Frame>> {
//!         loop {
//!             if let Some(frame) = self.parse_frame()? {
//!                 return Ok(Some(frame));
//!             }
//!             if self.stream.read_buf(&mut self.buffer).await? == 0 {
//!                 return match self.buffer.is_empty() {
//!                     true => Ok(None),
//!                     false => Err(io::ErrorKind::UnexpectedEof.into()),
//!                 };
//!             }
//!         }
//!     }
//!
//!     fn parse_frame(&mut self) -> io::Result<Option<Frame>> {
//!         let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\r\n") else {
//!             return Ok(None);
//!         };
//!         let line = String::from_utf8(self.buffer[1..end].to_vec())
//!             .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
//!         let frame = match self.buffer.first() {
//!             Some(b'+') => Frame::Simple(line),
//!             Some(b'-') => Frame::Error(line),
//!             _ => return Err(io::ErrorKind::InvalidData.into()),
//!         };
//!         self.buffer.advance(end + 2);
//!         Ok(Some(frame))
//!     }
//!
//!     async fn write_frame(&mut self, frame: &Frame) -> io::Result<()> {
//!         let (kind, text) = match frame {
//!             Frame::Simple(text) => (b'+', text),
//!             Frame::Error(text) => (b'-', text),
//!         };
//!         self.stream.write_u8(kind).await?;
//!         self.stream.write_all(text.as_bytes()).await?;
//!         self.stream.write_all(b"\r\n").await?;
//!         self.stream.flush().await
//!     }
//! }
//!
//! /// The server's side: answers each PING, over whichever stream it is given.
//! async fn answer<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> io::Result<()> {
//!     let mut connection = Connection::new(stream);
//!     while let Some(frame) = connection.read_frame().await? {
//!         let reply = match frame {
//!             Frame::Simple(ping) if ping == "PING" => Frame::Simple("PONG".into()),
//!             _ => Frame::Error("ERR unknown command".into()),
//!         };
//!         connection.write_frame(&reply).await?;
//!     }
//!     Ok(())
//! }
//!
//! /// The client's side, the same way.
//! async fn ping<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> io::Result<Frame> {
//!     let mut connection = Connection::new(stream);
//!     connection.write_frame(&Frame::Simple("PING".into())).await?;
//!     connection.read_frame().await?.ok_or(io::ErrorKind::UnexpectedEof.into())
//! }
//!
//! // On proactor: the streams wrapped in `Compat`.
//! use proactor::compat::Compat;
//!
//! proactor::Runtime::new()?.block_on(async {
//!     let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let address = listener.local_addr()?;
//!     let server = proactor::spawn(async move {
//!         let (stream, _) = listener.accept().await?;
//!         answer(Compat::new(stream)).await
//!     });
//!     let stream = proactor::net::TcpStream::connect(address).await?;
//!     assert_eq!(ping(Compat::new(stream)).await?, Frame::Simple("PONG".into()));
//!     server.await.expect("server task")
//! })?;
//!
//! // On tokio: the same functions, tokio's streams as they are.
//! tokio::runtime::Builder::new_current_thread().enable_io().build()?.block_on(async {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let address = listener.local_addr()?;
//!     let server = tokio::spawn(async move {
//!         let (stream, _) = listener.accept().await?;
//!         answer(stream).await
//!     });
//!     let stream = tokio::net::TcpStream::connect(address).await?;
//!     assert_eq!(ping(stream).await?, Frame::Simple("PONG".into()));
//!     server.await.expect("server task")
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The client's `Connection` is dropped as soon as `ping` returns, which closes the stream;
//! the server's `read_frame` then sees the end between frames and returns `None`. On proactor,
//! `Compat` sends a write in the background once accepted, so `write_frame` ends with a
//! `flush`, as it must on tokio for the `BufWriter` anyway: a write not flushed when the
//! adapter drops is lost.
