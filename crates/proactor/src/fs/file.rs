//! [`File`] and [`OpenOptions`].

use std::io::{self, SeekFrom};
use std::path::Path;

use proactor_driver::{Buffer, Fd, Op};

use super::{sys, FileTimes, Metadata, Permissions};
use crate::blocking;
use crate::io::{AsyncRead, AsyncWrite, RawStream};
use crate::net::{take_buffer, Descriptor};
use crate::runtime::op;
use crate::{BufResult, IoBuf};

/// An open file: positional reads and writes with owned buffers, closed through the driver
/// when dropped.
///
/// Reads and writes at an offset ([`read_at`](File::read_at), [`write_at`](File::write_at)
/// and their `_exact`/`_all` forms) take `&self`, so several may be in flight at once. The
/// [`AsyncRead`]/[`AsyncWrite`] implementations add a **cursor** kept in the `File` itself
/// (not the kernel's file offset): each `read`/`write` happens at the cursor and moves it by
/// the count transferred. A cancelled read or write therefore never moves the cursor, and the
/// next one starts where the last completed one ended. Move the cursor with
/// [`seek`](File::seek) or [`set_position`](File::set_position). A file opened in append
/// mode writes at its end whatever the cursor says, and such writes leave the cursor alone.
///
/// Opening, positional reads and writes, `fsync` and `statx` are driver operations (in the
/// io_uring ring, or on the thread pool under epoll); the rest run on the thread pool.
///
/// # Examples
///
/// ```
/// use proactor::fs::File;
/// use proactor::io::{AsyncRead, AsyncWrite};
///
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("hello.txt");
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let mut file = File::create(&path).await?;
///     file.write_all(b"hello, ".to_vec()).await.0?;
///     file.write_all(b"world".to_vec()).await.0?;
///     drop(file);
///
///     let mut file = File::open(&path).await?;
///     let (result, contents) = file.read_to_end(Vec::new()).await;
///     assert_eq!(result?, 12);
///     assert_eq!(contents, b"hello, world");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct File {
    descriptor: Descriptor,
    /// Where the next [`AsyncRead::read`] or [`AsyncWrite::write`] happens.
    position: u64,
    /// Opened with `O_APPEND`: cursor writes go to the end.
    append: bool,
}

fn invalid_input(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Offsets past `i64::MAX` are rejected: the kernel cannot take them, and io_uring would read
/// `u64::MAX` as "the current position".
#[inline]
fn check_offset(offset: u64) -> io::Result<u64> {
    if offset > i64::MAX as u64 {
        return Err(invalid_input("file offset past i64::MAX"));
    }
    Ok(offset)
}

/// The buffer a positional read or write gave back, taken from its variant directly rather
/// than through `Op::into_buffer`'s match over every kind (this runs once per read).
#[inline]
fn buffer_of(op: Op) -> Buffer {
    match op {
        Op::Read { buf, .. } | Op::Write { buf, .. } => buf,
        other => take_buffer(other),
    }
}

/// A position in a file that reads and writes at offsets and moves past what they moved, so
/// `read_exact_at` and `write_all_at` are `io`'s `read_exact` and `write_all` over it.
struct At<'a> {
    file: &'a File,
    offset: u64,
}

impl At<'_> {
    fn advance(&mut self, result: &io::Result<usize>) {
        if let Ok(count) = result {
            // Checked by the next operation: an overflowing offset is an error there.
            self.offset = self.offset.saturating_add(*count as u64);
        }
    }
}

impl AsyncRead for At<'_> {
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let (result, buffer) = self.file.read_buffer(buf.into_buffer(), self.offset).await;
        self.advance(&result);
        (result, B::from_buffer(buffer))
    }
}

impl AsyncWrite for At<'_> {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let (result, buffer) = self
            .file
            .write_buffer(buf.into_buffer(), Some(self.offset))
            .await;
        self.advance(&result);
        (result, B::from_buffer(buffer))
    }

    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl File {
    /// Opened in append mode: cursor writes go to the end (for the poll-based adapters).
    #[cfg(compat)]
    pub(crate) fn appends(&self) -> bool {
        self.append
    }

    /// The offset a cursor write of a file opened for appending is submitted with (for the
    /// poll-based adapters): `None` where the kernel keeps the position, an "at the end"
    /// offset on Windows, whose driver keeps none.
    #[cfg(compat)]
    pub(crate) const APPEND_OFFSET: Option<u64> = sys::APPEND_OFFSET;

    pub(crate) fn from_descriptor(descriptor: Descriptor, append: bool) -> File {
        File {
            descriptor,
            position: 0,
            append,
        }
    }

    /// Opens a file for reading.
    ///
    /// # Errors
    ///
    /// `NotFound` if it does not exist, `InvalidInput` if the path holds a NUL byte, or the
    /// OS error (e.g. `PermissionDenied`).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::open("Cargo.toml").await?;
    ///     assert!(file.metadata().await?.is_file());
    ///     let missing = proactor::fs::File::open("no/such/file").await.unwrap_err();
    ///     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating it if needed and truncating it if it exists.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a path with a NUL byte, or the OS error (e.g. `IsADirectory`,
    /// `NotFound` for a missing parent directory).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-create-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::create(&path).await?;
    ///     file.write_all_at(b"data".to_vec(), 0).await.0?;
    ///     assert_eq!(file.metadata().await?.len(), 4);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates a new file for reading and writing; fails if it exists.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if the path exists (even as a dangling symbolic link), or as
    /// [`create`](File::create).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-create-new-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     proactor::fs::File::create_new(&path).await?;
    ///     let again = proactor::fs::File::create_new(&path).await.unwrap_err();
    ///     assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// A blank [`OpenOptions`], as [`OpenOptions::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let file = runtime.block_on(proactor::fs::File::options().read(true).open("Cargo.toml"))?;
    /// # drop(file);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Takes over a file opened by std. The cursor starts at std's current position, and
    /// append mode is read from the descriptor's flags.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::from_std(std::fs::File::open("Cargo.toml")?);
    ///     assert_eq!(file.position(), 0);
    ///     assert!(file.metadata().await?.is_file());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(mut file: std::fs::File) -> File {
        use std::io::Seek;
        let position = file.stream_position().unwrap_or(0);
        let (file, append) = sys::from_std(file);
        File {
            descriptor: Descriptor::adopt(file),
            position,
            append,
        }
    }

    pub(crate) fn fd(&self) -> Fd {
        self.descriptor.fd()
    }

    /// A std handle on a duplicate of the descriptor, for work done on the pool: it stays
    /// valid for the job even if this `File` is dropped meanwhile.
    fn duplicate(&self) -> io::Result<std::fs::File> {
        // SAFETY: the descriptor is open while `self` lives, and the call ends before it.
        unsafe { crate::sys::duplicate_file(self.fd()) }
    }

    /// Runs `work` on the pool with a duplicate of the descriptor.
    pub(super) async fn on_pool<T, F>(&self, work: F) -> io::Result<T>
    where
        F: FnOnce(std::fs::File) -> io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let file = self.duplicate()?;
        blocking::run(move || work(file)).await
    }

    async fn read_buffer(&self, buffer: Buffer, offset: u64) -> (io::Result<usize>, Buffer) {
        if let Err(error) = check_offset(offset) {
            return (Err(error), buffer);
        }
        let completion = op::submit(Op::Read {
            fd: self.fd(),
            buf: buffer,
            offset: Some(offset),
        })
        .await;
        (completion.result, buffer_of(completion.op))
    }

    /// Writes at `offset`, or at the end of a file opened for appending (`None`).
    async fn write_buffer(
        &self,
        buffer: Buffer,
        offset: Option<u64>,
    ) -> (io::Result<usize>, Buffer) {
        let offset = match offset.map(check_offset) {
            Some(Err(error)) => return (Err(error), buffer),
            Some(Ok(offset)) => Some(offset),
            None => sys::APPEND_OFFSET,
        };
        let completion = op::submit(Op::Write {
            fd: self.fd(),
            buf: buffer,
            offset,
        })
        .await;
        (completion.result, buffer_of(completion.op))
    }

    /// Reads some bytes at `offset` into `buf` (see [`IoBuf`] for which part is filled) and
    /// returns how many; 0 means `offset` is at or past the end of the file. The cursor is
    /// not used or moved.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `EBADF` for a file opened write-only; `InvalidInput` for a buffer
    /// with no room or an offset past `i64::MAX`. The buffer comes back in every case.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::open("Cargo.toml").await?;
    ///     let (result, buffer) = file.read_at(Vec::with_capacity(9), 0).await;
    ///     assert_eq!(result?, 9);
    ///     assert_eq!(buffer, b"[package]");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn read_at<B: IoBuf>(&self, buf: B, offset: u64) -> BufResult<usize, B> {
        let (result, buffer) = self.read_buffer(buf.into_buffer(), offset).await;
        (result, B::from_buffer(buffer))
    }

    /// Writes some of `buf`'s bytes at `offset` and returns how many. Writing past the end
    /// extends the file, leaving a hole of zeros. The cursor is not used or moved. On Linux,
    /// a file opened in append mode writes at its end whatever `offset` says.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `EBADF` for a file opened read-only; `InvalidInput` for an offset
    /// past `i64::MAX`. The buffer comes back in every case.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-write-at-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::create(&path).await?;
    ///     let (result, _) = file.write_at(b"tail".to_vec(), 4).await;
    ///     assert_eq!(result?, 4);
    ///     assert_eq!(file.metadata().await?.len(), 8);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// assert_eq!(std::fs::read(&path)?, b"\0\0\0\0tail");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn write_at<B: IoBuf>(&self, buf: B, offset: u64) -> BufResult<usize, B> {
        let (result, buffer) = self.write_buffer(buf.into_buffer(), Some(offset)).await;
        (result, B::from_buffer(buffer))
    }

    /// Reads at `offset` until `buf` is full (its spare capacity, whole boxed slice, or
    /// slice range).
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the file ends first (the bytes read so far are in the buffer), or
    /// the first read error.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::open("Cargo.toml").await?;
    ///     let (result, buffer) = file.read_exact_at(vec![0u8; 4].into_boxed_slice(), 1).await;
    ///     result?;
    ///     assert_eq!(&*buffer, b"pack");
    ///     let (result, _) = file.read_exact_at(Vec::with_capacity(16), u32::MAX.into()).await;
    ///     assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn read_exact_at<B: IoBuf>(&self, buf: B, offset: u64) -> BufResult<(), B> {
        At { file: self, offset }.read_exact(buf).await
    }

    /// Writes all of `buf`'s bytes at `offset`.
    ///
    /// # Errors
    ///
    /// `WriteZero` if the file accepts nothing (e.g. a full disk), or the first write error.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-write-all-at-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::create(&path).await?;
    ///     file.write_all_at(b"hello".to_vec(), 0).await.0?;
    ///     file.write_all_at(&b"J"[..], 0).await.0?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// assert_eq!(std::fs::read(&path)?, b"Jello");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn write_all_at<B: IoBuf>(&self, buf: B, offset: u64) -> BufResult<(), B> {
        At { file: self, offset }.write_all(buf).await
    }

    /// Where the next cursor [`read`](AsyncRead::read) or [`write`](AsyncWrite::write)
    /// happens.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncRead;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let mut file = proactor::fs::File::open("Cargo.toml").await?;
    ///     file.read(Vec::with_capacity(3)).await.0?;
    ///     assert_eq!(file.position(), 3);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Moves the cursor to `position` (it may be past the end of the file).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::AsyncRead;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let mut file = proactor::fs::File::open("Cargo.toml").await?;
    ///     file.set_position(1);
    ///     let (result, buffer) = file.read(Vec::with_capacity(7)).await;
    ///     result?;
    ///     assert_eq!(buffer, b"package");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_position(&mut self, position: u64) {
        self.position = position;
    }

    /// Moves the cursor like [`std::io::Seek::seek`] and returns its new position;
    /// [`SeekFrom::End`] asks the file for its size.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a position before the start or past `i64::MAX`; for `End`, the
    /// error of [`metadata`](File::metadata).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::SeekFrom;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let mut file = proactor::fs::File::open("Cargo.toml").await?;
    ///     let end = file.seek(SeekFrom::End(0)).await?;
    ///     assert_eq!(end, std::fs::metadata("Cargo.toml")?.len());
    ///     assert_eq!(file.seek(SeekFrom::Current(-1)).await?, end - 1);
    ///     assert!(file.seek(SeekFrom::Current(-(end as i64) - 1)).await.is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        let (base, delta) = match position {
            SeekFrom::Start(offset) => (offset, 0),
            SeekFrom::Current(delta) => (self.position, delta),
            SeekFrom::End(delta) => (self.metadata().await?.len(), delta),
        };
        let target = base
            .checked_add_signed(delta)
            .ok_or_else(|| invalid_input("seek to a position before the start or past u64::MAX"))
            .and_then(check_offset)?;
        self.position = target;
        Ok(target)
    }

    /// Flushes the file's data and metadata to storage (`fsync`; `FlushFileBuffers` on
    /// Windows).
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `EIO`. On Windows, `PermissionDenied` for a file opened without
    /// write access (Unix flushes through any descriptor).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-sync-all-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::create(&path).await?;
    ///     file.write_all_at(b"durable".to_vec(), 0).await.0?;
    ///     file.sync_all().await
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn sync_all(&self) -> io::Result<()> {
        self.fsync(false).await
    }

    /// Flushes the file's data, and only the metadata needed to read it back
    /// (`fdatasync`; on Windows, as [`sync_all`](File::sync_all)).
    ///
    /// # Errors
    ///
    /// As [`sync_all`](File::sync_all).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-sync-data-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::create(&path).await?;
    ///     file.write_all_at(b"durable".to_vec(), 0).await.0?;
    ///     file.sync_data().await
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn sync_data(&self) -> io::Result<()> {
        self.fsync(true).await
    }

    async fn fsync(&self, data_only: bool) -> io::Result<()> {
        op::submit(Op::Fsync {
            fd: self.fd(),
            data_only,
        })
        .await
        .result
        .map(drop)
    }

    /// Truncates or extends the file to `size` bytes (extending fills with zeros). The
    /// cursor is not moved.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the file is not open for writing (`EINVAL` from the OS), or another
    /// OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-set-len-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::create(&path).await?;
    ///     file.set_len(1000).await?;
    ///     assert_eq!(file.metadata().await?.len(), 1000);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        op::submit(Op::Ftruncate {
            fd: self.fd(),
            len: size,
        })
        .await
        .result
        .map(drop)
    }

    /// The file's metadata (`statx` on the descriptor).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::open("Cargo.toml").await?;
    ///     assert_eq!(file.metadata().await?.len(), std::fs::metadata("Cargo.toml")?.len());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        sys::file_metadata(self).await
    }

    /// Changes the file's permissions (`fchmod`).
    ///
    /// # Errors
    ///
    /// `PermissionDenied` if the caller does not own the file, or another OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use std::os::unix::fs::PermissionsExt;
    /// use proactor::fs::Permissions;
    ///
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-file-perm-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::create(&path).await?;
    ///     file.set_permissions(Permissions::from_mode(0o600)).await?;
    ///     assert_eq!(file.metadata().await?.mode() & 0o777, 0o600);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn set_permissions(&self, permissions: Permissions) -> io::Result<()> {
        self.on_pool(move |file| file.set_permissions(permissions))
            .await
    }

    /// Sets the file's access and/or modification times (`futimens`; libuv's `futime`).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a time the platform cannot represent, or the OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use proactor::fs::FileTimes;
    ///
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-futime-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::create(&path).await?;
    ///     let time = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    ///     file.set_times(FileTimes::new().set_modified(time)).await?;
    ///     assert_eq!(file.metadata().await?.modified()?, time);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        self.on_pool(move |file| sys::set_file_times(&file, times))
            .await
    }

    /// Makes sure the disk space for `len` bytes from `offset` is allocated, extending the
    /// file if that range reaches past its end (`fallocate` with mode 0; on Windows, a new end
    /// of file set with `SetFileInformationByHandle` when the range reaches past it).
    ///
    /// # Errors
    ///
    /// `Unsupported` outside Linux and Windows; there, the OS error (e.g. `EOPNOTSUPP` from a
    /// file system without it, `ENOSPC`, `InvalidInput` for a zero `len`).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-allocate-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let file = proactor::fs::File::create(&path).await?;
    ///     if file.allocate(0, 4096).await.is_ok() {
    ///         assert_eq!(file.metadata().await?.len(), 4096);
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn allocate(&self, offset: u64, len: u64) -> io::Result<()> {
        op::submit(Op::Fallocate {
            fd: self.fd(),
            mode: 0,
            offset,
            len,
        })
        .await
        .result
        .map(drop)
    }

    #[cfg(unix)]
    pub(crate) async fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        self.on_pool(move |file| std::os::unix::fs::fchown(&file, uid, gid))
            .await
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for File {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawHandle for File {
    fn as_raw_handle(&self) -> std::os::windows::io::RawHandle {
        self.fd() as std::os::windows::io::RawHandle
    }
}

/// Reads at the `File`'s cursor and moves it by the count read (see [`File`]).
impl AsyncRead for File {
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let (result, buffer) = self.read_at(buf, self.position).await;
        if let Ok(count) = result {
            self.position = self.position.saturating_add(count as u64);
        }
        (result, buffer)
    }

    /// The descriptor at the cursor.
    fn raw_source(&mut self) -> Option<RawStream> {
        Some(RawStream::at(self.fd(), self.position))
    }

    fn raw_consumed(&mut self, count: u64) {
        self.position = self.position.saturating_add(count);
    }
}

/// Writes at the `File`'s cursor and moves it by the count written, or, in append mode,
/// writes at the end and leaves the cursor alone (see [`File`]). There is no user-space
/// buffer: `flush` and `shutdown` do nothing; use [`File::sync_all`] for durability.
impl AsyncWrite for File {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        if self.append {
            let (result, buffer) = self.write_buffer(buf.into_buffer(), None).await;
            return (result, B::from_buffer(buffer));
        }
        let (result, buffer) = self.write_at(buf, self.position).await;
        if let Ok(count) = result {
            self.position = self.position.saturating_add(count as u64);
        }
        (result, buffer)
    }

    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// The descriptor at the cursor, or, in append mode, at the end (Linux refuses to splice
    /// into an append-mode file, so [`copy`](crate::io::copy) finds out at its first spliced
    /// chunk and writes through its buffer: the answer says what the file is, not what one
    /// kernel call allows).
    fn raw_sink(&mut self) -> Option<RawStream> {
        Some(if self.append {
            RawStream::stream(self.fd())
        } else {
            RawStream::at(self.fd(), self.position)
        })
    }

    fn raw_written(&mut self, count: u64) {
        if !self.append {
            self.position = self.position.saturating_add(count);
        }
    }
}

/// How to open a file: the flags of `open(2)`, shaped like [`std::fs::OpenOptions`].
///
/// # Examples
///
/// ```
/// use proactor::fs::OpenOptions;
/// use proactor::io::AsyncWrite;
///
/// # let path = std::env::temp_dir().join(format!("proactor-doc-options-{}", std::process::id()));
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let mut log = OpenOptions::new().append(true).create(true).open(&path).await?;
///     log.write_all(b"one\n".to_vec()).await.0?;
///     log.write_all(b"two\n".to_vec()).await.0?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// assert_eq!(std::fs::read_to_string(&path)?, "one\ntwo\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub(super) read: bool,
    pub(super) write: bool,
    pub(super) append: bool,
    pub(super) truncate: bool,
    pub(super) create: bool,
    pub(super) create_new: bool,
    pub(super) custom_flags: i32,
    pub(super) mode: u32,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Options with every flag off and mode `0o666` (before the umask).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// // Neither read nor write: rejected before any syscall.
    /// let error = runtime.block_on(proactor::fs::OpenOptions::new().open("Cargo.toml")).unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            custom_flags: 0,
            mode: 0o666,
        }
    }

    /// Opens for reading.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(proactor::fs::OpenOptions::new().read(true).open("Cargo.toml"))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.read = read;
        self
    }

    /// Opens for writing.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-opt-write-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(proactor::fs::OpenOptions::new().write(true).create(true).open(&path))?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.write = write;
        self
    }

    /// Opens for appending (`O_APPEND`; implies writing): every write goes to the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-opt-append-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(proactor::fs::OpenOptions::new().append(true).create(true).open(&path))?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.append = append;
        self
    }

    /// Truncates an existing file to zero length (`O_TRUNC`; needs writing, not appending).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-opt-trunc-{}", std::process::id()));
    /// # std::fs::write(&path, "old")?;
    /// let runtime = proactor::Runtime::new()?;
    /// let file = runtime.block_on(proactor::fs::OpenOptions::new().write(true).truncate(true).open(&path))?;
    /// assert_eq!(runtime.block_on(file.metadata())?.len(), 0);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.truncate = truncate;
        self
    }

    /// Creates the file if it does not exist (`O_CREAT`; needs writing or appending).
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-opt-create-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(proactor::fs::OpenOptions::new().write(true).create(true).open(&path))?;
    /// assert!(path.exists());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.create = create;
        self
    }

    /// Creates the file, failing with `AlreadyExists` if it exists (`O_CREAT | O_EXCL`;
    /// `create` and `truncate` are then ignored).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let error = runtime
    ///     .block_on(proactor::fs::OpenOptions::new().write(true).create_new(true).open("Cargo.toml"))
    ///     .unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.create_new = create_new;
        self
    }

    /// Extra `O_*` flags for `open(2)`, e.g. `O_NOFOLLOW` or `O_DIRECT`; the access mode
    /// bits (`O_ACCMODE`) are ignored, and `O_CLOEXEC` is always set.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(
    ///     proactor::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open("Cargo.toml"),
    /// )?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.custom_flags = flags;
        self
    }

    /// Permission bits for a created file, before the umask (default `0o666`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// # let path = std::env::temp_dir().join(format!("proactor-doc-opt-mode-{}", std::process::id()));
    /// let runtime = proactor::Runtime::new()?;
    /// let file = runtime.block_on(
    ///     proactor::fs::OpenOptions::new().write(true).create(true).mode(0o600).open(&path),
    /// )?;
    /// assert_eq!(runtime.block_on(file.metadata())?.mode() & 0o777, 0o600);
    /// # std::fs::remove_file(&path)?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.mode = mode;
        self
    }

    /// Checks the combination with std's rules, before any syscall.
    pub(super) fn check(&self) -> io::Result<()> {
        if !(self.read || self.write || self.append) {
            return Err(invalid_input(
                "open options need read, write or append access",
            ));
        }
        match (self.write, self.append) {
            (true, false) => {}
            (false, false) => {
                if self.truncate || self.create || self.create_new {
                    return Err(invalid_input(
                        "creating or truncating a file needs write or append access",
                    ));
                }
            }
            (_, true) => {
                if self.truncate && !self.create_new {
                    return Err(invalid_input("a file cannot be truncated and appended to"));
                }
            }
        }
        Ok(())
    }

    /// Opens `path` with these options (`openat`, through the driver).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a path with a NUL byte or an invalid combination of options
    /// (checked before any syscall, with std's rules); `NotFound`, `AlreadyExists`,
    /// `PermissionDenied`, `IsADirectory` (writing a directory) and other OS errors.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let error = runtime
    ///     .block_on(proactor::fs::OpenOptions::new().write(true).open("src"))
    ///     .unwrap_err();
    /// # #[cfg(unix)]
    /// assert_eq!(error.raw_os_error(), Some(libc::EISDIR));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        self.check()?;
        let descriptor = sys::open(self, path.as_ref()).await?;
        Ok(File::from_descriptor(descriptor, self.append))
    }

    /// Opens `path` relative to the directory `dir`, refusing any path that resolves outside
    /// it: an absolute path, `..` above it, or a symbolic link at any step that leads out
    /// (links that stay inside are followed). The kernel checks every step as it walks, so a
    /// rename or a link swapped in while the open runs cannot lead it out either — which a
    /// `canonicalize` and a prefix test beforehand cannot promise. This is how a file server
    /// keeps requests inside its root in one operation (`openat2` in the ring on io_uring).
    ///
    /// # Errors
    ///
    /// `PermissionDenied` for a path that leads outside `dir`; `Unsupported` where the kernel
    /// has no such check (Linux before 5.6, macOS, Windows, FreeBSD before 13); otherwise
    /// as [`open`](OpenOptions::open).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::fs::{File, OpenOptions};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let root = File::open("src").await?;
    ///     let options = OpenOptions::new().read(true).clone();
    ///     match options.open_beneath(&root, "lib.rs").await {
    ///         Ok(file) => assert!(file.metadata().await?.is_file()),
    ///         // A kernel without the check: the caller decides what to do instead.
    ///         Err(error) if error.kind() == std::io::ErrorKind::Unsupported => return Ok(()),
    ///         Err(error) => return Err(error),
    ///     }
    ///     let error = options.open_beneath(&root, "../Cargo.toml").await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn open_beneath(&self, dir: &File, path: impl AsRef<Path>) -> io::Result<File> {
        self.check()?;
        let descriptor = sys::open_beneath(self, dir.fd(), path.as_ref()).await?;
        Ok(File::from_descriptor(descriptor, self.append))
    }
}
