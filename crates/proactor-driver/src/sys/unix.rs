//! What every Unix backend shares: each operation as a direct syscall (`perform`, run by the
//! readiness backends, the thread pool and io_uring's fallbacks), the per-slot control block the
//! kernel may point into, turning raw results into [`Completion`](crate::Completion) values, and
//! the waker (eventfd, kqueue user event or pipe).

use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) use super::checks::validate;
use super::checks::{commit_vectored, IOV_MAX};
use crate::{Address, Buffer, Descriptors, Metadata, Op, UnixAddr};

/// Kernel-shared memory of one operation slot, reused by every operation the slot holds.
///
/// Slots never move (see `slots.rs`), so pointers into a control block stay valid until the
/// operation completes. The large parts only some kinds use (a message header, a socket
/// address, statx's buffer: about 450 bytes) are in a [`Scratch`] boxed the first time the
/// slot holds such a kind, and kept with the slot after, and so are the iovecs and progress
/// of vectored operations (a [`Vectored`]): a slot that only ever reads and writes one buffer
/// at a time (most of a server's, and what every idle connection waits in) stays small, and
/// steady-state submission still allocates nothing.
#[derive(Default)]
pub(crate) struct Control {
    /// A readiness-emulated connect has been started and now waits for writability.
    pub(crate) connecting: bool,
    /// Made on a vectored operation's (or a message's) first use of the slot, kept after;
    /// boxed as the scratch is: 8 bytes in every slot instead of 48.
    vectored: Option<Box<Vectored>>,
    scratch: Option<Box<Scratch>>,
}

/// The part of a [`Control`] vectored operations and messages use.
#[derive(Default)]
pub(crate) struct Vectored {
    pub(crate) iovecs: Vec<libc::iovec>,
    /// Bytes a vectored write of more than [`IOV_MAX`] buffers has written so far: it goes on
    /// from there when it is performed again after waiting for readiness.
    pub(crate) moved: usize,
    /// Where `moved` ends, so each call starts there without walking every buffer before
    /// it: the first buffer not all written, and the bytes of the buffers before it. Only
    /// meaningful while `moved` is not 0.
    pub(crate) cursor: (usize, usize),
}

/// The part of a [`Control`] only some kinds of operation use.
pub(crate) struct Scratch {
    pub(crate) msghdr: libc::msghdr,
    pub(crate) address: libc::sockaddr_storage,
    pub(crate) address_len: libc::socklen_t,
    /// A message's control data (`msg_control`: descriptors passed with `SCM_RIGHTS`), in
    /// words so its `cmsghdr`s are aligned. Its capacity stays with the slot.
    pub(crate) ancillary: Vec<u64>,
    #[cfg(target_os = "linux")]
    pub(crate) statx: libc::statx,
    /// How an `openat2` resolves its path (io_uring reads it when the SQE is consumed).
    #[cfg(target_os = "linux")]
    pub(crate) open_how: libc::open_how,
    /// The timeout io_uring links to an operation with a deadline (the slot's own timespec
    /// is a `Timeout` operation's): here, out of the slot every idle operation pays for.
    #[cfg(target_os = "linux")]
    pub(crate) deadline: io_uring::types::Timespec,
    #[cfg(not(target_os = "linux"))]
    pub(crate) stat: libc::stat,
}

impl Control {
    /// Readies the control of a slot for its next operation.
    pub(crate) fn reset(&mut self) {
        self.connecting = false;
        if let Some(vectored) = &mut self.vectored {
            vectored.moved = 0;
        }
    }

    /// Bytes a vectored write in parts has written so far (see [`Vectored::moved`]).
    pub(crate) fn moved(&self) -> usize {
        self.vectored.as_ref().map_or(0, |vectored| vectored.moved)
    }

    /// The slot's vectored part, made on its first use. Never replaced after: the kernel may
    /// hold a pointer to its iovecs while an operation runs (their buffer, not the box, is
    /// what it points at; `fill_iovecs` reuses it).
    pub(crate) fn vectored(&mut self) -> &mut Vectored {
        self.vectored.get_or_insert_default()
    }

    /// The slot's scratch, made on its first use. Never replaced after: the kernel may hold
    /// pointers into it while an operation runs.
    pub(crate) fn scratch(&mut self) -> &mut Scratch {
        self.scratch.get_or_insert_with(|| {
            Box::new(Scratch {
                // SAFETY: msghdr, sockaddr_storage and statx are plain C structs for which
                // all-zero bytes are a valid (empty) value.
                msghdr: unsafe { mem::zeroed() },
                // SAFETY: as above.
                address: unsafe { mem::zeroed() },
                address_len: 0,
                ancillary: Vec::new(),
                #[cfg(target_os = "linux")]
                // SAFETY: as above.
                statx: unsafe { mem::zeroed() },
                #[cfg(target_os = "linux")]
                // SAFETY: as above (three integers).
                open_how: unsafe { mem::zeroed() },
                #[cfg(target_os = "linux")]
                deadline: io_uring::types::Timespec::new(),
                #[cfg(not(target_os = "linux"))]
                // SAFETY: as above.
                stat: unsafe { mem::zeroed() },
            })
        })
    }
}

fn invalid_input(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Fills `iovecs` (reusing its capacity) to describe `bufs` for a read or a write.
pub(crate) fn fill_iovecs(iovecs: &mut Vec<libc::iovec>, bufs: &mut [Buffer], for_read: bool) {
    iovecs.clear();
    for buf in bufs {
        let (base, len) = if for_read {
            let (pointer, len) = buf.read_destination();
            (pointer.cast(), len)
        } else {
            let (pointer, len) = buf.write_source();
            (pointer as *mut libc::c_void, len)
        };
        iovecs.push(libc::iovec {
            iov_base: base,
            iov_len: len,
        });
    }
}

/// Writes `addr` into `storage`; returns its length.
pub(crate) fn write_socket_addr(
    addr: &SocketAddr,
    storage: &mut libc::sockaddr_storage,
) -> libc::socklen_t {
    match addr {
        SocketAddr::V4(v4) => {
            // Zeroed first: that also clears padding and, on BSD, `sin_len`.
            let mut raw = unsafe_zeroed_sockaddr_in();
            raw.sin_family = libc::AF_INET as libc::sa_family_t;
            raw.sin_port = v4.port().to_be();
            raw.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(v4.ip().octets()),
            };
            // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr type.
            unsafe {
                (storage as *mut libc::sockaddr_storage)
                    .cast::<libc::sockaddr_in>()
                    .write(raw)
            };
            mem::size_of::<libc::sockaddr_in>() as libc::socklen_t
        }
        SocketAddr::V6(v6) => {
            let mut raw = unsafe_zeroed_sockaddr_in6();
            raw.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            raw.sin6_port = v6.port().to_be();
            raw.sin6_flowinfo = v6.flowinfo();
            raw.sin6_addr = libc::in6_addr {
                s6_addr: v6.ip().octets(),
            };
            raw.sin6_scope_id = v6.scope_id();
            // SAFETY: as above.
            unsafe {
                (storage as *mut libc::sockaddr_storage)
                    .cast::<libc::sockaddr_in6>()
                    .write(raw)
            };
            mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t
        }
    }
}

fn unsafe_zeroed_sockaddr_in() -> libc::sockaddr_in {
    // SAFETY: an all-zero sockaddr_in is valid.
    unsafe { mem::zeroed() }
}

fn unsafe_zeroed_sockaddr_in6() -> libc::sockaddr_in6 {
    // SAFETY: an all-zero sockaddr_in6 is valid.
    unsafe { mem::zeroed() }
}

/// Reads an IPv4 or IPv6 address the kernel wrote; `None` for other families (e.g. an unnamed
/// Unix socket peer).
pub(crate) fn read_socket_addr(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> Option<SocketAddr> {
    let len = len as usize;
    match storage.ss_family as libc::c_int {
        libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in, and it is long enough.
            let raw =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(raw.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(raw.sin_port),
            )))
        }
        libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: the family says the storage holds a sockaddr_in6, and it is long enough.
            let raw = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            let ip = Ipv6Addr::from(raw.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(raw.sin6_port),
                raw.sin6_flowinfo,
                raw.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Points the scratch's `msghdr` at `bufs` (through the vectored part's iovecs), at its
/// `address` if the message goes to `addr`, and at a control message passing `fds` if there
/// are any.
pub(crate) fn prepare_send(
    control: &mut Control,
    bufs: &mut [Buffer],
    addr: Option<&Address>,
    fds: &[RawFd],
) {
    let iovecs = &mut control.vectored().iovecs;
    fill_iovecs(iovecs, bufs, false);
    let (iov, iovlen) = (iovecs.as_mut_ptr(), iovecs.len());
    let scratch = control.scratch();
    // SAFETY: all-zero is a valid msghdr; zeroing clears fields a previous operation set.
    scratch.msghdr = unsafe { mem::zeroed() };
    scratch.msghdr.msg_iov = iov;
    scratch.msghdr.msg_iovlen = iovlen as _;
    if let Some(addr) = addr {
        scratch.address_len = match addr {
            Address::Ip(addr) => write_socket_addr(addr, &mut scratch.address),
            Address::Unix(addr) => write_unix_addr(addr, &mut scratch.address),
        };
        scratch.msghdr.msg_name = (&mut scratch.address as *mut libc::sockaddr_storage).cast();
        scratch.msghdr.msg_namelen = scratch.address_len;
    }
    if !fds.is_empty() {
        let data_len = mem::size_of_val(fds) as libc::c_uint;
        set_control(scratch, data_len);
        // SAFETY: `set_control` made msg_control point at CMSG_SPACE(data_len) zeroed,
        // aligned bytes in the scratch, room for one cmsghdr and `fds` after it.
        unsafe {
            let header = libc::CMSG_FIRSTHDR(&scratch.msghdr);
            (*header).cmsg_level = libc::SOL_SOCKET;
            (*header).cmsg_type = libc::SCM_RIGHTS;
            (*header).cmsg_len = libc::CMSG_LEN(data_len) as _;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr().cast::<u8>(),
                libc::CMSG_DATA(header),
                data_len as usize,
            );
        }
    }
}

/// Points the scratch's `msghdr` at `bufs` (through the vectored part's iovecs), at its
/// `address` for /// the sender's address, and at room for `max_fds` passed descriptors if not 0.
pub(crate) fn prepare_receive(control: &mut Control, bufs: &mut [Buffer], max_fds: usize) {
    let iovecs = &mut control.vectored().iovecs;
    fill_iovecs(iovecs, bufs, true);
    let (iov, iovlen) = (iovecs.as_mut_ptr(), iovecs.len());
    let scratch = control.scratch();
    // SAFETY: all-zero is a valid msghdr; zeroing clears fields a previous operation set.
    scratch.msghdr = unsafe { mem::zeroed() };
    scratch.msghdr.msg_iov = iov;
    scratch.msghdr.msg_iovlen = iovlen as _;
    scratch.address_len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    scratch.msghdr.msg_name = (&mut scratch.address as *mut libc::sockaddr_storage).cast();
    scratch.msghdr.msg_namelen = scratch.address_len;
    if max_fds > 0 {
        set_control(scratch, (max_fds * mem::size_of::<RawFd>()) as libc::c_uint);
    }
}

/// Points the message header at zeroed control room for `data_len` bytes of one control
/// message, in the scratch's `ancillary` (grown only past its largest use so far).
fn set_control(scratch: &mut Scratch, data_len: libc::c_uint) {
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(data_len) } as usize;
    scratch.ancillary.clear();
    scratch
        .ancillary
        .resize(space.div_ceil(mem::size_of::<u64>()), 0);
    scratch.msghdr.msg_control = scratch.ancillary.as_mut_ptr().cast();
    scratch.msghdr.msg_controllen = space as _;
}

/// Takes ownership of the descriptors a received message carried (`SCM_RIGHTS` in its
/// control data) into `fds`, close-on-exec, up to `max_fds`; returns whether some found no
/// room: the control data was cut short (`MSG_CTRUNC`: the OS closed those), or more than
/// `max_fds` fit in the alignment padding of the room (closed here).
fn take_descriptors(scratch: &Scratch, descriptors: &mut Descriptors, max_fds: usize) -> bool {
    let header = &scratch.msghdr;
    let mut truncated = header.msg_flags & libc::MSG_CTRUNC != 0;
    if header.msg_control.is_null() {
        return truncated;
    }
    // Only until the loop ends, which nothing can interrupt (no early return, no panic).
    let mut fds = Vec::new();
    // SAFETY: msg_control points at the scratch's ancillary room, of which the kernel wrote
    // msg_controllen bytes of control messages; CMSG_FIRSTHDR/NXTHDR stay inside that length
    // and every message's data is read within its cmsg_len.
    unsafe {
        let mut message = libc::CMSG_FIRSTHDR(header);
        while !message.is_null() {
            if (*message).cmsg_level == libc::SOL_SOCKET && (*message).cmsg_type == libc::SCM_RIGHTS
            {
                let data = libc::CMSG_DATA(message);
                let header_len = data as usize - message as usize;
                let data_len = ((*message).cmsg_len as usize).saturating_sub(header_len);
                for index in 0..data_len / mem::size_of::<RawFd>() {
                    let fd = data.cast::<RawFd>().add(index).read_unaligned();
                    if fds.len() == max_fds {
                        // Room for `max_fds` rounds up to whole words: one more may fit.
                        close_quietly(fd);
                        truncated = true;
                        continue;
                    }
                    if !RECEIVES_CLOEXEC {
                        // No MSG_CMSG_CLOEXEC here (macOS): mark it now, as soon as it exists.
                        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                    }
                    fds.push(fd);
                }
            }
            message = libc::CMSG_NXTHDR(header, message);
        }
    }
    if !fds.is_empty() {
        *descriptors = Descriptors::from_owned_raw(fds);
    }
    truncated
}

/// Hands over descriptors owned by a [`Descriptors`], which has let go of them.
pub(crate) fn into_owned_fds(fds: Vec<RawFd>) -> Vec<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    fds.into_iter()
        // SAFETY: the caller owned each descriptor (a `Descriptors` closes what it holds, and
        // held these), and gives up every one of them here.
        .map(|fd| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
        .collect()
}

/// Writes a Unix domain address into `storage` as a `sockaddr_un`; returns its length (a path
/// counts its final NUL, as std's addresses do). Its length was checked at submission.
fn write_unix_addr(addr: &UnixAddr, storage: &mut libc::sockaddr_storage) -> libc::socklen_t {
    // SAFETY: all-zero is a valid sockaddr_storage; zeroing also clears a previous address.
    *storage = unsafe { mem::zeroed() };
    // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr type.
    let raw = unsafe { &mut *(storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_un>() };
    raw.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = addr.as_bytes();
    for (to, &from) in raw.sun_path.iter_mut().zip(bytes) {
        *to = from as libc::c_char;
    }
    let is_path = bytes.first().is_some_and(|&first| first != 0);
    (mem::offset_of!(libc::sockaddr_un, sun_path) + bytes.len() + usize::from(is_path))
        as libc::socklen_t
}

/// Reads the address the kernel wrote into `storage` (`len` bytes): an IP address, or a Unix
/// domain one, written into `reuse`'s box if it has one. `None` if it is neither (or absent).
fn read_address(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
    reuse: Option<Address>,
) -> Option<Address> {
    let len = len as usize;
    let path_offset = mem::offset_of!(libc::sockaddr_un, sun_path);
    if len < path_offset {
        // No address: Linux reports none for an unbound Unix sender. A caller that gave a
        // Unix address box receives on a Unix socket: the sender is unnamed.
        return match reuse {
            Some(Address::Unix(mut addr)) => {
                *addr = UnixAddr::unnamed();
                Some(Address::Unix(addr))
            }
            _ => None,
        };
    }
    if storage.ss_family as libc::c_int != libc::AF_UNIX {
        return read_socket_addr(storage, len as libc::socklen_t).map(Address::Ip);
    }
    // SAFETY: the family says the storage holds a sockaddr_un; its bytes are initialized.
    let raw = unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_un>() };
    let path = &raw.sun_path[..(len - path_offset).min(raw.sun_path.len())];
    // SAFETY: c_char and u8 have the same size and alignment.
    let mut bytes = unsafe { std::slice::from_raw_parts(path.as_ptr().cast::<u8>(), path.len()) };
    if bytes.first().is_some_and(|&first| first != 0) {
        // A path ends at its NUL (the kernel may count it, or padding after it).
        if let Some(end) = bytes.iter().position(|&byte| byte == 0) {
            bytes = &bytes[..end];
        }
    }
    let mut addr = match reuse {
        Some(Address::Unix(addr)) => addr,
        _ => Box::new(UnixAddr::unnamed()),
    };
    // A name longer than UnixAddr holds cannot come from a sun_path of at most 108 bytes.
    addr.set(bytes).ok()?;
    Some(Address::Unix(addr))
}

/// Converts a raw syscall return (`-1` with errno) to a result.
fn check(value: libc::ssize_t) -> io::Result<usize> {
    if value < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(value as usize)
    }
}

/// One non-blocking receive into `transfer`'s buffer, or send of it, on the socket `fd`: what
/// `perform` does for `Op::Recv` and `Op::Send` without flags, outside any operation.
#[cfg_attr(not(any(target_os = "linux", kqueue)), allow(dead_code))] // Readiness only.
#[inline]
pub(crate) fn transfer_now(fd: RawFd, transfer: super::Transfer<'_>) -> io::Result<usize> {
    match transfer {
        super::Transfer::Receive(buf) => {
            let (pointer, len) = buf.read_destination();
            // SAFETY: the pointer and length describe the buffer's room, which the borrow
            // keeps alive and unmoved for the whole call.
            let count = check(unsafe { libc::recv(fd, pointer.cast(), len, 0) })?;
            // SAFETY: the kernel reported `count` bytes written into read_destination's
            // memory.
            unsafe { buf.commit_read(count) };
            Ok(count)
        }
        super::Transfer::Send(buf) => {
            let (pointer, len) = buf.write_source();
            // SAFETY: the pointer and length describe the buffer's bytes, borrowed for the
            // whole call.
            check(unsafe { libc::send(fd, pointer.cast(), len, SEND_FLAGS) })
        }
    }
}

/// Converts an io_uring-style result (`-errno` or a count) to a result.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only io_uring uses it.
#[inline]
pub(crate) fn from_kernel_result(value: i32) -> io::Result<usize> {
    if value < 0 {
        Err(io::Error::from_raw_os_error(-value))
    } else {
        Ok(value as usize)
    }
}

/// The error a cancelled operation completes with.
pub(crate) fn cancelled() -> io::Error {
    io::Error::from_raw_os_error(libc::ECANCELED)
}

/// Whether `error` is the cancellation error.
pub(crate) fn is_cancelled(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ECANCELED)
}

/// Whether the caller asked for `MSG_DONTWAIT`: then "would block" is the answer, not a
/// reason to wait for readiness.
pub(crate) fn must_not_wait(op: &Op) -> bool {
    match op {
        Op::Send { flags, .. }
        | Op::SendZc { flags, .. }
        | Op::Recv { flags, .. }
        | Op::SendMsg { flags, .. }
        | Op::RecvMsg { flags, .. } => flags & libc::MSG_DONTWAIT != 0,
        _ => false,
    }
}

/// Whether `error` means "not ready yet, wait for readiness".
pub(crate) fn would_block(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EAGAIN) | Some(libc::EINPROGRESS)
    ) || error.raw_os_error() == Some(libc::EWOULDBLOCK)
}

fn offset_arg(offset: Option<u64>) -> io::Result<Option<libc::off_t>> {
    offset
        .map(|offset| {
            libc::off_t::try_from(offset)
                .map_err(|_| invalid_input("file offset is beyond the largest the OS takes"))
        })
        .transpose()
}

/// Sends never raise SIGPIPE: a peer that went away is an `EPIPE` error, not a dead process.
/// Linux and FreeBSD take `MSG_NOSIGNAL` per send; macOS has no such flag, so sockets made by
/// the driver get `SO_NOSIGPIPE` instead (see `configure_new_fd`).
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
const SEND_FLAGS: libc::c_int = 0;

/// Linux and FreeBSD mark received descriptors close-on-exec as they arrive
/// (`MSG_CMSG_CLOEXEC`); macOS has no such flag, so `take_descriptors` marks them after.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
const RECEIVE_FLAGS: libc::c_int = libc::MSG_CMSG_CLOEXEC;
#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
const RECEIVE_FLAGS: libc::c_int = 0;
const RECEIVES_CLOEXEC: bool = RECEIVE_FLAGS != 0;

/// Receives from `fd` into a buffer taken from `pool` (a free list), lent into `buffer` if
/// bytes came. An empty pool is an error only when there is something to receive, as on
/// io_uring, whose kernel takes a buffer only then.
fn receive_pooled(
    fd: RawFd,
    pool: &crate::BufferPool,
    buffer: &mut Option<crate::PooledBuffer>,
) -> io::Result<usize> {
    let shared = &pool.shared;
    let Some(index) = shared.take()? else {
        let mut byte = 0u8;
        // SAFETY: one byte of a local, alive for the call.
        let peeked =
            check(unsafe { libc::recv(fd, (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK) })?;
        return match peeked {
            0 => Ok(0),
            _ => Err(crate::buffer_pool::exhausted()),
        };
    };
    // SAFETY: the buffer was just taken from the free list, so nothing else uses its memory;
    // it is buffer_size bytes long.
    let result =
        check(unsafe { libc::recv(fd, shared.address(index).cast(), shared.buffer_size(), 0) });
    match result {
        Ok(count) if count > 0 => {
            *buffer = Some(shared.lend(index, count));
            Ok(count)
        }
        other => {
            shared.untake(index);
            other
        }
    }
}

/// Does `op` now with a direct syscall. On a non-blocking descriptor it returns a
/// [`would_block`] error when the operation must wait for readiness; `connect` then records
/// in `control` that it is in progress, and the next call collects its outcome.
pub(crate) fn perform(op: &mut Op, control: &mut Control) -> io::Result<usize> {
    match op {
        Op::Nop => Ok(0),
        Op::Timeout { duration } => {
            std::thread::sleep(*duration);
            Ok(0)
        }
        Op::Read { fd, buf, offset } => {
            let (pointer, len) = buf.read_destination();
            match offset_arg(*offset)? {
                // SAFETY: the pointer and length describe the buffer's memory, alive for the whole call.
                Some(offset) => check(unsafe { libc::pread(*fd, pointer.cast(), len, offset) }),
                // SAFETY: the pointer and length describe the buffer's memory, alive for the whole call.
                None => check(unsafe { libc::read(*fd, pointer.cast(), len) }),
            }
        }
        Op::ReadVectored { fd, bufs, offset } if bufs.len() > IOV_MAX => {
            read_in_parts(*fd, bufs, *offset, control)
        }
        Op::ReadVectored { fd, bufs, offset } => {
            let iovecs = &mut control.vectored().iovecs;
            fill_iovecs(iovecs, bufs, true);
            // SAFETY: the iovecs describe the buffers' spare capacity, alive for the call.
            unsafe { transfer_vectored(*fd, iovecs, *offset, true) }
        }
        Op::Write { fd, buf, offset } => {
            let (pointer, len) = buf.write_source();
            match offset_arg(*offset)? {
                // SAFETY: the pointer and length describe the buffer's memory, alive for the whole call.
                Some(offset) => check(unsafe { libc::pwrite(*fd, pointer.cast(), len, offset) }),
                // SAFETY: the pointer and length describe the buffer's memory, alive for the whole call.
                None => check(unsafe { libc::write(*fd, pointer.cast(), len) }),
            }
        }
        Op::WriteVectored { fd, bufs, offset } if bufs.len() > IOV_MAX => {
            write_in_parts(*fd, bufs, *offset, control)
        }
        Op::WriteVectored { fd, bufs, offset } => {
            let iovecs = &mut control.vectored().iovecs;
            fill_iovecs(iovecs, bufs, false);
            // SAFETY: the iovecs describe the buffers' bytes, alive for the call.
            unsafe { transfer_vectored(*fd, iovecs, *offset, false) }
        }
        Op::Fsync { fd, data_only } => {
            #[cfg(any(target_os = "linux", target_os = "freebsd"))]
            let result = if *data_only {
                // SAFETY: integer arguments only; a bad descriptor comes back as EBADF.
                unsafe { libc::fdatasync(*fd) }
            } else {
                // SAFETY: integer arguments only; a bad descriptor comes back as EBADF.
                unsafe { libc::fsync(*fd) }
            };
            // macOS's fsync leaves data in the drive's cache; F_FULLFSYNC flushes it, as std's
            // sync_all does. There is no lighter data-only form.
            #[cfg(target_vendor = "apple")]
            let result = {
                let _ = data_only;
                // SAFETY: integer arguments only; a bad descriptor comes back as EBADF.
                unsafe { libc::fcntl(*fd, libc::F_FULLFSYNC) }
            };
            #[cfg(not(any(target_os = "linux", target_os = "freebsd", target_vendor = "apple")))]
            let result = {
                let _ = data_only;
                // SAFETY: integer arguments only; a bad descriptor comes back as EBADF.
                unsafe { libc::fsync(*fd) }
            };
            check(result as libc::ssize_t)
        }
        // SAFETY: integer arguments only; a bad descriptor comes back as EBADF.
        Op::Close { fd } => check(unsafe { libc::close(*fd) } as libc::ssize_t),
        Op::Accept { fd, .. } => {
            let scratch = control.scratch();
            scratch.address_len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            let address = (&mut scratch.address as *mut libc::sockaddr_storage).cast();
            accept(*fd, address, &mut scratch.address_len)
        }
        Op::AcceptMultishot { fd } => {
            // The peer's address is not reported: it goes to a local.
            let mut address = MaybeUninit::<libc::sockaddr_storage>::uninit();
            let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            accept(*fd, address.as_mut_ptr().cast(), &mut len)
        }
        Op::Connect { fd, addr } => {
            if control.connecting {
                return socket_error(*fd).map(|()| 0);
            }
            let scratch = control.scratch();
            let len = write_socket_addr(addr, &mut scratch.address);
            let address = (&scratch.address as *const libc::sockaddr_storage).cast();
            // SAFETY: the address and its length are in the control block, alive for the call.
            match check(unsafe { libc::connect(*fd, address, len) } as libc::ssize_t) {
                Err(error) if would_block(&error) => {
                    control.connecting = true;
                    Err(error)
                }
                Err(error) if error.raw_os_error() == Some(libc::EISCONN) && control.connecting => {
                    Ok(0)
                }
                result => result.map(|_| 0),
            }
        }
        // A plain send: zero copy is io_uring's alone (see `Op::SendZc`).
        Op::Send { fd, buf, flags } | Op::SendZc { fd, buf, flags } => {
            let (pointer, len) = buf.write_source();
            // SAFETY: the pointer and length describe the buffer's memory, alive for the whole call.
            check(unsafe { libc::send(*fd, pointer.cast(), len, *flags | SEND_FLAGS) })
        }
        Op::Recv { fd, buf, flags } => {
            let (pointer, len) = buf.read_destination();
            // SAFETY: the pointer and length describe the buffer's memory, alive for the whole call.
            check(unsafe { libc::recv(*fd, pointer.cast(), len, *flags) })
        }
        Op::RecvPooled {
            fd, pool, buffer, ..
        } => receive_pooled(*fd, pool, buffer),
        Op::SendMsg {
            fd,
            bufs,
            addr,
            fds,
            flags,
        } => {
            prepare_send(control, bufs, addr.as_ref(), fds.as_raw());
            // SAFETY: the msghdr points at iovecs, an address and control data in the control
            // block, alive for the call.
            check(unsafe { libc::sendmsg(*fd, &control.scratch().msghdr, *flags | SEND_FLAGS) })
        }
        Op::RecvMsg {
            fd,
            bufs,
            flags,
            max_fds,
            ..
        } => {
            prepare_receive(control, bufs, usize::from(*max_fds));
            // SAFETY: the msghdr points at iovecs, an address and control room in the control
            // block, alive for the call.
            check(unsafe {
                libc::recvmsg(*fd, &mut control.scratch().msghdr, *flags | RECEIVE_FLAGS)
            })
        }
        Op::Shutdown { fd, how } => {
            let how = match how {
                Shutdown::Read => libc::SHUT_RD,
                Shutdown::Write => libc::SHUT_WR,
                Shutdown::Both => libc::SHUT_RDWR,
            };
            // SAFETY: integer arguments only; a bad descriptor comes back as EBADF.
            check(unsafe { libc::shutdown(*fd, how) } as libc::ssize_t)
        }
        Op::Socket {
            domain,
            socket_type,
            protocol,
        } => socket(*domain, *socket_type, *protocol),
        Op::OpenAt {
            dir,
            path,
            flags,
            mode,
            beneath,
        } => {
            let dir = dir.unwrap_or(libc::AT_FDCWD);
            if *beneath {
                return open_beneath(dir, path, *flags | libc::O_CLOEXEC, *mode, control);
            }
            // SAFETY: the path is NUL-terminated and outlives the call.
            check(unsafe {
                libc::openat(
                    dir,
                    path.as_ptr(),
                    *flags | libc::O_CLOEXEC,
                    *mode as libc::c_uint,
                )
            } as libc::ssize_t)
        }
        Op::Statx {
            dir, path, flags, ..
        } => stat(*dir, path, *flags, control),
        Op::Poll { fd, writable } => poll_now(*fd, *writable),
        Op::RenameAt {
            old_dir,
            old_path,
            new_dir,
            new_path,
            flags,
        } => rename(at(*old_dir), old_path, at(*new_dir), new_path, *flags),
        // SAFETY: the path is NUL-terminated and outlives the call.
        Op::UnlinkAt { dir, path, flags } => {
            check(unsafe { libc::unlinkat(at(*dir), path.as_ptr(), *flags) } as libc::ssize_t)
        }
        Op::MkDirAt { dir, path, mode } => {
            // SAFETY: the path is NUL-terminated and outlives the call.
            check(
                unsafe { libc::mkdirat(at(*dir), path.as_ptr(), *mode as libc::mode_t) }
                    as libc::ssize_t,
            )
        }
        Op::SymlinkAt { target, dir, link } => {
            // SAFETY: both paths are NUL-terminated and outlive the call.
            check(
                unsafe { libc::symlinkat(target.as_ptr(), at(*dir), link.as_ptr()) }
                    as libc::ssize_t,
            )
        }
        Op::LinkAt {
            old_dir,
            old_path,
            new_dir,
            new_path,
            flags,
        } => {
            // SAFETY: both paths are NUL-terminated and outlive the call.
            check(unsafe {
                libc::linkat(
                    at(*old_dir),
                    old_path.as_ptr(),
                    at(*new_dir),
                    new_path.as_ptr(),
                    *flags,
                )
            } as libc::ssize_t)
        }
        Op::Fallocate {
            fd,
            mode,
            offset,
            len,
        } => fallocate(*fd, *mode, *offset, *len),
        Op::Ftruncate { fd, len } => {
            let len = libc::off_t::try_from(*len)
                .map_err(|_| invalid_input("length is beyond the largest the OS takes"))?;
            // SAFETY: integer arguments only; a bad descriptor comes back as EBADF.
            check(unsafe { libc::ftruncate(*fd, len) } as libc::ssize_t)
        }
        Op::Splice {
            fd_in,
            offset_in,
            fd_out,
            offset_out,
            len,
            flags,
        } => splice(*fd_in, *offset_in, *fd_out, *offset_out, *len, *flags),
        Op::SendFile {
            socket,
            file,
            offset,
            len,
        } => send_file(*socket, *file, *offset, *len),
        Op::ConnectNamedPipe { .. } => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "named pipes of this kind exist only on Windows",
        )),
        Op::ReadDirectoryChanges { .. } => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "ReadDirectoryChangesW exists only on Windows (read inotify or kqueue instead)",
        )),
        Op::Blocking { job } => {
            let job = mem::replace(job, Box::new(|| Ok(0)));
            job()
        }
        // The kqueue backend waits for these itself and never performs them.
        Op::WaitExit { .. } => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "waiting for a process exit through the driver needs kqueue (EVFILT_PROC); on Linux poll a pidfd with Op::Poll",
        )),
    }
}

/// One `preadv`/`readv` (`read`) or `pwritev`/`writev` of `iovecs`, at `offset` or the
/// current position.
///
/// # Safety
///
/// Each iovec describes memory valid for the whole call: readable for a write, writable for
/// a read.
unsafe fn transfer_vectored(
    fd: RawFd,
    iovecs: &[libc::iovec],
    offset: Option<u64>,
    read: bool,
) -> io::Result<usize> {
    let (pointer, count) = (iovecs.as_ptr(), iovecs.len() as libc::c_int);
    match (offset_arg(offset)?, read) {
        // SAFETY: the caller's promise (writable iovecs); `count` is the array's own length.
        (Some(offset), true) => check(unsafe { libc::preadv(fd, pointer, count, offset) }),
        // SAFETY: as above.
        (None, true) => check(unsafe { libc::readv(fd, pointer, count) }),
        // SAFETY: the caller's promise (readable iovecs); `count` is the array's own length.
        (Some(offset), false) => check(unsafe { libc::pwritev(fd, pointer, count, offset) }),
        // SAFETY: as above.
        (None, false) => check(unsafe { libc::writev(fd, pointer, count) }),
    }
}

/// A vectored read of more buffers than one call takes: calls of at most [`IOV_MAX`]
/// buffers each, at advancing offsets for a file at a position. It goes on only while each
/// call fills every buffer it was given; a short one (the end of a file, or all a stream had
/// for now) ends it, and so does an error or "would block" once bytes came: the count so far
/// is the result, as for any short read.
fn read_in_parts(
    fd: RawFd,
    bufs: &mut [Buffer],
    offset: Option<u64>,
    control: &mut Control,
) -> io::Result<usize> {
    let iovecs = &mut control.vectored().iovecs;
    let mut moved = 0;
    for part in bufs.chunks_mut(IOV_MAX) {
        fill_iovecs(iovecs, part, true);
        let wanted: usize = iovecs.iter().map(|iovec| iovec.iov_len).sum();
        let at = offset.map(|offset| offset.saturating_add(moved as u64));
        // SAFETY: the iovecs describe these buffers' spare capacity, alive for the call.
        match unsafe { transfer_vectored(fd, iovecs, at, true) } {
            Ok(count) => {
                moved += count;
                if count < wanted {
                    break;
                }
            }
            Err(error) if moved == 0 => return Err(error),
            Err(_) => break,
        }
    }
    Ok(moved)
}

/// A vectored write of more buffers than one call takes, as libuv does it: calls of at most
/// [`IOV_MAX`] buffers each, at advancing offsets for a file at a position, until every byte
/// is written. A short first call ends it, as `writev` would; after that a short call goes
/// on with the rest, and "would block" waits for readiness with the bytes written so far
/// kept in the vectored part's `moved`, where the next call goes on from. An error once bytes were
/// written ends it with their count (the error comes again on the next call); so does a
/// cancel, through [`finish`].
fn write_in_parts(
    fd: RawFd,
    bufs: &[Buffer],
    offset: Option<u64>,
    control: &mut Control,
) -> io::Result<usize> {
    let total: usize = bufs.iter().map(Buffer::len).sum();
    let control = control.vectored();
    if control.moved == 0 {
        control.cursor = (0, 0);
    }
    loop {
        let before = control.moved;
        if before >= total {
            return Ok(total);
        }
        let (mut index, mut ahead) = control.cursor;
        while index < bufs.len() && ahead + bufs[index].len() <= before {
            ahead += bufs[index].len();
            index += 1;
        }
        control.cursor = (index, ahead);
        let wanted = fill_iovecs_after(&mut control.iovecs, &bufs[index..], before - ahead);
        let at = offset.map(|offset| offset.saturating_add(before as u64));
        // SAFETY: the iovecs describe these buffers' bytes, alive for the call.
        match unsafe { transfer_vectored(fd, &control.iovecs, at, false) } {
            Ok(count) => {
                control.moved += count;
                if count == 0 || (before == 0 && count < wanted) {
                    return Ok(control.moved);
                }
            }
            Err(error) if would_block(&error) || before == 0 => return Err(error),
            Err(_) => return Ok(before),
        }
    }
}

/// Fills `iovecs` with at most [`IOV_MAX`] entries for the bytes of `bufs` after the first
/// `skip` (empty buffers take no entry); returns how many bytes they hold.
fn fill_iovecs_after(iovecs: &mut Vec<libc::iovec>, bufs: &[Buffer], mut skip: usize) -> usize {
    iovecs.clear();
    let mut total = 0;
    for buf in bufs {
        let (pointer, len) = buf.write_source();
        if skip >= len {
            skip -= len;
            continue;
        }
        // SAFETY: `skip < len`, so the pointer stays inside the buffer's bytes.
        let base = unsafe { pointer.add(skip) };
        iovecs.push(libc::iovec {
            iov_base: base as *mut libc::c_void,
            iov_len: len - skip,
        });
        total += len - skip;
        skip = 0;
        if iovecs.len() == IOV_MAX {
            break;
        }
    }
    total
}

/// Whether `fd` is ready now: the events seen, or `EAGAIN` (wait for readiness).
fn poll_now(fd: RawFd, writable: bool) -> io::Result<usize> {
    let events = if writable {
        libc::POLLOUT
    } else {
        libc::POLLIN
    };
    let mut entry = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    let ready = unsafe { libc::poll(&mut entry, 1, 0) };
    if ready < 0 {
        return Err(io::Error::last_os_error());
    }
    if entry.revents & libc::POLLNVAL != 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    if ready == 0 {
        return Err(io::Error::from_raw_os_error(libc::EAGAIN));
    }
    Ok(entry.revents as u16 as usize)
}

/// Which end a splice that would block waits for, since `EAGAIN` does not say: its input
/// (`(fd_in, false)`: for reading) while that has nothing to read, else its output
/// (`(fd_out, true)`: for writing). `poll(2)` with no timeout on both tells. `None` when both
/// are ready now, so the state changed since the splice was tried: try it again rather than
/// wait for an edge that may already have passed.
pub(crate) fn splice_waits_for(fd_in: RawFd, fd_out: RawFd) -> Option<(RawFd, bool)> {
    let mut entries = [
        libc::pollfd {
            fd: fd_in,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: fd_out,
            events: libc::POLLOUT,
            revents: 0,
        },
    ];
    // SAFETY: two valid pollfds, no waiting.
    if unsafe { libc::poll(entries.as_mut_ptr(), 2, 0) } < 0 {
        // Cannot tell (poll only fails for lack of memory): wait on the output, as for any
        // write.
        return Some((fd_out, true));
    }
    // Hang-up, error and POLLNVAL count as ready: the next try reports them.
    match (entries[0].revents != 0, entries[1].revents != 0) {
        (false, _) => Some((fd_in, false)),
        (true, false) => Some((fd_out, true)),
        (true, true) => None,
    }
}

/// A directory descriptor, or the current directory.
fn at(dir: Option<RawFd>) -> RawFd {
    dir.unwrap_or(libc::AT_FDCWD)
}

fn rename(
    old_dir: RawFd,
    old_path: &std::ffi::CStr,
    new_dir: RawFd,
    new_path: &std::ffi::CStr,
    flags: u32,
) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    if flags != 0 {
        // SAFETY: both paths are NUL-terminated and outlive the call.
        let result = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                old_dir,
                old_path.as_ptr(),
                new_dir,
                new_path.as_ptr(),
                flags,
            )
        };
        return check(result as libc::ssize_t);
    }
    if flags != 0 {
        return Err(invalid_input("rename flags exist only on Linux"));
    }
    // SAFETY: both paths are NUL-terminated and outlive the call.
    check(
        unsafe { libc::renameat(old_dir, old_path.as_ptr(), new_dir, new_path.as_ptr()) }
            as libc::ssize_t,
    )
}

fn fallocate(fd: RawFd, mode: i32, offset: u64, len: u64) -> io::Result<usize> {
    let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return Err(invalid_input("range is beyond the largest the OS takes"));
    };
    #[cfg(target_os = "linux")]
    // SAFETY: integer arguments only; a bad descriptor comes back as EBADF.
    return check(unsafe { libc::fallocate(fd, mode, offset, len) } as libc::ssize_t);
    #[cfg(not(target_os = "linux"))]
    {
        if mode != 0 {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "fallocate modes exist only on Linux",
            ));
        }
        #[cfg(target_vendor = "apple")]
        {
            let _ = (fd, offset, len);
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "macOS has no posix_fallocate",
            ));
        }
        #[cfg(not(target_vendor = "apple"))]
        {
            // SAFETY: integer arguments only. posix_fallocate returns the error number.
            match unsafe { libc::posix_fallocate(fd, offset, len) } {
                0 => Ok(0),
                error => Err(io::Error::from_raw_os_error(error)),
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn splice(
    fd_in: RawFd,
    offset_in: Option<u64>,
    fd_out: RawFd,
    offset_out: Option<u64>,
    len: u32,
    flags: u32,
) -> io::Result<usize> {
    let [mut position_in, mut position_out] =
        [offset_in, offset_out].map(|offset| offset.map(|offset| offset as libc::loff_t));
    let pointer = |position: &mut Option<libc::loff_t>| {
        position.as_mut().map_or(std::ptr::null_mut(), |position| {
            position as *mut libc::loff_t
        })
    };
    // Non-blocking: the readiness backends wait for the end that is not ready themselves
    // (`splice_waits_for`), and a pool thread must not hang on a pipe.
    let flags = flags | libc::SPLICE_F_NONBLOCK;
    // SAFETY: the offset pointers are null or point at locals that outlive the call.
    check(unsafe {
        libc::splice(
            fd_in,
            pointer(&mut position_in),
            fd_out,
            pointer(&mut position_out),
            len as usize,
            flags,
        )
    })
}

#[cfg(not(target_os = "linux"))]
fn splice(
    _fd_in: RawFd,
    _offset_in: Option<u64>,
    _fd_out: RawFd,
    _offset_out: Option<u64>,
    _len: u32,
    _flags: u32,
) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "splice exists only on Linux",
    ))
}

#[cfg(target_os = "linux")]
fn send_file(socket: RawFd, file: RawFd, offset: u64, len: u32) -> io::Result<usize> {
    let mut position = libc::off_t::try_from(offset)
        .map_err(|_| invalid_input("file offset is beyond the largest the OS takes"))?;
    // SAFETY: `position` is a local that outlives the call; a bad descriptor gives EBADF.
    check(unsafe { libc::sendfile(socket, file, &mut position, len as usize) })
}

/// macOS, FreeBSD and DragonFly: `sendfile(2)` with the file first and the socket second,
/// and each with its own way of counting. Both report the bytes sent when the call fails
/// part way (`EAGAIN` once the socket's buffer is full, `EINTR`): those bytes went, so the
/// result is that count and the next call carries on, as after a short send. `EAGAIN` with
/// nothing sent is the readiness backend's cue to wait. Neither kernel raises `SIGPIPE`
/// here (the pages go to the protocol directly): a peer that went away is `EPIPE`.
/// macOS reads uncached pages within the call; FreeBSD 11 and later start those reads and
/// return.
#[cfg(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "dragonfly"
))]
fn send_file(socket: RawFd, file: RawFd, offset: u64, len: u32) -> io::Result<usize> {
    let offset = libc::off_t::try_from(offset)
        .map_err(|_| invalid_input("file offset is beyond the largest the OS takes"))?;
    if len == 0 {
        // Both read a count of 0 as "to the end of the file"; Linux's sends nothing.
        return Ok(0);
    }
    loop {
        // macOS: sendfile(fd, s, offset, *len, hdtr, flags), `len` the count to send on the
        // way in and the count sent on the way out.
        #[cfg(target_vendor = "apple")]
        let (result, sent) = {
            let mut sent = libc::off_t::from(len);
            // SAFETY: `sent` is a writable local; no header/trailer vector is passed; a bad
            // descriptor gives EBADF.
            let result =
                unsafe { libc::sendfile(file, socket, offset, &mut sent, std::ptr::null_mut(), 0) };
            (result, sent)
        };
        // FreeBSD, DragonFly: sendfile(fd, s, offset, nbytes, hdtr, *sbytes, flags), the
        // count sent in `sbytes`.
        #[cfg(not(target_vendor = "apple"))]
        let (result, sent) = {
            let mut sent: libc::off_t = 0;
            // SAFETY: as above.
            let result = unsafe {
                libc::sendfile(
                    file,
                    socket,
                    offset,
                    len as usize,
                    std::ptr::null_mut(),
                    &mut sent,
                    0,
                )
            };
            (result, sent)
        };
        if result == 0 || sent > 0 {
            return Ok(sent as usize);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "dragonfly"
)))]
fn send_file(_socket: RawFd, _file: RawFd, _offset: u64, _len: u32) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "this system has no sendfile(2) the driver knows",
    ))
}

/// Does `op` on a pool thread: the same syscall as [`perform`], with a control block of its
/// own, then turned into the operation's final result.
pub(crate) fn perform_blocking(op: &mut Op) -> io::Result<usize> {
    let mut control = Control::default();
    let result = perform(op, &mut control);
    finish(op, &mut control, result)
}

#[cfg(any(target_os = "linux", target_os = "freebsd"))]
fn accept(fd: RawFd, address: *mut libc::sockaddr, len: &mut libc::socklen_t) -> io::Result<usize> {
    // SAFETY: address/len point at the control block's sockaddr_storage and its length.
    check(
        unsafe { libc::accept4(fd, address, len, libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK) }
            as libc::ssize_t,
    )
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn accept(fd: RawFd, address: *mut libc::sockaddr, len: &mut libc::socklen_t) -> io::Result<usize> {
    // macOS has no accept4: set close-on-exec and non-blocking right after.
    // SAFETY: address/len point at the control block's sockaddr_storage and its length.
    let new = check(unsafe { libc::accept(fd, address, len) } as libc::ssize_t)? as RawFd;
    configure_new_fd(new)?;
    Ok(new as usize)
}

#[cfg(any(target_os = "linux", target_os = "freebsd"))]
fn socket(domain: i32, socket_type: i32, protocol: i32) -> io::Result<usize> {
    let socket_type = socket_type | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    // SAFETY: plain integer arguments.
    check(unsafe { libc::socket(domain, socket_type, protocol) } as libc::ssize_t)
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn socket(domain: i32, socket_type: i32, protocol: i32) -> io::Result<usize> {
    // SAFETY: plain integer arguments.
    let new =
        check(unsafe { libc::socket(domain, socket_type, protocol) } as libc::ssize_t)? as RawFd;
    configure_new_fd(new)?;
    Ok(new as usize)
}

#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn configure_new_fd(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we just created.
    let result = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    if result < 0 {
        let error = io::Error::last_os_error();
        close_quietly(fd);
        return Err(error);
    }
    set_nonblocking(fd).inspect_err(|_| close_quietly(fd))?;
    #[cfg(target_vendor = "apple")]
    {
        let one: libc::c_int = 1;
        // SAFETY: setsockopt reads a c_int of the given size. It fails with ENOTSOCK on
        // descriptors that are not sockets, which then have no SIGPIPE to suppress.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_NOSIGPIPE,
                (&one as *const libc::c_int).cast(),
                mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
    }
    Ok(())
}

fn socket_error(fd: RawFd) -> io::Result<()> {
    let mut error: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: error/len point at a c_int and its size.
    let result = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut error as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    if error != 0 {
        return Err(io::Error::from_raw_os_error(error));
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn stat(
    dir: Option<RawFd>,
    path: &std::ffi::CStr,
    flags: i32,
    control: &mut Control,
) -> io::Result<usize> {
    let dir = dir.unwrap_or(libc::AT_FDCWD);
    let flags = if path.to_bytes().is_empty() {
        flags | libc::AT_EMPTY_PATH
    } else {
        flags
    };
    // SAFETY: path is NUL-terminated; control.statx is writable memory of the right type.
    check(unsafe {
        libc::statx(
            dir,
            path.as_ptr(),
            flags,
            libc::STATX_BASIC_STATS | libc::STATX_BTIME,
            &mut control.scratch().statx,
        )
    } as libc::ssize_t)
}

#[cfg(not(target_os = "linux"))]
fn stat(
    dir: Option<RawFd>,
    path: &std::ffi::CStr,
    flags: i32,
    control: &mut Control,
) -> io::Result<usize> {
    // No statx outside Linux: fstatat (or fstat for an empty path) gives the same fields but
    // the birth time, which BSD and macOS keep in st_birthtime.
    let raw = &mut control.scratch().stat;
    let result = match (dir, path.to_bytes().is_empty()) {
        // SAFETY: raw is writable memory for a stat.
        (Some(fd), true) => unsafe { libc::fstat(fd, raw) },
        // SAFETY: path is NUL-terminated; raw is writable memory for a stat.
        (dir, _) => unsafe {
            libc::fstatat(dir.unwrap_or(libc::AT_FDCWD), path.as_ptr(), raw, flags)
        },
    };
    check(result as libc::ssize_t).map(|_| 0)
}

/// Turns a raw result into the operation's final one: commits bytes read into the buffers and
/// fills output fields (peer and source addresses, metadata). Every backend calls it once per
/// operation, with the result of the syscall or of the kernel's completion.
#[inline]
pub(crate) fn finish(
    op: &mut Op,
    control: &mut Control,
    result: io::Result<usize>,
) -> io::Result<usize> {
    // The common cases inline: a receive or read that got bytes, a send or write that went.
    if let Ok(count) = result {
        match op {
            Op::Read { buf, .. } | Op::Recv { buf, .. } => {
                // SAFETY: the kernel reported `count` bytes written into read_destination's
                // memory.
                unsafe { buf.commit_read(count) };
                return Ok(count);
            }
            Op::Write { .. } | Op::Send { .. } => return Ok(count),
            _ => {}
        }
    }
    finish_any(op, control, result)
}

/// `finish` for every operation and outcome.
#[inline(never)]
fn finish_any(op: &mut Op, control: &mut Control, result: io::Result<usize>) -> io::Result<usize> {
    let count = match result {
        Ok(count) => count,
        // A vectored write done in parts that wrote some before it ended (cancelled, closed
        // under, failed): those bytes went, and the count says so.
        Err(_) if control.moved() > 0 => return Ok(control.moved()),
        // io_uring's word for a buffer ring with nothing in it.
        Err(error)
            if error.raw_os_error() == Some(libc::ENOBUFS)
                && matches!(op, Op::RecvPooled { .. }) =>
        {
            #[cfg(target_os = "linux")]
            if let Op::RecvPooled { pool, .. } = op {
                // The ring may only be too short for the load: it grows, and the caller's
                // next receive finds buffers if any are left.
                pool.shared.ran_dry();
            }
            return Err(crate::buffer_pool::exhausted());
        }
        Err(error) => return Err(error),
    };
    match op {
        Op::Read { buf, .. } | Op::Recv { buf, .. } => {
            // SAFETY: the kernel reported `count` bytes written into read_destination's memory.
            unsafe { buf.commit_read(count) }
        }
        Op::ReadVectored { bufs, .. } => commit_vectored(bufs, count),
        Op::RecvMsg {
            bufs,
            source,
            max_fds,
            fds,
            fds_truncated,
            ..
        } => {
            commit_vectored(bufs, count);
            let scratch = control.scratch();
            *source = read_address(&scratch.address, scratch.msghdr.msg_namelen, source.take());
            // From here `fds` owns them: nothing is left that could lose them.
            *fds_truncated = take_descriptors(scratch, fds, usize::from(*max_fds));
        }
        Op::Accept { peer, .. } => {
            let scratch = control.scratch();
            *peer = read_socket_addr(&scratch.address, scratch.address_len);
        }
        Op::Statx { metadata, .. } => fill_metadata(metadata, control.scratch()),
        _ => {}
    }
    Ok(count)
}

#[cfg(target_os = "linux")]
fn fill_metadata(metadata: &mut Metadata, scratch: &Scratch) {
    let raw = &scratch.statx;
    let time = |ts: &libc::statx_timestamp, present: bool| {
        present.then(|| system_time(ts.tv_sec, ts.tv_nsec))
    };
    *metadata = Metadata {
        dev: libc::makedev(raw.stx_dev_major, raw.stx_dev_minor),
        ino: raw.stx_ino,
        mode: u32::from(raw.stx_mode),
        nlink: u64::from(raw.stx_nlink),
        uid: raw.stx_uid,
        gid: raw.stx_gid,
        rdev: libc::makedev(raw.stx_rdev_major, raw.stx_rdev_minor),
        size: raw.stx_size,
        blksize: u64::from(raw.stx_blksize),
        blocks: raw.stx_blocks,
        accessed: time(&raw.stx_atime, raw.stx_mask & libc::STATX_ATIME != 0),
        modified: time(&raw.stx_mtime, raw.stx_mask & libc::STATX_MTIME != 0),
        changed: time(&raw.stx_ctime, raw.stx_mask & libc::STATX_CTIME != 0),
        created: time(&raw.stx_btime, raw.stx_mask & libc::STATX_BTIME != 0),
    };
}

#[cfg(not(target_os = "linux"))]
fn fill_metadata(metadata: &mut Metadata, scratch: &Scratch) {
    let raw = &scratch.stat;
    *metadata = Metadata {
        dev: raw.st_dev as u64,
        ino: raw.st_ino as u64,
        mode: raw.st_mode as u32,
        nlink: raw.st_nlink as u64,
        uid: raw.st_uid,
        gid: raw.st_gid,
        rdev: raw.st_rdev as u64,
        size: raw.st_size as u64,
        blksize: raw.st_blksize as u64,
        blocks: raw.st_blocks as u64,
        accessed: Some(system_time(raw.st_atime as i64, raw.st_atime_nsec as u32)),
        modified: Some(system_time(raw.st_mtime as i64, raw.st_mtime_nsec as u32)),
        changed: Some(system_time(raw.st_ctime as i64, raw.st_ctime_nsec as u32)),
        created: Some(system_time(
            raw.st_birthtime as i64,
            raw.st_birthtime_nsec as u32,
        )),
    };
}

fn system_time(seconds: i64, nanoseconds: u32) -> SystemTime {
    let nanos = Duration::from_nanos(u64::from(nanoseconds));
    if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds as u64) + nanos
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs()) + nanos
    }
}

/// Closes a descriptor nobody will receive; errors are moot.
pub(crate) fn close_quietly(fd: RawFd) {
    // SAFETY: the caller owns `fd` and nothing else uses it.
    unsafe { libc::close(fd) };
}

/// A new descriptor (close-on-exec) for what `fd` names, the caller's to close: work that
/// must not depend on the number staying open runs on it.
pub(crate) fn duplicate(fd: RawFd) -> io::Result<RawFd> {
    // SAFETY: fcntl with integer arguments.
    let duplicate = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if duplicate < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(duplicate)
}

/// Sets `O_NONBLOCK` (readiness backends need it; io_uring does not care).
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with integer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: as above.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// What a descriptor is, as far as the readiness backends care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FdKind {
    /// Sockets, pipes, terminals, eventfds...: readiness works.
    Pollable,
    /// Regular files and block devices are always "ready" and may block on storage: the pool.
    Blocking,
}

pub(crate) fn fd_kind(fd: RawFd) -> io::Result<FdKind> {
    let mut raw = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: raw is writable memory for a stat.
    if unsafe { libc::fstat(fd, raw.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstat succeeded and filled it.
    let mode = unsafe { raw.assume_init() }.st_mode & libc::S_IFMT;
    Ok(match mode {
        libc::S_IFREG | libc::S_IFBLK | libc::S_IFDIR => FdKind::Blocking,
        _ => FdKind::Pollable,
    })
}

/// Wakes a driver blocked in `poll`, from any thread: an eventfd on Linux, the kqueue itself
/// (an `EVFILT_USER` event) on macOS and the BSDs, a pipe elsewhere. A flag skips the
/// syscall when a wake is already pending, so a burst of wakes costs one.
///
/// Pool replies hold the waker (an `Arc`) and may outlive the driver. The waker therefore
/// owns every descriptor a wake touches: on kqueue systems it owns the kqueue and the poller
/// only borrows it (holding the `Arc` too), so a wake after the driver is gone triggers an
/// event on a queue nobody waits on, never a closed descriptor number that something else
/// may have reused.
pub(crate) struct Waker {
    read_fd: RawFd,
    write_fd: RawFd,
    pending: AtomicBool,
}

impl Waker {
    #[cfg(target_os = "linux")]
    pub(crate) fn new() -> io::Result<Waker> {
        // SAFETY: plain flags.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Waker {
            read_fd: fd,
            write_fd: fd,
            pending: AtomicBool::new(false),
        })
    }

    /// Makes the kqueue the driver will wait on, with the user event a wake triggers. The
    /// event's identifier is the kqueue's own descriptor number, which no other registered
    /// descriptor can have while the kqueue is open, so the poller can tell its events apart.
    #[cfg(kqueue)]
    pub(crate) fn new() -> io::Result<Waker> {
        // SAFETY: no arguments.
        let fd = unsafe { libc::kqueue() };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let waker = Waker {
            read_fd: fd,
            write_fd: fd,
            pending: AtomicBool::new(false),
        };
        // kqueue() has no close-on-exec flag on every system (only FreeBSD's kqueuex and
        // NetBSD's kqueue1 take one): set it after. kqueues are not inherited by fork anyway.
        // SAFETY: fcntl on the descriptor just created.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        // EV_CLEAR: the event resets once the wait returns it, so there is nothing to drain.
        waker.user_event((libc::EV_ADD | libc::EV_CLEAR) as u16, libc::NOTE_FFNOP)?;
        Ok(waker)
    }

    #[cfg(not(any(target_os = "linux", kqueue)))]
    pub(crate) fn new() -> io::Result<Waker> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: fds has room for the two descriptors pipe writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } < 0 {
            return Err(io::Error::last_os_error());
        }
        for fd in fds {
            // SAFETY: fcntl on descriptors we just created.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            set_nonblocking(fd)?;
        }
        Ok(Waker {
            read_fd: fds[0],
            write_fd: fds[1],
            pending: AtomicBool::new(false),
        })
    }

    /// The descriptor a backend watches for readability (on kqueue systems: the kqueue,
    /// and the identifier of its user event).
    pub(crate) fn fd(&self) -> RawFd {
        self.read_fd
    }

    pub(crate) fn wake(&self) {
        if self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        #[cfg(kqueue)]
        {
            // An error (only ENOMEM is possible for a registered event) leaves the driver
            // asleep until its next event or timeout; there is no one to report it to.
            let _ = self.user_event(0, libc::NOTE_TRIGGER);
        }
        #[cfg(not(kqueue))]
        {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a local u64. A full eventfd counter or pipe
            // (EAGAIN) means a wake is already pending, which is all a wake needs.
            unsafe {
                libc::write(
                    self.write_fd,
                    (&one as *const u64).cast(),
                    mem::size_of::<u64>(),
                )
            };
        }
    }

    /// Applies `flags` and `fflags` to the kqueue's user event.
    #[cfg(kqueue)]
    fn user_event(&self, flags: u16, fflags: u32) -> io::Result<()> {
        // SAFETY: all-zero is a valid kevent (it also clears fields some systems add, like
        // FreeBSD's `ext`).
        let mut event: libc::kevent = unsafe { mem::zeroed() };
        event.ident = self.read_fd as libc::uintptr_t;
        event.filter = libc::EVFILT_USER as _;
        event.flags = flags as _;
        event.fflags = fflags;
        // SAFETY: one valid change, no events received; the kqueue is open while `self` is.
        let result = unsafe {
            libc::kevent(
                self.read_fd,
                &event,
                1,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            )
        };
        if result < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Re-arms the flag, after [`drain`](Waker::drain). In the other order a wake landing
    /// between the two would have its write drained while the flag stays set, and every later
    /// wake would be skipped. A wake landing after the drain but before the reset is skipped
    /// instead, which is harmless: the driver is already awake and looks at every source
    /// (completions, the pool's results) before it returns.
    pub(crate) fn reset(&self) {
        self.pending.store(false, Ordering::Release);
    }

    /// Empties the descriptor; then call [`reset`](Waker::reset). On kqueue systems the
    /// wait that returned the user event already cleared it (`EV_CLEAR`).
    pub(crate) fn drain(&self) {
        #[cfg(not(kqueue))]
        {
            let mut buffer = [0u8; 64];
            // SAFETY: reads into a local buffer of the given size; EAGAIN ends the loop.
            while unsafe { libc::read(self.read_fd, buffer.as_mut_ptr().cast(), buffer.len()) } > 0
            {
            }
        }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        close_quietly(self.read_fd);
        if self.write_fd != self.read_fd {
            close_quietly(self.write_fd);
        }
    }
}

/// The `open_how` of an `openat2` that stays beneath its directory, in `control` (where
/// io_uring reads it).
#[cfg(target_os = "linux")]
pub(crate) fn open_how_beneath(flags: i32, mode: u32, control: &mut Control) -> &libc::open_how {
    let open_how = &mut control.scratch().open_how;
    open_how.flags = flags as u32 as u64;
    // Unlike openat, openat2 refuses a mode that would not be used. O_TMPFILE includes the
    // O_DIRECTORY bit, so only all of its bits mean a temporary file.
    let creates = flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE;
    open_how.mode = if creates { u64::from(mode) } else { 0 };
    // Magic links (/proc/self/fd/N) lead anywhere, whatever the directory.
    open_how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    open_how
}

/// openat2(2), which libc has no wrapper for.
#[cfg(target_os = "linux")]
fn openat2(dir: RawFd, path: &std::ffi::CStr, how: &libc::open_how) -> io::Result<usize> {
    // SAFETY: the path is NUL-terminated, `how` is a valid open_how of the size passed, and
    // both outlive the call.
    let result = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            path.as_ptr(),
            how as *const libc::open_how,
            mem::size_of::<libc::open_how>(),
        )
    };
    check(result as libc::ssize_t)
}

/// `openat2(RESOLVE_BENEATH)`; `ENOSYS` (a kernel before 5.6) becomes `Unsupported`.
#[cfg(target_os = "linux")]
fn open_beneath(
    dir: RawFd,
    path: &std::ffi::CStr,
    flags: i32,
    mode: u32,
    control: &mut Control,
) -> io::Result<usize> {
    let how = open_how_beneath(flags, mode, control);
    match openat2(dir, path, how) {
        Err(error) if error.raw_os_error() == Some(libc::ENOSYS) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "opening beneath a directory needs openat2 (Linux 5.6)",
        )),
        other => other,
    }
}

/// `openat(O_RESOLVE_BENEATH)`.
#[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
fn open_beneath(
    dir: RawFd,
    path: &std::ffi::CStr,
    flags: i32,
    mode: u32,
    _control: &mut Control,
) -> io::Result<usize> {
    // SAFETY: the path is NUL-terminated and outlives the call.
    check(unsafe {
        libc::openat(
            dir,
            path.as_ptr(),
            flags | libc::O_RESOLVE_BENEATH,
            mode as libc::c_uint,
        )
    } as libc::ssize_t)
}

/// No kernel check of this kind here (macOS has none; checking in user space could not see
/// a rename racing the open).
#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "dragonfly")))]
fn open_beneath(
    _dir: RawFd,
    _path: &std::ffi::CStr,
    _flags: i32,
    _mode: u32,
    _control: &mut Control,
) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "opening beneath a directory needs Linux 5.6 or FreeBSD 13",
    ))
}

/// Runs `op` on the calling thread when Linux can promise it will not block — a read served
/// from the page cache (`preadv2` with `RWF_NOWAIT`), an open of a regular file or a
/// directory whose path is all in the dentry cache (`openat2` with `RESOLVE_CACHED`, see
/// [`open_cached`]) — which is what io_uring does before it
/// hands work to its own threads. `None`: it would block, or the kernel or file system cannot
/// tell; run it on the pool. A cached read may be short (part of the range cached): the
/// caller's next read picks up the rest.
#[cfg(target_os = "linux")]
pub(crate) fn try_without_blocking(
    op: &mut Op,
    control: &mut Control,
) -> Option<io::Result<usize>> {
    let result = match op {
        Op::Read { fd, buf, offset } => {
            let (pointer, len) = buf.read_destination();
            let iovec = libc::iovec {
                iov_base: pointer.cast(),
                iov_len: len,
            };
            let offset = nowait_offset(*offset)?;
            // SAFETY: the iovec describes the buffer's memory, alive for the whole call.
            check(unsafe { libc::preadv2(*fd, &iovec, 1, offset, libc::RWF_NOWAIT) })
        }
        // More than one call takes: the pool does it in parts.
        Op::ReadVectored { bufs, .. } if bufs.len() > IOV_MAX => return None,
        Op::ReadVectored { fd, bufs, offset } => {
            let iovecs = &mut control.vectored().iovecs;
            fill_iovecs(iovecs, bufs, true);
            let (iovecs, count) = (iovecs.as_ptr(), iovecs.len() as libc::c_int);
            let offset = nowait_offset(*offset)?;
            // SAFETY: the iovecs describe the buffers' memory, alive for the whole call.
            check(unsafe { libc::preadv2(*fd, iovecs, count, offset, libc::RWF_NOWAIT) })
        }
        Op::OpenAt {
            dir,
            path,
            flags,
            mode: _,
            beneath,
        } => return open_cached(dir.unwrap_or(libc::AT_FDCWD), path, *flags, *beneath),
        Op::Statx {
            dir, path, flags, ..
        } => return stat_cached(dir.unwrap_or(libc::AT_FDCWD), path, *flags, control),
        _ => return None,
    };
    settle(result)
}

/// The cached try of a `Statx` by path (see [`try_without_blocking`]): the path walked with
/// `RESOLVE_CACHED` to an `O_PATH` descriptor (which opens nothing, so a FIFO is harmless),
/// then that descriptor's attributes, already in memory once its name was. Three system
/// calls on this thread instead of a round trip through the pool (a web server's every
/// request asks what a path names). Like a cached open, a network file system whose
/// attributes need refreshing may still ask its server.
#[cfg(target_os = "linux")]
fn stat_cached(
    dir: RawFd,
    path: &std::ffi::CStr,
    flags: i32,
    control: &mut Control,
) -> Option<io::Result<usize>> {
    // An empty path names `dir` itself, and AT_NO_AUTOMOUNT's and the sync flags' walks
    // are the pool's to make as asked.
    let unusual = flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_STATX_SYNC_AS_STAT) != 0;
    if path.to_bytes().is_empty() || unusual || !cached_opens_supported() {
        return None;
    }
    let nofollow = if flags & libc::AT_SYMLINK_NOFOLLOW != 0 {
        libc::O_NOFOLLOW
    } else {
        0
    };
    // SAFETY: an all-zero open_how is valid; the fields are set here.
    let mut how: libc::open_how = unsafe { mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC | nofollow) as u32 as u64;
    how.resolve = libc::RESOLVE_CACHED;
    let probe = match settle(openat2(dir, path, &how))? {
        Ok(probe) => probe as RawFd,
        // The walk's own answer (no such file, not a directory, ...), as statx would give.
        Err(error) => return Some(Err(error)),
    };
    let result = stat(Some(probe), c"", libc::AT_SYMLINK_NOFOLLOW, control);
    close_quietly(probe);
    Some(result)
}

/// A result of a try that must not block: `None` (run it on the pool) for "it would have
/// to": EAGAIN (not cached), EOPNOTSUPP (a file system without RWF_NOWAIT), EINVAL or ENOSYS
/// (a kernel without the flag, or an argument the pool's call will judge).
#[cfg(target_os = "linux")]
fn settle(result: io::Result<usize>) -> Option<io::Result<usize>> {
    match result {
        Err(error)
            if matches!(
                error.raw_os_error(),
                Some(libc::EAGAIN | libc::EOPNOTSUPP | libc::EINVAL | libc::ENOSYS)
            ) =>
        {
            None
        }
        other => Some(other),
    }
}

/// The cached try of an `OpenAt` (see [`try_without_blocking`]).
///
/// `RESOLVE_CACHED` keeps the path walk from waiting on storage, but not the open itself: a
/// FIFO's waits for its other end, for as long as none comes, and a device's may wait too.
/// So only a regular file or a directory is opened here. What the path names is looked at
/// first through an `O_PATH` descriptor, which opens nothing (opening a FIFO's end, even
/// without waiting, lets a writer waiting in its own open go on, and closing it again would
/// leave that writer with no reader); the open itself still adds `O_NONBLOCK` (cleared
/// after), so that a path renamed to a FIFO in between cannot make it wait either.
#[cfg(target_os = "linux")]
fn open_cached(
    dir: RawFd,
    path: &std::ffi::CStr,
    flags: i32,
    beneath: bool,
) -> Option<io::Result<usize>> {
    // RESOLVE_CACHED refuses anything that may write (creating, truncating) with EAGAIN;
    // skip the call for those.
    let writes =
        flags & (libc::O_CREAT | libc::O_TRUNC) != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE;
    if writes || !cached_opens_supported() {
        return None;
    }
    let mut resolve = libc::RESOLVE_CACHED;
    if beneath {
        resolve |= libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    }
    let how = |flags: i32| {
        // Writing nothing (checked above), it needs no mode.
        // SAFETY: an all-zero open_how is valid; the fields are set here.
        let mut how: libc::open_how = unsafe { mem::zeroed() };
        how.flags = (flags | libc::O_CLOEXEC) as u32 as u64;
        how.resolve = resolve;
        how
    };
    // These never wait: an O_PATH or O_NONBLOCK open, and one that opens only a directory.
    if flags & (libc::O_PATH | libc::O_NONBLOCK | libc::O_DIRECTORY) != 0 {
        return settle(openat2(dir, path, &how(flags)));
    }
    // Errors here are the open's own (it walks the same path, and checks more).
    let probe = match settle(openat2(
        dir,
        path,
        &how(libc::O_PATH | (flags & libc::O_NOFOLLOW)),
    ))? {
        Ok(probe) => probe as RawFd,
        Err(error) => return Some(Err(error)),
    };
    let plain = is_file_or_directory(probe);
    close_quietly(probe);
    if !matches!(plain, Ok(true)) {
        return None;
    }
    let fd = match settle(openat2(dir, path, &how(flags | libc::O_NONBLOCK)))? {
        Ok(fd) => fd as RawFd,
        Err(error) => return Some(Err(error)),
    };
    if !matches!(is_file_or_directory(fd), Ok(true)) || clear_nonblocking(fd).is_err() {
        // Renamed in between to something else: the pool opens it as asked.
        close_quietly(fd);
        return None;
    }
    Some(Ok(fd as usize))
}

/// Whether `fd` is a regular file or a directory, whose open never waits.
#[cfg(target_os = "linux")]
fn is_file_or_directory(fd: RawFd) -> io::Result<bool> {
    let mut raw = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: raw is writable memory for a stat.
    if unsafe { libc::fstat(fd, raw.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstat succeeded and filled it.
    let mode = unsafe { raw.assume_init() }.st_mode & libc::S_IFMT;
    Ok(mode == libc::S_IFREG || mode == libc::S_IFDIR)
}

/// Clears `O_NONBLOCK` from an open file's status flags.
#[cfg(target_os = "linux")]
fn clear_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with integer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A read's offset for `preadv2`: -1 means the file position; an offset the OS cannot take
/// goes to the pool, whose call reports it.
#[cfg(target_os = "linux")]
fn nowait_offset(offset: Option<u64>) -> Option<libc::off_t> {
    match offset {
        None => Some(-1),
        Some(offset) => libc::off_t::try_from(offset).ok(),
    }
}

/// Whether `openat2` takes `RESOLVE_CACHED` (Linux 5.12+), asked once per process: before,
/// every open would fail with EINVAL first and then run on the pool anyway.
#[cfg(target_os = "linux")]
fn cached_opens_supported() -> bool {
    use std::sync::atomic::AtomicU8;
    const UNKNOWN: u8 = 0;
    const YES: u8 = 1;
    const NO: u8 = 2;
    static SUPPORTED: AtomicU8 = AtomicU8::new(UNKNOWN);
    match SUPPORTED.load(Ordering::Relaxed) {
        YES => return true,
        NO => return false,
        _ => {}
    }
    // SAFETY: an all-zero open_how is valid; the fields are set below.
    let mut how: libc::open_how = unsafe { mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_CACHED;
    // "/" is always cached, so only a kernel without the flag (or openat2) fails here.
    let supported = match openat2(libc::AT_FDCWD, c"/", &how) {
        Ok(fd) => {
            close_quietly(fd as RawFd);
            true
        }
        Err(_) => false,
    };
    SUPPORTED.store(if supported { YES } else { NO }, Ordering::Relaxed);
    supported
}

/// One batch of `datagram::try_recv_many` (at most `datagram::BATCH` datagrams): Linux's
/// `recvmmsg`, one system call for all that wait.
#[cfg(target_os = "linux")]
pub(crate) fn recv_many(
    fd: RawFd,
    bufs: &mut [Buffer],
    meta: &mut [crate::datagram::RecvMeta],
) -> io::Result<usize> {
    use crate::datagram::BATCH;
    let count = bufs.len().min(BATCH);
    let mut iovecs = [const { MaybeUninit::<libc::iovec>::uninit() }; BATCH];
    let mut addresses = [const { MaybeUninit::<libc::sockaddr_storage>::uninit() }; BATCH];
    let mut headers = [const { MaybeUninit::<libc::mmsghdr>::uninit() }; BATCH];
    for (i, buf) in bufs[..count].iter_mut().enumerate() {
        let (pointer, len) = buf.read_destination();
        let iovec = iovecs[i].write(libc::iovec {
            iov_base: pointer.cast(),
            iov_len: len,
        });
        // SAFETY: all-zero is a valid mmsghdr (null pointers, no lengths, no flags).
        let header = headers[i].write(unsafe { mem::zeroed() });
        header.msg_hdr.msg_iov = iovec;
        header.msg_hdr.msg_iovlen = 1;
        header.msg_hdr.msg_name = addresses[i].as_mut_ptr().cast();
        header.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    }
    // SAFETY: the first `count` headers are initialized above; each points at its iovec (the
    // buffer's spare room, alive for the call) and its address storage, all on this stack
    // frame for the whole call. MSG_DONTWAIT: an attempt never blocks, whatever the mode.
    let received = unsafe {
        libc::recvmmsg(
            fd,
            headers.as_mut_ptr().cast(),
            count as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    let received = check(received as libc::ssize_t)?;
    let mut source_missing = false;
    for i in 0..received {
        // SAFETY: initialized above; the kernel filled in the first `received`.
        let header = unsafe { headers[i].assume_init_ref() };
        let len = header.msg_len as usize;
        // SAFETY: the kernel wrote `len` bytes into the buffer's read destination.
        unsafe { bufs[i].commit_read(len) };
        // SAFETY: the kernel wrote `msg_namelen` bytes of the sender's address there (a
        // length 0, no address, leaves the family unread: read_socket_addr checks it).
        let address = unsafe { addresses[i].assume_init_ref() };
        let source = if header.msg_hdr.msg_namelen == 0 {
            None
        } else {
            read_socket_addr(address, header.msg_hdr.msg_namelen)
        };
        source_missing |= source.is_none();
        meta[i] = crate::datagram::RecvMeta {
            len,
            addr: source.unwrap_or(meta[i].addr),
            truncated: header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
        };
    }
    if source_missing {
        crate::datagram::ip_source(None)?;
    }
    Ok(received)
}

/// One batch of `datagram::try_send_many` (at most `datagram::BATCH` datagrams): Linux's
/// `sendmmsg`, one system call for all the socket has room for.
#[cfg(target_os = "linux")]
pub(crate) fn send_many(fd: RawFd, bufs: &[Buffer], targets: &[SocketAddr]) -> io::Result<usize> {
    use crate::datagram::BATCH;
    let count = bufs.len().min(BATCH);
    let mut iovecs = [const { MaybeUninit::<libc::iovec>::uninit() }; BATCH];
    let mut addresses = [const { MaybeUninit::<libc::sockaddr_storage>::uninit() }; BATCH];
    let mut headers = [const { MaybeUninit::<libc::mmsghdr>::uninit() }; BATCH];
    for (i, buf) in bufs[..count].iter().enumerate() {
        let (pointer, len) = buf.write_source();
        let iovec = iovecs[i].write(libc::iovec {
            iov_base: pointer as *mut libc::c_void,
            iov_len: len,
        });
        // SAFETY: all-zero is a valid mmsghdr (null pointers, no lengths, no flags).
        let header = headers[i].write(unsafe { mem::zeroed() });
        header.msg_hdr.msg_iov = iovec;
        header.msg_hdr.msg_iovlen = 1;
        if let Some(target) = targets.get(i) {
            // SAFETY: all-zero is a valid sockaddr_storage; write_socket_addr fills its start.
            let address = addresses[i].write(unsafe { mem::zeroed() });
            header.msg_hdr.msg_namelen = write_socket_addr(target, address);
            header.msg_hdr.msg_name = (address as *mut libc::sockaddr_storage).cast();
        }
    }
    // SAFETY: the first `count` headers are initialized above; each points at its iovec (the
    // buffer's bytes, alive and unmodified for the call) and, with a target, its address, all
    // on this stack frame for the whole call.
    let sent = unsafe {
        libc::sendmmsg(
            fd,
            headers.as_mut_ptr().cast(),
            count as libc::c_uint,
            libc::MSG_DONTWAIT | SEND_FLAGS,
        )
    };
    check(sent as libc::ssize_t)
}

/// One batch of `datagram::try_recv_many` where there is no `recvmmsg` to count on (macOS
/// has none; the BSDs share this path so every kqueue system behaves alike): one `recvmsg`
/// per datagram until the batch is full or the socket has no more.
#[cfg(not(target_os = "linux"))]
pub(crate) fn recv_many(
    fd: RawFd,
    bufs: &mut [Buffer],
    meta: &mut [crate::datagram::RecvMeta],
) -> io::Result<usize> {
    for (i, buf) in bufs.iter_mut().enumerate() {
        let (pointer, len) = buf.read_destination();
        let mut iovec = libc::iovec {
            iov_base: pointer.cast(),
            iov_len: len,
        };
        let mut address = MaybeUninit::<libc::sockaddr_storage>::uninit();
        // SAFETY: all-zero is a valid msghdr.
        let mut header: libc::msghdr = unsafe { mem::zeroed() };
        header.msg_iov = &mut iovec;
        header.msg_iovlen = 1;
        header.msg_name = address.as_mut_ptr().cast();
        header.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: the header points at the iovec (the buffer's spare room) and the address
        // storage, alive on this stack frame for the call.
        let received = unsafe { libc::recvmsg(fd, &mut header, libc::MSG_DONTWAIT) };
        let len = match check(received) {
            Ok(len) => len,
            Err(_) if i > 0 => return Ok(i),
            Err(error) => return Err(error),
        };
        // SAFETY: the kernel wrote `len` bytes into the buffer's read destination.
        unsafe { buf.commit_read(len) };
        let source = if header.msg_namelen == 0 {
            None
        } else {
            // SAFETY: the kernel wrote `msg_namelen` bytes of the sender's address there.
            read_socket_addr(unsafe { address.assume_init_ref() }, header.msg_namelen)
        };
        meta[i] = crate::datagram::RecvMeta {
            len,
            addr: crate::datagram::ip_source(source)?,
            truncated: header.msg_flags & libc::MSG_TRUNC != 0,
        };
    }
    Ok(bufs.len())
}

/// One batch of `datagram::try_send_many` without `sendmmsg` (macOS has none): one
/// `sendmsg` per datagram until all went or the socket has no room.
#[cfg(not(target_os = "linux"))]
pub(crate) fn send_many(fd: RawFd, bufs: &[Buffer], targets: &[SocketAddr]) -> io::Result<usize> {
    for (i, buf) in bufs.iter().enumerate() {
        let (pointer, len) = buf.write_source();
        let mut iovec = libc::iovec {
            iov_base: pointer as *mut libc::c_void,
            iov_len: len,
        };
        // SAFETY: all-zero is a valid sockaddr_storage and msghdr.
        let mut address: libc::sockaddr_storage = unsafe { mem::zeroed() };
        // SAFETY: as above.
        let mut header: libc::msghdr = unsafe { mem::zeroed() };
        header.msg_iov = &mut iovec;
        header.msg_iovlen = 1;
        if let Some(target) = targets.get(i) {
            header.msg_namelen = write_socket_addr(target, &mut address);
            header.msg_name = (&mut address as *mut libc::sockaddr_storage).cast();
        }
        // SAFETY: the header points at the iovec (the buffer's bytes) and the address, alive
        // on this stack frame for the call.
        let sent = unsafe { libc::sendmsg(fd, &header, libc::MSG_DONTWAIT | SEND_FLAGS) };
        match check(sent) {
            Ok(_) => {}
            Err(_) if i > 0 => return Ok(i),
            Err(error) => return Err(error),
        }
    }
    Ok(bufs.len())
}
