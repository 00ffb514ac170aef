//! The Windows console, for `tty`: standard handles, modes, sizes, and reading typed
//! characters without blocking the loop. Console reads have no overlapped form: the input
//! handle is signalled while input events wait, so `tty` waits for that through the driver
//! and reads only once a typed character is there.

use std::io;
use std::mem::zeroed;
use std::os::windows::io::{FromRawHandle, OwnedHandle};
use std::path::Path;
use std::ptr::{null, null_mut};

use proactor_driver::Fd;
use windows_sys::Win32::Foundation::{GENERIC_READ, GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, FILE_SHARE_READ, FILE_SHARE_WRITE, OPEN_EXISTING,
};
use windows_sys::Win32::System::Console::{
    GetConsoleMode, GetConsoleScreenBufferInfo, GetStdHandle, PeekConsoleInputW, ReadConsoleInputW,
    ReadConsoleW, SetConsoleMode, WriteConsoleW, CONSOLE_SCREEN_BUFFER_INFO, INPUT_RECORD,
    KEY_EVENT, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
};

fn handle(fd: Fd) -> HANDLE {
    fd as usize as HANDLE
}

/// This process's standard input (`input`) or output handle; not owned (never closed here).
pub(crate) fn standard(input: bool) -> io::Result<Fd> {
    let which = if input {
        STD_INPUT_HANDLE
    } else {
        STD_OUTPUT_HANDLE
    };
    // SAFETY: a plain query of this process's standard handles.
    let raw = unsafe { GetStdHandle(which) };
    if raw == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    if raw.is_null() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "this process has no console (no standard handle)",
        ));
    }
    Ok(raw as usize as Fd)
}

/// Opens a console device by name (`CONIN$`, `CONOUT$`).
pub(crate) fn open(path: &Path) -> io::Result<OwnedHandle> {
    use std::os::windows::ffi::OsStrExt;
    let mut name: Vec<u16> = path.as_os_str().encode_wide().collect();
    if name.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "path contains a NUL character",
        ));
    }
    name.push(0);
    // SAFETY: `name` is NUL-terminated UTF-16 alive for the call; default security.
    let raw = unsafe {
        CreateFileW(
            name.as_ptr(),
            GENERIC_READ | GENERIC_WRITE,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
            null(),
            OPEN_EXISTING,
            0,
            null_mut(),
        )
    };
    if raw == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new handle nothing else owns.
    Ok(unsafe { OwnedHandle::from_raw_handle(raw) })
}

/// The console mode of `fd`; `InvalidInput` if it is no console handle.
pub(crate) fn mode(fd: Fd, what: &str) -> io::Result<u32> {
    let mut mode = 0;
    // SAFETY: valid out pointer; a non-console handle fails.
    if unsafe { GetConsoleMode(handle(fd), &mut mode) } == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} is not a console ({})", io::Error::last_os_error()),
        ));
    }
    Ok(mode)
}

pub(crate) fn set_mode(fd: Fd, mode: u32) -> io::Result<()> {
    // SAFETY: a plain call on a console handle.
    if unsafe { SetConsoleMode(handle(fd), mode) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether `fd` is a screen buffer (console output) rather than console input.
pub(crate) fn is_output(fd: Fd) -> bool {
    // SAFETY: plain data the call fills.
    let mut info: CONSOLE_SCREEN_BUFFER_INFO = unsafe { zeroed() };
    // SAFETY: valid out pointer.
    unsafe { GetConsoleScreenBufferInfo(handle(fd), &mut info) != 0 }
}

/// Columns and rows of the visible window of screen buffer `fd`.
pub(crate) fn window_size(fd: Fd) -> io::Result<(u16, u16)> {
    // SAFETY: plain data the call fills.
    let mut info: CONSOLE_SCREEN_BUFFER_INFO = unsafe { zeroed() };
    // SAFETY: valid out pointer.
    if unsafe { GetConsoleScreenBufferInfo(handle(fd), &mut info) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let window = info.srWindow;
    let columns = (window.Right - window.Left + 1).max(0) as u16;
    let rows = (window.Bottom - window.Top + 1).max(0) as u16;
    Ok((columns, rows))
}

/// Whether a typed character waits in console input `fd` (so a raw read will not block).
/// Events that carry no character (key releases, focus, mouse, resizes) are taken out of the
/// buffer, so the handle stops being signalled for them.
pub(crate) fn character_waiting(fd: Fd) -> io::Result<bool> {
    const LOOK: usize = 64;
    loop {
        // SAFETY: plain data the call fills.
        let mut records: [INPUT_RECORD; LOOK] = unsafe { zeroed() };
        let mut count = 0u32;
        // SAFETY: room for LOOK records; nothing is removed.
        if unsafe { PeekConsoleInputW(handle(fd), records.as_mut_ptr(), LOOK as u32, &mut count) }
            == 0
        {
            return Err(io::Error::last_os_error());
        }
        let records = &records[..count as usize];
        let Some(first_char) = records.iter().position(is_character) else {
            if records.is_empty() {
                return Ok(false);
            }
            discard(fd, records.len())?;
            continue;
        };
        if first_char > 0 {
            discard(fd, first_char)?;
        }
        return Ok(true);
    }
}

fn is_character(record: &INPUT_RECORD) -> bool {
    if record.EventType as u32 != KEY_EVENT {
        return false;
    }
    // SAFETY: the record says it is a key event, so that is the union's member to read.
    let key = unsafe { record.Event.KeyEvent };
    // SAFETY: both members of `uChar` are views of the same 16 bits.
    key.bKeyDown != 0 && unsafe { key.uChar.UnicodeChar } != 0
}

/// Takes the first `count` input events out of the buffer.
fn discard(fd: Fd, count: usize) -> io::Result<()> {
    // SAFETY: plain data the call fills.
    let mut records: [INPUT_RECORD; 64] = unsafe { zeroed() };
    let mut read = 0u32;
    let count = count.min(records.len()) as u32;
    // SAFETY: room for `count` records; only events already seen by a peek are taken.
    if unsafe { ReadConsoleInputW(handle(fd), records.as_mut_ptr(), count, &mut read) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads characters (UTF-16) from console input `fd`; blocks until a line in normal mode, and
/// until a character in raw mode.
pub(crate) fn read(fd: Fd, into: &mut [u16]) -> io::Result<usize> {
    let mut read = 0u32;
    let len = u32::try_from(into.len()).unwrap_or(u32::MAX);
    // SAFETY: `into` has room for `len` UTF-16 units; no control structure.
    if unsafe { ReadConsoleW(handle(fd), into.as_mut_ptr().cast(), len, &mut read, null()) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(read as usize)
}

/// Writes characters (UTF-16) to screen buffer `fd`; returns how many were written.
pub(crate) fn write(fd: Fd, text: &[u16]) -> io::Result<usize> {
    let mut written = 0u32;
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    // SAFETY: `text` holds `len` UTF-16 units for the call.
    if unsafe { WriteConsoleW(handle(fd), text.as_ptr(), len, &mut written, null()) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(written as usize)
}
