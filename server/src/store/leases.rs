//! Leases on rows of background work: a worker claims the row due first with
//! one statement, holds it until the lease runs out, renews it while it works,
//! and writes its results only while it still holds it. A worker that dies
//! leaves its row to be taken over once the lease has run out.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};

use crossdock::replay::AttemptOutcome;

use super::{Backend, Pool, Tx, to_millis};

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

    /// Which rows are due at `$1`.
    const fn due(self) -> &'static str {
        match self {
            Work::Replays | Work::Deliveries => {
                "(state = 'pending' AND next_attempt_at <= $1) OR (state = 'running' AND lease_until < $1)"
            }
            Work::BulkActions => "finished_at IS NULL AND (lease_until IS NULL OR lease_until < $1)",
        }
    }

    const fn order(self) -> &'static str {
        match self {
            Work::Replays | Work::Deliveries => "next_attempt_at, id",
            Work::BulkActions => "id",
        }
    }

    /// Where the attempts of a delivering kind are kept, and the column
    /// naming the row they belong to.
    const fn attempts(self) -> (&'static str, &'static str) {
        match self {
            Work::Replays => ("replay_attempts", "job_id"),
            Work::Deliveries => ("notification_attempts", "delivery_id"),
            Work::BulkActions => ("", ""),
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
    // On PostgreSQL claims run side by side (on SQLite they take turns):
    // a row another claim holds is passed over, and one it took meanwhile
    // is no longer due when rechecked under the lock.
    let statement = format!(
        "UPDATE {table} SET {claimed}lease_token = $2, lease_until = $3 \
         WHERE id = (SELECT id FROM {table} WHERE {due} ORDER BY {order} LIMIT 1{skip_locked}) RETURNING id",
        claimed = work.claimed(),
        order = work.order(),
        skip_locked = Backend::of(pool).pick("", " FOR UPDATE SKIP LOCKED"),
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
        "UPDATE {table} SET lease_token = NULL, lease_until = NULL WHERE id = $1 AND lease_token = $2"
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
    let done = sqlx::query(&format!("UPDATE {table} SET lease_until = $1 WHERE id = $2 AND lease_token = $3"))
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

/// One delivery attempt (of a replay or a notification), as recorded.
pub struct Attempt<'a> {
    pub number: i64,
    pub started: DateTime<Utc>,
    pub latency_ms: i64,
    pub outcome: AttemptOutcome,
    pub http_status: Option<i64>,
    pub response_head: Option<&'a str>,
}

/// Records an attempt at a row still held under `lease`; `false` (and
/// nothing written) when the lease was lost to another worker.
pub async fn record_attempt(
    tx: &mut Tx<'_>,
    work: Work,
    id: i64,
    lease: &Lease,
    a: &Attempt<'_>,
) -> anyhow::Result<bool> {
    let (table, (attempts, owner)) = (work.table(), work.attempts());
    let held = sqlx::query(&format!(
        "UPDATE {table} SET attempts = $1 WHERE id = $2 AND state = 'running' AND lease_token = $3 AND attempts = $4"
    ))
    .bind(a.number)
    .bind(id)
    .bind(&lease.token)
    .bind(a.number - 1)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("Failed to count an attempt on {table}"))?;
    if held.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(&format!(
        "INSERT INTO {attempts} ({owner}, attempt, started_at, latency_ms, outcome, http_status, response_head) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(id)
    .bind(a.number)
    .bind(to_millis(a.started))
    .bind(a.latency_ms)
    .bind(a.outcome.as_str())
    .bind(a.http_status)
    .bind(a.response_head)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("Failed to record an attempt in {attempts}"))?;
    Ok(true)
}

/// Puts a held row back to wait until `next`, keeping its last error unless
/// a new one is given; `false` when the lease was lost.
pub async fn reschedule(
    tx: &mut Tx<'_>,
    work: Work,
    id: i64,
    lease: &Lease,
    next: DateTime<Utc>,
    error: Option<&str>,
) -> anyhow::Result<bool> {
    let table = work.table();
    let done = sqlx::query(&format!(
        "UPDATE {table} SET state = 'pending', next_attempt_at = $1, lease_token = NULL, lease_until = NULL, \
         last_error = COALESCE($2, last_error) WHERE id = $3 AND lease_token = $4 AND state = 'running'"
    ))
    .bind(to_millis(next))
    .bind(error)
    .bind(id)
    .bind(&lease.token)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("Failed to reschedule a row of {table}"))?;
    Ok(done.rows_affected() == 1)
}

/// Ends a held row in `state` with `error` (none once delivered); `false`
/// when the lease was lost.
pub async fn finish(
    tx: &mut Tx<'_>,
    work: Work,
    id: i64,
    lease: &Lease,
    state: &str,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let table = work.table();
    let done = sqlx::query(&format!(
        "UPDATE {table} SET state = $1, finished_at = $2, lease_token = NULL, lease_until = NULL, last_error = $3 \
         WHERE id = $4 AND lease_token = $5 AND state = 'running'"
    ))
    .bind(state)
    .bind(to_millis(at))
    .bind(error)
    .bind(id)
    .bind(&lease.token)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("Failed to finish a row of {table}"))?;
    Ok(done.rows_affected() == 1)
}
