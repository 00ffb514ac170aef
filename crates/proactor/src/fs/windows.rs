//! Windows: the driver has no path operations here, so opening and every path operation run
//! std's calls on the thread pool; reads and writes at offsets are the driver's overlapped
//! `ReadFile`/`WriteFile`, which is why every file is opened with `FILE_FLAG_OVERLAPPED`.

use std::ffi::OsString;
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

// FILE_FLAG_OVERLAPPED: the driver's reads and writes on a file handle need it.
// FILE_FLAG_BACKUP_SEMANTICS: lets a directory be opened as a file (for its metadata and
// times), as libuv does. FILE_FLAG_OPEN_REPARSE_POINT: opens a symbolic link itself rather
// than its target. FILE_WRITE_ATTRIBUTES: the only access setting a file's times needs.
use windows_sys::Win32::Storage::FileSystem::{
    FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT, FILE_FLAG_OVERLAPPED,
    FILE_WRITE_ATTRIBUTES,
};

use proactor_driver::Fd;

use super::{on_path, on_paths, AccessMode, File, FileTimes, Metadata, OpenOptions, StatFs};
use crate::net::Descriptor;

/// Opens `path` with std on the pool (`CreateFileW`); `options` are already checked. The
/// handle comes back owned by a `std::fs::File`, so an open whose future is dropped closes
/// it when the job ends. The mode bits of [`OpenOptions::mode`] have no Windows meaning
/// and are ignored; [`OpenOptions::custom_flags`] are `FILE_FLAG_*` values.
pub(super) async fn open(options: &OpenOptions, path: &Path) -> io::Result<Descriptor> {
    let mut flags = FILE_FLAG_OVERLAPPED | options.custom_flags as u32;
    if !(options.write || options.append) {
        // A directory opens for reading, as on Unix; for writing it stays an error.
        flags |= FILE_FLAG_BACKUP_SEMANTICS;
    }
    let mut std_options = std::fs::OpenOptions::new();
    std_options
        .read(options.read)
        .write(options.write)
        .append(options.append)
        .truncate(options.truncate)
        .create(options.create)
        .create_new(options.create_new)
        .custom_flags(flags);
    let file = on_path(path, move |path| std_options.open(path)).await?;
    Ok(Descriptor::adopt(file))
}

/// Windows has no kernel check that a path stays beneath a directory (`NtCreateFile` with a
/// root directory still follows reparse points anywhere).
pub(super) async fn open_beneath(
    _options: &OpenOptions,
    _dir: Fd,
    _path: &Path,
) -> io::Result<Descriptor> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "opening beneath a directory needs Linux 5.6 or FreeBSD 13",
    ))
}

/// Where a cursor write of a file opened for appending goes: the driver has no file
/// position on Windows, and an offset of `0xFFFFFFFF_FFFFFFFF` is `WriteFile`'s documented
/// "write at the end of the file".
pub(super) const APPEND_OFFSET: Option<u64> = Some(u64::MAX);

/// A std file as the driver needs it (reopened overlapped if it was not), and whether it
/// was opened for appending.
pub(super) fn from_std(file: std::fs::File) -> (std::fs::File, bool) {
    crate::sys::overlapped_file(file)
}

/// Opens `path` for its attributes only (no data access, so no sharing conflict), as std's
/// own `metadata` does.
fn open_for_attributes(path: &Path, follow: bool) -> io::Result<std::fs::File> {
    let mut flags = FILE_FLAG_BACKUP_SEMANTICS;
    if !follow {
        flags |= FILE_FLAG_OPEN_REPARSE_POINT;
    }
    std::fs::OpenOptions::new()
        .access_mode(0)
        .custom_flags(flags)
        .open(path)
}

/// std's metadata of an open file with what std leaves out (volume, file index, links).
fn metadata_of(file: &std::fs::File) -> io::Result<Metadata> {
    Ok(Metadata::from_std(
        &file.metadata()?,
        crate::sys::file_ids(file)?,
    ))
}

/// The metadata of the file at `path`, of a symbolic link itself unless `follow`.
pub(super) async fn metadata(path: &Path, follow: bool) -> io::Result<Metadata> {
    on_path(path, move |path| {
        metadata_of(&open_for_attributes(&path, follow)?)
    })
    .await
}

/// The metadata of an open file (`GetFileInformationByHandle`, on the pool).
pub(super) async fn file_metadata(file: &File) -> io::Result<Metadata> {
    file.on_pool(|file| metadata_of(&file)).await
}

pub(super) async fn rename(from: &Path, to: &Path) -> io::Result<()> {
    on_paths(from, to, std::fs::rename).await
}

pub(super) async fn remove_file(path: &Path) -> io::Result<()> {
    on_path(path, std::fs::remove_file).await
}

pub(super) async fn create_dir(path: &Path) -> io::Result<()> {
    on_path(path, std::fs::create_dir).await
}

pub(super) async fn remove_dir(path: &Path) -> io::Result<()> {
    on_path(path, std::fs::remove_dir).await
}

pub(super) async fn hard_link(original: &Path, link: &Path) -> io::Result<()> {
    on_paths(original, link, std::fs::hard_link).await
}

/// A directory symbolic link if `original` (relative to `link`'s directory, as the OS
/// resolves it) is a directory now, a file symbolic link otherwise: Windows fixes the kind
/// when the link is made.
pub(super) async fn symlink(original: &Path, link: &Path) -> io::Result<()> {
    on_paths(original, link, |original, link| {
        let target = match link.parent() {
            Some(parent) if original.is_relative() => parent.join(&original),
            _ => original.clone(),
        };
        if target.is_dir() {
            std::os::windows::fs::symlink_dir(original, link)
        } else {
            std::os::windows::fs::symlink_file(original, link)
        }
    })
    .await
}

/// libuv's `access` on Windows: the path must exist, and a file (not a directory) with the
/// read-only attribute refuses `WRITE`.
pub(super) async fn access(path: &Path, mode: AccessMode) -> io::Result<()> {
    let metadata = on_path(path, std::fs::metadata).await?;
    if mode.contains(AccessMode::WRITE) && metadata.permissions().readonly() && !metadata.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the file is read-only",
        ));
    }
    Ok(())
}

/// Sets the times of the file at `path`, of a symbolic link itself unless `follow`.
pub(super) async fn set_times(path: &Path, times: FileTimes, follow: bool) -> io::Result<()> {
    let mut flags = FILE_FLAG_BACKUP_SEMANTICS;
    if !follow {
        flags |= FILE_FLAG_OPEN_REPARSE_POINT;
    }
    on_path(path, move |path| {
        let file = std::fs::OpenOptions::new()
            .access_mode(FILE_WRITE_ATTRIBUTES)
            .custom_flags(flags)
            .open(path)?;
        set_file_times(&file, times)
    })
    .await
}

/// Sets the times of an open file (`SetFileTime`), on the pool.
pub(super) fn set_file_times(file: &std::fs::File, times: FileTimes) -> io::Result<()> {
    file.set_times(times.to_std())
}

/// `CopyFileExW`: contents, attributes and alternate streams. Refused, as on Unix, for a
/// source that is not a regular file or is the destination itself.
pub(super) fn copy_blocking(from: &Path, to: &Path) -> io::Result<u64> {
    let source = open_for_attributes(from, true)?;
    if !source.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the source of a copy must be a regular file",
        ));
    }
    if let Ok(target) = open_for_attributes(to, true) {
        let (a, b) = (
            crate::sys::file_ids(&source)?,
            crate::sys::file_ids(&target)?,
        );
        if (a.volume, a.index) == (b.volume, b.index) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the source and destination of a copy are the same file",
            ));
        }
    }
    let permissions = source.metadata()?.permissions();
    std::fs::copy(from, to)?;
    // CopyFileExW copies the attributes, but Wine's leaves the read-only one out: set them.
    std::fs::set_permissions(to, permissions)?;
    // std counts the bytes in CopyFileExW's progress callback, which Wine never calls:
    // the copy's length is the count either way.
    Ok(std::fs::metadata(to)?.len())
}

/// How many names [`mkdtemp`] and [`mkstemp`] try before giving up (62^6 names each).
const ATTEMPTS: usize = 100;

/// `template`'s path without its trailing `XXXXXX`, in UTF-16.
fn template(template: &Path) -> io::Result<Vec<u16>> {
    let mut wide: Vec<u16> = template.as_os_str().encode_wide().collect();
    if wide.contains(&0) {
        return Err(super::nul_error());
    }
    if wide.len() < 6
        || wide[wide.len() - 6..]
            .iter()
            .any(|&unit| unit != u16::from(b'X'))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a temporary name template must end in XXXXXX",
        ));
    }
    wide.truncate(wide.len() - 6);
    Ok(wide)
}

/// `prefix` and six random letters and digits (std's randomly keyed hasher as the source).
fn candidate(prefix: &[u16]) -> PathBuf {
    use std::hash::{BuildHasher, Hasher};
    const CHARACTERS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos()),
    );
    let mut bits = hasher.finish();
    let mut name = prefix.to_vec();
    for _ in 0..6 {
        name.push(u16::from(CHARACTERS[(bits % 62) as usize]));
        bits /= 62;
    }
    PathBuf::from(OsString::from_wide(&name))
}

/// Makes the first unused name from `prefix` with `make`, retrying while names exist.
fn first_unused<T>(
    prefix: &[u16],
    mut make: impl FnMut(&Path) -> io::Result<T>,
) -> io::Result<(T, PathBuf)> {
    for _ in 0..ATTEMPTS {
        let path = candidate(prefix);
        match make(&path) {
            Ok(made) => return Ok((made, path)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no unused name found for the temporary name template",
    ))
}

/// A new directory with a unique name from `template` (`CreateDirectoryW`), on the pool.
pub(super) async fn mkdtemp(template: &Path) -> io::Result<PathBuf> {
    let prefix = self::template(template)?;
    on_path(template, move |_| {
        first_unused(&prefix, |path| std::fs::create_dir(path)).map(|((), path)| path)
    })
    .await
}

/// A new file, open for reading and writing, with a unique name from `template`
/// (`CreateFileW` with `CREATE_NEW`), on the pool.
pub(super) async fn mkstemp(template: &Path) -> io::Result<(Descriptor, PathBuf)> {
    let prefix = self::template(template)?;
    let (file, path) = on_path(template, move |_| {
        first_unused(&prefix, |path| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .custom_flags(FILE_FLAG_OVERLAPPED)
                .open(path)
        })
    })
    .await?;
    Ok((Descriptor::adopt(file), path))
}

/// The volume holding `path`, as `statvfs` reports a file system: blocks are clusters, and
/// Windows counts no inodes (`files` and `files_free` are 0).
pub(super) async fn statfs(path: &Path) -> io::Result<StatFs> {
    on_path(path, |path| {
        // GetDiskFreeSpaceExW takes a directory; a missing path is NotFound here.
        let dir = if std::fs::metadata(&path)?.is_dir() {
            path
        } else {
            path.parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let space = crate::sys::disk_space(&dir)?;
        Ok(StatFs {
            block_size: space.cluster,
            io_size: space.cluster,
            blocks: space.total / space.cluster,
            blocks_free: space.free / space.cluster,
            blocks_available: space.available / space.cluster,
            files: 0,
            files_free: 0,
            name_max: space.name_max,
        })
    })
    .await
}
