//! file-bench: page-cache file reads — random 4 KiB with 64 in flight, sequential 1 MiB —
//! through proactor's `fs::File::read_at` (io_uring, and epoll with the thread pool) against
//! `tokio::fs`, compio, monoio, a raw `io-uring` loop and a plain `pread` loop, in one run,
//! with interleaved rounds; medians and ratios. See README.md for how to run it.

#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

#[cfg(target_os = "linux")]
mod file;
#[cfg(target_os = "linux")]
mod os;
#[cfg(target_os = "linux")]
mod ring;

#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: os::CountingAlloc = os::CountingAlloc;

#[cfg(target_os = "linux")]
fn main() {
    use file::{cli, harness, Variant};

    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("file-bench: {error}");
            std::process::exit(2);
        }
    };
    let options = match command {
        cli::Command::Help => {
            print!("{}", cli::USAGE);
            for variant in Variant::all() {
                println!("    {:<22} {}", variant.name(), variant.path.describe());
            }
            return;
        }
        cli::Command::Run(options) => options,
    };
    if let Err(error) = harness::run(&options) {
        eprintln!("file-bench: {error}");
        std::process::exit(1);
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("file-bench compares against io_uring and runs on Linux only");
    std::process::exit(1);
}
