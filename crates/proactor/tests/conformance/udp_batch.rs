//! Batched UDP receives and sends (`recv_many`, `send_many`, `send_many_to`): the same
//! datagrams, lengths, addresses and counts on every backend.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proactor::net::{RecvMeta, UdpSocket};
use proactor::time::timeout;
use proactor::Runtime;

/// A datagram naming its sender and its number, `len` bytes long (at least 2).
fn datagram(sender: u8, number: u8, len: usize) -> Vec<u8> {
    let mut bytes = vec![number; len];
    bytes[0] = sender;
    bytes
}

/// Receives with `recv_many` until `count` datagrams came (each receive bounded), returning
/// each with its source.
async fn receive_all(socket: &UdpSocket, count: usize) -> Vec<(Vec<u8>, SocketAddr)> {
    let mut received = Vec::new();
    let mut meta = [RecvMeta::default(); 16];
    let deadline = Instant::now() + crate::LIMIT;
    while received.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} datagrams came",
            received.len()
        );
        let bufs: Vec<Vec<u8>> = (0..16).map(|_| Vec::with_capacity(2048)).collect();
        let (result, bufs) = timeout(crate::LIMIT, socket.recv_many(bufs, &mut meta))
            .await
            .expect("a batch receive with datagrams waiting ends");
        let got = result.unwrap();
        assert!((1..=16).contains(&got), "received {got}");
        for (buf, meta) in bufs.into_iter().zip(meta).take(got) {
            assert_eq!(buf.len(), meta.len);
            assert!(!meta.truncated);
            received.push((buf, meta.addr));
        }
        // The buffers past the count are as they were given.
    }
    received
}

pub fn udp_recv_many_gets_datagrams_of_several_senders(runtime: Runtime) {
    runtime.block_on(async {
        for local in ["127.0.0.1:0", "[::1]:0"] {
            let receiver = UdpSocket::bind(local).await.unwrap();
            let target = receiver.local_addr().unwrap();
            let mut senders = Vec::new();
            for _ in 0..3 {
                senders.push(UdpSocket::bind(local).await.unwrap());
            }
            for number in 0..10u8 {
                for (index, sender) in senders.iter().enumerate() {
                    let len = 2 + usize::from(number) * 100 + index;
                    let (sent, _) = sender
                        .send_to(datagram(index as u8, number, len), target)
                        .await;
                    assert_eq!(sent.unwrap(), len);
                }
            }
            let received = receive_all(&receiver, 30).await;
            let mut next: HashMap<SocketAddr, u8> = HashMap::new();
            for (bytes, from) in received {
                let index = usize::from(bytes[0]);
                assert_eq!(from, senders[index].local_addr().unwrap());
                // Each sender's datagrams come in the order it sent them.
                let number = next.entry(from).or_default();
                assert_eq!(bytes, datagram(index as u8, *number, bytes.len()));
                assert_eq!(bytes.len(), 2 + usize::from(*number) * 100 + index);
                *number += 1;
            }
            assert!(next.values().all(|&count| count == 10));
        }
    });
}

pub fn udp_recv_many_returns_what_is_waiting(runtime: Runtime) {
    runtime.block_on(async {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for number in 0..2u8 {
            sender
                .send_to(&datagram(0, number, 8), receiver.local_addr().unwrap())
                .unwrap();
        }
        // Room for 8: two are waiting, and the receive does not wait for six more.
        let mut got = 0;
        let mut meta = [RecvMeta::default(); 8];
        while got < 2 {
            let bufs: Vec<Vec<u8>> = (0..8).map(|_| Vec::with_capacity(64)).collect();
            let (result, bufs) = timeout(crate::LIMIT, receiver.recv_many(bufs, &mut meta))
                .await
                .expect("a batch receive returns what is there");
            let count = result.unwrap();
            assert!((1..=2 - got).contains(&count), "received {count}");
            for (buf, meta) in bufs.iter().zip(&meta).take(count) {
                assert_eq!(buf, &datagram(0, got as u8, 8));
                assert_eq!(meta.addr, sender.local_addr().unwrap());
                got += 1;
            }
            assert!(bufs[count..].iter().all(Vec::is_empty));
        }
        // Nothing waits now: the receive waits, and a timer ends it.
        let bufs: Vec<Vec<u8>> = (0..8).map(|_| Vec::with_capacity(64)).collect();
        let waited = timeout(
            Duration::from_millis(50),
            receiver.recv_many(bufs, &mut meta),
        )
        .await;
        assert!(waited.is_err(), "a receive with nothing waiting waits");
    });
}

pub fn udp_recv_many_reports_truncation(runtime: Runtime) {
    runtime.block_on(async {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let target = receiver.local_addr().unwrap();
        let long = datagram(1, 7, 100);
        sender.send_to(long.clone(), target).await.0.unwrap();
        sender.send_to(datagram(2, 9, 10), target).await.0.unwrap();
        let mut meta = [RecvMeta::default(); 4];
        let mut seen = Vec::new();
        while seen.len() < 2 {
            // Boxed slices: exactly 16 bytes of room each.
            let bufs: Vec<Box<[u8]>> = (0..4).map(|_| vec![0u8; 16].into_boxed_slice()).collect();
            let (result, bufs) = timeout(crate::LIMIT, receiver.recv_many(bufs, &mut meta))
                .await
                .expect("a batch receive with datagrams waiting ends");
            let count = result.unwrap();
            for (buf, meta) in bufs.iter().zip(&meta).take(count) {
                seen.push((buf[..meta.len].to_vec(), meta.len, meta.truncated));
            }
        }
        assert_eq!(seen[0], (long[..16].to_vec(), 16, true));
        assert_eq!(seen[1], (datagram(2, 9, 10), 10, false));
    });
}

pub fn udp_send_many_to_delivers_each(runtime: Runtime) {
    runtime.block_on(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let targets = [a.local_addr().unwrap(), b.local_addr().unwrap()];
        // More than one system call's batch (32).
        let datagrams: Vec<(Vec<u8>, SocketAddr)> = (0..70u8)
            .map(|number| {
                (
                    datagram(0, number, 10 + usize::from(number)),
                    targets[usize::from(number % 2)],
                )
            })
            .collect();
        let (sent, back) = timeout(crate::LIMIT, socket.send_many_to(datagrams.clone()))
            .await
            .expect("a batch send ends");
        assert_eq!(sent.unwrap(), 70);
        assert_eq!(back, datagrams, "the datagrams come back as given");
        let to_a = receive_all(&a, 35).await;
        let to_b = receive_all(&b, 35).await;
        for (index, (bytes, from)) in to_a.into_iter().chain(to_b).enumerate() {
            let number = if index < 35 {
                index * 2
            } else {
                (index - 35) * 2 + 1
            } as u8;
            assert_eq!(bytes, datagram(0, number, 10 + usize::from(number)));
            assert_eq!(from, socket.local_addr().unwrap());
        }

        // The connected form.
        socket.connect(targets[0]).await.unwrap();
        let bufs: Vec<&'static [u8]> = vec![b"first", b"second", b"third"];
        let (sent, back) = timeout(crate::LIMIT, socket.send_many(bufs))
            .await
            .expect("a batch send ends");
        assert_eq!((sent.unwrap(), back.len()), (3, 3));
        let received = receive_all(&a, 3).await;
        let received: Vec<&[u8]> = received.iter().map(|(bytes, _)| &bytes[..]).collect();
        assert_eq!(received, [&b"first"[..], b"second", b"third"]);
    });
}

pub fn udp_batches_refuse_bad_input_clearly(runtime: Runtime) {
    runtime.block_on(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut meta = [RecvMeta::default(); 2];
        // Empty batches: nothing asked, nothing done, at once.
        let (result, back) = socket.recv_many(Vec::<Vec<u8>>::new(), &mut meta).await;
        assert_eq!((result.unwrap(), back.len()), (0, 0));
        let (result, _) = socket.send_many(Vec::<Vec<u8>>::new()).await;
        assert_eq!(result.unwrap(), 0);
        let (result, _) = socket
            .send_many_to(Vec::<(Vec<u8>, SocketAddr)>::new())
            .await;
        assert_eq!(result.unwrap(), 0);
        // Fewer RecvMetas than buffers.
        let bufs: Vec<Vec<u8>> = (0..3).map(|_| Vec::with_capacity(8)).collect();
        let (result, back) = socket.recv_many(bufs, &mut meta).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(back.len(), 3);
        // A buffer with no room.
        let bufs = vec![Vec::with_capacity(8), Vec::new()];
        let (result, back) = socket.recv_many(bufs, &mut meta).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(back.len(), 2);
        // A connected send on a socket with no peer: the OS error, the buffers back.
        let (result, back) = socket.send_many(vec![&b"nowhere"[..]]).await;
        assert!(result.is_err());
        assert_eq!(back, [&b"nowhere"[..]]);
    });
}

/// Receives cut short by a timer while datagrams arrive lose none and take none twice: a
/// batched receive only takes datagrams in its non-blocking attempt.
pub fn udp_cancelled_recv_many_loses_nothing(runtime: Runtime) {
    runtime.block_on(async {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let target = receiver.local_addr().unwrap();
        const COUNT: u8 = 200;
        let sender = std::thread::spawn(move || {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            for number in 0..COUNT {
                socket.send_to(&datagram(0, number, 4), target).unwrap();
                if number % 8 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        });
        let mut next = 0u8;
        let mut cancelled = 0;
        let mut meta = [RecvMeta::default(); 4];
        let deadline = Instant::now() + crate::LIMIT;
        while next < COUNT {
            assert!(Instant::now() < deadline, "only {next} datagrams came");
            let bufs: Vec<Vec<u8>> = (0..4).map(|_| Vec::with_capacity(16)).collect();
            match timeout(
                Duration::from_micros(300),
                receiver.recv_many(bufs, &mut meta),
            )
            .await
            {
                Ok((result, bufs)) => {
                    for buf in bufs.iter().take(result.unwrap()) {
                        assert_eq!(buf, &datagram(0, next, 4), "lost or repeated");
                        next += 1;
                    }
                }
                Err(_) => cancelled += 1,
            }
        }
        sender.join().unwrap();
        eprintln!("{cancelled} batch receives cancelled by the timer");
        // Nothing more came than was sent.
        let bufs = vec![Vec::with_capacity(16)];
        let waited = timeout(
            Duration::from_millis(20),
            receiver.recv_many(bufs, &mut meta),
        )
        .await;
        assert!(waited.is_err());
    });
}
