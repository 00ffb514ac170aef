//! Registered descriptors (`Driver::register_fd`): operations on one behave as on any other,
//! and registering never keeps a file open past its close, whichever way it is closed. On
//! io_uring the operations name the ring's table; elsewhere registering only checks.

use std::time::Duration;

use proactor_driver::{Buffer, Op};

use crate::harness::*;

/// `count` bytes sent from `from` arrive at `to`, whole and in order.
fn round_trip(
    harness: &mut Harness,
    from: proactor_driver::Fd,
    to: proactor_driver::Fd,
    round: u8,
) {
    let message: Vec<u8> = (0..100).map(|at| at ^ round).collect();
    let (sent, _) = harness.ok(Op::Send {
        fd: from,
        buf: Buffer::from(message.clone()),
        flags: 0,
    });
    assert_eq!(sent, message.len());
    let mut received = Vec::new();
    while received.len() < message.len() {
        let (count, op) = harness.ok(Op::Recv {
            fd: to,
            buf: room(256),
            flags: 0,
        });
        assert!(count > 0, "{:?}: the stream ended early", harness.flavor);
        received.extend_from_slice(&bytes_of(op));
    }
    assert_eq!(received, message, "{:?}: round {round}", harness.flavor);
}

/// The peer's next receive finds the end of the stream: its socket is closed for good.
fn reads_the_end(harness: &mut Harness, fd: proactor_driver::Fd) {
    let (count, _) = harness.ok(Op::Recv {
        fd,
        buf: room(16),
        flags: 0,
    });
    assert_eq!(count, 0, "{:?}: the peer is closed", harness.flavor);
}

/// Sends and receives on registered sockets, both ways, and a close through the driver ends
/// the stream (the table does not keep the socket open).
pub fn registered_sockets_carry_operations(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let (client, server) = (into_raw(client), raw(&server));
    harness.driver.register_fd(client).unwrap();
    harness.driver.register_fd(server).unwrap();
    // Registering again changes nothing.
    harness.driver.register_fd(client).unwrap();
    for round in 0..20 {
        round_trip(&mut harness, client, server, round);
        round_trip(&mut harness, server, client, round);
    }
    harness.ok(Op::Close { fd: client });
    reads_the_end(&mut harness, server);
    harness.driver.unregister_fd(server).unwrap();
}

/// A registered listener accepts as any other.
pub fn a_registered_listener_accepts(mut harness: Harness) {
    let listener = listener(false);
    let address = listener.local_addr().unwrap();
    harness.driver.register_fd(raw(&listener)).unwrap();
    let accept = harness.submit(Op::Accept {
        fd: raw(&listener),
        peer: None,
    });
    let client = std::net::TcpStream::connect(address).unwrap();
    let completion = harness.wait(accept);
    let accepted = completion.result.expect("accepted");
    // SAFETY: the accept made this descriptor, and nothing else owns it.
    let accepted = unsafe { socket_from_raw(accepted) };
    let Op::Accept { peer, .. } = completion.op else {
        unreachable!()
    };
    assert_eq!(peer, Some(client.local_addr().unwrap()));
    drop(accepted);
    harness.driver.unregister_fd(raw(&listener)).unwrap();
}

/// Registering what is not an open descriptor is the OS's error, the same on every backend;
/// unregistering what was never registered is not an error.
pub fn registering_a_closed_descriptor_is_an_error(mut harness: Harness) {
    let (a, _b) = socket_pair();
    let number = raw(&a);
    drop(a);
    let error = harness.driver.register_fd(number).unwrap_err();
    assert!(is_bad_fd(&error), "{:?}: {error}", harness.flavor);
    let (c, _d) = socket_pair();
    harness.driver.unregister_fd(raw(&c)).unwrap();
}

/// A registered descriptor closed outside the driver, then forgotten (`forget_fd`, as a
/// runtime does for a number that names something new): the table lets go of its file, so
/// the peer sees the end of the stream; the new descriptor with the same number works.
pub fn forgetting_a_registered_descriptor_lets_its_file_close(mut harness: Harness) {
    let (a, b) = socket_pair();
    let number = raw(&a);
    harness.driver.register_fd(number).unwrap();
    round_trip(&mut harness, number, raw(&b), 1);
    drop(a);
    harness.driver.forget_fd(number);
    reads_the_end(&mut harness, raw(&b));
    // The number is free for a new descriptor (usually the next one made takes it).
    let (c, d) = socket_pair();
    round_trip(&mut harness, raw(&c), raw(&d), 2);
    round_trip(&mut harness, raw(&d), raw(&c), 3);
}

/// Unregistered, then closed outside the driver: closed for good. A closed descriptor's
/// number given to a new one and registered again names the new one.
pub fn unregistering_lets_a_close_elsewhere_close(mut harness: Harness) {
    let (a, b) = socket_pair();
    let number = raw(&a);
    harness.driver.register_fd(number).unwrap();
    harness.driver.unregister_fd(number).unwrap();
    drop(a);
    reads_the_end(&mut harness, raw(&b));

    let (c, d) = socket_pair();
    harness.driver.register_fd(raw(&c)).unwrap();
    round_trip(&mut harness, raw(&c), raw(&d), 4);
    harness.ok(Op::Close { fd: into_raw(c) });
    reads_the_end(&mut harness, raw(&d));
    // Registered again after its close, a reused number names the new descriptor.
    let (e, f) = socket_pair();
    harness.driver.register_fd(raw(&e)).unwrap();
    round_trip(&mut harness, raw(&e), raw(&f), 5);
    round_trip(&mut harness, raw(&f), raw(&e), 6);
    harness.ok(Op::Close { fd: into_raw(e) });
    reads_the_end(&mut harness, raw(&f));
}

/// A receive waiting on a registered socket when the socket is closed through the driver
/// ends (cancelled, as on any socket), and nothing of it is lost.
pub fn closing_a_registered_socket_under_a_receive_ends_it(mut harness: Harness) {
    let (a, b) = socket_pair();
    let number = into_raw(a);
    harness.driver.register_fd(number).unwrap();
    let pending = harness.submit(Op::Recv {
        fd: number,
        buf: room(16),
        flags: 0,
    });
    std::thread::sleep(Duration::from_millis(10));
    harness.ok(Op::Close { fd: number });
    let completion = harness.wait(pending);
    // The receive got nothing (the peer sent nothing): it ends with an error or the end.
    if let Ok(count) = completion.result {
        assert_eq!(count, 0, "{:?}", harness.flavor);
    }
    reads_the_end(&mut harness, raw(&b));
}
