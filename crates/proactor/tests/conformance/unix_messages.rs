//! Unix datagrams to and from addresses (`send_to`, `recv_from`), and descriptors passed over
//! Unix sockets (`send_with_fds`, `recv_with_fds`) without a leak, whatever the receiver's
//! room and however a receive ends.

use std::io::{ErrorKind, Read};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use proactor::net::{UnixDatagram, UnixStream};
use proactor::time::timeout;
use proactor::Runtime;

use crate::LIMIT;

/// A directory for socket paths, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(runtime: &Runtime, name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!(
            "proactor-{name}-{}-{}",
            std::process::id(),
            runtime.backend()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A pair of std sockets standing for a pipe: what is sent is `end`; `watch` reads the end of
/// the stream once every copy of `end` is closed (and times out if one leaked).
fn watched_pair() -> (StdUnixStream, StdUnixStream) {
    let (end, watch) = StdUnixStream::pair().unwrap();
    watch.set_read_timeout(Some(LIMIT)).unwrap();
    (end, watch)
}

fn every_copy_closed(watch: &mut StdUnixStream) -> bool {
    matches!(watch.read(&mut [0; 8]), Ok(0))
}

pub fn unix_datagrams_go_to_and_come_from_addresses(runtime: Runtime) {
    let dir = Dir::new(&runtime, "send-to");
    runtime.block_on(async {
        let (a_path, b_path) = (dir.0.join("a"), dir.0.join("b"));
        let a = UnixDatagram::bind(&a_path).unwrap();
        let b = UnixDatagram::bind(&b_path).unwrap();
        let (sent, buffer) = a.send_to(b"ping".to_vec(), &b_path).await;
        assert_eq!((sent.unwrap(), &buffer[..]), (4, &b"ping"[..]));
        let (received, buffer) = b.recv_from(Vec::with_capacity(16)).await;
        let (count, from) = received.unwrap();
        assert_eq!(&buffer[..count], b"ping");
        assert_eq!(from.as_pathname(), Some(a_path.as_path()));
        // The reply goes to the address the datagram came from.
        b.send_to_addr(&b"pong"[..], &from).await.0.unwrap();
        let (received, buffer) = a.recv_from(Vec::with_capacity(16)).await;
        let (count, from) = received.unwrap();
        assert_eq!(
            (&buffer[..count], from.as_pathname()),
            (&b"pong"[..], Some(b_path.as_path()))
        );

        // From an unbound socket: an unnamed address.
        let unbound = UnixDatagram::unbound().unwrap();
        unbound.send_to(&b"anonymous"[..], &b_path).await.0.unwrap();
        let (received, buffer) = b.recv_from(Vec::with_capacity(16)).await;
        let (count, from) = received.unwrap();
        assert_eq!(&buffer[..count], b"anonymous");
        assert!(from.is_unnamed());

        // A datagram larger than the buffer is cut, as std's.
        a.send_to(&b"longer than the buffer"[..], &b_path)
            .await
            .0
            .unwrap();
        let (received, buffer) = b.recv_from(Vec::with_capacity(6)).await;
        assert_eq!(&buffer[..received.unwrap().0], b"longer");

        // Errors: nothing bound there; a path too long for an address.
        let (missing, _) = a.send_to(&b"x"[..], dir.0.join("nobody")).await;
        assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
        let too_long = dir.0.join("x".repeat(120));
        let (refused, _) = a.send_to(&b"x"[..], too_long).await;
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidInput);

        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            // A path starting with a NUL byte names an abstract address, as in tokio.
            let name = format!(
                "proactor-abstract-{}-{}",
                std::process::id(),
                runtime_name(&dir.0)
            );
            let address =
                std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
            let c = std::os::unix::net::UnixDatagram::bind_addr(&address).unwrap();
            let c = UnixDatagram::from_std(c).unwrap();
            let mut path = vec![0u8];
            path.extend_from_slice(name.as_bytes());
            let path = Path::new(std::ffi::OsStr::from_bytes(&path));
            a.send_to(&b"to abstract"[..], path).await.0.unwrap();
            let (received, _) = c.recv_from(Vec::with_capacity(16)).await;
            assert_eq!(received.unwrap().1.as_pathname(), Some(a_path.as_path()));
            c.send_to(&b"from abstract"[..], &a_path).await.0.unwrap();
            let (received, _) = a.recv_from(Vec::with_capacity(16)).await;
            assert_eq!(
                received.unwrap().1.as_abstract_name(),
                Some(name.as_bytes())
            );
        }
    });
}

#[cfg(target_os = "linux")]
fn runtime_name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

pub fn descriptors_pass_over_unix_sockets(runtime: Runtime) {
    runtime.block_on(async {
        // A stream: two descriptors (the ends of a socket pair), used on the other side.
        let (a, b) = UnixStream::pair().unwrap();
        let (mut near, far) = StdUnixStream::pair().unwrap();
        let file = std::fs::File::open("Cargo.toml").unwrap();
        let (sent, _) = a
            .send_with_fds(&b"two"[..], &[far.as_fd(), file.as_fd()])
            .await;
        assert_eq!(sent.unwrap(), 3);
        drop((far, file));
        let (received, buffer) = b.recv_with_fds(Vec::with_capacity(8), 4).await;
        let (count, mut fds) = received.unwrap();
        assert_eq!((&buffer[..count], fds.len()), (&b"two"[..], 2));
        let mut file = std::fs::File::from(fds.pop().unwrap());
        let mut far = StdUnixStream::from(fds.pop().unwrap());
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        assert!(text.contains("[package]"));
        std::io::Write::write_all(&mut far, b"via a passed socket").unwrap();
        drop(far);
        let mut text = String::new();
        near.set_read_timeout(Some(LIMIT)).unwrap();
        near.read_to_string(&mut text).unwrap();
        assert_eq!(text, "via a passed socket");

        // A datagram socket, and a message without descriptors.
        let (c, d) = UnixDatagram::pair().unwrap();
        let (end, mut watch) = watched_pair();
        c.send_with_fds(&b"one"[..], &[end.as_fd()])
            .await
            .0
            .unwrap();
        c.send_with_fds(&b"none"[..], &[]).await.0.unwrap();
        drop(end);
        let (received, _) = d.recv_with_fds(Vec::with_capacity(8), 1).await;
        let (count, fds) = received.unwrap();
        assert_eq!((count, fds.len()), (3, 1));
        let (received, _) = d.recv_with_fds(Vec::with_capacity(8), 1).await;
        assert_eq!(received.unwrap().1.len(), 0);
        drop(fds);
        assert!(
            every_copy_closed(&mut watch),
            "the received descriptor is the only copy"
        );

        // A stream passes descriptors only with bytes.
        let (refused, _) = a.send_with_fds(Vec::new(), &[near.as_fd()]).await;
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidInput);
    });
}

pub fn descriptors_without_room_are_closed(runtime: Runtime) {
    runtime.block_on(async {
        for max_fds in [0, 1, 2] {
            let (a, b) = UnixStream::pair().unwrap();
            let (end, mut watch) = watched_pair();
            a.send_with_fds(&b"three"[..], &[end.as_fd(), end.as_fd(), end.as_fd()])
                .await
                .0
                .unwrap();
            drop(end);
            let (received, buffer) = b.recv_with_fds(Vec::with_capacity(8), max_fds).await;
            let error = received.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidData, "{error}");
            assert_eq!(&buffer[..], b"three", "the bytes are in the buffer");
            assert!(
                every_copy_closed(&mut watch),
                "room for {max_fds} of 3 descriptors leaked one"
            );
        }
    });
}

pub fn cancelled_fd_receives_close_what_arrives(runtime: Runtime) {
    runtime.block_on(async {
        let (end, mut watch) = watched_pair();
        // Cancelled while waiting; the descriptors come after, and go with the socket.
        let (a, b) = UnixStream::pair().unwrap();
        let waiting = timeout(
            Duration::from_millis(20),
            b.recv_with_fds(Vec::with_capacity(8), 2),
        )
        .await;
        assert!(waiting.is_err(), "nothing was sent: the receive waits");
        a.send_with_fds(&b"late"[..], &[end.as_fd()])
            .await
            .0
            .unwrap();
        drop((a, b));
        // Descriptors already there: the receive is done before its cancel, and its
        // completion, which nobody takes, brings them.
        for _ in 0..10 {
            let (a, b) = UnixDatagram::pair().unwrap();
            a.send_with_fds(&b"early"[..], &[end.as_fd(), end.as_fd()])
                .await
                .0
                .unwrap();
            let cut = timeout(Duration::ZERO, b.recv_with_fds(Vec::with_capacity(8), 2)).await;
            drop(cut);
            // The orphaned completion arrives on a later turn of the runtime.
            proactor::time::sleep(Duration::from_millis(5)).await;
            drop((a, b));
        }
        drop(end);
        assert!(
            every_copy_closed(&mut watch),
            "a cancelled receive leaked a descriptor"
        );
    });
}

/// Descriptors over unconnected datagram sockets (`send_to_with_fds`, `recv_from_with_fds`):
/// to a path, from a bound or an unbound sender, too many for the room (none leaks), and the
/// address errors `send_to` gives.
pub fn descriptors_pass_to_and_from_addresses(runtime: Runtime) {
    let dir = Dir::new(&runtime, "fds-to");
    runtime.block_on(async {
        let (a_path, b_path) = (dir.0.join("a"), dir.0.join("b"));
        let a = UnixDatagram::bind(&a_path).unwrap();
        let b = UnixDatagram::bind(&b_path).unwrap();
        let (end, mut watch) = watched_pair();
        let file = std::fs::File::open("Cargo.toml").unwrap();
        let (sent, buffer) = a
            .send_to_with_fds(b"two".to_vec(), &[end.as_fd(), file.as_fd()], &b_path)
            .await;
        assert_eq!((sent.unwrap(), &buffer[..]), (3, &b"two"[..]));
        drop((end, file));
        let (received, buffer) = b.recv_from_with_fds(Vec::with_capacity(8), 4).await;
        let (count, mut fds, from) = received.unwrap();
        assert_eq!((&buffer[..count], fds.len()), (&b"two"[..], 2));
        assert_eq!(from.as_pathname(), Some(a_path.as_path()));
        let mut file = std::fs::File::from(fds.pop().unwrap());
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        assert!(text.contains("[package]"));
        // The reply goes back to the sender's address, without descriptors.
        b.send_to_with_fds(&b"none"[..], &[], from.as_pathname().unwrap())
            .await
            .0
            .unwrap();
        let (received, _) = a.recv_from_with_fds(Vec::with_capacity(8), 1).await;
        let (count, none, from) = received.unwrap();
        assert_eq!((count, none.len()), (4, 0));
        assert_eq!(from.as_pathname(), Some(b_path.as_path()));
        drop(fds);
        assert!(every_copy_closed(&mut watch), "a passed descriptor leaked");

        // From an unbound sender: an unnamed address. Too many for the room: all closed.
        let unbound = UnixDatagram::unbound().unwrap();
        let (end, mut watch) = watched_pair();
        unbound
            .send_to_with_fds(
                &b"three"[..],
                &[end.as_fd(), end.as_fd(), end.as_fd()],
                &b_path,
            )
            .await
            .0
            .unwrap();
        drop(end);
        let (received, buffer) = b.recv_from_with_fds(Vec::with_capacity(8), 1).await;
        assert_eq!(received.unwrap_err().kind(), ErrorKind::InvalidData);
        assert_eq!(&buffer[..], b"three", "the bytes are in the buffer");
        assert!(every_copy_closed(&mut watch), "room for 1 of 3 leaked one");
        let (end, _watch) = watched_pair();
        unbound
            .send_to_with_fds(&b"one"[..], &[end.as_fd()], &b_path)
            .await
            .0
            .unwrap();
        let (received, _) = b.recv_from_with_fds(Vec::with_capacity(8), 1).await;
        let (_, fds, from) = received.unwrap();
        assert_eq!(fds.len(), 1);
        assert!(from.is_unnamed());

        // Errors, with the buffer back: nothing bound there; a path too long; too many
        // descriptors; room for too many.
        let (missing, buffer) = a
            .send_to_with_fds(&b"x"[..], &[end.as_fd()], dir.0.join("nobody"))
            .await;
        assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(buffer, b"x");
        let too_long = dir.0.join("x".repeat(120));
        let (refused, _) = a
            .send_to_with_fds(&b"x"[..], &[end.as_fd()], too_long)
            .await;
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidInput);
        let many = vec![end.as_fd(); 254];
        let (refused, _) = a.send_to_with_fds(&b"x"[..], &many, &b_path).await;
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidInput);
        let (refused, _) = b.recv_from_with_fds(Vec::with_capacity(8), 254).await;
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidInput);
    });
}
