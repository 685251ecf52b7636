//! Bulk jobs and their items.

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::{Pool, Tx, to_millis};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub user_id: i64,
    pub action: String,
    pub total: i64,
    pub done: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

pub async fn create(tx: &mut Tx<'_>, user: i64, action: &str, ids: &[i64], at: DateTime<Utc>) -> anyhow::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO bulk_jobs (user_id, action, total, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(user)
    .bind(action)
    .bind(ids.len() as i64)
    .bind(to_millis(at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to create a bulk job")?;
    for chunk in ids.chunks(300) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO bulk_job_items (job_id, exception_id) ");
        q.push_values(chunk, |mut b, e| {
            b.push_bind(id).push_bind(*e);
        });
        q.build().execute(&mut **tx).await.context("Failed to add bulk items")?;
    }
    Ok(id)
}

pub async fn job(pool: &Pool, id: i64) -> anyhow::Result<Option<JobRow>> {
    sqlx::query_as("SELECT * FROM bulk_jobs WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("Failed to read a bulk job")
}

pub async fn unfinished(pool: &Pool) -> anyhow::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM bulk_jobs WHERE finished_at IS NULL ORDER BY id")
        .fetch_all(pool)
        .await
        .context("Failed to read unfinished bulk jobs")
}

/// The items not done yet, in order.
pub async fn pending(pool: &Pool, job: i64) -> anyhow::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT exception_id FROM bulk_job_items WHERE job_id = ? AND outcome IS NULL ORDER BY exception_id",
    )
    .bind(job)
    .fetch_all(pool)
    .await
    .context("Failed to read bulk items")
}

pub async fn record(pool: &Pool, job: i64, exception: i64, outcome: &str, message: Option<&str>) -> anyhow::Result<()> {
    let mut tx = crate::store::begin(pool).await.context("Failed to begin a transaction")?;
    let changed = sqlx::query(
        "UPDATE bulk_job_items SET outcome = ?, message = ? WHERE job_id = ? AND exception_id = ? AND outcome IS NULL",
    )
    .bind(outcome)
    .bind(message)
    .bind(job)
    .bind(exception)
    .execute(&mut *tx)
    .await
    .context("Failed to record a bulk item")?;
    if changed.rows_affected() == 1 {
        sqlx::query("UPDATE bulk_jobs SET done = done + 1 WHERE id = ?")
            .bind(job)
            .execute(&mut *tx)
            .await
            .context("Failed to count a bulk item")?;
    }
    tx.commit().await.context("Failed to commit a bulk item")?;
    Ok(())
}

pub async fn finish(pool: &Pool, job: i64, at: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query("UPDATE bulk_jobs SET finished_at = ? WHERE id = ?")
        .bind(to_millis(at))
        .bind(job)
        .execute(pool)
        .await
        .context("Failed to finish a bulk job")?;
    Ok(())
}

/// Every item with its outcome: (exception, outcome, message).
pub async fn items(pool: &Pool, job: i64) -> anyhow::Result<Vec<(i64, Option<String>, Option<String>)>> {
    sqlx::query_as("SELECT exception_id, outcome, message FROM bulk_job_items WHERE job_id = ? ORDER BY exception_id")
        .bind(job)
        .fetch_all(pool)
        .await
        .context("Failed to read bulk items")
}
