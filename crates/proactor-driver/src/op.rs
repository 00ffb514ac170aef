//! The operations a driver performs, and the completion each one ends with.
//!
//! Every operation is one variant of [`Op`]: the same definition for every backend. A backend
//! handles all of them in one exhaustive `match`, so a new variant shows at compile time every
//! backend that does not yet support it.

use std::ffi::CString;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::{Address, Buffer, BufferPool, Descriptors, Fd, PooledBuffer};

/// Identifies a submitted operation until its [`Completion`] is returned.
///
/// An identifier carries a generation: once its operation has completed, the slot it named may
/// hold a new operation, and the old identifier no longer matches it (cancelling it returns
/// `NotFound` instead of cancelling the newcomer).
///
/// # Examples
///
/// ```
/// use proactor_driver::{Driver, Op};
///
/// let mut driver = Driver::new()?;
/// let first = driver.submit(Op::Nop);
/// let second = driver.submit(Op::Nop);
/// assert_ne!(first, second);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl OpId {
    /// The slot index: small, dense, and unique among operations in flight, so a layer above
    /// can keep per-operation state in a plain vector indexed by it.
    ///
    /// The index is free again as soon as `poll` hands out the completion: an operation
    /// submitted while the caller still works through that batch of completions may get the
    /// same index. Take what you keep per index out of the table before submitting again (or
    /// key it by the whole `OpId`, which never repeats while a completion is unprocessed).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Driver, Op};
    ///
    /// let mut driver = Driver::new()?;
    /// let id = driver.submit(Op::Nop);
    /// assert!(id.index() < 1024);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// Packs the identifier into a `u64` (used as io_uring's `user_data`).
    pub(crate) fn to_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    pub(crate) fn from_u64(value: u64) -> OpId {
        OpId {
            index: value as u32,
            generation: (value >> 32) as u32,
        }
    }
}

impl fmt::Debug for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpId({}v{})", self.index, self.generation)
    }
}

/// A closure run on the driver's thread pool by [`Op::Blocking`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use proactor_driver::{BlockingJob, Driver, Op};
///
/// // Work the OS offers no asynchronous call for, e.g. a metadata lookup.
/// let job: BlockingJob = Box::new(|| Ok(std::fs::metadata("/")?.len() as usize));
/// let mut driver = Driver::new()?;
/// driver.submit(Op::Blocking { job });
/// let mut completions = Vec::new();
/// while completions.is_empty() {
///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
/// }
/// assert!(completions[0].result.is_ok());
/// # Ok::<(), std::io::Error>(())
/// ```
pub type BlockingJob = Box<dyn FnOnce() -> io::Result<usize> + Send + 'static>;

/// One operation, owning everything the kernel may touch until it completes.
///
/// Submit it with [`Driver::submit`](crate::Driver::submit); it comes back, with its buffers
/// and any output fields filled in, in the [`Completion`]. File descriptors are raw and
/// borrowed: the driver never closes one unless asked to by [`Op::Close`] (or when a cancelled
/// `Accept`, `Socket` or `OpenAt` produced a descriptor nobody will receive).
///
/// # Order
///
/// Operations complete in any order. Several reads (or several writes) in flight at once on one
/// stream socket or pipe are each served exactly once, but only the readiness backends
/// (epoll) serve them in submission order; io_uring wakes them in the kernel's order. Keep one
/// read and one write in flight per stream when order matters, as the runtime does.
///
/// # Buffer ownership
///
/// The operation owns its buffers from `submit` until its completion is returned by
/// [`Driver::poll`](crate::Driver::poll), whatever happens in between: cancellation, errors, or
/// dropping the driver (which waits for the kernel to let go before freeing them).
///
/// # Examples
///
/// ```ignore-windows
/// use std::time::Duration;
/// use proactor_driver::{Buffer, Driver, Op};
///
/// let file = std::fs::File::open("Cargo.toml")?;
/// # use std::os::fd::AsRawFd;
/// let mut driver = Driver::new()?;
/// driver.submit(Op::Read {
///     fd: file.as_raw_fd(),
///     buf: Buffer::from(Vec::with_capacity(64)),
///     offset: Some(0),
/// });
/// let mut completions = Vec::new();
/// while completions.is_empty() {
///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
/// }
/// let completion = completions.pop().unwrap();
/// let count = completion.result?;
/// let data = completion.op.into_buffer().unwrap();
/// assert_eq!(data.len(), count);
/// assert!(data.as_slice().starts_with(b"[package]"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[non_exhaustive]
pub enum Op {
    /// Does nothing; completes with `Ok(0)`. Measures the driver's own round trip.
    Nop,
    /// Completes with `Ok(0)` once `duration` has passed.
    Timeout {
        /// How long to wait.
        duration: Duration,
    },
    /// Reads into `buf` at `offset`, or at the file's current position when `offset` is `None`.
    Read {
        /// File, pipe, socket or terminal to read.
        fd: Fd,
        /// Where the bytes go (see [`Buffer`] for which part is filled).
        buf: Buffer,
        /// Position in the file, or `None` for the current position.
        offset: Option<u64>,
    },
    /// Reads into several buffers in turn (`preadv`/`readv`).
    ///
    /// Any number of buffers: more than one call takes (`IOV_MAX`, 1024) are read in calls of
    /// at most that many, at advancing offsets for a file at a position, going on only while
    /// each call fills all its buffers. A short call (the end of a file, or all a stream had)
    /// ends the read with the count so far, as any read may be short; so does an error once
    /// bytes came. A read of a socket on Windows fills at most the first 1024 buffers.
    ReadVectored {
        /// File, pipe, socket or terminal to read.
        fd: Fd,
        /// Filled in order; each is filled as a single read would fill it.
        bufs: Vec<Buffer>,
        /// Position in the file, or `None` for the current position.
        offset: Option<u64>,
    },
    /// Writes `buf` at `offset`, or at the current position (or the end, for `O_APPEND`).
    Write {
        /// File, pipe, socket or terminal to write.
        fd: Fd,
        /// The bytes to write.
        buf: Buffer,
        /// Position in the file, or `None` for the current position.
        offset: Option<u64>,
    },
    /// Writes several buffers in turn (`pwritev`/`writev`).
    ///
    /// Any number of buffers: more than one call takes (`IOV_MAX`, 1024) are written as libuv
    /// writes them, in calls of at most that many, in order, at advancing offsets for a file
    /// at a position, until every byte is written; on a stream the write waits for room
    /// between calls. A short first call ends it with that count, as `writev` would. An error,
    /// a cancel or a `Close` once bytes were written ends it with their count (an error comes
    /// again on the next write). Another write submitted meanwhile on the same stream may go
    /// between two of the calls on io_uring and Windows: keep one write in flight per stream.
    WriteVectored {
        /// File, pipe, socket or terminal to write.
        fd: Fd,
        /// Written in order.
        bufs: Vec<Buffer>,
        /// Position in the file, or `None` for the current position.
        offset: Option<u64>,
    },
    /// Flushes a file to storage (`fsync`, or `fdatasync` when `data_only`).
    Fsync {
        /// The file.
        fd: Fd,
        /// Skip metadata that is not needed to read the data back.
        data_only: bool,
    },
    /// Closes a descriptor. Operations still waiting on it (for readiness, in the kernel, or
    /// queued for the thread pool) complete at once, cancelled (see
    /// [`is_cancelled`](crate::is_cancelled)); one that finished first, or is already running
    /// on the pool, completes with its own result. Nothing the driver does later touches the
    /// descriptor number for them, which may name another file by then.
    Close {
        /// The descriptor; do not use it again, whatever the result.
        fd: Fd,
    },
    /// Accepts a connection; completes with the new socket (non-blocking, close-on-exec).
    Accept {
        /// A listening socket.
        fd: Fd,
        /// Filled with the peer's address when the accept succeeds.
        peer: Option<SocketAddr>,
    },
    /// Accepts connections on a listening socket, one completion per connection (each with
    /// [`Completion::more`] set, its result the new descriptor, its operation a copy of this
    /// one), until an error or a cancel ends it with a completion without `more`. One
    /// submission serves every connection: io_uring's multishot accept (re-armed if the
    /// kernel ends it early); the readiness backends accept again while connections wait;
    /// IOCP issues one `AcceptEx` after another. No peer address is reported (ask the new
    /// socket, e.g. `getpeername`). A descriptor in a completion nobody takes is the caller's
    /// to close, as with [`Op::Accept`].
    AcceptMultishot {
        /// A listening socket.
        fd: Fd,
    },
    /// Connects a socket to `addr`; completes with `Ok(0)` once connected.
    Connect {
        /// A socket, typically from [`Op::Socket`].
        fd: Fd,
        /// Where to connect.
        addr: SocketAddr,
    },
    /// Sends `buf` on a connected socket with `send(2)` flags.
    Send {
        /// A connected socket.
        fd: Fd,
        /// The bytes to send.
        buf: Buffer,
        /// `MSG_*` flags; `MSG_NOSIGNAL` is always added.
        flags: i32,
    },
    /// Sends `buf` on a connected socket without copying it, where the OS can: the kernel
    /// reads the buffer while the bytes go out, and still after the send's result is known
    /// (until the network stack lets go of it).
    ///
    /// The operation completes once, as [`Op::Send`] does, with the count of bytes sent (or
    /// its error) and the buffer, but only when the kernel no longer references the buffer.
    /// On io_uring (Linux 6.0+) this is `IORING_OP_SEND_ZC`: its result is kept until the
    /// kernel's notification that the buffer is free. Elsewhere (epoll, kqueue, IOCP, and
    /// io_uring on kernels without it) it is a plain send, with the same outcome.
    ///
    /// A cancel (or a deadline, or a `Close`) ends a send still waiting for room: it
    /// completes cancelled, or with the count of bytes that went before. Bytes it already
    /// handed to the network stack stay the kernel's until they leave, and the completion
    /// waits for that, as the buffer's ownership requires: a peer that reads nothing keeps it
    /// waiting.
    ///
    /// Zero copy pays for large sends on a real network device; for small ones, or over
    /// loopback (where the kernel copies anyway), a plain send costs less.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Buffer, Op, OpKind};
    ///
    /// let op = Op::SendZc { fd: 1, buf: Buffer::from(vec![7u8; 1 << 20]), flags: 0 };
    /// assert_eq!(op.kind(), OpKind::SendZc);
    /// assert_eq!(op.into_buffer().unwrap().len(), 1 << 20);
    /// ```
    SendZc {
        /// A connected socket.
        fd: Fd,
        /// The bytes to send; the kernel may read them until the completion.
        buf: Buffer,
        /// `MSG_*` flags; `MSG_NOSIGNAL` is always added.
        flags: i32,
    },
    /// Receives into `buf` from a connected socket with `recv(2)` flags.
    Recv {
        /// A connected socket.
        fd: Fd,
        /// Where the bytes go.
        buf: Buffer,
        /// `MSG_*` flags.
        flags: i32,
    },
    /// Receives from a connected socket into a buffer the driver lends from `pool` when the
    /// bytes arrive, so nothing is parked while it waits (see [`BufferPool`]).
    ///
    /// The completion's `buffer` holds the bytes (the result is their count); a result of 0
    /// with no buffer is the end of the stream. With `multishot`, the operation goes on
    /// receiving: each receive is a completion with [`Completion::more`] set (the operation
    /// itself stays in flight, so its `fd` and `pool` come back as copies, each with that
    /// receive's buffer), until one without `more` ends it: the end of the stream (`Ok(0)`),
    /// an error, or a cancel. A pool with no buffer left ends it with an error
    /// [`is_pool_exhausted`](crate::is_pool_exhausted) recognises, never a wait.
    ///
    /// On io_uring this is a receive with a provided-buffer ring (multishot, re-armed if the
    /// kernel ends it early); on IOCP it waits as a zero-byte overlapped receive, then takes
    /// the buffer from the pool and receives what waits; on the readiness backends the buffer
    /// is taken from the pool when the socket is readable.
    RecvPooled {
        /// A connected socket.
        fd: Fd,
        /// Where the buffers come from: a pool of this driver.
        pool: BufferPool,
        /// Keep receiving, one completion per receive.
        multishot: bool,
        /// Output: the buffer holding what was received.
        buffer: Option<PooledBuffer>,
    },
    /// Sends a message gathered from `bufs`, to `addr` if given, with `fds` if any
    /// (`sendmsg(2)`; `SCM_RIGHTS` for the descriptors, Unix domain sockets only).
    SendMsg {
        /// A socket.
        fd: Fd,
        /// The message, in order.
        bufs: Vec<Buffer>,
        /// Destination for unconnected datagram sockets: IP, or a Unix domain address (Unix
        /// only: `Unsupported` on Windows).
        addr: Option<Address>,
        /// Descriptors to pass with the message (Unix domain sockets; at most 253, Linux's
        /// `SCM_MAX_FD`). The operation owns them until it is dropped: pass duplicates.
        fds: Descriptors,
        /// `MSG_*` flags; `MSG_NOSIGNAL` is always added.
        flags: i32,
    },
    /// Receives one message into `bufs` and records its source (`recvmsg(2)`), and up to
    /// `max_fds` descriptors passed with it (`SCM_RIGHTS`, Unix domain sockets only).
    RecvMsg {
        /// A socket.
        fd: Fd,
        /// Filled in order.
        bufs: Vec<Buffer>,
        /// `MSG_*` flags (`MSG_CMSG_CLOEXEC` is always added where the OS has it).
        flags: i32,
        /// Filled with the sender's address, when the socket reports one. A Unix domain
        /// address is written into the box given here, if it is `Some(Address::Unix(_))`, so a
        /// caller that keeps the box receives without allocating; given such a box, a sender
        /// the OS reports no address for (Linux: one not bound) comes back unnamed.
        source: Option<Address>,
        /// Room for this many received descriptors (0: none expected; at most 253, Linux's
        /// `SCM_MAX_FD`; a byte, as every slot holds an `Op` and this is its largest kind).
        max_fds: u8,
        /// Output: the descriptors received, close-on-exec, owned (closed if nobody takes
        /// them).
        fds: Descriptors,
        /// Output: more descriptors came than `max_fds`: those beyond it were closed (by the
        /// OS, `MSG_CTRUNC`, or by the driver when word rounding left room for one more).
        fds_truncated: bool,
    },
    /// Shuts down one or both directions of a connected socket.
    Shutdown {
        /// A connected socket.
        fd: Fd,
        /// Which direction(s).
        how: Shutdown,
    },
    /// Creates a socket; completes with its descriptor (non-blocking, close-on-exec).
    Socket {
        /// `AF_INET`, `AF_INET6`, `AF_UNIX`, ...
        domain: i32,
        /// `SOCK_STREAM`, `SOCK_DGRAM`, ...
        socket_type: i32,
        /// Usually 0.
        protocol: i32,
    },
    /// Opens `path` relative to `dir` (or the current directory); completes with the new
    /// descriptor. `O_CLOEXEC` is always added. Build it with [`Op::open_at`] (or
    /// [`Op::open_beneath`]) to have the path checked for NUL bytes.
    OpenAt {
        /// Directory descriptor, or `None` for the current directory.
        dir: Option<Fd>,
        /// Path, without interior NUL bytes.
        path: CString,
        /// `O_*` flags.
        flags: i32,
        /// Permission bits for a created file.
        mode: u32,
        /// Refuse a path that resolves outside `dir`: an absolute path, `..` above it, or a
        /// symbolic link (at any step) leading out. The kernel checks each step as it walks,
        /// so a rename racing the open cannot lead it out either. Linux 5.6+ (`openat2` with
        /// `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`) and FreeBSD 13+ (`O_RESOLVE_BENEATH`);
        /// elsewhere the open completes with `Unsupported`. An escape completes with `EXDEV`
        /// on Linux and `ENOTCAPABLE` on FreeBSD.
        beneath: bool,
    },
    /// Reads a file's metadata into `metadata`. An empty `path` with `dir` set describes `dir`
    /// itself. Build it with [`Op::statx`].
    Statx {
        /// Directory descriptor (or the file itself, with an empty path), or `None` for the
        /// current directory.
        dir: Option<Fd>,
        /// Path, without interior NUL bytes.
        path: CString,
        /// `AT_*` flags, e.g. `AT_SYMLINK_NOFOLLOW`.
        flags: i32,
        /// Filled when the operation succeeds; allocate it once and reuse it.
        metadata: Box<Metadata>,
    },
    /// Waits until `fd` is readable (or, with `writable`, writable) and completes with the
    /// `poll(2)` events seen. For descriptors whose readiness is the event itself: a pidfd
    /// (the child exited), a listening socket, a pipe; and for code written around readiness
    /// (`try_read` after a wait). On Windows a socket's wait is the socket driver's own poll
    /// (`IOCTL_AFD_POLL`, what `WSAPoll` and libuv's `uv_poll_t` use) and completes with
    /// `WSAPoll`'s events (`POLLRDNORM`, `POLLWRNORM`, `POLLHUP`, `POLLERR`); any other
    /// handle's waits until it is signalled (a process that exited, console input, an
    /// event) and completes with 1, and `writable` is `Unsupported` for it.
    Poll {
        /// What to watch.
        fd: Fd,
        /// Wait for writability instead of readability.
        writable: bool,
    },
    /// Renames `old_path` (relative to `old_dir`) to `new_path` (relative to `new_dir`);
    /// `flags` are `renameat2`'s (`RENAME_NOREPLACE`, ...; 0 everywhere else).
    RenameAt {
        /// Directory of `old_path`, or `None` for the current directory.
        old_dir: Option<Fd>,
        /// What to rename.
        old_path: CString,
        /// Directory of `new_path`, or `None` for the current directory.
        new_dir: Option<Fd>,
        /// The new name.
        new_path: CString,
        /// `RENAME_*` flags (Linux).
        flags: u32,
    },
    /// Removes a file, or a directory with `AT_REMOVEDIR` in `flags`.
    UnlinkAt {
        /// Directory of `path`, or `None` for the current directory.
        dir: Option<Fd>,
        /// What to remove.
        path: CString,
        /// 0 or `AT_REMOVEDIR`.
        flags: i32,
    },
    /// Creates a directory.
    MkDirAt {
        /// Directory of `path`, or `None` for the current directory.
        dir: Option<Fd>,
        /// The new directory.
        path: CString,
        /// Permission bits (before the umask).
        mode: u32,
    },
    /// Creates a symbolic link at `link` pointing to `target`.
    SymlinkAt {
        /// What the link points to (need not exist).
        target: CString,
        /// Directory of `link`, or `None` for the current directory.
        dir: Option<Fd>,
        /// The new link.
        link: CString,
    },
    /// Creates a hard link `new_path` to `old_path`.
    LinkAt {
        /// Directory of `old_path`, or `None` for the current directory.
        old_dir: Option<Fd>,
        /// The existing file.
        old_path: CString,
        /// Directory of `new_path`, or `None` for the current directory.
        new_dir: Option<Fd>,
        /// The new name.
        new_path: CString,
        /// `AT_SYMLINK_FOLLOW` or 0.
        flags: i32,
    },
    /// Allocates (or, with `FALLOC_FL_*` modes, punches or zeroes) a file's space (Linux;
    /// elsewhere only mode 0, through `posix_fallocate`).
    Fallocate {
        /// The file.
        fd: Fd,
        /// `FALLOC_FL_*` flags, or 0 to allocate.
        mode: i32,
        /// Where the range starts.
        offset: u64,
        /// How long it is.
        len: u64,
    },
    /// Sets a file's length, cutting or extending it with zeros.
    Ftruncate {
        /// The file, open for writing.
        fd: Fd,
        /// The new length.
        len: u64,
    },
    /// Moves up to `len` bytes from `fd_in` to `fd_out` inside the kernel (`splice(2)`), one of
    /// which must be a pipe; completes with the count moved (0: end of input). Linux only:
    /// elsewhere it completes with `Unsupported`. The zero-copy way to send a file: file to
    /// pipe, then pipe to socket.
    ///
    /// When it would block (an empty input, a full output), every backend waits for the end
    /// that is not ready: for `fd_in` to be readable while it has nothing, else for `fd_out`
    /// to be writable.
    Splice {
        /// Source: a file, a pipe or a socket.
        fd_in: Fd,
        /// Position in `fd_in` (files only), or `None` for its current position.
        offset_in: Option<u64>,
        /// Destination: a pipe, a socket or a file.
        fd_out: Fd,
        /// Position in `fd_out` (files only), or `None` for its current position.
        offset_out: Option<u64>,
        /// Most bytes to move.
        len: u32,
        /// `SPLICE_F_*` flags (`SPLICE_F_NONBLOCK` is added where the driver waits itself).
        flags: u32,
    },
    /// Sends up to `len` bytes of `file`, from `offset`, on a connected stream socket without
    /// copying them through user space (Windows `TransmitFile`; `sendfile(2)` on Linux,
    /// macOS, FreeBSD and DragonFly); completes with the count sent (0: `offset` is at or
    /// past the end of the file). Elsewhere it completes with `Unsupported` (use
    /// [`Op::Splice`] on Linux for pipes).
    ///
    /// On readiness backends the operation waits for `socket` to be writable and may send less
    /// than `len`; resubmit for the rest.
    SendFile {
        /// A connected stream socket.
        socket: Fd,
        /// A regular file (on Windows, opened for overlapped I/O).
        file: Fd,
        /// Where in the file to start.
        offset: u64,
        /// Most bytes to send.
        len: u32,
    },
    /// Waits for a client to open this instance of a Windows named pipe (`ConnectNamedPipe`);
    /// completes with `Ok(0)` once one has, including one that connected before the call.
    /// Elsewhere it completes with `Unsupported`.
    ConnectNamedPipe {
        /// The server end, from `CreateNamedPipeW` with `FILE_FLAG_OVERLAPPED`.
        pipe: Fd,
    },
    /// Waits for changes under a directory and fills `buf` with Windows'
    /// `FILE_NOTIFY_INFORMATION` records (`ReadDirectoryChangesW`); completes with the bytes
    /// written, 0 when the system's own buffer overflowed and changes were lost (rescan).
    /// Parse the records with `proactor_driver::windows::directory_changes`. Elsewhere it
    /// completes with `Unsupported` (inotify and kqueue are read with [`Op::Read`]).
    ReadDirectoryChanges {
        /// A directory from `proactor_driver::windows::open_directory`.
        dir: Fd,
        /// Where the records go: an empty buffer with capacity (at most 64 KiB is used for a
        /// directory on a network share), whose start is 4-byte aligned.
        buf: Buffer,
        /// Watch the whole tree, not only the directory's own entries.
        recursive: bool,
        /// `FILE_NOTIFY_CHANGE_*` bits: what counts as a change.
        filter: u32,
    },
    /// Runs a closure on the thread pool and completes with what it returns. A panic in the
    /// closure completes the operation with an error; it never breaks the pool. Cancelled
    /// before a pool thread starts it, the closure never runs: it comes back, unrun, in the
    /// completion, which reports the cancel.
    Blocking {
        /// The work.
        job: BlockingJob,
    },
    /// Waits until process `pid` has exited and completes with 0; it does not reap the
    /// process (`waitpid` is the caller's, after). A process that has already exited, or
    /// that does not exist, completes at once, so look with `waitpid(WNOHANG)` first and
    /// after.
    ///
    /// Only the kqueue backend has a way to do this (`EVFILT_PROC` with `NOTE_EXIT`); the
    /// others complete with `Unsupported`. On Linux open a pidfd and wait for it with
    /// [`Op::Poll`] instead.
    WaitExit {
        /// The process, as `std::process::Child::id` gives it.
        pid: u32,
    },
}

/// What each [`Op`] variant is, without its data: used to probe a backend's support.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use proactor_driver::{Op, OpKind};
///
/// // A kind is the variant without its data: cheap to copy, compare, count and log.
/// let ops = [Op::Nop, Op::Timeout { duration: Duration::from_millis(5) }];
/// let kinds: Vec<OpKind> = ops.iter().map(Op::kind).collect();
/// assert_eq!(kinds, [OpKind::Nop, OpKind::Timeout]);
/// assert!(kinds.iter().all(|kind| OpKind::ALL.contains(kind)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // Each name is its `Op` variant's.
pub enum OpKind {
    Nop,
    Timeout,
    Read,
    ReadVectored,
    Write,
    WriteVectored,
    Fsync,
    Close,
    Accept,
    AcceptMultishot,
    Connect,
    Send,
    SendZc,
    Recv,
    RecvPooled,
    SendMsg,
    RecvMsg,
    Shutdown,
    Socket,
    OpenAt,
    Statx,
    Poll,
    RenameAt,
    UnlinkAt,
    MkDirAt,
    SymlinkAt,
    LinkAt,
    Fallocate,
    Ftruncate,
    Splice,
    SendFile,
    ConnectNamedPipe,
    ReadDirectoryChanges,
    Blocking,
    WaitExit,
}

impl OpKind {
    /// Every kind, in declaration order.
    pub const ALL: [OpKind; 35] = [
        OpKind::Nop,
        OpKind::Timeout,
        OpKind::Read,
        OpKind::ReadVectored,
        OpKind::Write,
        OpKind::WriteVectored,
        OpKind::Fsync,
        OpKind::Close,
        OpKind::Accept,
        OpKind::AcceptMultishot,
        OpKind::Connect,
        OpKind::Send,
        OpKind::SendZc,
        OpKind::Recv,
        OpKind::RecvPooled,
        OpKind::SendMsg,
        OpKind::RecvMsg,
        OpKind::Shutdown,
        OpKind::Socket,
        OpKind::OpenAt,
        OpKind::Statx,
        OpKind::Poll,
        OpKind::RenameAt,
        OpKind::UnlinkAt,
        OpKind::MkDirAt,
        OpKind::SymlinkAt,
        OpKind::LinkAt,
        OpKind::Fallocate,
        OpKind::Ftruncate,
        OpKind::Splice,
        OpKind::SendFile,
        OpKind::ConnectNamedPipe,
        OpKind::ReadDirectoryChanges,
        OpKind::Blocking,
        OpKind::WaitExit,
    ];

    #[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring uses it.
    pub(crate) const fn bit(self) -> u64 {
        1 << (self as u32)
    }
}

impl Op {
    /// Builds an [`Op::OpenAt`], rejecting a path with a NUL byte before any syscall.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `path` contains a NUL byte.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor_driver::Op;
    ///
    /// assert!(Op::open_at(None, "Cargo.toml", libc::O_RDONLY, 0).is_ok());
    /// let error = Op::open_at(None, "bad\0path", libc::O_RDONLY, 0).err().unwrap();
    /// assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn open_at(
        dir: Option<Fd>,
        path: impl AsRef<Path>,
        flags: i32,
        mode: u32,
    ) -> io::Result<Op> {
        Ok(Op::OpenAt {
            dir,
            path: path_to_cstring(path.as_ref())?,
            flags,
            mode,
            beneath: false,
        })
    }

    /// Builds an [`Op::OpenAt`] that refuses any path resolving outside `dir` (see its
    /// `beneath` field), rejecting a path with a NUL byte before any syscall.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `path` contains a NUL byte.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::os::fd::AsRawFd;
    /// use std::time::Duration;
    /// use proactor_driver::{Driver, Op};
    ///
    /// let root = std::fs::File::open("src")?;
    /// let mut driver = Driver::new()?;
    /// driver.submit(Op::open_beneath(root.as_raw_fd(), "../Cargo.toml", libc::O_RDONLY, 0)?);
    /// let mut completions = Vec::new();
    /// while completions.is_empty() {
    ///     driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
    /// }
    /// // `..` leads out of `src`: refused (on a kernel without openat2: unsupported).
    /// assert!(completions[0].result.is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn open_beneath(dir: Fd, path: impl AsRef<Path>, flags: i32, mode: u32) -> io::Result<Op> {
        Ok(Op::OpenAt {
            dir: Some(dir),
            path: path_to_cstring(path.as_ref())?,
            flags,
            mode,
            beneath: true,
        })
    }

    /// Builds an [`Op::Statx`] with a fresh metadata box, rejecting a path with a NUL byte.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `path` contains a NUL byte.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Op;
    ///
    /// assert!(Op::statx(None, "Cargo.toml", 0).is_ok());
    /// ```
    pub fn statx(dir: Option<Fd>, path: impl AsRef<Path>, flags: i32) -> io::Result<Op> {
        Ok(Op::Statx {
            dir,
            path: path_to_cstring(path.as_ref())?,
            flags,
            metadata: Box::default(),
        })
    }

    /// What kind of operation this is.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Op, OpKind};
    ///
    /// assert_eq!(Op::Nop.kind(), OpKind::Nop);
    /// ```
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Nop => OpKind::Nop,
            Op::Timeout { .. } => OpKind::Timeout,
            Op::Read { .. } => OpKind::Read,
            Op::ReadVectored { .. } => OpKind::ReadVectored,
            Op::Write { .. } => OpKind::Write,
            Op::WriteVectored { .. } => OpKind::WriteVectored,
            Op::Fsync { .. } => OpKind::Fsync,
            Op::Close { .. } => OpKind::Close,
            Op::Accept { .. } => OpKind::Accept,
            Op::AcceptMultishot { .. } => OpKind::AcceptMultishot,
            Op::Connect { .. } => OpKind::Connect,
            Op::Send { .. } => OpKind::Send,
            Op::SendZc { .. } => OpKind::SendZc,
            Op::Recv { .. } => OpKind::Recv,
            Op::RecvPooled { .. } => OpKind::RecvPooled,
            Op::SendMsg { .. } => OpKind::SendMsg,
            Op::RecvMsg { .. } => OpKind::RecvMsg,
            Op::Shutdown { .. } => OpKind::Shutdown,
            Op::Socket { .. } => OpKind::Socket,
            Op::OpenAt { .. } => OpKind::OpenAt,
            Op::Statx { .. } => OpKind::Statx,
            Op::Poll { .. } => OpKind::Poll,
            Op::RenameAt { .. } => OpKind::RenameAt,
            Op::UnlinkAt { .. } => OpKind::UnlinkAt,
            Op::MkDirAt { .. } => OpKind::MkDirAt,
            Op::SymlinkAt { .. } => OpKind::SymlinkAt,
            Op::LinkAt { .. } => OpKind::LinkAt,
            Op::Fallocate { .. } => OpKind::Fallocate,
            Op::Ftruncate { .. } => OpKind::Ftruncate,
            Op::Splice { .. } => OpKind::Splice,
            Op::SendFile { .. } => OpKind::SendFile,
            Op::ConnectNamedPipe { .. } => OpKind::ConnectNamedPipe,
            Op::ReadDirectoryChanges { .. } => OpKind::ReadDirectoryChanges,
            Op::Blocking { .. } => OpKind::Blocking,
            Op::WaitExit { .. } => OpKind::WaitExit,
        }
    }

    /// The descriptor the operation works on, if it has one.
    pub(crate) fn fd(&self) -> Option<Fd> {
        match *self {
            Op::Read { fd, .. }
            | Op::ReadVectored { fd, .. }
            | Op::Write { fd, .. }
            | Op::WriteVectored { fd, .. }
            | Op::Fsync { fd, .. }
            | Op::Close { fd }
            | Op::Accept { fd, .. }
            | Op::AcceptMultishot { fd }
            | Op::Connect { fd, .. }
            | Op::Send { fd, .. }
            | Op::SendZc { fd, .. }
            | Op::Recv { fd, .. }
            | Op::RecvPooled { fd, .. }
            | Op::SendMsg { fd, .. }
            | Op::RecvMsg { fd, .. }
            | Op::Shutdown { fd, .. }
            | Op::Fallocate { fd, .. }
            | Op::Ftruncate { fd, .. }
            | Op::Poll { fd, .. } => Some(fd),
            // The side the operation waits on.
            Op::Splice { fd_out, .. } => Some(fd_out),
            Op::SendFile { socket, .. } => Some(socket),
            Op::ConnectNamedPipe { pipe } => Some(pipe),
            Op::ReadDirectoryChanges { dir, .. } => Some(dir),
            Op::Nop
            | Op::Timeout { .. }
            | Op::Socket { .. }
            | Op::OpenAt { .. }
            | Op::Statx { .. }
            | Op::RenameAt { .. }
            | Op::UnlinkAt { .. }
            | Op::MkDirAt { .. }
            | Op::SymlinkAt { .. }
            | Op::LinkAt { .. }
            | Op::Blocking { .. }
            | Op::WaitExit { .. } => None,
        }
    }

    /// Every descriptor the operation names: its own, a directory a path is relative to, or
    /// both ends of a splice, a sendfile, a rename or a link.
    pub(crate) fn fds(&self) -> [Option<Fd>; 2] {
        match *self {
            Op::Splice { fd_in, fd_out, .. } => [Some(fd_in), Some(fd_out)],
            Op::SendFile { socket, file, .. } => [Some(socket), Some(file)],
            Op::RenameAt {
                old_dir, new_dir, ..
            }
            | Op::LinkAt {
                old_dir, new_dir, ..
            } => [old_dir, new_dir],
            Op::OpenAt { dir, .. }
            | Op::Statx { dir, .. }
            | Op::UnlinkAt { dir, .. }
            | Op::MkDirAt { dir, .. }
            | Op::SymlinkAt { dir, .. } => [dir, None],
            _ => [self.fd(), None],
        }
    }

    /// Whether the operation names descriptor `fd` (see [`fds`](Op::fds)).
    pub(crate) fn uses_fd(&self, fd: Fd) -> bool {
        self.fds().contains(&Some(fd))
    }

    /// The descriptors the operation names, each once per field (a `Close`'s is left out:
    /// closing the number is its work). For the thread pool, which runs on duplicates.
    #[cfg(unix)]
    pub(crate) fn descriptors_mut(&mut self) -> [Option<&mut Fd>; 2] {
        match self {
            Op::Read { fd, .. }
            | Op::ReadVectored { fd, .. }
            | Op::Write { fd, .. }
            | Op::WriteVectored { fd, .. }
            | Op::Fsync { fd, .. }
            | Op::Accept { fd, .. }
            | Op::AcceptMultishot { fd }
            | Op::Connect { fd, .. }
            | Op::Send { fd, .. }
            | Op::SendZc { fd, .. }
            | Op::Recv { fd, .. }
            | Op::RecvPooled { fd, .. }
            | Op::SendMsg { fd, .. }
            | Op::RecvMsg { fd, .. }
            | Op::Shutdown { fd, .. }
            | Op::Fallocate { fd, .. }
            | Op::Ftruncate { fd, .. }
            | Op::Poll { fd, .. } => [Some(fd), None],
            Op::Splice { fd_in, fd_out, .. } => [Some(fd_in), Some(fd_out)],
            Op::SendFile { socket, file, .. } => [Some(socket), Some(file)],
            Op::ConnectNamedPipe { pipe } => [Some(pipe), None],
            Op::ReadDirectoryChanges { dir, .. } => [Some(dir), None],
            Op::OpenAt { dir, .. }
            | Op::Statx { dir, .. }
            | Op::UnlinkAt { dir, .. }
            | Op::MkDirAt { dir, .. }
            | Op::SymlinkAt { dir, .. } => [dir.as_mut(), None],
            Op::RenameAt {
                old_dir, new_dir, ..
            }
            | Op::LinkAt {
                old_dir, new_dir, ..
            } => [old_dir.as_mut(), new_dir.as_mut()],
            Op::Close { .. }
            | Op::Nop
            | Op::Timeout { .. }
            | Op::Socket { .. }
            | Op::Blocking { .. }
            | Op::WaitExit { .. } => [None, None],
        }
    }

    /// Whether the operation yields many completions (see [`Completion::more`]).
    #[cfg(target_os = "linux")] // io_uring links no deadline to a multishot operation.
    pub(crate) fn is_multishot(&self) -> bool {
        matches!(
            self,
            Op::RecvPooled {
                multishot: true,
                ..
            } | Op::AcceptMultishot { .. }
        )
    }

    /// Whether a multishot operation's result `count` is one of its many (the operation goes
    /// on), rather than its end: bytes received (none is the end of the stream), or a
    /// connection accepted.
    pub(crate) fn is_item(&self, count: usize) -> bool {
        match self {
            Op::RecvPooled {
                multishot: true, ..
            } => count > 0,
            Op::AcceptMultishot { .. } => true,
            _ => false,
        }
    }

    /// Whether a receive of `count` bytes left the socket empty as it was then: it took less
    /// than it had room for (a stream socket hands over all it holds, up to the room). A
    /// readiness backend may then wait for the next edge rather than ask again to hear
    /// "would block".
    #[cfg(unix)]
    pub(crate) fn drained_by(&self, count: usize) -> bool {
        match self {
            Op::RecvPooled { pool, .. } => count < pool.buffer_size(),
            _ => false,
        }
    }

    /// For a multishot operation that produced one result: that result's own operation (a
    /// copy of this one holding its output), leaving this one as it was submitted.
    pub(crate) fn split_item(&mut self) -> Op {
        match self {
            Op::RecvPooled {
                fd,
                pool,
                multishot,
                buffer,
            } => Op::RecvPooled {
                fd: *fd,
                pool: pool.clone(),
                multishot: *multishot,
                buffer: buffer.take(),
            },
            Op::AcceptMultishot { fd } => Op::AcceptMultishot { fd: *fd },
            _ => Op::Nop,
        }
    }

    /// Whether a successful result is a new descriptor, which must be closed if nobody takes
    /// it (`Accept`, `AcceptMultishot`, `Socket`, `OpenAt`).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Op;
    ///
    /// assert!(Op::AcceptMultishot { fd: 3 }.creates_fd());
    /// assert!(!Op::Nop.creates_fd());
    /// ```
    pub fn creates_fd(&self) -> bool {
        matches!(
            self,
            Op::Accept { .. } | Op::AcceptMultishot { .. } | Op::Socket { .. } | Op::OpenAt { .. }
        )
    }

    /// Takes back the single buffer of a `Read`, `Write`, `Send`, `SendZc`, `Recv` or
    /// `ReadDirectoryChanges`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Buffer, Op};
    ///
    /// let op = Op::Send { fd: 0, buf: Buffer::from("hi"), flags: 0 };
    /// assert_eq!(op.into_buffer().unwrap().as_slice(), b"hi");
    /// ```
    #[inline]
    pub fn into_buffer(self) -> Option<Buffer> {
        match self {
            Op::Read { buf, .. }
            | Op::Write { buf, .. }
            | Op::Send { buf, .. }
            | Op::SendZc { buf, .. }
            | Op::Recv { buf, .. }
            | Op::ReadDirectoryChanges { buf, .. } => Some(buf),
            _ => None,
        }
    }

    /// Whether what is left of the operation owns nothing that needs dropping: a single-buffer
    /// operation whose buffer was taken out (an empty static one left in its place).
    #[inline]
    pub(crate) fn is_spent(&self) -> bool {
        match self {
            Op::Read { buf, .. }
            | Op::Write { buf, .. }
            | Op::Send { buf, .. }
            | Op::SendZc { buf, .. }
            | Op::Recv { buf, .. } => buf.is_static(),
            _ => false,
        }
    }

    /// Takes the buffer of a `Read`, `Write`, `Send`, `SendZc`, `Recv` or `ReadDirectoryChanges`
    /// out of the operation, leaving an empty one.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Buffer, Op};
    ///
    /// let mut op = Op::Send { fd: 1, buf: Buffer::from("hello"), flags: 0 };
    /// assert_eq!(op.take_buffer().unwrap().as_slice(), b"hello");
    /// assert!(Op::Nop.take_buffer().is_none());
    /// ```
    pub fn take_buffer(&mut self) -> Option<Buffer> {
        match self {
            Op::Read { buf, .. }
            | Op::Write { buf, .. }
            | Op::Send { buf, .. }
            | Op::SendZc { buf, .. }
            | Op::Recv { buf, .. }
            | Op::ReadDirectoryChanges { buf, .. } => {
                Some(std::mem::replace(buf, Buffer::from(&[][..])))
            }
            _ => None,
        }
    }

    /// Takes back the buffers of a vectored read or write, `SendMsg` or `RecvMsg`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Buffer, Op};
    ///
    /// let op = Op::WriteVectored { fd: 1, bufs: vec![Buffer::from("a"), Buffer::from("b")], offset: None };
    /// assert_eq!(op.into_buffers().unwrap().len(), 2);
    /// ```
    pub fn into_buffers(self) -> Option<Vec<Buffer>> {
        match self {
            Op::ReadVectored { bufs, .. }
            | Op::WriteVectored { bufs, .. }
            | Op::SendMsg { bufs, .. }
            | Op::RecvMsg { bufs, .. } => Some(bufs),
            _ => None,
        }
    }
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Op");
        debug.field("kind", &self.kind());
        if let Some(fd) = self.fd() {
            debug.field("fd", &fd);
        }
        debug.finish_non_exhaustive()
    }
}

/// Converts a path for an operation, rejecting interior NUL bytes with `InvalidInput` (before
/// any syscall).
///
/// # Errors
///
/// `InvalidInput` if `path` contains a NUL byte.
///
/// # Examples
///
/// ```
/// assert!(proactor_driver::path_to_cstring("a\0b".as_ref()).is_err());
/// assert_eq!(proactor_driver::path_to_cstring("ok".as_ref())?.as_bytes(), b"ok");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn path_to_cstring(path: &Path) -> io::Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path is not valid Unicode"))?
        .as_bytes()
        .to_vec();
    CString::new(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// A finished operation: its result, and the operation itself with its buffers.
///
/// The `result` is the count of bytes transferred for reads and writes, the new descriptor for
/// `Accept`, `Socket` and `OpenAt`, and 0 otherwise. A cancelled operation completes with an
/// error for which [`is_cancelled`](crate::is_cancelled) is true, unless it finished first, in
/// which case it carries its real result.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use proactor_driver::{Driver, Op};
///
/// let mut driver = Driver::new()?;
/// let id = driver.submit(Op::Nop);
/// let mut completions = Vec::new();
/// driver.poll(&mut completions, Some(Duration::from_secs(5)))?;
/// assert_eq!(completions[0].id, id);
/// assert_eq!(completions[0].result.as_ref().ok(), Some(&0));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Completion {
    /// The identifier `submit` returned.
    pub id: OpId,
    /// What the operation produced.
    pub result: io::Result<usize>,
    /// The operation, giving back its buffers and output fields.
    pub op: Op,
    /// The operation goes on: this is one of the many completions of a multishot operation
    /// (see [`Op::RecvPooled`]), and more follow, the last without this flag.
    pub more: bool,
}

impl Completion {
    /// The completion of an operation that has ended.
    pub(crate) fn new(id: OpId, result: io::Result<usize>, op: Op) -> Completion {
        Completion {
            id,
            result,
            op,
            more: false,
        }
    }
}

/// A file's metadata, as [`Op::Statx`] reports it.
///
/// # Examples
///
/// ```
/// use proactor_driver::Metadata;
///
/// let metadata = Metadata::default();
/// assert!(!metadata.is_file());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// ID of the device holding the file.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// File type and permission bits (`st_mode`).
    pub mode: u32,
    /// Number of hard links.
    pub nlink: u64,
    /// Owner's user ID.
    pub uid: u32,
    /// Owner's group ID.
    pub gid: u32,
    /// Device ID, for a device file.
    pub rdev: u64,
    /// Size in bytes.
    pub size: u64,
    /// Preferred I/O block size.
    pub blksize: u64,
    /// Number of 512-byte blocks allocated.
    pub blocks: u64,
    /// Last access time.
    pub accessed: Option<SystemTime>,
    /// Last modification time.
    pub modified: Option<SystemTime>,
    /// Last status change time.
    pub changed: Option<SystemTime>,
    /// Creation time, where the file system records it.
    pub created: Option<SystemTime>,
}

impl Metadata {
    /// Whether this is a regular file.
    ///
    /// # Examples
    ///
    /// ```
    /// # use proactor_driver::Metadata;
    /// assert!(!Metadata::default().is_file());
    /// ```
    pub fn is_file(&self) -> bool {
        self.mode & 0o170000 == 0o100000
    }

    /// Whether this is a directory.
    ///
    /// # Examples
    ///
    /// ```
    /// # use proactor_driver::Metadata;
    /// assert!(!Metadata::default().is_dir());
    /// ```
    pub fn is_dir(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }

    /// Whether this is a symbolic link (only reported with `AT_SYMLINK_NOFOLLOW`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use proactor_driver::Metadata;
    /// assert!(!Metadata::default().is_symlink());
    /// ```
    pub fn is_symlink(&self) -> bool {
        self.mode & 0o170000 == 0o120000
    }
}
