//! Bulk actions and their items.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::ExceptionId;
use crossdock::triage::{BulkItem, BulkOutcome, TriageAction};

use super::leases::Lease;
use super::{Pool, Tx, to_millis};

/// A bulk action as stored.
#[derive(Debug, Clone)]
pub struct StoredBulk {
    pub id: i64,
    /// The user who started it.
    pub owner: i64,
    pub action: TriageAction,
    pub total: i64,
    pub done: i64,
    pub finished: bool,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    user_id: i64,
    action: String,
    total: i64,
    done: i64,
    finished_at: Option<i64>,
}

impl JobRow {
    fn into_bulk(self) -> anyhow::Result<StoredBulk> {
        Ok(StoredBulk {
            id: self.id,
            owner: self.user_id,
            action: serde_json::from_str(&self.action).context("stored bulk action is unreadable")?,
            total: self.total,
            done: self.done,
            finished: self.finished_at.is_some(),
        })
    }
}

const JOB_COLUMNS: &str = "id, user_id, action, total, done, finished_at";

pub async fn create(
    tx: &mut Tx<'_>,
    user: i64,
    action: &TriageAction,
    ids: &[ExceptionId],
    at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO bulk_jobs (user_id, action, total, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(user)
    .bind(serde_json::to_string(action).context("Failed to encode a bulk action")?)
    .bind(ids.len() as i64)
    .bind(to_millis(at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to create a bulk job")?;
    for chunk in ids.chunks(300) {
        let mut q = crate::store::sql::Builder::new("INSERT INTO bulk_job_items (job_id, exception_id) ");
        q.push_values(chunk, |mut b, e| {
            b.push_bind(id).push_bind(e.get());
        });
        q.build().execute(&mut **tx).await.context("Failed to add bulk items")?;
    }
    Ok(id)
}

pub async fn job(pool: &Pool, id: i64) -> anyhow::Result<Option<StoredBulk>> {
    let row: Option<JobRow> = sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM bulk_jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("Failed to read a bulk job")?;
    row.map(JobRow::into_bulk).transpose()
}

/// The items not done yet, in order.
pub async fn pending(pool: &Pool, job: i64) -> anyhow::Result<Vec<ExceptionId>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT exception_id FROM bulk_job_items WHERE job_id = $1 AND outcome IS NULL ORDER BY exception_id",
    )
    .bind(job)
    .fetch_all(pool)
    .await
    .context("Failed to read bulk items")?;
    Ok(ids.into_iter().map(ExceptionId::new).collect())
}

/// Records what became of one item, while the job is held under `lease`;
/// `false` when the lease was lost.
pub async fn record(pool: &Pool, job: i64, lease: &Lease, item: &BulkItem) -> anyhow::Result<bool> {
    let mut tx = super::begin(pool).await.context("Failed to begin a transaction")?;
    if !record_in(&mut tx, job, lease, item).await? {
        return Ok(false);
    }
    tx.commit().await.context("Failed to commit a bulk item")?;
    Ok(true)
}

/// Records what became of one item in `tx`, the transaction that did it, so
/// that the item is done and counted exactly when its change is; `false`
/// (nothing written) when the lease was lost. The job's row stays locked
/// until `tx` ends, so no other worker takes the job over meanwhile.
pub async fn record_in(tx: &mut Tx<'_>, job: i64, lease: &Lease, item: &BulkItem) -> anyhow::Result<bool> {
    let lock = super::Backend::of_tx(tx).pick("", " FOR UPDATE");
    let held: Option<i64> =
        sqlx::query_scalar(&format!("SELECT 1 FROM bulk_jobs WHERE id = $1 AND lease_token = $2{lock}"))
            .bind(job)
            .bind(&lease.token)
            .fetch_optional(&mut **tx)
            .await
            .context("Failed to check a bulk lease")?;
    if held.is_none() {
        return Ok(false);
    }
    let changed = sqlx::query(
        "UPDATE bulk_job_items SET outcome = $1, message = $2 WHERE job_id = $3 AND exception_id = $4 AND outcome IS NULL",
    )
    .bind(item.outcome.map(BulkOutcome::as_str))
    .bind(item.message.as_deref())
    .bind(job)
    .bind(item.exception.get())
    .execute(&mut **tx)
    .await
    .context("Failed to record a bulk item")?;
    if changed.rows_affected() == 1 {
        sqlx::query("UPDATE bulk_jobs SET done = done + 1 WHERE id = $1")
            .bind(job)
            .execute(&mut **tx)
            .await
            .context("Failed to count a bulk item")?;
    }
    Ok(true)
}

/// Ends a job held under `lease`.
pub async fn finish(pool: &Pool, job: i64, lease: &Lease, at: DateTime<Utc>) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE bulk_jobs SET finished_at = $1, lease_token = NULL, lease_until = NULL WHERE id = $2 AND lease_token = $3",
    )
    .bind(to_millis(at))
    .bind(job)
    .bind(&lease.token)
    .execute(pool)
    .await
    .context("Failed to finish a bulk job")?;
    Ok(done.rows_affected() == 1)
}

/// Every item with its outcome.
pub async fn items(pool: &Pool, job: i64) -> anyhow::Result<Vec<BulkItem>> {
    let rows: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT exception_id, outcome, message FROM bulk_job_items WHERE job_id = $1 ORDER BY exception_id",
    )
    .bind(job)
    .fetch_all(pool)
    .await
    .context("Failed to read bulk items")?;
    rows.into_iter()
        .map(|(id, outcome, message)| {
            Ok(BulkItem {
                exception: ExceptionId::new(id),
                outcome: outcome.as_deref().map(str::parse).transpose().context("stored bulk outcome is invalid")?,
                message,
            })
        })
        .collect()
}
