//! Versioned configuration documents.

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::{Tx, to_millis};

/// What a configuration document configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    Site,
    SlaPolicy,
    Queue,
    Routing,
}

impl ConfigKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKind::Site => "site",
            ConfigKind::SlaPolicy => "sla_policy",
            ConfigKind::Queue => "queue",
            ConfigKind::Routing => "routing",
        }
    }
}

/// The current version of one document.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConfigRow {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub version: i64,
    pub spec: String,
}

/// The newest version of every document that has not been removed.
pub async fn current<'e>(db: impl sqlx::SqliteExecutor<'e>) -> anyhow::Result<Vec<ConfigRow>> {
    sqlx::query_as(
        "SELECT c.id, c.kind, c.key, c.version, c.spec FROM config_versions c \
         WHERE c.version = (SELECT MAX(v.version) FROM config_versions v WHERE v.kind = c.kind AND v.key = c.key) \
           AND c.spec IS NOT NULL \
         ORDER BY c.kind, c.key",
    )
    .fetch_all(db)
    .await
    .context("Failed to read the configuration")
}

/// How many configuration versions exist in all.
pub async fn count<'e>(db: impl sqlx::SqliteExecutor<'e>) -> anyhow::Result<i64> {
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
    spec: Option<&serde_json::Value>,
    actor: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let next: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM config_versions WHERE kind = ? AND key = ?")
            .bind(kind.as_str())
            .bind(key)
            .fetch_one(&mut **tx)
            .await
            .context("Failed to read the configuration version")?;
    sqlx::query_scalar(
        "INSERT INTO config_versions (kind, key, version, spec, actor, created_at) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(key)
    .bind(next)
    .bind(spec.map(serde_json::Value::to_string))
    .bind(actor)
    .bind(to_millis(at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to save a configuration version")
}

/// One stored version of a document, as the history shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub version: i64,
    pub spec: Option<String>,
    pub actor: String,
    pub created_at: i64,
}

/// The newest version of one document, removed or not.
pub async fn latest(tx: &mut Tx<'_>, kind: ConfigKind, key: &str) -> anyhow::Result<Option<VersionRow>> {
    sqlx::query_as(
        "SELECT id, kind, key, version, spec, actor, created_at FROM config_versions \
         WHERE kind = ? AND key = ? ORDER BY version DESC LIMIT 1",
    )
    .bind(kind.as_str())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to read a configuration version")
}

pub async fn by_id<'e>(db: impl sqlx::SqliteExecutor<'e>, id: i64) -> anyhow::Result<Option<VersionRow>> {
    sqlx::query_as("SELECT id, kind, key, version, spec, actor, created_at FROM config_versions WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await
        .context("Failed to read a configuration version")
}

/// Every version of every document of a kind (or of one key), newest first.
pub async fn history(pool: &super::Pool, kind: ConfigKind, key: Option<&str>) -> anyhow::Result<Vec<VersionRow>> {
    sqlx::query_as(
        "SELECT id, kind, key, version, spec, actor, created_at FROM config_versions \
         WHERE kind = ?1 AND (?2 IS NULL OR key = ?2) ORDER BY created_at DESC, id DESC LIMIT 500",
    )
    .bind(kind.as_str())
    .bind(key)
    .fetch_all(pool)
    .await
    .context("Failed to read the configuration history")
}

impl std::str::FromStr for ConfigKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "site" => Ok(ConfigKind::Site),
            "sla_policy" => Ok(ConfigKind::SlaPolicy),
            "queue" => Ok(ConfigKind::Queue),
            "routing" => Ok(ConfigKind::Routing),
            _ => Err(()),
        }
    }
}
