//! Writing what tokio code writes: byte string literals, `bytes::Bytes` and borrowed slices
//! through a `BufWriter`, all arriving whole and in order over TCP.

use proactor::io::{AsyncRead, AsyncWrite, BufWriter};
use proactor::{spawn, Runtime};

pub fn literals_and_bytes_are_written_without_a_copy(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, mut server) = crate::tcp_pair().await;
        let (result, literal) = client.write_all(b"+OK\r\n").await;
        result.unwrap();
        assert_eq!(literal, b"+OK\r\n", "the literal comes back");
        let shared = bytes::Bytes::from(vec![7u8; 100_000]);
        let (result, back) = client.write_all(shared.clone()).await;
        result.unwrap();
        assert_eq!(back, shared);
        // A part of shared bytes, by slicing them as `Bytes` does.
        let (result, _) = client.write_all(shared.slice(10..20)).await;
        result.unwrap();
        drop(client);
        let (result, received) = server.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(&received[..5], b"+OK\r\n");
        assert_eq!(received.len(), 5 + 100_000 + 10);
        assert!(received[5..].iter().all(|&byte| byte == 7));
    });
}

pub fn buf_writer_copies_borrowed_slices_in_order(runtime: Runtime) {
    runtime.block_on(async {
        let (client, mut server) = crate::tcp_pair().await;
        let mut writer = BufWriter::with_capacity(1000, client);
        let mut sent = Vec::new();
        for round in 0..300u32 {
            // Small pieces and pieces larger than the buffer, from memory only borrowed.
            let piece: Vec<u8> = (0..(round * 37) % 2500)
                .map(|at| (at + round) as u8)
                .collect();
            writer.write_slice(&piece).await.unwrap();
            sent.extend_from_slice(&piece);
        }
        writer.write_slice(b"").await.unwrap();
        writer.flush().await.unwrap();
        drop(writer);
        let (result, received) = server.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(received.len(), sent.len());
        assert!(received == sent, "every byte once and in order");
        // A writer without a buffer sends each slice as it comes.
        let (client, mut server) = crate::tcp_pair().await;
        let mut unbuffered = BufWriter::with_capacity(0, client);
        unbuffered.write_slice(b"direct").await.unwrap();
        drop(unbuffered);
        let (result, received) = server.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(received, b"direct");
    });
}

/// The buffered-protocol reader of a tokio server (mini-redis's `read_buf(&mut BytesMut)`
/// inside `select!`): reads cancelled by a timer over and over while frames trickle in lose
/// nothing, neither what the buffer held nor what the cancelled reads received.
pub fn read_buf_keeps_everything_when_cancelled(runtime: Runtime) {
    use std::time::Duration;
    runtime.block_on(async {
        let (mut client, mut server) = crate::tcp_pair().await;
        let sent: Vec<u8> = (0..200_000u32).map(|at| (at % 241) as u8).collect();
        let to_send = sent.clone();
        let writer = spawn(async move {
            for chunk in to_send.chunks(3_000) {
                client.write_all(chunk.to_vec()).await.0.unwrap();
                proactor::time::sleep(Duration::from_micros(200)).await;
            }
        });
        let mut frame = bytes::BytesMut::new();
        let mut cancelled = 0u32;
        let mut round = 0u64;
        while frame.len() < sent.len() {
            round += 1;
            let wait = Duration::from_micros(20 + round * 17 % 300);
            match proactor::time::timeout(wait, server.read_buf(&mut frame)).await {
                Err(_) => cancelled += 1,
                Ok(count) => assert_ne!(count.unwrap(), 0, "the stream ended early"),
            }
        }
        writer.await.unwrap();
        assert!(cancelled > 0, "the timer cancelled no read");
        assert!(
            frame[..] == sent[..],
            "every byte once and in order after {cancelled} cancelled reads"
        );
    });
}
