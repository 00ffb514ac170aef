//! Command-line options, parsed by hand (no dependency for a dozen flags).

use std::path::PathBuf;

use crate::Variant;

pub const USAGE: &str = "\
driver-bench: proactor-driver against hand-written io_uring loops

USAGE:
    driver-bench [OPTIONS]

OPTIONS:
    --ops N          operations per variant per round, for both workloads
                     (default: 1000000 NOPs, 250000 reads)
    --nop-ops N      operations per round for the NOP variants only
    --read-ops N     operations per round for the read variants only
    --rounds R       interleaved measured rounds; the median is reported (default 7)
    --warmup N       unmeasured operations per variant before the rounds (default 10000)
    --batch N        NOPs submitted per batch before polling (default 32)
    --depth Q        reads kept in flight (default 32)
    --file-mib M     size of the temporary file the reads use (default 64)
    --dir PATH       where to create that file (default: the system temp dir)
    --vec-buffers    read into Vec<u8> spare capacity (taken back with into_vec) instead of
                     page-aligned Box<[u8]> views
    --only V[,V..]   run only these variants (repeatable); see the list below
    --cpu N          pin to this CPU (default: the last CPU the process may use)
    --no-pin         do not pin the process to one CPU
    --stall-secs S   give up (exit 3) when a variant makes no progress for S seconds
                     (default 10; 0 turns the watchdog thread off)
    --quick          tiny sizes for a smoke run (a few seconds): 20000 NOPs, 5000 reads,
                     3 rounds, 1000 warmup ops, a 4 MiB file; later flags still override
    -h, --help       this text

VARIANTS:
";

/// Everything the command line can set.
#[derive(Debug, Clone)]
pub struct Options {
    pub nop_ops: u64,
    pub read_ops: u64,
    pub rounds: usize,
    pub warmup: u64,
    pub batch: usize,
    pub depth: usize,
    pub file_mib: u64,
    pub dir: PathBuf,
    pub vec_buffers: bool,
    pub only: Vec<Variant>,
    pub cpu: Option<usize>,
    pub pin: bool,
    pub stall_secs: u64,
    pub quick: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            nop_ops: 1_000_000,
            read_ops: 250_000,
            rounds: 7,
            warmup: 10_000,
            batch: 32,
            depth: 32,
            file_mib: 64,
            dir: std::env::temp_dir(),
            vec_buffers: false,
            only: Vec::new(),
            cpu: None,
            pin: true,
            stall_secs: 10,
            quick: false,
        }
    }
}

impl Options {
    /// The variants to run, in the order each round runs them.
    pub fn variants(&self) -> Vec<Variant> {
        if self.only.is_empty() {
            Variant::ALL.to_vec()
        } else {
            Variant::ALL
                .iter()
                .copied()
                .filter(|variant| self.only.contains(variant))
                .collect()
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
        options.quick = true;
        options.nop_ops = 20_000;
        options.read_ops = 5_000;
        options.rounds = 3;
        options.warmup = 1_000;
        options.file_mib = 4;
    }
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--quick" => {}
            "--ops" => {
                let ops = number(&arg, &value(&arg)?)?;
                options.nop_ops = ops;
                options.read_ops = ops;
            }
            "--nop-ops" => options.nop_ops = number(&arg, &value(&arg)?)?,
            "--read-ops" => options.read_ops = number(&arg, &value(&arg)?)?,
            "--rounds" => options.rounds = positive(&arg, &value(&arg)?)?,
            "--warmup" => options.warmup = number(&arg, &value(&arg)?)?,
            "--batch" => options.batch = positive(&arg, &value(&arg)?)?,
            "--depth" => options.depth = positive(&arg, &value(&arg)?)?,
            "--file-mib" => options.file_mib = positive(&arg, &value(&arg)?)? as u64,
            "--dir" => options.dir = PathBuf::from(value(&arg)?),
            "--vec-buffers" => options.vec_buffers = true,
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
    if options.batch > 4096 || options.depth > 4096 {
        return Err("--batch and --depth must be at most 4096".into());
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
        assert_eq!((options.nop_ops, options.read_ops), (7, 7));
        assert_eq!(options.rounds, 3);
        assert_eq!(options.file_mib, 4);
    }

    #[test]
    fn only_filters_and_keeps_order() {
        let options = run(&["--only", "read-raw-uring,nop-driver-uring"]);
        assert_eq!(
            options.variants(),
            vec![Variant::NopDriverUring, Variant::ReadRawUring]
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(parse(["--rounds".to_string(), "0".to_string()]).is_err());
        assert!(parse(["--only".to_string(), "nope".to_string()]).is_err());
        assert!(parse(["--bogus".to_string()]).is_err());
    }
}
