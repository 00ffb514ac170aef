//! Observability: the `tracing` feature.
//!
//! With the `tracing` feature (off by default) the driver emits [`tracing`](https://docs.rs/tracing) events, with
//! targets under `proactor_driver`:
//!
//! | level | event | fields |
//! |---|---|---|
//! | `warn` | io_uring unavailable, falling back to epoll (once per process) | the reason, e.g. `io_uring_setup failed with EPERM (blocked by seccomp or kernel.io_uring_disabled)` |
//! | `debug` | `driver created` | `backend`, `reason` (as [`Runtime::backend_reason`](crate::Runtime::backend_reason)) |
//! | `debug` | `io_uring: operations on the fallback path` (opcodes the kernel lacks: a readiness poll then the syscall, or the thread pool) | `kinds` |
//! | `trace` | `io_uring: fallback path`, per operation that takes it | `id`, `kind` |
//! | `debug` | `pool thread started`, `pool thread retired` | `threads`, `max_threads`, `queued` |
//! | `trace` | `submit`, `complete`, one each per operation | `id`, `kind`, `result` |
//!
//! The `proactor` crate adds one span and one event, target `proactor::trace`:
//!
//! | level | span or event | fields |
//! |---|---|---|
//! | `info` | span `proactor.worker`, around each thread of a [`RuntimeGroup`](crate::RuntimeGroup) for its whole life | `index` (the thread's index in the group), `backend` (recorded once its runtime is built) |
//! | `debug` | `runtime worker started`, inside that span | `backend` |
//!
//! The span is entered once, when the thread starts, so every event on a worker thread
//! carries it: the driver's `driver created` (with the backend choice and why), its fallback
//! warnings, `pool thread started` (the pool grows from the thread whose job needed it) and
//! per-operation trace events, and the events of the tasks running there.
//! A subscriber that prints span context (as `tracing-subscriber`'s `fmt` layer does) shows
//! which worker each line comes from: `proactor.worker{index=1}: proactor_driver::driver:
//! driver created backend=io_uring ...` while the runtime is built, then
//! `proactor.worker{index=1 backend=io_uring}: ...` for everything after.
//! Nothing is recorded per operation or per turn for it, and without the feature it compiles to
//! nothing. (Pool threads are shared by the process's drivers and have no worker span:
//! `pool thread retired`, emitted on one, names the pool's size instead.)
//!
//! Without a subscriber, or with trace events filtered out, an event costs a relaxed atomic
//! load or two and allocates nothing: on the driver's NOP benchmark (callgrind), about 1
//! instruction more per operation on io_uring (0.3%) and 8 on epoll (2%).
//! Without the feature the hooks compile to nothing.
//!
//! The warnings and errors (the fallback to epoll; operations the kernel never finished when
//! a driver was dropped) go to the `log` crate whenever no `tracing` subscriber is installed,
//! with the feature or without it, so a program that only uses `log` still hears of them.
//! The other events are `tracing`'s only.
//!
//! ```toml
//! [dependencies]
//! proactor = { version = "0.1", features = ["tracing"] }
//! tracing-subscriber = { version = "0.3", features = ["env-filter"] }
//! ```
//!
//! Then `RUST_LOG=proactor_driver=debug` shows the backend each runtime chose and every pool
//! thread, `RUST_LOG=proactor_driver=trace` every operation as well; add `proactor=info` (or
//! `proactor=debug` for the start events) for the worker spans, which a filter that names only
//! `proactor_driver` leaves out.
