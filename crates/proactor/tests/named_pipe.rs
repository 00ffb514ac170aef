//! Windows named pipes through the runtime: byte and message mode, instances reused after a
//! disconnect, several clients on several instances, cancelled connects. Every wait is
//! bounded.
#![cfg(windows)]

use std::time::Duration;

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::time::timeout;
use proactor::windows::named_pipe::{ClientOptions, PipeMode, ServerOptions};
use proactor::Runtime;

const LIMIT: Duration = Duration::from_secs(10);

fn pipe_name(what: &str) -> String {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        r"\\.\pipe\proactor-runtime-{what}-{}-{stamp}",
        std::process::id()
    )
}

fn run<F: std::future::Future<Output = std::io::Result<()>>>(future: F) {
    Runtime::new()
        .unwrap()
        .block_on(async { timeout(LIMIT, future).await.expect("bounded").expect("ok") });
}

#[test]
fn bytes_both_ways_and_end_of_stream() {
    let name = pipe_name("bytes");
    run(async move {
        let mut server = ServerOptions::new().create(&name)?;
        let connecting = proactor::spawn({
            let name = name.clone();
            async move { ClientOptions::new().open(&name) }
        });
        server.connect().await?;
        let mut client = connecting.await.unwrap()?;
        let (written, _) = client.write(b"hello server".to_vec()).await;
        assert_eq!(written?, 12);
        let (read, buf) = server.read(Vec::with_capacity(64)).await;
        assert_eq!(&buf[..read?], b"hello server");
        // More than the pipe holds: a pipe write completes once all of it is taken, so the
        // reader runs alongside.
        let writer = proactor::spawn(async move {
            let (written, _) = server.write(vec![7u8; 300_000]).await;
            let written = written?;
            let (end, _) = server.read(Vec::with_capacity(8)).await;
            Ok::<_, std::io::Error>((written, end?))
        });
        let mut received = 0;
        while received < 300_000 {
            let (read, buf) = client.read(Vec::with_capacity(65_536)).await;
            let read = read?;
            assert!(read > 0 && buf[..read].iter().all(|&byte| byte == 7));
            received += read;
        }
        drop(client);
        let (written, end) = writer.await.unwrap()?;
        assert_eq!((written, received), (300_000, 300_000));
        assert_eq!(end, 0, "the client is gone: end of stream");
        Ok(())
    });
}

#[test]
fn messages_keep_their_boundaries() {
    let name = pipe_name("messages");
    run(async move {
        let mut server = ServerOptions::new()
            .pipe_mode(PipeMode::Message)
            .create(&name)?;
        let mut client = ClientOptions::new()
            .pipe_mode(PipeMode::Message)
            .open(&name)?;
        server.connect().await?;
        for message in [&b"one"[..], b"two two", b"three three three"] {
            let (written, _) = client.write(message.to_vec()).await;
            assert_eq!(written?, message.len());
        }
        let mut messages = Vec::new();
        for _ in 0..3 {
            let (read, buf) = server.read(Vec::with_capacity(64)).await;
            messages.push(buf[..read?].to_vec());
        }
        assert_eq!(
            messages,
            [
                b"one".to_vec(),
                b"two two".to_vec(),
                b"three three three".to_vec()
            ]
        );
        Ok(())
    });
}

#[test]
fn an_instance_serves_client_after_client() {
    let name = pipe_name("reuse");
    run(async move {
        let mut server = ServerOptions::new().max_instances(1).create(&name)?;
        for round in 0..3u8 {
            let connect = server.connect();
            let mut client = ClientOptions::new().open(&name)?;
            connect.await?;
            let (written, _) = client.write(vec![round; 3]).await;
            assert_eq!(written?, 3);
            let (read, buf) = server.read(Vec::with_capacity(8)).await;
            assert_eq!(&buf[..read?], &[round; 3]);
            // One instance only: a second client is turned away while this one is served.
            let busy = ClientOptions::new().open(&name).unwrap_err();
            assert_eq!(busy.raw_os_error(), Some(231), "ERROR_PIPE_BUSY");
            server.disconnect()?;
        }
        Ok(())
    });
}

#[test]
fn many_clients_on_many_instances() {
    let name = pipe_name("many");
    run(async move {
        const CLIENTS: usize = 8;
        let mut servers = Vec::new();
        for _ in 0..CLIENTS {
            servers.push(ServerOptions::new().create(&name)?);
        }
        let mut tasks = Vec::new();
        for server in servers {
            tasks.push(proactor::spawn(async move {
                let mut server = server;
                server.connect().await?;
                let (read, buf) = server.read(Vec::with_capacity(16)).await;
                let read = read?;
                let (written, _) = server.write(buf[..read].to_vec()).await;
                written.map(drop)
            }));
        }
        for client_number in 0..CLIENTS {
            let mut client = ClientOptions::new().open(&name)?;
            let message = format!("client {client_number}").into_bytes();
            let (written, _) = client.write(message.clone()).await;
            written?;
            let (read, buf) = client.read(Vec::with_capacity(16)).await;
            assert_eq!(&buf[..read?], &message[..]);
        }
        for task in tasks {
            task.await.unwrap()?;
        }
        Ok(())
    });
}

#[test]
fn a_cancelled_connect_leaves_the_instance_usable() {
    let name = pipe_name("cancel");
    run(async move {
        let mut server = ServerOptions::new().create(&name)?;
        assert!(timeout(Duration::from_millis(20), server.connect())
            .await
            .is_err());
        let mut client = ClientOptions::new().open(&name)?;
        server.connect().await?;
        let (written, _) = client.write(b"after".to_vec()).await;
        written?;
        let (read, buf) = server.read(Vec::with_capacity(8)).await;
        assert_eq!(&buf[..read?], b"after");
        Ok(())
    });
}

#[test]
fn bad_names() {
    run(async {
        let missing = ClientOptions::new().open(pipe_name("nobody")).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        let nul = ServerOptions::new()
            .create("\\\\.\\pipe\\a\0b")
            .unwrap_err();
        assert_eq!(nul.kind(), std::io::ErrorKind::InvalidInput);
        let zero = ServerOptions::new()
            .max_instances(0)
            .create(pipe_name("zero"))
            .unwrap_err();
        assert_eq!(zero.kind(), std::io::ErrorKind::InvalidInput);
        Ok(())
    });
}
