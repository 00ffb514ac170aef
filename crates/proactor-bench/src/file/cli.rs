//! Command-line options, parsed by hand (no dependency for a dozen flags).

use std::path::PathBuf;

use super::data::Workload;
use super::Variant;

pub const USAGE: &str = "\
file-bench: page-cache file reads through proactor::fs against tokio::fs, compio, monoio,
a raw io_uring loop and pread

USAGE:
    file-bench [OPTIONS]

WORKLOADS:
    rand-*   4 KiB reads at random 4 KiB-aligned offsets, --depth in flight
    seq-*    1 MiB reads at consecutive offsets (wrapping at the end), --seq-depth in flight

OPTIONS:
    --ops N          reads per variant per round, for both workloads
    --rand-ops N     reads per round, random workload (default 200000)
    --seq-ops N      reads per round, sequential workload (default 2048: 2 GiB)
    --rounds R       interleaved measured rounds; the median is reported (default 9)
    --warmup N       unmeasured reads per variant before the rounds
                     (default: a tenth of a round)
    --depth Q        random reads in flight (default 64)
    --seq-depth Q    sequential reads in flight (default 1)
    --file-mib M     size of the temporary file (default 1024)
    --dir PATH       where to create that file (default: the system temp dir)
    --only V[,V..]   run only these variants (repeatable); see the list below
    --cpu N          pin to this CPU (default: the last CPU the process may use)
    --no-pin         do not pin the process to one CPU
    --stall-secs S   give up (exit 3) when a variant makes no progress for S seconds
                     (default 10; 0 turns the watchdog thread off)
    --quick          tiny sizes for a smoke run: 5000 random and 32 sequential reads,
                     3 rounds, a 64 MiB file; later flags still override
    -h, --help       this text

VARIANTS:
";

/// Everything the command line can set.
#[derive(Debug, Clone)]
pub struct Options {
    pub rand_ops: u64,
    pub seq_ops: u64,
    pub rounds: usize,
    pub warmup: Option<u64>,
    pub depth: usize,
    pub seq_depth: usize,
    pub file_mib: u64,
    pub dir: PathBuf,
    pub only: Vec<Variant>,
    pub cpu: Option<usize>,
    pub pin: bool,
    pub stall_secs: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            rand_ops: 200_000,
            seq_ops: 2048,
            rounds: 9,
            warmup: None,
            depth: 64,
            seq_depth: 1,
            file_mib: 1024,
            dir: std::env::temp_dir(),
            only: Vec::new(),
            cpu: None,
            pin: true,
            stall_secs: 10,
        }
    }
}

impl Options {
    /// The variants to run, in the order the first round runs them.
    pub fn variants(&self) -> Vec<Variant> {
        Variant::all()
            .into_iter()
            .filter(|variant| self.only.is_empty() || self.only.contains(variant))
            .collect()
    }

    pub fn ops(&self, workload: Workload) -> u64 {
        match workload {
            Workload::Random => self.rand_ops,
            Workload::Sequential => self.seq_ops,
        }
    }

    pub fn warmup(&self, workload: Workload) -> u64 {
        self.warmup.unwrap_or(self.ops(workload) / 10)
    }

    pub fn depth(&self, workload: Workload) -> usize {
        match workload {
            Workload::Random => self.depth,
            Workload::Sequential => self.seq_depth,
        }
    }
}

/// What the command line asked for.
pub enum Command {
    Run(Options),
    Help,
}

/// Parses `args` (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let args: Vec<String> = args.into_iter().collect();
    let mut options = Options::default();
    // `--quick` sets defaults that explicit flags may override, wherever it appears.
    if args.iter().any(|arg| arg == "--quick") {
        options.rand_ops = 5_000;
        options.seq_ops = 32;
        options.rounds = 3;
        options.file_mib = 64;
    }
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--quick" => {}
            "--ops" => {
                let ops = number(&arg, &value(&arg)?)?;
                options.rand_ops = ops;
                options.seq_ops = ops;
            }
            "--rand-ops" => options.rand_ops = number(&arg, &value(&arg)?)?,
            "--seq-ops" => options.seq_ops = number(&arg, &value(&arg)?)?,
            "--rounds" => options.rounds = positive(&arg, &value(&arg)?)?,
            "--warmup" => options.warmup = Some(number(&arg, &value(&arg)?)?),
            "--depth" => options.depth = positive(&arg, &value(&arg)?)?,
            "--seq-depth" => options.seq_depth = positive(&arg, &value(&arg)?)?,
            "--file-mib" => options.file_mib = positive(&arg, &value(&arg)?)? as u64,
            "--dir" => options.dir = PathBuf::from(value(&arg)?),
            "--only" => {
                for name in value(&arg)?.split(',').filter(|name| !name.is_empty()) {
                    let variant = Variant::from_name(name).ok_or_else(|| {
                        format!("unknown variant {name:?}; see --help for the list")
                    })?;
                    options.only.push(variant);
                }
            }
            "--cpu" => options.cpu = Some(number(&arg, &value(&arg)?)? as usize),
            "--no-pin" => options.pin = false,
            "--stall-secs" => options.stall_secs = number(&arg, &value(&arg)?)?,
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    if options.depth > 1024 || options.seq_depth > 1024 {
        return Err("--depth and --seq-depth must be at most 1024".into());
    }
    if options.file_mib < 1 {
        return Err("--file-mib must be at least 1 (the sequential reads are 1 MiB)".into());
    }
    Ok(Command::Run(options))
}

fn number(name: &str, text: &str) -> Result<u64, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("{name} wants a whole number, not {text:?}"))
}

fn positive(name: &str, text: &str) -> Result<usize, String> {
    match number(name, text)? {
        0 => Err(format!("{name} must be at least 1")),
        value => usize::try_from(value).map_err(|_| format!("{name} is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Path;
    use super::*;

    fn run(args: &[&str]) -> Options {
        match parse(args.iter().map(|arg| arg.to_string())) {
            Ok(Command::Run(options)) => options,
            Ok(Command::Help) => panic!("help"),
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn quick_sets_defaults_that_flags_override() {
        let options = run(&["--ops", "7", "--quick"]);
        assert_eq!((options.rand_ops, options.seq_ops), (7, 7));
        assert_eq!(options.rounds, 3);
        assert_eq!(options.file_mib, 64);
        assert_eq!(options.warmup(Workload::Random), 0);
    }

    #[test]
    fn only_filters_and_keeps_order() {
        let options = run(&["--only", "seq-std-pread,rand-monoio"]);
        assert_eq!(
            options.variants(),
            vec![
                Variant {
                    workload: Workload::Random,
                    path: Path::Monoio
                },
                Variant {
                    workload: Workload::Sequential,
                    path: Path::StdPread
                }
            ]
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(parse(["--rounds".to_string(), "0".to_string()]).is_err());
        assert!(parse(["--only".to_string(), "nope".to_string()]).is_err());
        assert!(parse(["--depth".to_string(), "5000".to_string()]).is_err());
        assert!(parse(["--bogus".to_string()]).is_err());
    }
}
