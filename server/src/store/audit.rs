//! The append-only audit log.

use chrono::{DateTime, Utc};

use super::{Tx, to_millis};

/// One change, as the audit log keeps it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
}

pub async fn append(tx: &mut Tx<'_>, entry: &AuditEntry) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after, reason) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(to_millis(entry.at))
    .bind(&entry.actor)
    .bind(entry.action)
    .bind(entry.entity)
    .bind(&entry.entity_id)
    .bind(entry.before.as_ref().map(serde_json::Value::to_string))
    .bind(entry.after.as_ref().map(serde_json::Value::to_string))
    .bind(&entry.reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An audit record as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
}

/// The newest records, `limit` at most, older than record `before` if given.
pub async fn list(pool: &super::Pool, before: Option<i64>, limit: u32) -> anyhow::Result<Vec<AuditRow>> {
    use anyhow::Context;
    sqlx::query_as(
        "SELECT id, at, actor, action, entity, entity_id, before, after, reason FROM audit_log \
         WHERE ?1 IS NULL OR id < ?1 ORDER BY id DESC LIMIT ?2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("Failed to read the audit log")
}
