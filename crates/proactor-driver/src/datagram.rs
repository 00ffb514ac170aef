//! Many datagrams per system call: [`try_recv_many`] and [`try_send_many`], non-blocking
//! attempts on an IP datagram (UDP) socket that a runtime wraps in "wait for readiness
//! ([`Op::Poll`](crate::Op::Poll)), then try again".
//!
//! They are attempts, not operations: nothing is submitted, and the buffers are only touched
//! during the call, so a caller that stops waiting between attempts loses no datagram and
//! leaves no buffer with the kernel. Linux makes one `recvmmsg`/`sendmmsg` call per
//! [`BATCH`] datagrams; macOS and the BSDs (no `sendmmsg` on macOS, and one code path for
//! every kqueue system) and Windows make one `recvmsg`/`sendmsg` (`WSARecvFrom`/`WSASendTo`)
//! per datagram, with the same outcome.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use crate::{Buffer, Fd};

/// The most datagrams one `recvmmsg`/`sendmmsg` call takes here: the call's headers,
/// buffer descriptions and addresses (about 200 bytes a datagram) sit on the stack, so a
/// batch allocates nothing; a longer batch makes more calls. quinn-udp's batch is the same.
///
/// # Examples
///
/// ```
/// assert_eq!(proactor_driver::datagram::BATCH, 32);
/// ```
pub const BATCH: usize = 32;

/// What a batched receive learned about one datagram.
///
/// # Examples
///
/// ```
/// use proactor_driver::datagram::RecvMeta;
///
/// let meta = [RecvMeta::default(); 8];
/// assert!(meta.iter().all(|meta| meta.len == 0 && !meta.truncated));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvMeta {
    /// The bytes of the datagram written into its buffer (at most the buffer's room).
    pub len: usize,
    /// Who sent it.
    pub addr: SocketAddr,
    /// The datagram was longer than its buffer: the rest of it is lost (`MSG_TRUNC`,
    /// Windows' `WSAEMSGSIZE`), and `len` is the buffer's room.
    pub truncated: bool,
}

impl Default for RecvMeta {
    /// Nothing received: no bytes, from `0.0.0.0:0`.
    fn default() -> RecvMeta {
        RecvMeta {
            len: 0,
            addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            truncated: false,
        }
    }
}

/// Receives the datagrams waiting on `fd`, one into each buffer in turn, without waiting:
/// up to `bufs.len()` of them (and no more than `meta` has room to describe). Each buffer is
/// filled as a single read fills it (a `Vec<u8>` after its bytes, a slice view over its
/// range), and `meta[i]` describes what went into `bufs[i]`.
///
/// Returns how many datagrams were received: at least one, or 0 only for an empty batch (no
/// system call is made). An error once datagrams were received ends the batch with their
/// count; a socket error stays with the socket, so the next attempt reports it.
///
/// # Errors
///
/// `WouldBlock` when no datagram is waiting; `InvalidInput` when `meta` is shorter than
/// `bufs` or a buffer has no room to receive into (before any system call); `InvalidData`
/// when the socket is not an IP socket (a received datagram had no IP source); the OS error.
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// use std::os::fd::AsRawFd;
/// use proactor_driver::datagram::{try_recv_many, RecvMeta};
/// use proactor_driver::Buffer;
///
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// socket.set_nonblocking(true)?;
/// let sender = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// sender.send_to(b"one", socket.local_addr()?)?;
/// sender.send_to(b"two", socket.local_addr()?)?;
/// let mut bufs: Vec<Buffer> = (0..4).map(|_| Buffer::from(Vec::with_capacity(16))).collect();
/// let mut meta = [RecvMeta::default(); 4];
/// // Loopback delivers at once; a real network may need a readiness wait first.
/// let count = try_recv_many(socket.as_raw_fd(), &mut bufs, &mut meta)?;
/// assert_eq!(count, 2);
/// assert_eq!((bufs[1].as_slice(), meta[1].addr), (&b"two"[..], sender.local_addr()?));
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn try_recv_many(fd: Fd, bufs: &mut [Buffer], meta: &mut [RecvMeta]) -> io::Result<usize> {
    if meta.len() < bufs.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a batched receive needs one RecvMeta for each buffer",
        ));
    }
    if bufs.iter().any(|buf| buf.read_capacity() == 0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "every buffer of a batched receive needs room to receive into",
        ));
    }
    let mut received = 0;
    while received < bufs.len() {
        let end = bufs.len().min(received + BATCH);
        let chunk = end - received;
        match crate::sys::recv_many(fd, &mut bufs[received..end], &mut meta[received..end]) {
            Ok(count) => {
                received += count;
                // Short: the socket had no more.
                if count < chunk {
                    break;
                }
            }
            Err(_) if received > 0 => break,
            Err(error) => return Err(error),
        }
    }
    Ok(received)
}

/// Sends each buffer as one datagram, in order, without waiting: to `targets[i]`, or to the
/// connected peer when `targets` is empty.
///
/// Returns how many datagrams were sent, from the first: all of them, or fewer when the
/// socket ran out of room or one failed after others went (the first unsent one failed or
/// would wait: try it again to learn which). 0 only for an empty batch (no system call).
///
/// # Errors
///
/// `WouldBlock` when the socket has no room for the first; `InvalidInput` when `targets` is
/// neither empty nor as long as `bufs` (before any system call); the OS error the first
/// datagram met (`EDESTADDRREQ`/`NotConnected` without targets on an unconnected socket, say).
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// use std::os::fd::AsRawFd;
/// use proactor_driver::datagram::try_send_many;
/// use proactor_driver::Buffer;
///
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// socket.set_nonblocking(true)?;
/// let receiver = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let bufs = [Buffer::from("a"), Buffer::from("bc")];
/// let targets = [receiver.local_addr()?; 2];
/// assert_eq!(try_send_many(socket.as_raw_fd(), &bufs, &targets)?, 2);
/// let mut bytes = [0; 8];
/// assert_eq!(receiver.recv(&mut bytes)?, 1);
/// assert_eq!(receiver.recv(&mut bytes)?, 2);
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn try_send_many(fd: Fd, bufs: &[Buffer], targets: &[SocketAddr]) -> io::Result<usize> {
    if !targets.is_empty() && targets.len() != bufs.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a batched send has one target for each buffer, or none (the connected peer)",
        ));
    }
    let mut sent = 0;
    while sent < bufs.len() {
        let end = bufs.len().min(sent + BATCH);
        let chunk = end - sent;
        let chunk_targets = if targets.is_empty() {
            &[][..]
        } else {
            &targets[sent..end]
        };
        match crate::sys::send_many(fd, &bufs[sent..end], chunk_targets) {
            Ok(count) => {
                sent += count;
                if count < chunk {
                    break;
                }
            }
            Err(_) if sent > 0 => break,
            Err(error) => return Err(error),
        }
    }
    Ok(sent)
}

/// The address of an IP datagram's sender; a socket of another family is the caller's
/// mistake, reported rather than hidden behind a made-up address.
#[cfg_attr(not(any(unix, windows)), allow(dead_code))]
pub(crate) fn ip_source(source: Option<SocketAddr>) -> io::Result<SocketAddr> {
    source.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "a batched receive is for IP datagram sockets: this datagram had no IP source",
        )
    })
}
