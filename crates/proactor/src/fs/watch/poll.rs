//! The polling watcher (libuv's `fs_poll`): one `stat` on the thread pool per interval,
//! compared with the last.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::Event;
use crate::{blocking, time};

/// What a look at the path found.
#[derive(Debug)]
enum Seen {
    Present(Snapshot),
    Missing,
    /// Another error (by kind), reported once when it starts.
    Failed(io::ErrorKind),
}

/// The metadata compared between looks.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    len: u64,
    modified: Option<SystemTime>,
    is_dir: bool,
    #[cfg(unix)]
    unix: UnixFields,
}

#[cfg(unix)]
#[derive(Debug, PartialEq, Eq)]
struct UnixFields {
    ino: u64,
    dev: u64,
    ctime: (i64, i64),
    mode: u32,
    uid: u32,
    gid: u32,
}

impl Snapshot {
    fn of(metadata: &std::fs::Metadata) -> Snapshot {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Snapshot {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            is_dir: metadata.is_dir(),
            #[cfg(unix)]
            unix: UnixFields {
                ino: metadata.ino(),
                dev: metadata.dev(),
                ctime: (metadata.ctime(), metadata.ctime_nsec()),
                mode: metadata.mode(),
                uid: metadata.uid(),
                gid: metadata.gid(),
            },
        }
    }
}

/// Looks at `path` (blocking: runs on the pool); the error for a failure other than
/// `NotFound`.
fn look(path: &std::path::Path) -> (Seen, Option<io::Error>) {
    match std::fs::metadata(path) {
        Ok(metadata) => (Seen::Present(Snapshot::of(&metadata)), None),
        Err(error) if error.kind() == io::ErrorKind::NotFound => (Seen::Missing, None),
        Err(error) => (Seen::Failed(error.kind()), Some(error)),
    }
}

pub(super) struct PollWatcher {
    path: PathBuf,
    interval: Duration,
    /// When the next look is due; kept across cancelled calls so cancelling never delays it.
    next: Instant,
    last: Seen,
}

impl PollWatcher {
    pub(super) async fn open(path: PathBuf, interval: Duration) -> io::Result<PollWatcher> {
        if interval.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the polling interval is zero",
            ));
        }
        let looked = path.clone();
        let metadata = blocking::run(move || std::fs::metadata(looked)).await?;
        Ok(PollWatcher {
            path,
            interval,
            // An interval past what the clock holds means never again.
            next: time::saturating_add(Instant::now(), interval),
            last: Seen::Present(Snapshot::of(&metadata)),
        })
    }

    pub(super) async fn next_event(&mut self) -> io::Result<Event> {
        loop {
            time::sleep_until(self.next).await;
            let path = self.path.clone();
            let (seen, error) = blocking::run(move || Ok(look(&path))).await?;
            // A slow look (or a long wait to be polled) does not cause a burst of looks.
            self.next = time::saturating_add(self.next, self.interval).max(Instant::now());
            let last = std::mem::replace(&mut self.last, seen);
            let path = || self.path.clone();
            match (&last, &self.last) {
                (Seen::Present(before), Seen::Present(now)) if before != now => {
                    return Ok(Event::Modified(path()))
                }
                (Seen::Present(_), Seen::Present(_)) => {}
                (Seen::Missing, Seen::Present(_)) => return Ok(Event::Created(path())),
                // Unknown in between: it may have changed.
                (Seen::Failed(_), Seen::Present(_)) => return Ok(Event::Modified(path())),
                (Seen::Present(_), Seen::Missing) => return Ok(Event::Removed(path())),
                (_, Seen::Missing) => {}
                (Seen::Failed(before), Seen::Failed(now)) if before == now => {}
                (_, Seen::Failed(_)) => {
                    if let Some(error) = error {
                        return Err(error);
                    }
                }
            }
        }
    }
}
