//! Authenticating the source of an ingest request: its API key, looked up by
//! hash and remembered for a few seconds, and its signing secrets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::Utc;
use crossdock::source::{SourceName, SubjectPattern};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::{Digest, Sha256};

use super::signature;
use crate::secrets::Purpose;
use crate::services::Services;
use crate::store;
use crate::store::sources::StoredSource;

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
        let source = Arc::new(self.authenticated(found.source).map_err(AuthError::Internal)?);
        self.source_cache.put(hash, source.clone());
        Ok(source)
    }

    /// A stored source as ingest knows it, its signing secrets opened. A
    /// stored secret that does not open or decode must not make the source
    /// unsigned: the lookup fails instead.
    fn authenticated(&self, found: StoredSource) -> anyhow::Result<AuthenticatedSource> {
        let now = Utc::now();
        let secrets = found
            .signing_secrets
            .iter()
            .filter(|s| s.in_force_at(now))
            .map(|s| {
                let opened = self.sealer.open(Purpose::SigningSecret, &s.sealed)?;
                signature::decode_secret(opened.expose_secret())
                    .map(SecretSlice::from)
                    .ok_or_else(|| anyhow::anyhow!("a stored signing secret does not decode"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(AuthenticatedSource {
            signs: !found.signing_secrets.is_empty(),
            secrets,
            id: found.id,
            name: SourceName::parse(&found.name).map_err(|rule| anyhow::anyhow!("stored source name: {rule}"))?,
            prefixes: found.prefixes,
            rate_per_sec: found.rate_per_sec,
            burst: found.burst,
        })
    }

    /// The enabled source whose NATS subject pattern takes `subject`, if
    /// any. The sources are looked up again after [`SUBJECTS_TTL`], so a
    /// change made on another instance is in force within it; one caller
    /// reads them while the others wait for its answer.
    pub async fn source_for_subject(&self, subject: &str) -> anyhow::Result<Option<Arc<AuthenticatedSource>>> {
        let sources = match self.subject_cache.fresh() {
            Some(sources) => sources,
            None => {
                let _reading = self.subject_cache.reading.lock().await;
                match self.subject_cache.fresh() {
                    Some(sources) => sources,
                    None => self.subject_cache.put(self.broker_sources().await?),
                }
            }
        };
        Ok(sources.iter().find(|(pattern, _)| pattern.takes(subject)).map(|(_, source)| source.clone()))
    }

    /// The enabled sources that publish to NATS. The broker authenticates
    /// publishers, so their signing secrets are not opened; a source whose
    /// stored name no longer reads is left out (and logged) rather than
    /// stopping the others.
    async fn broker_sources(&self) -> anyhow::Result<Vec<(SubjectPattern, Arc<AuthenticatedSource>)>> {
        let mut sources = Vec::new();
        for found in store::sources::list(&self.pool).await? {
            let Some(pattern) = found.nats_subject.clone().filter(|_| !found.disabled) else { continue };
            let Ok(name) = SourceName::parse(&found.name) else {
                tracing::error!(source = found.name, "a stored source name does not read; its NATS subject is ignored");
                continue;
            };
            let source = AuthenticatedSource {
                id: found.id,
                name,
                prefixes: found.prefixes,
                rate_per_sec: found.rate_per_sec,
                burst: found.burst,
                signs: false,
                secrets: Vec::new(),
            };
            sources.push((pattern, Arc::new(source)));
        }
        Ok(sources)
    }
}

/// How long the sources' NATS subjects are remembered before they are
/// read again.
const SUBJECTS_TTL: StdDuration = StdDuration::from_secs(1);

type Subjects = Arc<Vec<(SubjectPattern, Arc<AuthenticatedSource>)>>;

/// The sources that take NATS subjects, as last read.
#[derive(Default)]
pub(in crate::services) struct SubjectCache {
    read: Mutex<Option<(Instant, Subjects)>>,
    /// Held by the one caller reading the sources again.
    reading: tokio::sync::Mutex<()>,
}

impl SubjectCache {
    fn fresh(&self) -> Option<Subjects> {
        let read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        read.as_ref().filter(|(at, _)| at.elapsed() < SUBJECTS_TTL).map(|(_, s)| s.clone())
    }

    fn put(&self, sources: Vec<(SubjectPattern, Arc<AuthenticatedSource>)>) -> Subjects {
        let sources = Arc::new(sources);
        *self.read.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), sources.clone()));
        sources
    }

    pub(in crate::services) fn clear(&self) {
        *self.read.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
