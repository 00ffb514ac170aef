//! The runtime's clock: the system's monotonic clock, which a test may stop and move by hand
//! (`time::pause`, `advance`, `resume`, `Builder::start_paused`), as tokio's test clock.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// What `time::now` says on one runtime. Running and never paused it is `Instant::now()`
/// itself (one load more per reading); paused it stands still except when moved forward;
/// resumed it runs on from where it stood, so it never goes back.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    /// While paused: the time shown.
    frozen: Cell<Option<Instant>>,
    /// Once resumed: the time shown at the resume, and the system's time then. The time
    /// shown is the first plus what the system's clock has run since the second.
    resumed: Cell<Option<(Instant, Instant)>>,
}

impl Clock {
    /// The time shown.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        if let Some(frozen) = self.frozen.get() {
            return frozen;
        }
        match self.resumed.get() {
            None => Instant::now(),
            Some((shown, system)) => shown + system.elapsed(),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.frozen.get().is_some()
    }

    /// Stops the clock where it is; false if it was stopped already.
    pub(crate) fn pause(&self) -> bool {
        if self.is_paused() {
            return false;
        }
        self.frozen.set(Some(self.now()));
        true
    }

    /// Lets the clock run on from where it stands; false if it was running.
    pub(crate) fn resume(&self) -> bool {
        let Some(frozen) = self.frozen.take() else {
            return false;
        };
        self.resumed.set(Some((frozen, Instant::now())));
        true
    }

    /// Moves a stopped clock forward by `duration` (to the far future at most); false if it
    /// was running.
    pub(crate) fn advance(&self, duration: Duration) -> bool {
        let Some(frozen) = self.frozen.get() else {
            return false;
        };
        self.frozen
            .set(Some(super::saturating_add(frozen, duration)));
        true
    }

    /// Moves a stopped clock forward to `deadline`, if that is ahead of it.
    pub(crate) fn advance_to(&self, deadline: Instant) {
        if let Some(frozen) = self.frozen.get() {
            self.frozen.set(Some(frozen.max(deadline)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_stands_still_moves_by_hand_and_never_goes_back() {
        let clock = Clock::default();
        assert!(clock.now() <= Instant::now());
        assert!(clock.pause());
        assert!(!clock.pause(), "already paused");
        let stopped = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), stopped);
        assert!(clock.advance(Duration::from_secs(3600)));
        assert_eq!(clock.now(), stopped + Duration::from_secs(3600));
        clock.advance_to(stopped);
        assert_eq!(
            clock.now(),
            stopped + Duration::from_secs(3600),
            "never back"
        );
        assert!(clock.resume());
        assert!(!clock.resume(), "already running");
        assert!(
            !clock.advance(Duration::from_secs(1)),
            "only a paused clock moves by hand"
        );
        let resumed = clock.now();
        assert!(resumed >= stopped + Duration::from_secs(3600));
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            clock.now() >= resumed + Duration::from_millis(5),
            "it runs again"
        );
    }
}
