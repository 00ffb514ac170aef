//! The `tracing` feature's `proactor.worker` span: every thread of a runtime group runs inside
//! a span naming its index and backend, so events from that thread (the driver's, the
//! crate's, a task's own) carry it. Run once per backend the system has.
//!
//! The subscriber below is the smallest that tracks spans: it keeps each span's fields and,
//! per thread, the spans entered, and gives each event the innermost one.

mod common;

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::thread::{self, ThreadId};

use common::per_backend;
use proactor::{Backend, Builder};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Name-value pairs, the message first under `message`.
type Fields = Vec<(String, String)>;

/// A span as the subscriber knows it.
#[derive(Debug, Clone)]
struct Span {
    name: String,
    fields: Fields,
}

/// One event, with the span that was current on its thread.
#[derive(Debug, Clone)]
struct Recorded {
    thread: ThreadId,
    target: String,
    fields: Fields,
    span: Option<u64>,
}

fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value.as_str())
}

#[derive(Default)]
struct State {
    spans: HashMap<u64, Span>,
    entered: HashMap<ThreadId, Vec<u64>>,
    events: Vec<Recorded>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn state() -> MutexGuard<'static, Option<State>> {
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    f(state().get_or_insert_with(State::default))
}

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.0.push((field.name().to_owned(), text));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

/// Records every span and event at every level.
struct Recorder {
    next_span: AtomicU64,
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let id = self.next_span.fetch_add(1, Ordering::Relaxed);
        let mut fields = Fields::new();
        attributes.record(&mut Collect(&mut fields));
        let name = attributes.metadata().name().to_owned();
        with_state(|state| state.spans.insert(id, Span { name, fields }));
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut fields = Fields::new();
        values.record(&mut Collect(&mut fields));
        with_state(|state| {
            if let Some(span) = state.spans.get_mut(&span.into_u64()) {
                span.fields.extend(fields);
            }
        });
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut Collect(&mut fields));
        let thread = thread::current().id();
        let target = event.metadata().target().to_owned();
        with_state(|state| {
            let span = event.parent().map(Id::into_u64).or_else(|| {
                state
                    .entered
                    .get(&thread)
                    .and_then(|stack| stack.last().copied())
            });
            state.events.push(Recorded {
                thread,
                target,
                fields,
                span,
            });
        });
    }

    fn enter(&self, span: &Id) {
        let thread = thread::current().id();
        with_state(|state| {
            state
                .entered
                .entry(thread)
                .or_default()
                .push(span.into_u64())
        });
    }

    fn exit(&self, span: &Id) {
        let thread = thread::current().id();
        with_state(|state| {
            if let Some(stack) = state.entered.get_mut(&thread) {
                if let Some(at) = stack.iter().rposition(|id| *id == span.into_u64()) {
                    stack.remove(at);
                }
            }
        });
    }
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

/// The span an event carries, if it is a `proactor.worker` span.
fn worker_span(event: &Recorded) -> Option<Span> {
    let id = event.span?;
    with_state(|state| state.spans.get(&id).cloned()).filter(|span| span.name == "proactor.worker")
}

per_backend! {
    worker_events_carry_the_worker_span,
}

/// A two-thread group on `backend`; each task records an event and says which thread it ran
/// on.
fn worker_events_carry_the_worker_span(backend: Backend) {
    install();
    let group = Builder::new()
        .backend(backend)
        .threads(2)
        .build_group()
        .expect("a runtime group");
    let expected = backend.to_string();
    let tag = format!("{expected}-{}", thread::current().name().unwrap_or("test"));
    let task_tag = tag.clone();
    let threads = group.run(move |index| {
        let tag = task_tag.clone();
        async move {
            tracing::info!(target: "proactor_tracing_test", index, tag = %tag, "hello from a task");
            thread::current().id()
        }
    });
    drop(group);

    let events: Vec<Recorded> = with_state(|state| state.events.clone());
    for (index, thread) in threads.iter().enumerate() {
        // The task's own event, on its worker thread, carries that worker's span.
        let task_event = events
            .iter()
            .find(|event| {
                event.target == "proactor_tracing_test"
                    && field(&event.fields, "tag") == Some(tag.as_str())
                    && field(&event.fields, "index") == Some(index.to_string().as_str())
            })
            .unwrap_or_else(|| panic!("worker {index}'s event was recorded"));
        assert_eq!(task_event.thread, *thread, "the task ran on worker {index}");
        let span = worker_span(task_event).expect("the task's event carries the worker span");
        assert_eq!(
            field(&span.fields, "index"),
            Some(index.to_string().as_str())
        );
        assert_eq!(field(&span.fields, "backend"), Some(expected.as_str()));

        // So do the crate's and the driver's events from that thread: the worker's start,
        // and the backend choice made while its runtime was built.
        let on_thread: Vec<&Recorded> = events.iter().filter(|e| e.thread == *thread).collect();
        for message in ["runtime worker started", "driver created"] {
            let event = on_thread
                .iter()
                .find(|event| field(&event.fields, "message") == Some(message))
                .unwrap_or_else(|| panic!("worker {index} recorded {message:?}"));
            let span = worker_span(event)
                .unwrap_or_else(|| panic!("{message:?} carries worker {index}'s span"));
            assert_eq!(
                field(&span.fields, "index"),
                Some(index.to_string().as_str())
            );
        }
        let created = on_thread
            .iter()
            .find(|event| field(&event.fields, "message") == Some("driver created"))
            .expect("checked above");
        assert!(created.target.starts_with("proactor_driver"), "{created:?}");
        assert_eq!(field(&created.fields, "backend"), Some(expected.as_str()));
    }
}
