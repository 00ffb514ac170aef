//! Pooled reads through the runtime (`BufferPool`, `TcpStream::read_pooled`,
//! `TcpStream::pooled_reads`): bytes arrive in lent buffers, in order, none lost when reads
//! are cancelled or mixed with plain reads, and every buffer goes back to its pool.

use std::time::Duration;

use proactor::io::{AsyncRead, AsyncWrite, BufferPool};
use proactor::net::{TcpListener, TcpStream};
use proactor::time::timeout;
use proactor::{spawn, Runtime};

use crate::LIMIT;

fn pattern(from: usize, len: usize) -> Vec<u8> {
    (from..from + len).map(|i| (i % 251) as u8).collect()
}

fn check(received: usize, bytes: &[u8]) {
    for (i, &byte) in bytes.iter().enumerate() {
        assert_eq!(
            byte,
            ((received + i) % 251) as u8,
            "byte {} is wrong",
            received + i
        );
    }
}

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let client = spawn(async move { TcpStream::connect(address).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (client.await.unwrap(), server)
}

pub fn pooled_reads_echo_in_order(runtime: Runtime) {
    const TOTAL: usize = 1 << 20;
    runtime.block_on(async {
        let pool = BufferPool::new(4096, 64).unwrap();
        let (client, server) = pair().await;
        let echo = spawn({
            let pool = pool.clone();
            async move {
                let mut server = server;
                let mut reads = server.pooled_reads(&pool);
                let mut echoed = 0;
                while let Some(buffer) = reads.next().await {
                    let buffer = buffer.unwrap();
                    echoed += buffer.len();
                    let (result, _) = (&server).write_all(buffer.to_vec()).await;
                    result.unwrap();
                }
                drop(reads);
                AsyncWrite::shutdown(&mut server).await.unwrap();
                echoed
            }
        });
        let (mut reader, mut writer) = client.into_split();
        let sender = spawn(async move {
            let mut sent = 0;
            while sent < TOTAL {
                let chunk = pattern(sent, 10_000.min(TOTAL - sent));
                sent += chunk.len();
                writer.write_all(chunk).await.0.unwrap();
            }
            writer.shutdown().await.unwrap();
        });
        let mut received = 0;
        loop {
            let (result, data) = timeout(LIMIT, reader.read(Vec::with_capacity(65536)))
                .await
                .unwrap_or_else(|_| {
                    panic!("echo stalled at {received}, pool {}", pool.available())
                });
            let count = result.unwrap();
            if count == 0 {
                break;
            }
            check(received, &data);
            received += count;
        }
        assert_eq!(received, TOTAL);
        sender.await.unwrap();
        assert_eq!(echo.await.unwrap(), TOTAL);
        assert_eq!(pool.available(), 64, "every buffer back");
    });
}

pub fn no_bytes_lost_when_pooled_reads_are_cancelled(runtime: Runtime) {
    runtime.block_on(async {
        let pool = BufferPool::new(16 * 1024, 64).unwrap();
        lose_no_bytes(pool, false).await;
    });
}

/// As above, with a pool of one buffer that allocates when empty, and each buffer read held
/// until the next is: most reads run on allocated buffers, and are cancelled as often.
pub fn no_bytes_lost_when_allocating_pooled_reads_are_cancelled(runtime: Runtime) {
    runtime.block_on(async {
        let pool = BufferPool::new(16 * 1024, 1)
            .unwrap()
            .allocate_when_empty(true);
        lose_no_bytes(pool, true).await;
    });
}

/// 4 MiB through pooled reads (single and runs) cut short by tight deadlines, with plain
/// reads between them: every byte arrives once, in order. `hold`: each buffer read is kept
/// until the next one is.
async fn lose_no_bytes(pool: BufferPool, hold: bool) {
    const TOTAL: usize = 4 << 20;
    {
        let (mut client, mut server) = pair().await;
        let sender = spawn(async move {
            let mut sent = 0;
            while sent < TOTAL {
                let chunk = pattern(sent, 65_536.min(TOTAL - sent));
                sent += chunk.len();
                client.write_all(chunk).await.0.unwrap();
            }
            client
        });
        let mut received = 0;
        let (mut cancelled, mut round) = (0u32, 0u32);
        let mut held = None;
        while received < TOTAL {
            round += 1;
            let budget = Duration::from_micros(if round % 3 == 0 { 1 } else { 50 });
            match round % 4 {
                // A plain read between pooled ones: it gets what cancelled pooled reads kept.
                0 => {
                    let (result, data) = server.read(Vec::with_capacity(8192)).await;
                    let count = result.unwrap();
                    assert!(count > 0, "ended early at {received}");
                    check(received, &data);
                    received += count;
                }
                // A run of pooled reads, dropped after two buffers or at its deadline.
                1 => {
                    let mut reads = server.pooled_reads(&pool);
                    for _ in 0..2 {
                        match timeout(budget, reads.next()).await {
                            Err(_) => {
                                cancelled += 1;
                                break;
                            }
                            Ok(next) => {
                                let buffer = next.expect("not the end").unwrap();
                                check(received, &buffer);
                                received += buffer.len();
                                if hold {
                                    held = Some(buffer);
                                }
                            }
                        }
                    }
                }
                _ => match timeout(budget, server.read_pooled(&pool)).await {
                    Err(_) => cancelled += 1,
                    Ok(buffer) => {
                        let buffer = buffer.unwrap();
                        assert!(!buffer.is_empty(), "ended early at {received}");
                        check(received, &buffer);
                        received += buffer.len();
                        if hold {
                            held = Some(buffer);
                        }
                    }
                },
            }
        }
        assert_eq!(received, TOTAL);
        drop(held);
        drop(sender.await.unwrap());
        let end = timeout(LIMIT, server.read_pooled(&pool))
            .await
            .unwrap()
            .unwrap();
        assert!(end.is_empty(), "the end of the stream after every byte");
        assert!(cancelled > 0, "the race never happened");
        assert_eq!(pool.available(), pool.capacity(), "every buffer back");
    }
}

pub fn an_exhausted_pool_makes_reads_wait(runtime: Runtime) {
    runtime.block_on(async {
        let pool = BufferPool::new(4, 2).unwrap();
        let (mut client, server) = pair().await;
        client.write_all(pattern(0, 32)).await.0.unwrap();
        AsyncWrite::shutdown(&mut client).await.unwrap();
        let mut received = Vec::new();
        let mut reads = server.pooled_reads(&pool);
        let first = reads.next().await.unwrap().unwrap();
        let second = reads.next().await.unwrap().unwrap();
        assert_eq!(pool.available(), 0);
        // Every buffer held: the next read waits instead of failing.
        assert!(
            timeout(Duration::from_millis(50), reads.next())
                .await
                .is_err(),
            "a read completed with no buffer to lend"
        );
        received.extend_from_slice(&first);
        received.extend_from_slice(&second);
        drop((first, second));
        // Buffers back: the run goes on, and no byte was lost.
        while let Some(buffer) = timeout(LIMIT, reads.next()).await.expect("stalled") {
            received.extend_from_slice(&buffer.unwrap());
        }
        assert_eq!(received, pattern(0, 32));
        drop(reads);
        assert_eq!(pool.available(), 2);
        // A single pooled read waits the same way.
        let (mut client, server) = pair().await;
        client.write_all(pattern(0, 8)).await.0.unwrap();
        let held = (
            server.read_pooled(&pool).await.unwrap(),
            server.read_pooled(&pool).await.unwrap(),
        );
        assert_eq!(held.0.len() + held.1.len(), 8);
        client.write_all(pattern(8, 4)).await.0.unwrap();
        let waiting = spawn({
            let pool = pool.clone();
            async move { server.read_pooled(&pool).await.unwrap().to_vec() }
        });
        proactor::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "read without a buffer");
        drop(held);
        assert_eq!(
            timeout(LIMIT, waiting).await.unwrap().unwrap(),
            pattern(8, 4)
        );
    });
}

/// A pool that allocates when empty never makes a read wait for a buffer: with every pooled
/// buffer held, reads and runs of reads get buffers of their own, in order with the rest, and
/// the pool's own buffers all come back.
pub fn an_allocating_pool_lends_beyond_its_capacity(runtime: Runtime) {
    runtime.block_on(async {
        let pool = BufferPool::new(4, 2).unwrap().allocate_when_empty(true);
        let (mut client, server) = pair().await;
        client.write_all(pattern(0, 32)).await.0.unwrap();
        AsyncWrite::shutdown(&mut client).await.unwrap();
        let mut received = Vec::new();
        let mut held = Vec::new();
        {
            let mut reads = server.pooled_reads(&pool);
            // Every buffer held, pooled or allocated: the run goes on to the end regardless.
            while let Some(buffer) = timeout(LIMIT, reads.next()).await.expect("stalled") {
                let buffer = buffer.unwrap();
                assert!(buffer.len() <= 4, "a buffer of the pool's size");
                received.extend_from_slice(&buffer);
                held.push(buffer);
            }
        }
        assert_eq!(received, pattern(0, 32));
        assert!(held.len() >= 8, "{} buffers for 32 bytes of 4", held.len());
        assert_eq!(pool.available(), 0);
        drop(held);
        assert_eq!(
            pool.available(),
            2,
            "the pool's buffers back, the rest freed"
        );

        // Single reads, with both pooled buffers held.
        let (mut client, mut server) = pair().await;
        client.write_all(pattern(0, 8)).await.0.unwrap();
        let first = timeout(LIMIT, server.read_pooled(&pool))
            .await
            .unwrap()
            .unwrap();
        let second = timeout(LIMIT, server.read_pooled(&pool))
            .await
            .unwrap()
            .unwrap();
        client.write_all(pattern(8, 4)).await.0.unwrap();
        let third = timeout(LIMIT, server.read_pooled(&pool))
            .await
            .expect("no wait for a buffer")
            .unwrap();
        let mut bytes = first.to_vec();
        bytes.extend_from_slice(&second);
        bytes.extend_from_slice(&third);
        assert_eq!(bytes, pattern(0, 12));

        // A read into an allocated buffer dropped in flight keeps what it got for the next.
        let waiting = timeout(Duration::from_millis(20), server.read_pooled(&pool)).await;
        assert!(waiting.is_err(), "nothing was sent");
        client.write_all(pattern(12, 3)).await.0.unwrap();
        let (result, rest) = timeout(LIMIT, server.read(Vec::with_capacity(16)))
            .await
            .unwrap();
        assert_eq!(result.unwrap(), 3);
        assert_eq!(rest, pattern(12, 3));
        drop((first, second, third));
        assert_eq!(pool.available(), 2);
    });
}
