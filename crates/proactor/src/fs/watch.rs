//! File system events: [`watch`] a file or a directory tree and receive [`Event`]s as it
//! changes, or [`poll_watch`] one path's metadata on a timer where the file system sends no
//! notifications (network and FUSE mounts, `/proc`).
//!
//! Each OS's native mechanism is chosen below, and nowhere else (the table is on [`watch`]).
//!
//! # Examples
//!
//! ```
//! use proactor::fs::{self, Event};
//!
//! # let dir = std::env::temp_dir().join(format!("proactor-doc-watch-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! proactor::Runtime::new()?.block_on(async {
//!     let mut watcher = fs::watch(&dir, false).await?;
//!     fs::write(dir.join("new.txt"), b"hello".to_vec()).await?;
//!     assert_eq!(watcher.next_event().await?, Some(Event::Created(dir.join("new.txt"))));
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

// The native watcher of each OS: a module providing `Watcher`, which implements `Native`.
#[cfg(any(kqueue, all(test, unix)))]
mod listing;
#[cfg(any(target_os = "linux", target_os = "android"))]
#[path = "watch/inotify.rs"]
mod native;
#[cfg(kqueue)]
#[path = "watch/kqueue.rs"]
mod native;
#[cfg(windows)]
#[path = "watch/windows.rs"]
mod native;
#[cfg(not(any(target_os = "linux", target_os = "android", kqueue, windows)))]
#[path = "watch/unsupported.rs"]
mod native;
mod poll;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What every native watcher provides; the compiler holds each OS's module to it.
trait Native: Sized {
    /// Starts watching `path` (the whole tree under it if `recursive`); `NotFound` if it does
    /// not exist.
    async fn open(path: PathBuf, recursive: bool) -> io::Result<Self>;

    /// The next change, or `None` once nothing is watched any more (the watched path was
    /// removed). Cancel-safe: a dropped call loses no event.
    async fn next_event(&mut self) -> io::Result<Option<Event>>;
}

/// One change under a watched path, reported by a [`Watcher`].
///
/// Paths are the watched path joined with the names below it, as given to [`watch`] (not
/// canonicalized).
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use proactor::fs::Event;
///
/// let event = Event::Renamed { from: "a.txt".into(), to: "b.txt".into() };
/// assert_eq!(event.path(), Some(Path::new("b.txt")));
/// assert_eq!(Event::Overflow.path(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// A file, directory or link was created (or, for a directory that appeared in a
    /// recursive watch, was found inside it).
    Created(PathBuf),
    /// A file's contents or anyone's metadata (permissions, times, owner, links) changed.
    Modified(PathBuf),
    /// A file, directory or link was removed.
    Removed(PathBuf),
    /// Renamed within the watched tree, both names known.
    Renamed {
        /// The old name.
        from: PathBuf,
        /// The new name.
        to: PathBuf,
    },
    /// Renamed away, new name unknown: moved out of the watched tree, or the watched path
    /// itself was moved.
    RenamedFrom(PathBuf),
    /// Renamed into the watched tree from a name outside it.
    RenamedTo(PathBuf),
    /// The OS dropped events (its queue was full): what is on disk may differ from what the
    /// events said. Look again; the watcher goes on reporting.
    Overflow,
}

impl Event {
    /// The path the event is about as it is now named (the new name of a rename); `None` for
    /// [`Overflow`](Event::Overflow).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use proactor::fs::Event;
    ///
    /// assert_eq!(Event::Removed("gone".into()).path(), Some(Path::new("gone")));
    /// ```
    pub fn path(&self) -> Option<&Path> {
        match self {
            Event::Created(path)
            | Event::Modified(path)
            | Event::Removed(path)
            | Event::RenamedFrom(path)
            | Event::RenamedTo(path)
            | Event::Renamed { to: path, .. } => Some(path),
            Event::Overflow => None,
        }
    }
}

/// A stream of [`Event`]s under a path: made by [`watch`] (the OS's notifications) or
/// [`poll_watch`] (metadata compared on a timer).
///
/// Dropping it stops the watch and frees its descriptors.
///
/// # Examples
///
/// ```
/// use proactor::fs::{self, Event};
///
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-watcher-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # std::fs::write(dir.join("old"), b"")?;
/// proactor::Runtime::new()?.block_on(async {
///     let mut watcher = fs::watch(&dir, true).await?;
///     fs::rename(dir.join("old"), dir.join("new")).await?;
///     let event = watcher.next_event().await?;
///     assert_eq!(event, Some(Event::Renamed { from: dir.join("old"), to: dir.join("new") }));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Watcher {
    path: PathBuf,
    kind: Kind,
}

enum Kind {
    Native(native::Watcher),
    Poll(poll::PollWatcher),
}

impl Watcher {
    /// The next change, waiting for one; `Ok(None)` once the watcher has nothing left to
    /// watch (a native watcher whose watched path was removed; a polling watcher never ends).
    ///
    /// Events come in the order the OS reported them. A directory that appears in a
    /// recursive watch is watched from then on, and what it already holds when the watcher
    /// looks inside is reported as [`Created`](Event::Created) (once, even if the OS also
    /// reports it), so entries made just after the directory are not missed. That look runs
    /// on the thread pool, and the directory's own event waits for it: once the event is
    /// returned, the directory is watched.
    ///
    /// # Errors
    ///
    /// The OS error from reading events or from watching a new subdirectory (for instance
    /// `ENOSPC` when inotify's watch limit is reached); the watcher goes on after an error.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: an event that arrived while the future was pending is returned by the
    /// next call.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::fs::{self, Event};
    ///
    /// # let dir = std::env::temp_dir().join(format!("proactor-doc-next-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # std::fs::write(dir.join("file"), b"")?;
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut watcher = fs::watch(&dir, false).await?;
    ///     fs::remove_file(dir.join("file")).await?;
    ///     assert_eq!(watcher.next_event().await?, Some(Event::Removed(dir.join("file"))));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn next_event(&mut self) -> io::Result<Option<Event>> {
        match &mut self.kind {
            Kind::Native(native) => native.next_event().await,
            Kind::Poll(poll) => poll.next_event().await.map(Some),
        }
    }

    /// The watched path, as given.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let watcher = proactor::fs::poll_watch("/", Duration::from_secs(1)).await?;
    ///     assert_eq!(watcher.path(), std::path::Path::new("/"));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher")
            .field("path", &self.path)
            .field(
                "kind",
                &match self.kind {
                    Kind::Native(_) => "native",
                    Kind::Poll(_) => "poll",
                },
            )
            .finish()
    }
}

/// Watches `path`, a file or a directory, with the OS's notifications; with `recursive`, a
/// directory's whole tree, including subdirectories made later.
///
/// A directory watch reports changes to its entries (and, recursive, to theirs); a file
/// watch reports changes to the file. Setting up (for a tree, one watch per directory) runs
/// on the thread pool, and so does every later look at the file system: walking a directory
/// that appears in a recursive watch, walking the whole tree again after an
/// [`Overflow`](Event::Overflow), listing a directory that changed (kqueue). The runtime's
/// other tasks run meanwhile.
///
/// Each OS has one native mechanism:
///
/// | OS | mechanism |
/// |---|---|
/// | Linux, Android | inotify: one descriptor per watcher, read through the driver; one watch per directory |
/// | macOS, iOS, the BSDs | kqueue `EVFILT_VNODE`: one descriptor per watched file or directory, on a kqueue of the watcher's own that the driver polls; directories are listed again when they change to name what changed |
/// | Windows | `ReadDirectoryChangesW` on one directory handle, overlapped through the driver's completion port; the kernel watches the subtree itself; a file is watched through its parent, filtered by name |
/// | others | none: [`watch`] fails with `Unsupported`; [`poll_watch`] works |
///
/// With kqueue, an entry moved into the tree from outside is reported as
/// [`Created`](Event::Created) (nothing tells the two apart), and one moved out as
/// [`RenamedFrom`](Event::RenamedFrom) when it was a watched file or directory, as
/// [`Removed`](Event::Removed) otherwise. With inotify, the watch of a moved root follows it,
/// and paths keep the name it was watched under.
///
/// # Errors
///
/// `NotFound` if `path` does not exist, `InvalidInput` if it holds a NUL byte, `Unsupported`
/// on an OS without a native watcher (use [`poll_watch`]), or another OS error (for instance
/// `ENOSPC` when inotify's per-user watch limit is reached, `EMFILE` at its instance limit).
///
/// # Examples
///
/// ```
/// use proactor::fs::{self, Event};
///
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-watchfn-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// proactor::Runtime::new()?.block_on(async {
///     let mut watcher = fs::watch(&dir, true).await?;
///     fs::create_dir(dir.join("sub")).await?;
///     assert_eq!(watcher.next_event().await?, Some(Event::Created(dir.join("sub"))));
///     fs::write(dir.join("sub/file"), b"x".to_vec()).await?;
///     assert_eq!(watcher.next_event().await?, Some(Event::Created(dir.join("sub/file"))));
///
///     let missing = fs::watch(dir.join("missing"), false).await.unwrap_err();
///     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn watch(path: impl AsRef<Path>, recursive: bool) -> io::Result<Watcher> {
    let path = super::owned_path(path.as_ref())?;
    let native = native::Watcher::open(path.clone(), recursive).await?;
    Ok(Watcher {
        path,
        kind: Kind::Native(native),
    })
}

/// Watches `path`'s metadata by looking at it every `interval` (libuv's `fs_poll`): for file
/// systems that send no notifications, on every OS.
///
/// Each look is one `stat` on the thread pool, following symbolic links. It reports
/// [`Created`](Event::Created) when the path appears, [`Removed`](Event::Removed) when it
/// disappears, and [`Modified`](Event::Modified) when its size, modification or change time,
/// inode, device, mode or owner differ from the last look. Changes between two looks that
/// undo each other are not seen; the path itself is watched, not the entries of a directory
/// (a directory's times change when entries are added or removed, though).
///
/// # Errors
///
/// `NotFound` if `path` does not exist now, `InvalidInput` if it holds a NUL byte or
/// `interval` is zero, or the OS error from `stat`. Later errors other than `NotFound` come
/// from [`Watcher::next_event`], once each time the error starts.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use proactor::fs::{self, Event};
///
/// # let dir = std::env::temp_dir().join(format!("proactor-doc-poll-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let file = dir.join("file");
/// # std::fs::write(&file, b"")?;
/// proactor::Runtime::new()?.block_on(async {
///     let mut watcher = fs::poll_watch(&file, Duration::from_millis(10)).await?;
///     fs::write(&file, b"longer now".to_vec()).await?;
///     assert_eq!(watcher.next_event().await?, Some(Event::Modified(file.clone())));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn poll_watch(path: impl AsRef<Path>, interval: Duration) -> io::Result<Watcher> {
    let path = super::owned_path(path.as_ref())?;
    let poll = poll::PollWatcher::open(path.clone(), interval).await?;
    Ok(Watcher {
        path,
        kind: Kind::Poll(poll),
    })
}
