//! What every conformance test uses: a driver on the backend under test, bounded waits, and
//! sockets, files and temporary directories.

use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proactor_driver::{Backend, Completion, Config, Driver, Op, OpId, OpKind};

/// No test waits longer than this for one completion.
pub const LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    IoUring,
    Epoll,
    IoUringFallback,
}

pub struct Harness {
    pub driver: Driver,
    pub flavor: Flavor,
    /// Completions that arrived while waiting for another.
    stash: Vec<Completion>,
}

impl Harness {
    pub fn new(flavor: Flavor) -> Harness {
        let config = match flavor {
            Flavor::IoUring => Config::new().backend(Backend::IoUring),
            Flavor::Epoll => Config::new().backend(Backend::Epoll),
            Flavor::IoUringFallback => Config::new()
                .backend(Backend::IoUring)
                .fallback_for(&OpKind::ALL),
        };
        let driver = Driver::with_config(config).expect("driver for the backend under test");
        Harness {
            driver,
            flavor,
            stash: Vec::new(),
        }
    }

    pub fn submit(&mut self, op: Op) -> OpId {
        self.driver.submit(op)
    }

    /// Waits (bounded) for the completion of `id`.
    pub fn wait(&mut self, id: OpId) -> Completion {
        self.try_wait(id, LIMIT).unwrap_or_else(|| {
            panic!(
                "{:?}: no completion for {id:?} within {LIMIT:?}",
                self.flavor
            )
        })
    }

    /// Waits up to `within` for the completion of `id`.
    pub fn try_wait(&mut self, id: OpId, within: Duration) -> Option<Completion> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(position) = self.stash.iter().position(|completion| completion.id == id) {
                return Some(self.stash.remove(position));
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            self.driver
                .poll(&mut self.stash, Some(deadline - now))
                .expect("poll");
        }
    }

    /// Submits what is queued and collects what is ready, without waiting.
    pub fn poll_now(&mut self) {
        self.driver
            .poll(&mut self.stash, Some(Duration::ZERO))
            .expect("poll");
    }

    pub fn run(&mut self, op: Op) -> Completion {
        let id = self.submit(op);
        self.wait(id)
    }

    /// Runs `op` and returns its result, panicking on error.
    pub fn ok(&mut self, op: Op) -> (usize, Op) {
        let completion = self.run(op);
        match completion.result {
            Ok(value) => (value, completion.op),
            Err(error) => panic!("{:?}: {:?} failed: {error}", self.flavor, completion.op),
        }
    }

    /// Runs `op` and returns its error, panicking on success.
    pub fn error(&mut self, op: Op) -> std::io::Error {
        let completion = self.run(op);
        match completion.result {
            Ok(value) => panic!(
                "{:?}: {:?} succeeded with {value}; expected an error",
                self.flavor, completion.op
            ),
            Err(error) => error,
        }
    }

    /// Everything still stashed (tests check nothing unexpected arrived).
    pub fn stashed(&self) -> usize {
        self.stash.len()
    }

    /// A connected TCP pair over loopback, made with the driver's own socket, connect and
    /// accept: (client, server).
    pub fn tcp_pair(&mut self, v6: bool) -> (OwnedFd, OwnedFd) {
        let listener = listener(v6);
        let address = listener.local_addr().unwrap();
        let client = self.socket(address, libc::SOCK_STREAM);
        let accept = self.submit(Op::Accept {
            fd: listener.as_raw_fd(),
            peer: None,
        });
        let connect = self.submit(Op::Connect {
            fd: client.as_raw_fd(),
            addr: address,
        });
        let connected = self.wait(connect);
        connected.result.expect("connect");
        let accepted = self.wait(accept);
        let server = accepted.result.expect("accept") as RawFd;
        let Op::Accept { peer, .. } = accepted.op else {
            unreachable!()
        };
        let peer = peer.expect("accept reports the peer address");
        assert_eq!(peer.ip(), address.ip());
        // SAFETY: accept returned a new descriptor that nothing else owns.
        (client, unsafe { OwnedFd::from_raw_fd(server) })
    }

    /// A new socket of the address's family, through `Op::Socket`.
    pub fn socket(&mut self, address: SocketAddr, socket_type: i32) -> OwnedFd {
        let domain = if address.is_ipv6() {
            libc::AF_INET6
        } else {
            libc::AF_INET
        };
        let (fd, _) = self.ok(Op::Socket {
            domain,
            socket_type,
            protocol: 0,
        });
        // SAFETY: the socket op returned a new descriptor that nothing else owns.
        unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
    }
}

pub fn listener(v6: bool) -> TcpListener {
    let address = if v6 { "[::1]:0" } else { "127.0.0.1:0" };
    TcpListener::bind(address).expect("bind a loopback listener")
}

/// A connected Unix stream socket pair, for tests that need no TCP.
pub fn socket_pair() -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: fds has room for the two descriptors socketpair writes.
    let result = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(result, 0, "socketpair: {}", std::io::Error::last_os_error());
    // SAFETY: socketpair returned two new descriptors that nothing else owns.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A directory removed (with its contents) when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "proactor-conformance-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.path.join(name);
        std::fs::write(&path, contents).expect("write a test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A buffer with room for `capacity` bytes and nothing in it yet.
pub fn room(capacity: usize) -> proactor_driver::Buffer {
    proactor_driver::Buffer::from(Vec::with_capacity(capacity))
}

/// The bytes a completed single-buffer operation gave back.
pub fn bytes_of(op: Op) -> Vec<u8> {
    op.into_buffer()
        .expect("operation with a buffer")
        .as_slice()
        .to_vec()
}
