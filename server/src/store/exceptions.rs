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
