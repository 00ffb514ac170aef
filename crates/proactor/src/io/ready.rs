//! [`Interest`] and [`Ready`]: what a readiness wait asks for and what it found, as tokio's
//! `tokio::io::{Interest, Ready}`.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// What a readiness wait (`TcpStream::ready`, [`AsyncFd::ready`](crate::io::unix::AsyncFd::ready))
/// waits for: readability, writability, or either.
///
/// # Examples
///
/// ```
/// use proactor::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert!(!Interest::READABLE.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

const READ: u8 = 1;
const WRITE: u8 = 2;

impl Interest {
    /// Bytes to read, a connection to accept, or the end of the stream.
    pub const READABLE: Interest = Interest(READ);
    /// Room to write.
    pub const WRITABLE: Interest = Interest(WRITE);

    /// Whether this includes readability.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::io::Interest::READABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & READ != 0
    }

    /// Whether this includes writability.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::io::Interest::WRITABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// Both interests (the `|` operator in a `const`).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::Interest;
    ///
    /// const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert_eq!(BOTH, Interest::READABLE | Interest::WRITABLE);
    /// ```
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}

/// What a readiness wait found. As tokio's, a closed direction counts as ready: a read of a
/// stream whose peer is gone returns at once (with the end of the stream or an error), so a
/// loop waiting for readability does not wait forever.
///
/// # Examples
///
/// ```
/// use proactor::io::Ready;
///
/// let ready = Ready::READABLE | Ready::WRITABLE;
/// assert!(ready.is_readable() && ready.is_writable());
/// assert!(Ready::READ_CLOSED.is_readable(), "the end of the stream is something to read");
/// assert!(Ready::EMPTY.is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ready(u8);

const READABLE: u8 = 1;
const WRITABLE: u8 = 2;
const READ_CLOSED: u8 = 4;
const WRITE_CLOSED: u8 = 8;
const ERROR: u8 = 16;

impl Ready {
    /// Nothing.
    pub const EMPTY: Ready = Ready(0);
    /// Bytes (or a connection) to take.
    pub const READABLE: Ready = Ready(READABLE);
    /// Room to write.
    pub const WRITABLE: Ready = Ready(WRITABLE);
    /// The peer will send nothing more (it shut down its side or hung up).
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);
    /// Nothing more can be sent (the connection is gone).
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);
    /// The descriptor has an error pending (`SO_ERROR`; a read or write returns it).
    pub const ERROR: Ready = Ready(ERROR);
    /// Everything.
    pub const ALL: Ready = Ready(READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | ERROR);

    /// Whether nothing was found.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::io::Ready::EMPTY.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a read would not wait: bytes are there, or the reading side is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::io::Ready::READABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }

    /// Whether a write would not wait: there is room, or the writing side is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::io::Ready::WRITABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & (WRITABLE | WRITE_CLOSED) != 0
    }

    /// Whether the peer will send nothing more.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::io::Ready::READ_CLOSED.is_read_closed());
    /// ```
    pub const fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// Whether nothing more can be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::io::Ready::WRITE_CLOSED.is_write_closed());
    /// ```
    pub const fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }

    /// Whether an error is pending on the descriptor.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor::io::Ready::ERROR.is_error());
    /// ```
    pub const fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// What of this `interest` asks for.
    pub(crate) fn intersection(self, interest: Interest) -> Ready {
        let mut mask = ERROR;
        if interest.is_readable() {
            mask |= READABLE | READ_CLOSED;
        }
        if interest.is_writable() {
            mask |= WRITABLE | WRITE_CLOSED;
        }
        Ready(self.0 & mask)
    }

    /// What `poll(2)`'s `revents` say (on Windows `WSAPoll`'s, which the driver's socket
    /// poll answers with).
    pub(crate) fn from_poll_events(events: usize) -> Ready {
        let events = events as u16;
        let mut ready = 0;
        if events & poll::READABLE != 0 {
            ready |= READABLE;
        }
        if events & poll::WRITABLE != 0 {
            ready |= WRITABLE;
        }
        if events & poll::HANG_UP != 0 {
            ready |= READ_CLOSED | WRITE_CLOSED;
        }
        if events & poll::READ_HANG_UP != 0 {
            ready |= READ_CLOSED;
        }
        if events & poll::ERROR != 0 {
            ready |= ERROR;
        }
        Ready(ready)
    }
}

/// `poll(2)`'s event bits, and `WSAPoll`'s on Windows.
mod poll {
    #[cfg(unix)]
    pub(super) const READABLE: u16 = libc::POLLIN as u16;
    #[cfg(unix)]
    pub(super) const WRITABLE: u16 = libc::POLLOUT as u16;
    #[cfg(unix)]
    pub(super) const HANG_UP: u16 = libc::POLLHUP as u16;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(super) const READ_HANG_UP: u16 = libc::POLLRDHUP as u16;
    #[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
    pub(super) const READ_HANG_UP: u16 = 0;
    #[cfg(unix)]
    pub(super) const ERROR: u16 = libc::POLLERR as u16;

    #[cfg(windows)]
    use windows_sys::Win32::Networking::WinSock as winsock;
    #[cfg(windows)]
    pub(super) const READABLE: u16 = winsock::POLLRDNORM as u16;
    #[cfg(windows)]
    pub(super) const WRITABLE: u16 = winsock::POLLWRNORM as u16;
    #[cfg(windows)]
    pub(super) const HANG_UP: u16 = winsock::POLLHUP as u16;
    #[cfg(windows)]
    pub(super) const READ_HANG_UP: u16 = 0;
    #[cfg(windows)]
    pub(super) const ERROR: u16 = winsock::POLLERR as u16;
}

impl BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error())
            .finish()
    }
}

/// Waits until `fd` is ready for something in `interest`: a `poll(2)`-style wait through the
/// driver (`IORING_OP_POLL_ADD` on io_uring, the epoll or kqueue registration on the
/// readiness backends, the socket driver's `IOCTL_AFD_POLL` on Windows), one per direction,
/// the first to finish answering. Level-triggered: a descriptor that is ready now answers at
/// once.
pub(crate) async fn wait(fd: proactor_driver::Fd, interest: Interest) -> std::io::Result<Ready> {
    if !interest.is_readable() && !interest.is_writable() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a readiness wait needs an interest",
        ));
    }
    wait_for(fd, interest).await
}

async fn wait_for(fd: proactor_driver::Fd, interest: Interest) -> std::io::Result<Ready> {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Poll;

    use crate::runtime::op;

    let watch = |writable| op::submit(proactor_driver::Op::Poll { fd, writable });
    let mut read = interest.is_readable().then(|| watch(false));
    let mut write = interest.is_writable().then(|| watch(true));
    std::future::poll_fn(|cx| {
        let mut found = None;
        for waiting in [&mut read, &mut write].into_iter().flatten() {
            if let Poll::Ready(completion) = Pin::new(waiting).poll(cx) {
                let ready = match completion.result {
                    Ok(events) => Ready::from_poll_events(events),
                    Err(error) => return Poll::Ready(Err(error)),
                };
                found = Some(found.unwrap_or(Ready::EMPTY) | ready);
            }
        }
        match found {
            // The direction not yet ready is cancelled when its wait is dropped.
            Some(ready) => Poll::Ready(Ok(ready.intersection(interest))),
            None => Poll::Pending,
        }
    })
    .await
}
