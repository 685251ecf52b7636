//! The append-only audit log.

use anyhow::Context;
use crossdock::audit::{AuditEntry, AuditRecord, Entity};
use sqlx::{QueryBuilder, Sqlite};

use super::{Pool, Tx, from_millis, to_millis};

/// The columns of a record, in the order [`Row`] reads them.
const COLUMNS: &str = "id, at, actor, action, entity, entity_id, before, after, reason";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    before: Option<String>,
    after: Option<String>,
    reason: Option<String>,
}

impl Row {
    fn into_record(self) -> anyhow::Result<AuditRecord> {
        let json = |text: Option<String>| -> anyhow::Result<Option<serde_json::Value>> {
            text.map(|t| serde_json::from_str(&t)).transpose().context("stored audit values are unreadable")
        };
        let id = self.id;
        Ok(AuditRecord {
            id,
            entry: AuditEntry {
                at: from_millis(self.at)?,
                actor: self.actor.parse().with_context(|| format!("audit record {id}: actor"))?,
                action: self.action.parse().with_context(|| format!("audit record {id}: action"))?,
                entity: self.entity.parse().with_context(|| format!("audit record {id}: entity"))?,
                entity_id: self.entity_id,
                before: json(self.before)?,
                after: json(self.after)?,
                reason: self.reason,
            },
        })
    }
}

fn records(rows: Vec<Row>) -> anyhow::Result<Vec<AuditRecord>> {
    rows.into_iter().map(Row::into_record).collect()
}

/// Appends records in the caller's transaction, in order.
pub async fn append(tx: &mut Tx<'_>, entries: &[AuditEntry]) -> anyhow::Result<()> {
    for chunk in entries.chunks(100) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after, reason) ",
        );
        q.push_values(chunk, |mut b, e| {
            b.push_bind(to_millis(e.at))
                .push_bind(e.actor.to_string())
                .push_bind(e.action.as_str())
                .push_bind(e.entity.as_str())
                .push_bind(e.entity_id.clone())
                .push_bind(e.before.as_ref().map(serde_json::Value::to_string))
                .push_bind(e.after.as_ref().map(serde_json::Value::to_string))
                .push_bind(e.reason.clone());
        });
        q.build().execute(&mut **tx).await.context("Failed to write the audit log")?;
    }
    Ok(())
}

/// The newest records, `limit` at most, older than record `before` if given.
pub async fn list(pool: &Pool, before: Option<i64>, limit: u32) -> anyhow::Result<Vec<AuditRecord>> {
    let rows = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE ?1 IS NULL OR id < ?1 ORDER BY id DESC LIMIT ?2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("Failed to read the audit log")?;
    records(rows)
}

/// Every record about one thing, oldest first.
pub async fn of(pool: &Pool, entity: Entity, id: &str) -> anyhow::Result<Vec<AuditRecord>> {
    let rows =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id"))
            .bind(entity.as_str())
            .bind(id)
            .fetch_all(pool)
            .await
            .context("Failed to read an audit trail")?;
    records(rows)
}

/// The newest record about one thing: who changed it last, and how.
pub async fn last_of(tx: &mut Tx<'_>, entity: Entity, id: &str) -> anyhow::Result<Option<AuditRecord>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id DESC LIMIT 1"
    ))
    .bind(entity.as_str())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to read the last change")?;
    row.map(Row::into_record).transpose()
}
