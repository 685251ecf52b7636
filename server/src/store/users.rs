//! Users, their queues, and failed logins.

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::{Pool, Tx, to_millis};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub demo: bool,
    pub session_epoch: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub disabled_at: Option<i64>,
}

pub struct NewUserRow<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub demo: bool,
    pub at: DateTime<Utc>,
}

/// Inserts a user; `None` when the name is taken.
pub async fn insert(tx: &mut Tx<'_>, new: &NewUserRow<'_>) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO users (username, display_name, role, password_hash, demo, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING RETURNING id",
    )
    .bind(new.username)
    .bind(new.display_name)
    .bind(new.role)
    .bind(new.password_hash)
    .bind(new.demo)
    .bind(to_millis(new.at))
    .bind(to_millis(new.at))
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to insert a user")
}

pub async fn by_username<'e>(db: impl sqlx::SqliteExecutor<'e>, username: &str) -> anyhow::Result<Option<UserRow>> {
    sqlx::query_as("SELECT * FROM users WHERE username = ?")
        .bind(username)
        .fetch_optional(db)
        .await
        .context("Failed to read a user")
}

pub async fn by_id<'e>(db: impl sqlx::SqliteExecutor<'e>, id: i64) -> anyhow::Result<Option<UserRow>> {
    sqlx::query_as("SELECT * FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await
        .context("Failed to read a user")
}

pub async fn list(pool: &Pool) -> anyhow::Result<Vec<UserRow>> {
    sqlx::query_as("SELECT * FROM users ORDER BY username").fetch_all(pool).await.context("Failed to list users")
}

pub async fn count(pool: &Pool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await.context("Failed to count users")
}

pub async fn queues_of<'e>(db: impl sqlx::SqliteExecutor<'e>, user: i64) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar("SELECT queue FROM queue_members WHERE user_id = ? ORDER BY queue")
        .bind(user)
        .fetch_all(db)
        .await
        .context("Failed to read queue memberships")
}

pub async fn all_memberships(pool: &Pool) -> anyhow::Result<Vec<(i64, String)>> {
    sqlx::query_as("SELECT user_id, queue FROM queue_members ORDER BY queue")
        .fetch_all(pool)
        .await
        .context("Failed to read queue memberships")
}

pub async fn set_queues(tx: &mut Tx<'_>, user: i64, queues: &[String]) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM queue_members WHERE user_id = ?")
        .bind(user)
        .execute(&mut **tx)
        .await
        .context("Failed to clear queue memberships")?;
    for queue in queues {
        sqlx::query("INSERT INTO queue_members (user_id, queue) VALUES (?, ?)")
            .bind(user)
            .bind(queue)
            .execute(&mut **tx)
            .await
            .context("Failed to add a queue membership")?;
    }
    Ok(())
}

/// What an admin may change of a user; `end_sessions` signs them out everywhere.
pub struct UserUpdate<'a> {
    pub display_name: &'a str,
    pub role: &'a str,
    pub password_hash: Option<&'a str>,
    pub disabled_at: Option<i64>,
    pub end_sessions: bool,
    pub at: DateTime<Utc>,
}

pub async fn update(tx: &mut Tx<'_>, user: i64, u: &UserUpdate<'_>) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE users SET display_name = ?, role = ?, password_hash = COALESCE(?, password_hash), \
         disabled_at = ?, session_epoch = session_epoch + ?, updated_at = ? WHERE id = ?",
    )
    .bind(u.display_name)
    .bind(u.role)
    .bind(u.password_hash)
    .bind(u.disabled_at)
    .bind(i64::from(u.end_sessions))
    .bind(to_millis(u.at))
    .bind(user)
    .execute(&mut **tx)
    .await
    .context("Failed to update a user")?;
    Ok(())
}

/// Failed logins since `since`: for the name tried, and from the address.
pub async fn failures_since(
    pool: &Pool,
    username: &str,
    address: &str,
    since: DateTime<Utc>,
) -> anyhow::Result<(Vec<i64>, i64)> {
    let by_name: Vec<i64> =
        sqlx::query_scalar("SELECT at FROM login_failures WHERE username = ? AND at >= ? ORDER BY at DESC")
            .bind(username)
            .bind(to_millis(since))
            .fetch_all(pool)
            .await
            .context("Failed to count login failures")?;
    let by_address: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE address = ? AND at >= ?")
        .bind(address)
        .bind(to_millis(since))
        .fetch_one(pool)
        .await
        .context("Failed to count login failures")?;
    Ok((by_name, by_address))
}

pub async fn record_failure(tx: &mut Tx<'_>, username: &str, address: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO login_failures (username, address, at) VALUES (?, ?, ?)")
        .bind(username)
        .bind(address)
        .bind(to_millis(at))
        .execute(&mut **tx)
        .await
        .context("Failed to record a login failure")?;
    Ok(())
}

pub async fn clear_failures(tx: &mut Tx<'_>, username: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE username = ?")
        .bind(username)
        .execute(&mut **tx)
        .await
        .context("Failed to clear login failures")?;
    Ok(())
}
