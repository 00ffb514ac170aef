//! Windows: `ReadDirectoryChangesW`, overlapped through the driver's completion port.
//!
//! One directory handle per watcher; the kernel watches the whole subtree itself when
//! `recursive` (no per-directory bookkeeping, unlike inotify). A file is watched through its
//! parent directory, keeping only the records that name it. The read in flight is kept in the
//! watcher, so a dropped `next_event` loses nothing: the next call waits for the same read.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::PathBuf;

use proactor_driver::windows::{directory_changes, open_directory, ChangeAction};
use proactor_driver::{Buffer, Op};

use super::{Event, Native};
use crate::blocking;
use crate::net::Descriptor;
use crate::runtime::op::{self, Submitted};

/// Bytes of records one read may return: the most a network share allows.
const BUFFER: usize = 64 * 1024;
/// FILE_NOTIFY_CHANGE_ FILE_NAME | DIR_NAME | ATTRIBUTES | SIZE | LAST_WRITE | CREATION |
/// SECURITY: every change inotify's set reports (last access is left out: reads are not
/// changes).
const FILTER: u32 = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x100;
/// ERROR_ACCESS_DENIED: what a pending read ends with once the watched directory is deleted.
const ACCESS_DENIED: i32 = 5;

pub(in crate::fs) struct Watcher {
    /// First, so it is dropped (cancelled) before the handle closes.
    pending: Option<Submitted>,
    directory: Descriptor,
    /// The watched path, as given (events are this joined with the names reported).
    root: PathBuf,
    /// Watching a file: only records of this name, in `root`'s parent, count.
    only: Option<OsString>,
    recursive: bool,
    /// The records' buffer between reads (its capacity is kept).
    buffer: Option<Vec<u8>>,
    events: VecDeque<Event>,
    ended: bool,
}

impl Native for Watcher {
    async fn open(path: PathBuf, recursive: bool) -> io::Result<Watcher> {
        let looked = path.clone();
        let (directory, only) = blocking::run(move || {
            let metadata = std::fs::metadata(&looked)?;
            if metadata.is_dir() {
                return Ok((open_directory(&looked)?, None));
            }
            let parent = match looked.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let name = looked.file_name().map(|name| name.to_os_string());
            Ok((open_directory(parent)?, name))
        })
        .await?;
        let mut watcher = Watcher {
            pending: None,
            directory: Descriptor::adopt(directory),
            root: path,
            recursive: recursive && only.is_none(),
            only,
            buffer: Some(Vec::with_capacity(BUFFER)),
            events: VecDeque::new(),
            ended: false,
        };
        // Windows records changes from the first ReadDirectoryChangesW on, not from the
        // open: start reading now, so what happens before the first `next_event` is kept.
        watcher.read();
        Ok(watcher)
    }

    async fn next_event(&mut self) -> io::Result<Option<Event>> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            if self.ended {
                return Ok(None);
            }
            // The next read is started before this batch's events are handed out (below),
            // so no change falls between two reads.
            let pending = self.read();
            let completion = pending.await;
            self.pending = None;
            let buffer = completion
                .op
                .into_buffer()
                .and_then(|buffer| buffer.into_vec().ok());
            match completion.result {
                // The system's buffer overflowed: changes were lost.
                Ok(0) => self.events.push_back(Event::Overflow),
                Ok(count) => {
                    if let Some(records) = buffer.as_deref() {
                        self.translate(&records[..count.min(records.len())]);
                    }
                }
                Err(error) if error.raw_os_error() == Some(ACCESS_DENIED) => {
                    // The watched directory is gone (or being deleted): nothing left to watch.
                    self.ended = true;
                    self.events.push_back(Event::Removed(self.root.clone()));
                }
                Err(error) => {
                    self.buffer = buffer;
                    return Err(error);
                }
            }
            self.buffer = buffer;
            if !self.ended {
                self.read();
            }
        }
    }
}

impl Watcher {
    /// The read in flight, started if there is none.
    fn read(&mut self) -> &mut Submitted {
        if self.pending.is_none() {
            let mut buffer = self.buffer.take().unwrap_or_default();
            buffer.clear();
            buffer.reserve(BUFFER);
            self.pending = Some(op::submit(Op::ReadDirectoryChanges {
                dir: self.directory.fd(),
                buf: Buffer::from(buffer),
                recursive: self.recursive,
                filter: FILTER,
            }));
        }
        self.pending.as_mut().expect("a read in flight")
    }

    /// Turns one read's records into events, pairing the two halves of a rename.
    fn translate(&mut self, records: &[u8]) {
        let mut renamed_from: Option<PathBuf> = None;
        for change in directory_changes(records) {
            let path = match &self.only {
                Some(only) if &change.name != only => continue,
                Some(_) => self.root.clone(),
                None => self.root.join(&change.name),
            };
            if let Some(from) = renamed_from.take() {
                if change.action == ChangeAction::RenamedTo {
                    self.events.push_back(Event::Renamed { from, to: path });
                    continue;
                }
                self.events.push_back(Event::RenamedFrom(from));
            }
            match change.action {
                ChangeAction::Added => self.events.push_back(Event::Created(path)),
                ChangeAction::Removed => self.events.push_back(Event::Removed(path)),
                ChangeAction::Modified => self.events.push_back(Event::Modified(path)),
                ChangeAction::RenamedFrom => renamed_from = Some(path),
                ChangeAction::RenamedTo => self.events.push_back(Event::RenamedTo(path)),
                _ => self.events.push_back(Event::Modified(path)),
            }
        }
        if let Some(from) = renamed_from {
            self.events.push_back(Event::RenamedFrom(from));
        }
        // A watched file that is gone (removed, or renamed away) leaves nothing to watch, as
        // inotify's watch of it ends.
        if self.only.is_some()
            && matches!(
                self.events.back(),
                Some(Event::Removed(_) | Event::RenamedFrom(_) | Event::Renamed { .. })
            )
        {
            self.ended = true;
        }
    }
}
