//! `proactor::compat::Compat`: tokio's and futures-io's traits over proactor's streams, run
//! once per backend (`io_uring::tokio_echo_over_tcp`, `epoll::...`, `iocp::...` on Windows,
//! where the stream pairs are TCP and the child that copies its stdin is `find`). The crate's
//! dev-dependency on itself turns the `futures-io` and `tokio` features on for these tests.

mod common;

use std::future::poll_fn;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{broken_writer, per_backend, run, stream_pair, tcp_pair};
use proactor::compat::Compat;
use proactor::fs::{File, OpenOptions};
use proactor::io::AsyncRead as _;
use proactor::io::AsyncWrite as _;
#[cfg(unix)]
use proactor::net::UnixStream;
use proactor::process::{Command, Stdio};
use proactor::time::{sleep, timeout};
use proactor::{spawn, Runtime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

per_backend! {
    tokio_echo_over_tcp,
    #[cfg(unix)]
    tokio_lines_over_unix,
    futures_io_round_trip,
    child_stdio_through_cat,
    file_cursor_reads_and_writes,
    no_bytes_lost_when_poll_reads_are_abandoned,
    into_inner_gives_buffered_bytes_back,
    // Windows fails a receive after a reset with WSAECONNRESET (closesocket's documentation:
    // after a hard close "any recv call on the remote side of the circuit will fail with
    // WSAECONNRESET"), but Wine 8 reads the end of the stream instead: std's own blocking
    // TcpStream reads Ok(0) there after a linger-0 close and after a close with unread bytes,
    // while its writes already fail with WSAECONNRESET. The file case below runs everywhere.
    #[cfg_attr(windows, ignore = "Wine 8 reads a connection reset as the end of the stream")]
    read_errors_repeat,
    file_read_errors_repeat,
    write_errors_repeat,
    closed_child_stdin_is_an_error,
    outside_a_runtime_is_an_error,
    vectored_writes_gather,
    consume_saturates,
    pooled_reads_echo_over_tcp,
    no_bytes_lost_when_pooled_poll_reads_are_abandoned,
    a_waiting_pooled_adapter_holds_no_buffer,
    into_inner_gives_pooled_bytes_back,
    tokio_select_races_proactor_futures,
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|n| (n.wrapping_mul(31).wrapping_add(seed) % 251) as u8)
        .collect()
}

/// A child that copies its stdin to its stdout: `cat`, or on Windows `find "x"`, which copies
/// the lines that have an `x` in them (see [`cat_input`]).
fn cat() -> Command {
    #[cfg(unix)]
    return Command::new("cat");
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt as _;
        let mut find = Command::new("find");
        // find wants its string in quotes, which std adds only around spaces.
        find.as_std_mut().raw_arg("\"x\"");
        find
    }
}

/// About `len` bytes for [`cat`] to copy back unchanged: any bytes for `cat`; for `find`,
/// CRLF-ended lines that each have an `x`.
fn cat_input(len: usize, seed: u32) -> Vec<u8> {
    if cfg!(unix) {
        return pattern(len, seed);
    }
    let mut text = Vec::with_capacity(len + 64);
    let mut line = 0u32;
    while text.len() < len {
        let filler = "abcdefghijklmnopqrstuvwyz".repeat(line as usize % 7);
        text.extend_from_slice(format!("x {seed} {line} {filler}\r\n").as_bytes());
        line += 1;
    }
    text
}

fn tokio_echo_over_tcp(runtime: Runtime) {
    run(&runtime, async {
        let (server, client) = tcp_pair().await;
        let echo = spawn(async move {
            let (reader, writer) = server.into_split();
            let (mut reader, mut writer) = (Compat::new(reader), Compat::new(writer));
            let copied = tokio::io::copy(&mut reader, &mut writer).await.unwrap();
            writer.shutdown().await.unwrap();
            copied
        });
        let bytes = pattern(2_000_000, 1);
        let (reader, writer) = client.into_split();
        let to_send = bytes.clone();
        let send = spawn(async move {
            let mut writer = Compat::with_capacity(7000, writer);
            for chunk in to_send.chunks(100_000) {
                writer.write_all(chunk).await.unwrap();
            }
            writer.shutdown().await.unwrap();
        });
        let mut reader = Compat::new(reader);
        let mut got = Vec::new();
        reader.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), bytes.len());
        assert!(got == bytes, "every byte once and in order");
        send.await.unwrap();
        assert_eq!(echo.await.unwrap(), bytes.len() as u64);
    });
}

#[cfg(unix)]
fn tokio_lines_over_unix(runtime: Runtime) {
    use tokio::io::AsyncBufReadExt as _;
    run(&runtime, async {
        let (a, b) = UnixStream::pair().unwrap();
        let writer = spawn(async move {
            let mut a = Compat::new(a);
            for n in 0..500 {
                a.write_all(format!("line {n}\n").as_bytes()).await.unwrap();
            }
            a.flush().await.unwrap();
        });
        let mut lines = Compat::with_capacity(64, b).lines();
        for n in 0..500 {
            assert_eq!(
                lines.next_line().await.unwrap().unwrap(),
                format!("line {n}")
            );
        }
        writer.await.unwrap();
        // The writer's adapter (and stream) is gone: end of stream.
        assert_eq!(lines.next_line().await.unwrap(), None);
    });
}

/// `futures_io`'s traits through `poll_fn`, as a futures-based crate would drive them.
fn futures_io_round_trip(runtime: Runtime) {
    use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
    run(&runtime, async {
        let (a, b) = stream_pair().await;
        let (mut a, mut b) = (Compat::new(a), Compat::new(b));
        let bytes = pattern(100_000, 2);
        let mut sent = 0;
        while sent < bytes.len() {
            sent += poll_fn(|cx| Pin::new(&mut a).poll_write(cx, &bytes[sent..]))
                .await
                .unwrap();
        }
        poll_fn(|cx| Pin::new(&mut a).poll_close(cx)).await.unwrap();
        let mut got = Vec::new();
        let mut small = [0u8; 333];
        loop {
            // Alternate copying reads and borrowed reads of the adapter's buffer.
            let count = if got.len() % 2 == 0 {
                poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut small))
                    .await
                    .unwrap()
            } else {
                let available = poll_fn(|cx| {
                    Pin::new(&mut b)
                        .poll_fill_buf(cx)
                        .map_ok(|available| available.to_vec())
                })
                .await
                .unwrap();
                got.extend_from_slice(&available);
                Pin::new(&mut b).consume(available.len());
                if available.is_empty() {
                    break;
                }
                continue;
            };
            if count == 0 {
                break;
            }
            got.extend_from_slice(&small[..count]);
        }
        assert!(got == bytes, "every byte once and in order");
        // An empty read and an empty write do nothing.
        assert_eq!(
            poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut []))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            poll_fn(|cx| Pin::new(&mut b).poll_write(cx, b""))
                .await
                .unwrap(),
            0
        );
    });
}

fn child_stdio_through_cat(runtime: Runtime) {
    run(&runtime, async {
        let mut child = cat()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = Compat::new(child.stdin.take().unwrap());
        let mut stdout = Compat::new(child.stdout.take().unwrap());
        let bytes = cat_input(300_000, 3);
        let to_send = bytes.clone();
        let feed = spawn(async move {
            stdin.write_all(&to_send).await.unwrap();
            stdin.shutdown().await.unwrap();
        });
        let mut got = Vec::new();
        stdout.read_to_end(&mut got).await.unwrap();
        assert!(got == bytes);
        feed.await.unwrap();
        assert!(child.wait().await.unwrap().success());
    });
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "proactor-compat-test-{}-{name}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ))
}

fn file_cursor_reads_and_writes(runtime: Runtime) {
    let path = temp_path("file");
    run(&runtime, async {
        let bytes = pattern(200_000, 4);
        let mut file = Compat::with_capacity(4096, File::create(&path).await.unwrap());
        file.write_all(&bytes).await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(file.get_ref().position(), bytes.len() as u64);
        drop(file);
        let mut file = Compat::new(File::open(&path).await.unwrap());
        let mut head = [0u8; 10];
        file.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, &bytes[..10]);
        // Switching back to the native API: the cursor moves back over what the adapter
        // buffered but did not hand out.
        let mut native = file.into_inner();
        assert_eq!(native.position(), 10);
        let (result, rest) = native.read_to_end(Vec::new()).await;
        result.unwrap();
        assert!(rest == bytes[10..]);
        // Append mode writes at the end whatever the cursor says.
        let mut log = Compat::new(OpenOptions::new().append(true).open(&path).await.unwrap());
        log.write_all(b"tail").await.unwrap();
        log.shutdown().await.unwrap();
        let mut all = Vec::new();
        Compat::new(File::open(&path).await.unwrap())
            .read_to_end(&mut all)
            .await
            .unwrap();
        assert_eq!(&all[bytes.len()..], b"tail");
    });
    let _ = std::fs::remove_file(&path);
}

fn no_bytes_lost_when_poll_reads_are_abandoned(runtime: Runtime) {
    run(&runtime, async {
        let (server, client) = tcp_pair().await;
        let bytes = pattern(4_000_000, 5);
        let to_send = bytes.clone();
        let writer = spawn(async move {
            let mut server = server;
            for chunk in to_send.chunks(20_000) {
                server.write_all(chunk.to_vec()).await.0.unwrap();
                sleep(Duration::from_micros(50)).await;
            }
        });
        let mut reader = Compat::with_capacity(8192, client);
        let mut got = Vec::with_capacity(bytes.len());
        let mut storage = vec![0u8; 3000];
        let mut abandoned = 0u32;
        let mut round = 0u64;
        while got.len() < bytes.len() {
            round += 1;
            // A read future raced against a short timer, as in a select!: when the timer
            // wins, the read is dropped part way.
            let wait = Duration::from_micros(1 + round * 13 % 50);
            match timeout(wait, reader.read(&mut storage)).await {
                Err(_) => abandoned += 1,
                Ok(count) => {
                    let count = count.unwrap();
                    assert_ne!(count, 0, "the stream ended early");
                    got.extend_from_slice(&storage[..count]);
                }
            }
        }
        assert!(
            got == bytes,
            "every byte once and in order after {abandoned} abandoned reads"
        );
        assert!(abandoned > 0, "the timers abandoned no read");
        writer.await.unwrap();
    });
}

fn into_inner_gives_buffered_bytes_back(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, b) = stream_pair().await;
        // A read in flight when the adapter is given up: the stream keeps its bytes.
        let mut adapter = Compat::new(b);
        let mut storage = [0u8; 5];
        assert!(
            timeout(Duration::from_millis(20), adapter.read(&mut storage))
                .await
                .is_err()
        );
        let mut b = adapter.into_inner();
        a.write_all(&b"after"[..]).await.0.unwrap();
        let (count, buffer) = b.read(Vec::with_capacity(16)).await;
        assert_eq!(&buffer[..count.unwrap()], b"after");
        // Bytes buffered and not handed out go back to the stream, before newer ones.
        a.write_all(&b"hello world"[..]).await.0.unwrap();
        let mut adapter = Compat::new(b);
        adapter.read_exact(&mut storage).await.unwrap();
        assert_eq!(&storage, b"hello");
        let mut b = adapter.into_inner();
        a.write_all(&b"!"[..]).await.0.unwrap();
        drop(a);
        let (result, rest) = b.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(rest, b" world!");
    });
}

fn read_errors_repeat(runtime: Runtime) {
    run(&runtime, async {
        let (server, client) = tcp_pair().await;
        // Closing with linger 0 sends a reset.
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        sleep(Duration::from_millis(20)).await;
        let mut reader = Compat::new(client);
        let mut storage = [0u8; 16];
        let first = reader.read(&mut storage).await.unwrap_err();
        assert_eq!(first.kind(), ErrorKind::ConnectionReset);
        for _ in 0..3 {
            let again = reader.read(&mut storage).await.unwrap_err();
            assert_eq!(again.kind(), first.kind());
            assert_eq!(again.raw_os_error(), first.raw_os_error());
        }
        let again = poll_fn(|cx| {
            tokio::io::AsyncBufRead::poll_fill_buf(Pin::new(&mut reader), cx).map_ok(|_| ())
        })
        .await
        .unwrap_err();
        assert_eq!(again.kind(), ErrorKind::ConnectionReset);
    });
}

/// A read error from a file (reading one opened only for writing) repeats, as one from a socket
/// does.
fn file_read_errors_repeat(runtime: Runtime) {
    let path = temp_path("write-only");
    run(&runtime, async {
        let mut reader = Compat::new(File::create(&path).await.unwrap());
        let mut storage = [0u8; 16];
        let first = reader.read(&mut storage).await.unwrap_err();
        assert!(first.raw_os_error().is_some(), "{first:?}");
        for _ in 0..3 {
            let again = reader.read(&mut storage).await.unwrap_err();
            assert_eq!(again.kind(), first.kind());
            assert_eq!(again.raw_os_error(), first.raw_os_error());
        }
        let again = poll_fn(|cx| {
            futures_io::AsyncBufRead::poll_fill_buf(Pin::new(&mut reader), cx).map_ok(|_| ())
        })
        .await
        .unwrap_err();
        assert_eq!(again.raw_os_error(), first.raw_os_error());
        // The writing direction is not affected.
        reader.write_all(b"still writable").await.unwrap();
        reader.shutdown().await.unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"still writable");
    let _ = std::fs::remove_file(&path);
}

fn write_errors_repeat(runtime: Runtime) {
    run(&runtime, async {
        let mut writer = Compat::new(broken_writer().await);
        // The write is accepted, then fails in flight; the flush reports it.
        writer.write_all(b"to nobody").await.unwrap();
        let first = writer.flush().await.unwrap_err();
        assert_eq!(first.kind(), ErrorKind::BrokenPipe);
        let again = writer.write(b"more").await.unwrap_err();
        assert_eq!(again.raw_os_error(), first.raw_os_error());
        assert_eq!(
            writer.flush().await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
        assert_eq!(
            writer.shutdown().await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
    });
}

fn closed_child_stdin_is_an_error(runtime: Runtime) {
    run(&runtime, async {
        let mut child = cat()
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = Compat::new(child.stdin.take().unwrap());
        stdin.write_all(&cat_input(10, 6)).await.unwrap();
        stdin.shutdown().await.unwrap();
        stdin.shutdown().await.unwrap();
        let error = stdin.write(b"late").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
        // The native stdin is closed too.
        let mut native = stdin.into_inner();
        assert_eq!(
            native.write(&b"late"[..]).await.0.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
        assert!(child.wait().await.unwrap().success());
    });
}

fn outside_a_runtime_is_an_error(runtime: Runtime) {
    let (a, b) = runtime.block_on(stream_pair());
    let (mut a, mut b) = (Compat::new(a), Compat::new(b));
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut storage = [0u8; 4];
    let mut buf = tokio::io::ReadBuf::new(&mut storage);
    let Poll::Ready(Err(error)) =
        tokio::io::AsyncRead::poll_read(Pin::new(&mut b), &mut cx, &mut buf)
    else {
        panic!("a read outside a runtime must fail at once");
    };
    assert!(
        error.to_string().contains("outside a proactor runtime"),
        "{error}"
    );
    let Poll::Ready(Err(error)) =
        tokio::io::AsyncWrite::poll_write(Pin::new(&mut a), &mut cx, b"x")
    else {
        panic!("a write outside a runtime must fail at once");
    };
    assert!(
        error.to_string().contains("outside a proactor runtime"),
        "{error}"
    );
    // Back inside, the same adapters work.
    run(&runtime, async {
        a.write_all(b"inside").await.unwrap();
        a.flush().await.unwrap();
        let mut got = [0u8; 6];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"inside");
    });
}

fn vectored_writes_gather(runtime: Runtime) {
    use std::io::IoSlice;
    run(&runtime, async {
        let (a, mut b) = stream_pair().await;
        let mut writer = Compat::with_capacity(10, a);
        assert!(tokio::io::AsyncWrite::is_write_vectored(&writer));
        let pieces = [
            IoSlice::new(b"abcd"),
            IoSlice::new(b""),
            IoSlice::new(b"efgh"),
            IoSlice::new(b"ijkl"),
        ];
        // As many bytes as the buffer holds, in order, across the pieces.
        assert_eq!(writer.write_vectored(&pieces).await.unwrap(), 10);
        let rest = [IoSlice::new(b"kl"), IoSlice::new(b"mn")];
        let written = poll_fn(|cx| {
            futures_io::AsyncWrite::poll_write_vectored(Pin::new(&mut writer), cx, &rest)
        })
        .await
        .unwrap();
        assert_eq!(written, 4);
        assert_eq!(
            writer.write_vectored(&[IoSlice::new(b"")]).await.unwrap(),
            0
        );
        writer.shutdown().await.unwrap();
        let (result, got) = b.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(got, b"abcdefghijklmn");
    });
}

/// `AsyncBufRead::consume` with more than is buffered (`usize::MAX` included) drops what is
/// buffered and no more: no overflow panic, and the next read gets what follows.
fn consume_saturates(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, b) = stream_pair().await;
        a.write_all(&b"0123456789"[..]).await.0.unwrap();
        drop(a);
        let mut reader = Compat::with_capacity(4, b);
        let first = poll_fn(|cx| {
            tokio::io::AsyncBufRead::poll_fill_buf(Pin::new(&mut reader), cx).map_ok(<[u8]>::to_vec)
        })
        .await
        .unwrap();
        assert_eq!(first, b"0123");
        tokio::io::AsyncBufRead::consume(Pin::new(&mut reader), 1);
        tokio::io::AsyncBufRead::consume(Pin::new(&mut reader), usize::MAX);
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"456789");
    });
}

/// `Compat::with_pool`: an echo through adapters whose reads take pool buffers, with a pool
/// smaller than what is in flight (so reads wait for buffers to come back), gets every byte
/// once and in order, and every buffer is back in the pool at the end.
fn pooled_reads_echo_over_tcp(runtime: Runtime) {
    run(&runtime, async {
        let pool = proactor::io::BufferPool::new(4096, 4).unwrap();
        let (server, client) = tcp_pair().await;
        let server_pool = pool.clone();
        let echo = spawn(async move {
            let (reader, writer) = server.into_split();
            let mut reader = Compat::with_pool(&server_pool, reader);
            let mut writer = Compat::new(writer);
            let copied = tokio::io::copy(&mut reader, &mut writer).await.unwrap();
            writer.shutdown().await.unwrap();
            copied
        });
        let bytes = pattern(2_000_000, 11);
        let (reader, writer) = client.into_split();
        let to_send = bytes.clone();
        let send = spawn(async move {
            let mut writer = Compat::new(writer);
            for chunk in to_send.chunks(100_000) {
                writer.write_all(chunk).await.unwrap();
            }
            writer.shutdown().await.unwrap();
        });
        let mut reader = Compat::with_pool(&pool, reader);
        let mut got = Vec::new();
        reader.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), bytes.len());
        assert!(got == bytes, "every byte once and in order");
        send.await.unwrap();
        assert_eq!(echo.await.unwrap(), bytes.len() as u64);
        drop(reader);
        assert_eq!(pool.available(), 4, "every buffer back");
    });
}

/// As `no_bytes_lost_when_poll_reads_are_abandoned`, through a pool.
fn no_bytes_lost_when_pooled_poll_reads_are_abandoned(runtime: Runtime) {
    run(&runtime, async {
        let pool = proactor::io::BufferPool::new(8192, 8).unwrap();
        let (server, client) = tcp_pair().await;
        let bytes = pattern(4_000_000, 12);
        let to_send = bytes.clone();
        let writer = spawn(async move {
            let mut server = server;
            for chunk in to_send.chunks(20_000) {
                server.write_all(chunk.to_vec()).await.0.unwrap();
                sleep(Duration::from_micros(50)).await;
            }
        });
        let mut reader = Compat::with_pool(&pool, client);
        let mut got = Vec::with_capacity(bytes.len());
        let mut storage = vec![0u8; 3000];
        let mut abandoned = 0u32;
        let mut round = 0u64;
        while got.len() < bytes.len() {
            round += 1;
            let wait = Duration::from_micros(1 + round * 13 % 50);
            match timeout(wait, reader.read(&mut storage)).await {
                Err(_) => abandoned += 1,
                Ok(count) => {
                    let count = count.unwrap();
                    assert_ne!(count, 0, "the stream ended early");
                    got.extend_from_slice(&storage[..count]);
                }
            }
        }
        assert!(
            got == bytes,
            "every byte once and in order after {abandoned} abandoned reads"
        );
        assert!(abandoned > 0, "the timers abandoned no read");
        writer.await.unwrap();
        drop(reader);
        assert_eq!(pool.available(), 8, "every buffer back");
    });
}

/// What the pool is for: an adapter waiting for bytes holds no buffer, and one whose bytes
/// were all handed out holds none either once it reads again.
fn a_waiting_pooled_adapter_holds_no_buffer(runtime: Runtime) {
    run(&runtime, async {
        let pool = proactor::io::BufferPool::new(4096, 2).unwrap();
        let (mut a, b) = stream_pair().await;
        let mut adapter = Compat::with_pool(&pool, b);
        let mut storage = [0u8; 16];
        let waiting = timeout(Duration::from_millis(20), adapter.read(&mut storage)).await;
        assert!(waiting.is_err(), "nothing was sent");
        assert_eq!(
            pool.available(),
            2,
            "a read waiting for bytes holds no buffer"
        );
        a.write_all(&b"request"[..]).await.0.unwrap();
        let count = adapter.read(&mut storage).await.unwrap();
        assert_eq!(&storage[..count], b"request");
        let waiting = timeout(Duration::from_millis(20), adapter.read(&mut storage)).await;
        assert!(waiting.is_err(), "nothing more was sent");
        assert_eq!(
            pool.available(),
            2,
            "the read buffer went back once handed out"
        );
    });
}

/// As `into_inner_gives_buffered_bytes_back`, through a pool.
fn into_inner_gives_pooled_bytes_back(runtime: Runtime) {
    run(&runtime, async {
        let pool = proactor::io::BufferPool::new(4096, 2).unwrap();
        let (mut a, b) = stream_pair().await;
        let mut adapter = Compat::with_pool(&pool, b);
        let mut storage = [0u8; 5];
        assert!(
            timeout(Duration::from_millis(20), adapter.read(&mut storage))
                .await
                .is_err()
        );
        let mut b = adapter.into_inner();
        a.write_all(&b"after"[..]).await.0.unwrap();
        let (count, buffer) = b.read(Vec::with_capacity(16)).await;
        assert_eq!(&buffer[..count.unwrap()], b"after");
        a.write_all(&b"hello world"[..]).await.0.unwrap();
        let mut adapter = Compat::with_pool(&pool, b);
        adapter.read_exact(&mut storage).await.unwrap();
        assert_eq!(&storage, b"hello");
        let mut b = adapter.into_inner();
        assert_eq!(
            pool.available(),
            2,
            "the unread bytes left the pool's buffer"
        );
        a.write_all(&b"!"[..]).await.0.unwrap();
        drop(a);
        let (result, rest) = b.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(rest, b" world!");
    });
}

/// `tokio::select!` polls any futures, proactor's included (no tokio runtime needed): the
/// branch that is ready first wins and the other future is dropped (its read cancelled, its
/// bytes kept by the stream for the next read).
fn tokio_select_races_proactor_futures(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, mut b) = stream_pair().await;
        let won = tokio::select! {
            (result, _) = b.read(Vec::with_capacity(16)) => format!("read {result:?}"),
            () = sleep(Duration::from_millis(20)) => "timer".to_string(),
        };
        assert_eq!(won, "timer");
        a.write_all(&b"data"[..]).await.0.unwrap();
        let got = tokio::select! {
            (result, bytes) = b.read(Vec::with_capacity(16)) => {
                let count = result.unwrap();
                bytes[..count].to_vec()
            }
            () = sleep(Duration::from_secs(10)) => Vec::new(),
        };
        assert_eq!(got, b"data");
    });
}
