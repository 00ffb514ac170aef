//! echo-bench: a TCP echo ping-pong benchmark of proactor (io_uring and epoll) against tokio,
//! compio, monoio and hand-written raw io_uring loops. Each server runs as its own process
//! (`echo-bench server --kind K`), on one thread pinned to CPU 0; the client (one thread, a
//! raw io_uring ring) runs on CPU 1. See README.md ("TCP echo ping-pong") for how to run it.

#[cfg(target_os = "linux")]
mod echo;
#[cfg(target_os = "linux")]
mod echo_connection;

#[cfg(target_os = "linux")]
fn main() {
    use echo::cli::{self, Command};
    use echo::server::Kind;

    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("echo-bench: {error} (--help for usage)");
            std::process::exit(2);
        }
    };
    let result = match command {
        Command::Help => {
            print!("{}", cli::USAGE);
            for kind in Kind::ALL {
                println!("    {:<18} {}", kind.name(), kind.describe());
            }
            Ok(())
        }
        Command::Bench(options) => echo::bench::run(&options),
        Command::Server(options) => echo::server::run(&options),
        Command::Client(options, cpu) => run_client(&options, cpu),
    };
    if let Err(error) = result {
        eprintln!("echo-bench: {error}");
        std::process::exit(1);
    }
}

/// `echo-bench client`: one client run, its result on stdout.
#[cfg(target_os = "linux")]
fn run_client(options: &echo::client::ClientOptions, cpu: usize) -> std::io::Result<()> {
    echo::sys::raise_nofile();
    echo::sys::pin_to(cpu)?;
    let result = echo::client::run(options, &mut |_| {})?;
    println!(
        "round_trips {} seconds {:.3} per_second {:.0} p50_us {:.1} p99_us {:.1}",
        result.round_trips,
        result.elapsed.as_secs_f64(),
        result.round_trips as f64 / result.elapsed.as_secs_f64(),
        result.histogram.quantile(0.5) as f64 / 1000.0,
        result.histogram.quantile(0.99) as f64 / 1000.0,
    );
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("echo-bench compares io_uring servers and runs on Linux only");
    std::process::exit(1);
}
