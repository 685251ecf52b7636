//! Registered sources and their API keys.

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::secrets::Sealed;
use crossdock::source::{Prefixes, SubjectPattern};

use super::{Pool, Tx, from_millis, to_millis};

/// A source as stored.
#[derive(Debug, Clone)]
pub struct StoredSource {
    pub id: i64,
    pub name: String,
    pub prefixes: Prefixes,
    pub rate_per_sec: f64,
    pub burst: u32,
    /// Standard Webhooks secrets, sealed; none: the source does not sign.
    pub signing_secrets: Vec<SigningSecret>,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    /// The NATS subjects its messages are published on, if it sends that way.
    pub nats_subject: Option<SubjectPattern>,
}

#[derive(sqlx::FromRow)]
struct SourceRow {
    id: i64,
    name: String,
    prefixes: String,
    rate_per_sec: f64,
    burst: i64,
    signing_secrets: String,
    created_at: i64,
    disabled_at: Option<i64>,
    nats_subject: Option<String>,
}

const COLUMNS: &str =
    "s.id, s.name, s.prefixes, s.rate_per_sec, s.burst, s.signing_secrets, s.created_at, s.disabled_at, s.nats_subject";

impl SourceRow {
    fn into_source(self) -> anyhow::Result<StoredSource> {
        let secrets: Vec<StoredSecret> =
            serde_json::from_str(&self.signing_secrets).context("stored signing secrets are unreadable")?;
        Ok(StoredSource {
            id: self.id,
            name: self.name,
            prefixes: serde_json::from_str(&self.prefixes).context("stored source prefixes are unreadable")?,
            rate_per_sec: self.rate_per_sec,
            burst: u32::try_from(self.burst).unwrap_or(u32::MAX),
            signing_secrets: secrets.into_iter().map(StoredSecret::into_secret).collect::<anyhow::Result<_>>()?,
            created_at: from_millis(self.created_at)?,
            disabled: self.disabled_at.is_some(),
            nats_subject: self
                .nats_subject
                .as_deref()
                .map(SubjectPattern::parse)
                .transpose()
                .map_err(|rule| anyhow::anyhow!("stored NATS subject: {rule}"))?,
        })
    }
}

/// A signing secret as stored: sealed, and when it stops being accepted.
#[derive(Debug, Clone)]
pub struct SigningSecret {
    pub sealed: Sealed,
    pub added_at: Option<DateTime<Utc>>,
    /// After this, requests signed with it are refused (a rotation's grace).
    pub retires_at: Option<DateTime<Utc>>,
}

impl SigningSecret {
    pub fn in_force_at(&self, now: DateTime<Utc>) -> bool {
        self.retires_at.is_none_or(|t| now < t)
    }
}

/// The stored JSON of one signing secret: an object, or (before sealing
/// and rotation) the plain secret as a string.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum StoredSecret {
    Entry { secret: String, added_at: Option<i64>, retires_at: Option<i64> },
    Plain(String),
}

impl StoredSecret {
    fn into_secret(self) -> anyhow::Result<SigningSecret> {
        Ok(match self {
            StoredSecret::Plain(s) => {
                SigningSecret { sealed: Sealed::from_stored(s), added_at: None, retires_at: None }
            }
            StoredSecret::Entry { secret, added_at, retires_at } => SigningSecret {
                sealed: Sealed::from_stored(secret),
                added_at: added_at.map(from_millis).transpose()?,
                retires_at: retires_at.map(from_millis).transpose()?,
            },
        })
    }
}

/// A source found by one of its keys, with the key's validity.
#[derive(Debug, Clone)]
pub struct KeyMatch {
    pub source: StoredSource,
    pub key_expires_at: Option<i64>,
    pub key_revoked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    #[sqlx(flatten)]
    source: SourceRow,
    key_expires_at: Option<i64>,
    key_revoked_at: Option<i64>,
}

pub struct NewSource<'a> {
    pub name: &'a str,
    pub prefixes: &'a Prefixes,
    pub rate_per_sec: f64,
    pub burst: u32,
    pub nats_subject: Option<&'a SubjectPattern>,
    pub at: DateTime<Utc>,
}

/// Inserts a source; `None` when the name is taken.
pub async fn insert(tx: &mut Tx<'_>, new: &NewSource<'_>) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO sources (name, prefixes, rate_per_sec, burst, nats_subject, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .bind(new.name)
    .bind(serde_json::to_string(new.prefixes).context("Failed to encode prefixes")?)
    .bind(new.rate_per_sec)
    .bind(i64::from(new.burst))
    .bind(new.nats_subject.map(SubjectPattern::as_str))
    .bind(to_millis(new.at))
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to insert a source")
}

pub async fn by_name<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    name: &str,
) -> anyhow::Result<Option<StoredSource>> {
    let row: Option<SourceRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM sources s WHERE s.name = $1"))
        .bind(name)
        .fetch_optional(db)
        .await
        .context("Failed to read a source")?;
    row.map(SourceRow::into_source).transpose()
}

/// Every source, inside a transaction.
pub async fn all<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> anyhow::Result<Vec<StoredSource>> {
    let rows: Vec<SourceRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM sources s ORDER BY s.name"))
        .fetch_all(db)
        .await
        .context("Failed to list sources")?;
    rows.into_iter().map(SourceRow::into_source).collect()
}

pub async fn list(pool: &Pool) -> anyhow::Result<Vec<StoredSource>> {
    let rows: Vec<SourceRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM sources s ORDER BY s.name"))
        .fetch_all(pool)
        .await
        .context("Failed to list sources")?;
    rows.into_iter().map(SourceRow::into_source).collect()
}

pub async fn insert_key(
    tx: &mut Tx<'_>,
    source_id: i64,
    key_hash: &str,
    key_prefix: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO source_keys (source_id, key_hash, key_prefix, created_at) VALUES ($1, $2, $3, $4)")
        .bind(source_id)
        .bind(key_hash)
        .bind(key_prefix)
        .bind(to_millis(at))
        .execute(&mut **tx)
        .await
        .context("Failed to store an API key")?;
    Ok(())
}

/// Lets the source's current keys expire at `until` (rotation); returns how many.
pub async fn expire_keys(tx: &mut Tx<'_>, source_id: i64, until: DateTime<Utc>) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE source_keys SET expires_at = $1 \
         WHERE source_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)",
    )
    .bind(to_millis(until))
    .bind(source_id)
    .bind(to_millis(until))
    .execute(&mut **tx)
    .await
    .context("Failed to expire API keys")?;
    Ok(done.rows_affected())
}

/// Revokes every key of the source at once; returns how many.
pub async fn revoke_keys(tx: &mut Tx<'_>, source_id: i64, at: DateTime<Utc>) -> anyhow::Result<u64> {
    let done = sqlx::query("UPDATE source_keys SET revoked_at = $1 WHERE source_id = $2 AND revoked_at IS NULL")
        .bind(to_millis(at))
        .bind(source_id)
        .execute(&mut **tx)
        .await
        .context("Failed to revoke API keys")?;
    Ok(done.rows_affected())
}

pub async fn set_signing_secrets(tx: &mut Tx<'_>, source_id: i64, secrets: &[SigningSecret]) -> anyhow::Result<()> {
    let secrets: Vec<StoredSecret> = secrets
        .iter()
        .map(|s| StoredSecret::Entry {
            secret: s.sealed.as_stored().to_owned(),
            added_at: s.added_at.map(to_millis),
            retires_at: s.retires_at.map(to_millis),
        })
        .collect();
    sqlx::query("UPDATE sources SET signing_secrets = $1 WHERE id = $2")
        .bind(serde_json::to_string(&secrets).context("Failed to encode the signing secrets")?)
        .bind(source_id)
        .execute(&mut **tx)
        .await
        .context("Failed to store the signing secrets")?;
    Ok(())
}

/// The source holding a key with this hash, if any.
pub async fn by_key_hash(pool: &Pool, key_hash: &str) -> anyhow::Result<Option<KeyMatch>> {
    let row: Option<KeyRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, k.expires_at AS key_expires_at, k.revoked_at AS key_revoked_at \
         FROM source_keys k JOIN sources s ON s.id = k.source_id WHERE k.key_hash = $1"
    ))
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .context("Failed to look up an API key")?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(KeyMatch {
        source: row.source.into_source()?,
        key_expires_at: row.key_expires_at,
        key_revoked_at: row.key_revoked_at,
    }))
}

impl KeyMatch {
    /// True when the key may be used at `now`.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        let now = to_millis(now);
        let expired = self.key_expires_at.is_some_and(|t| t <= now);
        self.key_revoked_at.is_none() && !expired && !self.source.disabled
    }
}

pub async fn update_settings(
    tx: &mut Tx<'_>,
    id: i64,
    prefixes: &Prefixes,
    rate_per_sec: f64,
    burst: u32,
    nats_subject: Option<&SubjectPattern>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE sources SET prefixes = $1, rate_per_sec = $2, burst = $3, nats_subject = $4 WHERE id = $5")
        .bind(serde_json::to_string(prefixes).context("Failed to encode prefixes")?)
        .bind(rate_per_sec)
        .bind(i64::from(burst))
        .bind(nats_subject.map(SubjectPattern::as_str))
        .bind(id)
        .execute(&mut **tx)
        .await
        .context("Failed to update a source")?;
    Ok(())
}
