//! `cargo xtask check-unix [cargo check args]`: type-checks the project for
//! macOS (x86_64 and aarch64) and FreeBSD. `cargo check` links nothing and
//! runs nothing, so std built from source with `-Zbuild-std` is all it needs
//! from the other systems.

use crate::{
    cross_target_dir, debian_cargo, env_nonempty, exit_code, setup, usage_error, wants_help,
    workspace_root, Result, BUILD_STD,
};
use std::ffi::OsString;
use std::path::Path;
use std::process::{ExitCode, ExitStatus, Stdio};

const HELP: &str = "\
usage: cargo xtask check-unix [cargo check args]

Type-checks the project for x86_64-apple-darwin, aarch64-apple-darwin and
x86_64-unknown-freebsd with `cargo check` (Debian's toolchain, -Zbuild-std),
all targets in one cargo run, in <workspace root>/target/cross.

Without a package selection (-p, --workspace, --manifest-path) it checks
--workspace; without a target selection (--lib, --tests, --all-targets, ...)
--all-targets. On failure the last line names the targets that fail.

  cargo xtask check-unix
  cargo xtask check-unix -p proactor-driver --lib --tests
  RUSTFLAGS=-Dwarnings cargo xtask check-unix

A Windows target in CROSS_CHECK_TARGETS (x86_64-pc-windows-gnu) also installs
mingw-w64 first: windows-sys runs its dlltool even for `cargo check`.

Environment:
  CROSS_CHECK_TARGETS  space-separated targets (default: the three above)
  CROSS_TARGET_DIR     target directory (default: <workspace root>/target/cross)
  RUSTFLAGS            passed on, e.g. -Dwarnings to fail on warnings
";

const DEFAULT_TARGETS: &[&str] = &[
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-unknown-freebsd",
];

pub fn main(args: &[OsString]) -> Result<ExitCode> {
    if wants_help(args) {
        print!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    }
    let targets: Vec<String> = match env_nonempty("CROSS_CHECK_TARGETS") {
        Some(list) => list
            .to_string_lossy()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        None => DEFAULT_TARGETS.iter().map(|&t| t.to_owned()).collect(),
    };
    if targets.is_empty() {
        return Ok(usage_error(
            "check-unix",
            "CROSS_CHECK_TARGETS names no target",
        ));
    }

    // A Windows target links import libraries even for `cargo check` (windows-sys
    // runs mingw's dlltool), so it needs the whole setup; the Unix ones only the
    // Rust toolchain.
    let windows = targets.iter().any(|target| target.contains("windows"));
    setup::run(setup::Options {
        quiet: true,
        rust_only: !windows,
        force: false,
    })?;
    let target_dir = cross_target_dir(&workspace_root()?);
    let mut args = args.to_vec();
    args.splice(
        0..0,
        default_selection(&args).into_iter().map(OsString::from),
    );

    // One cargo run for all targets: about 20% faster than one run each on 2
    // cores, as the host's build scripts and proc-macros are built once.
    let list = targets.join(" ");
    eprintln!("xtask check-unix: checking {list}");
    let status = check(&target_dir, &targets, &args, false)?;
    if status.success() {
        eprintln!("xtask check-unix: ok for {list}");
        return Ok(ExitCode::SUCCESS);
    }
    if status.code().is_none() {
        // Killed (Ctrl-C...): not a verdict on any target.
        return Ok(exit_code(status));
    }
    // Say which targets fail. Errors are printed above; these runs reuse the
    // build and only replay them, so they are quick and kept quiet.
    let mut failed = Vec::new();
    for target in &targets {
        let single = std::slice::from_ref(target);
        if !check(&target_dir, single, &args, true).is_ok_and(|s| s.success()) {
            failed.push(target.as_str());
        }
    }
    let failed = if failed.is_empty() {
        "(see errors above)".to_owned()
    } else {
        failed.join(" ")
    };
    eprintln!("xtask check-unix: FAILED for {failed}");
    Ok(exit_code(status))
}

fn check(
    target_dir: &Path,
    targets: &[String],
    args: &[OsString],
    quiet: bool,
) -> Result<ExitStatus> {
    let mut cmd = debian_cargo(target_dir);
    cmd.args(["check", BUILD_STD]);
    for target in targets {
        cmd.args(["--target", target]);
    }
    if quiet {
        cmd.arg("--quiet")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    }
    cmd.args(args)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", crate::DEBIAN_CARGO))
}

/// The defaults to add to `args`: `--workspace` unless it selects packages,
/// `--all-targets` unless it selects targets. Arguments after `--` go to
/// rustc and are not looked at.
fn default_selection(args: &[OsString]) -> Vec<&'static str> {
    let mut packages = false;
    let mut targets = false;
    for arg in args.iter().map(|arg| arg.to_string_lossy()) {
        let flag = arg.split('=').next().unwrap_or_default();
        match flag {
            "--" => break,
            "--lib" | "--bins" | "--bin" | "--tests" | "--test" | "--examples" | "--example"
            | "--benches" | "--bench" | "--all-targets" => targets = true,
            // --manifest-path too: pointing at one package's manifest means that package.
            "--package" | "--workspace" | "--all" | "--manifest-path" => packages = true,
            // -p NAME and -pNAME
            short if short.starts_with("-p") => packages = true,
            _ => {}
        }
    }
    let mut defaults = Vec::new();
    if !packages {
        defaults.push("--workspace");
    }
    if !targets {
        defaults.push("--all-targets");
    }
    defaults
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults(args: &[&str]) -> Vec<&'static str> {
        default_selection(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn selection_defaults() {
        assert_eq!(defaults(&[]), ["--workspace", "--all-targets"]);
        assert_eq!(defaults(&["-p", "xtask"]), ["--all-targets"]);
        assert_eq!(defaults(&["-pxtask", "--lib"]), Vec::<&str>::new());
        assert_eq!(
            defaults(&["--package=xtask", "--test=io"]),
            Vec::<&str>::new()
        );
        assert_eq!(defaults(&["--tests"]), ["--workspace"]);
        assert_eq!(
            defaults(&["--exclude", "xtask"]),
            ["--workspace", "--all-targets"]
        );
        assert_eq!(
            defaults(&["--profile", "dev"]),
            ["--workspace", "--all-targets"]
        );
        assert_eq!(
            defaults(&["--", "-p", "--lib"]),
            ["--workspace", "--all-targets"]
        );
    }
}
