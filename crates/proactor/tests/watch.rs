//! File system events (`proactor::fs::watch`, `poll_watch`), run once per backend
//! (`io_uring::rename_is_paired`, `epoll::rename_is_paired`, and `iocp::` on Windows, where
//! `ReadDirectoryChangesW` reports what inotify does; cases that test inotify's own limits
//! run on Linux only).

#![cfg(any(target_os = "linux", windows))]

mod common;

#[cfg(target_os = "linux")]
use std::cell::Cell;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
#[cfg(target_os = "linux")]
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{per_backend, run};
use proactor::fs::{self, Event, Watcher};
use proactor::time::{sleep, timeout};
#[cfg(target_os = "linux")]
use proactor::JoinHandle;
use proactor::Runtime;

/// How long a test waits for one expected event.
const EVENT_WAIT: Duration = Duration::from_secs(10);

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "proactor-watch-test-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            name
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).expect("create the test directory");
        TempDir(path)
    }

    fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits for `wanted`, returning the events seen before it; fails after [`EVENT_WAIT`] or if
/// the stream ends first.
async fn wait_for(watcher: &mut Watcher, wanted: &Event) -> Vec<Event> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + EVENT_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, watcher.next_event()).await {
            Ok(Ok(Some(event))) if event == *wanted => return seen,
            Ok(Ok(Some(event))) => seen.push(event),
            Ok(Ok(None)) => panic!("the stream ended before {wanted:?}; saw {seen:?}"),
            Ok(Err(error)) => panic!("error before {wanted:?}: {error}; saw {seen:?}"),
            Err(_) => panic!("no {wanted:?} within {EVENT_WAIT:?}; saw {seen:?}"),
        }
    }
}

/// Waits for the stream to end, returning the events before the end.
async fn wait_for_end(watcher: &mut Watcher) -> Vec<Event> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + EVENT_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, watcher.next_event()).await {
            Ok(Ok(Some(event))) => seen.push(event),
            Ok(Ok(None)) => return seen,
            Ok(Err(error)) => panic!("error before the end: {error}; saw {seen:?}"),
            Err(_) => panic!("the stream did not end within {EVENT_WAIT:?}; saw {seen:?}"),
        }
    }
}

per_backend! {
    create_modify_remove,
    rename_is_paired,
    recursive_sees_a_file_in_a_new_subdirectory,
    non_recursive_ignores_subdirectories,
    watching_a_file,
    cancelled_calls_lose_no_event,
    poll_watcher_sees_changes,
    bad_input_errors,
}

// What inotify alone has (a watch per directory, a bounded queue, a descriptor per watcher),
// and what Wine 8 cannot show of ReadDirectoryChangesW: its recursive watch reports only the
// top level (a probe saw `top` but neither `a\one` nor `a\b\c\file`), and deleting the
// watched directory does not end the pending read. On Windows a move across the tree's edge
// is reported as Removed/Created, not as a rename half.
#[cfg(target_os = "linux")]
mod inotify {
    crate::common::linux_only! {
        moves_out_and_in_are_halves,
        recursive_reports_each_new_entry_once,
        recursive_walks_a_new_tree_off_the_loop,
        recursive_walks_a_moved_in_tree_off_the_loop,
        cancelled_calls_during_a_walk_lose_nothing,
        recursive_follows_a_renamed_subdirectory,
        recursive_watches_existing_subdirectories,
        removing_the_watched_directory_ends_the_stream,
        recursive_stops_at_a_subdirectory_moved_away,
        overflow_is_reported_and_the_stream_goes_on,
        overflow_rewalk_runs_off_the_loop,
        dropping_a_watcher_frees_its_fd,
    }
}

fn create_modify_remove(runtime: Runtime) {
    let dir = TempDir::new("basic");
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, false).await.unwrap();
        assert_eq!(watcher.path(), dir.0);
        let file = dir.join("file.txt");
        std::fs::write(&file, b"one").unwrap();
        wait_for(&mut watcher, &Event::Created(file.clone())).await;
        wait_for(&mut watcher, &Event::Modified(file.clone())).await;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .and_then(|mut opened| std::io::Write::write_all(&mut opened, b"two"))
            .unwrap();
        wait_for(&mut watcher, &Event::Modified(file.clone())).await;
        std::fs::remove_file(&file).unwrap();
        wait_for(&mut watcher, &Event::Removed(file.clone())).await;
        // Directories and links are entries too.
        std::fs::create_dir(dir.join("sub")).unwrap();
        wait_for(&mut watcher, &Event::Created(dir.join("sub"))).await;
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("sub", dir.join("link")).unwrap();
            wait_for(&mut watcher, &Event::Created(dir.join("link"))).await;
        }
        std::fs::remove_dir(dir.join("sub")).unwrap();
        wait_for(&mut watcher, &Event::Removed(dir.join("sub"))).await;
    });
}

fn rename_is_paired(runtime: Runtime) {
    let dir = TempDir::new("rename");
    std::fs::write(dir.join("a"), b"a").unwrap();
    std::fs::create_dir(dir.join("d")).unwrap();
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, false).await.unwrap();
        fs::rename(dir.join("a"), dir.join("b")).await.unwrap();
        let before = wait_for(
            &mut watcher,
            &Event::Renamed {
                from: dir.join("a"),
                to: dir.join("b"),
            },
        )
        .await;
        assert!(before.is_empty(), "unpaired halves first: {before:?}");
        fs::rename(dir.join("d"), dir.join("e")).await.unwrap();
        wait_for(
            &mut watcher,
            &Event::Renamed {
                from: dir.join("d"),
                to: dir.join("e"),
            },
        )
        .await;
    });
}

#[cfg(target_os = "linux")]
fn moves_out_and_in_are_halves(runtime: Runtime) {
    let dir = TempDir::new("halves");
    let outside = TempDir::new("halves-outside");
    std::fs::write(dir.join("leaving"), b"").unwrap();
    std::fs::write(outside.join("coming"), b"").unwrap();
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        fs::rename(dir.join("leaving"), outside.join("left"))
            .await
            .unwrap();
        wait_for(&mut watcher, &Event::RenamedFrom(dir.join("leaving"))).await;
        fs::rename(outside.join("coming"), dir.join("came"))
            .await
            .unwrap();
        wait_for(&mut watcher, &Event::RenamedTo(dir.join("came"))).await;
        // A directory moved in is watched from then on, with what is below it.
        std::fs::create_dir_all(outside.join("tree/inner")).unwrap();
        fs::rename(outside.join("tree"), dir.join("tree"))
            .await
            .unwrap();
        wait_for(&mut watcher, &Event::RenamedTo(dir.join("tree"))).await;
        std::fs::write(dir.join("tree/inner/file"), b"").unwrap();
        wait_for(&mut watcher, &Event::Created(dir.join("tree/inner/file"))).await;
    });
}

fn recursive_sees_a_file_in_a_new_subdirectory(runtime: Runtime) {
    let dir = TempDir::new("recursive-new");
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        // Made at once, before the watcher can see the first directory: whatever the watcher
        // misses in the gap, it finds when it looks inside.
        let deep = dir.join("sub/deeper");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("file"), b"x").unwrap();
        wait_for(&mut watcher, &Event::Created(dir.join("sub"))).await;
        wait_for(&mut watcher, &Event::Created(deep.join("file"))).await;
        // And later changes down there are watched.
        std::fs::write(deep.join("later"), b"y").unwrap();
        wait_for(&mut watcher, &Event::Created(deep.join("later"))).await;
        std::fs::remove_file(deep.join("file")).unwrap();
        wait_for(&mut watcher, &Event::Removed(deep.join("file"))).await;
    });
}

#[cfg(target_os = "linux")]
fn recursive_reports_each_new_entry_once(runtime: Runtime) {
    let dir = TempDir::new("recursive-once");
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        // Entries made while the watcher adds a watch for their new directory and looks
        // inside are both found by the look and reported by the watch: once is enough. A
        // thread makes them with varying pauses, so some land in that window.
        let root = dir.0.clone();
        let writer = std::thread::spawn(move || {
            let mut expected = std::collections::BTreeSet::new();
            for index in 0..100u64 {
                let top = root.join(format!("t{index}"));
                let pause = Duration::from_micros(index * 7 % 150);
                for path in ["", "a", "a/b"] {
                    let path = if path.is_empty() {
                        top.clone()
                    } else {
                        top.join(path)
                    };
                    std::fs::create_dir(&path).unwrap();
                    expected.insert(path);
                    std::thread::sleep(pause);
                }
                for path in ["a/b/file", "a/file"] {
                    std::fs::write(top.join(path), b"").unwrap();
                    expected.insert(top.join(path));
                }
            }
            expected
        });
        let mut seen = Vec::new();
        while !writer.is_finished() {
            // Taking events as they come, so the watcher looks while the writer writes.
            if let Ok(event) = timeout(Duration::from_millis(1), watcher.next_event()).await {
                seen.extend(event.unwrap());
            }
        }
        let expected = writer.join().unwrap();
        std::fs::write(dir.join("marker"), b"").unwrap();
        seen.extend(wait_for(&mut watcher, &Event::Created(dir.join("marker"))).await);
        let mut created = std::collections::BTreeSet::new();
        for event in &seen {
            match event {
                Event::Created(path) => assert!(created.insert(path.clone()), "{path:?} twice"),
                Event::Modified(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(created, expected);
    });
}

#[cfg(target_os = "linux")]
fn recursive_watches_existing_subdirectories(runtime: Runtime) {
    let dir = TempDir::new("recursive-existing");
    std::fs::create_dir_all(dir.join("a/b/c")).unwrap();
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        let file = dir.join("a/b/c/file");
        std::fs::write(&file, b"x").unwrap();
        let before = wait_for(&mut watcher, &Event::Created(file.clone())).await;
        assert!(before.is_empty(), "{before:?}");
        std::fs::write(dir.join("a/top"), b"x").unwrap();
        wait_for(&mut watcher, &Event::Created(dir.join("a/top"))).await;
    });
}

#[cfg(target_os = "linux")]
fn recursive_follows_a_renamed_subdirectory(runtime: Runtime) {
    let dir = TempDir::new("recursive-rename");
    std::fs::create_dir_all(dir.join("old/inner")).unwrap();
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        fs::rename(dir.join("old"), dir.join("new")).await.unwrap();
        wait_for(
            &mut watcher,
            &Event::Renamed {
                from: dir.join("old"),
                to: dir.join("new"),
            },
        )
        .await;
        std::fs::write(dir.join("new/inner/file"), b"x").unwrap();
        wait_for(&mut watcher, &Event::Created(dir.join("new/inner/file"))).await;
    });
}

#[cfg(target_os = "linux")]
fn recursive_stops_at_a_subdirectory_moved_away(runtime: Runtime) {
    let dir = TempDir::new("recursive-away");
    let outside = TempDir::new("recursive-away-outside");
    std::fs::create_dir_all(dir.join("sub/inner")).unwrap();
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        fs::rename(dir.join("sub"), outside.join("sub"))
            .await
            .unwrap();
        wait_for(&mut watcher, &Event::RenamedFrom(dir.join("sub"))).await;
        // Changes in the moved directory are no longer in the tree.
        std::fs::write(outside.join("sub/inner/file"), b"x").unwrap();
        std::fs::write(dir.join("marker"), b"").unwrap();
        let before = wait_for(&mut watcher, &Event::Created(dir.join("marker"))).await;
        assert!(
            before.is_empty(),
            "events from outside the tree: {before:?}"
        );
    });
}

fn non_recursive_ignores_subdirectories(runtime: Runtime) {
    let dir = TempDir::new("flat");
    std::fs::create_dir(dir.join("old")).unwrap();
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, false).await.unwrap();
        std::fs::create_dir(dir.join("new")).unwrap();
        std::fs::write(dir.join("new/file"), b"x").unwrap();
        std::fs::write(dir.join("old/file"), b"x").unwrap();
        std::fs::write(dir.join("marker"), b"").unwrap();
        let before = wait_for(&mut watcher, &Event::Created(dir.join("marker"))).await;
        assert_eq!(before, [Event::Created(dir.join("new"))]);
    });
}

fn watching_a_file(runtime: Runtime) {
    let dir = TempDir::new("file");
    let file = dir.join("watched");
    std::fs::write(&file, b"").unwrap();
    run(&runtime, async {
        let mut watcher = fs::watch(&file, true).await.unwrap();
        std::fs::write(dir.join("sibling"), b"x").unwrap();
        std::fs::write(&file, b"changed").unwrap();
        let before = wait_for(&mut watcher, &Event::Modified(file.clone())).await;
        assert!(before.is_empty(), "{before:?}");
        std::fs::remove_file(&file).unwrap();
        let before_end = wait_for_end(&mut watcher).await;
        assert_eq!(before_end.last(), Some(&Event::Removed(file.clone())));
    });
}

#[cfg(target_os = "linux")]
fn removing_the_watched_directory_ends_the_stream(runtime: Runtime) {
    let dir = TempDir::new("removed");
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/file"), b"").unwrap();
    run(&runtime, async {
        let mut watcher = fs::watch(&root, true).await.unwrap();
        fs::remove_dir_all(&root).await.unwrap();
        let events = wait_for_end(&mut watcher).await;
        let expected = [
            Event::Removed(root.join("sub/file")),
            Event::Removed(root.join("sub")),
            Event::Removed(root.clone()),
        ];
        for event in &expected {
            assert!(events.contains(event), "no {event:?} in {events:?}");
        }
        assert_eq!(events.last(), Some(&Event::Removed(root.clone())));
        // Ended streams stay ended.
        assert_eq!(watcher.next_event().await.unwrap(), None);
    });
}

#[cfg(target_os = "linux")]
fn overflow_is_reported_and_the_stream_goes_on(runtime: Runtime) {
    let Some(queue) = fillable_queue() else {
        return;
    };
    let dir = TempDir::new("overflow");
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        // Without reading.
        overflow(&dir, queue);
        std::fs::write(dir.join("marker"), b"").unwrap();
        // Its creation is dropped too: only looking again finds it.
        std::fs::create_dir(dir.join("late")).unwrap();
        let deadline = Instant::now() + EVENT_WAIT;
        let mut seen = 0usize;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = timeout(left, watcher.next_event())
                .await
                .expect("no overflow event in time")
                .unwrap()
                .expect("the stream goes on");
            seen += 1;
            if event == Event::Overflow {
                break;
            }
        }
        assert!(seen >= queue - 1, "overflow after {seen} events");
        // The queue had no room for the marker's event: look, as the event says.
        assert!(fs::try_exists(dir.join("marker")).await.unwrap());
        std::fs::write(dir.join("after"), b"").unwrap();
        wait_for(&mut watcher, &Event::Created(dir.join("after"))).await;
        // After an overflow a recursive watcher watches the directories it missed.
        std::fs::write(dir.join("late/file"), b"").unwrap();
        wait_for(&mut watcher, &Event::Created(dir.join("late/file"))).await;
    });
}

/// A task on the test's runtime that wakes every millisecond and counts its wakes. It shares
/// the watcher's thread: while that thread is blocked (a walk of a tree on it), it cannot
/// tick.
#[cfg(target_os = "linux")]
struct Ticker {
    ticks: Rc<Cell<u64>>,
    /// The longest time between two wakes.
    longest: Rc<Cell<Duration>>,
    stop: Rc<Cell<bool>>,
    task: JoinHandle<()>,
}

#[cfg(target_os = "linux")]
impl Ticker {
    fn start() -> Ticker {
        let ticks = Rc::new(Cell::new(0));
        let longest = Rc::new(Cell::new(Duration::ZERO));
        let stop = Rc::new(Cell::new(false));
        let task = proactor::spawn({
            let (ticks, longest, stop) = (ticks.clone(), longest.clone(), stop.clone());
            async move {
                let mut last = Instant::now();
                while !stop.get() {
                    sleep(Duration::from_millis(1)).await;
                    let now = Instant::now();
                    longest.set(longest.get().max(now - last));
                    last = now;
                    ticks.set(ticks.get() + 1);
                }
            }
        });
        Ticker {
            ticks,
            longest,
            stop,
            task,
        }
    }

    fn ticks(&self) -> u64 {
        self.ticks.get()
    }

    /// The longest gap so far, once the ticker has run again (a gap is known when it ends).
    async fn longest(&self) -> Duration {
        let ticks = self.ticks();
        while self.ticks() == ticks {
            sleep(Duration::from_millis(1)).await;
        }
        self.longest.get()
    }

    async fn stop(self) {
        self.stop.set(true);
        self.task.await.unwrap();
    }
}

/// Fewest wakes of the [`Ticker`] that show a walk of [`big_tree`] left the runtime's thread
/// free while the test waited for the event that needs it: a walk on that thread allows
/// one or two (the read's round trip before it), one on the pool about a wake per
/// millisecond of a walk that takes from ten to tens of them (the figures are printed; a
/// loaded 2-core machine once gave 4 in an 11 ms walk).
#[cfg(target_os = "linux")]
const TICKS_DURING_WALK: u64 = 3;

/// Fills `top` (made here) with a tree that takes a walk tens of milliseconds at least: 10 ×
/// 10 × 10 directories with a file in each of the deepest, 2,110 entries; returns them
/// parents first.
#[cfg(target_os = "linux")]
fn big_tree(top: &Path) -> Vec<PathBuf> {
    std::fs::create_dir(top).unwrap();
    let mut made = Vec::new();
    let mut level = vec![top.to_path_buf()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for dir in &level {
            for index in 0..10 {
                let sub = dir.join(format!("d{index}"));
                std::fs::create_dir(&sub).unwrap();
                made.push(sub.clone());
                next.push(sub);
            }
        }
        level = next;
    }
    for dir in &level {
        let file = dir.join("file");
        std::fs::File::create(&file).unwrap();
        made.push(file);
    }
    made
}

/// Checks that `events` report each of `expected` (all below `top`) as created exactly
/// once, each after its parent, and nothing else but modifications.
#[cfg(target_os = "linux")]
fn assert_created_once_parents_first(events: &[Event], top: &Path, expected: &[PathBuf]) {
    let mut created = std::collections::HashMap::new();
    for (at, event) in events.iter().enumerate() {
        match event {
            Event::Created(path) => {
                let before = created.insert(path.clone(), at);
                assert!(before.is_none(), "{path:?} twice");
            }
            Event::Modified(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created.len(), expected.len(), "reported: {}", created.len());
    for path in expected {
        let at = created[path];
        let parent = path.parent().unwrap();
        if parent != top {
            assert!(created[parent] < at, "{path:?} before its directory");
        }
    }
}

/// A directory that appears with a big tree in it is walked on the pool: the runtime's other
/// tasks run meanwhile; the directory is reported first (once it is watched), then every
/// entry as created once, after its own parent; and the tree is watched afterwards.
#[cfg(target_os = "linux")]
fn recursive_walks_a_new_tree_off_the_loop(runtime: Runtime) {
    let dir = TempDir::new("walk-new");
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        // Made before the watcher reads anything: it learns of `big` alone, and has to walk
        // it to find the rest.
        let top = dir.join("big");
        let expected = big_tree(&top);
        let ticker = Ticker::start();
        let started = Instant::now();
        let mut events = Vec::new();
        let mut created = 0;
        while created <= expected.len() {
            let left = EVENT_WAIT.saturating_sub(started.elapsed());
            match timeout(left, watcher.next_event()).await {
                Ok(Ok(Some(event))) => {
                    created += usize::from(matches!(event, Event::Created(_)));
                    events.push(event);
                }
                other => panic!("{other:?} after {events:?}"),
            }
        }
        let (walk, during) = (started.elapsed(), ticker.ticks());
        let longest = ticker.longest().await;
        ticker.stop().await;
        eprintln!(
            "walk of {} entries: {walk:?}, {during} ticks meanwhile, longest gap {longest:?}",
            expected.len(),
        );
        // A walk on the runtime's thread would hold it for the whole walk: one gap as long
        // as the walk. On a loaded machine the ticks themselves come late, so either enough
        // of them, or no gap near the walk's length, shows the thread stayed free.
        assert!(
            during >= TICKS_DURING_WALK || longest * 2 < walk,
            "the runtime stalled for the walk: {during} ticks in {walk:?}, longest gap {longest:?}"
        );
        assert_eq!(events[0], Event::Created(top.clone()));
        assert_created_once_parents_first(&events[1..], &top, &expected);
        let deep = top.join("d9/d9/d9/later");
        std::fs::write(&deep, b"").unwrap();
        let before = wait_for(&mut watcher, &Event::Created(deep)).await;
        assert!(before.is_empty(), "{before:?}");
    });
}

/// A big tree moved in from outside is walked on the pool (to watch it; its entries are not
/// reported): the runtime's other tasks run meanwhile, the move is reported once the tree is
/// watched, and what came after it in the kernel's queue after that.
#[cfg(target_os = "linux")]
fn recursive_walks_a_moved_in_tree_off_the_loop(runtime: Runtime) {
    let dir = TempDir::new("walk-moved");
    let outside = TempDir::new("walk-moved-outside");
    let built = outside.join("big");
    big_tree(&built);
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        let top = dir.join("big");
        // Both queued before the watcher reads: the marker's event waits for the walk.
        std::fs::rename(&built, &top).unwrap();
        std::fs::write(dir.join("marker"), b"").unwrap();
        let ticker = Ticker::start();
        let started = Instant::now();
        let before = wait_for(&mut watcher, &Event::RenamedTo(top.clone())).await;
        assert!(before.is_empty(), "{before:?}");
        let (walk, during) = (started.elapsed(), ticker.ticks());
        // Watched by now: a change made only after the event is seen.
        let deep = top.join("d3/d7/d1/later");
        std::fs::write(&deep, b"").unwrap();
        let longest = ticker.longest().await;
        ticker.stop().await;
        eprintln!("walk: {walk:?}, {during} ticks meanwhile, longest gap {longest:?}");
        // A walk on the runtime's thread would hold it for the whole walk: one gap as long
        // as the walk. On a loaded machine the ticks themselves come late, so either enough
        // of them, or no gap near the walk's length, shows the thread stayed free.
        assert!(
            during >= TICKS_DURING_WALK || longest * 2 < walk,
            "the runtime stalled for the walk: {during} ticks in {walk:?}, longest gap {longest:?}"
        );
        let between = wait_for(&mut watcher, &Event::Created(dir.join("marker"))).await;
        assert!(between.is_empty(), "{between:?}");
        let after = wait_for(&mut watcher, &Event::Created(deep)).await;
        assert!(after.is_empty(), "{after:?}");
    });
}

/// Calls dropped while a walk runs lose nothing and repeat nothing: the next call waits for
/// the same walk.
#[cfg(target_os = "linux")]
fn cancelled_calls_during_a_walk_lose_nothing(runtime: Runtime) {
    let dir = TempDir::new("walk-cancel");
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        let top = dir.join("big");
        let expected = big_tree(&top);
        let mut events = Vec::new();
        let mut created = 0;
        let mut cancelled = 0;
        let deadline = Instant::now() + EVENT_WAIT;
        let mut wait = 1u64;
        while created <= expected.len() {
            assert!(
                Instant::now() < deadline,
                "saw {created} events: {events:?}"
            );
            // Waits from 7 to 294 µs, against a walk of tens of milliseconds.
            wait = wait * 7 % 301;
            match timeout(Duration::from_micros(wait), watcher.next_event()).await {
                Ok(event) => {
                    let event = event.unwrap().expect("the stream goes on");
                    created += usize::from(matches!(event, Event::Created(_)));
                    events.push(event);
                }
                Err(_) => cancelled += 1,
            }
        }
        assert!(cancelled > 0, "no call was cancelled");
        assert_eq!(events[0], Event::Created(top.clone()));
        assert_created_once_parents_first(&events[1..], &top, &expected);
        std::fs::write(dir.join("marker"), b"").unwrap();
        let before = wait_for(&mut watcher, &Event::Created(dir.join("marker"))).await;
        assert!(before.is_empty(), "{before:?}");
    });
}

/// inotify's event queue length, if it is small enough to fill in a test.
#[cfg(target_os = "linux")]
fn fillable_queue() -> Option<usize> {
    let queue: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(16384);
    if queue > 100_000 {
        eprintln!("skipped: max_queued_events is {queue}");
        return None;
    }
    Some(queue)
}

/// Overflows a watch of `dir` holding a `queue`-event queue: each file makes a create and a
/// delete event.
#[cfg(target_os = "linux")]
fn overflow(dir: &TempDir, queue: usize) {
    for index in 0..queue / 2 + 100 {
        let file = dir.join(format!("f{index}"));
        std::fs::File::create(&file).unwrap();
        std::fs::remove_file(&file).unwrap();
    }
}

/// The look at the whole tree after an overflow runs on the pool: the runtime's other tasks
/// run meanwhile, and events after it are reported.
#[cfg(target_os = "linux")]
fn overflow_rewalk_runs_off_the_loop(runtime: Runtime) {
    let Some(queue) = fillable_queue() else {
        return;
    };
    let dir = TempDir::new("overflow-walk");
    big_tree(&dir.join("big"));
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, true).await.unwrap();
        overflow(&dir, queue);
        // Its creation is dropped: only the walk after the overflow watches it.
        let late = dir.join("big/d1/d2/late");
        std::fs::create_dir(&late).unwrap();
        let ticker = Ticker::start();
        let deadline = Instant::now() + EVENT_WAIT;
        // The window: from the event before the overflow to the overflow, which waits for
        // the walk (the events before it in the same read do not).
        let (mut ticks, mut since) = (0, Instant::now());
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = timeout(left, watcher.next_event())
                .await
                .expect("no overflow event in time")
                .unwrap()
                .expect("the stream goes on");
            if event == Event::Overflow {
                break;
            }
            (ticks, since) = (ticker.ticks(), Instant::now());
        }
        let (walk, during) = (since.elapsed(), ticker.ticks() - ticks);
        // Watched by now: a change made only after the event is seen.
        let deep = late.join("file");
        std::fs::write(&deep, b"").unwrap();
        let longest = ticker.longest().await;
        ticker.stop().await;
        eprintln!("walk: {walk:?}, {during} ticks meanwhile, longest gap {longest:?}");
        // A walk on the runtime's thread would hold it for the whole walk: one gap as long
        // as the walk. On a loaded machine the ticks themselves come late, so either enough
        // of them, or no gap near the walk's length, shows the thread stayed free.
        assert!(
            during >= TICKS_DURING_WALK || longest * 2 < walk,
            "the runtime stalled for the walk: {during} ticks in {walk:?}, longest gap {longest:?}"
        );
        wait_for(&mut watcher, &Event::Created(deep)).await;
    });
}

fn cancelled_calls_lose_no_event(runtime: Runtime) {
    let dir = TempDir::new("cancel");
    run(&runtime, async {
        let mut watcher = fs::watch(&dir.0, false).await.unwrap();
        let count = 200;
        let writer = {
            let dir = dir.0.clone();
            proactor::spawn(async move {
                for index in 0..count {
                    std::fs::File::create(dir.join(format!("f{index}"))).unwrap();
                    if index % 10 == 0 {
                        // Windows' timers tick in milliseconds: pause long enough there for
                        // the reader's short waits to run out.
                        let pause = if cfg!(windows) { 5_000 } else { 200 };
                        sleep(Duration::from_micros(pause)).await;
                    }
                }
            })
        };
        let mut created = std::collections::BTreeSet::new();
        let mut cancelled = 0;
        let deadline = Instant::now() + EVENT_WAIT;
        let mut wait = 1u64;
        while created.len() < count {
            assert!(
                Instant::now() < deadline,
                "saw {} of {count}",
                created.len()
            );
            // Waits from 1 to 300 µs: many calls are cancelled mid-read.
            wait = wait * 7 % 301;
            match timeout(Duration::from_micros(wait), watcher.next_event()).await {
                Ok(event) => {
                    if let Some(Event::Created(path)) = event.unwrap() {
                        assert!(created.insert(path.clone()), "{path:?} twice");
                    }
                }
                Err(_) => cancelled += 1,
            }
        }
        writer.await.unwrap();
        assert!(cancelled > 0, "no call was cancelled");
    });
}

fn poll_watcher_sees_changes(runtime: Runtime) {
    let dir = TempDir::new("poll");
    let file = dir.join("polled");
    std::fs::write(&file, b"").unwrap();
    run(&runtime, async {
        let mut watcher = fs::poll_watch(&file, Duration::from_millis(5))
            .await
            .unwrap();
        std::fs::write(&file, b"longer").unwrap();
        wait_for(&mut watcher, &Event::Modified(file.clone())).await;
        std::fs::remove_file(&file).unwrap();
        wait_for(&mut watcher, &Event::Removed(file.clone())).await;
        std::fs::write(&file, b"back").unwrap();
        wait_for(&mut watcher, &Event::Created(file.clone())).await;
        // A change that keeps the size is seen through the times or the inode.
        std::fs::write(dir.join("replacement"), b"same").unwrap();
        std::fs::rename(dir.join("replacement"), &file).unwrap();
        wait_for(&mut watcher, &Event::Modified(file.clone())).await;
        // Nothing changes: nothing is reported.
        let quiet = timeout(Duration::from_millis(50), watcher.next_event()).await;
        assert!(quiet.is_err(), "{quiet:?}");
    });
}

fn bad_input_errors(runtime: Runtime) {
    let dir = TempDir::new("bad");
    run(&runtime, async {
        for recursive in [false, true] {
            let missing = fs::watch(dir.join("missing"), recursive).await.unwrap_err();
            assert_eq!(missing.kind(), ErrorKind::NotFound);
        }
        let missing = fs::poll_watch(dir.join("missing"), Duration::from_millis(5))
            .await
            .unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        let nul = fs::watch("bad\0path", false).await.unwrap_err();
        assert_eq!(nul.kind(), ErrorKind::InvalidInput);
        let nul = fs::poll_watch("bad\0path", Duration::from_millis(5))
            .await
            .unwrap_err();
        assert_eq!(nul.kind(), ErrorKind::InvalidInput);
        let zero = fs::poll_watch(&dir.0, Duration::ZERO).await.unwrap_err();
        assert_eq!(zero.kind(), ErrorKind::InvalidInput);
        // An interval too long for the clock is no error: it never looks again.
        let mut endless = fs::poll_watch(&dir.0, Duration::MAX).await.unwrap();
        let quiet = timeout(Duration::from_millis(20), endless.next_event()).await;
        assert!(quiet.is_err(), "{quiet:?}");
        // A path through a file is no directory.
        std::fs::write(dir.join("file"), b"").unwrap();
        let through = fs::watch(dir.join("file/below"), false).await.unwrap_err();
        #[cfg(unix)]
        assert_eq!(through.raw_os_error(), Some(libc::ENOTDIR));
        #[cfg(windows)]
        let _ = through;
    });
}

/// Set in the child process that counts descriptors with nothing else running.
#[cfg(target_os = "linux")]
const FD_CHILD: &str = "PROACTOR_WATCH_FD_CHILD";

#[cfg(target_os = "linux")]
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[cfg(target_os = "linux")]
fn dropping_a_watcher_frees_its_fd(runtime: Runtime) {
    let backend = run(&runtime, async { proactor::current_backend() });
    if std::env::var_os(FD_CHILD).is_none() {
        // Other tests open descriptors concurrently: count in a process of our own.
        let test = format!("inotify::{backend}::dropping_a_watcher_frees_its_fd");
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &test, "--nocapture", "--test-threads=1"])
            .env(FD_CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "child failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains("1 passed"),
            "the child ran no test: {stdout}"
        );
        return;
    }
    let dir = TempDir::new("fds");
    for index in 0..20 {
        std::fs::create_dir_all(dir.join(format!("d{index}/inner"))).unwrap();
    }
    run(&runtime, async {
        // Warm up whatever the runtime opens once (pool threads, timers).
        drop(fs::watch(&dir.0, true).await.unwrap());
        sleep(Duration::from_millis(20)).await;
        let before = open_fds();
        for round in 0..50 {
            let mut watcher = fs::watch(&dir.0, round % 2 == 0).await.unwrap();
            // Dropped both idle and with a read in flight.
            if round % 3 == 0 {
                let _ = timeout(Duration::from_millis(1), watcher.next_event()).await;
            }
            let polled = fs::poll_watch(&dir.0, Duration::from_millis(1))
                .await
                .unwrap();
            drop((watcher, polled));
        }
        // Dropped with a walk in flight (a tree moved in: the walk takes tens of
        // milliseconds, the call waits 5): the walk's descriptor closes when it ends.
        let outside = TempDir::new("fds-outside");
        let (away, moved) = (outside.join("big"), dir.join("big"));
        big_tree(&away);
        for _ in 0..5 {
            let mut watcher = fs::watch(&dir.0, true).await.unwrap();
            std::fs::rename(&away, &moved).unwrap();
            let _ = timeout(Duration::from_millis(5), watcher.next_event()).await;
            drop(watcher);
            std::fs::rename(&moved, &away).unwrap();
        }
        // Closes go through the driver, and walks end on the pool: let them run.
        let deadline = Instant::now() + EVENT_WAIT;
        while open_fds() != before && Instant::now() < deadline {
            sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(open_fds(), before, "descriptors leaked");
    });
}
