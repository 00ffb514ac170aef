//! Backend choice in a real process: io_uring refused by a seccomp filter (as Docker's default
//! profile does), by a locked-memory limit of 0, or by the `kernel.io_uring_disabled` sysctl
//! must make `Driver::new()` fall back to epoll (and say so in one `tracing` warning) on which
//! real operations work, and `PROACTOR_BACKEND` must force a backend or be rejected.
//!
//! A seccomp filter or an environment variable is process-wide and cannot be undone, so each
//! scenario re-executes this test binary as a child that runs just the one test, with an
//! environment variable telling it which scenario to play. The parent bounds the child's run
//! time and asserts it succeeded.

#![cfg(target_os = "linux")]

use std::io::{self, Read};
use std::mem;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use proactor_driver::{Backend, Buffer, Completion, Driver, Op, OpId};

/// Set in a child's environment to the scenario it must play.
const CHILD_ENV: &str = "PROACTOR_FALLBACK_TEST_CHILD";
/// Printed by a child that got to the end of its scenario.
const CHILD_DONE: &str = "PROACTOR-FALLBACK-CHILD-DONE";
/// How long a child may run before the parent kills it.
const CHILD_LIMIT: Duration = Duration::from_secs(60);
/// How long any single wait on the driver may take.
const OP_LIMIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Parent side: re-executing this binary.
// ---------------------------------------------------------------------------------------------

/// Which scenario this process plays: `None` in the parent.
fn child_scenario() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// Runs test `test_name` of this binary in a child process playing `scenario`, with
/// `PROACTOR_BACKEND` set to `backend_env` (or removed). Panics unless the child ran exactly that
/// test to the end and passed within [`CHILD_LIMIT`].
fn run_child(test_name: &str, scenario: &str, backend_env: Option<&str>) {
    let exe = std::env::current_exe().expect("path of the test binary");
    let mut command = Command::new(exe);
    command
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, scenario)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match backend_env {
        Some(value) => command.env("PROACTOR_BACKEND", value),
        None => command.env_remove("PROACTOR_BACKEND"),
    };
    let mut child = command.spawn().expect("spawn the test binary as a child");
    let mut stdout = child.stdout.take().expect("child stdout");
    let mut stderr = child.stderr.take().expect("child stderr");
    // Drain both pipes while waiting, so a chatty child cannot block on a full pipe.
    let stdout_reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let stderr_reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let start = Instant::now();
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break (status, false);
        }
        if start.elapsed() > CHILD_LIMIT {
            let _ = child.kill();
            break (child.wait().expect("reap the killed child"), true);
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout_reader.join().unwrap_or_default();
    let stderr = stderr_reader.join().unwrap_or_default();
    let report = format!(
        "child `{test_name}` (scenario {scenario:?}, PROACTOR_BACKEND={backend_env:?}) \
         exited with {status} after {:?}\n--- child stdout ---\n{stdout}\n--- child stderr ---\n{stderr}",
        start.elapsed()
    );
    assert!(!timed_out, "killed after {CHILD_LIMIT:?}: {report}");
    assert!(status.success(), "{report}");
    // A name that matched no test would also exit with success: make sure the scenario ran.
    assert!(
        stdout.contains("1 passed") && stdout.contains(&format!("{CHILD_DONE} {scenario}")),
        "the child did not run its scenario to the end: {report}"
    );
    eprintln!("{report}");
}

// ---------------------------------------------------------------------------------------------
// The seccomp filter.
// ---------------------------------------------------------------------------------------------

/// `struct sock_filter` from `<linux/filter.h>`.
#[repr(C)]
#[derive(Clone, Copy)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

/// `struct sock_fprog` from `<linux/filter.h>`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

// Classic BPF opcodes (`<linux/bpf_common.h>`).
const BPF_LD: u16 = 0x00;
const BPF_W: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_JMP: u16 = 0x05;
const BPF_JEQ: u16 = 0x10;
const BPF_K: u16 = 0x00;
const BPF_RET: u16 = 0x06;

// `<linux/seccomp.h>` and `<linux/audit.h>`.
const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const SECCOMP_FILTER_FLAG_TSYNC: libc::c_ulong = 1;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
/// Offsets in `struct seccomp_data`: `int nr; __u32 arch; ...`.
const SECCOMP_DATA_NR: u32 = 0;
const SECCOMP_DATA_ARCH: u32 = 4;
/// io_uring_setup, io_uring_enter, io_uring_register: the same numbers on x86_64 and aarch64.
const SYS_IO_URING_SETUP: u32 = 425;
const SYS_IO_URING_ENTER: u32 = 426;
const SYS_IO_URING_REGISTER: u32 = 427;

fn statement(code: u16, k: u32) -> SockFilter {
    SockFilter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

/// Makes the three io_uring syscalls fail with `EPERM` for every thread of this process (and
/// its future threads), as Docker's default seccomp profile does; everything else is allowed.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn block_io_uring_with_seccomp() {
    let filter = [
        // A syscall from another ABI has other numbers: kill rather than misjudge it.
        statement(BPF_LD | BPF_W | BPF_ABS, SECCOMP_DATA_ARCH),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH, 1, 0),
        statement(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        statement(BPF_LD | BPF_W | BPF_ABS, SECCOMP_DATA_NR),
        jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_IO_URING_SETUP, 3, 0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_IO_URING_ENTER, 2, 0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_IO_URING_REGISTER, 1, 0),
        statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        statement(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | libc::EPERM as u32),
    ];
    let program = SockFprog {
        len: filter.len() as u16,
        filter: filter.as_ptr(),
    };
    // SAFETY: prctl with integer arguments; PR_SET_NO_NEW_PRIVS lets an unprivileged process
    // install a seccomp filter.
    let result = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(
        result,
        0,
        "prctl(PR_SET_NO_NEW_PRIVS): {}",
        io::Error::last_os_error()
    );
    // SAFETY: `program` points at `filter`, both alive for the call; the kernel copies the
    // program before returning.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            SECCOMP_FILTER_FLAG_TSYNC,
            &program as *const SockFprog,
        )
    };
    assert_eq!(
        result,
        0,
        "seccomp(SECCOMP_SET_MODE_FILTER): {}",
        io::Error::last_os_error()
    );
}

/// The raw `io_uring_setup` call, to check the filter itself before judging the driver.
fn raw_io_uring_setup_error() -> io::Error {
    // struct io_uring_params is 120 bytes.
    let mut params = [0u8; 120];
    // SAFETY: params is writable memory the size of io_uring_params; if the call succeeds (the
    // filter is broken) the ring descriptor is closed below.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_io_uring_setup,
            4 as libc::c_ulong,
            params.as_mut_ptr(),
        )
    };
    if fd >= 0 {
        // SAFETY: the descriptor was just created by this call and is owned by nobody else.
        unsafe { libc::close(fd as RawFd) };
        panic!("io_uring_setup succeeded under the seccomp filter");
    }
    io::Error::last_os_error()
}

// ---------------------------------------------------------------------------------------------
// Driving operations.
// ---------------------------------------------------------------------------------------------

/// Polls until every id in `ids` has completed; returns their completions in `ids`' order.
fn wait_all(driver: &mut Driver, ids: &[OpId]) -> Vec<Completion> {
    let deadline = Instant::now() + OP_LIMIT;
    let mut done: Vec<Completion> = Vec::new();
    let mut batch = Vec::new();
    while ids
        .iter()
        .any(|id| !done.iter().any(|completion| completion.id == *id))
    {
        let now = Instant::now();
        assert!(
            now < deadline,
            "operations {ids:?} did not complete within {OP_LIMIT:?} (got {done:?})"
        );
        driver
            .poll(&mut batch, Some(deadline - now))
            .expect("driver poll");
        done.append(&mut batch);
    }
    ids.iter()
        .map(|id| {
            let index = done
                .iter()
                .position(|completion| completion.id == *id)
                .expect("completion present");
            done.swap_remove(index)
        })
        .collect()
}

fn run_one(driver: &mut Driver, op: Op) -> Completion {
    let id = driver.submit(op);
    wait_all(driver, &[id]).pop().expect("one completion")
}

fn expect_ok(completion: &Completion, what: &str) -> usize {
    match &completion.result {
        Ok(value) => *value,
        Err(error) => panic!("{what} failed: {error} ({error:?})"),
    }
}

fn close(driver: &mut Driver, fd: RawFd) {
    let completion = run_one(driver, Op::Close { fd });
    expect_ok(&completion, "close");
}

/// Binds `fd` to 127.0.0.1 on an ephemeral port, listens, and returns the bound address.
fn bind_and_listen(fd: RawFd) -> SocketAddr {
    // SAFETY: sockaddr_in is a plain C struct for which all-zero is valid.
    let mut address: libc::sockaddr_in = unsafe { mem::zeroed() };
    address.sin_family = libc::AF_INET as libc::sa_family_t;
    address.sin_addr.s_addr = u32::from_ne_bytes(Ipv4Addr::LOCALHOST.octets());
    address.sin_port = 0;
    let length = mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: address is a valid sockaddr_in of `length` bytes for the call.
    let result = unsafe { libc::bind(fd, (&address as *const libc::sockaddr_in).cast(), length) };
    assert_eq!(result, 0, "bind: {}", io::Error::last_os_error());
    // SAFETY: plain integer arguments.
    let result = unsafe { libc::listen(fd, 16) };
    assert_eq!(result, 0, "listen: {}", io::Error::last_os_error());
    let mut bound_length = length;
    // SAFETY: address/bound_length describe writable memory for a sockaddr_in.
    let result = unsafe {
        libc::getsockname(
            fd,
            (&mut address as *mut libc::sockaddr_in).cast(),
            &mut bound_length,
        )
    };
    assert_eq!(result, 0, "getsockname: {}", io::Error::last_os_error());
    SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::LOCALHOST,
        u16::from_be(address.sin_port),
    ))
}

/// A TCP round trip over loopback, every step through the driver but bind/listen.
fn tcp_round_trip(driver: &mut Driver) {
    let tcp = |driver: &mut Driver| {
        let socket = run_one(
            driver,
            Op::Socket {
                domain: libc::AF_INET,
                socket_type: libc::SOCK_STREAM,
                protocol: 0,
            },
        );
        expect_ok(&socket, "socket") as RawFd
    };
    let listener = tcp(driver);
    let address = bind_and_listen(listener);
    let client = tcp(driver);

    let accept = driver.submit(Op::Accept {
        fd: listener,
        peer: None,
    });
    let connect = driver.submit(Op::Connect {
        fd: client,
        addr: address,
    });
    let mut done = wait_all(driver, &[accept, connect]);
    expect_ok(&done[1], "connect");
    let server = expect_ok(&done[0], "accept") as RawFd;
    match mem::replace(&mut done[0].op, Op::Nop) {
        Op::Accept {
            peer: Some(SocketAddr::V4(peer)),
            ..
        } => assert_eq!(*peer.ip(), Ipv4Addr::LOCALHOST),
        other => panic!("accept did not report an IPv4 peer: {other:?}"),
    }

    for (from, to, message) in [
        (client, server, &b"ping over epoll, from the client"[..]),
        (server, client, &b"pong over epoll, from the server"[..]),
    ] {
        let recv = driver.submit(Op::Recv {
            fd: to,
            buf: Buffer::from(Vec::with_capacity(256)),
            flags: 0,
        });
        let send = driver.submit(Op::Send {
            fd: from,
            buf: Buffer::from(message.to_vec()),
            flags: 0,
        });
        let mut done = wait_all(driver, &[recv, send]);
        assert_eq!(expect_ok(&done[1], "send"), message.len());
        let mut received = mem::replace(&mut done[0].op, Op::Nop)
            .into_buffer()
            .expect("recv buffer")
            .into_vec()
            .expect("a Vec");
        assert_eq!(expect_ok(&done[0], "recv"), received.len());
        // One small segment on loopback normally arrives whole; collect the rest if not.
        while received.len() < message.len() {
            let more = run_one(
                driver,
                Op::Recv {
                    fd: to,
                    buf: Buffer::from(received),
                    flags: 0,
                },
            );
            assert!(expect_ok(&more, "recv") > 0, "connection closed early");
            received = more.op.into_buffer().unwrap().into_vec().unwrap();
        }
        assert_eq!(received, message);
    }
    for fd in [server, client, listener] {
        close(driver, fd);
    }
}

/// A temporary file with `contents`, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, contents: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "proactor-fallback-{tag}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        std::fs::write(&path, contents).expect("write the temporary file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Opens a file through the driver and reads it at an offset.
fn file_read(driver: &mut Driver) {
    let contents: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = TempFile::new("read", &contents);
    let open = run_one(
        driver,
        Op::open_at(None, &file.0, libc::O_RDONLY, 0).expect("path without NUL"),
    );
    let fd = expect_ok(&open, "openat") as RawFd;
    for (offset, length) in [(0usize, 100usize), (4321, 1000), (9_990, 64)] {
        let read = run_one(
            driver,
            Op::Read {
                fd,
                buf: Buffer::from(Vec::with_capacity(length)),
                offset: Some(offset as u64),
            },
        );
        let count = expect_ok(&read, "read");
        let expected = &contents[offset..(offset + length).min(contents.len())];
        assert_eq!(count, expected.len(), "read at offset {offset}");
        let data = read.op.into_buffer().unwrap().into_vec().unwrap();
        assert_eq!(data, expected, "bytes read at offset {offset}");
    }
    close(driver, fd);
}

fn child_done(scenario: &str) {
    println!("{CHILD_DONE} {scenario}");
}

/// A `tracing` subscriber that keeps the messages of warnings (the `tracing` feature is on in
/// this crate's tests).
#[derive(Clone, Default)]
struct WarningRecorder {
    messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl WarningRecorder {
    fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

impl tracing::Subscriber for WarningRecorder {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() == tracing::Level::WARN
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        struct Message<'a>(&'a mut String);
        impl tracing::field::Visit for Message<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    *self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = String::new();
        event.record(&mut Message(&mut message));
        self.messages.lock().unwrap().push(message);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn io_uring_blocked_by_seccomp_falls_back_to_epoll() {
    const NAME: &str = "io_uring_blocked_by_seccomp_falls_back_to_epoll";
    const SCENARIO: &str = "seccomp";
    match child_scenario().as_deref() {
        None => return run_child(NAME, SCENARIO, None),
        Some(SCENARIO) => {}
        Some(other) => panic!("{NAME} started as a child for scenario {other:?}"),
    }

    block_io_uring_with_seccomp();
    let error = raw_io_uring_setup_error();
    assert_eq!(
        error.raw_os_error(),
        Some(libc::EPERM),
        "the filter should make io_uring_setup fail with EPERM, got {error}"
    );

    let warnings = WarningRecorder::default();
    let mut driver = tracing::subscriber::with_default(warnings.clone(), Driver::new)
        .expect("Driver::new must fall back, not fail");
    let warned = warnings.messages();
    assert!(
        warned.len() == 1 && warned[0].contains(driver.backend_reason()),
        "the fallback should be one `tracing` warning with the reason {:?}: {warned:?}",
        driver.backend_reason()
    );
    println!(
        "seccomp child: backend {}, reason {:?}",
        driver.backend(),
        driver.backend_reason()
    );
    assert_eq!(driver.backend(), Backend::Epoll);
    let reason = driver.backend_reason();
    assert!(
        reason.starts_with("epoll") && reason.contains("EPERM"),
        "the reason should name epoll and EPERM: {reason:?}"
    );

    match Driver::with_backend(Backend::IoUring) {
        Ok(driver) => panic!(
            "with_backend(IoUring) succeeded under the filter: {:?}",
            driver.backend_reason()
        ),
        Err(error) => assert_eq!(
            error.raw_os_error(),
            Some(libc::EPERM),
            "with_backend(IoUring) should fail with EPERM, got {error} ({error:?})"
        ),
    }

    tcp_round_trip(&mut driver);
    file_read(&mut driver);
    assert_eq!(driver.in_flight(), 0);
    drop(driver);
    child_done(SCENARIO);
}

#[test]
fn proactor_backend_variable_forces_or_is_rejected() {
    const NAME: &str = "proactor_backend_variable_forces_or_is_rejected";
    match child_scenario().as_deref() {
        None => {
            run_child(NAME, "env-epoll", Some("epoll"));
            run_child(NAME, "env-invalid", Some("kqueue-please"));
        }
        Some("env-epoll") => {
            let mut driver = Driver::new().expect("Driver::new with PROACTOR_BACKEND=epoll");
            println!(
                "env child: backend {}, reason {:?}",
                driver.backend(),
                driver.backend_reason()
            );
            assert_eq!(driver.backend(), Backend::Epoll);
            let reason = driver.backend_reason();
            assert!(
                reason.starts_with("epoll") && reason.contains("PROACTOR_BACKEND"),
                "the reason should name epoll and the variable: {reason:?}"
            );
            let nop = run_one(&mut driver, Op::Nop);
            assert_eq!(expect_ok(&nop, "nop"), 0);
            // An explicit choice is not overridden by the environment.
            let explicit = Driver::with_backend(Backend::Epoll).expect("with_backend(Epoll)");
            assert!(
                !explicit.backend_reason().contains("PROACTOR_BACKEND"),
                "an explicit backend is not the variable's doing: {:?}",
                explicit.backend_reason()
            );
            child_done("env-epoll");
        }
        Some("env-invalid") => {
            match Driver::new() {
                Ok(driver) => panic!(
                    "PROACTOR_BACKEND=kqueue-please accepted: {} ({:?})",
                    driver.backend(),
                    driver.backend_reason()
                ),
                Err(error) => {
                    println!("env child: invalid value rejected: {error}");
                    assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{error:?}");
                    assert!(
                        error.to_string().contains("PROACTOR_BACKEND"),
                        "the error should name the variable: {error}"
                    );
                }
            }
            // The variable only steers the automatic choice; an explicit backend still works.
            let driver = Driver::with_backend(Backend::Epoll)
                .expect("with_backend(Epoll) ignores an invalid PROACTOR_BACKEND");
            assert_eq!(driver.backend(), Backend::Epoll);
            child_done("env-invalid");
        }
        Some(other) => panic!("{NAME} started as a child for scenario {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// io_uring refused by the locked-memory limit and by the `kernel.io_uring_disabled` sysctl.
// ---------------------------------------------------------------------------------------------

/// The sysctl that turns io_uring off for the whole machine (Linux 6.6+).
const IO_URING_DISABLED: &str = "/proc/sys/kernel/io_uring_disabled";
/// Set to skip the test that writes [`IO_URING_DISABLED`] (a machine shared with others).
const NO_SYSCTL_ENV: &str = "PROACTOR_TEST_NO_SYSCTL";
/// The queue depth `Driver::new()` asks for (`Config::new()`'s default).
const DEFAULT_ENTRIES: u32 = 256;
/// `CAP_IPC_LOCK`, which exempts a process from the locked-memory limit.
const CAP_IPC_LOCK: u32 = 14;
/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per capability set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// The locked-memory test and the sysctl test would each see the other's doing (the sysctl
/// makes every io_uring_setup on the machine fail): they take turns.
static MACHINE_WIDE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn machine_wide_turn() -> std::sync::MutexGuard<'static, ()> {
    MACHINE_WIDE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Drops `CAP_IPC_LOCK` from this process, so the memory limit binds it even when the tests
/// run as root (as in a container or CI image).
fn drop_ipc_lock_capability() {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and data are the structures capget expects, version 3 with two data
    // words, alive for the call.
    let result = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    assert_eq!(result, 0, "capget: {}", io::Error::last_os_error());
    let bit = 1u32 << CAP_IPC_LOCK;
    data[0].effective &= !bit;
    data[0].permitted &= !bit;
    // SAFETY: as above; capset only reads them. Dropping a capability is always allowed.
    let result = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    assert_eq!(result, 0, "capset: {}", io::Error::last_os_error());
}

/// `io_uring_setup(entries)` itself: `Ok` (the ring closed again) or the kernel's error.
fn raw_io_uring_setup(entries: u32) -> io::Result<()> {
    // struct io_uring_params is 120 bytes.
    let mut params = [0u8; 120];
    // SAFETY: params is writable memory the size of io_uring_params.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_io_uring_setup,
            entries as libc::c_ulong,
            params.as_mut_ptr(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor was just created by this call and is owned by nobody else.
    unsafe { libc::close(fd as RawFd) };
    Ok(())
}

/// What every scenario checks once it has a driver: real operations work on it.
fn driver_works(driver: &mut Driver) {
    tcp_round_trip(driver);
    file_read(driver);
    assert_eq!(driver.in_flight(), 0);
}

/// A kernel that charges a ring's memory to `RLIMIT_MEMLOCK` refuses io_uring_setup with
/// `ENOMEM` under a limit of 0: `Driver::new()` must fall back to epoll and say why. Kernels
/// from 5.12 charged rings to the memory cgroup instead, where the limit leaves io_uring
/// working, and the driver must simply run on it; recent ones charge the limit again (6.18
/// refuses a one-entry ring under 4 KiB, the default 256 entries under 16 KiB). Either way the
/// driver must work. `CAP_IPC_LOCK` exempts a process from the limit, so the child drops it
/// first: tests often run as root.
#[test]
fn io_uring_under_a_zero_memlock_limit_falls_back_or_works() {
    const NAME: &str = "io_uring_under_a_zero_memlock_limit_falls_back_or_works";
    const SCENARIO: &str = "memlock";
    match child_scenario().as_deref() {
        None => {
            let _turn = machine_wide_turn();
            return run_child(NAME, SCENARIO, None);
        }
        Some(SCENARIO) => {}
        Some(other) => panic!("{NAME} started as a child for scenario {other:?}"),
    }

    drop_ipc_lock_capability();
    let limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid rlimit for the call.
    let result = unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &limit) };
    assert_eq!(
        result,
        0,
        "setrlimit(RLIMIT_MEMLOCK, 0): {}",
        io::Error::last_os_error()
    );
    let kernel = raw_io_uring_setup(DEFAULT_ENTRIES);
    println!("memlock child: io_uring_setup({DEFAULT_ENTRIES}) under RLIMIT_MEMLOCK=0 without CAP_IPC_LOCK: {kernel:?}");

    let warnings = WarningRecorder::default();
    let mut driver = tracing::subscriber::with_default(warnings.clone(), Driver::new)
        .expect("Driver::new must fall back or succeed, not fail");
    let reason = driver.backend_reason().to_owned();
    println!(
        "memlock child: backend {}, reason {reason:?}",
        driver.backend()
    );
    match kernel {
        Ok(()) => {
            assert_eq!(
                driver.backend(),
                Backend::IoUring,
                "the kernel gave a ring; the driver should use it: {reason:?}"
            );
            assert!(
                warnings.messages().is_empty(),
                "no fallback, no warning: {:?}",
                warnings.messages()
            );
        }
        Err(error) => {
            assert_eq!(
                error.raw_os_error(),
                Some(libc::ENOMEM),
                "a memory limit should refuse with ENOMEM, got {error}"
            );
            assert_eq!(driver.backend(), Backend::Epoll);
            assert!(
                reason.starts_with("epoll")
                    && reason.contains("ENOMEM")
                    && reason.contains("RLIMIT_MEMLOCK"),
                "the reason should name epoll, ENOMEM and the limit: {reason:?}"
            );
            let warned = warnings.messages();
            assert!(
                warned.len() == 1 && warned[0].contains(&reason),
                "the fallback should be one warning with the reason: {warned:?}"
            );
        }
    }
    driver_works(&mut driver);
    drop(driver);
    child_done(SCENARIO);
}

/// Reads the sysctl's value, if this kernel has it.
fn read_io_uring_disabled() -> io::Result<String> {
    std::fs::read_to_string(IO_URING_DISABLED).map(|text| text.trim().to_owned())
}

/// Sets the sysctl back to `value` when dropped, so a panic inside the window restores it too.
struct RestoreSysctl(String);

impl Drop for RestoreSysctl {
    fn drop(&mut self) {
        if let Err(error) = std::fs::write(IO_URING_DISABLED, &self.0) {
            eprintln!("restoring {IO_URING_DISABLED} to {}: {error}", self.0);
        }
    }
}

/// `kernel.io_uring_disabled = 2` makes io_uring_setup fail with `EPERM` for every process
/// (rings already made go on working): `Driver::new()` must fall back to epoll.
///
/// The sysctl is machine-wide and needs root. Any other program on the machine that sets up a
/// ring while it is 2 fails (another builder's io_uring tests would), so the child keeps the
/// window to the setups it checks, well under a millisecond, and restores the old value before
/// it runs anything on the driver; the parent restores it again after the child ends however
/// it ended. Skipped, saying why, where the file is missing or not writable, or when
/// `PROACTOR_TEST_NO_SYSCTL` is set.
#[test]
fn io_uring_disabled_by_sysctl_falls_back_to_epoll() {
    const NAME: &str = "io_uring_disabled_by_sysctl_falls_back_to_epoll";
    const SCENARIO: &str = "sysctl";
    match child_scenario().as_deref() {
        None => {
            if std::env::var_os(NO_SYSCTL_ENV).is_some() {
                eprintln!("skipped: {NO_SYSCTL_ENV} is set");
                return;
            }
            let old = match read_io_uring_disabled() {
                Ok(old) => old,
                Err(error) => {
                    eprintln!(
                        "skipped: {IO_URING_DISABLED} unreadable ({error}): kernel before 6.6?"
                    );
                    return;
                }
            };
            // Writing the value it has is how to find out whether we may write it at all.
            if let Err(error) = std::fs::write(IO_URING_DISABLED, &old) {
                eprintln!("skipped: {IO_URING_DISABLED} not writable ({error}): not root, or a read-only /proc/sys");
                return;
            }
            let _turn = machine_wide_turn();
            let outcome = std::panic::catch_unwind(|| run_child(NAME, SCENARIO, None));
            drop(RestoreSysctl(old.clone()));
            assert_eq!(
                read_io_uring_disabled().ok().as_deref(),
                Some(old.as_str()),
                "{IO_URING_DISABLED} is back to its old value"
            );
            if let Err(panic) = outcome {
                std::panic::resume_unwind(panic);
            }
            return;
        }
        Some(SCENARIO) => {}
        Some(other) => panic!("{NAME} started as a child for scenario {other:?}"),
    }

    let old = read_io_uring_disabled().expect("the parent read it");
    let warnings = WarningRecorder::default();
    let (kernel, explicit, driver) = {
        let restore = RestoreSysctl(old.clone());
        std::fs::write(IO_URING_DISABLED, "2").expect("set kernel.io_uring_disabled = 2");
        let kernel = raw_io_uring_setup(DEFAULT_ENTRIES);
        let explicit = Driver::with_backend(Backend::IoUring).map(|driver| driver.backend());
        let driver = tracing::subscriber::with_default(warnings.clone(), Driver::new);
        drop(restore);
        (kernel, explicit, driver)
    };
    assert_eq!(
        read_io_uring_disabled().ok().as_deref(),
        Some(old.as_str()),
        "restored at once"
    );
    println!("sysctl child: io_uring_setup under io_uring_disabled=2: {kernel:?}; with_backend(IoUring): {explicit:?}");
    let error = kernel.expect_err("io_uring_setup succeeded with io_uring disabled");
    assert_eq!(error.raw_os_error(), Some(libc::EPERM), "{error}");
    let error = explicit.expect_err("with_backend(IoUring) succeeded with io_uring disabled");
    assert_eq!(error.raw_os_error(), Some(libc::EPERM), "{error}");

    let mut driver = driver.expect("Driver::new must fall back, not fail");
    let reason = driver.backend_reason().to_owned();
    println!(
        "sysctl child: backend {}, reason {reason:?}",
        driver.backend()
    );
    assert_eq!(driver.backend(), Backend::Epoll);
    assert!(
        reason.starts_with("epoll")
            && reason.contains("EPERM")
            && reason.contains("io_uring_disabled"),
        "the reason should name epoll, EPERM and the sysctl: {reason:?}"
    );
    let warned = warnings.messages();
    assert!(
        warned.len() == 1 && warned[0].contains(&reason),
        "the fallback should be one warning with the reason: {warned:?}"
    );
    driver_works(&mut driver);
    drop(driver);
    child_done(SCENARIO);
}
