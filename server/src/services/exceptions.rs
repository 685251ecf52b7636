//! One exception: its detail, and the actions people take on it (claim,
//! assign, comment, move through the lifecycle, replay). What an action does
//! is decided by the core; here it is checked against the actor's queues,
//! written in one transaction with its audit record, or refused.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::audit::{AuditRecord, Deadlines, Entity};
use crossdock::exception::{ExceptionDetail, Occurrence};
use crossdock::queue::QueueKey;
use crossdock::triage::{Change, Decision, Doer, ExceptionState, Refusal, Setting, TriageAction, decide};
use crossdock::{ExceptionId, Status};

use super::sla::{self, Clocked};
use super::{ActError, ServiceError, Services};
use crate::auth::{Actor, Viewer, Worker};
use crate::store::exceptions::{Milestones, SlaColumns};
use crate::store::{self, Tx};

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// The exception changed; its new version, and what changed in words.
    Changed { version: i64, what: String },
    /// A note was added; the exception itself did not change.
    Noted { version: i64 },
    /// A replay of its message was queued as this job.
    ReplayQueued { job: i64, version: i64 },
}

impl Acted {
    /// The exception's version after the action.
    pub fn version(&self) -> i64 {
        match self {
            Acted::Changed { version, .. } | Acted::Noted { version } | Acted::ReplayQueued { version, .. } => *version,
        }
    }
}

/// The detail of one exception, as stored.
#[derive(Debug, Clone)]
pub struct Detail {
    pub exception: ExceptionDetail,
    pub occurrences: Vec<Occurrence>,
    /// Every audit record about it, oldest first.
    pub timeline: Vec<AuditRecord>,
    /// The SLA policy version it started under, in words.
    pub policy: Option<String>,
    /// Whose business hours its clocks count: its queue's calendar, in words.
    pub calendar: Option<String>,
    /// The time zone of its site, when the site is known.
    pub zone: Option<String>,
    /// Since when it waits (its resolve clock is paused), while it does.
    pub waiting_since: Option<DateTime<Utc>>,
    /// Its business transaction, in brief.
    pub transaction: Option<super::lineage::Strip>,
}

/// What moving an exception to another queue would do to its deadlines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovePreview {
    pub from: String,
    pub to: String,
    pub before: Deadlines,
    pub after: Deadlines,
    /// The new queue's calendar, in words.
    pub calendar: String,
}

/// A queue's business calendar in words.
fn calendar_words(queue: &crossdock::config::Queue) -> String {
    let hours = queue.calendar.weekly_minutes() / 60;
    format!("{}, {hours} working hours a week", queue.calendar.time_zone().name())
}

impl Services {
    /// The detail of one exception in reach; `NotFound` outside it.
    #[tracing::instrument(skip_all, fields(exception = id.get()))]
    pub async fn exception_detail(&self, viewer: &Viewer, id: ExceptionId) -> Result<Detail, ServiceError> {
        let exception = store::exceptions::detail(&self.pool, id)
            .await?
            .filter(|d| viewer.scope().includes(&d.item.queue))
            .ok_or_else(|| ServiceError::NotFound(format!("exception {id}")))?;
        let occurrences = store::exceptions::occurrences(&self.pool, id).await?;
        let timeline = store::audit::of(&self.pool, Entity::Exception, &id.get().to_string()).await?;
        let policy = match exception.sla_policy_version {
            Some(v) => store::config::by_id(&self.pool, v).await?.map(|p| format!("{} (version {})", p.key, p.version)),
            None => None,
        };
        let config = self.configuration();
        let calendar = QueueKey::parse(&exception.item.queue).ok().and_then(|k| config.queue(&k)).map(calendar_words);
        let zone = config.sites.get(&exception.item.site).map(|(_, c)| c.time_zone().name().to_owned());
        let waiting_since = if exception.item.status == Status::Waiting {
            let mut tx = self.pool.begin().await.context("Failed to begin a transaction")?;
            store::exceptions::status_history(&mut tx, id).await?.last().map(|c| c.at)
        } else {
            None
        };
        let transaction = self.strip_of(id).await?;
        Ok(Detail { exception, occurrences, timeline, policy, calendar, zone, waiting_since, transaction })
    }

    /// What moving an exception in reach to `queue` would do to its SLA
    /// deadlines: it keeps the policy it started under, and its clocks are
    /// counted in the new queue's business hours. Nothing is written.
    pub async fn preview_move(
        &self,
        viewer: &Viewer,
        id: ExceptionId,
        queue: &str,
    ) -> Result<MovePreview, ServiceError> {
        let key = QueueKey::parse(queue).map_err(|e| ServiceError::invalid("queue", e.to_string()))?;
        let config = self.configuration();
        let target =
            config.queue(&key).ok_or_else(|| ServiceError::invalid("queue", format!("there is no queue `{queue}`")))?;
        // Reads only: a deferred transaction, rolled back when dropped.
        let mut tx = self.pool.begin().await.context("Failed to begin a transaction")?;
        let state = store::exceptions::state(&mut tx, id)
            .await?
            .filter(|s| viewer.scope().includes(s.queue.as_str()))
            .ok_or_else(|| ServiceError::NotFound(format!("exception {id}")))?;
        let of =
            Clocked { id, severity: state.severity, queue: key.as_str(), policy_version: state.sla_policy_version };
        let clocks = sla::clocks(&mut tx, &config, of, self.now()).await?;
        Ok(MovePreview {
            from: state.queue.to_string(),
            to: key.to_string(),
            before: state.due,
            after: clocks.deadlines(),
            calendar: calendar_words(target),
        })
    }

    /// Takes one action on one exception. `seen` is the version the actor
    /// saw; a change based on an older one is refused.
    #[tracing::instrument(skip_all, fields(exception = id.get(), action = action.name()))]
    pub async fn act(
        &self,
        worker: &Worker,
        id: ExceptionId,
        seen: Option<i64>,
        action: &TriageAction,
    ) -> Result<Acted, ActError> {
        match action {
            // A replay is a job of its own; its audit record says who asked.
            TriageAction::Replay => {
                let queued = self.request_replay(worker, id, None, None).await?;
                Ok(Acted::ReplayQueued { job: queued.job, version: queued.version })
            }
            TriageAction::Change(change) => self.change(worker, id, seen, change).await,
        }
    }

    async fn change(
        &self,
        worker: &Worker,
        id: ExceptionId,
        seen: Option<i64>,
        change: &Change,
    ) -> Result<Acted, ActError> {
        self.change_as_of(worker, id, seen, change, self.now(), None).await
    }

    /// A change as if made at `now` (the demo data dates people's work);
    /// as an item of the bulk action held in `bulk`, the item is recorded
    /// done in the change's own transaction.
    pub(super) async fn change_as_of(
        &self,
        worker: &Worker,
        id: ExceptionId,
        seen: Option<i64>,
        change: &Change,
        now: DateTime<Utc>,
        bulk: Option<super::bulk::Held<'_>>,
    ) -> Result<Acted, ActError> {
        let me = worker.user();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        // Out of reach reads exactly like missing: no queue is named.
        let state = store::exceptions::state(&mut tx, id)
            .await?
            .filter(|s| worker.scope().includes(s.queue.as_str()))
            .ok_or(ActError::NotFound)?;
        let candidate = match change.assignee_name() {
            Some(name) => store::exceptions::candidate(&mut tx, &name).await?,
            None => None,
        };
        let config = self.configuration();
        let setting = Setting { seen, config: &config, candidate: candidate.as_ref() };
        let decision = match decide(&state, change, &me.doer(), setting) {
            Ok(decision) => decision,
            Err(Refusal::Stale) => return Err(ActError::Changed(stale(&mut tx, id).await?)),
            Err(refusal) => return Err(refusal.into()),
        };
        let version = self.apply(&mut tx, &state, &decision, &me.actor(), now).await?;
        let acted = if decision.alters() {
            Acted::Changed { version, what: decision.describe() }
        } else {
            Acted::Noted { version }
        };
        if let Some(held) = bulk
            && !held.record_in(&mut tx, id, &acted).await?
        {
            // Rolled back: the worker that holds the action now does it.
            return Err(ActError::Changed(super::bulk::TAKEN_OVER.to_owned()));
        }
        tx.commit().await.context("Failed to commit the action")?;
        Ok(acted)
    }

    /// Writes a decision in the caller's transaction: the status it entered,
    /// the SLA clocks it moved, the row, and its audit record. The new version.
    pub(super) async fn apply(
        &self,
        tx: &mut Tx<'_>,
        state: &ExceptionState,
        decision: &Decision,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<i64, ActError> {
        let id = state.id;
        let mut version = state.version;
        let mut entry = decision.audit(id, now, actor.clone());
        if decision.alters() {
            if decision.status_changed() {
                store::exceptions::record_status(tx, id, decision.after.status, actor, now).await?;
            }
            let clocks = sla::clocks(
                tx,
                &self.configuration(),
                Clocked {
                    id,
                    severity: state.severity,
                    queue: &decision.after.queue,
                    policy_version: state.sla_policy_version,
                },
                now,
            )
            .await?;
            let marks = milestones(decision, &clocks, now);
            if !store::exceptions::update(tx, id, state.version, &decision.after, &clocks, marks, now).await? {
                return Err(ActError::Changed(format!("{id} was changed at the same moment; try again")));
            }
            version += 1;
            if decision.moves() {
                // A move counts the clocks in the new queue's business hours:
                // the record says how the deadlines moved.
                let (mut before, mut after) = (decision.before.clone(), decision.after.clone());
                before.due = Some(state.due);
                after.due = Some(clocks.deadlines());
                entry = entry.before(before).after(after);
            }
        }
        store::audit::append(tx, &[entry]).await?;
        Ok(version)
    }

    /// Lets the system take a lifecycle action on an exception (a replay that
    /// went through resolves it); nothing happens when its status no longer
    /// allows it.
    pub(super) async fn system_change(
        &self,
        tx: &mut Tx<'_>,
        id: ExceptionId,
        change: &Change,
        by: Doer<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), ActError> {
        let Some(state) = store::exceptions::state(tx, id).await? else { return Ok(()) };
        let config = self.configuration();
        let setting = Setting { seen: None, config: &config, candidate: None };
        match decide(&state, change, &by, setting) {
            Ok(decision) => self.apply(tx, &state, &decision, &by.actor(), now).await.map(|_| ()),
            Err(Refusal::WrongState(_) | Refusal::Unchanged(_)) => Ok(()),
            Err(refusal) => Err(refusal.into()),
        }
    }
}

/// What a decision marks on the board: the first acknowledgement, a closing
/// or a reopening, with the business time its clock ran.
fn milestones(decision: &Decision, clocks: &SlaColumns, now: DateTime<Utc>) -> Milestones {
    let (before, after) = (decision.before.status, decision.after.status);
    let acknowledged = (before == Status::New && after != Status::New).then_some((now, clocks.ack_seconds));
    let closed = match (before.is_open(), after.is_open()) {
        (true, false) => Some(Some((now, clocks.resolve_seconds))),
        (false, true) => Some(None),
        _ => None,
    };
    Milestones { acknowledged, closed }
}

/// Why a change based on an old view is refused: who changed it last, and how.
async fn stale(tx: &mut Tx<'_>, id: ExceptionId) -> anyhow::Result<String> {
    let last = store::audit::last_of(tx, Entity::Exception, &id.get().to_string()).await?;
    let who = last
        .map(|r| format!("{} ({}) at {}", r.entry.actor, r.entry.action.label(), r.entry.at.format("%H:%M:%S UTC")))
        .unwrap_or_else(|| "someone".to_owned());
    Ok(format!("{id} was changed by {who} since you opened it; nothing was done, and the view shows it as it is now"))
}
