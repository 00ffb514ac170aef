//! `net::TcpSocket`: options set before connecting or listening take effect, a bound
//! address is the one a connection comes from, and failures are clear errors.

use std::net::SocketAddr;
use std::time::Duration;

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::net::{TcpListener, TcpSocket, TcpStream};
use proactor::{spawn, Runtime};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

pub fn tcp_socket_connects_from_its_bound_address(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind(loopback()).await.unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(loopback()).unwrap();
        let from = socket.local_addr().unwrap();
        assert_ne!(from.port(), 0);
        let address = listener.local_addr().unwrap();
        let connecting = spawn(async move { socket.connect(address).await });
        let (mut served, peer) = listener.accept().await.unwrap();
        let mut stream = connecting.await.unwrap().unwrap();
        assert_eq!(peer, from, "the connection comes from the bound address");
        assert_eq!(stream.local_addr().unwrap(), from);
        // And it is an ordinary stream.
        stream.write_all(b"ping".to_vec()).await.0.unwrap();
        let (count, bytes) = served.read_exact(Vec::with_capacity(4)).await;
        count.unwrap();
        assert_eq!(bytes, b"ping");
    });
}

pub fn tcp_socket_listens_with_its_options(runtime: Runtime) {
    runtime.block_on(async {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        assert!(socket.reuseaddr().unwrap());
        socket.set_recv_buffer_size(200_000).unwrap();
        socket.bind(loopback()).unwrap();
        let listener = socket.listen(16).unwrap();
        let address = listener.local_addr().unwrap();
        let client = spawn(async move { TcpStream::connect(address).await });
        let (mut accepted, _) = listener.accept().await.unwrap();
        let mut client = client.await.unwrap().unwrap();
        client.write_all(b"hello".to_vec()).await.0.unwrap();
        let (count, bytes) = accepted.read_exact(Vec::with_capacity(5)).await;
        count.unwrap();
        assert_eq!(bytes, b"hello");
    });
}

pub fn tcp_socket_options_read_back(runtime: Runtime) {
    runtime.block_on(async {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_send_buffer_size(160_000).unwrap();
        socket.set_recv_buffer_size(160_000).unwrap();
        assert!(socket.send_buffer_size().unwrap() >= 160_000);
        assert!(socket.recv_buffer_size().unwrap() >= 160_000);
        assert!(!socket.nodelay().unwrap());
        socket.set_nodelay(true).unwrap();
        assert!(socket.nodelay().unwrap());
        socket.set_keepalive(true).unwrap();
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.linger().unwrap(), None);
        socket.set_linger(Some(Duration::from_secs(1))).unwrap();
        assert_eq!(socket.linger().unwrap(), Some(Duration::from_secs(1)));
    });
}

#[cfg(unix)]
pub fn tcp_sockets_share_a_port_with_reuseport(runtime: Runtime) {
    runtime.block_on(async {
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        first.bind(loopback()).unwrap();
        let address = first.local_addr().unwrap();
        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        second.bind(address).unwrap();
        let (first, second) = (first.listen(16).unwrap(), second.listen(16).unwrap());
        assert_eq!(first.local_addr().unwrap(), second.local_addr().unwrap());
        // Without it, the port is taken.
        let third = TcpSocket::new_v4().unwrap();
        let error = third.bind(address).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse, "{error}");
    });
}

pub fn tcp_socket_connect_errors_are_clear(runtime: Runtime) {
    runtime.block_on(async {
        // A port nobody listens on: bound and closed again.
        let closed = {
            let probe = std::net::TcpListener::bind(loopback()).unwrap();
            probe.local_addr().unwrap()
        };
        let error = TcpSocket::new_v4()
            .unwrap()
            .connect(closed)
            .await
            .unwrap_err();
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "{error}"
        );
        // An IPv6 address from an IPv4 socket.
        let error = TcpSocket::new_v4()
            .unwrap()
            .connect("[::1]:9".parse().unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(
                error.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::AddrNotAvailable
            ) || error.raw_os_error().is_some(),
            "{error:?}"
        );
    });
}
