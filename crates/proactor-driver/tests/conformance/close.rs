//! Closing a descriptor through the driver while operations wait on it: each of them completes
//! exactly once, at once, and only bytes that really went are reported sent.

use std::collections::HashMap;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use proactor_driver::{is_cancelled, Buffer, Op, OpId};
use socket2::{Domain, Socket, Type};

use crate::harness::{into_raw, Harness, LIMIT, SOCK_STREAM};

/// How long a closed descriptor's operations may take to end: "at once", with room for a
/// loaded machine. The failures this guards against left them pending for good.
const PROMPTLY: Duration = Duration::from_secs(3);

/// A listener whose accept queue is full, so that a new connection to it stays pending (Linux
/// drops the SYN of a connection a full queue cannot take, and the client keeps trying for
/// minutes). Returns the listener, the connections that fill it, and whether it is full: a
/// connection attempt timed out.
fn full_listener() -> (Socket, Vec<TcpStream>, SocketAddr, bool) {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
    listener.bind(&local.into()).expect("bind");
    // Backlog 0: one connection waiting to be accepted fills the queue.
    listener.listen(0).expect("listen");
    let address = listener.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    let mut full = false;
    for _ in 0..8 {
        match TcpStream::connect_timeout(&address, Duration::from_millis(300)) {
            Ok(stream) => fillers.push(stream),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    (listener, fillers, address, full)
}

pub fn close_ends_a_pending_connect(mut harness: Harness) {
    let (_listener, _fillers, address, full) = full_listener();
    let socket = harness.socket(address, SOCK_STREAM);
    let fd = into_raw(socket);
    let connect = harness.submit(Op::Connect { fd, addr: address });
    if let Some(early) = harness.try_wait(connect, Duration::from_millis(200)) {
        // Linux leaves a connection to a full queue waiting; a system that refuses it at once
        // instead has nothing pending to close under (and must not have connected).
        assert!(
            !cfg!(target_os = "linux") || !full,
            "{:?}: the connect to a full listener ended before the close: {:?}",
            harness.flavor,
            early.result
        );
        assert!(early.result.is_err(), "connected to a full listener");
        harness.ok(Op::Close { fd });
        return;
    }
    let closed_at = Instant::now();
    let close = harness.submit(Op::Close { fd });
    let completion = harness.try_wait(connect, PROMPTLY).unwrap_or_else(|| {
        panic!(
            "{:?}: the connect was still pending {PROMPTLY:?} after its socket was closed",
            harness.flavor
        )
    });
    let error = completion
        .result
        .expect_err("a connect whose socket was closed under it cannot succeed");
    assert!(is_cancelled(&error), "{:?}: {error}", harness.flavor);
    harness.wait(close).result.expect("close");
    assert!(closed_at.elapsed() < PROMPTLY);
    assert_eq!(harness.driver.in_flight(), 0);
}

/// Waits until no completion has arrived for `quiet`, collecting them into `done` (bounded).
fn collect_until_quiet(harness: &mut Harness, done: &mut HashMap<OpId, usize>, quiet: Duration) {
    let deadline = Instant::now() + LIMIT;
    let mut completions = Vec::new();
    let mut last = Instant::now();
    while last.elapsed() < quiet && Instant::now() < deadline {
        completions.clear();
        harness
            .driver
            .poll(&mut completions, Some(Duration::from_millis(20)))
            .unwrap();
        for completion in completions.drain(..) {
            last = Instant::now();
            record(done, completion);
        }
    }
}

fn record(done: &mut HashMap<OpId, usize>, completion: proactor_driver::Completion) {
    let result = match completion.result {
        Ok(count) => count,
        Err(error) => {
            assert!(is_cancelled(&error), "a send failed with {error}");
            usize::MAX
        }
    };
    assert!(
        done.insert(completion.id, result).is_none(),
        "{:?} completed twice",
        completion.id
    );
}

/// 10,000 sends of 1 KiB to a peer that does not read: the socket takes some, the rest wait.
/// Closing the socket ends those at once (as cancelled), and the peer then receives exactly
/// the sends that completed `Ok`, in submission order, each as far as its count says.
pub fn close_ends_pending_sends_in_order(mut harness: Harness) {
    const SENDS: usize = 10_000;
    const SIZE: usize = 1024;
    let message = |index: usize| {
        let mut bytes = vec![(index % 251) as u8; SIZE];
        bytes[..4].copy_from_slice(&(index as u32).to_le_bytes());
        bytes
    };
    let (client, server) = harness.tcp_pair(false);
    let fd = into_raw(client);
    let ids: Vec<OpId> = (0..SENDS)
        .map(|index| {
            harness.submit(Op::Send {
                fd,
                buf: Buffer::from(message(index)),
                flags: 0,
            })
        })
        .collect();
    let mut done = HashMap::new();
    // What the socket takes completes; the rest waits for a reader that never comes.
    collect_until_quiet(&mut harness, &mut done, Duration::from_millis(300));
    let waiting = SENDS - done.len();
    assert!(
        waiting > 0,
        "{:?}: the socket took all {SENDS} sends; nothing waits to be closed under",
        harness.flavor
    );
    let close = harness.submit(Op::Close { fd });
    let closed_at = Instant::now();
    let mut completions = Vec::new();
    let mut close_result = None;
    while done.len() < SENDS || close_result.is_none() {
        assert!(
            closed_at.elapsed() < PROMPTLY,
            "{:?}: {} of the {waiting} sends waiting at the close were still pending {PROMPTLY:?} after it",
            harness.flavor,
            SENDS - done.len()
        );
        completions.clear();
        harness
            .driver
            .poll(&mut completions, Some(Duration::from_millis(50)))
            .unwrap();
        for completion in completions.drain(..) {
            if completion.id == close {
                close_result = Some(completion.result);
            } else {
                record(&mut done, completion);
            }
        }
    }
    close_result.unwrap().expect("close");
    assert_eq!(harness.driver.in_flight(), 0);
    let mut expected = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        match done[id] {
            usize::MAX => {}
            count => expected.extend_from_slice(&message(index)[..count]),
        }
    }
    // The peer reads everything that went, then the end of the stream.
    let mut peer = TcpStream::from(server);
    peer.set_nonblocking(false).unwrap();
    peer.set_read_timeout(Some(LIMIT)).unwrap();
    let mut received = Vec::new();
    peer.read_to_end(&mut received).expect("read to the end");
    let cancelled = done.values().filter(|&&count| count == usize::MAX).count();
    assert!(
        received == expected,
        "{:?}: the peer received {} bytes, the sends reported {} ({} cancelled); first difference at byte {}",
        harness.flavor,
        received.len(),
        expected.len(),
        cancelled,
        received
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(received.len().min(expected.len()))
    );
}
