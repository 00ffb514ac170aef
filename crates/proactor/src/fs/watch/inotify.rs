//! inotify (Linux): one non-blocking inotify descriptor per watcher, read through the driver
//! like a pipe (`Op::Read`: in the ring on io_uring, on readiness on epoll), so a cancelled
//! read keeps its bytes for the next. One watch per directory; a recursive watcher adds one
//! for each subdirectory, at the start and later as they appear (and looks at the whole tree
//! again after an overflow), always walking on the thread pool: a big tree, or a slow file
//! system, would otherwise stall every task of the runtime for the walk's length.
//!
//! Records are variable-length (a 16-byte header, then a NUL-padded name); they are decoded
//! from the byte buffer field by field, never through a pointer cast, so alignment does not
//! matter.

use std::collections::{HashMap, VecDeque};
use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Event, Native};
use crate::blocking::{self, BlockingHandle};
use crate::net::{Descriptor, Stream};
use crate::time;

/// What every watch asks for.
const MASK: u32 = libc::IN_CREATE
    | libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    // No events for entries already unlinked but still open somewhere.
    | libc::IN_EXCL_UNLINK;
/// Subdirectories of a recursive watch: not through a symbolic link, and not if the name
/// was replaced by something other than a directory meanwhile.
const SUBDIR_MASK: u32 = MASK | libc::IN_ONLYDIR | libc::IN_DONT_FOLLOW;
/// `struct inotify_event` without its name.
const HEADER: usize = 16;
/// Room for each read: many records (a record is at most `HEADER` + `NAME_MAX` + 1 bytes,
/// and the kernel refuses reads with less room than the next record needs).
const READ_SIZE: usize = 16 * 1024;
/// Room left after a read that shows the kernel's queue was emptied by it.
const DRAINED: usize = HEADER + 256;
/// How long the first half of a rename waits for its second half when it ended a read (the
/// kernel queues both halves at once, but a read may fall between them).
const PAIR_WINDOW: Duration = Duration::from_millis(5);

pub(in crate::fs) struct Watcher {
    /// The inotify descriptor, closed through the driver when dropped.
    stream: Stream,
    /// A walk running on the pool. Decoding stops at the record that started it until its
    /// result is merged, so later records find the watches it added and the entries it
    /// reported (`found`), as if it had run in place. Kept here so that a call dropped while
    /// it runs loses nothing: the next call waits for the same walk. Boxed: the handle is
    /// large, and most watchers never walk after the start.
    walk: Option<Box<Walk>>,
    root_wd: i32,
    recursive: bool,
    /// The path each watch descriptor stands for.
    dirs: HashMap<i32, PathBuf>,
    /// Bytes read but not yet decoded: empty, except for a record split by a cancelled read
    /// and the records after one that started a walk.
    bytes: Vec<u8>,
    /// Whether the read whose records are being decoded emptied the kernel's queue; acted on
    /// once all of them are decoded.
    drained: bool,
    ready: VecDeque<io::Result<Event>>,
    /// The first half of a rename, waiting for its second.
    moved_from: Option<MovedFrom>,
    /// Entries a look inside a new directory reported as created, with the read during
    /// which it looked. One made after the directory's watch was added and before the look
    /// also has a creation event queued: that one is a duplicate and is skipped. All such
    /// events were queued before the look ended, so an entry is forgotten after the first
    /// later read that empties the kernel's queue.
    found: HashMap<PathBuf, u64>,
    /// Reads so far.
    reads: u64,
}

struct Walk {
    handle: BlockingHandle<Walked>,
    /// The event that revealed what is walked (a new directory, an overflow), held back
    /// until the walk ends: whoever sees it may rely on what it revealed being watched, as
    /// when walks ran in place.
    event: Event,
}

/// What a walk did: the watches it added, and the entries it found if it was asked to report
/// them; an error stopped it where it was.
#[derive(Default)]
struct Walked {
    dirs: Vec<(i32, PathBuf)>,
    created: Vec<PathBuf>,
    error: Option<io::Error>,
}

struct MovedFrom {
    cookie: u32,
    path: PathBuf,
    is_dir: bool,
}

/// One decoded record.
struct Record<'a> {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: &'a [u8],
}

impl Native for Watcher {
    async fn open(path: PathBuf, recursive: bool) -> io::Result<Watcher> {
        let (fd, root_wd, dirs) = blocking::run(move || start(&path, recursive)).await?;
        Ok(Watcher {
            stream: Stream::pipe(Descriptor::adopt(fd)),
            walk: None,
            root_wd,
            recursive,
            dirs,
            bytes: Vec::new(),
            drained: false,
            ready: VecDeque::new(),
            moved_from: None,
            found: HashMap::new(),
            reads: 0,
        })
    }

    async fn next_event(&mut self) -> io::Result<Option<Event>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return event.map(Some);
            }
            if self.dirs.is_empty() && self.moved_from.is_none() && self.walk.is_none() {
                return Ok(None);
            }
            self.fill().await?;
        }
    }
}

/// Makes the inotify descriptor and the watches (blocking: runs on the pool).
fn start(path: &Path, recursive: bool) -> io::Result<(OwnedFd, i32, HashMap<i32, PathBuf>)> {
    // SAFETY: plain syscall with flag arguments.
    let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: inotify_init1 made this descriptor and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let root_wd = add_watch(fd.as_raw_fd(), path, MASK)?;
    let mut below = Vec::new();
    if recursive && std::fs::metadata(path)?.is_dir() {
        watch_tree(fd.as_raw_fd(), path, &mut below, None)?;
    }
    let mut dirs = HashMap::from([(root_wd, path.to_path_buf())]);
    dirs.extend(below);
    Ok((fd, root_wd, dirs))
}

fn add_watch(fd: RawFd, path: &Path, mask: u32) -> io::Result<i32> {
    let name = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    let wd = unsafe { libc::inotify_add_watch(fd, name.as_ptr(), mask) };
    if wd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(wd)
}

/// Whether an error means the entry went away while we looked (not worth reporting).
fn gone(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::ENOENT) | Some(libc::ENOTDIR)
    )
}

/// Watches every directory below `dir`, depth first, adding them to `dirs`; with `report`,
/// adds each entry found to it.
fn watch_tree(
    fd: RawFd,
    dir: &Path,
    dirs: &mut Vec<(i32, PathBuf)>,
    mut report: Option<&mut Vec<PathBuf>>,
) -> io::Result<()> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if gone(&error) => continue,
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) if gone(&error) => continue,
                Err(error) => return Err(error),
            };
            let path = entry.path();
            if let Some(report) = report.as_deref_mut() {
                report.push(path.clone());
            }
            // The entry's own type, not a link's target: links are not followed.
            if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                continue;
            }
            match add_watch(fd, &path, SUBDIR_MASK) {
                Ok(wd) => {
                    dirs.push((wd, path.clone()));
                    pending.push(path);
                }
                Err(error) if gone(&error) => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(())
}

/// Watches `top` itself if `watch_top`, then every directory below it; with `report`, lists
/// the entries it finds (blocking: runs on the pool).
fn walk(fd: RawFd, top: &Path, watch_top: bool, report: bool) -> Walked {
    let mut walked = Walked::default();
    if watch_top {
        match add_watch(fd, top, SUBDIR_MASK) {
            Ok(wd) => walked.dirs.push((wd, top.to_path_buf())),
            Err(error) if gone(&error) => return walked,
            Err(error) => {
                walked.error = Some(error);
                return walked;
            }
        }
    }
    let report = report.then_some(&mut walked.created);
    if let Err(error) = watch_tree(fd, top, &mut walked.dirs, report) {
        walked.error = Some(error);
    }
    walked
}

/// Decodes the record at the start of `bytes`, and its length; `None` if `bytes` holds only
/// part of one.
fn decode(bytes: &[u8]) -> Option<(Record<'_>, usize)> {
    let field = |at: usize| -> Option<[u8; 4]> { bytes.get(at..at + 4)?.try_into().ok() };
    let wd = i32::from_ne_bytes(field(0)?);
    let mask = u32::from_ne_bytes(field(4)?);
    let cookie = u32::from_ne_bytes(field(8)?);
    let len = u32::from_ne_bytes(field(12)?) as usize;
    let padded = bytes.get(HEADER..HEADER.checked_add(len)?)?;
    // The name is NUL-padded to the record's length.
    let name = padded.split(|&byte| byte == 0).next().unwrap_or_default();
    Some((
        Record {
            wd,
            mask,
            cookie,
            name,
        },
        HEADER + len,
    ))
}

impl Watcher {
    fn fd(&self) -> RawFd {
        self.stream.descriptor().fd()
    }

    /// Reads what the kernel has (waiting for it) and turns it into events; or, while a walk
    /// runs, waits for it and goes on decoding the records after the one that started it.
    async fn fill(&mut self) -> io::Result<()> {
        if let Some(walk) = &mut self.walk {
            let walked = (&mut walk.handle).await;
            // Merged in the same poll that saw the walk end: a dropped call merges nothing
            // and the next one waits for the walk again.
            if let Some(walk) = self.walk.take() {
                self.merge(walk.event, walked);
            }
            self.decode_records();
            return Ok(());
        }
        let mut buffer = std::mem::take(&mut self.bytes);
        buffer.reserve(READ_SIZE);
        let room = buffer.capacity() - buffer.len();
        self.reads += 1;
        // A rename's first half waits only briefly for its second; a cancelled read keeps
        // its bytes in the stream for the next, and holds no undecoded ones (`bytes` is only
        // non-empty when the rest of a record is sure to follow).
        let (result, buffer) = if self.moved_from.is_some() && buffer.is_empty() {
            let read = time::timeout(PAIR_WINDOW, self.stream.read(buffer)).await;
            match read {
                Ok(read) => read,
                Err(_) => {
                    self.flush_moved_from();
                    return Ok(());
                }
            }
        } else {
            self.stream.read(buffer).await
        };
        self.bytes = buffer;
        let count = result?;
        if count == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the inotify descriptor ended",
            ));
        }
        self.drained = room - count.min(room) >= DRAINED;
        self.decode_records();
        Ok(())
    }

    /// Handles the records in `bytes`, up to one that starts a walk: the rest wait for it.
    fn decode_records(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        let mut at = 0;
        while self.walk.is_none() {
            let Some((record, len)) = bytes.get(at..).and_then(decode) else {
                break;
            };
            self.handle(&record);
            at += len;
        }
        self.bytes = bytes;
        self.bytes.drain(..at);
        if self.walk.is_none() && self.drained {
            // The read emptied the queue after every walk before it ended, so it held the
            // duplicates of all they found; a walk of this read may still have some coming.
            self.drained = false;
            let reads = self.reads;
            self.found.retain(|_, looked| *looked == reads);
        }
    }

    /// Starts a walk on the pool (see [`walk`]) for what `event` revealed; decoding, and
    /// `event`, wait for it.
    fn start_walk(&mut self, event: Event, top: PathBuf, watch_top: bool, report: bool) {
        // The walk gets a duplicate of the descriptor, so that a watcher dropped meanwhile
        // (its descriptor closed, and the number perhaps reused) cannot leave it adding
        // watches to something else. Without one (out of descriptors), it runs here, as it
        // always did.
        // SAFETY: the descriptor belongs to `self.stream`, open while `self` lives; the
        // borrow ends with this statement.
        let duplicate = unsafe { BorrowedFd::borrow_raw(self.fd()) }.try_clone_to_owned();
        match duplicate {
            Ok(duplicate) => {
                let work = move || walk(duplicate.as_raw_fd(), &top, watch_top, report);
                let handle = blocking::spawn_blocking(work);
                self.walk = Some(Box::new(Walk { handle, event }));
            }
            Err(_) => {
                let walked = walk(self.fd(), &top, watch_top, report);
                self.merge(event, Ok(walked));
            }
        }
    }

    /// Reports `event` and takes in what the walk it started did, at the place in the event
    /// stream where it started.
    fn merge(&mut self, event: Event, walked: io::Result<Walked>) {
        self.ready.push_back(Ok(event));
        let walked = match walked {
            Ok(walked) => walked,
            Err(error) => return self.ready.push_back(Err(error)),
        };
        self.dirs.extend(walked.dirs);
        for path in walked.created {
            self.found.insert(path.clone(), self.reads);
            self.ready.push_back(Ok(Event::Created(path)));
        }
        if let Some(error) = walked.error {
            self.ready.push_back(Err(error));
        }
    }

    fn handle(&mut self, record: &Record<'_>) {
        if record.mask & libc::IN_Q_OVERFLOW != 0 {
            self.flush_moved_from();
            // Directories made while events were dropped are not watched yet.
            match self.dirs.get(&self.root_wd) {
                Some(root) if self.recursive => {
                    let root = root.clone();
                    self.start_walk(Event::Overflow, root, false, false);
                }
                _ => self.ready.push_back(Ok(Event::Overflow)),
            }
            return;
        }
        if record.mask & libc::IN_IGNORED != 0 {
            // The watch is gone (its directory was removed, or unmounted, or we removed it).
            self.dirs.remove(&record.wd);
            return;
        }
        let Some(dir) = self.dirs.get(&record.wd) else {
            return; // A watch removed since the kernel queued the record.
        };
        let path = if record.name.is_empty() {
            dir.clone()
        } else {
            dir.join(OsStr::from_bytes(record.name))
        };
        let is_dir = record.mask & libc::IN_ISDIR != 0;
        let is_root = record.wd == self.root_wd;
        let found = self.found.remove(&path).is_some();
        if record.mask & libc::IN_MOVED_TO != 0 {
            match self.moved_from.take() {
                Some(from) if from.cookie == record.cookie => {
                    if from.is_dir {
                        self.renamed_dir(&from.path, &path);
                    }
                    self.ready.push_back(Ok(Event::Renamed {
                        from: from.path,
                        to: path,
                    }));
                }
                other => {
                    self.moved_from = other;
                    self.flush_moved_from();
                    if is_dir && self.recursive {
                        self.watch_new_dir(Event::RenamedTo(path.clone()), path, false);
                    } else {
                        self.ready.push_back(Ok(Event::RenamedTo(path)));
                    }
                }
            }
            return;
        }
        self.flush_moved_from();
        let mask = record.mask;
        if mask & libc::IN_MOVED_FROM != 0 {
            self.moved_from = Some(MovedFrom {
                cookie: record.cookie,
                path,
                is_dir,
            });
        } else if mask & libc::IN_CREATE != 0 {
            if found {
                return; // Reported, and watched if a directory, by the look that found it.
            }
            if is_dir && self.recursive {
                self.watch_new_dir(Event::Created(path.clone()), path, true);
            } else {
                self.ready.push_back(Ok(Event::Created(path)));
            }
        } else if mask & (libc::IN_MODIFY | libc::IN_ATTRIB) != 0 {
            self.ready.push_back(Ok(Event::Modified(path)));
        } else if mask & libc::IN_DELETE != 0 {
            self.ready.push_back(Ok(Event::Removed(path)));
        } else if mask & libc::IN_DELETE_SELF != 0 && is_root {
            // A subdirectory's own removal was already reported by its parent.
            self.ready.push_back(Ok(Event::Removed(path)));
        } else if mask & libc::IN_MOVE_SELF != 0 && is_root {
            // The watch follows the moved root; paths keep the name it was watched under.
            self.ready.push_back(Ok(Event::RenamedFrom(path)));
        }
    }

    /// Reports a rename's first half whose second half did not come: moved out of the tree,
    /// whose directories (if it was one) are no longer watched.
    fn flush_moved_from(&mut self) {
        let Some(from) = self.moved_from.take() else {
            return;
        };
        if from.is_dir {
            let fd = self.fd();
            let root_wd = self.root_wd;
            self.dirs.retain(|&wd, path| {
                let below = wd != root_wd && path.starts_with(&from.path);
                if below {
                    // SAFETY: plain syscall; a stale watch descriptor gives EINVAL, nothing else.
                    unsafe { libc::inotify_rm_watch(fd, wd) };
                }
                !below
            });
        }
        self.ready.push_back(Ok(Event::RenamedFrom(from.path)));
    }

    /// A directory in the tree was renamed: its watches (and those below) keep working under
    /// the new name.
    fn renamed_dir(&mut self, from: &Path, to: &Path) {
        for path in self.dirs.values_mut() {
            if let Ok(rest) = path.strip_prefix(from) {
                *path = to.join(rest);
            }
        }
    }

    /// Watches a directory that appeared in a recursive watch (reported by `event`), and
    /// everything below it; with `report`, its entries are reported as created (they may
    /// predate the watch).
    fn watch_new_dir(&mut self, event: Event, path: PathBuf, report: bool) {
        self.start_walk(event, path, true, report);
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    fn record(wd: i32, mask: u32, cookie: u32, name: &[u8], padded: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&wd.to_ne_bytes());
        bytes.extend_from_slice(&mask.to_ne_bytes());
        bytes.extend_from_slice(&cookie.to_ne_bytes());
        bytes.extend_from_slice(&(padded as u32).to_ne_bytes());
        bytes.extend_from_slice(name);
        bytes.resize(16 + padded, 0);
        bytes
    }

    #[test]
    fn decodes_records_at_any_alignment() {
        let mut bytes = vec![0xAA]; // An odd start: the records are not aligned.
        bytes.extend(record(3, libc::IN_CREATE, 0, b"file.txt", 16));
        bytes.extend(record(4, libc::IN_MOVED_FROM, 77, b"", 0));
        let (first, len) = decode(&bytes[1..]).unwrap();
        assert_eq!(
            (first.wd, first.mask, first.name),
            (3, libc::IN_CREATE, &b"file.txt"[..])
        );
        assert_eq!(len, 32);
        let (second, len) = decode(&bytes[1 + 32..]).unwrap();
        assert_eq!((second.wd, second.cookie, second.name), (4, 77, &b""[..]));
        assert_eq!(len, 16);
    }

    #[test]
    fn a_partial_record_waits_for_the_rest() {
        let bytes = record(1, libc::IN_DELETE, 0, b"name", 16);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        assert!(decode(&bytes).is_some());
        // A length field claiming more than a usize can hold does not overflow.
        let mut huge = record(1, 0, 0, b"", 0);
        huge[12..16].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(decode(&huge).is_none());
    }
}
