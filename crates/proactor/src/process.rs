//! Child processes, shaped like [`std::process`]: build a [`Command`], spawn a [`Child`],
//! talk to it through its pipes with owned buffers, and await its exit.
//!
//! The process itself is started by [`std::process::Command`]; its pipes are then made
//! non-blocking and read and written through the driver ([`AsyncRead`] for
//! [`ChildStdout`] and [`ChildStderr`], [`AsyncWrite`] for [`ChildStdin`]).
//!
//! # Waiting
//!
//! [`Child::wait`] waits through the driver and then reaps the child with `waitpid`: on
//! Linux (5.3 and later) on a pidfd, which becomes readable when the child exits; on macOS
//! and the BSDs with the kqueue's `EVFILT_PROC` exit event ([`Op::WaitExit`]). Where neither
//! works (a Linux kernel without pidfds, a seccomp filter), it waits on the runtime's thread
//! pool instead, with a blocking `waitid(WNOWAIT)` per waiting child; each such wait holds a
//! pool thread until the child exits.
//!
//! [`Op::WaitExit`]: proactor_driver::Op::WaitExit
//!
//! # Dropping a child
//!
//! A [`Child`] dropped before it was reaped is not killed (unless its command asked for
//! [`kill_on_drop`](Command::kill_on_drop)): it runs on, and is reaped in the background when
//! it exits, so it never stays a zombie. One process-wide thread watches all such children
//! (their pidfds on Linux, a kqueue of its own on macOS and the BSDs); where that is not
//! possible each gets a small thread of its own.
//!
//! To detach a child on Unix, so that it also outlives a Ctrl-C sent to this process's
//! group, start it in a group of its own with [`process_group(0)`](Command::process_group)
//! and drop the `Child` without waiting.
//!
//! # Examples
//!
//! ```ignore-windows
//! use proactor::io::AsyncRead;
//! use proactor::process::{Command, Stdio};
//!
//! proactor::Runtime::new()?.block_on(async {
//!     let mut child = Command::new("echo").arg("hello").stdout(Stdio::piped()).spawn()?;
//!     let mut stdout = child.stdout.take().expect("piped");
//!     let (result, output) = stdout.read_to_end(Vec::new()).await;
//!     result?;
//!     assert_eq!(output, b"hello\n");
//!     assert!(child.wait().await?.success());
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::path::Path;
use std::pin::pin;
use std::task::Poll;

pub use std::process::{ExitStatus, Output, Stdio};

#[cfg(unix)]
#[path = "process/unix.rs"]
mod sys;
#[cfg(windows)]
#[path = "process/windows.rs"]
mod sys;

use crate::io::{AsyncRead, AsyncWrite, RawStream};
use crate::{BufResult, IoBuf};

/// A process builder, like [`std::process::Command`], whose [`spawn`](Command::spawn) gives
/// a [`Child`] with asynchronous pipes.
///
/// By default the child inherits this process's standard streams (except for
/// [`output`](Command::output), which captures stdout and stderr).
///
/// # Examples
///
/// ```ignore-windows
/// use proactor::process::Command;
///
/// proactor::Runtime::new()?.block_on(async {
///     let status = Command::new("sh").args(["-c", "exit 3"]).status().await?;
///     assert_eq!(status.code(), Some(3));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Command {
    std: std::process::Command,
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
    kill_on_drop: bool,
}

impl Command {
    /// A command running `program`, found on `PATH` unless it is a path.
    ///
    /// # Examples
    ///
    /// ```
    /// let command = proactor::process::Command::new("ls");
    /// # let _ = command;
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
            kill_on_drop: false,
        }
    }

    /// Adds one argument.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut command = proactor::process::Command::new("ls");
    /// command.arg("-l").arg("/");
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut command = proactor::process::Command::new("ls");
    /// command.args(["-l", "-a"]);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut command = proactor::process::Command::new("env");
    /// command.env("GREETING", "hello");
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut command = proactor::process::Command::new("env");
    /// command.envs([("A", "1"), ("B", "2")]);
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut command = proactor::process::Command::new("env");
    /// command.env_remove("HOME");
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what [`env`](Command::env) adds).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut command = proactor::process::Command::new("env");
    /// command.env_clear().env("ONLY", "this");
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut command = proactor::process::Command::new("ls");
    /// command.current_dir("/");
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's standard input: [`Stdio::piped`] gives [`Child::stdin`].
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::process::{Command, Stdio};
    ///
    /// let mut command = Command::new("cat");
    /// command.stdin(Stdio::piped());
    /// ```
    pub fn stdin(&mut self, stdio: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(stdio);
        self.stdin_set = true;
        self
    }

    /// Sets the child's standard output: [`Stdio::piped`] gives [`Child::stdout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::process::{Command, Stdio};
    ///
    /// let mut command = Command::new("ls");
    /// command.stdout(Stdio::null());
    /// ```
    pub fn stdout(&mut self, stdio: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(stdio);
        self.stdout_set = true;
        self
    }

    /// Sets the child's standard error: [`Stdio::piped`] gives [`Child::stderr`].
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::process::{Command, Stdio};
    ///
    /// let mut command = Command::new("ls");
    /// command.stderr(Stdio::inherit());
    /// ```
    pub fn stderr(&mut self, stdio: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(stdio);
        self.stderr_set = true;
        self
    }

    /// The underlying std builder, for settings this type does not mirror (for instance
    /// `std::os::unix::process::CommandExt`). Standard streams set through it are not seen
    /// by [`output`](Command::output), which then captures stdout and stderr anyway.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::os::unix::process::CommandExt;
    ///
    /// let mut command = proactor::process::Command::new("ls");
    /// command.as_std_mut().process_group(0);
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Whether dropping the [`Child`] kills it (as [`Child::start_kill`] does); off by default,
    /// when a dropped child runs on and is reaped in the background. A killed child is reaped
    /// in the background too.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::time::Duration;
    /// use proactor::io::AsyncRead;
    /// use proactor::process::{Command, Stdio};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut child = Command::new("sleep")
    ///         .arg("100")
    ///         .stdout(Stdio::piped())
    ///         .kill_on_drop(true)
    ///         .spawn()?;
    ///     let mut stdout = child.stdout.take().expect("piped");
    ///     drop(child); // killed: its end of the pipe closes at once, not in 100 s
    ///     let limit = Duration::from_secs(10);
    ///     let (result, _) = proactor::time::timeout(limit, stdout.read_to_end(Vec::new())).await?;
    ///     assert_eq!(result?, 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Starts the child.
    ///
    /// Piped streams become the [`Child`]'s `stdin`, `stdout` and `stderr`. The child need not
    /// be spawned inside a runtime, but its pipes and [`Child::wait`] are used inside one.
    ///
    /// # Errors
    ///
    /// `NotFound` if the program does not exist, `PermissionDenied` if it cannot be run, or
    /// another OS error from `fork`/`exec` or from setting up the pipes.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut child = Command::new("true").spawn()?;
    ///     assert!(child.wait().await?.success());
    ///     let missing = Command::new("/no/such/program").spawn().unwrap_err();
    ///     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        Child::from_std(self.std.spawn()?, self.kill_on_drop)
    }

    /// Runs the child to its end and collects its exit status, stdout and stderr.
    ///
    /// Unless set on this command, stdin is null and stdout and stderr are captured (as
    /// [`std::process::Command::output`] does); both are read concurrently, so a child
    /// filling one pipe cannot block on it.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn), or the first error reading a pipe or waiting.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let output = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 1"]).output().await?;
    ///     assert_eq!(output.stdout, b"out\n");
    ///     assert_eq!(output.stderr, b"err\n");
    ///     assert_eq!(output.status.code(), Some(1));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        if !self.stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::piped());
        }
        let spawned = self.spawn();
        // Back to the defaults of `spawn` and `status` (inheriting) for the next run.
        if !self.stdin_set {
            self.std.stdin(Stdio::inherit());
        }
        if !self.stdout_set {
            self.std.stdout(Stdio::inherit());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::inherit());
        }
        spawned?.wait_with_output().await
    }

    /// Runs the child to its end and returns its exit status; the child inherits the standard
    /// streams unless they were set.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn), or the error waiting for the child.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     assert!(Command::new("true").status().await?.success());
    ///     assert!(!Command::new("false").status().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.std, f)
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std builder; its standard streams count as unset for
    /// [`output`](Command::output).
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
            kill_on_drop: false,
        }
    }
}

/// A running (or finished) child process.
///
/// Dropping it does not wait for the child, nor kill it unless its command asked for
/// [`kill_on_drop`](Command::kill_on_drop): it runs on and is reaped in the background when
/// it exits (see the [module docs](self)).
///
/// # Examples
///
/// ```ignore-windows
/// use proactor::io::{AsyncRead, AsyncWrite};
/// use proactor::process::{Command, Stdio};
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
///     let mut stdin = child.stdin.take().expect("piped");
///     let (result, _) = stdin.write_all(b"ping".to_vec()).await;
///     result?;
///     drop(stdin); // cat ends at end of input
///     let output = child.wait_with_output().await?;
///     assert_eq!(output.stdout, b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Child {
    /// The writing end of the child's stdin, when it was [`Stdio::piped`].
    pub stdin: Option<ChildStdin>,
    /// The reading end of the child's stdout, when it was [`Stdio::piped`].
    pub stdout: Option<ChildStdout>,
    /// The reading end of the child's stderr, when it was [`Stdio::piped`].
    pub stderr: Option<ChildStderr>,
    /// The process itself: waited for, killed and (on Unix) reaped the platform's way.
    process: sys::Process,
    /// [`Command::kill_on_drop`].
    kill_on_drop: bool,
}

impl Child {
    fn from_std(mut std: std::process::Child, kill_on_drop: bool) -> io::Result<Child> {
        let stdin = std.stdin.take();
        let stdout = std.stdout.take();
        let stderr = std.stderr.take();
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            process: sys::Process::new(std),
            kill_on_drop,
        };
        // On failure `child` is dropped (on Unix the process is reaped in the background);
        // its pipes close, so it sees end of input.
        child.stdin = stdin
            .map(sys::pipe)
            .transpose()?
            .map(|pipe| ChildStdin { pipe: Some(pipe) });
        child.stdout = stdout
            .map(sys::pipe)
            .transpose()?
            .map(|pipe| ChildStdout { pipe });
        child.stderr = stderr
            .map(sys::pipe)
            .transpose()?
            .map(|pipe| ChildStderr { pipe });
        Ok(child)
    }

    /// The child's process ID (which, once the child has been reaped, may name another
    /// process).
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut child = Command::new("true").spawn()?;
    ///     assert!(child.id() > 0);
    ///     child.wait().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> u32 {
        self.process.id()
    }

    /// Sends `SIGKILL` to the child; it does not wait for it to exit (await
    /// [`wait`](Child::wait) for that).
    ///
    /// # Errors
    ///
    /// The OS error from `kill(2)`. Killing a child that was already reaped (by `wait` or
    /// `try_wait`) does nothing and returns `Ok`; killing one that has exited but was not yet
    /// reaped also succeeds.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::os::unix::process::ExitStatusExt;
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut child = Command::new("sleep").arg("100").spawn()?;
    ///     child.kill()?;
    ///     let status = child.wait().await?;
    ///     assert_eq!(status.signal(), Some(libc::SIGKILL));
    ///     child.kill()?; // already reaped: a no-op
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        self.process.kill()
    }

    /// Starts killing the child (`SIGKILL`; `TerminateProcess` on Windows) without waiting for
    /// it to exit: tokio's name for [`kill`](Child::kill), which does the same. tokio's
    /// `kill().await`, which also waits, is `kill()?` then [`wait().await`](Child::wait).
    ///
    /// # Errors
    ///
    /// As [`kill`](Child::kill): a child already reaped is not an error.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut child = Command::new("sleep").arg("100").spawn()?;
    ///     child.start_kill()?;
    ///     assert!(!child.wait().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.process.kill()
    }

    /// The child's exit status if it has exited, reaping it; `None` if it still runs. Never
    /// blocks.
    ///
    /// # Errors
    ///
    /// The OS error from `waitpid(2)`, e.g. `ECHILD` if something else reaped the child.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut child = Command::new("sleep").arg("100").spawn()?;
    ///     assert!(child.try_wait()?.is_none());
    ///     child.kill()?;
    ///     let status = child.wait().await?;
    ///     assert_eq!(child.try_wait()?, Some(status));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.process.try_wait()
    }

    /// Waits for the child to exit and reaps it. Closes [`stdin`](Child::stdin) first, so a
    /// child reading it to its end is not left waiting for more.
    ///
    /// Cancel-safe: dropping the future leaves the child running and waitable again.
    ///
    /// # Errors
    ///
    /// The OS error from waiting, e.g. `ECHILD` if something else reaped the child.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use std::os::unix::process::ExitStatusExt;
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let status = Command::new("sh").args(["-c", "kill -TERM $$"]).spawn()?.wait().await?;
    ///     assert_eq!(status.signal(), Some(libc::SIGTERM));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        self.process.wait().await
    }

    /// Waits for the child to exit while collecting its stdout and stderr (those that are
    /// piped), concurrently. Closes stdin first.
    ///
    /// # Errors
    ///
    /// The first error reading a pipe or waiting.
    ///
    /// # Examples
    ///
    /// ```ignore-windows
    /// use proactor::process::{Command, Stdio};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
    ///     let output = child.wait_with_output().await?;
    ///     assert_eq!(output.stdout, b"hi\n");
    ///     assert!(output.stderr.is_empty());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stdout = self.stdout.take();
        let stderr = self.stderr.take();
        let (stdout, stderr) = join(read_all(stdout), read_all(stderr)).await;
        let (stdout, stderr) = (stdout?, stderr?);
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.kill_on_drop {
            // Nobody is left to hear of a failure; the child is reaped in the background
            // either way (`sys::Process`'s drop).
            drop(self.process.kill());
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.process.id())
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

async fn read_all<R: AsyncRead>(reader: Option<R>) -> io::Result<Vec<u8>> {
    let Some(mut reader) = reader else {
        return Ok(Vec::new());
    };
    let (result, bytes) = reader.read_to_end(Vec::new()).await;
    result.map(|_| bytes)
}

/// Runs two futures concurrently, in this task.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut a_out = None;
    let mut b_out = None;
    poll_fn(|cx| {
        if a_out.is_none() {
            if let Poll::Ready(value) = a.as_mut().poll(cx) {
                a_out = Some(value);
            }
        }
        if b_out.is_none() {
            if let Poll::Ready(value) = b.as_mut().poll(cx) {
                b_out = Some(value);
            }
        }
        match (a_out.take(), b_out.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                a_out = a;
                b_out = b;
                Poll::Pending
            }
        }
    })
    .await
}

/// One end of a pipe to the child, read or written through the driver (a cancelled read
/// keeps its bytes for the next, as on sockets).
type Pipe = crate::net::Stream;

/// The writing end of a child's stdin ([`Child::stdin`]).
///
/// Dropping it (or [`shutdown`](AsyncWrite::shutdown)) closes the pipe: the child reads end
/// of input.
///
/// # Examples
///
/// ```ignore-windows
/// use proactor::io::AsyncWrite;
/// use proactor::process::{Command, Stdio};
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?;
///     let mut stdin = child.stdin.take().expect("piped");
///     let (result, _) = stdin.write_all(&b"bytes for cat"[..]).await;
///     result?;
///     stdin.shutdown().await?;
///     assert!(child.wait().await?.success());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ChildStdin {
    /// `None` once shut down.
    pipe: Option<Pipe>,
}

impl ChildStdin {
    /// The pipe while it is open, for the poll-based adapters.
    #[cfg(compat)]
    pub(crate) fn pipe(&self) -> Option<&Pipe> {
        self.pipe.as_ref()
    }

    /// Closes the pipe, as `shutdown` does.
    #[cfg(compat)]
    pub(crate) fn close(&mut self) {
        drop(self.pipe.take());
    }
}

impl AsyncWrite for ChildStdin {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        match &self.pipe {
            Some(pipe) => pipe.write(buf).await,
            None => (
                Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the child's stdin was shut down",
                )),
                buf,
            ),
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes the pipe: the child reads end of input. Later writes fail with `BrokenPipe`.
    async fn shutdown(&mut self) -> io::Result<()> {
        drop(self.pipe.take());
        Ok(())
    }

    fn raw_sink(&mut self) -> Option<RawStream> {
        self.pipe.as_ref().map(Pipe::raw_sink)
    }
}

/// The reading end of a child's stdout ([`Child::stdout`]).
///
/// # Examples
///
/// ```ignore-windows
/// use proactor::io::AsyncRead;
/// use proactor::process::{Command, Stdio};
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut child = Command::new("echo").arg("out").stdout(Stdio::piped()).spawn()?;
///     let mut stdout = child.stdout.take().expect("piped");
///     let (result, bytes) = stdout.read_to_end(Vec::new()).await;
///     result?;
///     assert_eq!(bytes, b"out\n");
///     child.wait().await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ChildStdout {
    pipe: Pipe,
}

impl ChildStdout {
    /// The pipe, for the poll-based adapters.
    #[cfg(compat)]
    pub(crate) fn pipe(&self) -> &Pipe {
        &self.pipe
    }
}

impl AsyncRead for ChildStdout {
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        self.pipe.read(buf).await
    }

    fn raw_source(&mut self) -> Option<RawStream> {
        self.pipe.raw_source()
    }
}

/// The reading end of a child's stderr ([`Child::stderr`]).
///
/// # Examples
///
/// ```ignore-windows
/// use proactor::io::AsyncRead;
/// use proactor::process::{Command, Stdio};
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut child = Command::new("sh").args(["-c", "echo err >&2"]).stderr(Stdio::piped()).spawn()?;
///     let mut stderr = child.stderr.take().expect("piped");
///     let (result, bytes) = stderr.read_to_end(Vec::new()).await;
///     result?;
///     assert_eq!(bytes, b"err\n");
///     child.wait().await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ChildStderr {
    pipe: Pipe,
}

impl ChildStderr {
    /// The pipe, for the poll-based adapters.
    #[cfg(compat)]
    pub(crate) fn pipe(&self) -> &Pipe {
        &self.pipe
    }
}

impl AsyncRead for ChildStderr {
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        self.pipe.read(buf).await
    }

    fn raw_source(&mut self) -> Option<RawStream> {
        self.pipe.raw_source()
    }
}
