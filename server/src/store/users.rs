//! Users, their queues, and failed logins.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::accounts::{Density, Role, UserId, Username};
use crossdock::queue::QueueKey;
use secrecy::SecretString;

use super::{Flag, Pool, Tx, from_millis, to_millis};

/// A user as stored.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub password_hash: SecretString,
    pub demo: bool,
    /// Bumped to end every session of the user at once.
    pub session_epoch: i64,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub density: Density,
}

const COLUMNS: &str =
    "id, username, display_name, role, password_hash, demo, session_epoch, created_at, disabled_at, density";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    password_hash: String,
    demo: Flag,
    session_epoch: i64,
    created_at: i64,
    disabled_at: Option<i64>,
    density: String,
}

impl UserRow {
    fn into_user(self) -> anyhow::Result<StoredUser> {
        Ok(StoredUser {
            id: UserId(self.id),
            username: Username::parse(&self.username).context("stored user name is invalid")?,
            display_name: self.display_name,
            role: self.role.parse().context("stored role is invalid")?,
            password_hash: SecretString::from(self.password_hash),
            demo: self.demo.0,
            session_epoch: self.session_epoch,
            created_at: from_millis(self.created_at)?,
            disabled_at: self.disabled_at.map(from_millis).transpose()?,
            density: self.density.parse().context("stored list density is invalid")?,
        })
    }
}

fn user_of(row: Option<UserRow>) -> anyhow::Result<Option<StoredUser>> {
    row.map(UserRow::into_user).transpose()
}

pub struct NewUserRow<'a> {
    pub username: &'a Username,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub demo: bool,
    pub at: DateTime<Utc>,
}

/// Inserts a user; `None` when the name is taken.
pub async fn insert(tx: &mut Tx<'_>, new: &NewUserRow<'_>) -> anyhow::Result<Option<UserId>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO users (username, display_name, role, password_hash, demo, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
    )
    .bind(new.username.as_str())
    .bind(new.display_name)
    .bind(new.role.as_str())
    .bind(new.password_hash)
    .bind(i64::from(new.demo))
    .bind(to_millis(new.at))
    .bind(to_millis(new.at))
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to insert a user")?;
    Ok(id.map(UserId))
}

pub async fn by_username<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    username: &str,
) -> anyhow::Result<Option<StoredUser>> {
    let row = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"))
        .bind(username)
        .fetch_optional(db)
        .await
        .context("Failed to read a user")?;
    user_of(row)
}

pub async fn by_id<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: UserId,
) -> anyhow::Result<Option<StoredUser>> {
    let row = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(db)
        .await
        .context("Failed to read a user")?;
    user_of(row)
}

pub async fn list(pool: &Pool) -> anyhow::Result<Vec<StoredUser>> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
        .fetch_all(pool)
        .await
        .context("Failed to list users")?;
    rows.into_iter().map(UserRow::into_user).collect()
}

fn queue_key(q: &str) -> anyhow::Result<QueueKey> {
    QueueKey::parse(q).with_context(|| format!("stored queue membership `{q}` is invalid"))
}

pub async fn queues_of<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user: UserId,
) -> anyhow::Result<Vec<QueueKey>> {
    let queues: Vec<String> = sqlx::query_scalar("SELECT queue FROM queue_members WHERE user_id = $1 ORDER BY queue")
        .bind(user.0)
        .fetch_all(db)
        .await
        .context("Failed to read queue memberships")?;
    queues.iter().map(|q| queue_key(q)).collect()
}

/// Every membership: (user, queue).
pub async fn all_memberships(pool: &Pool) -> anyhow::Result<Vec<(UserId, QueueKey)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT user_id, queue FROM queue_members ORDER BY queue")
        .fetch_all(pool)
        .await
        .context("Failed to read queue memberships")?;
    rows.into_iter().map(|(u, q)| Ok((UserId(u), queue_key(&q)?))).collect()
}

pub async fn set_queues(tx: &mut Tx<'_>, user: UserId, queues: &[QueueKey]) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM queue_members WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut **tx)
        .await
        .context("Failed to clear queue memberships")?;
    for queue in queues {
        sqlx::query("INSERT INTO queue_members (user_id, queue) VALUES ($1, $2)")
            .bind(user.0)
            .bind(queue.as_str())
            .execute(&mut **tx)
            .await
            .context("Failed to add a queue membership")?;
    }
    Ok(())
}

/// Sets a user's name and role; `end_sessions` signs them out everywhere.
pub async fn set_profile(
    tx: &mut Tx<'_>,
    user: UserId,
    display_name: &str,
    role: Role,
    end_sessions: bool,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE users SET display_name = $1, role = $2, session_epoch = session_epoch + $3, updated_at = $4 WHERE id = $5",
    )
    .bind(display_name)
    .bind(role.as_str())
    .bind(i64::from(end_sessions))
    .bind(to_millis(at))
    .bind(user.0)
    .execute(&mut **tx)
    .await
    .context("Failed to update a user")?;
    Ok(())
}

/// Disables a user (ending their sessions) or enables them again.
pub async fn set_disabled(tx: &mut Tx<'_>, user: UserId, disabled: bool, at: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE users SET disabled_at = CASE WHEN $1 THEN COALESCE(disabled_at, $2) END, \
         session_epoch = session_epoch + CASE WHEN $1 THEN 1 ELSE 0 END, updated_at = $2 WHERE id = $3",
    )
    .bind(disabled)
    .bind(to_millis(at))
    .bind(user.0)
    .execute(&mut **tx)
    .await
    .context("Failed to disable a user")?;
    Ok(())
}

/// Sets a new password hash, ending the user's sessions; nothing else changes.
pub async fn set_password(tx: &mut Tx<'_>, user: UserId, hash: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1, updated_at = $2 WHERE id = $3",
    )
    .bind(hash)
    .bind(to_millis(at))
    .bind(user.0)
    .execute(&mut **tx)
    .await
    .context("Failed to set a password")?;
    Ok(())
}

/// Remembers how a person likes their queue list.
pub async fn set_density(pool: &Pool, user: UserId, density: Density) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET density = $1 WHERE id = $2")
        .bind(density.as_str())
        .bind(user.0)
        .execute(pool)
        .await
        .context("Failed to save a preference")?;
    Ok(())
}

/// Failed logins since `since`: for the name tried, and from the address.
/// The failures of a name within the window (newest first), and how many
/// came from an address; read inside the transaction that records the next.
pub async fn failures_since(
    tx: &mut Tx<'_>,
    username: &str,
    address: &str,
    since: DateTime<Utc>,
) -> anyhow::Result<(Vec<i64>, i64)> {
    let by_name: Vec<i64> =
        sqlx::query_scalar("SELECT at FROM login_failures WHERE username = $1 AND at >= $2 ORDER BY at DESC")
            .bind(username)
            .bind(to_millis(since))
            .fetch_all(&mut **tx)
            .await
            .context("Failed to count login failures")?;
    let by_address: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE address = $1 AND at >= $2")
        .bind(address)
        .bind(to_millis(since))
        .fetch_one(&mut **tx)
        .await
        .context("Failed to count login failures")?;
    Ok((by_name, by_address))
}

/// Counts an attempt as a failure, until a right password clears it.
pub async fn record_failure(tx: &mut Tx<'_>, username: &str, address: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO login_failures (username, address, at) VALUES ($1, $2, $3)")
        .bind(username)
        .bind(address)
        .bind(to_millis(at))
        .execute(&mut **tx)
        .await
        .context("Failed to record a login failure")?;
    Ok(())
}

pub async fn clear_failures(tx: &mut Tx<'_>, username: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(username)
        .execute(&mut **tx)
        .await
        .context("Failed to clear login failures")?;
    Ok(())
}
