//! Windows: a child is its process handle, waited for through the driver (`Op::Poll` on the
//! handle: a registered wait posts to the completion port when the process exits). Windows
//! has no zombies: dropping a child only closes the handle. std makes our end of each piped
//! stdio an overlapped named pipe, so it is read and written through the port.

use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
use std::process::ExitStatus;

use proactor_driver::{Fd, Op};

use super::Pipe;
use crate::net::{Descriptor, Stream};
use crate::runtime::op;

pub(super) struct Process {
    /// std's child: its handle, exit code and `TerminateProcess`.
    std: std::process::Child,
    status: Option<ExitStatus>,
}

impl Process {
    pub(super) fn new(std: std::process::Child) -> Process {
        Process { std, status: None }
    }

    pub(super) fn id(&self) -> u32 {
        self.std.id()
    }

    pub(super) fn kill(&mut self) -> io::Result<()> {
        if self.try_wait()?.is_some() {
            // Exited: nothing to end (TerminateProcess would say ACCESS_DENIED).
            return Ok(());
        }
        match self.std.kill() {
            // It exited between the look and the kill.
            Err(_) if matches!(self.try_wait(), Ok(Some(_))) => Ok(()),
            other => other,
        }
    }

    pub(super) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        self.status = self.std.try_wait()?;
        Ok(self.status)
    }

    pub(super) async fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            op::submit(Op::Poll {
                fd: self.std.as_raw_handle() as Fd,
                writable: false,
            })
            .await
            .result?;
        }
    }
}

/// Hands our end of a child's pipe to the driver.
pub(super) fn pipe(end: impl Into<OwnedHandle>) -> io::Result<Pipe> {
    Ok(Stream::pipe(Descriptor::adopt(end.into())))
}
