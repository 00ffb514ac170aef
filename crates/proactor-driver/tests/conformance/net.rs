//! Sockets: TCP and UDP over loopback (IPv4 and IPv6), connect, accept, refusal, shutdown,
//! reset, ordering, flags, and many operations in flight.

use std::io::ErrorKind;
use std::net::{Shutdown, UdpSocket};
use std::time::Duration;

use proactor_driver::{Buffer, Descriptors, Op};
use socket2::SockRef;

use crate::harness::{
    bytes_of, listener, raw, room, socket_pair, Flavor, Harness, MSG_PEEK, SOCK_DGRAM, SOCK_STREAM,
};

fn tcp_round_trip(harness: &mut Harness, v6: bool) {
    let (client, server) = harness.tcp_pair(v6);
    let message = b"hello over tcp".to_vec();
    let (sent, op) = harness.ok(Op::Send {
        fd: raw(&client),
        buf: Buffer::from(message.clone()),
        flags: 0,
    });
    assert_eq!(sent, message.len());
    assert_eq!(bytes_of(op), message, "the send buffer comes back");
    let mut received = Vec::new();
    while received.len() < message.len() {
        let (count, op) = harness.ok(Op::Recv {
            fd: raw(&server),
            buf: room(64),
            flags: 0,
        });
        assert!(count > 0);
        received.extend(bytes_of(op));
    }
    assert_eq!(received, message);
    // And back, with read/write at the current position.
    harness.ok(Op::Write {
        fd: raw(&server),
        buf: Buffer::from("pong"),
        offset: None,
    });
    let (count, op) = harness.ok(Op::Read {
        fd: raw(&client),
        buf: room(4),
        offset: None,
    });
    assert_eq!((count, bytes_of(op)), (4, b"pong".to_vec()));
}

pub fn tcp_round_trip_ipv4(mut harness: Harness) {
    tcp_round_trip(&mut harness, false);
}

pub fn tcp_round_trip_ipv6(mut harness: Harness) {
    tcp_round_trip(&mut harness, true);
}

fn udp_messages(harness: &mut Harness, v6: bool) {
    let local = if v6 { "[::1]:0" } else { "127.0.0.1:0" };
    let peer = UdpSocket::bind(local).unwrap();
    let peer_address = peer.local_addr().unwrap();
    let socket = harness.socket(peer_address, SOCK_DGRAM);
    // Bind outside the driver: there is no bind operation (it never blocks).
    let local: std::net::SocketAddr = local.parse().unwrap();
    SockRef::from(&socket).bind(&local.into()).expect("bind");
    let (sent, _) = harness.ok(Op::SendMsg {
        fd: raw(&socket),
        bufs: vec![Buffer::from("da"), Buffer::from("tagram")],
        addr: Some(peer_address.into()),
        fds: Descriptors::new(),
        flags: 0,
    });
    assert_eq!(sent, 8);
    let mut datagram = [0u8; 64];
    peer.set_read_timeout(Some(crate::harness::LIMIT)).unwrap();
    let (count, from) = peer.recv_from(&mut datagram).unwrap();
    assert_eq!(&datagram[..count], b"datagram");
    // Reply; the driver reports who sent it.
    peer.send_to(b"reply!", from).unwrap();
    let (count, op) = harness.ok(Op::RecvMsg {
        fd: raw(&socket),
        bufs: vec![room(3), room(16)],
        flags: 0,
        source: None,
        max_fds: 0,
        fds: Descriptors::new(),
        fds_truncated: false,
    });
    assert_eq!(count, 6);
    let Op::RecvMsg { bufs, source, .. } = op else {
        unreachable!()
    };
    assert_eq!(source, Some(peer_address.into()));
    assert_eq!(
        (bufs[0].as_slice(), bufs[1].as_slice()),
        (&b"rep"[..], &b"ly!"[..])
    );
}

pub fn udp_messages_carry_addresses_ipv4(mut harness: Harness) {
    udp_messages(&mut harness, false);
}

pub fn udp_messages_carry_addresses_ipv6(mut harness: Harness) {
    udp_messages(&mut harness, true);
}

pub fn connect_to_closed_port_is_refused(mut harness: Harness) {
    // Bind a port, then close it, so nothing listens there.
    let address = listener(false).local_addr().unwrap();
    let socket = harness.socket(address, SOCK_STREAM);
    let error = harness.error(Op::Connect {
        fd: raw(&socket),
        addr: address,
    });
    assert_eq!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{error}"
    );
}

pub fn peer_shutdown_reads_zero(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pending = harness.submit(Op::Recv {
        fd: raw(&server),
        buf: room(16),
        flags: 0,
    });
    std::thread::sleep(std::time::Duration::from_millis(20));
    harness.ok(Op::Shutdown {
        fd: raw(&client),
        how: Shutdown::Write,
    });
    let completion = harness.wait(pending);
    assert_eq!(completion.result.unwrap(), 0, "end of stream");
}

pub fn peer_reset_is_an_error(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pending = harness.submit(Op::Recv {
        fd: raw(&server),
        buf: room(16),
        flags: 0,
    });
    // Closing with a zero linger sends a reset.
    SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .expect("set SO_LINGER");
    drop(client);
    let error = harness.wait(pending).result.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
}

pub fn two_reads_on_one_socket_complete_in_order(mut harness: Harness) {
    let (left, right) = socket_pair();
    let ids: Vec<_> = (0..4)
        .map(|_| {
            harness.submit(Op::Recv {
                fd: raw(&right),
                buf: room(1),
                flags: 0,
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    harness.ok(Op::Send {
        fd: raw(&left),
        buf: Buffer::from("abcd"),
        flags: 0,
    });
    let received: Vec<u8> = ids
        .into_iter()
        .flat_map(|id| bytes_of(harness.wait(id).op))
        .collect();
    if in_submission_order(harness.flavor) {
        assert_eq!(received, b"abcd", "reads complete in submission order");
    } else {
        // io_uring wakes concurrent reads on one socket in the kernel's order (the most
        // recent first, as of Linux 6.x); Op's docs say so. Each byte still arrives once.
        let mut sorted = received.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, b"abcd");
    }
}

/// Whether concurrent reads on one socket complete in the order they were submitted: epoll
/// runs them in order; Windows queues overlapped receives on a socket in order.
fn in_submission_order(flavor: Flavor) -> bool {
    match flavor {
        #[cfg(target_os = "linux")]
        Flavor::Epoll => true,
        #[cfg(target_os = "linux")]
        Flavor::IoUring | Flavor::IoUringFallback => false,
        #[cfg(windows)]
        Flavor::Iocp => true,
    }
}

pub fn recv_flags_are_honoured(mut harness: Harness) {
    let (left, right) = socket_pair();
    harness.ok(Op::Send {
        fd: raw(&left),
        buf: Buffer::from("peek"),
        flags: 0,
    });
    let (count, op) = harness.ok(Op::Recv {
        fd: raw(&right),
        buf: room(16),
        flags: MSG_PEEK,
    });
    assert_eq!((count, bytes_of(op)), (4, b"peek".to_vec()));
    // Peeking left the data in place.
    let (count, op) = harness.ok(Op::Recv {
        fd: raw(&right),
        buf: room(16),
        flags: 0,
    });
    assert_eq!((count, bytes_of(op)), (4, b"peek".to_vec()));
    // MSG_DONTWAIT on an empty socket fails at once instead of waiting, on every backend
    // (Windows has no such flag).
    #[cfg(unix)]
    let error = harness.error(Op::Recv {
        fd: raw(&right),
        buf: room(16),
        flags: libc::MSG_DONTWAIT,
    });
    #[cfg(unix)]
    assert_eq!(error.raw_os_error(), Some(libc::EAGAIN));
}

pub fn shutdown_op_ends_the_write_side(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(true);
    harness.ok(Op::Shutdown {
        fd: raw(&client),
        how: Shutdown::Write,
    });
    let (count, _) = harness.ok(Op::Recv {
        fd: raw(&server),
        buf: room(8),
        flags: 0,
    });
    assert_eq!(count, 0);
    let error = harness.error(Op::Send {
        fd: raw(&client),
        buf: Buffer::from("late"),
        flags: 0,
    });
    // The same kind everywhere (Windows' own code, WSAESHUTDOWN, is uncategorized in std).
    assert_eq!(error.kind(), ErrorKind::BrokenPipe, "{error}");
}

pub fn thousand_operations_in_flight(mut harness: Harness) {
    const PAIRS: usize = 250;
    const PER_PAIR: usize = 4;
    let pairs: Vec<_> = (0..PAIRS).map(|_| socket_pair()).collect();
    let mut pending = Vec::new();
    for (index, (_, right)) in pairs.iter().enumerate() {
        for slot in 0..PER_PAIR {
            let id = harness.submit(Op::Recv {
                fd: raw(right),
                buf: room(1),
                flags: 0,
            });
            pending.push((id, index, slot));
        }
    }
    assert!(harness.driver.in_flight() >= PAIRS * PER_PAIR);
    for (left, _) in &pairs {
        harness.submit(Op::Send {
            fd: raw(left),
            buf: Buffer::from("wxyz"),
            flags: 0,
        });
    }
    let mut per_pair = vec![Vec::new(); PAIRS];
    for (id, index, _) in pending {
        let completion = harness.wait(id);
        assert_eq!(completion.result.unwrap(), 1);
        per_pair[index].extend(bytes_of(completion.op));
    }
    for received in per_pair {
        let mut received = received;
        received.sort_unstable();
        assert_eq!(received, b"wxyz");
    }
    // The sends complete too; nothing is left in flight afterwards.
    let deadline = std::time::Instant::now() + crate::harness::LIMIT;
    let mut sink = Vec::new();
    while harness.driver.in_flight() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "sends did not complete"
        );
        harness
            .driver
            .poll(&mut sink, Some(std::time::Duration::from_millis(100)))
            .unwrap();
    }
}
