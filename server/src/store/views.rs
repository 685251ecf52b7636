//! Saved queue views.

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::{Pool, Tx, to_millis};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ViewRow {
    pub id: i64,
    pub name: String,
    pub owner: Option<i64>,
    pub team: Option<String>,
    pub query: String,
    pub created_by: i64,
}

/// The user's own views and every team view (the service picks the teams).
pub async fn list(pool: &Pool, user: i64) -> anyhow::Result<Vec<ViewRow>> {
    sqlx::query_as(
        "SELECT id, name, owner, team, query, created_by FROM saved_views \
         WHERE owner = $1 OR team IS NOT NULL ORDER BY team IS NOT NULL, team, name",
    )
    .bind(user)
    .fetch_all(pool)
    .await
    .context("Failed to read saved views")
}

/// Saves a view; `None` when the name is taken for that owner or team.
pub async fn insert(
    tx: &mut Tx<'_>,
    name: &str,
    owner: Option<i64>,
    team: Option<&str>,
    query: &str,
    by: i64,
    at: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    let taken: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM saved_views WHERE name = $1 AND (owner = $2 OR (team IS NOT NULL AND team = $3))",
    )
    .bind(name)
    .bind(owner)
    .bind(team)
    .fetch_one(&mut **tx)
    .await
    .context("Failed to check a view name")?;
    if taken > 0 {
        return Ok(None);
    }
    sqlx::query_scalar(
        "INSERT INTO saved_views (name, owner, team, query, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(name)
    .bind(owner)
    .bind(team)
    .bind(query)
    .bind(by)
    .bind(to_millis(at))
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to save a view")
}

pub async fn by_id(tx: &mut Tx<'_>, id: i64) -> anyhow::Result<Option<ViewRow>> {
    sqlx::query_as("SELECT id, name, owner, team, query, created_by FROM saved_views WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .context("Failed to read a saved view")
}

pub async fn delete(tx: &mut Tx<'_>, id: i64) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM saved_views WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .context("Failed to delete a view")?;
    Ok(())
}
