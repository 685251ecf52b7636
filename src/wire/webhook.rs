//! Standard Webhooks headers: `webhook-timestamp` (seconds since the epoch,
//! within a tolerance of now) and `webhook-signature` (`v1,<base64>`, several
//! separated by spaces while a secret is rotated). Only reading them lives
//! here; computing and comparing signatures is the server's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// How far a signature's timestamp may be from now.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;
/// The most signatures one request may carry (a sender rotating secrets
/// sends two or three).
pub const MAX_CANDIDATES: usize = 8;

/// Why signature headers were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the webhook-timestamp header must be seconds since the epoch")]
    BadTimestamp,
    #[error("the webhook-timestamp is more than 5 minutes from the server's time")]
    Stale,
    #[error("the webhook-signature header carries more than 8 signatures")]
    TooManyCandidates,
}

/// The timestamp, when it is within the tolerance of `now` (seconds).
pub fn timestamp(value: &str, now: i64) -> Result<i64, HeaderError> {
    let ts: i64 = value.trim().parse().map_err(|_| HeaderError::BadTimestamp)?;
    let skew = now.checked_sub(ts).map(i64::unsigned_abs);
    if skew.is_none_or(|s| s > TOLERANCE_SECONDS.unsigned_abs()) {
        return Err(HeaderError::Stale);
    }
    Ok(ts)
}

/// The `v1` signatures of the header, decoded; other versions and entries
/// that do not decode are skipped.
pub fn candidates(value: &str) -> Result<Vec<Vec<u8>>, HeaderError> {
    if value.split_whitespace().nth(MAX_CANDIDATES).is_some() {
        return Err(HeaderError::TooManyCandidates);
    }
    Ok(value
        .split_whitespace()
        .filter_map(|c| match c.split_once(',') {
            Some(("v1", encoded)) => STANDARD.decode(encoded).ok(),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_timestamp_is_stale_not_a_panic() {
        assert_eq!(timestamp("-9223372036854775808", 1_800_000_000), Err(HeaderError::Stale));
        assert_eq!(timestamp("9223372036854775807", 1_800_000_000), Err(HeaderError::Stale));
        assert_eq!(timestamp("1799999900", 1_800_000_000), Ok(1_799_999_900));
        assert_eq!(timestamp("soon", 1_800_000_000), Err(HeaderError::BadTimestamp));
    }

    #[test]
    fn at_most_eight_signatures_are_read() {
        assert_eq!(candidates(&["v1,AAAA"; 9].join(" ")), Err(HeaderError::TooManyCandidates));
        assert_eq!(candidates(&["v1,AAAA"; 8].join(" ")).unwrap().len(), 8);
        assert_eq!(candidates("v2,AAAA v1,!!! v1,AAAA").unwrap(), vec![vec![0, 0, 0]]);
    }
}
