//! Coming from tokio: each common tokio call and what to write instead.
//!
//! Two differences explain almost every row below:
//!
//! - **Buffers are owned.** `read(&mut buf)` becomes `read(buf)`, which gives the buffer back:
//!   `let (result, buf) = stream.read(buf).await;` (see [`owned_buffers`](super::owned_buffers)).
//!   A `Vec<u8>` is read into its spare capacity: tokio's `vec![0; n]` becomes
//!   `Vec::with_capacity(n)`.
//! - **Tasks are local.** A runtime is one thread; [`spawn`](crate::spawn) runs the task on
//!   the thread that called it, and the future need not be `Send`. Many threads means many
//!   runtimes, a [`RuntimeGroup`](crate::RuntimeGroup), each with its own driver; tasks never
//!   move between them.
//!
//! | tokio | proactor |
//! |---|---|
//! | `#[tokio::main]` | [`#[proactor::main]`](crate::main) (`backend = "epoll"`, `entries = N` to tune) |
//! | `#[tokio::test]` | [`#[proactor::test]`](crate::test) |
//! | `Runtime::new()?.block_on(f)` | [`Runtime::new()?.block_on(f)`](crate::Runtime::block_on) |
//! | `runtime::Builder::new_current_thread()` | [`Builder::new()`](crate::Builder) ... [`.build()`](crate::Builder::build) |
//! | `runtime::Builder::new_multi_thread().worker_threads(n)` | [`Builder::new().threads(n).build_group()`](crate::Builder::build_group): one runtime per thread, no work stealing |
//! | `tokio::spawn(f)` (`f: Send`) | [`proactor::spawn(f)`](crate::spawn) (`f` need not be `Send`; it stays on this thread) |
//! | `Handle::spawn(f)` from another thread, `tokio::spawn` on a multi-threaded runtime → `JoinHandle` (`Send`) | [`Handle::spawn(f)`](crate::Handle::spawn) (`f: Send`), [`RuntimeGroup::spawn(\|\| f)`](crate::RuntimeGroup::spawn) / [`spawn_on(i, \|\| f)`](crate::RuntimeGroup::spawn_on) (`f` made on the chosen thread, need not be `Send`) → [`RemoteJoinHandle`](crate::RemoteJoinHandle): `Send`, awaited from any thread or runtime, `abort()`, `is_finished()`; a runtime that is gone answers "cancelled" |
//! | `Runtime::spawn(f)` | [`Runtime::spawn(f)`](crate::Runtime::spawn) (from the runtime's thread; `f` need not be `Send`) |
//! | `runtime.metrics()`: `num_alive_tasks`, `spawned_tasks_count`, `worker_poll_count`, `worker_park_count`, `global_queue_depth`, `num_blocking_threads`, `blocking_queue_depth` | [`Runtime::metrics()`](crate::Runtime::metrics) / [`Runtime::current_metrics()`](crate::Runtime::current_metrics) → [`RuntimeMetrics`](crate::RuntimeMetrics): `num_alive_tasks`, `spawned_tasks_count`, `poll_count`, `park_count`, `turn_count`, `remote_queue_depth`, `num_timers`, `ops_in_flight_by_kind`, `thread_pool()` |
//! | libuv's `uv_run(loop, UV_RUN_ONCE / UV_RUN_NOWAIT / UV_RUN_DEFAULT)`, `uv_stop` | [`Runtime::run_once`](crate::Runtime::run_once), [`run_nowait`](crate::Runtime::run_nowait), [`run`](crate::Runtime::run), [`Handle::stop`](crate::Handle::stop): for a program that drives the runtime from a loop of its own |
//! | graceful shutdown: stop accepting, let requests finish, `rt.shutdown_timeout(d)` | a signal the tasks watch, then [`Runtime::shutdown_gracefully(d)`](crate::Runtime::shutdown_gracefully) / [`RuntimeGroup::shutdown_gracefully(d)`](crate::RuntimeGroup::shutdown_gracefully): runs the tasks until they finish or `d` passes, then drops the rest (tokio's `shutdown_timeout` cancels at once: dropping the runtime does that) |
//! | `Builder::on_thread_park`, `on_thread_unpark`, `on_thread_start`, `on_thread_stop` (libuv's prepare and check handles) | [`Builder::on_thread_park`](crate::Builder::on_thread_park), [`on_thread_unpark`](crate::Builder::on_thread_unpark) (around each wait in the driver), [`on_thread_start`](crate::Builder::on_thread_start), [`on_thread_stop`](crate::Builder::on_thread_stop) (a group's threads) |
//! | `task::LocalSet`, `spawn_local` | not needed: every task is local |
//! | `task::spawn_blocking(f)` | [`proactor::spawn_blocking(f)`](crate::spawn_blocking) |
//! | `task::yield_now()` | [`proactor::yield_now()`](crate::yield_now) |
//! | `JoinHandle`: `.await`, `abort()`, `is_finished()`, `abort_handle()` | [`JoinHandle`](crate::JoinHandle): the same; the error is a [`JoinError`](crate::JoinError); [`AbortHandle`](crate::task::AbortHandle) stays on the runtime's thread (not `Send`) |
//! | `task_local!`, `KEY.scope(v, f)`, `KEY.with(..)`, `KEY.get()` | [`proactor::task_local!`](crate::task_local), [`scope`](crate::task::LocalKey::scope), [`with`](crate::task::LocalKey::with), [`get`](crate::task::LocalKey::get): the same |
//! | `task::JoinSet`: `spawn`, `join_next`, `abort_all`, `shutdown`, `join_all` | [`task::JoinSet`](crate::task::JoinSet): the same names; its tasks report when they end, so `join_next` looks at no other |
//! | `TcpListener::bind(a)`, `accept()` | [`TcpListener::bind(a)`](crate::net::TcpListener::bind), [`accept()`](crate::net::TcpListener::accept) |
//! | an accept loop | or [`listener.incoming()`](crate::net::TcpListener::incoming) (std's name): one multishot accept for every connection, [`next()`](crate::net::Incoming::next) → `TcpStream` |
//! | `TcpStream::connect(a)` | [`TcpStream::connect(a)`](crate::net::TcpStream::connect) |
//! | `AsRawFd`/`AsFd` (`AsRawSocket`/`AsSocket` on Windows) on sockets, e.g. `SockRef::from(&stream)` | the same on every socket type: `TcpStream`, `TcpListener`, `TcpSocket`, `UdpSocket`, `UnixStream`, `UnixListener`, `UnixDatagram` |
//! | `TcpStream::from_std(s)`, `into_std()` (and on `TcpListener`, `UdpSocket`, `UnixStream`, `UnixListener`, `UnixDatagram`) | the same names on every socket type; [`into_std`](crate::net::TcpStream::into_std) refuses (`InvalidData`) while a stream holds bytes a cancelled read received, which std would never see |
//! | `TcpSocket::new_v4()`, `bind`, `set_reuseaddr`, `set_send_buffer_size`, `connect`, `listen` | [`net::TcpSocket`](crate::net::TcpSocket): the same names |
//! | `UdpSocket::bind`, `send_to(&buf, a)`, `recv_from(&mut buf)` | [`UdpSocket::bind`](crate::net::UdpSocket::bind), [`send_to(buf, a)`](crate::net::UdpSocket::send_to), [`recv_from(buf)`](crate::net::UdpSocket::recv_from) → `(result, buf)` |
//! | not in tokio: many datagrams per system call, with quinn-udp's `UdpSocketState::recv(.., &mut [IoSliceMut], &mut [RecvMeta])` / `send` or `nix`'s `recvmmsg`/`sendmmsg` on the raw socket | [`UdpSocket::recv_many(bufs, &mut meta)`](crate::net::UdpSocket::recv_many) → `(result, bufs)`, the count of datagrams that were waiting (at least one; never waits for the batch to fill), each one's length, source and truncation in a [`RecvMeta`](crate::net::RecvMeta); [`send_many_to(vec![(buf, addr), ..])`](crate::net::UdpSocket::send_many_to) and, connected, [`send_many(bufs)`](crate::net::UdpSocket::send_many) → how many were sent. One `recvmmsg`/`sendmmsg` per 32 on Linux (io_uring and epoll), one call each on macOS, the BSDs and Windows, the same results everywhere; an empty batch is `Ok(0)` |
//! | `UdpSocket::set_multicast_loop_v4`, `multicast_loop_v4`, `set_multicast_ttl_v4`, `multicast_ttl_v4`, `set_multicast_loop_v6`, `multicast_loop_v6`, `ttl` | [`set_multicast_loop_v4`](crate::net::UdpSocket::set_multicast_loop_v4), [`multicast_loop_v4`](crate::net::UdpSocket::multicast_loop_v4), [`set_multicast_ttl_v4`](crate::net::UdpSocket::set_multicast_ttl_v4), [`multicast_ttl_v4`](crate::net::UdpSocket::multicast_ttl_v4), [`set_multicast_loop_v6`](crate::net::UdpSocket::set_multicast_loop_v6), [`multicast_loop_v6`](crate::net::UdpSocket::multicast_loop_v6), [`ttl`](crate::net::UdpSocket::ttl): the same |
//! | `UdpSocket::set_tos_v4`, `tos_v4` (and the deprecated `set_tos`, `tos`) | [`set_tos_v4`](crate::net::UdpSocket::set_tos_v4), [`tos_v4`](crate::net::UdpSocket::tos_v4) |
//! | not in tokio: `SockRef::from(&socket)` with socket2's `set_multicast_if_v4`, `set_multicast_if_v6`, `set_multicast_hops_v6`, `join_ssm_v4` | on [`UdpSocket`](crate::net::UdpSocket) itself, socket2's names: [`set_multicast_if_v4`](crate::net::UdpSocket::set_multicast_if_v4) / [`multicast_if_v4`](crate::net::UdpSocket::multicast_if_v4) (interface by address), [`set_multicast_if_v6`](crate::net::UdpSocket::set_multicast_if_v6) / [`multicast_if_v6`](crate::net::UdpSocket::multicast_if_v6) (by index), [`set_multicast_hops_v6`](crate::net::UdpSocket::set_multicast_hops_v6) / [`multicast_hops_v6`](crate::net::UdpSocket::multicast_hops_v6), [`join_ssm_v4`](crate::net::UdpSocket::join_ssm_v4) / [`leave_ssm_v4`](crate::net::UdpSocket::leave_ssm_v4) (source-specific; addresses by value, as `join_multicast_v4`) |
//! | `UnixListener`, `UnixStream`, `UnixDatagram` | [`net::UnixListener`](crate::net::UnixListener), [`net::UnixStream`](crate::net::UnixStream), [`net::UnixDatagram`](crate::net::UnixDatagram) |
//! | `UnixDatagram::send_to(&buf, path)`, `recv_from(&mut buf)` → `(n, tokio::net::unix::SocketAddr)` (a path starting with `\0` is abstract on Linux) | [`UnixDatagram::send_to(buf, path)`](crate::net::UnixDatagram::send_to), [`recv_from(buf)`](crate::net::UnixDatagram::recv_from) → `(result, buf)`, the address std's `std::os::unix::net::SocketAddr` (`is_unnamed()` for an unbound sender); [`send_to_addr(buf, &addr)`](crate::net::UnixDatagram::send_to_addr) answers any address `recv_from` gave, abstract ones too, as std's `send_to_addr` |
//! | not in tokio: descriptor passing (`SCM_RIGHTS`) with `nix::sys::socket::sendmsg`/`recvmsg` or `passfd`, on the raw descriptor | [`UnixStream::send_with_fds(buf, &[fd.as_fd()])`](crate::net::UnixStream::send_with_fds), [`recv_with_fds(buf, max_fds)`](crate::net::UnixStream::recv_with_fds) → `(result, buf)` with `(n, Vec<OwnedFd>)`, and the same on [`UnixDatagram`](crate::net::UnixDatagram::send_with_fds), unconnected too with [`send_to_with_fds(buf, fds, path)`](crate::net::UnixDatagram::send_to_with_fds) and [`recv_from_with_fds(buf, max_fds)`](crate::net::UnixDatagram::recv_from_with_fds) → `(n, Vec<OwnedFd>, SocketAddr)`: sent descriptors are duplicated for the send, received ones close-on-exec and owned at once, so a receive cancelled or without room for all of them closes what came (`InvalidData`) instead of leaking it |
//! | `net::lookup_host(h)` | [`dns::lookup_host(h)`](crate::dns::lookup_host) |
//! | not in tokio (libuv's `uv_getaddrinfo` hints): `getaddrinfo` with `AF_INET`/`AF_INET6`, `SOCK_STREAM`/`SOCK_DGRAM`, `AI_ADDRCONFIG`, `AI_NUMERICHOST`, `AI_PASSIVE` | [`dns::lookup_host_with(host, port, &options)`](crate::dns::lookup_host_with) with [`LookupOptions`](crate::dns::LookupOptions): [`family`](crate::dns::LookupOptions::family) ([`Family::V4`](crate::dns::Family)/`V6`/`Any`), [`socket_type`](crate::dns::LookupOptions::socket_type), [`addrconfig`](crate::dns::LookupOptions::addrconfig), [`numeric_host`](crate::dns::LookupOptions::numeric_host) (a name is `InvalidInput`, never looked up), [`passive`](crate::dns::LookupOptions::passive) (`None` host: the wildcard addresses) |
//! | `AsyncReadExt::read(&mut buf)` → `n` | [`AsyncRead::read(buf)`](crate::io::AsyncRead::read) → `(result, buf)` |
//! | a read buffer per connection | or [`read_pooled(&pool)`](crate::net::TcpStream::read_pooled) / [`pooled_reads(&pool)`](crate::net::TcpStream::pooled_reads): buffers a [`BufferPool`](crate::io::BufferPool) lends only when bytes arrive (see [owned buffers](crate::guide::owned_buffers)) |
//! | `read_buf(&mut bytes_mut)` in `select!` | [`read_buf(&mut bytes_mut)`](crate::io::AsyncRead::read_buf): the same, cancel safe (not `read(mem::take(&mut buf))`, which gives up the buffer's bytes on cancel) |
//! | `TcpStream::peek(&mut buf)` | [`TcpStream::peek(buf)`](crate::net::TcpStream::peek) → `(result, buf)`: the bytes stay for the next read |
//! | `stream.readable().await?; stream.try_read(&mut buf)`, `writable`/`try_write`, `ready(Interest::READABLE \| Interest::WRITABLE)` | the same on [`TcpStream`](crate::net::TcpStream::try_read) (and its halves), [`UnixStream`](crate::net::UnixStream::try_read), [`UdpSocket`](crate::net::UdpSocket::try_recv_from) (`try_send`, `try_recv`, `try_send_to`, `try_recv_from`) and [`UnixDatagram`](crate::net::UnixDatagram::try_recv), with [`io::Interest`](crate::io::Interest) and [`io::Ready`](crate::io::Ready); waits ask the kernel afresh each time (level-triggered), and `try_read` returns a cancelled read's kept bytes first |
//! | `io::unix::AsyncFd::new(fd)`, `readable().await?`, `guard.try_io(..)`, `async_io` | [`io::unix::AsyncFd`](crate::io::unix::AsyncFd): the same names, through the driver on io_uring, epoll and kqueue (libuv's `uv_poll_t`); `clear_ready` has nothing to forget |
//! | `read_exact(&mut buf)` | [`read_exact(buf)`](crate::io::AsyncRead::read_exact) → `(result, buf)` |
//! | `read_to_end(&mut vec)` | [`read_to_end(vec)`](crate::io::AsyncRead::read_to_end) → `(result, vec)` |
//! | `read_to_string(&mut s)` | [`io::read_to_string(&mut reader)`](crate::io::read_to_string) → `String` |
//! | `AsyncWriteExt::write_all(&buf)` | [`AsyncWrite::write_all(buf)`](crate::io::AsyncWrite::write_all) → `(result, buf)` |
//! | `write_all(b"+OK\r\n")`, `write_all(&bytes)` | the same, with no copy: byte string literals and `bytes::Bytes` are [`IoBuf`](crate::IoBuf)s |
//! | `BufWriter::write_all(&borrowed)` | [`BufWriter::write_slice(&borrowed)`](crate::io::BufWriter::write_slice): copies into the buffer, which a `BufWriter` does anyway |
//! | `flush()`, `shutdown()` | [`flush()`](crate::io::AsyncWrite::flush), [`shutdown()`](crate::io::AsyncWrite::shutdown) |
//! | `stream.shutdown().await` on a `TcpStream` | a trap: `TcpStream` (and `UnixStream`) has std's inherent [`shutdown(how)`](crate::net::TcpStream::shutdown), which method lookup finds first, so `stream.shutdown()` does not compile; write `stream.shutdown(Shutdown::Write).await` or `AsyncWrite::shutdown(&mut stream).await` (the same on split halves) |
//! | `stream.split()` (borrowed halves) | `(&stream, &stream)`: [`&TcpStream`](crate::net::TcpStream) reads and writes |
//! | `stream.into_split()` | [`stream.into_split()`](crate::net::TcpStream::into_split) |
//! | `io::split(stream)` | [`io::split(stream)`](crate::io::split) |
//! | `io::duplex(n)` | [`io::duplex(n)`](crate::io::duplex): both ends `Send`, readable and writable through `&` as well |
//! | `BufReader`, `BufWriter`, `lines()`, `read_line` | [`io::BufReader`](crate::io::BufReader), [`io::BufWriter`](crate::io::BufWriter), the same methods |
//! | `io::copy_bidirectional(&mut a, &mut b)` | [`io::copy_bidirectional(&mut a, &mut b)`](crate::io::copy_bidirectional) → `(a to b, b to a)`, for streams that read and write through `&` (`TcpStream`, `UnixStream`, `DuplexStream`) |
//! | `io::copy(&mut r, &mut w)` | [`io::copy(&mut r, &mut w)`](crate::io::copy), which splices bulk streams inside the kernel on Linux when both ends are descriptors (small messages go through its buffer); a range of a file to a socket without the user-space copy: [`TcpStream::send_file`](crate::net::TcpStream::send_file) |
//! | `fs::read`, `fs::write`, `fs::File::open`, `create_dir_all`, ... | [`fs::read`](crate::fs::read), [`fs::write`](crate::fs::write), [`fs::File::open`](crate::fs::File::open), [`fs::create_dir_all`](crate::fs::create_dir_all), ...: the same names |
//! | `File::seek` + `read` | [`File::read_at(buf, offset)`](crate::fs::File::read_at), or the cursor: [`seek`](crate::fs::File::seek) and `read` |
//! | `time::sleep(d)`, `sleep_until(t)` | [`time::sleep(d)`](crate::time::sleep), [`time::sleep_until(t)`](crate::time::sleep_until) (`std::time::Instant`) |
//! | `time::pause()`, `time::advance(d).await`, `time::resume()`, `Builder::start_paused(true)`, `#[tokio::test(start_paused = true)]` | [`time::pause`](crate::time::pause), [`time::advance`](crate::time::advance), [`time::resume`](crate::time::resume), [`Builder::start_paused`](crate::Builder::start_paused), `#[proactor::test(start_paused = true)]`: the same, auto-advancing to the next timer when the runtime is idle |
//! | `time::Instant::now()` | [`time::now()`](crate::time::now) (a `std::time::Instant`: the runtime's clock, which a paused test moves by hand) |
//! | `time::timeout(d, f)` | [`time::timeout(d, f)`](crate::time::timeout) → `Result<T, Elapsed>` |
//! | `time::timeout(d, stream.read(..))` on every read (an idle or slow peer) | also [`TcpStream::set_read_timeout`](crate::net::TcpStream::set_read_timeout) / [`set_write_timeout`](crate::net::TcpStream::set_write_timeout), as std's: each read or write fails with `TimedOut` past the limit, timed by the kernel on io_uring (no runtime timer per read) |
//! | `time::interval(p)`, `interval_at(t, p)`, `tick()`, `reset()`, `MissedTickBehavior` | [`time::interval(p)`](crate::time::interval), [`interval_at(t, p)`](crate::time::interval_at), [`tick()`](crate::time::Interval::tick), [`reset()`](crate::time::Interval::reset), [`MissedTickBehavior`](crate::time::MissedTickBehavior) (`Burst` by default, as tokio's) |
//! | `time::timeout_at(t, f)` | [`time::timeout_at(t, f)`](crate::time::timeout_at) |
//! | `select!` | `tokio::select!` itself works on proactor's futures (it needs no tokio runtime; tokio's `macros` feature); so do [`time::timeout`](crate::time::timeout) for a deadline, a task and [`abort`](crate::JoinHandle::abort), a `poll_fn` race (below), and `futures::select!`. The branch that loses is dropped: see [cancellation](super::cancellation) for what each future gives up |
//! | `process::Command::new(p).output()` | [`process::Command::new(p).output()`](crate::process::Command::output) |
//! | `Child::start_kill()` | [`Child::start_kill()`](crate::process::Child::start_kill), the same as [`kill()`](crate::process::Child::kill) (std's shape: it does not wait) |
//! | `child.kill().await` (kills and waits) | [`child.kill()?`](crate::process::Child::kill) then [`child.wait().await?`](crate::process::Child::wait) |
//! | `Command::kill_on_drop(true)` | [`Command::kill_on_drop(true)`](crate::process::Command::kill_on_drop): the same; off by default, when a dropped child runs on and is reaped in the background |
//! | `Command::uid`, `gid`, `process_group`, `unsafe pre_exec` (Unix) | [`uid`](crate::process::Command::uid), [`gid`](crate::process::Command::gid), [`process_group`](crate::process::Command::process_group), [`unsafe pre_exec`](crate::process::Command::pre_exec): the same; `process_group(0)` and a dropped `Child` detach it |
//! | `Command::creation_flags`, `raw_arg` (Windows) | `Command::creation_flags`, `Command::raw_arg`: the same (`CREATE_NO_WINDOW` hides a console child's window) |
//! | not in tokio: `nix::sys::signal::kill(Pid::from_raw(child.id()), SIGTERM)` | [`child.send_signal(libc::SIGTERM)`](crate::process::Child::send_signal) (Unix): any signal, refused once the child was reaped, so it never reaches a process that took over the pid |
//! | `signal::ctrl_c()` | [`signal::ctrl_c()`](crate::signal::ctrl_c) |
//! | `signal::unix::signal(kind)`, `recv()` | [`signal::signal(kind)`](crate::signal::signal), [`recv()`](crate::signal::Signal::recv) |
//! | `sync::Mutex`, `mpsc`, `oneshot` between tasks | tasks of one runtime share a thread: `Rc<RefCell<_>>` needs no lock; between threads, executor-independent channels and locks (`tokio::sync`'s included) work on proactor's tasks |
//! | crates that need tokio's `AsyncRead`/`AsyncWrite` | `compat::Compat` (feature `tokio`), hyper through feature `hyper` |
//! | a library type generic over `S: tokio::io::AsyncRead + AsyncWrite + Unpin` (mini-redis's `Connection<S>`), given a `tokio::net::TcpStream` | the same type, given `Compat::new(proactor_stream)`: write such code once over tokio's traits (see [both runtimes](super::both_runtimes)) |
//! | `axum::serve(listener, router)` | `compat::hyper::serve(listener, router.into_make_service())` (feature `hyper-server`; see [serving axum](super::serving_axum)) |
//! | `router.into_make_service_with_connect_info::<SocketAddr>()`, `ConnectInfo<SocketAddr>` | the same, passed to `compat::hyper::serve` |
//! | `axum::serve(..).with_graceful_shutdown(signal)` | `compat::hyper::serve(..).with_graceful_shutdown(signal)`, and `.shutdown_timeout(limit)` to bound the wait |
//! | hyper-util's `server::conn::auto::Builder` (HTTP/1 and HTTP/2 on one port) | `compat::hyper::serve`, which picks the protocol from the first bytes; per connection, hyper's `http1::Builder` and `http2::Builder::new(HyperExecutor)` over `Compat` |
//! | `tokio::spawn` inside an axum handler | a handler's future must be `Send`: [`proactor::spawn`](crate::spawn) the proactor I/O and await its result through a channel (see [serving axum](super::serving_axum)) |
//!
//! # main, spawn, JoinHandle
//!
//! ```
//! use std::rc::Rc;
//!
//! #[proactor::main]
//! async fn main() -> std::io::Result<()> {
//!     // Not `Send`, and no LocalSet needed: the task runs on this thread.
//!     let shared = Rc::new(40);
//!     let task = proactor::spawn({
//!         let shared = Rc::clone(&shared);
//!         async move { *shared + 2 }
//!     });
//!     assert_eq!(task.await.expect("task"), 42);
//!
//!     let forever = proactor::spawn(std::future::pending::<()>());
//!     forever.abort();
//!     assert!(forever.await.unwrap_err().is_cancelled());
//!
//!     let sum = proactor::spawn_blocking(|| (1..=10u32).sum::<u32>()).await?;
//!     assert_eq!(sum, 55);
//!     Ok(())
//! }
//! ```
//!
//! # TCP: accept, read into an owned buffer, write, split
//!
//! ```
//! use proactor::io::{AsyncRead, AsyncWrite};
//! use proactor::net::{TcpListener, TcpStream};
//!
//! # proactor::Runtime::new()?.block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let address = listener.local_addr()?;
//! let server = proactor::spawn(async move {
//!     let (stream, _peer) = listener.accept().await?;
//!     // tokio: let (mut reader, mut writer) = stream.into_split();
//!     let (mut reader, mut writer) = stream.into_split();
//!     // tokio: let mut buf = [0; 1024]; let n = reader.read(&mut buf).await?;
//!     let mut buf = Vec::with_capacity(1024);
//!     loop {
//!         buf.clear();
//!         let (result, back) = reader.read(buf).await;
//!         buf = back;
//!         if result? == 0 {
//!             return writer.shutdown().await;
//!         }
//!         // tokio: writer.write_all(&buf[..n]).await?;
//!         let (result, back) = writer.write_all(buf).await;
//!         buf = back;
//!         result?;
//!     }
//! });
//!
//! let stream = TcpStream::connect(address).await?;
//! // tokio: let (mut reader, mut writer) = stream.split();
//! let (mut reader, mut writer) = (&stream, &stream);
//! let (result, _) = writer.write_all(&b"ping"[..]).await;
//! result?;
//! stream.shutdown(std::net::Shutdown::Write).await?;
//! // tokio: let mut reply = Vec::new(); reader.read_to_end(&mut reply).await?;
//! let (result, reply) = reader.read_to_end(Vec::new()).await;
//! result?;
//! assert_eq!(reply, b"ping");
//! server.await.expect("server task")?;
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Files
//!
//! ```
//! use proactor::fs;
//! use proactor::io::AsyncRead;
//!
//! # proactor::Runtime::new()?.block_on(async {
//! let dir = std::env::temp_dir().join(format!("proactor-guide-{}", std::process::id()));
//! fs::create_dir_all(&dir).await?;
//! let path = dir.join("notes.txt");
//! fs::write(&path, &b"first line\nsecond line\n"[..]).await?;
//! assert_eq!(fs::read_to_string(&path).await?.lines().count(), 2);
//!
//! // tokio: file.seek(SeekFrom::Start(6)).await?; file.read_exact(&mut buf).await?;
//! let file = fs::File::open(&path).await?;
//! let (result, word) = file.read_exact_at(Vec::with_capacity(4), 6).await;
//! result?;
//! assert_eq!(word, b"line");
//!
//! // Or read at the file's cursor, as a stream.
//! let mut file = file;
//! let (result, all) = file.read_to_end(Vec::new()).await;
//! assert_eq!(result?, 23);
//! assert!(all.starts_with(b"first"));
//! drop(file); // Windows removes no directory with a file open in it
//! fs::remove_dir_all(&dir).await?;
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Time, and what to use instead of `select!`
//!
//! There is no `select!` macro. A deadline is [`time::timeout`](crate::time::timeout); work to
//! stop on some event is a task you [`abort`](crate::JoinHandle::abort); and two futures race
//! with `std::future::poll_fn`, which polls both and drops the loser (mind its
//! [cancel-safety](super::cancellation)):
//!
//! ```
//! use std::future::Future;
//! use std::pin::pin;
//! use std::task::Poll;
//! use std::time::{Duration, Instant};
//! use proactor::time::{interval, sleep, timeout};
//!
//! enum Either<A, B> {
//!     Left(A),
//!     Right(B),
//! }
//!
//! /// Runs both futures; returns the first output and drops the other future.
//! async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
//!     let (mut a, mut b) = (pin!(a), pin!(b));
//!     std::future::poll_fn(|cx| {
//!         if let Poll::Ready(output) = a.as_mut().poll(cx) {
//!             return Poll::Ready(Either::Left(output));
//!         }
//!         b.as_mut().poll(cx).map(Either::Right)
//!     })
//!     .await
//! }
//!
//! # proactor::Runtime::new()?.block_on(async {
//! let start = Instant::now();
//! sleep(Duration::from_millis(5)).await;
//! assert!(start.elapsed() >= Duration::from_millis(5));
//!
//! // tokio: time::timeout(d, f).await
//! let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))).await;
//! assert!(slow.is_err());
//!
//! // tokio: select! { _ = ticks.tick() => ..., _ = sleep(d) => ... } in a loop
//! let mut ticks = interval(Duration::from_millis(2));
//! let mut deadline = pin!(sleep(Duration::from_millis(30)));
//! let mut count = 0;
//! loop {
//!     match race(ticks.tick(), deadline.as_mut()).await {
//!         Either::Left(_due) => count += 1,
//!         Either::Right(()) => break,
//!     }
//! }
//! assert!(count >= 2, "{count} ticks");
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Processes and signals
//!
//! ```ignore-windows
//! use std::time::Duration;
//! use proactor::process::Command;
//!
//! # proactor::Runtime::new()?.block_on(async {
//! let output = Command::new("sh").args(["-c", "echo hello"]).output().await?;
//! assert!(output.status.success());
//! assert_eq!(output.stdout, b"hello\n");
//!
//! // tokio: signal::ctrl_c().await?; here we send ourselves the Ctrl-C.
//! let ctrl_c = proactor::spawn(proactor::signal::ctrl_c());
//! proactor::yield_now().await; // the task starts listening when first polled
//! let pid = std::process::id().to_string();
//! Command::new("kill").args(["-INT", &pid]).status().await?;
//! proactor::time::timeout(Duration::from_secs(10), ctrl_c)
//!     .await?
//!     .expect("ctrl_c task")?;
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Many threads: `RuntimeGroup` instead of the multi-threaded runtime
//!
//! tokio's multi-threaded runtime moves tasks between threads (so they must be `Send`).
//! proactor runs one runtime per thread, each with its own driver and queues, and sends work
//! to one of them; a task stays where it started. To serve one port from every thread, bind
//! it on each with [`TcpListener::bind_reuse_port`](crate::net::TcpListener::bind_reuse_port)
//! (the kernel spreads connections), or accept on one and hand sockets over.
//!
//! ```
//! let group = proactor::Builder::new().threads(2).build_group()?;
//! // `run` starts one future per thread and waits for all of them.
//! let per_thread = group.run(|index| async move {
//!     let local = std::rc::Rc::new(index); // !Send is fine here
//!     proactor::spawn(async move { *local * 10 }).await.expect("task")
//! });
//! assert_eq!(per_thread, [0, 10]);
//! # Ok::<(), std::io::Error>(())
//! ```
