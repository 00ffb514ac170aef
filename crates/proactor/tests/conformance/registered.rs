//! A runtime that registers its stream sockets with the driver (`Builder::register_sockets`):
//! streams behave as on any runtime, and dropping one closes it for good (the driver's table
//! lets go of it first).

use std::time::Duration;

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::net::{TcpListener, TcpStream};
use proactor::time::timeout;
use proactor::{Builder, Runtime};

/// Echoes both ways over TCP (and a Unix pair), then the peer of a dropped stream reads the
/// end of the stream, on a runtime that registers its sockets.
pub fn streams_of_a_registering_runtime_echo_and_close(runtime: Runtime) {
    let backend = runtime.backend();
    drop(runtime);
    let runtime = Builder::new()
        .backend(backend)
        .register_sockets(true)
        .build()
        .expect("a registering runtime");
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        for round in 0..50u8 {
            let message: Vec<u8> = (0..64).map(|at| at ^ round).collect();
            let (result, _) = client.write_all(message.clone()).await;
            result.unwrap();
            let (result, echoed) = timeout(
                crate::LIMIT,
                server.read_exact(Vec::with_capacity(message.len())),
            )
            .await
            .unwrap();
            result.unwrap();
            let (result, _) = server.write_all(echoed).await;
            result.unwrap();
            let (result, back) = timeout(
                crate::LIMIT,
                client.read_exact(Vec::with_capacity(message.len())),
            )
            .await
            .unwrap();
            result.unwrap();
            assert_eq!(back, message, "round {round}");
        }
        drop(client);
        let (result, _) = timeout(crate::LIMIT, server.read(Vec::with_capacity(8)))
            .await
            .expect("the peer of a dropped stream reads its end");
        assert_eq!(result.unwrap(), 0);

        #[cfg(unix)]
        {
            let (mut a, mut b) = proactor::net::UnixStream::pair().unwrap();
            let (result, _) = a.write_all(b"unix".to_vec()).await;
            result.unwrap();
            let (result, bytes) = timeout(crate::LIMIT, b.read_exact(Vec::with_capacity(4)))
                .await
                .unwrap();
            result.unwrap();
            assert_eq!(bytes, b"unix");
            drop(a);
            let (result, _) = timeout(crate::LIMIT, b.read(Vec::with_capacity(8)))
                .await
                .unwrap();
            assert_eq!(result.unwrap(), 0);
        }
        // Let the closes reach the kernel before the runtime goes.
        proactor::time::sleep(Duration::from_millis(1)).await;
    });
}
