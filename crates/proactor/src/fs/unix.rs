//! Unix: opening and the path operations are driver operations (in the io_uring ring, or on
//! the pool where the backend or kernel lacks them); the rest is libc on the pool.

use std::ffi::OsString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use proactor_driver::{Fd, Op};

use super::{
    cstring, cvt, metadata_of, on_cpath, run, AccessMode, File, FileTimes, Metadata, OpenOptions,
    StatFs,
};
use crate::blocking;
use crate::net::Descriptor;
use crate::runtime::op;

/// Opens `path` (`openat`, through the driver); `options` are already checked.
pub(super) async fn open(options: &OpenOptions, path: &Path) -> io::Result<Descriptor> {
    let op = Op::open_at(None, path, open_flags(options), options.mode)?;
    let fd = op::submit(op).await.result?;
    Ok(Descriptor::from_driver(fd as Fd))
}

/// Opens `path` beneath the directory `dir` (`openat2(RESOLVE_BENEATH)` on Linux,
/// `O_RESOLVE_BENEATH` on FreeBSD, through the driver); `options` are already checked.
pub(super) async fn open_beneath(
    options: &OpenOptions,
    dir: Fd,
    path: &Path,
) -> io::Result<Descriptor> {
    let op = Op::open_beneath(dir, path, open_flags(options), options.mode)?;
    match op::submit(op).await.result {
        Ok(fd) => Ok(Descriptor::from_driver(fd as Fd)),
        Err(error) if is_escape(&error) => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} leads outside the directory", path.display()),
        )),
        Err(error) => Err(error),
    }
}

/// The error the kernel gives for a path that would leave the directory.
fn is_escape(error: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    let escape = libc::EXDEV;
    #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
    let escape = libc::ENOTCAPABLE;
    #[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "dragonfly")))]
    let escape = -1;
    error.raw_os_error() == Some(escape)
}

/// The `open(2)` flags `options` stand for.
fn open_flags(options: &OpenOptions) -> i32 {
    let access = match (options.read, options.write, options.append) {
        (_, _, true) if options.read => libc::O_RDWR | libc::O_APPEND,
        (_, _, true) => libc::O_WRONLY | libc::O_APPEND,
        (true, true, false) => libc::O_RDWR,
        (false, true, false) => libc::O_WRONLY,
        (_, false, false) => libc::O_RDONLY,
    };
    let creation = match (options.create, options.truncate, options.create_new) {
        (false, false, false) => 0,
        (true, false, false) => libc::O_CREAT,
        (false, true, false) => libc::O_TRUNC,
        (true, true, false) => libc::O_CREAT | libc::O_TRUNC,
        (_, _, true) => libc::O_CREAT | libc::O_EXCL,
    };
    access | creation | (options.custom_flags & !libc::O_ACCMODE)
}

/// Where a cursor write of a file opened for appending goes: the driver's "current
/// position", which `O_APPEND` makes the end.
pub(super) const APPEND_OFFSET: Option<u64> = None;

/// A std file as the driver takes it (as it is), and whether it was opened for appending
/// (`O_APPEND` in its status flags).
pub(super) fn from_std(file: std::fs::File) -> (std::fs::File, bool) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl(F_GETFL) only reads the flags of a descriptor `file` keeps open.
    let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
    (file, flags >= 0 && flags & libc::O_APPEND != 0)
}

/// The metadata of the file at `path` (`statx`), of a symbolic link itself unless `follow`.
pub(super) async fn metadata(path: &Path, follow: bool) -> io::Result<Metadata> {
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    let completion = op::submit(Op::statx(None, path, flags)?).await;
    completion.result?;
    Ok(metadata_of(completion.op))
}

/// The metadata of an open file (`statx` with an empty path).
pub(super) async fn file_metadata(file: &File) -> io::Result<Metadata> {
    let completion = op::submit(Op::statx(Some(file.fd()), "", 0)?).await;
    completion.result?;
    Ok(metadata_of(completion.op))
}

pub(super) async fn rename(from: &Path, to: &Path) -> io::Result<()> {
    run(Op::RenameAt {
        old_dir: None,
        old_path: cstring(from)?,
        new_dir: None,
        new_path: cstring(to)?,
        flags: 0,
    })
    .await
}

pub(super) async fn remove_file(path: &Path) -> io::Result<()> {
    run(Op::UnlinkAt {
        dir: None,
        path: cstring(path)?,
        flags: 0,
    })
    .await
}

pub(super) async fn create_dir(path: &Path) -> io::Result<()> {
    run(Op::MkDirAt {
        dir: None,
        path: cstring(path)?,
        mode: 0o777,
    })
    .await
}

pub(super) async fn remove_dir(path: &Path) -> io::Result<()> {
    run(Op::UnlinkAt {
        dir: None,
        path: cstring(path)?,
        flags: libc::AT_REMOVEDIR,
    })
    .await
}

pub(super) async fn hard_link(original: &Path, link: &Path) -> io::Result<()> {
    run(Op::LinkAt {
        old_dir: None,
        old_path: cstring(original)?,
        new_dir: None,
        new_path: cstring(link)?,
        flags: 0,
    })
    .await
}

pub(super) async fn symlink(original: &Path, link: &Path) -> io::Result<()> {
    run(Op::SymlinkAt {
        target: cstring(original)?,
        dir: None,
        link: cstring(link)?,
    })
    .await
}

/// Checks `mode` access to `path` with the real user and group IDs (`faccessat`).
pub(super) async fn access(path: &Path, mode: AccessMode) -> io::Result<()> {
    on_cpath(path, move |path| {
        // SAFETY: `path` is NUL-terminated and alive for the call.
        cvt(unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr(), mode.bits(), 0) }).map(drop)
    })
    .await
}

/// Statistics of the file system holding `path` (`statvfs`).
pub(super) async fn statfs(path: &Path) -> io::Result<StatFs> {
    on_cpath(path, |path| {
        let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: `path` is NUL-terminated; `stats` is writable memory of the right type, and
        // is read only after statvfs reported filling it.
        unsafe {
            cvt(libc::statvfs(path.as_ptr(), stats.as_mut_ptr()))?;
            Ok(StatFs::from_statvfs(stats.assume_init_ref()))
        }
    })
    .await
}

/// Sets the times of the file at `path` (`utimensat`), of a symbolic link itself unless
/// `follow`.
pub(super) async fn set_times(path: &Path, times: FileTimes, follow: bool) -> io::Result<()> {
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    let times = times.to_timespecs()?;
    on_cpath(path, move |path| {
        // SAFETY: `path` is NUL-terminated and `times` is an array of two timespecs, both
        // alive for the call.
        cvt(unsafe { libc::utimensat(libc::AT_FDCWD, path.as_ptr(), times.as_ptr(), flags) })
            .map(drop)
    })
    .await
}

/// Sets the times of an open file (`futimens`), on the pool.
pub(super) fn set_file_times(file: &std::fs::File, times: FileTimes) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let times = times.to_timespecs()?;
    // SAFETY: `file` keeps the descriptor open; `times` is an array of two timespecs.
    cvt(unsafe { libc::futimens(file.as_raw_fd(), times.as_ptr()) }).map(drop)
}

#[cfg(target_os = "linux")]
pub(super) fn copy_blocking(from: &Path, to: &Path) -> io::Result<u64> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

    let mut reader = std::fs::File::open(from)?;
    let metadata = reader.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the source of a copy must be a regular file",
        ));
    }
    let permissions = metadata.permissions();
    let mut writer = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(std::os::unix::fs::PermissionsExt::mode(&permissions))
        .open(to)?;
    // Truncating the destination first would empty a source that is the same file.
    let target = writer.metadata()?;
    if (target.dev(), target.ino()) == (metadata.dev(), metadata.ino()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the source and destination of a copy are the same file",
        ));
    }
    writer.set_len(0)?;
    writer.set_permissions(permissions)?;
    let mut copied: u64 = 0;
    loop {
        // SAFETY: both descriptors are open while `reader` and `writer` live; null offsets
        // make the kernel use and advance the files' own positions.
        let count = unsafe {
            libc::copy_file_range(
                reader.as_raw_fd(),
                std::ptr::null_mut(),
                writer.as_raw_fd(),
                std::ptr::null_mut(),
                1 << 30,
                0,
            )
        };
        match count {
            0 => return Ok(copied),
            count if count > 0 => copied += count as u64,
            _ => {
                let error = io::Error::last_os_error();
                let unsupported = matches!(
                    error.raw_os_error(),
                    Some(
                        libc::ENOSYS | libc::EXDEV | libc::EOPNOTSUPP | libc::EINVAL | libc::EPERM
                    )
                );
                if copied == 0 && unsupported {
                    // Nothing moved yet: both positions are still at 0.
                    return std::io::copy(&mut reader, &mut writer);
                }
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn copy_blocking(from: &Path, to: &Path) -> io::Result<u64> {
    std::fs::copy(from, to)
}

/// A C template ending in `XXXXXX`, as `mkdtemp`/`mkstemp` rewrite it in place.
fn template(path: &Path) -> io::Result<Vec<u8>> {
    let bytes = cstring(path)?.into_bytes_with_nul();
    if !bytes[..bytes.len() - 1].ends_with(b"XXXXXX") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a temporary name template must end in XXXXXX",
        ));
    }
    Ok(bytes)
}

/// The path a template became, without its NUL.
fn filled_template(mut bytes: Vec<u8>) -> PathBuf {
    bytes.pop();
    PathBuf::from(OsString::from_vec(bytes))
}

/// `mkdtemp(3)`, on the pool.
pub(super) async fn mkdtemp(template: &Path) -> io::Result<PathBuf> {
    let mut bytes = self::template(template)?;
    blocking::run(move || {
        // SAFETY: `bytes` is a writable, NUL-terminated buffer; mkdtemp rewrites its last
        // six characters in place and keeps its length.
        let result = unsafe { libc::mkdtemp(bytes.as_mut_ptr().cast()) };
        if result.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(filled_template(bytes))
    })
    .await
}

/// `mkstemp(3)` with close-on-exec, on the pool.
pub(super) async fn mkstemp(template: &Path) -> io::Result<(Descriptor, PathBuf)> {
    let mut bytes = self::template(template)?;
    let (fd, path) = blocking::run(move || {
        let fd = mkstemp_cloexec(&mut bytes)?;
        Ok((fd, filled_template(bytes)))
    })
    .await?;
    Ok((Descriptor::adopt(fd), path))
}

/// `mkstemp` with close-on-exec set.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
fn mkstemp_cloexec(bytes: &mut [u8]) -> io::Result<OwnedFd> {
    // SAFETY: `bytes` is a writable, NUL-terminated buffer that mkostemp rewrites in place.
    let fd = cvt(unsafe { libc::mkostemp(bytes.as_mut_ptr().cast(), libc::O_CLOEXEC) })?;
    // SAFETY: mkostemp just opened `fd`, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `mkstemp` with close-on-exec set (just after: the system lacks `mkostemp`).
#[cfg(all(unix, not(any(target_os = "linux", target_os = "freebsd"))))]
fn mkstemp_cloexec(bytes: &mut [u8]) -> io::Result<OwnedFd> {
    use std::os::fd::AsRawFd;
    // SAFETY: `bytes` is a writable, NUL-terminated buffer that mkstemp rewrites in place.
    let fd = cvt(unsafe { libc::mkstemp(bytes.as_mut_ptr().cast()) })?;
    // SAFETY: mkstemp just opened `fd`, and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: F_SETFD on a descriptor `fd` keeps open.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    Ok(fd)
}
