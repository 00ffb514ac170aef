//! The Windows console through `proactor::tty` (the Unix suite, on pseudo-terminals, is
//! tests/tty.rs). A console exists only when the process runs on a terminal: under CI's Wine
//! there is none, and these tests say so and pass without looking; run them on a terminal,
//! e.g. `script -qec "cargo xtask test-windows -p proactor --test tty_windows" /dev/null`.
#![cfg(windows)]

use std::time::Duration;

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::time::timeout;
use proactor::tty::{Tty, TtyMode};
use proactor::Runtime;
use windows_sys::Win32::System::Console::{
    GetConsoleMode, GetStdHandle, WriteConsoleInputW, INPUT_RECORD, INPUT_RECORD_0, KEY_EVENT,
    KEY_EVENT_RECORD, KEY_EVENT_RECORD_0, STD_INPUT_HANDLE,
};

const LIMIT: Duration = Duration::from_secs(10);

/// The console's mode is the process's, and the panic hook restores it: tests that change the
/// mode or panic take turns.
static MODES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn modes() -> std::sync::MutexGuard<'static, ()> {
    MODES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The console input, or `None` (said on stderr) when this process has none.
fn console() -> Option<Tty> {
    match Tty::stdin() {
        Ok(tty) => Some(tty),
        Err(error) => {
            eprintln!("no console here ({error}): run on a terminal to exercise this test");
            None
        }
    }
}

fn console_mode() -> u32 {
    let mut mode = 0;
    // SAFETY: a query of this process's standard input's console mode.
    unsafe { GetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), &mut mode) };
    mode
}

/// Types `text` into this process's console input, as key presses and releases.
fn type_keys(text: &str) {
    let mut records = Vec::new();
    for unit in text.encode_utf16() {
        for down in [1, 0] {
            records.push(INPUT_RECORD {
                EventType: KEY_EVENT as u16,
                Event: INPUT_RECORD_0 {
                    KeyEvent: KEY_EVENT_RECORD {
                        bKeyDown: down,
                        wRepeatCount: 1,
                        wVirtualKeyCode: 0,
                        wVirtualScanCode: 0,
                        uChar: KEY_EVENT_RECORD_0 { UnicodeChar: unit },
                        dwControlKeyState: 0,
                    },
                },
            });
        }
    }
    let mut written = 0;
    // SAFETY: `records` holds that many records for the call.
    let ok = unsafe {
        WriteConsoleInputW(
            GetStdHandle(STD_INPUT_HANDLE),
            records.as_ptr(),
            records.len() as u32,
            &mut written,
        )
    };
    assert_ne!(ok, 0, "WriteConsoleInputW");
}

#[test]
fn raw_reads_typed_keys_and_the_mode_comes_back() {
    let _modes = modes();
    let Some(mut tty) = console() else { return };
    let before = console_mode();
    Runtime::new().unwrap().block_on(async {
        tty.set_mode(TtyMode::Raw).unwrap();
        assert_eq!(console_mode() & 0x2, 0, "line input is off in raw mode");
        type_keys("hé!");
        let mut typed = Vec::new();
        while typed.len() < "hé!".len() {
            let (read, buf) = timeout(LIMIT, tty.read(Vec::with_capacity(2)))
                .await
                .expect("typed keys arrive");
            typed.extend_from_slice(&buf[..read.unwrap()]);
        }
        assert_eq!(String::from_utf8(typed).unwrap(), "hé!");
        // A read with nothing typed waits (and is cancelled here without losing anything).
        assert!(
            timeout(Duration::from_millis(50), tty.read(Vec::with_capacity(8)))
                .await
                .is_err()
        );
        type_keys("z");
        let (read, buf) = timeout(LIMIT, tty.read(Vec::with_capacity(8)))
            .await
            .unwrap();
        assert_eq!(&buf[..read.unwrap()], b"z");
    });
    drop(tty);
    assert_eq!(
        console_mode(),
        before,
        "dropping the Tty puts the mode back"
    );
}

#[test]
fn a_panic_restores_the_mode() {
    let _modes = modes();
    let Some(mut tty) = console() else { return };
    let before = console_mode();
    tty.set_mode(TtyMode::Raw).unwrap();
    assert_eq!(console_mode() & 0x2, 0, "line input is off in raw mode");
    // The hook puts the mode back before the message prints, though `tty` lives on (as with
    // `panic = "abort"`, where no Drop would run).
    let caught = std::panic::catch_unwind(|| panic!("a panic while the console is raw"));
    assert!(caught.is_err());
    assert_eq!(console_mode(), before, "the panic hook restored the mode");
    // Raw again, then back by hand: the hook forgets a console in normal mode.
    tty.set_mode(TtyMode::Raw).unwrap();
    tty.set_mode(TtyMode::Normal).unwrap();
    assert_eq!(console_mode(), before);
}

#[test]
fn window_size_and_writes() {
    let Some(tty) = console() else { return };
    let size = tty.window_size().unwrap();
    assert!(size.columns > 0 && size.rows > 0, "{size:?}");
    let mut out = Tty::stdout().unwrap();
    Runtime::new().unwrap().block_on(async {
        let (written, _) = out
            .write_all("proactor tty: \u{2713}\r\n".as_bytes().to_vec())
            .await;
        written.unwrap();
        // A character split across two writes arrives whole.
        let check = "\u{2713}".as_bytes();
        let (first, _) = out.write(check[..1].to_vec()).await;
        assert_eq!(first.unwrap(), 1);
        let (rest, _) = out.write(check[1..].to_vec()).await;
        assert_eq!(rest.unwrap(), check.len() - 1);
    });
}

#[test]
fn a_file_is_not_a_console() {
    let path = std::env::temp_dir().join(format!(
        "proactor-tty-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let file = std::fs::File::create(&path).unwrap();
    let error = Tty::from_handle(file.into()).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    std::fs::remove_file(&path).unwrap();
}
