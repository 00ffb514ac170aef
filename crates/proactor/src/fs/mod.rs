//! Files and directories with owned buffers, shaped like [`std::fs`].
//!
//! Opening, reading and writing at offsets, `fsync`, `statx`, renaming, removing, making
//! directories and links, `ftruncate` and `fallocate` are driver operations: they run in the
//! io_uring ring, or on the driver's thread pool under epoll or where the kernel lacks the
//! opcode (the driver decides). Everything else (listing, times, ownership, ...) runs std or
//! libc calls on the thread pool through [`spawn_blocking`](crate::spawn_blocking), so the
//! runtime's thread never blocks on the disk. Together these cover libuv's file system
//! requests.
//!
//! Every function taking a path rejects one holding a NUL byte with `InvalidInput` before any
//! syscall; other errors are the OS's own (`NotFound` for a missing file, and so on).
//!
//! On Windows the driver reads and writes files at offsets (overlapped `ReadFile` and
//! `WriteFile`; every file is opened with `FILE_FLAG_OVERLAPPED`) and flushes, truncates and
//! allocates them; opening and every path operation run std's calls on the thread pool.
//! A cursor is kept in each [`File`], as on Unix, so reads and writes at the cursor behave
//! the same. Owners (`chown` and its kin) are Unix only.
//!
//! # Examples
//!
//! ```
//! use proactor::fs;
//!
//! # let dir = std::env::temp_dir().join(format!("proactor-doc-fs-{}", std::process::id()));
//! let runtime = proactor::Runtime::new()?;
//! runtime.block_on(async {
//!     fs::create_dir_all(&dir).await?;
//!     fs::write(dir.join("a.txt"), b"alpha".to_vec()).await?;
//!     fs::rename(dir.join("a.txt"), dir.join("b.txt")).await?;
//!     assert_eq!(fs::read_to_string(dir.join("b.txt")).await?, "alpha");
//!     fs::remove_dir_all(&dir).await
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod dir;
mod file;
mod metadata;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as sys;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as sys;

#[cfg(unix)]
use std::ffi::CString;
use std::io;
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use proactor_driver::Op;

use crate::blocking;
use crate::io::AsyncRead;
use crate::IoBuf;

pub use dir::{DirEntry, ReadDir};
pub use file::{File, OpenOptions};
pub use metadata::{AccessMode, FileTimes, FileType, Metadata, StatFs};
/// File permissions: std's type (on Unix, build one with
/// `std::os::unix::fs::PermissionsExt::from_mode`; on Windows it is the read-only attribute,
/// taken from a [`Metadata`] and changed with `set_readonly`).
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// use std::os::unix::fs::PermissionsExt;
///
/// let permissions = proactor::fs::Permissions::from_mode(0o644);
/// assert!(!permissions.readonly());
/// # }
/// ```
pub use std::fs::Permissions;

// File system events.
mod watch;
pub use watch::{poll_watch, watch, Event, Watcher};

/// Turns a libc `-1` return into the OS error.
#[cfg(unix)]
pub(crate) fn cvt(result: libc::c_int) -> io::Result<libc::c_int> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

fn nul_error() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte")
}

/// `path` as a C string, rejecting a NUL byte.
#[cfg(unix)]
fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| nul_error())
}

/// An owned copy of `path` for a pool job, rejecting a NUL byte before any syscall.
fn owned_path(path: &Path) -> io::Result<PathBuf> {
    if crate::sys::has_nul(path) {
        return Err(nul_error());
    }
    Ok(path.to_path_buf())
}

/// Runs a driver operation that completes with no value: in the io_uring ring where the
/// kernel has the opcode, on the thread pool otherwise.
#[cfg(unix)]
async fn run(op: Op) -> io::Result<()> {
    crate::runtime::op::submit(op).await.result.map(drop)
}

/// Runs `work` on the thread pool with an owned, checked copy of `path`.
async fn on_path<T, F>(path: &Path, work: F) -> io::Result<T>
where
    F: FnOnce(PathBuf) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = owned_path(path)?;
    blocking::run(move || work(path)).await
}

/// Runs `work` on the thread pool with owned, checked copies of two paths.
async fn on_paths<T, F>(first: &Path, second: &Path, work: F) -> io::Result<T>
where
    F: FnOnce(PathBuf, PathBuf) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let first = owned_path(first)?;
    let second = owned_path(second)?;
    blocking::run(move || work(first, second)).await
}

/// Runs `work` on the thread pool with `path` as a C string.
#[cfg(unix)]
async fn on_cpath<T, F>(path: &Path, work: F) -> io::Result<T>
where
    F: FnOnce(CString) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = cstring(path)?;
    blocking::run(move || work(path)).await
}

/// The metadata a completed `Statx` filled in.
#[cfg(unix)]
pub(crate) fn metadata_of(op: Op) -> Metadata {
    match op {
        Op::Statx { metadata, .. } => Metadata::from(*metadata),
        _ => unreachable!("a statx completion carries its statx operation"),
    }
}

/// Reads a whole file into a vector.
///
/// # Errors
///
/// `NotFound` if it does not exist, `InvalidInput` for a path with a NUL byte, `EISDIR` for a
/// directory, or another OS error.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let bytes = runtime.block_on(proactor::fs::read("Cargo.toml"))?;
/// assert_eq!(bytes, std::fs::read("Cargo.toml")?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let mut file = File::open(path).await?;
    // The size is a hint (a file may grow, and /proc files say 0); read to the end anyway.
    let hint = file.metadata().await.map_or(0, |metadata| metadata.len());
    let capacity = usize::try_from(hint).unwrap_or(0).saturating_add(4096);
    let (result, bytes) = file.read_to_end(Vec::with_capacity(capacity)).await;
    result.map(|_| bytes)
}

/// Reads a whole file into a string.
///
/// # Errors
///
/// `InvalidData` if the contents are not UTF-8, or as [`read`].
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let text = runtime.block_on(proactor::fs::read_to_string("Cargo.toml"))?;
/// assert!(text.starts_with("[package]"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let bytes = read(path).await?;
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file contents are not UTF-8"))
}

/// Writes `contents` as the whole of a file, creating it or truncating it first.
///
/// # Errors
///
/// `InvalidInput` for a path with a NUL byte, `NotFound` for a missing parent directory, or
/// another OS error.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("proactor-doc-write-{}", std::process::id()));
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::write(&path, &b"contents"[..]))?;
/// assert_eq!(std::fs::read(&path)?, b"contents");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl IoBuf) -> io::Result<()> {
    let file = File::create(path).await?;
    file.write_all_at(contents, 0).await.0
}

/// The metadata of the file at `path`, following symbolic links (`statx` through the
/// driver).
///
/// # Errors
///
/// `NotFound` if it does not exist, `InvalidInput` for a path with a NUL byte, or another OS
/// error.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let metadata = runtime.block_on(proactor::fs::metadata("Cargo.toml"))?;
/// assert!(metadata.is_file());
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    sys::metadata(path.as_ref(), true).await
}

/// The metadata of the file at `path`, describing a symbolic link itself rather than its
/// target (`lstat`).
///
/// # Errors
///
/// As [`metadata`](fn@metadata).
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let metadata = runtime.block_on(proactor::fs::symlink_metadata("src"))?;
/// assert!(metadata.is_dir() && !metadata.is_symlink());
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    sys::metadata(path.as_ref(), false).await
}

/// Whether `path` exists (following symbolic links): `Ok(false)` only for `NotFound`.
///
/// # Errors
///
/// Errors other than `NotFound`, e.g. `PermissionDenied` for an unreadable parent directory.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// assert!(runtime.block_on(proactor::fs::try_exists("Cargo.toml"))?);
/// assert!(!runtime.block_on(proactor::fs::try_exists("no/such/file"))?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    match metadata(path).await {
        Ok(_) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// Renames `from` to `to`, replacing `to` if it is a file (`rename(2)`).
///
/// # Errors
///
/// `NotFound` if `from` does not exist, `EXDEV` across file systems, or another OS error.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-rename-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # std::fs::write(dir.join("old"), "x")?;
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::rename(dir.join("old"), dir.join("new")))?;
/// assert!(dir.join("new").exists() && !dir.join("old").exists());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    sys::rename(from.as_ref(), to.as_ref()).await
}

/// Removes a file or symbolic link (`unlink`).
///
/// # Errors
///
/// `NotFound` if it does not exist, an OS error for a directory, or another OS error.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("proactor-doc-remove-{}", std::process::id()));
/// # std::fs::write(&path, "x")?;
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::remove_file(&path))?;
/// assert!(!path.exists());
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    sys::remove_file(path.as_ref()).await
}

/// Creates a directory (mode `0o777` before the umask).
///
/// # Errors
///
/// `AlreadyExists` if the path exists, `NotFound` for a missing parent, or another OS error.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-mkdir-{}", std::process::id()));
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::create_dir(&dir))?;
/// assert!(dir.is_dir());
/// # std::fs::remove_dir(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    sys::create_dir(path.as_ref()).await
}

/// Creates a directory and any missing parents; an existing directory is fine.
///
/// # Errors
///
/// An OS error, e.g. when a component exists as a file.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-mkdirs-{}", std::process::id()));
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::create_dir_all(dir.join("a/b/c")))?;
/// assert!(dir.join("a/b/c").is_dir());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path.as_ref(), std::fs::create_dir_all).await
}

/// Removes an empty directory.
///
/// # Errors
///
/// `DirectoryNotEmpty` (`ENOTEMPTY`) if it holds entries, `NotFound`, or another OS error.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-rmdir-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::remove_dir(&dir))?;
/// assert!(!dir.exists());
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    sys::remove_dir(path.as_ref()).await
}

/// Removes a directory and everything in it (symbolic links are removed, not followed).
///
/// # Errors
///
/// `NotFound` if it does not exist, or the first OS error met.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-rmdirs-{}", std::process::id()));
/// # std::fs::create_dir_all(dir.join("inner"))?;
/// # std::fs::write(dir.join("inner/file"), "x")?;
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::remove_dir_all(&dir))?;
/// assert!(!dir.exists());
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path.as_ref(), std::fs::remove_dir_all).await
}

/// Lists a directory: see [`ReadDir`].
///
/// # Errors
///
/// `NotFound` if it does not exist, `NotADirectory` (`ENOTDIR`) for a file, or another OS
/// error.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let mut entries = proactor::fs::read_dir("src").await?;
///     assert!(entries.next_entry().await?.is_some());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let entries = on_path(path.as_ref(), std::fs::read_dir).await?;
    Ok(ReadDir::new(entries))
}

/// Makes `link` a new name for the file `original` (`link(2)`).
///
/// # Errors
///
/// `AlreadyExists` if `link` exists, `NotFound` if `original` does not, or another OS error.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-link-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # std::fs::write(dir.join("original"), "x")?;
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::hard_link(dir.join("original"), dir.join("link")))?;
/// assert_eq!(std::fs::read(dir.join("link"))?, b"x");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    sys::hard_link(original.as_ref(), link.as_ref()).await
}

/// Makes `link` a symbolic link to `original` (which need not exist).
///
/// # Errors
///
/// `AlreadyExists` if `link` exists, or another OS error.
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-symlink-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::symlink("target", dir.join("link")))?;
/// assert_eq!(std::fs::read_link(dir.join("link"))?, std::path::Path::new("target"));
/// # std::fs::remove_dir_all(&dir)?;
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    sys::symlink(original.as_ref(), link.as_ref()).await
}

/// What a symbolic link points to.
///
/// # Errors
///
/// `InvalidInput` (`EINVAL`) if `path` is not a symbolic link, `NotFound`, or another OS
/// error.
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-readlink-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # std::os::unix::fs::symlink("somewhere", dir.join("link"))?;
/// let runtime = proactor::Runtime::new()?;
/// let target = runtime.block_on(proactor::fs::read_link(dir.join("link")))?;
/// assert_eq!(target, std::path::Path::new("somewhere"));
/// # std::fs::remove_dir_all(&dir)?;
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path(path.as_ref(), std::fs::read_link).await
}

/// The absolute path of `path` with every symbolic link, `.` and `..` resolved
/// (`realpath`).
///
/// # Errors
///
/// `NotFound` if the path (or a link target on it) does not exist, or another OS error.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let path = runtime.block_on(proactor::fs::canonicalize("src/../Cargo.toml"))?;
/// assert!(path.is_absolute() && path.ends_with("Cargo.toml"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path(path.as_ref(), std::fs::canonicalize).await
}

/// Copies the contents and permission bits of the file `from` to `to` (created or
/// truncated); returns the number of bytes copied. On Linux the kernel copies
/// (`copy_file_range`, which may share extents on file systems that can), falling back to
/// a read/write loop where it cannot; elsewhere it is [`std::fs::copy`].
///
/// # Errors
///
/// `NotFound` if `from` does not exist, `InvalidInput` if it is not a regular file (or, on
/// Linux, if `to` is the same file), or another OS error.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-copy-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # std::fs::write(dir.join("from"), "copied")?;
/// let runtime = proactor::Runtime::new()?;
/// let count = runtime.block_on(proactor::fs::copy(dir.join("from"), dir.join("to")))?;
/// assert_eq!(count, 6);
/// assert_eq!(std::fs::read(dir.join("to"))?, b"copied");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    on_paths(from.as_ref(), to.as_ref(), |from, to| {
        sys::copy_blocking(&from, &to)
    })
    .await
}

/// Changes the permissions of the file at `path`, following symbolic links (`chmod`).
///
/// # Errors
///
/// `NotFound`, `PermissionDenied` if the caller does not own the file, or another OS error.
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// use std::os::unix::fs::PermissionsExt;
///
/// # let path = std::env::temp_dir().join(format!("proactor-doc-chmod-{}", std::process::id()));
/// # std::fs::write(&path, "x")?;
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::set_permissions(&path, proactor::fs::Permissions::from_mode(0o640)))?;
/// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o640);
/// # std::fs::remove_file(&path)?;
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, permissions: Permissions) -> io::Result<()> {
    on_path(path.as_ref(), move |path| {
        std::fs::set_permissions(path, permissions)
    })
    .await
}

/// Changes the owner and/or group of the file at `path`, following symbolic links; `None`
/// leaves that ID unchanged (`chown`).
///
/// Unix only: Windows files have owners and ACLs, not user and group IDs.
///
/// # Errors
///
/// `PermissionDenied` (`EPERM`) without the privilege to give the file away, `NotFound`, or
/// another OS error.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("proactor-doc-chown-{}", std::process::id()));
/// # std::fs::write(&path, "x")?;
/// let runtime = proactor::Runtime::new()?;
/// // Changing nothing is always allowed for an existing file.
/// runtime.block_on(proactor::fs::chown(&path, None, None))?;
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(unix)]
pub async fn chown(path: impl AsRef<Path>, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    on_path(path.as_ref(), move |path| {
        std::os::unix::fs::chown(path, uid, gid)
    })
    .await
}

/// As [`chown`], but changes a symbolic link itself rather than its target (`lchown`).
///
/// Unix only, as [`chown`].
///
/// # Errors
///
/// As [`chown`].
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-lchown-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # std::os::unix::fs::symlink("dangling", dir.join("link"))?;
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::lchown(dir.join("link"), None, None))?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(unix)]
pub async fn lchown(path: impl AsRef<Path>, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    on_path(path.as_ref(), move |path| {
        std::os::unix::fs::lchown(path, uid, gid)
    })
    .await
}

/// As [`chown`], for an open file (`fchown`).
///
/// Unix only, as [`chown`].
///
/// # Errors
///
/// As [`chown`].
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let file = proactor::fs::File::open("Cargo.toml").await?;
///     proactor::fs::fchown(&file, None, None).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(unix)]
pub async fn fchown(file: &File, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    file.chown(uid, gid).await
}

/// Sets the access and/or modification times of the file at `path`, following symbolic
/// links (`utimensat`; libuv's `utime`). For an open file see [`File::set_times`].
///
/// # Errors
///
/// `InvalidInput` for a time the platform cannot represent, `NotFound`, `PermissionDenied`,
/// or another OS error.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use proactor::fs::FileTimes;
///
/// # let path = std::env::temp_dir().join(format!("proactor-doc-utime-{}", std::process::id()));
/// # std::fs::write(&path, "x")?;
/// let time = UNIX_EPOCH + Duration::from_secs(1_234_567_890);
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::set_times(&path, FileTimes::new().set_accessed(time)))?;
/// assert_eq!(std::fs::metadata(&path)?.accessed()?, time);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn set_times(path: impl AsRef<Path>, times: FileTimes) -> io::Result<()> {
    sys::set_times(path.as_ref(), times, true).await
}

/// As [`set_times`], but changes a symbolic link itself rather than its target (libuv's
/// `lutime`).
///
/// # Errors
///
/// As [`set_times`].
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// use std::time::{Duration, UNIX_EPOCH};
/// use proactor::fs::FileTimes;
///
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-lutime-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # std::os::unix::fs::symlink("dangling", dir.join("link"))?;
/// let time = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::set_symlink_times(dir.join("link"), FileTimes::new().set_modified(time)))?;
/// assert_eq!(std::fs::symlink_metadata(dir.join("link"))?.modified()?, time);
/// # std::fs::remove_dir_all(&dir)?;
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn set_symlink_times(path: impl AsRef<Path>, times: FileTimes) -> io::Result<()> {
    sys::set_times(path.as_ref(), times, false).await
}

/// Checks that the calling process may access `path` as `mode` asks, with its real user and
/// group IDs (`faccessat`); `Ok(())` means it may.
///
/// On Windows, with libuv's rules: the path must exist, and `WRITE` is refused for a file
/// (not a directory) with the read-only attribute; Windows decides the rest by ACLs when a
/// file is opened.
///
/// # Errors
///
/// `PermissionDenied` if it may not, `NotFound` if the path does not exist, or another OS
/// error.
///
/// # Examples
///
/// ```
/// use proactor::fs::AccessMode;
///
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(proactor::fs::access("Cargo.toml", AccessMode::READ))?;
/// let missing = runtime.block_on(proactor::fs::access("no/such/file", AccessMode::EXISTS));
/// assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn access(path: impl AsRef<Path>, mode: AccessMode) -> io::Result<()> {
    sys::access(path.as_ref(), mode).await
}

/// Statistics of the file system holding `path` (`statvfs`).
///
/// On Windows, the volume's (`GetDiskFreeSpaceExW`): blocks are clusters, and `files` and
/// `files_free` are 0, as Windows counts no inodes.
///
/// # Errors
///
/// `NotFound`, or another OS error.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let stats = runtime.block_on(proactor::fs::statfs("/"))?;
/// assert!(stats.blocks > 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn statfs(path: impl AsRef<Path>) -> io::Result<StatFs> {
    sys::statfs(path.as_ref()).await
}

/// Creates a new directory (mode `0o700`) named by `template` with its trailing `XXXXXX`
/// replaced by unique characters, and returns its path (`mkdtemp`).
///
/// On Windows the mode has no meaning, and the name is filled with random letters and
/// digits, retried while it exists (`CreateDirectoryW`).
///
/// # Errors
///
/// `InvalidInput` if the template does not end in `XXXXXX` or holds a NUL byte, `NotFound`
/// for a missing parent, or another OS error.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let dir = runtime.block_on(proactor::fs::mkdtemp(std::env::temp_dir().join("proactor-doc-XXXXXX")))?;
/// assert!(dir.is_dir());
/// assert!(!dir.ends_with("proactor-doc-XXXXXX"));
/// # std::fs::remove_dir(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn mkdtemp(template: impl AsRef<Path>) -> io::Result<PathBuf> {
    sys::mkdtemp(template.as_ref()).await
}

/// Creates and opens (for reading and writing) a new file (mode `0o600`) named by
/// `template` with its trailing `XXXXXX` replaced by unique characters; returns the file
/// and its path (`mkstemp`). The file is not removed automatically.
///
/// On Windows, as [`mkdtemp`] (`CreateFileW` with `CREATE_NEW`).
///
/// # Errors
///
/// As [`mkdtemp`].
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let (file, path) = runtime.block_on(async {
///     let (file, path) = proactor::fs::mkstemp(std::env::temp_dir().join("proactor-doc-XXXXXX")).await?;
///     file.write_all_at(b"scratch".to_vec(), 0).await.0?;
///     Ok::<_, std::io::Error>((file, path))
/// })?;
/// assert_eq!(std::fs::read(&path)?, b"scratch");
/// # drop(file);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn mkstemp(template: impl AsRef<Path>) -> io::Result<(File, PathBuf)> {
    let (descriptor, path) = sys::mkstemp(template.as_ref()).await?;
    Ok((File::from_descriptor(descriptor, false), path))
}
