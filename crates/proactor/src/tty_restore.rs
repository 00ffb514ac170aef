//! The terminals in raw mode and the modes to put back, for both terminals' implementations
//! (termios on Unix, console modes on Windows): a panic hook restores them before the panic's
//! message prints, so a program that panics — also with `panic = "abort"`, where no `Drop`
//! runs — leaves its terminal usable.

use std::sync::{Mutex, Once, PoisonError, TryLockError};

/// Terminals (by descriptor or handle `K`) whose mode `M` is to be put back on a panic.
pub(crate) struct RawModes<K, M> {
    saved: Mutex<Vec<(K, M)>>,
    hook: Once,
}

impl<K, M> RawModes<K, M>
where
    K: Copy + PartialEq + Send + 'static,
    M: Copy + Send + 'static,
{
    pub(crate) const fn new() -> RawModes<K, M> {
        RawModes {
            saved: Mutex::new(Vec::new()),
            hook: Once::new(),
        }
    }

    /// Remembers that `terminal` goes back to `original` on a panic, with `restore`; the
    /// first call installs the panic hook (before any panic's message, the previous hook
    /// runs after it).
    pub(crate) fn remember(&'static self, terminal: K, original: M, restore: fn(K, &M)) {
        // set_hook would panic while a panic unwinds; Drop still restores then.
        if !std::thread::panicking() {
            self.hook.call_once(|| {
                let previous = std::panic::take_hook();
                std::panic::set_hook(Box::new(move |info| {
                    self.restore_all(restore);
                    previous(info);
                }));
            });
        }
        let mut saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        saved.retain(|(known, _)| *known != terminal);
        saved.push((terminal, original));
    }

    /// Called when the terminal is back in normal mode, and before its descriptor or handle
    /// closes, so the hook never touches a reused number.
    pub(crate) fn forget(&self, terminal: K) {
        self.saved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(known, _)| *known != terminal);
    }

    fn restore_all(&self, restore: fn(K, &M)) {
        // try_lock: never wait in a panic hook (another thread may hold the lock).
        let saved = match self.saved.try_lock() {
            Ok(saved) => saved,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        for (terminal, original) in saved.iter() {
            restore(*terminal, original);
        }
    }
}
