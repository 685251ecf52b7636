//! Outward notifications: the channels admins set up, each person's choice
//! of what goes outward, the messages queued with the step that caused them,
//! and the worker that delivers them under a lease with the channel's retry
//! policy. Queuing never waits on a channel: a slow or broken one delays
//! only its own messages.

use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use crossdock::audit::{AuditAction, AuditEntry, Entity};
use crossdock::channel::{
    ChannelKind, ChannelSpec, Delivery, DeliveryState, Notice, bits_of_levels, levels_from_bits, message,
};
use crossdock::escalation::EscalationLevel;
use crossdock::replay::{AttemptOutcome, HttpMethod, RetryPolicySpec};
use crossdock::retry::{Verdict, next_wait_ms};
use secrecy::{ExposeSecret, SecretString};

use super::ingest::signature;
use super::outbound::{Request, describe};
use super::sources::random_bytes;
use super::{ServiceError, Services};
use crate::auth::{Configurer, CurrentUser};
use crate::secrets::Purpose;
use crate::store::channels::{Channel, HeldDelivery, NewDelivery};
use crate::store::leases::{self, Lease, Work};
use crate::store::{self, Tx};

/// How many deliveries the admin page lists.
pub const SHOWN_DELIVERIES: u32 = 50;
/// How long a worker holds a delivery beyond the channel's timeout.
const LEASE_MARGIN: StdDuration = StdDuration::from_secs(30);

/// A channel as admins see it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelEntry {
    pub spec: ChannelSpec,
    pub has_secret: bool,
}

/// What one pass of the delivery worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStep {
    Delivered {
        id: i64,
    },
    Retrying {
        id: i64,
        next: DateTime<Utc>,
    },
    Failed {
        id: i64,
    },
    /// Another worker took it over meanwhile; nothing was written.
    LostLease {
        id: i64,
    },
}

fn new_secret() -> anyhow::Result<SecretString> {
    Ok(SecretString::from(format!("whsec_{}", STANDARD.encode(random_bytes::<32>()?))))
}

impl Services {
    /// The channels, for admins.
    pub async fn channels(&self, _by: &impl Configurer) -> Result<Vec<ChannelEntry>, ServiceError> {
        let channels = store::channels::channels(&self.pool).await?;
        Ok(channels.into_iter().map(|c| ChannelEntry { spec: c.spec, has_secret: c.secret.is_some() }).collect())
    }

    /// The channels in service as people choosing what goes outward see
    /// them: name, kind and the levels each carries (never the address).
    pub async fn channels_in_service(&self) -> Result<Vec<(String, ChannelKind, Vec<EscalationLevel>)>, ServiceError> {
        let channels = store::channels::channels(&self.pool).await?;
        Ok(channels
            .into_iter()
            .map(|c| c.spec)
            .filter(|s| s.enabled)
            .map(|s| (s.name, s.kind, s.levels.into_iter().collect()))
            .collect())
    }

    /// Creates a channel or saves one of that name; answers a new signing
    /// secret (shown once) when a signed channel had none.
    #[tracing::instrument(skip_all, fields(channel = %spec.name))]
    pub async fn save_channel(
        &self,
        by: &impl Configurer,
        spec: &ChannelSpec,
    ) -> Result<Option<SecretString>, ServiceError> {
        spec.validate().map_err(ServiceError::Problems)?;
        let config = self.configuration();
        for (i, q) in spec.queues.iter().enumerate() {
            let known = crossdock::queue::QueueKey::parse(q).ok().is_some_and(|k| config.queue(&k).is_some());
            if !known {
                return Err(ServiceError::invalid("queues", format!("there is no queue `{q}` (the {})", ordinal(i))));
            }
        }
        let now = self.now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        if let Some(p) = &spec.retry_policy
            && store::connectors::policy(&mut *tx, p).await?.is_none()
        {
            return Err(ServiceError::invalid("retry_policy", format!("there is no retry policy `{p}`")));
        }
        let before = store::channels::named(&mut tx, &spec.name).await?;
        let needs_secret = spec.kind.signed() && before.as_ref().is_none_or(|c| c.secret.is_none());
        let secret = if needs_secret { Some(new_secret()?) } else { None };
        let sealed = secret.as_ref().map(|s| self.sealer.seal(Purpose::ChannelSecret, s)).transpose()?;
        let mut entry = AuditEntry::new(now, by.actor(), AuditAction::ChannelSaved, Entity::Channel, &spec.name)
            .after(spec.redacted());
        match &before {
            Some(c) => {
                store::channels::update(&mut tx, c.id, spec, sealed.as_ref(), now).await?;
                entry = entry.before(c.spec.redacted());
            }
            None => {
                store::channels::insert(&mut tx, spec, sealed.as_ref(), now).await?;
            }
        }
        if secret.is_some() {
            entry = entry.reason("a new signing secret was made");
        }
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit the channel")?;
        Ok(secret)
    }

    /// Gives a signed channel a new secret (shown once); the old one stops
    /// signing at once.
    #[tracing::instrument(skip_all, fields(channel = %name))]
    pub async fn rotate_channel_secret(&self, by: &impl Configurer, name: &str) -> Result<SecretString, ServiceError> {
        let now = self.now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let channel = self.channel_named(&mut tx, name).await?;
        if !channel.spec.kind.signed() {
            return Err(ServiceError::Conflict(format!("{} messages are not signed", channel.spec.kind.label())));
        }
        let secret = new_secret()?;
        let sealed = self.sealer.seal(Purpose::ChannelSecret, &secret)?;
        store::channels::update(&mut tx, channel.id, &channel.spec, Some(&sealed), now).await?;
        let entry = AuditEntry::new(now, by.actor(), AuditAction::ChannelSecretRotated, Entity::Channel, name);
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit the channel")?;
        Ok(secret)
    }

    /// Deletes a channel; messages still waiting for it fail.
    #[tracing::instrument(skip_all, fields(channel = %name))]
    pub async fn delete_channel(&self, by: &impl Configurer, name: &str) -> Result<(), ServiceError> {
        let now = self.now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let channel = self.channel_named(&mut tx, name).await?;
        store::channels::delete(&mut tx, channel.id, now).await?;
        let entry = AuditEntry::new(now, by.actor(), AuditAction::ChannelDeleted, Entity::Channel, name)
            .before(channel.spec.redacted());
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }

    /// Queues a test message to a channel; its delivery's id.
    #[tracing::instrument(skip_all, fields(channel = %name))]
    pub async fn test_channel(&self, by: &impl Configurer, name: &str) -> Result<i64, ServiceError> {
        let now = self.now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let channel = self.channel_named(&mut tx, name).await?;
        let notice = Notice {
            level: None,
            title: format!("A test message to {name}"),
            subject: None,
            recipients: Vec::new(),
            at: now,
        };
        let delivery = NewDelivery {
            channel_id: channel.id,
            exception_id: None,
            level: None,
            body: message(channel.spec.kind, &notice).to_string(),
            recipients: 0,
        };
        let ids = store::channels::enqueue(&mut tx, &[delivery], now).await?;
        let entry = AuditEntry::new(now, by.actor(), AuditAction::ChannelTested, Entity::Channel, name);
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit")?;
        self.wake_workers();
        ids.first().copied().ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("a queued test message has no id")))
    }

    /// The newest deliveries with their attempts, of one channel or of all.
    pub async fn deliveries(
        &self,
        _by: &impl Configurer,
        channel: Option<&str>,
    ) -> Result<Vec<Delivery>, ServiceError> {
        let id = match channel {
            Some(name) => {
                let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
                Some(self.channel_named(&mut tx, name).await?.id)
            }
            None => None,
        };
        Ok(store::channels::recent(&self.pool, id, SHOWN_DELIVERIES).await?)
    }

    async fn channel_named(&self, tx: &mut Tx<'_>, name: &str) -> Result<Channel, ServiceError> {
        store::channels::named(tx, name).await?.ok_or_else(|| ServiceError::NotFound(format!("channel {name}")))
    }

    /// The levels of the person's notifications that go outward.
    pub async fn outward_levels(&self, me: &CurrentUser) -> Result<BTreeSet<EscalationLevel>, ServiceError> {
        Ok(levels_from_bits(store::channels::outward_of(&self.pool, me.id.0).await?))
    }

    pub async fn set_outward_levels(
        &self,
        me: &CurrentUser,
        levels: &BTreeSet<EscalationLevel>,
    ) -> Result<BTreeSet<EscalationLevel>, ServiceError> {
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let bits = store::channels::set_outward(&mut tx, me.id.0, bits_of_levels(levels)).await?;
        let entry =
            AuditEntry::new(self.now(), me.actor(), AuditAction::OutwardChosen, Entity::User, me.username.to_string())
                .after(serde_json::json!({"outward": levels}));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit")?;
        Ok(levels_from_bits(bits))
    }

    /// Where the console shows an exception.
    pub(super) fn exception_url(&self, id: i64) -> String {
        format!("{}/exceptions/{id}", self.public_origin)
    }

    /// Claims the delivery due first, if any, and makes one attempt. The
    /// worker calls this in a loop; tests drive it directly.
    pub async fn try_deliver_notification(&self, now: DateTime<Utc>) -> anyhow::Result<Option<DeliveryStep>> {
        let hold = StdDuration::from_millis(u64::from(ChannelSpec::MAX_TIMEOUT_MS)) + LEASE_MARGIN;
        let lease = Lease::new(now, Duration::from_std(hold)?)?;
        let Some(id) = store::leases::claim(&self.pool, Work::Deliveries, now, &lease).await? else {
            return Ok(None);
        };
        let Some(held) = store::channels::held(&self.pool, id, &lease).await? else {
            return Ok(Some(DeliveryStep::LostLease { id }));
        };
        self.attempt_delivery(&held, &lease).await.map(Some)
    }

    async fn attempt_delivery(&self, held: &HeldDelivery, lease: &Lease) -> anyhow::Result<DeliveryStep> {
        let id = held.id;
        let channel = store::channels::channel(&self.pool, held.channel_id).await?;
        let channel = match channel {
            Some(c) if !c.deleted => c,
            _ => return self.end_delivery(id, lease, held.attempts, "the channel was deleted").await,
        };
        let spec = &channel.spec;
        let secret = match (&channel.secret, spec.kind.signed()) {
            (Some(sealed), true) => match self.sealer.open(Purpose::ChannelSecret, sealed) {
                Ok(s) => Some(s),
                Err(_) => {
                    let what = "the channel's secret does not open with this server's key: an admin rotates it";
                    return self.end_delivery(id, lease, held.attempts, what).await;
                }
            },
            _ => None,
        };
        let policy = match &spec.retry_policy {
            Some(name) => store::connectors::policy(&self.pool, name).await?.unwrap_or_else(RetryPolicySpec::standard),
            None => RetryPolicySpec::standard(),
        };
        let started = self.now();
        let message_id = format!("msg_crossdock_{id}");
        let timestamp = started.timestamp().to_string();
        let signature = match secret.as_ref().map(|s| signature::decode_secret(s.expose_secret())) {
            None => None,
            Some(Some(key)) => Some(signature::sign(&key, &message_id, started.timestamp(), held.body.as_bytes())),
            // Never sent unsigned: a signed channel's receiver would drop it.
            Some(None) => {
                let what = "the channel's secret is not a whsec_ secret: an admin gives it a new one";
                return self.end_delivery(id, lease, held.attempts, what).await;
            }
        };
        let mut headers = vec![("content-type", "application/json")];
        if let Some(sig) = &signature {
            headers.extend([
                ("webhook-id", message_id.as_str()),
                ("webhook-timestamp", timestamp.as_str()),
                ("webhook-signature", sig.as_str()),
            ]);
        }
        let answer = self
            .outbound
            .send(Request {
                method: HttpMethod::Post,
                url: &spec.url,
                timeout: StdDuration::from_millis(u64::from(spec.timeout_ms)),
                headers,
                body: held.body.as_bytes(),
            })
            .await;
        let outcome = answer.outcome;
        let attempt = held.attempts + 1;
        let now = self.now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let recorded =
            leases::record_attempt(&mut tx, Work::Deliveries, id, lease, &answer.attempt(attempt, started)).await?;
        if !recorded {
            return Ok(DeliveryStep::LostLease { id });
        }
        metrics::counter!(crate::metrics::NOTIFICATIONS, "channel" => spec.kind.as_str(),
            "outcome" => AttemptOutcome::of(outcome).as_str())
        .increment(1);
        let what = describe(outcome, spec.timeout_ms);
        let step = match policy.retry_on.verdict(outcome) {
            Verdict::Delivered => {
                leases::finish(&mut tx, Work::Deliveries, id, lease, DeliveryState::Delivered.as_str(), None, now)
                    .await?;
                DeliveryStep::Delivered { id }
            }
            Verdict::Retry { min_delay_ms } if attempt < i64::from(policy.schedule.max_attempts) => {
                let number = u32::try_from(attempt + 1).unwrap_or(u32::MAX);
                let planned = policy.schedule.delay_before(number, id.unsigned_abs()).unwrap_or(0);
                let wait = i64::try_from(next_wait_ms(planned, min_delay_ms)).unwrap_or(i64::MAX);
                let next = now.checked_add_signed(Duration::milliseconds(wait)).unwrap_or(now);
                leases::reschedule(&mut tx, Work::Deliveries, id, lease, next, Some(&what)).await?;
                DeliveryStep::Retrying { id, next }
            }
            _ => {
                let note = format!("gave up after {attempt} attempt(s): {what}");
                leases::finish(&mut tx, Work::Deliveries, id, lease, DeliveryState::Failed.as_str(), Some(&note), now)
                    .await?;
                DeliveryStep::Failed { id }
            }
        };
        tx.commit().await.context("Failed to commit a delivery attempt")?;
        Ok(step)
    }

    /// Fails a delivery that no attempt can help.
    async fn end_delivery(&self, id: i64, lease: &Lease, attempts: i64, what: &str) -> anyhow::Result<DeliveryStep> {
        let mut tx = store::begin(&self.pool).await?;
        let note = format!("gave up after {attempts} attempt(s): {what}");
        leases::finish(&mut tx, Work::Deliveries, id, lease, DeliveryState::Failed.as_str(), Some(&note), self.now())
            .await?;
        tx.commit().await?;
        Ok(DeliveryStep::Failed { id })
    }
}

/// "first", "second", ... for a position counted from 0, in messages.
fn ordinal(i: usize) -> String {
    match i {
        0 => "first".into(),
        1 => "second".into(),
        2 => "third".into(),
        n => format!("{}th", n + 1),
    }
}
