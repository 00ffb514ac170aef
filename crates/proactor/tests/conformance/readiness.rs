//! Readiness waits (`readable`, `writable`, `ready`), non-blocking attempts (`try_read`,
//! `try_write`, `try_send_to`, ...) and `AsyncFd` for descriptors made elsewhere.

use std::io::ErrorKind;
use std::time::Duration;

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::net::UdpSocket;
use proactor::time::{sleep, timeout};
use proactor::Runtime;

use crate::LIMIT;

/// Tries `attempt` until it says something other than `WouldBlock` (sleeping between tries,
/// for backends without readiness waits), at most `LIMIT`.
async fn until_not_blocked<T>(
    mut attempt: impl FnMut() -> std::io::Result<T>,
) -> std::io::Result<T> {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        match attempt() {
            Err(error) if error.kind() == ErrorKind::WouldBlock => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "still blocked after {LIMIT:?}"
                );
                sleep(Duration::from_millis(2)).await;
            }
            result => return result,
        }
    }
}

pub fn try_read_and_try_write_move_bytes_without_waiting(runtime: Runtime) {
    runtime.block_on(async {
        let (client, server) = crate::tcp_pair().await;
        let mut bytes = [0; 64];
        let nothing = server.try_read(&mut bytes).unwrap_err();
        assert_eq!(nothing.kind(), ErrorKind::WouldBlock);
        assert_eq!(client.try_write(b"hello").unwrap(), 5);
        let count = until_not_blocked(|| server.try_read(&mut bytes))
            .await
            .unwrap();
        assert_eq!(&bytes[..count], b"hello");
        assert_eq!(server.try_read(&mut []).unwrap_or(0), 0);
        drop(client);
        let end = until_not_blocked(|| server.try_read(&mut bytes))
            .await
            .unwrap();
        assert_eq!(end, 0, "the end of the stream");
    });
}

pub fn try_read_returns_what_a_cancelled_read_kept_first(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, mut server) = crate::tcp_pair().await;
        let waiting = timeout(
            Duration::from_millis(20),
            server.read(Vec::with_capacity(64)),
        )
        .await;
        assert!(waiting.is_err(), "nothing was sent yet");
        client.write_all(&b"first"[..]).await.0.unwrap();
        let mut bytes = [0; 3];
        // The cancelled read's bytes, in order, however they are split.
        let count = until_not_blocked(|| server.try_read(&mut bytes))
            .await
            .unwrap();
        assert_eq!(&bytes[..count], &b"fir"[..count]);
        let mut rest = Vec::new();
        rest.extend_from_slice(&bytes[..count]);
        client.write_all(&b" second"[..]).await.0.unwrap();
        while rest.len() < 12 {
            let count = until_not_blocked(|| server.try_read(&mut bytes))
                .await
                .unwrap();
            assert!(count > 0);
            rest.extend_from_slice(&bytes[..count]);
        }
        assert_eq!(rest, b"first second");
        // And the owned-buffer reads go on after them.
        client.write_all(&b"!"[..]).await.0.unwrap();
        let (count, read) = server.read(Vec::with_capacity(8)).await;
        assert_eq!(&read[..count.unwrap()], b"!");
    });
}

pub fn udp_try_send_to_and_try_recv_from(runtime: Runtime) {
    runtime.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut bytes = [0; 32];
        assert_eq!(
            a.try_recv_from(&mut bytes).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(
            b.try_send_to(b"datagram", a.local_addr().unwrap()).unwrap(),
            8
        );
        let (count, from) = until_not_blocked(|| a.try_recv_from(&mut bytes))
            .await
            .unwrap();
        assert_eq!(
            (&bytes[..count], from),
            (&b"datagram"[..], b.local_addr().unwrap())
        );
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.try_send(b"connected").unwrap(), 9);
        let count = until_not_blocked(|| b.try_recv(&mut bytes)).await.unwrap();
        assert_eq!(&bytes[..count], b"connected");
    });
}

pub fn readable_waits_for_bytes_and_the_end(runtime: Runtime) {
    runtime.block_on(async {
        let (client, server) = crate::tcp_pair().await;
        let early = timeout(Duration::from_millis(30), server.readable()).await;
        assert!(early.is_err(), "nothing to read yet");
        let writer = proactor::spawn(async move {
            sleep(Duration::from_millis(20)).await;
            client.try_write(b"ping").unwrap();
            client
        });
        timeout(LIMIT, server.readable()).await.unwrap().unwrap();
        let mut bytes = [0; 16];
        assert_eq!(server.try_read(&mut bytes).unwrap(), 4);
        // Taken: no longer readable, and try_read says so.
        assert_eq!(
            server.try_read(&mut bytes).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        let again = timeout(Duration::from_millis(30), server.readable()).await;
        assert!(again.is_err(), "the bytes were taken");
        let client = writer.await.unwrap();
        drop(client);
        timeout(LIMIT, server.readable()).await.unwrap().unwrap();
        assert_eq!(
            server.try_read(&mut bytes).unwrap(),
            0,
            "the end of the stream"
        );
    });
}

pub fn writable_waits_for_room(runtime: Runtime) {
    runtime.block_on(async {
        let (client, mut server) = crate::tcp_pair().await;
        let socket = socket2::SockRef::from(&client);
        socket.set_send_buffer_size(4096).unwrap();
        socket2::SockRef::from(&server)
            .set_recv_buffer_size(4096)
            .unwrap();
        timeout(LIMIT, client.writable()).await.unwrap().unwrap();
        // Fill the socket and the peer's receive buffer (which may grow as it fills: fill
        // again until a wait for room goes unanswered).
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0;
        let mut full = false;
        for _ in 0..200 {
            loop {
                match client.try_write(&chunk) {
                    Ok(count) => sent += count,
                    Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                    Err(error) => panic!("{error}"),
                }
            }
            if timeout(Duration::from_millis(50), client.writable())
                .await
                .is_err()
            {
                full = true;
                break;
            }
        }
        assert!(
            full,
            "no room while the peer reads nothing (sent {sent} bytes)"
        );
        let reading = proactor::spawn(async move {
            let mut taken = 0;
            while taken < sent {
                let (count, _) = server.read(Vec::with_capacity(64 * 1024)).await;
                taken += count.unwrap();
            }
            server
        });
        timeout(LIMIT, client.writable()).await.unwrap().unwrap();
        assert!(client.try_write(b"more").unwrap() > 0);
        drop(timeout(LIMIT, reading).await.unwrap().unwrap());
    });
}

pub fn ready_says_what_it_found(runtime: Runtime) {
    use proactor::io::Interest;
    runtime.block_on(async {
        let (client, server) = crate::tcp_pair().await;
        let ready = timeout(LIMIT, server.ready(Interest::READABLE | Interest::WRITABLE))
            .await
            .unwrap()
            .unwrap();
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");
        client.try_write(b"x").unwrap();
        let ready = timeout(LIMIT, server.ready(Interest::READABLE))
            .await
            .unwrap()
            .unwrap();
        assert!(ready.is_readable() && !ready.is_writable(), "{ready:?}");
        drop(client);
        let ready = timeout(LIMIT, server.ready(Interest::READABLE))
            .await
            .unwrap()
            .unwrap();
        assert!(ready.is_readable());
    });
}

pub fn udp_readable_waits_for_a_datagram(runtime: Runtime) {
    runtime.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let early = timeout(Duration::from_millis(30), a.readable()).await;
        assert!(early.is_err(), "no datagram yet");
        timeout(LIMIT, b.writable()).await.unwrap().unwrap();
        b.try_send_to(b"one", a.local_addr().unwrap()).unwrap();
        timeout(LIMIT, a.readable()).await.unwrap().unwrap();
        let mut bytes = [0; 8];
        let (count, _) = a.try_recv_from(&mut bytes).unwrap();
        assert_eq!(&bytes[..count], b"one");
    });
}

#[cfg(unix)]
pub fn async_fd_waits_for_a_foreign_descriptor(runtime: Runtime) {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    use proactor::io::unix::AsyncFd;
    use proactor::io::Interest;

    runtime.block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let a = AsyncFd::new(a).unwrap();
        let early = timeout(Duration::from_millis(30), a.readable()).await;
        assert!(early.is_err(), "nothing to read yet");
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            b.write_all(b"from a thread").unwrap();
            b
        });
        let mut bytes = [0; 64];
        let count = timeout(
            LIMIT,
            a.async_io(Interest::READABLE, |inner| (&*inner).read(&mut bytes)),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(&bytes[..count], b"from a thread");
        // Used up: the next attempt would block, and the guard says so.
        let mut guard = a.writable().await.unwrap();
        assert!(guard
            .try_io(|inner| inner.get_ref().read(&mut bytes))
            .is_err());
        // Given back and watched again (the driver forgot it in between).
        let stream = a.into_inner();
        let a = AsyncFd::new(stream).unwrap();
        let mut b = writer.join().unwrap();
        b.write_all(b"again").unwrap();
        let count = timeout(
            LIMIT,
            a.async_io(Interest::READABLE, |inner| (&*inner).read(&mut bytes)),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(&bytes[..count], b"again");
        drop(b);
        let end = timeout(
            LIMIT,
            a.async_io(Interest::READABLE, |inner| (&*inner).read(&mut bytes)),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(end, 0, "the end of the stream");
        // An interest it was not made with is refused.
        let reader = AsyncFd::with_interest(a.into_inner(), Interest::READABLE).unwrap();
        assert_eq!(
            reader.writable().await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    });
}

#[cfg(unix)]
pub fn async_fd_on_a_closed_then_reused_number(runtime: Runtime) {
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    use proactor::io::unix::AsyncFd;

    runtime.block_on(async {
        // Watch one socket, drop it (closing it), and watch another that may get its number:
        // what the driver knew of the first must not confuse the second.
        for _ in 0..3 {
            let (a, mut b) = UnixStream::pair().unwrap();
            a.set_nonblocking(true).unwrap();
            let a = AsyncFd::new(a).unwrap();
            b.write_all(b"x").unwrap();
            timeout(LIMIT, a.readable()).await.unwrap().unwrap();
            drop(a);
        }
    });
}
