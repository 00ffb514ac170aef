//! `net::UdpSocket`'s multicast options: each setter reads back through its getter, a
//! datagram sent to a group on loopback comes back to a member, and a source-specific join
//! either works or fails with an error.

use std::net::{Ipv4Addr, SocketAddr};

use proactor::net::UdpSocket;
use proactor::time::timeout;
use proactor::Runtime;

pub fn udp_multicast_options_round_trip(runtime: Runtime) {
    runtime.block_on(async {
        let v4 = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        assert!(v4.multicast_loop_v4().unwrap(), "on by default");
        v4.set_multicast_loop_v4(false).unwrap();
        assert!(!v4.multicast_loop_v4().unwrap());
        v4.set_multicast_loop_v4(true).unwrap();
        assert!(v4.multicast_loop_v4().unwrap());

        assert_eq!(
            v4.multicast_ttl_v4().unwrap(),
            1,
            "the local network by default"
        );
        v4.set_multicast_ttl_v4(5).unwrap();
        assert_eq!(v4.multicast_ttl_v4().unwrap(), 5);

        assert!(v4.multicast_if_v4().unwrap().is_unspecified());
        v4.set_multicast_if_v4(Ipv4Addr::LOCALHOST).unwrap();
        assert_eq!(v4.multicast_if_v4().unwrap(), Ipv4Addr::LOCALHOST);

        v4.set_ttl(33).unwrap();
        assert_eq!(v4.ttl().unwrap(), 33);
        v4.set_tos_v4(0x10).unwrap();
        assert_eq!(v4.tos_v4().unwrap(), 0x10);

        let v6 = UdpSocket::bind("[::1]:0").await.unwrap();
        assert!(v6.multicast_loop_v6().unwrap(), "on by default");
        v6.set_multicast_loop_v6(false).unwrap();
        assert!(!v6.multicast_loop_v6().unwrap());
        assert_eq!(
            v6.multicast_hops_v6().unwrap(),
            1,
            "the local network by default"
        );
        v6.set_multicast_hops_v6(8).unwrap();
        assert_eq!(v6.multicast_hops_v6().unwrap(), 8);
        // Interface indexes differ between hosts; 0 (the routing table's choice) is on all.
        v6.set_multicast_if_v6(0).unwrap();
        assert_eq!(v6.multicast_if_v6().unwrap(), 0);

        // An IPv6 option on an IPv4 socket is an error, not a panic.
        assert!(v4.multicast_hops_v6().is_err());
    });
}

/// A member of a group on loopback receives what another socket sends to it with loop on.
/// A host without multicast on loopback refuses the join or the send; then only the options
/// are checked (the round-trip test above), and the test says so on stderr rather than fail.
pub fn udp_multicast_datagram_loops_back(runtime: Runtime) {
    runtime.block_on(async {
        // Distinct from other tests' groups; each receiver's own port keeps the backends'
        // instances, which run at once, apart.
        let group = Ipv4Addr::new(239, 255, 71, 18);
        let receiver = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        if let Err(error) = receiver.join_multicast_v4(group, Ipv4Addr::LOCALHOST) {
            eprintln!("no multicast on loopback here (join: {error}); options checked only");
            return;
        }
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sender.set_multicast_if_v4(Ipv4Addr::LOCALHOST).unwrap();
        sender.set_multicast_loop_v4(true).unwrap();
        let target = SocketAddr::from((group, receiver.local_addr().unwrap().port()));
        let (sent, _) = sender.send_to(&b"to the group"[..], target).await;
        if let Err(error) = sent {
            eprintln!("no multicast on loopback here (send: {error}); options checked only");
            return;
        }
        let (received, data) = timeout(crate::LIMIT, receiver.recv_from(Vec::with_capacity(64)))
            .await
            .expect("a datagram sent to a joined group with loop on comes back");
        let (count, from) = received.unwrap();
        assert_eq!(&data[..count], b"to the group");
        assert_eq!(from, sender.local_addr().unwrap());
        receiver
            .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
            .unwrap();
    });
}

/// Source-specific membership needs IGMPv3 on the interface; where there is none the join is
/// an error, never a panic. A channel joined can be left once.
pub fn udp_ssm_join_works_or_errors_cleanly(runtime: Runtime) {
    runtime.block_on(async {
        let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        let (source, group) = (Ipv4Addr::LOCALHOST, Ipv4Addr::new(232, 1, 71, 18));
        match socket.join_ssm_v4(source, group, Ipv4Addr::LOCALHOST) {
            Ok(()) => {
                socket
                    .leave_ssm_v4(source, group, Ipv4Addr::LOCALHOST)
                    .unwrap();
                assert!(socket
                    .leave_ssm_v4(source, group, Ipv4Addr::LOCALHOST)
                    .is_err());
            }
            Err(error) => eprintln!("join_ssm_v4 on loopback refused: {error}"),
        }
        // Not a multicast group: refused by every OS.
        assert!(socket
            .join_ssm_v4(source, Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::LOCALHOST)
            .is_err());
    });
}
