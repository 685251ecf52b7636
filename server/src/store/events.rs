//! The event log.

use chrono::{DateTime, Utc};
use crossdock::RefKind;
use crossdock::lineage::Facts;

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
    /// Its transaction, as far as the event says.
    pub lineage: Facts,
    /// What it tells the business KPIs, with its site's time zone.
    pub kpi: Option<(crossdock::kpi::Signal, chrono_tz::Tz)>,
}

/// An exception event as it was received.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReceivedEvent {
    #[sqlx(rename = "type")]
    pub kind: String,
    pub source: String,
    pub event_id: String,
    /// The event as received, JSON.
    pub body: String,
}

/// The newest exception events, for dry runs.
pub async fn recent_exceptions(pool: &super::Pool, limit: u32) -> anyhow::Result<Vec<ReceivedEvent>> {
    use anyhow::Context;
    sqlx::query_as(
        "SELECT type, source, event_id, body FROM events WHERE type LIKE 'exception.%' ORDER BY id DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .context("Failed to read recent events")
}
