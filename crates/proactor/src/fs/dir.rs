//! Listing directories: [`ReadDir`] and [`DirEntry`].

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{FileType, Metadata};
use crate::blocking;

/// Entries read from the OS per trip to the thread pool.
const BATCH: usize = 64;

/// What a listing shares with the pool jobs that read it.
struct Listing {
    /// std's iterator, until it is exhausted.
    entries: Option<std::fs::ReadDir>,
    /// Entries (or errors) read but not yet returned.
    ready: VecDeque<io::Result<DirEntry>>,
}

fn lock(listing: &Mutex<Listing>) -> MutexGuard<'_, Listing> {
    listing.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The entries of a directory, from [`read_dir`](super::read_dir): call
/// [`next_entry`](ReadDir::next_entry) until it gives `None`.
///
/// Entries are read in batches on the thread pool. `.` and `..` are skipped, and the order is
/// the file system's. Cancelling `next_entry` loses nothing: entries a cancelled call read are
/// returned by the next one.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// let names = runtime.block_on(async {
///     let mut entries = proactor::fs::read_dir(".").await?;
///     let mut names = Vec::new();
///     while let Some(entry) = entries.next_entry().await? {
///         names.push(entry.file_name());
///     }
///     Ok::<_, std::io::Error>(names)
/// })?;
/// assert!(names.iter().any(|name| name == "Cargo.toml"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ReadDir {
    listing: Arc<Mutex<Listing>>,
}

impl ReadDir {
    pub(crate) fn new(entries: std::fs::ReadDir) -> ReadDir {
        ReadDir {
            listing: Arc::new(Mutex::new(Listing {
                entries: Some(entries),
                ready: VecDeque::new(),
            })),
        }
    }

    /// The next entry, or `None` once every entry has been returned.
    ///
    /// # Errors
    ///
    /// An OS error met while reading the directory; the listing ends after it.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let mut entries = proactor::fs::read_dir("src").await?;
    ///     let mut count = 0;
    ///     while let Some(entry) = entries.next_entry().await? {
    ///         assert!(entry.path().starts_with("src"));
    ///         count += 1;
    ///     }
    ///     assert!(count > 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        loop {
            {
                let mut listing = lock(&self.listing);
                if let Some(entry) = listing.ready.pop_front() {
                    return entry.map(Some);
                }
                if listing.entries.is_none() {
                    return Ok(None);
                }
            }
            let listing = Arc::clone(&self.listing);
            blocking::run(move || {
                let mut listing = lock(&listing);
                for _ in 0..BATCH {
                    match listing.entries.as_mut().and_then(Iterator::next) {
                        Some(entry) => listing.ready.push_back(entry.map(DirEntry::from_std)),
                        None => {
                            listing.entries = None;
                            break;
                        }
                    }
                }
                Ok(())
            })
            .await?;
        }
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").finish_non_exhaustive()
    }
}

/// One entry of a directory listing.
///
/// # Examples
///
/// ```
/// let runtime = proactor::Runtime::new()?;
/// runtime.block_on(async {
///     let mut entries = proactor::fs::read_dir(".").await?;
///     while let Some(entry) = entries.next_entry().await? {
///         if entry.file_name() == "Cargo.toml" {
///             assert!(entry.file_type().await?.is_file());
///             assert_eq!(entry.path(), std::path::Path::new("./Cargo.toml"));
///         }
///     }
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct DirEntry {
    path: PathBuf,
    name: OsString,
    ino: u64,
    /// From the listing itself (`d_type`), when the file system reports it.
    file_type: Option<FileType>,
}

impl DirEntry {
    fn from_std(entry: std::fs::DirEntry) -> DirEntry {
        #[cfg(unix)]
        let ino = std::os::unix::fs::DirEntryExt::ino(&entry);
        // Windows lists no file IDs (std's `file_index` is unstable).
        #[cfg(windows)]
        let ino = 0;
        DirEntry {
            path: entry.path(),
            name: entry.file_name(),
            ino,
            file_type: entry.file_type().ok().map(FileType::from_std),
        }
    }

    /// The entry's full path: the listed directory's path joined with its name.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let entry = runtime.block_on(async { proactor::fs::read_dir("src").await?.next_entry().await })?;
    /// assert!(entry.unwrap().path().starts_with("src"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The entry's name within its directory.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let entry = runtime.block_on(async { proactor::fs::read_dir("src").await?.next_entry().await })?;
    /// let entry = entry.unwrap();
    /// assert_eq!(entry.path().file_name(), Some(entry.file_name().as_os_str()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn file_name(&self) -> OsString {
        self.name.clone()
    }

    /// The entry's inode number, as the listing reports it (0 on Windows).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// let entry = runtime.block_on(async { proactor::fs::read_dir("src").await?.next_entry().await })?;
    /// assert!(cfg!(windows) || entry.unwrap().ino() > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The entry's type, without following a symbolic link. Usually known from the listing
    /// itself; otherwise asked of the file system.
    ///
    /// # Errors
    ///
    /// The OS error of [`symlink_metadata`](super::symlink_metadata), when the listing did
    /// not say (e.g. `NotFound` if the entry was removed since).
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let mut entries = proactor::fs::read_dir(".").await?;
    ///     while let Some(entry) = entries.next_entry().await? {
    ///         if entry.file_name() == "src" {
    ///             assert!(entry.file_type().await?.is_dir());
    ///         }
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn file_type(&self) -> io::Result<FileType> {
        match self.file_type {
            Some(file_type) => Ok(file_type),
            None => Ok(self.metadata().await?.file_type()),
        }
    }

    /// The entry's metadata, without following a symbolic link (like
    /// [`std::fs::DirEntry::metadata`]).
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `NotFound` if the entry was removed since it was listed.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = proactor::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let mut entries = proactor::fs::read_dir(".").await?;
    ///     while let Some(entry) = entries.next_entry().await? {
    ///         if entry.file_name() == "Cargo.toml" {
    ///             assert!(entry.metadata().await?.len() > 0);
    ///         }
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        super::symlink_metadata(&self.path).await
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path).finish()
    }
}
