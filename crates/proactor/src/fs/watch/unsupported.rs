//! No native watcher on this OS yet: [`watch`](super::watch) fails with `Unsupported`, and
//! [`poll_watch`](super::poll_watch) is the way to watch.

use std::io;
use std::path::PathBuf;

use super::{Event, Native};

/// Never made.
pub(in crate::fs) enum Watcher {}

impl Native for Watcher {
    async fn open(_path: PathBuf, _recursive: bool) -> io::Result<Watcher> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no native file system watcher on this OS; use fs::poll_watch",
        ))
    }

    async fn next_event(&mut self) -> io::Result<Option<Event>> {
        match *self {}
    }
}
