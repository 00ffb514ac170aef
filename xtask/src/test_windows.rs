//! `cargo xtask test-windows [cargo test args]`: builds the tests for
//! `x86_64-pc-windows-gnu` (std from source with `-Zbuild-std`, linked with
//! mingw-w64) and runs them under Wine through [`crate::wine`]'s runner,
//! doc-tests included.

use crate::{
    cache_dir, cross_target_dir, debian_cargo, setup, wants_help, wine, workspace_root, Result,
    BUILD_STD,
};
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

const HELP: &str = "\
usage: cargo xtask test-windows [cargo test args]

Builds the tests for x86_64-pc-windows-gnu (Debian's toolchain, -Zbuild-std,
mingw-w64) in <workspace root>/target/cross and runs them under Wine. Exits with
cargo test's status: non-zero if anything fails to build or any test fails.

  cargo xtask test-windows                     # default members, like cargo test
  cargo xtask test-windows --workspace
  cargo xtask test-windows -p proactor-driver --test conformance -- --test-threads=1
  cargo xtask test-windows --no-run            # build only

Environment:
  CROSS_WIN_TIMEOUT  seconds one test executable may run before it is killed
                     (status 124; default 600, 0 = no limit)
  WINEDEBUG          Wine's debug output (default -all; e.g. err+all)
  CROSS_TARGET_DIR   target directory (default: <workspace root>/target/cross)
  CROSS_WIN_CACHE    see `cargo xtask setup --help`

Without a terminal (CI, piped output) a Wine process has no usable console.
";

const TARGET: &str = "x86_64-pc-windows-gnu";

pub fn main(args: &[OsString]) -> Result<ExitCode> {
    if wants_help(args) {
        print!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    }
    // Checked here, once, rather than by the runner for every executable.
    wine::timeout_from_env()?;
    setup::run(setup::Options {
        quiet: true,
        ..setup::Options::default()
    })?;
    let root = workspace_root()?;
    let prefix = wine::prefix(&cache_dir()?);
    let runner = std::env::current_exe()
        .map_err(|e| format!("cannot find the xtask executable (for the runner): {e}"))?;

    let mut cmd = debian_cargo(&cross_target_dir(&root));
    cmd.args(["test", BUILD_STD, "--target", TARGET])
        // Cargo's command line outranks every other configuration, and the
        // array form allows spaces in the path (the environment variable does not).
        .arg("--config")
        .arg(runner_config(&runner)?)
        .args(args)
        .env(
            "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER",
            "x86_64-w64-mingw32-gcc",
        );

    // One wineserver for the whole run instead of one per test executable
    // (0.10 s per executable instead of 0.45 s); it exits by itself 10 s
    // after the last Windows process.
    let mut server = Command::new("wineserver");
    server
        .arg("-p10")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    wine::configure(&mut server, &prefix, false);
    let _ = server.status();
    if !build_only(args) {
        start_services(&prefix);
    }

    crate::exec(cmd)
}

/// Starts the prefix's Windows services (services.exe, winedevice.exe, ...)
/// by running a trivial program, with no stdio.
///
/// Wine starts them with the first Windows process of a server, and they
/// inherit its stdout and stderr, then live as long as the server. If that
/// first process were a test, a pipe reading cargo's output (CI's log
/// collector, `| tee`) would stay open until the server's linger ends, 10 s
/// after the last test. The services take the same ~0.35 s to start either way.
fn start_services(prefix: &Path) {
    let mut cmd = Command::new("wine");
    cmd.args(["cmd", "/c", "exit"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    wine::configure(&mut cmd, prefix, false);
    let _ = cmd.status();
}

/// Whether cargo is only to build (`--no-run`), in which case Wine is not needed.
fn build_only(args: &[OsString]) -> bool {
    args.iter()
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "--no-run")
}

/// `target.<TARGET>.runner = ["<xtask>", "wine-runner"]` for `--config`.
fn runner_config(xtask: &Path) -> Result<String> {
    let path = xtask.to_str().ok_or_else(|| {
        format!(
            "the runner's path is not UTF-8, which cargo's configuration cannot hold: {}",
            xtask.display()
        )
    })?;
    Ok(format!(
        "target.{TARGET}.runner=[{}, \"wine-runner\"]",
        toml_string(path)
    ))
}

/// A TOML basic string holding `text`.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_configuration() {
        assert_eq!(
            runner_config(Path::new("/w/target/debug/xtask")).unwrap(),
            r#"target.x86_64-pc-windows-gnu.runner=["/w/target/debug/xtask", "wine-runner"]"#
        );
        assert_eq!(toml_string(r#"/a b/"c"\d"#), r#""/a b/\"c\"\\d""#);
        assert_eq!(toml_string("a\tb"), r#""a\u0009b""#);
    }

    #[test]
    fn no_run_only_before_the_test_arguments() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(build_only(&args(&["--workspace", "--no-run"])));
        assert!(!build_only(&args(&["--", "--no-run"])));
        assert!(!build_only(&args(&[])));
    }
}
