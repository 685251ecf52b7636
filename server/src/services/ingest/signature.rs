//! Standard Webhooks signatures: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, several
//! separated by spaces while a secret is rotated).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

/// How far a signature's timestamp may be from now.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {0} header is required: this source signs its requests")]
    Missing(&'static str),
    #[error("the webhook-timestamp header must be seconds since the epoch")]
    BadTimestamp,
    #[error("the webhook-timestamp is more than 5 minutes from the server's time")]
    Stale,
    #[error("no signature matches the body")]
    Mismatch,
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
    let ts: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    if (now.timestamp() - ts).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    for candidate in signatures.split_whitespace() {
        let Some(("v1", encoded)) = candidate.split_once(',') else {
            continue;
        };
        let Ok(given) = STANDARD.decode(encoded) else {
            continue;
        };
        for secret in secrets {
            // Constant-time comparison.
            if mac(secret.expose_secret(), id, ts, body).verify_slice(&given).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

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
