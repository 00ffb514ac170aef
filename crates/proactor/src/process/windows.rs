//! Windows: a child is its process handle, waited for through the driver (`Op::Poll` on the
//! handle: a registered wait posts to the completion port when the process exits). Windows
//! has no zombies: dropping a child only closes the handle. std makes our end of each piped
//! stdio an overlapped named pipe, so it is read and written through the port.

use std::ffi::OsStr;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
use std::os::windows::process::CommandExt;
use std::process::ExitStatus;

use proactor_driver::{Fd, Op};

use super::{Command, Pipe};
use crate::net::{Descriptor, Stream};
use crate::runtime::op;

/// Windows' settings, through std's `CommandExt`.
impl Command {
    /// Sets the [process creation flags] `CreateProcessW` gets, e.g. `CREATE_NO_WINDOW`
    /// (`0x0800_0000`: a console program started from a GUI one opens no console window) or
    /// `CREATE_NEW_PROCESS_GROUP` (the child does not get this console's Ctrl-C). The
    /// constants are in `windows-sys` (`Win32::System::Threading`).
    ///
    /// [process creation flags]: https://learn.microsoft.com/en-us/windows/win32/procthread/process-creation-flags
    ///
    /// # Errors
    ///
    /// [`spawn`](Command::spawn) fails with `CreateProcessW`'s error for flags it refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::process::Command;
    ///
    /// const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut command = Command::new("cmd");
    ///     command.args(["/C", "exit 0"]).creation_flags(CREATE_NO_WINDOW);
    ///     assert!(command.status().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn creation_flags(&mut self, flags: u32) -> &mut Command {
        self.std.creation_flags(flags);
        self
    }

    /// Appends `text` to the command line as it is, without the quoting and escaping
    /// [`arg`](Command::arg) adds: for programs, like `cmd /C`, that parse their command line
    /// their own way.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     // `arg` would escape the quotes as `\"`, which cmd prints as they are.
    ///     let output = Command::new("cmd").raw_arg(r#"/C echo "a b""#).output().await?;
    ///     assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), r#""a b""#);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn raw_arg(&mut self, text: impl AsRef<OsStr>) -> &mut Command {
        self.std.raw_arg(text);
        self
    }
}

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
