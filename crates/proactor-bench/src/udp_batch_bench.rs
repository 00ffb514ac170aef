//! udp-batch-bench: UDP datagrams over loopback, one at a time (`send_to`/`recv_from`)
//! against batched (`send_many_to`/`recv_many`), on io_uring or epoll. See README.md
//! ("Batched UDP").
//!
//! ```text
//! udp-batch-bench --mode one|many|ring [--backend io_uring|epoll] [--count N] [--batch B] [--size S]
//! ```
//!
//! One runtime thread, two sockets: each round sends B datagrams of S bytes from one socket
//! to the other, then receives them, until N went. `one` sends and receives each with its own
//! operation, one after another; `many` sends the round with one `send_many_to` and receives
//! it with `recv_many` (as often as it takes); `ring` keeps B `recv_from` and B `send_to`
//! operations in flight at once (B tasks each), so io_uring submits the round's ring entries
//! in one `io_uring_enter`. It prints the time taken; the figures in the README are system
//! calls (`strace -c -f`) and user instructions (callgrind) per datagram, as slopes between
//! two counts (`udp-batch-costs.sh`).

#[cfg(target_os = "linux")]
mod bench {
    use std::net::SocketAddr;
    use std::rc::Rc;
    use std::time::Instant;

    use proactor::net::{RecvMeta, UdpSocket};
    use proactor::task::JoinSet;
    use proactor::{Backend, Builder};

    const USAGE: &str = "\
udp-batch-bench: UDP over loopback, one datagram per operation against batches

USAGE:
    udp-batch-bench --mode one|many|ring [--backend io_uring|epoll] [--count N] [--batch B] [--size S]

    --mode M      one: send_to/recv_from each; many: send_many_to/recv_many per round;
                  ring: B send_to and B recv_from in flight at once
    --backend     io_uring (default) or epoll
    --count N     datagrams in all (default 100000)
    --batch B     datagrams per round (default 32)
    --size S      bytes per datagram (default 64)
";

    struct Options {
        mode: String,
        backend: Backend,
        count: usize,
        batch: usize,
        size: usize,
    }

    fn options() -> Result<Options, String> {
        let mut options = Options {
            mode: String::new(),
            backend: Backend::IoUring,
            count: 100_000,
            batch: 32,
            size: 64,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--mode" => options.mode = value()?,
                "--backend" => {
                    options.backend = match value()?.as_str() {
                        "io_uring" => Backend::IoUring,
                        "epoll" => Backend::Epoll,
                        other => return Err(format!("unknown backend {other}")),
                    }
                }
                "--count" => options.count = value()?.parse().map_err(|_| "bad --count")?,
                "--batch" => options.batch = value()?.parse().map_err(|_| "bad --batch")?,
                "--size" => options.size = value()?.parse().map_err(|_| "bad --size")?,
                "--help" | "-h" => return Err(String::new()),
                other => return Err(format!("unknown argument {other}")),
            }
        }
        if !matches!(options.mode.as_str(), "one" | "many" | "ring") {
            return Err("--mode one, many or ring".into());
        }
        if options.batch == 0 || options.size == 0 {
            return Err("--batch and --size must be at least 1".into());
        }
        Ok(options)
    }

    pub fn main() {
        let options = match options() {
            Ok(options) => options,
            Err(message) => {
                if !message.is_empty() {
                    eprintln!("udp-batch-bench: {message}\n");
                }
                eprint!("{USAGE}");
                std::process::exit(2);
            }
        };
        let runtime = Builder::new()
            .backend(options.backend)
            .build()
            .expect("a runtime on the chosen backend");
        let started = Instant::now();
        runtime.block_on(run(&options));
        let elapsed = started.elapsed();
        println!(
            "mode={} backend={:?} count={} batch={} size={} elapsed={:.3}s ns/datagram={:.0}",
            options.mode,
            options.backend,
            options.count,
            options.batch,
            options.size,
            elapsed.as_secs_f64(),
            elapsed.as_nanos() as f64 / options.count as f64
        );
    }

    async fn run(options: &Options) {
        let sender = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let receiver = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        // Room for a whole round and more in the receiver's queue.
        let target = receiver.local_addr().unwrap();
        let (batch, size) = (options.batch, options.size);
        let mut outgoing: Vec<(Vec<u8>, SocketAddr)> =
            (0..batch).map(|_| (vec![7u8; size], target)).collect();
        let mut incoming: Vec<Vec<u8>> = (0..batch).map(|_| Vec::with_capacity(size)).collect();
        let mut meta = vec![RecvMeta::default(); batch];
        let mut done = 0;
        while done < options.count {
            let round = batch.min(options.count - done);
            match options.mode.as_str() {
                "one" => {
                    for _ in 0..round {
                        let (sent, _) = sender.send_to(&SEND[..size], target).await;
                        sent.unwrap();
                        let buffer = incoming.pop().unwrap();
                        let (received, mut buffer) = receiver.recv_from(buffer).await;
                        assert_eq!(received.unwrap().0, size);
                        buffer.clear();
                        incoming.push(buffer);
                    }
                }
                "many" => {
                    outgoing.truncate(round);
                    let (sent, back) = sender.send_many_to(outgoing).await;
                    assert_eq!(sent.unwrap(), round);
                    outgoing = back;
                    let mut got = 0;
                    while got < round {
                        incoming.truncate(round - got);
                        let (received, mut back) = receiver.recv_many(incoming, &mut meta).await;
                        got += received.unwrap();
                        back.iter_mut().for_each(Vec::clear);
                        back.resize_with(batch, || Vec::with_capacity(size));
                        incoming = back;
                    }
                    outgoing.resize_with(batch, || (vec![7u8; size], target));
                }
                _ => {
                    let mut tasks = JoinSet::new();
                    for _ in 0..round {
                        let receiver = Rc::clone(&receiver);
                        tasks.spawn(async move {
                            let (received, _) = receiver.recv_from(Vec::with_capacity(size)).await;
                            received.unwrap().0
                        });
                    }
                    for _ in 0..round {
                        let sender = Rc::clone(&sender);
                        tasks.spawn(async move {
                            let (sent, _) = sender.send_to(&SEND[..size], target).await;
                            sent.unwrap()
                        });
                    }
                    let moved: usize = tasks.join_all().await.into_iter().sum();
                    assert_eq!(moved, 2 * round * size);
                }
            }
            done += round;
        }
    }

    /// The bytes every `one`/`ring` send takes its datagram from (static: no copy per send).
    static SEND: [u8; 65507] = [7u8; 65507];
}

#[cfg(target_os = "linux")]
fn main() {
    bench::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("udp-batch-bench runs on Linux (io_uring and epoll)");
}
