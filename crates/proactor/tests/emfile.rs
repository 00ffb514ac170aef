//! A listener that runs out of descriptors (EMFILE) keeps working: accept fails with the
//! error, and succeeds again once descriptors are free. Run in a child process with a low
//! RLIMIT_NOFILE, so the limit touches nothing else.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proactor::net::TcpListener;
use proactor::{Backend, Builder};

const CHILD: &str = "PROACTOR_EMFILE_CHILD";

fn child(backend: Backend) {
    let runtime = Builder::new().backend(backend).build().unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        let limit = libc::rlimit {
            rlim_cur: open + 4,
            rlim_max: open + 4,
        };
        // SAFETY: setrlimit reads a valid rlimit struct.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
        println!("{}", listener.local_addr().unwrap().port());
        let mut accepted = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let error = loop {
            assert!(Instant::now() < deadline, "never ran out of descriptors");
            match listener.accept().await {
                Ok((stream, _)) => accepted.push(stream),
                Err(error) => break error,
            }
        };
        assert_eq!(error.raw_os_error(), Some(libc::EMFILE), "{error}");
        let before = accepted.len();
        // Free descriptors (closes go through the driver; let them run), then accept again.
        accepted.clear();
        proactor::time::sleep(Duration::from_millis(20)).await;
        let (stream, _) = proactor::time::timeout(Duration::from_secs(10), listener.accept())
            .await
            .expect("accept after EMFILE timed out")
            .expect("accept works again once descriptors are free");
        drop(stream);
        eprintln!("{backend}: accepted {before}, then EMFILE, then accepted again");
    });
}

fn run_child(test: &str, backend: &str) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, backend)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The child prints its port; the test harness may put other words before it on the line.
    // Read on a thread so a child that never prints cannot hang the test.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Reads to the end: a closed pipe would fail the child's later output.
        for line in stdout.lines().map_while(Result::ok) {
            if let Some(port) = line
                .split_whitespace()
                .last()
                .and_then(|word| word.parse::<u16>().ok())
            {
                let _ = sender.send(port);
            }
        }
    });
    let Ok(port) = receiver.recv_timeout(Duration::from_secs(30)) else {
        let _ = child.kill();
        panic!("the child never printed its port");
    };
    let clients: Vec<_> = (0..16)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("child did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(clients);
    assert!(status.success(), "child failed: {status}");
}

#[test]
fn accept_recovers_after_emfile_io_uring() {
    match std::env::var(CHILD).as_deref() {
        Ok("io_uring") => child(Backend::IoUring),
        Ok(_) => {}
        Err(_) => run_child("accept_recovers_after_emfile_io_uring", "io_uring"),
    }
}

#[test]
fn accept_recovers_after_emfile_epoll() {
    match std::env::var(CHILD).as_deref() {
        Ok("epoll") => child(Backend::Epoll),
        Ok(_) => {}
        Err(_) => run_child("accept_recovers_after_emfile_epoll", "epoll"),
    }
}
