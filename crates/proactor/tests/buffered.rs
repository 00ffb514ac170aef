//! `proactor::io`'s buffered and utility I/O (`BufReader`, `BufWriter`, `copy`, `split`,
//! `read_to_string`), run once per backend (`io_uring::lines_across_buffer_edges`, ...,
//! `iocp::...` on Windows, where the stream pairs are TCP).

mod common;

use std::io::ErrorKind;
use std::time::Duration;

use common::{broken_writer, per_backend, run, stream_pair, tcp_pair, Stream};
use proactor::io::{copy, read_to_string, split, AsyncRead, AsyncWrite, BufReader, BufWriter};
use proactor::time::{sleep, timeout};
use proactor::{spawn, Runtime};

per_backend! {
    lines_across_buffer_edges,
    read_until_and_fill_buf,
    read_line_rejects_invalid_utf8,
    buf_reader_reads_small_and_large,
    buf_reader_fill_cancelled_loses_nothing,
    buf_writer_holds_until_flush,
    buf_writer_writes_large_through,
    buf_writer_error_keeps_bytes,
    buf_writer_cancelled_flush_is_an_error,
    copy_moves_every_byte,
    split_halves_work_from_two_tasks,
    unsplit_checks_the_pair,
    read_to_string_checks_utf8,
    buffered_both_ways,
}

/// Writes `bytes` to `stream` in pieces of `piece` bytes, pausing between them, so readers
/// see them arrive across many reads.
async fn trickle(mut stream: Stream, bytes: Vec<u8>, piece: usize) {
    for chunk in bytes.chunks(piece) {
        stream.write_all(chunk.to_vec()).await.0.unwrap();
        sleep(Duration::from_micros(200)).await;
    }
}

fn lines_across_buffer_edges(runtime: Runtime) {
    run(&runtime, async {
        let (a, b) = stream_pair().await;
        let mut expected = Vec::new();
        let mut text = Vec::new();
        for n in 0..200 {
            let line = "x".repeat(n % 23) + &n.to_string();
            text.extend_from_slice(line.as_bytes());
            text.extend_from_slice(if n % 3 == 0 { b"\r\n" } else { b"\n" });
            expected.push(line);
        }
        text.extend_from_slice(b"last without newline");
        expected.push("last without newline".to_string());
        let writer = spawn(trickle(a, text, 5));
        // A buffer smaller than most lines: every line spans several fills.
        let mut lines = BufReader::with_capacity(7, b).lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            got.push(line);
        }
        assert_eq!(got, expected);
        writer.await.unwrap();
    });
}

fn read_until_and_fill_buf(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, b) = stream_pair().await;
        a.write_all(&b"alpha;beta;gamma"[..]).await.0.unwrap();
        drop(a);
        let mut reader = BufReader::with_capacity(4, b);
        let mut field = Vec::new();
        assert_eq!(reader.read_until(b';', &mut field).await.unwrap(), 6);
        assert_eq!(field, b"alpha;");
        let available = reader.fill_buf().await.unwrap().to_vec();
        assert!(!available.is_empty() && b"beta;gamma".starts_with(&available));
        reader.consume(2);
        assert_eq!(reader.buffer(), &available[2..]);
        field.clear();
        reader.read_until(b';', &mut field).await.unwrap();
        assert_eq!(field, b"ta;");
        field.clear();
        assert_eq!(reader.read_until(b';', &mut field).await.unwrap(), 5);
        assert_eq!(field, b"gamma");
        assert_eq!(reader.read_until(b';', &mut field).await.unwrap(), 0);
        assert!(reader.fill_buf().await.unwrap().is_empty());
        // Consuming past the end is clamped, never a panic.
        reader.consume(100);
        assert!(reader.buffer().is_empty());
    });
}

fn read_line_rejects_invalid_utf8(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, b) = stream_pair().await;
        a.write_all(&b"good\nbad \xff\xfe\nafter\n"[..])
            .await
            .0
            .unwrap();
        drop(a);
        let mut reader = BufReader::new(b);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "good\n");
        let error = reader.read_line(&mut line).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
        assert_eq!(line, "good\n", "a bad line leaves the string as it was");
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "good\nafter\n");
    });
}

fn buf_reader_reads_small_and_large(runtime: Runtime) {
    run(&runtime, async {
        let (a, b) = stream_pair().await;
        let bytes: Vec<u8> = (0..100_000u32).map(|n| (n % 251) as u8).collect();
        let writer = spawn(trickle(a, bytes.clone(), 3000));
        let mut reader = BufReader::with_capacity(1024, b);
        let mut got = Vec::new();
        let mut n = 0usize;
        loop {
            // Alternate tiny reads (served from the buffer) and reads larger than the buffer
            // (straight to the stream once the buffer is empty).
            let size = if n % 2 == 0 { 10 } else { 4096 };
            n += 1;
            let (count, buffer) = reader.read(Vec::with_capacity(size)).await;
            if count.unwrap() == 0 {
                break;
            }
            got.extend_from_slice(&buffer);
        }
        assert_eq!(got.len(), bytes.len());
        assert!(got == bytes, "bytes arrive once and in order");
        // A full buffer has no room: the read returns 0 without touching the stream.
        let (count, _) = reader.read(Vec::new()).await;
        assert_eq!(count.unwrap(), 0);
        writer.await.unwrap();
    });
}

fn buf_reader_fill_cancelled_loses_nothing(runtime: Runtime) {
    run(&runtime, async {
        let (a, b) = stream_pair().await;
        let bytes: Vec<u8> = (0..300_000u32).map(|n| (n % 253) as u8).collect();
        let writer = spawn(trickle(a, bytes.clone(), 1500));
        let mut reader = BufReader::with_capacity(512, b);
        let mut got = Vec::new();
        let mut cancelled = 0;
        let mut round = 0u64;
        loop {
            round += 1;
            let wait = Duration::from_micros(1 + round * 7 % 60);
            match timeout(wait, reader.fill_buf()).await {
                Err(_) => cancelled += 1,
                Ok(available) => {
                    let available = available.unwrap();
                    if available.is_empty() {
                        break;
                    }
                    let take = available.len().min(100);
                    got.extend_from_slice(&available[..take]);
                    reader.consume(take);
                }
            }
        }
        assert!(
            got == bytes,
            "every byte once and in order after {cancelled} cancels"
        );
        assert!(cancelled > 0, "the timeouts cancelled no fill");
        writer.await.unwrap();
    });
}

/// Whether `stream` receives anything within a short while.
async fn receives_within(stream: &mut Stream, wait: Duration) -> Option<Vec<u8>> {
    match timeout(wait, stream.read(Vec::with_capacity(1 << 16))).await {
        Ok((count, buffer)) => {
            count.unwrap();
            Some(buffer)
        }
        Err(_) => None,
    }
}

fn buf_writer_holds_until_flush(runtime: Runtime) {
    run(&runtime, async {
        let (a, mut b) = stream_pair().await;
        let mut writer = BufWriter::with_capacity(64, a);
        for word in ["one ", "two ", "three"] {
            let (result, _) = writer.write(word.as_bytes().to_vec()).await;
            assert_eq!(result.unwrap(), word.len());
        }
        assert_eq!(writer.buffer(), b"one two three");
        assert_eq!(
            receives_within(&mut b, Duration::from_millis(50)).await,
            None
        );
        writer.flush().await.unwrap();
        assert!(writer.buffer().is_empty());
        assert_eq!(
            receives_within(&mut b, Duration::from_secs(5))
                .await
                .unwrap(),
            b"one two three"
        );
        // Filling past the capacity sends what was buffered first.
        writer.write_all(vec![b'a'; 40]).await.0.unwrap();
        writer.write_all(vec![b'b'; 40]).await.0.unwrap();
        assert_eq!(writer.buffer(), &[b'b'; 40][..]);
        assert_eq!(
            receives_within(&mut b, Duration::from_secs(5))
                .await
                .unwrap(),
            vec![b'a'; 40]
        );
        writer.shutdown().await.unwrap();
        let (result, rest) = b.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(rest, vec![b'b'; 40]);
    });
}

fn buf_writer_writes_large_through(runtime: Runtime) {
    run(&runtime, async {
        let (a, b) = stream_pair().await;
        let reader = spawn(async move {
            let mut b = b;
            b.read_to_end(Vec::new()).await
        });
        let mut writer = BufWriter::with_capacity(16, a);
        writer.write_all(&b"small"[..]).await.0.unwrap();
        let large: Vec<u8> = (0..200_000u32).map(|n| n as u8).collect();
        writer.write_all(large.clone()).await.0.unwrap();
        assert!(writer.buffer().is_empty(), "a large write is not buffered");
        writer.write_all(&b"tail"[..]).await.0.unwrap();
        writer.shutdown().await.unwrap();
        drop(writer);
        let (result, got) = reader.await.unwrap();
        result.unwrap();
        let mut expected = b"small".to_vec();
        expected.extend_from_slice(&large);
        expected.extend_from_slice(b"tail");
        assert!(got == expected, "order kept around the write-through");
    });
}

fn buf_writer_error_keeps_bytes(runtime: Runtime) {
    run(&runtime, async {
        let mut writer = BufWriter::new(broken_writer().await);
        writer.write_all(&b"never delivered"[..]).await.0.unwrap();
        let error = writer.flush().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
        assert_eq!(writer.buffer(), b"never delivered");
        // Used again after the error: the same error, not a panic.
        assert_eq!(
            writer.flush().await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
    });
}

fn buf_writer_cancelled_flush_is_an_error(runtime: Runtime) {
    run(&runtime, async {
        let (a, _b) = stream_pair().await;
        // More than the socket buffers hold while nobody reads, so the flush cannot finish:
        // a Unix socket's hold some hundred KiB, loopback TCP's grow to some MiB.
        let (capacity, piece) = if cfg!(unix) {
            (1 << 20, 100_000)
        } else {
            (64 << 20, 4 << 20)
        };
        let mut writer = BufWriter::with_capacity(capacity, a);
        for _ in 0..8 {
            writer.write_all(vec![7u8; piece]).await.0.unwrap();
        }
        assert!(timeout(Duration::from_millis(100), writer.flush())
            .await
            .is_err());
        let error = writer.write(&b"more"[..]).await.0.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Other);
        assert!(error.to_string().contains("cancelled flush"), "{error}");
        assert_eq!(writer.flush().await.unwrap_err().kind(), ErrorKind::Other);
    });
}

fn copy_moves_every_byte(runtime: Runtime) {
    run(&runtime, async {
        let (source, mut from) = stream_pair().await;
        let (mut to, sink) = stream_pair().await;
        let bytes: Vec<u8> = (0..1_000_000u32).map(|n| (n * 7 % 256) as u8).collect();
        let writer = spawn(trickle(source, bytes.clone(), 70_000));
        let reader = spawn(async move {
            let mut sink = sink;
            sink.read_to_end(Vec::new()).await
        });
        assert_eq!(copy(&mut from, &mut to).await.unwrap(), bytes.len() as u64);
        AsyncWrite::shutdown(&mut to).await.unwrap();
        let (result, got) = reader.await.unwrap();
        result.unwrap();
        assert!(got == bytes);
        writer.await.unwrap();
        // Through a BufReader (with bytes already buffered) into a BufWriter.
        let (mut a, b) = stream_pair().await;
        a.write_all(&b"head\nbody"[..]).await.0.unwrap();
        drop(a);
        let mut reader = BufReader::new(b);
        let mut head = String::new();
        reader.read_line(&mut head).await.unwrap();
        let (c, mut d) = stream_pair().await;
        let mut writer = BufWriter::new(c);
        assert_eq!(copy(&mut reader, &mut writer).await.unwrap(), 4);
        writer.shutdown().await.unwrap();
        assert_eq!(read_to_string(&mut d).await.unwrap(), "body");
        // A write error ends the copy with it.
        let (mut e, f) = stream_pair().await;
        e.write_all(&b"x"[..]).await.0.unwrap();
        let mut f = f;
        let mut g = broken_writer().await;
        let error = copy(&mut f, &mut g).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
    });
}

fn split_halves_work_from_two_tasks(runtime: Runtime) {
    run(&runtime, async {
        let (server, client) = tcp_pair().await;
        // The server echoes through its two halves, each in its own task, both in flight.
        let (mut reader, mut writer) = split(server);
        let (mut receiver, sender) = split(client);
        let echo_read = spawn(async move {
            let mut total = 0;
            loop {
                let (count, buffer) = reader.read(Vec::with_capacity(4096)).await;
                let count = count.unwrap();
                if count == 0 {
                    break;
                }
                total += count;
                writer.write_all(buffer).await.0.unwrap();
            }
            writer.shutdown().await.unwrap();
            total
        });
        let bytes: Vec<u8> = (0..500_000u32).map(|n| (n % 241) as u8).collect();
        let to_send = bytes.clone();
        let send = spawn(async move {
            let mut sender = sender;
            for chunk in to_send.chunks(50_000) {
                sender.write_all(chunk.to_vec()).await.0.unwrap();
            }
            sender.shutdown().await.unwrap();
            sender
        });
        let (result, got) = receiver.read_to_end(Vec::new()).await;
        result.unwrap();
        assert!(got == bytes);
        assert_eq!(echo_read.await.unwrap(), bytes.len());
        let sender = send.await.unwrap();
        assert!(receiver.unsplit(sender).is_ok());
    });
}

fn unsplit_checks_the_pair(runtime: Runtime) {
    run(&runtime, async {
        let (a, b) = stream_pair().await;
        let (read_a, write_a) = split(a);
        let (read_b, write_b) = split(b);
        let Err((read_a, write_b)) = read_a.unsplit(write_b) else {
            panic!("halves of two streams must not join");
        };
        let mut a = read_a.unsplit(write_a).expect("halves of one stream");
        let mut b = read_b.unsplit(write_b).expect("halves of one stream");
        a.write_all(&b"joined"[..]).await.0.unwrap();
        let (count, buffer) = b.read(Vec::with_capacity(16)).await;
        assert_eq!(&buffer[..count.unwrap()], b"joined");
    });
}

fn read_to_string_checks_utf8(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, mut b) = stream_pair().await;
        a.write_all("héllo".as_bytes().to_vec()).await.0.unwrap();
        drop(a);
        assert_eq!(read_to_string(&mut b).await.unwrap(), "héllo");
        let (mut c, mut d) = stream_pair().await;
        c.write_all(&b"\xc3"[..]).await.0.unwrap();
        drop(c);
        // Through a mutable reference and a BufReader over it.
        let mut reader = BufReader::new(&mut d);
        let error = read_to_string(&mut reader).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
    });
}

/// A `BufReader<BufWriter<_>>` reads through one buffer and writes through the other.
fn buffered_both_ways(runtime: Runtime) {
    run(&runtime, async {
        let (a, b) = stream_pair().await;
        let peer = spawn(async move {
            let mut peer = BufReader::new(b);
            let mut line = String::new();
            while peer.read_line(&mut line).await.unwrap() > 0 {
                let reply = format!("echo {line}");
                peer.write_all(reply.into_bytes()).await.0.unwrap();
                line.clear();
            }
        });
        let mut stream = BufReader::new(BufWriter::new(a));
        for n in 0..50 {
            stream
                .write_all(format!("line {n}\n").into_bytes())
                .await
                .0
                .unwrap();
            stream.flush().await.unwrap();
            let mut reply = String::new();
            stream.read_line(&mut reply).await.unwrap();
            assert_eq!(reply, format!("echo line {n}\n"));
        }
        stream.shutdown().await.unwrap();
        peer.await.unwrap();
    });
}
