//! Deadlines on operations (`Driver::submit_with_timeout`, `submit_claimed_with_timeout`): an
//! operation completes exactly once, with its own result if it finished in time, else with
//! `TimedOut` and its buffers back; a receive stopped by its deadline loses no bytes; a cancel
//! before the deadline is a cancel; a deadline never touches a later operation in its slot.

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use proactor_driver::{is_cancelled, Buffer, BufferPool, Completion, Op, OpId};

use crate::harness::*;

fn recv(socket: &OwnedSocket, capacity: usize) -> Op {
    Op::Recv {
        fd: raw(socket),
        buf: room(capacity),
        flags: 0,
    }
}

fn send(socket: &OwnedSocket, bytes: &[u8]) -> Op {
    Op::Send {
        fd: raw(socket),
        buf: Buffer::from(bytes.to_vec()),
        flags: 0,
    }
}

fn is_timed_out(completion: &Completion) -> bool {
    completion
        .result
        .as_ref()
        .is_err_and(|error| error.kind() == ErrorKind::TimedOut)
}

/// Checks that no completion of `id` comes in `within` (one came already).
fn no_second_completion(harness: &mut Harness, id: OpId, within: Duration) {
    if let Some(completion) = harness.try_wait(id, within) {
        panic!(
            "{:?}: a second completion of {id:?}: {:?}",
            harness.flavor, completion.result
        );
    }
}

pub fn an_idle_receive_times_out(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let start = Instant::now();
    let id = harness
        .driver
        .submit_with_timeout(recv(&right, 16), Duration::from_millis(50));
    let completion = harness.wait(id);
    let elapsed = start.elapsed();
    assert!(
        is_timed_out(&completion),
        "{:?}: {:?}",
        harness.flavor,
        completion.result
    );
    assert!(elapsed >= Duration::from_millis(45), "early: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "late: {elapsed:?}");
    let buffer = completion.op.into_buffer().expect("the buffer comes back");
    assert!(buffer.is_empty());
    assert!(buffer.read_capacity() >= 16);
    no_second_completion(&mut harness, id, Duration::from_millis(50));

    // A non-blocking socket (as `Accept` makes them): on io_uring its receive answers
    // `EAGAIN` and waits for readiness instead, deadline and all.
    let (_client, server) = harness.tcp_pair(false);
    let id = harness
        .driver
        .submit_with_timeout(recv(&server, 16), Duration::from_millis(50));
    let completion = harness.wait(id);
    assert!(
        is_timed_out(&completion),
        "{:?}: {:?}",
        harness.flavor,
        completion.result
    );
    assert!(completion.op.into_buffer().unwrap().is_empty());
    assert_eq!(harness.driver.in_flight(), 0);
}

pub fn a_zero_deadline_times_out_unless_done_at_once(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let id = harness
        .driver
        .submit_with_timeout(recv(&right, 16), Duration::ZERO);
    let completion = harness.wait(id);
    assert!(
        is_timed_out(&completion),
        "{:?}: {:?}",
        harness.flavor,
        completion.result
    );
    // A NOP finishes as it starts, on every backend: before any deadline.
    let nop = harness.driver.submit_with_timeout(Op::Nop, Duration::ZERO);
    assert_eq!(harness.wait(nop).result.expect("nop"), 0);
    assert_eq!(harness.driver.in_flight(), 0);
}

pub fn a_receive_in_time_completes_and_never_times_out(mut harness: Harness) {
    let (left, right) = socket_pair();
    let deadline = Duration::from_millis(150);
    let id = harness
        .driver
        .submit_with_timeout(recv(&right, 16), deadline);
    let sent = harness.run(send(&left, b"hello"));
    assert_eq!(sent.result.expect("send"), 5);
    let completion = harness.wait(id);
    assert_eq!(completion.result.expect("receive"), 5);
    assert_eq!(bytes_of(completion.op), b"hello");
    // A plain receive likely takes the same slot: the old deadline passing must not touch it.
    let plain = harness.submit(recv(&right, 16));
    no_second_completion(&mut harness, id, deadline * 2);
    assert!(
        harness.try_wait(plain, Duration::ZERO).is_none(),
        "{:?}: an old deadline ended a new operation",
        harness.flavor
    );
    assert_eq!(harness.stashed(), 0);
    harness.run(send(&left, b"again")).result.expect("send");
    let completion = harness.wait(plain);
    assert_eq!(completion.result.expect("receive"), 5);
    assert_eq!(bytes_of(completion.op), b"again");
}

pub fn a_deadline_racing_data_loses_no_bytes(mut harness: Harness) {
    let (left, right) = socket_pair();
    race_deadlines_with_data(&mut harness, &left, &right);
    // Non-blocking sockets too: on io_uring the deadline then moves from the kernel's link to
    // the heap when the receive waits for readiness.
    let (client, server) = harness.tcp_pair(false);
    race_deadlines_with_data(&mut harness, &client, &server);
}

fn race_deadlines_with_data(harness: &mut Harness, left: &OwnedSocket, right: &OwnedSocket) {
    let mut sent = Vec::new();
    let mut received = Vec::new();
    const ROUNDS: u32 = 150;
    let (mut timed_out, mut completed) = (0, 0);
    for round in 0u32..ROUNDS {
        let message = round.to_le_bytes();
        sent.extend_from_slice(&message);
        let deadline = Duration::from_micros(u64::from(round % 5) * 500);
        let recv_id = harness.driver.submit_with_timeout(recv(right, 4), deadline);
        // The data comes before, at about, or after the deadline.
        match round % 3 {
            0 => {}
            1 => harness.poll_now(),
            _ => std::thread::sleep(deadline),
        }
        let send_id = harness.submit(send(left, &message));
        let completion = harness.wait(recv_id);
        match completion.result {
            Ok(count) => {
                completed += 1;
                assert!(count > 0);
                received.extend(bytes_of(completion.op));
            }
            Err(ref error) => {
                assert_eq!(
                    error.kind(),
                    ErrorKind::TimedOut,
                    "{:?}: round {round}: {error}",
                    harness.flavor
                );
                timed_out += 1;
                assert!(completion.op.into_buffer().unwrap().is_empty());
            }
        }
        assert_eq!(harness.wait(send_id).result.expect("send"), 4);
        no_second_completion(harness, recv_id, Duration::ZERO);
        // Take what a timed-out receive left, so the next round starts on an empty socket.
        while received.len() < sent.len() {
            let (count, op) = harness.ok(recv(right, sent.len() - received.len()));
            assert!(count > 0);
            received.extend(bytes_of(op));
        }
    }
    assert_eq!(
        received, sent,
        "{:?}: bytes lost or reordered",
        harness.flavor
    );
    assert_eq!(timed_out + completed, ROUNDS);
    assert_eq!(harness.stashed(), 0);
    assert_eq!(harness.driver.in_flight(), 0);
}

pub fn a_cancel_before_the_deadline_is_a_cancel(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let deadline = Duration::from_millis(100);
    let id = harness
        .driver
        .submit_with_timeout(recv(&right, 16), deadline);
    harness.poll_now();
    harness.driver.cancel(id).expect("in flight");
    let completion = harness.wait(id);
    let error = completion.result.expect_err("cancelled");
    assert!(is_cancelled(&error), "{:?}: {error}", harness.flavor);
    assert!(completion.op.into_buffer().unwrap().is_empty());
    no_second_completion(&mut harness, id, deadline * 2);
}

pub fn an_accept_with_no_client_times_out(mut harness: Harness) {
    let listener = listener(false);
    let address = listener.local_addr().unwrap();
    let accept = || Op::Accept {
        fd: raw(&listener),
        peer: None,
    };
    let id = harness
        .driver
        .submit_with_timeout(accept(), Duration::from_millis(30));
    let completion = harness.wait(id);
    assert!(
        is_timed_out(&completion),
        "{:?}: {:?}",
        harness.flavor,
        completion.result
    );
    // Nothing was left accepting: the next client is the next accept's.
    let client = std::net::TcpStream::connect(address).expect("connect");
    let (server, _) = harness.ok(accept());
    // SAFETY: accept returned a new socket that nothing else owns.
    let server = unsafe { socket_from_raw(server) };
    harness.run(send(&server, b"x")).result.expect("send");
    let mut byte = [0];
    let mut client_reader = &client;
    client_reader
        .read_exact(&mut byte)
        .expect("the accepted peer");
    assert_eq!(&byte, b"x");

    // Clients arriving at about the deadline: each is accepted (and given to the test), or
    // left for the next accept, or closed by the driver; never held by a descriptor nobody
    // has, which the client would see as a connection that never ends.
    for round in 0u32..20 {
        let deadline = Duration::from_micros(u64::from(round % 4) * 500);
        let id = harness.driver.submit_with_timeout(accept(), deadline);
        if round % 2 == 1 {
            harness.poll_now();
        }
        let client = std::net::TcpStream::connect(address).expect("connect");
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let completion = harness.wait(id);
        if is_timed_out(&completion) {
            let next = harness.submit(accept());
            match harness.try_wait(next, Duration::from_millis(500)) {
                Some(completion) => {
                    let fd = completion.result.expect("accept");
                    // SAFETY: accept returned a new socket that nothing else owns.
                    drop(unsafe { socket_from_raw(fd) });
                }
                None => {
                    // Taken and closed as the deadline passed: the client sees the end.
                    harness.driver.cancel(next).expect("in flight");
                    let cancelled = harness.wait(next);
                    if let Ok(fd) = cancelled.result {
                        // SAFETY: accept returned a new socket that nothing else owns.
                        drop(unsafe { socket_from_raw(fd) });
                    } else {
                        let mut client_reader = &client;
                        match client_reader.read(&mut byte) {
                            Ok(0) => {}
                            Err(error)
                                if !matches!(
                                    error.kind(),
                                    ErrorKind::WouldBlock | ErrorKind::TimedOut
                                ) => {}
                            other => panic!("{:?}: a leaked connection: {other:?}", harness.flavor),
                        }
                    }
                }
            }
        } else {
            let fd = completion.result.expect("accept");
            // SAFETY: accept returned a new socket that nothing else owns.
            drop(unsafe { socket_from_raw(fd) });
        }
    }
    assert_eq!(harness.stashed(), 0);
    assert_eq!(harness.driver.in_flight(), 0);
}

pub fn a_claimed_deadline_wakes_its_token(mut harness: Harness) {
    let (left, right) = socket_pair();
    let id =
        harness
            .driver
            .submit_claimed_with_timeout(recv(&right, 16), Duration::from_millis(30), 5);
    let limit = Instant::now() + LIMIT;
    while !harness.driver.woken().contains(&5) {
        assert!(Instant::now() < limit, "{:?}: no wake", harness.flavor);
        let mut out = Vec::new();
        harness
            .driver
            .poll(&mut out, Some(Duration::from_secs(1)))
            .expect("poll");
        assert!(out.is_empty(), "a claimed completion came out of poll");
    }
    harness.driver.woken().clear();
    let completion = harness.driver.claim(id, 5).expect("it came");
    assert!(
        is_timed_out(&completion),
        "{:?}: {:?}",
        harness.flavor,
        completion.result
    );
    assert!(completion.op.into_buffer().unwrap().is_empty());

    // In time: the receive's own result, claimed.
    let id =
        harness
            .driver
            .submit_claimed_with_timeout(recv(&right, 16), Duration::from_secs(5), 6);
    harness.run(send(&left, b"abc")).result.expect("send");
    let limit = Instant::now() + LIMIT;
    let completion = loop {
        if let Some(completion) = harness.driver.claim(id, 6) {
            break completion;
        }
        assert!(Instant::now() < limit, "{:?}: no wake", harness.flavor);
        let mut out = Vec::new();
        harness
            .driver
            .poll(&mut out, Some(Duration::from_secs(1)))
            .expect("poll");
        assert!(out.is_empty(), "a claimed completion came out of poll");
    };
    assert_eq!(completion.result.expect("receive"), 3);
    assert_eq!(bytes_of(completion.op), b"abc");
}

/// A deadline on a multishot receive ends the whole run: the completions before it come as
/// usual, the last is the time-out, and every buffer goes back.
pub fn a_deadline_ends_a_multishot_receive(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pool: BufferPool = harness.driver.buffer_pool(16, 8).expect("pool");
    let id = harness.driver.submit_with_timeout(
        Op::RecvPooled {
            fd: raw(&server),
            pool: pool.clone(),
            multishot: true,
            buffer: None,
        },
        Duration::from_millis(300),
    );
    harness
        .run(send(&client, b"0123456789"))
        .result
        .expect("send");
    let mut received = Vec::new();
    let last = loop {
        let completion = harness.wait(id);
        if !completion.more {
            break completion;
        }
        assert_eq!(
            completion.result.as_ref().ok(),
            Some(&received_len(&completion))
        );
        if let Op::RecvPooled {
            buffer: Some(buffer),
            ..
        } = &completion.op
        {
            received.extend_from_slice(buffer);
        }
    };
    assert!(
        is_timed_out(&last),
        "{:?}: {:?}",
        harness.flavor,
        last.result
    );
    assert_eq!(received, b"0123456789");
    drop(last);
    assert_eq!(pool.available(), 8, "every buffer back");
    no_second_completion(&mut harness, id, Duration::from_millis(20));
    drop(client);
}

fn received_len(completion: &Completion) -> usize {
    match &completion.op {
        Op::RecvPooled {
            buffer: Some(buffer),
            ..
        } => buffer.len(),
        _ => 0,
    }
}
