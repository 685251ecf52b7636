//! Console sessions: the session layer's records, kept as JSON.

use super::Pool;

/// Stores a new session; false when the id is taken.
pub async fn create(pool: &Pool, id: &str, data: &str, expires_at: i64, now: i64) -> Result<bool, sqlx::Error> {
    // Sessions that ran out go when new ones come.
    sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1").bind(now).execute(pool).await?;
    let inserted = sqlx::query(
        "INSERT INTO console_sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn save(pool: &Pool, id: &str, data: &str, expires_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_sessions (id, data, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The session's record, unless it is unknown or ran out.
pub async fn load(pool: &Pool, id: &str, now: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT data FROM console_sessions WHERE id = $1 AND expires_at > $2")
        .bind(id)
        .bind(now)
        .fetch_optional(pool)
        .await
}

pub async fn delete(pool: &Pool, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM console_sessions WHERE id = $1").bind(id).execute(pool).await?;
    Ok(())
}
