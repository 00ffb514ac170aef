//! Where proactor has no backend yet: every constructor answers `Unsupported`, so the crate
//! still builds, documents and type-checks there.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::Backend;
#[cfg(unix)]
use super::Waker;
use crate::slots::{HoldsOp, Slots};
use crate::{Completion, Op, OpId};

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "proactor has no backend for this platform yet",
    )
}

/// Never constructed: [`super::open`] fails first on this platform.
pub(crate) struct Unsupported {
    waker: Arc<Waker>,
    slots: Slots<Slot>,
}

#[derive(Default)]
pub(crate) struct Slot {
    op: Option<Op>,
}

impl HoldsOp for Slot {
    fn op(&mut self) -> &mut Option<Op> {
        &mut self.op
    }
}

impl Backend for Unsupported {
    type Slot = Slot;

    fn slots(&mut self) -> &mut Slots<Slot> {
        &mut self.slots
    }

    fn submit(&mut self, op: Op) -> OpId {
        drop(op);
        OpId {
            index: 0,
            generation: 0,
        }
    }

    fn cancel(&mut self, _id: OpId) -> io::Result<()> {
        Err(unsupported())
    }

    fn poll(
        &mut self,
        _completions: &mut Vec<Completion>,
        _timeout: Option<Duration>,
    ) -> io::Result<usize> {
        Err(unsupported())
    }

    fn flush(&mut self, _completions: &mut Vec<Completion>) -> io::Result<usize> {
        Err(unsupported())
    }

    fn waker(&self) -> &Arc<Waker> {
        &self.waker
    }

    fn in_flight(&self) -> usize {
        0
    }

    fn forget_fd(&mut self, _fd: crate::Fd) {}

    fn identity(&self) -> u64 {
        0
    }
}

#[cfg(not(unix))]
pub(crate) use self::portable::{
    close_quietly, is_cancelled, perform_blocking, recv_many, send_many, Waker,
};

#[cfg(not(unix))]
mod portable {
    use std::io;

    use crate::Op;

    /// No driver runs here, so there is nothing to wake.
    pub(crate) struct Waker;

    impl Waker {
        pub(crate) fn wake(&self) {}
    }

    pub(crate) fn is_cancelled(error: &io::Error) -> bool {
        error.kind() == io::ErrorKind::Interrupted
    }

    pub(crate) fn close_quietly(_fd: crate::Fd) {}

    pub(crate) fn perform_blocking(op: &mut Op) -> io::Result<usize> {
        match op {
            Op::Blocking { job } => std::mem::replace(job, Box::new(|| Ok(0)))(),
            _ => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "proactor has no backend for this platform yet",
            )),
        }
    }

    pub(crate) fn recv_many(
        _fd: crate::Fd,
        _bufs: &mut [crate::Buffer],
        _meta: &mut [crate::datagram::RecvMeta],
    ) -> io::Result<usize> {
        Err(super::unsupported())
    }

    pub(crate) fn send_many(
        _fd: crate::Fd,
        _bufs: &[crate::Buffer],
        _targets: &[std::net::SocketAddr],
    ) -> io::Result<usize> {
        Err(super::unsupported())
    }
}
