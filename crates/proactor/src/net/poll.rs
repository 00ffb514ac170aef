//! Poll-shaped entry points into a byte stream, for the adapters in `crate::compat`: they
//! hold the in-flight operation themselves (a named future) instead of an `async fn`'s.

use std::rc::Rc;
use std::task::{Context, Poll};

use proactor_driver::{Buffer, Op};

use super::Stream;
use crate::runtime::op::{self, Submitted};

/// How a poll-shaped read began.
pub(crate) enum Begun {
    /// Bytes cancelled reads had kept were copied into the buffer (or the error one met is
    /// returned); nothing was submitted.
    Filled(std::io::Result<()>),
    /// A read is in flight with the buffer; a cancel keeps its bytes for the stream.
    Submitted(Submitted),
    /// Nothing there: the task is woken at the socket's next readable edge (see
    /// `Driver::watch_readable`) and begins again then; the buffer stays with the caller.
    Watching(ReadableWatch),
}

/// A wait for a socket's next readable edge, asked of its runtime's driver for a token;
/// withdrawn when dropped (if the edge has not taken it already).
pub(crate) struct ReadableWatch {
    runtime: Rc<crate::runtime::Inner>,
    fd: proactor_driver::Fd,
    token: u64,
}

impl Drop for ReadableWatch {
    fn drop(&mut self) {
        if let Ok(mut driver) = self.runtime.driver.try_borrow_mut() {
            driver.unwatch_readable(self.fd, self.token);
        }
    }
}

impl Stream {
    /// Starts a read into `buf`'s spare capacity, the poll-shaped twin of `Stream::read`:
    /// pending while cancelled reads are still in flight (their bytes come first), then the
    /// bytes they kept, else a submitted read that owns `buf` (left empty here).
    pub(crate) fn poll_begin_read(&self, cx: &mut Context<'_>, buf: &mut Vec<u8>) -> Poll<Begun> {
        if self.poll_no_pending_reads(cx).is_pending() || self.poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        if let Some(leftover) = self.leftover.get() {
            let room = buf.capacity() - buf.len();
            let kept = leftover.borrow_mut().take_kept(room, |bytes| {
                let count = bytes.len().min(room);
                buf.extend_from_slice(&bytes[..count]);
                count
            });
            if let Some(kept) = kept {
                return Poll::Ready(Begun::Filled(kept.map(drop)));
            }
        }
        if self.transfers_now() {
            // As `Stream::begin_read`: bytes already there now, else a wait for the edge.
            let mut buffer = Buffer::from(std::mem::take(buf));
            let tried = self.descriptor.try_recv_now(&mut buffer);
            *buf = buffer
                .into_vec()
                .unwrap_or_else(|_| unreachable!("made from a vector just above"));
            if let Some(result) = tried {
                return Poll::Ready(Begun::Filled(result.map(drop)));
            }
            if let Some(token) = self.watch_readable(cx) {
                if let Some(runtime) = self.descriptor.runtime() {
                    return Poll::Ready(Begun::Watching(ReadableWatch {
                        runtime: Rc::clone(runtime),
                        fd: self.descriptor.fd(),
                        token,
                    }));
                }
            }
        }
        let buffer = Buffer::from(std::mem::take(buf));
        let start = buffer.len();
        let fd = self.descriptor.fd();
        let mut submitted = op::submit_timed(
            Stream::read_op(fd, self.socket, buffer),
            self.read_timeout(),
        );
        submitted.on_orphan(self.keep_received(start));
        Poll::Ready(Begun::Submitted(submitted))
    }

    /// Submits a shutdown of the writing direction.
    pub(crate) fn begin_shutdown(&self) -> Submitted {
        op::submit(Op::Shutdown {
            fd: self.descriptor.fd(),
            how: std::net::Shutdown::Write,
        })
    }

    /// Whether this is a socket (a pipe has no shutdown: its writer closes it instead).
    pub(crate) fn is_socket(&self) -> bool {
        self.socket
    }

    /// Gives bytes an adapter had read but not handed out back to the stream: its next read
    /// returns them before anything else.
    pub(crate) fn unread(&self, bytes: &[u8]) {
        let mut leftover = self.leftover.get_or_init(Rc::default).borrow_mut();
        leftover.bytes.splice(0..0, bytes.iter().copied());
    }
}
