//! Standard Webhooks signatures: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, several
//! separated by spaces while a secret is rotated).
//!
//! The signature covers the body only, so in binary mode the `ce-*` headers
//! are not signed. A captured request could be sent again within the
//! tolerance with other headers; to refuse that, every `webhook-id` is
//! remembered for the tolerance with a digest of what it carried (headers
//! and body), and a reuse for anything else is refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use crossdock::wire::webhook;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::{Digest, Sha256};

pub use crossdock::wire::webhook::{HeaderError, MAX_CANDIDATES, TOLERANCE_SECONDS};

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {0} header is required: this source signs its requests")]
    Missing(&'static str),
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("no signature matches the body")]
    Mismatch,
    #[error("this webhook-id was used for another request within the last 11 minutes")]
    Reused,
    /// The source is over its allowance (429), checked before verifying.
    #[error("too many requests")]
    Throttled(StdDuration),
}

/// The signature headers of a request, and what it carries.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signatures: Option<&'a str>,
    pub body: &'a [u8],
    /// [`digest`] of the request.
    pub carried: [u8; 32],
}

/// A secret as Standard Webhooks writes it: `whsec_` and base64 bytes.
pub fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok().filter(|k| !k.is_empty())
}

/// The signature header value for a body, as a sender computes it.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v1,{}", STANDARD.encode(mac(secret, id, timestamp, body).finalize().into_bytes()))
}

fn mac(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks the headers of a request against the source's secrets.
pub fn verify(
    secrets: &[SecretSlice<u8>],
    id: Option<&str>,
    timestamp: Option<&str>,
    signatures: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let id = id.ok_or(SignatureError::Missing("webhook-id"))?;
    let timestamp = timestamp.ok_or(SignatureError::Missing("webhook-timestamp"))?;
    let signatures = signatures.ok_or(SignatureError::Missing("webhook-signature"))?;
    let ts = webhook::timestamp(timestamp, now.timestamp())?;
    for given in webhook::candidates(signatures)? {
        for secret in secrets {
            // Constant-time comparison.
            if mac(secret.expose_secret(), id, ts, body).verify_slice(&given).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

/// The `webhook-id`s seen within the tolerance, per source, with a digest
/// of the request each carried.
#[derive(Debug, Default)]
pub struct WebhookIds {
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    by_id: HashMap<(i64, String), ([u8; 32], Instant)>,
    /// In the order they were first seen, for forgetting.
    order: VecDeque<(Instant, (i64, String))>,
}

impl WebhookIds {
    /// How long an id is remembered: the tolerance, both ways, and a minute.
    const KEEP: StdDuration = StdDuration::from_secs(2 * TOLERANCE_SECONDS.unsigned_abs() + 60);

    /// Remembers `id` for `digest`; refuses it when it was seen for another.
    pub fn admit(&self, source: i64, id: &str, digest: [u8; 32], now: Instant) -> Result<(), SignatureError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((at, _)) = seen.order.front() {
            if now.saturating_duration_since(*at) < Self::KEEP {
                break;
            }
            if let Some((_, key)) = seen.order.pop_front() {
                seen.by_id.remove(&key);
            }
        }
        let key = (source, id.to_owned());
        match seen.by_id.get(&key) {
            Some((known, _)) if *known == digest => Ok(()),
            Some(_) => Err(SignatureError::Reused),
            None => {
                seen.by_id.insert(key.clone(), (digest, now));
                seen.order.push_back((now, key));
                Ok(())
            }
        }
    }
}

/// A digest of what a request carries: its `ce-*` headers, content type and
/// dry-run header, then its body. A webhook id seen with one digest is
/// refused with another, so a signed dry run cannot be sent again as a
/// send.
pub fn digest<'a>(headers: impl Iterator<Item = (&'a str, &'a [u8])>, body: &[u8]) -> [u8; 32] {
    let mut carried: Vec<(&str, &[u8])> = headers
        .filter(|(name, _)| name.starts_with("ce-") || *name == "content-type" || *name == "crossdock-dry-run")
        .collect();
    carried.sort();
    let mut hash = Sha256::new();
    for (name, value) in carried {
        hash.update(name.as_bytes());
        hash.update(b":");
        hash.update(value);
        hash.update(b"\n");
    }
    hash.update(body);
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_timestamp_is_stale_not_a_panic() {
        let secrets = [SecretSlice::from(vec![1u8; 16])];
        let now = Utc::now();
        for ts in [i64::MIN.to_string(), i64::MAX.to_string()] {
            let answer = verify(&secrets, Some("m"), Some(&ts), Some("v1,AAAA"), b"{}", now);
            assert_eq!(answer, Err(SignatureError::Header(HeaderError::Stale)), "{ts}");
        }
    }

    #[test]
    fn at_most_eight_signatures_are_tried() {
        let secret = vec![7u8; 16];
        let now = Utc::now();
        let good = sign(&secret, "m", now.timestamp(), b"{}");
        let ts = now.timestamp().to_string();
        let secrets = [SecretSlice::from(secret)];
        let many = format!("{} {good}", vec!["v1,AAAA"; 9_999].join(" "));
        assert_eq!(
            verify(&secrets, Some("m"), Some(&ts), Some(&many), b"{}", now),
            Err(SignatureError::Header(HeaderError::TooManyCandidates))
        );
        let rotating = format!("{} {good}", ["v1,AAAA"; 7].join(" "));
        assert_eq!(verify(&secrets, Some("m"), Some(&ts), Some(&rotating), b"{}", now), Ok(()));
    }

    #[test]
    fn a_webhook_id_is_good_for_one_request_only() {
        let ids = WebhookIds::default();
        let now = Instant::now();
        let a = digest([("ce-id", b"a".as_slice())].into_iter(), b"{}");
        let b = digest([("ce-id", b"b".as_slice())].into_iter(), b"{}");
        assert_ne!(a, b);
        assert_eq!(ids.admit(1, "msg_1", a, now), Ok(()));
        assert_eq!(ids.admit(1, "msg_1", a, now), Ok(()), "the same request again is a retry");
        assert_eq!(ids.admit(1, "msg_1", b, now), Err(SignatureError::Reused));
        assert_eq!(ids.admit(2, "msg_1", b, now), Ok(()), "another source's ids are its own");
        let later = now + WebhookIds::KEEP;
        assert_eq!(ids.admit(1, "msg_1", b, later), Ok(()), "forgotten after the tolerance");
    }

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let secret = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let now = Utc::now();
        let sig = sign(&secret, "msg_1", now.timestamp(), b"{}");
        let secrets = [SecretSlice::from(secret)];
        let ts = now.timestamp().to_string();
        assert_eq!(verify(&secrets, Some("msg_1"), Some(&ts), Some(&sig), b"{}", now), Ok(()));
        assert_eq!(verify(&secrets, Some("msg_1"), Some(&ts), Some(&sig), b"{ }", now), Err(SignatureError::Mismatch));
    }
}
