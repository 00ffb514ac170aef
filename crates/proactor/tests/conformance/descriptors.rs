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
