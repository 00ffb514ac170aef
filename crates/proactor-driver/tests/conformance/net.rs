//! Sockets: TCP and UDP over loopback (IPv4 and IPv6), connect, accept, refusal, shutdown,
//! reset, ordering, flags, and many operations in flight.

use std::net::{Shutdown, SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};

use proactor_driver::{Buffer, Op};

use crate::harness::{bytes_of, listener, room, socket_pair, Harness};

fn tcp_round_trip(harness: &mut Harness, v6: bool) {
    let (client, server) = harness.tcp_pair(v6);
    let message = b"hello over tcp".to_vec();
    let (sent, op) = harness.ok(Op::Send {
        fd: client.as_raw_fd(),
        buf: Buffer::from(message.clone()),
        flags: 0,
    });
    assert_eq!(sent, message.len());
    assert_eq!(bytes_of(op), message, "the send buffer comes back");
    let mut received = Vec::new();
    while received.len() < message.len() {
        let (count, op) = harness.ok(Op::Recv {
            fd: server.as_raw_fd(),
            buf: room(64),
            flags: 0,
        });
        assert!(count > 0);
        received.extend(bytes_of(op));
    }
    assert_eq!(received, message);
    // And back, with read/write at the current position.
    harness.ok(Op::Write {
        fd: server.as_raw_fd(),
        buf: Buffer::from("pong"),
        offset: None,
    });
    let (count, op) = harness.ok(Op::Read {
        fd: client.as_raw_fd(),
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
    let socket = harness.socket(peer_address, libc::SOCK_DGRAM);
    // Bind through std on the driver's socket: there is no bind operation (it never blocks).
    bind(&socket, local.parse().unwrap());
    let (sent, _) = harness.ok(Op::SendMsg {
        fd: socket.as_raw_fd(),
        bufs: vec![Buffer::from("da"), Buffer::from("tagram")],
        addr: Some(peer_address),
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
        fd: socket.as_raw_fd(),
        bufs: vec![room(3), room(16)],
        flags: 0,
        source: None,
    });
    assert_eq!(count, 6);
    let Op::RecvMsg { bufs, source, .. } = op else {
        unreachable!()
    };
    assert_eq!(source, Some(peer_address));
    assert_eq!(
        (bufs[0].as_slice(), bufs[1].as_slice()),
        (&b"rep"[..], &b"ly!"[..])
    );
}

fn bind(socket: &OwnedFd, address: SocketAddr) {
    let std_socket = std::net::UdpSocket::from(socket.try_clone().unwrap());
    // Going through std keeps sockaddr handling out of the test; the clone is closed after.
    let raw = std_socket.as_raw_fd();
    let result = match address {
        SocketAddr::V4(v4) => {
            let raw_address = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: raw_address is a valid sockaddr_in of the given length.
            unsafe {
                libc::bind(
                    raw,
                    (&raw_address as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
        }
        SocketAddr::V6(v6) => {
            let raw_address = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: raw_address is a valid sockaddr_in6 of the given length.
            unsafe {
                libc::bind(
                    raw,
                    (&raw_address as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    };
    assert_eq!(result, 0, "bind: {}", std::io::Error::last_os_error());
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
    let socket = harness.socket(address, libc::SOCK_STREAM);
    let error = harness.error(Op::Connect {
        fd: socket.as_raw_fd(),
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
        fd: server.as_raw_fd(),
        buf: room(16),
        flags: 0,
    });
    std::thread::sleep(std::time::Duration::from_millis(20));
    harness.ok(Op::Shutdown {
        fd: client.as_raw_fd(),
        how: Shutdown::Write,
    });
    let completion = harness.wait(pending);
    assert_eq!(completion.result.unwrap(), 0, "end of stream");
}

pub fn peer_reset_is_an_error(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(false);
    let pending = harness.submit(Op::Recv {
        fd: server.as_raw_fd(),
        buf: room(16),
        flags: 0,
    });
    // Closing with a zero linger sends a reset.
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt with a valid linger struct and its size.
    let result = unsafe {
        libc::setsockopt(
            client.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(result, 0);
    drop(client);
    let error = harness.wait(pending).result.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
}

pub fn two_reads_on_one_socket_complete_in_order(mut harness: Harness) {
    let (left, right) = socket_pair();
    let ids: Vec<_> = (0..4)
        .map(|_| {
            harness.submit(Op::Recv {
                fd: right.as_raw_fd(),
                buf: room(1),
                flags: 0,
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    harness.ok(Op::Send {
        fd: left.as_raw_fd(),
        buf: Buffer::from("abcd"),
        flags: 0,
    });
    let received: Vec<u8> = ids
        .into_iter()
        .flat_map(|id| bytes_of(harness.wait(id).op))
        .collect();
    if harness.flavor == crate::harness::Flavor::Epoll {
        assert_eq!(received, b"abcd", "reads complete in submission order");
    } else {
        // io_uring wakes concurrent reads on one socket in the kernel's order (the most
        // recent first, as of Linux 6.x); Op's docs say so. Each byte still arrives once.
        let mut sorted = received.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, b"abcd");
    }
}

pub fn recv_flags_are_honoured(mut harness: Harness) {
    let (left, right) = socket_pair();
    harness.ok(Op::Send {
        fd: left.as_raw_fd(),
        buf: Buffer::from("peek"),
        flags: 0,
    });
    let (count, op) = harness.ok(Op::Recv {
        fd: right.as_raw_fd(),
        buf: room(16),
        flags: libc::MSG_PEEK,
    });
    assert_eq!((count, bytes_of(op)), (4, b"peek".to_vec()));
    // Peeking left the data in place.
    let (count, op) = harness.ok(Op::Recv {
        fd: right.as_raw_fd(),
        buf: room(16),
        flags: 0,
    });
    assert_eq!((count, bytes_of(op)), (4, b"peek".to_vec()));
    // MSG_DONTWAIT on an empty socket fails at once instead of waiting, on every backend.
    let error = harness.error(Op::Recv {
        fd: right.as_raw_fd(),
        buf: room(16),
        flags: libc::MSG_DONTWAIT,
    });
    assert_eq!(error.raw_os_error(), Some(libc::EAGAIN));
}

pub fn shutdown_op_ends_the_write_side(mut harness: Harness) {
    let (client, server) = harness.tcp_pair(true);
    harness.ok(Op::Shutdown {
        fd: client.as_raw_fd(),
        how: Shutdown::Write,
    });
    let (count, _) = harness.ok(Op::Recv {
        fd: server.as_raw_fd(),
        buf: room(8),
        flags: 0,
    });
    assert_eq!(count, 0);
    let error = harness.error(Op::Send {
        fd: client.as_raw_fd(),
        buf: Buffer::from("late"),
        flags: 0,
    });
    assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
}

pub fn thousand_operations_in_flight(mut harness: Harness) {
    const PAIRS: usize = 250;
    const PER_PAIR: usize = 4;
    let pairs: Vec<_> = (0..PAIRS).map(|_| socket_pair()).collect();
    let mut pending = Vec::new();
    for (index, (_, right)) in pairs.iter().enumerate() {
        for slot in 0..PER_PAIR {
            let id = harness.submit(Op::Recv {
                fd: right.as_raw_fd(),
                buf: room(1),
                flags: 0,
            });
            pending.push((id, index, slot));
        }
    }
    assert!(harness.driver.in_flight() >= PAIRS * PER_PAIR);
    for (left, _) in &pairs {
        harness.submit(Op::Send {
            fd: left.as_raw_fd(),
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
