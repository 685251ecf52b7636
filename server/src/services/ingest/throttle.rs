//! Per-source token buckets: a noisy source is slowed without slowing others.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets keyed by source id.
#[derive(Debug, Default)]
pub struct Throttle {
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl Throttle {
    /// Takes `cost` tokens from the source's bucket (`rate` per second, at
    /// most `burst`), or says how long to wait before trying again. A cost
    /// above the burst takes the whole bucket.
    pub fn take(&self, source: i64, rate: f64, burst: u32, cost: u32, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(burst.max(1));
        let cost = f64::from(cost).min(burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(source).or_insert(Bucket { tokens: burst, last: now });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            Ok(())
        } else {
            let wait = (cost - bucket.tokens) / rate.max(f64::MIN_POSITIVE);
            Err(Duration::from_secs_f64(wait.min(3600.0)))
        }
    }

    /// Forgets a source's bucket (after its limits change).
    pub fn reset(&self, source: i64) {
        self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_rate_applies() {
        let t = Throttle::default();
        let start = Instant::now();
        assert!(t.take(1, 10.0, 5, 5, start).is_ok());
        let wait = t.take(1, 10.0, 5, 1, start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6);
        assert!(t.take(1, 10.0, 5, 1, start + Duration::from_millis(100)).is_ok());
    }

    #[test]
    fn one_source_does_not_drain_another() {
        let t = Throttle::default();
        let now = Instant::now();
        assert!(t.take(1, 1.0, 1, 1, now).is_ok());
        assert!(t.take(1, 1.0, 1, 1, now).is_err());
        assert!(t.take(2, 1.0, 1, 1, now).is_ok());
    }

    #[test]
    fn a_batch_larger_than_the_burst_takes_the_whole_bucket() {
        let t = Throttle::default();
        let now = Instant::now();
        assert!(t.take(1, 100.0, 50, 1000, now).is_ok());
        assert!(t.take(1, 100.0, 50, 1, now).is_err());
    }
}
