//! The crate's own instrumentation, in one place (the driver's events are in
//! `proactor_driver`): with the `tracing` feature, a `proactor.worker` span around each thread
//! of a [`RuntimeGroup`](crate::RuntimeGroup), entered once for the thread's whole life, so
//! every event on that thread (the driver's backend choice, pool growth, per-operation trace
//! events, the tasks' own events) carries the worker's index and backend. Nothing runs per
//! operation. Without the feature, each hook compiles to nothing.

use proactor_driver::Backend;

/// The `proactor.worker` span, entered on the current thread until this is dropped.
pub(crate) struct Worker {
    #[cfg(feature = "tracing")]
    span: tracing::span::EnteredSpan,
}

impl Worker {
    /// Enters the span of worker `index` on this thread; its backend is recorded once the
    /// runtime exists (events from building it already carry the index).
    #[inline]
    pub(crate) fn enter(index: usize) -> Worker {
        #[cfg(not(feature = "tracing"))]
        let _ = index;
        Worker {
            #[cfg(feature = "tracing")]
            span: tracing::info_span!("proactor.worker", index, backend = tracing::field::Empty)
                .entered(),
        }
    }

    /// Records the backend the worker's runtime runs on, and that the worker started.
    #[inline]
    pub(crate) fn started(&self, backend: Backend) {
        #[cfg(not(feature = "tracing"))]
        let _ = backend;
        #[cfg(feature = "tracing")]
        {
            self.span
                .record("backend", tracing::field::display(backend));
            tracing::debug!(%backend, "runtime worker started");
        }
    }

    /// Records that the worker's runtime stopped because its driver failed.
    #[inline]
    pub(crate) fn failed(&self, error: &std::io::Error) {
        #[cfg(not(feature = "tracing"))]
        let _ = error;
        #[cfg(feature = "tracing")]
        tracing::error!(%error, "runtime worker stopped");
    }
}
