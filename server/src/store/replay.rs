//! Replay jobs, their attempts, and what a replay needs of its exception.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::replay::{JobState, ReplayAttempt, ReplayJob, ReplayState, RetryPolicySpec};
use crossdock::source::SourceName;
use crossdock::{ExceptionId, ExceptionKind, Status};
use serde_json::Value;

use super::leases::{self, Lease, Work};
use super::{Flag, Pool, Tx, from_millis, to_millis};

/// The columns of a job, in the order [`JobRow`] reads them.
const JOB_COLUMNS: &str = "id, exception_id, connector_id, payload, content_type, payload_version, idempotency_key, \
     traceparent, policy, state, attempts, next_attempt_at, requested_by, automatic, created_at, finished_at, last_error";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    exception_id: i64,
    connector_id: i64,
    payload: String,
    content_type: String,
    payload_version: i64,
    idempotency_key: String,
    traceparent: Option<String>,
    policy: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    requested_by: String,
    automatic: Flag,
    created_at: i64,
    finished_at: Option<i64>,
    last_error: Option<String>,
}

impl JobRow {
    fn job(&self) -> anyhow::Result<ReplayJob> {
        let state: JobState = self.state.parse().context("stored job state is invalid")?;
        Ok(ReplayJob {
            id: self.id,
            exception: ExceptionId::new(self.exception_id),
            state,
            attempts: self.attempts,
            next_attempt_at: (state == JobState::Pending).then(|| from_millis(self.next_attempt_at)).transpose()?,
            requested_by: self.requested_by.clone(),
            automatic: self.automatic.0,
            message_version: self.payload_version,
            idempotency_key: self.idempotency_key.clone(),
            created_at: from_millis(self.created_at)?,
            finished_at: self.finished_at.map(from_millis).transpose()?,
            last_error: self.last_error.clone(),
        })
    }
}

/// A replay a worker holds, with what it delivers.
#[derive(Debug, Clone)]
pub struct HeldReplay {
    pub job: ReplayJob,
    pub connector: i64,
    /// The bytes to send.
    pub payload: String,
    pub content_type: String,
    pub traceparent: Option<String>,
    pub policy: RetryPolicySpec,
    pub lease: Lease,
}

/// The job a worker just claimed under `lease`.
pub async fn held(pool: &Pool, id: i64, lease: Lease) -> anyhow::Result<Option<HeldReplay>> {
    let row: Option<JobRow> =
        sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM replay_jobs WHERE id = $1 AND lease_token = $2"))
            .bind(id)
            .bind(&lease.token)
            .fetch_optional(pool)
            .await
            .context("Failed to read a replay")?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(HeldReplay {
        job: row.job()?,
        policy: serde_json::from_str(&row.policy).context("stored replay policy is unreadable")?,
        connector: row.connector_id,
        payload: row.payload,
        content_type: row.content_type,
        traceparent: row.traceparent,
        lease,
    }))
}

/// A replay to queue.
pub struct NewJob<'a> {
    pub exception: ExceptionId,
    pub connector: i64,
    pub payload: &'a str,
    pub content_type: &'a str,
    pub payload_version: i64,
    pub idempotency_key: &'a str,
    pub traceparent: Option<&'a str>,
    pub policy: &'a RetryPolicySpec,
    pub requested_by: &'a str,
    pub automatic: bool,
    pub at: DateTime<Utc>,
}

/// Queues a replay; `None` when one is already under way for the exception.
pub async fn create_job(tx: &mut Tx<'_>, j: &NewJob<'_>) -> anyhow::Result<Option<i64>> {
    let busy: Option<i64> =
        sqlx::query_scalar("SELECT id FROM replay_jobs WHERE exception_id = $1 AND state IN ('pending', 'running')")
            .bind(j.exception.get())
            .fetch_optional(&mut **tx)
            .await
            .context("Failed to look for a replay under way")?;
    if busy.is_some() {
        return Ok(None);
    }
    let id = sqlx::query_scalar(
        "INSERT INTO replay_jobs (exception_id, connector_id, payload, content_type, payload_version, idempotency_key, traceparent, policy, \
         state, next_attempt_at, requested_by, automatic, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12) RETURNING id",
    )
    .bind(j.exception.get())
    .bind(j.connector)
    .bind(j.payload)
    .bind(j.content_type)
    .bind(j.payload_version)
    .bind(j.idempotency_key)
    .bind(j.traceparent)
    .bind(serde_json::to_string(j.policy).context("Failed to encode a retry policy")?)
    .bind(to_millis(j.at))
    .bind(j.requested_by)
    .bind(i64::from(j.automatic))
    .bind(to_millis(j.at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to queue a replay")?;
    Ok(Some(id))
}

pub use super::leases::Attempt;

/// Records an attempt of a job still held under `lease`; `false` (and
/// nothing written) when the lease was lost to another worker.
pub async fn record_attempt(tx: &mut Tx<'_>, job: i64, lease: &Lease, a: &Attempt<'_>) -> anyhow::Result<bool> {
    leases::record_attempt(tx, Work::Replays, job, lease, a).await
}

/// Puts a held job back to wait until `next`; `false` when the lease was lost.
pub async fn reschedule(
    tx: &mut Tx<'_>,
    job: i64,
    lease: &Lease,
    next: DateTime<Utc>,
    error: Option<&str>,
) -> anyhow::Result<bool> {
    leases::reschedule(tx, Work::Replays, job, lease, next, error).await
}

/// Ends a held job as `succeeded` or `failed`; `false` when the lease was lost.
pub async fn finish(
    tx: &mut Tx<'_>,
    job: i64,
    lease: &Lease,
    state: JobState,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    leases::finish(tx, Work::Replays, job, lease, state.as_str(), error, at).await
}

/// The newest replays of an exception.
pub async fn jobs_of(pool: &Pool, exception: ExceptionId) -> anyhow::Result<Vec<ReplayJob>> {
    let rows: Vec<JobRow> = sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM replay_jobs WHERE exception_id = $1 ORDER BY id DESC LIMIT 20"
    ))
    .bind(exception.get())
    .fetch_all(pool)
    .await
    .context("Failed to read replays")?;
    rows.iter().map(JobRow::job).collect()
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    job_id: i64,
    attempt: i64,
    started_at: i64,
    latency_ms: Option<i64>,
    outcome: String,
    http_status: Option<i64>,
    answered: Flag,
}

/// The newest delivery attempts of an exception's replays (without what
/// the targets answered: [`answer_of`] reads that).
pub async fn attempts_of(pool: &Pool, exception: ExceptionId) -> anyhow::Result<Vec<ReplayAttempt>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT a.job_id, a.attempt, a.started_at, a.latency_ms, a.outcome, a.http_status, \
         COALESCE(a.response_head, '') <> '' AS answered \
         FROM replay_attempts a JOIN replay_jobs j ON j.id = a.job_id WHERE j.exception_id = $1 ORDER BY a.id DESC LIMIT 100",
    )
    .bind(exception.get())
    .fetch_all(pool)
    .await
    .context("Failed to read replay attempts")?;
    rows.into_iter()
        .map(|r| {
            Ok(ReplayAttempt {
                job: r.job_id,
                attempt: r.attempt,
                started_at: from_millis(r.started_at)?,
                latency_ms: r.latency_ms,
                outcome: r.outcome.parse().context("stored attempt outcome is invalid")?,
                http_status: r.http_status,
                answered: r.answered.0,
            })
        })
        .collect()
}

/// What the target answered to one attempt of a replay of `exception`
/// (its first KiB): `None` when there is no such attempt.
pub async fn answer_of(
    pool: &Pool,
    exception: ExceptionId,
    job: i64,
    attempt: i64,
) -> anyhow::Result<Option<Option<String>>> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT a.response_head FROM replay_attempts a JOIN replay_jobs j ON j.id = a.job_id \
         WHERE j.exception_id = $1 AND a.job_id = $2 AND a.attempt = $3",
    )
    .bind(exception.get())
    .bind(job)
    .bind(attempt)
    .fetch_optional(pool)
    .await
    .context("Failed to read a replay answer")?;
    Ok(row.map(|(head,)| head))
}

/// Marks an exception's replay state, note and next attempt.
pub async fn mark_exception(
    tx: &mut Tx<'_>,
    exception: ExceptionId,
    state: Option<ReplayState>,
    note: Option<&str>,
    next: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE exceptions SET replay_state = $1, replay_note = $2, next_replay_at = $3 WHERE id = $4")
        .bind(state.map(ReplayState::as_str))
        .bind(note)
        .bind(next.map(to_millis))
        .bind(exception.get())
        .execute(&mut **tx)
        .await
        .context("Failed to mark a replay on its exception")?;
    Ok(())
}

/// Stores a corrected message and bumps the message version; the new version.
pub async fn correct_payload(tx: &mut Tx<'_>, exception: ExceptionId, payload: &Value) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "UPDATE exceptions SET corrected_payload = $1, payload_version = payload_version + 1 WHERE id = $2 RETURNING payload_version",
    )
    .bind(payload.to_string())
    .bind(exception.get())
    .fetch_one(&mut **tx)
    .await
    .context("Failed to store the corrected message")
}

/// What a replay needs of its exception.
#[derive(Debug, Clone)]
pub struct ReplayFacts {
    pub id: ExceptionId,
    pub kind: ExceptionKind,
    pub status: Status,
    pub queue: String,
    /// The exception's version (bumped by every change).
    pub version: i64,
    /// The event's `data`, as received.
    pub data: Value,
    pub payload_version: i64,
    /// The message as a person corrected it, if someone did.
    pub corrected: Option<Value>,
    pub replay_state: Option<ReplayState>,
    pub replay_note: Option<String>,
    pub next_replay_at: Option<DateTime<Utc>>,
    /// The event that opened it, as received.
    pub event: Option<Value>,
    /// The registered source that filed it (none for exceptions older than
    /// sources, or whose source name no longer parses).
    pub filed_by: Option<SourceName>,
}

#[derive(sqlx::FromRow)]
struct FactsRow {
    id: i64,
    kind: String,
    status: String,
    queue: String,
    version: i64,
    payload: String,
    payload_version: i64,
    corrected_payload: Option<String>,
    replay_state: Option<String>,
    replay_note: Option<String>,
    next_replay_at: Option<i64>,
    event_body: Option<String>,
    filed_by: Option<String>,
}

pub async fn facts<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    exception: ExceptionId,
) -> anyhow::Result<Option<ReplayFacts>> {
    let row: Option<FactsRow> = sqlx::query_as(
        "SELECT e.id, e.kind, e.status, e.queue, e.version, e.payload, e.payload_version, e.corrected_payload, e.replay_state, \
         e.replay_note, e.next_replay_at, v.body AS event_body, s.name AS filed_by \
         FROM exceptions e LEFT JOIN events v ON v.id = e.event_id LEFT JOIN sources s ON s.id = v.source_id \
         WHERE e.id = $1",
    )
    .bind(exception.get())
    .fetch_optional(db)
    .await
    .context("Failed to read an exception for replay")?;
    let Some(r) = row else { return Ok(None) };
    let json = |text: &str| serde_json::from_str::<Value>(text);
    Ok(Some(ReplayFacts {
        id: ExceptionId::new(r.id),
        kind: r.kind.parse().context("stored type is invalid")?,
        status: r.status.parse().context("stored status is invalid")?,
        queue: r.queue,
        version: r.version,
        data: json(&r.payload).context("stored payload is unreadable")?,
        payload_version: r.payload_version,
        corrected: r.corrected_payload.as_deref().map(json).transpose().context("stored correction is unreadable")?,
        replay_state: r
            .replay_state
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("stored replay state is invalid")?,
        replay_note: r.replay_note,
        next_replay_at: r.next_replay_at.map(from_millis).transpose()?,
        event: r.event_body.as_deref().and_then(|b| json(b).ok()),
        filed_by: r.filed_by.as_deref().and_then(|n| SourceName::parse(n).ok()),
    }))
}
