//! Terminals: [`Tty`] reads and writes a terminal through the driver, switches it between
//! [normal and raw mode](TtyMode), and reports its [window size](Tty::window_size).
//!
//! The terminal's settings (termios) belong to the device, not to one descriptor: a `Tty` in
//! raw mode puts back the settings it found when it returns to normal mode, when it is
//! dropped (also while a panic unwinds), and, through a panic hook installed the first time a
//! terminal enters raw mode, before any panic's message is printed, so the message and the
//! shell after it are readable.
//!
//! [`Tty::stdin`] and [`Tty::stdout`] open the terminal again by name rather than use
//! descriptors 0 and 1, so the non-blocking mode the readiness backends set stays on this
//! process's own open file description and never reaches the shell or other processes that
//! share the terminal.
//!
//! Window size changes arrive as `SIGWINCH`: listen with
//! [`signal(SignalKind::window_change())`](crate::signal::signal) and ask again.
//!
//! # Examples
//!
//! Read single key presses:
//!
//! ```no_run
//! use proactor::io::{AsyncRead, AsyncWrite};
//! use proactor::tty::{Tty, TtyMode};
//!
//! proactor::Runtime::new()?.block_on(async {
//!     let mut tty = Tty::stdin()?;
//!     tty.set_mode(TtyMode::Raw)?;
//!     let (result, key) = tty.read(Vec::with_capacity(16)).await;
//!     result?;
//!     let (result, _) = tty.write_all(format!("you pressed {key:?}\n").into_bytes()).await;
//!     result?;
//!     Ok::<(), std::io::Error>(())
//! })?; // The terminal is back in normal mode once `tty` is dropped.
//! # Ok::<(), std::io::Error>(())
//! ```

#![cfg(unix)]

use std::fmt;
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::io::{AsyncRead, AsyncWrite};
use crate::net::{Descriptor, Stream};
use crate::tty_restore::RawModes;
use crate::{BufResult, IoBuf};

/// How a terminal treats what is typed.
///
/// # Examples
///
/// ```
/// use proactor::tty::TtyMode;
///
/// assert_ne!(TtyMode::Normal, TtyMode::Raw);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TtyMode {
    /// The settings the terminal had when the [`Tty`] was made (usually line editing and
    /// echo: reads return whole lines).
    Normal,
    /// Each key press is read as typed: no echo, no line editing, no signals from keys such as
    /// Ctrl-C, no translation of input; output still turns `\n` into `\r\n` (libuv's raw
    /// mode).
    Raw,
}

/// A terminal's size in character cells.
///
/// # Examples
///
/// ```no_run
/// let size = proactor::tty::Tty::stdout()?.window_size()?;
/// println!("{} columns, {} rows", size.columns, size.rows);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowSize {
    /// Width.
    pub columns: u16,
    /// Height.
    pub rows: u16,
}

/// A terminal, read and written through the driver.
///
/// # Examples
///
/// A pseudo-terminal's terminal side, written from its controlling side:
///
/// ```
/// use std::io::Write;
/// use std::os::fd::{FromRawFd, OwnedFd};
/// use proactor::io::AsyncRead;
/// use proactor::tty::Tty;
///
/// let (mut controller, mut terminal) = (0, 0);
/// // SAFETY: openpty writes two descriptors; no name, settings or size are passed.
/// let made = unsafe {
///     libc::openpty(&mut controller, &mut terminal, std::ptr::null_mut(), std::ptr::null(), std::ptr::null())
/// };
/// assert_eq!(made, 0);
/// // SAFETY: openpty made these descriptors and nothing else owns them.
/// let (controller, terminal) = unsafe { (OwnedFd::from_raw_fd(controller), OwnedFd::from_raw_fd(terminal)) };
/// let mut controller = std::fs::File::from(controller);
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut tty = Tty::from_fd(terminal)?;
///     controller.write_all(b"typed\n")?;
///     let (result, line) = tty.read(Vec::with_capacity(64)).await;
///     result?;
///     assert_eq!(line, b"typed\n");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Tty {
    stream: Stream,
    /// The settings found at creation: normal mode.
    original: libc::termios,
    mode: TtyMode,
    /// The file status flags to put back on drop, when the descriptor shares its open file
    /// description with others (a duplicate of a standard stream that could not be reopened).
    shared_flags: Option<libc::c_int>,
}

impl Tty {
    /// The terminal on standard input, opened again by name (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if standard input is not a terminal; an OS error if it cannot be
    /// duplicated. If the terminal's device cannot be opened again (in some containers), the
    /// descriptor is duplicated instead and its file status flags are put back on drop.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let tty = proactor::tty::Tty::stdin()?;
    /// # let _ = tty;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stdin() -> io::Result<Tty> {
        Tty::standard(libc::STDIN_FILENO, "standard input")
    }

    /// The terminal on standard output, opened again by name (see [`stdin`](Tty::stdin)).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if standard output is not a terminal, as for [`stdin`](Tty::stdin).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use proactor::io::AsyncWrite;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let mut tty = proactor::tty::Tty::stdout()?;
    ///     let (result, _) = tty.write_all(&b"\x1b[1mbold\x1b[0m\n"[..]).await;
    ///     result
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stdout() -> io::Result<Tty> {
        Tty::standard(libc::STDOUT_FILENO, "standard output")
    }

    /// Opens the terminal device at `path` for reading and writing, without making it the
    /// controlling terminal; `/dev/tty` is this process's controlling terminal.
    ///
    /// # Errors
    ///
    /// The OS error from `open` (`NotFound` for a missing path), or `InvalidInput` if the
    /// path is not a terminal. On macOS `/dev/tty` is `Unsupported`: its kqueue cannot
    /// watch that alias, only the terminal's own device (which [`stdin`](Tty::stdin) finds).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let tty = proactor::tty::Tty::open("/dev/tty")?;
    /// # let _ = tty;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> io::Result<Tty> {
        let path = path.as_ref();
        let file = open_terminal(path)?;
        Tty::new(OwnedFd::from(file), None, &path.display().to_string())
    }

    /// Takes ownership of `fd`, a terminal (or a pseudo-terminal's terminal side); it is
    /// closed when the `Tty` is dropped. The readiness backends make it non-blocking, which
    /// every descriptor sharing its open file description sees.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `fd` is not a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// let file = std::fs::File::open("/dev/null")?;
    /// let error = proactor::tty::Tty::from_fd(file.into()).unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_fd(fd: OwnedFd) -> io::Result<Tty> {
        let name = format!("descriptor {}", fd.as_raw_fd());
        Tty::new(fd, None, &name)
    }

    fn standard(fd: RawFd, what: &str) -> io::Result<Tty> {
        get_termios(fd, what)?;
        if let Ok(file) = terminal_path(fd).and_then(|path| open_terminal(&path)) {
            return Tty::new(OwnedFd::from(file), None, what);
        }
        // SAFETY: plain fcntl; a new descriptor on success, which nothing else owns.
        let duplicate = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if duplicate < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fcntl made this descriptor just now.
        let duplicate = unsafe { OwnedFd::from_raw_fd(duplicate) };
        // SAFETY: plain fcntl on an open descriptor.
        let flags = unsafe { libc::fcntl(duplicate.as_raw_fd(), libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        Tty::new(duplicate, Some(flags), what)
    }

    /// `name` says what `fd` is in the error if it is not a terminal.
    fn new(fd: OwnedFd, shared_flags: Option<libc::c_int>, name: &str) -> io::Result<Tty> {
        let original = get_termios(fd.as_raw_fd(), name)?;
        #[cfg(target_vendor = "apple")]
        let fd = {
            let file = std::fs::File::from(fd);
            check_watchable(&file)?;
            OwnedFd::from(file)
        };
        Ok(Tty {
            stream: Stream::pipe(Descriptor::adopt(fd)),
            original,
            mode: TtyMode::Normal,
            shared_flags,
        })
    }

    /// Switches the terminal to `mode` at once (`TCSANOW`: output already written was
    /// processed when it was written, and a drain could wait forever on a terminal nobody
    /// reads).
    ///
    /// # Errors
    ///
    /// The OS error from `tcsetattr` (e.g. `EIO` if the terminal hung up).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use proactor::tty::{Tty, TtyMode};
    ///
    /// let mut tty = Tty::stdin()?;
    /// tty.set_mode(TtyMode::Raw)?;
    /// assert_eq!(tty.mode(), TtyMode::Raw);
    /// tty.set_mode(TtyMode::Normal)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_mode(&mut self, mode: TtyMode) -> io::Result<()> {
        let fd = self.as_raw_fd();
        match mode {
            TtyMode::Normal => {
                set_termios(fd, &self.original)?;
                forget_raw(fd);
            }
            TtyMode::Raw => {
                remember_raw(fd, self.original);
                if let Err(error) = set_termios(fd, &raw(self.original)) {
                    if self.mode == TtyMode::Normal {
                        forget_raw(fd);
                    }
                    return Err(error);
                }
            }
        }
        self.mode = mode;
        Ok(())
    }

    /// The mode last set with [`set_mode`](Tty::set_mode) (a panic hook may have put the
    /// terminal itself back in normal mode since; set it again after a caught panic).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let tty = proactor::tty::Tty::stdin()?;
    /// assert_eq!(tty.mode(), proactor::tty::TtyMode::Normal);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn mode(&self) -> TtyMode {
        self.mode
    }

    /// The terminal's size (`TIOCGWINSZ`).
    ///
    /// # Errors
    ///
    /// The OS error from `ioctl`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let size = proactor::tty::Tty::stdout()?.window_size()?;
    /// assert!(size.columns > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn window_size(&self) -> io::Result<WindowSize> {
        // SAFETY: all-zero is a valid winsize.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ writes one winsize into `size`.
        if unsafe { libc::ioctl(self.as_raw_fd(), libc::TIOCGWINSZ, &mut size) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(WindowSize {
            columns: size.ws_col,
            rows: size.ws_row,
        })
    }
}

impl AsRawFd for Tty {
    fn as_raw_fd(&self) -> RawFd {
        self.stream.descriptor().fd()
    }
}

impl AsyncRead for Tty {
    /// Reads what was typed: in normal mode a line at most, in raw mode what is there (at
    /// least one byte). A terminal that hung up reads as end of input (Linux answers `EIO`
    /// once a pseudo-terminal's other side has closed).
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        match self.stream.read(buf).await {
            (Err(error), buf) if error.raw_os_error() == Some(libc::EIO) => (Ok(0), buf),
            other => other,
        }
    }
}

impl AsyncWrite for Tty {
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        self.stream.write(buf).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for Tty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tty")
            .field("fd", &self.as_raw_fd())
            .field("mode", &self.mode)
            .finish()
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        let fd = self.as_raw_fd();
        if self.mode != TtyMode::Normal {
            // Nobody to report a failure to (a hung-up terminal has no mode left to restore).
            let _ = set_termios(fd, &self.original);
            forget_raw(fd);
        }
        if let Some(flags) = self.shared_flags {
            // SAFETY: plain fcntl on our open descriptor; puts back what others expect.
            unsafe { libc::fcntl(fd, libc::F_SETFL, flags) };
        }
    }
}

/// macOS's kqueue (and poll) refuse `/dev/tty`, the alias of the controlling terminal, with
/// `EINVAL` (libuv runs select(2) on a thread for it): say so now rather than fail each read.
#[cfg(target_vendor = "apple")]
fn check_watchable(file: &std::fs::File) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(alias) = std::fs::metadata("/dev/tty") else {
        return Ok(());
    };
    if file.metadata()?.rdev() == alias.rdev() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "macOS cannot watch /dev/tty for readiness (kqueue answers EINVAL): open the terminal by its own name, as Tty::stdin does",
        ));
    }
    Ok(())
}

/// libuv's raw mode: input byte by byte, unprocessed and unechoed; output processing kept.
fn raw(mut termios: libc::termios) -> libc::termios {
    termios.c_iflag &= !(libc::BRKINT | libc::ICRNL | libc::INPCK | libc::ISTRIP | libc::IXON);
    termios.c_oflag |= libc::ONLCR;
    termios.c_cflag |= libc::CS8;
    termios.c_lflag &= !(libc::ECHO | libc::ICANON | libc::IEXTEN | libc::ISIG);
    termios.c_cc[libc::VMIN] = 1;
    termios.c_cc[libc::VTIME] = 0;
    termios
}

/// The terminal settings of `fd`; `InvalidInput` naming `name` if it is not a terminal.
fn get_termios(fd: RawFd, name: &str) -> io::Result<libc::termios> {
    // SAFETY: all-zero is a valid termios to be overwritten.
    let mut termios: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `termios` is writable; a bad descriptor comes back as EBADF.
    if unsafe { libc::tcgetattr(fd, &mut termios) } < 0 {
        let error = io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::ENOTTY) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name} is not a terminal"),
            ));
        }
        return Err(error);
    }
    Ok(termios)
}

fn set_termios(fd: RawFd, termios: &libc::termios) -> io::Result<()> {
    loop {
        // SAFETY: `termios` is a valid termios for the duration of the call.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, termios) } == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// The device path of the terminal on `fd`.
fn terminal_path(fd: RawFd) -> io::Result<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut name = [0 as libc::c_char; 1024];
    // SAFETY: `name` is writable for its length; ttyname_r NUL-terminates what it writes.
    let code = unsafe { libc::ttyname_r(fd, name.as_mut_ptr(), name.len()) };
    if code != 0 {
        return Err(io::Error::from_raw_os_error(code));
    }
    // SAFETY: ttyname_r succeeded, so `name` holds a NUL-terminated string.
    let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) };
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes())))
}

/// Opens a terminal device read-write (close-on-exec, as std opens every file) without
/// making it the controlling terminal.
fn open_terminal(path: &Path) -> io::Result<std::fs::File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(path)
}

/// Terminals in raw mode and the settings to put back: what the panic hook restores.
static RAW_TERMINALS: RawModes<RawFd, libc::termios> = RawModes::new();

fn remember_raw(fd: RawFd, original: libc::termios) {
    RAW_TERMINALS.remember(fd, original, |fd, original| {
        // Nothing to do about a failure in a panic hook.
        let _ = set_termios(fd, original);
    });
}

/// Called before the descriptor closes, so the hook never touches a reused number.
fn forget_raw(fd: RawFd) {
    RAW_TERMINALS.forget(fd);
}
