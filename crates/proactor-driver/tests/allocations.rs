//! "No heap allocation per operation in steady state", measured: a counting global allocator
//! watches 10,000 socket round trips and 10,000 file reads on each backend, after a warm-up
//! that lets slabs and vectors grow to size, and every allocation counts, whichever thread
//! makes it (the epoll backend reads files on the thread pool).
//!
//! The allocator also captures the backtraces of the first few allocations it counts (one may
//! come only now and then, on a race with a pool thread, so a rerun would not show it), and a
//! failing test shows them.
//!
//! On Windows the same runs on IOCP, where file reads are overlapped too (no pool).
//!
//! The harness's own main thread is not counted (it only waits for the test threads, but
//! allocates for its bookkeeping when a test starts or ends); the tests take a lock so they never
//! count at the same time.

#![cfg(any(target_os = "linux", windows))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use proactor_driver::{Backend, Buffer, Completion, Driver, Fd, Op};

/// The backends this OS has.
#[cfg(target_os = "linux")]
const BACKENDS: [Backend; 2] = [Backend::IoUring, Backend::Epoll];
#[cfg(windows)]
const BACKENDS: [Backend; 1] = [Backend::Iocp];

// ---------------------------------------------------------------------------------------------
// The counting allocator.
// ---------------------------------------------------------------------------------------------

/// Counts allocations and reallocations, in every thread, while [`COUNTING`] is on, and keeps
/// the backtraces of the first [`TRACE_LIMIT`] it counts.
struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static TRACED: AtomicUsize = AtomicUsize::new(0);
const TRACE_LIMIT: usize = 8;
static TRACES: Mutex<Vec<(String, Backtrace)>> = Mutex::new(Vec::new());

thread_local! {
    /// Set while this thread records a backtrace: the allocations that makes are the test's,
    /// not the driver's, and must not recurse into tracing.
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
}

impl CountingAllocator {
    fn record(&self, what: &str, size: usize) {
        #[cfg(windows)]
        remember_main_thread();
        if !COUNTING.load(Ordering::Relaxed) || on_main_thread() {
            return;
        }
        match IN_TRACE.try_with(Cell::get) {
            // The test's own tracing, below.
            Ok(true) => return,
            Ok(false) => {}
            // No thread-locals (a `const` Cell has no destructor, so not in practice): count,
            // but do not trace.
            Err(_) => {
                ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        if TRACED.fetch_add(1, Ordering::Relaxed) >= TRACE_LIMIT {
            return;
        }
        IN_TRACE.with(|flag| flag.set(true));
        // Capture only: symbols are resolved when the trace is printed, after counting.
        let header = format!(
            "{what} of {size} bytes on thread {:?}",
            std::thread::current().name().unwrap_or("<unnamed>")
        );
        let trace = Backtrace::force_capture();
        TRACES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((header, trace));
        IN_TRACE.with(|flag| flag.set(false));
    }
}

// SAFETY: every method forwards to `System` with the same arguments and returns its result;
// the bookkeeping after it touches atomics, a thread-local flag and, for the first few
// allocations (with recursion cut off by that flag), a mutex-protected vector.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        let pointer = unsafe { System.alloc(layout) };
        self.record("alloc", layout.size());
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        self.record("alloc_zeroed", layout.size());
        pointer
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `realloc`'s contract.
        let pointer = unsafe { System.realloc(pointer, layout, new_size) };
        self.record("realloc", new_size);
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Whether this is the process's main thread: the test harness's, never the driver's (tests
/// run on threads of their own).
#[cfg(target_os = "linux")]
fn on_main_thread() -> bool {
    // SAFETY: gettid takes no arguments and cannot fail.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    tid == std::process::id() as libc::c_long
}

/// The main thread's id, once [`remember_main_thread`] saw it.
#[cfg(windows)]
static MAIN_THREAD: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Windows has no "the main thread's id is the process id": the first thread to allocate is
/// the main thread (the runtime allocates before `main` can start another), so it is taken
/// as that.
#[cfg(windows)]
fn remember_main_thread() {
    if MAIN_THREAD.load(Ordering::Relaxed) == 0 {
        let _ = MAIN_THREAD.compare_exchange(0, thread_id(), Ordering::Relaxed, Ordering::Relaxed);
    }
}

#[cfg(windows)]
fn thread_id() -> u32 {
    // SAFETY: GetCurrentThreadId takes no arguments and cannot fail.
    unsafe { windows_sys::Win32::System::Threading::GetCurrentThreadId() }
}

#[cfg(windows)]
fn on_main_thread() -> bool {
    thread_id() == MAIN_THREAD.load(Ordering::Relaxed)
}

/// Serializes the tests: counts are process-wide.
static TEST_LOCK: Mutex<()> = Mutex::new(());

/// Runs `work` with counting on; returns how many allocations it (or any other thread) made,
/// and where the first ones came from.
fn count_allocations(work: impl FnOnce()) -> (u64, Vec<String>) {
    lock(&TRACES).clear();
    TRACED.store(0, Ordering::SeqCst);
    ALLOCATIONS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    work();
    COUNTING.store(false, Ordering::SeqCst);
    let count = ALLOCATIONS.load(Ordering::SeqCst);
    let traces = std::mem::take(&mut *lock(&TRACES))
        .into_iter()
        .map(|(header, trace)| format!("{header}:\n{trace}"))
        .collect();
    (count, traces)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------------------------
// The workload.
// ---------------------------------------------------------------------------------------------

const MESSAGE: usize = 64;
const READ_SIZE: usize = 4096;
const FILE_BLOCKS: usize = 16;
const WARM_UP: usize = 1_000;
const MEASURED: usize = 10_000;
/// Bound on any single wait for a completion.
const OP_LIMIT: Duration = Duration::from_secs(10);

/// A temporary file, removed on drop.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Everything one backend's run uses, allocated once.
struct Bench {
    driver: Driver,
    backend: Backend,
    _listener: TcpListener,
    left: TcpStream,
    right: TcpStream,
    _file: std::fs::File,
    file_fd: Fd,
    file_contents: Vec<u8>,
    _temp: TempFile,
    /// One reused completions vector.
    completions: Vec<Completion>,
    /// The buffers, recycled from completion to submission.
    send_buf: Option<Vec<u8>>,
    recv_buf: Option<Vec<u8>>,
    read_buf: Option<Vec<u8>>,
    round_trips: u64,
    reads: u64,
}

impl Bench {
    fn new(backend: Backend) -> std::io::Result<Bench> {
        let driver = Driver::with_backend(backend)?;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let left = TcpStream::connect(listener.local_addr().unwrap()).expect("connect loopback");
        let (right, _) = listener.accept().expect("accept loopback");
        left.set_nodelay(true).unwrap();
        right.set_nodelay(true).unwrap();

        let file_contents: Vec<u8> = (0..FILE_BLOCKS * READ_SIZE)
            .map(|i| (i % 251) as u8)
            .collect();
        // The time as well: Wine repeats process ids between runs.
        let since_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "proactor-allocations-{backend}-{}-{}",
            std::process::id(),
            since_epoch.as_nanos()
        ));
        std::fs::File::create(&path)
            .and_then(|mut file| file.write_all(&file_contents))
            .expect("write the temporary file");
        let temp = TempFile(path);
        let file = open_for_driver(&temp.0).expect("open the temporary file");
        let file_fd = file_fd(&file);

        Ok(Bench {
            driver,
            backend,
            _listener: listener,
            left,
            right,
            _file: file,
            file_fd,
            file_contents,
            _temp: temp,
            completions: Vec::with_capacity(16),
            send_buf: Some((0..MESSAGE as u8).collect()),
            recv_buf: Some(Vec::with_capacity(MESSAGE)),
            read_buf: Some(Vec::with_capacity(READ_SIZE)),
            round_trips: 0,
            reads: 0,
        })
    }

    /// Polls until `want` completions arrived, handing each to `handle`. Allocation-free:
    /// the completions vector is reused and panics only format on failure.
    fn wait(&mut self, want: usize, mut handle: impl FnMut(&mut Bench, Completion)) {
        let deadline = Instant::now() + OP_LIMIT;
        let mut got = 0;
        while got < want {
            let now = Instant::now();
            let mut completions = std::mem::take(&mut self.completions);
            if let Err(error) = self.driver.poll(&mut completions, Some(deadline - now)) {
                panic!("{}: poll failed: {error}", self.backend);
            }
            for completion in completions.drain(..) {
                got += 1;
                handle(self, completion);
            }
            self.completions = completions;
            // Each operation here takes microseconds: one that is only handed out when the
            // poll times out was finished but never woke the driver.
            if Instant::now() >= deadline {
                panic!(
                    "{}: {got} of {want} completions after {OP_LIMIT:?}, the last ones handed \
                     out only when poll timed out (a lost wake-up?)",
                    self.backend
                );
            }
        }
    }

    /// Sends 64 bytes each way, recycling the two buffers.
    fn round_trip(&mut self) {
        let (left, right) = (socket_fd(&self.left), socket_fd(&self.right));
        for (from, to) in [(left, right), (right, left)] {
            let recv_buf = self.recv_buf.take().expect("recv buffer back");
            let send_buf = self.send_buf.take().expect("send buffer back");
            self.driver.submit(Op::Recv {
                fd: to,
                buf: Buffer::from(recv_buf),
                flags: 0,
            });
            self.driver.submit(Op::Send {
                fd: from,
                buf: Buffer::from(send_buf),
                flags: 0,
            });
            self.wait(2, Bench::take_socket_completion);
            // A short receive (unusual on loopback) is completed by more receives.
            while self.recv_buf.as_ref().is_none_or(|buf| buf.len() < MESSAGE) {
                let recv_buf = self.recv_buf.take().expect("recv buffer back");
                self.driver.submit(Op::Recv {
                    fd: to,
                    buf: Buffer::from(recv_buf),
                    flags: 0,
                });
                self.wait(1, Bench::take_socket_completion);
            }
            let received = self.recv_buf.as_mut().expect("recv buffer back");
            if received[..] != self.send_buf.as_ref().expect("send buffer back")[..] {
                panic!("{}: received bytes differ from those sent", self.backend);
            }
            received.clear();
        }
        self.round_trips += 1;
    }

    fn take_socket_completion(&mut self, completion: Completion) {
        let backend = self.backend;
        let result = match completion.result {
            Ok(count) => count,
            Err(error) => panic!("{backend}: socket operation failed: {error}"),
        };
        match completion.op {
            Op::Send { buf, .. } => {
                if result != MESSAGE {
                    panic!("{backend}: short send of {result} bytes");
                }
                self.send_buf = Some(buf.into_vec().expect("the Vec sent"));
            }
            Op::Recv { buf, .. } => {
                if result == 0 {
                    panic!("{backend}: connection closed");
                }
                self.recv_buf = Some(buf.into_vec().expect("the Vec received into"));
            }
            other => panic!("{backend}: unexpected completion {other:?}"),
        }
    }

    /// Reads 4 KiB at an offset that walks the file, recycling the buffer.
    fn file_read(&mut self) {
        let block = (self.reads as usize * 7) % FILE_BLOCKS;
        let offset = block * READ_SIZE;
        let read_buf = self.read_buf.take().expect("read buffer back");
        self.driver.submit(Op::Read {
            fd: self.file_fd,
            buf: Buffer::from(read_buf),
            offset: Some(offset as u64),
        });
        self.wait(1, |bench, completion| {
            let backend = bench.backend;
            match (completion.result, completion.op) {
                (Ok(READ_SIZE), Op::Read { buf, .. }) => {
                    bench.read_buf = Some(buf.into_vec().expect("the Vec read into"));
                }
                (Ok(count), _) => panic!("{backend}: short read of {count} bytes"),
                (Err(error), _) => panic!("{backend}: read failed: {error}"),
            }
        });
        let data = self.read_buf.as_mut().expect("read buffer back");
        if data[..] != self.file_contents[offset..offset + READ_SIZE] {
            panic!(
                "{}: bytes read at {offset} differ from the file",
                self.backend
            );
        }
        data.clear();
        self.reads += 1;
    }

    /// Checks nothing is left over, and says how much was done.
    fn finish(mut self) {
        let backend = self.backend;
        assert_eq!(self.driver.in_flight(), 0);
        // The peers saw only what the driver sent: nothing is left unread.
        self.left.set_nonblocking(true).unwrap();
        let mut rest = [0u8; 1];
        assert!(
            self.left.read(&mut rest).is_err(),
            "{backend}: stray bytes left"
        );
        eprintln!(
            "{backend}: {} round trips and {} reads done in all",
            self.round_trips, self.reads
        );
    }
}

/// Opens a file for the driver's reads (overlapped, on Windows, as the driver needs).
fn open_for_driver(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(windows)]
    std::os::windows::fs::OpenOptionsExt::custom_flags(
        &mut options,
        windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OVERLAPPED,
    );
    options.open(path)
}

#[cfg(unix)]
fn file_fd(file: &std::fs::File) -> Fd {
    std::os::fd::AsRawFd::as_raw_fd(file)
}

#[cfg(windows)]
fn file_fd(file: &std::fs::File) -> Fd {
    std::os::windows::io::AsRawHandle::as_raw_handle(file) as Fd
}

#[cfg(unix)]
fn socket_fd(socket: &TcpStream) -> Fd {
    std::os::fd::AsRawFd::as_raw_fd(socket)
}

#[cfg(windows)]
fn socket_fd(socket: &TcpStream) -> Fd {
    std::os::windows::io::AsRawSocket::as_raw_socket(socket)
}

/// Threads of the driver's pool, by name (reading `/proc` allocates: never while counting).
#[cfg(target_os = "linux")]
fn pool_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(Result::ok)
                .filter(|task| {
                    std::fs::read_to_string(task.path().join("comm"))
                        .is_ok_and(|name| name.trim_end() == "proactor-pool")
                })
                .count()
        })
        .unwrap_or(0)
}

/// Threads of the driver's pool: not counted on Windows ("?"), where the IOCP backend uses
/// the pool for neither operation measured (file reads are overlapped too).
#[cfg(windows)]
fn pool_threads() -> &'static str {
    "?"
}

/// Warms up with `warm_up`, then counts [`MEASURED`] runs of `step`.
fn measure(
    bench: &mut Bench,
    what: &str,
    warm_up: &dyn Fn(&mut Bench),
    step: fn(&mut Bench),
) -> (u64, Vec<String>) {
    warm_up(bench);
    let threads_before = pool_threads();
    let (count, traces) = count_allocations(|| {
        for _ in 0..MEASURED {
            step(bench);
        }
    });
    eprintln!(
        "{}: {MEASURED} {what}: {count} allocations (pool threads: {threads_before} before, {} after)",
        bench.backend,
        pool_threads()
    );
    (count, traces)
}

/// The counter sees allocations on this thread and on others, and shows where they happen.
fn check_the_counter() {
    let (here, traces) = count_allocations(|| {
        std::hint::black_box(Box::new(1u64));
    });
    assert_eq!(here, 1, "one allocation on this thread: {traces:#?}");
    assert!(traces[0].starts_with("alloc of 8 bytes"), "{}", traces[0]);
    assert!(traces[0].contains("check_the_counter"), "{}", traces[0]);
    let (start, started) = std::sync::mpsc::channel::<()>();
    let (finish, finished) = std::sync::mpsc::channel::<()>();
    let other = std::thread::spawn(move || {
        started.recv().unwrap();
        std::hint::black_box(Vec::<u8>::with_capacity(100));
        finish.send(()).unwrap();
    });
    let (elsewhere, traces) = count_allocations(|| {
        start.send(()).unwrap();
        finished
            .recv_timeout(OP_LIMIT)
            .expect("the other thread ran");
    });
    other.join().unwrap();
    assert!(
        traces
            .iter()
            .any(|trace| trace.starts_with("alloc of 100 bytes")),
        "an allocation on another thread counts too ({elsewhere} counted): {traces:#?}"
    );
}

fn open_bench(backend: Backend) -> Option<Bench> {
    match Bench::new(backend) {
        Ok(bench) => Some(bench),
        #[cfg(target_os = "linux")]
        Err(error)
            if backend == Backend::IoUring
                && matches!(error.raw_os_error(), Some(libc::EPERM) | Some(libc::ENOSYS)) =>
        {
            eprintln!("io_uring: SKIPPED, not available here: {error}");
            None
        }
        Err(error) => panic!("{backend}: cannot create the driver: {error}"),
    }
}

fn serial_warm_up(step: fn(&mut Bench)) -> impl Fn(&mut Bench) {
    move |bench| {
        for _ in 0..WARM_UP {
            step(bench);
        }
    }
}

fn check(failures: &mut Vec<String>, backend: Backend, what: &str, measured: (u64, Vec<String>)) {
    let (count, traces) = measured;
    if count != 0 {
        failures.push(format!(
            "{backend}: {count} allocations in {MEASURED} {what}; first ones:\n{}",
            traces.join("\n")
        ));
    }
}

#[test]
fn steady_state_operations_do_not_allocate() {
    let _serial = lock(&TEST_LOCK);
    check_the_counter();
    let mut failures = Vec::new();
    for backend in BACKENDS {
        let Some(mut bench) = open_bench(backend) else {
            continue;
        };
        let what = "socket round trips (64 bytes each way)";
        let warm_up = serial_warm_up(Bench::round_trip);
        let measured = measure(&mut bench, what, &warm_up, Bench::round_trip);
        check(&mut failures, backend, what, measured);
        // On epoll the file reads go through the thread pool: its threads count too.
        let what = "4 KiB file reads at offsets";
        let warm_up = serial_warm_up(Bench::file_read);
        let measured = measure(&mut bench, what, &warm_up, Bench::file_read);
        check(&mut failures, backend, what, measured);
        bench.finish();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
