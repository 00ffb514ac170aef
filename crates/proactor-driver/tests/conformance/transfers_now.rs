//! Transfers outside operations (`Driver::try_recv_now`, `try_send_now`, `transfers_now`):
//! where a backend does them (readiness), they never pass an operation waiting ahead of them,
//! never reorder bytes, and a receive that found nothing never leaves the receive operation
//! submitted after it waiting for readiness that already came; where a backend does not
//! (io_uring, IOCP, or under injected faults), they answer `None` and touch nothing. The same
//! for waits on a socket's readable edge outside operations (`watch_readable`).

use std::time::Duration;

use proactor_driver::{Buffer, Op};

use crate::harness::*;

/// Sends `bytes` from `from` with an operation, in full.
fn send(harness: &mut Harness, from: &OwnedSocket, bytes: &'static [u8]) {
    let (sent, _) = harness.ok(Op::Send {
        fd: raw(from),
        buf: Buffer::from(bytes),
        flags: 0,
    });
    assert_eq!(
        sent,
        bytes.len(),
        "{:?}: a short loopback send",
        harness.flavor
    );
}

/// Submits a receive on `on` and waits (bounded) for its bytes.
fn receive(harness: &mut Harness, on: &OwnedSocket) -> Vec<u8> {
    let id = harness.submit(Op::Recv {
        fd: raw(on),
        buf: room(64),
        flags: 0,
    });
    let completion = harness.wait(id);
    completion.result.expect("receive");
    bytes_of(completion.op)
}

pub fn transfers_now_keep_order_and_miss_no_readiness(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    // The first transfers are operations: they show a readiness backend what `server` is.
    send(&mut harness, &client, b"first");
    assert_eq!(receive(&mut harness, &server), b"first");
    send(&mut harness, &server, b"reply");
    assert_eq!(receive(&mut harness, &client), b"reply");

    let server_fd = raw(&server);
    if !harness.driver.transfers_now() {
        let mut buf = room(64);
        send(&mut harness, &client, b"waiting");
        assert!(harness.driver.try_recv_now(server_fd, &mut buf).is_none());
        assert!(
            buf.is_empty(),
            "{:?}: received outside operations",
            harness.flavor
        );
        assert!(harness
            .driver
            .try_send_now(server_fd, &Buffer::from("x"))
            .is_none());
        assert_eq!(receive(&mut harness, &server), b"waiting");
        return;
    }

    // Bytes already there: received at once.
    send(&mut harness, &client, b"there");
    std::thread::sleep(Duration::from_millis(20));
    let mut buf = room(64);
    let result = harness.driver.try_recv_now(server_fd, &mut buf);
    assert_eq!(result.map(Result::unwrap), Some(5));
    assert_eq!(buf.as_slice(), b"there");

    // Nothing there: no answer. Bytes that come after that, before the receive operation is
    // submitted, reach it.
    let mut buf = room(64);
    assert!(harness.driver.try_recv_now(server_fd, &mut buf).is_none());
    assert!(buf.is_empty());
    send(&mut harness, &client, b"between");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(receive(&mut harness, &server), b"between");

    // Nothing there, then bytes whose readiness a poll takes while no operation waits: a
    // receive submitted after that still gets them.
    assert!(harness
        .driver
        .try_recv_now(server_fd, &mut room(64))
        .is_none());
    send(&mut harness, &client, b"polled");
    std::thread::sleep(Duration::from_millis(20));
    harness.poll_now();
    assert_eq!(receive(&mut harness, &server), b"polled");

    // Nothing there, and bytes only after the receive is submitted.
    assert!(harness
        .driver
        .try_recv_now(server_fd, &mut room(64))
        .is_none());
    let id = harness.submit(Op::Recv {
        fd: server_fd,
        buf: room(64),
        flags: 0,
    });
    // A receive waits: one outside operations must not pass it, even with bytes there.
    send(&mut harness, &client, b"later");
    std::thread::sleep(Duration::from_millis(20));
    let mut buf = room(64);
    assert!(harness.driver.try_recv_now(server_fd, &mut buf).is_none());
    assert!(
        buf.is_empty(),
        "{:?}: passed a waiting receive",
        harness.flavor
    );
    let completion = harness.wait(id);
    completion.result.expect("receive");
    assert_eq!(bytes_of(completion.op), b"later");

    // Sends at once go after the operations' sends, in order.
    send(&mut harness, &server, b"op ");
    let sent = harness.driver.try_send_now(server_fd, &Buffer::from("now"));
    assert_eq!(sent.map(Result::unwrap), Some(3));
    let mut got = Vec::new();
    while got.len() < 6 {
        got.extend(receive(&mut harness, &client));
    }
    assert_eq!(got, b"op now");

    // A socket no operation has shown the driver: no answer. (Made outside the driver, its
    // number may be the listener's, closed outside it: the driver is told, as it must be.)
    let (other, _peer) = socket_pair();
    harness.driver.forget_fd(raw(&other));
    assert!(harness
        .driver
        .try_send_now(raw(&other), &Buffer::from("x"))
        .is_none());
    assert_eq!(
        harness.stashed(),
        0,
        "{:?}: a completion nobody waited for",
        harness.flavor
    );
}

pub fn readable_watches_wake_once_and_take_nothing(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    send(&mut harness, &client, b"first");
    assert_eq!(receive(&mut harness, &server), b"first");
    let server_fd = raw(&server);
    if !harness.driver.transfers_now() {
        assert!(!harness.driver.watch_readable(server_fd, 7));
        harness.driver.unwatch_readable(server_fd, 7);
        return;
    }
    // Woken once bytes come; the watch itself receives nothing.
    assert!(harness
        .driver
        .try_recv_now(server_fd, &mut room(64))
        .is_none());
    assert!(harness.driver.watch_readable(server_fd, 7));
    assert!(
        !harness.driver.watch_readable(server_fd, 8),
        "{:?}: two watches at once",
        harness.flavor
    );
    send(&mut harness, &client, b"edge");
    wait_for_token(&mut harness, 7);
    let mut buf = room(64);
    let result = harness.driver.try_recv_now(server_fd, &mut buf);
    assert_eq!(result.map(Result::unwrap), Some(4));
    assert_eq!(buf.as_slice(), b"edge");

    // Withdrawn: no wake, and the socket can be watched again.
    assert!(harness.driver.watch_readable(server_fd, 9));
    harness.driver.unwatch_readable(server_fd, 9);
    send(&mut harness, &client, b"quiet");
    std::thread::sleep(Duration::from_millis(20));
    harness.poll_now();
    assert!(!harness.driver.woken().contains(&9));
    assert_eq!(receive(&mut harness, &server), b"quiet");

    // Not while a receive operation waits: that one gets the bytes.
    let id = harness.submit(Op::Recv {
        fd: server_fd,
        buf: room(64),
        flags: 0,
    });
    harness.poll_now();
    assert!(!harness.driver.watch_readable(server_fd, 10));
    send(&mut harness, &client, b"queued");
    let completion = harness.wait(id);
    assert_eq!(bytes_of(completion.op), b"queued");

    // The end of the stream wakes a watch too.
    assert!(harness
        .driver
        .try_recv_now(server_fd, &mut room(64))
        .is_none());
    assert!(harness.driver.watch_readable(server_fd, 11));
    drop(client);
    wait_for_token(&mut harness, 11);
    let result = harness.driver.try_recv_now(server_fd, &mut room(64));
    assert_eq!(result.map(Result::unwrap), Some(0));

    // Closed through the driver, a watched socket wakes its watch (which then finds it
    // gone) instead of leaving it waiting for an edge that cannot come.
    let (other_client, other_server) = harness.tcp_pair(false);
    send(&mut harness, &other_client, b"x");
    assert_eq!(receive(&mut harness, &other_server), b"x");
    let other_fd = into_raw(other_server);
    assert!(harness
        .driver
        .try_recv_now(other_fd, &mut room(64))
        .is_none());
    assert!(harness.driver.watch_readable(other_fd, 12));
    harness.ok(Op::Close { fd: other_fd });
    harness.poll_now();
    assert!(harness.driver.woken().contains(&12));
    harness.driver.woken().clear();
}

/// Polls (bounded) until `token` is among the driver's woken ones, then clears them.
fn wait_for_token(harness: &mut Harness, token: u64) {
    let deadline = std::time::Instant::now() + LIMIT;
    while !harness.driver.woken().contains(&token) {
        let now = std::time::Instant::now();
        assert!(now < deadline, "{:?}: {token} never woken", harness.flavor);
        let mut out = Vec::new();
        harness
            .driver
            .poll(&mut out, Some(deadline - now))
            .expect("poll");
        assert!(out.is_empty(), "{:?}: a completion came", harness.flavor);
    }
    harness.driver.woken().clear();
}

pub fn a_short_receive_waits_for_the_next_edge_but_not_past_the_end(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    send(&mut harness, &client, b"first");
    assert_eq!(receive(&mut harness, &server), b"first");
    let server_fd = raw(&server);
    if !harness.driver.transfers_now() {
        return;
    }
    // Fewer bytes than the room: the socket is taken as empty until its next edge.
    send(&mut harness, &client, b"abc");
    std::thread::sleep(Duration::from_millis(20));
    let mut buf = room(64);
    let result = harness.driver.try_recv_now(server_fd, &mut buf);
    assert_eq!(result.map(Result::unwrap), Some(3));
    assert!(harness
        .driver
        .try_recv_now(server_fd, &mut room(64))
        .is_none());
    // Bytes after it bring an edge: a watch is woken, a receive operation gets them.
    assert!(harness.driver.watch_readable(server_fd, 1));
    send(&mut harness, &client, b"def");
    wait_for_token(&mut harness, 1);
    let mut buf = room(64);
    let result = harness.driver.try_recv_now(server_fd, &mut buf);
    assert_eq!(result.map(Result::unwrap), Some(3));
    assert_eq!(buf.as_slice(), b"def");
    send(&mut harness, &client, b"ghi");
    assert_eq!(receive(&mut harness, &server), b"ghi");

    // The last bytes and the end arrive together, before the driver looks: one event says
    // both. The receive that takes the bytes leaves the socket empty, yet the next one must
    // find the end, which no later edge will announce.
    assert!(harness
        .driver
        .try_recv_now(server_fd, &mut room(64))
        .is_none());
    assert!(harness.driver.watch_readable(server_fd, 2));
    // On a readiness backend the send is made inside `submit`, before any poll.
    let id = harness.submit(Op::Send {
        fd: raw(&client),
        buf: Buffer::from("last"),
        flags: 0,
    });
    std::thread::sleep(Duration::from_millis(20));
    drop(client);
    std::thread::sleep(Duration::from_millis(20));
    harness.wait(id).result.expect("send");
    let deadline = std::time::Instant::now() + LIMIT;
    while !harness.driver.woken().contains(&2) {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}: not woken",
            harness.flavor
        );
        harness.poll_now();
    }
    harness.driver.woken().clear();
    let mut buf = room(64);
    let result = harness.driver.try_recv_now(server_fd, &mut buf);
    assert_eq!(result.map(Result::unwrap), Some(4));
    let end = harness.driver.try_recv_now(server_fd, &mut room(64));
    assert_eq!(
        end.map(Result::unwrap),
        Some(0),
        "{:?}: the end after the last bytes",
        harness.flavor
    );
}
