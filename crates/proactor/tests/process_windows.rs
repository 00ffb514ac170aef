//! Child processes on Windows (IOCP under Wine): the same `proactor::process` API as on Unix,
//! with `cmd.exe` as the child. The Unix suite is tests/process.rs.
#![cfg(windows)]

use std::time::{Duration, Instant};

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::process::{Command, Stdio};
use proactor::time::timeout;
use proactor::Runtime;

const LIMIT: Duration = Duration::from_secs(20);

fn run<F: std::future::Future<Output = std::io::Result<()>>>(future: F) {
    Runtime::new()
        .unwrap()
        .block_on(async { timeout(LIMIT, future).await.expect("bounded").expect("ok") });
}

#[test]
fn output_collects_stdout_stderr_and_the_exit_code() {
    run(async {
        let output = Command::new("cmd")
            .args(["/C", "echo out& echo err 1>&2& exit /b 3"])
            .output()
            .await?;
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "out");
        assert_eq!(String::from_utf8_lossy(&output.stderr).trim(), "err");
        assert_eq!(output.status.code(), Some(3));
        Ok(())
    });
}

#[test]
fn stdin_is_piped_to_the_child_and_closed_by_wait() {
    run(async {
        // `set /p` reads one line of stdin.
        let mut child = Command::new("cmd")
            .args(["/V:ON", "/C", "set /p first=& echo got !first!"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().expect("piped");
        let (written, _) = stdin.write_all(b"line one\r\nline two\r\n".to_vec()).await;
        written?;
        drop(stdin);
        let mut stdout = child.stdout.take().expect("piped");
        let (read, bytes) = stdout.read_to_end(Vec::new()).await;
        read?;
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("line one") && text.contains("line two"),
            "{text:?}"
        );
        assert!(child.wait().await?.success());
        Ok(())
    });
}

#[test]
fn wait_kill_and_try_wait() {
    run(async {
        // About 5 s unless killed.
        let mut child = Command::new("ping")
            .args(["-n", "6", "127.0.0.1"])
            .stdout(Stdio::null())
            .spawn()?;
        assert!(child.try_wait()?.is_none());
        let started = Instant::now();
        child.kill()?;
        let status = child.wait().await?;
        assert!(!status.success());
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "the kill ended it"
        );
        assert_eq!(child.try_wait()?, Some(status));
        child.kill()?; // exited: a no-op
        Ok(())
    });
}

#[test]
fn a_wait_that_is_cancelled_can_be_waited_again() {
    run(async {
        let mut child = Command::new("ping")
            .args(["-n", "2", "127.0.0.1"])
            .stdout(Stdio::null())
            .spawn()?;
        assert!(timeout(Duration::from_millis(50), child.wait())
            .await
            .is_err());
        assert!(child.wait().await?.success());
        Ok(())
    });
}

#[test]
fn many_children_at_once() {
    run(async {
        let mut tasks = Vec::new();
        for code in 0..8 {
            tasks.push(proactor::spawn(async move {
                let status = Command::new("cmd")
                    .args(["/C", &format!("exit /b {code}")])
                    .status()
                    .await?;
                Ok::<_, std::io::Error>((code, status.code()))
            }));
        }
        for task in tasks {
            let (code, status) = task.await.unwrap()?;
            assert_eq!(status, Some(code));
        }
        Ok(())
    });
}

#[test]
fn a_missing_program_is_not_found() {
    run(async {
        let missing = Command::new("no-such-program-proactor")
            .spawn()
            .unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        Ok(())
    });
}

#[test]
fn creation_flags_no_window_runs_the_child() {
    run(async {
        let status = Command::new("cmd")
            .args(["/C", "exit /b 4"])
            .creation_flags(windows_sys::Win32::System::Threading::CREATE_NO_WINDOW)
            .status()
            .await?;
        assert_eq!(status.code(), Some(4));
        Ok(())
    });
}

#[test]
fn raw_arg_reaches_the_child_unquoted() {
    run(async {
        let output = Command::new("cmd")
            .raw_arg(r#"/C echo "a b""#)
            .output()
            .await?;
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), r#""a b""#);
        Ok(())
    });
}

#[test]
fn start_kill_and_kill_on_drop() {
    run(async {
        // About 5 s unless killed.
        let mut child = Command::new("ping")
            .args(["-n", "6", "127.0.0.1"])
            .stdout(Stdio::null())
            .spawn()?;
        let started = Instant::now();
        child.start_kill()?;
        assert!(!child.wait().await?.success());
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "the kill ended it"
        );

        // Dropped with kill_on_drop: killed, so its end of the pipe closes long before 5 s.
        let mut child = Command::new("ping")
            .args(["-n", "6", "127.0.0.1"])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut stdout = child.stdout.take().expect("piped");
        let started = Instant::now();
        drop(child);
        let (read, _) = stdout.read_to_end(Vec::new()).await;
        read?;
        assert!(started.elapsed() < Duration::from_secs(4), "killed on drop");
        Ok(())
    });
}
