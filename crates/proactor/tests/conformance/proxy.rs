//! `io::copy_bidirectional` between real TCP connections: a proxy passes bytes both ways,
//! passes each end of stream through, and reports a reset as an error.

use std::time::Duration;

use proactor::io::{copy_bidirectional, AsyncRead, AsyncWrite};
use proactor::net::{TcpListener, TcpStream};
use proactor::{spawn, Runtime};

/// A proxy on a loopback port in front of `upstream`, for one connection; its result is
/// the proxy's.
async fn proxy_to(
    upstream: std::net::SocketAddr,
) -> (
    std::net::SocketAddr,
    proactor::JoinHandle<std::io::Result<(u64, u64)>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let proxy = spawn(async move {
        let (mut client, _) = listener.accept().await?;
        let mut server = TcpStream::connect(upstream).await?;
        copy_bidirectional(&mut client, &mut server).await
    });
    (address, proxy)
}

pub fn copy_bidirectional_proxies_both_ways(runtime: Runtime) {
    runtime.block_on(async {
        // An echo server that, at the end of its input, ends its output.
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_address = echo.local_addr().unwrap();
        spawn(async move {
            let (mut stream, _) = echo.accept().await.unwrap();
            let mut buffer = Vec::with_capacity(64 * 1024);
            loop {
                buffer.clear();
                let (result, back) = stream.read(buffer).await;
                buffer = back;
                if result.unwrap() == 0 {
                    break;
                }
                let (result, back) = stream.write_all(buffer).await;
                buffer = back;
                result.unwrap();
            }
            AsyncWrite::shutdown(&mut stream).await.unwrap();
        });
        let (address, proxy) = proxy_to(echo_address).await;
        let client = TcpStream::connect(address).await.unwrap();
        let sent: Vec<u8> = (0..1_000_000u32).map(|n| (n % 253) as u8).collect();
        let to_send = sent.clone();
        let (mut reader, mut writer) = client.into_split();
        let writing = spawn(async move {
            for chunk in to_send.chunks(50_000) {
                writer.write_all(chunk.to_vec()).await.0.unwrap();
            }
            AsyncWrite::shutdown(&mut writer).await.unwrap();
        });
        let (result, echoed) = reader.read_to_end(Vec::new()).await;
        result.unwrap();
        writing.await.unwrap();
        assert!(
            echoed == sent,
            "every byte back, in order ({} bytes)",
            echoed.len()
        );
        let (up, down) = proxy.await.unwrap().unwrap();
        assert_eq!((up, down), (1_000_000, 1_000_000));
    });
}

pub fn copy_bidirectional_reports_a_reset(runtime: Runtime) {
    runtime.block_on(async {
        // A server that resets its connection as soon as it has one.
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server_address = server.local_addr().unwrap();
        spawn(async move {
            let (stream, _) = server.accept().await.unwrap();
            stream.set_linger(Some(Duration::ZERO)).unwrap();
            proactor::time::sleep(Duration::from_millis(20)).await;
            drop(stream);
        });
        let (address, proxy) = proxy_to(server_address).await;
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(b"hello".to_vec()).await.0.unwrap();
        let outcome = proactor::time::timeout(Duration::from_secs(10), proxy)
            .await
            .expect("the proxy ended")
            .unwrap();
        // The reset reaches the proxy as an error, or (where the OS reports the reset as an
        // end of stream) the proxy ends with what it passed.
        match outcome {
            Err(error) => assert!(
                matches!(
                    error.kind(),
                    std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::BrokenPipe
                        | std::io::ErrorKind::ConnectionAborted
                ),
                "{error:?}"
            ),
            Ok((up, down)) => assert_eq!(down, 0, "nothing came from a reset server ({up} up)"),
        }
    });
}
