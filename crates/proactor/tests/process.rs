//! Child processes, on every backend this machine has (`epoll::cat_round_trip`).

#![cfg(target_os = "linux")]

mod common;

use std::future::Future;
use std::io::{self, ErrorKind};
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::per_backend;
use proactor::io::{AsyncRead, AsyncWrite};
use proactor::process::{Command, Stdio};
use proactor::time::{sleep, timeout};
use proactor::Runtime;

/// No test waits longer than this.
const LIMIT: Duration = Duration::from_secs(20);

fn run(runtime: Runtime, test: impl Future<Output = io::Result<()>>) {
    runtime
        .block_on(timeout(LIMIT, test))
        .expect("the test timed out")
        .expect("the test failed");
}

per_backend! {
    echo_to_stdout,
    cat_round_trip,
    large_round_trip_through_cat,
    exit_codes,
    signal_in_exit_status,
    output_collects_stdout_and_stderr,
    output_defaults_do_not_stick,
    status_runs_to_the_end,
    env_and_current_dir,
    kill_a_sleeping_child,
    kill_after_exit_is_fine,
    try_wait_before_and_after,
    cancelled_wait_leaves_the_child_waitable,
    dropped_running_child_is_reaped,
    dropped_exited_child_is_reaped,
    missing_program_is_not_found,
    many_children_at_once,
    shutdown_closes_stdin,
    send_signal_is_in_the_exit_status,
    send_signal_to_a_reaped_child_is_refused,
    start_kill_ends_the_child,
    kill_on_drop_kills_the_dropped_child,
    without_kill_on_drop_the_dropped_child_runs_on,
    process_group_zero_gives_the_child_its_own_group,
    uid_and_gid_of_this_process_work_and_impossible_ones_fail_the_spawn,
    pre_exec_runs_in_the_child_and_its_error_fails_the_spawn,
}

/// Whether `pid` is gone: no longer our child (reaped) and not a zombie.
fn reaped(pid: u32) -> bool {
    // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // WNOWAIT: look without reaping, so the test never does the reaper's job.
    // SAFETY: plain syscall; `info` is writable.
    let result = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    let not_ours = result < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD);
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false);
    not_ours && !zombie
}

async fn eventually_reaped(pid: u32) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reaped(pid) {
        if Instant::now() > deadline {
            return Err(io::Error::other(format!("child {pid} was not reaped")));
        }
        sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

fn echo_to_stdout(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("echo")
            .args(["hello", "world"])
            .stdout(Stdio::piped())
            .spawn()?;
        assert!(child.stdin.is_none() && child.stderr.is_none());
        let mut stdout = child.stdout.take().expect("piped");
        let (result, bytes) = stdout.read_to_end(Vec::new()).await;
        result?;
        assert_eq!(bytes, b"hello world\n");
        let status = child.wait().await?;
        assert!(status.success());
        assert_eq!(status.code(), Some(0));
        Ok(())
    });
}

fn cat_round_trip(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        for line in ["one\n", "two\n", "three\n"] {
            let (result, _) = stdin.write_all(line.as_bytes().to_vec()).await;
            result?;
            let (result, bytes) = stdout
                .read_exact(vec![0u8; line.len()].into_boxed_slice())
                .await;
            result?;
            assert_eq!(&bytes[..], line.as_bytes());
        }
        drop(stdin);
        let (result, rest) = stdout.read_to_end(Vec::new()).await;
        result?;
        assert!(rest.is_empty());
        assert!(child.wait().await?.success());
        Ok(())
    });
}

/// More than a pipe holds, written and read concurrently.
fn large_round_trip_through_cat(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().expect("piped");
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let writer = proactor::spawn(async move {
            let (result, _) = stdin.write_all(data).await;
            result
        });
        let output = child.wait_with_output().await?;
        writer.await.expect("writer task")?;
        assert_eq!(output.stdout.len(), expected.len());
        assert!(output.stdout == expected);
        assert!(output.status.success());
        Ok(())
    });
}

fn exit_codes(runtime: Runtime) {
    run(runtime, async {
        for code in [0, 1, 7, 255] {
            let status = Command::new("sh")
                .arg("-c")
                .arg(format!("exit {code}"))
                .status()
                .await?;
            assert_eq!(status.code(), Some(code));
            assert_eq!(status.success(), code == 0);
            assert_eq!(status.signal(), None);
        }
        Ok(())
    });
}

fn signal_in_exit_status(runtime: Runtime) {
    run(runtime, async {
        let status = Command::new("sh")
            .args(["-c", "kill -USR1 $$"])
            .status()
            .await?;
        assert_eq!(status.signal(), Some(libc::SIGUSR1));
        assert_eq!(status.code(), None);
        assert!(!status.success());
        Ok(())
    });
}

fn output_collects_stdout_and_stderr(runtime: Runtime) {
    run(runtime, async {
        // More than a pipe holds on both streams: they must be read concurrently.
        let output = Command::new("sh")
            .args([
                "-c",
                "head -c 200000 /dev/zero; head -c 150000 /dev/zero >&2; echo end >&2; exit 3",
            ])
            .output()
            .await?;
        assert_eq!(output.stdout.len(), 200_000);
        assert_eq!(output.stderr.len(), 150_004);
        assert!(output.stderr.ends_with(b"end\n"));
        assert_eq!(output.status.code(), Some(3));

        // stdin is null: cat ends at once.
        let output = Command::new("cat").output().await?;
        assert!(output.stdout.is_empty() && output.status.success());
        Ok(())
    });
}

fn output_defaults_do_not_stick(runtime: Runtime) {
    run(runtime, async {
        let mut command = Command::new("echo");
        command.arg("x");
        assert_eq!(command.output().await?.stdout, b"x\n");
        // spawn inherits again: no pipe.
        let mut child = command.stdout(Stdio::null()).spawn()?;
        assert!(child.stdout.is_none());
        child.wait().await?;
        // An explicit setting wins over output's default.
        assert!(command.output().await?.stdout.is_empty());
        Ok(())
    });
}

fn status_runs_to_the_end(runtime: Runtime) {
    run(runtime, async {
        assert!(Command::new("true").status().await?.success());
        assert_eq!(Command::new("false").status().await?.code(), Some(1));
        Ok(())
    });
}

fn env_and_current_dir(runtime: Runtime) {
    run(runtime, async {
        let output = Command::new("sh")
            .args(["-c", "echo $GREETING-$HOME; pwd"])
            .env_clear()
            .env("GREETING", "hi")
            .envs([("HOME", "home")])
            .current_dir("/")
            .output()
            .await?;
        assert_eq!(output.stdout, b"hi-home\n/\n");
        let output = Command::new("sh")
            .args(["-c", "echo ${GONE:-unset}"])
            .env("GONE", "set")
            .env_remove("GONE")
            .output()
            .await?;
        assert_eq!(output.stdout, b"unset\n");
        Ok(())
    });
}

fn kill_a_sleeping_child(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("sleep").arg("100").spawn()?;
        let started = Instant::now();
        child.kill()?;
        let status = child.wait().await?;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert!(started.elapsed() < Duration::from_secs(10));
        Ok(())
    });
}

fn kill_after_exit_is_fine(runtime: Runtime) {
    run(runtime, async {
        // Exited but not reaped (a zombie): the signal is accepted and ignored.
        let mut child = Command::new("true").spawn()?;
        sleep(Duration::from_millis(100)).await;
        child.kill()?;
        assert!(child.wait().await?.success(), "true exited before the kill");
        // Reaped: nothing to signal, no error.
        child.kill()?;
        child.kill()?;
        Ok(())
    });
}

fn try_wait_before_and_after(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("sleep").arg("100").spawn()?;
        assert_eq!(child.try_wait()?, None);
        child.kill()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            assert!(Instant::now() < deadline, "the killed child did not exit");
            sleep(Duration::from_millis(5)).await;
        };
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert_eq!(child.try_wait()?, Some(status));
        assert_eq!(child.wait().await?, status);
        assert!(reaped(child.id()));
        Ok(())
    });
}

fn cancelled_wait_leaves_the_child_waitable(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("sleep").arg("100").spawn()?;
        assert!(timeout(Duration::from_millis(50), child.wait())
            .await
            .is_err());
        assert_eq!(child.try_wait()?, None);
        child.kill()?;
        assert_eq!(child.wait().await?.signal(), Some(libc::SIGKILL));
        Ok(())
    });
}

fn dropped_running_child_is_reaped(runtime: Runtime) {
    run(runtime, async {
        let child = Command::new("sleep").arg("0.2").spawn()?;
        let pid = child.id();
        drop(child);
        eventually_reaped(pid).await?;

        // One that never exits on its own: reaped once killed from outside.
        let child = Command::new("sleep").arg("100").spawn()?;
        let pid = child.id();
        drop(child);
        sleep(Duration::from_millis(20)).await;
        // SAFETY: plain syscall; the pid is unreaped, so still our child.
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
        eventually_reaped(pid).await
    });
}

fn dropped_exited_child_is_reaped(runtime: Runtime) {
    run(runtime, async {
        let child = Command::new("true").spawn()?;
        let pid = child.id();
        sleep(Duration::from_millis(100)).await;
        drop(child);
        eventually_reaped(pid).await
    });
}

fn missing_program_is_not_found(runtime: Runtime) {
    run(runtime, async {
        let error = Command::new("/definitely/not/a/program")
            .spawn()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        let error = Command::new("definitely-not-a-program-on-path")
            .output()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        Ok(())
    });
}

fn many_children_at_once(runtime: Runtime) {
    run(runtime, async {
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                proactor::spawn(async move {
                    Command::new("sh")
                        .arg("-c")
                        .arg(format!("echo {i}; exit {}", i % 5))
                        .output()
                        .await
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            let output = task.await.expect("task")?;
            assert_eq!(output.stdout, format!("{i}\n").into_bytes());
            assert_eq!(output.status.code(), Some(i as i32 % 5));
        }
        Ok(())
    });
}

fn shutdown_closes_stdin(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("wc")
            .arg("-c")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().expect("piped");
        let (result, _) = stdin.write_all(&b"12345"[..]).await;
        result?;
        stdin.flush().await?;
        stdin.shutdown().await?;
        let (result, _) = stdin.write(&b"late"[..]).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::BrokenPipe);
        let output = child.wait_with_output().await?;
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "5");
        Ok(())
    });
}

fn send_signal_is_in_the_exit_status(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("sleep").arg("100").spawn()?;
        child.send_signal(libc::SIGTERM)?;
        let status = child.wait().await?;
        assert_eq!(status.signal(), Some(libc::SIGTERM));
        assert_eq!(status.code(), None);

        // A signal the child catches: it is delivered, not fatal.
        let mut child = Command::new("sh")
            .args([
                "-c",
                "trap 'echo got USR1; exit 7' USR1; echo ready; while :; do sleep 0.01; done",
            ])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdout = child.stdout.take().expect("piped");
        let (read, ready) = stdout.read(Vec::with_capacity(64)).await;
        assert_eq!(&ready[..read?], b"ready\n", "the trap is set");
        child.send_signal(libc::SIGUSR1)?;
        let (read, rest) = stdout.read_to_end(Vec::new()).await;
        read?;
        assert_eq!(rest, b"got USR1\n");
        assert_eq!(child.wait().await?.code(), Some(7));
        Ok(())
    });
}

fn send_signal_to_a_reaped_child_is_refused(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("true").spawn()?;
        // Exited but not yet reaped: still ours, the signal is taken (and ignored).
        sleep(Duration::from_millis(100)).await;
        child.send_signal(libc::SIGTERM)?;
        assert!(child.wait().await?.success());
        // Reaped: the pid may be another process's now.
        let error = child.send_signal(libc::SIGTERM).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains("reaped"), "{error}");
        // kill() stays a no-op there, as before.
        child.kill()?;

        // Not a signal: the OS error, and the child is untouched.
        let mut child = Command::new("sleep").arg("100").spawn()?;
        let error = child.send_signal(-1).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EINVAL), "{error}");
        assert_eq!(child.try_wait()?, None);
        child.kill()?;
        child.wait().await?;
        Ok(())
    });
}

fn start_kill_ends_the_child(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("sleep").arg("100").spawn()?;
        child.start_kill()?;
        assert_eq!(child.wait().await?.signal(), Some(libc::SIGKILL));
        child.start_kill()?; // reaped: a no-op, as kill
        Ok(())
    });
}

/// The dropped child is killed: its end of the pipe closes at once, and it is reaped.
fn kill_on_drop_kills_the_dropped_child(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("sleep")
            .arg("100")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id();
        let mut stdout = child.stdout.take().expect("piped");
        let started = Instant::now();
        drop(child);
        let (read, _) = stdout.read_to_end(Vec::new()).await;
        assert_eq!(read?, 0);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "killed, not run out"
        );
        eventually_reaped(pid).await
    });
}

/// Without `kill_on_drop` (the default), a dropped child finishes its work.
fn without_kill_on_drop_the_dropped_child_runs_on(runtime: Runtime) {
    run(runtime, async {
        let mut child = Command::new("sh")
            .args(["-c", "sleep 0.2; echo still here"])
            .stdout(Stdio::piped())
            .kill_on_drop(false)
            .spawn()?;
        let pid = child.id();
        let mut stdout = child.stdout.take().expect("piped");
        drop(child);
        let (read, bytes) = stdout.read_to_end(Vec::new()).await;
        read?;
        assert_eq!(bytes, b"still here\n");
        eventually_reaped(pid).await
    });
}

/// The process group of `pid`: the fifth field of /proc/PID/stat, after the command name in
/// parentheses (which may hold spaces).
fn process_group_of(pid: u32) -> io::Result<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    // state, ppid, pgrp
    after_name
        .split_whitespace()
        .nth(2)
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no process group in {stat:?}")))
}

fn process_group_zero_gives_the_child_its_own_group(runtime: Runtime) {
    run(runtime, async {
        let ours = process_group_of(std::process::id())?;
        // spawn returns once the child has exec'd, so setpgid has run by then.
        let mut child = Command::new("sleep").arg("100").process_group(0).spawn()?;
        assert_eq!(
            process_group_of(child.id())?,
            child.id(),
            "a group of its own"
        );
        assert_ne!(child.id(), ours);
        child.kill()?;
        child.wait().await?;

        // And the child sees it too: its shell's group is its own pid.
        let output = Command::new("sh")
            .args(["-c", "echo $$; cut -d' ' -f5 /proc/$$/stat"])
            .process_group(0)
            .output()
            .await?;
        let text = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text:?}");
        assert_eq!(lines[0], lines[1], "pid and process group");

        // By default the child stays in ours.
        let mut child = Command::new("sleep").arg("100").spawn()?;
        assert_eq!(process_group_of(child.id())?, ours);
        child.kill()?;
        child.wait().await?;
        Ok(())
    });
}

/// Setting this process's own uid and gid always works; `u32::MAX` is `(uid_t)-1`, which no
/// user can switch to (`EINVAL` for root, `EPERM` for others), so the test holds whoever runs
/// it.
fn uid_and_gid_of_this_process_work_and_impossible_ones_fail_the_spawn(runtime: Runtime) {
    run(runtime, async {
        // SAFETY: plain syscalls without arguments; they cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let output = Command::new("sh")
            .args(["-c", "id -u; id -g"])
            .uid(uid)
            .gid(gid)
            .output()
            .await?;
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("{uid}\n{gid}\n")
        );

        let error = Command::new("true").uid(u32::MAX).spawn().unwrap_err();
        assert!(
            error.raw_os_error().is_some(),
            "the OS error of setuid: {error:?}"
        );
        let error = Command::new("true").gid(u32::MAX).spawn().unwrap_err();
        assert!(
            error.raw_os_error().is_some(),
            "the OS error of setgid: {error:?}"
        );
        Ok(())
    });
}

fn pre_exec_runs_in_the_child_and_its_error_fails_the_spawn(runtime: Runtime) {
    run(runtime, async {
        let mut command = Command::new("sh");
        command.args(["-c", "echo $$; cut -d' ' -f6 /proc/$$/stat"]);
        // SAFETY: setsid is a plain syscall, async-signal-safe, sharing nothing.
        unsafe {
            command.pre_exec(|| match libc::setsid() {
                -1 => Err(io::Error::last_os_error()),
                _ => Ok(()),
            });
        }
        let output = command.output().await?;
        let text = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text:?}");
        assert_eq!(lines[0], lines[1], "the child leads a session of its own");

        let mut command = Command::new("true");
        // SAFETY: returns an error and touches nothing.
        unsafe {
            command.pre_exec(|| Err(io::Error::from_raw_os_error(libc::EDOM)));
        }
        let error = command.spawn().unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EDOM), "{error:?}");
        Ok(())
    });
}
