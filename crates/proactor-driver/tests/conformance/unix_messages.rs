//! Message operations with Unix domain addresses and passed descriptors (`SCM_RIGHTS`). On
//! Windows, which has no such sockets here, they answer `Unsupported`.

use proactor_driver::{Address, Descriptors, Op, UnixAddr};

use crate::harness::Harness;
#[cfg(unix)]
use crate::harness::{room, TempDir};

#[cfg(unix)]
mod unix {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::UnixDatagram;
    use std::path::Path;

    use proactor_driver::UnixAddr;

    pub fn unix_addr(path: &Path) -> UnixAddr {
        UnixAddr::from_bytes(path.as_os_str().as_bytes()).unwrap()
    }

    pub fn bound(path: &Path) -> UnixDatagram {
        let socket = UnixDatagram::bind(path).unwrap();
        socket.set_nonblocking(true).unwrap();
        socket
    }

    /// A pipe: its read end, then its write end.
    pub fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors pipe2 writes.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: pipe2 made two descriptors nothing else owns.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    /// Whether reading `reader` ends (every write end is closed) within the suite's limit:
    /// what shows that no copy of a pipe's write end leaked.
    pub fn reaches_end(reader: &OwnedFd) -> bool {
        let mut poll = libc::pollfd {
            fd: reader.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let limit = crate::harness::LIMIT.as_millis() as i32;
        // SAFETY: one pollfd, alive for the call.
        if unsafe { libc::poll(&mut poll, 1, limit) } != 1 {
            return false;
        }
        let mut byte = 0u8;
        // SAFETY: one byte of room, alive for the call.
        unsafe { libc::read(reader.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) == 0 }
    }

    pub fn is_cloexec(fd: &OwnedFd) -> bool {
        // SAFETY: F_GETFD only reads the descriptor's flags.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) & libc::FD_CLOEXEC != 0 }
    }
}

fn send(
    fd: proactor_driver::Fd,
    bytes: &'static [u8],
    addr: Option<Address>,
    fds: Descriptors,
) -> Op {
    Op::SendMsg {
        fd,
        bufs: vec![proactor_driver::Buffer::from(bytes)],
        addr,
        fds,
        flags: 0,
    }
}

#[cfg(unix)]
fn receive(fd: proactor_driver::Fd, capacity: usize, source: Option<Address>, max_fds: u8) -> Op {
    Op::RecvMsg {
        fd,
        bufs: vec![room(capacity)],
        flags: 0,
        source,
        max_fds,
        fds: Descriptors::new(),
        fds_truncated: false,
    }
}

/// Datagrams between two bound sockets, from an unbound one, and (Linux) to an abstract
/// address, each receive reporting its sender; a datagram longer than the buffer is cut.
pub fn unix_datagrams_carry_their_addresses(mut harness: Harness) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let dir = TempDir::new();
        let (a_path, b_path) = (dir.path().join("a"), dir.path().join("b"));
        let (a, b) = (unix::bound(&a_path), unix::bound(&b_path));
        let to_b = Some(Address::from(unix::unix_addr(&b_path)));
        let (sent, _) = harness.ok(send(
            a.as_raw_fd(),
            b"from a",
            to_b.clone(),
            Descriptors::new(),
        ));
        assert_eq!(sent, 6);
        // A box given as the source is the one the address comes back in.
        let reuse = Some(Address::from(UnixAddr::unnamed()));
        let (count, op) = harness.ok(receive(b.as_raw_fd(), 3, reuse, 0));
        assert_eq!(count, 3, "a datagram longer than the buffer is cut");
        let Op::RecvMsg { bufs, source, .. } = op else {
            unreachable!()
        };
        assert_eq!(bufs[0].as_slice(), b"fro");
        assert_eq!(source, Some(Address::from(unix::unix_addr(&a_path))));

        let unbound = std::os::unix::net::UnixDatagram::unbound().unwrap();
        harness.ok(send(
            unbound.as_raw_fd(),
            b"anonymous",
            to_b,
            Descriptors::new(),
        ));
        // The OS may report no address at all (Linux does): given a Unix address box to
        // fill, the driver says unnamed.
        let reuse = Some(Address::from(unix::unix_addr(&a_path)));
        let (count, op) = harness.ok(receive(b.as_raw_fd(), 64, reuse, 0));
        assert_eq!(count, 9);
        let Op::RecvMsg { source, .. } = op else {
            unreachable!()
        };
        assert_eq!(
            source,
            Some(Address::from(UnixAddr::unnamed())),
            "an unbound sender is unnamed"
        );

        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let name = format!(
                "proactor-conformance-{}-{:?}",
                std::process::id(),
                dir.path()
            );
            let std_addr =
                std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
            let abstract_socket = std::os::unix::net::UnixDatagram::bind_addr(&std_addr).unwrap();
            let mut bytes = vec![0u8];
            bytes.extend_from_slice(name.as_bytes());
            let addr = Address::from(UnixAddr::from_bytes(&bytes).unwrap());
            harness.ok(send(
                a.as_raw_fd(),
                b"abstract",
                Some(addr.clone()),
                Descriptors::new(),
            ));
            let (count, op) = harness.ok(receive(abstract_socket.as_raw_fd(), 64, None, 0));
            assert_eq!(count, 8);
            let Op::RecvMsg { source, .. } = op else {
                unreachable!()
            };
            assert_eq!(source, Some(Address::from(unix::unix_addr(&a_path))));
            // And back to the abstract sender, by the address its receiver reported.
            harness.ok(send(
                abstract_socket.as_raw_fd(),
                b"back",
                Some(Address::from(unix::unix_addr(&a_path))),
                Descriptors::new(),
            ));
            let (_, op) = harness.ok(receive(a.as_raw_fd(), 64, None, 0));
            let Op::RecvMsg { source, .. } = op else {
                unreachable!()
            };
            assert_eq!(source, Some(addr));
        }
        // A path that does not fit is refused before any syscall.
        let long = UnixAddr::from_bytes(&[b'x'; 107]).unwrap();
        #[cfg(not(target_os = "linux"))]
        {
            let error = harness.error(send(
                a.as_raw_fd(),
                b"x",
                Some(long.into()),
                Descriptors::new(),
            ));
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        }
        #[cfg(target_os = "linux")]
        {
            // 107 bytes and the NUL fit Linux's 108: the OS looks, and finds nothing there.
            let error = harness.error(send(
                a.as_raw_fd(),
                b"x",
                Some(long.into()),
                Descriptors::new(),
            ));
            assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        }
    }
    #[cfg(windows)]
    {
        let socket = harness.socket("127.0.0.1:0".parse().unwrap(), crate::harness::SOCK_DGRAM);
        let addr = Address::from(UnixAddr::from_bytes(b"C:\\socket").unwrap());
        let error = harness.error(send(
            crate::harness::raw(&socket),
            b"x",
            Some(addr),
            Descriptors::new(),
        ));
        assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
    }
}

/// Two descriptors (a pipe's ends) sent with a message arrive as new, close-on-exec
/// descriptors to the same pipe, usable on the receiving side.
pub fn descriptors_pass_with_a_message(mut harness: Harness) {
    #[cfg(unix)]
    {
        use std::io::{Read, Write};
        use std::os::fd::{AsRawFd, OwnedFd};
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (reader, writer) = unix::pipe();
        let fds = Descriptors::from(vec![
            reader.try_clone().unwrap(),
            writer.try_clone().unwrap(),
        ]);
        let (sent, _) = harness.ok(send(a.as_raw_fd(), b"pipe", None, fds));
        assert_eq!(sent, 4);
        let (count, op) = harness.ok(receive(b.as_raw_fd(), 16, None, 4));
        assert_eq!(count, 4);
        let Op::RecvMsg {
            bufs,
            fds,
            fds_truncated,
            ..
        } = op
        else {
            unreachable!()
        };
        assert_eq!(bufs[0].as_slice(), b"pipe");
        assert!(!fds_truncated);
        let mut received: Vec<OwnedFd> = fds.into_owned();
        assert_eq!(received.len(), 2);
        assert!(
            received.iter().all(unix::is_cloexec),
            "received descriptors are close-on-exec"
        );
        let mut their_writer = std::fs::File::from(received.pop().unwrap());
        let mut their_reader = std::fs::File::from(received.pop().unwrap());
        their_writer.write_all(b"through").unwrap();
        let mut bytes = [0u8; 7];
        std::fs::File::from(reader).read_exact(&mut bytes).unwrap();
        assert_eq!(&bytes, b"through");
        std::fs::File::from(writer).write_all(b"back").unwrap();
        let mut bytes = [0u8; 4];
        their_reader.read_exact(&mut bytes).unwrap();
        assert_eq!(&bytes, b"back");
    }
    #[cfg(windows)]
    {
        let socket = harness.socket("127.0.0.1:0".parse().unwrap(), crate::harness::SOCK_DGRAM);
        let error = harness.error(Op::RecvMsg {
            fd: crate::harness::raw(&socket),
            bufs: vec![proactor_driver::Buffer::from(Vec::with_capacity(8))],
            flags: 0,
            source: None,
            max_fds: 1,
            fds: Descriptors::new(),
            fds_truncated: false,
        });
        assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
    }
}

/// A receive with room for fewer descriptors than were sent says so, and leaks none: the OS
/// closes those that did not fit, and dropping the completion closes those that did.
pub fn descriptors_beyond_the_room_leak_nothing(mut harness: Harness) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (reader, writer) = unix::pipe();
        let copies = (0..3)
            .map(|_| writer.try_clone().unwrap())
            .collect::<Vec<_>>();
        drop(writer);
        harness.ok(send(
            a.as_raw_fd(),
            b"three",
            None,
            Descriptors::from(copies),
        ));
        let (count, op) = harness.ok(receive(b.as_raw_fd(), 16, None, 1));
        assert_eq!(count, 5);
        let Op::RecvMsg {
            fds, fds_truncated, ..
        } = op
        else {
            unreachable!()
        };
        assert!(fds_truncated, "two of three descriptors found no room");
        assert_eq!(fds.len(), 1);
        drop(fds);
        // Every copy of the write end is closed: the sent ones when the send completed, the
        // two without room by the OS, the received one with `fds`.
        assert!(
            unix::reaches_end(&reader),
            "a copy of the pipe's write end leaked"
        );
        // With no room at all, every descriptor is closed too.
        let (reader, writer) = unix::pipe();
        harness.ok(send(
            a.as_raw_fd(),
            b"one",
            None,
            Descriptors::from(vec![writer]),
        ));
        let (_, op) = harness.ok(receive(b.as_raw_fd(), 16, None, 0));
        let Op::RecvMsg {
            fds, fds_truncated, ..
        } = op
        else {
            unreachable!()
        };
        assert!(fds_truncated && fds.is_empty());
        assert!(
            unix::reaches_end(&reader),
            "a descriptor nobody made room for leaked"
        );
    }
    #[cfg(windows)]
    {
        let socket = harness.socket("127.0.0.1:0".parse().unwrap(), crate::harness::SOCK_DGRAM);
        let _ = socket;
    }
}

/// A receive waiting for descriptors that is cancelled leaks none of them, whether the cancel
/// won (they stay queued in the socket, closed with it) or the descriptors came first (the
/// completion brings them, and dropping it closes them).
pub fn cancelled_descriptor_receive_leaks_nothing(mut harness: Harness) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let (reader, writer) = unix::pipe();
        // The cancel before anything came.
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let id = harness.submit(receive(b.as_raw_fd(), 16, None, 2));
        harness.poll_now();
        harness.driver.cancel(id).expect("cancel a waiting receive");
        let completion = harness.wait(id);
        drop(completion);
        harness.ok(send(
            a.as_raw_fd(),
            b"late",
            None,
            Descriptors::from(vec![writer.try_clone().unwrap()]),
        ));
        drop((a, b));
        // The descriptors were there before the receive, which the cancel cannot stop.
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        harness.ok(send(
            a.as_raw_fd(),
            b"early",
            None,
            Descriptors::from(vec![writer.try_clone().unwrap()]),
        ));
        let id = harness.submit(receive(b.as_raw_fd(), 16, None, 2));
        // Perhaps already done: then there is nothing to cancel, and the completion has them.
        let _ = harness.driver.cancel(id);
        drop(harness.wait(id));
        drop((a, b, writer));
        assert!(
            unix::reaches_end(&reader),
            "a cancelled receive leaked a descriptor"
        );
    }
    #[cfg(windows)]
    {
        let _ = &mut harness;
    }
}
