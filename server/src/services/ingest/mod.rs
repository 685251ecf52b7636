//! Ingest: parse events, check they belong to their source, route exceptions
//! and start their SLA clocks, then commit through the group-commit writer.

mod dead_letters;
mod dry_run;
mod on_behalf;
pub mod signature;
pub mod source;
pub mod throttle;
pub mod writer;

use std::time::Instant;

use chrono::{DateTime, Utc};
use crossdock::FieldProblem;
use crossdock::config::Configuration;
use crossdock::event::{self, Event};
use crossdock::grouping::Fingerprint;
use crossdock::lineage::Facts;
use crossdock::routing::RoutingFacts;
use crossdock::sla::{ClockKind, StatusChange};
use crossdock::{ExceptionId, ExceptionKind, Status};
use serde_json::Value;

use super::{ServiceError, Services};
use crate::auth::Actor;
use crate::store::events::EventRecord;
use crate::store::exceptions::{NewException, SlaColumns};
pub use dry_run::{Filing, Forecast, Grouping, Tried};
use source::AuthenticatedSource;
use writer::{IngestItem, Routed, SubmitError, WriteOutcome, WriterSettings};

/// Limits and tuning of the ingest API.
#[derive(Debug, Clone, Copy)]
pub struct IngestSettings {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most events in one batch.
    pub max_batch: usize,
    pub writer: WriterSettings,
}

/// What became of one event of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum EventResult {
    Accepted { id: String, exception: Option<ExceptionId>, opened: bool },
    Duplicate { id: String },
    Rejected { id: Option<String>, reason: RejectReason, problems: Vec<FieldProblem> },
}

/// Why an event was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// The event does not follow the contract (400).
    Invalid,
    /// Its `source` is not one the key may write as (403).
    ForeignSource,
}

/// A source that may not send now, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Throttled(pub std::time::Duration);

fn reject(value: &Value, reason: RejectReason, problems: Vec<FieldProblem>) -> EventResult {
    let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
    EventResult::Rejected { id, reason, problems }
}

/// Builds what the writer needs for one valid event.
fn prepare(
    config: &Configuration,
    source: &AuthenticatedSource,
    event: &Event,
    raw: &Value,
    received_at: DateTime<Utc>,
    actor: Option<Actor>,
) -> anyhow::Result<IngestItem> {
    let refs = event.business_refs();
    let record = EventRecord {
        source_id: source.id,
        source: event.source.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.as_str(),
        time: event.time.with_timezone(&Utc),
        received_at,
        subject: event.subject.clone(),
        correlation_id: event.correlation.as_ref().map(|c| c.id.to_string()),
        site: event.data.site.clone(),
        body: raw.to_string(),
        refs: refs.iter().map(|(k, v)| (k, v.to_owned())).collect(),
        lineage: Facts::of(event),
        kpi: crossdock::kpi::Signal::of(event).map(|signal| {
            let zone = signal.site().map_or(chrono_tz::UTC, |site| config.site_zone(site));
            (signal, zone)
        }),
    };
    let null = Value::Null;
    let data = raw.get("data").unwrap_or(&null);
    let mut routed = None;
    let exception = match (RoutingFacts::of_event(event, data), Fingerprint::of(&source.name, event)) {
        (Some(facts), Some(fingerprint)) => {
            let decision = config.routing.route(&facts);
            let queue = config
                .queue(&decision.queue)
                .ok_or_else(|| anyhow::anyhow!("routing chose queue `{}`, which is not configured", decision.queue))?;
            let policy = config.policy_of(queue);
            let history = [StatusChange { at: received_at, status: Status::New }];
            let sla = policy.map_or_else(SlaColumns::default, |p| SlaColumns {
                ack: Some(
                    p.policy
                        .read(ClockKind::Acknowledge, decision.severity, &queue.calendar, &history, received_at)
                        .snapshot(),
                ),
                resolve: Some(
                    p.policy
                        .read(ClockKind::Resolve, decision.severity, &queue.calendar, &history, received_at)
                        .snapshot(),
                ),
                ..SlaColumns::default()
            });
            routed = Some(Routed {
                rule: decision.rule.and_then(|i| decision.trace.get(i)).map(|t| (t.rule + 1, t.name.clone())),
                routing_version: config.routing_version,
                queue: decision.queue.to_string(),
                severity: decision.severity,
                assignee: decision.assignee.clone(),
                sla_policy: policy.map(|p| p.spec.name.clone()),
                sla_policy_version: policy.map(|p| p.version_id),
            });
            let mut summary = crossdock::summary::summarize(event);
            if summary.chars().count() > 500 {
                summary = summary.chars().take(499).chain(['…']).collect();
            }
            Some(NewException {
                kind: facts.kind,
                severity: decision.severity,
                site: event.data.site.clone().unwrap_or_default(),
                queue: decision.queue.to_string(),
                summary,
                refs,
                payload: data.to_string(),
                fingerprint: fingerprint.to_string(),
                source: event.source.clone(),
                correlation_id: record.correlation_id.clone(),
                assignee: decision.assignee,
                event_id: 0,
                transaction_id: None,
                sla_policy_version: policy.map(|p| p.version_id),
                sla,
                opened_at: received_at,
            })
        }
        _ => None,
    };
    let actor = actor.unwrap_or_else(|| Actor::Source(source.name.to_string()));
    Ok(IngestItem { event: record, exception, actor, routed })
}

impl Services {
    /// Takes `cost` events from the source's allowance, or says how long to wait.
    pub fn throttle_source(&self, source: &AuthenticatedSource, cost: usize) -> Result<(), Throttled> {
        let cost = u32::try_from(cost).unwrap_or(u32::MAX);
        self.throttle.take(source.id, source.rate_per_sec, source.burst, cost, Instant::now()).map_err(Throttled)
    }

    /// Checks a signed request: its signature, then that its `webhook-id`
    /// was not used for another request. The request is charged one event
    /// of the source's allowance first, so a flood of bad signatures is
    /// throttled before any is computed; pass `charged = 1` to
    /// [`Services::ingest`] after.
    pub fn verify_signed(
        &self,
        source: &AuthenticatedSource,
        signed: &signature::Signed<'_>,
        received_at: DateTime<Utc>,
    ) -> Result<(), signature::SignatureError> {
        self.throttle_source(source, 1).map_err(|Throttled(wait)| signature::SignatureError::Throttled(wait))?;
        signature::verify(&source.secrets, signed.id, signed.timestamp, signed.signatures, signed.body, received_at)?;
        self.webhook_ids.admit(source.id, signed.id.unwrap_or_default(), signed.carried, Instant::now())
    }

    /// Ingests the events of one request, answering each once the accepted
    /// ones are committed; a source over its allowance is told to wait. The
    /// request was charged `charged` events already; a batch larger than the
    /// source's burst could never pass and is refused.
    #[tracing::instrument(skip_all, fields(source = %source.name, events = values.len()))]
    pub async fn ingest(
        &self,
        source: &AuthenticatedSource,
        values: &[Value],
        received_at: DateTime<Utc>,
        charged: usize,
    ) -> Result<Vec<EventResult>, ServiceError> {
        self.ingest_by(source, values, received_at, charged, None).await
    }

    /// [`Services::ingest`], the events written as `actor` when one sends on
    /// the source's behalf.
    async fn ingest_by(
        &self,
        source: &AuthenticatedSource,
        values: &[Value],
        received_at: DateTime<Utc>,
        charged: usize,
        actor: Option<Actor>,
    ) -> Result<Vec<EventResult>, ServiceError> {
        let Checked { mut results, items, slots } = self.check(source, values, received_at, charged, actor)?;
        let outcomes = self.writer.submit(items).await.map_err(|e| match e {
            SubmitError::Overloaded => ServiceError::Overloaded,
            SubmitError::Failed => ServiceError::Internal(anyhow::anyhow!("the ingest writer failed")),
        })?;
        let mut integration_failures = Vec::new();
        for ((i, id), outcome) in slots.into_iter().zip(outcomes) {
            if let WriteOutcome::Accepted { exception: Some(x), opened: true, .. } = outcome
                && values[i].get("type").and_then(Value::as_str) == Some(ExceptionKind::Integration.as_str())
            {
                integration_failures.push(x);
            }
            results[i] = Some(match outcome {
                WriteOutcome::Accepted { exception, opened, .. } => EventResult::Accepted { id, exception, opened },
                WriteOutcome::Duplicate => EventResult::Duplicate { id },
            });
        }
        if !integration_failures.is_empty() {
            // Automatic retries are queued after the answer; a crash before
            // leaves the failures for people, as if no policy asked.
            let services = self.clone();
            tokio::spawn(async move { services.auto_replay(integration_failures).await });
        }
        let results: Vec<EventResult> = results.into_iter().flatten().collect();
        for (value, result) in values.iter().zip(&results) {
            let (outcome, kind) = match result {
                EventResult::Accepted { .. } => ("accepted", value.get("type").and_then(Value::as_str)),
                EventResult::Duplicate { .. } => ("duplicate", value.get("type").and_then(Value::as_str)),
                // A rejected event's type may be anything: not a label.
                EventResult::Rejected { .. } => ("rejected", None),
            };
            metrics::counter!(crate::metrics::INGEST_EVENTS, "source" => source.name.to_string(),
                "type" => kind.unwrap_or("-").to_owned(), "outcome" => outcome)
            .increment(1);
        }
        Ok(results)
    }

    /// Looks at the events of one request as [`Services::ingest`] does: the
    /// source's allowance, the contract, the source each event names; what
    /// passes is prepared for the writer, to be written as `actor` (by
    /// default the source).
    fn check(
        &self,
        source: &AuthenticatedSource,
        values: &[Value],
        received_at: DateTime<Utc>,
        charged: usize,
        actor: Option<Actor>,
    ) -> Result<Checked, ServiceError> {
        let burst = usize::try_from(source.burst).unwrap_or(usize::MAX);
        if values.len() > burst {
            return Err(ServiceError::OverBurst { events: values.len(), burst });
        }
        self.throttle_source(source, values.len().saturating_sub(charged))
            .map_err(|Throttled(wait)| ServiceError::Throttled(wait))?;
        let config = self.configuration();
        let mut results: Vec<Option<EventResult>> = vec![None; values.len()];
        let mut items = Vec::new();
        let mut slots = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let parsed = event::with_json_data(value).and_then(|value| Ok((event::parse(&value)?, value)));
            let (event, value) = match parsed {
                Ok(parsed) => parsed,
                Err(invalid) => {
                    results[i] = Some(reject(value, RejectReason::Invalid, invalid.0));
                    continue;
                }
            };
            if event.exception_kind().is_some_and(|k| !k.from_senders()) && source.name.as_str() != super::SYSTEM_SOURCE
            {
                let problem = FieldProblem {
                    pointer: "/type".into(),
                    message: format!("`{}` is raised by Crossdock itself, not sent", event.event_type),
                };
                results[i] = Some(reject(&value, RejectReason::Invalid, vec![problem]));
                continue;
            }
            if !source.prefixes.cover(&event.source) {
                let problem = FieldProblem {
                    pointer: "/source".into(),
                    message: format!("`{}` is not under the prefixes of source {}", event.source, source.name),
                };
                results[i] = Some(reject(&value, RejectReason::ForeignSource, vec![problem]));
                continue;
            }
            items.push(prepare(&config, source, &event, &value, received_at, actor.clone())?);
            slots.push((i, event.id));
        }
        Ok(Checked { results, items, slots })
    }
}

/// The events of a request once looked at: the answers known already (the
/// refused), and what goes to the writer, with each one's place and id.
struct Checked {
    results: Vec<Option<EventResult>>,
    items: Vec<IngestItem>,
    slots: Vec<(usize, String)>,
}
