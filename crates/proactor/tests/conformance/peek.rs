//! `TcpStream::peek`: bytes seen without being taken, waiting for them, the end of the
//! stream, and the bytes a cancelled read kept.

use std::time::Duration;

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::{spawn, Runtime};

pub fn peek_leaves_the_bytes_for_the_read(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, mut server) = crate::tcp_pair().await;
        // A peek waits for bytes, as a read does.
        let sending = spawn(async move {
            proactor::time::sleep(Duration::from_millis(20)).await;
            client.write_all(&b"hello world"[..]).await.0.unwrap();
            client
        });
        let (count, peeked) = server.peek(Vec::with_capacity(5)).await;
        assert_eq!(&peeked[..count.unwrap()], b"hello");
        let client = sending.await.unwrap();
        // Twice: still there.
        let (count, peeked) = server.peek(Vec::with_capacity(64)).await;
        let count = count.unwrap();
        assert!(count >= 5 && b"hello world".starts_with(&peeked[..count]));
        let (result, read) = server.read_exact(Vec::with_capacity(11)).await;
        result.unwrap();
        assert_eq!(read, b"hello world");
        drop(client);
        let (count, _) = server.peek(Vec::with_capacity(8)).await;
        assert_eq!(count.unwrap(), 0, "the end of the stream");
    });
}

pub fn peek_sees_what_a_cancelled_read_kept(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, mut server) = crate::tcp_pair().await;
        // A read in flight when it is dropped: what it receives is kept for the next read.
        let waiting = proactor::time::timeout(
            Duration::from_millis(20),
            server.read(Vec::with_capacity(64)),
        )
        .await;
        assert!(waiting.is_err(), "nothing was sent yet");
        client.write_all(&b"kept"[..]).await.0.unwrap();
        proactor::time::sleep(Duration::from_millis(20)).await;
        let (count, peeked) = server.peek(Vec::with_capacity(64)).await;
        assert_eq!(&peeked[..count.unwrap()], b"kept");
        let (count, read) = server.read(Vec::with_capacity(64)).await;
        assert_eq!(&read[..count.unwrap()], b"kept", "the peek took nothing");
    });
}
