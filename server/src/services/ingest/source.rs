//! Authenticating the source of an ingest request: its API key, looked up by
//! hash and remembered for a few seconds, and its signing secrets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::Utc;
use crossdock::source::SourceName;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::{Digest, Sha256};

use super::signature;
use crate::secrets::Purpose;
use crate::services::Services;
use crate::store;

/// How long an authenticated key is remembered before it is looked up again;
/// a revocation made on another server instance takes effect within this.
const CACHE_TTL: StdDuration = StdDuration::from_secs(5);

/// The source an ingest request was authenticated as.
#[derive(Debug)]
pub struct AuthenticatedSource {
    pub id: i64,
    pub name: SourceName,
    pub prefixes: crossdock::source::Prefixes,
    pub rate_per_sec: f64,
    pub burst: u32,
    /// Whether the source signs its requests (it has signing secrets, even
    /// if all of them are retired).
    pub signs: bool,
    /// Its signing secrets in force, opened and decoded.
    pub secrets: Vec<SecretSlice<u8>>,
}

/// Why an ingest request was not authenticated. A refused key is not told
/// apart: unknown, expired and revoked read the same.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("an API key is required: Authorization: Bearer <key>")]
    Missing,
    #[error("the API key is unknown, expired or revoked")]
    Refused,
    /// The lookup failed (500); logged, never shown.
    #[error(transparent)]
    Internal(anyhow::Error),
}

#[derive(Default)]
pub(in crate::services) struct SourceCache {
    entries: Mutex<HashMap<String, (Instant, Arc<AuthenticatedSource>)>>,
}

impl SourceCache {
    fn get(&self, hash: &str) -> Option<Arc<AuthenticatedSource>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(hash).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, s)| s.clone())
    }

    fn put(&self, hash: String, source: Arc<AuthenticatedSource>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
        }
        entries.insert(hash, (Instant::now(), source));
    }

    pub(in crate::services) fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// The hash an API key is stored and looked up as.
pub(in crate::services) fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Services {
    /// The source whose key is in an `Authorization` header value.
    pub async fn authenticate_source(
        &self,
        authorization: Option<&str>,
    ) -> Result<Arc<AuthenticatedSource>, AuthError> {
        let key = authorization
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(AuthError::Missing)?;
        let hash = key_hash(key);
        if let Some(source) = self.source_cache.get(&hash) {
            return Ok(source);
        }
        let found = store::sources::by_key_hash(&self.pool, &hash).await.map_err(AuthError::Internal)?;
        let Some(found) = found.filter(|m| m.is_valid_at(Utc::now())) else {
            return Err(AuthError::Refused);
        };
        // A stored secret that does not open or decode must not make the
        // source unsigned: the request fails instead.
        let now = Utc::now();
        let secrets = found
            .source
            .signing_secrets
            .iter()
            .filter(|s| s.in_force_at(now))
            .map(|s| {
                let opened = self.sealer.open(Purpose::SigningSecret, &s.sealed).map_err(anyhow::Error::from)?;
                let decoded = signature::decode_secret(opened.expose_secret())
                    .ok_or_else(|| anyhow::anyhow!("a stored signing secret does not decode"))?;
                Ok(SecretSlice::from(decoded))
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(AuthError::Internal)?;
        let source = Arc::new(AuthenticatedSource {
            signs: !found.source.signing_secrets.is_empty(),
            secrets,
            id: found.source.id,
            name: SourceName::parse(&found.source.name)
                .map_err(|rule| AuthError::Internal(anyhow::anyhow!("stored source name: {rule}")))?,
            prefixes: found.source.prefixes,
            rate_per_sec: found.source.rate_per_sec,
            burst: found.source.burst,
        });
        self.source_cache.put(hash, source.clone());
        Ok(source)
    }
}
