//! kqueue `EVFILT_VNODE` (macOS, iOS, the BSDs): each watched file and directory is an open
//! descriptor (`O_EVTONLY` on Apple systems, so it does not keep a volume from unmounting)
//! registered on a kqueue of the watcher's own. That kqueue is itself a pollable descriptor:
//! the watcher waits for it through the driver with `Op::Poll` and then collects its events
//! with a zero-timeout `kevent`. So no new driver capability is needed, and a cancelled wait
//! loses nothing (the events stay queued in the kqueue).
//!
//! A vnode event says *that* a directory changed, not which entry: the directory is listed
//! again and compared with its last listing. Entries that left and entries that appeared in
//! the same batch with the same inode are a rename; an entry that left is `RenamedFrom` when
//! its own descriptor saw `NOTE_RENAME` (moved out of the tree) and `Removed` otherwise. An
//! entry moved in from outside the tree is reported as `Created` (nothing tells it apart).
//!
//! Costs: one descriptor per watched file and directory (a tree is bounded by
//! `RLIMIT_NOFILE`). Listings, and walks of what appeared, run on the pool with the whole
//! [`Tree`] handed over (a big directory, or a slow file system, would otherwise stall every
//! task of the runtime); so does the first walk of the tree.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use proactor_driver::Op;

use super::listing::{gone, list, Change, Differences, Entry, Listing};
use super::{Event, Native};
use crate::blocking::{self, BlockingHandle};
use crate::net::Descriptor;
use crate::runtime::op;

/// What each watched descriptor reports.
const NOTES: u32 = libc::NOTE_DELETE
    | libc::NOTE_WRITE
    | libc::NOTE_EXTEND
    | libc::NOTE_ATTRIB
    | libc::NOTE_LINK
    | libc::NOTE_RENAME
    | libc::NOTE_REVOKE;
/// Events taken per `kevent` call.
const BATCH: usize = 64;

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos"
))]
const OPEN_FLAGS: libc::c_int = libc::O_EVTONLY | libc::O_CLOEXEC | libc::O_NONBLOCK;
#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos"
)))]
const OPEN_FLAGS: libc::c_int = libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK;

pub(in crate::fs) struct Watcher {
    /// The watcher's kqueue, closed through the driver when dropped.
    kqueue: Descriptor,
    /// Empty while `settling` has it.
    tree: Tree,
    /// The tree, on the pool to name what changed in a batch of events. Kept here so that a
    /// call dropped meanwhile loses nothing: the next call waits for the same work. Boxed:
    /// the handle is large, and only there while directories are listed.
    settling: Option<Box<BlockingHandle<Settled>>>,
    ready: VecDeque<io::Result<Event>>,
}

/// What is watched; built on the pool, then owned by the watcher (and lent to the pool for
/// listings).
#[derive(Default)]
struct Tree {
    root: PathBuf,
    recursive: bool,
    /// Every watched file and directory, by its descriptor (the event's `ident`).
    nodes: HashMap<RawFd, Node>,
}

struct Node {
    /// Held open for its events (its number is the node's key); closing it removes its
    /// registration from the kqueue.
    _fd: OwnedFd,
    path: PathBuf,
    /// A directory's entries as last listed; `None` for a file.
    entries: Option<Listing>,
}

/// What one collection of the kqueue's events found, left for [`Tree::settle`].
struct Batch {
    /// Directories whose entries changed: to be listed again.
    changed_dirs: Vec<RawFd>,
    /// Paths whose own descriptor saw `NOTE_RENAME`.
    renamed: HashSet<PathBuf>,
    /// Descriptors whose file or directory was deleted or revoked.
    deleted: Vec<RawFd>,
}

/// The tree back from the pool, with the events it settled on.
type Settled = (Tree, VecDeque<io::Result<Event>>);

impl Native for Watcher {
    async fn open(path: PathBuf, recursive: bool) -> io::Result<Watcher> {
        let (kqueue, tree) = blocking::run(move || start(path, recursive)).await?;
        Ok(Watcher {
            kqueue: Descriptor::adopt(kqueue),
            tree,
            settling: None,
            ready: VecDeque::new(),
        })
    }

    async fn next_event(&mut self) -> io::Result<Option<Event>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return event.map(Some);
            }
            if let Some(settling) = &mut self.settling {
                let settled = settling.as_mut().await;
                // Taken back in the same poll that saw the work end: a dropped call takes
                // nothing, and the next one waits for the same work.
                self.settling = None;
                match settled {
                    Ok((tree, mut events)) => {
                        self.tree = tree;
                        self.ready.append(&mut events);
                    }
                    // Only if the work panicked: the tree is lost, and the stream ends.
                    Err(error) => self.ready.push_back(Err(error)),
                }
                continue;
            }
            if self.tree.nodes.is_empty() {
                return Ok(None);
            }
            op::submit(Op::Poll {
                fd: self.kqueue.fd(),
                writable: false,
            })
            .await
            .result?;
            self.collect()?;
        }
    }
}

/// Makes the kqueue and watches the tree (blocking: runs on the pool).
fn start(root: PathBuf, recursive: bool) -> io::Result<(OwnedFd, Tree)> {
    // SAFETY: plain syscall without arguments.
    let raw = unsafe { libc::kqueue() };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: kqueue made this descriptor and nothing else owns it.
    let kqueue = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: plain fcntl on the descriptor just made.
    if unsafe { libc::fcntl(raw, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut tree = Tree {
        root: root.clone(),
        recursive,
        nodes: HashMap::new(),
    };
    let is_dir = std::fs::metadata(&root)?.is_dir();
    tree.watch(raw, root, is_dir, None)?;
    Ok((kqueue, tree))
}

fn open_event_only(path: &Path) -> io::Result<OwnedFd> {
    let name = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    // SAFETY: `name` is NUL-terminated and outlives the call.
    let raw = unsafe { libc::open(name.as_ptr(), OPEN_FLAGS) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: open made this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Registers `fd` for vnode events on `kqueue`.
fn register(kqueue: RawFd, fd: RawFd) -> io::Result<()> {
    // SAFETY: an all-zero kevent is a valid value (no filter data, null udata).
    let mut change: libc::kevent = unsafe { std::mem::zeroed() };
    change.ident = fd as _;
    change.filter = libc::EVFILT_VNODE as _;
    change.flags = (libc::EV_ADD | libc::EV_CLEAR) as _;
    change.fflags = NOTES as _;
    // SAFETY: one valid change in, no event list out, a null timeout.
    let result = unsafe {
        libc::kevent(
            kqueue,
            &change,
            1,
            std::ptr::null_mut(),
            0,
            std::ptr::null(),
        )
    };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Tree {
    /// Watches `path` and, if it is a directory, its files (and, recursive, everything
    /// below); with `report`, everything found below `path` is reported as created. Entries
    /// below `path` that vanish meanwhile are skipped.
    fn watch(
        &mut self,
        kqueue: RawFd,
        path: PathBuf,
        is_dir: bool,
        mut report: Option<&mut VecDeque<io::Result<Event>>>,
    ) -> io::Result<()> {
        let top = path.clone();
        let mut pending = vec![(path, is_dir)];
        while let Some((path, is_dir)) = pending.pop() {
            let watched = open_event_only(&path).and_then(|fd| {
                register(kqueue, fd.as_raw_fd())?;
                let entries = if is_dir { Some(list(&path)?) } else { None };
                Ok((fd, entries))
            });
            let (fd, entries) = match watched {
                Ok(watched) => watched,
                Err(error) if path != top && gone(&error) => continue,
                Err(error) => return Err(error),
            };
            for (name, entry) in entries.iter().flatten() {
                let child = path.join(name);
                if let Some(report) = report.as_deref_mut() {
                    report.push_back(Ok(Event::Created(child.clone())));
                }
                if self.wants(entry) {
                    pending.push((child, entry.is_dir));
                }
            }
            self.nodes.insert(
                fd.as_raw_fd(),
                Node {
                    _fd: fd,
                    path,
                    entries,
                },
            );
        }
        Ok(())
    }

    /// Whether an entry of a watched directory gets a descriptor of its own: files, for
    /// changes to their contents; subdirectories only in a recursive watch. Other kinds
    /// (links, sockets, devices) are seen only in their directory's listing.
    fn wants(&self, entry: &Entry) -> bool {
        entry.is_file || (entry.is_dir && self.recursive)
    }

    /// Like [`watch`](Tree::watch) for something that appeared later: if it vanished
    /// meanwhile nothing is reported, other errors are.
    fn watch_new(
        &mut self,
        kqueue: RawFd,
        path: PathBuf,
        is_dir: bool,
        ready: &mut VecDeque<io::Result<Event>>,
        report: bool,
    ) {
        let mut found = VecDeque::new();
        let result = self.watch(kqueue, path, is_dir, report.then_some(&mut found));
        ready.append(&mut found);
        match result {
            Err(error) if !gone(&error) => ready.push_back(Err(error)),
            _ => {}
        }
    }

    /// Stops watching `path` and everything below it.
    fn unwatch(&mut self, path: &Path) {
        self.nodes.retain(|_, node| !node.path.starts_with(path));
    }

    /// Renames `from` (and everything below it) to `to`.
    fn rename(&mut self, from: &Path, to: &Path) {
        for node in self.nodes.values_mut() {
            if let Ok(rest) = node.path.strip_prefix(from) {
                node.path = to.join(rest);
            }
        }
    }

    /// Names what changed in `batch` (blocking when directories changed: it lists them, and
    /// walks what appeared in them).
    fn settle(&mut self, kqueue: RawFd, batch: Batch, ready: &mut VecDeque<io::Result<Event>>) {
        self.compare(kqueue, &batch.changed_dirs, &batch.renamed, ready);
        for fd in batch.deleted {
            let Some(node) = self.nodes.remove(&fd) else {
                continue;
            };
            if node.path == self.root {
                // Its parent is not watched, so nobody else reports it.
                ready.push_back(Ok(Event::Removed(node.path)));
                self.nodes.clear();
            }
        }
        if batch.renamed.contains(&self.root) {
            // The descriptor follows the moved root; paths keep the name it was watched under.
            ready.push_back(Ok(Event::RenamedFrom(self.root.clone())));
        }
    }

    /// Lists the changed directories again and reports what differs from their last
    /// listings; renames pair up across all of them.
    fn compare(
        &mut self,
        kqueue: RawFd,
        dirs: &[RawFd],
        renamed: &HashSet<PathBuf>,
        ready: &mut VecDeque<io::Result<Event>>,
    ) {
        let mut differences = Differences::default();
        for fd in dirs {
            let Some(node) = self.nodes.get_mut(fd) else {
                continue;
            };
            let now = match list(&node.path) {
                Ok(now) => now,
                Err(error) if gone(&error) => continue, // Its own NOTE_DELETE follows.
                Err(error) => {
                    ready.push_back(Err(error));
                    continue;
                }
            };
            let before = node.entries.take().unwrap_or_default();
            differences.add(&node.path, &before, &now);
            node.entries = Some(now);
        }
        for change in differences.changes() {
            match change {
                Change::Left(path) => {
                    self.unwatch(&path);
                    ready.push_back(Ok(if renamed.contains(&path) {
                        Event::RenamedFrom(path)
                    } else {
                        Event::Removed(path)
                    }));
                }
                Change::Renamed { from, to } => {
                    self.rename(&from, &to);
                    ready.push_back(Ok(Event::Renamed { from, to }));
                }
                Change::Appeared(path, entry) => {
                    ready.push_back(Ok(Event::Created(path.clone())));
                    if self.wants(&entry) {
                        self.watch_new(kqueue, path, entry.is_dir, ready, entry.is_dir);
                    }
                }
            }
        }
    }
}

impl Watcher {
    /// Takes every event the kqueue holds and turns them into [`Event`]s.
    fn collect(&mut self) -> io::Result<()> {
        let kqueue = self.kqueue.fd();
        let mut changed_dirs = Vec::new();
        let mut renamed = HashSet::new();
        let mut deleted = Vec::new();
        loop {
            // SAFETY: an all-zero kevent is a valid value; the kernel overwrites them.
            let mut events: [libc::kevent; BATCH] = unsafe { std::mem::zeroed() };
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `events` has room for BATCH events; a zero timeout never blocks.
            let count = unsafe {
                libc::kevent(
                    kqueue,
                    std::ptr::null(),
                    0,
                    events.as_mut_ptr(),
                    BATCH as _,
                    &zero,
                )
            };
            if count < 0 {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
            for event in &events[..count as usize] {
                let fd = event.ident as RawFd;
                let Some(node) = self.tree.nodes.get(&fd) else {
                    continue; // Closed since the kernel queued the event.
                };
                let notes = event.fflags as u32;
                let is_dir = node.entries.is_some();
                if notes & (libc::NOTE_DELETE | libc::NOTE_REVOKE) != 0 {
                    deleted.push(fd);
                    continue;
                }
                if notes & libc::NOTE_RENAME != 0 {
                    renamed.insert(node.path.clone());
                }
                if is_dir && notes & (libc::NOTE_WRITE | libc::NOTE_LINK) != 0 {
                    changed_dirs.push(fd);
                }
                let modified = if is_dir {
                    libc::NOTE_ATTRIB
                } else {
                    libc::NOTE_WRITE | libc::NOTE_EXTEND | libc::NOTE_ATTRIB
                };
                if notes & modified != 0 {
                    self.ready.push_back(Ok(Event::Modified(node.path.clone())));
                }
            }
            if (count as usize) < BATCH {
                break;
            }
        }
        let batch = Batch {
            changed_dirs,
            renamed,
            deleted,
        };
        if batch.changed_dirs.is_empty() {
            // Nothing to list: no file system access, only bookkeeping.
            self.tree.settle(kqueue, batch, &mut self.ready);
            return Ok(());
        }
        // The work gets a duplicate of the kqueue, so that a watcher dropped meanwhile (its
        // kqueue closed, and the number perhaps reused) cannot leave it registering
        // descriptors on something else. Without one (out of descriptors), it runs here, as
        // it always did.
        // SAFETY: the kqueue belongs to `self.kqueue`, open while `self` lives; the borrow
        // ends with this statement.
        let duplicate = unsafe { BorrowedFd::borrow_raw(kqueue) }.try_clone_to_owned();
        match duplicate {
            Ok(duplicate) => {
                let mut tree = std::mem::take(&mut self.tree);
                let settling = blocking::spawn_blocking(move || {
                    let mut ready = VecDeque::new();
                    tree.settle(duplicate.as_raw_fd(), batch, &mut ready);
                    (tree, ready)
                });
                self.settling = Some(Box::new(settling));
            }
            Err(_) => self.tree.settle(kqueue, batch, &mut self.ready),
        }
        Ok(())
    }
}
