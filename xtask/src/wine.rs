//! Running Windows executables under Wine: the environment every Wine command
//! here uses, and `wine-runner`, the cargo target runner of `test-windows`.
//!
//! `test-windows` sets `target.x86_64-pc-windows-gnu.runner` to this very
//! binary with the `wine-runner` argument, so cargo runs each test executable
//! (and each doc-test) as `xtask wine-runner EXE ARGS...`. The runner:
//!
//! - runs it with `wine` in the xtask's own prefix, silently (`WINEDEBUG=-all`,
//!   no Mono/Gecko prompts, no display);
//! - kills it if it still runs after `CROSS_WIN_TIMEOUT` seconds (default 600;
//!   0 = no limit) and fails with status 124, so that a hung test cannot hang
//!   CI; a test that panics while Windows I/O on its buffers is pending has
//!   been seen to hang under Wine instead of failing;
//! - ends it if cargo dies (or, on Linux, if the runner itself dies), so that
//!   nothing is left running;
//! - on a terminal, keeps it in the terminal's foreground process group, where
//!   Ctrl-C reaches it and Wine's console can read the terminal (a background
//!   group would be stopped by `SIGTTIN`);
//! - explains exit status 53 (`STATUS_DLL_NOT_FOUND`);
//! - runs an executable once more when it failed because its wineserver went
//!   away ("wine client error" on its stderr, watched off a terminal): Wine's
//!   failure, seen once in many CI runs, not the test's.

use crate::sys::{self, Signal};
use crate::{cache_dir, env_nonempty, exit_code, Result};
use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Default for `CROSS_WIN_TIMEOUT`, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 600;
/// How long a test executable gets to exit after `SIGTERM` before `SIGKILL`.
const KILL_GRACE: Duration = Duration::from_secs(10);
/// How often the runner checks that cargo is still alive.
const PARENT_POLL: Duration = Duration::from_secs(1);
/// Exit status for a timed-out executable, as `timeout(1)` reports one.
const TIMED_OUT: u8 = 124;
/// `STATUS_DLL_NOT_FOUND` (0xC0000135) truncated to 8 bits by Wine.
const DLL_NOT_FOUND: i32 = 53;

/// `DLL=`: do not load these. mscoree and mshtml would make Wine offer to
/// download Mono and Gecko; winemenubuilder would write desktop menu entries.
const DLL_OVERRIDES: &str = "mscoree,mshtml,winemenubuilder.exe=";

/// The xtask's Wine prefix (its own, so `~/.wine` is never touched).
pub fn prefix(cache: &Path) -> PathBuf {
    cache.join("wineprefix")
}

/// Points a `wine`, `wineboot` or `wineserver` command at our 64-bit prefix.
/// With `allow_user_settings`, a `WINEDEBUG` or `WINEDLLOVERRIDES` in the
/// environment wins (for debugging a test); otherwise Wine is made silent.
pub fn configure(cmd: &mut Command, prefix: &Path, allow_user_settings: bool) {
    let user = |name: &str, default: &str| match env_nonempty(name) {
        Some(value) if allow_user_settings => value,
        _ => OsString::from(default),
    };
    cmd.env("WINEPREFIX", prefix)
        .env("WINEARCH", "win64")
        .env("WINEDEBUG", user("WINEDEBUG", "-all"))
        .env("WINEDLLOVERRIDES", user("WINEDLLOVERRIDES", DLL_OVERRIDES))
        // No windows: tests must not depend on a display, and CI has none.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
}

/// The per-executable time limit from `CROSS_WIN_TIMEOUT`; `None` for no limit.
pub fn timeout_from_env() -> Result<Option<Duration>> {
    let Some(value) = env_nonempty("CROSS_WIN_TIMEOUT") else {
        return Ok(Some(Duration::from_secs(DEFAULT_TIMEOUT_SECS)));
    };
    parse_timeout(&value.to_string_lossy())
}

fn parse_timeout(value: &str) -> Result<Option<Duration>> {
    match value.trim().parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(secs) => Ok(Some(Duration::from_secs(secs))),
        Err(_) => Err(format!(
            "CROSS_WIN_TIMEOUT={value}: expected a whole number of seconds (0 = no limit)"
        )),
    }
}

/// What Wine's client library prints when the wineserver went away under a
/// process ("wine client error:0: recvmsg: Connection reset by peer"): Wine's
/// own failure, not the test's.
const LOST_SERVER: &[u8] = b"wine client error";

/// `xtask wine-runner EXE [ARGS...]`.
pub fn runner_main(args: &[OsString]) -> Result<ExitCode> {
    let Some(exe) = args.first() else {
        eprintln!(
            "usage: xtask wine-runner PROGRAM.exe [ARGS...] (cargo's runner for test-windows)"
        );
        return Ok(ExitCode::from(2));
    };
    if !cfg!(unix) {
        return Err("runs on Linux only".into());
    }
    let limit = timeout_from_env()?;
    let prefix = prefix(&cache_dir()?);
    let wine = || {
        let mut cmd = Command::new("wine");
        cmd.args(args);
        configure(&mut cmd, &prefix, true);
        cmd
    };
    let name = Path::new(exe)
        .file_name()
        .unwrap_or(exe)
        .to_string_lossy()
        .into_owned();

    let Some(limit) = limit else {
        // Nothing to supervise.
        return crate::exec(wine());
    };
    // A wineserver that dies under a test (seen once in many CI runs, Wine 8)
    // fails the executable with nothing wrong in it: run it once more then.
    let (code, lost_server) = supervise(wine(), &name, limit)?;
    if code == ExitCode::SUCCESS || !lost_server {
        return Ok(code);
    }
    eprintln!("wine-runner: the wineserver went away under {name}; running it once more");
    Ok(supervise(wine(), &name, limit)?.0)
}

/// Runs `cmd` (a `wine` command) with the time limit; returns its exit code and
/// whether Wine said its server went away.
fn supervise(mut cmd: Command, name: &str, limit: Duration) -> Result<(ExitCode, bool)> {
    // On a terminal, stay in its foreground process group (see the module
    // docs); otherwise a group of its own, so that a timeout also ends any
    // process the test started.
    let on_terminal = std::io::stdin().is_terminal()
        || std::io::stdout().is_terminal()
        || std::io::stderr().is_terminal();
    let whole_group = !on_terminal;
    sys::configure_child(&mut cmd, whole_group);
    // Off a terminal stderr passes through here, watched for LOST_SERVER.
    if !on_terminal {
        cmd.stderr(Stdio::piped());
    }

    let parent = sys::parent_id();
    let mut child = cmd.spawn().map_err(|e| format!("cannot run wine: {e}"))?;
    let pid = child.id();
    let watcher = child
        .stderr
        .take()
        .map(|stderr| std::thread::spawn(move || pass_stderr_through(stderr, std::io::stderr())));
    let lost_server = move || watcher.is_some_and(|watcher| watcher.join().unwrap_or(false));
    // Waiting happens on a thread so that this one can time it out.
    let (sender, exited) = mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait()));

    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            terminate(pid, whole_group, &exited);
            eprintln!(
                "wine-runner: error: {name} still running after {}s, killed \
                 (set CROSS_WIN_TIMEOUT to change the limit)",
                limit.as_secs()
            );
            return Ok((ExitCode::from(TIMED_OUT), false));
        }
        match exited.recv_timeout(left.min(PARENT_POLL)) {
            Ok(status) => {
                let status = status.map_err(|e| format!("waiting for wine: {e}"))?;
                if status.code() == Some(DLL_NOT_FOUND) {
                    eprintln!(
                        "wine-runner: {name} exited with 53: probably a DLL it imports is \
                         missing from Wine; WINEDEBUG=err+module shows which"
                    );
                }
                return Ok((exit_code(status), lost_server()));
            }
            Err(RecvTimeoutError::Timeout) => {
                if sys::parent_id() != parent {
                    // cargo is gone: nobody will read the result.
                    terminate(pid, whole_group, &exited);
                    return Ok((ExitCode::from(128 + Signal::Term as u8), false));
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err("lost track of wine".into()),
        }
    }
}

/// Copies a child's stderr to `out` (ours) as it comes; returns whether it held
/// [`LOST_SERVER`]. Ends when every holder of the pipe's write end is gone.
fn pass_stderr_through(mut stderr: impl Read, mut out: impl Write) -> bool {
    let mut seen = false;
    // The end of the previous chunk, so a marker split between reads is found.
    let mut tail: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let count = match stderr.read(&mut chunk) {
            Ok(0) | Err(_) => return seen,
            Ok(count) => count,
        };
        let _ = out.write_all(&chunk[..count]);
        tail.extend_from_slice(&chunk[..count]);
        seen = seen || tail.windows(LOST_SERVER.len()).any(|w| w == LOST_SERVER);
        let keep = tail.len().saturating_sub(LOST_SERVER.len());
        tail.drain(..keep);
    }
}

/// `SIGTERM`, then `SIGKILL` if the executable has not exited after a grace period.
fn terminate<T>(pid: u32, whole_group: bool, exited: &mpsc::Receiver<T>) {
    sys::send_signal(pid, whole_group, Signal::Term);
    if exited.recv_timeout(KILL_GRACE).is_err() {
        sys::send_signal(pid, whole_group, Signal::Kill);
        // Reaped by the waiting thread; wait for that (bounded, in case the
        // kill could not be delivered).
        let _ = exited.recv_timeout(KILL_GRACE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_server_is_seen_across_reads() {
        struct Chunks(Vec<&'static [u8]>);
        impl Read for Chunks {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                let chunk = self.0.remove(0);
                out[..chunk.len()].copy_from_slice(chunk);
                Ok(chunk.len())
            }
        }
        let split = Chunks(vec![b"test a ... ok\nwine cli", b"ent error:0: recvmsg\n"]);
        // Into a sink: a test harness's lines on the real stderr would read as a result.
        assert!(pass_stderr_through(split, std::io::sink()));
        assert!(!pass_stderr_through(
            Chunks(vec![b"test a ... FAILED\n"]),
            std::io::sink()
        ));
    }

    #[test]
    fn timeout_values() {
        assert_eq!(parse_timeout("0"), Ok(None));
        assert_eq!(parse_timeout("15"), Ok(Some(Duration::from_secs(15))));
        assert!(parse_timeout("1.5").is_err());
        assert!(parse_timeout("ten").is_err());
    }

    #[test]
    fn user_wine_settings_only_where_allowed() {
        // WINEDEBUG is not set in the test environment unless a person set it,
        // in which case the non-user command must still be silent.
        let mut cmd = Command::new("wine");
        configure(&mut cmd, Path::new("/p"), false);
        let env = |name: &str| {
            cmd.get_envs()
                .find(|(n, _)| *n == name)
                .and_then(|(_, v)| v)
        };
        assert_eq!(env("WINEDEBUG"), Some("-all".as_ref()));
        assert_eq!(env("WINEPREFIX"), Some("/p".as_ref()));
        assert_eq!(env("WINEDLLOVERRIDES"), Some(DLL_OVERRIDES.as_ref()));
    }
}
