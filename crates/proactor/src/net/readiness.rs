//! Readiness and non-blocking attempts on sockets (`readable`, `ready`, `try_read`, ...), as
//! tokio's: for code written around "wait until ready, then try until it would block", and
//! for reads and writes that must not wait at all.
//!
//! A wait asks the driver for the descriptor's readiness (see `io::ready::wait`); an attempt
//! is one non-blocking system call. Both go around the owned-buffer operations, so a stream's
//! bytes kept from a cancelled read come first here too.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use super::{Descriptor, Stream};
use crate::io::{ready, Interest, Ready};

fn would_block() -> io::Error {
    io::Error::from(io::ErrorKind::WouldBlock)
}

impl Descriptor {
    /// Waits until the socket is ready for something in `interest`.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        ready::wait(self.fd, interest).await
    }

    /// One non-blocking receive into `buf`.
    pub(crate) fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.nonblocking()?;
        (&*socket).read(buf)
    }

    /// One non-blocking send of `buf`.
    pub(crate) fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.nonblocking()?;
        (&*socket).write(buf)
    }

    /// One non-blocking receive into `buf`, with the sender's address.
    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, socket2::SockAddr)> {
        let socket = self.nonblocking()?;
        socket.recv_from(crate::buf::as_uninit(buf))
    }

    /// One non-blocking send of `buf` to `address`.
    pub(crate) fn try_send_to(&self, buf: &[u8], address: &socket2::SockAddr) -> io::Result<usize> {
        let socket = self.nonblocking()?;
        socket.send_to(buf, address)
    }

    /// socket2's view of the socket, in non-blocking mode. Sockets proactor makes on Unix
    /// are non-blocking from the start; on Windows the driver's sockets are not (overlapped
    /// operations do not need it), so an attempt sets the mode first, which leaves the
    /// overlapped operations as they were.
    fn nonblocking(&self) -> io::Result<std::mem::ManuallyDrop<socket2::Socket>> {
        let socket = self.socket();
        #[cfg(windows)]
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

impl Stream {
    /// Waits until the stream is ready for something in `interest`; bytes a cancelled read
    /// kept (or the end or error it met) make it readable at once.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        if interest.is_readable() {
            std::future::poll_fn(|cx| self.poll_no_pending_reads(cx)).await;
            let kept = self
                .leftover
                .get()
                .is_some_and(|leftover| !leftover.borrow().is_clear());
            if kept {
                return Ok(Ready::READABLE);
            }
        }
        self.descriptor.ready(interest).await
    }

    /// One non-blocking read into `buf`: bytes a cancelled read kept first; `WouldBlock`
    /// while a cancelled read is still in flight (its bytes come before any new ones).
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(leftover) = self.leftover.get() {
            let mut leftover = leftover.borrow_mut();
            if leftover.pending > 0 {
                return Err(would_block());
            }
            let kept = leftover.take_kept(buf.len(), |bytes| {
                let count = bytes.len().min(buf.len());
                buf[..count].copy_from_slice(&bytes[..count]);
                count
            });
            if let Some(kept) = kept {
                return kept;
            }
        }
        self.descriptor.try_recv(buf)
    }

    /// One non-blocking write of `buf`.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.descriptor.try_send(buf)
    }
}

/// The IP address in `address`, which a socket of an IP family always gives.
pub(crate) fn ip_address(address: socket2::SockAddr) -> io::Result<SocketAddr> {
    address.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the sender's address is not an IP address",
        )
    })
}
