//! Naming what changed in directories by comparing their listings, for watchers whose OS
//! says only *that* a directory changed (kqueue). Kept apart from the kqueue code so it is
//! tested on every Unix.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};

/// One entry of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) ino: u64,
    pub(super) is_dir: bool,
    pub(super) is_file: bool,
}

/// A directory's entries by name.
pub(super) type Listing = HashMap<OsString, Entry>;

/// Whether an error means the entry went away while we looked (not worth reporting).
pub(super) fn gone(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::ENOENT) | Some(libc::ENOTDIR)
    )
}

/// Lists `dir` (each entry's own type: links are not followed).
pub(super) fn list(dir: &Path) -> io::Result<Listing> {
    let mut entries = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) if gone(&error) => continue,
            Err(error) => return Err(error),
        };
        let kind = entry.file_type().ok();
        entries.insert(
            entry.file_name(),
            Entry {
                ino: entry.ino(),
                is_dir: kind.is_some_and(|kind| kind.is_dir()),
                is_file: kind.is_some_and(|kind| kind.is_file()),
            },
        );
    }
    Ok(entries)
}

/// A change found by comparing listings.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// Gone from its directory, and not found under another name.
    Left(PathBuf),
    /// The same inode under another name (in the same or another compared directory).
    Renamed { from: PathBuf, to: PathBuf },
    /// New (or a new inode under an old name).
    Appeared(PathBuf, Entry),
}

/// The differences between old and new listings of any number of directories (renames
/// pair up across all of them).
#[derive(Debug, Default)]
pub(super) struct Differences {
    left: Vec<(PathBuf, Entry)>,
    appeared: Vec<(PathBuf, Entry)>,
}

impl Differences {
    /// Adds the differences between `before` and `now`, listings of `dir`.
    pub(super) fn add(&mut self, dir: &Path, before: &Listing, now: &Listing) {
        for (name, entry) in before {
            if now.get(name) != Some(entry) {
                self.left.push((dir.join(name), *entry));
            }
        }
        for (name, entry) in now {
            if before.get(name) != Some(entry) {
                self.appeared.push((dir.join(name), *entry));
            }
        }
    }

    /// The changes in the order to apply them: entries that left first (so a rename over
    /// an existing name first drops what it replaced), then renames, then new entries.
    pub(super) fn changes(mut self) -> Vec<Change> {
        let mut left = Vec::new();
        let mut renamed = Vec::new();
        for (from, entry) in self.left {
            match self.appeared.iter().position(|(_, new)| *new == entry) {
                Some(at) => {
                    let (to, _) = self.appeared.remove(at);
                    renamed.push(Change::Renamed { from, to });
                }
                None => left.push(Change::Left(from)),
            }
        }
        left.extend(renamed);
        left.extend(
            self.appeared
                .into_iter()
                .map(|(path, entry)| Change::Appeared(path, entry)),
        );
        left
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{list, Change, Differences, Entry, Listing};

    fn file(ino: u64) -> Entry {
        Entry {
            ino,
            is_dir: false,
            is_file: true,
        }
    }

    fn listing(entries: &[(&str, Entry)]) -> Listing {
        entries
            .iter()
            .map(|(name, entry)| (name.into(), *entry))
            .collect()
    }

    fn changes(dirs: &[(&str, Listing, Listing)]) -> Vec<Change> {
        let mut differences = Differences::default();
        for (dir, before, now) in dirs {
            differences.add(Path::new(dir), before, now);
        }
        differences.changes()
    }

    #[test]
    fn new_and_gone_entries() {
        let before = listing(&[("kept", file(1)), ("gone", file(2))]);
        let now = listing(&[("kept", file(1)), ("new", file(3))]);
        assert_eq!(
            changes(&[("d", before, now)]),
            [
                Change::Left("d/gone".into()),
                Change::Appeared("d/new".into(), file(3))
            ]
        );
    }

    #[test]
    fn same_inode_under_a_new_name_is_a_rename() {
        let before = listing(&[("a", file(1))]);
        let now = listing(&[("b", file(1))]);
        assert_eq!(
            changes(&[("d", before, now)]),
            [Change::Renamed {
                from: "d/a".into(),
                to: "d/b".into()
            }]
        );
    }

    #[test]
    fn renames_pair_across_directories() {
        let one = (
            "one",
            listing(&[("moved", file(7)), ("stays", file(8))]),
            listing(&[("stays", file(8))]),
        );
        let two = ("two", listing(&[]), listing(&[("arrived", file(7))]));
        assert_eq!(
            changes(&[one, two]),
            [Change::Renamed {
                from: "one/moved".into(),
                to: "two/arrived".into()
            }]
        );
    }

    #[test]
    fn a_rename_over_an_existing_name_drops_it_first() {
        let before = listing(&[("a", file(1)), ("b", file(2))]);
        let now = listing(&[("b", file(1))]);
        assert_eq!(
            changes(&[("d", before, now)]),
            [
                Change::Left("d/b".into()),
                Change::Renamed {
                    from: "d/a".into(),
                    to: "d/b".into()
                }
            ]
        );
    }

    #[test]
    fn a_new_inode_under_an_old_name_is_gone_and_new() {
        let before = listing(&[("f", file(1))]);
        let now = listing(&[("f", file(2))]);
        assert_eq!(
            changes(&[("d", before, now)]),
            [
                Change::Left("d/f".into()),
                Change::Appeared("d/f".into(), file(2))
            ]
        );
    }

    #[test]
    fn lists_a_directory() {
        let dir = std::env::temp_dir().join(format!("proactor-listing-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("file"), b"").unwrap();
        std::os::unix::fs::symlink("sub", dir.join("link")).unwrap();
        let listed = list(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let kind = |name: &str| {
            let entry = listed[std::ffi::OsStr::new(name)];
            (entry.is_dir, entry.is_file)
        };
        assert_eq!(listed.len(), 3);
        assert_eq!(kind("sub"), (true, false));
        assert_eq!(kind("file"), (false, true));
        // The link itself, not what it points to.
        assert_eq!(kind("link"), (false, false));
        let missing = list(&dir).unwrap_err();
        assert!(super::gone(&missing));
    }
}
