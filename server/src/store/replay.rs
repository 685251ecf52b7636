//! Connectors, retry policies, replay jobs and their attempts.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::replay::{JobState, ReplayState};

use super::{Pool, Tx, to_millis};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectorRow {
    pub id: i64,
    pub name: String,
    pub system: String,
    pub operation: String,
    pub spec: String,
    pub secret: Option<String>,
    pub breaker: String,
    pub updated_at: i64,
}

pub async fn connectors(pool: &Pool) -> anyhow::Result<Vec<ConnectorRow>> {
    sqlx::query_as("SELECT * FROM connectors ORDER BY name").fetch_all(pool).await.context("Failed to read connectors")
}

pub async fn connector<'e>(db: impl sqlx::SqliteExecutor<'e>, id: i64) -> anyhow::Result<Option<ConnectorRow>> {
    sqlx::query_as("SELECT * FROM connectors WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await
        .context("Failed to read a connector")
}

pub async fn connector_named<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    name: &str,
) -> anyhow::Result<Option<ConnectorRow>> {
    sqlx::query_as("SELECT * FROM connectors WHERE name = ?")
        .bind(name)
        .fetch_optional(db)
        .await
        .context("Failed to read a connector")
}

/// The connector for a system and operation: the exact one, else the
/// system's catch-all (`*`).
pub async fn connector_for<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    system: &str,
    operation: &str,
) -> anyhow::Result<Option<ConnectorRow>> {
    sqlx::query_as(
        "SELECT * FROM connectors WHERE system = ? AND operation IN (?, '*') ORDER BY operation = '*' LIMIT 1",
    )
    .bind(system)
    .bind(operation)
    .fetch_optional(db)
    .await
    .context("Failed to find a connector")
}

/// Creates or replaces a connector by name; a `None` secret keeps the stored one.
pub async fn save_connector(
    tx: &mut Tx<'_>,
    (name, system, operation): (&str, &str, &str),
    spec: &str,
    secret: Option<&str>,
    at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO connectors (name, system, operation, spec, secret, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (name) DO UPDATE SET system = excluded.system, operation = excluded.operation, spec = excluded.spec, \
         secret = COALESCE(excluded.secret, connectors.secret), updated_at = excluded.updated_at RETURNING id",
    )
    .bind(name)
    .bind(system)
    .bind(operation)
    .bind(spec)
    .bind(secret)
    .bind(to_millis(at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to save a connector")
}

/// Moves a breaker from `from` to `to`; `false` when it was no longer `from`.
pub async fn swap_breaker<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    connector: i64,
    from: &str,
    to: &str,
) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE connectors SET breaker = ? WHERE id = ? AND breaker = ?")
        .bind(to)
        .bind(connector)
        .bind(from)
        .execute(db)
        .await
        .context("Failed to update a circuit breaker")?;
    Ok(done.rows_affected() == 1)
}

pub async fn policies(pool: &Pool) -> anyhow::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT name, spec FROM retry_policies ORDER BY name")
        .fetch_all(pool)
        .await
        .context("Failed to read retry policies")
}

pub async fn policy<'e>(db: impl sqlx::SqliteExecutor<'e>, name: &str) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar("SELECT spec FROM retry_policies WHERE name = ?")
        .bind(name)
        .fetch_optional(db)
        .await
        .context("Failed to read a retry policy")
}

pub async fn save_policy(tx: &mut Tx<'_>, name: &str, spec: &str, at: DateTime<Utc>) -> anyhow::Result<Option<String>> {
    let before = policy(&mut **tx, name).await?;
    sqlx::query(
        "INSERT INTO retry_policies (name, spec, updated_at) VALUES (?, ?, ?) \
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(spec)
    .bind(to_millis(at))
    .execute(&mut **tx)
    .await
    .context("Failed to save a retry policy")?;
    Ok(before)
}

pub async fn queue_policies(pool: &Pool) -> anyhow::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT queue, policy FROM queue_retry_policies ORDER BY queue")
        .fetch_all(pool)
        .await
        .context("Failed to read queue retry policies")
}

pub async fn queue_policy<'e>(db: impl sqlx::SqliteExecutor<'e>, queue: &str) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar("SELECT policy FROM queue_retry_policies WHERE queue = ?")
        .bind(queue)
        .fetch_optional(db)
        .await
        .context("Failed to read a queue's retry policy")
}

pub async fn set_queue_policy(tx: &mut Tx<'_>, queue: &str, policy: Option<&str>) -> anyhow::Result<()> {
    match policy {
        Some(p) => sqlx::query(
            "INSERT INTO queue_retry_policies (queue, policy) VALUES (?, ?) ON CONFLICT (queue) DO UPDATE SET policy = excluded.policy",
        )
        .bind(queue)
        .bind(p)
        .execute(&mut **tx)
        .await,
        None => sqlx::query("DELETE FROM queue_retry_policies WHERE queue = ?").bind(queue).execute(&mut **tx).await,
    }
    .context("Failed to attach a retry policy to a queue")?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub exception_id: i64,
    pub connector_id: i64,
    pub payload: String,
    pub content_type: String,
    pub payload_version: i64,
    pub idempotency_key: String,
    pub traceparent: Option<String>,
    pub policy: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_token: Option<String>,
    pub lease_until: Option<i64>,
    pub requested_by: String,
    pub automatic: bool,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub last_error: Option<String>,
}

/// A replay to queue.
pub struct NewJob<'a> {
    pub exception: i64,
    pub connector: i64,
    pub payload: &'a str,
    pub content_type: &'a str,
    pub payload_version: i64,
    pub idempotency_key: &'a str,
    pub traceparent: Option<&'a str>,
    pub policy: &'a str,
    pub requested_by: &'a str,
    pub automatic: bool,
    pub at: DateTime<Utc>,
}

/// Queues a replay; `None` when one is already under way for the exception.
pub async fn create_job(tx: &mut Tx<'_>, j: &NewJob<'_>) -> anyhow::Result<Option<i64>> {
    let busy: Option<i64> =
        sqlx::query_scalar("SELECT id FROM replay_jobs WHERE exception_id = ? AND state IN ('pending', 'running')")
            .bind(j.exception)
            .fetch_optional(&mut **tx)
            .await
            .context("Failed to look for a replay under way")?;
    if busy.is_some() {
        return Ok(None);
    }
    let id = sqlx::query_scalar(
        "INSERT INTO replay_jobs (exception_id, connector_id, payload, content_type, payload_version, idempotency_key, traceparent, policy, \
         state, next_attempt_at, requested_by, automatic, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) RETURNING id",
    )
    .bind(j.exception)
    .bind(j.connector)
    .bind(j.payload)
    .bind(j.content_type)
    .bind(j.payload_version)
    .bind(j.idempotency_key)
    .bind(j.traceparent)
    .bind(j.policy)
    .bind(to_millis(j.at))
    .bind(j.requested_by)
    .bind(j.automatic)
    .bind(to_millis(j.at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to queue a replay")?;
    Ok(Some(id))
}

/// Claims the job due first: a pending one whose time has come, or a
/// running one whose worker's lease ran out. The claim is one statement, so
/// two workers never hold the same job.
pub async fn claim(
    pool: &Pool,
    now: DateTime<Utc>,
    token: &str,
    lease_until: DateTime<Utc>,
) -> anyhow::Result<Option<JobRow>> {
    let now = to_millis(now);
    // Idle workers only read: the write lock is taken when there is work.
    let due: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM replay_jobs WHERE (state = 'pending' AND next_attempt_at <= ?) OR (state = 'running' AND lease_until < ?) LIMIT 1",
    )
    .bind(now)
    .bind(now)
    .fetch_optional(pool)
    .await
    .context("Failed to look for due replays")?;
    if due.is_none() {
        return Ok(None);
    }
    sqlx::query_as(
        "UPDATE replay_jobs SET state = 'running', lease_token = ?, lease_until = ? \
         WHERE id = (SELECT id FROM replay_jobs \
                     WHERE (state = 'pending' AND next_attempt_at <= ?) OR (state = 'running' AND lease_until < ?) \
                     ORDER BY next_attempt_at, id LIMIT 1) \
         RETURNING *",
    )
    .bind(token)
    .bind(to_millis(lease_until))
    .bind(now)
    .bind(now)
    .fetch_optional(pool)
    .await
    .context("Failed to claim a replay")
}

/// One delivery attempt, as recorded.
pub struct Attempt<'a> {
    pub number: i64,
    pub started: DateTime<Utc>,
    pub latency_ms: i64,
    pub outcome: &'a str,
    pub http_status: Option<i64>,
    pub response_head: Option<&'a str>,
}

/// Records an attempt of a job still held under `token`; `false` (and
/// nothing written) when the lease was lost to another worker.
pub async fn record_attempt(tx: &mut Tx<'_>, job: i64, token: &str, a: &Attempt<'_>) -> anyhow::Result<bool> {
    let (attempt, started, latency_ms, outcome, http_status, response_head) =
        (a.number, a.started, a.latency_ms, a.outcome, a.http_status, a.response_head);
    let held = sqlx::query(
        "UPDATE replay_jobs SET attempts = ? WHERE id = ? AND state = 'running' AND lease_token = ? AND attempts = ?",
    )
    .bind(attempt)
    .bind(job)
    .bind(token)
    .bind(attempt - 1)
    .execute(&mut **tx)
    .await
    .context("Failed to count an attempt")?;
    if held.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO replay_attempts (job_id, attempt, started_at, latency_ms, outcome, http_status, response_head) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(job)
    .bind(attempt)
    .bind(to_millis(started))
    .bind(latency_ms)
    .bind(outcome)
    .bind(http_status)
    .bind(response_head)
    .execute(&mut **tx)
    .await
    .context("Failed to record an attempt")?;
    Ok(true)
}

/// Puts a held job back to wait until `next`.
pub async fn reschedule(
    tx: &mut Tx<'_>,
    job: i64,
    token: &str,
    next: DateTime<Utc>,
    error: Option<&str>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE replay_jobs SET state = 'pending', next_attempt_at = ?, lease_token = NULL, lease_until = NULL, \
         last_error = COALESCE(?, last_error) WHERE id = ? AND lease_token = ? AND state = 'running'",
    )
    .bind(to_millis(next))
    .bind(error)
    .bind(job)
    .bind(token)
    .execute(&mut **tx)
    .await
    .context("Failed to reschedule a replay")?;
    Ok(done.rows_affected() == 1)
}

/// Ends a held job as `succeeded` or `failed`.
pub async fn finish(
    tx: &mut Tx<'_>,
    job: i64,
    token: &str,
    state: JobState,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE replay_jobs SET state = ?, finished_at = ?, lease_token = NULL, lease_until = NULL, last_error = ? \
         WHERE id = ? AND lease_token = ? AND state = 'running'",
    )
    .bind(state.as_str())
    .bind(to_millis(at))
    .bind(error)
    .bind(job)
    .bind(token)
    .execute(&mut **tx)
    .await
    .context("Failed to finish a replay")?;
    Ok(done.rows_affected() == 1)
}

pub async fn jobs_of(pool: &Pool, exception: i64) -> anyhow::Result<Vec<JobRow>> {
    sqlx::query_as("SELECT * FROM replay_jobs WHERE exception_id = ? ORDER BY id DESC LIMIT 20")
        .bind(exception)
        .fetch_all(pool)
        .await
        .context("Failed to read replays")
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub job_id: i64,
    pub attempt: i64,
    pub started_at: i64,
    pub latency_ms: Option<i64>,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub response_head: Option<String>,
}

pub async fn attempts_of(pool: &Pool, exception: i64) -> anyhow::Result<Vec<AttemptRow>> {
    sqlx::query_as(
        "SELECT a.job_id, a.attempt, a.started_at, a.latency_ms, a.outcome, a.http_status, a.response_head \
         FROM replay_attempts a JOIN replay_jobs j ON j.id = a.job_id WHERE j.exception_id = ? ORDER BY a.id DESC LIMIT 100",
    )
    .bind(exception)
    .fetch_all(pool)
    .await
    .context("Failed to read replay attempts")
}

/// Marks an exception's replay state, note and next attempt.
pub async fn mark_exception(
    tx: &mut Tx<'_>,
    exception: i64,
    state: Option<ReplayState>,
    note: Option<&str>,
    next: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE exceptions SET replay_state = ?, replay_note = ?, next_replay_at = ? WHERE id = ?")
        .bind(state.map(ReplayState::as_str))
        .bind(note)
        .bind(next.map(to_millis))
        .bind(exception)
        .execute(&mut **tx)
        .await
        .context("Failed to mark a replay on its exception")?;
    Ok(())
}

/// Stores a corrected message and bumps the message version.
pub async fn correct_payload(tx: &mut Tx<'_>, exception: i64, payload: &str) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "UPDATE exceptions SET corrected_payload = ?, payload_version = payload_version + 1 WHERE id = ? RETURNING payload_version",
    )
    .bind(payload)
    .bind(exception)
    .fetch_one(&mut **tx)
    .await
    .context("Failed to store the corrected message")
}

/// What a replay needs of its exception.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplayFacts {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub queue: String,
    pub severity: String,
    pub version: i64,
    pub assignee: Option<String>,
    pub sla_policy_version: Option<i64>,
    pub payload: String,
    pub payload_version: i64,
    pub corrected_payload: Option<String>,
    pub replay_state: Option<String>,
    pub replay_note: Option<String>,
    pub next_replay_at: Option<i64>,
    pub event_body: Option<String>,
}

pub async fn facts<'e>(db: impl sqlx::SqliteExecutor<'e>, exception: i64) -> anyhow::Result<Option<ReplayFacts>> {
    sqlx::query_as(
        "SELECT e.id, e.kind, e.status, e.queue, e.severity, e.version, e.assignee, e.sla_policy_version, e.payload, \
         e.payload_version, e.corrected_payload, e.replay_state, e.replay_note, e.next_replay_at, v.body AS event_body \
         FROM exceptions e LEFT JOIN events v ON v.id = e.event_id WHERE e.id = ?",
    )
    .bind(exception)
    .fetch_optional(db)
    .await
    .context("Failed to read an exception for replay")
}
