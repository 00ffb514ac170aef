//! What every conformance test uses: a driver on the backend under test, bounded waits, and
//! sockets, files and temporary directories, the same on every OS. What differs between Unix
//! and Windows (owned descriptor types, socket constants, how a file is opened for the driver,
//! which error codes mean what) is in [`os`], and nowhere else in the suite.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

#[cfg(target_os = "linux")]
use proactor_driver::OpKind;
use proactor_driver::{Backend, Completion, Config, Driver, Op, OpId};

pub use os::*;

/// No test waits longer than this for one completion.
pub const LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    #[cfg(target_os = "linux")]
    IoUring,
    #[cfg(target_os = "linux")]
    Epoll,
    #[cfg(target_os = "linux")]
    IoUringFallback,
    #[cfg(windows)]
    Iocp,
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
            #[cfg(target_os = "linux")]
            Flavor::IoUring => Config::new().backend(Backend::IoUring),
            #[cfg(target_os = "linux")]
            Flavor::Epoll => Config::new().backend(Backend::Epoll),
            #[cfg(target_os = "linux")]
            Flavor::IoUringFallback => Config::new()
                .backend(Backend::IoUring)
                .fallback_for(&OpKind::ALL),
            #[cfg(windows)]
            Flavor::Iocp => Config::new().backend(Backend::Iocp),
        };
        // Delays and reordering change no result, only when results arrive: every case must
        // pass under them (`PROACTOR_TEST_FAULTS=SEED`).
        let config = match std::env::var("PROACTOR_TEST_FAULTS")
            .ok()
            .and_then(|seed| seed.parse().ok())
        {
            Some(seed) => config.faults(proactor_driver::Faults {
                seed,
                delay_rate: 0.5,
                reorder: true,
                ..proactor_driver::Faults::default()
            }),
            None => config,
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
    /// Every completion of the multishot operation `id` from now to its last (the one that
    /// says no more), in order.
    pub fn until_last(&mut self, id: OpId) -> Vec<Completion> {
        let mut completions = Vec::new();
        loop {
            let completion = self.wait(id);
            let more = completion.more;
            completions.push(completion);
            if !more {
                return completions;
            }
        }
    }

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
    pub fn tcp_pair(&mut self, v6: bool) -> (OwnedSocket, OwnedSocket) {
        let listener = listener(v6);
        // Made outside the driver, perhaps with the number of a socket closed outside it (a
        // listener of an earlier pair): what a readiness backend knew of that one is stale.
        self.driver.forget_fd(raw(&listener));
        let address = listener.local_addr().unwrap();
        let client = self.socket(address, SOCK_STREAM);
        let accept = self.submit(Op::Accept {
            fd: raw(&listener),
            peer: None,
        });
        let connect = self.submit(Op::Connect {
            fd: raw(&client),
            addr: address,
        });
        let connected = self.wait(connect);
        connected.result.expect("connect");
        let accepted = self.wait(accept);
        let server = accepted.result.expect("accept");
        let Op::Accept { peer, .. } = accepted.op else {
            unreachable!()
        };
        let peer = peer.expect("accept reports the peer address");
        assert_eq!(peer.ip(), address.ip());
        // SAFETY: accept returned a new socket that nothing else owns.
        (client, unsafe { socket_from_raw(server) })
    }

    /// A new socket of the address's family, through `Op::Socket`.
    pub fn socket(&mut self, address: SocketAddr, socket_type: i32) -> OwnedSocket {
        let domain = if address.is_ipv6() { AF_INET6 } else { AF_INET };
        let (fd, _) = self.ok(Op::Socket {
            domain,
            socket_type,
            protocol: 0,
        });
        // SAFETY: the socket op returned a new socket that nothing else owns.
        unsafe { socket_from_raw(fd) }
    }
}

pub fn listener(v6: bool) -> TcpListener {
    let address = if v6 { "[::1]:0" } else { "127.0.0.1:0" };
    TcpListener::bind(address).expect("bind a loopback listener")
}

/// A directory removed (with its contents) when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        // The time as well as the process id: Wine gives a process the same id on every run,
        // and a run killed at its time limit leaves its directories behind.
        let since_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "proactor-conformance-{}-{}-{}",
            std::process::id(),
            since_epoch.as_nanos(),
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

/// The suite's platform specifics: owned descriptor types and how to get the driver's [`Fd`]
/// from them, socket constants, a socket pair, opening a file for the driver, and which error
/// codes mean what.
///
/// [`Fd`]: proactor_driver::Fd
#[cfg(unix)]
mod os {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;

    use proactor_driver::Fd;

    /// A socket (or any descriptor an operation handed out) that closes on drop.
    pub type OwnedSocket = OwnedFd;

    pub const AF_INET: i32 = libc::AF_INET;
    pub const AF_INET6: i32 = libc::AF_INET6;
    pub const SOCK_STREAM: i32 = libc::SOCK_STREAM;
    pub const SOCK_DGRAM: i32 = libc::SOCK_DGRAM;
    pub const MSG_PEEK: i32 = libc::MSG_PEEK;

    /// A descriptor number no process can have open (the kernel caps descriptors far below
    /// it). A closed-then-reused number would race the other tests running in parallel.
    pub const CLOSED_FD: Fd = i32::MAX - 1;
    /// A value that is never a descriptor.
    pub const INVALID_FD: Fd = -1;
    /// An error code a blocking job returns, to see it come back as it is.
    pub const JOB_ERROR: i32 = libc::EIO;

    /// What can name itself to the driver as an [`Fd`].
    pub trait AsDriverFd {
        fn driver_fd(&self) -> Fd;
    }

    impl<T: AsRawFd> AsDriverFd for T {
        fn driver_fd(&self) -> Fd {
            self.as_raw_fd()
        }
    }

    /// Gives up ownership: the caller closes the descriptor (with `Op::Close`).
    pub fn into_raw(socket: OwnedSocket) -> Fd {
        socket.into_raw_fd()
    }

    /// Gives up a file: the caller closes it (with `Op::Close`).
    pub fn file_into_raw(file: File) -> Fd {
        file.into_raw_fd()
    }

    /// Takes ownership of a descriptor an operation completed with.
    ///
    /// # Safety
    ///
    /// `value` is an open descriptor that nothing else owns.
    pub unsafe fn socket_from_raw(value: usize) -> OwnedSocket {
        // SAFETY: the caller hands over an open descriptor nothing else owns.
        unsafe { OwnedFd::from_raw_fd(value as RawFd) }
    }

    /// A connected Unix stream socket pair, for tests that need no TCP.
    pub fn socket_pair() -> (OwnedSocket, OwnedSocket) {
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
        assert_eq!(result, 0, "socketpair: {}", io::Error::last_os_error());
        // SAFETY: socketpair returned two new descriptors that nothing else owns.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    /// Opens a file for reading and writing through the driver.
    pub fn open_file(path: &Path, append: bool) -> File {
        OpenOptions::new()
            .read(true)
            .write(true)
            .append(append)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .expect("open a test file")
    }

    /// Opens a file for reading through the driver.
    pub fn open_read_only(path: &Path) -> File {
        File::open(path).expect("open a test file")
    }

    /// The error of an operation on something that is not an open descriptor.
    pub fn is_bad_fd(error: &io::Error) -> bool {
        error.raw_os_error() == Some(libc::EBADF)
    }

    /// The error of a socket operation on an open descriptor that is not a socket.
    pub fn is_not_socket(error: &io::Error) -> bool {
        error.raw_os_error() == Some(libc::ENOTSOCK)
    }

    /// The error of creating a socket of an address family the OS does not have.
    pub fn is_unknown_family(error: &io::Error) -> bool {
        error.raw_os_error() == Some(libc::EAFNOSUPPORT)
    }

    /// The error of connecting a socket to an address of another family.
    pub fn is_wrong_family(error: &io::Error) -> bool {
        matches!(
            error.raw_os_error(),
            Some(libc::EAFNOSUPPORT) | Some(libc::EINVAL)
        )
    }
}

#[cfg(windows)]
mod os {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::os::windows::fs::OpenOptionsExt;
    pub use std::os::windows::io::OwnedSocket;
    use std::os::windows::io::{
        AsRawHandle, AsRawSocket, FromRawSocket, IntoRawHandle, IntoRawSocket, OwnedHandle,
        RawSocket,
    };
    use std::path::Path;

    use proactor_driver::Fd;
    use windows_sys::Win32::Foundation::{ERROR_INVALID_HANDLE, ERROR_IO_DEVICE};
    use windows_sys::Win32::Networking::WinSock::{
        WSAEAFNOSUPPORT, WSAEFAULT, WSAEINVAL, WSAENOTSOCK, WSAEOPNOTSUPP,
    };
    use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OVERLAPPED;

    pub const AF_INET: i32 = windows_sys::Win32::Networking::WinSock::AF_INET as i32;
    pub const AF_INET6: i32 = windows_sys::Win32::Networking::WinSock::AF_INET6 as i32;
    pub const SOCK_STREAM: i32 = windows_sys::Win32::Networking::WinSock::SOCK_STREAM;
    pub const SOCK_DGRAM: i32 = windows_sys::Win32::Networking::WinSock::SOCK_DGRAM;
    pub const MSG_PEEK: i32 = windows_sys::Win32::Networking::WinSock::MSG_PEEK;

    /// A value no process can have open: handle values are multiples of four (the low bits
    /// are ignored) and a process's handle table ends far below this.
    pub const CLOSED_FD: Fd = 0x7fff_fffc;
    /// `INVALID_SOCKET`, which is also `INVALID_HANDLE_VALUE`.
    pub const INVALID_FD: Fd = !0;
    /// An error code a blocking job returns, to see it come back as it is.
    pub const JOB_ERROR: i32 = ERROR_IO_DEVICE as i32;

    /// What can name itself to the driver as an [`Fd`]: a `SOCKET` as it is, a `HANDLE`'s
    /// value.
    pub trait AsDriverFd {
        fn driver_fd(&self) -> Fd;
    }

    macro_rules! sockets {
        ($($socket:ty),*) => {$(
            impl AsDriverFd for $socket {
                fn driver_fd(&self) -> Fd {
                    self.as_raw_socket()
                }
            }
        )*};
    }
    sockets!(OwnedSocket, TcpListener, TcpStream, UdpSocket);

    macro_rules! handles {
        ($($handle:ty),*) => {$(
            impl AsDriverFd for $handle {
                fn driver_fd(&self) -> Fd {
                    self.as_raw_handle() as Fd
                }
            }
        )*};
    }
    handles!(File, OwnedHandle);

    /// Gives up ownership: the caller closes the socket (with `Op::Close`).
    pub fn into_raw(socket: OwnedSocket) -> Fd {
        socket.into_raw_socket()
    }

    /// Gives up a file: the caller closes its handle (with `Op::Close`).
    pub fn file_into_raw(file: File) -> Fd {
        file.into_raw_handle() as Fd
    }

    /// Takes ownership of a socket an operation completed with.
    ///
    /// # Safety
    ///
    /// `value` is an open socket that nothing else owns.
    pub unsafe fn socket_from_raw(value: usize) -> OwnedSocket {
        // SAFETY: the caller hands over an open socket nothing else owns.
        unsafe { OwnedSocket::from_raw_socket(value as RawSocket) }
    }

    /// A connected TCP pair over loopback, made with std (whose sockets are overlapped, as
    /// the driver needs): Windows has no socketpair.
    pub fn socket_pair() -> (OwnedSocket, OwnedSocket) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback listener");
        let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        // Small writes go out at once, as on a Unix socket pair.
        client.set_nodelay(true).unwrap();
        server.set_nodelay(true).unwrap();
        (client.into(), server.into())
    }

    /// Opens a file for reading and writing through the driver: overlapped, as it must be.
    pub fn open_file(path: &Path, append: bool) -> File {
        OpenOptions::new()
            .read(true)
            .write(true)
            .append(append)
            .custom_flags(FILE_FLAG_OVERLAPPED)
            .open(path)
            .expect("open a test file")
    }

    /// Opens a file for reading through the driver: overlapped, as it must be.
    pub fn open_read_only(path: &Path) -> File {
        OpenOptions::new()
            .read(true)
            .custom_flags(FILE_FLAG_OVERLAPPED)
            .open(path)
            .expect("open a test file")
    }

    /// Whether this runs under Wine, which cannot show some of Windows' behaviour (the test
    /// that skips a check for it says which).
    pub fn under_wine() -> bool {
        use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};

        let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
        // SAFETY: a NUL-terminated name; ntdll is loaded in every process.
        let module = unsafe { GetModuleHandleW(ntdll.as_ptr()) };
        // SAFETY: a module handle from above and a NUL-terminated name; only looked up, never
        // called.
        !module.is_null()
            && unsafe { GetProcAddress(module, c"wine_get_version".as_ptr().cast()) }.is_some()
    }

    fn code(error: &io::Error) -> Option<i32> {
        error.raw_os_error()
    }

    /// The error of an operation on something that is not an open handle or socket (the
    /// driver finds out when it associates the value with its port).
    pub fn is_bad_fd(error: &io::Error) -> bool {
        code(error) == Some(ERROR_INVALID_HANDLE as i32)
    }

    /// The error of a socket operation on an open handle that is not a socket.
    pub fn is_not_socket(error: &io::Error) -> bool {
        code(error) == Some(WSAENOTSOCK)
    }

    /// The error of creating a socket of an address family the OS does not have.
    pub fn is_unknown_family(error: &io::Error) -> bool {
        code(error) == Some(WSAEAFNOSUPPORT)
    }

    /// The error of connecting a socket to an address of another family (`ConnectEx` binds
    /// first, and the bind or the connect may be the one to refuse it; Wine says
    /// `WSAEOPNOTSUPP`).
    pub fn is_wrong_family(error: &io::Error) -> bool {
        matches!(
            code(error),
            Some(WSAEAFNOSUPPORT) | Some(WSAEINVAL) | Some(WSAEFAULT) | Some(WSAEOPNOTSUPP)
        )
    }
}

/// The driver's name for `x`.
pub fn raw(x: &impl AsDriverFd) -> proactor_driver::Fd {
    x.driver_fd()
}
