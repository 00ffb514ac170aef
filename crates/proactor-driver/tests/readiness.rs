//! The epoll backend runs file work on its own thread when the kernel promises it will not
//! block — a read served from the page cache (`RWF_NOWAIT`), an open whose path is cached
//! (`RESOLVE_CACHED`) — instead of a round trip through the thread pool. Such an operation
//! has completed by the time `submit` returns, so a poll that does not wait hands it out.

#![cfg(target_os = "linux")]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;

use proactor_driver::{Backend, Buffer, Completion, Driver, Op};

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("proactor-readiness-{name}-{}", std::process::id()));
        std::fs::write(&path, contents).expect("write the test file");
        // Read it once so that its pages and its path are in the caches.
        assert_eq!(std::fs::read(&path).expect("read it back"), contents);
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Submits `op` and polls once without waiting.
fn submit_and_poll_now(driver: &mut Driver, op: Op) -> Vec<Completion> {
    driver.submit(op);
    let mut completions = Vec::new();
    driver
        .poll(&mut completions, Some(Duration::ZERO))
        .expect("poll");
    completions
}

/// Waits (bounded) for whatever is still in flight, so nothing outlives the test.
fn drain(driver: &mut Driver) {
    let mut completions = Vec::new();
    while driver.in_flight() > 0 {
        driver
            .poll(&mut completions, Some(Duration::from_secs(5)))
            .expect("poll");
    }
}

#[test]
fn cached_file_reads_complete_in_submit() {
    let file = TempFile::new("read", b"from the page cache");
    let std_file = std::fs::File::open(&file.0).unwrap();
    let mut driver = Driver::with_backend(Backend::Epoll).unwrap();
    let completions = submit_and_poll_now(
        &mut driver,
        Op::Read {
            fd: std_file.as_raw_fd(),
            buf: Buffer::from(Vec::with_capacity(64)),
            offset: Some(5),
        },
    );
    assert_eq!(completions.len(), 1, "the read went to the pool");
    let completion = completions.into_iter().next().unwrap();
    assert_eq!(completion.result.unwrap(), 14);
    let Op::Read { buf, .. } = completion.op else {
        unreachable!()
    };
    assert_eq!(buf.as_slice(), b"the page cache");
    // At the end of the file: 0, also without the pool.
    let completions = submit_and_poll_now(
        &mut driver,
        Op::Read {
            fd: std_file.as_raw_fd(),
            buf: Buffer::from(Vec::with_capacity(64)),
            offset: Some(100),
        },
    );
    assert_eq!(completions.len(), 1);
    assert_eq!(*completions[0].result.as_ref().unwrap(), 0);
    drain(&mut driver);
}

#[test]
fn cached_opens_complete_in_submit() {
    let file = TempFile::new("open", b"x");
    let mut driver = Driver::with_backend(Backend::Epoll).unwrap();
    let completions = submit_and_poll_now(
        &mut driver,
        Op::open_at(None, &file.0, libc::O_RDONLY, 0).unwrap(),
    );
    assert_eq!(completions.len(), 1, "the open went to the pool");
    let fd = *completions[0].result.as_ref().unwrap();
    // SAFETY: the open op returned a new descriptor nothing else owns.
    let opened = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // SAFETY: fcntl with integer arguments on a descriptor `opened` keeps open.
    let flags = unsafe { libc::fcntl(opened.as_raw_fd(), libc::F_GETFD) };
    assert_ne!(flags & libc::FD_CLOEXEC, 0, "opened close-on-exec");
    // A missing file is an answer too: NotFound, from the cache of names.
    let completions = submit_and_poll_now(
        &mut driver,
        Op::open_at(None, file.0.with_extension("missing"), libc::O_RDONLY, 0).unwrap(),
    );
    if let [completion] = completions.as_slice() {
        let error = completion.result.as_ref().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    }
    drain(&mut driver);
}

#[test]
fn creating_opens_still_work() {
    // O_CREAT is not tried on the driver's thread (RESOLVE_CACHED refuses it): the pool runs
    // it, and the result is the same.
    let path =
        std::env::temp_dir().join(format!("proactor-readiness-create-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut driver = Driver::with_backend(Backend::Epoll).unwrap();
    driver.submit(
        Op::open_at(
            None,
            &path,
            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
            0o600,
        )
        .unwrap(),
    );
    let mut completions = Vec::new();
    while completions.is_empty() {
        driver
            .poll(&mut completions, Some(Duration::from_secs(5)))
            .unwrap();
    }
    let fd = *completions[0].result.as_ref().unwrap();
    // SAFETY: the open op returned a new descriptor nothing else owns.
    drop(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    assert!(path.exists());
    std::fs::remove_file(&path).unwrap();
}

/// The metadata a `Statx` completion carries.
fn metadata_of(completion: &Completion) -> &proactor_driver::Metadata {
    match &completion.op {
        Op::Statx { metadata, .. } => metadata,
        other => panic!("not a statx: {other:?}"),
    }
}

#[test]
fn cached_statx_completes_in_submit() {
    let file = TempFile::new("statx", b"seven b");
    let mut driver = Driver::with_backend(Backend::Epoll).unwrap();
    let completions = submit_and_poll_now(&mut driver, Op::statx(None, &file.0, 0).unwrap());
    assert_eq!(completions.len(), 1, "the statx went to the pool");
    completions[0].result.as_ref().unwrap();
    let metadata = metadata_of(&completions[0]);
    assert!(metadata.is_file());
    assert_eq!(metadata.size, 7);
    let expected = std::fs::metadata(&file.0).unwrap();
    assert_eq!(metadata.ino, std::os::unix::fs::MetadataExt::ino(&expected));

    // A link: followed by default, itself with AT_SYMLINK_NOFOLLOW, as statx answers.
    let link = file.0.with_extension("link");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&file.0, &link).unwrap();
    let _ = std::fs::symlink_metadata(&link);
    let followed = submit_and_poll_now(&mut driver, Op::statx(None, &link, 0).unwrap());
    let not_followed = submit_and_poll_now(
        &mut driver,
        Op::statx(None, &link, libc::AT_SYMLINK_NOFOLLOW).unwrap(),
    );
    drain(&mut driver);
    std::fs::remove_file(&link).unwrap();
    if let ([followed], [not_followed]) = (followed.as_slice(), not_followed.as_slice()) {
        assert!(metadata_of(followed).is_file());
        assert!(metadata_of(not_followed).is_symlink());
    }

    // A FIFO is looked at, never opened: at once, and no writer is let through.
    let fifo = file.0.with_extension("fifo");
    let _ = std::fs::remove_file(&fifo);
    let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: the path is NUL-terminated.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let _ = std::fs::symlink_metadata(&fifo);
    let completions = submit_and_poll_now(&mut driver, Op::statx(None, &fifo, 0).unwrap());
    drain(&mut driver);
    std::fs::remove_file(&fifo).unwrap();
    if let [completion] = completions.as_slice() {
        completion.result.as_ref().unwrap();
        let mode = metadata_of(completion).mode & libc::S_IFMT;
        assert_eq!(mode, libc::S_IFIFO);
    }

    // A missing name: NotFound, inline or from the pool.
    let missing = file.0.with_extension("missing");
    driver.submit(Op::statx(None, &missing, 0).unwrap());
    let mut completions = Vec::new();
    while completions.is_empty() {
        driver
            .poll(&mut completions, Some(Duration::from_secs(5)))
            .unwrap();
    }
    let error = completions[0].result.as_ref().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
}
