//! `proactor::fs` and `proactor::spawn_blocking`, run once per backend
//! (`io_uring::copy_of_10_mb_is_intact`, `epoll::copy_of_10_mb_is_intact`,
//! `iocp::copy_of_10_mb_is_intact`). Cases about Unix-only things (mode bits, owners,
//! `access`, `statfs`, `mkstemp`) are `cfg(unix)`.

#![cfg(any(target_os = "linux", windows))]

mod common;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{ErrorKind, SeekFrom};
#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{per_backend, run};
#[cfg(unix)]
use proactor::fs::Permissions;
use proactor::fs::{self, AccessMode, File, FileTimes, OpenOptions};
use proactor::io::{AsyncRead, AsyncWrite};
use proactor::time::timeout;
use proactor::{spawn, spawn_blocking, IoBuf, Runtime};

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        // The time as well: process IDs repeat between runs under Wine.
        let unique = format!(
            "proactor-fs-test-{}-{}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos()),
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

/// The OS's error codes for the cases the tests provoke.
#[cfg(unix)]
mod code {
    /// Opening a directory for writing.
    pub const IS_A_DIRECTORY: i32 = libc::EISDIR;
    /// Reading a directory as a file.
    pub const READ_A_DIRECTORY: i32 = libc::EISDIR;
    /// Reading a file opened write-only, writing one opened read-only.
    pub const WRONG_ACCESS: i32 = libc::EBADF;
    /// Listing a file, or using it as a directory.
    pub const NOT_A_DIRECTORY: i32 = libc::ENOTDIR;
    pub const DIRECTORY_NOT_EMPTY: i32 = libc::ENOTEMPTY;
}

/// The OS's error codes for the cases the tests provoke.
#[cfg(windows)]
mod code {
    /// ERROR_ACCESS_DENIED: Windows' answer to opening a directory for writing.
    pub const IS_A_DIRECTORY: i32 = 5;
    /// ERROR_INVALID_FUNCTION: reading a directory handle.
    pub const READ_A_DIRECTORY: i32 = 1;
    /// ERROR_ACCESS_DENIED.
    pub const WRONG_ACCESS: i32 = 5;
    /// ERROR_DIRECTORY ("the directory name is invalid").
    pub const NOT_A_DIRECTORY: i32 = 267;
    /// ERROR_DIR_NOT_EMPTY.
    pub const DIRECTORY_NOT_EMPTY: i32 = 145;
}

/// Whether this system makes symbolic links. Unix always does; Windows needs a privilege
/// (or developer mode), and Wine 8's CreateSymbolicLinkW reports success but makes nothing,
/// so there the link cases are skipped, and say so.
fn symlinks_work() -> bool {
    if cfg!(unix) {
        return true;
    }
    static WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WORKS.get_or_init(|| {
        let dir = TempDir::new("symlink-probe");
        std::fs::write(dir.join("target"), b"").unwrap();
        let made = {
            #[cfg(windows)]
            let made = std::os::windows::fs::symlink_file("target", dir.join("link")).is_ok();
            #[cfg(unix)]
            let made = true;
            made
        };
        let works =
            made && std::fs::symlink_metadata(dir.join("link")).is_ok_and(|m| m.is_symlink());
        if !works {
            eprintln!("symbolic links do not work here: their cases are skipped");
        }
        works
    })
}

/// Makes `link` a symbolic link to the file `original` with std.
fn std_symlink(original: &Path, link: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(original, link).unwrap();
    #[cfg(windows)]
    std::os::windows::fs::symlink_file(original, link).unwrap();
}

#[cfg(unix)]
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|metadata| metadata.uid() == 0)
}

per_backend! {
    spawn_blocking_returns_the_closure_output,
    spawn_blocking_panic_is_an_error,
    spawn_blocking_runs_many_in_parallel,
    spawn_blocking_detached_still_runs,
    bad_input_errors,
    positional_round_trips_with_holes_and_eof,
    positional_io_with_every_buffer_kind,
    cursor_reads_and_writes,
    append_mode_writes_at_the_end,
    open_options_flags_and_rules,
    read_and_write_whole_files,
    metadata_fields,
    sync_set_len_and_allocate,
    #[cfg(unix)]
    permissions_and_access,
    read_only_files_refuse_write_access,
    times_of_files_links_and_open_files,
    directories_create_list_remove,
    large_directory_listing,
    rename_remove_and_links,
    copy_of_10_mb_is_intact,
    #[cfg(unix)]
    ownership,
    statfs_reports_the_file_system,
    temporary_names_are_unique,
    from_std_and_concurrent_positional_reads,
}

fn spawn_blocking_returns_the_closure_output(runtime: Runtime) {
    let caller = std::thread::current().id();
    let (value, thread) = run(&runtime, async {
        spawn_blocking(|| (vec![1, 2, 3], std::thread::current().id())).await
    })
    .unwrap();
    assert_eq!(value, vec![1, 2, 3]);
    assert_ne!(thread, caller, "the closure ran on a pool thread");
}

fn spawn_blocking_panic_is_an_error(runtime: Runtime) {
    run(&runtime, async {
        let error = spawn_blocking(|| -> u32 { panic!("deliberate panic in the pool") })
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("deliberate panic in the pool"),
            "{error}"
        );
        // The pool and the runtime carry on.
        assert_eq!(spawn_blocking(|| 7).await.unwrap(), 7);
    });
}

fn spawn_blocking_runs_many_in_parallel(runtime: Runtime) {
    let started = Instant::now();
    let total = run(&runtime, async {
        let handles: Vec<_> = (0..32u64)
            .map(|i| {
                spawn_blocking(move || {
                    std::thread::sleep(Duration::from_millis(100));
                    i
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..32).sum());
    // In series this would take 3.2 s.
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "32 sleeping closures took {:?}",
        started.elapsed()
    );
}

fn spawn_blocking_detached_still_runs(runtime: Runtime) {
    // More than the pool has threads (64 unless PROACTOR_POOL_THREADS says otherwise), so
    // some are still queued when their handles go: those run too.
    const CLOSURES: usize = 200;
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ran);
    run(&runtime, async move {
        for _ in 0..CLOSURES {
            let counter = Arc::clone(&counter);
            drop(spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(5));
                counter.fetch_add(1, Ordering::SeqCst);
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while ran.load(Ordering::SeqCst) < CLOSURES {
            assert!(
                Instant::now() < deadline,
                "{} of {CLOSURES} detached closures ran",
                ran.load(Ordering::SeqCst)
            );
            proactor::time::sleep(Duration::from_millis(5)).await;
        }
    });
}

fn bad_input_errors(runtime: Runtime) {
    let dir = TempDir::new("bad-input");
    run(&runtime, async {
        let nul = Path::new("bad\0path");
        let kind = |result: std::io::Result<()>| result.unwrap_err().kind();
        assert_eq!(
            kind(File::open(nul).await.map(drop)),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(File::create(nul).await.map(drop)),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::metadata(nul).await.map(drop)),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::symlink_metadata(nul).await.map(drop)),
            ErrorKind::InvalidInput
        );
        assert_eq!(kind(fs::read(nul).await.map(drop)), ErrorKind::InvalidInput);
        assert_eq!(kind(fs::remove_file(nul).await), ErrorKind::InvalidInput);
        assert_eq!(kind(fs::create_dir_all(nul).await), ErrorKind::InvalidInput);
        assert_eq!(
            kind(fs::rename(nul, dir.join("x")).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::rename(dir.join("x"), nul).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::read_dir(nul).await.map(drop)),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::access(nul, AccessMode::EXISTS).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::statfs(nul).await.map(drop)),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::set_times(nul, FileTimes::new()).await),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::mkdtemp("bad\0XXXXXX").await.map(drop)),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::mkstemp("bad\0XXXXXX").await.map(drop)),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(fs::symlink("target", nul).await),
            ErrorKind::InvalidInput
        );

        // Missing files.
        let missing = dir.join("missing");
        assert_eq!(
            kind(File::open(&missing).await.map(drop)),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(fs::metadata(&missing).await.map(drop)),
            ErrorKind::NotFound
        );
        assert_eq!(kind(fs::remove_file(&missing).await), ErrorKind::NotFound);
        assert_eq!(
            kind(fs::read_link(&missing).await.map(drop)),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(fs::copy(&missing, dir.join("to")).await.map(drop)),
            ErrorKind::NotFound
        );
        assert!(!fs::try_exists(&missing).await.unwrap());

        // Opening a directory for writing is the OS's error.
        let error = OpenOptions::new()
            .write(true)
            .open(&dir.0)
            .await
            .unwrap_err();
        assert_eq!(error.raw_os_error(), Some(code::IS_A_DIRECTORY));

        // Reading a write-only file, writing a read-only one: EBADF (Windows: access denied).
        let path = dir.join("file");
        let file = File::create(&path).await.unwrap();
        let (result, buffer) = file.read_at(Vec::with_capacity(8), 0).await;
        assert_eq!(result.unwrap_err().raw_os_error(), Some(code::WRONG_ACCESS));
        assert_eq!(buffer.capacity(), 8, "the buffer comes back");
        let file = File::open(&path).await.unwrap();
        let (result, _) = file.write_at(b"x".to_vec(), 0).await;
        assert_eq!(result.unwrap_err().raw_os_error(), Some(code::WRONG_ACCESS));

        // Offsets the kernel cannot take, and a buffer with no room.
        let (result, _) = file.read_at(Vec::with_capacity(8), u64::MAX).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
        let (result, _) = file.read_at(Vec::new(), 0).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
    });
}

fn positional_round_trips_with_holes_and_eof(runtime: Runtime) {
    let dir = TempDir::new("positional");
    let path = dir.join("data");
    run(&runtime, async {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .open(&path)
            .await
            .unwrap();
        file.write_all_at(b"head".to_vec(), 0).await.0.unwrap();
        // A hole from 4 to 1 MiB.
        let far = 1 << 20;
        file.write_all_at(b"tail".to_vec(), far).await.0.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), far + 4);

        let (result, head) = file.read_at(Vec::with_capacity(4), 0).await;
        assert_eq!(result.unwrap(), 4);
        assert_eq!(head, b"head");
        let (result, hole) = file
            .read_exact_at(vec![0xffu8; 4096].into_boxed_slice(), 4)
            .await;
        result.unwrap();
        assert!(hole.iter().all(|&byte| byte == 0), "a hole reads as zeros");
        let (result, tail) = file.read_exact_at(Vec::with_capacity(4), far).await;
        result.unwrap();
        assert_eq!(tail, b"tail");

        // At and past the end: 0 bytes, and read_exact_at reports EOF with what it got.
        let (result, _) = file.read_at(Vec::with_capacity(16), far + 4).await;
        assert_eq!(result.unwrap(), 0);
        let (result, _) = file.read_at(Vec::with_capacity(16), far * 10).await;
        assert_eq!(result.unwrap(), 0);
        let (result, partial) = file.read_exact_at(Vec::with_capacity(16), far + 2).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::UnexpectedEof);
        assert_eq!(partial, b"il");

        // Overwrite in the middle.
        file.write_all_at(&b"EA"[..], 1).await.0.unwrap();
        let (result, head) = file.read_at(Vec::with_capacity(4), 0).await;
        result.unwrap();
        assert_eq!(head, b"hEAd");
        // A large write and read back at an odd offset.
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        file.write_all_at(big.clone(), 12345).await.0.unwrap();
        let (result, back) = file
            .read_exact_at(Vec::with_capacity(big.len()), 12345)
            .await;
        result.unwrap();
        assert!(back == big, "3 MB round trip at an offset");
    });
    assert_eq!(&std::fs::read(&path).unwrap()[..4], b"hEAd");
}

fn positional_io_with_every_buffer_kind(runtime: Runtime) {
    let dir = TempDir::new("buffers");
    run(&runtime, async {
        let file = File::create_new(dir.join("kinds")).await.unwrap();
        file.write_all_at(bytes::BytesMut::from(&b"0123"[..]), 0)
            .await
            .0
            .unwrap();
        file.write_all_at(vec![b'4', b'5'].into_boxed_slice(), 4)
            .await
            .0
            .unwrap();
        file.write_all_at(b"xx6789xx".to_vec().slice(2..6).unwrap(), 6)
            .await
            .0
            .unwrap();
        file.write_all_at(&b"AB"[..], 10).await.0.unwrap();

        let (result, bytes) = file
            .read_exact_at(bytes::BytesMut::with_capacity(4), 0)
            .await;
        result.unwrap();
        assert_eq!(&bytes[..], b"0123");
        // A slice reads into its range only; the rest of the buffer is untouched.
        let (result, slice) = file
            .read_exact_at(vec![b'-'; 8].slice(2..6).unwrap(), 4)
            .await;
        result.unwrap();
        assert_eq!(slice.into_inner(), b"--4567--");
        // A Vec with contents appends after them.
        let mut vec = Vec::with_capacity(16);
        vec.extend_from_slice(b">>");
        let (result, vec) = file.read_at(vec, 8).await;
        assert_eq!(result.unwrap(), 4);
        assert_eq!(vec, b">>89AB");
    });
}

fn cursor_reads_and_writes(runtime: Runtime) {
    let dir = TempDir::new("cursor");
    let path = dir.join("cursor");
    run(&runtime, async {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        assert_eq!(file.position(), 0);
        file.write_all(b"hello ".to_vec()).await.0.unwrap();
        file.write_all(b"world".to_vec()).await.0.unwrap();
        assert_eq!(file.position(), 11);
        file.flush().await.unwrap();

        // Reading at the cursor: at the end, nothing.
        let (result, _) = file.read(Vec::with_capacity(8)).await;
        assert_eq!(result.unwrap(), 0);

        assert_eq!(file.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        let (result, hello) = file.read_exact(Vec::with_capacity(5)).await;
        result.unwrap();
        assert_eq!(hello, b"hello");
        assert_eq!(file.position(), 5);
        assert_eq!(file.seek(SeekFrom::Current(1)).await.unwrap(), 6);
        let (result, rest) = file.read_to_end(Vec::new()).await;
        assert_eq!(result.unwrap(), 5);
        assert_eq!(rest, b"world");
        assert_eq!(file.seek(SeekFrom::End(-5)).await.unwrap(), 6);
        file.write_all(b"WORLD!".to_vec()).await.0.unwrap();
        assert_eq!(file.seek(SeekFrom::End(0)).await.unwrap(), 12);
        assert_eq!(
            file.seek(SeekFrom::Current(-13)).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(file.position(), 12, "a failed seek leaves the cursor");

        // Positional calls do not move the cursor.
        file.set_position(0);
        file.read_at(Vec::with_capacity(4), 6).await.0.unwrap();
        file.write_all_at(b"H".to_vec(), 0).await.0.unwrap();
        assert_eq!(file.position(), 0);
        let (result, all) = file.read_to_end(Vec::new()).await;
        assert_eq!(result.unwrap(), 12);
        assert_eq!(all, b"Hello WORLD!");
        file.shutdown().await.unwrap();
    });
}

fn append_mode_writes_at_the_end(runtime: Runtime) {
    let dir = TempDir::new("append");
    let path = dir.join("log");
    std::fs::write(&path, b"start\n").unwrap();
    run(&runtime, async {
        let mut log = OpenOptions::new().append(true).open(&path).await.unwrap();
        log.write_all(b"one\n".to_vec()).await.0.unwrap();
        // The cursor says 0, but append mode writes at the end.
        assert_eq!(log.position(), 0);
        log.write_all(b"two\n".to_vec()).await.0.unwrap();
        // On Linux even a positional write appends.
        log.write_all_at(b"three\n".to_vec(), 0).await.0.unwrap();
        drop(log);

        let mut both = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .await
            .unwrap();
        both.write_all(b"four\n".to_vec()).await.0.unwrap();
        let (result, contents) = both.read_to_end(Vec::new()).await;
        result.unwrap();
        assert_eq!(contents, b"start\none\ntwo\nthree\nfour\n");
    });
}

fn open_options_flags_and_rules(runtime: Runtime) {
    let dir = TempDir::new("options");
    run(&runtime, async {
        let path = dir.join("file");
        let invalid = |options: &mut OpenOptions| options.clone();
        for options in [
            invalid(&mut OpenOptions::new()),
            invalid(OpenOptions::new().read(true).create(true)),
            invalid(OpenOptions::new().read(true).truncate(true)),
            invalid(OpenOptions::new().append(true).truncate(true)),
        ] {
            let error = options.open(&path).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{options:?}");
        }
        assert!(!path.exists(), "rejected before any syscall");

        // Without create, a missing file is NotFound.
        let error = OpenOptions::new()
            .write(true)
            .open(&path)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);

        // create_new, then it exists.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(&path)
            .await
            .unwrap();
        file.write_all_at(b"contents".to_vec(), 0).await.0.unwrap();
        #[cfg(unix)]
        assert_eq!(
            file.metadata().await.unwrap().mode() & 0o777,
            0o640 & !umask()
        );
        let error = File::create_new(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AlreadyExists);

        // create without truncate keeps the contents; truncate empties.
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .open(&path)
            .await
            .unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 8);
        let file = OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 0);
        drop(file);
        let file = File::options().read(true).open(&path).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 0);

        #[cfg(unix)]
        unix_custom_flags(&dir, &path).await;
    });
}

/// custom_flags: O_NOFOLLOW refuses a symbolic link, O_DIRECTORY a file.
#[cfg(unix)]
async fn unix_custom_flags(dir: &TempDir, path: &Path) {
    {
        std::os::unix::fs::symlink(path, dir.join("link")).unwrap();
        let error = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(dir.join("link"))
            .await
            .unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ELOOP));
        // O_DIRECTORY on a file.
        let error = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(path)
            .await
            .unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENOTDIR));
    }
}

#[cfg(unix)]
fn umask() -> u32 {
    // Read the umask from a freshly created file rather than changing it process-wide.
    let dir = TempDir::new("umask");
    let path = dir.join("probe");
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    !std::fs::metadata(&path).unwrap().mode() & 0o666
}

fn read_and_write_whole_files(runtime: Runtime) {
    let dir = TempDir::new("whole");
    run(&runtime, async {
        let path = dir.join("text");
        fs::write(&path, b"line one\nline two\n".to_vec())
            .await
            .unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"line one\nline two\n");
        assert_eq!(
            fs::read_to_string(&path).await.unwrap(),
            "line one\nline two\n"
        );
        // Write replaces.
        fs::write(&path, &b"short"[..]).await.unwrap();
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "short");
        // Empty files.
        fs::write(&path, Vec::new()).await.unwrap();
        assert!(fs::read(&path).await.unwrap().is_empty());
        // Not UTF-8.
        fs::write(&path, vec![0xff, 0xfe]).await.unwrap();
        let error = fs::read_to_string(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
        // A directory cannot be read as a file.
        let error = fs::read(&dir.0).await.unwrap_err();
        assert_eq!(error.raw_os_error(), Some(code::READ_A_DIRECTORY));
        // A file whose size is not known in advance.
        #[cfg(target_os = "linux")]
        {
            let version = fs::read_to_string("/proc/self/status").await.unwrap();
            assert!(version.contains("Pid:"));
        }
    });
}

fn metadata_fields(runtime: Runtime) {
    let dir = TempDir::new("metadata");
    let path = dir.join("file");
    std::fs::write(&path, vec![7u8; 12345]).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
    let links = symlinks_work();
    if links {
        std_symlink(&path, &dir.join("link"));
    }
    let expected = std::fs::metadata(&path).unwrap();
    run(&runtime, async {
        let metadata = fs::metadata(&path).await.unwrap();
        assert!(metadata.is_file() && !metadata.is_dir() && !metadata.is_symlink());
        assert!(metadata.file_type().is_file());
        assert_eq!(metadata.len(), 12345);
        assert!(!metadata.is_empty());
        assert_eq!(metadata.permissions(), expected.permissions());
        assert_eq!(metadata.nlink(), 1);
        assert_eq!(metadata.modified().unwrap(), expected.modified().unwrap());
        assert_eq!(metadata.accessed().unwrap(), expected.accessed().unwrap());
        if let (Ok(ours), Ok(std)) = (metadata.created(), expected.created()) {
            assert_eq!(ours, std);
        }
        assert_eq!(metadata.as_raw().size, 12345);
        #[cfg(unix)]
        {
            assert_eq!(metadata.mode() & 0o7777, 0o640);
            assert_eq!(metadata.permissions().mode() & 0o777, 0o640);
            assert_eq!(metadata.ino(), expected.ino());
            assert_eq!(metadata.dev(), expected.dev());
            assert_eq!(metadata.uid(), expected.uid());
            assert_eq!(metadata.gid(), expected.gid());
            assert_eq!(metadata.rdev(), 0);
            assert!(metadata.blksize() > 0);
            assert!(metadata.blocks() > 0);
            let age = SystemTime::now()
                .duration_since(metadata.changed().unwrap())
                .unwrap_or_default();
            assert!(age < Duration::from_secs(600));
        }
        // Windows: the mode is made up from the read-only attribute; the file index and
        // volume serial number stand for the inode and device numbers.
        #[cfg(windows)]
        {
            assert_eq!(metadata.mode(), 0o100666);
            assert_ne!(metadata.ino(), 0);
            let other = dir.join("other");
            std::fs::write(&other, b"x").unwrap();
            let other = fs::metadata(&other).await.unwrap();
            assert_ne!(other.ino(), metadata.ino());
            assert_eq!(other.dev(), metadata.dev());
            assert_eq!(
                metadata.changed().unwrap_err().kind(),
                ErrorKind::Unsupported
            );
        }

        // Through the link: followed by metadata, not by symlink_metadata.
        if links {
            let followed = fs::metadata(dir.join("link")).await.unwrap();
            assert_eq!(followed.ino(), metadata.ino());
            let link = fs::symlink_metadata(dir.join("link")).await.unwrap();
            assert!(link.is_symlink() && link.file_type().is_symlink());
            assert_ne!(link.ino(), metadata.ino());
        }

        // A directory, a device, and an open file's own metadata.
        let dir_metadata = fs::metadata(&dir.0).await.unwrap();
        assert!(dir_metadata.is_dir() && dir_metadata.file_type().is_dir());
        #[cfg(unix)]
        assert!(fs::metadata("/dev/null")
            .await
            .unwrap()
            .file_type()
            .is_char_device());
        let file = File::open(&path).await.unwrap();
        assert_eq!(file.metadata().await.unwrap(), metadata);
        assert!(format!("{metadata:?}").contains("len: 12345"));
    });
}

fn sync_set_len_and_allocate(runtime: Runtime) {
    let dir = TempDir::new("sync");
    let path = dir.join("file");
    run(&runtime, async {
        let file = File::create(&path).await.unwrap();
        file.write_all_at(vec![1u8; 10_000], 0).await.0.unwrap();
        file.sync_all().await.unwrap();
        file.sync_data().await.unwrap();

        file.set_len(100).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 100);
        file.set_len(5000).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 5000);
        drop(file);
        let contents = std::fs::read(&path).unwrap();
        assert!(contents[..100].iter().all(|&byte| byte == 1));
        assert!(
            contents[100..].iter().all(|&byte| byte == 0),
            "extension is zeros"
        );

        // set_len needs write access: EINVAL on Unix; ERROR_ACCESS_DENIED on Windows,
        // ERROR_INVALID_PARAMETER under Wine 8.
        let reader = File::open(&path).await.unwrap();
        let kind = reader.set_len(0).await.unwrap_err().kind();
        #[cfg(unix)]
        assert_eq!(kind, ErrorKind::InvalidInput);
        #[cfg(windows)]
        assert!(
            matches!(kind, ErrorKind::InvalidInput | ErrorKind::PermissionDenied),
            "{kind:?}"
        );

        let file = OpenOptions::new().write(true).open(&path).await.unwrap();
        match file.allocate(0, 1 << 20).await {
            Ok(()) => {
                let metadata = file.metadata().await.unwrap();
                assert_eq!(metadata.len(), 1 << 20);
                #[cfg(unix)]
                assert!(metadata.blocks() * 512 >= 1 << 20, "space is allocated");
            }
            #[cfg(unix)]
            Err(error) => assert_eq!(error.raw_os_error(), Some(libc::EOPNOTSUPP)),
            #[cfg(windows)]
            Err(error) => panic!("allocation failed: {error}"),
        }
        // A zero length is the OS's InvalidInput.
        assert_eq!(
            file.allocate(0, 0).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        // fsync on a read-only descriptor is allowed; FlushFileBuffers needs write access.
        #[cfg(unix)]
        reader.sync_all().await.unwrap();
        #[cfg(windows)]
        assert_eq!(
            reader.sync_all().await.unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
    });
}

#[cfg(unix)]
fn permissions_and_access(runtime: Runtime) {
    let dir = TempDir::new("permissions");
    let path = dir.join("file");
    std::fs::write(&path, b"x").unwrap();
    run(&runtime, async {
        fs::set_permissions(&path, Permissions::from_mode(0o604))
            .await
            .unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o604);

        fs::access(&path, AccessMode::EXISTS).await.unwrap();
        fs::access(&path, AccessMode::READ | AccessMode::WRITE)
            .await
            .unwrap();
        // No execute bit anywhere: denied even to root.
        let error = fs::access(&path, AccessMode::EXECUTE).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied);

        let file = File::open(&path).await.unwrap();
        file.set_permissions(Permissions::from_mode(0o750))
            .await
            .unwrap();
        assert_eq!(file.metadata().await.unwrap().mode() & 0o777, 0o750);
        fs::access(&path, AccessMode::EXECUTE).await.unwrap();

        fs::set_permissions(&path, Permissions::from_mode(0o000))
            .await
            .unwrap();
        let read = fs::access(&path, AccessMode::READ).await;
        if is_root() {
            read.unwrap();
        } else {
            assert_eq!(read.unwrap_err().kind(), ErrorKind::PermissionDenied);
            let error = File::open(&path).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::PermissionDenied);
        }
        let error = fs::access(dir.join("missing"), AccessMode::EXISTS)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        let error = fs::set_permissions(dir.join("missing"), Permissions::from_mode(0o600))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    });
}

fn times_of_files_links_and_open_files(runtime: Runtime) {
    let dir = TempDir::new("times");
    let path = dir.join("file");
    std::fs::write(&path, b"x").unwrap();
    let links = symlinks_work();
    if links {
        std_symlink(&path, &dir.join("link"));
    }
    let then = UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
    let later = UNIX_EPOCH + Duration::new(1_500_000_000, 987_654_321);
    let before_epoch = UNIX_EPOCH - Duration::new(100, 250_000_000);
    run(&runtime, async {
        // Both times.
        let times = FileTimes::new().set_accessed(then).set_modified(later);
        fs::set_times(&path, times).await.unwrap();
        let metadata = fs::metadata(&path).await.unwrap();
        assert_eq!(metadata.accessed().unwrap(), then);
        assert_eq!(metadata.modified().unwrap(), later);

        // Only one: the other is left alone.
        fs::set_times(&path, FileTimes::new().set_modified(then))
            .await
            .unwrap();
        let metadata = fs::metadata(&path).await.unwrap();
        assert_eq!(metadata.accessed().unwrap(), then);
        assert_eq!(metadata.modified().unwrap(), then);

        // Through a link: set_times follows it, set_symlink_times does not.
        if links {
            links_and_times(&dir, &path, then, later).await;
        }

        // An open file (futimens), with a time before the epoch.
        let file = File::open(&path).await.unwrap();
        file.set_times(FileTimes::new().set_modified(before_epoch))
            .await
            .unwrap();
        assert_eq!(
            file.metadata().await.unwrap().modified().unwrap(),
            before_epoch
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before_epoch
        );

        let error = fs::set_times(dir.join("missing"), times).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    });
}

/// set_times follows a link, set_symlink_times changes the link itself.
async fn links_and_times(dir: &TempDir, path: &Path, then: SystemTime, later: SystemTime) {
    fs::set_times(dir.join("link"), FileTimes::new().set_modified(later))
        .await
        .unwrap();
    assert_eq!(
        fs::metadata(&path).await.unwrap().modified().unwrap(),
        later
    );
    fs::set_symlink_times(dir.join("link"), FileTimes::new().set_modified(then))
        .await
        .unwrap();
    assert_eq!(
        fs::symlink_metadata(dir.join("link"))
            .await
            .unwrap()
            .modified()
            .unwrap(),
        then
    );
    assert_eq!(
        fs::metadata(&path).await.unwrap().modified().unwrap(),
        later
    );
}

/// What every OS agrees on: `access` sees what exists, and a read-only file refuses write
/// access (except to root on Unix).
fn read_only_files_refuse_write_access(runtime: Runtime) {
    let dir = TempDir::new("read-only");
    let path = dir.join("file");
    std::fs::write(&path, b"x").unwrap();
    run(&runtime, async {
        fs::access(&path, AccessMode::EXISTS).await.unwrap();
        fs::access(&path, AccessMode::READ | AccessMode::WRITE)
            .await
            .unwrap();
        fs::access(&dir.0, AccessMode::WRITE).await.unwrap();
        let error = fs::access(dir.join("missing"), AccessMode::EXISTS)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);

        let mut permissions = fs::metadata(&path).await.unwrap().permissions();
        permissions.set_readonly(true);
        fs::set_permissions(&path, permissions).await.unwrap();
        assert!(fs::metadata(&path).await.unwrap().permissions().readonly());
        fs::access(&path, AccessMode::READ).await.unwrap();
        #[cfg(unix)]
        let root = is_root();
        #[cfg(windows)]
        let root = false;
        if !root {
            let error = fs::access(&path, AccessMode::WRITE).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::PermissionDenied);
            // Windows refuses the open too, but Wine run by root (as in CI) opens it.
            #[cfg(unix)]
            {
                let error = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .await
                    .unwrap_err();
                assert_eq!(error.kind(), ErrorKind::PermissionDenied);
            }
        }
        // Writable again, so the directory can be removed everywhere.
        let file = File::open(&path).await.unwrap();
        let mut permissions = file.metadata().await.unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        file.set_permissions(permissions).await.unwrap();
        assert!(!fs::metadata(&path).await.unwrap().permissions().readonly());
    });
}

fn directories_create_list_remove(runtime: Runtime) {
    let dir = TempDir::new("dirs");
    run(&runtime, async {
        let top = dir.join("top");
        fs::create_dir(&top).await.unwrap();
        assert_eq!(
            fs::create_dir(&top).await.unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );
        let error = fs::create_dir(dir.join("no/parent")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        fs::create_dir_all(top.join("a/b/c")).await.unwrap();
        fs::create_dir_all(top.join("a/b/c")).await.unwrap();
        fs::write(top.join("file.txt"), b"f".to_vec())
            .await
            .unwrap();
        let links = symlinks_work();
        if links {
            fs::symlink("file.txt", top.join("link")).await.unwrap();
        }

        let mut entries = fs::read_dir(&top).await.unwrap();
        let mut seen = Vec::new();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            assert_eq!(entry.path(), top.join(entry.file_name()));
            let file_type = entry.file_type().await.unwrap();
            let kind = if file_type.is_dir() {
                "dir"
            } else if file_type.is_symlink() {
                "link"
            } else if file_type.is_file() {
                "file"
            } else {
                "other"
            };
            let metadata = entry.metadata().await.unwrap();
            // Windows lists no file index (DirEntry::ino is 0 there).
            #[cfg(unix)]
            assert_eq!(metadata.ino(), entry.ino());
            assert_eq!(metadata.file_type(), file_type);
            seen.push((entry.file_name(), kind));
        }
        seen.sort();
        let mut expected = vec![
            (OsString::from("a"), "dir"),
            (OsString::from("file.txt"), "file"),
        ];
        if links {
            expected.push((OsString::from("link"), "link"));
        }
        assert_eq!(seen, expected);
        // Exhausted stays exhausted.
        assert!(entries.next_entry().await.unwrap().is_none());

        // Empty directory.
        let mut empty = fs::read_dir(top.join("a/b/c")).await.unwrap();
        assert!(empty.next_entry().await.unwrap().is_none());

        // Errors: listing a file, removing a non-empty directory or a file as a directory.
        let error = fs::read_dir(top.join("file.txt")).await.unwrap_err();
        #[cfg(unix)]
        assert_eq!(error.raw_os_error(), Some(code::NOT_A_DIRECTORY));
        // FindFirstFileW on "file\*": ERROR_DIRECTORY on Windows, ERROR_INVALID_NAME (123)
        // under Wine 8.
        #[cfg(windows)]
        assert!(
            matches!(error.raw_os_error(), Some(code::NOT_A_DIRECTORY | 123)),
            "{error}"
        );
        let error = fs::read_dir(dir.join("missing")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        let error = fs::remove_dir(top.join("a")).await.unwrap_err();
        assert_eq!(error.raw_os_error(), Some(code::DIRECTORY_NOT_EMPTY));
        let error = fs::remove_dir(top.join("file.txt")).await.unwrap_err();
        assert_eq!(error.raw_os_error(), Some(code::NOT_A_DIRECTORY));
        let error = fs::remove_file(top.join("a")).await.unwrap_err();
        #[cfg(unix)]
        assert!(matches!(
            error.raw_os_error(),
            Some(libc::EISDIR | libc::EPERM)
        ));
        #[cfg(windows)]
        assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");

        fs::remove_dir(top.join("a/b/c")).await.unwrap();
        assert!(!top.join("a/b/c").exists());
        fs::remove_dir_all(&top).await.unwrap();
        assert!(!fs::try_exists(&top).await.unwrap());
    });
}

fn large_directory_listing(runtime: Runtime) {
    let dir = TempDir::new("many");
    let expected: BTreeSet<OsString> = (0..300)
        .map(|i| OsString::from(format!("entry-{i:03}")))
        .collect();
    for name in &expected {
        std::fs::write(dir.join(name), b"").unwrap();
    }
    let listed = run(&runtime, async {
        let mut entries = fs::read_dir(&dir.0).await.unwrap();
        let mut names = BTreeSet::new();
        // Cancel a few calls midway: no entry may be lost or repeated.
        for _ in 0..3 {
            if let Ok(entry) = timeout(Duration::ZERO, entries.next_entry()).await {
                // It finished before the deadline: keep what it returned.
                names.insert(entry.unwrap().unwrap().file_name());
            }
        }
        while let Some(entry) = entries.next_entry().await.unwrap() {
            assert!(names.insert(entry.file_name()), "listed twice: {entry:?}");
        }
        names
    });
    assert_eq!(listed, expected);
}

fn rename_remove_and_links(runtime: Runtime) {
    let dir = TempDir::new("links");
    run(&runtime, async {
        let a = dir.join("a");
        let b = dir.join("b");
        fs::write(&a, b"first".to_vec()).await.unwrap();
        fs::write(&b, b"second".to_vec()).await.unwrap();
        // Rename replaces an existing file.
        fs::rename(&a, &b).await.unwrap();
        assert!(!fs::try_exists(&a).await.unwrap());
        assert_eq!(fs::read(&b).await.unwrap(), b"first");
        let error = fs::rename(&a, &b).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        // A directory cannot replace a file.
        fs::create_dir(dir.join("d")).await.unwrap();
        // (Windows refuses too, with access denied; Wine 8 lets the directory replace it.)
        #[cfg(unix)]
        {
            let error = fs::rename(dir.join("d"), &b).await.unwrap_err();
            assert_eq!(error.raw_os_error(), Some(libc::ENOTDIR));
        }

        // Hard link: same inode, two links; removing one keeps the data.
        let hard = dir.join("hard");
        fs::hard_link(&b, &hard).await.unwrap();
        let metadata = fs::metadata(&hard).await.unwrap();
        assert_eq!(metadata.nlink(), 2);
        assert_eq!(metadata.ino(), fs::metadata(&b).await.unwrap().ino());
        assert_eq!(
            fs::hard_link(&b, &hard).await.unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );
        fs::remove_file(&b).await.unwrap();
        assert_eq!(fs::metadata(&hard).await.unwrap().nlink(), 1);
        assert_eq!(fs::read(&hard).await.unwrap(), b"first");

        if symlinks_work() {
            symbolic_links(&dir, &hard).await;
        }
    });
}

/// Symbolic links: relative target, read_link, canonicalize, dangling.
async fn symbolic_links(dir: &TempDir, hard: &Path) {
    let link = dir.join("soft");
    fs::symlink("hard", &link).await.unwrap();
    assert_eq!(fs::read_link(&link).await.unwrap(), Path::new("hard"));
    assert_eq!(fs::read(&link).await.unwrap(), b"first");
    let canonical = fs::canonicalize(&link).await.unwrap();
    assert_eq!(canonical, std::fs::canonicalize(hard).unwrap());
    assert!(canonical.is_absolute());
    let error = fs::read_link(hard).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    fs::remove_file(hard).await.unwrap();
    assert!(fs::symlink_metadata(&link).await.unwrap().is_symlink());
    let error = fs::metadata(&link).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "a dangling link");
    let error = fs::canonicalize(&link).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(
        fs::symlink("x", &link).await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    // remove_file removes the link, not its target.
    fs::write(dir.join("target"), b"t".to_vec()).await.unwrap();
    fs::symlink("target", dir.join("to-target")).await.unwrap();
    fs::remove_file(dir.join("to-target")).await.unwrap();
    assert_eq!(fs::read(dir.join("target")).await.unwrap(), b"t");
}

fn copy_of_10_mb_is_intact(runtime: Runtime) {
    let dir = TempDir::new("copy");
    let from = dir.join("from");
    let to = dir.join("to");
    let data: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    run(&runtime, async {
        fs::write(&from, data.clone()).await.unwrap();
        // Permission bits on Unix, the read-only attribute on Windows.
        #[cfg(unix)]
        let permissions = Permissions::from_mode(0o100640);
        #[cfg(windows)]
        let permissions = {
            let mut permissions = fs::metadata(&from).await.unwrap().permissions();
            permissions.set_readonly(true);
            permissions
        };
        fs::set_permissions(&from, permissions.clone())
            .await
            .unwrap();
        // An existing destination is truncated.
        fs::write(&to, vec![9u8; 20 * 1024 * 1024]).await.unwrap();
        let copied = fs::copy(&from, &to).await.unwrap();
        assert_eq!(copied, data.len() as u64);
        let back = fs::read(&to).await.unwrap();
        assert_eq!(back.len(), data.len());
        assert!(back == data, "the copy is byte for byte the original");
        assert_eq!(fs::metadata(&to).await.unwrap().permissions(), permissions);

        // Empty files and directories as sources.
        fs::write(dir.join("empty"), Vec::new()).await.unwrap();
        assert_eq!(
            fs::copy(dir.join("empty"), dir.join("empty2"))
                .await
                .unwrap(),
            0
        );
        assert!(fs::read(dir.join("empty2")).await.unwrap().is_empty());
        let error = fs::copy(&dir.0, dir.join("dir-copy")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        // Copying a file onto itself (through a hard link, or a symbolic one) leaves it intact.
        fs::hard_link(&from, dir.join("same")).await.unwrap();
        let error = fs::copy(&from, dir.join("same")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        if symlinks_work() {
            fs::symlink(&from, dir.join("alias")).await.unwrap();
            let error = fs::copy(&from, dir.join("alias")).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput);
        }
        assert_eq!(fs::metadata(&from).await.unwrap().len(), data.len() as u64);
        // Windows removes no read-only file: make them writable for the TempDir's drop.
        #[cfg(windows)]
        for path in [&from, &to] {
            let mut permissions = fs::metadata(path).await.unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            fs::set_permissions(path, permissions).await.unwrap();
        }
    });
}

#[cfg(unix)]
fn ownership(runtime: Runtime) {
    let dir = TempDir::new("owner");
    let path = dir.join("file");
    std::fs::write(&path, b"x").unwrap();
    std_symlink(&path, &dir.join("link"));
    let metadata = std::fs::metadata(&path).unwrap();
    let (uid, gid) = (metadata.uid(), metadata.gid());
    run(&runtime, async {
        // Giving a file to its own owner and group is always allowed.
        fs::chown(&path, Some(uid), Some(gid)).await.unwrap();
        fs::chown(&path, None, None).await.unwrap();
        fs::lchown(dir.join("link"), Some(uid), None).await.unwrap();
        let file = File::open(&path).await.unwrap();
        fs::fchown(&file, None, Some(gid)).await.unwrap();
        let error = fs::chown(dir.join("missing"), None, None)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);

        if is_root() {
            fs::chown(&path, Some(4321), Some(8765)).await.unwrap();
            let changed = fs::metadata(&path).await.unwrap();
            assert_eq!((changed.uid(), changed.gid()), (4321, 8765));
            // lchown changes the link, not the target.
            fs::lchown(dir.join("link"), Some(1111), None)
                .await
                .unwrap();
            assert_eq!(
                fs::symlink_metadata(dir.join("link")).await.unwrap().uid(),
                1111
            );
            assert_eq!(fs::metadata(&path).await.unwrap().uid(), 4321);
            fs::fchown(&file, Some(uid), Some(gid)).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().uid(), uid);
        } else {
            let error = fs::chown(&path, Some(0), None).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::PermissionDenied);
        }
    });
}

fn statfs_reports_the_file_system(runtime: Runtime) {
    let dir = TempDir::new("statfs");
    run(&runtime, async {
        let stats = fs::statfs(&dir.0).await.unwrap();
        assert!(stats.block_size > 0);
        assert!(stats.io_size > 0);
        assert!(stats.blocks > 0);
        assert!(stats.blocks_free <= stats.blocks);
        assert!(stats.blocks_available <= stats.blocks_free);
        assert!(stats.files_free <= stats.files);
        assert!(stats.name_max >= 14);
        // A file's file system is its directory's.
        std::fs::write(dir.join("file"), b"x").unwrap();
        let of_file = fs::statfs(dir.join("file")).await.unwrap();
        assert_eq!(
            (of_file.block_size, of_file.blocks),
            (stats.block_size, stats.blocks)
        );
        let error = fs::statfs(dir.join("missing")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    });
}

fn temporary_names_are_unique(runtime: Runtime) {
    let dir = TempDir::new("temp");
    run(&runtime, async {
        let mut dirs = BTreeSet::new();
        let mut files = BTreeSet::new();
        for _ in 0..20 {
            let made = fs::mkdtemp(dir.join("d-XXXXXX")).await.unwrap();
            assert!(made.starts_with(&dir.0));
            let name = made.file_name().unwrap().to_str().unwrap().to_owned();
            assert!(name.starts_with("d-") && name.len() == 8 && !name.ends_with("XXXXXX"));
            let metadata = fs::metadata(&made).await.unwrap();
            assert!(metadata.is_dir());
            #[cfg(unix)]
            assert_eq!(metadata.mode() & 0o777, 0o700);
            assert!(dirs.insert(made));

            let (file, path) = fs::mkstemp(dir.join("f-XXXXXX")).await.unwrap();
            let metadata = file.metadata().await.unwrap();
            assert!(metadata.is_file());
            #[cfg(unix)]
            assert_eq!(metadata.mode() & 0o777, 0o600);
            assert_eq!(metadata.ino(), fs::metadata(&path).await.unwrap().ino());
            // Open for reading and writing.
            file.write_all_at(b"tmp".to_vec(), 0).await.0.unwrap();
            let (result, back) = file.read_at(Vec::with_capacity(3), 0).await;
            result.unwrap();
            assert_eq!(back, b"tmp");
            assert!(files.insert(path));
        }
        assert_eq!(dirs.len() + files.len(), 40);
        // Close-on-exec, like every descriptor the runtime opens.
        #[cfg(unix)]
        {
            let (file, _) = fs::mkstemp(dir.join("c-XXXXXX")).await.unwrap();
            use std::os::fd::AsRawFd;
            // SAFETY: F_GETFD only reads the flags of a descriptor `file` keeps open.
            let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFD) };
            assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
        }

        for bad in ["no-placeholder", "short-XXXXX", "XXXXXX-after"] {
            let error = fs::mkdtemp(dir.join(bad)).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad}");
            let error = fs::mkstemp(dir.join(bad)).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        let error = fs::mkdtemp(dir.join("missing/d-XXXXXX")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    });
}

fn from_std_and_concurrent_positional_reads(runtime: Runtime) {
    let dir = TempDir::new("concurrent");
    let path = dir.join("blocks");
    let block = 64 * 1024;
    let data: Vec<u8> = (0..16 * block).map(|i| (i / block) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    run(&runtime, async {
        let mut std_file = std::fs::File::open(&path).unwrap();
        std::io::Seek::seek(&mut std_file, SeekFrom::Start(block as u64)).unwrap();
        let file = std::rc::Rc::new(File::from_std(std_file));
        assert_eq!(file.position(), block as u64);

        // Sixteen reads in flight at once on one file, from separate tasks.
        let tasks: Vec<_> = (0..16)
            .map(|index| {
                let file = std::rc::Rc::clone(&file);
                spawn(async move {
                    let (result, buffer) = file
                        .read_exact_at(Vec::with_capacity(block), (index * block) as u64)
                        .await;
                    result.unwrap();
                    (index, buffer)
                })
            })
            .collect();
        for task in tasks {
            let (index, buffer) = task.await.unwrap();
            assert!(
                buffer.iter().all(|&byte| byte == index as u8),
                "block {index}"
            );
        }

        let appending = File::from_std(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap(),
        );
        let mut appending = appending;
        appending.write_all(b"end".to_vec()).await.0.unwrap();
        assert_eq!(
            fs::metadata(&path).await.unwrap().len(),
            (16 * block + 3) as u64
        );
    });
}
