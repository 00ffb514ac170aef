//! Networking through the runtime.

use std::future::Future;
use std::io::ErrorKind;
use std::net::Shutdown;
use std::time::Duration;

use bytes::BytesMut;
use proactor::io::{AsyncRead, AsyncWrite};
use proactor::net::{TcpListener, TcpStream, UdpSocket};
#[cfg(unix)]
use proactor::net::{UnixDatagram, UnixListener, UnixStream};
use proactor::time::timeout;
use proactor::{spawn, IoBuf, Runtime};

async fn echo_once(listener: TcpListener) -> std::io::Result<()> {
    let (mut stream, _) = listener.accept().await?;
    let mut buffer = Vec::with_capacity(4096);
    loop {
        let (result, back) = stream.read(buffer).await;
        let count = result?;
        if count == 0 {
            return Ok(());
        }
        let (result, back) = stream.write_all(back).await;
        result?;
        buffer = back;
        buffer.clear();
    }
}

fn tcp_echo(runtime: Runtime, address: &str) {
    runtime.block_on(async {
        let listener = TcpListener::bind(address).await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = spawn(echo_once(listener));
        let client = TcpStream::connect(address).await.unwrap();
        client.set_nodelay(true).unwrap();
        let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let writer = {
            let (reader, mut writer) = client.into_split();
            let message = message.clone();
            let writing = spawn(async move {
                let (result, _) = writer.write_all(message).await;
                result.unwrap();
                writer.shutdown().await.unwrap();
            });
            (reader, writing)
        };
        let (mut reader, writing) = writer;
        let (result, echoed) = reader.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(echoed, message);
        writing.await.unwrap();
        server.await.unwrap().unwrap();
    });
}

pub fn tcp_echo_ipv4(runtime: Runtime) {
    tcp_echo(runtime, "127.0.0.1:0");
}

pub fn tcp_echo_ipv6(runtime: Runtime) {
    tcp_echo(runtime, "[::1]:0");
}

/// Sockets made by std (overlapped on Windows, blocking until taken over) work once adopted.
pub fn tcp_from_std_listener_and_stream(runtime: Runtime) {
    runtime.block_on(async {
        let listener =
            TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
        let address = listener.local_addr().unwrap();
        let client = TcpStream::from_std(std::net::TcpStream::connect(address).unwrap()).unwrap();
        let (mut server, peer) = timeout(crate::LIMIT, listener.accept())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let (mut reader, mut writer) = client.into_split();
        writer.write_all(b"adopted".to_vec()).await.0.unwrap();
        let (result, data) = server.read_exact(Vec::with_capacity(7)).await;
        result.unwrap();
        assert_eq!(data, b"adopted");
        server.write_all(b"back".to_vec()).await.0.unwrap();
        let (result, data) = reader.read_exact(Vec::with_capacity(4)).await;
        result.unwrap();
        assert_eq!(data, b"back");
    });
}

pub fn tcp_connect_refused(runtime: Runtime) {
    runtime.block_on(async {
        let address = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let error = TcpStream::connect(address).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    });
}

pub fn tcp_address_in_use(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let error = TcpListener::bind(listener.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
        if cfg!(windows) {
            let error = TcpListener::bind_reuse_port("127.0.0.1:0")
                .await
                .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Unsupported, "no SO_REUSEPORT");
            return;
        }
        // With SO_REUSEPORT on both, two listeners share the port.
        let first = TcpListener::bind_reuse_port("127.0.0.1:0").await.unwrap();
        let second = TcpListener::bind_reuse_port(first.local_addr().unwrap())
            .await
            .unwrap();
        assert_eq!(first.local_addr().unwrap(), second.local_addr().unwrap());
    });
}

pub fn tcp_peer_reset(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.set_linger(Some(Duration::ZERO)).unwrap();
        drop(client);
        let (result, _) = timeout(crate::LIMIT, server.read(Vec::with_capacity(16)))
            .await
            .unwrap();
        assert_eq!(result.unwrap_err().kind(), ErrorKind::ConnectionReset);
    });
}

/// A reset that a read met and nobody took (its future was dropped, so its completion went
/// to the stream) is the next read's error. The OS reports a reset once: a read after it
/// finds the end of the stream, so a reset lost this way makes a broken connection look like
/// one that ended cleanly.
pub fn a_reset_met_by_a_dropped_read_fails_the_next_read(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        {
            let mut read = std::pin::pin!(server.read(Vec::with_capacity(16)));
            std::future::poll_fn(|cx| {
                assert!(read.as_mut().poll(cx).is_pending(), "nothing was sent");
                std::task::Poll::Ready(())
            })
            .await;
            client.set_linger(Some(Duration::ZERO)).unwrap();
            drop(client);
            // The receive meets the reset while the runtime turns. Dropped after that, the
            // read leaves its completion (come already, or on its way: the cancel is too late)
            // to the stream.
            proactor::time::sleep(Duration::from_millis(50)).await;
        }
        let (result, _) = timeout(crate::LIMIT, server.read(Vec::with_capacity(16)))
            .await
            .unwrap();
        assert_eq!(result.unwrap_err().kind(), ErrorKind::ConnectionReset);
    });
}

pub fn tcp_read_after_shutdown_is_zero(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.shutdown(Shutdown::Write).await.unwrap();
        let (result, _) = server.read(Vec::with_capacity(16)).await;
        assert_eq!(result.unwrap(), 0);
        let (result, _) = server.read(Vec::with_capacity(16)).await;
        assert_eq!(result.unwrap(), 0, "and again");
        // Reading our own shut-down side also gives 0.
        server.shutdown(Shutdown::Read).await.unwrap();
        let (result, _) = server.read(Vec::with_capacity(16)).await;
        assert_eq!(result.unwrap(), 0);
    });
}

/// `AsyncWrite::shutdown` ends the writing direction, and one already ended counts as done: a
/// second shutdown, or one after the peer reset the connection, is `Ok`, as tokio's is (hyper
/// shuts down every connection it ends, reset or not). The inherent `shutdown(how)` says what
/// the OS said.
pub fn tcp_shutdown_of_an_ended_write_side_is_done(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        // Twice: the stream itself, then its owned write half.
        for owned_half in [false, true] {
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            client.set_linger(Some(Duration::ZERO)).unwrap();
            drop(client);
            // Wait until the reset (Wine: the end of the stream) has arrived.
            let (result, _) = timeout(crate::LIMIT, server.read(Vec::with_capacity(16)))
                .await
                .unwrap();
            assert!(
                matches!(&result, Ok(0)) || result.as_ref().is_err(),
                "{result:?}"
            );
            if owned_half {
                let (_read, mut write) = server.into_split();
                AsyncWrite::shutdown(&mut write).await.unwrap();
                AsyncWrite::shutdown(&mut write).await.unwrap();
            } else {
                AsyncWrite::shutdown(&mut server).await.unwrap();
                AsyncWrite::shutdown(&mut &server).await.unwrap();
                AsyncWrite::shutdown(&mut server).await.unwrap();
            }
        }
        // A connection that is fine: the second shutdown is done too.
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        AsyncWrite::shutdown(&mut server).await.unwrap();
        AsyncWrite::shutdown(&mut server).await.unwrap();
        let (result, _) = timeout(crate::LIMIT, (&client).read(Vec::with_capacity(16)))
            .await
            .unwrap();
        assert_eq!(result.unwrap(), 0);
    });
}

/// A stream taken out of `block_on` and dropped there closes at once, on every backend: the
/// peer reads the end of the stream while the runtime sits idle (io_uring used to queue the
/// close until the runtime next ran).
pub fn a_stream_dropped_outside_block_on_closes_at_once(runtime: Runtime) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let (client, listener) =
        runtime.block_on(async move { (TcpStream::connect(address).await.unwrap(), listener) });
    let (mut server, _) = listener.accept().unwrap();
    server.set_read_timeout(Some(crate::LIMIT)).unwrap();
    let started = std::time::Instant::now();
    drop(client);
    let mut byte = [0u8; 1];
    assert_eq!(server.read(&mut byte).unwrap(), 0, "the end of the stream");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The runtime still works afterwards, and has no close left to do.
    runtime.block_on(async move {
        let stream = TcpStream::connect(address).await.unwrap();
        drop(stream);
    });
    let (mut server, _) = listener.accept().unwrap();
    server.set_read_timeout(Some(crate::LIMIT)).unwrap();
    assert_eq!(server.read(&mut byte).unwrap(), 0);
}

pub fn tcp_split_halves_work_concurrently(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (mut client_reader, mut client_writer) = client.into_split();
        let (mut server_reader, mut server_writer) = server.into_split();
        // Both sides write 1 MB while reading: with one task per half, neither blocks the other.
        let size = 1 << 20;
        let writers = [
            spawn(async move { client_writer.write_all(vec![1u8; size]).await.0 }),
            spawn(async move { server_writer.write_all(vec![2u8; size]).await.0 }),
        ];
        let readers = [
            spawn(async move { client_reader.read_exact(Vec::with_capacity(size)).await }),
            spawn(async move { server_reader.read_exact(Vec::with_capacity(size)).await }),
        ];
        for writer in writers {
            writer.await.unwrap().unwrap();
        }
        let mut expected = [2u8, 1u8].into_iter();
        for reader in readers {
            let (result, data) = reader.await.unwrap();
            result.unwrap();
            let byte = expected.next().unwrap();
            assert!(data.len() == size && data.iter().all(|&b| b == byte));
        }
    });
}

pub fn tcp_read_exact_and_write_all_with_every_buffer_kind(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"vec-".to_vec()).await.0.unwrap();
        client
            .write_all(b"boxed-".to_vec().into_boxed_slice())
            .await
            .0
            .unwrap();
        client
            .write_all(BytesMut::from(&b"bytes-"[..]))
            .await
            .0
            .unwrap();
        client.write_all(&b"static-"[..]).await.0.unwrap();
        let (result, slice) = client
            .write_all(b"[slice]".to_vec().slice(1..6).unwrap())
            .await;
        result.unwrap();
        assert_eq!(
            slice.into_inner(),
            b"[slice]",
            "the whole buffer comes back"
        );
        let (result, boxed) = server.read_exact(vec![0u8; 10].into_boxed_slice()).await;
        result.unwrap();
        assert_eq!(&*boxed, b"vec-boxed-");
        let (result, bytes) = server.read_exact(BytesMut::with_capacity(6)).await;
        result.unwrap();
        assert_eq!(&bytes[..], b"bytes-");
        let (result, view) = server
            .read_exact(b"<.......>".to_vec().slice(1..8).unwrap())
            .await;
        result.unwrap();
        assert_eq!(view.as_slice(), b"static-");
        assert_eq!(view.into_inner(), b"<static->");
        let (result, rest) = server.read_exact(Vec::with_capacity(5)).await;
        result.unwrap();
        assert_eq!(rest, b"slice");
        // A stream that ends early: UnexpectedEof, with what was read kept.
        client.write_all(&b"ab"[..]).await.0.unwrap();
        drop(client);
        let (result, partial) = server.read_exact(Vec::with_capacity(10)).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::UnexpectedEof);
        assert_eq!(partial, b"ab");
    });
}

/// A peer sends a known 10 MB sequence while the reader races every read against a very short
/// timer: every byte arrives exactly once and in order.
pub fn no_bytes_lost_when_reads_are_cancelled(runtime: Runtime) {
    const TOTAL: usize = 10 << 20;
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let sender = spawn(async move {
            let mut stream = TcpStream::connect(address).await.unwrap();
            let mut offset = 0usize;
            while offset < TOTAL {
                let chunk: Vec<u8> = (offset..(offset + 65_536).min(TOTAL))
                    .map(|i| (i % 251) as u8)
                    .collect();
                offset += chunk.len();
                stream.write_all(chunk).await.0.unwrap();
            }
        });
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut received = 0usize;
        let (mut cancelled, mut completed) = (0u32, 0u32);
        while received < TOTAL {
            let budget = Duration::from_micros(if received % 3 == 0 { 1 } else { 50 });
            match timeout(budget, stream.read(Vec::with_capacity(16 * 1024))).await {
                Err(_) => cancelled += 1,
                Ok((result, data)) => {
                    let count = result.unwrap();
                    assert!(count > 0, "stream ended early at {received}");
                    for (i, &byte) in data.iter().enumerate() {
                        assert_eq!(
                            byte,
                            ((received + i) % 251) as u8,
                            "byte {} is wrong",
                            received + i
                        );
                    }
                    received += count;
                    completed += 1;
                }
            }
        }
        assert_eq!(received, TOTAL);
        sender.await.unwrap();
        eprintln!("{completed} reads completed, {cancelled} cancelled by the timer");
        assert!(cancelled > 0, "the race never happened");
    });
}

pub fn udp_send_to_and_recv_from(runtime: Runtime) {
    runtime.block_on(async {
        for local in ["127.0.0.1:0", "[::1]:0"] {
            let a = UdpSocket::bind(local).await.unwrap();
            let b = UdpSocket::bind(local).await.unwrap();
            for round in 0..10u8 {
                let (sent, _) = a.send_to(vec![round; 100], b.local_addr().unwrap()).await;
                assert_eq!(sent.unwrap(), 100);
                let (received, data) = b.recv_from(Vec::with_capacity(1500)).await;
                let (count, from) = received.unwrap();
                assert_eq!((count, from), (100, a.local_addr().unwrap()));
                assert!(data.iter().all(|&byte| byte == round));
            }
        }
    });
}

pub fn udp_connected(runtime: Runtime) {
    runtime.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        a.send(&b"one"[..]).await.0.unwrap();
        let (count, data) = b.recv(Vec::with_capacity(8)).await;
        assert_eq!(&data[..count.unwrap()], b"one");
    });
}

/// Sending to a closed port is reported by the next receive: `ConnectionRefused` on Unix,
/// `ConnectionReset` (`WSAECONNRESET`, Windows' report of the ICMP port unreachable) on
/// Windows.
pub fn udp_send_to_a_closed_port_fails_the_next_receive(runtime: Runtime) {
    runtime.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let address = closed.local_addr().unwrap();
        drop(closed);
        proactor::yield_now().await;
        a.connect(address).await.unwrap();
        a.send(&b"void"[..]).await.0.unwrap();
        let (result, _) = timeout(crate::LIMIT, a.recv(Vec::with_capacity(8)))
            .await
            .unwrap();
        let expected = if cfg!(windows) {
            ErrorKind::ConnectionReset
        } else {
            ErrorKind::ConnectionRefused
        };
        assert_eq!(result.unwrap_err().kind(), expected);
    });
}

#[cfg(unix)]
pub fn unix_stream_and_listener(runtime: Runtime) {
    let dir = std::env::temp_dir().join(format!(
        "proactor-runtime-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("socket");
    let _ = std::fs::remove_file(&path);
    runtime.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let error = UnixListener::bind(&path).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
        let connecting = spawn({
            let path = path.clone();
            async move { UnixStream::connect(path).await }
        });
        let (mut server, _) = listener.accept().await.unwrap();
        let mut client = connecting.await.unwrap().unwrap();
        client
            .write_all(b"over a unix socket".to_vec())
            .await
            .0
            .unwrap();
        let (result, data) = server.read_exact(Vec::with_capacity(18)).await;
        result.unwrap();
        assert_eq!(data, b"over a unix socket");
        let error = UnixStream::connect(dir.join("missing")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
pub fn unix_datagram_pair(runtime: Runtime) {
    runtime.block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        for size in [1usize, 100, 10_000] {
            a.send(vec![7u8; size]).await.0.unwrap();
            let (count, data) = b.recv(Vec::with_capacity(size)).await;
            assert_eq!(count.unwrap(), size);
            assert!(data.iter().all(|&byte| byte == 7));
        }
    });
}

/// A 10 MB file sent zero-copy from an offset arrives intact, and the stream's pipe is
/// reused by the next call.
pub fn tcp_send_file_from_an_offset(runtime: Runtime) {
    let dir = std::env::temp_dir().join(format!(
        "proactor-send-file-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("payload");
    let contents: Vec<u8> = (0..10_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&path, &contents).unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let file = proactor::fs::File::open(&path).await.unwrap();
        let offset = 12_345u64;
        let reader = spawn(async move {
            let (result, data) = server.read_to_end(Vec::new()).await;
            result.unwrap();
            data
        });
        let length = contents.len() as u64 - offset;
        let sent = timeout(crate::LIMIT, client.send_file(&file, offset, length))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sent, length);
        // Past the end: a short count, not an error.
        let sent = client
            .send_file(&file, contents.len() as u64 - 10, 100)
            .await
            .unwrap();
        assert_eq!(sent, 10);
        client.shutdown(Shutdown::Write).await.unwrap();
        let data = timeout(crate::LIMIT, reader).await.unwrap().unwrap();
        assert_eq!(data.len(), length as usize + 10);
        assert!(
            data[..length as usize] == contents[offset as usize..],
            "the file arrived changed"
        );
        assert_eq!(&data[length as usize..], &contents[contents.len() - 10..]);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Host names resolve on the thread pool; malformed addresses are a clear error.
pub fn tcp_connects_by_host_name(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("localhost:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        let (_server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let client = TcpStream::connect(("localhost", port)).await.unwrap();
        drop(client);
        for bad in ["no port", "localhost:notaport", ":80x"] {
            let error = TcpStream::connect(bad).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad}: {error}");
        }
    });
}

/// `write_zero_copy`: 4 MiB in writes of 256 KiB arrive whole and in order, each buffer comes
/// back as it went (a zero-copy send on io_uring, a plain one elsewhere).
pub fn zero_copy_writes_arrive_whole(runtime: Runtime) {
    runtime.block_on(async {
        const TOTAL: usize = 4 << 20;
        const CHUNK: usize = 256 * 1024;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let reader = proactor::spawn(async move {
            let mut received = Vec::with_capacity(TOTAL);
            while received.len() < TOTAL {
                let (result, buffer) =
                    timeout(crate::LIMIT, server.read(Vec::with_capacity(CHUNK)))
                        .await
                        .expect("a read ends");
                assert!(result.unwrap() > 0, "the stream ended early");
                received.extend_from_slice(&buffer);
            }
            received
        });
        let mut sent = 0;
        while sent < TOTAL {
            let chunk: Vec<u8> = (sent..sent + CHUNK).map(|at| (at % 253) as u8).collect();
            let mut view = 0;
            while view < chunk.len() {
                let part = chunk[view..].to_vec();
                let (result, back) = timeout(crate::LIMIT, client.write_zero_copy(part))
                    .await
                    .expect("a write ends");
                let count = result.unwrap();
                assert!(count > 0);
                assert_eq!(back, chunk[view..], "the buffer comes back unchanged");
                view += count;
            }
            sent += CHUNK;
        }
        let received = timeout(crate::LIMIT, reader).await.unwrap().unwrap();
        assert_eq!(received.len(), TOTAL);
        for (at, &byte) in received.iter().enumerate() {
            assert_eq!(byte, (at % 253) as u8, "byte {at}");
        }
    });
}

/// `write_all` of a view into a large buffer, which the socket takes in several sends: every
/// byte of the view arrives once, in order, and the buffer comes back as the same view.
pub fn write_all_of_a_view_sends_it_whole_and_gives_it_back(runtime: Runtime) {
    runtime.block_on(async {
        use proactor::IoBuf;
        const TOTAL: usize = 8 << 20;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let whole: Vec<u8> = (0..TOTAL + 200).map(|at| (at % 241) as u8).collect();
        let reader = proactor::spawn(async move {
            let mut received = Vec::with_capacity(TOTAL);
            while received.len() < TOTAL {
                let (result, buffer) =
                    timeout(crate::LIMIT, server.read(Vec::with_capacity(1 << 16)))
                        .await
                        .expect("a read ends");
                assert!(result.unwrap() > 0, "the stream ended early");
                received.extend_from_slice(&buffer);
            }
            received
        });
        let view = whole.slice(100..100 + TOTAL).unwrap();
        let (result, back) = timeout(crate::LIMIT, client.write_all(view))
            .await
            .expect("write_all ends");
        result.unwrap();
        assert_eq!(back.as_slice().len(), TOTAL, "the same view comes back");
        assert_eq!(back.as_slice()[0], 100, "the view starts where it did");
        let whole = back.into_inner();
        assert_eq!(whole.len(), TOTAL + 200);
        let received = timeout(crate::LIMIT, reader).await.unwrap().unwrap();
        assert_eq!(received, &whole[100..100 + TOTAL]);
    });
}
