//! Escalation: the exceptions a level may still fire on, the steps that
//! fired, the lease of the sweep, and raising an exception's severity.

use std::collections::HashSet;

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::escalation::EscalationLevel;
use crossdock::sla::ClockKind;
use crossdock::{Severity, Status};

use super::exceptions::{SlaColumns, bind_sla, set_sla};
use super::{Backend, Pool, Tx, from_millis, to_millis};
use crate::store::sql::Builder;

const OPEN: &str = "status IN ('new', 'acknowledged', 'in_progress', 'waiting')";
const COLUMNS: &str = "id, queue, assignee, severity, summary, status, created_at, sla_due_at, sla_risk_at, sla_frozen, sla_policy_version";

/// An exception a level may fire on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: i64,
    pub queue: String,
    pub assignee: Option<String>,
    pub severity: String,
    pub summary: String,
    pub status: String,
    pub created_at: i64,
    pub sla_due_at: Option<i64>,
    pub sla_risk_at: Option<i64>,
    pub sla_frozen: Option<String>,
    pub sla_policy_version: Option<i64>,
}

impl CandidateRow {
    pub fn severity(&self) -> anyhow::Result<Severity> {
        self.severity.parse().context("stored severity is invalid")
    }

    pub fn created(&self) -> anyhow::Result<DateTime<Utc>> {
        from_millis(self.created_at)
    }

    pub fn is_new(&self) -> bool {
        self.status == Status::New.as_str()
    }

    /// The clock its SLA state is read from: acknowledge while it is new.
    pub fn clock(&self) -> ClockKind {
        if self.is_new() { ClockKind::Acknowledge } else { ClockKind::Resolve }
    }

    /// Whether its running clock is past its target at `now`.
    pub fn breached_at(&self, now: DateTime<Utc>) -> bool {
        self.sla_frozen.is_none() && self.sla_due_at.is_some_and(|d| d <= to_millis(now))
    }
}

/// Where a slice of candidates starts: after this key and id.
pub type Place = (i64, i64);

/// Open exceptions on which `level` has not fired and whose instant for it
/// (`key`: the at-risk instant, or the due instant of the running clock) is
/// past, in order of that instant, after `place`; read through the partial
/// index that holds only those the level may still fire on.
async fn past(
    pool: &Pool,
    level: EscalationLevel,
    now: DateTime<Utc>,
    place: Place,
    limit: u32,
) -> anyhow::Result<Vec<CandidateRow>> {
    let (index, key) = match level {
        EscalationLevel::AtRisk => ("exceptions_escalate_risk", "sla_risk_at"),
        _ => ("exceptions_escalate_breach", "sla_sort"),
    };
    let bit = level.bit();
    let indexed = Backend::of(pool).indexed_by(index);
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exceptions {indexed} \
         WHERE {OPEN} AND (escalated & {bit}) = 0 AND {key} <= $1 AND ({key}, id) > ($2, $3) \
         ORDER BY {key}, id LIMIT $4"
    ))
    .bind(to_millis(now))
    .bind(place.0)
    .bind(place.1)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .with_context(|| format!("Failed to read the exceptions {}", level.as_str()))
}

/// Open exceptions past their at-risk instant on which the level has not
/// fired, in order of that instant, after `place`.
pub async fn at_risk(pool: &Pool, now: DateTime<Utc>, place: Place, limit: u32) -> anyhow::Result<Vec<CandidateRow>> {
    past(pool, EscalationLevel::AtRisk, now, place, limit).await
}

/// Open exceptions whose running clock is past its target and on which the
/// level has not fired, the earliest due first, after `place`.
pub async fn breached(pool: &Pool, now: DateTime<Utc>, place: Place, limit: u32) -> anyhow::Result<Vec<CandidateRow>> {
    past(pool, EscalationLevel::Breached, now, place, limit).await
}

/// New exceptions of `queue` opened at or before `opened_by` on which the
/// level has not fired, the oldest first, after `place`.
pub async fn unacknowledged(
    pool: &Pool,
    queue: &str,
    opened_by: DateTime<Utc>,
    place: Place,
    limit: u32,
) -> anyhow::Result<Vec<CandidateRow>> {
    let indexed = Backend::of(pool).indexed_by("exceptions_escalate_unacknowledged");
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exceptions {indexed} \
         WHERE status = 'new' AND (escalated & 4) = 0 AND queue = $1 AND created_at <= $2 \
         AND (created_at, id) > ($3, $4) ORDER BY created_at, id LIMIT $5"
    ))
    .bind(queue)
    .bind(to_millis(opened_by))
    .bind(place.0)
    .bind(place.1)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .context("Failed to read the exceptions not acknowledged")
}

/// Records that `level` fired on each of `rows`' running clocks, where the
/// exception is still as the sweep read it (open, the same clock running,
/// past the level's instant) and the level has not fired on that clock;
/// answers the ids it fired on, whatever instance swept the others. One
/// statement per table and hundred rows.
pub async fn fire(
    tx: &mut Tx<'_>,
    rows: &[&CandidateRow],
    level: EscalationLevel,
    at: DateTime<Utc>,
) -> anyhow::Result<HashSet<i64>> {
    let still = match level {
        EscalationLevel::AtRisk => "sla_frozen IS NULL AND sla_risk_at <= ",
        EscalationLevel::Breached => "sla_sort <= ",
        EscalationLevel::Unacknowledged => "created_at <= ",
    };
    let mut fired = HashSet::new();
    for chunk in rows.chunks(100) {
        let mut q = Builder::new("WITH c (id, is_new) AS (");
        q.push_values(chunk, |mut b, row| {
            b.push_bind(row.id).push_bind(row.is_new());
        });
        q.push(") UPDATE exceptions SET escalated = escalated | ")
            .push_bind(level.bit())
            .push(" FROM c WHERE exceptions.id = c.id AND (escalated & ")
            .push_bind(level.bit())
            .push(format!(") = 0 AND {OPEN} AND (status = 'new') = c.is_new AND {still}"))
            .push_bind(to_millis(at))
            .push(" RETURNING exceptions.id");
        let marked: HashSet<i64> = q
            .build_query_scalar()
            .fetch_all(&mut **tx)
            .await
            .context("Failed to mark escalations")?
            .into_iter()
            .collect();
        let marked: Vec<&&CandidateRow> = chunk.iter().filter(|r| marked.contains(&r.id)).collect();
        if marked.is_empty() {
            continue;
        }
        let mut q = Builder::new("INSERT INTO escalation_steps (exception_id, clock, level, fired_at) ");
        q.push_values(marked, |mut b, row| {
            b.push_bind(row.id).push_bind(row.clock().as_str()).push_bind(level.as_str()).push_bind(to_millis(at));
        });
        q.push(" ON CONFLICT (exception_id, clock, level) DO NOTHING RETURNING exception_id");
        let recorded: Vec<i64> =
            q.build_query_scalar().fetch_all(&mut **tx).await.context("Failed to record escalation steps")?;
        fired.extend(recorded);
    }
    Ok(fired)
}

/// Raises an exception's severity, with the clocks its new targets give.
pub async fn set_severity(
    tx: &mut Tx<'_>,
    id: i64,
    severity: Severity,
    sla: &SlaColumns,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let statement = format!(
        "UPDATE exceptions SET severity = $1, severity_order = $2, version = version + 1, updated_at = $3, {} \
         WHERE id = $14",
        set_sla(4)
    );
    let query = sqlx::query(&statement)
        .bind(severity.as_str())
        .bind(crossdock::triage::severity_order(severity))
        .bind(to_millis(at));
    bind_sla(query, sla).bind(id).execute(&mut **tx).await.context("Failed to raise a severity")?;
    Ok(())
}

/// Claims a singleton sweep until `until`, unless another instance holds it.
pub async fn claim_sweep(
    pool: &Pool,
    name: &str,
    token: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE sweep_leases SET lease_token = $1, lease_until = $2 \
         WHERE name = $3 AND (lease_until IS NULL OR lease_until < $4 OR lease_token = $5)",
    )
    .bind(token)
    .bind(to_millis(until))
    .bind(name)
    .bind(to_millis(now))
    .bind(token)
    .execute(pool)
    .await
    .context("Failed to claim a sweep")?;
    Ok(done.rows_affected() == 1)
}

/// Renews a sweep's lease in the transaction that writes its work; `false`
/// when another instance took it over (the work must not be written).
pub async fn hold_sweep(tx: &mut Tx<'_>, name: &str, token: &str, until: DateTime<Utc>) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE sweep_leases SET lease_until = $1 WHERE name = $2 AND lease_token = $3")
        .bind(to_millis(until))
        .bind(name)
        .bind(token)
        .execute(&mut **tx)
        .await
        .context("Failed to renew a sweep's lease")?;
    Ok(done.rows_affected() == 1)
}

pub async fn release_sweep(pool: &Pool, name: &str, token: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE sweep_leases SET lease_token = NULL, lease_until = NULL WHERE name = $1 AND lease_token = $2")
        .bind(name)
        .bind(token)
        .execute(pool)
        .await
        .context("Failed to release a sweep")?;
    Ok(())
}
