//! Unix-only I/O: [`AsyncFd`], readiness of a descriptor proactor did not make (libuv's
//! `uv_poll_t`, tokio's `tokio::io::unix::AsyncFd`).

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use super::{ready, Interest, Ready};
use crate::runtime::op;

/// A descriptor made elsewhere (a C library's socket, a pipe, an inotify or eventfd
/// descriptor, a device) whose readiness a task awaits through the runtime's driver, as
/// tokio's `AsyncFd`: wait until it is [`readable`](AsyncFd::readable) or
/// [`writable`](AsyncFd::writable), then do the non-blocking reads or writes yourself until
/// they say `WouldBlock`.
///
/// The descriptor should be in non-blocking mode (`O_NONBLOCK`): readiness can be gone by the
/// time the read runs (another reader took the bytes), and a blocking read would then stall
/// the whole thread. `AsyncFd` owns `inner` (closing it is `inner`'s business, when it is
/// dropped or taken back with [`into_inner`](AsyncFd::into_inner)).
///
/// Waits are level-triggered: each one asks the kernel afresh (`IORING_OP_POLL_ADD` on
/// io_uring, the epoll or kqueue registration on the readiness backends) and a descriptor that
/// is ready now answers at once. So [`AsyncFdReadyGuard::clear_ready`] has nothing to forget,
/// and a wait after a `WouldBlock` waits for new readiness, as with tokio.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use proactor::io::unix::AsyncFd;
///
/// proactor::Runtime::new()?.block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = AsyncFd::new(a)?;
///     b.write_all(b"ping")?;
///     let mut bytes = [0; 16];
///     let count = loop {
///         let mut guard = a.readable().await?;
///         match guard.try_io(|inner| inner.get_ref().read(&mut bytes)) {
///             Ok(result) => break result?,
///             Err(_would_block) => continue,
///         }
///     };
///     assert_eq!(&bytes[..count], b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AsyncFd<T: AsRawFd> {
    inner: Option<T>,
    fd: RawFd,
    interest: Interest,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Watches `inner` for readability and writability.
    ///
    /// # Errors
    ///
    /// A descriptor the driver cannot watch (a regular file on epoll says `EPERM` at the
    /// first wait, not here). Outside a runtime, none: the driver hears of it at the first
    /// wait.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = proactor::io::unix::AsyncFd::new(a)?;
    ///     a.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Watches `inner` for what `interest` names only: a wait for anything else answers
    /// `InvalidInput`.
    ///
    /// # Errors
    ///
    /// As [`new`](AsyncFd::new).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{unix::AsyncFd, Interest};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = AsyncFd::with_interest(a, Interest::READABLE)?;
    ///     assert_eq!(a.writable().await.err().map(|error| error.kind()),
    ///                Some(std::io::ErrorKind::InvalidInput));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        let fd = inner.as_raw_fd();
        if fd < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "AsyncFd needs an open descriptor",
            ));
        }
        // Whatever the driver knew of a descriptor with this number described another file.
        op::adopt(fd);
        Ok(AsyncFd {
            inner: Some(inner),
            fd,
            interest,
        })
    }

    /// The descriptor's owner.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    ///
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let fd = a.as_raw_fd();
    /// # proactor::Runtime::new()?.block_on(async {
    /// let a = proactor::io::unix::AsyncFd::new(a)?;
    /// assert_eq!(a.get_ref().as_raw_fd(), fd);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_ref(&self) -> &T {
        self.inner.as_ref().expect("present until into_inner")
    }

    /// The descriptor's owner, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let mut a = proactor::io::unix::AsyncFd::new(a)?;
    /// a.get_mut().set_nonblocking(true)?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("present until into_inner")
    }

    /// Stops watching and gives the owner back (the driver forgets the descriptor).
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let a = proactor::io::unix::AsyncFd::new(a)?;
    /// let a: std::os::unix::net::UnixStream = a.into_inner();
    /// # let _ = a;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(mut self) -> T {
        self.forget();
        self.inner.take().expect("present until into_inner")
    }

    /// Waits until the descriptor is ready for something in `interest`.
    ///
    /// # Errors
    ///
    /// What the wait met (`EPERM` from epoll for a regular file, say); `InvalidInput` for
    /// an interest this `AsyncFd` was not made with.
    ///
    /// # Cancel safety
    ///
    /// Safe: a wait takes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::{unix::AsyncFd, Interest};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = AsyncFd::new(a)?;
    ///     let guard = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(guard.ready().is_writable());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let ready = self.wait(interest).await?;
        Ok(AsyncFdReadyGuard {
            async_fd: self,
            ready,
        })
    }

    /// As [`ready`](AsyncFd::ready), with the owner lent mutably to the guard (for
    /// `Read`/`Write` implementations that take `&mut self`).
    ///
    /// # Errors
    ///
    /// As [`ready`](AsyncFd::ready).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// use proactor::io::{unix::AsyncFd, Interest};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut a = AsyncFd::new(a)?;
    ///     let mut guard = a.ready_mut(Interest::WRITABLE).await?;
    ///     let written = guard.try_io(|inner| inner.get_mut().write(b"hi"));
    ///     assert_eq!(written.ok().transpose()?, Some(2));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let ready = self.wait(interest).await?;
        Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            ready,
        })
    }

    /// Waits until a read would not wait.
    ///
    /// # Errors
    ///
    /// As [`ready`](AsyncFd::ready).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = proactor::io::unix::AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     assert!(a.readable().await?.ready().is_readable());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// As [`readable`](AsyncFd::readable), with the owner lent mutably to the guard.
    ///
    /// # Errors
    ///
    /// As [`ready`](AsyncFd::ready).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut a = proactor::io::unix::AsyncFd::new(a)?;
    ///     b.write_all(b"x")?;
    ///     let mut guard = a.readable_mut().await?;
    ///     let mut byte = [0];
    ///     let read = guard.try_io(|inner| inner.get_mut().read(&mut byte));
    ///     assert_eq!(read.ok().transpose()?, Some(1));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until a write would not wait.
    ///
    /// # Errors
    ///
    /// As [`ready`](AsyncFd::ready).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = proactor::io::unix::AsyncFd::new(a)?;
    ///     assert!(a.writable().await?.ready().is_writable());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// As [`writable`](AsyncFd::writable), with the owner lent mutably to the guard.
    ///
    /// # Errors
    ///
    /// As [`ready`](AsyncFd::ready).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let mut a = proactor::io::unix::AsyncFd::new(a)?;
    ///     assert!(a.writable_mut().await?.ready().is_writable());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Waits for `interest`, then runs `attempt` on the owner until it does not say
    /// `WouldBlock`: the usual loop in one call, as tokio's `AsyncFd::async_io`.
    ///
    /// # Errors
    ///
    /// What the wait met, or what `attempt` returned other than `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use proactor::io::{unix::AsyncFd, Interest};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let a = AsyncFd::new(a)?;
    ///     b.write_all(b"pong")?;
    ///     let mut bytes = [0; 8];
    ///     let count = a.async_io(Interest::READABLE, |inner| (&*inner).read(&mut bytes)).await?;
    ///     assert_eq!(&bytes[..count], b"pong");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut attempt: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let mut guard = self.ready(interest).await?;
            if let Ok(result) = guard.try_io(|async_fd| attempt(async_fd.get_ref())) {
                return result;
            }
        }
    }

    async fn wait(&self, interest: Interest) -> io::Result<Ready> {
        let wanted = self.interest.add(interest);
        if wanted != self.interest {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "this AsyncFd was made without that interest (AsyncFd::with_interest)",
            ));
        }
        ready::wait(self.fd, interest).await
    }

    /// Tells the driver to forget the descriptor: it stops watching it (an epoll or kqueue
    /// registration would otherwise outlive this `AsyncFd`).
    fn forget(&self) {
        op::adopt(self.fd);
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        if self.inner.is_some() {
            self.forget();
        }
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl<T: AsRawFd + AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .field("interest", &self.interest)
            .finish()
    }
}

/// What [`AsyncFd::ready`] found, lending the `AsyncFd` for the attempts that follow.
///
/// # Examples
///
/// ```
/// proactor::Runtime::new()?.block_on(async {
///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
///     let a = proactor::io::unix::AsyncFd::new(a)?;
///     let guard: proactor::io::unix::AsyncFdReadyGuard<'_, _> = a.writable().await?;
///     assert!(guard.ready().is_writable());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    ready: Ready,
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// What the wait found.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// # let a = proactor::io::unix::AsyncFd::new(a)?;
    /// let guard = a.writable().await?;
    /// assert!(!guard.ready().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ready(&self) -> Ready {
        self.ready
    }

    /// Says the readiness was used up. Waits ask the kernel afresh each time, so there is
    /// nothing to forget here; it is kept so tokio code ports unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// # let a = proactor::io::unix::AsyncFd::new(a)?;
    /// let mut guard = a.writable().await?;
    /// guard.clear_ready();
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn clear_ready(&mut self) {
        self.ready = Ready::EMPTY;
    }

    /// Runs `attempt`; a `WouldBlock` from it becomes `Err(TryIoError)` (wait again), any
    /// other result is `Ok`.
    ///
    /// # Errors
    ///
    /// [`TryIoError`] when `attempt` said `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let a = proactor::io::unix::AsyncFd::new(a)?;
    ///     let mut guard = a.writable().await?;
    ///     // Nothing to read: the attempt would block.
    ///     assert!(guard.try_io(|inner| inner.get_ref().read(&mut [0; 4])).is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_io<R>(
        &mut self,
        attempt: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = attempt(self.async_fd);
        if would_block(&result) {
            self.clear_ready();
            return Err(TryIoError(()));
        }
        Ok(result)
    }

    /// The `AsyncFd` this guard lends.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// # let a = proactor::io::unix::AsyncFd::new(a)?;
    /// let guard = a.writable().await?;
    /// let _stream: &std::os::unix::net::UnixStream = guard.get_inner();
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<T: AsRawFd> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("ready", &self.ready)
            .finish()
    }
}

/// What [`AsyncFd::ready_mut`] found, lending the `AsyncFd` mutably.
///
/// # Examples
///
/// ```
/// proactor::Runtime::new()?.block_on(async {
///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
///     let mut a = proactor::io::unix::AsyncFd::new(a)?;
///     let guard: proactor::io::unix::AsyncFdReadyMutGuard<'_, _> = a.writable_mut().await?;
///     assert!(guard.ready().is_writable());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    ready: Ready,
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    /// What the wait found.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// # let mut a = proactor::io::unix::AsyncFd::new(a)?;
    /// let guard = a.writable_mut().await?;
    /// assert!(guard.ready().is_writable());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ready(&self) -> Ready {
        self.ready
    }

    /// Says the readiness was used up (nothing to forget: see
    /// [`AsyncFdReadyGuard::clear_ready`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// # let mut a = proactor::io::unix::AsyncFd::new(a)?;
    /// let mut guard = a.writable_mut().await?;
    /// guard.clear_ready();
    /// assert!(guard.ready().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn clear_ready(&mut self) {
        self.ready = Ready::EMPTY;
    }

    /// Runs `attempt` with the `AsyncFd` lent mutably; a `WouldBlock` from it becomes
    /// `Err(TryIoError)`.
    ///
    /// # Errors
    ///
    /// [`TryIoError`] when `attempt` said `WouldBlock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut a = proactor::io::unix::AsyncFd::new(a)?;
    ///     let mut guard = a.writable_mut().await?;
    ///     let written = guard.try_io(|inner| inner.get_mut().write(b"abc"));
    ///     assert_eq!(written.ok().transpose()?, Some(3));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_io<R>(
        &mut self,
        attempt: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        let result = attempt(self.async_fd);
        if would_block(&result) {
            self.clear_ready();
            return Err(TryIoError(()));
        }
        Ok(result)
    }

    /// The owner of the descriptor, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// # let mut a = proactor::io::unix::AsyncFd::new(a)?;
    /// let mut guard = a.writable_mut().await?;
    /// guard.get_inner_mut().set_nonblocking(true)?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

impl<T: AsRawFd> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("ready", &self.ready)
            .finish()
    }
}

/// Whether an attempt said `WouldBlock` (readiness was used up: wait again).
fn would_block<R>(result: &io::Result<R>) -> bool {
    matches!(result, Err(error) if error.kind() == io::ErrorKind::WouldBlock)
}

/// An attempt in [`AsyncFdReadyGuard::try_io`] said `WouldBlock`: wait for readiness again.
///
/// # Examples
///
/// ```
/// use std::io::Read;
///
/// proactor::Runtime::new()?.block_on(async {
///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = proactor::io::unix::AsyncFd::new(a)?;
///     let mut guard = a.writable().await?;
///     let error: proactor::io::unix::TryIoError =
///         guard.try_io(|inner| inner.get_ref().read(&mut [0; 4])).unwrap_err();
///     println!("{error}");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TryIoError(());

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block: wait for readiness again")
    }
}

impl std::error::Error for TryIoError {}
