//! Stream timeouts (`set_read_timeout`, `set_write_timeout`): a read or write that waits
//! longer fails with `TimedOut` exactly once, and the stream goes on with nothing lost or
//! repeated (io_uring times the operation in the kernel, the other backends in the driver).

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::net::{TcpListener, TcpStream};
use proactor::time::timeout;
use proactor::Runtime;

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// A read that gets nothing in time fails with `TimedOut`, no sooner than asked; the bytes
/// that come after it are the next read's.
pub fn a_read_that_gets_nothing_times_out_and_the_stream_goes_on(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, mut server) = tcp_pair().await;
        let limit = Duration::from_millis(60);
        server.set_read_timeout(Some(limit)).unwrap();
        assert_eq!(server.read_timeout().unwrap(), Some(limit));
        let started = Instant::now();
        let (result, buffer) = timeout(crate::LIMIT, server.read(Vec::with_capacity(32)))
            .await
            .expect("a read with a timeout ends");
        let waited = started.elapsed();
        assert_eq!(result.unwrap_err().kind(), ErrorKind::TimedOut);
        assert!(buffer.is_empty(), "a timed-out read filled nothing");
        // Timers may fire a little early on coarse clocks, never much.
        assert!(
            waited >= limit - Duration::from_millis(10),
            "timed out after {waited:?}"
        );

        let (result, _) = client.write_all(b"after".to_vec()).await;
        result.unwrap();
        let (result, buffer) = timeout(crate::LIMIT, server.read(buffer))
            .await
            .expect("the next read ends");
        assert_eq!(result.unwrap(), 5);
        assert_eq!(buffer, b"after");
    });
}

/// Bytes that come before the limit are read as usual; `None` takes the limit off.
pub fn a_read_that_gets_bytes_in_time_returns_them(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, mut server) = tcp_pair().await;
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let writer = proactor::spawn(async move {
            proactor::time::sleep(Duration::from_millis(20)).await;
            let (result, _) = client.write_all(b"in time".to_vec()).await;
            result.unwrap();
            client
        });
        let (result, buffer) = timeout(crate::LIMIT, server.read(Vec::with_capacity(32)))
            .await
            .unwrap();
        assert_eq!(result.unwrap(), 7);
        assert_eq!(buffer, b"in time");
        // Kept open: the read below must wait, not find the end of the stream.
        let _client = writer.await.unwrap();

        server.set_read_timeout(None).unwrap();
        assert_eq!(server.read_timeout().unwrap(), None);
        // Without a limit the read waits past the old one (the peer closes only later).
        let read = timeout(
            Duration::from_millis(120),
            server.read(Vec::with_capacity(8)),
        )
        .await;
        assert!(read.is_err(), "a read without a limit waits");
    });
}

/// A write the peer does not make room for fails with `TimedOut`; every byte a write
/// reported sent reaches the peer, in order, and no other.
pub fn a_write_the_peer_does_not_take_times_out_and_loses_nothing(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, mut server) = tcp_pair().await;
        client
            .set_write_timeout(Some(Duration::from_millis(60)))
            .unwrap();
        let chunk = 256 * 1024;
        let mut sent = 0usize;
        let mut timed_out = false;
        // The socket buffers take a few MiB at most; a bound keeps a broken timeout from
        // filling memory instead of failing.
        for round in 0..400u32 {
            let bytes: Vec<u8> = (0..chunk).map(|i| (sent + i) as u8).collect();
            let (result, _) = timeout(crate::LIMIT, client.write(bytes))
                .await
                .expect("a write with a timeout ends");
            match result {
                Ok(count) => sent += count,
                Err(error) => {
                    assert_eq!(error.kind(), ErrorKind::TimedOut, "round {round}: {error}");
                    timed_out = true;
                    break;
                }
            }
        }
        assert!(timed_out, "{sent} bytes went without a write timing out");

        // The stream goes on: the peer reads everything sent, then this last write's bytes.
        let tail = b"tail".to_vec();
        let reader = proactor::spawn(async move {
            let mut received = Vec::with_capacity(sent + 4);
            while received.len() < sent + 4 {
                let (result, buffer) =
                    timeout(crate::LIMIT, server.read(Vec::with_capacity(64 * 1024)))
                        .await
                        .expect("the peer's read ends");
                let count = result.unwrap();
                assert!(count > 0, "the stream ended early");
                received.extend_from_slice(&buffer);
            }
            received
        });
        let (result, _) = client.write_all(tail).await;
        result.unwrap();
        let received = timeout(crate::LIMIT, reader).await.unwrap().unwrap();
        assert_eq!(received.len(), sent + 4);
        for (at, &byte) in received[..sent].iter().enumerate() {
            assert_eq!(byte, at as u8, "byte {at} of {sent}");
        }
        assert_eq!(&received[sent..], b"tail");
    });
}

/// A zero limit is refused as std refuses it, and leaves the old one.
pub fn a_zero_timeout_is_refused(runtime: Runtime) {
    runtime.block_on(async {
        let (client, _server) = tcp_pair().await;
        client
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let error = client.set_read_timeout(Some(Duration::ZERO)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let error = client.set_write_timeout(Some(Duration::ZERO)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert_eq!(client.read_timeout().unwrap(), Some(Duration::from_secs(1)));
        assert_eq!(client.write_timeout().unwrap(), None);
    });
}

/// A pooled read with a limit times out like a plain one, and returns its buffer to the pool.
pub fn a_pooled_read_times_out_and_returns_its_buffer(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, server) = tcp_pair().await;
        let pool = proactor::io::BufferPool::new(4096, 2).unwrap();
        server
            .set_read_timeout(Some(Duration::from_millis(40)))
            .unwrap();
        for _ in 0..3 {
            let result = timeout(crate::LIMIT, server.read_pooled(&pool))
                .await
                .expect("a pooled read with a timeout ends");
            assert_eq!(result.unwrap_err().kind(), ErrorKind::TimedOut);
        }
        let (result, _) = client.write_all(b"pooled".to_vec()).await;
        result.unwrap();
        let buffer = timeout(crate::LIMIT, server.read_pooled(&pool))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buffer[..], b"pooled");
    });
}
