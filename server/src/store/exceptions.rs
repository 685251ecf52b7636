//! Exceptions and their business keys.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::sla::SlaSnapshot;
use crossdock::{BusinessRefs, ExceptionKind, Severity};

use super::Pool;

/// The SLA snapshot columns of an exception.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlaColumns {
    pub ack: Option<SlaSnapshot>,
    pub resolve: Option<SlaSnapshot>,
}

/// The `SET` assignments of the SLA columns, in the order [`bind_sla`] binds them.
pub const SET_SLA: &str = "ack_due_at = ?, ack_risk_at = ?, ack_frozen = ?, resolve_due_at = ?, resolve_risk_at = ?, \
     resolve_frozen = ?, sla_due_at = ?, sla_risk_at = ?, sla_frozen = ?, sla_sort = ?";

type Update<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds the SLA columns of [`SET_SLA`].
pub fn bind_sla<'q>(query: Update<'q>, sla: &SlaColumns) -> Update<'q> {
    let millis = |t: Option<DateTime<Utc>>| t.map(super::to_millis);
    let (ack, resolve) = (sla.ack.unwrap_or_default(), sla.resolve.unwrap_or_default());
    let (effective, sort) = sla.effective();
    let frozen = |s: &SlaSnapshot| s.frozen.map(|f| f.as_str());
    query
        .bind(millis(ack.due_at))
        .bind(millis(ack.at_risk_at))
        .bind(frozen(&ack))
        .bind(millis(resolve.due_at))
        .bind(millis(resolve.at_risk_at))
        .bind(frozen(&resolve))
        .bind(millis(effective.due_at))
        .bind(millis(effective.at_risk_at))
        .bind(frozen(&effective))
        .bind(sort)
}

/// Sorts after every real instant: no clock runs.
pub const NO_DUE: i64 = 9_007_199_254_740_991;

impl SlaColumns {
    /// The snapshot a list shows (the running clock due first), and its sort key.
    pub fn effective(&self) -> (SlaSnapshot, i64) {
        let snapshot = crossdock::triage::effective_sla(self.ack.unwrap_or_default(), self.resolve.unwrap_or_default());
        let sort =
            if snapshot.frozen.is_none() { snapshot.due_at.map(super::to_millis).unwrap_or(NO_DUE) } else { NO_DUE };
        (snapshot, sort)
    }
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
    let statement = format!(
        "UPDATE exceptions SET queue = ?, version = version + 1, updated_at = ?, {SET_SLA} \
         WHERE id = ? AND queue = ? AND status NOT IN ('resolved', 'dismissed')"
    );
    let query = sqlx::query(&statement).bind(to).bind(super::to_millis(at));
    let done =
        bind_sla(query, sla).bind(id).bind(from).execute(&mut **tx).await.context("Failed to move an exception")?;
    Ok(done.rows_affected() == 1)
}
