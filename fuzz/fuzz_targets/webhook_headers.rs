//! Standard Webhooks headers: any `webhook-timestamp` against any clock, and
//! any `webhook-signature`.

#![no_main]

use arbitrary::Arbitrary;
use crossdock::wire::webhook::{self, MAX_CANDIDATES, TOLERANCE_SECONDS};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Headers<'a> {
    /// The server's clock, in seconds since the epoch.
    now: i64,
    /// `webhook-timestamp`.
    timestamp: &'a str,
    /// `webhook-signature`.
    signature: &'a str,
}

/// Reads the timestamp against `now`; an accepted one is within tolerance.
fn read_timestamp(value: &str, now: i64) {
    if let Ok(ts) = webhook::timestamp(value, now) {
        let skew = (i128::from(now) - i128::from(ts)).abs();
        assert!(skew <= i128::from(TOLERANCE_SECONDS), "{ts} accepted at {now}");
    }
}

fuzz_target!(|headers: Headers<'_>| {
    read_timestamp(headers.timestamp, headers.now);
    // The clock near the timestamp as well, so the accepted path is reached
    // as often as the refused one.
    if let Ok(ts) = headers.timestamp.trim().parse::<i64>() {
        let skew = headers.now.rem_euclid(2 * TOLERANCE_SECONDS + 1) - TOLERANCE_SECONDS;
        read_timestamp(headers.timestamp, ts.saturating_add(skew));
    }
    if let Ok(signatures) = webhook::candidates(headers.signature) {
        assert!(signatures.len() <= MAX_CANDIDATES);
    }
});
