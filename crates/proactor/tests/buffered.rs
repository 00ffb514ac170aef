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
    consume_saturates,
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
    #[cfg(target_os = "linux")] // copy's kernel path (splice) is Linux's.
    copy_splices_tcp_to_tcp,
    #[cfg(target_os = "linux")]
    copy_splices_a_file_to_tcp,
    #[cfg(target_os = "linux")]
    copy_splices_tcp_to_a_file,
    #[cfg(target_os = "linux")]
    copy_splices_a_unix_stream_into_child_stdin,
    #[cfg(target_os = "linux")]
    copy_falls_back_when_an_end_refuses_splice,
    #[cfg(target_os = "linux")]
    copy_reports_a_peer_closing_mid_copy,
    #[cfg(target_os = "linux")]
    dropped_copy_closes_its_pipe_and_keeps_order,
    #[cfg(target_os = "linux")]
    copy_keeps_small_messages_off_the_pipe,
    #[cfg(target_os = "linux")]
    copy_goes_back_to_the_buffer_when_the_stream_turns_small,
    #[cfg(target_os = "linux")]
    copy_is_byte_exact_across_switches,
}

#[cfg(target_os = "linux")]
use splicing::*;

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

/// `consume` with any amount (`usize::MAX` included) drops at most what is buffered: no
/// overflow panic, no cursor moved backwards, and what comes after is read in order.
fn consume_saturates(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, b) = stream_pair().await;
        a.write_all(&b"0123456789"[..]).await.0.unwrap();
        drop(a);
        let mut reader = BufReader::with_capacity(4, b);
        assert_eq!(reader.fill_buf().await.unwrap(), b"0123");
        reader.consume(1);
        reader.consume(usize::MAX);
        assert!(reader.buffer().is_empty());
        let mut rest = Vec::new();
        reader.read_until(b'\n', &mut rest).await.unwrap();
        assert_eq!(rest, b"456789");
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
        // A fill cancelled just as it met the end of the stream must not swallow the end:
        // Wine reports a peer's close to one receive only, and this test waited forever
        // there until the runtime kept the end for the next read.
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

/// `copy` through the kernel: TCP, files, child stdin; an end that refuses; a peer that goes
/// away; a copy cut short; when it splices (bulk streams) and when not (small messages).
#[cfg(target_os = "linux")]
mod splicing {
    use std::io::ErrorKind;
    use std::time::Duration;

    use proactor::io::{copy, copy_bidirectional, AsyncRead, AsyncWrite, BufReader};
    use proactor::net::UnixStream;
    use proactor::time::{sleep, timeout};
    use proactor::{spawn, Runtime};

    use crate::common::{run, tcp_pair};

    /// Bytes no shift of which repeats (xorshift64*), so a lost or repeated run shows.
    fn pattern(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut bytes = Vec::with_capacity(len + 8);
        while bytes.len() < len {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            bytes.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
        bytes.truncate(len);
        bytes
    }

    /// Writes `bytes` to `stream` in 64 KiB pieces, then ends the stream.
    async fn feed<W: AsyncWrite>(mut stream: W, bytes: Vec<u8>, pause: Option<Duration>) {
        for chunk in bytes.chunks(64 * 1024) {
            stream.write_all(chunk.to_vec()).await.0.unwrap();
            if let Some(pause) = pause {
                sleep(pause).await;
            }
        }
        stream.shutdown().await.unwrap();
    }

    /// Reads `stream` to its end.
    async fn drain<R: AsyncRead>(mut stream: R) -> Vec<u8> {
        let (result, bytes) = stream.read_to_end(Vec::new()).await;
        result.unwrap();
        bytes
    }

    /// `copy` reads through its 64 KiB buffer until a read fills half of it; a bulk stream
    /// is spliced from there. At most this many bytes of one go through the buffer first (a
    /// few reads that came before the feeder got ahead).
    const BEFORE_BULK: u64 = 256 * 1024;

    /// Asserts that the copy of `copied` bytes spliced all but its first few reads
    /// (`spliced` counts each byte twice: into the pipe and out).
    fn assert_bulk_spliced(copied: u64, spliced: u64) {
        assert!(spliced <= 2 * copied, "{spliced} bytes spliced of {copied}");
        assert!(
            copied - spliced / 2 <= BEFORE_BULK,
            "{} of {copied} bytes went through the buffer",
            copied - spliced / 2
        );
    }

    /// What the driver's own `tracing` events (feature `tracing`, on for these tests) say the
    /// splices on this thread moved: every `Op::Splice` that completed, and the bytes they moved
    /// in all. A byte copied through the kernel is spliced twice (into the pipe, out of it).
    ///
    /// The subscriber is process-wide (a scoped one can miss events while other threads change
    /// which subscribers exist, as tracing caches per call site whether anyone listens), and
    /// counts only for the threads inside [`counted`](splices::counted).
    mod splices {
        use std::collections::HashMap;
        use std::fmt::{self, Write as _};
        use std::sync::{Mutex, Once};
        use std::thread::{self, ThreadId};

        use tracing::field::{Field, Visit};
        use tracing::span::{Attributes, Id, Record};
        use tracing::{Event, Metadata, Subscriber};

        /// (splices completed, bytes they moved) per counting thread.
        static COUNTS: Mutex<Option<HashMap<ThreadId, (u64, u64)>>> = Mutex::new(None);

        struct Counter;

        #[derive(Default)]
        struct Fields {
            message: String,
            kind: String,
            result: String,
        }

        impl Visit for Fields {
            fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
                let slot = match field.name() {
                    "message" => &mut self.message,
                    "kind" => &mut self.kind,
                    "result" => &mut self.result,
                    _ => return,
                };
                let _ = write!(slot, "{value:?}");
            }
        }

        impl Subscriber for Counter {
            fn enabled(&self, _: &Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &Attributes<'_>) -> Id {
                Id::from_u64(1)
            }
            fn record(&self, _: &Id, _: &Record<'_>) {}
            fn record_follows_from(&self, _: &Id, _: &Id) {}
            fn event(&self, event: &Event<'_>) {
                let mut fields = Fields::default();
                event.record(&mut fields);
                if fields.message != "complete" || fields.kind != "Splice" {
                    return;
                }
                let moved = fields
                    .result
                    .strip_prefix("Ok(")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .and_then(|count| count.parse::<u64>().ok())
                    .unwrap_or(0);
                let mut counts = COUNTS.lock().unwrap();
                if let Some((ops, bytes)) = counts
                    .as_mut()
                    .and_then(|counts| counts.get_mut(&thread::current().id()))
                {
                    *ops += 1;
                    *bytes += moved;
                }
            }
            fn enter(&self, _: &Id) {}
            fn exit(&self, _: &Id) {}
        }

        /// (splices completed, bytes they moved) on this thread so far, inside
        /// [`counted`].
        pub fn so_far() -> (u64, u64) {
            let me = thread::current().id();
            COUNTS
                .lock()
                .unwrap()
                .as_ref()
                .and_then(|counts| counts.get(&me).copied())
                .unwrap_or_default()
        }

        /// Runs `work`, counting the splices this thread completes; (its result, splices
        /// completed, bytes they moved).
        pub fn counted<T>(work: impl FnOnce() -> T) -> (T, u64, u64) {
            static INSTALL: Once = Once::new();
            INSTALL.call_once(|| {
                tracing::subscriber::set_global_default(Counter)
                    .expect("the only subscriber of these tests")
            });
            let me = thread::current().id();
            COUNTS
                .lock()
                .unwrap()
                .get_or_insert_with(HashMap::new)
                .insert(me, (0, 0));
            let output = work();
            let (ops, bytes) = COUNTS
                .lock()
                .unwrap()
                .as_mut()
                .and_then(|counts| counts.remove(&me))
                .unwrap_or_default();
            (output, ops, bytes)
        }
    }

    /// Several MiB TCP → TCP, byte-exact, through the kernel once the first reads showed the
    /// stream bulk; and through a `BufReader` holding bytes: those are written first, the rest
    /// spliced.
    pub fn copy_splices_tcp_to_tcp(runtime: Runtime) {
        let bytes = pattern(6 * 1024 * 1024 + 12_345, 1);
        let expected = bytes.clone();
        let (copied, _, spliced) = splices::counted(|| {
            run(&runtime, async move {
                let (a, mut b) = tcp_pair().await;
                let (mut c, d) = tcp_pair().await;
                let writer = spawn(feed(a, bytes, None));
                let reader = spawn(drain(d));
                let copied = copy(&mut b, &mut c).await.unwrap();
                AsyncWrite::shutdown(&mut c).await.unwrap();
                assert!(reader.await.unwrap() == expected, "the bytes differ");
                writer.await.unwrap();
                copied
            })
        });
        assert_eq!(copied, 6 * 1024 * 1024 + 12_345);
        assert_bulk_spliced(copied, spliced);

        let mut bytes = b"a header line\n".to_vec();
        bytes.extend(pattern(1024 * 1024, 2));
        let expected = bytes[14..].to_vec();
        let ((copied, buffered), _, spliced) = splices::counted(|| {
            run(&runtime, async move {
                let (a, b) = tcp_pair().await;
                let (mut c, d) = tcp_pair().await;
                let writer = spawn(feed(a, bytes, None));
                let reader = spawn(drain(d));
                let mut b = BufReader::new(b);
                let mut line = String::new();
                b.read_line(&mut line).await.unwrap();
                assert_eq!(line, "a header line\n");
                let buffered = b.buffer().len() as u64;
                let copied = copy(&mut b, &mut c).await.unwrap();
                AsyncWrite::shutdown(&mut c).await.unwrap();
                assert!(reader.await.unwrap() == expected, "the bytes differ");
                writer.await.unwrap();
                (copied, buffered)
            })
        });
        assert_eq!(copied, 1024 * 1024);
        assert!(spliced <= 2 * (copied - buffered), "buffered bytes spliced");
        assert_bulk_spliced(copied - buffered, spliced);
    }

    /// A file from its cursor to a socket; the cursor ends at the end of the file. A file's
    /// first read fills the buffer, so everything after those 64 KiB is spliced.
    pub fn copy_splices_a_file_to_tcp(runtime: Runtime) {
        let dir = std::env::temp_dir().join(format!(
            "proactor-copy-file-tcp-{}-{:?}",
            std::process::id(),
            runtime.backend()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("file");
        let bytes = pattern(3 * 1024 * 1024 + 777, 3);
        std::fs::write(&path, &bytes).unwrap();
        let (copied, _, spliced) = splices::counted(|| {
            run(&runtime, async {
                let mut file = proactor::fs::File::open(&path).await.unwrap();
                let (count, _) = file.read_exact(Vec::with_capacity(1000)).await;
                count.unwrap();
                let (mut c, d) = tcp_pair().await;
                let reader = spawn(drain(d));
                let copied = copy(&mut file, &mut c).await.unwrap();
                AsyncWrite::shutdown(&mut c).await.unwrap();
                assert!(reader.await.unwrap() == bytes[1000..], "the bytes differ");
                assert_eq!(file.position(), bytes.len() as u64);
                let (count, _) = file.read(Vec::with_capacity(16)).await;
                assert_eq!(count.unwrap(), 0, "the cursor is at the end");
                copied
            })
        });
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(copied, 3 * 1024 * 1024 + 777 - 1000);
        assert_eq!(spliced, 2 * (copied - 64 * 1024));
    }

    /// A socket into a file at its cursor; the cursor ends after what was copied.
    pub fn copy_splices_tcp_to_a_file(runtime: Runtime) {
        let dir = std::env::temp_dir().join(format!(
            "proactor-copy-tcp-file-{}-{:?}",
            std::process::id(),
            runtime.backend()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("file");
        let bytes = pattern(3 * 1024 * 1024 + 99, 4);
        let sent = bytes.clone();
        let (copied, _, spliced) = splices::counted(|| {
            run(&runtime, async {
                let mut file = proactor::fs::File::create(&path).await.unwrap();
                file.write_all(&b"head"[..]).await.0.unwrap();
                let (a, mut b) = tcp_pair().await;
                let writer = spawn(feed(a, sent, None));
                let copied = copy(&mut b, &mut file).await.unwrap();
                writer.await.unwrap();
                file.write_all(&b"tail"[..]).await.0.unwrap();
                copied
            })
        });
        let mut expected = b"head".to_vec();
        expected.extend_from_slice(&bytes);
        expected.extend_from_slice(b"tail");
        assert!(
            std::fs::read(&path).unwrap() == expected,
            "the file differs"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(copied, bytes.len() as u64);
        assert_bulk_spliced(copied, spliced);
    }

    /// A Unix stream into a child's stdin (a pipe), read back from its stdout.
    pub fn copy_splices_a_unix_stream_into_child_stdin(runtime: Runtime) {
        use proactor::process::{Command, Stdio};

        let bytes = pattern(2 * 1024 * 1024 + 5, 5);
        let expected = bytes.clone();
        let (copied, _, spliced) = splices::counted(|| {
            run(&runtime, async move {
                let mut child = Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                let stdout = child.stdout.take().unwrap();
                let (a, mut b) = UnixStream::pair().unwrap();
                let writer = spawn(feed(a, bytes, None));
                let reader = spawn(drain(stdout));
                let copied = copy(&mut b, &mut stdin).await.unwrap();
                drop(stdin);
                assert!(
                    reader.await.unwrap() == expected,
                    "cat gave back other bytes"
                );
                assert!(child.wait().await.unwrap().success());
                writer.await.unwrap();
                copied
            })
        });
        assert_eq!(copied, 2 * 1024 * 1024 + 5);
        assert_bulk_spliced(copied, spliced);
    }

    /// Linux splices neither out of `/proc/PID/environ` nor into a file in append mode (both
    /// `EINVAL`): the copy goes on through its buffer, every byte once. The environment is a
    /// child's of some 200 KB, so the first read fills the buffer and the copy tries the
    /// kernel path. Into the append-mode file the first spliced chunk is already in the pipe
    /// when the file refuses it.
    pub fn copy_falls_back_when_an_end_refuses_splice(runtime: Runtime) {
        // Each variable below Linux's 128 KiB limit for one.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env("PROACTOR_BIG_ONE", "1".repeat(100_000))
            .env("PROACTOR_BIG_TWO", "2".repeat(100_000))
            .spawn()
            .unwrap();
        let path = format!("/proc/{}/environ", child.id());
        // `spawn` returns once the child's descriptors close in its exec, a moment before the
        // kernel records where its new environment lies: until then the file reads empty.
        let mut environ = std::fs::read(&path).unwrap();
        for _ in 0..200 {
            if environ.len() > 200_000 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            environ = std::fs::read(&path).unwrap();
        }
        assert!(environ.len() > 200_000, "{} bytes", environ.len());
        let (got, ops, spliced) = splices::counted(|| {
            run(&runtime, async {
                let mut file = proactor::fs::File::open(&path).await.unwrap();
                let (mut c, d) = UnixStream::pair().unwrap();
                let reader = spawn(drain(d));
                let copied = copy(&mut file, &mut c).await.unwrap();
                AsyncWrite::shutdown(&mut c).await.unwrap();
                let got = reader.await.unwrap();
                assert_eq!(copied, got.len() as u64);
                got
            })
        });
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(got == environ, "the environment came out different");
        assert_eq!(
            (ops, spliced),
            (1, 0),
            "one refused splice, then the buffer"
        );

        let dir = std::env::temp_dir().join(format!(
            "proactor-copy-append-{}-{:?}",
            std::process::id(),
            runtime.backend()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("file");
        std::fs::write(&path, b"log:").unwrap();
        let bytes = pattern(1024 * 1024 + 3, 6);
        let sent = bytes.clone();
        let (copied, _, spliced) = splices::counted(|| {
            run(&runtime, async {
                let mut file = proactor::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .await
                    .unwrap();
                let (a, mut b) = UnixStream::pair().unwrap();
                let writer = spawn(feed(a, sent, None));
                let copied = copy(&mut b, &mut file).await.unwrap();
                writer.await.unwrap();
                copied
            })
        });
        let mut expected = b"log:".to_vec();
        expected.extend_from_slice(&bytes);
        assert!(
            std::fs::read(&path).unwrap() == expected,
            "the file differs"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(copied, bytes.len() as u64);
        assert!(
            spliced > 0 && spliced < copied,
            "a chunk into the pipe before the file refused it: {spliced}"
        );
    }

    /// A peer that goes away mid-copy ends it with an error: the writer's peer resetting, and
    /// the reader's peer resetting.
    pub fn copy_reports_a_peer_closing_mid_copy(runtime: Runtime) {
        run(&runtime, async {
            let (a, mut b) = tcp_pair().await;
            let (mut c, mut d) = tcp_pair().await;
            let writer = spawn(async move {
                let mut a = a;
                let chunk = pattern(64 * 1024, 7);
                // Until the copy stops taking bytes.
                while a.write_all(chunk.clone()).await.0.is_ok() {}
            });
            let closer = spawn(async move {
                let (count, _) = d.read_exact(Vec::with_capacity(256 * 1024)).await;
                count.unwrap();
                // Unread bytes in its buffer: the close resets the connection.
                drop(d);
            });
            let error = copy(&mut b, &mut c).await.unwrap_err();
            assert!(
                matches!(
                    error.kind(),
                    ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
                ),
                "{error:?}"
            );
            closer.await.unwrap();
            drop(b);
            writer.await.unwrap();

            let (a, mut b) = tcp_pair().await;
            let (mut c, d) = tcp_pair().await;
            let reader = spawn(drain(d));
            let mut a = a;
            a.write_all(pattern(100_000, 8)).await.0.unwrap();
            let reset = spawn(async move {
                sleep(Duration::from_millis(50)).await;
                a.set_linger(Some(Duration::ZERO)).unwrap();
                drop(a);
            });
            let error = copy(&mut b, &mut c).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error:?}");
            reset.await.unwrap();
            drop(c);
            reader.await.unwrap();
        });
    }

    /// Descriptors this process has open.
    fn open_fds() -> usize {
        std::fs::read_dir("/proc/self/fd").unwrap().count()
    }

    /// Copies cut short by a timeout, then finished by a second `copy`: the first closes its
    /// pipe (counted over many rounds, as other tests open and close descriptors meanwhile), the
    /// writer gets a prefix of the bytes, then a gap of at most the pipe's 256 KiB (what was in
    /// it when the future was dropped), then the rest in order, and the second copy reports
    /// exactly what reached the writer after the first was dropped.
    pub fn dropped_copy_closes_its_pipe_and_keeps_order(runtime: Runtime) {
        use std::cell::RefCell;
        use std::rc::Rc;

        const ROUNDS: u64 = 24;
        const LEN: usize = 2 * 1024 * 1024;
        run(&runtime, async {
            let before = open_fds();
            for round in 0..ROUNDS {
                let bytes = pattern(LEN, 100 + round);
                let (a, mut b) = tcp_pair().await;
                let (mut c, mut d) = tcp_pair().await;
                let writer = spawn(feed(a, bytes.clone(), Some(Duration::from_micros(500))));
                let got = Rc::new(RefCell::new(Vec::new()));
                let reader = spawn({
                    let got = Rc::clone(&got);
                    async move {
                        loop {
                            let (count, chunk) = d.read(Vec::with_capacity(64 * 1024)).await;
                            if count.unwrap() == 0 {
                                break;
                            }
                            got.borrow_mut().extend_from_slice(&chunk);
                        }
                    }
                });
                let cut = Duration::from_millis(2 + round % 8);
                assert!(
                    timeout(cut, copy(&mut b, &mut c)).await.is_err(),
                    "round {round}: the copy was to be cut short"
                );
                // A splice the kernel was already running when the future went finishes on its
                // own; let it, and let the reader take what the first copy delivered: until the
                // count stays still for 50 ms (a fixed pause was too short on a loaded machine,
                // where a kernel worker may wait its turn), within the test's bound.
                let mut first = got.borrow().len();
                let mut still = 0;
                while still < 5 {
                    sleep(Duration::from_millis(10)).await;
                    let now = got.borrow().len();
                    still = if now == first { still + 1 } else { 0 };
                    first = now;
                }
                let rest = copy(&mut b, &mut c).await.unwrap();
                AsyncWrite::shutdown(&mut c).await.unwrap();
                reader.await.unwrap();
                writer.await.unwrap();
                let got = got.borrow();
                assert_eq!(
                    rest,
                    (got.len() - first) as u64,
                    "round {round}: the second copy's count"
                );
                let kept = got.iter().zip(&bytes).take_while(|(x, y)| x == y).count();
                let resumed = LEN - (got.len() - kept);
                assert!(resumed >= kept, "round {round}: bytes came twice");
                assert!(
                    got[kept..] == bytes[resumed..],
                    "round {round}: the bytes after the gap differ"
                );
                assert!(
                    resumed - kept <= 256 * 1024,
                    "round {round}: {} bytes lost",
                    resumed - kept
                );
            }
            // The sockets and pipes close through the driver: let those complete.
            sleep(Duration::from_millis(50)).await;
            let after = open_fds();
            assert!(
                after < before + 16,
                "{before} descriptors open before, {after} after {ROUNDS} cut copies"
            );
        });
    }

    /// A request/response proxy (`copy_bidirectional`, a `copy` each way) between a client and
    /// an echo server: messages of 64 B to 16 KiB, one in flight at a time, never fill half of
    /// the copy's buffer, so nothing is spliced, and every echo comes back whole.
    pub fn copy_keeps_small_messages_off_the_pipe(runtime: Runtime) {
        let (_, ops, spliced) = splices::counted(|| {
            run(&runtime, async {
                let (mut client, mut front) = tcp_pair().await;
                let (mut back, server) = tcp_pair().await;
                for stream in [&client, &front, &back, &server] {
                    stream.set_nodelay(true).unwrap();
                }
                let proxy =
                    spawn(async move { copy_bidirectional(&mut front, &mut back).await.unwrap() });
                let echo = spawn(async move {
                    let mut server = server;
                    let mut buffer = Vec::with_capacity(64 * 1024);
                    loop {
                        buffer.clear();
                        let (count, back) = server.read(buffer).await;
                        buffer = back;
                        if count.unwrap() == 0 {
                            break;
                        }
                        let (result, back) = server.write_all(buffer).await;
                        result.unwrap();
                        buffer = back;
                    }
                    AsyncWrite::shutdown(&mut server).await.unwrap();
                });
                let mut sent = 0;
                for (index, size) in [64, 512, 4096, 16 * 1024]
                    .iter()
                    .cycle()
                    .take(40)
                    .enumerate()
                {
                    let message = pattern(*size, index as u64);
                    client.write_all(message.clone()).await.0.unwrap();
                    let (count, answer) = client.read_exact(Vec::with_capacity(*size)).await;
                    count.unwrap();
                    assert!(answer == message, "echo {index} differs");
                    sent += *size as u64;
                }
                AsyncWrite::shutdown(&mut client).await.unwrap();
                assert_eq!(drain(client).await.len(), 0);
                echo.await.unwrap();
                assert_eq!(proxy.await.unwrap(), (sent, sent));
            })
        });
        assert_eq!((ops, spliced), (0, 0), "small messages were spliced");
    }

    /// The most splice operations four small splices in a row can take before the copy is
    /// back on its buffer: each into the pipe (after one that found nothing, on io_uring)
    /// and out of it (in two, if the socket took part): 4 × 4. A copy that never went back
    /// would splice each of a phase's 12 or 40 messages, two operations or more apiece.
    const SMALL_SPLICES_BACK: u64 = 16;

    /// Feeds `phases` of (a burst of `burst` bytes at once, then `messages` small messages of
    /// `small` bytes 2 ms apart) through a `copy` between two TCP connections, and checks that
    /// every byte arrives once and in order (none left in the pipe at a switch, none
    /// overtaking another). Returns, per phase, the bytes spliced (each byte counted once)
    /// while its burst went through, and the splices (into the pipe and out of it) made while
    /// its small messages did: the feeder waits for the sink to have every byte sent before
    /// it reads the counts and moves on. Splices, not bytes, for the small messages: on a
    /// loaded machine a read may find two of them together, and the switch back counts
    /// splices.
    fn switching_copy(
        runtime: &Runtime,
        phases: usize,
        burst: usize,
        small: usize,
        messages: usize,
    ) -> Vec<(u64, u64)> {
        use std::cell::{Cell, RefCell};
        use std::rc::Rc;

        let phase = burst + small * messages;
        let bytes = pattern(phases * phase, 9 + phases as u64);
        let (counts, _, _) = splices::counted(|| {
            run(runtime, async move {
                let (a, mut b) = tcp_pair().await;
                let (mut c, d) = tcp_pair().await;
                a.set_nodelay(true).unwrap();
                let arrived = Rc::new(Cell::new(0));
                let got = Rc::new(RefCell::new(Vec::new()));
                let reader = spawn({
                    let (arrived, got) = (Rc::clone(&arrived), Rc::clone(&got));
                    let mut d = d;
                    async move {
                        loop {
                            let (count, chunk) = d.read(Vec::with_capacity(64 * 1024)).await;
                            if count.unwrap() == 0 {
                                break;
                            }
                            got.borrow_mut().extend_from_slice(&chunk);
                            arrived.set(arrived.get() + chunk.len());
                        }
                    }
                });
                let sent = bytes.clone();
                let writer = spawn(async move {
                    let mut a = a;
                    let mut counts = Vec::new();
                    let mut total = 0;
                    let mut last = splices::so_far().1;
                    // Waits until the sink has had `total` bytes.
                    let settle = |total: usize| {
                        let arrived = Rc::clone(&arrived);
                        async move {
                            while arrived.get() < total {
                                sleep(Duration::from_millis(1)).await;
                            }
                        }
                    };
                    for part in sent.chunks(phase) {
                        a.write_all(part[..burst].to_vec()).await.0.unwrap();
                        total += burst;
                        settle(total).await;
                        let (trickle_start, now) = splices::so_far();
                        let in_burst = (now - last) / 2;
                        for message in part[burst..].chunks(small) {
                            sleep(Duration::from_millis(2)).await;
                            a.write_all(message.to_vec()).await.0.unwrap();
                        }
                        total += small * messages;
                        settle(total).await;
                        let (ops, now) = splices::so_far();
                        counts.push((in_burst, ops - trickle_start));
                        last = now;
                    }
                    AsyncWrite::shutdown(&mut a).await.unwrap();
                    counts
                });
                let copied = copy(&mut b, &mut c).await.unwrap();
                AsyncWrite::shutdown(&mut c).await.unwrap();
                reader.await.unwrap();
                assert_eq!(copied, bytes.len() as u64);
                assert!(*got.borrow() == bytes, "the bytes differ");
                writer.await.unwrap()
            })
        });
        counts
    }

    /// A stream that starts bulk (1 MiB at once) and turns to small messages (100 B each,
    /// apart): the bulk is spliced, then the copy goes back to its buffer after a few small
    /// splices.
    pub fn copy_goes_back_to_the_buffer_when_the_stream_turns_small(runtime: Runtime) {
        let counts = switching_copy(&runtime, 1, 1024 * 1024, 100, 40);
        let (burst, trickle) = counts[0];
        assert!(
            burst >= 1024 * 1024 - BEFORE_BULK,
            "only {burst} bytes of the bulk spliced"
        );
        // Four small splices in a row send it back (fewer if the burst's last was short).
        assert!(
            trickle <= SMALL_SPLICES_BACK,
            "{trickle} splices of small messages"
        );
    }

    /// Bulk bursts and trickles of small messages in turn, so the copy goes from its buffer to
    /// the pipe and back four times: byte-exact, each burst spliced, each trickle mostly not.
    pub fn copy_is_byte_exact_across_switches(runtime: Runtime) {
        let counts = switching_copy(&runtime, 4, 768 * 1024, 300, 12);
        for (phase, &(burst, trickle)) in counts.iter().enumerate() {
            assert!(
                burst >= 768 * 1024 - BEFORE_BULK,
                "phase {phase}: only {burst} bytes of the burst spliced"
            );
            assert!(
                trickle <= SMALL_SPLICES_BACK,
                "phase {phase}: {trickle} splices of small messages"
            );
        }
    }
}
