//! Notifications in the console: what each person was told, read or not.

use crate::store::sql::Builder;
use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::escalation::EscalationLevel;

use super::{Pool, Tx, to_millis};

/// A notification to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub user_id: i64,
    pub exception_id: i64,
    pub kind: EscalationLevel,
    pub title: String,
}

pub async fn insert(tx: &mut Tx<'_>, notes: &[NewNotification], at: DateTime<Utc>) -> anyhow::Result<()> {
    for chunk in notes.chunks(100) {
        let mut q = Builder::new("INSERT INTO notifications (user_id, exception_id, kind, title, created_at) ");
        q.push_values(chunk, |mut b, n| {
            b.push_bind(n.user_id)
                .push_bind(n.exception_id)
                .push_bind(n.kind.as_str())
                .push_bind(&n.title)
                .push_bind(to_millis(at));
        });
        q.build().execute(&mut **tx).await.context("Failed to write notifications")?;
    }
    Ok(())
}

/// One notification as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub exception_id: Option<i64>,
    pub kind: String,
    pub title: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// A person's newest notifications.
pub async fn recent(pool: &Pool, user_id: i64, limit: u32) -> anyhow::Result<Vec<NotificationRow>> {
    sqlx::query_as(
        "SELECT id, exception_id, kind, title, created_at, read_at FROM notifications \
         WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .context("Failed to read notifications")
}

pub async fn unread(pool: &Pool, user_id: i64) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .context("Failed to count unread notifications")
}

/// Marks one of a person's notifications read, or all of them; how many were unread.
pub async fn mark_read(pool: &Pool, user_id: i64, id: Option<i64>, at: DateTime<Utc>) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL AND ($3 IS NULL OR id = $4)",
    )
    .bind(to_millis(at))
    .bind(user_id)
    .bind(id)
    .bind(id)
    .execute(pool)
    .await
    .context("Failed to mark notifications read")?;
    Ok(done.rows_affected())
}
