//! The driver's instrumentation, in one place: with the `tracing` feature each hook is a
//! `tracing` event; without it, each compiles to nothing, except `warning!` and `error!`,
//! which go to `log`.
//!
//! `tracing` complements `log` rather than replacing it: the rare warnings and errors go to
//! `log` whenever no `tracing` subscriber is installed, so a `log`-only program still hears
//! of a fallback. The per-operation events do not (`tracing`'s own `log` feature would do
//! that for every event, at 8 to 9 instructions more per NOP with nobody listening).
//! A disabled event costs a relaxed load or two and allocates nothing (the allocation tests
//! run with the feature on and no subscriber).

/// A `tracing` event at `$level` (`trace`, `debug` or `info`), or nothing without the feature.
macro_rules! event {
    ($level:ident, $($arg:tt)+) => {
        #[cfg(feature = "tracing")]
        ::tracing::$level!($($arg)+);
    };
}

/// A warning: a `tracing` event when a subscriber listens, a `log` record otherwise.
macro_rules! warning {
    ($($arg:tt)+) => {
        #[cfg(feature = "tracing")]
        if $crate::trace::has_subscriber() {
            ::tracing::warn!($($arg)+);
        } else {
            ::log::warn!($($arg)+);
        }
        #[cfg(not(feature = "tracing"))]
        ::log::warn!($($arg)+);
    };
}

/// An error only an operator can act on: a `tracing` event when a subscriber listens, a
/// `log` record otherwise.
#[cfg_attr(not(target_os = "linux"), allow(unused_macros))] // Used by io_uring only.
macro_rules! error {
    ($($arg:tt)+) => {
        #[cfg(feature = "tracing")]
        if $crate::trace::has_subscriber() {
            ::tracing::error!($($arg)+);
        } else {
            ::log::error!($($arg)+);
        }
        #[cfg(not(feature = "tracing"))]
        ::log::error!($($arg)+);
    };
}

#[cfg(target_os = "linux")]
pub(crate) use error;
pub(crate) use {event, warning};

use crate::Completion;

/// Whether a `tracing` subscriber is installed (for this thread or globally). Only the cold
/// paths ask.
#[cfg(feature = "tracing")]
pub(crate) fn has_subscriber() -> bool {
    ::tracing::dispatcher::get_default(|dispatch| {
        !dispatch.is::<::tracing::subscriber::NoSubscriber>()
    })
}

/// Records each completion in `completions` at trace level; the loop runs only when trace
/// events are enabled.
#[inline]
pub(crate) fn completed(completions: &[Completion]) {
    #[cfg(feature = "tracing")]
    if ::tracing::enabled!(::tracing::Level::TRACE) {
        for completion in completions {
            ::tracing::trace!(
                id = ?completion.id,
                kind = ?completion.op.kind(),
                result = ?completion.result,
                "complete"
            );
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = completions;
}

/// The operation kinds set in `bits` ([`OpKind::bit`](crate::OpKind)), listed by `Debug`.
#[cfg(all(feature = "tracing", target_os = "linux"))]
pub(crate) struct Kinds(pub(crate) u64);

#[cfg(all(feature = "tracing", target_os = "linux"))]
impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                crate::OpKind::ALL
                    .iter()
                    .filter(|kind| self.0 & kind.bit() != 0),
            )
            .finish()
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use std::sync::Mutex;

    static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    struct Recorder;

    impl log::Log for Recorder {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }

        fn log(&self, record: &log::Record<'_>) {
            LOGGED
                .lock()
                .unwrap()
                .push(format!("{} {}", record.level(), record.args()));
        }

        fn flush(&self) {}
    }

    #[test]
    fn warnings_go_to_log_without_a_subscriber() {
        log::set_logger(&Recorder).expect("the only logger of these tests");
        log::set_max_level(log::LevelFilter::Trace);
        assert!(!super::has_subscriber());
        warning!("proactor: {} fell back", "the test");
        event!(trace, "not sent to log");
        let logged = LOGGED.lock().unwrap().clone();
        assert_eq!(logged, ["WARN proactor: the test fell back"]);
    }
}
