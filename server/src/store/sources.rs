//! Registered sources and their API keys.

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::{Pool, Tx, from_millis, to_millis};

/// A source as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SourceRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub rate_per_sec: f64,
    pub burst: i64,
    pub signing_secrets: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// A source found by one of its keys, with the key's validity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyMatch {
    #[sqlx(flatten)]
    pub source: SourceRow,
    pub key_expires_at: Option<i64>,
    pub key_revoked_at: Option<i64>,
}

pub struct NewSource<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub rate_per_sec: f64,
    pub burst: u32,
    pub at: DateTime<Utc>,
}

/// Inserts a source; `None` when the name is taken.
pub async fn insert(tx: &mut Tx<'_>, new: &NewSource<'_>) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO sources (name, prefix, rate_per_sec, burst, created_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .bind(new.name)
    .bind(new.prefix)
    .bind(new.rate_per_sec)
    .bind(i64::from(new.burst))
    .bind(to_millis(new.at))
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to insert a source")
}

pub async fn by_name<'e>(db: impl sqlx::SqliteExecutor<'e>, name: &str) -> anyhow::Result<Option<SourceRow>> {
    sqlx::query_as("SELECT * FROM sources WHERE name = ?")
        .bind(name)
        .fetch_optional(db)
        .await
        .context("Failed to read a source")
}

pub async fn list(pool: &Pool) -> anyhow::Result<Vec<SourceRow>> {
    sqlx::query_as("SELECT * FROM sources ORDER BY name").fetch_all(pool).await.context("Failed to list sources")
}

pub async fn insert_key(
    tx: &mut Tx<'_>,
    source_id: i64,
    key_hash: &str,
    key_prefix: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO source_keys (source_id, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?)")
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
        "UPDATE source_keys SET expires_at = ? \
         WHERE source_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
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
    let done = sqlx::query("UPDATE source_keys SET revoked_at = ? WHERE source_id = ? AND revoked_at IS NULL")
        .bind(to_millis(at))
        .bind(source_id)
        .execute(&mut **tx)
        .await
        .context("Failed to revoke API keys")?;
    Ok(done.rows_affected())
}

pub async fn set_signing_secrets(tx: &mut Tx<'_>, source_id: i64, secrets_json: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE sources SET signing_secrets = ? WHERE id = ?")
        .bind(secrets_json)
        .bind(source_id)
        .execute(&mut **tx)
        .await
        .context("Failed to store the signing secrets")?;
    Ok(())
}

/// The source holding a key with this hash, if any.
pub async fn by_key_hash(pool: &Pool, key_hash: &str) -> anyhow::Result<Option<KeyMatch>> {
    sqlx::query_as(
        "SELECT s.*, k.expires_at AS key_expires_at, k.revoked_at AS key_revoked_at \
         FROM source_keys k JOIN sources s ON s.id = k.source_id WHERE k.key_hash = ?",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .context("Failed to look up an API key")
}

impl KeyMatch {
    /// True when the key may be used at `now`.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        let now = to_millis(now);
        let expired = self.key_expires_at.is_some_and(|t| t <= now);
        self.key_revoked_at.is_none() && !expired && self.source.disabled_at.is_none()
    }
}

impl SourceRow {
    pub fn created(&self) -> anyhow::Result<DateTime<Utc>> {
        from_millis(self.created_at)
    }
}

pub async fn update_settings(
    tx: &mut Tx<'_>,
    id: i64,
    prefix: &str,
    rate_per_sec: f64,
    burst: u32,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE sources SET prefix = ?, rate_per_sec = ?, burst = ? WHERE id = ?")
        .bind(prefix)
        .bind(rate_per_sec)
        .bind(i64::from(burst))
        .bind(id)
        .execute(&mut **tx)
        .await
        .context("Failed to update a source")?;
    Ok(())
}
