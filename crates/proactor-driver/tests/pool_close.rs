//! File operations waiting on the thread pool (the readiness backends' path for regular files,
//! and io_uring's path for an opcode the kernel lacks) must not outlive the descriptor they
//! name: after they are cancelled and their descriptor closed, the number is free, and the next
//! file opened gets it. A write or truncate that then ran on the number would change that other
//! file (it did, before the pool ran jobs on duplicates of their descriptors).
//!
//! This is what the runtime does when a `File::write_at` future is dropped (a timeout) and the
//! `File` goes with it: the cancel cannot stop a job already queued, and the close runs at once.
//!
//! The pool is made one thread wide (`PROACTOR_POOL_THREADS=1`, read once per process), so a
//! job that blocks it keeps the write queued for as long as the test needs: the test
//! re-executes this binary as a child with that environment.

#![cfg(target_os = "linux")]

use std::io::Read;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use proactor_driver::{Backend, Buffer, Completion, Config, Driver, Op, OpId, OpKind};

const CHILD_ENV: &str = "PROACTOR_POOL_CLOSE_CHILD";
const LIMIT: Duration = Duration::from_secs(10);

fn wait(driver: &mut Driver, id: OpId, stash: &mut Vec<Completion>) -> Completion {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(index) = stash.iter().position(|completion| completion.id == id) {
            return stash.swap_remove(index);
        }
        let now = Instant::now();
        assert!(now < deadline, "no completion for {id:?} within {LIMIT:?}");
        driver.poll(stash, Some(deadline - now)).expect("poll");
    }
}

/// A gate the pool's only thread waits at.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<(bool, bool)>, Condvar)>);

impl Gate {
    /// Blocks until opened; marks that it got there.
    fn block(&self) {
        let (state, changed) = &*self.0;
        let mut state = state.lock().unwrap();
        state.0 = true;
        changed.notify_all();
        let deadline = Instant::now() + LIMIT;
        while !state.1 && Instant::now() < deadline {
            state = changed.wait_timeout(state, LIMIT).unwrap().0;
        }
    }

    fn wait_until_blocked(&self) {
        let (state, changed) = &*self.0;
        let mut state = state.lock().unwrap();
        let deadline = Instant::now() + LIMIT;
        while !state.0 {
            assert!(
                Instant::now() < deadline,
                "the pool never ran the blocking job"
            );
            state = changed.wait_timeout(state, LIMIT).unwrap().0;
        }
    }

    fn open(&self) {
        let (state, changed) = &*self.0;
        state.lock().unwrap().1 = true;
        changed.notify_all();
    }
}

fn scenario(name: &str, config: Config) {
    let dir =
        std::env::temp_dir().join(format!("proactor-pool-close-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("other"), b"nobody writes here").unwrap();

    let mut driver = Driver::with_config(config).expect("driver");
    let mut stash = Vec::new();
    let gate = Gate::default();
    let blocker = {
        let gate = gate.clone();
        driver.submit(Op::Blocking {
            job: Box::new(move || {
                gate.block();
                Ok(0)
            }),
        })
    };
    driver.flush(&mut stash).expect("flush");
    gate.wait_until_blocked();

    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join("written"))
        .unwrap()
        .into_raw_fd();
    let write = driver.submit(Op::Write {
        fd: file,
        buf: Buffer::from(b"meant for the written file".to_vec()),
        offset: Some(0),
    });
    let truncate = driver.submit(Op::Ftruncate { fd: file, len: 5 });
    driver.flush(&mut stash).expect("flush");
    // The futures are dropped: the operations are cancelled, and their file closed.
    driver.cancel(write).expect("cancel the queued write");
    driver.cancel(truncate).expect("cancel the queued truncate");
    let close = driver.submit(Op::Close { fd: file });
    wait(&mut driver, close, &mut stash).result.expect("close");
    // The lowest free number: the one just closed.
    let other = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("other"))
        .unwrap();
    assert_eq!(
        other.as_raw_fd(),
        file,
        "{name}: the closed number should be reused at once"
    );

    gate.open();
    let blocked = wait(&mut driver, blocker, &mut stash);
    blocked.result.expect("the blocking job");
    let written = wait(&mut driver, write, &mut stash);
    let truncated = wait(&mut driver, truncate, &mut stash);
    assert_eq!(driver.in_flight(), 0);
    drop(other);
    let other = std::fs::read(dir.join("other")).unwrap();
    let own = std::fs::read(dir.join("written")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{name}: the cancelled write completed with {:?}, the truncate with {:?}; their file \
         holds {:?}",
        written.result,
        truncated.result,
        String::from_utf8_lossy(&own)
    );
    assert_eq!(
        String::from_utf8_lossy(&other),
        "nobody writes here",
        "{name}: operations cancelled and closed before they ran worked on the file that got \
         their descriptor number (write {:?}, truncate {:?})",
        written.result,
        truncated.result
    );
    // Run or not, they touched only their own file.
    assert!(
        [&b""[..], b"meant", b"meant for the written file"].contains(&&own[..]),
        "{name}: {own:?}"
    );
}

#[test]
fn a_pool_write_never_reaches_the_next_owner_of_its_descriptor_number() {
    if std::env::var_os(CHILD_ENV).is_some() {
        scenario("epoll", Config::new().backend(Backend::Epoll));
        scenario(
            "io_uring_fallback",
            Config::new().backend(Backend::IoUring).fallback_for(&[
                OpKind::Write,
                OpKind::Ftruncate,
                OpKind::Close,
            ]),
        );
        println!("POOL-CLOSE-CHILD-DONE");
        return;
    }
    let exe = std::env::current_exe().expect("path of the test binary");
    let mut child = Command::new(exe)
        .args([
            "a_pool_write_never_reaches_the_next_owner_of_its_descriptor_number",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .env("PROACTOR_POOL_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the test binary as a child");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        status.success() && out.contains("POOL-CLOSE-CHILD-DONE"),
        "child: {status}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
    );
    eprintln!("{out}");
}
