//! The `tracing` feature's events, seen by a subscriber: creating a driver records the backend
//! it chose and why, on each backend; operations record their submit and complete at trace
//! level; the first thread-pool job records the thread it starts.
//!
//! The subscriber is process-wide (pool threads are others than the test's), so each test
//! looks only at the events its own thread recorded. Nothing else in this binary uses the
//! thread pool: its first job must start a thread.

#![cfg(any(target_os = "linux", windows))]

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use proactor_driver::{Backend, Completion, Driver, Op};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The backends this OS has.
#[cfg(target_os = "linux")]
const BACKENDS: [Backend; 2] = [Backend::IoUring, Backend::Epoll];
#[cfg(windows)]
const BACKENDS: [Backend; 1] = [Backend::Iocp];

/// How long any single wait on the driver may take.
const OP_LIMIT: Duration = Duration::from_secs(10);

/// One event as the subscriber saw it: `fields` is `name=value` pairs, the message first.
#[derive(Debug, Clone)]
struct Recorded {
    thread: ThreadId,
    level: Level,
    target: String,
    message: String,
    fields: Vec<(String, String)>,
}

impl Recorded {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

static EVENTS: Mutex<Vec<Recorded>> = Mutex::new(Vec::new());

/// Records every event at every level.
struct Recorder {
    next_span: AtomicU64,
}

struct Fields<'a>(&'a mut Recorded);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.0.message = text;
        } else {
            self.0.fields.push((field.name().to_owned(), text));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .fields
            .push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let mut recorded = Recorded {
            thread: thread::current().id(),
            level: *metadata.level(),
            target: metadata.target().to_owned(),
            message: String::new(),
            fields: Vec::new(),
        };
        event.record(&mut Fields(&mut recorded));
        EVENTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(recorded);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(Recorder {
            next_span: AtomicU64::new(1),
        })
        .expect("no other subscriber in this binary");
    });
}

/// The events this thread recorded with `message`.
fn recorded(message: &str) -> Vec<Recorded> {
    let me = thread::current().id();
    EVENTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
        .filter(|event| event.thread == me && event.message == message)
        .cloned()
        .collect()
}

fn wait_one(driver: &mut Driver) -> Completion {
    let deadline = Instant::now() + OP_LIMIT;
    let mut completions = Vec::new();
    while completions.is_empty() {
        assert!(
            Instant::now() < deadline,
            "no completion within {OP_LIMIT:?}"
        );
        driver
            .poll(&mut completions, Some(Duration::from_millis(100)))
            .expect("poll");
    }
    assert_eq!(completions.len(), 1);
    completions.pop().unwrap()
}

#[test]
fn driver_records_backend_choice() {
    install();
    for backend in BACKENDS {
        let driver = Driver::with_backend(backend).expect("driver");
        let events = recorded("driver created");
        let event = events
            .iter()
            .find(|event| event.field("backend") == Some(&backend.to_string()))
            .unwrap_or_else(|| panic!("no `driver created` event for {backend}: {events:?}"));
        assert_eq!(event.level, Level::DEBUG);
        assert!(event.target.starts_with("proactor_driver"), "{event:?}");
        assert_eq!(event.field("reason"), Some(driver.backend_reason()));
        assert!(
            driver.backend_reason().contains("chosen by the caller"),
            "{}",
            driver.backend_reason()
        );
    }
}

#[test]
fn operations_record_submit_and_complete() {
    install();
    for backend in BACKENDS {
        let mut driver = Driver::with_backend(backend).expect("driver");
        let id = driver.submit(Op::Nop);
        let completion = wait_one(&mut driver);
        assert_eq!(completion.id, id);
        let id = format!("{id:?}");
        let submitted = recorded("submit");
        let submit = submitted
            .iter()
            .find(|event| event.field("id") == Some(&id))
            .unwrap_or_else(|| panic!("no `submit` event for {id} on {backend}: {submitted:?}"));
        assert_eq!(submit.level, Level::TRACE);
        assert_eq!(submit.field("kind"), Some("Nop"));
        let completed = recorded("complete");
        let complete = completed
            .iter()
            .find(|event| event.field("id") == Some(&id))
            .unwrap_or_else(|| panic!("no `complete` event for {id} on {backend}: {completed:?}"));
        assert_eq!(complete.level, Level::TRACE);
        assert_eq!(complete.field("kind"), Some("Nop"));
        assert_eq!(complete.field("result"), Some("Ok(0)"));
        // One submit and one complete per operation, not one per poll.
        let of_id = |events: &[Recorded]| {
            events
                .iter()
                .filter(|event| event.field("id") == Some(&id))
                .count()
        };
        assert_eq!(of_id(&submitted), 1);
        assert_eq!(of_id(&completed), 1);
        // Ids restart per driver: forget this driver's before the next backend's.
        EVENTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|event| event.thread != thread::current().id());
    }
}

#[test]
fn first_pool_job_records_thread_start() {
    install();
    let mut driver = Driver::new().expect("driver");
    driver.submit(Op::Blocking {
        job: Box::new(|| Ok(7)),
    });
    let completion = wait_one(&mut driver);
    assert_eq!(completion.result.expect("job"), 7);
    let started = recorded("pool thread started");
    let event = started
        .first()
        .unwrap_or_else(|| panic!("no `pool thread started` event: {:?}", recorded_all()));
    assert_eq!(event.level, Level::DEBUG);
    assert_eq!(event.field("threads"), Some("1"));
    assert_eq!(event.field("queued"), Some("1"));
}

fn recorded_all() -> Vec<Recorded> {
    EVENTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

#[cfg(target_os = "linux")]
#[test]
fn io_uring_records_its_fallback_path() {
    use std::os::fd::AsRawFd;

    use proactor_driver::{Buffer, Config, OpKind};

    install();
    let config = Config::new()
        .backend(Backend::IoUring)
        .fallback_for(&[OpKind::Read]);
    let mut driver = Driver::with_config(config).expect("io_uring driver");
    let chosen = recorded("io_uring: operations on the fallback path");
    let event = chosen.last().expect("a fallback event at creation");
    assert_eq!(event.level, Level::DEBUG);
    let kinds = event.field("kinds").expect("kinds");
    let listed: Vec<&str> = kinds
        .trim_matches(|c| c == '[' || c == ']')
        .split(", ")
        .collect();
    assert!(listed.contains(&"Read"), "{kinds}");
    assert!(!listed.contains(&"Write"), "{kinds}");

    // A socket, not a file: a file's read would take the thread pool, which the pool test
    // needs untouched.
    let (mut peer, socket) = std::os::unix::net::UnixStream::pair().expect("socket pair");
    std::io::Write::write_all(&mut peer, b"fallback!").expect("write");
    let id = driver.submit(Op::Read {
        fd: socket.as_raw_fd(),
        buf: Buffer::from(Vec::with_capacity(9)),
        offset: None,
    });
    let completion = wait_one(&mut driver);
    assert_eq!(completion.result.expect("read"), 9);
    let id = format!("{id:?}");
    let taken = recorded("io_uring: fallback path");
    let event = taken
        .iter()
        .find(|event| event.field("id") == Some(&id))
        .unwrap_or_else(|| panic!("no `fallback path` event for {id}: {taken:?}"));
    assert_eq!(event.level, Level::TRACE);
    assert_eq!(event.field("kind"), Some("Read"));
}
