//! The driver's instrumentation, in one place: with the `tracing` feature each hook is a
//! `tracing` event; without it, each compiles to nothing, except `warning!` and `error!`, which go to `log`
//! so a fallback is reported either way.
//!
//! With the feature, `tracing`'s `log` feature forwards events to a `log` logger when no
//! `tracing` subscriber is installed. A disabled event costs one relaxed load and allocates
//! nothing (the driver's allocation test runs with the feature on and no subscriber).

/// A `tracing` event at `$level` (`trace`, `debug` or `info`), or nothing without the feature.
macro_rules! event {
    ($level:ident, $($arg:tt)+) => {
        #[cfg(feature = "tracing")]
        ::tracing::$level!($($arg)+);
    };
}

/// A warning: a `tracing` event with the feature, a `log` record without it.
macro_rules! warning {
    ($($arg:tt)+) => {
        #[cfg(feature = "tracing")]
        ::tracing::warn!($($arg)+);
        #[cfg(not(feature = "tracing"))]
        ::log::warn!($($arg)+);
    };
}

/// An error nobody can act on but an operator: a `tracing` event with the feature, a `log`
/// record without it.
#[cfg_attr(not(target_os = "linux"), allow(unused_macros))] // Used by io_uring only.
macro_rules! error {
    ($($arg:tt)+) => {
        #[cfg(feature = "tracing")]
        ::tracing::error!($($arg)+);
        #[cfg(not(feature = "tracing"))]
        ::log::error!($($arg)+);
    };
}

#[cfg(target_os = "linux")]
pub(crate) use error;
pub(crate) use {event, warning};

use crate::Completion;

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
pub(crate) struct Kinds(pub(crate) u32);

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
