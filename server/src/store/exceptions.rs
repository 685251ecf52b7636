//! Exceptions: their state, the rows of queue views, the detail of one, their
//! status history and SLA columns.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::audit::{Actor, Deadlines, ExceptionSnapshot};
use crossdock::exception::{ExceptionDetail, Occurrence};
use crossdock::sla::{SlaSnapshot, StatusChange};
use crossdock::triage::{Candidate, Cursor, ExceptionState, SortOrder};
use crossdock::{BusinessRefs, ExceptionId, ExceptionKind, ExceptionListItem, Severity, Status};
use serde_json::Value;

use super::{Pool, Tx, from_millis, to_millis};

/// The SLA snapshot columns of an exception.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SlaColumns {
    pub ack: Option<SlaSnapshot>,
    pub resolve: Option<SlaSnapshot>,
    /// Business seconds each clock has run (not stored; a change that stops
    /// a clock records it).
    pub ack_seconds: Option<i64>,
    pub resolve_seconds: Option<i64>,
}

/// What a change marks on the board's columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Milestones {
    /// First moved out of new: when, and the business seconds it took.
    pub acknowledged: Option<(DateTime<Utc>, Option<i64>)>,
    /// Closed (resolved or dismissed), or reopened (`Some(None)`).
    pub closed: Option<Option<(DateTime<Utc>, Option<i64>)>>,
}

/// The `SET` assignments of the SLA columns, in the order [`bind_sla`] binds
/// them, their placeholders numbered from `first`.
pub(super) fn set_sla(first: usize) -> String {
    const COLUMNS: [&str; 10] = [
        "ack_due_at",
        "ack_risk_at",
        "ack_frozen",
        "resolve_due_at",
        "resolve_risk_at",
        "resolve_frozen",
        "sla_due_at",
        "sla_risk_at",
        "sla_frozen",
        "sla_sort",
    ];
    COLUMNS.iter().enumerate().map(|(i, c)| format!("{c} = ${}", first + i)).collect::<Vec<_>>().join(", ")
}

pub(super) type Update<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the SLA columns of [`set_sla`].
pub(super) fn bind_sla<'q>(query: Update<'q>, sla: &SlaColumns) -> Update<'q> {
    let millis = |t: Option<DateTime<Utc>>| t.map(to_millis);
    let (ack, resolve) = (sla.ack.unwrap_or_default(), sla.resolve.unwrap_or_default());
    let frozen = |s: &SlaSnapshot| s.frozen.map(|f| f.as_str());
    let effective = sla.stored();
    query
        .bind(millis(ack.due_at))
        .bind(millis(ack.at_risk_at))
        .bind(frozen(&ack))
        .bind(millis(resolve.due_at))
        .bind(millis(resolve.at_risk_at))
        .bind(frozen(&resolve))
        .bind(effective.due_at)
        .bind(effective.risk_at)
        .bind(effective.frozen)
        .bind(effective.sort)
}

/// The effective clock as stored in `sla_due_at`, `sla_risk_at`,
/// `sla_frozen` and `sla_sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StoredSla {
    pub due_at: Option<i64>,
    /// Never after `due_at`: a running clock turns at risk no later than it
    /// falls due (the open tallies count on it).
    pub risk_at: Option<i64>,
    pub frozen: Option<&'static str>,
    pub sort: i64,
}

/// Sorts after every real instant: no clock runs.
pub const NO_DUE: i64 = 9_007_199_254_740_991;

impl SlaColumns {
    /// When the clocks are due.
    pub fn deadlines(&self) -> Deadlines {
        Deadlines { acknowledge: self.ack.and_then(|s| s.due_at), resolve: self.resolve.and_then(|s| s.due_at) }
    }

    /// The effective clock's columns.
    pub(super) fn stored(&self) -> StoredSla {
        let (effective, sort) = self.effective();
        let due_at = effective.due_at.map(to_millis);
        let risk_at = match (effective.at_risk_at.map(to_millis), due_at) {
            (Some(risk), Some(due)) => Some(risk.min(due)),
            (risk, due) => risk.or(due),
        };
        StoredSla { due_at, risk_at, frozen: effective.frozen.map(|f| f.as_str()), sort }
    }

    /// The snapshot a list shows (the running clock due first), and its sort key.
    fn effective(&self) -> (SlaSnapshot, i64) {
        let snapshot = crossdock::triage::effective_sla(self.ack.unwrap_or_default(), self.resolve.unwrap_or_default());
        let sort = if snapshot.frozen.is_none() { snapshot.due_at.map(to_millis).unwrap_or(NO_DUE) } else { NO_DUE };
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
    /// The business transaction of its event; set when the event is placed.
    pub transaction_id: Option<i64>,
    pub sla_policy_version: Option<i64>,
    pub sla: SlaColumns,
    pub opened_at: DateTime<Utc>,
}

/// The columns of a queue view's row, in the order [`ItemRow`] reads them.
pub(super) const ITEM_COLUMNS: &str = "e.id, e.kind, e.status, e.severity, e.site, e.queue, e.summary, e.refs, \
     e.created_at, e.updated_at, e.assignee, e.occurrences, e.version, e.sla_due_at, e.sla_risk_at, e.sla_frozen, \
     e.sla_sort, e.severity_order, e.replay_state";

/// One row of a queue view, as stored.
#[derive(sqlx::FromRow)]
pub(super) struct ItemRow {
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
    assignee: Option<String>,
    occurrences: i64,
    version: i64,
    sla_due_at: Option<i64>,
    sla_risk_at: Option<i64>,
    sla_frozen: Option<String>,
    sla_sort: i64,
    severity_order: i64,
    replay_state: Option<String>,
}

fn time(ms: Option<i64>) -> anyhow::Result<Option<DateTime<Utc>>> {
    ms.map(from_millis).transpose()
}

fn snapshot(frozen: Option<String>, due: Option<i64>, risk: Option<i64>) -> anyhow::Result<SlaSnapshot> {
    Ok(SlaSnapshot {
        frozen: frozen.as_deref().map(str::parse).transpose().context("stored SLA state is invalid")?,
        due_at: time(due)?,
        at_risk_at: time(risk)?,
    })
}

impl ItemRow {
    /// Where the next page starts after this row.
    pub(super) fn cursor(&self, sort: SortOrder) -> Cursor {
        let keys = match sort {
            SortOrder::SlaDue => [self.sla_sort, 0],
            SortOrder::Severity => [self.severity_order, self.sla_sort],
            SortOrder::Age => [self.created_at, 0],
        };
        Cursor { keys, id: self.id }
    }

    pub(super) fn into_item(self) -> anyhow::Result<ExceptionListItem> {
        let id = self.id;
        let context = |what: &str| format!("stored {what} of exception {id} is invalid");
        Ok(ExceptionListItem {
            id: ExceptionId::new(id),
            kind: self.kind.parse().with_context(|| context("type"))?,
            status: self.status.parse().with_context(|| context("status"))?,
            severity: self.severity.parse().with_context(|| context("severity"))?,
            site: self.site,
            queue: self.queue,
            summary: self.summary,
            refs: serde_json::from_str(&self.refs).with_context(|| context("business keys"))?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
            assignee: self.assignee,
            occurrences: self.occurrences,
            version: self.version,
            sla: snapshot(self.sla_frozen, self.sla_due_at, self.sla_risk_at)?,
            replay: self
                .replay_state
                .as_deref()
                .map(str::parse)
                .transpose()
                .with_context(|| context("replay state"))?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    item: ItemRow,
    payload: String,
    correlation_id: Option<String>,
    sla_policy_version: Option<i64>,
    ack_due_at: Option<i64>,
    ack_risk_at: Option<i64>,
    ack_frozen: Option<String>,
    resolve_due_at: Option<i64>,
    resolve_risk_at: Option<i64>,
    resolve_frozen: Option<String>,
    event_body: Option<String>,
}

/// Everything stored about one exception.
pub async fn detail(pool: &Pool, id: ExceptionId) -> anyhow::Result<Option<ExceptionDetail>> {
    let row: Option<DetailRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS}, e.payload, e.correlation_id, e.sla_policy_version, \
         e.ack_due_at, e.ack_risk_at, e.ack_frozen, e.resolve_due_at, e.resolve_risk_at, e.resolve_frozen, \
         v.body AS event_body FROM exceptions e LEFT JOIN events v ON v.id = e.event_id WHERE e.id = $1"
    ))
    .bind(id.get())
    .fetch_optional(pool)
    .await
    .context("Failed to read an exception")?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(ExceptionDetail {
        acknowledge: snapshot(r.ack_frozen, r.ack_due_at, r.ack_risk_at)?,
        resolve: snapshot(r.resolve_frozen, r.resolve_due_at, r.resolve_risk_at)?,
        correlation_id: r.correlation_id,
        payload: serde_json::from_str(&r.payload).context("stored payload is unreadable")?,
        event: r.event_body.as_deref().map(serde_json::from_str).transpose().context("stored event is unreadable")?,
        sla_policy_version: r.sla_policy_version,
        item: r.item.into_item()?,
    }))
}

#[derive(sqlx::FromRow)]
struct StateRow {
    id: i64,
    queue: String,
    status: String,
    severity: String,
    assignee: Option<String>,
    version: i64,
    sla_policy_version: Option<i64>,
    ack_due_at: Option<i64>,
    resolve_due_at: Option<i64>,
}

/// The parts of an exception an action reads and changes.
pub async fn state(tx: &mut Tx<'_>, id: ExceptionId) -> anyhow::Result<Option<ExceptionState>> {
    let row: Option<StateRow> = sqlx::query_as(
        "SELECT id, queue, status, severity, assignee, version, sla_policy_version, ack_due_at, resolve_due_at \
         FROM exceptions WHERE id = $1",
    )
    .bind(id.get())
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to read an exception")?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(ExceptionState {
        id: ExceptionId::new(r.id),
        queue: crossdock::queue::QueueKey::parse(&r.queue).context("stored queue is invalid")?,
        status: r.status.parse().context("stored status is invalid")?,
        severity: r.severity.parse().context("stored severity is invalid")?,
        // A holder written before user names were checked reads as nobody,
        // so the exception can still be claimed or assigned.
        assignee: r.assignee.as_deref().and_then(|a| crossdock::accounts::Username::parse(a).ok()),
        version: r.version,
        sla_policy_version: r.sla_policy_version,
        due: Deadlines { acknowledge: time(r.ack_due_at)?, resolve: time(r.resolve_due_at)? },
    }))
}

/// Writes what a change made of an exception if it is still at `version`;
/// `false` if not.
pub async fn update(
    tx: &mut Tx<'_>,
    id: ExceptionId,
    version: i64,
    after: &ExceptionSnapshot,
    sla: &SlaColumns,
    marks: Milestones,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let statement = format!(
        "UPDATE exceptions SET status = $1, assignee = $2, queue = $3, version = version + 1, updated_at = $4, {}, \
         acknowledged_at = COALESCE(acknowledged_at, $15), ack_seconds = COALESCE(ack_seconds, $16), \
         closed_at = CASE WHEN $17 THEN $18 ELSE closed_at END, \
         resolve_seconds = CASE WHEN $19 THEN $20 ELSE resolve_seconds END, \
         escalated = CASE WHEN $21 THEN escalated & ~3 ELSE escalated END \
         WHERE id = $22 AND version = $23",
        set_sla(5)
    );
    let query = sqlx::query(&statement)
        .bind(after.status.as_str())
        .bind(after.assignee.as_deref())
        .bind(&after.queue)
        .bind(to_millis(at));
    let (acked, closing) = (marks.acknowledged, marks.closed);
    let closed = closing.flatten();
    let done = bind_sla(query, sla)
        .bind(acked.map(|(t, _)| to_millis(t)))
        .bind(acked.and_then(|(_, s)| s))
        .bind(closing.is_some())
        .bind(closed.map(|(t, _)| to_millis(t)))
        .bind(closing.is_some())
        .bind(closed.and_then(|(_, s)| s))
        // Acknowledged: the resolve clock's levels may fire in their turn.
        .bind(acked.is_some())
        .bind(id.get())
        .bind(version)
        .execute(&mut **tx)
        .await
        .context("Failed to update an exception")?;
    Ok(done.rows_affected() == 1)
}

/// Records a status an exception entered (its SLA clocks are read from these).
pub async fn record_status(
    tx: &mut Tx<'_>,
    id: ExceptionId,
    status: Status,
    actor: &Actor,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO exception_status_history (exception_id, at, status, actor) VALUES ($1, $2, $3, $4)")
        .bind(id.get())
        .bind(to_millis(at))
        .bind(status.as_str())
        .bind(actor.to_string())
        .execute(&mut **tx)
        .await
        .context("Failed to record a status")?;
    Ok(())
}

/// Every status an exception has been in, oldest first.
/// Where an exception is now: its queue, severity and assignee (a dry run
/// reads it inside its transaction).
pub async fn placement(
    tx: &mut Tx<'_>,
    id: ExceptionId,
) -> anyhow::Result<Option<(String, crossdock::Severity, Option<String>)>> {
    let row: Option<(String, String, Option<String>)> =
        sqlx::query_as("SELECT queue, severity, assignee FROM exceptions WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&mut **tx)
            .await
            .context("Failed to read where an exception is")?;
    row.map(|(queue, severity, assignee)| {
        let severity = severity.parse().map_err(|e| anyhow::anyhow!("stored severity: {e}"))?;
        Ok((queue, severity, assignee))
    })
    .transpose()
}

pub async fn status_history(tx: &mut Tx<'_>, id: ExceptionId) -> anyhow::Result<Vec<StatusChange>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT at, status FROM exception_status_history WHERE exception_id = $1 ORDER BY at, id")
            .bind(id.get())
            .fetch_all(&mut **tx)
            .await
            .context("Failed to read a status history")?;
    rows.into_iter()
        .map(|(at, status)| {
            Ok(StatusChange { at: from_millis(at)?, status: status.parse().context("stored status is invalid")? })
        })
        .collect()
}

/// The events counted on an exception, newest first.
pub async fn occurrences(pool: &Pool, id: ExceptionId) -> anyhow::Result<Vec<Occurrence>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT received_at, source, event_id FROM events WHERE exception_id = $1 ORDER BY id DESC LIMIT 100",
    )
    .bind(id.get())
    .fetch_all(pool)
    .await
    .context("Failed to read occurrences")?;
    rows.into_iter()
        .map(|(at, source, event_id)| Ok(Occurrence { received_at: from_millis(at)?, source, event_id }))
        .collect()
}

/// The active person of this name who may be given exceptions, if any.
pub async fn candidate(tx: &mut Tx<'_>, username: &str) -> anyhow::Result<Option<Candidate>> {
    let row: Option<(i64, String, String)> =
        sqlx::query_as("SELECT id, username, role FROM users WHERE username = $1 AND disabled_at IS NULL")
            .bind(username)
            .fetch_optional(&mut **tx)
            .await
            .context("Failed to read a user")?;
    let Some((id, username, role)) = row else { return Ok(None) };
    let queues = super::users::queues_of(&mut **tx, crossdock::accounts::UserId(id)).await?;
    Ok(Some(Candidate {
        username: crossdock::accounts::Username::parse(&username).context("stored user name is invalid")?,
        role: role.parse().context("stored role is invalid")?,
        queues,
    }))
}

pub async fn count<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM exceptions").fetch_one(db).await.context("Failed to count exceptions")
}

/// An open exception with the event that opened it, for re-routing.
#[derive(Debug, Clone)]
pub struct OpenException {
    pub id: ExceptionId,
    pub queue: String,
    pub severity: Severity,
    pub summary: String,
    pub sla_policy_version: Option<i64>,
    /// The event as received, when it is still kept and readable.
    pub event: Option<Value>,
}

#[derive(sqlx::FromRow)]
struct OpenRow {
    id: i64,
    queue: String,
    severity: String,
    summary: String,
    sla_policy_version: Option<i64>,
    body: Option<String>,
}

pub async fn open_with_events(pool: &Pool) -> anyhow::Result<Vec<OpenException>> {
    let rows: Vec<OpenRow> = sqlx::query_as(
        "SELECT x.id, x.queue, x.severity, x.summary, x.sla_policy_version, e.body \
         FROM exceptions x LEFT JOIN events e ON e.id = x.event_id \
         WHERE x.status NOT IN ('resolved', 'dismissed') ORDER BY x.id",
    )
    .fetch_all(pool)
    .await
    .context("Failed to read open exceptions")?;
    rows.into_iter()
        .map(|r| {
            Ok(OpenException {
                id: ExceptionId::new(r.id),
                severity: r.severity.parse().context("stored severity is invalid")?,
                queue: r.queue,
                summary: r.summary,
                sla_policy_version: r.sla_policy_version,
                event: r.body.as_deref().and_then(|b| serde_json::from_str(b).ok()),
            })
        })
        .collect()
}

/// Moves an open exception to another queue with its recomputed SLA clocks;
/// `false` when it was closed or changed meanwhile.
pub async fn move_to_queue(
    tx: &mut Tx<'_>,
    id: ExceptionId,
    from: &str,
    to: &str,
    sla: &SlaColumns,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let statement = format!(
        "UPDATE exceptions SET queue = $1, version = version + 1, updated_at = $2, {} \
         WHERE id = $13 AND queue = $14 AND status NOT IN ('resolved', 'dismissed')",
        set_sla(3)
    );
    let query = sqlx::query(&statement).bind(to).bind(to_millis(at));
    let done = bind_sla(query, sla)
        .bind(id.get())
        .bind(from)
        .execute(&mut **tx)
        .await
        .context("Failed to move an exception")?;
    Ok(done.rows_affected() == 1)
}
