//! `cargo xtask setup`: installs what `check-unix` and `test-windows` need.
//! Both call it (quietly) first, so on a fresh machine their first run installs
//! everything; when all is in place it takes a few milliseconds.
//!
//! 1. Debian packages, with `apt-get install --no-install-recommends` when
//!    missing: `rustc-web cargo-web rust-web-src` (a second Rust toolchain in
//!    `/usr/bin`, with std's sources for `-Zbuild-std`) and, unless
//!    `--rust-only`, `gcc-mingw-w64-x86-64` (the Windows linker), `wine` and
//!    `wine64` (Debian's Wine 8, 64-bit only). Needs root or password-less sudo
//!    when something is missing. apt's output goes to `<cache>/apt.log`.
//! 2. `bcryptprimitives.dll`: Rust's std (and `getrandom`) import
//!    `ProcessPrng` from it, which Wine 8 lacks, so every Rust executable would
//!    fail to start (status 53). The shim, built with mingw, forwards to
//!    `BCryptGenRandom`, which Wine has.
//! 3. A Wine prefix of its own (`wineboot -i`, about 11 s; `wineboot -u` after
//!    a Wine upgrade), with the shim in its `system32`.
//!
//! Concurrent runs (a check and a test started together) are serialised with a
//! lock file. `--force` rebuilds the shim and recreates the prefix.

use crate::{
    cache_dir, find_in_path, print_log_tail, sys, usage_error, wine, Result, DEBIAN_CARGO,
    DEBIAN_RUSTC, DEBIAN_RUSTDOC,
};
use std::ffi::OsString;
use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

const HELP: &str = "\
usage: cargo xtask setup [--quiet] [--rust-only] [--force]

Installs what check-unix and test-windows need (idempotent; both run it first):
Debian packages rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine wine64
(with apt-get, as root or with password-less sudo), a ProcessPrng shim
(bcryptprimitives.dll) for Wine 8, and a Wine prefix of its own.

  -q, --quiet    print nothing unless something has to be done or fails
  --rust-only    only the Rust toolchain (all that check-unix needs for macOS and FreeBSD)
  --force        rebuild the shim DLL and recreate the Wine prefix

Environment: CROSS_WIN_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/cross-win)
holds the Wine prefix, the shim and logs.
";

/// The second toolchain: cargo and rustc in /usr/bin, std's sources in /usr/lib/rustlib/src.
const RUST_PACKAGES: &[&str] = &["rustc-web", "cargo-web", "rust-web-src"];
const WINDOWS_PACKAGES: &[&str] = &["gcc-mingw-w64-x86-64", "wine", "wine64"];
const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";

/// The shim's source. `ProcessPrng` takes a `SIZE_T` length, `BCryptGenRandom`
/// a `ULONG` one, hence the chunks. Kept byte for byte as the `cross-setup`
/// script writes it, so the two never rebuild each other's DLL.
const SHIM_C: &str = r#"#include <windows.h>
#include <bcrypt.h>

/* ProcessPrng never fails on real Windows; it always returns TRUE. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
"#;
/// Exports the function under its undecorated name from a DLL of the right name.
const SHIM_DEF: &str = "LIBRARY bcryptprimitives\nEXPORTS\n    ProcessPrng\n";

/// Records which Wine version the prefix was made for (same name as cross-setup's).
const PREFIX_STAMP: &str = ".cross-setup-wine-version";

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub quiet: bool,
    pub rust_only: bool,
    pub force: bool,
}

pub fn main(args: &[OsString]) -> Result<ExitCode> {
    let mut options = Options::default();
    for arg in args {
        match arg.to_str() {
            Some("-q" | "--quiet") => options.quiet = true,
            Some("--rust-only") => options.rust_only = true,
            Some("--force") => options.force = true,
            Some("-h" | "--help") => {
                print!("{HELP}");
                return Ok(ExitCode::SUCCESS);
            }
            _ => {
                let message = format!("unknown argument '{}'", arg.to_string_lossy());
                return Ok(usage_error("setup", &message));
            }
        }
    }
    run(options)?;
    Ok(ExitCode::SUCCESS)
}

/// Work being done is announced even with `--quiet`, as it can take a while.
fn step(message: &str) {
    eprintln!("xtask setup: {message}");
}

/// Installs whatever is missing; see the module docs.
pub fn run(options: Options) -> Result<()> {
    let cache = cache_dir()?;
    fs::create_dir_all(&cache).map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let lock_path = cache.join(".lock");
    let lock = File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    sys::lock(&lock, || step("waiting for another setup to finish"))
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;

    let mut packages = RUST_PACKAGES.to_vec();
    if !options.rust_only {
        packages.extend_from_slice(WINDOWS_PACKAGES);
    }
    let missing = missing_packages(&packages);
    if !missing.is_empty() {
        install_packages(&missing, &cache.join("apt.log"))?;
    }
    check_toolchain()?;

    // Versions are only for the closing message: each query costs tens of
    // milliseconds, which --quiet runs (the start of every check and test) skip.
    let version = |cmd: &mut Command| capture(cmd).unwrap_or_else(|e| e);
    let rust_version = || version(Command::new(DEBIAN_RUSTC).arg("--version"));
    if options.rust_only {
        if !options.quiet {
            let rust = rust_version();
            println!("xtask setup: ready: {rust} with std sources (check-unix)");
        }
        return Ok(());
    }

    for tool in [MINGW_GCC, "wine", "wineboot", "wineserver"] {
        if find_in_path(tool).is_none() {
            return Err(format!(
                "{tool} not found although its package is installed"
            ));
        }
    }
    let dll = build_shim(&cache.join("shim"), options.force)?;
    let prefix = wine::prefix(&cache);
    let wine_version = prepare_prefix(&prefix, &cache.join("wineboot.log"), options.force)?;
    install_shim(&dll, &prefix)?;

    if !options.quiet {
        let rust = rust_version();
        let gcc = version(Command::new(MINGW_GCC).arg("-dumpversion"));
        println!("xtask setup: ready: {rust}, mingw-w64 gcc {gcc}, {wine_version}");
        println!("xtask setup: wine prefix: {}", prefix.display());
    }
    Ok(())
}

/// The packages of `wanted` that are not installed, by dpkg's database (one
/// query for all of them; without dpkg, all of them).
fn missing_packages<'a>(wanted: &[&'a str]) -> Vec<&'a str> {
    let output = Command::new("dpkg-query")
        .arg("--show")
        .arg("--showformat=${Package} ${db:Status-Abbrev}\\n")
        .args(wanted)
        // Unknown packages are reported on stderr (and make the status 1).
        .stderr(Stdio::null())
        .output();
    let listing = output
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    wanted
        .iter()
        .copied()
        .filter(|package| !is_installed(&listing, package))
        .collect()
}

/// Whether `dpkg-query --show` output lists `package` as installed ("ii"; a
/// package removed but not purged is "rc", a known one never installed "un").
fn is_installed(listing: &str, package: &str) -> bool {
    listing.lines().any(|line| {
        let mut fields = line.split_whitespace();
        fields.next() == Some(package) && fields.next().is_some_and(|s| s.starts_with("ii"))
    })
}

fn install_packages(missing: &[&str], log_path: &Path) -> Result<()> {
    let list = missing.join(" ");
    if find_in_path("apt-get").is_none() {
        return Err(format!(
            "apt-get not found: this needs a Debian 12 (bookworm) system. Missing packages: {list}"
        ));
    }
    // Without root, sudo must not ask for a password: nobody may be there to type it.
    let sudo = if sys::is_root() {
        false
    } else if find_in_path("sudo").is_some()
        && Command::new("sudo")
            .args(["-n", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    {
        true
    } else {
        return Err(format!(
            "packages missing: {list}. Run as root (or with password-less sudo), or install \
             them yourself: apt-get install --no-install-recommends {list}"
        ));
    };
    // `env` in the command itself, as sudo does not pass the environment on.
    let apt = |args: &[&str]| {
        let mut cmd = Command::new(if sudo { "sudo" } else { "env" });
        if sudo {
            cmd.args(["-n", "env"]);
        }
        cmd.arg("DEBIAN_FRONTEND=noninteractive")
            .arg("apt-get")
            .args(args);
        cmd
    };

    step(&format!(
        "installing {list} (apt-get; takes a few minutes the first time)"
    ));
    let log =
        File::create(log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    run_logged(apt(&["update", "-qq"]), &log, log_path)
        .map_err(|e| format!("apt-get update failed: {e}"))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(missing);
    run_logged(install, &log, log_path).map_err(|e| {
        format!(
            "apt-get install {list} failed: {e}. rustc-web, cargo-web and rust-web-src come \
             from bookworm and bookworm-security; check that both are in the apt sources"
        )
    })
}

/// Runs `cmd` with its output going to `log`; on failure prints the end of the log.
fn run_logged(mut cmd: Command, log: &File, log_path: &Path) -> Result<()> {
    let out = log.try_clone().map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let status = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", cmd.get_program().to_string_lossy()))?;
    if status.success() {
        return Ok(());
    }
    print_log_tail(log_path, 20);
    Err(format!("{status} (full log: {})", log_path.display()))
}

/// Checks that Debian's toolchain and std's sources are there.
fn check_toolchain() -> Result<()> {
    for tool in [DEBIAN_CARGO, DEBIAN_RUSTC, DEBIAN_RUSTDOC] {
        if !sys::is_executable(Path::new(tool)) {
            return Err(format!(
                "{tool} is missing although rustc-web/cargo-web are installed"
            ));
        }
    }
    let sysroot = capture(Command::new(DEBIAN_RUSTC).args(["--print", "sysroot"]))?;
    let library = Path::new(&sysroot).join("lib/rustlib/src/rust/library");
    if !library.join("Cargo.lock").is_file() {
        return Err(format!(
            "std sources not found in {} (package rust-web-src)",
            library.display()
        ));
    }
    Ok(())
}

/// Builds `bcryptprimitives.dll` in `dir` unless it is there from the same source.
fn build_shim(dir: &Path, force: bool) -> Result<std::path::PathBuf> {
    let dll = dir.join("bcryptprimitives.dll");
    let source = dir.join("bcryptprimitives.c");
    let def = dir.join("bcryptprimitives.def");
    let current = dll.is_file() && fs::read_to_string(&source).is_ok_and(|s| s == SHIM_C);
    if current && !force {
        return Ok(dll);
    }
    step("building bcryptprimitives.dll (ProcessPrng shim for Wine)");
    let write = |path: &Path, text: &str| {
        fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write(&source, SHIM_C)?;
    write(&def, SHIM_DEF)?;
    // Built next to the DLL and renamed, so an interrupted build leaves no
    // broken DLL that would look current.
    let tmp = dir.join("bcryptprimitives.dll.tmp");
    let status = Command::new(MINGW_GCC)
        .args(["-shared", "-O2", "-s", "-o"])
        .args([&tmp, &source, &def])
        .arg("-lbcrypt")
        .status()
        .map_err(|e| format!("cannot run {MINGW_GCC}: {e}"))?;
    if !status.success() {
        return Err(format!("building the shim DLL with {MINGW_GCC} failed"));
    }
    fs::rename(&tmp, &dll).map_err(|e| format!("cannot rename {}: {e}", tmp.display()))?;
    Ok(dll)
}

/// Creates the Wine prefix, or updates it after a Wine upgrade; returns `wine --version`.
fn prepare_prefix(prefix: &Path, log_path: &Path, force: bool) -> Result<String> {
    let wine = |program: &str| {
        let mut cmd = Command::new(program);
        wine::configure(&mut cmd, prefix, false);
        cmd
    };
    let wine_version =
        capture(wine("wine").arg("--version")).map_err(|e| format!("wine does not run: {e}"))?;
    if force && prefix.is_dir() {
        // Stop the prefix's server before deleting what it has open.
        let _ = wine("wineserver").arg("-k").stderr(Stdio::null()).status();
        fs::remove_dir_all(prefix)
            .map_err(|e| format!("cannot remove {}: {e}", prefix.display()))?;
    }
    let registry = prefix.join("system.reg");
    let stamp = prefix.join(PREFIX_STAMP);
    let stamped = fs::read_to_string(&stamp).is_ok_and(|s| s.trim_end() == wine_version);
    if registry.is_file() && stamped {
        return Ok(wine_version);
    }
    let mode = if registry.is_file() {
        step(&format!("updating the Wine prefix for {wine_version}"));
        "-u"
    } else {
        step(&format!(
            "creating the Wine prefix ({wine_version}) in {}",
            prefix.display()
        ));
        "-i"
    };
    fs::create_dir_all(prefix).map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    let log =
        File::create(log_path).map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let mut boot = wine("wineboot");
    boot.arg(mode);
    run_logged(boot, &log, log_path).map_err(|e| format!("wineboot {mode} failed: {e}"))?;
    // wineboot returns before the server has written the registry to disk.
    let _ = wine("wineserver").arg("-w").status();
    if !registry.is_file() {
        return Err(format!(
            "wineboot did not create {} (log: {})",
            registry.display(),
            log_path.display()
        ));
    }
    fs::write(&stamp, format!("{wine_version}\n"))
        .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(wine_version)
}

/// Copies the shim into the prefix's `system32` (64-bit DLLs) unless it is there.
fn install_shim(dll: &Path, prefix: &Path) -> Result<()> {
    let system32 = prefix.join("drive_c/windows/system32");
    if !system32.is_dir() {
        return Err(format!(
            "{} missing: run `cargo xtask setup --force` to recreate the Wine prefix",
            system32.display()
        ));
    }
    let installed = system32.join("bcryptprimitives.dll");
    let built = fs::read(dll).map_err(|e| format!("cannot read {}: {e}", dll.display()))?;
    if fs::read(&installed).is_ok_and(|bytes| bytes == built) {
        return Ok(());
    }
    fs::write(&installed, built).map_err(|e| format!("cannot write {}: {e}", installed.display()))
}

/// Runs `cmd` and returns its standard output, trimmed; an error if it fails.
fn capture(cmd: &mut Command) -> Result<String> {
    let output = cmd
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cmd.get_program().to_string_lossy()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            crate::display_command(cmd),
            output.status
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_listing() {
        let listing = "wine ii \nwine64 rc \ncargo-web un \n";
        assert!(is_installed(listing, "wine"));
        assert!(!is_installed(listing, "wine64"));
        assert!(!is_installed(listing, "cargo-web"));
        assert!(!is_installed(listing, "rustc-web"));
    }
}
