//! Running the variants in interleaved rounds, and the report.

use std::io::{self, Write as _};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proactor_driver::Backend;

use crate::cli::Options;
use crate::{nop, os, read, Variant, Workload};

/// One variant, set up and ready to run (setup is not measured).
pub trait Bench {
    /// Runs `ops` operations; all of them have completed, and been checked, when it returns.
    fn run(&mut self, ops: u64) -> io::Result<()>;
}

/// Bumped by every variant each time it waits for completions; the watchdog reads it.
static HEARTBEAT: AtomicU64 = AtomicU64::new(0);
/// 1 + the index in `Variant::ALL` of the variant running now, or 0 between runs.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Tells the watchdog the running variant is making progress. Cheap: a plain load and store,
/// no locked instruction, called once per wait for completions.
#[inline]
pub fn heartbeat() {
    HEARTBEAT.store(HEARTBEAT.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// Ends the process with a diagnostic if a variant stops making progress (an operation whose
/// completion never arrives would otherwise hang the run in `poll` forever).
fn start_watchdog(stall: Duration) {
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
                    let name = Variant::ALL
                        .get(running - 1)
                        .map_or("?", |variant| variant.name());
                    eprintln!(
                        "\ndriver-bench: {name} made no progress for {} s: a completion never \
                         arrived (lost wakeup?); giving up",
                        stall.as_secs()
                    );
                    std::process::exit(3);
                }
            }
        });
    if let Err(error) = spawned {
        eprintln!("driver-bench: no watchdog ({error}); a stalled variant would hang");
    }
}

fn set_running(variant: Option<Variant>) {
    let index = variant.map_or(0, |variant| {
        1 + Variant::ALL
            .iter()
            .position(|&other| other == variant)
            .unwrap_or(0)
    });
    RUNNING.store(index, Ordering::Relaxed);
}

/// One measured round of one variant.
#[derive(Debug, Clone, Copy)]
struct Sample {
    seconds: f64,
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
    allocations_per_op: f64,
    switches_per_op: f64,
}

pub fn run(options: &Options) -> io::Result<()> {
    let pinned = pin(options)?;
    if options.stall_secs > 0 {
        start_watchdog(Duration::from_secs(options.stall_secs));
    }
    let variants = options.variants();
    print_header(options, pinned);

    let needs_file = variants.iter().any(|v| v.workload() == Workload::Read);
    let file = if needs_file {
        eprintln!(
            "creating a {} MiB file in {} and reading it into the page cache...",
            options.file_mib,
            options.dir.display()
        );
        Some(read::TestFile::create(&options.dir, options.file_mib)?)
    } else {
        None
    };

    let mut benches = Vec::new();
    for &variant in &variants {
        let bench =
            make(variant, options, file.as_ref()).map_err(|error| context(variant, error))?;
        benches.push((variant, bench));
    }

    if options.warmup > 0 {
        eprintln!("warming up ({} ops per variant)...", options.warmup);
        for (variant, bench) in &mut benches {
            set_running(Some(*variant));
            bench
                .run(options.warmup)
                .map_err(|error| context(*variant, error))?;
        }
        set_running(None);
    }

    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); benches.len()];
    for round in 1..=options.rounds {
        eprint!("round {round}/{}:", options.rounds);
        for (index, (variant, bench)) in benches.iter_mut().enumerate() {
            let ops = ops_for(*variant, options);
            set_running(Some(*variant));
            let sample = measure(bench.as_mut(), ops).map_err(|error| context(*variant, error))?;
            set_running(None);
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
        .map(|(&variant, samples)| summarize(variant, ops_for(variant, options), samples))
        .collect();
    print_table(&summaries);
    Ok(())
}

fn context(variant: Variant, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", variant.name()))
}

fn ops_for(variant: Variant, options: &Options) -> u64 {
    match variant.workload() {
        Workload::Nop => options.nop_ops,
        Workload::Read => options.read_ops,
    }
}

fn make<'a>(
    variant: Variant,
    options: &Options,
    file: Option<&'a read::TestFile>,
) -> io::Result<Box<dyn Bench + 'a>> {
    let file = || file.ok_or_else(|| io::Error::other("read variants need the test file"));
    let read = |file: &'a read::TestFile| read::Params {
        file,
        depth: options.depth,
        vec_buffers: options.vec_buffers,
    };
    Ok(match variant {
        Variant::NopDriverUring => Box::new(nop::DriverNop::new(Backend::IoUring, options.batch)?),
        Variant::NopDriverEpoll => Box::new(nop::DriverNop::new(Backend::Epoll, options.batch)?),
        Variant::NopRawUring => Box::new(nop::RawNop::new(options.batch)?),
        Variant::ReadDriverUring => {
            Box::new(read::DriverRead::new(Backend::IoUring, read(file()?))?)
        }
        Variant::ReadDriverEpoll => Box::new(read::DriverRead::new(Backend::Epoll, read(file()?))?),
        Variant::ReadRawUring => Box::new(read::RawRead::new(read(file()?))?),
        Variant::ReadStdPread => Box::new(read::StdRead::new(read(file()?))),
    })
}

fn measure(bench: &mut dyn Bench, ops: u64) -> io::Result<Sample> {
    let allocations = os::allocations();
    let switches = os::context_switches();
    let start = Instant::now();
    bench.run(ops)?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(Sample {
        seconds,
        allocations: os::allocations() - allocations,
        context_switches: os::context_switches() - switches,
    })
}

fn summarize(variant: Variant, ops: u64, samples: &[Sample]) -> Summary {
    let mut rates: Vec<f64> = samples.iter().map(|s| ops as f64 / s.seconds).collect();
    rates.sort_by(f64::total_cmp);
    let total_ops = (ops * samples.len() as u64).max(1) as f64;
    Summary {
        variant,
        ops,
        median: median(&rates),
        min: rates.first().copied().unwrap_or(0.0),
        max: rates.last().copied().unwrap_or(0.0),
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
    println!("# proactor driver-bench");
    println!();
    println!("- kernel {}, CPU {}", os::kernel_release(), os::cpu_model());
    match pinned {
        Some(cpu) => println!(
            "- pinned to CPU {cpu} (every thread, the epoll backend's pool threads included)"
        ),
        None => println!("- not pinned"),
    }
    println!(
        "- {} rounds (median reported), interleaved; warmup {} ops per variant",
        options.rounds, options.warmup
    );
    println!(
        "- NOP: {} ops per round, batches of {}; read: {} ops per round, {} in flight, \
         4 KiB at random 4 KiB-aligned offsets of a {} MiB file in the page cache, {} buffers",
        options.nop_ops,
        options.batch,
        options.read_ops,
        options.depth,
        options.file_mib,
        if options.vec_buffers {
            "Vec<u8> (spare capacity, 16-byte aligned by malloc)"
        } else {
            "page-aligned Box<[u8]> view"
        }
    );
    println!(
        "- proactor-driver value sizes: Op {} bytes, Completion {} bytes, Buffer {} bytes",
        std::mem::size_of::<proactor_driver::Op>(),
        std::mem::size_of::<proactor_driver::Completion>(),
        std::mem::size_of::<proactor_driver::Buffer>()
    );
    println!();
}

fn print_table(summaries: &[Summary]) {
    println!(
        "| variant | path | ops/round | median ops/s | ns/op | min … max ops/s | allocs/op | ctx switches/op | vs raw io_uring |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for summary in summaries {
        let baseline = summaries
            .iter()
            .find(|other| other.variant == summary.variant.baseline());
        let ratio = match baseline {
            Some(baseline) if baseline.median > 0.0 => {
                format!("{:.2}×", summary.median / baseline.median)
            }
            _ => "—".into(),
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.1} | {:.0} … {:.0} | {:.3} | {:.3} | {} |",
            summary.variant.name(),
            summary.variant.describe(),
            summary.ops,
            summary.median,
            1e9 / summary.median,
            summary.min,
            summary.max,
            summary.allocations_per_op,
            summary.switches_per_op,
            ratio
        );
    }
    let ratio = |driver: Variant, raw: Variant| {
        let find = |v: Variant| summaries.iter().find(|s| s.variant == v);
        match (find(driver), find(raw)) {
            (Some(driver), Some(raw)) if raw.median > 0.0 => Some(driver.median / raw.median),
            _ => None,
        }
    };
    let checks = [
        ("NOP", ratio(Variant::NopDriverUring, Variant::NopRawUring)),
        (
            "read",
            ratio(Variant::ReadDriverUring, Variant::ReadRawUring),
        ),
    ];
    if checks.iter().any(|(_, ratio)| ratio.is_some()) {
        println!();
        for (name, ratio) in checks {
            if let Some(ratio) = ratio {
                println!(
                    "- {name}: driver on io_uring runs at {ratio:.2}× the raw loop (target ≥ 0.80×): {}",
                    if ratio >= 0.8 { "met" } else { "NOT met" }
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), 3.0);
        assert_eq!(median(&[]), 0.0);
    }
}
