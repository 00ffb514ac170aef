//! Project tasks for proactor, run as `cargo xtask <command>` (an alias in
//! `.cargo/config.toml`) from anywhere inside the workspace.
//!
//! They let CI on a Debian 12 (bookworm) x86_64 machine build and test the
//! other platforms' code with nothing but this repository:
//!
//! - `cargo xtask setup [--quiet] [--rust-only] [--force]`: installs what the
//!   two commands below need; idempotent, and fast when everything is in place.
//! - `cargo xtask check-unix [cargo check args]`: `cargo check` for
//!   `x86_64-apple-darwin`, `aarch64-apple-darwin` and `x86_64-unknown-freebsd`
//!   in one cargo run (default `--workspace --all-targets`; honours `RUSTFLAGS`).
//! - `cargo xtask test-windows [cargo test args]`: `cargo test` for
//!   `x86_64-pc-windows-gnu`, each test executable run under Wine with a time
//!   limit.
//! - `cargo xtask doc-examples [-p CRATE]...`: fails when a public item's
//!   documentation has no example (from rustdoc's JSON output).
//! - `xtask wine-runner EXE [ARGS]`: internal; the cargo target runner
//!   `test-windows` installs.
//!
//! Exit status: cargo's own status when cargo fails (101 for failing tests;
//! cargo passes on a test executable's abnormal status, e.g. 124 for one
//! killed by the time limit), 1 when anything else fails, 2 for a bad command
//! line.
//!
//! # Why a second toolchain
//!
//! rustup cannot be relied on to download other targets' standard library or
//! `rust-src` (on the development machines it cannot), so cross builds use
//! Debian's `rustc-web`/`cargo-web` (`/usr/bin/cargo`, `/usr/bin/rustc`) and
//! compile std for the target with `-Zbuild-std` from the sources in
//! `rust-web-src` (`RUSTC_BOOTSTRAP=1`, as Debian's compiler is a stable
//! release). Whatever `cargo` is on `PATH` or a `rust-toolchain` file selects,
//! the cross builds always use Debian's, in their own target directory
//! (`<workspace root>/target/cross`), so the normal build is not disturbed.
//!
//! # Environment
//!
//! - `CROSS_TARGET_DIR`: target directory of the cross builds.
//! - `CROSS_CHECK_TARGETS`: space-separated targets for `check-unix`.
//! - `CROSS_WIN_TIMEOUT`: seconds one Windows test executable may run (default
//!   600, 0 = no limit).
//! - `CROSS_WIN_CACHE`: where the Wine prefix and the `ProcessPrng` shim live
//!   (default `${XDG_CACHE_HOME:-$HOME/.cache}/cross-win`).
//! - `WINEDEBUG`: Wine's debug channels for the tests (default `-all`).
//!
//! The names and the cache layout are those of the `cross-*` scripts the
//! project was started with, so both share one Wine prefix (about 700 MB).

mod check_unix;
mod doc_examples;
mod json;
mod setup;
mod sys;
mod test_windows;
mod wine;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};

/// Failures are messages for a person reading a terminal or a CI log; nothing
/// matches on them, so a `String` is all they need to be.
type Result<T, E = String> = std::result::Result<T, E>;

/// Debian's toolchain (packages `cargo-web`, `rustc-web`), used for every cross build.
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_RUSTDOC: &str = "/usr/bin/rustdoc";
/// Builds std for the target from source; `panic_abort` is needed as well for
/// `-C panic=abort` profiles and for doc-tests.
const BUILD_STD: &str = "-Zbuild-std=std,panic_abort";

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  setup [--quiet] [--rust-only] [--force]
                                install what check-unix and test-windows need
  check-unix [cargo check args]  cargo check for macOS (x86_64, aarch64) and FreeBSD
  test-windows [cargo test args] cargo test for x86_64-pc-windows-gnu, run under Wine
  doc-examples [-p CRATE]...     list public items whose docs have no example

`cargo xtask <command> --help` describes a command.
";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(command) = args.next() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let args: Vec<OsString> = args.collect();
    let result = match command.to_str() {
        Some("setup") => setup::main(&args),
        Some("check-unix") => check_unix::main(&args),
        Some("doc-examples") => doc_examples::main(&args),
        Some("test-windows") => test_windows::main(&args),
        Some("wine-runner") => wine::runner_main(&args),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("xtask: unknown command '{}'\n", command.to_string_lossy());
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    result.unwrap_or_else(|message| {
        eprintln!("xtask {}: error: {message}", command.to_string_lossy());
        ExitCode::FAILURE
    })
}

/// Whether `args` asks for a command's help. Only the first argument counts:
/// later ones belong to cargo or to the test harness (`-- --help`).
fn wants_help(args: &[OsString]) -> bool {
    matches!(
        args.first().and_then(|arg| arg.to_str()),
        Some("-h" | "--help")
    )
}

/// Reports a bad command line the way cargo does: a message and status 2.
fn usage_error(command: &str, message: &str) -> ExitCode {
    eprintln!("xtask {command}: {message} (try --help)");
    ExitCode::from(2)
}

/// The value of an environment variable, treating an empty one as unset (like
/// the shell's `${VAR:-default}`, which is what CI configurations expect).
fn env_nonempty(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

/// `${CROSS_WIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cross-win}`: Wine prefix,
/// shim DLL, logs and the setup lock.
fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = env_nonempty("CROSS_WIN_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let base = match (env_nonempty("XDG_CACHE_HOME"), env_nonempty("HOME")) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) => Path::new(&home).join(".cache"),
        (None, None) => return Err("neither HOME nor XDG_CACHE_HOME is set".into()),
    };
    Ok(base.join("cross-win"))
}

/// The cargo that runs this xtask (`cargo run` sets `CARGO` to its own path),
/// or `cargo` from `PATH`: the host's toolchain, always there, unlike Debian's,
/// which only `setup` installs and only the cross builds need.
fn host_cargo() -> OsString {
    env_nonempty("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The workspace root around the current directory, as cargo sees it. Asking
/// cargo (rather than using this crate's own location) lets the xtask binary
/// serve any workspace it is run in.
fn workspace_root() -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    let cargo = host_cargo();
    let output = Command::new(&cargo)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    let manifest = String::from_utf8(output.stdout).unwrap_or_default();
    let manifest = Path::new(manifest.trim_end());
    match manifest.parent() {
        Some(root) if output.status.success() && manifest.is_absolute() => Ok(root.into()),
        _ => Err(format!(
            "no Cargo.toml in or above {}: run this inside a Rust project",
            cwd.display()
        )),
    }
}

/// `$CROSS_TARGET_DIR`, or `<root>/target/cross`: apart from the normal target
/// directory, whose builds for the host must not be invalidated by the other
/// toolchain, and shared by `check-unix` and `test-windows`.
fn cross_target_dir(root: &Path) -> PathBuf {
    env_nonempty("CROSS_TARGET_DIR").map_or_else(|| root.join("target").join("cross"), Into::into)
}

/// A `/usr/bin/cargo` command set up for `-Zbuild-std` with Debian's toolchain.
///
/// Run through `cargo xtask`, this process inherits what rustup and `cargo run`
/// put in the environment; some of it would reach Debian's cargo and mislead
/// it, so it is removed.
fn debian_cargo(target_dir: &Path) -> Command {
    let mut cmd = Command::new(DEBIAN_CARGO);
    cmd.env("CARGO_TARGET_DIR", target_dir)
        // Also used for build scripts and proc-macros: one toolchain throughout.
        .env("RUSTC", DEBIAN_RUSTC)
        .env("RUSTDOC", DEBIAN_RUSTDOC)
        // -Zbuild-std is unstable and Debian's compiler a stable release.
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove("RUSTUP_TOOLCHAIN")
        // Cargo takes `CARGO` as its own path when set (as when it is run as a
        // rustup-proxied subcommand) and hands it to build scripts; it would
        // name rustup's cargo instead of Debian's.
        .env_remove("CARGO");
    // Set by `cargo run` for the xtask package itself.
    for (name, _) in std::env::vars_os() {
        let name_str = name.to_string_lossy();
        if name_str.starts_with("CARGO_PKG_")
            || name_str.starts_with("CARGO_MANIFEST_")
            || name_str == "CARGO_BIN_NAME"
            || name_str == "CARGO_CRATE_NAME"
        {
            cmd.env_remove(&name);
        }
    }
    cmd
}

/// The exit code that reports `status` to our own caller: the same code, or
/// 128 + the signal number for a process killed by a signal (as shells do).
fn exit_code(status: ExitStatus) -> ExitCode {
    match status.code() {
        // Codes are 0..=255 on Unix; on Windows a larger one still means failure.
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::from(sys::signal_of(status).map_or(1, |sig| 128 + sig)),
    }
}

/// Runs `cmd` and returns its status as ours. On Unix `cmd` replaces this
/// process (as the scripts' `exec` did): signals such as Ctrl-C or a CI
/// cancellation reach cargo directly, and nothing sits between it and our
/// caller.
fn exec(mut cmd: Command) -> Result<ExitCode> {
    let program = cmd.get_program().to_owned();
    let error = sys::exec(&mut cmd);
    let status = error.map_err(|e| format!("cannot run {}: {e}", program.to_string_lossy()))?;
    Ok(exit_code(status))
}

/// Looks `name` up in `PATH` like a shell's `command -v`.
fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| sys::is_executable(candidate))
}

/// Prints the last `lines` lines of a log file to stderr, after a command whose
/// output went there failed.
fn print_log_tail(log: &Path, lines: usize) {
    if let Ok(text) = std::fs::read_to_string(log) {
        let all: Vec<&str> = text.lines().collect();
        for line in &all[all.len().saturating_sub(lines)..] {
            eprintln!("{line}");
        }
    }
}

/// `program args...` for messages.
fn display_command(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_is_only_the_first_argument() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(wants_help(&args(&["--help"])));
        assert!(wants_help(&args(&["-h", "--workspace"])));
        assert!(!wants_help(&args(&["--workspace", "--", "--help"])));
        assert!(!wants_help(&args(&[])));
    }

    #[test]
    fn debian_cargo_drops_rustup_and_cargo_run_variables() {
        let cmd = debian_cargo(Path::new("/tmp/t"));
        let removed: Vec<_> = cmd
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        assert!(removed.iter().any(|name| name == "RUSTUP_TOOLCHAIN"));
        assert!(removed.iter().any(|name| name == "CARGO"));
        let set = |name: &str| {
            cmd.get_envs()
                .find(|(n, _)| *n == name)
                .and_then(|(_, v)| v)
        };
        assert_eq!(set("RUSTC_BOOTSTRAP"), Some(OsStr::new("1")));
        assert_eq!(set("CARGO_TARGET_DIR"), Some(OsStr::new("/tmp/t")));
    }
}
