//! sendzc-bench: the sender's CPU time per GiB sent over loopback TCP, `Op::Send` against
//! `Op::SendZc` (io_uring's `SEND_ZC`), at several send sizes. See README.md ("Zero-copy
//! sends").
//!
//! ```text
//! sendzc-bench [--gib G] [--sizes 4k,16k,64k,1m] [--runs R] [--depth D]
//! ```
//!
//! One connection over loopback: the sender is a driver on io_uring keeping D sends of one
//! size in flight (each resubmitted with its own buffer as it completes) until G GiB went;
//! the receiver, a plain blocking `read` loop on another thread, discards them. The figure
//! is the sending thread's user + system CPU time (`getrusage(RUSAGE_THREAD)`) per GiB,
//! median of R runs, the two kinds interleaved. On loopback the sending thread also runs
//! the receive side of TCP (the packet is delivered in the sender's context), so its system
//! time covers both ends' protocol work, not the receiver's copy to user space.

#[cfg(target_os = "linux")]
mod bench {
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    use proactor_driver::{Backend, Buffer, Driver, Op};

    const USAGE: &str = "\
sendzc-bench: sender CPU per GiB over loopback TCP, SEND against SEND_ZC

USAGE:
    sendzc-bench [--gib G] [--sizes S[,S..]] [--runs R] [--depth D]

    --gib G      GiB sent per run (default 2)
    --sizes S    send sizes, with k/m suffixes (default 4k,16k,64k,1m)
    --runs R     runs per kind and size, interleaved (default 5)
    --depth D    sends in flight at once (default 1)
";

    struct Options {
        bytes: u64,
        sizes: Vec<usize>,
        runs: usize,
        depth: usize,
    }

    fn parse_size(text: &str) -> Option<usize> {
        let text = text.trim().to_ascii_lowercase();
        let (digits, unit) = match text.strip_suffix('k') {
            Some(digits) => (digits, 1 << 10),
            None => match text.strip_suffix('m') {
                Some(digits) => (digits, 1 << 20),
                None => (text.as_str(), 1),
            },
        };
        digits.parse::<usize>().ok().map(|count| count * unit)
    }

    fn options() -> Result<Options, String> {
        let mut options = Options {
            bytes: 2 << 30,
            sizes: vec![4 << 10, 16 << 10, 64 << 10, 1 << 20],
            runs: 5,
            depth: 1,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--gib" => {
                    let gib: f64 = value()?.parse().map_err(|_| "bad --gib")?;
                    options.bytes = (gib * (1u64 << 30) as f64) as u64;
                }
                "--sizes" => {
                    options.sizes = value()?
                        .split(',')
                        .map(|size| parse_size(size).ok_or(format!("bad size {size}")))
                        .collect::<Result<_, _>>()?;
                }
                "--runs" => options.runs = value()?.parse().map_err(|_| "bad --runs")?,
                "--depth" => options.depth = value()?.parse().map_err(|_| "bad --depth")?,
                "--help" | "-h" => return Err(String::new()),
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(options)
    }

    /// The calling thread's user + system CPU time so far.
    fn thread_cpu() -> Duration {
        // SAFETY: rusage is plain integers; all zeroes is valid.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `usage` is a valid, writable rusage.
        if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } != 0 {
            return Duration::ZERO;
        }
        let time = |value: libc::timeval| {
            Duration::from_secs(value.tv_sec as u64) + Duration::from_micros(value.tv_usec as u64)
        };
        time(usage.ru_utime) + time(usage.ru_stime)
    }

    struct Run {
        cpu: Duration,
        wall: Duration,
        bytes: u64,
    }

    /// Sends `options.bytes` in sends of `size` over a fresh loopback connection.
    fn run(options: &Options, size: usize, zero_copy: bool) -> std::io::Result<Run> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let client = TcpStream::connect(listener.local_addr()?)?;
        let (mut server, _) = listener.accept()?;
        client.set_nodelay(true)?;
        let receiver = std::thread::spawn(move || {
            let mut sink = vec![0u8; 1 << 20];
            let mut total = 0u64;
            loop {
                match server.read(&mut sink) {
                    Ok(0) | Err(_) => return total,
                    Ok(count) => total += count as u64,
                }
            }
        });
        let mut driver = Driver::with_backend(Backend::IoUring)?;
        let fd = client.as_raw_fd();
        let op = |buf: Buffer| {
            if zero_copy {
                Op::SendZc { fd, buf, flags: 0 }
            } else {
                Op::Send { fd, buf, flags: 0 }
            }
        };
        let (start, cpu_start) = (Instant::now(), thread_cpu());
        let mut submitted = 0u64;
        let mut sent = 0u64;
        let mut in_flight = 0;
        for index in 0..options.depth {
            driver.submit(op(Buffer::from(vec![index as u8; size])));
            submitted += size as u64;
            in_flight += 1;
        }
        let mut completions = Vec::new();
        while in_flight > 0 {
            driver.poll(&mut completions, Some(Duration::from_secs(10)))?;
            for completion in completions.drain(..) {
                in_flight -= 1;
                sent += completion.result? as u64;
                let buf = completion.op.into_buffer().expect("a send's buffer");
                if submitted < options.bytes {
                    driver.submit(op(buf));
                    submitted += size as u64;
                    in_flight += 1;
                }
            }
        }
        let (cpu, wall) = (thread_cpu() - cpu_start, start.elapsed());
        drop(driver);
        drop(client);
        let received = receiver.join().expect("receiver");
        assert_eq!(received, sent, "the receiver got every byte sent");
        Ok(Run {
            cpu,
            wall,
            bytes: sent,
        })
    }

    fn median(values: &mut [f64]) -> f64 {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    pub fn main() -> i32 {
        let options = match options() {
            Ok(options) => options,
            Err(message) => {
                if !message.is_empty() {
                    eprintln!("sendzc-bench: {message}");
                }
                eprint!("{USAGE}");
                return 2;
            }
        };
        println!(
            "kernel {}, {} GiB per run, depth {}, median of {} runs",
            crate::os::kernel_release(),
            options.bytes as f64 / (1u64 << 30) as f64,
            options.depth,
            options.runs
        );
        println!(
            "| size | SEND CPU s/GiB | SEND_ZC CPU s/GiB | ZC/SEND | SEND GiB/s | SEND_ZC GiB/s |"
        );
        println!("|---:|---:|---:|---:|---:|---:|");
        for &size in &options.sizes {
            // [kind][run]: CPU seconds per GiB, and GiB per second.
            let mut cpu = [Vec::new(), Vec::new()];
            let mut rate = [Vec::new(), Vec::new()];
            for _ in 0..options.runs {
                for (kind, zero_copy) in [false, true].into_iter().enumerate() {
                    let result = match run(&options, size, zero_copy) {
                        Ok(result) => result,
                        Err(error) => {
                            eprintln!("sendzc-bench: size {size}, zero copy {zero_copy}: {error}");
                            return 1;
                        }
                    };
                    let gib = result.bytes as f64 / (1u64 << 30) as f64;
                    cpu[kind].push(result.cpu.as_secs_f64() / gib);
                    rate[kind].push(gib / result.wall.as_secs_f64());
                }
            }
            let [cpu_send, cpu_zc] = cpu.map(|mut values| median(&mut values));
            let [rate_send, rate_zc] = rate.map(|mut values| median(&mut values));
            let label = if size >= 1 << 20 {
                format!("{} MiB", size >> 20)
            } else {
                format!("{} KiB", size >> 10)
            };
            println!(
                "| {label} | {cpu_send:.3} | {cpu_zc:.3} | {:.2}× | {rate_send:.2} | {rate_zc:.2} |",
                cpu_zc / cpu_send
            );
        }
        0
    }
}

#[cfg(target_os = "linux")]
#[allow(dead_code)] // Only the kernel release is used here.
mod os;

#[cfg(target_os = "linux")]
fn main() {
    std::process::exit(bench::main());
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("sendzc-bench runs on Linux only");
    std::process::exit(1);
}
