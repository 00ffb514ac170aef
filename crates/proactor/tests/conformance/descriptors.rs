//! The sockets lend their descriptors to other libraries (`AsFd`/`AsRawFd`, `AsSocket`/
//! `AsRawSocket` on Windows): socket2's `SockRef` sets and reads options through them.

use proactor::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use proactor::{spawn, Runtime};
use socket2::SockRef;

pub fn sockets_lend_their_descriptors(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        assert_eq!(
            SockRef::from(&listener).local_addr().unwrap().as_socket(),
            Some(address)
        );
        let client = spawn(async move { TcpStream::connect(address).await });
        let (server, _) = listener.accept().await.unwrap();
        let client = client.await.unwrap().unwrap();
        // An option set through the borrowed descriptor is the stream's own.
        SockRef::from(&client).set_tcp_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        assert_eq!(
            SockRef::from(&server).peer_addr().unwrap().as_socket(),
            Some(client.local_addr().unwrap())
        );
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(
            SockRef::from(&udp).local_addr().unwrap().as_socket(),
            Some(udp.local_addr().unwrap())
        );
        let socket = TcpSocket::new_v4().unwrap();
        SockRef::from(&socket).set_reuse_address(true).unwrap();
        assert!(socket.reuseaddr().unwrap());
        #[cfg(unix)]
        {
            use std::os::fd::{AsFd, AsRawFd};
            assert_eq!(client.as_fd().as_raw_fd(), client.as_raw_fd());
            let (a, _b) = proactor::net::UnixStream::pair().unwrap();
            assert_eq!(SockRef::from(&a).r#type().unwrap(), socket2::Type::STREAM);
        }
        #[cfg(windows)]
        {
            use std::os::windows::io::{AsRawSocket, AsSocket};
            assert_eq!(client.as_socket().as_raw_socket(), client.as_raw_socket());
        }
    });
}

/// `into_std` gives the socket away unclosed and the driver forgets it; `from_std` takes one
/// back. Round trips through std keep the connection, on a runtime that registers its sockets
/// too (io_uring's table must let go of a socket it no longer owns).
pub fn sockets_go_to_std_and_back(runtime: Runtime) {
    use std::io::{Read, Write};

    use proactor::io::{AsyncRead, AsyncWrite};

    let backend = runtime.backend();
    drop(runtime);
    for register in [false, true] {
        let runtime = proactor::Builder::new()
            .backend(backend)
            .register_sockets(register)
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let listener = TcpListener::from_std(listener.into_std().unwrap()).unwrap();
            assert_eq!(listener.local_addr().unwrap(), address);
            let client = spawn(async move { TcpStream::connect(address).await });
            let (server, _) = listener.accept().await.unwrap();
            let mut client = client.await.unwrap().unwrap();
            // To std, used there blocking, and back.
            let mut std_server = server.into_std().unwrap();
            std_server.set_nonblocking(false).unwrap();
            client.write_all(&b"to std"[..]).await.0.unwrap();
            let mut bytes = [0; 6];
            std_server.read_exact(&mut bytes).unwrap();
            assert_eq!(&bytes, b"to std");
            std_server.write_all(b"from std").unwrap();
            let mut server = TcpStream::from_std(std_server).unwrap();
            let (result, read) = client.read_exact(Vec::with_capacity(8)).await;
            result.unwrap();
            assert_eq!(read, b"from std");
            server.write_all(&b"back"[..]).await.0.unwrap();
            let (result, read) = client.read_exact(Vec::with_capacity(4)).await;
            result.unwrap();
            assert_eq!(read, b"back");
            // After a cancelled read, the bytes sent are either still in the socket (the
            // cancel came first) or kept by the stream, which then refuses to go: never lost.
            let waiting = proactor::time::timeout(
                std::time::Duration::from_millis(20),
                server.read(Vec::with_capacity(16)),
            )
            .await;
            assert!(waiting.is_err());
            client.write_all(&b"kept"[..]).await.0.unwrap();
            proactor::time::sleep(std::time::Duration::from_millis(20)).await;
            match server.into_std() {
                Ok(mut std_server) => {
                    std_server.set_nonblocking(false).unwrap();
                    std_server.set_read_timeout(Some(crate::LIMIT)).unwrap();
                    let mut bytes = [0; 4];
                    std_server.read_exact(&mut bytes).unwrap();
                    assert_eq!(&bytes, b"kept");
                }
                Err(error) => {
                    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{error}")
                }
            }

            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let std_socket = socket.into_std().unwrap();
            let socket = UdpSocket::from_std(std_socket).unwrap();
            let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            peer.send_to(&b"datagram"[..], socket.local_addr().unwrap())
                .await
                .0
                .unwrap();
            let (result, read) = socket.recv(Vec::with_capacity(16)).await;
            assert_eq!(&read[..result.unwrap()], b"datagram");
        });
    }
}

#[cfg(unix)]
pub fn unix_sockets_go_to_std_and_back(runtime: Runtime) {
    use std::io::{Read, Write};

    use proactor::io::{AsyncRead, AsyncWrite};
    use proactor::net::{UnixDatagram, UnixListener, UnixStream};

    runtime.block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut std_a = a.into_std().unwrap();
        std_a.set_nonblocking(false).unwrap();
        b.write_all(&b"ping"[..]).await.0.unwrap();
        let mut bytes = [0; 4];
        std_a.read_exact(&mut bytes).unwrap();
        std_a.write_all(b"pong").unwrap();
        let _a = UnixStream::from_std(std_a).unwrap();
        let (result, read) = b.read_exact(Vec::with_capacity(4)).await;
        result.unwrap();
        assert_eq!(read, b"pong");

        let (a, b) = UnixDatagram::pair().unwrap();
        let a = UnixDatagram::from_std(a.into_std().unwrap()).unwrap();
        b.send(&b"one"[..]).await.0.unwrap();
        let (result, read) = a.recv(Vec::with_capacity(8)).await;
        assert_eq!(&read[..result.unwrap()], b"one");

        let path = std::env::temp_dir().join(format!(
            "proactor-conformance-into-std-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let listener = UnixListener::from_std(listener.into_std().unwrap()).unwrap();
        let connecting = UnixStream::connect(&path);
        let (accepted, connected) = futures_join(listener.accept(), connecting).await;
        drop((accepted.unwrap(), connected.unwrap()));
        std::fs::remove_file(&path).unwrap();
    });
}

/// Both futures to their ends, polled together on this task.
#[cfg(unix)]
async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut first, mut second) = (None, None);
    std::future::poll_fn(|cx| {
        if first.is_none() {
            if let std::task::Poll::Ready(value) = a.as_mut().poll(cx) {
                first = Some(value);
            }
        }
        if second.is_none() {
            if let std::task::Poll::Ready(value) = b.as_mut().poll(cx) {
                second = Some(value);
            }
        }
        if first.is_some() && second.is_some() {
            std::task::Poll::Ready((first.take().unwrap(), second.take().unwrap()))
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}
