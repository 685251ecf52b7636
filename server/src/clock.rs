//! The time the services read. In production it is the system's; a server
//! started with `--test-clock` keeps an offset that tests move forward, so
//! that SLA clocks, escalations and the board can be watched as hours pass
//! in seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// The services' clock; cheap to clone, clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds added to the system time; only for a test clock.
    offset_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's time.
    pub fn system() -> Self {
        Self::default()
    }

    /// The system's time, plus what tests advance it by.
    pub fn adjustable() -> Self {
        Self { offset_ms: Some(Arc::default()) }
    }

    pub fn is_adjustable(&self) -> bool {
        self.offset_ms.is_some()
    }

    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        match &self.offset_ms {
            Some(offset) => now + Duration::milliseconds(offset.load(Ordering::Relaxed)),
            None => now,
        }
    }

    /// Moves a test clock (forward, or back by a negative step); `false`
    /// for the system's.
    pub fn advance(&self, by: Duration) -> bool {
        match &self.offset_ms {
            Some(offset) => {
                offset.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_test_clock_moves_and_its_clones_move_with_it() {
        assert!(!Clock::system().advance(Duration::hours(1)));
        let clock = Clock::adjustable();
        let seen_by_a_worker = clock.clone();
        assert!(clock.advance(Duration::hours(2)));
        let ahead = seen_by_a_worker.now() - Utc::now();
        assert!(ahead > Duration::minutes(119) && ahead <= Duration::hours(2), "{ahead}");
    }
}
