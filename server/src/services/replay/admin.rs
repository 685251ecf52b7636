//! Replay targets (connectors) and retry policies, as admins configure them.

use anyhow::Context;
use crossdock::audit::{AuditAction, AuditEntry, Entity};
use crossdock::queue::QueueKey;
use crossdock::replay::{AttemptOutcome, Breaker, ConnectorSpec, RetryPolicySpec};
use crossdock::retry::DeliveryOutcome;
use secrecy::{ExposeSecret, SecretString};

use super::super::{ServiceError, Services};
use crate::auth::Configurer;
use crate::secrets::Purpose;
use crate::store::{self};

/// A connector as admins see it (never its secret).
#[derive(Debug, Clone)]
pub struct ConnectorSummary {
    pub spec: ConnectorSpec,
    pub has_secret: bool,
    pub breaker: Breaker,
}

impl From<store::connectors::Connector> for ConnectorSummary {
    fn from(c: store::connectors::Connector) -> Self {
        Self { has_secret: c.secret.is_some(), spec: c.spec, breaker: c.breaker }
    }
}

/// What a connector's target answered to a test request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestAnswer {
    pub outcome: AttemptOutcome,
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    /// The first KiB of the answer.
    pub head: Option<String>,
}

/// Whether a secret can be sent as a header value: one line, bounded.
fn check_secret(secret: Option<&SecretString>) -> Result<Option<SecretString>, ServiceError> {
    let secret = secret.map(|s| s.expose_secret().trim()).filter(|s| !s.is_empty());
    if secret.is_some_and(|s| s.len() > 4096 || s.contains(['\r', '\n'])) {
        return Err(ServiceError::invalid("secret", "a secret is one line of at most 4096 characters"));
    }
    Ok(secret.map(|s| SecretString::from(s.to_owned())))
}

impl Services {
    pub async fn connectors(&self, _by: &impl Configurer) -> Result<Vec<ConnectorSummary>, ServiceError> {
        Ok(store::connectors::connectors(&self.pool).await?.into_iter().map(ConnectorSummary::from).collect())
    }

    /// Creates or changes a connector. A `None` secret keeps the stored one;
    /// the secret never reaches the audit trail.
    #[tracing::instrument(skip_all, fields(connector = %spec.name))]
    pub async fn save_connector(
        &self,
        by: &impl Configurer,
        spec: &ConnectorSpec,
        secret: Option<&SecretString>,
        reset_breaker: bool,
    ) -> Result<(), ServiceError> {
        spec.validate().map_err(ServiceError::Problems)?;
        let secret = check_secret(secret)?;
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        if let Some(p) = &spec.retry_policy
            && store::connectors::policy(&mut *tx, p).await?.is_none()
        {
            return Err(ServiceError::invalid("retry_policy", format!("there is no retry policy `{p}`")));
        }
        for source in &spec.allowed_sources {
            if store::sources::by_name(&mut *tx, source.as_str()).await?.is_none() {
                return Err(ServiceError::invalid("allowed_sources", format!("there is no source `{source}`")));
            }
        }
        let before = store::connectors::connector_named(&mut *tx, &spec.name).await?;
        if let Some(other) = store::connectors::connector_for(&mut *tx, spec.system.as_str(), &spec.operation).await?
            && other.spec.name != spec.name
            && other.spec.operation == spec.operation
        {
            return Err(ServiceError::invalid(
                "operation",
                format!("connector {} replays this already", other.spec.name),
            ));
        }
        let now = self.now();
        let sealed = secret.as_ref().map(|s| self.sealer.seal(Purpose::ConnectorSecret, s)).transpose()?;
        let id = store::connectors::save_connector(&mut tx, spec, sealed.as_ref(), now).await?;
        let closed = Breaker::Closed { failures: 0 };
        let reset = reset_breaker && before.as_ref().is_some_and(|b| b.breaker != closed);
        if reset {
            store::connectors::update_breaker(&mut tx, id, |_| closed).await?;
        }
        let mut after = serde_json::json!({"spec": spec, "secret": if secret.is_some() { "replaced" } else { "kept" }});
        if reset {
            after["breaker"] = serde_json::json!("reset to closed");
        }
        let mut entry =
            AuditEntry::new(now, by.actor(), AuditAction::ConnectorSaved, Entity::Connector, spec.name.clone())
                .after(after);
        if let Some(b) = before {
            entry = entry.before(serde_json::json!({"spec": b.spec, "breaker": b.breaker}));
        }
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit the connector")?;
        Ok(())
    }

    /// Sends a test request through a connector (its URL, headers and
    /// secret, with `crossdock-test: true`) and says what the target answered.
    #[tracing::instrument(skip_all, fields(connector = name))]
    pub async fn test_connector(&self, by: &impl Configurer, name: &str) -> Result<TestAnswer, ServiceError> {
        let connector = store::connectors::connector_named(&self.pool, name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("connector `{name}`")))?;
        let now = self.now();
        let key = format!("crossdock-test-{}", now.timestamp_millis());
        let body = serde_json::json!({"crossdock": "test", "connector": name, "at": now}).to_string();
        let headers =
            vec![("content-type", "application/json"), ("crossdock-test", "true"), ("idempotency-key", key.as_str())];
        let secret = self.connector_secret(&connector)?;
        let request = super::deliver::through(&connector, secret.as_ref(), headers, body.as_bytes());
        let answer = self.outbound.send(request).await;
        let answer = TestAnswer {
            outcome: AttemptOutcome::of(answer.outcome),
            http_status: match answer.outcome {
                DeliveryOutcome::Http { status, .. } => Some(status),
                _ => None,
            },
            latency_ms: i64::try_from(answer.latency.as_millis()).unwrap_or(i64::MAX),
            head: answer.head,
        };
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let entry = AuditEntry::new(self.now(), by.actor(), AuditAction::ConnectorTested, Entity::Connector, name)
            .after(serde_json::json!({"outcome": answer.outcome, "http_status": answer.http_status, "latency_ms": answer.latency_ms}));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit")?;
        Ok(answer)
    }

    /// Deletes a connector, unless replays waiting or under way still use it.
    #[tracing::instrument(skip_all, fields(connector = name))]
    pub async fn delete_connector(&self, by: &impl Configurer, name: &str) -> Result<(), ServiceError> {
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let connector = store::connectors::connector_named(&mut *tx, name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("connector `{name}`")))?;
        let busy = store::connectors::jobs_using(&mut tx, connector.id).await?;
        if busy > 0 {
            return Err(ServiceError::Conflict(format!(
                "{busy} replay(s) waiting or under way use connector {name}; delete it once they are done"
            )));
        }
        let now = self.now();
        store::connectors::delete(&mut tx, connector.id, now).await?;
        let entry = AuditEntry::new(now, by.actor(), AuditAction::ConnectorDeleted, Entity::Connector, name)
            .before(serde_json::json!({"spec": connector.spec}));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }

    /// The retry policies and the queues that name one.
    pub async fn retry_policies(
        &self,
        _by: &impl Configurer,
    ) -> Result<(Vec<RetryPolicySpec>, Vec<(String, String)>), ServiceError> {
        Ok((store::connectors::policies(&self.pool).await?, store::connectors::queue_policies(&self.pool).await?))
    }

    #[tracing::instrument(skip_all, fields(policy = %spec.name))]
    pub async fn save_retry_policy(&self, by: &impl Configurer, spec: &RetryPolicySpec) -> Result<(), ServiceError> {
        spec.validate().map_err(ServiceError::Problems)?;
        let now = self.now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let before = store::connectors::save_policy(&mut tx, spec, now).await?;
        let mut entry =
            AuditEntry::new(now, by.actor(), AuditAction::RetryPolicySaved, Entity::RetryPolicy, spec.name.trim())
                .after(spec);
        if let Some(b) = before {
            entry = entry.before(b);
        }
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit the policy")?;
        Ok(())
    }

    /// Names the retry policy of a queue's replays (or none).
    pub async fn set_queue_retry_policy(
        &self,
        by: &impl Configurer,
        queue: &str,
        policy: Option<&str>,
    ) -> Result<(), ServiceError> {
        let key = QueueKey::parse(queue).map_err(|e| ServiceError::invalid("queue", e.to_string()))?;
        if self.configuration().queue(&key).is_none() {
            return Err(ServiceError::invalid("queue", format!("there is no queue `{queue}`")));
        }
        if policy.is_some_and(|p| !crossdock::text::is_one_line(p)) {
            return Err(ServiceError::invalid("policy", "a retry policy's name holds no control characters"));
        }
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        if let Some(p) = policy
            && store::connectors::policy(&mut *tx, p).await?.is_none()
        {
            return Err(ServiceError::invalid("policy", format!("there is no retry policy `{p}`")));
        }
        store::connectors::set_queue_policy(&mut tx, key.as_str(), policy).await?;
        let entry =
            AuditEntry::new(self.now(), by.actor(), AuditAction::QueueRetryPolicySet, Entity::Queue, key.as_str())
                .after(serde_json::json!({"retry_policy": policy}));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }

    /// The policy a replay runs under: its connector's, else its queue's,
    /// else the standard one.
    pub(super) async fn policy_for(&self, connector: &ConnectorSpec, queue: &str) -> anyhow::Result<RetryPolicySpec> {
        let name = match &connector.retry_policy {
            Some(n) => Some(n.clone()),
            None => store::connectors::queue_policy(&self.pool, queue).await?,
        };
        Ok(match name {
            Some(n) => store::connectors::policy(&self.pool, &n).await?.unwrap_or_else(RetryPolicySpec::standard),
            None => RetryPolicySpec::standard(),
        })
    }
}
