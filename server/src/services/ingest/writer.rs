//! Group commit: one writer task commits the events of many concurrent
//! requests in one transaction, so throughput does not fall to one fsync per
//! event. Requests wait in a queue bounded both in requests and in bytes;
//! when either is full, callers are told to come back later.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use crossdock::audit::{AuditAction, AuditEntry, Entity};

use crate::clock::Clock;
use crate::store::{self, Pool};

pub use crate::store::ingest::{IngestItem, Routed, WriteOutcome};

/// Why a submission was not written.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The queue is full: try again shortly.
    #[error("the ingest queue is full")]
    Overloaded,
    /// The writer failed or is gone; the events were not committed.
    #[error("the events could not be committed")]
    Failed,
}

/// Tuning of the writer.
#[derive(Debug, Clone, Copy)]
pub struct WriterSettings {
    /// Requests that may wait for the writer.
    pub queue_capacity: usize,
    /// Bytes of events that may wait for the writer.
    pub queue_bytes: usize,
    /// Events committed in one transaction at most.
    pub max_batch_events: usize,
    /// How long the writer waits for more requests once it has one.
    pub max_wait: Duration,
}

impl WriterSettings {
    /// The writer's tuning, with room for `queue_capacity` waiting requests
    /// of `queue_bytes` in all.
    pub fn with_queue(queue_capacity: usize, queue_bytes: usize) -> Self {
        Self { queue_capacity, queue_bytes, max_batch_events: 2000, max_wait: Duration::from_millis(1) }
    }
}

struct Job {
    items: Vec<IngestItem>,
    reply: oneshot::Sender<Result<Vec<WriteOutcome>, ()>>,
    /// Its share of the byte budget, given back once it is written.
    _bytes: OwnedSemaphorePermit,
}

/// The bytes of events that may wait: a request takes its share or is
/// turned away.
#[derive(Clone)]
struct ByteBudget {
    permits: Arc<Semaphore>,
    capacity: u32,
}

impl ByteBudget {
    fn new(bytes: usize) -> Self {
        let capacity = u32::try_from(bytes).unwrap_or(u32::MAX).max(1);
        Self { permits: Arc::new(Semaphore::new(capacity as usize)), capacity }
    }

    /// Takes `bytes` (a request larger than the whole budget takes all of
    /// it, so it still passes alone); `None` when they are not free now.
    fn take(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        let wanted = u32::try_from(bytes).unwrap_or(u32::MAX).clamp(1, self.capacity);
        self.permits.clone().try_acquire_many_owned(wanted).ok()
    }
}

/// What an item weighs while it waits: its event as received, and the
/// exception data copied from it.
fn weight(item: &IngestItem) -> usize {
    item.event.body.len() + item.exception.as_ref().map_or(0, |e| e.payload.len() + e.summary.len())
}

/// The handle requests submit events through.
#[derive(Clone)]
pub struct IngestWriter {
    tx: mpsc::Sender<Job>,
    budget: ByteBudget,
}

impl IngestWriter {
    /// Starts the writer task. It ends when every handle is dropped.
    pub fn spawn(pool: Pool, settings: WriterSettings, clock: Clock) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(settings.queue_capacity.max(1));
        let task = tokio::spawn(run(pool, rx, settings, clock));
        (Self { tx, budget: ByteBudget::new(settings.queue_bytes) }, task)
    }

    /// Requests waiting for the writer.
    pub fn depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Commits the items and answers once they are durable.
    pub async fn submit(&self, items: Vec<IngestItem>) -> Result<Vec<WriteOutcome>, SubmitError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let bytes = self.budget.take(items.iter().map(weight).sum()).ok_or(SubmitError::Overloaded)?;
        let (reply, answer) = oneshot::channel();
        self.tx.try_send(Job { items, reply, _bytes: bytes }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SubmitError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => SubmitError::Failed,
        })?;
        match answer.await {
            Ok(Ok(outcomes)) => Ok(outcomes),
            _ => Err(SubmitError::Failed),
        }
    }
}

async fn run(pool: Pool, mut rx: mpsc::Receiver<Job>, settings: WriterSettings, clock: Clock) {
    while let Some(first) = rx.recv().await {
        let mut events = first.items.len();
        let mut jobs = vec![first];
        while events < settings.max_batch_events {
            let next = match rx.try_recv() {
                Ok(job) => Some(job),
                Err(mpsc::error::TryRecvError::Empty) => {
                    tokio::time::timeout(settings.max_wait, rx.recv()).await.ok().flatten()
                }
                Err(mpsc::error::TryRecvError::Disconnected) => None,
            };
            let Some(job) = next else { break };
            events += job.items.len();
            jobs.push(job);
        }
        match write_batch(&pool, &jobs, clock.now()).await {
            Ok(mut outcomes) => {
                // Answer each request with its own outcomes, in order.
                for job in jobs.into_iter().rev() {
                    let mine = outcomes.split_off(outcomes.len() - job.items.len());
                    let _ = job.reply.send(Ok(mine));
                }
            }
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), events, "an ingest batch failed to commit");
                for job in jobs {
                    let _ = job.reply.send(Err(()));
                }
            }
        }
    }
}

/// Writes every item of every job in one transaction.
async fn write_batch(pool: &Pool, jobs: &[Job], now: DateTime<Utc>) -> anyhow::Result<Vec<WriteOutcome>> {
    write_all(pool, jobs.iter().flat_map(|j| &j.items), now).await
}

/// Commits items in one transaction, bypassing the queue (tools and benchmarks).
pub async fn commit_items(pool: &Pool, items: &[IngestItem]) -> anyhow::Result<Vec<WriteOutcome>> {
    write_all(pool, items.iter(), Utc::now()).await
}

async fn write_all<'a>(
    pool: &Pool,
    items: impl Iterator<Item = &'a IngestItem>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<WriteOutcome>> {
    let items: Vec<&IngestItem> = items.collect();
    let mut tx = crate::store::begin(pool).await.context("Failed to begin the ingest transaction")?;
    let outcomes = store::ingest::write(&mut tx, &items).await?;
    store::audit::append(&mut tx, &transformations(&items, &outcomes, now)).await?;
    tx.commit().await.context("Failed to commit the ingest transaction")?;
    Ok(outcomes)
}

/// What each accepted event became, and why: the exception it filed (with
/// its routing and grouping), the open exception it was another occurrence
/// of, or the event recorded (in its transaction, when it has one).
fn transformations(items: &[&IngestItem], outcomes: &[WriteOutcome], now: DateTime<Utc>) -> Vec<AuditEntry> {
    items
        .iter()
        .zip(outcomes)
        .filter_map(|(item, outcome)| {
            let WriteOutcome::Accepted { event, transaction, exception, opened } = *outcome else { return None };
            let received = serde_json::json!({
                "source": item.event.source,
                "id": item.event.event_id,
                "type": item.event.event_type,
                "logged": event,
            });
            // Received now, unless a tool replays older events.
            let at = item.event.received_at.min(now);
            let entry = match (exception, item.exception.as_ref()) {
                (Some(id), Some(e)) => {
                    let routing = &item.routed;
                    let why = routed_because(item.routed.as_ref());
                    let (action, grouping, reason) = if opened {
                        let grouping = serde_json::json!({ "fingerprint": e.fingerprint, "outcome": "opened" });
                        (AuditAction::ExceptionFiled, grouping, format!("{why}; a new problem"))
                    } else {
                        let grouping =
                            serde_json::json!({ "fingerprint": e.fingerprint, "outcome": "occurrence", "of": id.get() });
                        let reason = format!("another occurrence of {id}, open with the same fingerprint");
                        (AuditAction::ExceptionRecurred, grouping, reason)
                    };
                    let after = if opened {
                        serde_json::json!({
                            "kind": e.kind, "status": "new", "severity": e.severity, "queue": e.queue,
                            "assignee": e.assignee, "event": received, "transaction": transaction,
                            "routing": routing, "grouping": grouping,
                        })
                    } else {
                        serde_json::json!({ "event": received, "routing": routing, "grouping": grouping })
                    };
                    let at = if opened { e.opened_at.min(now) } else { at };
                    AuditEntry::new(at, item.actor.clone(), action, Entity::Exception, id.get().to_string())
                        .after(after)
                        .reason(reason)
                }
                _ => {
                    let (entity, id) = match transaction {
                        Some(t) => (Entity::Transaction, t),
                        None => (Entity::Event, event),
                    };
                    let reason = match transaction {
                        Some(t) => format!("{} recorded in transaction {t}", item.event.event_type),
                        None => format!("{} recorded; it names no business keys", item.event.event_type),
                    };
                    AuditEntry::new(at, item.actor.clone(), AuditAction::EventRecorded, entity, id.to_string())
                        .after(serde_json::json!({ "event": received, "transaction": transaction }))
                        .reason(reason)
                }
            };
            Some(entry)
        })
        .collect()
}

/// The routing decision in a few words.
fn routed_because(routed: Option<&Routed>) -> String {
    let Some(r) = routed else { return "filed".to_owned() };
    let rule = match &r.rule {
        Some((n, name)) => format!("rule {n} \u{201c}{name}\u{201d}"),
        None => "no rule (the fallback queue)".to_owned(),
    };
    let version = r.routing_version.map(|v| format!(" of routing version {v}")).unwrap_or_default();
    let sla = match (&r.sla_policy, r.sla_policy_version) {
        (Some(p), Some(v)) => format!(", timed by {p} (version {v})"),
        _ => ", not timed by any SLA policy".to_owned(),
    };
    format!("routed to {} at {} by {rule}{version}{sla}", r.queue, r.severity.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_bytes_are_bounded_not_only_requests() {
        let budget = ByteBudget::new(1000);
        let first = budget.take(600).expect("room for it");
        assert!(budget.take(600).is_none(), "a second one does not fit while the first waits");
        assert!(budget.take(400).is_some(), "a smaller one does");
        drop(first);
        assert!(budget.take(600).is_some(), "the bytes come back once written");
        let alone = ByteBudget::new(1000);
        let big = alone.take(5000);
        assert!(big.is_some(), "one request larger than the budget passes alone");
        assert!(alone.take(1).is_none(), "and holds all of it");
    }
}
