//! Terminals, on every backend this machine has (`epoll::raw_mode_is_set_and_restored`), on
//! pseudo-terminals from `openpty`: the test holds the controlling side (`controller`) and
//! the [`Tty`] the terminal side.
//!
//! Terminal modes are restored by a process-wide panic hook, and tests run in parallel in one
//! process: tests that look at modes or panic hold `MODES` so a panic in one never restores
//! the terminal another is checking.

#![cfg(target_os = "linux")]

mod common;

use std::future::Future;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use common::per_backend;
use proactor::io::{AsyncRead, AsyncWrite};
use proactor::time::timeout;
use proactor::tty::{Tty, TtyMode, WindowSize};
use proactor::{Backend, Runtime};

const LIMIT: Duration = Duration::from_secs(20);

static MODES: Mutex<()> = Mutex::new(());

fn modes() -> MutexGuard<'static, ()> {
    MODES.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run(runtime: &Runtime, test: impl Future<Output = io::Result<()>>) {
    runtime
        .block_on(timeout(LIMIT, test))
        .expect("the test timed out")
        .expect("the test failed");
}

/// A pseudo-terminal: (controlling side, terminal side).
fn pty() -> (std::fs::File, OwnedFd) {
    let (mut controller, mut terminal) = (-1, -1);
    // SAFETY: openpty writes two descriptors; no name, settings or size are passed.
    let made = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(made, 0, "openpty: {}", io::Error::last_os_error());
    // SAFETY: openpty made both descriptors and nothing else owns them.
    unsafe {
        (
            std::fs::File::from(OwnedFd::from_raw_fd(controller)),
            OwnedFd::from_raw_fd(terminal),
        )
    }
}

/// The settings of the terminal `fd` belongs to (read through any descriptor of it).
fn termios(fd: RawFd) -> libc::termios {
    // SAFETY: all-zero is a valid termios to be overwritten.
    let mut termios: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `termios` is writable.
    assert_eq!(unsafe { libc::tcgetattr(fd, &mut termios) }, 0);
    termios
}

fn is_raw(termios: &libc::termios) -> bool {
    termios.c_lflag & (libc::ECHO | libc::ICANON | libc::ISIG | libc::IEXTEN) == 0
        && termios.c_iflag & (libc::ICRNL | libc::IXON) == 0
        && termios.c_oflag & libc::ONLCR != 0
        && termios.c_cc[libc::VMIN] == 1
}

fn same_modes(a: &libc::termios, b: &libc::termios) -> bool {
    (a.c_iflag, a.c_oflag, a.c_cflag, a.c_lflag, a.c_cc)
        == (b.c_iflag, b.c_oflag, b.c_cflag, b.c_lflag, b.c_cc)
}

/// Reads what the controlling side has within `LIMIT`.
fn read_controller(controller: &mut std::fs::File, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + LIMIT;
    while got.len() < want {
        let mut polled = libc::pollfd {
            fd: controller.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut polled, 1, 100) };
        assert!(std::time::Instant::now() < deadline, "only {got:?} arrived");
        if ready <= 0 {
            continue;
        }
        let mut chunk = [0u8; 256];
        let count = controller
            .read(&mut chunk)
            .expect("read the controlling side");
        got.extend_from_slice(&chunk[..count]);
    }
    got
}

/// Whether the controlling side has bytes to read (within 50 ms; a hang-up is not bytes).
fn has_output(controller: &std::fs::File) -> bool {
    let mut polled = libc::pollfd {
        fd: controller.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let ready = unsafe { libc::poll(&mut polled, 1, 50) };
    ready > 0 && polled.revents & libc::POLLIN != 0
}

per_backend! {
    raw_mode_is_set_and_restored,
    drop_restores_the_mode,
    a_panic_restores_the_mode,
    typed_bytes_are_read,
    raw_mode_reads_each_byte,
    writes_reach_the_controlling_side,
    cancelled_read_loses_nothing,
    window_size_is_read_back,
    open_by_path,
    stdin_is_opened_again,
    hung_up_terminal_reads_end_of_input,
    non_terminals_are_invalid_input,
}

fn raw_mode_is_set_and_restored(runtime: Runtime) {
    let _modes = modes();
    let (_controller, terminal) = pty();
    let probe = terminal.try_clone().unwrap();
    let before = termios(probe.as_raw_fd());
    assert!(!is_raw(&before));
    run(&runtime, async {
        let mut tty = Tty::from_fd(terminal)?;
        assert_eq!(tty.mode(), TtyMode::Normal);
        tty.set_mode(TtyMode::Raw)?;
        assert_eq!(tty.mode(), TtyMode::Raw);
        assert!(
            is_raw(&termios(probe.as_raw_fd())),
            "raw flags on the terminal"
        );
        tty.set_mode(TtyMode::Raw)?; // Again: still raw, same settings to restore.
        tty.set_mode(TtyMode::Normal)?;
        assert!(same_modes(&termios(probe.as_raw_fd()), &before));
        tty.set_mode(TtyMode::Raw)?;
        drop(tty);
        assert!(same_modes(&termios(probe.as_raw_fd()), &before));
        Ok(())
    });
}

fn drop_restores_the_mode(runtime: Runtime) {
    let _modes = modes();
    let (_controller, terminal) = pty();
    let probe = terminal.try_clone().unwrap();
    let before = termios(probe.as_raw_fd());
    // Dropped outside any runtime, and inside one in a task that ends.
    let mut tty = Tty::from_fd(terminal).unwrap();
    tty.set_mode(TtyMode::Raw).unwrap();
    drop(tty);
    assert!(same_modes(&termios(probe.as_raw_fd()), &before));
    run(&runtime, async {
        let mut tty = Tty::from_fd(probe.try_clone()?)?;
        tty.set_mode(TtyMode::Raw)?;
        proactor::spawn(async move { drop(tty) })
            .await
            .expect("task");
        Ok(())
    });
    assert!(same_modes(&termios(probe.as_raw_fd()), &before));
}

fn a_panic_restores_the_mode(runtime: Runtime) {
    let _modes = modes();
    let (_controller, terminal) = pty();
    let probe = terminal.try_clone().unwrap();
    let before = termios(probe.as_raw_fd());
    let mut tty = Tty::from_fd(terminal).unwrap();
    tty.set_mode(TtyMode::Raw).unwrap();
    // The hook restores it before the message prints, though `tty` lives on.
    let caught = std::panic::catch_unwind(|| panic!("a panic while a terminal is raw"));
    assert!(caught.is_err());
    assert!(same_modes(&termios(probe.as_raw_fd()), &before));
    tty.set_mode(TtyMode::Raw).unwrap();
    assert!(is_raw(&termios(probe.as_raw_fd())));
    drop(tty);
    // A task that panics while holding a raw terminal: restored, and the runtime goes on.
    run(&runtime, async {
        let mut tty = Tty::from_fd(probe.try_clone()?)?;
        let task = proactor::spawn(async move {
            tty.set_mode(TtyMode::Raw).unwrap();
            panic!("a task panics while its terminal is raw");
        });
        assert!(task.await.is_err(), "the task panicked");
        Ok(())
    });
    assert!(same_modes(&termios(probe.as_raw_fd()), &before));
}

fn typed_bytes_are_read(runtime: Runtime) {
    let (mut controller, terminal) = pty();
    run(&runtime, async {
        let mut tty = Tty::from_fd(terminal)?;
        controller.write_all(b"first line\nsecond\n")?;
        // Normal mode: one line per read.
        let (result, line) = tty.read(Vec::with_capacity(64)).await;
        assert_eq!(result?, 11);
        assert_eq!(line, b"first line\n");
        let (result, line) = tty.read(Vec::with_capacity(64)).await;
        result?;
        assert_eq!(line, b"second\n");
        Ok(())
    });
}

fn raw_mode_reads_each_byte(runtime: Runtime) {
    let _modes = modes();
    let (mut controller, terminal) = pty();
    run(&runtime, async {
        let mut tty = Tty::from_fd(terminal)?;
        tty.set_mode(TtyMode::Raw)?;
        // No line needed, and Ctrl-C (0x03) and CR arrive as bytes, not a signal or a newline.
        controller.write_all(b"q\x03\r")?;
        let (result, bytes) = tty.read_exact(vec![0u8; 3].into_boxed_slice()).await;
        result?;
        assert_eq!(&bytes[..], b"q\x03\r");
        assert!(!has_output(&controller), "raw mode echoes nothing");
        Ok(())
    });
}

fn writes_reach_the_controlling_side(runtime: Runtime) {
    let (mut controller, terminal) = pty();
    run(&runtime, async {
        let mut tty = Tty::from_fd(terminal)?;
        let (result, _) = tty.write_all(&b"hello\n"[..]).await;
        result?;
        tty.flush().await?;
        tty.shutdown().await?;
        Ok(())
    });
    // Output processing turns the newline into CR LF.
    assert_eq!(read_controller(&mut controller, 7), b"hello\r\n");
}

fn cancelled_read_loses_nothing(runtime: Runtime) {
    let (mut controller, terminal) = pty();
    run(&runtime, async {
        let mut tty = Tty::from_fd(terminal)?;
        let waited = timeout(Duration::from_millis(50), tty.read(Vec::with_capacity(64))).await;
        assert!(waited.is_err(), "nothing was typed yet");
        controller.write_all(b"late\n")?;
        let (result, line) = tty.read(Vec::with_capacity(64)).await;
        result?;
        assert_eq!(line, b"late\n");
        Ok(())
    });
}

fn window_size_is_read_back(runtime: Runtime) {
    let (controller, terminal) = pty();
    run(&runtime, async {
        let tty = Tty::from_fd(terminal)?;
        for (rows, columns) in [(24, 80), (50, 132)] {
            let size = libc::winsize {
                ws_row: rows,
                ws_col: columns,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCSWINSZ reads one winsize.
            let set = unsafe { libc::ioctl(controller.as_raw_fd(), libc::TIOCSWINSZ, &size) };
            assert_eq!(set, 0, "{}", io::Error::last_os_error());
            assert_eq!(tty.window_size()?, WindowSize { columns, rows });
        }
        Ok(())
    });
}

fn open_by_path(runtime: Runtime) {
    let (mut controller, terminal) = pty();
    // The terminal side's device path, as `Tty::stdin` finds it for descriptor 0.
    let mut name = [0 as libc::c_char; 256];
    // SAFETY: `name` is writable for its length.
    let code = unsafe { libc::ttyname_r(terminal.as_raw_fd(), name.as_mut_ptr(), name.len()) };
    assert_eq!(code, 0);
    // SAFETY: ttyname_r succeeded and NUL-terminated the name.
    let path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned();
    run(&runtime, async {
        let mut tty = Tty::open(&path)?;
        controller.write_all(b"by path\n")?;
        let (result, line) = tty.read(Vec::with_capacity(64)).await;
        result?;
        assert_eq!(line, b"by path\n");
        // Its own open file description: whatever the backend did to it, the descriptor
        // openpty gave stays blocking.
        // SAFETY: plain fcntl.
        let flags = unsafe { libc::fcntl(terminal.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0, "the read left others blocking");
        let missing = Tty::open("/dev/no-such-terminal").unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        let not_a_terminal = Tty::open("/dev/null").unwrap_err();
        assert_eq!(not_a_terminal.kind(), ErrorKind::InvalidInput);
        assert!(not_a_terminal
            .to_string()
            .contains("/dev/null is not a terminal"));
        Ok(())
    });
}

/// Set in the child `stdin_is_opened_again` starts with a terminal on its standard input.
const CHILD: &str = "PROACTOR_TTY_TEST_CHILD";

fn stdin_is_opened_again(runtime: Runtime) {
    if std::env::var_os(CHILD).is_some() {
        return run(&runtime, async {
            let mut tty = Tty::stdin()?;
            let (result, line) = tty.read(Vec::with_capacity(64)).await;
            result?;
            assert_eq!(line, b"from the parent\n");
            // The shell's descriptor (here the parent's terminal side) never turns
            // non-blocking: the reads went through a descriptor of its own.
            // SAFETY: plain fcntl.
            let flags = unsafe { libc::fcntl(libc::STDIN_FILENO, libc::F_GETFL) };
            assert_eq!(flags & libc::O_NONBLOCK, 0);
            assert_ne!(tty.as_raw_fd(), libc::STDIN_FILENO);
            Ok(())
        });
    }
    let backend = match runtime.block_on(async { proactor::current_backend() }) {
        Backend::IoUring => "io_uring",
        _ => "epoll",
    };
    let (mut controller, terminal) = pty();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &format!("{backend}::stdin_is_opened_again")])
        .args(["--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdin(terminal)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    controller.write_all(b"from the parent\n").unwrap();
    let deadline = std::time::Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the child did not finish: {:?}", child.wait());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut report = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut report)
        .unwrap();
    assert!(status.success(), "the child failed: {status}\n{report}");
    assert!(
        report.contains("1 passed"),
        "the child ran no test:\n{report}"
    );
    // Where this process's own standard input is no terminal, asking for one is an error.
    // SAFETY: plain libc call.
    if unsafe { libc::isatty(libc::STDIN_FILENO) } == 0 {
        let error = Tty::stdin().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert!(error
            .to_string()
            .contains("standard input is not a terminal"));
    }
}

fn hung_up_terminal_reads_end_of_input(runtime: Runtime) {
    let (controller, terminal) = pty();
    run(&runtime, async {
        let mut tty = Tty::from_fd(terminal)?;
        drop(controller);
        let (result, _) = tty.read(Vec::with_capacity(64)).await;
        assert_eq!(result?, 0);
        // Linux hangs the terminal side up: its settings and size are gone, which is an
        // error, not a panic (nor a panic when the Tty is dropped after).
        let error = tty.set_mode(TtyMode::Raw).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EIO), "{error}");
        assert_eq!(tty.mode(), TtyMode::Normal);
        assert!(tty.window_size().is_err());
        Ok(())
    });
}

fn non_terminals_are_invalid_input(runtime: Runtime) {
    run(&runtime, async {
        let (socket, _other) = std::os::unix::net::UnixStream::pair()?;
        let error = Tty::from_fd(socket.into()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert!(error.to_string().contains("is not a terminal"), "{error}");
        let file = std::fs::File::open("/dev/null")?;
        let error = Tty::from_fd(file.into()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        Ok(())
    });
}
