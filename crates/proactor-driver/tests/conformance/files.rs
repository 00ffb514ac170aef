//! Files: reads and writes at offsets and at the current position, vectored I/O, open, statx,
//! fsync, close, every buffer kind, and work on the thread pool.
//!
//! Windows has no file position for the driver (an offset is always given) and no
//! path operations in the driver (the `proactor` crate does those with std on the pool): those
//! cases check the operations say so there.

use std::io::ErrorKind;
#[cfg(unix)]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
#[cfg(unix)]
use std::os::unix::fs::MetadataExt;

use bytes::BytesMut;
use proactor_driver::{Buffer, Op};

use crate::harness::{bytes_of, open_file as open, raw, room, Harness, TempDir, JOB_ERROR};

pub fn write_and_read_at_offsets(mut harness: Harness) {
    let dir = TempDir::new();
    let file = open(&dir.file("data", b""), false);
    let fd = raw(&file);
    let (written, _) = harness.ok(Op::Write {
        fd,
        buf: Buffer::from(b"world".to_vec()),
        offset: Some(6),
    });
    assert_eq!(written, 5);
    harness.ok(Op::Write {
        fd,
        buf: Buffer::from("hello "),
        offset: Some(0),
    });
    let (read, op) = harness.ok(Op::Read {
        fd,
        buf: room(64),
        offset: Some(0),
    });
    assert_eq!(read, 11);
    assert_eq!(bytes_of(op), b"hello world");
    let (read, op) = harness.ok(Op::Read {
        fd,
        buf: room(3),
        offset: Some(6),
    });
    assert_eq!(read, 3);
    assert_eq!(bytes_of(op), b"wor");
}

pub fn holes_read_as_zeros(mut harness: Harness) {
    let dir = TempDir::new();
    let file = open(&dir.file("sparse", b""), false);
    let fd = raw(&file);
    harness.ok(Op::Write {
        fd,
        buf: Buffer::from("end"),
        offset: Some(1 << 20),
    });
    assert_eq!(file.metadata().unwrap().len(), (1 << 20) + 3);
    let (read, op) = harness.ok(Op::Read {
        fd,
        buf: room(4096),
        offset: Some(4096),
    });
    assert_eq!(read, 4096);
    assert!(bytes_of(op).iter().all(|&byte| byte == 0));
}

pub fn read_at_eof_returns_zero(mut harness: Harness) {
    let dir = TempDir::new();
    let file = open(&dir.file("short", b"abc"), false);
    let (read, op) = harness.ok(Op::Read {
        fd: raw(&file),
        buf: room(16),
        offset: Some(3),
    });
    assert_eq!(read, 0);
    assert!(bytes_of(op).is_empty());
    let (read, _) = harness.ok(Op::Read {
        fd: raw(&file),
        buf: room(16),
        offset: Some(1000),
    });
    assert_eq!(read, 0);
    // A read that straddles the end is short.
    let (read, op) = harness.ok(Op::Read {
        fd: raw(&file),
        buf: room(16),
        offset: Some(1),
    });
    assert_eq!((read, bytes_of(op)), (2, b"bc".to_vec()));
}

#[cfg(unix)]
pub fn append_writes_go_to_the_end(mut harness: Harness) {
    let dir = TempDir::new();
    let path = dir.file("log", b"first\n");
    let file = open(&path, true);
    for line in ["second\n", "third\n"] {
        let (written, _) = harness.ok(Op::Write {
            fd: raw(&file),
            buf: Buffer::from(line),
            offset: None,
        });
        assert_eq!(written, line.len());
    }
    assert_eq!(std::fs::read(&path).unwrap(), b"first\nsecond\nthird\n");
}

/// The driver keeps no file position on Windows: a write without an offset is refused, even
/// in append mode, and writes nothing.
#[cfg(windows)]
pub fn append_writes_go_to_the_end(mut harness: Harness) {
    let dir = TempDir::new();
    let path = dir.file("log", b"first\n");
    let file = open(&path, true);
    let completion = harness.run(Op::Write {
        fd: raw(&file),
        buf: Buffer::from("second\n"),
        offset: None,
    });
    let error = completion.result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert_eq!(
        bytes_of(completion.op),
        b"second\n",
        "the buffer comes back"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"first\n");
}

#[cfg(unix)]
pub fn current_position_reads_advance(mut harness: Harness) {
    let dir = TempDir::new();
    let file = open(&dir.file("seq", b"0123456789"), false);
    let mut seen = Vec::new();
    loop {
        let (read, op) = harness.ok(Op::Read {
            fd: raw(&file),
            buf: room(4),
            offset: None,
        });
        if read == 0 {
            break;
        }
        seen.extend(bytes_of(op));
    }
    assert_eq!(seen, b"0123456789");
}

/// The driver keeps no file position on Windows: a read without an offset is refused.
#[cfg(windows)]
pub fn current_position_reads_advance(mut harness: Harness) {
    let dir = TempDir::new();
    let file = open(&dir.file("seq", b"0123456789"), false);
    let completion = harness.run(Op::Read {
        fd: raw(&file),
        buf: room(4),
        offset: None,
    });
    let error = completion.result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert_eq!(completion.op.into_buffer().unwrap().read_capacity(), 4);
    let error = harness.error(Op::ReadVectored {
        fd: raw(&file),
        bufs: vec![room(4), room(4)],
        offset: None,
    });
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
}

pub fn vectored_write_and_read(mut harness: Harness) {
    let dir = TempDir::new();
    let file = open(&dir.file("vectored", b""), false);
    let fd = raw(&file);
    let (written, op) = harness.ok(Op::WriteVectored {
        fd,
        bufs: vec![
            Buffer::from("abc"),
            Buffer::from(b"defg".to_vec()),
            Buffer::from("h"),
        ],
        offset: Some(2),
    });
    assert_eq!(written, 8);
    assert_eq!(
        op.into_buffers().unwrap().len(),
        3,
        "every buffer comes back"
    );
    let (read, op) = harness.ok(Op::ReadVectored {
        fd,
        bufs: vec![
            room(1),
            room(5),
            Buffer::from(vec![0u8; 8].into_boxed_slice()),
        ],
        offset: Some(0),
    });
    assert_eq!(read, 10);
    let bufs = op.into_buffers().unwrap();
    assert_eq!(bufs[0].as_slice(), b"\0");
    assert_eq!(bufs[1].as_slice(), b"\0abcd");
    assert_eq!(&bufs[2].as_slice()[..4], b"efgh");
    // Vectored I/O at the current position on a socket.
    let (left, right) = crate::harness::socket_pair();
    let (written, _) = harness.ok(Op::WriteVectored {
        fd: raw(&left),
        bufs: vec![Buffer::from("ping "), Buffer::from("pong")],
        offset: None,
    });
    assert_eq!(written, 9);
    let (read, op) = harness.ok(Op::ReadVectored {
        fd: raw(&right),
        bufs: vec![room(5), room(16)],
        offset: None,
    });
    assert_eq!(read, 9);
    let bufs = op.into_buffers().unwrap();
    assert_eq!(
        (bufs[0].as_slice(), bufs[1].as_slice()),
        (&b"ping "[..], &b"pong"[..])
    );
}

/// More buffers than one `readv`/`writev` takes (IOV_MAX, 1024): every byte is written, in
/// order, and read back, at an offset and (Unix) at the current position of a file, and on a
/// stream whose peer drains it meanwhile.
pub fn vectored_io_beyond_iov_max(mut harness: Harness) {
    // IOCP writes a file one buffer per overlapped call (Windows has no gathering write to
    // files at offsets): 100,000 calls take longer than a wait's bound under Wine. Still
    // several times the 1,024 buffers a socket send takes at once there.
    #[cfg(unix)]
    const COUNT: usize = 100_000;
    #[cfg(windows)]
    const COUNT: usize = 5_000;
    let word = |index: usize| (index as u32).to_le_bytes();
    let expected: Vec<u8> = (0..COUNT).flat_map(word).collect();
    let words = || -> Vec<Buffer> {
        (0..COUNT)
            .map(|index| Buffer::from(word(index).to_vec()))
            .collect()
    };
    let concat = |op: Op| -> Vec<u8> {
        let bufs = op.into_buffers().expect("vectored buffers");
        assert_eq!(bufs.len(), COUNT, "every buffer comes back");
        bufs.iter()
            .flat_map(|buf| buf.as_slice().to_vec())
            .collect()
    };
    let dir = TempDir::new();
    let path = dir.file("many", b"");
    let file = open(&path, false);
    let fd = raw(&file);
    let (written, op) = harness.ok(Op::WriteVectored {
        fd,
        bufs: words(),
        offset: Some(3),
    });
    assert_eq!(written, expected.len());
    assert_eq!(concat(op), expected);
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(on_disk.len(), 3 + expected.len());
    assert!(
        on_disk[3..] == expected[..],
        "the file holds every word in order"
    );
    let (read, op) = harness.ok(Op::ReadVectored {
        fd,
        bufs: (0..COUNT).map(|_| room(4)).collect(),
        offset: Some(3),
    });
    assert_eq!(read, expected.len());
    assert!(concat(op) == expected, "read back in order");
    // Kept open to the end: a descriptor closed outside the driver could lend its number to
    // the sockets below while the driver still takes it for a file.
    #[cfg(unix)]
    let _appended = {
        let path = dir.file("appended", b"");
        let file = open(&path, false);
        let (written, _) = harness.ok(Op::WriteVectored {
            fd: raw(&file),
            bufs: words(),
            offset: None,
        });
        assert_eq!(written, expected.len());
        assert!(std::fs::read(&path).unwrap() == expected);
        file
    };
    // A stream: the write waits for room as the peer drains it, and ends once all is sent.
    let (left, right) = crate::harness::socket_pair();
    let write = harness.submit(Op::WriteVectored {
        fd: raw(&left),
        bufs: words(),
        offset: None,
    });
    let mut received = Vec::new();
    while received.len() < expected.len() {
        let (count, op) = harness.ok(Op::Recv {
            fd: raw(&right),
            buf: room(64 * 1024),
            flags: 0,
        });
        assert!(count > 0, "end of stream after {} bytes", received.len());
        received.extend(bytes_of(op));
    }
    let completion = harness.wait(write);
    assert_eq!(completion.result.unwrap(), expected.len());
    assert!(
        received == expected,
        "the peer received every word in order"
    );
    // A read of as many buffers from a stream takes what is there.
    harness.ok(Op::Send {
        fd: raw(&left),
        buf: Buffer::from(expected[..8192].to_vec()),
        flags: 0,
    });
    let (read, op) = harness.ok(Op::ReadVectored {
        fd: raw(&right),
        bufs: (0..COUNT).map(|_| room(4)).collect(),
        offset: None,
    });
    assert!(read > 0 && read <= 8192, "{read}");
    assert!(concat(op)[..read] == expected[..read]);
    // Cancelled while it waits for room, a write in parts reports the bytes that went.
    #[cfg(unix)]
    {
        use std::io::Read;
        let (left, right) = crate::harness::socket_pair();
        let bufs: Vec<Buffer> = (0..4 * COUNT)
            .map(|index| Buffer::from(word(index % COUNT).to_vec()))
            .collect();
        let expected: Vec<u8> = (0..4 * COUNT)
            .flat_map(|index| word(index % COUNT))
            .collect();
        let write = harness.submit(Op::WriteVectored {
            fd: raw(&left),
            bufs,
            offset: None,
        });
        assert!(
            harness
                .try_wait(write, std::time::Duration::from_millis(100))
                .is_none(),
            "1.6 MB went into a socket nobody reads"
        );
        harness.driver.cancel(write).unwrap();
        let sent = harness
            .wait(write)
            .result
            .expect("bytes went before the cancel");
        assert!(sent > 0 && sent < expected.len(), "{sent}");
        drop(left);
        let mut peer = std::os::unix::net::UnixStream::from(right);
        peer.set_nonblocking(false).unwrap();
        let mut received = Vec::new();
        peer.read_to_end(&mut received).unwrap();
        assert_eq!(received.len(), sent);
        assert!(received == expected[..sent]);
    }
}

#[cfg(unix)]
pub fn open_statx_fsync_close(mut harness: Harness) {
    let dir = TempDir::new();
    let path = dir.path().join("created");
    let (fd, _) = harness.ok(Op::open_at(
        None,
        &path,
        libc::O_CREAT | libc::O_RDWR | libc::O_EXCL,
        0o640,
    )
    .unwrap());
    let fd = fd as RawFd;
    // SAFETY: fcntl with integer arguments on the descriptor just opened.
    let descriptor_flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert_ne!(
        descriptor_flags & libc::FD_CLOEXEC,
        0,
        "opened close-on-exec"
    );
    harness.ok(Op::Write {
        fd,
        buf: Buffer::from("twelve bytes"),
        offset: Some(0),
    });
    harness.ok(Op::Fsync {
        fd,
        data_only: false,
    });
    harness.ok(Op::Fsync {
        fd,
        data_only: true,
    });
    let (_, op) = harness.ok(Op::statx(Some(fd), "", 0).unwrap());
    let Op::Statx { metadata, .. } = op else {
        unreachable!()
    };
    assert!(metadata.is_file());
    assert_eq!(metadata.size, 12);
    assert_eq!(metadata.mode & 0o777, 0o640);
    assert!(metadata.modified.is_some());
    // By path, relative to a directory descriptor.
    let directory = std::fs::File::open(dir.path()).unwrap();
    let (_, op) = harness.ok(Op::statx(Some(directory.as_raw_fd()), "created", 0).unwrap());
    let Op::Statx {
        metadata: by_path, ..
    } = op
    else {
        unreachable!()
    };
    assert_eq!(by_path.ino, metadata.ino);
    let (_, op) = harness.ok(Op::statx(None, dir.path(), 0).unwrap());
    let Op::Statx { metadata, .. } = op else {
        unreachable!()
    };
    assert!(metadata.is_dir());
    let file_ino = by_path.ino;
    harness.ok(Op::Close { fd });
    // The descriptor is gone. Tests run in parallel, so another may already have been
    // given the same number: what must not be behind it any more is this file.
    // SAFETY: an all-zero `stat` is a valid value for fstat to overwrite.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes into the `stat` it is given; on a closed number it reports EBADF.
    let still_open = unsafe { libc::fstat(fd, &mut status) } == 0;
    assert!(
        !still_open || status.st_ino != file_ino,
        "descriptor {fd} still refers to the closed file"
    );
    // Opening it again without O_CREAT works; with O_EXCL it fails.
    let error = harness.error(
        Op::open_at(
            None,
            &path,
            libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
            0o600,
        )
        .unwrap(),
    );
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    let (fd, _) =
        harness.ok(Op::open_at(Some(directory.as_raw_fd()), "created", libc::O_RDONLY, 0).unwrap());
    // SAFETY: the open op returned a new descriptor nothing else owns.
    drop(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
}

/// `Op::open_beneath` opens what lies inside its directory, through relative symbolic links
/// and `..` that stay inside, and refuses every way out: `..` above it, an absolute path, a
/// symbolic link leading out (last component or in the middle), and a magic link.
#[cfg(unix)]
pub fn open_beneath_refuses_every_way_out(mut harness: Harness) {
    let dir = TempDir::new();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("inside"), b"in").unwrap();
    std::fs::write(dir.path().join("secret"), b"out").unwrap();
    std::os::unix::fs::symlink("inside", root.join("link-in")).unwrap();
    std::os::unix::fs::symlink("../inside", root.join("sub/link-up")).unwrap();
    std::os::unix::fs::symlink("../secret", root.join("link-out")).unwrap();
    std::os::unix::fs::symlink("..", root.join("dir-out")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret"), root.join("absolute")).unwrap();
    let root_dir = std::fs::File::open(&root).unwrap();
    let open =
        |path: &str| Op::open_beneath(root_dir.as_raw_fd(), path, libc::O_RDONLY, 0).unwrap();

    if !cfg!(any(target_os = "linux", target_os = "freebsd")) {
        let error = harness.error(open("inside"));
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
        return;
    }
    // A directory too (O_DIRECTORY shares a bit with O_TMPFILE, which takes a mode).
    let (fd, _) = harness.ok(Op::open_beneath(
        root_dir.as_raw_fd(),
        "sub",
        libc::O_RDONLY | libc::O_DIRECTORY,
        0o777,
    )
    .unwrap());
    // SAFETY: the open op returned a new descriptor nothing else owns.
    drop(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
    for inside in [
        "inside",
        "link-in",
        "sub/link-up",
        "sub/../inside",
        "./sub/../link-in",
    ] {
        let (fd, _) = harness.ok(open(inside));
        // SAFETY: the open op returned a new descriptor nothing else owns.
        let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
        let mut contents = String::new();
        std::io::Read::read_to_string(&mut file, &mut contents).unwrap();
        assert_eq!(contents, "in", "{inside}");
    }
    #[cfg(target_os = "linux")]
    let escape = libc::EXDEV;
    #[cfg(target_os = "freebsd")]
    let escape = libc::ENOTCAPABLE;
    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    let escape = unreachable!("returned above");
    let magic = format!("/proc/self/fd/{}", root_dir.as_raw_fd());
    for outside in [
        "../secret",
        "link-out",
        "dir-out/secret",
        "absolute",
        "/etc/hostname",
        "sub/../../secret",
        magic.as_str(),
    ] {
        let error = harness.error(open(outside));
        assert_eq!(error.raw_os_error(), Some(escape), "{outside}: {error}");
    }
    // What is missing inside is just missing; creating inside works, with the mode given.
    assert_eq!(harness.error(open("missing")).kind(), ErrorKind::NotFound);
    let create = Op::open_beneath(
        root_dir.as_raw_fd(),
        "sub/created",
        libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY,
        0o600,
    )
    .unwrap();
    let (fd, _) = harness.ok(create);
    // SAFETY: the open op returned a new descriptor nothing else owns.
    drop(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
    let created = std::fs::metadata(root.join("sub/created")).unwrap();
    assert_eq!(created.mode() & 0o777, 0o600);
}

/// Windows: the driver opens nothing (the `proactor` crate opens with std on the pool).
#[cfg(windows)]
pub fn open_beneath_refuses_every_way_out(mut harness: Harness) {
    use std::os::windows::io::AsRawHandle;
    let dir = TempDir::new();
    let file = std::fs::File::open(dir.file("x", b"")).unwrap();
    let op = Op::open_beneath(file.as_raw_handle() as u64, "x", 0, 0).unwrap();
    assert_eq!(harness.error(op).kind(), ErrorKind::Unsupported);
}

/// On Windows the driver opens nothing (std does, on the pool, in the `proactor` crate) and
/// has no metadata by path; it has fsync, close and the metadata of an open handle.
/// Opening a FIFO waits for the other end, and must wait off the driver's thread: a timer
/// fires meanwhile, and the open completes once a writer comes.
#[cfg(unix)]
pub fn opening_a_fifo_waits_off_the_driver(mut harness: Harness) {
    use std::fs::OpenOptions;
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let dir = TempDir::new();
    let path = dir.path().join("fifo");
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    // The writer comes when told, or after 3 s whatever happens, so a driver stuck in open(2)
    // is let go and the test fails instead of hanging.
    let (go, told) = mpsc::channel::<()>();
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let _ = told.recv_timeout(Duration::from_secs(3));
        // Non-blocking: ENXIO until a reader has the FIFO open.
        let deadline = Instant::now() + crate::harness::LIMIT;
        loop {
            match OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&writer_path)
            {
                Ok(mut file) => {
                    file.write_all(b"hello").unwrap();
                    return file;
                }
                Err(error)
                    if error.raw_os_error() == Some(libc::ENXIO) && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(error) => panic!("opening the writer: {error}"),
            }
        }
    });
    let submitted = Instant::now();
    let open = harness.submit(Op::open_at(None, &path, libc::O_RDONLY, 0).unwrap());
    let timer = harness.submit(Op::Timeout {
        duration: Duration::from_millis(10),
    });
    let fired = harness.try_wait(timer, Duration::from_secs(1));
    let blocked = submitted.elapsed();
    assert!(
        fired.is_some() && blocked < Duration::from_secs(1),
        "{:?}: a 10 ms timer fired after {blocked:?}: the open blocked the driver",
        harness.flavor
    );
    let early = harness.try_wait(open, Duration::ZERO);
    if let Some(early) = &early {
        // io_uring's own first try opens with O_NONBLOCK, which a FIFO's reader end takes at
        // once (the kernel keeps the file and clears the flag): that is the kernel's answer.
        assert!(
            harness.flavor == crate::harness::Flavor::IoUring && early.result.is_ok(),
            "{:?}: the open ended before a writer came: {:?}",
            harness.flavor,
            early.result
        );
    }
    go.send(()).unwrap();
    let opened = early.unwrap_or_else(|| harness.wait(open));
    let fd = opened.result.expect("open once a writer came") as RawFd;
    // The writer has written once it is done; the descriptor reads it.
    let writer = writer.join().unwrap();
    let (_, op) = harness.ok(Op::Read {
        fd,
        buf: room(16),
        offset: None,
    });
    assert_eq!(bytes_of(op), b"hello");
    harness.ok(Op::Close { fd });
    drop(writer);
}

/// No FIFOs on Windows, and no `OpenAt` in the driver: it says so at once.
#[cfg(windows)]
pub fn opening_a_fifo_waits_off_the_driver(mut harness: Harness) {
    let dir = TempDir::new();
    let error = harness.error(Op::open_at(None, dir.path().join("fifo"), 0, 0).unwrap());
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
}

#[cfg(windows)]
pub fn open_statx_fsync_close(mut harness: Harness) {
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::IntoRawHandle;

    let dir = TempDir::new();
    let path = dir.path().join("created");
    let error = harness.error(Op::open_at(None, &path, 0, 0o640).unwrap());
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    // Not shared, so that whether the handle is still open shows in whether it opens again.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .share_mode(0)
        .custom_flags(windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OVERLAPPED)
        .open(&path)
        .unwrap();
    let fd = file.into_raw_handle() as proactor_driver::Fd;
    harness.ok(Op::Write {
        fd,
        buf: Buffer::from("twelve bytes"),
        offset: Some(0),
    });
    harness.ok(Op::Fsync {
        fd,
        data_only: false,
    });
    harness.ok(Op::Fsync {
        fd,
        data_only: true,
    });
    let (_, op) = harness.ok(Op::statx(Some(fd), "", 0).unwrap());
    let Op::Statx { metadata, .. } = op else {
        unreachable!()
    };
    assert!(metadata.is_file(), "{metadata:?}");
    assert!(!metadata.is_dir());
    assert_eq!(metadata.size, 12);
    assert!(metadata.modified.is_some());
    let error = harness.error(Op::statx(Some(fd), "created", 0).unwrap());
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    let error = harness.error(Op::statx(None, dir.path(), 0).unwrap());
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    let sharing_violation = windows_sys::Win32::Foundation::ERROR_SHARING_VIOLATION as i32;
    let error = std::fs::File::open(&path).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(sharing_violation), "{error}");
    harness.ok(Op::Close { fd });
    std::fs::File::open(&path).expect("the handle is closed");
}

#[cfg(unix)]
pub fn statx_reports_missing_file(mut harness: Harness) {
    let dir = TempDir::new();
    let error = harness.error(Op::statx(None, dir.path().join("missing"), 0).unwrap());
    assert_eq!(error.kind(), ErrorKind::NotFound);
    let error =
        harness.error(Op::open_at(None, dir.path().join("missing"), libc::O_RDONLY, 0).unwrap());
    assert_eq!(error.kind(), ErrorKind::NotFound);
    // A directory cannot be opened for writing.
    let error = harness.error(Op::open_at(None, dir.path(), libc::O_WRONLY, 0).unwrap());
    assert_eq!(error.raw_os_error(), Some(libc::EISDIR));
}

/// Metadata by path and open are not the driver's on Windows.
#[cfg(windows)]
pub fn statx_reports_missing_file(mut harness: Harness) {
    let dir = TempDir::new();
    let error = harness.error(Op::statx(None, dir.path().join("missing"), 0).unwrap());
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    let error = harness.error(Op::open_at(None, dir.path().join("missing"), 0, 0).unwrap());
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
}

pub fn every_buffer_kind_round_trips(mut harness: Harness) {
    let dir = TempDir::new();
    let file = open(&dir.file("kinds", b""), false);
    let fd = raw(&file);
    let sources: Vec<Buffer> = vec![
        Buffer::from(b"vec-".to_vec()),
        Buffer::from(b"boxed-".to_vec().into_boxed_slice()),
        Buffer::from(BytesMut::from(&b"bytes-"[..])),
        Buffer::from("static-"),
        Buffer::from(b"xxsliceyy".to_vec()).slice(2..7).unwrap(),
    ];
    let mut offset = 0;
    for source in sources {
        let expected = source.len();
        let (written, op) = harness.ok(Op::Write {
            fd,
            buf: source,
            offset: Some(offset),
        });
        assert_eq!(written, expected);
        assert_eq!(
            op.into_buffer().unwrap().len(),
            expected,
            "the buffer comes back whole"
        );
        offset += written as u64;
    }
    assert_eq!(
        std::fs::read(dir.path().join("kinds")).unwrap(),
        b"vec-boxed-bytes-static-slice"
    );
    // Reads into each kind that can be read into.
    let (_, op) = harness.ok(Op::Read {
        fd,
        buf: Buffer::from(BytesMut::with_capacity(5)),
        offset: Some(0),
    });
    assert_eq!(
        &op.into_buffer().unwrap().into_bytes_mut().unwrap()[..],
        b"vec-b"
    );
    let (read, op) = harness.ok(Op::Read {
        fd,
        buf: Buffer::from(vec![b'.'; 6].into_boxed_slice()),
        offset: Some(4),
    });
    assert_eq!(read, 6);
    assert_eq!(
        &*op.into_buffer().unwrap().into_boxed_slice().unwrap(),
        b"boxed-"
    );
    let (read, op) = harness.ok(Op::Read {
        fd,
        buf: Buffer::from(b"[......]".to_vec()).slice(1..7).unwrap(),
        offset: Some(10),
    });
    assert_eq!(read, 6);
    assert_eq!(
        op.into_buffer().unwrap().into_inner().as_slice(),
        b"[bytes-]"
    );
    // A Vec with contents keeps them and grows.
    let mut vec = Vec::with_capacity(8);
    vec.extend_from_slice(b">>");
    let (_, op) = harness.ok(Op::Read {
        fd,
        buf: Buffer::from(vec),
        offset: Some(0),
    });
    assert_eq!(op.into_buffer().unwrap().into_vec().unwrap(), b">>vec-bo");
}

pub fn blocking_job_runs_on_the_pool(mut harness: Harness) {
    let caller = std::thread::current().id();
    let (value, _) = harness.ok(Op::Blocking {
        job: Box::new(move || {
            assert_ne!(std::thread::current().id(), caller, "runs on a pool thread");
            Ok(99)
        }),
    });
    assert_eq!(value, 99);
    let error = harness.error(Op::Blocking {
        job: Box::new(|| Err(std::io::Error::from_raw_os_error(JOB_ERROR))),
    });
    assert_eq!(error.raw_os_error(), Some(JOB_ERROR));
}

pub fn panicking_blocking_job_is_an_error(mut harness: Harness) {
    let error = harness.error(Op::Blocking {
        job: Box::new(|| panic!("deliberate panic in a blocking job")),
    });
    assert!(error.to_string().contains("deliberate panic"), "{error}");
    // The pool still works afterwards.
    let (value, _) = harness.ok(Op::Blocking {
        job: Box::new(|| Ok(1)),
    });
    assert_eq!(value, 1);
}

/// The zero-copy path for sending a file: file to pipe, pipe to socket, in the kernel.
#[cfg(unix)]
pub fn splice_moves_a_file_to_a_socket(mut harness: Harness) {
    let dir = TempDir::new();
    let contents: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let file = std::fs::File::open(dir.file("source", &contents)).unwrap();
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: pipe2 returned two new descriptors nothing else owns.
    let (pipe_read, pipe_write) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let (sender, receiver) = crate::harness::socket_pair();
    let offset = 1_000u64;
    let mut sent = 0u64;
    let mut received = Vec::new();
    while offset + sent < contents.len() as u64 {
        let (into_pipe, _) = harness.ok(Op::Splice {
            fd_in: file.as_raw_fd(),
            offset_in: Some(offset + sent),
            fd_out: pipe_write.as_raw_fd(),
            offset_out: None,
            len: 16_384,
            flags: 0,
        });
        assert!(into_pipe > 0);
        let mut out_of_pipe = 0;
        while out_of_pipe < into_pipe {
            let (moved, _) = harness.ok(Op::Splice {
                fd_in: pipe_read.as_raw_fd(),
                offset_in: None,
                fd_out: sender.as_raw_fd(),
                offset_out: None,
                len: (into_pipe - out_of_pipe) as u32,
                flags: 0,
            });
            out_of_pipe += moved;
        }
        sent += into_pipe as u64;
        // Drain the socket as we go, so it never fills.
        while received.len() < sent as usize {
            let (count, op) = harness.ok(Op::Recv {
                fd: receiver.as_raw_fd(),
                buf: room(65_536),
                flags: 0,
            });
            assert!(count > 0);
            received.extend(bytes_of(op));
        }
    }
    assert_eq!(received, &contents[offset as usize..]);
    // At the end of the file, a splice moves nothing.
    let (moved, _) = harness.ok(Op::Splice {
        fd_in: file.as_raw_fd(),
        offset_in: Some(contents.len() as u64),
        fd_out: pipe_write.as_raw_fd(),
        offset_out: None,
        len: 4096,
        flags: 0,
    });
    assert_eq!(moved, 0);
}

pub fn send_file_moves_a_file_to_a_socket(mut harness: Harness) {
    let dir = TempDir::new();
    let contents: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let file = crate::harness::open_read_only(&dir.file("source", &contents));
    let (sender, receiver) = crate::harness::socket_pair();
    let offset = 777u64;
    let mut sent = 0u64;
    let mut received = Vec::new();
    while offset + sent < contents.len() as u64 {
        let (count, _) = harness.ok(Op::SendFile {
            socket: raw(&sender),
            file: raw(&file),
            offset: offset + sent,
            len: 1 << 20,
        });
        assert!(count > 0, "no progress at {}", offset + sent);
        sent += count as u64;
        // Drain the socket as we go, so it never fills for long.
        while received.len() < sent as usize {
            let (count, op) = harness.ok(Op::Recv {
                fd: raw(&receiver),
                buf: room(65_536),
                flags: 0,
            });
            assert!(count > 0);
            received.extend(bytes_of(op));
        }
    }
    assert_eq!(received, &contents[offset as usize..]);
    // From the end of the file, nothing is sent.
    let (count, _) = harness.ok(Op::SendFile {
        socket: raw(&sender),
        file: raw(&file),
        offset: contents.len() as u64,
        len: 4096,
    });
    assert_eq!(count, 0);
}

/// Splice is Linux's: on Windows it says it is not there (`Op::SendFile` is the way to send
/// a file there).
#[cfg(windows)]
pub fn splice_moves_a_file_to_a_socket(mut harness: Harness) {
    let dir = TempDir::new();
    let file = open(&dir.file("source", b"contents"), false);
    let (sender, _receiver) = crate::harness::socket_pair();
    let error = harness.error(Op::Splice {
        fd_in: raw(&file),
        offset_in: Some(0),
        fd_out: raw(&sender),
        offset_out: None,
        len: 4096,
        flags: 0,
    });
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
}

fn path(text: &std::path::Path) -> std::ffi::CString {
    proactor_driver::path_to_cstring(text).unwrap()
}

/// mkdir, symlink, link, rename, unlink and rmdir, by path and relative to a directory.
#[cfg(unix)]
pub fn directory_operations(mut harness: Harness) {
    let dir = TempDir::new();
    let base = std::fs::File::open(dir.path()).unwrap();
    harness.ok(Op::MkDirAt {
        dir: Some(base.as_raw_fd()),
        path: path("sub".as_ref()),
        mode: 0o750,
    });
    assert!(dir.path().join("sub").is_dir());
    let error = harness.error(Op::MkDirAt {
        dir: None,
        path: path(&dir.path().join("sub")),
        mode: 0o750,
    });
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    let file = dir.file("sub/file", b"contents");
    harness.ok(Op::SymlinkAt {
        target: path("sub/file".as_ref()),
        dir: Some(base.as_raw_fd()),
        link: path("symlink".as_ref()),
    });
    assert_eq!(
        std::fs::read(dir.path().join("symlink")).unwrap(),
        b"contents"
    );
    harness.ok(Op::LinkAt {
        old_dir: None,
        old_path: path(&file),
        new_dir: Some(base.as_raw_fd()),
        new_path: path("hardlink".as_ref()),
        flags: 0,
    });
    assert_eq!(std::fs::metadata(&file).unwrap().nlink(), 2);
    harness.ok(Op::RenameAt {
        old_dir: Some(base.as_raw_fd()),
        old_path: path("hardlink".as_ref()),
        new_dir: Some(base.as_raw_fd()),
        new_path: path("renamed".as_ref()),
        flags: 0,
    });
    assert!(dir.path().join("renamed").exists() && !dir.path().join("hardlink").exists());
    // RENAME_NOREPLACE refuses to overwrite.
    let error = harness.error(Op::RenameAt {
        old_dir: Some(base.as_raw_fd()),
        old_path: path("renamed".as_ref()),
        new_dir: Some(base.as_raw_fd()),
        new_path: path("symlink".as_ref()),
        flags: libc::RENAME_NOREPLACE,
    });
    assert_eq!(error.kind(), ErrorKind::AlreadyExists);
    harness.ok(Op::UnlinkAt {
        dir: Some(base.as_raw_fd()),
        path: path("renamed".as_ref()),
        flags: 0,
    });
    harness.ok(Op::UnlinkAt {
        dir: Some(base.as_raw_fd()),
        path: path("symlink".as_ref()),
        flags: 0,
    });
    let error = harness.error(Op::UnlinkAt {
        dir: Some(base.as_raw_fd()),
        path: path("sub".as_ref()),
        flags: libc::AT_REMOVEDIR,
    });
    assert_eq!(error.raw_os_error(), Some(libc::ENOTEMPTY));
    std::fs::remove_file(&file).unwrap();
    harness.ok(Op::UnlinkAt {
        dir: Some(base.as_raw_fd()),
        path: path("sub".as_ref()),
        flags: libc::AT_REMOVEDIR,
    });
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let error = harness.error(Op::UnlinkAt {
        dir: None,
        path: path(&dir.path().join("missing")),
        flags: 0,
    });
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

/// Directory operations are not the driver's on Windows (the `proactor` crate does them with
/// std on the pool): each says so, and changes nothing.
#[cfg(windows)]
pub fn directory_operations(mut harness: Harness) {
    let dir = TempDir::new();
    let file = dir.file("file", b"contents");
    let sub = dir.path().join("sub");
    let other = dir.path().join("other");
    for op in [
        Op::MkDirAt {
            dir: None,
            path: path(&sub),
            mode: 0o750,
        },
        Op::SymlinkAt {
            target: path(&file),
            dir: None,
            link: path(&other),
        },
        Op::LinkAt {
            old_dir: None,
            old_path: path(&file),
            new_dir: None,
            new_path: path(&other),
            flags: 0,
        },
        Op::RenameAt {
            old_dir: None,
            old_path: path(&file),
            new_dir: None,
            new_path: path(&other),
            flags: 0,
        },
        Op::UnlinkAt {
            dir: None,
            path: path(&file),
            flags: 0,
        },
    ] {
        let error = harness.error(op);
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    }
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["file"]);
}

/// fallocate grows a file's allocation; ftruncate sets its length.
pub fn allocate_and_truncate(mut harness: Harness) {
    let dir = TempDir::new();
    let file = open(&dir.file("sized", b"0123456789"), false);
    harness.ok(Op::Ftruncate {
        fd: raw(&file),
        len: 4,
    });
    assert_eq!(std::fs::read(dir.path().join("sized")).unwrap(), b"0123");
    harness.ok(Op::Ftruncate {
        fd: raw(&file),
        len: 8192,
    });
    assert_eq!(file.metadata().unwrap().len(), 8192);
    harness.ok(Op::Fallocate {
        fd: raw(&file),
        mode: 0,
        offset: 0,
        len: 1 << 20,
    });
    assert_eq!(file.metadata().unwrap().len(), 1 << 20);
    // Wine keeps files on a Unix file system, where growing a file leaves a hole, and has no
    // FileAllocationInfo (ERROR_CALL_NOT_IMPLEMENTED): the allocation shows only on Windows.
    #[cfg(windows)]
    let allocation_shows = !crate::harness::under_wine();
    #[cfg(unix)]
    let allocation_shows = true;
    if allocation_shows {
        assert!(
            allocated(&file) >= 1 << 20,
            "{} bytes allocated",
            allocated(&file)
        );
    }
    let read_only = crate::harness::open_read_only(&dir.path().join("sized"));
    let error = harness.error(Op::Ftruncate {
        fd: raw(&read_only),
        len: 0,
    });
    #[cfg(unix)]
    assert!(
        matches!(error.raw_os_error(), Some(libc::EINVAL) | Some(libc::EBADF)),
        "{error}"
    );
    // Windows says ERROR_ACCESS_DENIED; Wine says ERROR_INVALID_PARAMETER.
    #[cfg(windows)]
    assert!(
        matches!(
            error.kind(),
            ErrorKind::PermissionDenied | ErrorKind::InvalidInput
        ),
        "{error}"
    );
}

/// Bytes of storage allocated to `file`.
#[cfg(unix)]
fn allocated(file: &std::fs::File) -> u64 {
    file.metadata().unwrap().blocks() * 512
}

/// Bytes of storage allocated to `file`.
#[cfg(windows)]
fn allocated(file: &std::fs::File) -> u64 {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{
        FileStandardInfo, GetFileInformationByHandleEx, FILE_STANDARD_INFO,
    };

    // SAFETY: FILE_STANDARD_INFO is plain data, for which all zeros is a valid value.
    let mut info: FILE_STANDARD_INFO = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is open for the call and `info` is a FILE_STANDARD_INFO of the size
    // passed, which the call fills.
    let done = unsafe {
        GetFileInformationByHandleEx(
            file.as_raw_handle(),
            FileStandardInfo,
            (&mut info as *mut FILE_STANDARD_INFO).cast(),
            std::mem::size_of::<FILE_STANDARD_INFO>() as u32,
        )
    };
    assert_ne!(done, 0, "{}", std::io::Error::last_os_error());
    info.AllocationSize as u64
}
