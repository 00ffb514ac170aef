//! [`RawStream`]: the descriptor behind a stream, for moving bytes inside the kernel.

use proactor_driver::Fd;

/// The descriptor behind a reader or writer, and where in it the next byte is: what
/// [`copy`](super::copy) needs to move bytes between two streams inside the kernel (`splice(2)`
/// on Linux) instead of through a buffer.
///
/// A stream offers one through [`AsyncRead::raw_source`](super::AsyncRead::raw_source) or
/// [`AsyncWrite::raw_sink`](super::AsyncWrite::raw_sink) only while reading or writing the
/// descriptor directly is exactly what its `read` or `write` would do. Only proactor's own
/// streams make one (there is no public constructor), so a `RawStream` always names a
/// descriptor its stream owns; a wrapper can pass on its inner stream's.
///
/// # Examples
///
/// ```ignore-windows
/// use proactor::io::AsyncRead;
///
/// proactor::Runtime::new()?.block_on(async {
///     let (mut a, _b) = proactor::net::UnixStream::pair()?;
///     let raw = a.raw_source().expect("a socket with nothing buffered");
///     assert_eq!(raw.offset(), None); // sockets have no position
///     # let _ = raw.fd();
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawStream {
    fd: Fd,
    offset: Option<u64>,
}

impl RawStream {
    /// A socket or pipe, or a file written at its end (append mode): bytes come and go at the
    /// descriptor's own position.
    pub(crate) fn stream(fd: Fd) -> RawStream {
        RawStream { fd, offset: None }
    }

    /// A file read or written at `offset` (its cursor).
    pub(crate) fn at(fd: Fd, offset: u64) -> RawStream {
        RawStream {
            fd,
            offset: Some(offset),
        }
    }

    /// The descriptor (a `SOCKET` or `HANDLE` value on Windows).
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::os::fd::AsRawFd;
    /// use proactor::io::AsyncRead;
    ///
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-raw-fd-{}", std::process::id()));
    /// # std::fs::write(&path, b"bytes")?;
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut file = proactor::fs::File::open(&path).await?;
    ///     let fd = file.raw_source().map(|raw| raw.fd());
    ///     assert_eq!(fd, Some(file.as_raw_fd()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn fd(&self) -> Fd {
        self.fd
    }

    /// Where in a file bytes are read or written (the [`File`](crate::fs::File)'s cursor);
    /// `None` for sockets, pipes and files in append mode.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::io::{AsyncRead, AsyncWrite};
    ///
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-raw-offset-{}", std::process::id()));
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut file = proactor::fs::File::create(&path).await?;
    ///     file.write_all(&b"0123456789"[..]).await.0?;
    ///     file.set_position(3);
    ///     assert_eq!(file.raw_source().and_then(|raw| raw.offset()), Some(3));
    ///     let (mut socket, _peer) = proactor::net::UnixStream::pair()?;
    ///     assert_eq!(socket.raw_sink().and_then(|raw| raw.offset()), None);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }
}
