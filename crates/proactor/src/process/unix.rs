//! Unix: a child is a pid, waited for through a pidfd (Linux), `EVFILT_PROC` (kqueue) or a
//! pool thread, and reaped with `waitpid`; a dropped child is reaped in the background, so
//! none is left a zombie.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::ExitStatus;

use super::{Child, Command, Pipe};
use crate::net::Descriptor;

/// Unix's settings, through std's `CommandExt`: each applies in the child between `fork` and
/// `exec`, and a failure there is the error of [`spawn`](Command::spawn).
impl Command {
    /// Runs the child as user `uid` (`setuid`). Changing to another user needs the privilege
    /// to (root, or `CAP_SETUID` on Linux); when root sets a uid, the child's supplementary
    /// groups are cleared too, as std does.
    ///
    /// # Errors
    ///
    /// [`spawn`](Command::spawn) fails with the OS error of `setuid`: `PermissionDenied`
    /// without the privilege, `InvalidInput` for a uid that cannot be one (`u32::MAX`).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     // From root: run the child as an unprivileged user and group.
    ///     let output = Command::new("id").arg("-u").uid(1000).gid(1000).output().await?;
    ///     assert_eq!(output.stdout, b"1000\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn uid(&mut self, uid: u32) -> &mut Command {
        self.std.uid(uid);
        self
    }

    /// Runs the child with group `gid` (`setgid`), with the same privilege rules as
    /// [`uid`](Command::uid).
    ///
    /// # Errors
    ///
    /// [`spawn`](Command::spawn) fails with the OS error of `setgid`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let output = Command::new("id").arg("-g").gid(1000).output().await?;
    ///     assert_eq!(output.stdout, b"1000\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn gid(&mut self, gid: u32) -> &mut Command {
        self.std.gid(gid);
        self
    }

    /// Puts the child in process group `pgroup` (`setpgid`); 0 makes a new group led by the
    /// child, whose ID is the child's pid.
    ///
    /// A child in a group of its own no longer gets the signals a terminal sends to this
    /// process's group (Ctrl-C's `SIGINT`, `SIGHUP` when the terminal closes). With the
    /// [`Child`] dropped unwaited (and [`kill_on_drop`](Command::kill_on_drop) off, the
    /// default) that detaches it: it outlives this process, and is reaped in the background
    /// while this process runs.
    ///
    /// # Errors
    ///
    /// [`spawn`](Command::spawn) fails with the OS error of `setpgid`, e.g. `PermissionDenied`
    /// for a group of another session.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     // A detached child: its own group, and not waited for.
    ///     let child = Command::new("true").process_group(0).spawn()?;
    ///     drop(child);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// Runs `f` in the child after `fork` and before `exec`, as std's `CommandExt::pre_exec`;
    /// an error it returns is the error of [`spawn`](Command::spawn).
    ///
    /// # Safety
    ///
    /// As std's: `f` runs in a copy of this process with one thread, where another thread
    /// may have held a lock (an allocator's) at the fork; it may only do what is
    /// async-signal-safe (most raw syscalls), and it must not touch resources it shares with
    /// this process in ways that break them here (buffered output, the parent's descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut command = Command::new("true");
    ///     // SAFETY: setsid is a plain syscall, async-signal-safe, and shares nothing.
    ///     unsafe {
    ///         command.pre_exec(|| match libc::setsid() {
    ///             -1 => Err(std::io::Error::last_os_error()),
    ///             _ => Ok(()),
    ///         });
    ///     }
    ///     assert!(command.status().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub unsafe fn pre_exec<F>(&mut self, f: F) -> &mut Command
    where
        F: FnMut() -> io::Result<()> + Send + Sync + 'static,
    {
        // SAFETY: our caller holds `pre_exec`'s contract, which is std's word for word.
        unsafe { self.std.pre_exec(f) };
        self
    }
}

impl Child {
    /// Sends signal `signal` (`libc::SIGTERM`, `libc::SIGINT`, ...) to the child, with
    /// `kill(2)`; it does not wait for the child to act on it. [`kill`](Child::kill) is this
    /// with `SIGKILL`. Unix only; tokio has no such method.
    ///
    /// # Errors
    ///
    /// `InvalidInput` once the child was reaped (by [`wait`](Child::wait) or
    /// [`try_wait`](Child::try_wait)): its pid may name another process by then, so nothing
    /// is sent. Otherwise the OS error from `kill(2)`, e.g. `InvalidInput` for a number that
    /// is no signal. A child that has exited but was not reaped takes the signal and ignores
    /// it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use proactor::process::Command;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut child = Command::new("sleep").arg("100").spawn()?;
    ///     child.send_signal(libc::SIGTERM)?;
    ///     let status = child.wait().await?;
    ///     assert_eq!(status.signal(), Some(libc::SIGTERM));
    ///     // Reaped: refused rather than sent to whatever has the pid now.
    ///     let error = child.send_signal(libc::SIGTERM).unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_signal(&self, signal: i32) -> io::Result<()> {
        self.process.signal(signal)
    }
}

pub(super) struct Process {
    pid: libc::pid_t,
    /// Set once the child has been reaped: its pid may then name another process.
    status: Option<ExitStatus>,
    /// Readable once the child has exited (Linux 5.3+); `None`: wait through `Op::WaitExit`.
    #[cfg(target_os = "linux")]
    pidfd: Option<Descriptor>,
    /// Whether the driver answered `Op::WaitExit` with `Unsupported`: then wait on the pool.
    no_wait_exit: bool,
}

impl Process {
    pub(super) fn new(std: std::process::Child) -> Process {
        let pid = std.id() as libc::pid_t;
        // The std handle does nothing when dropped: the pid is managed here from now on.
        drop(std);
        Process {
            pid,
            status: None,
            #[cfg(target_os = "linux")]
            pidfd: pidfd_open(pid).ok().map(Descriptor::adopt),
            no_wait_exit: false,
        }
    }

    pub(super) fn id(&self) -> u32 {
        self.pid as u32
    }

    pub(super) fn kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        self.signal(libc::SIGKILL)
    }

    pub(super) fn signal(&self, signal: i32) -> io::Result<()> {
        if self.status.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the child was reaped: its pid may name another process now",
            ));
        }
        // SAFETY: plain syscall; the pid is our unreaped child, so it names no other process.
        if unsafe { libc::kill(self.pid, signal) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub(super) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let status = reap(self.pid, false)?;
        self.status = status;
        Ok(status)
    }

    pub(super) async fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            #[cfg(target_os = "linux")]
            if let Some(pidfd) = &self.pidfd {
                crate::runtime::op::submit(proactor_driver::Op::Poll {
                    fd: pidfd.fd(),
                    writable: false,
                })
                .await
                .result?;
                continue;
            }
            if !self.no_wait_exit {
                // Completes at once for a child that has already exited, so a child exiting
                // between `try_wait` and here is not missed.
                let waited = crate::runtime::op::submit(proactor_driver::Op::WaitExit {
                    pid: self.pid as u32,
                })
                .await
                .result;
                match waited {
                    Ok(_) => continue,
                    // Only kqueue backends have process events.
                    Err(error) if error.kind() == io::ErrorKind::Unsupported => {
                        self.no_wait_exit = true;
                    }
                    Err(error) => return Err(error),
                }
            }
            let pid = self.pid;
            crate::blocking::run(move || wait_exited(pid)).await?;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.status.is_some() || !matches!(reap(self.pid, false), Ok(None)) {
            // Reaped now or before, or not ours to reap any more.
            return;
        }
        // Closed through the driver; the background reaper opens its own.
        #[cfg(target_os = "linux")]
        drop(self.pidfd.take());
        reap_in_background(self.pid);
    }
}

/// `waitpid(pid)`: the status once the child is reaped; `None` if it still runs (only with
/// `block` false).
fn reap(pid: libc::pid_t, block: bool) -> io::Result<Option<ExitStatus>> {
    let flags = if block { 0 } else { libc::WNOHANG };
    let mut raw = 0;
    loop {
        // SAFETY: `raw` is a writable int for the status.
        let result = unsafe { libc::waitpid(pid, &mut raw, flags) };
        if result > 0 {
            return Ok(Some(ExitStatus::from_raw(raw)));
        }
        if result == 0 {
            return Ok(None);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Blocks until the child has exited, without reaping it (the caller reaps it on its own
/// thread). Runs on the thread pool.
fn wait_exited(pid: libc::pid_t) -> io::Result<()> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is writable; the flags leave the child waitable.
        let result = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if result == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

#[cfg(target_os = "linux")]
fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain syscall with integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pidfd_open made this descriptor (close-on-exec) and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Reaps `pid` once it exits, whatever happens to the runtime that spawned it.
fn reap_in_background(pid: libc::pid_t) {
    #[cfg(any(target_os = "linux", kqueue))]
    if reaper::watch(pid) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("proactor-reap".into())
        .spawn(move || drop(reap(pid, true)));
    // Without a thread there is no way left to reap it: it stays a zombie until we exit.
    drop(spawned);
}

/// One process-wide thread reaping dropped children, waiting on all their exits at once in
/// a kqueue of its own (`EVFILT_PROC`, `NOTE_EXIT`).
#[cfg(kqueue)]
mod reaper {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::sync::OnceLock;

    static KQUEUE: OnceLock<Option<OwnedFd>> = OnceLock::new();

    /// Hands `pid` to the reaper; false if it cannot take it (no kqueue, no thread).
    pub(super) fn watch(pid: libc::pid_t) -> bool {
        let Some(kqueue) = KQUEUE.get_or_init(start) else {
            return false;
        };
        // SAFETY: all-zero is a valid kevent (it also clears fields some systems add).
        let mut change: libc::kevent = unsafe { std::mem::zeroed() };
        change.ident = pid as libc::uintptr_t;
        change.filter = libc::EVFILT_PROC as _;
        change.flags = (libc::EV_ADD | libc::EV_ONESHOT) as _;
        change.fflags = libc::NOTE_EXIT;
        // A change from this thread wakes the reaper's wait if the exit is already due.
        // SAFETY: one valid change, no events received.
        let added = unsafe {
            libc::kevent(
                kqueue.as_raw_fd(),
                &change,
                1,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            )
        };
        if added == 0 {
            return true;
        }
        if std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            // macOS refuses to watch a child that has already exited (a zombie): reap it now.
            drop(super::reap(pid, false));
            return true;
        }
        false
    }

    fn start() -> Option<OwnedFd> {
        // SAFETY: no arguments.
        let fd = unsafe { libc::kqueue() };
        if fd < 0 {
            return None;
        }
        // SAFETY: kqueue made this descriptor and nothing else owns it.
        let kqueue = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: plain fcntl (kqueues are not inherited by fork; this covers exec).
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        // The thread uses the number; the static keeps the descriptor open for good.
        std::thread::Builder::new()
            .name("proactor-reaper".into())
            .spawn(move || run(fd))
            .ok()?;
        Some(kqueue)
    }

    fn run(kqueue: RawFd) {
        // SAFETY: all-zero is a valid kevent for the kernel to overwrite.
        let mut events: [libc::kevent; 32] = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: `events` has room for its length; the kernel fills at most that many.
            let count = unsafe {
                libc::kevent(
                    kqueue,
                    std::ptr::null(),
                    0,
                    events.as_mut_ptr(),
                    events.len() as _,
                    std::ptr::null(),
                )
            };
            // Negative: EINTR; nothing else can fail with valid arguments.
            for event in &events[..count.max(0) as usize] {
                drop(super::reap(event.ident as libc::pid_t, false));
            }
        }
    }
}

/// One process-wide thread reaping dropped children, waiting on all their pidfds at once.
#[cfg(target_os = "linux")]
mod reaper {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::{Mutex, OnceLock, PoisonError};

    struct Reaper {
        added: Mutex<Vec<(libc::pid_t, OwnedFd)>>,
        /// Written to wake the thread when `added` grows.
        wake: OwnedFd,
    }

    static REAPER: OnceLock<Option<Reaper>> = OnceLock::new();

    /// Hands `pid` to the reaper; false if it cannot take it (no pidfd, no thread).
    pub(super) fn watch(pid: libc::pid_t) -> bool {
        let Some(reaper) = REAPER.get_or_init(start) else {
            return false;
        };
        let Ok(pidfd) = super::pidfd_open(pid) else {
            return false;
        };
        reaper
            .added
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((pid, pidfd));
        // SAFETY: writes one byte from a local; a full pipe (EAGAIN) already wakes the thread.
        unsafe { libc::write(reaper.wake.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        true
    }

    fn start() -> Option<Reaper> {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return None;
        }
        // SAFETY: pipe2 made both descriptors and nothing else owns them.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        std::thread::Builder::new()
            .name("proactor-reaper".into())
            .spawn(move || run(read))
            .ok()?;
        Some(Reaper {
            added: Mutex::new(Vec::new()),
            wake: write,
        })
    }

    fn run(wake: OwnedFd) {
        let mut watched: Vec<(libc::pid_t, OwnedFd)> = Vec::new();
        let mut polled: Vec<libc::pollfd> = Vec::new();
        loop {
            if let Some(Some(reaper)) = REAPER.get() {
                watched.append(&mut reaper.added.lock().unwrap_or_else(PoisonError::into_inner));
            }
            polled.clear();
            polled.push(libc::pollfd {
                fd: wake.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
            polled.extend(watched.iter().map(|(_, pidfd)| libc::pollfd {
                fd: pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }));
            // SAFETY: `polled` is a valid array of its length.
            let ready =
                unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, -1) };
            if ready < 0 {
                continue; // EINTR; nothing else can fail with valid arguments.
            }
            let mut sink = [0u8; 64];
            // SAFETY: reads into a local buffer of its size; the pipe is non-blocking.
            while unsafe { libc::read(wake.as_raw_fd(), sink.as_mut_ptr().cast(), sink.len()) } > 0
            {
            }
            let mut index = 0;
            watched.retain(|(pid, _)| {
                index += 1;
                polled[index].revents == 0 || matches!(super::reap(*pid, false), Ok(None))
            });
        }
    }
}

/// Makes our end of a child's pipe non-blocking and hands it to the driver.
pub(super) fn pipe(end: impl Into<OwnedFd>) -> io::Result<Pipe> {
    let fd: OwnedFd = end.into();
    set_nonblocking(fd.as_raw_fd())?;
    Ok(crate::net::Stream::pipe(Descriptor::adopt(fd)))
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: plain fcntl on a descriptor the caller owns.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; only adds O_NONBLOCK to this end (the child's end is another file
    // description).
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};

    use super::reap_in_background;
    use crate::process::Command;

    /// The pool fallback (what kernels without pidfds use): `Op::WaitExit` is kqueue's, so
    /// Linux's backends answer `Unsupported` and the wait moves to the pool.
    #[test]
    fn wait_on_the_pool() {
        for backend in [
            proactor_driver::Backend::IoUring,
            proactor_driver::Backend::Epoll,
        ] {
            let runtime = crate::Builder::new().backend(backend).build().unwrap();
            runtime.block_on(async {
                let mut child = Command::new("sh").args(["-c", "exit 5"]).spawn().unwrap();
                #[cfg(target_os = "linux")]
                drop(child.process.pidfd.take());
                assert_eq!(child.wait().await.unwrap().code(), Some(5));

                // Still running at the first look (a child already gone is reaped at once).
                let mut child = Command::new("sleep").arg("0.3").spawn().unwrap();
                #[cfg(target_os = "linux")]
                drop(child.process.pidfd.take());
                assert!(child.wait().await.unwrap().success());
                assert!(
                    child.process.no_wait_exit,
                    "Linux's backends have no Op::WaitExit"
                );

                let mut child = Command::new("sleep").arg("100").spawn().unwrap();
                #[cfg(target_os = "linux")]
                drop(child.process.pidfd.take());
                child.kill().unwrap();
                assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
            });
        }
    }

    /// The per-child thread fallback for dropped children.
    #[test]
    fn reap_on_a_thread() {
        let child = std::process::Command::new("sleep")
            .arg("0.1")
            .spawn()
            .unwrap();
        let pid = child.id() as libc::pid_t;
        drop(child);
        let spawned = std::thread::spawn(move || super::reap(pid, true));
        let status = spawned.join().unwrap().unwrap();
        assert!(status.is_some_and(|status| status.success()));
        // And through the entry point, on a child that has not exited yet.
        let child = std::process::Command::new("sleep")
            .arg("0.1")
            .spawn()
            .unwrap();
        let pid = child.id() as libc::pid_t;
        drop(child);
        reap_in_background(pid);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // SAFETY: an all-zero siginfo_t is a valid value for waitid to fill.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: plain syscall that looks without reaping.
            let result = unsafe {
                libc::waitid(
                    libc::P_PID,
                    pid as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
                )
            };
            if result < 0 {
                break; // ECHILD: reaped.
            }
            assert!(Instant::now() < deadline, "not reaped");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
