//! The runtime running on this thread, reached by futures without passing it around.

use std::cell::RefCell;
use std::rc::Rc;

use super::Inner;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Inner>>> = const { RefCell::new(None) };
}

/// Restores the previous context when dropped.
pub(crate) struct Entered {
    previous: Option<Rc<Inner>>,
}

/// Makes `inner` the current runtime until the guard drops.
///
/// # Panics
///
/// When another runtime is already running on this thread: a nested `block_on` would stop
/// the outer loop for as long as the inner one runs.
pub(crate) fn enter(inner: Rc<Inner>) -> Entered {
    let previous = CURRENT.with(|current| current.borrow_mut().replace(inner));
    if let Some(previous) = &previous {
        // Dropping a runtime enters it again to drop its tasks; that is not nesting.
        let nested = CURRENT.with(|current| {
            current
                .borrow()
                .as_ref()
                .is_some_and(|now| !Rc::ptr_eq(now, previous))
        });
        if nested {
            CURRENT.with(|current| *current.borrow_mut() = Some(Rc::clone(previous)));
            panic!("proactor: a runtime is already running on this thread; spawn instead of nesting block_on");
        }
    }
    Entered { previous }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// The current runtime itself, for values that must stay tied to the runtime that made them.
///
/// # Panics
///
/// Outside a runtime.
#[inline]
pub(crate) fn current() -> Rc<Inner> {
    try_current().expect(
        "proactor: this must be called inside a runtime (Runtime::block_on or a spawned task)",
    )
}

/// The current runtime, if there is one.
#[inline]
pub(crate) fn try_current() -> Option<Rc<Inner>> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// Makes `inner` current for tearing it down, even inside another runtime (no nesting
/// check: nothing runs, tasks are only dropped).
pub(crate) fn enter_for_drop(inner: Rc<Inner>) -> Entered {
    let previous = CURRENT.with(|current| current.borrow_mut().replace(inner));
    Entered { previous }
}

/// Runs `f` with the current runtime.
///
/// # Panics
///
/// Outside a runtime: I/O types and timers only work inside one.
pub(crate) fn with<R>(f: impl FnOnce(&Inner) -> R) -> R {
    try_with(f).expect(
        "proactor: this must be called inside a runtime (Runtime::block_on or a spawned task)",
    )
}

/// Runs `f` with the current runtime, if there is one.
///
/// `f` runs while the context is borrowed (no reference count is taken: this is on every
/// wake), so it must not enter or leave a runtime; nothing that calls this does.
pub(crate) fn try_with<R>(f: impl FnOnce(&Inner) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| current.borrow().as_deref().map(f))
        .ok()
        .flatten()
}
