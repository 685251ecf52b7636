//! The event log.

use chrono::{DateTime, Utc};
use crossdock::RefKind;

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
