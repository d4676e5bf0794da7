//! The one wall clock: every "now" in the use cases (`hearth_app::clock`) and every receive
//! time here comes from a [`Clock`], so tests (and the end-to-end suite) can run the same code
//! at any moment. It lives in the IO crate because reading the clock is input.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now_unix(&self) -> i64;
}

/// The system's wall clock: the only place Hearth's use cases read it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

/// A clock that stands still until it is set or advanced (tests).
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock showing `unix`.
    pub fn at(unix: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(unix)))
    }

    /// Shows `unix` from now on (every clone of this clock does).
    pub fn set(&self, unix: i64) {
        self.0.store(unix, Ordering::SeqCst);
    }

    /// Moves the clock `seconds` on.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A shared clock, as the faces hand it around.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let c = ManualClock::at(1_796_603_400);
        let shared: SharedClock = Arc::new(c.clone());
        assert_eq!(shared.now_unix(), 1_796_603_400);
        c.advance(90);
        assert_eq!(shared.now_unix(), 1_796_603_490);
        c.set(0);
        assert_eq!(shared.now_unix(), 0);
    }

    #[test]
    fn the_system_clock_is_after_this_code_was_written() {
        // 2026-12-01T00:00:00Z.
        assert!(SystemClock.now_unix() > 1_796_083_200);
    }
}
