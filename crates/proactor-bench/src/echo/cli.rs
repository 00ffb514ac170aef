//! Command-line options, parsed by hand.

use std::net::SocketAddr;
use std::time::Duration;

use crate::echo::bench::BenchOptions;
use crate::echo::client::ClientOptions;
use crate::echo::server::{Kind, ServerOptions};

pub const USAGE: &str = "\
echo-bench: TCP echo ping-pong, proactor against tokio, compio, monoio and raw io_uring

USAGE:
    echo-bench [OPTIONS]                 the whole benchmark: one markdown table on stdout
    echo-bench server --kind K [--addr A] [--size M] [--cpu N] [--exit-after-conns C]
    echo-bench client --addr A [--conns N] [--size M] [--cpu N]
                      (--round-trips R | [--seconds S] [--warmup W])

OPTIONS (benchmark):
    --runs R            interleaved runs per server per configuration (default 15)
    --seconds S         measured seconds per run (default 2)
    --warmup W          unmeasured seconds per run after connecting (default 0.5)
    --only K[,K..]      run only these servers (repeatable); see the list below
    --config NxM[,..]   connections × message bytes (default 100x128,1000x1024)
    --server-cpu N      the servers' CPU (default 0)
    --client-cpu N      the client's CPU (default 1)
    --max-wait-pct P    drop a run where the server or the client waited for a CPU (run-queue
                        delay, /proc/<pid>/task/*/schedstat), or the two CPUs lost to steal,
                        more than P % of the window (default 5)
    --retries N         try a dropped run again up to N times, after a 1 s pause (default 2)
    --quick             smoke run: 2 runs × 0.3 s (+0.1 s warmup); later flags still override
    -h, --help          this text

SERVER:
    --kind K            which server (see below); --addr (default 127.0.0.1:0) is printed as
                        `listening on ADDR` once it accepts; --size is the read size (default
                        128); --cpu its CPU (default 0); --exit-after-conns C exits after the
                        C-th connection closed (default 0: never)

CLIENT:
    --round-trips R     exactly R round trips in all, then close (for callgrind / strace);
                        prints `round_trips R seconds S` and latency quantiles

SERVERS:
";

pub enum Command {
    Help,
    Bench(BenchOptions),
    Server(ServerOptions),
    Client(ClientOptions, usize),
}

fn value<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|error| format!("{flag} {value}: {error}"))
}

fn kinds(list: &str) -> Result<Vec<Kind>, String> {
    list.split(',')
        .map(|name| Kind::from_name(name).ok_or_else(|| format!("unknown server {name}")))
        .collect()
}

fn configs(list: &str) -> Result<Vec<(usize, usize)>, String> {
    list.split(',')
        .map(|config| {
            let (conns, size) = config
                .split_once('x')
                .ok_or_else(|| format!("--config {config}: expected CONNSxBYTES"))?;
            Ok((
                value("--config", Some(conns.to_string()))?,
                value("--config", Some(size.to_string()))?,
            ))
        })
        .collect()
}

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut args: Vec<String> = args.by_ref().collect();
    let mode = match args.first().map(String::as_str) {
        Some("server") | Some("client") => args.remove(0),
        _ => "bench".to_string(),
    };
    let mut args = args.into_iter();
    let localhost: SocketAddr = "127.0.0.1:0".parse().map_err(|_| "address")?;
    let mut bench = BenchOptions::default();
    let mut only = Vec::new();
    let mut server = ServerOptions {
        kind: Kind::RawUringDefer,
        addr: localhost,
        size: 128,
        cpu: 0,
        exit_after_conns: 0,
    };
    let mut kind = None;
    let mut client = ClientOptions {
        addr: localhost,
        conns: 10,
        size: 128,
        warmup: Duration::from_millis(500),
        duration: Duration::from_secs(2),
        round_trips: None,
    };
    let mut client_cpu = 1;
    while let Some(flag) = args.next() {
        match (mode.as_str(), flag.as_str()) {
            (_, "-h" | "--help") => return Ok(Command::Help),
            ("bench", "--runs") => bench.runs = value(&flag, args.next())?,
            ("bench", "--seconds") => bench.seconds = value(&flag, args.next())?,
            ("bench", "--warmup") => bench.warmup = value(&flag, args.next())?,
            ("bench", "--only") => only.extend(kinds(&value::<String>(&flag, args.next())?)?),
            ("bench", "--config") => {
                bench.configs = configs(&value::<String>(&flag, args.next())?)?
            }
            ("bench", "--server-cpu") => bench.server_cpu = value(&flag, args.next())?,
            ("bench", "--client-cpu") => bench.client_cpu = value(&flag, args.next())?,
            ("bench", "--max-wait-pct") => bench.max_wait_pct = value(&flag, args.next())?,
            ("bench", "--retries") => bench.retries = value(&flag, args.next())?,
            ("bench", "--quick") => {
                bench.runs = 2;
                bench.seconds = 0.3;
                bench.warmup = 0.1;
            }
            ("server", "--kind") => {
                let name: String = value(&flag, args.next())?;
                kind = Some(Kind::from_name(&name).ok_or(format!("unknown server {name}"))?);
            }
            ("server", "--addr") => server.addr = value(&flag, args.next())?,
            ("server", "--size") => server.size = value(&flag, args.next())?,
            ("server", "--cpu") => server.cpu = value(&flag, args.next())?,
            ("server", "--exit-after-conns") => {
                server.exit_after_conns = value(&flag, args.next())?
            }
            ("client", "--addr") => client.addr = value(&flag, args.next())?,
            ("client", "--conns") => client.conns = value(&flag, args.next())?,
            ("client", "--size") => client.size = value(&flag, args.next())?,
            ("client", "--cpu") => client_cpu = value(&flag, args.next())?,
            ("client", "--round-trips") => client.round_trips = Some(value(&flag, args.next())?),
            ("client", "--seconds") => {
                client.duration = Duration::from_secs_f64(value(&flag, args.next())?)
            }
            ("client", "--warmup") => {
                client.warmup = Duration::from_secs_f64(value(&flag, args.next())?)
            }
            (mode, other) => return Err(format!("unknown flag {other} for {mode}")),
        }
    }
    match mode.as_str() {
        "server" => {
            server.kind = kind.ok_or("server needs --kind")?;
            Ok(Command::Server(server))
        }
        "client" => {
            if client.addr.port() == 0 {
                return Err("client needs --addr HOST:PORT".into());
            }
            Ok(Command::Client(client, client_cpu))
        }
        _ => {
            if !only.is_empty() {
                bench.kinds = only;
            }
            if bench.runs == 0 || bench.configs.is_empty() {
                return Err("nothing to run".into());
            }
            Ok(Command::Bench(bench))
        }
    }
}
