//! Expected milestones, what the lineage sweep found, and the sweep's place
//! in the event log and its lease.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::ExceptionId;
use crossdock::event::MilestoneKind;

use super::{Pool, Tx, from_millis, to_millis};

/// A milestone logged after the sweep's place, with its transaction.
#[derive(Debug, Clone)]
pub struct NewMilestone {
    pub event: i64,
    pub kind: MilestoneKind,
    pub time: DateTime<Utc>,
    pub transaction: i64,
    pub transaction_name: String,
    pub site: Option<String>,
    pub body: String,
}

#[derive(sqlx::FromRow)]
struct MilestoneRow {
    id: i64,
    #[sqlx(rename = "type")]
    kind: String,
    time: i64,
    transaction_id: i64,
    name: String,
    site: Option<String>,
    body: String,
}

/// Takes the sweep's lease, if no other instance holds it; the place it
/// reached in the event log.
pub async fn claim_sweep(
    pool: &Pool,
    token: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar(
        "UPDATE lineage_sweep SET lease_token = $1, lease_until = $2 \
         WHERE id = 1 AND (lease_until IS NULL OR lease_until < $3 OR lease_token = $4) RETURNING last_event",
    )
    .bind(token)
    .bind(to_millis(until))
    .bind(to_millis(now))
    .bind(token)
    .fetch_optional(pool)
    .await
    .context("Failed to claim the lineage sweep")
}

/// Gives the lease back.
pub async fn release_sweep(pool: &Pool, token: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE lineage_sweep SET lease_token = NULL, lease_until = NULL WHERE id = 1 AND lease_token = $1")
        .bind(token)
        .execute(pool)
        .await
        .context("Failed to release the lineage sweep")?;
    Ok(())
}

/// Moves the sweep's place on, if the lease is still ours.
pub async fn advance(tx: &mut Tx<'_>, token: &str, last_event: i64) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE lineage_sweep SET last_event = $1 WHERE id = 1 AND lease_token = $2")
        .bind(last_event)
        .bind(token)
        .execute(&mut **tx)
        .await
        .context("Failed to advance the lineage sweep")?;
    Ok(done.rows_affected() == 1)
}

/// The next milestones logged after `after`, in order; and the last event
/// id looked at (exceptions and keyless events are passed over).
pub async fn milestones_after(
    tx: &mut Tx<'_>,
    after: i64,
    limit: u32,
) -> anyhow::Result<(Vec<NewMilestone>, Option<i64>)> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(id) FROM (SELECT id FROM events WHERE id > $1 ORDER BY id LIMIT $2) page")
            .bind(after)
            .bind(i64::from(limit))
            .fetch_one(&mut **tx)
            .await
            .context("Failed to read the event log")?;
    let Some(last) = last else { return Ok((Vec::new(), None)) };
    let rows: Vec<MilestoneRow> = sqlx::query_as(
        "SELECT e.id, e.type, e.time, e.transaction_id, t.name, t.site, e.body FROM events e \
         JOIN transactions t ON t.id = e.transaction_id \
         WHERE e.id > $1 AND e.id <= $2 AND e.type NOT LIKE 'exception.%' ORDER BY e.id",
    )
    .bind(after)
    .bind(last)
    .fetch_all(&mut **tx)
    .await
    .context("Failed to read new milestones")?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        // A stock snapshot or an unknown type is no milestone of a flow.
        let Ok(kind) = r.kind.parse::<MilestoneKind>() else { continue };
        out.push(NewMilestone {
            event: r.id,
            kind,
            time: from_millis(r.time)?,
            transaction: r.transaction_id,
            transaction_name: r.name,
            site: r.site,
            body: r.body,
        });
    }
    Ok((out, Some(last)))
}

/// When a transaction's first milestone of this kind happened, if it has one.
pub async fn milestone_time(
    tx: &mut Tx<'_>,
    transaction: i64,
    kind: MilestoneKind,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let at: Option<i64> = sqlx::query_scalar("SELECT MIN(time) FROM events WHERE transaction_id = $1 AND type = $2")
        .bind(transaction)
        .bind(kind.as_str())
        .fetch_one(&mut **tx)
        .await
        .context("Failed to look for a milestone")?;
    at.map(from_millis).transpose()
}

/// Expects `expect` on a transaction by `due_at`; its id, none when it is
/// expected already.
pub async fn expect(
    tx: &mut Tx<'_>,
    transaction: i64,
    after: MilestoneKind,
    expect: MilestoneKind,
    since: DateTime<Utc>,
    due_at: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO expectations (transaction_id, after, expect, since, due_at, state) VALUES ($1, $2, $3, $4, $5, 'open') \
         ON CONFLICT (transaction_id, expect) DO NOTHING RETURNING id",
    )
    .bind(transaction)
    .bind(after.as_str())
    .bind(expect.as_str())
    .bind(to_millis(since))
    .bind(to_millis(due_at))
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to expect a milestone")
}

/// A transaction's open expectation of a milestone: its id and due time.
pub async fn open_for(
    tx: &mut Tx<'_>,
    transaction: i64,
    kind: MilestoneKind,
) -> anyhow::Result<Option<(i64, DateTime<Utc>)>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT id, due_at FROM expectations WHERE transaction_id = $1 AND expect = $2 AND met_at IS NULL",
    )
    .bind(transaction)
    .bind(kind.as_str())
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to read an expectation")?;
    row.map(|(id, due)| Ok((id, from_millis(due)?))).transpose()
}

/// The expected milestone arrived: in time, the expectation is met; late,
/// or after it was found overdue, it is kept overdue with its arrival, for
/// its exception to be filed (if not yet) and settled.
pub async fn arrived(tx: &mut Tx<'_>, id: i64, at: DateTime<Utc>, late: bool) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE expectations SET state = CASE WHEN $1 THEN 'overdue' WHEN state = 'open' THEN 'met' ELSE state END, \
         met_at = $2 WHERE id = $3",
    )
    .bind(late)
    .bind(to_millis(at))
    .bind(id)
    .execute(&mut **tx)
    .await
    .context("Failed to meet an expectation")?;
    Ok(())
}

/// An expectation by id, for a finding.
pub async fn by_id(tx: &mut Tx<'_>, id: i64) -> anyhow::Result<Option<Overdue>> {
    sqlx::query_as(
        "SELECT x.id, x.transaction_id, t.name, t.site, x.after, x.expect, x.due_at FROM expectations x \
         JOIN transactions t ON t.id = x.transaction_id WHERE x.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to read an expectation")
}

/// An expectation whose time ran out.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Overdue {
    pub id: i64,
    pub transaction_id: i64,
    pub name: String,
    pub site: Option<String>,
    pub after: String,
    pub expect: String,
    pub due_at: i64,
}

/// Open expectations due by `now`, the earliest first.
pub async fn overdue(tx: &mut Tx<'_>, now: DateTime<Utc>, limit: u32) -> anyhow::Result<Vec<Overdue>> {
    sqlx::query_as(
        "SELECT x.id, x.transaction_id, t.name, t.site, x.after, x.expect, x.due_at FROM expectations x \
         JOIN transactions t ON t.id = x.transaction_id WHERE x.state = 'open' AND x.due_at <= $1 \
         ORDER BY x.due_at LIMIT $2",
    )
    .bind(to_millis(now))
    .bind(i64::from(limit))
    .fetch_all(&mut **tx)
    .await
    .context("Failed to read overdue expectations")
}

pub async fn mark_overdue(tx: &mut Tx<'_>, id: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE expectations SET state = 'overdue' WHERE id = $1 AND state = 'open'")
        .bind(id)
        .execute(&mut **tx)
        .await
        .context("Failed to mark an expectation overdue")?;
    Ok(())
}

/// Keeps a finding to file: a whole event of Crossdock's own.
pub async fn find(tx: &mut Tx<'_>, event: &serde_json::Value, expectation: Option<i64>) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO lineage_findings (event, expectation_id) VALUES ($1, $2)")
        .bind(event.to_string())
        .bind(expectation)
        .execute(&mut **tx)
        .await
        .context("Failed to keep a finding")?;
    Ok(())
}

/// Findings not yet filed, oldest first.
pub async fn unfiled(pool: &Pool, limit: u32) -> anyhow::Result<Vec<(i64, String, Option<i64>)>> {
    sqlx::query_as("SELECT id, event, expectation_id FROM lineage_findings WHERE filed_at IS NULL ORDER BY id LIMIT $1")
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .context("Failed to read findings")
}

/// A finding was filed as (or counted on) `exception`.
pub async fn filed(
    pool: &Pool,
    finding: i64,
    expectation: Option<i64>,
    exception: Option<ExceptionId>,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut tx = super::begin(pool).await.context("Failed to begin a transaction")?;
    sqlx::query("UPDATE lineage_findings SET filed_at = $1 WHERE id = $2")
        .bind(to_millis(at))
        .bind(finding)
        .execute(&mut *tx)
        .await
        .context("Failed to mark a finding filed")?;
    if let (Some(x), Some(e)) = (expectation, exception) {
        sqlx::query("UPDATE expectations SET exception_id = COALESCE(exception_id, $1) WHERE id = $2")
            .bind(e.get())
            .bind(x)
            .execute(&mut *tx)
            .await
            .context("Failed to tie an exception to its expectation")?;
    }
    tx.commit().await.context("Failed to commit a filed finding")?;
    Ok(())
}

/// Overdue expectations whose milestone came after all, with their exception.
pub async fn to_settle(pool: &Pool, limit: u32) -> anyhow::Result<Vec<(i64, ExceptionId, String)>> {
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT id, exception_id, expect FROM expectations \
         WHERE met_at IS NOT NULL AND settled = 0 AND state = 'overdue' AND exception_id IS NOT NULL LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .context("Failed to read expectations to settle")?;
    Ok(rows.into_iter().map(|(id, e, k)| (id, ExceptionId::new(e), k)).collect())
}

pub async fn settle(tx: &mut Tx<'_>, id: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE expectations SET settled = 1 WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .context("Failed to settle an expectation")?;
    Ok(())
}

/// The stages of a transaction whose milestone is overdue now.
pub async fn overdue_of(pool: &Pool, transaction: i64) -> anyhow::Result<Vec<MilestoneKind>> {
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT expect FROM expectations WHERE transaction_id = $1 AND state = 'overdue' AND met_at IS NULL",
    )
    .bind(transaction)
    .fetch_all(pool)
    .await
    .context("Failed to read overdue stages")?;
    Ok(kinds.iter().filter_map(|k| k.parse().ok()).collect())
}

/// The first dispatch of a shipment logged before `before`: its event id and body.
pub async fn earlier_dispatch(
    tx: &mut Tx<'_>,
    shipment: &str,
    before: i64,
) -> anyhow::Result<Option<(String, String)>> {
    sqlx::query_as(
        "SELECT e.event_id, e.body FROM event_refs r JOIN events e ON e.id = r.event_id \
         WHERE r.kind = 'shipment' AND r.value = $1 AND e.type = 'shipment.dispatched' AND e.id < $2 \
         ORDER BY e.id LIMIT 1",
    )
    .bind(shipment)
    .bind(before)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to look for an earlier dispatch")
}

/// What the ASNs of a transaction (logged before `before`) shipped, by item.
pub async fn shipped_by_item(
    tx: &mut Tx<'_>,
    transaction: i64,
    before: i64,
) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body FROM events WHERE transaction_id = $1 AND type = 'asn.received' AND id < $2")
            .bind(transaction)
            .bind(before)
            .fetch_all(&mut **tx)
            .await
            .context("Failed to read a transaction's ASNs")?;
    let mut shipped = std::collections::BTreeMap::new();
    for body in bodies {
        let Some(event) = serde_json::from_str(&body).ok().and_then(|v| crossdock::event::parse_stored(&v).ok()) else {
            continue;
        };
        if let crossdock::event::Body::AsnReceived { lines, .. } = event.data.body {
            for l in lines {
                *shipped.entry(l.item).or_insert(0.0) += l.qty;
            }
        }
    }
    Ok(shipped)
}

/// The exception a finding already filed was filed as.
pub async fn exception_of_finding(pool: &Pool, event_id: &str) -> anyhow::Result<Option<ExceptionId>> {
    // The event's own row names the exception it opened or recurred on.
    let id: Option<Option<i64>> =
        sqlx::query_scalar("SELECT exception_id FROM events WHERE source = 'crossdock/lineage' AND event_id = $1")
            .bind(event_id)
            .fetch_optional(pool)
            .await
            .context("Failed to find a finding's exception")?;
    Ok(id.flatten().map(ExceptionId::new))
}

/// Whether a finding was kept for an expectation already.
pub async fn filed_for(tx: &mut Tx<'_>, expectation: i64) -> anyhow::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM lineage_findings WHERE expectation_id = $1 LIMIT 1")
        .bind(expectation)
        .fetch_optional(&mut **tx)
        .await
        .context("Failed to look for a finding")?;
    Ok(found.is_some())
}
