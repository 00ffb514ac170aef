//! No descriptor leaks through the runtime's cancelled operations, counted in `/proc/self/fd`
//! on each backend. Descriptor counts are process-wide, so this file holds one test that runs
//! the backends in turn.

#![cfg(target_os = "linux")]

mod common;

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::time::{Duration, Instant};

use proactor::net::UnixStream;
use proactor::time::{sleep, timeout};
use proactor::{Backend, Runtime};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A Unix listener whose backlog is full, so a blocking `connect` to it waits: the state in
/// which a `UnixStream::connect` is cancelled.
fn full_listener(path: &std::path::Path) -> (socket2::Socket, Vec<StdUnixStream>) {
    let listener =
        socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
    listener
        .bind(&socket2::SockAddr::unix(path).unwrap())
        .unwrap();
    listener.listen(0).unwrap();
    let mut fillers = Vec::new();
    loop {
        let filler =
            socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
        filler.set_nonblocking(true).unwrap();
        match filler.connect(&socket2::SockAddr::unix(path).unwrap()) {
            Ok(()) => fillers.push(StdUnixStream::from(std::os::fd::OwnedFd::from(filler))),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(error) => panic!("filling the backlog: {error}"),
        }
    }
    (listener, fillers)
}

/// Cancelled `UnixStream::connect`s whose connections are made after the cancel (the pool job
/// was already blocked in `connect(2)`) leave no descriptor behind.
fn cancelled_unix_connects_close_what_they_made(runtime: &Runtime) {
    let dir = std::env::temp_dir().join(format!(
        "proactor-leaks-{}-{}",
        std::process::id(),
        runtime.backend()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("full.sock");
    let (listener, fillers) = full_listener(&path);
    let before = open_fds();
    runtime.block_on(async {
        for _ in 0..20 {
            let attempt = timeout(Duration::from_millis(10), UnixStream::connect(&path)).await;
            assert!(attempt.is_err(), "the backlog is full: connect must wait");
        }
        // Let every waiting connect through: accept (and close) until 20 more than the fillers
        // were accepted or a second passes with none.
        listener.set_nonblocking(true).unwrap();
        let mut accepted = 0;
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < Duration::from_secs(1) {
            match listener.accept() {
                Ok(_) => {
                    accepted += 1;
                    quiet_since = Instant::now();
                }
                Err(_) => sleep(Duration::from_millis(5)).await,
            }
        }
        assert!(accepted >= fillers.len(), "accepted {accepted}");
        // The connects' completions come back to the runtime, which must close what they made.
        let deadline = Instant::now() + common::LIMIT;
        while open_fds() > before && Instant::now() < deadline {
            sleep(Duration::from_millis(5)).await;
        }
    });
    let after = open_fds();
    drop(fillers);
    let _ = listener.as_raw_fd();
    drop(listener);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        after <= before,
        "{}: {} descriptors leaked by cancelled connects",
        runtime.backend(),
        after - before
    );
}

/// Receives of passed descriptors that are cancelled (before or after the descriptors came)
/// or that have too little room for them leave no descriptor behind.
fn descriptor_receives_close_what_they_got(runtime: &Runtime) {
    use std::os::fd::AsFd;
    let file = std::fs::File::open("Cargo.toml").unwrap();
    let before = open_fds();
    runtime.block_on(async {
        for round in 0..20 {
            let (a, b) = proactor::net::UnixDatagram::pair().unwrap();
            let fds = [file.as_fd(), file.as_fd(), file.as_fd()];
            if round % 2 == 0 {
                a.send_with_fds(&b"early"[..], &fds).await.0.unwrap();
            }
            let cut = timeout(Duration::ZERO, b.recv_with_fds(Vec::with_capacity(8), 3)).await;
            if round % 2 == 1 {
                a.send_with_fds(&b"late"[..], &fds).await.0.unwrap();
            }
            drop(cut);
            sleep(Duration::from_millis(2)).await;
            // Room for one of three: an error, and nothing left open.
            a.send_with_fds(&b"three"[..], &fds).await.0.unwrap();
            let (received, _) = b.recv_with_fds(Vec::with_capacity(8), 1).await;
            assert!(received.is_err() || round % 2 == 1);
        }
        let deadline = Instant::now() + common::LIMIT;
        while open_fds() > before && Instant::now() < deadline {
            sleep(Duration::from_millis(5)).await;
        }
    });
    let after = open_fds();
    assert!(
        after <= before,
        "{}: {} descriptors leaked by descriptor receives",
        runtime.backend(),
        after - before
    );
}

#[test]
fn cancelled_operations_leak_no_descriptor() {
    for backend in [Backend::IoUring, Backend::Epoll] {
        let Ok(runtime) = proactor::Builder::new().backend(backend).build() else {
            eprintln!("{backend}: not available here, skipped");
            continue;
        };
        cancelled_unix_connects_close_what_they_made(&runtime);
        descriptor_receives_close_what_they_got(&runtime);
    }
}
