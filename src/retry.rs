//! Retry schedules and the classification of delivery outcomes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldProblem;

/// How the wait before each attempt is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Exactly the exponential delay.
    None,
    /// Uniformly between zero and the exponential delay ("full jitter").
    Full,
}

/// A retry policy: how often and how patiently to try again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrySchedule {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub initial_delay_ms: u64,
    pub multiplier: f64,
    pub max_delay_ms: u64,
    pub jitter: Jitter,
}

impl RetrySchedule {
    pub const MAX_ATTEMPTS: u32 = 100;
    /// A day: no wait between attempts is longer.
    pub const MAX_DELAY_MS: u64 = 86_400_000;

    /// Checks the bounds, reporting every problem with the pointer of its field.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut push =
            |pointer: &str, message: String| problems.push(FieldProblem { pointer: pointer.into(), message });
        if !(1..=Self::MAX_ATTEMPTS).contains(&self.max_attempts) {
            push("/max_attempts", format!("must be between 1 and {}", Self::MAX_ATTEMPTS));
        }
        if self.initial_delay_ms == 0 || self.initial_delay_ms > Self::MAX_DELAY_MS {
            push("/initial_delay_ms", format!("must be between 1 and {} ms", Self::MAX_DELAY_MS));
        }
        if !(self.multiplier.is_finite() && (1.0..=10.0).contains(&self.multiplier)) {
            push("/multiplier", "must be between 1 and 10".into());
        }
        if self.max_delay_ms == 0 || self.max_delay_ms < self.initial_delay_ms || self.max_delay_ms > Self::MAX_DELAY_MS
        {
            push("/max_delay_ms", format!("must be between the initial delay and {} ms", Self::MAX_DELAY_MS));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }

    /// The delay before an attempt (2 for the first retry) without jitter:
    /// `initial * multiplier^(attempt-2)`, at most `max_delay`.
    pub fn base_delay_ms(&self, attempt: u32) -> u64 {
        let exponent = attempt.saturating_sub(2).min(1000) as i32;
        let raw = self.initial_delay_ms as f64 * self.multiplier.powi(exponent);
        if raw.is_finite() { (raw as u64).min(self.max_delay_ms) } else { self.max_delay_ms }
    }

    /// The wait before `attempt` (2 for the first retry), or `None` when the
    /// attempts are used up. With full jitter the wait is drawn from `seed`
    /// and the attempt, so the same job always waits the same.
    pub fn delay_before(&self, attempt: u32, seed: u64) -> Option<u64> {
        if attempt < 2 || attempt > self.max_attempts {
            return None;
        }
        let base = self.base_delay_ms(attempt);
        Some(match self.jitter {
            Jitter::None => base,
            Jitter::Full => splitmix64(seed ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15)) % (base + 1),
        })
    }
}

/// A small, well-mixed deterministic generator step (SplitMix64).
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The target did not answer in time.
    Timeout,
    /// The connection could not be made or broke.
    ConnectionError,
    /// The target answered with this status; `retry_after_ms` from its
    /// `Retry-After` header, when it sent one.
    Http { status: u16, retry_after_ms: Option<u64> },
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Delivered,
    /// Try again, after at least `min_delay_ms` when the target asked for it.
    Retry {
        min_delay_ms: Option<u64>,
    },
    /// Do not try again: the target refused the message.
    Final,
}

impl DeliveryOutcome {
    /// Timeouts, connection errors, 408, 429 and 5xx are worth retrying; a 2xx
    /// is delivered; any other status is final.
    pub fn verdict(self) -> Verdict {
        match self {
            DeliveryOutcome::Timeout | DeliveryOutcome::ConnectionError => Verdict::Retry { min_delay_ms: None },
            DeliveryOutcome::Http { status: 200..=299, .. } => Verdict::Delivered,
            DeliveryOutcome::Http { status: 408, .. } => Verdict::Retry { min_delay_ms: None },
            DeliveryOutcome::Http { status: 429 | 503, retry_after_ms } => {
                Verdict::Retry { min_delay_ms: retry_after_ms }
            }
            DeliveryOutcome::Http { status: 500..=599, .. } => Verdict::Retry { min_delay_ms: None },
            DeliveryOutcome::Http { .. } => Verdict::Final,
        }
    }
}

/// Reads a `Retry-After` header: seconds, or an HTTP date; at most
/// [`RetrySchedule::MAX_DELAY_MS`], whatever the target asks. `None` when it
/// says neither.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<u64> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => seconds.saturating_mul(1000),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
            u64::try_from(at.signed_duration_since(now).num_milliseconds()).unwrap_or(0)
        }
    };
    Some(wait.min(RetrySchedule::MAX_DELAY_MS))
}

/// The wait before the next attempt: the schedule's, or longer when the target
/// asked for it; never longer than [`RetrySchedule::MAX_DELAY_MS`].
pub fn next_wait_ms(planned_ms: u64, asked_ms: Option<u64>) -> u64 {
    planned_ms.max(asked_ms.unwrap_or(0)).min(RetrySchedule::MAX_DELAY_MS)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn schedule(jitter: Jitter) -> RetrySchedule {
        RetrySchedule { max_attempts: 6, initial_delay_ms: 1000, multiplier: 2.0, max_delay_ms: 10_000, jitter }
    }

    #[test]
    fn a_target_cannot_ask_for_more_than_a_day() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        assert_eq!(parse_retry_after("99999999999999", now), Some(RetrySchedule::MAX_DELAY_MS));
        assert_eq!(parse_retry_after("18446744073709551615", now), Some(RetrySchedule::MAX_DELAY_MS));
        assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), Some(RetrySchedule::MAX_DELAY_MS));
        assert_eq!(parse_retry_after("Mon, 01 Jan 2001 00:00:00 GMT", now), Some(0), "a date past is now");
        assert_eq!(parse_retry_after("120", now), Some(120_000));
        assert_eq!(next_wait_ms(1000, Some(u64::MAX)), RetrySchedule::MAX_DELAY_MS);
        assert_eq!(next_wait_ms(1000, None), 1000);
    }

    #[test]
    fn delays_grow_exponentially_up_to_the_cap() {
        let s = schedule(Jitter::None);
        let delays: Vec<Option<u64>> = (1..=7).map(|a| s.delay_before(a, 0)).collect();
        assert_eq!(delays, vec![None, Some(1000), Some(2000), Some(4000), Some(8000), Some(10_000), None]);
    }

    #[test]
    fn full_jitter_is_deterministic_for_a_seed() {
        let s = schedule(Jitter::Full);
        let a: Vec<_> = (2..=6).map(|n| s.delay_before(n, 42)).collect();
        let b: Vec<_> = (2..=6).map(|n| s.delay_before(n, 42)).collect();
        let c: Vec<_> = (2..=6).map(|n| s.delay_before(n, 43)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn outcomes_are_classified() {
        let http = |status| DeliveryOutcome::Http { status, retry_after_ms: None };
        assert_eq!(DeliveryOutcome::Timeout.verdict(), Verdict::Retry { min_delay_ms: None });
        assert_eq!(DeliveryOutcome::ConnectionError.verdict(), Verdict::Retry { min_delay_ms: None });
        assert_eq!(http(204).verdict(), Verdict::Delivered);
        assert_eq!(http(408).verdict(), Verdict::Retry { min_delay_ms: None });
        assert_eq!(http(502).verdict(), Verdict::Retry { min_delay_ms: None });
        assert_eq!(http(400).verdict(), Verdict::Final);
        assert_eq!(http(404).verdict(), Verdict::Final);
        assert_eq!(
            DeliveryOutcome::Http { status: 429, retry_after_ms: Some(30_000) }.verdict(),
            Verdict::Retry { min_delay_ms: Some(30_000) }
        );
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        assert_eq!(parse_retry_after("120", now), Some(120_000));
        assert_eq!(parse_retry_after("Fri, 27 Nov 2026 12:01:30 GMT", now), Some(90_000));
        assert_eq!(parse_retry_after("Fri, 27 Nov 2026 11:00:00 GMT", now), Some(0));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn schedules_out_of_bounds_are_refused() {
        let bad = RetrySchedule {
            max_attempts: 0,
            initial_delay_ms: 0,
            multiplier: 0.5,
            max_delay_ms: 0,
            jitter: Jitter::None,
        };
        let pointers: Vec<String> = bad.validate().unwrap_err().into_iter().map(|p| p.pointer).collect();
        assert_eq!(pointers, vec!["/max_attempts", "/initial_delay_ms", "/multiplier", "/max_delay_ms"]);
        assert!(schedule(Jitter::Full).validate().is_ok());
    }

    proptest! {
        #[test]
        fn retry_delays_stay_within_their_bounds(
            max_attempts in 1u32..30,
            initial in 1u64..60_000,
            multiplier in 1.0f64..10.0,
            extra in 0u64..3_600_000,
            full in any::<bool>(),
            seed in any::<u64>(),
            attempt in 0u32..40,
        ) {
            let s = RetrySchedule {
                max_attempts,
                initial_delay_ms: initial,
                multiplier,
                max_delay_ms: initial + extra,
                jitter: if full { Jitter::Full } else { Jitter::None },
            };
            prop_assert!(s.validate().is_ok());
            match s.delay_before(attempt, seed) {
                None => prop_assert!(attempt < 2 || attempt > max_attempts),
                Some(d) => {
                    prop_assert!((2..=max_attempts).contains(&attempt));
                    prop_assert!(d <= s.max_delay_ms);
                    prop_assert!(d <= s.base_delay_ms(attempt));
                    if !full {
                        prop_assert!(d >= initial.min(s.max_delay_ms));
                    }
                }
            }
            // Without jitter the waits never shrink.
            if !full && attempt >= 2 && attempt < max_attempts {
                prop_assert!(s.delay_before(attempt + 1, seed) >= s.delay_before(attempt, seed));
            }
        }
    }
}
