//! The `driver_echo` example's command line, run as the program it is: `--help` answers with
//! the usage (status 0), bad input is refused with a message naming the flag (status 2), a
//! failure prints what failed and on what (status 1), and `--addr` takes a host name.
//!
//! `cargo test` builds the example next to the test binaries (`target/<profile>/examples`);
//! a run of this file alone (`--test examples_cli`) does not, so then it is built here once.
//! Every child is killed if it has not ended within [`LIMIT`].
//!
//! Not built for Windows: its tests run under Wine from a cross build of the test targets
//! alone, without the examples beside them; the argument handling is the same code there.

#![cfg(not(windows))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// The longest a child may run, and the server may take to say where it listens.
const LIMIT: Duration = Duration::from_secs(30);

/// The path of the built example, built first if it is missing.
fn driver_echo() -> PathBuf {
    let test = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test>: the examples are in target/<profile>/examples.
    let profile = test
        .parent()
        .and_then(Path::parent)
        .expect("the test binary is in <profile>/deps");
    let path = profile
        .join("examples")
        .join(format!("driver_echo{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        static BUILT: OnceLock<()> = OnceLock::new();
        BUILT.get_or_init(|| build_example(profile));
    }
    assert!(
        path.exists(),
        "{} is missing: build it (cargo build -p proactor-driver --examples)",
        path.display()
    );
    path
}

/// Builds the example into the target directory `profile` belongs to.
fn build_example(profile: &Path) {
    let profile_name = match profile.file_name().and_then(|name| name.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => return,
    };
    let Some(target) = profile.parent() else {
        return;
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let child = Command::new(cargo)
        .args(["build", "-p", "proactor-driver", "--examples", "--profile"])
        .arg(profile_name)
        .env("CARGO_TARGET_DIR", target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn();
    // A failure shows in cargo's own output and in the missing file the caller reports.
    if let Ok(mut child) = child {
        let _ = wait(&mut child, Duration::from_secs(900));
    }
}

/// Waits up to `limit` for `child` to end; kills it (and reaps it) if it has not.
fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Everything `from` gives until its end, read on a thread of its own.
fn read_all(mut from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        let _ = sender.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    receiver
}

/// Runs the example with `args` to its end: its status, stdout and stderr.
fn run(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(driver_echo())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run driver_echo");
    let stdout = read_all(child.stdout.take().expect("piped"));
    let stderr = read_all(child.stderr.take().expect("piped"));
    let status = wait(&mut child, LIMIT);
    let stdout = stdout.recv_timeout(LIMIT).unwrap_or_default();
    let stderr = stderr.recv_timeout(LIMIT).unwrap_or_default();
    let Some(status) = status else {
        panic!("driver_echo {args:?} still ran after {LIMIT:?}; stdout: {stdout:?}, stderr: {stderr:?}");
    };
    (status, stdout, stderr)
}

/// Runs the example with `args`, which it must refuse: status 2, a message holding `says`,
/// and the usage line.
fn refused(args: &[&str], says: &str) {
    let (status, stdout, stderr) = run(args);
    assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.starts_with("driver_echo: ") && stderr.contains(says),
        "{args:?} should say {says:?}: {stderr:?}"
    );
    assert!(stderr.contains("usage: driver_echo "), "{stderr:?}");
    assert!(stdout.is_empty(), "{stdout:?}");
}

#[test]
fn help_gives_the_usage() {
    for flag in ["--help", "-h"] {
        let (status, stdout, stderr) = run(&[flag]);
        assert!(status.success(), "{flag}: {status:?}");
        assert!(stdout.starts_with("usage: driver_echo "), "{stdout:?}");
        assert!(stderr.is_empty(), "{stderr:?}");
    }
}

#[test]
fn bad_input_is_refused_naming_the_flag() {
    refused(&["--no-such-flag"], "unknown flag --no-such-flag");
    refused(&["--addr"], "--addr needs a value");
    refused(&["--addr", "localhost"], "--addr localhost: ");
    refused(
        &["--addr", "no-such-host.invalid:80"],
        "--addr no-such-host.invalid:80: ",
    );
    refused(
        &["--backend", "carrier-pigeon"],
        "--backend carrier-pigeon: expected one of io_uring, epoll, iocp",
    );
}

#[test]
fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (status, _, stderr) = run(&["--addr", &address]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!("driver_echo: error: cannot bind: {address}: "))
            && stderr.contains("(os error ")
            && !stderr.contains("Os {"),
        "{stderr:?}"
    );
}

#[test]
fn addr_takes_a_host_name() {
    let mut child = Command::new(driver_echo())
        .args(["--addr", "localhost:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run driver_echo");
    let stdout = child.stdout.take().expect("piped");
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = lines.recv_timeout(LIMIT);
    let result = std::panic::catch_unwind(|| {
        let line = line.expect("driver_echo said where it listens");
        // "driver_echo: listening on ADDRESS (BACKEND: REASON)"
        let address: SocketAddr = line
            .split(' ')
            .nth(3)
            .and_then(|word| word.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        assert!(address.ip().is_loopback() && address.port() != 0, "{line}");
        let mut stream = TcpStream::connect_timeout(&address, LIMIT).expect("connect");
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        stream.write_all(b"ping").unwrap();
        let mut reply = [0; 4];
        stream.read_exact(&mut reply).expect("the echo");
        assert_eq!(&reply, b"ping");
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
