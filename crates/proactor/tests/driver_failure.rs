//! A runtime whose driver fails — here because hostile code replaced the driver's own
//! descriptor (the io_uring ring, the epoll instance) with `/dev/null` — reports the failure
//! to `try_block_on`'s caller as an `io::Error` instead of panicking the thread, and keeps
//! reporting it. Descriptor tables are process-wide, so this file holds one test that runs the
//! backends in turn.

#![cfg(target_os = "linux")]

use std::collections::HashSet;
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::Duration;

use proactor::time::sleep;
use proactor::{Backend, Builder};

fn descriptors() -> HashSet<(i32, String)> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            Some((fd, target.to_string_lossy().into_owned()))
        })
        .collect()
}

fn fails_cleanly(backend: Backend) {
    let before = descriptors();
    let Ok(runtime) = Builder::new().backend(backend).build() else {
        eprintln!("{backend}: not available here, skipped");
        return;
    };
    // It works first.
    assert_eq!(runtime.try_block_on(async { 7 }).unwrap(), 7);
    let kind = match backend {
        Backend::IoUring => "anon_inode:[io_uring]",
        _ => "anon_inode:[eventpoll]",
    };
    let made: Vec<i32> = descriptors()
        .difference(&before)
        .filter(|(_, target)| target == kind)
        .map(|(fd, _)| *fd)
        .collect();
    assert!(!made.is_empty(), "{backend}: no {kind} descriptor found");
    let null = std::fs::File::open("/dev/null").unwrap();
    for fd in made {
        // SAFETY: both are open descriptors; the runtime's is replaced on purpose (the test).
        assert!(unsafe { libc::dup2(null.as_raw_fd(), fd) } >= 0);
    }
    // A wait in the driver now fails: the error comes back, twice, and nothing panics.
    for _ in 0..2 {
        let error = runtime
            .try_block_on(sleep(Duration::from_millis(20)))
            .expect_err("the driver cannot wait on /dev/null");
        assert!(
            error.to_string().contains("driver"),
            "{backend}: the error says what failed: {error}"
        );
    }
}

#[test]
fn a_failed_driver_is_an_error_not_a_panic() {
    for backend in [Backend::IoUring, Backend::Epoll] {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            fails_cleanly(backend);
            let _ = done.send(());
        });
        finished
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{backend}: panicked or hung"));
    }
}
