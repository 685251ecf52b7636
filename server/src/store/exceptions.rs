//! Exceptions and their business keys.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::sla::SlaSnapshot;
use crossdock::{BusinessRefs, ExceptionId, ExceptionKind, ExceptionListItem, ListQuery, Severity};

use super::{Pool, from_millis};

/// The SLA snapshot columns of an exception.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlaColumns {
    pub ack: Option<SlaSnapshot>,
    pub resolve: Option<SlaSnapshot>,
}

/// An exception about to be filed.
#[derive(Debug, Clone)]
pub struct NewException {
    pub kind: ExceptionKind,
    pub severity: Severity,
    pub site: String,
    pub queue: String,
    pub summary: String,
    pub refs: BusinessRefs,
    /// The event's `data`, JSON.
    pub payload: String,
    pub fingerprint: String,
    pub source: String,
    pub correlation_id: Option<String>,
    pub assignee: Option<String>,
    pub event_id: i64,
    pub sla_policy_version: Option<i64>,
    pub sla: SlaColumns,
    pub opened_at: DateTime<Utc>,
}

pub async fn count<'e>(db: impl sqlx::SqliteExecutor<'e>) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM exceptions").fetch_one(db).await.context("Failed to count exceptions")
}

#[derive(sqlx::FromRow)]
struct ListRow {
    id: i64,
    kind: String,
    status: String,
    severity: String,
    site: String,
    queue: String,
    summary: String,
    refs: String,
    created_at: i64,
    updated_at: i64,
}

impl ListRow {
    fn into_item(self) -> anyhow::Result<ExceptionListItem> {
        Ok(ExceptionListItem {
            id: ExceptionId::new(self.id),
            kind: self.kind.parse()?,
            status: self.status.parse()?,
            severity: self.severity.parse()?,
            site: self.site,
            queue: self.queue,
            summary: self.summary,
            refs: serde_json::from_str(&self.refs)
                .with_context(|| format!("stored business keys of exception {} are unreadable", self.id))?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

/// Exceptions matching the query, newest first; within `queues` when given.
pub async fn list(pool: &Pool, query: &ListQuery, queues: Option<&[String]>) -> anyhow::Result<Vec<ExceptionListItem>> {
    let pattern = query.text().map(|t| format!("%{}%", escape_like(t)));
    let queues = queues.map(|q| serde_json::to_string(q).unwrap_or_else(|_| "[]".to_owned()));
    let rows: Vec<ListRow> = sqlx::query_as(
        "SELECT id, kind, status, severity, site, queue, summary, refs, created_at, updated_at \
         FROM exceptions e \
         WHERE (?3 IS NULL OR e.queue IN (SELECT value FROM json_each(?3))) \
           AND (?1 IS NULL \
            OR e.summary LIKE ?1 ESCAPE '\\' \
            OR e.site LIKE ?1 ESCAPE '\\' \
            OR e.queue LIKE ?1 ESCAPE '\\' \
            OR e.kind LIKE ?1 ESCAPE '\\' \
            OR EXISTS (SELECT 1 FROM exception_refs r \
                       WHERE r.exception_id = e.id AND r.value LIKE ?1 ESCAPE '\\')) \
         ORDER BY created_at DESC, id DESC \
         LIMIT ?2",
    )
    .bind(pattern)
    .bind(ListQuery::LIMIT)
    .bind(queues)
    .fetch_all(pool)
    .await
    .context("Failed to list exceptions")?;
    rows.into_iter().map(ListRow::into_item).collect()
}

/// Escapes the wildcards of LIKE so a search for `50%` means fifty percent.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An open exception with the event that opened it, for re-routing.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenWithEvent {
    pub id: i64,
    pub queue: String,
    pub severity: String,
    pub summary: String,
    pub sla_policy_version: Option<i64>,
    pub body: Option<String>,
}

pub async fn open_with_events(pool: &Pool) -> anyhow::Result<Vec<OpenWithEvent>> {
    sqlx::query_as(
        "SELECT x.id, x.queue, x.severity, x.summary, x.sla_policy_version, e.body \
         FROM exceptions x LEFT JOIN events e ON e.id = x.event_id \
         WHERE x.status NOT IN ('resolved', 'dismissed') ORDER BY x.id",
    )
    .fetch_all(pool)
    .await
    .context("Failed to read open exceptions")
}

/// Every status an exception has been in, oldest first.
pub async fn status_history(tx: &mut super::Tx<'_>, id: i64) -> anyhow::Result<Vec<(i64, String)>> {
    sqlx::query_as("SELECT at, status FROM exception_status_history WHERE exception_id = ? ORDER BY at, id")
        .bind(id)
        .fetch_all(&mut **tx)
        .await
        .context("Failed to read a status history")
}

/// Moves an open exception to another queue with its recomputed SLA clocks;
/// `false` when it was closed or changed meanwhile.
pub async fn move_to_queue(
    tx: &mut super::Tx<'_>,
    id: i64,
    from: &str,
    to: &str,
    sla: &SlaColumns,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let millis = |t: Option<DateTime<Utc>>| t.map(super::to_millis);
    let (ack, resolve) = (sla.ack.unwrap_or_default(), sla.resolve.unwrap_or_default());
    let done = sqlx::query(
        "UPDATE exceptions SET queue = ?, version = version + 1, updated_at = ?, \
         ack_due_at = ?, ack_risk_at = ?, ack_frozen = ?, resolve_due_at = ?, resolve_risk_at = ?, resolve_frozen = ? \
         WHERE id = ? AND queue = ? AND status NOT IN ('resolved', 'dismissed')",
    )
    .bind(to)
    .bind(super::to_millis(at))
    .bind(millis(ack.due_at))
    .bind(millis(ack.at_risk_at))
    .bind(ack.frozen.map(|s| s.as_str()))
    .bind(millis(resolve.due_at))
    .bind(millis(resolve.at_risk_at))
    .bind(resolve.frozen.map(|s| s.as_str()))
    .bind(id)
    .bind(from)
    .execute(&mut **tx)
    .await
    .context("Failed to move an exception")?;
    Ok(done.rows_affected() == 1)
}
