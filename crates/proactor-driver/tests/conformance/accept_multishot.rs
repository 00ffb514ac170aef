//! Multishot accept (`Op::AcceptMultishot`): one submission, one completion per connection,
//! each a new descriptor, until a cancel or an error ends it; cancelled with connections
//! racing in, every connection is either in a completion or still in the listener's backlog.

use std::collections::HashSet;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use proactor_driver::{is_cancelled, Completion, Op};
use socket2::SockRef;

use crate::harness::*;

/// The socket accepted in `completion` (which must be one of many), owned.
fn accepted(harness: &Harness, completion: Completion) -> OwnedSocket {
    assert!(
        completion.more,
        "{:?}: {:?}",
        harness.flavor, completion.result
    );
    let fd = completion.result.expect("accepted");
    // SAFETY: the accept made this descriptor, and nothing else owns it.
    unsafe { socket_from_raw(fd) }
}

fn peer_of(socket: &OwnedSocket) -> SocketAddr {
    SockRef::from(socket)
        .peer_addr()
        .expect("peer address")
        .as_socket()
        .expect("an IP peer")
}

pub fn multishot_accept_yields_each_connection(mut harness: Harness) {
    let listener = listener(false);
    let address = listener.local_addr().unwrap();
    let id = harness.submit(Op::AcceptMultishot { fd: raw(&listener) });
    let mut clients = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..20 {
        let client = TcpStream::connect(address).expect("connect");
        let completion = harness.wait(id);
        let server = accepted(&harness, completion);
        assert_eq!(
            peer_of(&server),
            client.local_addr().unwrap(),
            "{:?}: the connection just made",
            harness.flavor
        );
        clients.push(client);
        servers.push(server);
    }
    harness.driver.cancel(id).expect("cancel");
    let last = harness.until_last(id).pop().expect("a last completion");
    assert!(!last.more);
    assert!(
        last.result.as_ref().is_err_and(is_cancelled),
        "{:?}: {:?}",
        harness.flavor,
        last.result
    );
    assert!(harness.try_wait(id, Duration::from_millis(20)).is_none());
}

/// Connections already in the backlog when it is submitted come out first, in order (on IOCP,
/// `AcceptEx` calls that may finish at once, one after another); on an IPv6 listener, whose
/// accepted sockets must be made of its family.
pub fn multishot_accept_takes_connections_already_waiting(mut harness: Harness) {
    const CLIENTS: usize = 8;
    let listener = listener(true);
    let address = listener.local_addr().unwrap();
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| TcpStream::connect(address).expect("connect"))
        .collect();
    let id = harness.submit(Op::AcceptMultishot { fd: raw(&listener) });
    let mut servers = Vec::new();
    for client in &clients {
        let completion = harness.wait(id);
        let server = accepted(&harness, completion);
        assert_eq!(
            peer_of(&server),
            client.local_addr().unwrap(),
            "{:?}: in the order they connected",
            harness.flavor
        );
        servers.push(server);
    }
    harness.driver.cancel(id).expect("cancel");
    let last = harness.until_last(id).pop().expect("a last completion");
    assert!(!last.more);
    assert!(
        last.result.as_ref().is_err_and(is_cancelled),
        "{:?}: {:?}",
        harness.flavor,
        last.result
    );
}

pub fn a_cancelled_multishot_accept_loses_no_connection(mut harness: Harness) {
    const CLIENTS: usize = 64;
    let listener = listener(false);
    let address = listener.local_addr().unwrap();
    let id = harness.submit(Op::AcceptMultishot { fd: raw(&listener) });
    let connecting = std::thread::spawn(move || {
        (0..CLIENTS)
            .map(|_| {
                let client = TcpStream::connect(address).expect("connect");
                client.local_addr().unwrap()
            })
            .collect::<Vec<_>>()
    });
    let mut peers = HashSet::new();
    let mut sockets = Vec::new();
    // Cancel while connections are still coming in.
    let first = harness.wait(id);
    let socket = accepted(&harness, first);
    peers.insert(peer_of(&socket));
    sockets.push(socket);
    harness.driver.cancel(id).expect("cancel");
    for completion in harness.until_last(id) {
        if completion.more {
            let socket = accepted(&harness, completion);
            peers.insert(peer_of(&socket));
            sockets.push(socket);
        } else {
            // Ended by the cancel (or, had every connection come first, still the cancel).
            assert!(
                completion.result.as_ref().is_err_and(is_cancelled),
                "{:?}: {:?}",
                harness.flavor,
                completion.result
            );
        }
    }
    let clients: HashSet<SocketAddr> = connecting.join().unwrap().into_iter().collect();
    // What the multishot accept did not take waits in the backlog.
    while peers.len() < CLIENTS {
        let (fd, op) = harness.ok(Op::Accept {
            fd: raw(&listener),
            peer: None,
        });
        let Op::Accept { peer, .. } = op else {
            unreachable!()
        };
        peers.insert(peer.expect("peer"));
        // SAFETY: the accept made this descriptor, and nothing else owns it.
        sockets.push(unsafe { socket_from_raw(fd) });
    }
    assert_eq!(
        peers, clients,
        "{:?}: every connection, once",
        harness.flavor
    );
}

/// Closing the listener through the driver ends its multishot accept at once, cancelled (on
/// IOCP, the `AcceptEx` pending then is aborted and the socket made for it closed).
pub fn closing_the_listener_ends_a_multishot_accept(mut harness: Harness) {
    let listener = listener(false);
    let address = listener.local_addr().unwrap();
    let fd = into_raw(listener.into());
    let id = harness.submit(Op::AcceptMultishot { fd });
    let client = TcpStream::connect(address).expect("connect");
    let completion = harness.wait(id);
    let server = accepted(&harness, completion);
    assert_eq!(peer_of(&server), client.local_addr().unwrap());
    let close = harness.submit(Op::Close { fd });
    let last = harness
        .try_wait(id, Duration::from_secs(3))
        .unwrap_or_else(|| {
            panic!(
                "{:?}: the multishot accept went on after its listener was closed",
                harness.flavor
            )
        });
    assert!(!last.more, "{:?}: {:?}", harness.flavor, last.result);
    assert!(
        last.result.as_ref().is_err_and(is_cancelled),
        "{:?}: {:?}",
        harness.flavor,
        last.result
    );
    harness.wait(close).result.expect("close");
    assert_eq!(harness.driver.in_flight(), 0);
}
