//! file-bench: page-cache file reads through proactor's user-facing `fs::File::read_at`
//! (io_uring, and epoll with the thread pool) against `tokio::fs`, compio, monoio, a raw
//! `io-uring` loop and a plain `pread` loop, in one run, with interleaved rounds.
//!
//! - [`data`]: the test file, the offsets, the per-read check, page-aligned buffers;
//! - [`runtimes`]: proactor, tokio, compio and monoio (one task per read in flight);
//! - [`raw`]: the raw ring and `pread`;
//! - [`harness`]: rounds, timing, watchdog, the tables; [`cli`]: options.

pub mod cli;
pub mod data;
pub mod harness;
mod raw;
mod runtimes;

use data::Workload;

/// The I/O paths each workload runs through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    ProactorUring,
    ProactorEpoll,
    Tokio,
    Compio,
    Monoio,
    RawUring,
    StdPread,
}

impl Path {
    pub const ALL: [Path; 7] = [
        Path::ProactorUring,
        Path::ProactorEpoll,
        Path::Tokio,
        Path::Compio,
        Path::Monoio,
        Path::RawUring,
        Path::StdPread,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Path::ProactorUring => "proactor-uring",
            Path::ProactorEpoll => "proactor-epoll",
            Path::Tokio => "tokio",
            Path::Compio => "compio",
            Path::Monoio => "monoio",
            Path::RawUring => "raw-uring",
            Path::StdPread => "std-pread",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Path::ProactorUring => "proactor::fs::File::read_at, io_uring",
            Path::ProactorEpoll => "proactor::fs::File::read_at, epoll + thread pool",
            Path::Tokio => "tokio::fs::File seek + read (blocking pool)",
            Path::Compio => "compio::fs::File::read_at (io_uring)",
            Path::Monoio => "monoio::fs::File::read_at (io_uring)",
            Path::RawUring => "raw io-uring crate loop",
            Path::StdPread => "std FileExt::read_at loop",
        }
    }
}

/// One thing measured: a workload through one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub workload: Workload,
    pub path: Path,
}

impl Variant {
    /// Every variant, in the order a round starts from.
    pub fn all() -> Vec<Variant> {
        Workload::ALL
            .iter()
            .flat_map(|&workload| {
                Path::ALL
                    .iter()
                    .map(move |&path| Variant { workload, path })
            })
            .collect()
    }

    /// `rand-proactor-uring`, `seq-std-pread`, …: the name `--only` takes.
    pub fn name(self) -> String {
        format!("{}-{}", self.workload.prefix(), self.path.name())
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::all()
            .into_iter()
            .find(|variant| variant.name() == name)
    }
}
