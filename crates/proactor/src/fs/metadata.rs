//! What the file system reports about a file, and the small value types the free functions
//! take.

use std::fmt;
use std::io;
use std::ops::BitOr;
use std::time::SystemTime;

use super::Permissions;

/// File type bits of `st_mode`.
const TYPE_MASK: u32 = 0o170000;

/// A file's metadata: size, type, permissions, owner and times.
///
/// Returned by [`metadata`](fn@super::metadata), [`symlink_metadata`](super::symlink_metadata)
/// and [`File::metadata`](super::File::metadata). It wraps the driver's
/// [`proactor_driver::Metadata`] (filled by `statx` on Linux) with accessors shaped like
/// [`std::fs::Metadata`]'s.
///
/// On Windows it is filled from std's metadata (`GetFileInformationByHandle`): `mode()` is
/// made up of the file type bits and `0o666` (`0o444` for a read-only file; directories add
/// `0o111`), `dev()` is the volume serial number and `ino()` the file index, `changed()` is
/// `Unsupported`, and the Unix-only numbers (`uid`, `gid`, `rdev`, `blksize`, `blocks`)
/// are 0.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let metadata = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?;
/// assert!(metadata.is_file());
/// assert!(metadata.len() > 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Metadata {
    inner: proactor_driver::Metadata,
    /// std's permissions, which cannot be made from mode bits on Windows.
    #[cfg(windows)]
    permissions: Permissions,
}

#[cfg(unix)]
impl From<proactor_driver::Metadata> for Metadata {
    fn from(inner: proactor_driver::Metadata) -> Metadata {
        Metadata { inner }
    }
}

impl Metadata {
    /// std's metadata in the driver's shape (Windows; see [`Metadata`] for what is made up).
    #[cfg(windows)]
    pub(crate) fn from_std(metadata: &std::fs::Metadata, ids: crate::sys::FileIds) -> Metadata {
        let file_type = metadata.file_type();
        let kind = if file_type.is_symlink() {
            0o120000
        } else if file_type.is_dir() {
            0o040000
        } else {
            0o100000
        };
        let permissions = metadata.permissions();
        let mut bits = if permissions.readonly() { 0o444 } else { 0o666 };
        if file_type.is_dir() {
            bits |= 0o111;
        }
        let inner = proactor_driver::Metadata {
            mode: kind | bits,
            dev: ids.volume,
            ino: ids.index,
            nlink: ids.links,
            size: metadata.len(),
            accessed: metadata.accessed().ok(),
            modified: metadata.modified().ok(),
            created: metadata.created().ok(),
            ..proactor_driver::Metadata::default()
        };
        Metadata { inner, permissions }
    }
}

fn time_or_unsupported(time: Option<SystemTime>, what: &str) -> io::Result<SystemTime> {
    time.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::Unsupported,
            format!("the file system does not report the {what} time"),
        )
    })
}

impl Metadata {
    /// Size in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let metadata = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?;
    /// assert_eq!(metadata.len(), std::fs::metadata("Cargo.toml")?.len());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> u64 {
        self.inner.size
    }

    /// Whether the size is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(!runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.size == 0
    }

    /// The file's type.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let metadata = runtime.block_on(proactor::fs::metadata("src"))?;
    /// assert!(metadata.file_type().is_dir());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn file_type(&self) -> FileType {
        FileType::from_mode(self.inner.mode)
    }

    /// Whether this is a regular file.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.is_file());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_file(&self) -> bool {
        self.inner.is_file()
    }

    /// Whether this is a directory.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(runtime.block_on(proactor::fs::metadata("src"))?.is_dir());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_dir(&self) -> bool {
        self.inner.is_dir()
    }

    /// Whether this is a symbolic link; only [`symlink_metadata`](super::symlink_metadata)
    /// reports links (the others follow them).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(!runtime.block_on(proactor::fs::symlink_metadata("Cargo.toml"))?.is_symlink());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_symlink(&self) -> bool {
        self.inner.is_symlink()
    }

    /// The permissions, as [`std::fs::Permissions`] (like std's, its `mode()` carries the
    /// whole `st_mode`).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let permissions = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.permissions();
    /// assert_eq!(permissions, std::fs::metadata("Cargo.toml")?.permissions());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn permissions(&self) -> Permissions {
        self.std_permissions()
    }

    #[cfg(unix)]
    fn std_permissions(&self) -> Permissions {
        std::os::unix::fs::PermissionsExt::from_mode(self.inner.mode)
    }

    #[cfg(windows)]
    fn std_permissions(&self) -> Permissions {
        self.permissions.clone()
    }

    /// The whole `st_mode`: file type and permission bits.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let mode = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.mode();
    /// assert_eq!(mode & 0o170000, 0o100000);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn mode(&self) -> u32 {
        self.inner.mode
    }

    /// Last modification time.
    ///
    /// # Errors
    ///
    /// `Unsupported` if the file system does not record it.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let modified = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.modified()?;
    /// assert!(modified > std::time::UNIX_EPOCH);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn modified(&self) -> io::Result<SystemTime> {
        time_or_unsupported(self.inner.modified, "modification")
    }

    /// Last access time.
    ///
    /// # Errors
    ///
    /// `Unsupported` if the file system does not record it.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let accessed = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.accessed()?;
    /// assert!(accessed > std::time::UNIX_EPOCH);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn accessed(&self) -> io::Result<SystemTime> {
        time_or_unsupported(self.inner.accessed, "access")
    }

    /// Creation ("birth") time.
    ///
    /// # Errors
    ///
    /// `Unsupported` if the file system (or kernel) does not report it.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let metadata = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?;
    /// if let Ok(created) = metadata.created() {
    ///     assert!(created <= std::time::SystemTime::now());
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn created(&self) -> io::Result<SystemTime> {
        time_or_unsupported(self.inner.created, "creation")
    }

    /// Last status change time (`ctime`).
    ///
    /// # Errors
    ///
    /// `Unsupported` if the file system does not record it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// let runtime = proactor::Runtime::new()?;
    /// let changed = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.changed()?;
    /// assert!(changed > std::time::UNIX_EPOCH);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn changed(&self) -> io::Result<SystemTime> {
        time_or_unsupported(self.inner.changed, "status change")
    }

    /// ID of the device holding the file.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let (a, b) = runtime.block_on(async {
    ///     (proactor::fs::metadata("Cargo.toml").await, proactor::fs::metadata("src").await)
    /// });
    /// assert_eq!(a?.dev(), b?.dev());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dev(&self) -> u64 {
        self.inner.dev
    }

    /// Inode number.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use std::os::unix::fs::MetadataExt;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// let metadata = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?;
    /// assert_eq!(metadata.ino(), std::fs::metadata("Cargo.toml")?.ino());
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ino(&self) -> u64 {
        self.inner.ino
    }

    /// Number of hard links.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.nlink() >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn nlink(&self) -> u64 {
        self.inner.nlink
    }

    /// Owner's user ID.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use std::os::unix::fs::MetadataExt;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// let metadata = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?;
    /// assert_eq!(metadata.uid(), std::fs::metadata("Cargo.toml")?.uid());
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn uid(&self) -> u32 {
        self.inner.uid
    }

    /// Owner's group ID.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use std::os::unix::fs::MetadataExt;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// let metadata = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?;
    /// assert_eq!(metadata.gid(), std::fs::metadata("Cargo.toml")?.gid());
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn gid(&self) -> u32 {
        self.inner.gid
    }

    /// Device ID, for a device file (0 otherwise).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert_eq!(runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.rdev(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn rdev(&self) -> u64 {
        self.inner.rdev
    }

    /// Preferred I/O block size.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.blksize() > 0);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blksize(&self) -> u64 {
        self.inner.blksize
    }

    /// Number of 512-byte blocks allocated (less than the size for a sparse file).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let metadata = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?;
    /// let _ = metadata.blocks();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocks(&self) -> u64 {
        self.inner.blocks
    }

    /// The driver's metadata this wraps, with every field public.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let metadata = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?;
    /// assert_eq!(metadata.as_raw().size, metadata.len());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_raw(&self) -> &proactor_driver::Metadata {
        &self.inner
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metadata")
            .field("file_type", &self.file_type())
            .field("len", &self.len())
            .field(
                "permissions",
                &format_args!("{:o}", self.inner.mode & 0o7777),
            )
            .field("modified", &self.inner.modified)
            .finish_non_exhaustive()
    }
}

/// A file's type: regular file, directory, symbolic link, or a special file.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let file_type = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.file_type();
/// assert!(file_type.is_file() && !file_type.is_dir() && !file_type.is_symlink());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileType {
    /// The `S_IFMT` bits of `st_mode`.
    mode: u32,
}

impl FileType {
    pub(crate) fn from_mode(mode: u32) -> FileType {
        FileType {
            mode: mode & TYPE_MASK,
        }
    }

    #[cfg(windows)]
    pub(crate) fn from_std(file_type: std::fs::FileType) -> FileType {
        let mode = if file_type.is_symlink() {
            0o120000
        } else if file_type.is_dir() {
            0o040000
        } else {
            0o100000
        };
        FileType { mode }
    }

    #[cfg(unix)]
    pub(crate) fn from_std(file_type: std::fs::FileType) -> FileType {
        use std::os::unix::fs::FileTypeExt;
        let mode = if file_type.is_file() {
            0o100000
        } else if file_type.is_dir() {
            0o040000
        } else if file_type.is_symlink() {
            0o120000
        } else if file_type.is_fifo() {
            0o010000
        } else if file_type.is_socket() {
            0o140000
        } else if file_type.is_block_device() {
            0o060000
        } else if file_type.is_char_device() {
            0o020000
        } else {
            0
        };
        FileType { mode }
    }

    /// Whether this is a regular file.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(runtime.block_on(proactor::fs::metadata("Cargo.toml"))?.file_type().is_file());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_file(&self) -> bool {
        self.mode == 0o100000
    }

    /// Whether this is a directory.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(runtime.block_on(proactor::fs::metadata("src"))?.file_type().is_dir());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_dir(&self) -> bool {
        self.mode == 0o040000
    }

    /// Whether this is a symbolic link.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(!runtime.block_on(proactor::fs::metadata("src"))?.file_type().is_symlink());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_symlink(&self) -> bool {
        self.mode == 0o120000
    }

    /// Whether this is a named pipe.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(!runtime.block_on(proactor::fs::metadata("src"))?.file_type().is_fifo());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_fifo(&self) -> bool {
        self.mode == 0o010000
    }

    /// Whether this is a Unix socket.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(!runtime.block_on(proactor::fs::metadata("src"))?.file_type().is_socket());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_socket(&self) -> bool {
        self.mode == 0o140000
    }

    /// Whether this is a block device.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(!runtime.block_on(proactor::fs::metadata("src"))?.file_type().is_block_device());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_block_device(&self) -> bool {
        self.mode == 0o060000
    }

    /// Whether this is a character device.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// let runtime = proactor::Runtime::new()?;
    /// assert!(runtime.block_on(proactor::fs::metadata("/dev/null"))?.file_type().is_char_device());
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_char_device(&self) -> bool {
        self.mode == 0o020000
    }
}

impl fmt::Debug for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.mode {
            0o100000 => "File",
            0o040000 => "Dir",
            0o120000 => "Symlink",
            0o010000 => "Fifo",
            0o140000 => "Socket",
            0o060000 => "BlockDevice",
            0o020000 => "CharDevice",
            _ => "Unknown",
        };
        write!(f, "FileType::{name}")
    }
}

/// Access and modification times to set with [`set_times`](super::set_times),
/// [`set_symlink_times`](super::set_symlink_times) or
/// [`File::set_times`](super::File::set_times); a time left unset is not changed.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use proactor::fs::FileTimes;
///
/// let times = FileTimes::new().set_modified(UNIX_EPOCH + Duration::from_secs(1_000_000_000));
/// assert_eq!(times.modified(), Some(UNIX_EPOCH + Duration::from_secs(1_000_000_000)));
/// assert_eq!(times.accessed(), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileTimes {
    accessed: Option<SystemTime>,
    modified: Option<SystemTime>,
}

impl FileTimes {
    /// Times that change nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::fs::FileTimes::new().accessed(), None);
    /// ```
    pub fn new() -> FileTimes {
        FileTimes::default()
    }

    /// Sets the access time.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = std::time::SystemTime::now();
    /// assert_eq!(proactor::fs::FileTimes::new().set_accessed(now).accessed(), Some(now));
    /// ```
    #[must_use]
    pub fn set_accessed(mut self, time: SystemTime) -> FileTimes {
        self.accessed = Some(time);
        self
    }

    /// Sets the modification time.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = std::time::SystemTime::now();
    /// assert_eq!(proactor::fs::FileTimes::new().set_modified(now).modified(), Some(now));
    /// ```
    #[must_use]
    pub fn set_modified(mut self, time: SystemTime) -> FileTimes {
        self.modified = Some(time);
        self
    }

    /// The access time to set, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::fs::FileTimes::default().accessed(), None);
    /// ```
    pub fn accessed(&self) -> Option<SystemTime> {
        self.accessed
    }

    /// The modification time to set, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(proactor::fs::FileTimes::default().modified(), None);
    /// ```
    pub fn modified(&self) -> Option<SystemTime> {
        self.modified
    }

    /// The `[atime, mtime]` pair for `utimensat`/`futimens`.
    #[cfg(unix)]
    pub(crate) fn to_timespecs(self) -> io::Result<[libc::timespec; 2]> {
        Ok([timespec(self.accessed)?, timespec(self.modified)?])
    }
}

/// A time as `utimensat` takes it; `None` is `UTIME_OMIT` (leave unchanged).
#[cfg(windows)]
impl FileTimes {
    pub(crate) fn to_std(self) -> std::fs::FileTimes {
        let mut times = std::fs::FileTimes::new();
        if let Some(accessed) = self.accessed {
            times = times.set_accessed(accessed);
        }
        if let Some(modified) = self.modified {
            times = times.set_modified(modified);
        }
        times
    }
}

#[cfg(unix)]
fn timespec(time: Option<SystemTime>) -> io::Result<libc::timespec> {
    let Some(time) = time else {
        return Ok(libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        });
    };
    let out_of_range = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "time out of the file system's range",
        )
    };
    let (seconds, nanos) = match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => (
            i64::try_from(after.as_secs()).map_err(|_| out_of_range())?,
            after.subsec_nanos(),
        ),
        Err(before) => {
            let before = before.duration();
            let seconds = i64::try_from(before.as_secs()).map_err(|_| out_of_range())?;
            match before.subsec_nanos() {
                0 => (-seconds, 0),
                nanos => (-seconds - 1, 1_000_000_000 - nanos),
            }
        }
    };
    Ok(libc::timespec {
        tv_sec: libc::time_t::try_from(seconds).map_err(|_| out_of_range())?,
        // Below one billion: fits every platform's `c_long`.
        tv_nsec: nanos as libc::c_long,
    })
}

/// `access(2)`'s mode bits (the same numbers on Windows, where libuv's rules apply).
#[cfg(unix)]
mod access_bits {
    pub(super) const EXISTS: i32 = libc::F_OK;
    pub(super) const READ: i32 = libc::R_OK;
    pub(super) const WRITE: i32 = libc::W_OK;
    pub(super) const EXECUTE: i32 = libc::X_OK;
}

/// `access(2)`'s mode bits (the same numbers on Windows, where libuv's rules apply).
#[cfg(windows)]
mod access_bits {
    pub(super) const EXISTS: i32 = 0;
    pub(super) const READ: i32 = 4;
    pub(super) const WRITE: i32 = 2;
    pub(super) const EXECUTE: i32 = 1;
}

/// Which permissions [`access`](super::access) checks; combine them with `|`.
///
/// # Examples
///
/// ```
/// use proactor::fs::AccessMode;
///
/// let mode = AccessMode::READ | AccessMode::WRITE;
/// assert!(mode.contains(AccessMode::READ));
/// assert!(!mode.contains(AccessMode::EXECUTE));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessMode(i32);

impl AccessMode {
    /// Only whether the file exists (`F_OK`).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::fs::AccessMode;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(proactor::fs::access("Cargo.toml", AccessMode::EXISTS))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub const EXISTS: AccessMode = AccessMode(access_bits::EXISTS);
    /// Read permission (`R_OK`).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::fs::AccessMode;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(proactor::fs::access("Cargo.toml", AccessMode::READ))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub const READ: AccessMode = AccessMode(access_bits::READ);
    /// Write permission (`W_OK`).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::fs::AccessMode;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// let _writable = runtime.block_on(proactor::fs::access("Cargo.toml", AccessMode::WRITE)).is_ok();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub const WRITE: AccessMode = AccessMode(access_bits::WRITE);
    /// Execute (or, for a directory, search) permission (`X_OK`).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::fs::AccessMode;
    ///
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(proactor::fs::access("src", AccessMode::EXECUTE))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub const EXECUTE: AccessMode = AccessMode(access_bits::EXECUTE);

    /// Whether every permission in `other` is in `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::fs::AccessMode;
    ///
    /// assert!((AccessMode::READ | AccessMode::EXECUTE).contains(AccessMode::EXECUTE));
    /// ```
    pub fn contains(self, other: AccessMode) -> bool {
        self.0 & other.0 == other.0
    }

    #[cfg(unix)]
    pub(crate) fn bits(self) -> i32 {
        self.0
    }
}

impl BitOr for AccessMode {
    type Output = AccessMode;

    fn bitor(self, other: AccessMode) -> AccessMode {
        AccessMode(self.0 | other.0)
    }
}

impl fmt::Debug for AccessMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == access_bits::EXISTS {
            return f.write_str("AccessMode(EXISTS)");
        }
        let mut names = Vec::new();
        for (flag, name) in [
            (AccessMode::READ, "READ"),
            (AccessMode::WRITE, "WRITE"),
            (AccessMode::EXECUTE, "EXECUTE"),
        ] {
            if self.contains(flag) {
                names.push(name);
            }
        }
        write!(f, "AccessMode({})", names.join(" | "))
    }
}

/// Statistics of a mounted file system, from [`statfs`](super::statfs) (`statvfs`).
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let stats = runtime.block_on(proactor::fs::statfs("."))?;
/// assert!(stats.block_size > 0);
/// assert!(stats.blocks_available <= stats.blocks_free);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatFs {
    /// Size in bytes of the blocks the counts below are in (`f_frsize`).
    pub block_size: u64,
    /// Preferred I/O size (`f_bsize`).
    pub io_size: u64,
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks.
    pub blocks_free: u64,
    /// Free blocks an unprivileged user may use.
    pub blocks_available: u64,
    /// Total inodes (file nodes).
    pub files: u64,
    /// Free inodes.
    pub files_free: u64,
    /// Longest file name, in bytes.
    pub name_max: u64,
}

#[cfg(unix)]
impl StatFs {
    // The field types differ between systems (u32 on some, u64 on others).
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    pub(crate) fn from_statvfs(stats: &libc::statvfs) -> StatFs {
        StatFs {
            block_size: stats.f_frsize as u64,
            io_size: stats.f_bsize as u64,
            blocks: stats.f_blocks as u64,
            blocks_free: stats.f_bfree as u64,
            blocks_available: stats.f_bavail as u64,
            files: stats.f_files as u64,
            files_free: stats.f_ffree as u64,
            name_max: stats.f_namemax as u64,
        }
    }
}
