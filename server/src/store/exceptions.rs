//! Exceptions and their business keys.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::{
    BusinessRefs, ExceptionId, ExceptionKind, ExceptionListItem, ListQuery, Severity, Status,
};

use super::{Pool, Tx, from_millis, to_millis};

/// An exception about to be filed.
#[derive(Debug, Clone)]
pub struct NewException {
    pub kind: ExceptionKind,
    pub status: Status,
    pub severity: Severity,
    pub site: String,
    pub queue: String,
    pub summary: String,
    pub refs: BusinessRefs,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(tx: &mut Tx<'_>, new: &NewException) -> anyhow::Result<ExceptionId> {
    let refs = serde_json::to_string(&new.refs).context("Failed to encode business keys")?;
    let at = to_millis(new.created_at);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO exceptions \
         (kind, status, severity, site, queue, summary, refs, payload, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.kind.as_str())
    .bind(new.status.as_str())
    .bind(new.severity.as_str())
    .bind(&new.site)
    .bind(&new.queue)
    .bind(&new.summary)
    .bind(refs)
    .bind(new.payload.to_string())
    .bind(at)
    .bind(at)
    .fetch_one(&mut **tx)
    .await
    .context("Failed to insert an exception")?;

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
