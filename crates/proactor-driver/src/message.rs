//! What a message operation ([`Op::SendMsg`](crate::Op::SendMsg),
//! [`Op::RecvMsg`](crate::Op::RecvMsg)) carries besides its bytes: an address, IP or Unix
//! domain, and descriptors passed with the message (`SCM_RIGHTS`).

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::Fd;

/// The address of a message: where a [`SendMsg`](crate::Op::SendMsg) goes, or where a
/// [`RecvMsg`](crate::Op::RecvMsg)'s datagram came from.
///
/// A Unix domain address is boxed, so a message operation stays as small as an IP one; the
/// box is the caller's to reuse: a receive given `Some(Address::Unix(..))` as its `source`
/// writes the sender's address into that box instead of allocating one.
///
/// # Examples
///
/// ```
/// use proactor_driver::{Address, UnixAddr};
///
/// let ip = Address::from("127.0.0.1:8080".parse::<std::net::SocketAddr>().unwrap());
/// assert!(matches!(ip, Address::Ip(_)));
/// let unix = Address::from(UnixAddr::from_bytes(b"/tmp/socket")?);
/// assert!(matches!(unix, Address::Unix(_)));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// An IPv4 or IPv6 address.
    Ip(SocketAddr),
    /// A Unix domain socket's address (Unix only: on Windows an operation carrying one
    /// completes with `Unsupported`).
    Unix(Box<UnixAddr>),
}

impl From<SocketAddr> for Address {
    fn from(addr: SocketAddr) -> Address {
        Address::Ip(addr)
    }
}

impl From<UnixAddr> for Address {
    fn from(addr: UnixAddr) -> Address {
        Address::Unix(Box::new(addr))
    }
}

/// A Unix domain socket address, as the bytes of its `sun_path`: a path (without its final
/// NUL), an abstract name (Linux: a NUL byte and the name), or nothing (an unnamed socket,
/// e.g. one never bound).
///
/// Held inline (no allocation) in [`CAPACITY`](UnixAddr::CAPACITY) bytes, Linux's
/// `sun_path`; macOS and the BSDs have 104, and an operation with a longer address completes
/// there with `InvalidInput`.
///
/// # Examples
///
/// ```
/// use proactor_driver::UnixAddr;
///
/// let named = UnixAddr::from_bytes(b"/run/app.sock")?;
/// assert_eq!(named.as_bytes(), b"/run/app.sock");
/// assert!(UnixAddr::unnamed().is_unnamed());
/// assert!(UnixAddr::from_bytes(&[b'x'; 200]).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct UnixAddr {
    len: u8,
    bytes: [u8; UnixAddr::CAPACITY],
}

impl UnixAddr {
    /// The most bytes an address holds (Linux's `sun_path`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor_driver::UnixAddr::CAPACITY, 108);
    /// ```
    pub const CAPACITY: usize = 108;

    /// An unnamed address: what an unbound socket sends from.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor_driver::UnixAddr::unnamed().as_bytes().is_empty());
    /// ```
    pub fn unnamed() -> UnixAddr {
        UnixAddr {
            len: 0,
            bytes: [0; UnixAddr::CAPACITY],
        }
    }

    /// An address from the bytes of its `sun_path`: a path without a NUL byte, or (Linux) a
    /// NUL byte followed by an abstract name.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `bytes` is longer than [`CAPACITY`](UnixAddr::CAPACITY), or is a
    /// path (first byte not NUL) holding a NUL byte or leaving no room for the final NUL.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::UnixAddr;
    ///
    /// let abstract_name = UnixAddr::from_bytes(b"\0proactor")?;
    /// assert_eq!(abstract_name.as_bytes(), b"\0proactor");
    /// assert!(UnixAddr::from_bytes(b"a\0b").is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> io::Result<UnixAddr> {
        let mut addr = UnixAddr::unnamed();
        addr.set(bytes)?;
        Ok(addr)
    }

    /// Replaces the address with `bytes`, as [`from_bytes`](UnixAddr::from_bytes) makes one.
    pub(crate) fn set(&mut self, bytes: &[u8]) -> io::Result<()> {
        let is_path = bytes.first().is_some_and(|&first| first != 0);
        // A path keeps a byte for its NUL, as std's `SocketAddr::from_pathname` does.
        let room = if is_path {
            UnixAddr::CAPACITY - 1
        } else {
            UnixAddr::CAPACITY
        };
        if bytes.len() > room || (is_path && bytes.contains(&0)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a Unix socket address is a path without NUL bytes, of at most 107 bytes, or \
                 a NUL byte and an abstract name of at most 107",
            ));
        }
        self.bytes[..bytes.len()].copy_from_slice(bytes);
        self.len = bytes.len() as u8;
        Ok(())
    }

    /// The bytes of `sun_path`: empty for an unnamed address, starting with a NUL byte for an
    /// abstract one.
    ///
    /// # Examples
    ///
    /// ```
    /// let addr = proactor_driver::UnixAddr::from_bytes(b"/tmp/s")?;
    /// assert_eq!(addr.as_bytes(), b"/tmp/s");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Whether the address is unnamed (no bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::UnixAddr;
    ///
    /// assert!(UnixAddr::unnamed().is_unnamed());
    /// assert!(!UnixAddr::from_bytes(b"/tmp/s")?.is_unnamed());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_unnamed(&self) -> bool {
        self.len == 0
    }
}

impl PartialEq for UnixAddr {
    fn eq(&self, other: &UnixAddr) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for UnixAddr {}

impl fmt::Debug for UnixAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UnixAddr({:?})",
            self.as_bytes().escape_ascii().to_string()
        )
    }
}

/// Descriptors passed with a message (`SCM_RIGHTS` on a Unix domain socket): those a
/// [`SendMsg`](crate::Op::SendMsg) sends, or those a [`RecvMsg`](crate::Op::RecvMsg)
/// received.
///
/// It owns them: dropping it closes them, so the descriptors of a receive nobody takes (its
/// future dropped, its completion discarded) are closed, never leaked. A send keeps its own
/// until its completion, so closing the originals while it runs cannot send another file that
/// took their number.
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// use std::os::fd::OwnedFd;
/// use proactor_driver::Descriptors;
///
/// let file = OwnedFd::from(std::fs::File::open("/")?);
/// let descriptors = Descriptors::from(vec![file]);
/// assert_eq!(descriptors.len(), 1);
/// let back: Vec<OwnedFd> = descriptors.into_owned();
/// assert_eq!(back.len(), 1);
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Default)]
pub struct Descriptors {
    // A boxed slice, not a vector: every operation slot holds an `Op`, and this keeps the
    // largest (`RecvMsg`) a word smaller.
    fds: Box<[Fd]>,
}

impl Descriptors {
    /// No descriptors.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor_driver::Descriptors::new().is_empty());
    /// ```
    pub fn new() -> Descriptors {
        Descriptors::default()
    }

    /// How many there are.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor_driver::Descriptors::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.fds.len()
    }

    /// Whether there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor_driver::Descriptors::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.fds.is_empty()
    }

    /// The raw descriptors, still owned by `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(proactor_driver::Descriptors::new().as_raw().is_empty());
    /// ```
    pub fn as_raw(&self) -> &[Fd] {
        &self.fds
    }

    /// Takes ownership of `fds`, which nothing else may close.
    #[cfg_attr(not(unix), allow(dead_code))] // Only Unix receives descriptors.
    pub(crate) fn from_owned_raw(fds: Vec<Fd>) -> Descriptors {
        Descriptors {
            fds: fds.into_boxed_slice(),
        }
    }

    /// Hands the descriptors to the caller as owned values.
    ///
    /// # Examples
    ///
    /// ```
    /// let none: Vec<std::os::fd::OwnedFd> = proactor_driver::Descriptors::new().into_owned();
    /// assert!(none.is_empty());
    /// ```
    #[cfg(unix)]
    pub fn into_owned(mut self) -> Vec<std::os::fd::OwnedFd> {
        crate::sys::into_owned_fds(std::mem::take(&mut self.fds).into_vec())
    }
}

#[cfg(unix)]
impl From<Vec<std::os::fd::OwnedFd>> for Descriptors {
    fn from(owned: Vec<std::os::fd::OwnedFd>) -> Descriptors {
        use std::os::fd::IntoRawFd;
        Descriptors {
            fds: owned.into_iter().map(IntoRawFd::into_raw_fd).collect(),
        }
    }
}

impl Drop for Descriptors {
    fn drop(&mut self) {
        for &fd in &self.fds {
            crate::sys::close_quietly(fd);
        }
    }
}

impl fmt::Debug for Descriptors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Descriptors").field(&self.fds).finish()
    }
}
