//! Leases on rows of background work: a worker claims the row due first with
//! one statement, holds it until the lease runs out, renews it while it works,
//! and writes its results only while it still holds it. A worker that dies
//! leaves its row to be taken over once the lease has run out.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};

use super::{Pool, to_millis};

/// A claim on one row, held until `until` by whoever knows `token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub token: String,
    pub until: DateTime<Utc>,
}

impl Lease {
    /// A new lease, held from `now` for `hold`.
    pub fn new(now: DateTime<Utc>, hold: Duration) -> anyhow::Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the system random source failed: {e}"))?;
        Ok(Self { token: bytes.iter().map(|b| format!("{b:02x}")).collect(), until: now + hold })
    }
}

/// The kinds of leased work: each a table with `lease_token` and `lease_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Replay jobs: pending ones when their attempt is due, running ones whose
    /// worker's lease ran out.
    Replays,
    /// Bulk actions not finished and not held.
    BulkActions,
    /// Messages to notification channels, like replays.
    Deliveries,
}

impl Work {
    const fn table(self) -> &'static str {
        match self {
            Work::Replays => "replay_jobs",
            Work::BulkActions => "bulk_jobs",
            Work::Deliveries => "notification_deliveries",
        }
    }

    /// Which rows are due at `?1`.
    const fn due(self) -> &'static str {
        match self {
            Work::Replays | Work::Deliveries => {
                "(state = 'pending' AND next_attempt_at <= ?1) OR (state = 'running' AND lease_until < ?1)"
            }
            Work::BulkActions => "finished_at IS NULL AND (lease_until IS NULL OR lease_until < ?1)",
        }
    }

    const fn order(self) -> &'static str {
        match self {
            Work::Replays | Work::Deliveries => "next_attempt_at, id",
            Work::BulkActions => "id",
        }
    }

    /// What else a claim sets.
    const fn claimed(self) -> &'static str {
        match self {
            Work::Replays | Work::Deliveries => "state = 'running', ",
            Work::BulkActions => "",
        }
    }
}

/// Claims the row of `work` due first at `now`, under `lease`; its id.
pub async fn claim(pool: &Pool, work: Work, now: DateTime<Utc>, lease: &Lease) -> anyhow::Result<Option<i64>> {
    let (table, due) = (work.table(), work.due());
    // Idle workers only read: the write lock is taken when there is work.
    let any: Option<i64> = sqlx::query_scalar(&format!("SELECT 1 FROM {table} WHERE {due} LIMIT 1"))
        .bind(to_millis(now))
        .fetch_optional(pool)
        .await
        .with_context(|| format!("Failed to look for due {table}"))?;
    if any.is_none() {
        return Ok(None);
    }
    let statement = format!(
        "UPDATE {table} SET {claimed}lease_token = ?2, lease_until = ?3 \
         WHERE id = (SELECT id FROM {table} WHERE {due} ORDER BY {order} LIMIT 1) RETURNING id",
        claimed = work.claimed(),
        order = work.order(),
    );
    sqlx::query_scalar(&statement)
        .bind(to_millis(now))
        .bind(&lease.token)
        .bind(to_millis(lease.until))
        .fetch_optional(pool)
        .await
        .with_context(|| format!("Failed to claim from {table}"))
}

/// Gives a row back before its lease runs out, so that the next claim may
/// take it at once; `false` when the lease was lost meanwhile.
pub async fn release(pool: &Pool, work: Work, id: i64, lease: &Lease) -> anyhow::Result<bool> {
    let table = work.table();
    let done = sqlx::query(&format!(
        "UPDATE {table} SET lease_token = NULL, lease_until = NULL WHERE id = ? AND lease_token = ?"
    ))
    .bind(id)
    .bind(&lease.token)
    .execute(pool)
    .await
    .with_context(|| format!("Failed to release a lease on {table}"))?;
    Ok(done.rows_affected() == 1)
}

/// Extends a lease that is still held until `until`; `false` when it was lost.
pub async fn renew(pool: &Pool, work: Work, id: i64, lease: &mut Lease, until: DateTime<Utc>) -> anyhow::Result<bool> {
    let table = work.table();
    let done = sqlx::query(&format!("UPDATE {table} SET lease_until = ? WHERE id = ? AND lease_token = ?"))
        .bind(to_millis(until))
        .bind(id)
        .bind(&lease.token)
        .execute(pool)
        .await
        .with_context(|| format!("Failed to renew a lease on {table}"))?;
    if done.rows_affected() == 1 {
        lease.until = until;
    }
    Ok(done.rows_affected() == 1)
}
