//! Versioned configuration documents.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::audit::Actor;
use crossdock::config::ConfigKind;
use serde_json::Value;

use super::{Pool, Tx, from_millis, to_millis};

/// One stored version of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigVersion {
    pub id: i64,
    pub kind: ConfigKind,
    pub key: String,
    pub version: i64,
    /// The document; `None` when this version removed it.
    pub spec: Option<Value>,
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

const COLUMNS: &str = "id, kind, key, version, spec, actor, created_at";

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: i64,
    kind: String,
    key: String,
    version: i64,
    spec: Option<String>,
    actor: String,
    created_at: i64,
}

impl VersionRow {
    fn into_version(self) -> anyhow::Result<ConfigVersion> {
        let what = || format!("stored {} `{}` version {}", self.kind, self.key, self.version);
        Ok(ConfigVersion {
            kind: self.kind.parse().with_context(what)?,
            spec: self
                .spec
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .with_context(|| format!("{} is unreadable", what()))?,
            actor: self.actor.parse().with_context(what)?,
            at: from_millis(self.created_at)?,
            id: self.id,
            key: self.key,
            version: self.version,
        })
    }
}

fn versions(rows: Vec<VersionRow>) -> anyhow::Result<Vec<ConfigVersion>> {
    rows.into_iter().map(VersionRow::into_version).collect()
}

/// The newest version of every document that has not been removed.
pub async fn current<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> anyhow::Result<Vec<ConfigVersion>> {
    let rows = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM config_versions c \
         WHERE c.version = (SELECT MAX(v.version) FROM config_versions v WHERE v.kind = c.kind AND v.key = c.key) \
           AND c.spec IS NOT NULL \
         ORDER BY c.kind, c.key"
    ))
    .fetch_all(db)
    .await
    .context("Failed to read the configuration")?;
    versions(rows)
}

/// The id of the newest version saved (0 with none): another instance's
/// save shows as a larger one.
pub async fn newest_id<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM config_versions")
        .fetch_one(db)
        .await
        .context("Failed to read the newest configuration version")
}

/// How many configuration versions exist in all.
pub async fn count<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM config_versions")
        .fetch_one(db)
        .await
        .context("Failed to count configuration versions")
}

/// Saves a new version of a document (or its removal, with `None`), returning
/// the id of the new version.
pub async fn save(
    tx: &mut Tx<'_>,
    kind: ConfigKind,
    key: &str,
    spec: Option<&Value>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let next: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM config_versions WHERE kind = $1 AND key = $2")
            .bind(kind.as_str())
            .bind(key)
            .fetch_one(&mut **tx)
            .await
            .context("Failed to read the configuration version")?;
    sqlx::query_scalar(
        "INSERT INTO config_versions (kind, key, version, spec, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(key)
    .bind(next)
    .bind(spec.map(Value::to_string))
    .bind(actor.to_string())
    .bind(to_millis(at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to save a configuration version")
}

/// The newest version of one document, removed or not.
pub async fn latest(tx: &mut Tx<'_>, kind: ConfigKind, key: &str) -> anyhow::Result<Option<ConfigVersion>> {
    let row: Option<VersionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM config_versions WHERE kind = $1 AND key = $2 ORDER BY version DESC LIMIT 1"
    ))
    .bind(kind.as_str())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to read a configuration version")?;
    row.map(VersionRow::into_version).transpose()
}

pub async fn by_id<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: i64,
) -> anyhow::Result<Option<ConfigVersion>> {
    let row: Option<VersionRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM config_versions WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
        .context("Failed to read a configuration version")?;
    row.map(VersionRow::into_version).transpose()
}

/// Every version of every document of a kind (or of one key), newest first.
pub async fn history(pool: &Pool, kind: ConfigKind, key: Option<&str>) -> anyhow::Result<Vec<ConfigVersion>> {
    let rows = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM config_versions \
         WHERE kind = $1 AND ($2 IS NULL OR key = $2) ORDER BY created_at DESC, id DESC LIMIT 500"
    ))
    .bind(kind.as_str())
    .bind(key)
    .fetch_all(pool)
    .await
    .context("Failed to read the configuration history")?;
    versions(rows)
}
