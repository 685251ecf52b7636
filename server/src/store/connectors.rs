//! Connectors (where replays are delivered, with their circuit breakers) and
//! retry policies.

use crate::secrets::Sealed;
use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::replay::{Breaker, ConnectorSpec, RetryPolicySpec};

use super::{Pool, Tx, to_millis};

/// A replay target as stored.
#[derive(Debug, Clone)]
pub struct Connector {
    pub id: i64,
    pub spec: ConnectorSpec,
    /// Sealed; opened only to send it.
    pub secret: Option<Sealed>,
    pub breaker: Breaker,
}

#[derive(sqlx::FromRow)]
struct ConnectorRow {
    id: i64,
    spec: String,
    secret: Option<String>,
    breaker: String,
}

const CONNECTOR_COLUMNS: &str = "id, spec, secret, breaker";

impl ConnectorRow {
    fn into_connector(self) -> anyhow::Result<Connector> {
        Ok(Connector {
            id: self.id,
            spec: serde_json::from_str(&self.spec).context("stored connector is unreadable")?,
            secret: self.secret.map(Sealed::from_stored),
            breaker: serde_json::from_str(&self.breaker).context("stored circuit breaker is unreadable")?,
        })
    }
}

fn connector_of(row: Option<ConnectorRow>) -> anyhow::Result<Option<Connector>> {
    row.map(ConnectorRow::into_connector).transpose()
}

pub async fn connectors(pool: &Pool) -> anyhow::Result<Vec<Connector>> {
    let rows: Vec<ConnectorRow> =
        sqlx::query_as(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE deleted_at IS NULL ORDER BY name"))
            .fetch_all(pool)
            .await
            .context("Failed to read connectors")?;
    rows.into_iter().map(ConnectorRow::into_connector).collect()
}

pub async fn connector<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: i64,
) -> anyhow::Result<Option<Connector>> {
    let row =
        sqlx::query_as(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE id = $1 AND deleted_at IS NULL"))
            .bind(id)
            .fetch_optional(db)
            .await
            .context("Failed to read a connector")?;
    connector_of(row)
}

pub async fn connector_named<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    name: &str,
) -> anyhow::Result<Option<Connector>> {
    let row =
        sqlx::query_as(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE name = $1 AND deleted_at IS NULL"))
            .bind(name)
            .fetch_optional(db)
            .await
            .context("Failed to read a connector")?;
    connector_of(row)
}

/// The connector for a system and operation: the exact one, else the
/// system's catch-all (`*`).
pub async fn connector_for<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    system: &str,
    operation: &str,
) -> anyhow::Result<Option<Connector>> {
    let row = sqlx::query_as(&format!(
        "SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE system = $1 AND operation IN ($2, '*') \
         AND deleted_at IS NULL ORDER BY operation = '*' LIMIT 1"
    ))
    .bind(system)
    .bind(operation)
    .fetch_optional(db)
    .await
    .context("Failed to find a connector")?;
    connector_of(row)
}

/// Creates or replaces a connector by name; a `None` secret keeps the stored one.
pub async fn save_connector(
    tx: &mut Tx<'_>,
    spec: &ConnectorSpec,
    secret: Option<&Sealed>,
    at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO connectors (name, system, operation, spec, secret, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (name) DO UPDATE SET system = excluded.system, operation = excluded.operation, spec = excluded.spec, \
         secret = COALESCE(excluded.secret, connectors.secret), updated_at = excluded.updated_at RETURNING id",
    )
    .bind(&spec.name)
    .bind(spec.system.as_str())
    .bind(&spec.operation)
    .bind(serde_json::to_string(spec).context("Failed to encode a connector")?)
    .bind(secret.map(Sealed::as_stored))
    .bind(to_millis(at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to save a connector")
}

/// How many replays waiting or under way a connector delivers.
pub async fn jobs_using(tx: &mut Tx<'_>, connector: i64) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM replay_jobs WHERE connector_id = $1 AND state IN ('pending', 'running')")
        .bind(connector)
        .fetch_one(&mut **tx)
        .await
        .context("Failed to count a connector's replays")
}

/// Deletes a connector, keeping it as a tombstone for the replays it
/// delivered; its name and target are free again.
pub async fn delete(tx: &mut Tx<'_>, connector: i64, at: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE connectors SET deleted_at = $1, name = name || '#deleted-' || id, \
         operation = operation || '#deleted-' || id WHERE id = $2 AND deleted_at IS NULL",
    )
    .bind(to_millis(at))
    .bind(connector)
    .execute(&mut **tx)
    .await
    .context("Failed to delete a connector")?;
    Ok(())
}

/// Moves a connector's breaker on from its state as read inside `tx`, which
/// holds the write lock: no other worker's update can come between.
pub async fn update_breaker(
    tx: &mut Tx<'_>,
    connector: i64,
    next: impl FnOnce(Breaker) -> Breaker,
) -> anyhow::Result<()> {
    let stored: Option<String> = sqlx::query_scalar("SELECT breaker FROM connectors WHERE id = $1")
        .bind(connector)
        .fetch_optional(&mut **tx)
        .await
        .context("Failed to read a circuit breaker")?;
    let Some(stored) = stored else { return Ok(()) };
    let current: Breaker = serde_json::from_str(&stored).context("stored circuit breaker is unreadable")?;
    let updated = next(current);
    if updated != current {
        sqlx::query("UPDATE connectors SET breaker = $1 WHERE id = $2")
            .bind(serde_json::to_string(&updated).context("Failed to encode a circuit breaker")?)
            .bind(connector)
            .execute(&mut **tx)
            .await
            .context("Failed to update a circuit breaker")?;
    }
    Ok(())
}

/// Moves a breaker from `from` to `to`; `false` when it was no longer `from`.
pub async fn swap_breaker<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    connector: i64,
    from: &Breaker,
    to: &Breaker,
) -> anyhow::Result<bool> {
    let encode = |b: &Breaker| serde_json::to_string(b).context("Failed to encode a circuit breaker");
    let done = sqlx::query("UPDATE connectors SET breaker = $1 WHERE id = $2 AND breaker = $3")
        .bind(encode(to)?)
        .bind(connector)
        .bind(encode(from)?)
        .execute(db)
        .await
        .context("Failed to update a circuit breaker")?;
    Ok(done.rows_affected() == 1)
}

fn policy_of(spec: &str) -> anyhow::Result<RetryPolicySpec> {
    serde_json::from_str(spec).context("stored retry policy is unreadable")
}

pub async fn policies(pool: &Pool) -> anyhow::Result<Vec<RetryPolicySpec>> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT spec FROM retry_policies ORDER BY name")
        .fetch_all(pool)
        .await
        .context("Failed to read retry policies")?;
    rows.iter().map(|s| policy_of(s)).collect()
}

pub async fn policy<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    name: &str,
) -> anyhow::Result<Option<RetryPolicySpec>> {
    let spec: Option<String> = sqlx::query_scalar("SELECT spec FROM retry_policies WHERE name = $1")
        .bind(name)
        .fetch_optional(db)
        .await
        .context("Failed to read a retry policy")?;
    spec.as_deref().map(policy_of).transpose()
}

/// Saves a policy under its name; the one it replaced, if any.
pub async fn save_policy(
    tx: &mut Tx<'_>,
    spec: &RetryPolicySpec,
    at: DateTime<Utc>,
) -> anyhow::Result<Option<RetryPolicySpec>> {
    let name = spec.name.trim();
    let before = policy(&mut **tx, name).await?;
    sqlx::query(
        "INSERT INTO retry_policies (name, spec, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(serde_json::to_string(spec).context("Failed to encode a retry policy")?)
    .bind(to_millis(at))
    .execute(&mut **tx)
    .await
    .context("Failed to save a retry policy")?;
    Ok(before)
}

/// (queue, policy) pairs.
pub async fn queue_policies(pool: &Pool) -> anyhow::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT queue, policy FROM queue_retry_policies ORDER BY queue")
        .fetch_all(pool)
        .await
        .context("Failed to read queue retry policies")
}

pub async fn queue_policy<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    queue: &str,
) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar("SELECT policy FROM queue_retry_policies WHERE queue = $1")
        .bind(queue)
        .fetch_optional(db)
        .await
        .context("Failed to read a queue's retry policy")
}

pub async fn set_queue_policy(tx: &mut Tx<'_>, queue: &str, policy: Option<&str>) -> anyhow::Result<()> {
    match policy {
        Some(p) => sqlx::query(
            "INSERT INTO queue_retry_policies (queue, policy) VALUES ($1, $2) ON CONFLICT (queue) DO UPDATE SET policy = excluded.policy",
        )
        .bind(queue)
        .bind(p)
        .execute(&mut **tx)
        .await,
        None => sqlx::query("DELETE FROM queue_retry_policies WHERE queue = $1").bind(queue).execute(&mut **tx).await,
    }
    .context("Failed to attach a retry policy to a queue")?;
    Ok(())
}

/// Every connector's secret, as stored.
pub async fn secrets(tx: &mut Tx<'_>) -> anyhow::Result<Vec<(i64, Sealed)>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, secret FROM connectors WHERE secret IS NOT NULL AND deleted_at IS NULL")
            .fetch_all(&mut **tx)
            .await
            .context("Failed to read connector secrets")?;
    Ok(rows.into_iter().map(|(id, s)| (id, Sealed::from_stored(s))).collect())
}

pub async fn set_secret(tx: &mut Tx<'_>, connector: i64, secret: &Sealed) -> anyhow::Result<()> {
    sqlx::query("UPDATE connectors SET secret = $1 WHERE id = $2")
        .bind(secret.as_stored())
        .bind(connector)
        .execute(&mut **tx)
        .await
        .context("Failed to store a connector secret")?;
    Ok(())
}
