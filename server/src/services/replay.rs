//! Replays: sending an integration failure's message again to its target, as
//! a durable job under a retry policy, behind the connector's circuit
//! breaker; resolving the exception when it goes through and handing it back
//! to its queue, with the reason, when the attempts run out.

use std::time::{Duration as StdDuration, Instant};

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use crossdock::ExceptionId;
use crossdock::replay::{
    Admission, AttemptOutcome, Breaker, ConnectorSpec, JobState, ReplayState, RetryPolicySpec, idempotency_key,
    json_diff,
};
use crossdock::retry::{DeliveryOutcome, Verdict, parse_retry_after};
use serde_json::Value;

use super::triage::ActError;
use super::{ServiceError, Services, sla};
use crate::auth::{Admin, Configurer, Worker};
use crate::store::audit::AuditEntry;
use crate::store::replay::{Attempt, JobRow, NewJob, ReplayFacts};
use crate::store::triage::Change;
use crate::store::{self, from_millis};

/// How much of a target's answer is kept with an attempt.
const RESPONSE_HEAD: usize = 1024;
/// How long a worker holds a job beyond the delivery's own timeout.
const LEASE_MARGIN: StdDuration = StdDuration::from_secs(30);

/// A connector as admins see it (never its secret).
#[derive(Debug, Clone)]
pub struct ConnectorSummary {
    pub spec: ConnectorSpec,
    pub has_secret: bool,
    pub breaker: Breaker,
}

/// The replay side of an exception.
#[derive(Debug, Clone)]
pub struct ReplayStatus {
    pub connector: Option<ConnectorSummary>,
    pub state: Option<ReplayState>,
    pub note: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The message as it was received.
    pub original: Value,
    /// The corrected message, when someone corrected it.
    pub corrected: Option<Value>,
    pub jobs: Vec<JobRow>,
    pub attempts: Vec<store::replay::AttemptRow>,
}

/// What one pass of a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayStep {
    /// Delivered; the exception is resolved.
    Delivered { job: i64 },
    /// The attempt failed; another is scheduled.
    Retrying { job: i64, next: DateTime<Utc> },
    /// The attempts are used up or the target refused; back to the queue.
    Failed { job: i64 },
    /// The circuit is open; the job waits without spending an attempt.
    Deferred { job: i64, until: DateTime<Utc> },
    /// Another worker took the job over meanwhile; nothing was written.
    LostLease { job: i64 },
}

fn parse_breaker(s: &str) -> Breaker {
    serde_json::from_str(s).unwrap_or(Breaker::Closed { failures: 0 })
}

fn summary(row: &store::replay::ConnectorRow) -> anyhow::Result<ConnectorSummary> {
    Ok(ConnectorSummary {
        spec: serde_json::from_str(&row.spec).context("stored connector is unreadable")?,
        has_secret: row.secret.is_some(),
        breaker: parse_breaker(&row.breaker),
    })
}

fn describe(outcome: DeliveryOutcome, timeout_ms: u32) -> String {
    match outcome {
        DeliveryOutcome::Timeout => format!("no answer within {timeout_ms} ms"),
        DeliveryOutcome::ConnectionError => "could not connect".to_owned(),
        DeliveryOutcome::Http { status, .. } => format!("HTTP {status}"),
    }
}

/// What a replay needs from an integration failure's stored data, read once.
struct Failure {
    /// The system and operation it failed in, when the data names them.
    target: Option<(String, String)>,
    /// `data.payload`: the message as it was received.
    original: Value,
    /// The message as a person corrected it, if someone did.
    corrected: Option<Value>,
    /// The content type the source declared for its payload, if it is sane.
    content_type: String,
    /// Whether the source said the failure may be retried (it may unless it
    /// said no).
    retryable: bool,
}

impl Failure {
    fn read(facts: &ReplayFacts) -> anyhow::Result<Self> {
        let data: Value = serde_json::from_str(&facts.payload).context("stored payload is unreadable")?;
        let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
        Ok(Self {
            target: text("system").zip(text("operation")),
            original: data.get("payload").cloned().unwrap_or(Value::Null),
            corrected: facts
                .corrected_payload
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .context("stored correction")?,
            content_type: text("payload_content_type")
                .filter(|t| reqwest::header::HeaderValue::from_str(t).is_ok() && t.contains('/') && t.len() <= 200)
                .unwrap_or_else(|| "application/json".to_owned()),
            retryable: data.get("retryable").and_then(Value::as_bool) != Some(false),
        })
    }
}

/// The bytes sent for a message: a string payload as it is (XML, EDI, CSV),
/// anything else as JSON.
fn wire_body(message: &Value) -> String {
    match message {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Services {
    pub async fn connectors(&self, _admin: &Admin<'_>) -> Result<Vec<ConnectorSummary>, ServiceError> {
        store::replay::connectors(&self.pool).await?.iter().map(|r| Ok(summary(r)?)).collect()
    }

    /// Creates or changes a connector. A `None` secret keeps the stored one;
    /// the secret never reaches the audit log.
    #[tracing::instrument(skip_all, fields(connector = %spec.name))]
    pub async fn save_connector(
        &self,
        by: &impl Configurer,
        spec: &ConnectorSpec,
        secret: Option<&str>,
    ) -> Result<(), ServiceError> {
        spec.validate().map_err(ServiceError::Problems)?;
        let secret = secret.map(str::trim).filter(|s| !s.is_empty());
        if secret.is_some_and(|s| s.len() > 4096 || s.contains(['\r', '\n'])) {
            return Err(ServiceError::invalid("secret", "a secret is one line of at most 4096 characters"));
        }
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        if let Some(p) = &spec.retry_policy
            && store::replay::policy(&mut *tx, p).await?.is_none()
        {
            return Err(ServiceError::invalid("retry_policy", format!("there is no retry policy `{p}`")));
        }
        let before = store::replay::connector_named(&mut *tx, &spec.name).await?;
        if let Some(other) = store::replay::connector_for(&mut *tx, spec.system.as_str(), &spec.operation).await?
            && other.name != spec.name
            && other.operation == spec.operation
        {
            return Err(ServiceError::invalid("operation", format!("connector {} replays this already", other.name)));
        }
        let encoded = serde_json::to_string(spec).context("Failed to encode the connector")?;
        let now = Utc::now();
        store::replay::save_connector(
            &mut tx,
            (&spec.name, spec.system.as_str(), &spec.operation),
            &encoded,
            secret,
            now,
        )
        .await?;
        let entry = AuditEntry {
            at: now,
            actor: by.actor().audit_name(),
            action: "connector.saved",
            entity: "connector",
            entity_id: spec.name.clone(),
            before: before
                .map(|b| serde_json::json!({"spec": serde_json::from_str::<Value>(&b.spec).unwrap_or(Value::Null)})),
            after: Some(
                serde_json::json!({"spec": spec, "secret": if secret.is_some() { "replaced" } else { "kept" }}),
            ),
            reason: None,
        };
        store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
        tx.commit().await.context("Failed to commit the connector")?;
        Ok(())
    }

    /// The retry policies and the queues that name one.
    pub async fn retry_policies(
        &self,
        _admin: &Admin<'_>,
    ) -> Result<(Vec<RetryPolicySpec>, Vec<(String, String)>), ServiceError> {
        let mut policies = Vec::new();
        for (_, spec) in store::replay::policies(&self.pool).await? {
            policies.push(serde_json::from_str(&spec).context("stored retry policy is unreadable")?);
        }
        Ok((policies, store::replay::queue_policies(&self.pool).await?))
    }

    #[tracing::instrument(skip_all, fields(policy = %spec.name))]
    pub async fn save_retry_policy(&self, by: &impl Configurer, spec: &RetryPolicySpec) -> Result<(), ServiceError> {
        spec.validate().map_err(ServiceError::Problems)?;
        let now = Utc::now();
        let encoded = serde_json::to_string(spec).context("Failed to encode the policy")?;
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let before = store::replay::save_policy(&mut tx, spec.name.trim(), &encoded, now).await?;
        let entry = AuditEntry {
            at: now,
            actor: by.actor().audit_name(),
            action: "retry_policy.saved",
            entity: "retry_policy",
            entity_id: spec.name.trim().to_owned(),
            before: before.and_then(|b| serde_json::from_str(&b).ok()),
            after: Some(serde_json::to_value(spec).context("encode")?),
            reason: None,
        };
        store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
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
        let key =
            crossdock::queue::QueueKey::parse(queue).map_err(|e| ServiceError::invalid("queue", e.to_string()))?;
        if self.configuration().queue(&key).is_none() {
            return Err(ServiceError::invalid("queue", format!("there is no queue `{queue}`")));
        }
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        if let Some(p) = policy
            && store::replay::policy(&mut *tx, p).await?.is_none()
        {
            return Err(ServiceError::invalid("policy", format!("there is no retry policy `{p}`")));
        }
        store::replay::set_queue_policy(&mut tx, queue, policy).await?;
        let entry = AuditEntry {
            at: Utc::now(),
            actor: by.actor().audit_name(),
            action: "queue.retry_policy_set",
            entity: "queue",
            entity_id: queue.to_owned(),
            before: None,
            after: Some(serde_json::json!({"retry_policy": policy})),
            reason: None,
        };
        store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }

    /// The policy a replay of this exception runs under: its connector's,
    /// else its queue's, else the standard one.
    async fn policy_for(&self, connector: &ConnectorSpec, queue: &str) -> anyhow::Result<RetryPolicySpec> {
        let name = match &connector.retry_policy {
            Some(n) => Some(n.clone()),
            None => store::replay::queue_policy(&self.pool, queue).await?,
        };
        Ok(match name {
            Some(n) => match store::replay::policy(&self.pool, &n).await? {
                Some(spec) => serde_json::from_str(&spec).context("stored retry policy is unreadable")?,
                None => RetryPolicySpec::standard(),
            },
            None => RetryPolicySpec::standard(),
        })
    }

    /// Replays an integration failure's message, corrected first when
    /// `corrected` is given (the original is kept; the change is audited).
    #[tracing::instrument(skip_all, fields(exception = id.get()))]
    pub async fn request_replay(
        &self,
        worker: &Worker<'_>,
        id: ExceptionId,
        corrected: Option<Value>,
    ) -> Result<i64, ActError> {
        let facts = store::replay::facts(&self.pool, id.get()).await?.ok_or(ActError::NotFound)?;
        if !worker.scope().includes(&facts.queue) {
            return Err(ActError::NotAllowed(format!("{id} is in queue {}, which you do not work in", facts.queue)));
        }
        if corrected.is_some() && !worker.user().role.allows(crossdock::accounts::Permission::CorrectMessages) {
            return Err(ActError::NotAllowed(
                "only supervisors and admins correct a message before replaying it".into(),
            ));
        }
        self.queue_replay(&worker.user().audit_name(), facts, corrected, false).await
    }

    async fn queue_replay(
        &self,
        actor: &str,
        facts: ReplayFacts,
        corrected: Option<Value>,
        automatic: bool,
    ) -> Result<i64, ActError> {
        let id = ExceptionId::new(facts.id);
        if facts.kind != "exception.integration" {
            return Err(ActError::WrongState(format!(
                "{id} is not an integration failure: it has no message to replay"
            )));
        }
        let status: crossdock::Status = facts.status.parse().context("stored status is invalid")?;
        if !status.is_open() {
            return Err(ActError::WrongState(format!(
                "{id} is {}: reopen it before replaying",
                status.label().to_lowercase()
            )));
        }
        let failure = Failure::read(&facts)?;
        let (system, operation) =
            failure.target.clone().context("the integration failure names no system and operation")?;
        let connector =
            store::replay::connector_for(&self.pool, &system, &operation).await?.ok_or_else(|| ActError::Invalid {
                field: "connector".into(),
                message: format!("no connector replays {system} {operation}"),
            })?;
        let spec: ConnectorSpec = serde_json::from_str(&connector.spec).context("stored connector is unreadable")?;
        let policy = self.policy_for(&spec, &facts.queue).await?;
        let Failure { original, corrected: previous, content_type, .. } = failure;
        let now = Utc::now();
        let traceparent = facts
            .event_body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .and_then(|v| v.get("traceparent").and_then(Value::as_str).map(str::to_owned));
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let (body, version) = match corrected {
            Some(new) => {
                let current = previous.as_ref().unwrap_or(&original);
                let diff = json_diff(current, &new);
                if diff.is_empty() {
                    return Err(ActError::Invalid {
                        field: "message".into(),
                        message: "the corrected message is the same as the current one".into(),
                    });
                }
                let version = store::replay::correct_payload(&mut tx, facts.id, &new.to_string()).await?;
                let entry = AuditEntry {
                    at: now,
                    actor: actor.to_owned(),
                    action: "exception.message_corrected",
                    entity: "exception",
                    entity_id: facts.id.to_string(),
                    before: Some(serde_json::json!({"message": current, "version": facts.payload_version})),
                    after: Some(serde_json::json!({"message": new, "version": version, "diff": diff})),
                    reason: Some("corrected before replaying".to_owned()),
                };
                store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
                (new, version)
            }
            None => (previous.unwrap_or(original), facts.payload_version),
        };
        let key = idempotency_key(facts.id, version);
        let encoded_policy = serde_json::to_string(&policy).context("encode policy")?;
        let job = NewJob {
            exception: facts.id,
            connector: connector.id,
            payload: &wire_body(&body),
            content_type: &content_type,
            payload_version: version,
            idempotency_key: &key,
            traceparent: traceparent.as_deref(),
            policy: &encoded_policy,
            requested_by: actor,
            automatic,
            at: now,
        };
        let job = store::replay::create_job(&mut tx, &job)
            .await?
            .ok_or_else(|| ActError::WrongState(format!("a replay of {id} is already under way")))?;
        store::replay::mark_exception(&mut tx, facts.id, Some(ReplayState::Scheduled), None, Some(now)).await?;
        let entry = AuditEntry {
            at: now,
            actor: actor.to_owned(),
            action: "exception.replay_requested",
            entity: "exception",
            entity_id: facts.id.to_string(),
            before: None,
            after: Some(
                serde_json::json!({"job": job, "connector": spec.name, "message_version": version, "automatic": automatic}),
            ),
            reason: None,
        };
        store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
        tx.commit().await.context("Failed to commit the replay")?;
        Ok(job)
    }

    /// Queues automatic replays for newly filed integration failures whose
    /// policy asks for it.
    pub(crate) async fn auto_replay(&self, exceptions: Vec<i64>) {
        for id in exceptions {
            let result: Result<(), ActError> = async {
                let facts = store::replay::facts(&self.pool, id).await?.ok_or(ActError::NotFound)?;
                let failure = Failure::read(&facts)?;
                let Some((system, operation)) = failure.target.filter(|_| failure.retryable) else { return Ok(()) };
                let Some(connector) = store::replay::connector_for(&self.pool, &system, &operation).await? else {
                    return Ok(());
                };
                let spec: ConnectorSpec =
                    serde_json::from_str(&connector.spec).context("stored connector is unreadable")?;
                if self.policy_for(&spec, &facts.queue).await?.automatic {
                    self.queue_replay("system:auto-retry", facts, None, true).await?;
                }
                Ok(())
            }
            .await;
            if let Err(err) = result {
                tracing::warn!(exception = id, error = %err, "no automatic replay");
            }
        }
    }

    /// The replay side of an exception in reach.
    pub async fn replay_status(
        &self,
        viewer: &crate::auth::Viewer<'_>,
        id: ExceptionId,
    ) -> Result<ReplayStatus, ServiceError> {
        let facts = store::replay::facts(&self.pool, id.get())
            .await?
            .filter(|f| viewer.scope().includes(&f.queue))
            .ok_or_else(|| ServiceError::NotFound(format!("exception {id}")))?;
        let Failure { target, original, corrected, .. } = Failure::read(&facts)?;
        let connector = match target {
            Some((system, operation)) => {
                store::replay::connector_for(&self.pool, &system, &operation).await?.map(|r| summary(&r)).transpose()?
            }
            None => None,
        };
        Ok(ReplayStatus {
            connector,
            state: facts
                .replay_state
                .as_deref()
                .map(str::parse)
                .transpose()
                .context("stored replay state is invalid")?,
            note: facts.replay_note,
            next_attempt_at: facts.next_replay_at.map(from_millis).transpose()?,
            original,
            corrected,
            jobs: store::replay::jobs_of(&self.pool, id.get()).await?,
            attempts: store::replay::attempts_of(&self.pool, id.get()).await?,
        })
    }

    /// Sends one message; what happened, how long it took, and the start of
    /// the answer.
    async fn deliver(
        &self,
        connector: &ConnectorSpec,
        secret: Option<&str>,
        job: &JobRow,
    ) -> (DeliveryOutcome, i64, Option<String>) {
        let started = Instant::now();
        let method = reqwest::Method::from_bytes(connector.method.as_str().as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut request = self
            .http
            .request(method, &connector.url)
            .timeout(StdDuration::from_millis(u64::from(connector.timeout_ms)))
            .header("content-type", &job.content_type)
            .header("idempotency-key", &job.idempotency_key)
            .body(job.payload.clone());
        if let Some(tp) = &job.traceparent {
            request = request.header("traceparent", tp);
        }
        for (name, value) in &connector.headers {
            request = request.header(name, value);
        }
        if let (Some(header), Some(secret)) = (&connector.auth_header, secret) {
            request = request.header(header, secret);
        }
        let outcome = match request.send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, Utc::now()));
                let mut head = Vec::new();
                while head.len() < RESPONSE_HEAD {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            head.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_HEAD - head.len())])
                        }
                        _ => break,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                (DeliveryOutcome::Http { status, retry_after_ms: retry_after }, Some(head))
            }
            Err(err) if err.is_timeout() => (DeliveryOutcome::Timeout, None),
            Err(_) => (DeliveryOutcome::ConnectionError, None),
        };
        (outcome.0, started.elapsed().as_millis() as i64, outcome.1)
    }

    /// Claims the replay due first, if any, and takes one step with it. The
    /// workers call this in a loop; tests drive it directly.
    pub async fn replay_once(&self, now: DateTime<Utc>) -> anyhow::Result<Option<ReplayStep>> {
        let token = {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let lease = now
            + Duration::from_std(StdDuration::from_millis(u64::from(ConnectorSpec::MAX_TIMEOUT_MS)) + LEASE_MARGIN)?;
        let Some(job) = store::replay::claim(&self.pool, now, &token, lease).await? else { return Ok(None) };
        self.step(job, &token, now).await.map(Some)
    }

    async fn step(&self, job: JobRow, token: &str, now: DateTime<Utc>) -> anyhow::Result<ReplayStep> {
        let Some(row) = store::replay::connector(&self.pool, job.connector_id).await? else {
            let mut tx = crate::store::begin(&self.pool).await?;
            store::replay::finish(&mut tx, job.id, token, JobState::Failed, Some("the connector was removed"), now)
                .await?;
            store::replay::mark_exception(
                &mut tx,
                job.exception_id,
                Some(ReplayState::Failed),
                Some("replay failed: the connector was removed"),
                None,
            )
            .await?;
            tx.commit().await?;
            return Ok(ReplayStep::Failed { job: job.id });
        };
        let spec: ConnectorSpec = serde_json::from_str(&row.spec).context("stored connector is unreadable")?;
        let policy: RetryPolicySpec =
            serde_json::from_str(&job.policy).context("stored replay policy is unreadable")?;
        let mut breaker = parse_breaker(&row.breaker);
        let mut breaker_json = row.breaker.clone();
        let cooldown = Duration::seconds(i64::from(spec.breaker_cooldown_seconds));
        match breaker.admit(now, cooldown) {
            Admission::Go => {}
            Admission::Probe => {
                let probing = serde_json::to_string(&Breaker::HalfOpen)?;
                if !store::replay::swap_breaker(&self.pool, row.id, &row.breaker, &probing).await? {
                    return self.defer(&job, token, &spec, now + Duration::seconds(1)).await;
                }
                breaker = Breaker::HalfOpen;
                breaker_json = probing;
            }
            Admission::WaitUntil(until) => return self.defer(&job, token, &spec, until).await,
        }

        let started = Utc::now();
        let (outcome, latency, head) = self.deliver(&spec, row.secret.as_deref(), &job).await;
        let attempt = job.attempts + 1;
        let verdict = policy.retry_on.verdict(outcome);
        let now = Utc::now();
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let recorded = store::replay::record_attempt(
            &mut tx,
            job.id,
            token,
            &Attempt {
                number: attempt,
                started,
                latency_ms: latency,
                outcome: AttemptOutcome::of(outcome).as_str(),
                http_status: match outcome {
                    DeliveryOutcome::Http { status, .. } => Some(i64::from(status)),
                    _ => None,
                },
                response_head: head.as_deref(),
            },
        )
        .await?;
        if !recorded {
            return Ok(ReplayStep::LostLease { job: job.id });
        }
        let what = describe(outcome, spec.timeout_ms);
        // The breaker counts failures of the target, not its refusals.
        let target_failed = matches!(verdict, Verdict::Retry { .. })
            || matches!(outcome, DeliveryOutcome::Timeout | DeliveryOutcome::ConnectionError);
        let next_breaker = match verdict {
            Verdict::Delivered => breaker.succeeded(),
            _ if target_failed => breaker.failed(now, spec.breaker_threshold),
            _ => breaker,
        };
        let step = match verdict {
            Verdict::Delivered => {
                store::replay::finish(&mut tx, job.id, token, JobState::Succeeded, None, now).await?;
                self.resolve_replayed(&mut tx, job.exception_id, &format!("replayed: {what}"), now).await?;
                ReplayStep::Delivered { job: job.id }
            }
            Verdict::Retry { min_delay_ms } if attempt < i64::from(policy.schedule.max_attempts) => {
                let planned = policy.schedule.delay_before(attempt as u32 + 1, job.id as u64).unwrap_or(0);
                let wait = planned.max(min_delay_ms.unwrap_or(0));
                let next = now + Duration::milliseconds(wait as i64);
                store::replay::reschedule(&mut tx, job.id, token, next, Some(&what)).await?;
                let note = format!(
                    "attempt {attempt} of {}: {what}; next attempt {}",
                    policy.schedule.max_attempts,
                    next.format("%H:%M:%S UTC")
                );
                store::replay::mark_exception(
                    &mut tx,
                    job.exception_id,
                    Some(ReplayState::Scheduled),
                    Some(&note),
                    Some(next),
                )
                .await?;
                ReplayStep::Retrying { job: job.id, next }
            }
            _ => {
                store::replay::finish(&mut tx, job.id, token, JobState::Failed, Some(&what), now).await?;
                let note = format!("replay failed after {attempt} attempt(s): {what}");
                store::replay::mark_exception(&mut tx, job.exception_id, Some(ReplayState::Failed), Some(&note), None)
                    .await?;
                let entry = AuditEntry {
                    at: now,
                    actor: "system:replay".to_owned(),
                    action: "exception.replay_failed",
                    entity: "exception",
                    entity_id: job.exception_id.to_string(),
                    before: None,
                    after: Some(serde_json::json!({"job": job.id, "attempts": attempt, "last": what})),
                    reason: Some(note),
                };
                store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
                ReplayStep::Failed { job: job.id }
            }
        };
        tx.commit().await.context("Failed to commit a replay attempt")?;
        if next_breaker != breaker {
            store::replay::swap_breaker(&self.pool, row.id, &breaker_json, &serde_json::to_string(&next_breaker)?)
                .await?;
        }
        Ok(step)
    }

    /// Puts a job back to wait for an open circuit, without using an attempt.
    async fn defer(
        &self,
        job: &JobRow,
        token: &str,
        spec: &ConnectorSpec,
        until: DateTime<Utc>,
    ) -> anyhow::Result<ReplayStep> {
        let mut tx = crate::store::begin(&self.pool).await?;
        store::replay::reschedule(&mut tx, job.id, token, until, None).await?;
        let note =
            format!("waiting: the {} connector's circuit is open until {}", spec.name, until.format("%H:%M:%S UTC"));
        store::replay::mark_exception(
            &mut tx,
            job.exception_id,
            Some(ReplayState::Scheduled),
            Some(&note),
            Some(until),
        )
        .await?;
        tx.commit().await?;
        Ok(ReplayStep::Deferred { job: job.id, until })
    }

    /// Resolves an exception whose message went through.
    async fn resolve_replayed(
        &self,
        tx: &mut store::Tx<'_>,
        exception: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        store::replay::mark_exception(tx, exception, Some(ReplayState::Replayed), None, None).await?;
        let Some(state) = store::triage::state(tx, exception).await? else { return Ok(()) };
        let status: crossdock::Status = state.status.parse().context("stored status is invalid")?;
        if !status.is_open() {
            return Ok(());
        }
        store::triage::record_status(tx, exception, "resolved", "system:replay", now).await?;
        let severity = state.severity.parse().context("stored severity is invalid")?;
        let clocks =
            sla::clocks(tx, &self.configuration(), exception, severity, &state.queue, state.sla_policy_version, now)
                .await?;
        let change = Change {
            status: "resolved",
            assignee: state.assignee.as_deref(),
            queue: &state.queue,
            sla: &clocks,
            at: now,
        };
        if store::triage::update(tx, exception, state.version, &change).await? {
            let entry = AuditEntry {
                at: now,
                actor: "system:replay".to_owned(),
                action: "exception.resolved",
                entity: "exception",
                entity_id: exception.to_string(),
                before: Some(
                    serde_json::json!({"status": state.status, "assignee": state.assignee, "queue": state.queue}),
                ),
                after: Some(
                    serde_json::json!({"status": "resolved", "assignee": state.assignee, "queue": state.queue}),
                ),
                reason: Some(reason.to_owned()),
            };
            store::audit::append(tx, &entry).await.context("Failed to audit")?;
        }
        Ok(())
    }

    /// Runs replay workers until `stop` says so: each claims the job due
    /// first, takes one step, and looks again.
    pub async fn run_replay_workers(&self, workers: usize, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let services = self.clone();
            let mut stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    if *stop.borrow() {
                        break;
                    }
                    match services.replay_once(Utc::now()).await {
                        Ok(Some(_)) => continue,
                        Ok(None) => {}
                        Err(err) => tracing::error!(error = format!("{err:#}"), "a replay step failed"),
                    }
                    tokio::select! {
                        _ = stop.changed() => {}
                        () = tokio::time::sleep(StdDuration::from_millis(250)) => {}
                    }
                }
            }));
        }
        let _ = stop.changed().await;
        for t in tasks {
            let _ = t.await;
        }
    }
}
