//! No heap allocation per operation in steady state, through the runtime: after warm-up, TCP
//! round trips between two tasks allocate nothing, on every backend, natively and through the
//! poll-based `compat::Compat` adapter.

#![cfg(any(target_os = "linux", windows))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::net::{TcpListener, TcpStream};
use proactor::{Backend, Builder};

struct Counting;

thread_local! {
    /// Counting on this thread: the runtime under test runs on the test's own thread, and the
    /// test harness's threads (reporting another test's result while this one counts) must
    /// not be counted. A `const` cell with no destructor: reading it never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

fn set_counting(on: bool) {
    COUNTING.with(|counting| counting.set(on));
}

// SAFETY: forwards every call to the system allocator unchanged; it only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        if counting() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.realloc(pointer, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The counter is global: tests that count take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

const WARM_UP: usize = 2_000;
const MEASURED: usize = 10_000;

async fn round_trips(client: &mut TcpStream, count: usize, mut buffer: Vec<u8>) -> Vec<u8> {
    for _ in 0..count {
        buffer.clear();
        buffer.extend_from_slice(&[7u8; 64]);
        let (result, back) = client.write_all(buffer).await;
        result.unwrap();
        buffer = back;
        buffer.clear();
        let (result, back) = client.read_exact(buffer).await;
        result.unwrap();
        buffer = back;
    }
    buffer
}

fn measure(backend: Backend) -> u64 {
    let runtime = Builder::new().backend(backend).build().unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(address).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let echo = proactor::spawn(async move {
            let mut buffer = Vec::with_capacity(64);
            loop {
                buffer.clear();
                let (result, back) = server.read_exact(buffer).await;
                if result.is_err() {
                    return;
                }
                let (result, back) = server.write_all(back).await;
                result.unwrap();
                buffer = back;
            }
        });
        let buffer = round_trips(&mut client, WARM_UP, Vec::with_capacity(64)).await;
        ALLOCATIONS.store(0, Ordering::SeqCst);
        set_counting(true);
        let buffer = round_trips(&mut client, MEASURED, buffer).await;
        set_counting(false);
        let allocations = ALLOCATIONS.load(Ordering::SeqCst);
        drop((buffer, client));
        echo.await.unwrap();
        allocations
    })
}

/// Every backend this OS has.
#[cfg(target_os = "linux")]
const BACKENDS: &[Backend] = &[Backend::IoUring, Backend::Epoll];
#[cfg(windows)]
const BACKENDS: &[Backend] = &[Backend::Iocp];

#[test]
fn tcp_round_trips_through_the_runtime_allocate_nothing() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for &backend in BACKENDS {
        let allocations = measure(backend);
        eprintln!(
            "{backend}: {MEASURED} TCP round trips through the runtime: {allocations} allocations"
        );
        assert_eq!(allocations, 0, "{backend}: allocations in steady state");
    }
}

/// The same round trips through `compat::Compat` and tokio's traits on both ends: the
/// adapters reuse their buffers and operation slots, so they allocate nothing either.
fn measure_compat(backend: Backend) -> u64 {
    use proactor::compat::Compat;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn compat_round_trips(client: &mut Compat<TcpStream>, count: usize) {
        let mut reply = [0u8; 64];
        for _ in 0..count {
            client.write_all(&[7u8; 64]).await.unwrap();
            client.flush().await.unwrap();
            client.read_exact(&mut reply).await.unwrap();
        }
    }

    let runtime = Builder::new().backend(backend).build().unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut client = Compat::new(TcpStream::connect(address).await.unwrap());
        let (server, _) = listener.accept().await.unwrap();
        let echo = proactor::spawn(async move {
            let mut server = Compat::new(server);
            let mut request = [0u8; 64];
            while server.read_exact(&mut request).await.is_ok() {
                server.write_all(&request).await.unwrap();
                server.flush().await.unwrap();
            }
        });
        compat_round_trips(&mut client, WARM_UP).await;
        ALLOCATIONS.store(0, Ordering::SeqCst);
        set_counting(true);
        compat_round_trips(&mut client, MEASURED).await;
        set_counting(false);
        let allocations = ALLOCATIONS.load(Ordering::SeqCst);
        drop(client);
        echo.await.unwrap();
        allocations
    })
}

#[test]
fn compat_round_trips_allocate_nothing() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for &backend in BACKENDS {
        let allocations = measure_compat(backend);
        eprintln!(
            "{backend}: {MEASURED} TCP round trips through Compat: {allocations} allocations"
        );
        assert_eq!(allocations, 0, "{backend}: allocations in steady state");
    }
}

const SPAWNS: usize = 1_000;

/// Allocations `spawn` makes per task, in steady state (the task table, its free list and the
/// run queue already grown): each task spawned, run to its end and joined, or detached.
fn allocations_per_spawn(backend: Backend) -> (u64, u64) {
    let runtime = Builder::new().backend(backend).build().unwrap();
    runtime.block_on(async {
        let mut handles = Vec::with_capacity(SPAWNS);
        let mut counted = (0, 0);
        // The first round grows the tables; the second is counted.
        for round in 0..2 {
            let measured = round == 1;
            ALLOCATIONS.store(0, Ordering::SeqCst);
            set_counting(measured);
            for n in 0..SPAWNS as u64 {
                handles.push(proactor::spawn(async move { n }));
            }
            for (n, handle) in handles.drain(..).enumerate() {
                assert_eq!(handle.await.unwrap(), n as u64);
            }
            set_counting(false);
            let joined = ALLOCATIONS.load(Ordering::SeqCst);

            ALLOCATIONS.store(0, Ordering::SeqCst);
            set_counting(measured);
            for n in 0..SPAWNS as u64 {
                drop(proactor::spawn(async move { std::hint::black_box(n) }));
            }
            // Every detached task runs at the next turn.
            proactor::yield_now().await;
            set_counting(false);
            let detached = ALLOCATIONS.load(Ordering::SeqCst);
            assert_eq!(proactor::Runtime::current_metrics().num_alive_tasks(), 0);
            counted = (joined, detached);
        }
        counted
    })
}

#[test]
fn a_spawn_allocates_once() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for &backend in BACKENDS {
        let (joined, detached) = allocations_per_spawn(backend);
        eprintln!("{backend}: {SPAWNS} spawns: {joined} allocations joined, {detached} detached");
        // The task's one allocation: its future and its output, with what its handle shares.
        assert_eq!(
            joined, SPAWNS as u64,
            "{backend}: allocations per joined spawn"
        );
        assert_eq!(
            detached, SPAWNS as u64,
            "{backend}: allocations per detached spawn"
        );
    }
}
