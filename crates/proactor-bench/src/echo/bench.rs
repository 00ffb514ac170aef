//! The orchestrator: for each run, each configuration and each server (the server order
//! rotates from run to run), start the server as its own process pinned to its core, run the
//! client on ours, sample both sides' scheduler counters at the window's edges, kill the
//! server. Then one markdown table of medians over the runs that were not starved.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::echo::client::{self, ClientOptions, Window};
use crate::echo::server::Kind;
use crate::echo::sys;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub runs: usize,
    pub seconds: f64,
    pub warmup: f64,
    pub kinds: Vec<Kind>,
    /// (connections, message bytes)
    pub configs: Vec<(usize, usize)>,
    pub server_cpu: usize,
    pub client_cpu: usize,
    /// A run is dropped when the client, the server or the two vCPUs lost more than this
    /// percentage of the window to waiting for a CPU (run-queue delay) or steal.
    pub max_wait_pct: f64,
    /// How many times a starved run is tried again (after a 1 s pause).
    pub retries: usize,
}

impl Default for BenchOptions {
    fn default() -> BenchOptions {
        BenchOptions {
            runs: 15,
            seconds: 2.0,
            warmup: 0.5,
            kinds: Kind::ALL.to_vec(),
            configs: vec![(100, 128), (1000, 1024)],
            server_cpu: 0,
            client_cpu: 1,
            max_wait_pct: 5.0,
            retries: 2,
        }
    }
}

/// One measured run of one server.
#[derive(Debug, Clone)]
struct Run {
    throughput: f64,
    p50_ns: u64,
    p99_ns: u64,
    server_cpu: f64,
    /// Server CPU time (user + kernel, all its threads) per round trip, ns.
    server_ns_per_rt: f64,
    server_wait: f64,
    client_cpu: f64,
    client_wait: f64,
    steal: f64,
    kept: bool,
}

/// A server process, killed (by its pid) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(kind: Kind, size: usize, cpu: usize) -> io::Result<Server> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["server", "--kind", kind.name(), "--addr", "127.0.0.1:0"])
        .args(["--size", &size.to_string(), "--cpu", &cpu.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|addr| addr.parse().ok());
    match addr {
        Some(addr) => Ok(Server { child, addr }),
        None => {
            let _ = child.kill();
            let status = child.wait()?;
            Err(io::Error::other(format!(
                "{} did not start ({status})",
                kind.name()
            )))
        }
    }
}

fn run_one(options: &BenchOptions, kind: Kind, conns: usize, size: usize) -> io::Result<Run> {
    let server = start_server(kind, size, options.server_cpu)?;
    let pid = server.child.id();
    let cpus = [options.server_cpu, options.client_cpu];
    let mut server_start = sys::Sched::default();
    let mut server_delta = sys::Sched::default();
    let mut steal_start = 0;
    let mut steal = 0;
    let client_options = ClientOptions {
        addr: server.addr,
        conns,
        size,
        warmup: Duration::from_secs_f64(options.warmup),
        duration: Duration::from_secs_f64(options.seconds),
        round_trips: None,
    };
    let result = client::run(&client_options, &mut |window| match window {
        Window::Start => {
            server_start = sys::process_sched(pid);
            steal_start = sys::steal_ns(&cpus);
        }
        Window::End => {
            server_delta = sys::process_sched(pid).since(server_start);
            steal = sys::steal_ns(&cpus).saturating_sub(steal_start);
        }
    })?;
    drop(server);
    let wall = result.elapsed.as_nanos().max(1) as f64;
    let mut run = Run {
        throughput: result.round_trips as f64 / result.elapsed.as_secs_f64(),
        p50_ns: result.histogram.quantile(0.50),
        p99_ns: result.histogram.quantile(0.99),
        server_cpu: server_delta.cpu_ns as f64 / wall,
        server_ns_per_rt: server_delta.cpu_ns as f64 / result.round_trips.max(1) as f64,
        server_wait: server_delta.wait_ns as f64 / wall,
        client_cpu: result.sched.cpu_ns as f64 / wall,
        client_wait: result.sched.wait_ns as f64 / wall,
        steal: steal as f64 / (2.0 * wall),
        kept: true,
    };
    let limit = options.max_wait_pct / 100.0;
    run.kept = run.server_wait <= limit && run.client_wait <= limit && run.steal <= limit;
    Ok(run)
}

fn report_run(round: usize, conns: usize, size: usize, kind: Kind, run: &Run) {
    eprintln!(
        "run {:>2} {:>4}x{:<5} {:<16} {:>10.0} rt/s  p50 {:>7.1} µs  p99 {:>7.1} µs  server cpu \
         {:>3.0}% ({:>5.0} ns/rt) wait {:>4.1}%  client cpu {:>3.0}% wait {:>4.1}%  steal \
         {:>4.1}%{}",
        round + 1,
        conns,
        size,
        kind.name(),
        run.throughput,
        run.p50_ns as f64 / 1000.0,
        run.p99_ns as f64 / 1000.0,
        run.server_cpu * 100.0,
        run.server_ns_per_rt,
        run.server_wait * 100.0,
        run.client_cpu * 100.0,
        run.client_wait * 100.0,
        run.steal * 100.0,
        if run.kept { "" } else { "  DROPPED (starved)" }
    );
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

struct Summary {
    kept: usize,
    total: usize,
    throughput: f64,
    min: f64,
    max: f64,
    p50_us: f64,
    p99_us: f64,
    server_cpu: f64,
    server_ns_per_rt: f64,
    client_cpu: f64,
}

fn summarize(runs: &[Run]) -> Option<Summary> {
    let kept: Vec<&Run> = runs.iter().filter(|run| run.kept).collect();
    if kept.is_empty() {
        return None;
    }
    let column = |f: &dyn Fn(&Run) -> f64| -> Vec<f64> { kept.iter().map(|run| f(run)).collect() };
    let mut throughput = column(&|run| run.throughput);
    Some(Summary {
        kept: kept.len(),
        total: runs.len(),
        throughput: median(&mut throughput),
        min: throughput.first().copied().unwrap_or(f64::NAN),
        max: throughput.last().copied().unwrap_or(f64::NAN),
        p50_us: median(&mut column(&|run| run.p50_ns as f64)) / 1000.0,
        p99_us: median(&mut column(&|run| run.p99_ns as f64)) / 1000.0,
        server_cpu: median(&mut column(&|run| run.server_cpu)) * 100.0,
        server_ns_per_rt: median(&mut column(&|run| run.server_ns_per_rt)),
        client_cpu: median(&mut column(&|run| run.client_cpu)) * 100.0,
    })
}

pub fn run(options: &BenchOptions) -> io::Result<()> {
    sys::raise_nofile();
    sys::pin_to(options.client_cpu)?;
    eprintln!(
        "echo-bench: {} runs × {} s (+{} s warmup), servers on CPU {}, client on CPU {}, \
         kernel {}, {}",
        options.runs,
        options.seconds,
        options.warmup,
        options.server_cpu,
        options.client_cpu,
        sys::kernel_release(),
        sys::cpu_model()
    );
    let kinds = &options.kinds;
    // results[config][kind] = runs; failures[config][kind] = last error
    let mut results = vec![vec![Vec::<Run>::new(); kinds.len()]; options.configs.len()];
    let mut failures = vec![vec![None::<String>; kinds.len()]; options.configs.len()];
    for round in 0..options.runs {
        for (c, &(conns, size)) in options.configs.iter().enumerate() {
            for offset in 0..kinds.len() {
                let k = (round + offset) % kinds.len();
                let kind = kinds[k];
                for attempt in 0..=options.retries {
                    if attempt > 0 {
                        // Let whatever starved the last attempt pass.
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    match run_one(options, kind, conns, size) {
                        Ok(run) => {
                            report_run(round, conns, size, kind, &run);
                            let kept = run.kept;
                            results[c][k].push(run);
                            if kept {
                                break;
                            }
                        }
                        Err(error) => {
                            eprintln!(
                                "run {} {}x{} {}: {error}",
                                round + 1,
                                conns,
                                size,
                                kind.name()
                            );
                            failures[c][k] = Some(error.to_string());
                            break;
                        }
                    }
                }
            }
        }
    }

    println!(
        "| config | server | runs kept/tried | median round trips/s | min … max (kept) | p50 µs | \
         p99 µs | server CPU | server CPU ns/rt | client CPU | vs raw-uring-defer | vs tokio |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (c, &(conns, size)) in options.configs.iter().enumerate() {
        let summaries: Vec<Option<Summary>> =
            results[c].iter().map(|runs| summarize(runs)).collect();
        let baseline = |kind: Kind| {
            kinds
                .iter()
                .position(|&k| k == kind)
                .and_then(|k| summaries[k].as_ref())
                .map(|summary| summary.throughput)
        };
        let raw = baseline(Kind::RawUringDefer);
        let tokio = baseline(Kind::Tokio);
        let ratio = |base: Option<f64>, value: f64| match base {
            Some(base) => format!("{:.2}×", value / base),
            None => "—".into(),
        };
        for (k, kind) in kinds.iter().enumerate() {
            let config = format!("{conns} × {size} B");
            match &summaries[k] {
                Some(s) => println!(
                    "| {config} | {} | {}/{} | {} | {} … {} | {:.1} | {:.1} | {:.0} % | {} | {:.0} % | {} | {} |",
                    kind.name(),
                    s.kept,
                    s.total,
                    thousands(s.throughput),
                    thousands(s.min),
                    thousands(s.max),
                    s.p50_us,
                    s.p99_us,
                    s.server_cpu,
                    thousands(s.server_ns_per_rt),
                    s.client_cpu,
                    ratio(raw, s.throughput),
                    ratio(tokio, s.throughput),
                ),
                None => println!(
                    "| {config} | {} | 0/{} | — | {} | — | — | — | — | — | — | — |",
                    kind.name(),
                    results[c][k].len(),
                    failures[c][k].as_deref().unwrap_or("every run starved"),
                ),
            }
        }
    }
    Ok(())
}
