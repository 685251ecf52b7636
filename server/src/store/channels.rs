//! Notification channels, the messages queued for them (an outbox written
//! with the step that caused each), and every attempt at delivering one.

use std::collections::HashMap;

use crate::store::sql::Builder;
use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::channel::{ChannelSpec, Delivery, DeliveryAttempt, DeliveryState};
use crossdock::escalation::EscalationLevel;

use super::leases::Lease;
use super::{Pool, Tx, from_millis, to_millis};
use crate::secrets::Sealed;

/// A channel as stored.
#[derive(Debug, Clone)]
pub struct Channel {
    pub id: i64,
    pub spec: ChannelSpec,
    /// Sealed; opened only to sign a message.
    pub secret: Option<Sealed>,
    pub deleted: bool,
}

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: i64,
    spec: String,
    secret: Option<String>,
    deleted_at: Option<i64>,
}

impl ChannelRow {
    fn into_channel(self) -> anyhow::Result<Channel> {
        Ok(Channel {
            id: self.id,
            spec: serde_json::from_str(&self.spec).context("stored channel is unreadable")?,
            secret: self.secret.map(Sealed::from_stored),
            deleted: self.deleted_at.is_some(),
        })
    }
}

const CHANNEL_COLUMNS: &str = "id, spec, secret, deleted_at";

/// The channels not deleted, by name.
pub async fn channels<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> anyhow::Result<Vec<Channel>> {
    let rows: Vec<ChannelRow> = sqlx::query_as(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE deleted_at IS NULL ORDER BY name"
    ))
    .fetch_all(db)
    .await
    .context("Failed to read notification channels")?;
    rows.into_iter().map(ChannelRow::into_channel).collect()
}

/// A channel by id, deleted or not.
pub async fn channel(pool: &Pool, id: i64) -> anyhow::Result<Option<Channel>> {
    let row: Option<ChannelRow> =
        sqlx::query_as(&format!("SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
            .context("Failed to read a notification channel")?;
    row.map(ChannelRow::into_channel).transpose()
}

/// A channel not deleted, by name.
pub async fn named(tx: &mut Tx<'_>, name: &str) -> anyhow::Result<Option<Channel>> {
    let row: Option<ChannelRow> = sqlx::query_as(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE name = $1 AND deleted_at IS NULL"
    ))
    .bind(name)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to read a notification channel")?;
    row.map(ChannelRow::into_channel).transpose()
}

pub async fn insert(
    tx: &mut Tx<'_>,
    spec: &ChannelSpec,
    secret: Option<&Sealed>,
    at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO notification_channels (name, spec, secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(&spec.name)
    .bind(serde_json::to_string(spec)?)
    .bind(secret.map(Sealed::as_stored))
    .bind(to_millis(at))
    .bind(to_millis(at))
    .fetch_one(&mut **tx)
    .await
    .context("Failed to create a notification channel")
}

/// Saves a channel's settings, and its secret when one is given.
pub async fn update(
    tx: &mut Tx<'_>,
    id: i64,
    spec: &ChannelSpec,
    secret: Option<&Sealed>,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE notification_channels SET spec = $1, secret = COALESCE($2, secret), updated_at = $3 WHERE id = $4",
    )
    .bind(serde_json::to_string(spec)?)
    .bind(secret.map(Sealed::as_stored))
    .bind(to_millis(at))
    .bind(id)
    .execute(&mut **tx)
    .await
    .context("Failed to save a notification channel")?;
    Ok(())
}

/// Deletes a channel; its deliveries are kept, and those not yet made fail.
pub async fn delete(tx: &mut Tx<'_>, id: i64, at: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query("UPDATE notification_channels SET deleted_at = $1 WHERE id = $2")
        .bind(to_millis(at))
        .bind(id)
        .execute(&mut **tx)
        .await
        .context("Failed to delete a notification channel")?;
    sqlx::query(
        "UPDATE notification_deliveries SET state = 'failed', finished_at = $1, lease_token = NULL, \
         lease_until = NULL, last_error = 'the channel was deleted' WHERE channel_id = $2 AND state = 'pending'",
    )
    .bind(to_millis(at))
    .bind(id)
    .execute(&mut **tx)
    .await
    .context("Failed to end a deleted channel's deliveries")?;
    Ok(())
}

/// The levels each person has sent outward, by user id (only those with any).
pub async fn outward_levels(pool: &Pool) -> anyhow::Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as("SELECT id, outward_levels FROM users WHERE outward_levels <> 0")
        .fetch_all(pool)
        .await
        .context("Failed to read people's outward choices")?;
    Ok(rows.into_iter().collect())
}

pub async fn outward_of(pool: &Pool, user_id: i64) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT outward_levels FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .context("Failed to read a person's outward choice")
}

pub async fn set_outward(tx: &mut Tx<'_>, user_id: i64, bits: i64) -> anyhow::Result<i64> {
    sqlx::query_scalar("UPDATE users SET outward_levels = $1 WHERE id = $2 RETURNING outward_levels")
        .bind(bits)
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await
        .context("Failed to save a person's outward choice")
}

/// A message to queue for a channel.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub channel_id: i64,
    pub exception_id: Option<i64>,
    pub level: Option<EscalationLevel>,
    pub body: String,
    pub recipients: i64,
}

/// Queues messages, each due at once; their ids.
pub async fn enqueue(tx: &mut Tx<'_>, deliveries: &[NewDelivery], at: DateTime<Utc>) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(deliveries.len());
    for chunk in deliveries.chunks(100) {
        let mut q = Builder::new(
            "INSERT INTO notification_deliveries (channel_id, exception_id, level, body, recipients, state, \
             next_attempt_at, created_at) ",
        );
        q.push_values(chunk, |mut b, d| {
            b.push_bind(d.channel_id)
                .push_bind(d.exception_id)
                .push_bind(d.level.map(EscalationLevel::as_str))
                .push_bind(&d.body)
                .push_bind(d.recipients)
                .push_bind("pending")
                .push_bind(to_millis(at))
                .push_bind(to_millis(at));
        });
        q.push(" RETURNING id");
        let chunk_ids: Vec<i64> =
            q.build_query_scalar().fetch_all(&mut **tx).await.context("Failed to queue notification deliveries")?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// A delivery a worker holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldDelivery {
    pub id: i64,
    pub channel_id: i64,
    pub body: String,
    pub attempts: i64,
}

/// The delivery a worker just claimed under `lease`.
pub async fn held(pool: &Pool, id: i64, lease: &Lease) -> anyhow::Result<Option<HeldDelivery>> {
    sqlx::query_as(
        "SELECT id, channel_id, body, attempts FROM notification_deliveries WHERE id = $1 AND lease_token = $2",
    )
    .bind(id)
    .bind(&lease.token)
    .fetch_optional(pool)
    .await
    .context("Failed to read a notification delivery")
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    channel: String,
    level: Option<String>,
    exception_id: Option<i64>,
    recipients: i64,
    state: String,
    created_at: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: i64,
    attempt: i64,
    started_at: i64,
    latency_ms: i64,
    outcome: String,
    http_status: Option<i64>,
    response_head: Option<String>,
}

/// The newest deliveries (of one channel, or of all), with their attempts.
pub async fn recent(pool: &Pool, channel: Option<i64>, limit: u32) -> anyhow::Result<Vec<Delivery>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT d.id, c.name AS channel, d.level, d.exception_id, d.recipients, d.state, d.created_at, \
         d.next_attempt_at, d.last_error FROM notification_deliveries d \
         JOIN notification_channels c ON c.id = d.channel_id \
         WHERE ($1 IS NULL OR d.channel_id = $1) ORDER BY d.id DESC LIMIT $2",
    )
    .bind(channel)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .context("Failed to read notification deliveries")?;
    let (Some(first), Some(last)) = (rows.last(), rows.first()) else { return Ok(Vec::new()) };
    let attempts: Vec<AttemptRow> = sqlx::query_as(
        "SELECT delivery_id, attempt, started_at, latency_ms, outcome, http_status, response_head \
         FROM notification_attempts WHERE delivery_id BETWEEN $1 AND $2 ORDER BY delivery_id, attempt",
    )
    .bind(first.id)
    .bind(last.id)
    .fetch_all(pool)
    .await
    .context("Failed to read delivery attempts")?;
    let mut by_delivery: HashMap<i64, Vec<DeliveryAttempt>> = HashMap::new();
    for a in attempts {
        by_delivery.entry(a.delivery_id).or_default().push(DeliveryAttempt {
            number: a.attempt,
            started_at: from_millis(a.started_at)?,
            latency_ms: a.latency_ms,
            outcome: a.outcome.parse()?,
            http_status: a.http_status,
            response_head: a.response_head,
        });
    }
    rows.into_iter()
        .map(|r| {
            let state: DeliveryState = r.state.parse()?;
            Ok(Delivery {
                id: r.id,
                channel: r.channel,
                level: r.level.as_deref().map(str::parse).transpose()?,
                exception_id: r.exception_id,
                recipients: r.recipients,
                state,
                created_at: from_millis(r.created_at)?,
                next_attempt_at: (state == DeliveryState::Pending)
                    .then(|| from_millis(r.next_attempt_at))
                    .transpose()?,
                last_error: r.last_error,
                attempts: by_delivery.remove(&r.id).unwrap_or_default(),
            })
        })
        .collect()
}
