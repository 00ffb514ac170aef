//! Terminals on Windows: [`Tty`] reads and writes a console, switches it between
//! [normal and raw mode](TtyMode), and reports its [window size](Tty::window_size) — the same
//! API as on Unix.
//!
//! Console input has no overlapped form. In raw mode the console input handle is waited on
//! through the driver (a registered wait posts to the completion port while input events
//! are queued) and read only once a typed character is there, so a read never blocks the
//! loop; in normal mode, where the console edits and echoes the line itself until Enter, the
//! read runs on the thread pool. Output goes through `WriteConsoleW` with virtual-terminal
//! processing on, so escape sequences work as on Unix terminals.
//!
//! The console's mode belongs to the console, not to one handle: a `Tty` puts back the mode
//! it found when it returns to normal mode and when it is dropped (also while a panic
//! unwinds), and, through a panic hook installed the first time a console enters raw mode,
//! before any panic's message is printed (so also with `panic = "abort"`).
//!
//! # Examples
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
//!     let mut out = Tty::stdout()?;
//!     let (result, _) = out.write_all(format!("you pressed {key:?}\n").into_bytes()).await;
//!     result?;
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
use std::path::Path;
use std::sync::Arc;

use proactor_driver::{Buffer, Fd, Op};

use crate::io::{AsyncRead, AsyncWrite};
use crate::runtime::op;
use crate::sys::console;
use crate::tty_restore::RawModes;
use crate::{blocking, BufResult, IoBuf};

/// `ENABLE_PROCESSED_INPUT | ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT`: what raw mode turns off.
const COOKED: u32 = 0x1 | 0x2 | 0x4;
/// `ENABLE_VIRTUAL_TERMINAL_INPUT`: keys arrive as the escape sequences Unix terminals send.
const VT_INPUT: u32 = 0x200;
/// `ENABLE_VIRTUAL_TERMINAL_PROCESSING`: escape sequences in output are obeyed.
const VT_OUTPUT: u32 = 0x4;
/// UTF-16 units read at once.
const READ_UNITS: usize = 1024;

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
    /// The mode the console had when the [`Tty`] was made (usually line editing and echo:
    /// reads return whole lines).
    Normal,
    /// Each key press is read as typed: no echo, no line editing, Ctrl-C read as a key, keys
    /// as virtual-terminal sequences where the console has them.
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

/// A console (input or screen buffer), read and written through the runtime.
///
/// # Examples
///
/// ```no_run
/// use proactor::io::AsyncWrite;
/// use proactor::tty::Tty;
///
/// proactor::Runtime::new()?.block_on(async {
///     let mut out = Tty::stdout()?;
///     let (result, _) = out.write_all(b"\x1b[1mbold\x1b[0m\n".to_vec()).await;
///     result
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Tty {
    handle: Fd,
    /// Kept alive while a pool read may still use the handle (none for standard handles,
    /// which are this process's and never closed here).
    owned: Option<Arc<OwnedHandle>>,
    input: bool,
    /// The console mode found at creation: normal mode.
    original: u32,
    mode: TtyMode,
    /// Bytes of characters read but not yet handed out (a read smaller than what was typed).
    pending: Vec<u8>,
    /// Output: the bytes of a character split across two writes.
    partial: Vec<u8>,
    /// UTF-16 units on their way in or out, kept so that reads and writes allocate once.
    units: Vec<u16>,
}

impl Tty {
    /// The console on standard input.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if standard input is no console (redirected, or no console at all).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let tty = proactor::tty::Tty::stdin()?;
    /// # let _ = tty;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stdin() -> io::Result<Tty> {
        Tty::new(console::standard(true)?, None, "standard input")
    }

    /// The console on standard output, with virtual-terminal processing on.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if standard output is no console.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let tty = proactor::tty::Tty::stdout()?;
    /// # let _ = tty;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stdout() -> io::Result<Tty> {
        Tty::new(console::standard(false)?, None, "standard output")
    }

    /// Opens a console device by name: `CONIN$` (input) or `CONOUT$` (the screen buffer).
    ///
    /// # Errors
    ///
    /// The OS error from opening it; `InvalidInput` if it is no console.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let tty = proactor::tty::Tty::open("CONOUT$")?;
    /// # let _ = tty;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> io::Result<Tty> {
        let path = path.as_ref();
        let handle = console::open(path)?;
        Tty::from_handle_named(handle, &path.display().to_string())
    }

    /// Takes a console handle you own.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if it is no console handle (it is closed then).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::os::windows::io::OwnedHandle;
    ///
    /// let handle: OwnedHandle = std::fs::OpenOptions::new().read(true).write(true).open("CONIN$")?.into();
    /// let tty = proactor::tty::Tty::from_handle(handle)?;
    /// # let _ = tty;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_handle(handle: OwnedHandle) -> io::Result<Tty> {
        Tty::from_handle_named(handle, "the handle")
    }

    fn from_handle_named(handle: OwnedHandle, what: &str) -> io::Result<Tty> {
        let raw = handle.as_raw_handle() as Fd;
        Tty::new(raw, Some(Arc::new(handle)), what)
    }

    fn new(handle: Fd, owned: Option<Arc<OwnedHandle>>, what: &str) -> io::Result<Tty> {
        let original = console::mode(handle, what)?;
        let input = !console::is_output(handle);
        if !input && original & VT_OUTPUT == 0 {
            // Escape sequences as on Unix; a console without them (old Windows) still works.
            let _ = console::set_mode(handle, original | VT_OUTPUT);
        }
        Ok(Tty {
            handle,
            owned,
            input,
            original,
            mode: TtyMode::Normal,
            pending: Vec::new(),
            partial: Vec::new(),
            units: Vec::new(),
        })
    }

    /// Switches between normal and raw mode (on console input; a screen buffer's output is
    /// the same in both).
    ///
    /// # Errors
    ///
    /// The OS error from `SetConsoleMode`.
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
        if self.input {
            match mode {
                TtyMode::Normal => {
                    console::set_mode(self.handle, self.original)?;
                    forget_raw(self.handle);
                }
                TtyMode::Raw => {
                    let raw = self.original & !COOKED;
                    // Consoles without virtual-terminal input still give raw characters.
                    if console::set_mode(self.handle, raw | VT_INPUT).is_err() {
                        console::set_mode(self.handle, raw)?;
                    }
                    remember_raw(self.handle, self.original);
                }
            }
        }
        self.mode = mode;
        Ok(())
    }

    /// The mode last set with [`set_mode`](Tty::set_mode).
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

    /// The console window's size (of the screen buffer; for console input, of `CONOUT$`).
    ///
    /// # Errors
    ///
    /// The OS error from `GetConsoleScreenBufferInfo`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let size = proactor::tty::Tty::stdout()?.window_size()?;
    /// assert!(size.columns > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn window_size(&self) -> io::Result<WindowSize> {
        let (columns, rows) = if self.input {
            let output = console::open(Path::new("CONOUT$"))?;
            console::window_size(output.as_raw_handle() as Fd)?
        } else {
            console::window_size(self.handle)?
        };
        Ok(WindowSize { columns, rows })
    }

    /// Reads typed characters as UTF-8 into `pending`.
    async fn fill_pending(&mut self) -> io::Result<()> {
        if !self.input {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a screen buffer cannot be read",
            ));
        }
        // The units buffer is lent out while a read may fill it; a cancelled pool read keeps
        // it, and the next read makes another.
        let mut units = std::mem::take(&mut self.units);
        units.resize(READ_UNITS, 0);
        let (units, count) = match self.mode {
            TtyMode::Raw => loop {
                if console::character_waiting(self.handle)? {
                    let count = console::read(self.handle, &mut units)?;
                    break (units, count);
                }
                // Signalled while any input event is queued; the look above took out those
                // that carry no character.
                op::submit(Op::Poll {
                    fd: self.handle,
                    writable: false,
                })
                .await
                .result?;
            },
            TtyMode::Normal => {
                // The console edits the line until Enter: a blocking read, on the pool. The
                // handle stays open while the job may use it (`owned` is shared with it).
                let handle = self.handle;
                let keep = self.owned.clone();
                blocking::run(move || {
                    let _keep = keep;
                    let count = console::read(handle, &mut units)?;
                    Ok((units, count))
                })
                .await?
            }
        };
        let mut utf8 = [0; 4];
        for character in char::decode_utf16(units[..count.min(units.len())].iter().copied()) {
            let character = character.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.pending
                .extend_from_slice(character.encode_utf8(&mut utf8).as_bytes());
        }
        self.units = units;
        Ok(())
    }
}

impl AsyncRead for Tty {
    /// Reads what was typed, as UTF-8: in normal mode a line at most (with its `\r\n`), in
    /// raw mode what is there (at least one character). Cancel-safe: characters read for a
    /// dropped call are returned by the next.
    async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let mut buffer: Buffer = buf.into_buffer();
        if buffer.read_capacity() == 0 {
            return (Ok(0), B::from_buffer(buffer));
        }
        if self.pending.is_empty() {
            if let Err(error) = self.fill_pending().await {
                return (Err(error), B::from_buffer(buffer));
            }
        }
        let count = buffer.fill_from(&self.pending);
        self.pending.drain(..count);
        (Ok(count), B::from_buffer(buffer))
    }
}

impl AsyncWrite for Tty {
    /// Writes UTF-8 text (a character split across two writes is held until its end comes);
    /// bytes that are not UTF-8 are written as U+FFFD.
    async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
        let buffer: Buffer = buf.into_buffer();
        let bytes = buffer.as_slice();
        let mut text = std::mem::take(&mut self.partial);
        text.extend_from_slice(bytes);
        let complete = match std::str::from_utf8(&text) {
            Ok(_) => text.len(),
            // An incomplete character at the end waits for the next write.
            Err(error) if error.error_len().is_none() => error.valid_up_to(),
            Err(_) => text.len(),
        };
        let mut units = std::mem::take(&mut self.units);
        units.clear();
        units.extend(String::from_utf8_lossy(&text[..complete]).encode_utf16());
        let mut done = 0;
        while done < units.len() {
            match console::write(self.handle, &units[done..]) {
                Ok(0) => break,
                Ok(count) => done += count,
                Err(error) => {
                    self.units = units;
                    return (Err(error), B::from_buffer(buffer));
                }
            }
        }
        self.units = units;
        text.drain(..complete);
        self.partial = text;
        let count = bytes.len();
        (Ok(count), B::from_buffer(buffer))
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
            .field("handle", &self.handle)
            .field("input", &self.input)
            .field("mode", &self.mode)
            .finish()
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        // Nobody to report a failure to (a console that is gone has no mode to restore).
        let _ = console::set_mode(self.handle, self.original);
        if self.input {
            forget_raw(self.handle);
        }
    }
}

/// Consoles in raw mode and the modes to put back: what the panic hook restores, so that a
/// program built with `panic = "abort"` (where no `Drop` runs) still leaves its console
/// usable.
static RAW_CONSOLES: RawModes<Fd, u32> = RawModes::new();

fn remember_raw(handle: Fd, original: u32) {
    RAW_CONSOLES.remember(handle, original, |handle, original| {
        // Nothing to do about a failure in a panic hook.
        let _ = console::set_mode(handle, *original);
    });
}

/// Called before the handle closes, so the hook never touches a reused value.
fn forget_raw(handle: Fd) {
    RAW_CONSOLES.forget(handle);
}
