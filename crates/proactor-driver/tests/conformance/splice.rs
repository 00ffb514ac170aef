//! Splices that must wait: a socket with nothing to read into a pipe, and a pipe into a socket
//! whose send buffer is full. `EAGAIN` does not say which end blocked; each backend must wait
//! for that end (an empty socket's output pipe is always writable, so waiting on it stalls an
//! edge-triggered poller and spins a level-triggered one) and must not burn CPU meanwhile.

#[cfg(unix)]
pub use unix::*;
#[cfg(windows)]
pub use windows::*;

#[cfg(unix)]
mod unix {
    use std::io::{Read, Write};
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    use proactor_driver::Op;

    use crate::harness::{raw, socket_pair, Harness};

    /// How long a test watches an operation that must not complete yet.
    const QUIET: Duration = Duration::from_millis(300);
    /// The most CPU the waiting thread may use meanwhile: a wait costs microseconds, a spin
    /// takes whatever share of a core the machine leaves it (far more, even when loaded).
    const CPU_WHILE_QUIET: Duration = Duration::from_millis(40);

    /// A pipe set up as proactor makes them: non-blocking, close-on-exec. (read, write)
    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors pipe2 writes.
        let made = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) };
        assert_eq!(made, 0, "pipe2: {}", std::io::Error::last_os_error());
        // SAFETY: pipe2 returned two new descriptors nothing else owns.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    /// A Unix stream pair, non-blocking as the driver's own sockets are.
    fn streams() -> (UnixStream, UnixStream) {
        let (a, b) = socket_pair();
        let (a, b) = (UnixStream::from(a), UnixStream::from(b));
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    /// CPU time this thread has used.
    fn thread_cpu() -> Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec to write.
        assert_eq!(
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) },
            0
        );
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    /// Checks that `id` does not complete for [`QUIET`], and that waiting costs no CPU.
    fn stays_pending(harness: &mut Harness, id: proactor_driver::OpId, what: &str) {
        let before = thread_cpu();
        if let Some(completion) = harness.try_wait(id, QUIET) {
            panic!(
                "{:?}: {what} completed early: {:?}",
                harness.flavor, completion.result
            );
        }
        let spent = thread_cpu() - before;
        assert!(
            spent < CPU_WHILE_QUIET,
            "{:?}: waiting {QUIET:?} for {what} used {spent:?} of CPU (a spin)",
            harness.flavor
        );
    }

    pub fn splice_waits_for_its_input(mut harness: Harness) {
        let (pipe_read, pipe_write) = pipe();
        let (mut sender, receiver) = streams();
        let id = harness.submit(Op::Splice {
            fd_in: raw(&receiver),
            offset_in: None,
            fd_out: raw(&pipe_write),
            offset_out: None,
            len: 65_536,
            flags: 0,
        });
        stays_pending(&mut harness, id, "a splice from an empty socket");
        sender.write_all(b"arrived later").unwrap();
        let moved = harness
            .wait(id)
            .result
            .expect("splice once the data is there");
        assert_eq!(moved, 13);
        let mut bytes = [0u8; 64];
        let count = std::fs::File::from(pipe_read).read(&mut bytes).unwrap();
        assert_eq!(&bytes[..count], b"arrived later");
        assert_eq!(harness.stashed(), 0);
    }

    pub fn splice_waits_for_its_output(mut harness: Harness) {
        let (pipe_read, pipe_write) = pipe();
        let (mut sender, mut receiver) = streams();
        // Fill the socket until it takes no more.
        let chunk = [7u8; 16_384];
        let mut backlog = 0;
        loop {
            match sender.write(&chunk) {
                Ok(count) => backlog += count,
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(error) => panic!("filling the socket: {error}"),
            }
        }
        let message = b"after the backlog";
        std::fs::File::from(pipe_write.try_clone().unwrap())
            .write_all(message)
            .unwrap();
        let id = harness.submit(Op::Splice {
            fd_in: raw(&pipe_read),
            offset_in: None,
            fd_out: raw(&sender),
            offset_out: None,
            len: message.len() as u32,
            flags: 0,
        });
        stays_pending(&mut harness, id, "a splice into a full socket");
        // Drain the backlog (all of it already queued at the receiver): room comes back.
        let mut drained = vec![0u8; backlog];
        receiver.set_nonblocking(false).unwrap();
        receiver.read_exact(&mut drained).unwrap();
        assert!(drained.iter().all(|&byte| byte == 7));
        let moved = harness.wait(id).result.expect("splice once there is room");
        assert_eq!(moved, message.len(), "a pipe this small moves whole");
        let mut arrived = vec![0u8; message.len()];
        receiver.read_exact(&mut arrived).unwrap();
        assert_eq!(arrived, message);
        assert_eq!(harness.stashed(), 0);
    }
}

/// Splice is Linux's: on Windows it says it is not there, whichever end would block.
#[cfg(windows)]
mod windows {
    use std::io::ErrorKind;

    use proactor_driver::Op;

    use crate::harness::{raw, socket_pair, Harness};

    fn unsupported(mut harness: Harness) {
        let (sender, receiver) = socket_pair();
        let error = harness.error(Op::Splice {
            fd_in: raw(&receiver),
            offset_in: None,
            fd_out: raw(&sender),
            offset_out: None,
            len: 4096,
            flags: 0,
        });
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    }

    pub fn splice_waits_for_its_input(harness: Harness) {
        unsupported(harness);
    }

    pub fn splice_waits_for_its_output(harness: Harness) {
        unsupported(harness);
    }
}
