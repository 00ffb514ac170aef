//! The examples' command lines, run as the programs they are: `--help` answers with the usage
//! (status 0), bad input is refused with a message that names the flag (status 2), and a
//! failure prints what failed, on what, with the error's text and never Rust's debug form
//! (status 1).
//!
//! `cargo test` builds the examples next to the test binaries (`target/<profile>/examples`);
//! a run of this file alone (`--test examples_cli`) does not, so then they are built here once.
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

/// The longest a child may run, and a server may take to say where it listens.
const LIMIT: Duration = Duration::from_secs(30);

/// The examples of this crate.
const EXAMPLES: [&str; 6] = [
    "echo",
    "serve",
    "watch",
    "pipe",
    "hyper_server",
    "hyper_client",
];

/// The examples that start a runtime group and take `--addr` and `--threads`.
const SERVERS: [&str; 3] = ["echo", "serve", "hyper_server"];

/// The path of the built example `name`, built first if it is missing.
fn example(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test>: the examples are in target/<profile>/examples.
    let profile = test
        .parent()
        .and_then(Path::parent)
        .expect("the test binary is in <profile>/deps");
    let path = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        static BUILT: OnceLock<()> = OnceLock::new();
        BUILT.get_or_init(|| build_examples(profile));
    }
    assert!(
        path.exists(),
        "{} is missing: build the examples (cargo build -p proactor --examples)",
        path.display()
    );
    path
}

/// Builds this crate's examples into the target directory `profile` belongs to.
fn build_examples(profile: &Path) {
    let name = profile.file_name().and_then(|name| name.to_str());
    let profile_name = match name {
        Some("debug") => "dev",
        Some(name) => name,
        None => return,
    };
    let Some(target) = profile.parent() else {
        return;
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let child = Command::new(cargo)
        .args(["build", "-p", "proactor", "--examples", "--profile"])
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

/// Everything `from` gives until its end, read on a thread of its own so that a child that
/// fills one pipe cannot block on it while the test waits.
fn read_all(mut from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        let _ = sender.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    receiver
}

/// How a run of an example ended.
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs the example `name` with `args` to its end.
fn run(name: &str, args: &[&str]) -> Ran {
    let mut child = Command::new(example(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {name}: {error}"));
    let stdout = read_all(child.stdout.take().expect("piped"));
    let stderr = read_all(child.stderr.take().expect("piped"));
    let status = wait(&mut child, LIMIT);
    // What a grandchild still holding a pipe never lets end is left out, not waited for.
    let stdout = stdout.recv_timeout(LIMIT).unwrap_or_default();
    let stderr = stderr.recv_timeout(LIMIT).unwrap_or_default();
    let Some(status) = status else {
        panic!("{name} {args:?} still ran after {LIMIT:?}; stdout: {stdout:?}, stderr: {stderr:?}");
    };
    Ran {
        status,
        stdout,
        stderr,
    }
}

/// Runs the example `name` with `args`, which it must refuse: status 2, the usage line, and
/// a message holding `says`.
fn refused(name: &str, args: &[&str], says: &str) {
    let ran = run(name, args);
    assert_eq!(
        ran.status.code(),
        Some(2),
        "{name} {args:?}: {}",
        ran.stderr
    );
    assert!(
        ran.stderr.starts_with(&format!("{name}: ")) && ran.stderr.contains(says),
        "{name} {args:?} should say {says:?}: {:?}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains(&format!("usage: {name} ")),
        "{name} {args:?} shows the usage: {:?}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty(), "{name} {args:?}: {:?}", ran.stdout);
}

/// Runs the example `name` with `args`, which must fail at run time: status 1 and one line
/// `NAME: error: ...` holding each of `says` and an OS error's text, not its debug form.
fn failed(name: &str, args: &[&str], says: &[&str]) {
    let ran = run(name, args);
    assert_eq!(
        ran.status.code(),
        Some(1),
        "{name} {args:?}: {}",
        ran.stderr
    );
    let prefix = format!("{name}: error: ");
    assert!(
        ran.stderr.starts_with(&prefix) && ran.stderr.trim_end().lines().count() == 1,
        "{name} {args:?} should print one {prefix:?} line: {:?}",
        ran.stderr
    );
    for said in says.iter().copied().chain(["(os error "]) {
        assert!(
            ran.stderr.contains(said),
            "{name} {args:?} should say {said:?}: {:?}",
            ran.stderr
        );
    }
    assert!(!ran.stderr.contains("Os {"), "{:?}", ran.stderr);
}

/// A running example, killed when dropped.
struct Running {
    name: &'static str,
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(name: &'static str, args: &[&str]) -> Running {
        let mut child = Command::new(example(name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {name}: {error}"));
        let stdout = child.stdout.take().expect("piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running { name, child, lines }
    }

    /// The address of the `NAME: ... on [http://]ADDRESS with N threads (...)` line a server
    /// prints once it listens, and that line.
    fn listening(&self) -> (SocketAddr, String) {
        let line = self
            .lines
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("{} said nothing within {LIMIT:?}", self.name));
        let address = line
            .split(' ')
            .skip_while(|word| *word != "on")
            .nth(1)
            .map(|word| word.trim_start_matches("http://"))
            .and_then(|word| word.parse().ok())
            .unwrap_or_else(|| panic!("{}: no address in {line:?}", self.name));
        (address, line)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_example_answers_help_with_its_usage() {
    for name in EXAMPLES {
        for flag in ["--help", "-h"] {
            let ran = run(name, &[flag]);
            assert!(ran.status.success(), "{name} {flag}: {:?}", ran.status);
            assert!(
                ran.stdout.starts_with(&format!("usage: {name} ")),
                "{name} {flag}: {:?}",
                ran.stdout
            );
            assert!(
                ran.stdout.lines().count() > 2,
                "{name} {flag} says more than the synopsis: {:?}",
                ran.stdout
            );
            assert!(ran.stderr.is_empty(), "{name} {flag}: {:?}", ran.stderr);
        }
    }
}

#[test]
fn unknown_flags_get_the_usage() {
    for name in EXAMPLES {
        refused(name, &["--no-such-flag"], "unknown flag --no-such-flag");
    }
    refused("echo", &["stray"], "unexpected argument stray");
    refused("watch", &["one", "two"], "unexpected argument two");
}

#[test]
fn a_flag_without_its_value_is_refused() {
    refused("echo", &["--addr"], "--addr needs a value");
    refused("serve", &["--root"], "--root needs a value");
    refused("watch", &["--poll"], "--poll needs a value");
    refused(
        "hyper_client",
        &["http://127.0.0.1:1/", "--data"],
        "--data needs a value",
    );
}

#[test]
fn zero_threads_and_bad_numbers_are_refused() {
    for name in SERVERS {
        refused(name, &["--threads", "0"], "--threads 0: must be at least 1");
        refused(name, &["--threads", "many"], "--threads many: ");
        refused(name, &["--threads", "-1"], "--threads -1: ");
    }
    refused("watch", &["--poll", "0"], "--poll 0: must be at least 1");
    refused("watch", &["--poll", "soon"], "--poll soon: ");
}

#[test]
fn an_unknown_backend_is_refused_with_the_choices() {
    for name in SERVERS {
        refused(
            name,
            &["--backend", "carrier-pigeon"],
            "--backend carrier-pigeon: expected one of io_uring, epoll",
        );
    }
}

#[test]
fn addr_takes_a_host_name() {
    let echo = Running::start("echo", &["--addr", "localhost:0", "--threads", "1"]);
    let (address, line) = echo.listening();
    assert!(address.ip().is_loopback(), "{line}");
    assert_ne!(address.port(), 0, "{line}");
    assert!(line.contains(" with 1 threads "), "{line}");
    // It is the echo server, on that address.
    let mut stream = TcpStream::connect_timeout(&address, LIMIT).expect("connect to echo");
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream.write_all(b"ping").unwrap();
    let mut reply = [0; 4];
    stream.read_exact(&mut reply).expect("the echo");
    assert_eq!(&reply, b"ping");

    for name in ["serve", "hyper_server"] {
        let server = Running::start(name, &["--addr", "localhost:0", "--threads", "1"]);
        let (address, line) = server.listening();
        assert!(address.ip().is_loopback() && address.port() != 0, "{line}");
        TcpStream::connect_timeout(&address, LIMIT)
            .unwrap_or_else(|error| panic!("connect to {name} at {address}: {error}"));
    }
}

#[test]
fn an_unresolvable_host_is_refused() {
    for name in SERVERS {
        refused(
            name,
            &["--addr", "no-such-host.invalid:80"],
            "--addr no-such-host.invalid:80: ",
        );
    }
    refused("echo", &["--addr", "localhost"], "--addr localhost: ");
}

#[test]
fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    for name in SERVERS {
        failed(
            name,
            &["--addr", &address],
            &[&format!("cannot bind: {address}: ")],
        );
    }
}

#[test]
fn a_missing_path_is_named() {
    let missing = std::env::temp_dir().join(format!(
        "proactor-examples-cli-{}-missing",
        std::process::id()
    ));
    let missing = missing.to_str().expect("a UTF-8 temporary directory");
    failed("watch", &[missing], &["cannot watch: ", missing]);
    failed("watch", &["--flat", missing], &["cannot watch: ", missing]);
    failed("serve", &["--root", missing], &["--root: ", missing]);
    #[cfg(unix)]
    failed("pipe", &[missing], &["cannot run: ", missing]);
}

#[test]
fn hyper_client_wants_one_http_url() {
    refused("hyper_client", &[], "which URL?");
    refused(
        "hyper_client",
        &["https://example.com/"],
        "only http:// URLs",
    );
    refused(
        "hyper_client",
        &["http://a/", "http://b/"],
        "unexpected argument http://b/",
    );
}
