//! Running the variants in interleaved rounds, and the report.

use std::io::{self, Write as _};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proactor::Backend;

use super::cli::Options;
use super::data::{Shape, TestFile, Workload};
use super::{raw, runtimes, Path, Variant};
use crate::os;

/// One variant, set up and ready to run (setup is not measured).
pub trait Bench {
    /// Runs `ops` reads; all of them have completed, and been checked, when it returns.
    fn run(&mut self, ops: u64) -> io::Result<()>;
}

/// Bumped by every variant after each checked read; the watchdog reads it.
static HEARTBEAT: AtomicU64 = AtomicU64::new(0);
/// 1 + the index of the running variant in the run's list, or 0 between runs.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Tells the watchdog the running variant is making progress. Cheap: a plain load and store,
/// no locked instruction (every variant calls it from the thread that checks its reads).
#[inline]
pub fn heartbeat() {
    HEARTBEAT.store(HEARTBEAT.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// Ends the process with a diagnostic if a variant stops making progress (a read whose
/// completion never arrives would otherwise hang the run forever).
fn start_watchdog(stall: Duration, names: Vec<String>) {
    let spawned = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let mut last = (HEARTBEAT.load(Ordering::Relaxed), Instant::now());
            loop {
                std::thread::sleep(Duration::from_millis(250));
                let beat = HEARTBEAT.load(Ordering::Relaxed);
                let running = RUNNING.load(Ordering::Relaxed);
                if beat != last.0 || running == 0 {
                    last = (beat, Instant::now());
                    continue;
                }
                if last.1.elapsed() >= stall {
                    let name = names.get(running - 1).map_or("?", String::as_str);
                    eprintln!(
                        "\nfile-bench: {name} made no progress for {} s: a read never \
                         completed; giving up",
                        stall.as_secs()
                    );
                    std::process::exit(3);
                }
            }
        });
    if let Err(error) = spawned {
        eprintln!("file-bench: no watchdog ({error}); a stalled variant would hang");
    }
}

/// One measured round of one variant.
#[derive(Debug, Clone, Copy)]
struct Sample {
    seconds: f64,
    cpu_seconds: f64,
    allocations: u64,
    context_switches: u64,
}

/// A variant's figures over all rounds.
struct Summary {
    variant: Variant,
    ops: u64,
    median: f64,
    min: f64,
    max: f64,
    cpu_ns_per_op: f64,
    allocations_per_op: f64,
    switches_per_op: f64,
}

pub fn run(options: &Options) -> io::Result<()> {
    let pinned = pin(options)?;
    let variants = options.variants();
    if options.stall_secs > 0 {
        let names = variants.iter().map(|variant| variant.name()).collect();
        start_watchdog(Duration::from_secs(options.stall_secs), names);
    }
    print_header(options, pinned);

    eprintln!(
        "creating a {} MiB file in {} and reading it into the page cache...",
        options.file_mib,
        options.dir.display()
    );
    let file = TestFile::create(&options.dir, options.file_mib)?;

    let mut benches = Vec::new();
    for &variant in &variants {
        let bench = make(variant, options, &file).map_err(|error| context(variant, error))?;
        benches.push((variant, bench));
    }

    eprintln!("warming up...");
    for (index, (variant, bench)) in benches.iter_mut().enumerate() {
        RUNNING.store(index + 1, Ordering::Relaxed);
        bench
            .run(options.warmup(variant.workload))
            .map_err(|error| context(*variant, error))?;
    }
    RUNNING.store(0, Ordering::Relaxed);

    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); benches.len()];
    for round in 0..options.rounds {
        eprint!("round {}/{}:", round + 1, options.rounds);
        // Each round starts one variant later, so no variant always runs right after the same
        // neighbour (a pool's threads winding down, a runtime's ring just used).
        for step in 0..benches.len() {
            let index = (round + step) % benches.len();
            let (variant, bench) = &mut benches[index];
            let ops = options.ops(variant.workload);
            RUNNING.store(index + 1, Ordering::Relaxed);
            let sample = measure(bench.as_mut(), ops).map_err(|error| context(*variant, error))?;
            RUNNING.store(0, Ordering::Relaxed);
            eprint!(" {} {:.0}/s", variant.name(), ops as f64 / sample.seconds);
            let _ = io::stderr().flush();
            samples[index].push(sample);
        }
        eprintln!();
    }
    drop(benches);

    let summaries: Vec<Summary> = variants
        .iter()
        .zip(&samples)
        .map(|(&variant, samples)| summarize(variant, options.ops(variant.workload), samples))
        .collect();
    for workload in Workload::ALL {
        print_table(workload, &summaries);
    }
    Ok(())
}

fn context(variant: Variant, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", variant.name()))
}

fn make<'a>(
    variant: Variant,
    options: &Options,
    file: &'a TestFile,
) -> io::Result<Box<dyn Bench + 'a>> {
    let shape = Shape {
        workload: variant.workload,
        block: variant.workload.block(),
        depth: options.depth(variant.workload),
        file_bytes: file.bytes(),
    };
    Ok(match variant.path {
        Path::ProactorUring => {
            Box::new(runtimes::ProactorRead::new(Backend::IoUring, shape, file)?)
        }
        Path::ProactorEpoll => Box::new(runtimes::ProactorRead::new(Backend::Epoll, shape, file)?),
        Path::Tokio => Box::new(runtimes::TokioRead::new(shape, file)?),
        Path::Compio => Box::new(runtimes::CompioRead::new(shape, file)?),
        Path::Monoio => Box::new(runtimes::MonoioRead::new(shape, file)?),
        Path::RawUring => Box::new(raw::RawRead::new(shape, file)?),
        Path::StdPread => Box::new(raw::StdRead::new(shape, file)),
    })
}

/// User + system CPU time of every thread of the process so far, in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: rusage is plain integers; all zeroes is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn measure(bench: &mut dyn Bench, ops: u64) -> io::Result<Sample> {
    let allocations = os::allocations();
    let switches = os::context_switches();
    let cpu = cpu_seconds();
    let start = Instant::now();
    bench.run(ops)?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(Sample {
        seconds,
        cpu_seconds: cpu_seconds() - cpu,
        allocations: os::allocations() - allocations,
        context_switches: os::context_switches() - switches,
    })
}

fn summarize(variant: Variant, ops: u64, samples: &[Sample]) -> Summary {
    let mut rates: Vec<f64> = samples.iter().map(|s| ops as f64 / s.seconds).collect();
    rates.sort_by(f64::total_cmp);
    let mut cpu: Vec<f64> = samples
        .iter()
        .map(|s| s.cpu_seconds * 1e9 / ops.max(1) as f64)
        .collect();
    cpu.sort_by(f64::total_cmp);
    let total_ops = (ops * samples.len() as u64).max(1) as f64;
    Summary {
        variant,
        ops,
        median: median(&rates),
        min: rates.first().copied().unwrap_or(0.0),
        max: rates.last().copied().unwrap_or(0.0),
        cpu_ns_per_op: median(&cpu),
        allocations_per_op: samples.iter().map(|s| s.allocations).sum::<u64>() as f64 / total_ops,
        switches_per_op: samples.iter().map(|s| s.context_switches).sum::<u64>() as f64 / total_ops,
    }
}

/// Median of sorted values (the mean of the middle two for an even count).
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Pins the process as asked; returns the CPU, if pinned.
fn pin(options: &Options) -> io::Result<Option<usize>> {
    if !options.pin {
        return Ok(None);
    }
    let cpu = match options.cpu {
        Some(cpu) => cpu,
        None => match os::allowed_cpus()?.last() {
            Some(&cpu) => cpu,
            None => return Ok(None),
        },
    };
    os::pin_to(cpu)
        .map_err(|error| io::Error::new(error.kind(), format!("pinning to CPU {cpu}: {error}")))?;
    Ok(Some(cpu))
}

fn print_header(options: &Options, pinned: Option<usize>) {
    println!("# proactor file-bench");
    println!();
    println!("- kernel {}, CPU {}", os::kernel_release(), os::cpu_model());
    match pinned {
        Some(cpu) => println!(
            "- pinned to CPU {cpu} (every thread, the thread pools of proactor-epoll and \
             tokio included)"
        ),
        None => println!("- not pinned"),
    }
    println!(
        "- {} rounds (median reported), interleaved, each round starting one variant later",
        options.rounds
    );
    println!(
        "- {} MiB file in the page cache; rand: {} reads per round, 4 KiB at random 4 KiB-aligned \
         offsets, {} in flight; seq: {} reads per round, 1 MiB each, consecutive, {} in flight; \
         page-aligned buffers everywhere (tokio copies from its own buffer)",
        options.file_mib, options.rand_ops, options.depth, options.seq_ops, options.seq_depth
    );
    println!();
}

fn print_table(workload: Workload, summaries: &[Summary]) {
    let rows: Vec<&Summary> = summaries
        .iter()
        .filter(|summary| summary.variant.workload == workload)
        .collect();
    if rows.is_empty() {
        return;
    }
    let find = |path: Path| rows.iter().find(|summary| summary.variant.path == path);
    let ratio = |summary: &Summary, path: Path| match find(path) {
        Some(base) if base.median > 0.0 => format!("{:.2}×", summary.median / base.median),
        _ => "—".into(),
    };
    let block = workload.block() as f64;
    println!(
        "## {}",
        match workload {
            Workload::Random => "Random 4 KiB reads",
            Workload::Sequential => "Sequential 1 MiB reads",
        }
    );
    println!();
    println!(
        "| variant | path | reads/round | median reads/s | MiB/s | ns/read | min … max reads/s | CPU ns/read | allocs/read | ctx switches/read | vs std-pread | vs raw-uring |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for summary in &rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.1} | {:.0} … {:.0} | {:.0} | {:.3} | {:.3} | {} | {} |",
            summary.variant.name(),
            summary.variant.path.describe(),
            summary.ops,
            summary.median,
            summary.median * block / f64::from(1 << 20),
            1e9 / summary.median,
            summary.min,
            summary.max,
            summary.cpu_ns_per_op,
            summary.allocations_per_op,
            summary.switches_per_op,
            ratio(summary, Path::StdPread),
            ratio(summary, Path::RawUring),
        );
    }
    println!();
    // proactor against each peer, with the targets where it sets one.
    // (The 7× tokio target is the random workload's: with 1 MiB reads the kernel's copy
    // dominates every path.)
    let target = |path: Path| match path {
        Path::StdPread => Some(0.95),
        Path::Compio | Path::Monoio => Some(1.0),
        Path::Tokio if workload == Workload::Random => Some(7.0),
        _ => None,
    };
    for proactor in [Path::ProactorUring, Path::ProactorEpoll] {
        let Some(ours) = find(proactor) else { continue };
        let mut cells = Vec::new();
        for peer in [
            Path::StdPread,
            Path::RawUring,
            Path::Monoio,
            Path::Compio,
            Path::Tokio,
        ] {
            let Some(theirs) = find(peer) else { continue };
            if theirs.median <= 0.0 {
                continue;
            }
            let value = ours.median / theirs.median;
            let verdict = match target(peer) {
                Some(goal) if proactor == Path::ProactorUring => {
                    format!(
                        " (target ≥ {goal:.2}×: {})",
                        if value >= goal { "met" } else { "NOT met" }
                    )
                }
                _ => String::new(),
            };
            // Three decimals, so a ratio just under a target does not print as the target.
            cells.push(format!("{value:.3}× {}{verdict}", peer.name()));
        }
        if !cells.is_empty() {
            println!(
                "- {} {}: {}",
                workload.prefix(),
                proactor.name(),
                cells.join(", ")
            );
        }
    }
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), 3.0);
        assert_eq!(median(&[]), 0.0);
    }

    /// Every variant reads (and checks) the right bytes, both workloads, more reads than
    /// lanes and a remainder, in a thread that must finish in time instead of hanging.
    #[test]
    fn every_variant_reads_the_right_bytes() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let file = TestFile::create(&std::env::temp_dir(), 4).unwrap();
            let options = Options {
                depth: 8,
                seq_depth: 3,
                ..Options::default()
            };
            for variant in Variant::all() {
                let mut bench = make(variant, &options, &file)
                    .unwrap_or_else(|error| panic!("{}: {error}", variant.name()));
                for ops in [1, 101] {
                    bench
                        .run(ops)
                        .unwrap_or_else(|error| panic!("{}: {error}", variant.name()));
                }
            }
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(Duration::from_secs(120))
            .expect("the reads did not finish in 120 s (or failed: see the panic above)");
    }
}
