//! `TcpListener::incoming`: connections from one multishot accept, served as they come;
//! dropped, what it accepted and nobody took is closed, and the rest waits in the backlog.

use std::collections::HashSet;
use std::time::Duration;

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::net::{TcpListener, TcpStream};
use proactor::time::timeout;
use proactor::{spawn, Runtime};

use crate::LIMIT;

pub fn incoming_serves_each_connection(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let clients = spawn(async move {
            let mut peers = Vec::new();
            for round in 0..20u8 {
                let mut client = TcpStream::connect(address).await.unwrap();
                peers.push(client.local_addr().unwrap());
                client.write_all(vec![round; 3]).await.0.unwrap();
                let (result, echoed) = client.read_exact(Vec::with_capacity(3)).await;
                result.unwrap();
                assert_eq!(echoed, [round; 3]);
            }
            peers
        });
        let mut incoming = listener.incoming();
        let mut seen = Vec::new();
        for _ in 0..20 {
            let mut stream = timeout(LIMIT, incoming.next()).await.unwrap().unwrap();
            seen.push(stream.peer_addr().unwrap());
            drop(spawn(async move {
                let (result, message) = stream.read_exact(Vec::with_capacity(3)).await;
                result.unwrap();
                stream.write_all(message).await.0.unwrap();
            }));
        }
        let peers = timeout(LIMIT, clients).await.unwrap().unwrap();
        assert_eq!(seen, peers, "in the order they connected");
    });
}

pub fn dropping_incoming_closes_what_it_accepted(runtime: Runtime) {
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut incoming = listener.incoming();
        let first = TcpStream::connect(address).await.unwrap();
        let taken = timeout(LIMIT, incoming.next()).await.unwrap().unwrap();
        assert_eq!(taken.peer_addr().unwrap(), first.local_addr().unwrap());
        // Connections that come while nobody takes them: accepted (or not) meanwhile.
        let mut clients = Vec::new();
        for _ in 0..5 {
            clients.push(TcpStream::connect(address).await.unwrap());
        }
        proactor::time::sleep(Duration::from_millis(50)).await;
        drop(incoming);
        // Each is either closed by the drop (its client reads the end) or still in the
        // backlog (a plain accept takes it): none is lost, none left open unseen.
        let mut closed = 0;
        let mut waiting = HashSet::new();
        for client in &mut clients {
            match timeout(Duration::from_millis(500), client.read(vec![0u8; 1])).await {
                Ok((result, _)) => {
                    assert_eq!(result.unwrap_or(0), 0, "the server side sent nothing");
                    closed += 1;
                }
                Err(_) => {
                    waiting.insert(client.local_addr().unwrap());
                }
            }
        }
        for _ in 0..waiting.len() {
            let (stream, peer) = timeout(LIMIT, listener.accept()).await.unwrap().unwrap();
            assert!(waiting.remove(&peer), "{peer} was accepted before");
            drop(stream);
        }
        assert!(waiting.is_empty());
        eprintln!("{closed} closed by the drop, the rest accepted after it");
        drop(taken);
    });
}

/// `UnixListener::incoming`: each connection, in turn, carries its own bytes; dropped, it
/// closes what it accepted and nobody took.
#[cfg(unix)]
pub fn unix_incoming_serves_each_connection(runtime: Runtime) {
    use proactor::net::{UnixListener, UnixStream};
    let dir = std::env::temp_dir().join(format!(
        "proactor-unix-incoming-{}-{:?}",
        std::process::id(),
        runtime.backend()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("listener.sock");
    let _ = std::fs::remove_file(&path);
    runtime.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let mut incoming = listener.incoming();
        for round in 0..10u8 {
            let mut client = UnixStream::connect(&path).await.unwrap();
            client.write_all(vec![round; 4]).await.0.unwrap();
            let mut stream = timeout(LIMIT, incoming.next()).await.unwrap().unwrap();
            let (result, message) = timeout(LIMIT, stream.read_exact(Vec::with_capacity(4)))
                .await
                .unwrap();
            result.unwrap();
            assert_eq!(message, [round; 4]);
        }
        // Accepted while nobody takes it, then dropped with the run: its client reads the end.
        let mut late = UnixStream::connect(&path).await.unwrap();
        proactor::time::sleep(Duration::from_millis(50)).await;
        drop(incoming);
        let waited = timeout(Duration::from_millis(500), late.read(vec![0u8; 1])).await;
        match waited {
            Ok((result, _)) => assert_eq!(result.unwrap_or(0), 0),
            // Still in the backlog: a plain accept takes it.
            Err(_) => drop(timeout(LIMIT, listener.accept()).await.unwrap().unwrap()),
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
