//! `proactor::io::duplex`: in-memory stream pairs, run once per backend (the streams involve
//! no descriptor, but the tasks and wakers they use are the runtime's).

mod common;

use std::io::ErrorKind;
use std::time::Duration;

use common::{per_backend, run, LIMIT};
use proactor::io::{copy, duplex, split, AsyncRead, AsyncWrite, BufReader};
use proactor::time::timeout;
use proactor::{spawn, Runtime};

per_backend! {
    bytes_arrive_in_order_both_ways,
    a_full_direction_holds_the_writer_back,
    shutdown_and_drop_end_the_stream,
    writes_to_a_gone_peer_are_broken_pipe,
    cancelled_reads_and_writes_move_nothing,
    ends_work_from_two_threads,
    works_with_the_io_helpers,
    zero_sizes,
}

/// A pattern that shows a lost, doubled or reordered byte.
fn pattern(count: usize) -> Vec<u8> {
    (0..count).map(|index| (index * 7 % 251) as u8).collect()
}

fn bytes_arrive_in_order_both_ways(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, mut b) = duplex(1024);
        let sent = pattern(100_000);
        let writer = spawn({
            let sent = sent.clone();
            async move {
                a.write_all(sent).await.0.unwrap();
                a.shutdown().await.unwrap();
                a
            }
        });
        let (result, received) = b.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(received, sent);
        // And back the other way on the same pair.
        let mut a = writer.await.unwrap();
        b.write_all(&b"reply"[..]).await.0.unwrap();
        let (count, reply) = a.read(Vec::with_capacity(16)).await;
        assert_eq!(&reply[..count.unwrap()], b"reply");
    });
}

fn a_full_direction_holds_the_writer_back(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, mut b) = duplex(8);
        // A write takes what fits.
        let (written, _) = a.write(&b"0123456789"[..]).await;
        assert_eq!(written.unwrap(), 8);
        // Full: the next write waits until the reader makes room.
        assert!(
            timeout(Duration::from_millis(30), a.write(&b"x"[..]))
                .await
                .is_err(),
            "a write to a full direction waits"
        );
        let (count, first) = b.read(Vec::with_capacity(3)).await;
        assert_eq!(&first[..count.unwrap()], b"012");
        let (written, _) = timeout(LIMIT, a.write(&b"89ab"[..])).await.unwrap();
        assert_eq!(written.unwrap(), 3, "as much as the read freed");
        let (count, rest) = b.read(Vec::with_capacity(64)).await;
        assert_eq!(&rest[..count.unwrap()], b"3456789a");
    });
}

fn shutdown_and_drop_end_the_stream(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, mut b) = duplex(64);
        a.write_all(&b"last"[..]).await.0.unwrap();
        a.shutdown().await.unwrap();
        // Written bytes first, then the end, again and again.
        let (count, bytes) = b.read(Vec::with_capacity(16)).await;
        assert_eq!(&bytes[..count.unwrap()], b"last");
        for _ in 0..2 {
            assert_eq!(b.read(Vec::with_capacity(16)).await.0.unwrap(), 0);
        }
        // Writing after our own shutdown is refused.
        let (result, _) = a.write(&b"late"[..]).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::BrokenPipe);
        // The other direction still works until b goes away; then a reads the end.
        b.write_all(&b"still"[..]).await.0.unwrap();
        drop(b);
        let (result, bytes) = a.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(bytes, b"still");
        // A reader waiting when the peer drops wakes up with the end.
        let (mut c, d) = duplex(64);
        let reader = spawn(async move { c.read(Vec::with_capacity(8)).await.0 });
        proactor::yield_now().await;
        drop(d);
        assert_eq!(reader.await.unwrap().unwrap(), 0);
    });
}

fn writes_to_a_gone_peer_are_broken_pipe(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, b) = duplex(4);
        a.write_all(&b"full"[..]).await.0.unwrap();
        // A writer waiting on a full direction when the reader drops: woken, with the error.
        let writer = spawn(async move { a.write(&b"more"[..]).await.0 });
        proactor::yield_now().await;
        drop(b);
        let error = writer.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
    });
}

fn cancelled_reads_and_writes_move_nothing(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, mut b) = duplex(4);
        // A read that times out took nothing; the next read gets everything.
        assert!(
            timeout(Duration::from_millis(10), b.read(Vec::with_capacity(8)))
                .await
                .is_err()
        );
        a.write_all(&b"abcd"[..]).await.0.unwrap();
        // A write that times out on a full direction wrote nothing.
        assert!(timeout(Duration::from_millis(10), a.write(&b"efgh"[..]))
            .await
            .is_err());
        let (count, bytes) = b.read(Vec::with_capacity(16)).await;
        assert_eq!(&bytes[..count.unwrap()], b"abcd");
        a.shutdown().await.unwrap();
        assert_eq!(b.read(Vec::with_capacity(16)).await.0.unwrap(), 0);
    });
}

fn ends_work_from_two_threads(runtime: Runtime) {
    let (mut a, mut b) = duplex(256);
    let sent = pattern(300_000);
    let other = std::thread::spawn({
        let sent = sent.clone();
        move || {
            // Its own runtime (the default backend): the ends are Send.
            Runtime::new().unwrap().block_on(async move {
                timeout(LIMIT, a.write_all(sent)).await.unwrap().0.unwrap();
            });
        }
    });
    run(&runtime, async {
        let (result, received) = b.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(received, sent);
    });
    other.join().unwrap();
}

fn works_with_the_io_helpers(runtime: Runtime) {
    run(&runtime, async {
        let (mut a, b) = duplex(16);
        let (mut c, mut d) = duplex(16);
        let text = "one\ntwo\nthree\n".repeat(100);
        let writer = spawn({
            let text = text.clone();
            async move {
                a.write_all(text.into_bytes()).await.0.unwrap();
            }
        });
        // copy moves it all through small directions (no descriptor: the buffer loop).
        let copier = spawn(async move {
            let mut reader = BufReader::new(b);
            copy(&mut reader, &mut c).await.unwrap()
        });
        let mut lines = BufReader::new(&mut d).lines();
        let mut count = 0;
        while count < 300 {
            let line = lines.next_line().await.unwrap().expect("a line");
            assert!(["one", "two", "three"].contains(&line.as_str()), "{line}");
            count += 1;
        }
        writer.await.unwrap();
        assert_eq!(copier.await.unwrap(), text.len() as u64);
        // split works on a duplex end too.
        let (e, mut f) = duplex(16);
        let (mut read_half, mut write_half) = split(e);
        write_half.write_all(&b"hi"[..]).await.0.unwrap();
        let (count, bytes) = f.read(Vec::with_capacity(4)).await;
        assert_eq!(&bytes[..count.unwrap()], b"hi");
        f.write_all(&b"yo"[..]).await.0.unwrap();
        let (count, bytes) = read_half.read(Vec::with_capacity(4)).await;
        assert_eq!(&bytes[..count.unwrap()], b"yo");
    });
}

fn zero_sizes(runtime: Runtime) {
    run(&runtime, async {
        // A size of 0 is taken as 1 (it could never carry a byte otherwise).
        let (mut a, mut b) = duplex(0);
        let writer = spawn(async move {
            a.write_all(&b"slow"[..]).await.0.unwrap();
        });
        let (result, bytes) = b.read_to_end(Vec::with_capacity(1)).await;
        writer.await.unwrap();
        result.unwrap();
        assert_eq!(bytes, b"slow");
        // Empty reads and writes return at once.
        let (mut c, mut d) = duplex(4);
        assert_eq!(c.write(Vec::new()).await.0.unwrap(), 0);
        assert_eq!(d.read(Vec::new()).await.0.unwrap(), 0);
    });
}
