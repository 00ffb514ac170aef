//! driver-bench: measures proactor-driver against hand-written `io-uring` loops, in one run,
//! with interleaved rounds.
//!
//! Workloads (one module each):
//!
//! - [`nop`]: batches of NOPs submitted and then polled until all complete — the driver's
//!   own round-trip cost, with no I/O under it.
//! - [`read`]: 4 KiB reads at random page-aligned offsets of a file already in the page
//!   cache, with a fixed number in flight.
//!
//! Each workload runs through the driver on io_uring, the driver on epoll, and a raw
//! `io-uring` loop with the same batching (plus a plain `pread` loop for reads). Every round
//! runs every variant once, in turn, so drift in the machine's speed hits all of them alike;
//! the report gives each variant's median over the rounds. See README.md for how to run it.

#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

#[cfg(target_os = "linux")]
mod cli;
#[cfg(target_os = "linux")]
mod harness;
#[cfg(target_os = "linux")]
mod nop;
#[cfg(target_os = "linux")]
mod os;
#[cfg(target_os = "linux")]
mod read;
#[cfg(target_os = "linux")]
mod ring;

#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: os::CountingAlloc = os::CountingAlloc;

/// One thing measured: a workload through one I/O path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    NopDriverUring,
    NopDriverEpoll,
    NopRawUring,
    ReadDriverUring,
    ReadDriverEpoll,
    ReadRawUring,
    ReadStdPread,
}

/// The workloads, each compared against its raw io_uring loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Nop,
    Read,
}

impl Variant {
    /// Every variant, in the order a round runs them.
    pub const ALL: [Variant; 7] = [
        Variant::NopDriverUring,
        Variant::NopDriverEpoll,
        Variant::NopRawUring,
        Variant::ReadDriverUring,
        Variant::ReadDriverEpoll,
        Variant::ReadRawUring,
        Variant::ReadStdPread,
    ];

    /// The name used by `--only` and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Variant::NopDriverUring => "nop-driver-uring",
            Variant::NopDriverEpoll => "nop-driver-epoll",
            Variant::NopRawUring => "nop-raw-uring",
            Variant::ReadDriverUring => "read-driver-uring",
            Variant::ReadDriverEpoll => "read-driver-epoll",
            Variant::ReadRawUring => "read-raw-uring",
            Variant::ReadStdPread => "read-std-pread",
        }
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL
            .iter()
            .copied()
            .find(|variant| variant.name() == name)
    }

    /// What the variant runs through, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Variant::NopDriverUring | Variant::ReadDriverUring => "proactor-driver, io_uring",
            Variant::NopDriverEpoll => "proactor-driver, epoll",
            Variant::ReadDriverEpoll => "proactor-driver, epoll (thread pool)",
            Variant::NopRawUring | Variant::ReadRawUring => "raw io-uring crate loop",
            Variant::ReadStdPread => "std FileExt::read_at loop",
        }
    }

    pub fn workload(self) -> Workload {
        match self {
            Variant::NopDriverUring | Variant::NopDriverEpoll | Variant::NopRawUring => {
                Workload::Nop
            }
            Variant::ReadDriverUring
            | Variant::ReadDriverEpoll
            | Variant::ReadRawUring
            | Variant::ReadStdPread => Workload::Read,
        }
    }

    /// The variant this one's ratio is taken against.
    pub fn baseline(self) -> Variant {
        match self.workload() {
            Workload::Nop => Variant::NopRawUring,
            Workload::Read => Variant::ReadRawUring,
        }
    }
}

#[cfg(target_os = "linux")]
fn main() {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("driver-bench: {error}");
            std::process::exit(2);
        }
    };
    let options = match command {
        cli::Command::Help => {
            print!("{}", cli::USAGE);
            for variant in Variant::ALL {
                println!("    {:<20} {}", variant.name(), variant.describe());
            }
            return;
        }
        cli::Command::Run(options) => options,
    };
    if let Err(error) = harness::run(&options) {
        eprintln!("driver-bench: {error}");
        std::process::exit(1);
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("driver-bench compares against io_uring and runs on Linux only");
    std::process::exit(1);
}
