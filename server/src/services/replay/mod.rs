//! Replays: sending an integration failure's message again to its target, as
//! a durable job under a retry policy, behind the connector's circuit
//! breaker; resolving the exception when it goes through and handing it back
//! to its queue, with the reason, when the attempts run out.

mod admin;
mod deliver;

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::audit::{Actor, AuditAction, AuditEntry, Entity, SystemAgent};
use crossdock::replay::{ReplayAttempt, ReplayJob, ReplayState, idempotency_key, json_diff};
use crossdock::source::SourceName;
use crossdock::{ExceptionId, ExceptionKind};
use serde_json::Value;

pub use admin::{ConnectorSummary, TestAnswer};
pub use deliver::ReplayStep;

use super::{ActError, ServiceError, Services};
use crate::auth::{Correction, Viewer, Vouch, Worker};
use crate::store::replay::{NewJob, ReplayFacts};
use crate::store::{self};

/// The replay side of an exception.
#[derive(Debug, Clone)]
pub struct ReplayStatus {
    pub connector: Option<ConnectorSummary>,
    /// The source that filed the failure.
    pub filed_by: Option<SourceName>,
    /// Whether the connector replays it on its source's word; if not, a
    /// supervisor must confirm.
    pub trusted: bool,
    pub state: Option<ReplayState>,
    pub note: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The message as it was received.
    pub original: Value,
    /// The corrected message, when someone corrected it.
    pub corrected: Option<Value>,
    pub jobs: Vec<ReplayJob>,
    /// Newest first.
    pub attempts: Vec<ReplayAttempt>,
}

/// A replay that was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub job: i64,
    /// The exception's version when it was queued.
    pub version: i64,
}

/// What a replay needs from an integration failure's stored data, read once.
struct Failure {
    /// The system and operation it failed in, when the data names them.
    target: Option<(String, String)>,
    /// `data.payload`: the message as it was received.
    original: Value,
    /// The content type the source declared for its payload, if it is sane.
    content_type: String,
    /// Whether the source said the failure may be retried (it may unless it
    /// said no).
    retryable: bool,
}

impl Failure {
    fn read(facts: &ReplayFacts) -> Self {
        let data = &facts.data;
        let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
        Self {
            target: text("system").zip(text("operation")),
            original: data.get("payload").cloned().unwrap_or(Value::Null),
            content_type: text("payload_content_type")
                .filter(|t| reqwest::header::HeaderValue::from_str(t).is_ok() && t.contains('/') && t.len() <= 200)
                .unwrap_or_else(|| "application/json".to_owned()),
            retryable: data.get("retryable").and_then(Value::as_bool) != Some(false),
        }
    }
}

/// Who asked for a replay.
enum Asked {
    /// A retry policy, for a new failure.
    Automatically,
    /// A person; with a supervisor's confirmation when they gave one.
    ByPerson(Option<Vouch>),
}

/// Why a failure is not replayed on its source's word.
fn untrusted(connector: &str, source: Option<&SourceName>) -> String {
    let from = source.map_or_else(|| "an unknown source".to_owned(), |s| format!("source {s}"));
    format!(
        "connector {connector} does not replay failures from {from} on their word: a supervisor must confirm this replay"
    )
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
    /// Replays an integration failure's message, corrected first when a
    /// correction is given (the original is kept; the change is audited). A
    /// failure filed by a source its connector does not trust needs a
    /// supervisor's `vouch`.
    #[tracing::instrument(skip_all, fields(exception = id.get()))]
    pub async fn request_replay(
        &self,
        worker: &Worker,
        id: ExceptionId,
        correction: Option<Correction>,
        vouch: Option<Vouch>,
    ) -> Result<Queued, ActError> {
        // Out of reach reads exactly like missing.
        let facts = store::replay::facts(&self.pool, id)
            .await?
            .filter(|f| worker.scope().includes(&f.queue))
            .ok_or(ActError::NotFound)?;
        let version = facts.version;
        let corrected = correction.map(Correction::into_message);
        let job = self.queue_replay(&worker.user().actor(), facts, corrected, Asked::ByPerson(vouch)).await?;
        Ok(Queued { job, version })
    }

    async fn queue_replay(
        &self,
        actor: &Actor,
        facts: ReplayFacts,
        corrected: Option<Value>,
        asked: Asked,
    ) -> Result<i64, ActError> {
        let automatic = matches!(asked, Asked::Automatically);
        let id = facts.id;
        if facts.kind != ExceptionKind::Integration {
            return Err(ActError::WrongState(format!(
                "{id} is not an integration failure: it has no message to replay"
            )));
        }
        if !facts.status.is_open() {
            return Err(ActError::WrongState(format!(
                "{id} is {}: reopen it before replaying",
                facts.status.label().to_lowercase()
            )));
        }
        let failure = Failure::read(&facts);
        let (system, operation) =
            failure.target.clone().context("the integration failure names no system and operation")?;
        let connector = store::connectors::connector_for(&self.pool, &system, &operation).await?.ok_or_else(|| {
            ActError::Invalid {
                field: "connector".into(),
                message: format!("no connector replays {system} {operation}"),
            }
        })?;
        let trusted = connector.spec.trusts(facts.filed_by.as_ref());
        let vouched_by = match asked {
            Asked::ByPerson(Some(vouch)) if !trusted => Some(vouch.by().to_string()),
            _ if trusted => None,
            _ => return Err(ActError::NotAllowed(untrusted(&connector.spec.name, facts.filed_by.as_ref()))),
        };
        let policy = self.policy_for(&connector.spec, &facts.queue).await?;
        let now = self.now();
        let traceparent =
            facts.event.as_ref().and_then(|v| v.get("traceparent").and_then(Value::as_str).map(str::to_owned));
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let (body, version) = match corrected {
            Some(new) => {
                let current = facts.corrected.as_ref().unwrap_or(&failure.original);
                let diff = json_diff(current, &new);
                if diff.is_empty() {
                    return Err(ActError::Invalid {
                        field: "message".into(),
                        message: "the corrected message is the same as the current one".into(),
                    });
                }
                let version = store::replay::correct_payload(&mut tx, id, &new).await?;
                let entry = AuditEntry::new(
                    now,
                    actor.clone(),
                    AuditAction::MessageCorrected,
                    Entity::Exception,
                    id.get().to_string(),
                )
                .before(serde_json::json!({"message": current, "version": facts.payload_version}))
                .after(serde_json::json!({"message": new, "version": version, "diff": diff}))
                .reason("corrected before replaying");
                store::audit::append(&mut tx, &[entry]).await?;
                (new, version)
            }
            None => (facts.corrected.clone().unwrap_or(failure.original), facts.payload_version),
        };
        let key = idempotency_key(id.get(), version);
        let requested_by = actor.to_string();
        let job = NewJob {
            exception: id,
            connector: connector.id,
            payload: &wire_body(&body),
            content_type: &failure.content_type,
            payload_version: version,
            idempotency_key: &key,
            traceparent: traceparent.as_deref(),
            policy: &policy,
            requested_by: &requested_by,
            automatic,
            at: now,
        };
        let job = store::replay::create_job(&mut tx, &job)
            .await?
            .ok_or_else(|| ActError::WrongState(format!("a replay of {id} is already under way")))?;
        store::replay::mark_exception(&mut tx, id, Some(ReplayState::Scheduled), None, Some(now)).await?;
        let entry =
            AuditEntry::new(now, actor.clone(), AuditAction::ReplayRequested, Entity::Exception, id.get().to_string())
                .after(serde_json::json!({
                    "job": job, "connector": connector.spec.name, "message_version": version, "automatic": automatic,
                    "filed_by": facts.filed_by, "confirmed_by": vouched_by,
                }));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit the replay")?;
        self.wake_workers();
        Ok(job)
    }

    /// Queues automatic replays for newly filed integration failures whose
    /// policy asks for it.
    pub(super) async fn auto_replay(&self, exceptions: Vec<ExceptionId>) {
        let actor = Actor::System(SystemAgent::AutoRetry);
        for id in exceptions {
            let result: Result<(), ActError> = async {
                let facts = store::replay::facts(&self.pool, id).await?.ok_or(ActError::NotFound)?;
                let failure = Failure::read(&facts);
                let Some((system, operation)) = failure.target.filter(|_| failure.retryable) else { return Ok(()) };
                let Some(connector) = store::connectors::connector_for(&self.pool, &system, &operation).await? else {
                    return Ok(());
                };
                // A failure nobody vouched for waits for a supervisor.
                if connector.spec.trusts(facts.filed_by.as_ref())
                    && self.policy_for(&connector.spec, &facts.queue).await?.automatic
                {
                    self.queue_replay(&actor, facts, None, Asked::Automatically).await?;
                }
                Ok(())
            }
            .await;
            if let Err(err) = result {
                tracing::warn!(exception = id.get(), error = %err, "no automatic replay");
            }
        }
    }

    /// The replay side of an exception in reach.
    pub async fn replay_status(&self, viewer: &Viewer, id: ExceptionId) -> Result<ReplayStatus, ServiceError> {
        let facts = store::replay::facts(&self.pool, id)
            .await?
            .filter(|f| viewer.scope().includes(&f.queue))
            .ok_or_else(|| ServiceError::NotFound(format!("exception {id}")))?;
        let Failure { target, original, .. } = Failure::read(&facts);
        let connector: Option<ConnectorSummary> = match target {
            Some((system, operation)) => {
                store::connectors::connector_for(&self.pool, &system, &operation).await?.map(ConnectorSummary::from)
            }
            None => None,
        };
        Ok(ReplayStatus {
            trusted: connector.as_ref().is_some_and(|c| c.spec.trusts(facts.filed_by.as_ref())),
            filed_by: facts.filed_by,
            connector,
            state: facts.replay_state,
            note: facts.replay_note,
            next_attempt_at: facts.next_replay_at,
            original,
            corrected: facts.corrected,
            jobs: store::replay::jobs_of(&self.pool, id).await?,
            attempts: store::replay::attempts_of(&self.pool, id).await?,
        })
    }

    /// What a replay target answered to one attempt, for someone who sees
    /// the exception; each reading is recorded in the audit trail.
    pub async fn replay_answer(
        &self,
        viewer: &Viewer,
        id: ExceptionId,
        job: i64,
        attempt: i64,
    ) -> Result<String, ServiceError> {
        let not_found = || ServiceError::NotFound(format!("attempt {attempt} of replay {job} of exception {id}"));
        store::replay::facts(&self.pool, id)
            .await?
            .filter(|f| viewer.scope().includes(&f.queue))
            .ok_or_else(not_found)?;
        let answer = store::replay::answer_of(&self.pool, id, job, attempt).await?.ok_or_else(not_found)?;
        let now = self.now();
        let entry = AuditEntry::new(
            now,
            viewer.user().actor(),
            AuditAction::ReplayAnswerRead,
            Entity::Exception,
            id.get().to_string(),
        )
        .after(serde_json::json!({ "job": job, "attempt": attempt }))
        .reason(format!("read what the target answered to attempt {attempt} of replay {job}"));
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to record a read")?;
        Ok(answer.unwrap_or_default())
    }
}
