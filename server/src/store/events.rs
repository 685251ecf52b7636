//! The event log.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::RefKind;

use super::{Tx, to_millis};

/// An accepted event, ready to be logged.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub source_id: i64,
    pub source: String,
    pub event_id: String,
    pub event_type: &'static str,
    pub time: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub subject: Option<String>,
    pub correlation_id: Option<String>,
    pub site: Option<String>,
    /// The event as received, JSON.
    pub body: String,
    pub refs: Vec<(RefKind, String)>,
}

/// Logs an event; `None` when `(source, id)` is already logged.
pub async fn insert(tx: &mut Tx<'_>, e: &EventRecord) -> anyhow::Result<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO events (source_id, source, event_id, type, time, received_at, subject, correlation_id, site, body) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (source, event_id) DO NOTHING RETURNING id",
    )
    .bind(e.source_id)
    .bind(&e.source)
    .bind(&e.event_id)
    .bind(e.event_type)
    .bind(to_millis(e.time))
    .bind(to_millis(e.received_at))
    .bind(&e.subject)
    .bind(&e.correlation_id)
    .bind(&e.site)
    .bind(&e.body)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to log an event")?;
    let Some(id) = id else { return Ok(None) };
    for (kind, value) in &e.refs {
        sqlx::query("INSERT INTO event_refs (event_id, kind, value) VALUES (?, ?, ?)")
            .bind(id)
            .bind(kind.as_str())
            .bind(value)
            .execute(&mut **tx)
            .await
            .context("Failed to log a business key")?;
    }
    Ok(Some(id))
}

/// Records which exception an event opened or was counted on.
pub async fn link_exception(tx: &mut Tx<'_>, event: i64, exception: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE events SET exception_id = ? WHERE id = ?")
        .bind(exception)
        .bind(event)
        .execute(&mut **tx)
        .await
        .context("Failed to link an event to its exception")?;
    Ok(())
}
