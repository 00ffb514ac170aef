//! Bad input: each case is a clear `io::Error` in the operation's completion (or from the
//! constructor), never a panic, and never disturbs another operation in flight.

use std::io::ErrorKind;
use std::time::Duration;

use proactor_driver::{Buffer, Op};

use crate::harness::{
    bytes_of, is_bad_fd, is_not_socket, is_unknown_family, is_wrong_family, raw, room, socket_pair,
    Harness, TempDir, CLOSED_FD, INVALID_FD, SOCK_STREAM,
};

/// Not a socket family on any OS.
const UNKNOWN_FAMILY: i32 = 4242;

pub fn closed_fd_is_an_error(mut harness: Harness) {
    let fd = CLOSED_FD;
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
        assert!(is_bad_fd(&error), "{error}");
    }
    let error = harness.error(Op::Close { fd });
    assert!(is_bad_fd(&error), "{error}");
}

pub fn negative_fd_is_an_error(mut harness: Harness) {
    let completion = harness.run(Op::Read {
        fd: INVALID_FD,
        buf: room(8),
        offset: None,
    });
    let error = completion.result.unwrap_err();
    assert!(is_bad_fd(&error), "{error}");
    assert_eq!(
        completion.op.into_buffer().unwrap().read_capacity(),
        8,
        "buffer back"
    );
    let error = harness.error(Op::Connect {
        fd: INVALID_FD,
        addr: "127.0.0.1:1".parse().unwrap(),
    });
    assert!(is_bad_fd(&error), "{error}");
}

pub fn zero_length_read_buffers_are_rejected(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let full = vec![1u8, 2, 3];
    let completion = harness.run(Op::Recv {
        fd: raw(&right),
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
        fd: raw(&right),
        buf: Buffer::from(Vec::new().into_boxed_slice()),
        offset: None,
    });
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = harness.error(Op::ReadVectored {
        fd: raw(&right),
        bufs: vec![room(4), room(0)],
        offset: None,
    });
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = harness.error(Op::ReadVectored {
        fd: raw(&right),
        bufs: Vec::new(),
        offset: None,
    });
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    // A zero-length write is fine and writes nothing.
    let (written, _) = harness.ok(Op::Write {
        fd: raw(&right),
        buf: Buffer::from(""),
        offset: None,
    });
    assert_eq!(written, 0);
}

pub fn static_buffer_cannot_be_read_into(mut harness: Harness) {
    let (_left, right) = socket_pair();
    let completion = harness.run(Op::Recv {
        fd: raw(&right),
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
    let error = Op::open_at(None, "bad\0name", 0, 0).err().unwrap();
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
        domain: UNKNOWN_FAMILY,
        socket_type: SOCK_STREAM,
        protocol: 0,
    });
    assert!(is_unknown_family(&error), "{error}");
    // An IPv6 address on an IPv4 socket.
    let socket = harness.socket("127.0.0.1:0".parse().unwrap(), SOCK_STREAM);
    let error = harness.error(Op::Connect {
        fd: raw(&socket),
        addr: "[::1]:1".parse().unwrap(),
    });
    assert!(is_wrong_family(&error), "{error}");
    // A socket operation on something that is not a socket.
    let dir = TempDir::new();
    let file = crate::harness::open_read_only(&dir.file("plain", b"x"));
    let error = harness.error(Op::Recv {
        fd: raw(&file),
        buf: room(4),
        flags: 0,
    });
    assert!(is_not_socket(&error), "{error}");
}

pub fn huge_offset_is_an_error(mut harness: Harness) {
    let dir = TempDir::new();
    let file = crate::harness::open_file(&dir.file("huge", b"x"), false);
    let error = harness.error(Op::Write {
        fd: raw(&file),
        buf: Buffer::from("x"),
        offset: Some(i64::MAX as u64),
    });
    #[cfg(unix)]
    let too_big = matches!(error.raw_os_error(), Some(libc::EFBIG) | Some(libc::EINVAL));
    // Past what the file system can hold: the parameter, or the disk, is what Windows blames.
    #[cfg(windows)]
    let too_big = matches!(
        error.kind(),
        ErrorKind::StorageFull | ErrorKind::FileTooLarge
    );
    assert!(
        too_big || error.kind() == ErrorKind::InvalidInput,
        "{error}"
    );
    let completion = harness.run(Op::Read {
        fd: raw(&file),
        buf: room(4),
        offset: Some(u64::MAX - 1),
    });
    match completion.result {
        Ok(count) => assert_eq!(count, 0),
        #[cfg(unix)]
        Err(error) => assert!(
            matches!(
                error.raw_os_error(),
                Some(libc::EINVAL) | Some(libc::EOVERFLOW)
            ) || error.kind() == ErrorKind::InvalidInput,
            "{error}"
        ),
        #[cfg(windows)]
        Err(error) => assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}"),
    }
}

pub fn errors_do_not_disturb_other_operations(mut harness: Harness) {
    let (left, right) = socket_pair();
    let pending = harness.submit(Op::Recv {
        fd: raw(&right),
        buf: room(16),
        flags: 0,
    });
    let bad = CLOSED_FD;
    let failures = [
        harness.submit(Op::Read {
            fd: bad,
            buf: room(8),
            offset: None,
        }),
        harness.submit(Op::Recv {
            fd: raw(&right),
            buf: Buffer::from(Vec::new()),
            flags: 0,
        }),
        harness.submit(Op::Socket {
            domain: UNKNOWN_FAMILY,
            socket_type: SOCK_STREAM,
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
        fd: raw(&left),
        buf: Buffer::from("intact"),
        flags: 0,
    });
    let completion = harness.wait(pending);
    assert_eq!(completion.result.unwrap(), 6);
    assert_eq!(bytes_of(completion.op), b"intact");
    assert_eq!(harness.stashed(), 0);
}
