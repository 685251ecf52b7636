//! Exceptions and their business keys.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::sla::SlaSnapshot;
use crossdock::{BusinessRefs, ExceptionId, ExceptionKind, ExceptionListItem, ListQuery, Severity};

use super::{Pool, Tx, from_millis, to_millis};

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

/// Files a new exception in status `new`, with its business keys and the
/// first entry of its status history.
pub async fn insert(
    tx: &mut Tx<'_>,
    new: &NewException,
    actor: &str,
) -> anyhow::Result<ExceptionId> {
    let refs = serde_json::to_string(&new.refs).context("Failed to encode business keys")?;
    let at = to_millis(new.opened_at);
    let millis = |t: Option<DateTime<Utc>>| t.map(to_millis);
    let (ack, resolve) = (
        new.sla.ack.unwrap_or_default(),
        new.sla.resolve.unwrap_or_default(),
    );
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO exceptions \
         (kind, status, severity, site, queue, summary, refs, payload, created_at, updated_at, \
          fingerprint, occurrences, last_seen_at, event_id, source, correlation_id, assignee, sla_policy_version, \
          ack_due_at, ack_risk_at, ack_frozen, resolve_due_at, resolve_risk_at, resolve_frozen) \
         VALUES (?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.kind.as_str())
    .bind(new.severity.as_str())
    .bind(&new.site)
    .bind(&new.queue)
    .bind(&new.summary)
    .bind(refs)
    .bind(&new.payload)
    .bind(at)
    .bind(at)
    .bind(&new.fingerprint)
    .bind(at)
    .bind(new.event_id)
    .bind(&new.source)
    .bind(&new.correlation_id)
    .bind(&new.assignee)
    .bind(new.sla_policy_version)
    .bind(millis(ack.due_at))
    .bind(millis(ack.at_risk_at))
    .bind(ack.frozen.map(|s| s.as_str()))
    .bind(millis(resolve.due_at))
    .bind(millis(resolve.at_risk_at))
    .bind(resolve.frozen.map(|s| s.as_str()))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to insert an exception")?;

    sqlx::query("INSERT INTO exception_status_history (exception_id, at, status, actor) VALUES (?, ?, 'new', ?)")
        .bind(id)
        .bind(at)
        .bind(actor)
        .execute(&mut **tx)
        .await
        .context("Failed to record the first status")?;

    for (kind, value) in new.refs.iter() {
        sqlx::query("INSERT INTO exception_refs (exception_id, kind, value) VALUES (?, ?, ?)")
            .bind(id)
            .bind(kind.as_str())
            .bind(value)
            .execute(&mut **tx)
            .await
            .context("Failed to insert a business key")?;
    }
    Ok(ExceptionId::new(id))
}

/// The open exception with this fingerprint, if any.
pub async fn open_by_fingerprint(
    tx: &mut Tx<'_>,
    fingerprint: &str,
) -> anyhow::Result<Option<ExceptionId>> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM exceptions WHERE fingerprint = ? AND status NOT IN ('resolved', 'dismissed')",
    )
    .bind(fingerprint)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to look up an open exception by fingerprint")?;
    Ok(id.map(ExceptionId::new))
}

/// Counts a repeat of the problem on its open exception.
pub async fn count_occurrence(
    tx: &mut Tx<'_>,
    id: ExceptionId,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE exceptions SET occurrences = occurrences + 1, last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE id = ?")
        .bind(to_millis(at))
        .bind(id.get())
        .execute(&mut **tx)
        .await
        .context("Failed to count an occurrence")?;
    Ok(())
}

pub async fn count<'e>(db: impl sqlx::SqliteExecutor<'e>) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM exceptions")
        .fetch_one(db)
        .await
        .context("Failed to count exceptions")
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
            refs: serde_json::from_str(&self.refs).with_context(|| {
                format!(
                    "stored business keys of exception {} are unreadable",
                    self.id
                )
            })?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

/// Exceptions matching the query, newest first.
pub async fn list(pool: &Pool, query: &ListQuery) -> anyhow::Result<Vec<ExceptionListItem>> {
    let pattern = query.text().map(|t| format!("%{}%", escape_like(t)));
    let rows: Vec<ListRow> = sqlx::query_as(
        "SELECT id, kind, status, severity, site, queue, summary, refs, created_at, updated_at \
         FROM exceptions e \
         WHERE ?1 IS NULL \
            OR e.summary LIKE ?1 ESCAPE '\\' \
            OR e.site LIKE ?1 ESCAPE '\\' \
            OR e.queue LIKE ?1 ESCAPE '\\' \
            OR e.kind LIKE ?1 ESCAPE '\\' \
            OR EXISTS (SELECT 1 FROM exception_refs r \
                       WHERE r.exception_id = e.id AND r.value LIKE ?1 ESCAPE '\\') \
         ORDER BY created_at DESC, id DESC \
         LIMIT ?2",
    )
    .bind(pattern)
    .bind(ListQuery::LIMIT)
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
