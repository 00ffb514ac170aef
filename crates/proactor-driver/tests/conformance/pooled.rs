//! Buffer pools and pooled receives (`Driver::buffer_pool`, `Op::RecvPooled`): a receive gets
//! a buffer lent when bytes arrive, a multishot receive yields one completion per receive
//! until the end of the stream, an error or a cancel, an empty pool is an error (never a
//! hang), and every buffer goes back to its pool whatever happens.

use std::time::Duration;

use proactor_driver::{
    is_cancelled, is_pool_exhausted, Buffer, BufferPool, Completion, Op, PooledBuffer,
};
use socket2::SockRef;

use crate::harness::*;

fn send(harness: &mut Harness, socket: &OwnedSocket, bytes: &[u8]) {
    let (sent, _) = harness.ok(Op::Send {
        fd: raw(socket),
        buf: Buffer::from(bytes.to_vec()),
        flags: 0,
    });
    assert_eq!(sent, bytes.len());
}

fn receive(socket: &OwnedSocket, pool: &BufferPool, multishot: bool) -> Op {
    Op::RecvPooled {
        fd: raw(socket),
        pool: pool.clone(),
        multishot,
        buffer: None,
    }
}

fn buffer_of(completion: Completion) -> Option<PooledBuffer> {
    match completion.op {
        Op::RecvPooled { buffer, .. } => buffer,
        other => panic!("not a pooled receive: {other:?}"),
    }
}

pub fn a_pooled_receive_gets_a_lent_buffer(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.buffer_pool(64, 4).expect("pool");
    let id = harness.submit(receive(&server, &pool, false));
    send(&mut harness, &client, b"hello");
    let completion = harness.wait(id);
    assert!(!completion.more, "a single receive has one completion");
    assert_eq!(completion.result.as_ref().copied().expect("receive"), 5);
    let buffer = buffer_of(completion).expect("a lent buffer");
    assert_eq!(&buffer[..], b"hello");
    assert!(buffer.is_lent());
    assert_eq!(pool.available(), 3, "one buffer lent");
    drop(buffer);
    assert_eq!(pool.available(), 4, "back in the pool when dropped");
    // The end of the stream: no buffer.
    drop(client);
    let completion = harness.run(receive(&server, &pool, false));
    assert_eq!(
        completion.result.as_ref().copied().expect("end of stream"),
        0
    );
    assert!(buffer_of(completion).is_none());
    assert_eq!(pool.available(), 4);
}

pub fn an_empty_pool_is_an_error_and_refilling_it_recovers(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.buffer_pool(4, 2).expect("pool");
    send(&mut harness, &client, b"abcdefghijkl");
    let mut kept = Vec::new();
    for _ in 0..2 {
        let completion = harness.run(receive(&server, &pool, false));
        assert_eq!(completion.result.as_ref().copied().expect("receive"), 4);
        kept.push(buffer_of(completion).expect("buffer"));
    }
    assert_eq!(pool.available(), 0);
    // Bytes waiting, no buffer: an error at once, and the bytes stay in the socket.
    let error = harness
        .run(receive(&server, &pool, false))
        .result
        .expect_err("no buffer left");
    assert!(is_pool_exhausted(&error), "{:?}: {error}", harness.flavor);
    drop(kept.pop());
    let completion = harness.run(receive(&server, &pool, false));
    assert_eq!(completion.result.as_ref().copied().expect("receive"), 4);
    let buffer = buffer_of(completion).expect("buffer");
    assert_eq!(&buffer[..], b"ijkl", "nothing lost to the failed receive");
    assert_eq!(&kept[0][..], b"abcd");
}

pub fn an_empty_pool_waits_while_nothing_arrives(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.buffer_pool(8, 1).expect("pool");
    send(&mut harness, &client, b"first");
    let first = buffer_of(harness.run(receive(&server, &pool, false))).expect("buffer");
    // No bytes and no buffer: the receive waits for bytes, as one with a buffer would.
    let id = harness.submit(receive(&server, &pool, false));
    assert!(
        harness.try_wait(id, Duration::from_millis(50)).is_none(),
        "{:?}: completed with nothing to receive",
        harness.flavor
    );
    drop(first);
    send(&mut harness, &client, b"second");
    let completion = harness.wait(id);
    assert_eq!(completion.result.as_ref().copied().expect("receive"), 6);
    assert_eq!(&buffer_of(completion).expect("buffer")[..], b"second");
}

pub fn multishot_receives_until_the_end_of_the_stream(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.buffer_pool(64, 16).expect("pool");
    let id = harness.submit(receive(&server, &pool, true));
    let mut received = Vec::new();
    let mut buffers = Vec::new();
    for round in 0..5u8 {
        let message = [b'a' + round; 10];
        send(&mut harness, &client, &message);
        // Each send arrives as one or more completions that say more.
        let mut got = 0;
        while got < message.len() {
            let completion = harness.wait(id);
            assert!(completion.more, "{:?}: ended early", harness.flavor);
            got += completion.result.as_ref().copied().expect("receive");
            let buffer = buffer_of(completion).expect("buffer");
            received.extend_from_slice(&buffer);
            buffers.push(buffer);
        }
    }
    assert_eq!(received.len(), 50);
    assert!(received
        .chunks(10)
        .enumerate()
        .all(|(round, chunk)| chunk.iter().all(|&byte| byte == b'a' + round as u8)));
    assert_eq!(pool.available(), 16 - buffers.len());
    drop(client);
    let last = harness.wait(id);
    assert!(!last.more);
    assert_eq!(last.result.as_ref().copied().expect("end of stream"), 0);
    drop(buffers);
    drop(last);
    assert_eq!(pool.available(), 16, "every buffer back");
    assert!(harness.try_wait(id, Duration::from_millis(20)).is_none());
}

pub fn multishot_receive_ends_on_reset(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.buffer_pool(64, 4).expect("pool");
    let id = harness.submit(receive(&server, &pool, true));
    send(&mut harness, &client, b"data");
    let first = harness.wait(id);
    assert!(first.more);
    SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .expect("set SO_LINGER");
    drop(client);
    let completions = harness.until_last(id);
    let last = completions.last().expect("a last completion");
    let error = last.result.as_ref().expect_err("reset");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    drop(first);
    drop(completions);
    assert_eq!(pool.available(), 4);
}

pub fn a_cancelled_multishot_receive_returns_every_buffer(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.buffer_pool(16, 8).expect("pool");
    let id = harness.submit(receive(&server, &pool, true));
    send(&mut harness, &client, b"0123456789");
    let first = harness.wait(id);
    assert!(first.more);
    send(&mut harness, &client, b"abc");
    harness.driver.cancel(id).expect("cancel");
    let completions = harness.until_last(id);
    let last = completions.last().expect("a last completion");
    assert!(
        last.result.as_ref().is_err_and(is_cancelled),
        "{:?}: {:?}",
        harness.flavor,
        last.result
    );
    let mut received: Vec<u8> = buffer_of(first).expect("buffer").to_vec();
    for completion in completions {
        if completion.more {
            received.extend_from_slice(&buffer_of(completion).expect("buffer"));
        }
    }
    // What the receive did not take is still in the socket.
    if received.len() < 13 {
        let rest = harness.run(receive(&server, &pool, false));
        received.extend_from_slice(&buffer_of(rest).expect("the rest"));
    }
    assert_eq!(received, b"0123456789abc");
    assert_eq!(pool.available(), 8, "every buffer back");
    assert!(harness.try_wait(id, Duration::from_millis(20)).is_none());
    drop(client);
}

pub fn multishot_exhaustion_ends_the_receive_without_loss(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.buffer_pool(4, 2).expect("pool");
    let id = harness.submit(receive(&server, &pool, true));
    send(&mut harness, &client, b"abcdefghijklmnop");
    let completions = harness.until_last(id);
    let (last, items) = completions.split_last().expect("completions");
    let error = last.result.as_ref().expect_err("exhausted");
    assert!(is_pool_exhausted(error), "{:?}: {error}", harness.flavor);
    let mut received = Vec::new();
    for item in items {
        let Op::RecvPooled {
            buffer: Some(buffer),
            ..
        } = &item.op
        else {
            panic!("an item without a buffer")
        };
        received.extend_from_slice(buffer);
    }
    assert_eq!(received, b"abcdefgh", "{:?}", harness.flavor);
    drop(completions);
    // Refilled, the rest is there.
    let id = harness.submit(receive(&server, &pool, true));
    while received.len() < 16 {
        let completion = harness.wait(id);
        assert!(completion.more);
        received.extend_from_slice(&buffer_of(completion).expect("buffer"));
    }
    assert_eq!(received, b"abcdefghijklmnop");
    harness.driver.cancel(id).expect("cancel");
    harness.until_last(id);
    assert_eq!(pool.available(), 2);
}

pub fn claimed_multishot_completions_come_in_order(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.buffer_pool(4, 32).expect("pool");
    let id = harness
        .driver
        .submit_claimed(receive(&server, &pool, true), 9);
    send(&mut harness, &client, b"abcdefghijklmnopqrstuvwxyz");
    drop(client);
    let mut received = Vec::new();
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        match harness.driver.claim(id, 9) {
            Some(completion) if completion.more => {
                received.extend_from_slice(&buffer_of(completion).expect("buffer"))
            }
            Some(completion) => {
                assert_eq!(
                    completion.result.as_ref().copied().expect("end of stream"),
                    0
                );
                break;
            }
            None => {
                assert!(std::time::Instant::now() < deadline, "no end");
                let mut out = Vec::new();
                harness
                    .driver
                    .poll(&mut out, Some(Duration::from_millis(100)))
                    .expect("poll");
                assert!(out.iter().all(|completion| completion.id != id));
            }
        }
    }
    assert_eq!(received, b"abcdefghijklmnopqrstuvwxyz");
    assert!(harness.driver.claim(id, 9).is_none(), "taken once");
    assert_eq!(pool.available(), 32);
}

pub fn a_pool_of_another_driver_is_refused(mut harness: Harness) {
    let (_client, server) = harness.tcp_pair(false);
    let mut other = Harness::new(harness.flavor);
    let foreign = other.driver.buffer_pool(16, 2).expect("pool");
    let error = harness.error(receive(&server, &foreign, false));
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
    let pool = harness.driver.buffer_pool(16, 2).expect("pool");
    let error = harness.error(Op::RecvPooled {
        fd: raw(&server),
        pool: pool.clone(),
        multishot: false,
        buffer: Some(PooledBuffer::from(vec![0; 4])),
    });
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
    assert!(
        harness.driver.buffer_pool(16, 3).is_err(),
        "not a power of two"
    );
    assert!(harness.driver.buffer_pool(0, 2).is_err(), "empty buffers");
}

pub fn pools_nobody_holds_are_retired(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let kept = harness.driver.buffer_pool(16, 2).expect("pool");
    // More pools than a driver holds at once, each dropped: each retired when the next comes.
    for round in 0..70_000 {
        let pool = harness
            .driver
            .buffer_pool(16, 1)
            .unwrap_or_else(|error| panic!("{:?}: pool {round}: {error}", harness.flavor));
        drop(pool);
    }
    // One lent buffer keeps its pool; the pool kept all along still lends.
    send(&mut harness, &client, b"kept");
    let completion = harness.run(receive(&server, &kept, false));
    assert_eq!(&buffer_of(completion).expect("buffer")[..], b"kept");
}

/// A stream pool (`Driver::stream_buffer_pool`): small receives, the last few kept, come whole
/// and in order (on io_uring several share a buffer, and one may end where a buffer does and go on in
/// the next), never hold more buffers than receives, and every buffer is back once they are
/// dropped and the receive cancelled.
pub fn a_stream_pool_keeps_small_receives_in_order(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool = harness.driver.stream_buffer_pool(256, 4).expect("pool");
    let id = harness.submit(receive(&server, &pool, true));
    let mut held = Vec::new();
    let mut received = Vec::new();
    let mut sent = Vec::new();
    for round in 0..12u8 {
        let message = [b'a' + round; 40];
        send(&mut harness, &client, &message);
        sent.extend_from_slice(&message);
        while received.len() < sent.len() {
            let completion = harness.wait(id);
            assert!(
                completion.more,
                "{:?}: {:?}",
                harness.flavor, completion.result
            );
            let count = completion.result.as_ref().copied().expect("receive");
            let buffer = buffer_of(completion).expect("a lent buffer");
            assert_eq!(buffer.len(), count);
            received.extend_from_slice(&buffer);
            held.push(buffer);
        }
        assert!(pool.capacity() - pool.available() <= held.len());
        // Three kept at most, so a pool that lends a whole buffer per receive (every other
        // backend) is not exhausted.
        if held.len() > 3 {
            held.drain(..held.len() - 3);
        }
    }
    assert_eq!(received, sent);
    harness.driver.cancel(id).expect("cancel");
    let rest = harness.until_last(id);
    assert!(rest
        .last()
        .expect("the last")
        .result
        .as_ref()
        .is_err_and(is_cancelled));
    drop(rest);
    drop(held);
    assert_eq!(
        pool.available(),
        4,
        "{:?}: every buffer back",
        harness.flavor
    );
    drop(client);
}
