//! Bad input: each case is a clear `io::Error` in the operation's completion (or from the
//! constructor), never a panic, and never disturbs another operation in flight.

use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::time::Duration;

use proactor_driver::{Buffer, Op};

use crate::harness::{bytes_of, room, socket_pair, Harness, TempDir};

/// A descriptor number no process can have open (the kernel caps descriptors far below it).
/// A closed-then-reused number would race the other tests running in parallel.
fn closed_fd() -> i32 {
    i32::MAX - 1
}

pub fn closed_fd_is_an_error(mut harness: Harness) {
    let fd = closed_fd();
    for op in [
        Op::Read {
            fd,
            buf: room(8),
            offset: None,
        },
        Op::Read {
            fd,
            buf: room(8),
            offset: Some(0),
        },
        Op::Write {
            fd,
            buf: Buffer::from("x"),
            offset: None,
        },
        Op::Recv {
            fd,
            buf: room(8),
            flags: 0,
        },
        Op::Send {
            fd,
            buf: Buffer::from("x"),
            flags: 0,
        },
        Op::Fsync {
            fd,
            data_only: false,
        },
        Op::Accept { fd, peer: None },
    ] {
        let error = harness.error(op);
        assert_eq!(error.raw_os_error(), Some(libc::EBADF), "{error}");
    }
    let error = harness.error(Op::Close { fd });
    assert_eq!(error.raw_os_error(), Some(libc::EBADF));
}

pub fn negative_fd_is_an_error(mut harness: Harness) {
    let completion = harness.run(Op::Read {
        fd: -1,
        buf: room(8),
        offset: None,
    });
    assert_eq!(
        completion.result.unwrap_err().raw_os_error(),
        Some(libc::EBADF)
    );
    assert_eq!(
        completion.op.into_buffer().unwrap().read_capacity(),
        8,
        "buffer back"
    );
    let error = harness.error(Op::Connect {
        fd: -5,
        addr: "127.0.0.1:1".parse().unwrap(),
    });
    assert_eq!(error.raw_os_error(), Some(libc::EBADF));
}

pub fn zero_length_read_buffers_are_rejected(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let full = vec![1u8, 2, 3];
    let completion = harness.run(Op::Recv {
        fd: right.as_raw_fd(),
        buf: Buffer::from(full),
        flags: 0,
    });
    assert_eq!(
        completion.result.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        bytes_of(completion.op),
        [1, 2, 3],
        "the buffer comes back untouched"
    );
    let error = harness.error(Op::Read {
        fd: right.as_raw_fd(),
        buf: Buffer::from(Vec::new().into_boxed_slice()),
        offset: None,
    });
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = harness.error(Op::ReadVectored {
        fd: right.as_raw_fd(),
        bufs: vec![room(4), room(0)],
        offset: None,
    });
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = harness.error(Op::ReadVectored {
        fd: right.as_raw_fd(),
        bufs: Vec::new(),
        offset: None,
    });
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    // A zero-length write is fine and writes nothing.
    let (written, _) = harness.ok(Op::Write {
        fd: right.as_raw_fd(),
        buf: Buffer::from(""),
        offset: None,
    });
    assert_eq!(written, 0);
}

pub fn static_buffer_cannot_be_read_into(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let completion = harness.run(Op::Recv {
        fd: right.as_raw_fd(),
        buf: Buffer::from("static"),
        flags: 0,
    });
    assert_eq!(
        completion.result.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        completion.op.into_buffer().unwrap().into_static().unwrap(),
        b"static"
    );
}

pub fn nul_in_path_is_rejected(mut harness: Harness) {
    let error = Op::open_at(None, "bad\0name", libc::O_RDONLY, 0)
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = Op::statx(None, "bad\0name", 0).err().unwrap();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    // An empty path with no descriptor is rejected too.
    let error = harness.error(Op::Statx {
        dir: None,
        path: Default::default(),
        flags: 0,
        metadata: Box::default(),
    });
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
}

pub fn unsupported_address_family(mut harness: Harness) {
    let error = harness.error(Op::Socket {
        domain: 4242,
        socket_type: libc::SOCK_STREAM,
        protocol: 0,
    });
    assert_eq!(error.raw_os_error(), Some(libc::EAFNOSUPPORT), "{error}");
    // An IPv6 address on an IPv4 socket.
    let socket = harness.socket("127.0.0.1:0".parse().unwrap(), libc::SOCK_STREAM);
    let error = harness.error(Op::Connect {
        fd: socket.as_raw_fd(),
        addr: "[::1]:1".parse().unwrap(),
    });
    assert!(
        matches!(
            error.raw_os_error(),
            Some(libc::EAFNOSUPPORT) | Some(libc::EINVAL)
        ),
        "{error}"
    );
    // A socket operation on something that is not a socket.
    let dir = TempDir::new();
    let file = std::fs::File::open(dir.file("plain", b"x")).unwrap();
    let error = harness.error(Op::Recv {
        fd: file.as_raw_fd(),
        buf: room(4),
        flags: 0,
    });
    assert_eq!(error.raw_os_error(), Some(libc::ENOTSOCK), "{error}");
}

pub fn huge_offset_is_an_error(mut harness: Harness) {
    let dir = TempDir::new();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.file("huge", b"x"))
        .unwrap();
    let error = harness.error(Op::Write {
        fd: file.as_raw_fd(),
        buf: Buffer::from("x"),
        offset: Some(i64::MAX as u64),
    });
    assert!(
        matches!(error.raw_os_error(), Some(libc::EFBIG) | Some(libc::EINVAL))
            || error.kind() == ErrorKind::InvalidInput,
        "{error}"
    );
    let completion = harness.run(Op::Read {
        fd: file.as_raw_fd(),
        buf: room(4),
        offset: Some(u64::MAX - 1),
    });
    match completion.result {
        Ok(count) => assert_eq!(count, 0),
        Err(error) => assert!(
            matches!(
                error.raw_os_error(),
                Some(libc::EINVAL) | Some(libc::EOVERFLOW)
            ) || error.kind() == ErrorKind::InvalidInput,
            "{error}"
        ),
    }
}

pub fn errors_do_not_disturb_other_operations(mut harness: Harness) {
    let (left, right) = socket_pair();
    let pending = harness.submit(Op::Recv {
        fd: right.as_raw_fd(),
        buf: room(16),
        flags: 0,
    });
    let bad = closed_fd();
    let failures = [
        harness.submit(Op::Read {
            fd: bad,
            buf: room(8),
            offset: None,
        }),
        harness.submit(Op::Recv {
            fd: right.as_raw_fd(),
            buf: Buffer::from(Vec::new()),
            flags: 0,
        }),
        harness.submit(Op::Socket {
            domain: 4242,
            socket_type: libc::SOCK_STREAM,
            protocol: 0,
        }),
        harness.submit(Op::Statx {
            dir: None,
            path: Default::default(),
            flags: 0,
            metadata: Box::default(),
        }),
    ];
    for id in failures {
        assert!(harness.wait(id).result.is_err());
    }
    assert!(
        harness
            .try_wait(pending, Duration::from_millis(20))
            .is_none(),
        "still waiting"
    );
    harness.ok(Op::Send {
        fd: left.as_raw_fd(),
        buf: Buffer::from("intact"),
        flags: 0,
    });
    let completion = harness.wait(pending);
    assert_eq!(completion.result.unwrap(), 6);
    assert_eq!(bytes_of(completion.op), b"intact");
    assert_eq!(harness.stashed(), 0);
}
