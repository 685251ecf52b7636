//! Sources: registration, API keys (random, shown once, stored as hashes,
//! rotated with a grace period, revoked) and signing secrets.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};

use crossdock::audit::{Actor, AuditAction, AuditEntry, Entity};
use crossdock::source::{Prefixes, SourceName, SubjectPattern};
use secrecy::SecretString;

use super::ingest::source::key_hash;
use super::{ServiceError, Services};
use crate::auth::Configurer;
use crate::secrets::{Purpose, Sealer};
use crate::store::sources::{NewSource, SigningSecret, StoredSource};
use crate::store::{self};

/// What becomes of a source's signing secrets when a new one is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviousSecrets {
    /// They stay in force (several senders, each with its own).
    Keep,
    /// They are refused after this grace (zero: at once).
    RetireAfter(Duration),
}

/// Settings of a new source.
#[derive(Debug, Clone)]
pub struct SourceSettings {
    pub name: String,
    /// The `source` values its events may carry.
    pub prefixes: Prefixes,
    pub rate_per_sec: f64,
    pub burst: u32,
    /// The NATS subjects its messages are published on, if it sends that way.
    pub nats_subject: Option<SubjectPattern>,
}

/// A key as issued: shown once, never stored.
#[derive(Debug, Clone)]
pub struct NewSourceKey {
    pub source: String,
    pub key: SecretString,
}

/// A source as admins see it.
#[derive(Debug, Clone)]
pub struct SourceSummary {
    pub name: String,
    pub prefixes: Prefixes,
    pub rate_per_sec: f64,
    pub burst: u32,
    pub signed: bool,
    pub created_at: DateTime<Utc>,
    pub nats_subject: Option<SubjectPattern>,
    /// Its messages from NATS that were set aside.
    pub dead_letters: i64,
}

pub(super) fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the system random source failed: {e}"))?;
    Ok(bytes)
}

/// A new API key: `cdx_` and 192 random bits.
fn new_key() -> anyhow::Result<String> {
    Ok(format!("cdx_{}", URL_SAFE_NO_PAD.encode(random_bytes::<24>()?)))
}

fn key_prefix(key: &str) -> String {
    key.chars().take(12).collect()
}

fn validate(settings: &SourceSettings) -> Result<(), ServiceError> {
    SourceName::parse(&settings.name).map_err(|rule| ServiceError::invalid("name", rule))?;
    if settings.name == super::SYSTEM_SOURCE {
        return Err(ServiceError::invalid("name", "`crossdock` is Crossdock's own source"));
    }
    if !(settings.rate_per_sec.is_finite() && (0.1..=1_000_000.0).contains(&settings.rate_per_sec)) {
        return Err(ServiceError::invalid("rate_per_sec", "the rate is between 0.1 and 1,000,000 events a second"));
    }
    if !(1..=1_000_000).contains(&settings.burst) {
        return Err(ServiceError::invalid("burst", "the burst is between 1 and 1,000,000 events"));
    }
    Ok(())
}

/// Refuses prefixes or a NATS subject that overlap another source's: every
/// `source` value and every subject has one owner.
async fn check_overlap(tx: &mut store::Tx<'_>, settings: &SourceSettings) -> Result<(), ServiceError> {
    for other in store::sources::all(&mut **tx).await? {
        if other.name == settings.name {
            continue;
        }
        if let (Some(ours), Some(theirs)) = (&settings.nats_subject, &other.nats_subject)
            && ours.overlaps(theirs)
        {
            return Err(ServiceError::invalid(
                "nats_subject",
                format!("`{ours}` overlaps `{theirs}` of source {}: no two sources share a subject", other.name),
            ));
        }
        if let Some((ours, theirs)) = settings.prefixes.overlap_with(&other.prefixes) {
            return Err(ServiceError::invalid(
                "prefixes",
                format!("`{ours}` overlaps `{theirs}` of source {}: no two sources share `source` values", other.name),
            ));
        }
    }
    Ok(())
}

fn audit(actor: Actor, action: AuditAction, source: &str, after: serde_json::Value, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry::new(at, actor, action, Entity::Source, source).after(after)
}

impl Services {
    /// Registers a source and issues its first key.
    #[tracing::instrument(skip_all, fields(source = %settings.name))]
    pub async fn create_source(
        &self,
        by: &impl Configurer,
        settings: &SourceSettings,
    ) -> Result<NewSourceKey, ServiceError> {
        validate(settings)?;
        let now = Utc::now();
        let key = new_key()?;
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        check_overlap(&mut tx, settings).await?;
        let new = NewSource {
            name: &settings.name,
            prefixes: &settings.prefixes,
            rate_per_sec: settings.rate_per_sec,
            burst: settings.burst,
            nats_subject: settings.nats_subject.as_ref(),
            at: now,
        };
        let id = store::sources::insert(&mut tx, &new).await?.ok_or_else(|| {
            ServiceError::invalid("name", format!("a source named `{}` exists already", settings.name))
        })?;
        store::sources::insert_key(&mut tx, id, &key_hash(&key), &key_prefix(&key), now).await?;
        let after = serde_json::json!({
            "prefixes": settings.prefixes, "rate_per_sec": settings.rate_per_sec, "burst": settings.burst,
            "nats_subject": settings.nats_subject, "key": key_prefix(&key),
        });
        store::audit::append(&mut tx, &[audit(by.actor(), AuditAction::SourceCreated, &settings.name, after, now)])
            .await?;
        tx.commit().await.context("Failed to commit the source")?;
        self.subject_cache.clear();
        Ok(NewSourceKey { source: settings.name.clone(), key: SecretString::from(key) })
    }

    async fn source_named(&self, tx: &mut store::Tx<'_>, name: &str) -> Result<StoredSource, ServiceError> {
        // Crossdock's own source takes no keys, secrets or changes.
        if name == super::SYSTEM_SOURCE {
            return Err(ServiceError::NotFound(format!("source `{name}`")));
        }
        store::sources::by_name(&mut **tx, name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("source `{name}`")))
    }

    /// Issues a new key; the current keys stay valid for `grace`.
    #[tracing::instrument(skip_all, fields(source = name))]
    pub async fn rotate_source_key(
        &self,
        by: &impl Configurer,
        name: &str,
        grace: Duration,
    ) -> Result<NewSourceKey, ServiceError> {
        if grace < Duration::zero() || grace > Duration::days(30) {
            return Err(ServiceError::invalid("grace", "the grace period is between 0 and 30 days"));
        }
        let now = Utc::now();
        let key = new_key()?;
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let source = self.source_named(&mut tx, name).await?;
        let expired = store::sources::expire_keys(&mut tx, source.id, now + grace).await?;
        store::sources::insert_key(&mut tx, source.id, &key_hash(&key), &key_prefix(&key), now).await?;
        let after = serde_json::json!({"key": key_prefix(&key), "previous_keys_valid_until": (now + grace).to_rfc3339(), "previous_keys": expired});
        store::audit::append(&mut tx, &[audit(by.actor(), AuditAction::SourceKeyRotated, name, after, now)]).await?;
        tx.commit().await.context("Failed to commit the rotation")?;
        self.source_cache.clear();
        Ok(NewSourceKey { source: name.to_owned(), key: SecretString::from(key) })
    }

    /// Revokes every key of a source at once.
    #[tracing::instrument(skip_all, fields(source = name))]
    pub async fn revoke_source_keys(&self, by: &impl Configurer, name: &str) -> Result<u64, ServiceError> {
        let now = Utc::now();
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let source = self.source_named(&mut tx, name).await?;
        let revoked = store::sources::revoke_keys(&mut tx, source.id, now).await?;
        let after = serde_json::json!({"keys": revoked});
        store::audit::append(&mut tx, &[audit(by.actor(), AuditAction::SourceKeysRevoked, name, after, now)]).await?;
        tx.commit().await.context("Failed to commit the revocation")?;
        self.source_cache.clear();
        Ok(revoked)
    }

    /// Adds a new signing secret and returns it; it is not shown again. The
    /// previous ones are kept, retired after a grace period (like an API
    /// key), or dropped at once.
    #[tracing::instrument(skip_all, fields(source = name))]
    pub async fn add_signing_secret(
        &self,
        by: &impl Configurer,
        name: &str,
        previous: PreviousSecrets,
    ) -> Result<SecretString, ServiceError> {
        let now = Utc::now();
        let retire_at = match previous {
            PreviousSecrets::Keep => None,
            PreviousSecrets::RetireAfter(grace) if grace < Duration::zero() || grace > Duration::days(30) => {
                return Err(ServiceError::invalid("grace", "the grace period is between 0 and 30 days"));
            }
            PreviousSecrets::RetireAfter(grace) => Some(now + grace),
        };
        let secret = SecretString::from(format!("whsec_{}", STANDARD.encode(random_bytes::<32>()?)));
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let source = self.source_named(&mut tx, name).await?;
        let mut secrets: Vec<SigningSecret> = source
            .signing_secrets
            .into_iter()
            .filter(|s| s.in_force_at(now))
            .map(|mut s| {
                s.retires_at = match (s.retires_at, retire_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                s
            })
            .filter(|s| s.in_force_at(now))
            .collect();
        let sealed = self.sealer.seal(Purpose::SigningSecret, &secret)?;
        secrets.push(SigningSecret { sealed, added_at: Some(now), retires_at: None });
        store::sources::set_signing_secrets(&mut tx, source.id, &secrets).await?;
        let after = serde_json::json!({
            "signing_secrets": secrets.len(),
            "previous_valid_until": retire_at.map(|t| t.to_rfc3339()),
        });
        store::audit::append(&mut tx, &[audit(by.actor(), AuditAction::SourceSecretAdded, name, after, now)]).await?;
        tx.commit().await.context("Failed to commit the secret")?;
        self.source_cache.clear();
        Ok(secret)
    }

    pub async fn list_sources(&self, _by: &impl Configurer) -> Result<Vec<SourceSummary>, ServiceError> {
        let sources = store::sources::list(&self.pool).await?;
        let set_aside = store::dead_letters::counts(&self.pool).await?;
        let set_aside = |id: i64| set_aside.iter().find(|(s, _)| *s == Some(id)).map_or(0, |c| c.1);
        Ok(sources
            .into_iter()
            .filter(|s| s.name != super::SYSTEM_SOURCE)
            .map(|s| SourceSummary {
                dead_letters: set_aside(s.id),
                signed: !s.signing_secrets.is_empty(),
                created_at: s.created_at,
                name: s.name,
                prefixes: s.prefixes,
                rate_per_sec: s.rate_per_sec,
                burst: s.burst,
                nats_subject: s.nats_subject,
            })
            .collect())
    }
}

impl Services {
    /// Changes a source's prefixes and allowance.
    #[tracing::instrument(skip_all, fields(source = %settings.name))]
    pub async fn update_source(&self, by: &impl Configurer, settings: &SourceSettings) -> Result<(), ServiceError> {
        validate(settings)?;
        let now = Utc::now();
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let source = self.source_named(&mut tx, &settings.name).await?;
        check_overlap(&mut tx, settings).await?;
        store::sources::update_settings(
            &mut tx,
            source.id,
            &settings.prefixes,
            settings.rate_per_sec,
            settings.burst,
            settings.nats_subject.as_ref(),
        )
        .await?;
        let after = serde_json::json!({"prefixes": settings.prefixes, "rate_per_sec": settings.rate_per_sec,
            "burst": settings.burst, "nats_subject": settings.nats_subject});
        let entry = audit(by.actor(), AuditAction::SourceUpdated, &settings.name, after, now)
            .before(serde_json::json!({"prefixes": source.prefixes, "rate_per_sec": source.rate_per_sec,
                "burst": source.burst, "nats_subject": source.nats_subject}));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit the source")?;
        self.source_cache.clear();
        self.subject_cache.clear();
        self.throttle.reset(source.id);
        Ok(())
    }
}

/// Seals the secrets stored plain before sealing existed (once, at start).
pub(super) async fn seal_plain_secrets(pool: &store::Pool, sealer: &Sealer) -> anyhow::Result<()> {
    let mut tx = store::begin(pool).await.context("Failed to begin a transaction")?;
    let sources = store::sources::all(&mut *tx).await?;
    let connectors = store::connectors::secrets(&mut tx).await?;
    let channels = store::channels::channels(&mut *tx).await?;
    let signing = sources.iter().flat_map(|s| &s.signing_secrets).map(|s| (Purpose::SigningSecret, &s.sealed));
    let channel_secrets = channels.iter().filter_map(|c| c.secret.as_ref()).map(|s| (Purpose::ChannelSecret, s));
    sealer.check_against(
        signing.chain(connectors.iter().map(|(_, s)| (Purpose::ConnectorSecret, s))).chain(channel_secrets),
    )?;
    let mut sealed = 0;
    for source in sources {
        if !source.signing_secrets.iter().any(|s| s.sealed.is_plain()) {
            continue;
        }
        let mut secrets = Vec::with_capacity(source.signing_secrets.len());
        for mut s in source.signing_secrets {
            if s.sealed.is_plain() {
                let plain = sealer.open(Purpose::SigningSecret, &s.sealed)?;
                s.sealed = sealer.seal(Purpose::SigningSecret, &plain)?;
                sealed += 1;
            }
            secrets.push(s);
        }
        store::sources::set_signing_secrets(&mut tx, source.id, &secrets).await?;
    }
    for (id, plain) in connectors.into_iter().filter(|(_, s)| s.is_plain()) {
        let secret = sealer.open(Purpose::ConnectorSecret, &plain)?;
        store::connectors::set_secret(&mut tx, id, &sealer.seal(Purpose::ConnectorSecret, &secret)?).await?;
        sealed += 1;
    }
    tx.commit().await.context("Failed to commit the sealed secrets")?;
    if sealed > 0 {
        tracing::info!(secrets = sealed, "sealed the secrets stored before sealing existed");
    }
    Ok(())
}
