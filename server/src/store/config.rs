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
