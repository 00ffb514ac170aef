//! A listener that runs out of descriptors (EMFILE) keeps working: accept fails with the
//! error, and succeeds again once descriptors are free; `compat::hyper::serve` pauses instead of
//! spinning meanwhile, and serves again. Run in a child process with a low RLIMIT_NOFILE, so
//! the limit touches nothing else.

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

/// `compat::hyper::serve` out of descriptors: it pauses accepting instead of spinning (the
/// child uses little CPU meanwhile), keeps serving the connections it has, and serves new ones
/// once descriptors are free; it ends only when told to.
fn serve_child(backend: Backend) {
    use std::future::IntoFuture;
    use std::sync::{Arc, Mutex};

    use axum::routing::get;
    use axum::Router;

    let runtime = Builder::new().backend(backend).build().unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stop = Arc::new(Mutex::new(Some(stop)));
        let app = Router::new().route("/", get(|| async { "hello" })).route(
            "/stop",
            get(move || {
                if let Some(stop) = stop.lock().unwrap().take() {
                    let _ = stop.send(());
                }
                async { "stopping" }
            }),
        );
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        let limit = libc::rlimit {
            rlim_cur: open + 8,
            rlim_max: open + 8,
        };
        // SAFETY: setrlimit reads a valid rlimit struct.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
        println!("{port}");
        let server = proactor::compat::hyper::serve(listener, app.into_make_service())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            });
        proactor::time::timeout(Duration::from_secs(60), server.into_future())
            .await
            .expect("the server ran until told to stop")
            .expect("the server ends cleanly");
    });
}

/// An HTTP/1.1 GET of `path` from the child's server: the response, or an error.
fn get(port: u16, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// The child's CPU time so far, in clock ticks (user and system).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn run_serve_child(test: &str, backend: &str) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, backend)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
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
    let result = std::panic::catch_unwind(|| {
        // Idle connections, more than the child has descriptors for: it takes what it can
        // and then fails to accept.
        let idle: Vec<_> = (0..16)
            .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let before = cpu_ticks(child.id());
        std::thread::sleep(Duration::from_millis(1000));
        let spent = cpu_ticks(child.id()) - before;
        // SAFETY: sysconf only reads a constant of the system.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        assert!(
            spent < per_second / 4,
            "{spent} ticks of CPU in a second out of descriptors: spinning"
        );
        drop(idle);
        // Served again once the idle connections are gone.
        let deadline = Instant::now() + Duration::from_secs(20);
        let response = loop {
            match get(port, "/") {
                Ok(response) if response.starts_with("HTTP/1.1 200") => break response,
                other => {
                    assert!(Instant::now() < deadline, "never served again: {other:?}");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        };
        assert!(response.ends_with("hello"), "{response}");
        let response = get(port, "/stop").unwrap();
        assert!(response.ends_with("stopping"), "{response}");
    });
    if let Err(panic) = result {
        let _ = child.kill();
        let _ = child.wait();
        std::panic::resume_unwind(panic);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child's server did not stop in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "child failed: {status}");
}

#[test]
fn serve_rides_out_emfile_io_uring() {
    match std::env::var(CHILD).as_deref() {
        Ok("io_uring") => serve_child(Backend::IoUring),
        Ok(_) => {}
        Err(_) => run_serve_child("serve_rides_out_emfile_io_uring", "io_uring"),
    }
}

#[test]
fn serve_rides_out_emfile_epoll() {
    match std::env::var(CHILD).as_deref() {
        Ok("epoll") => serve_child(Backend::Epoll),
        Ok(_) => {}
        Err(_) => run_serve_child("serve_rides_out_emfile_epoll", "epoll"),
    }
}
