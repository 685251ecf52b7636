//! Working exceptions: queue views, the detail of one, and the actions people
//! take (claim, assign, comment, move through the lifecycle), each checked
//! against the actor's role and queues, refused when based on a stale view,
//! and audited in its own transaction.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::accounts::{Permission, Role};
use crossdock::lifecycle::{Action, ActionKind};
use crossdock::queue::QueueKey;
use crossdock::triage::{Cursor, QueueCounts, QueueFilter, QueuePage, TriageAction};
use crossdock::{ExceptionId, Status};

use super::{ServiceError, Services, sla};
use crate::auth::{Viewer, Worker};
use crate::store::audit::AuditEntry;
use crate::store::triage::{Change, DetailRow};
use crate::store::{self};

/// Rows on one page of a queue view.
pub const PAGE_SIZE: u32 = 50;

/// Why an action on one exception did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    /// The role or the queues of the actor do not allow it (403; a bulk
    /// action counts it as refused).
    #[error("{0}")]
    NotAllowed(String),
    /// The exception's status does not allow it (400; a bulk action skips it).
    #[error("{0}")]
    WrongState(String),
    /// Someone changed the exception since the actor saw it (409).
    #[error("{0}")]
    Changed(String),
    /// A value given with the action was refused (400).
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("no such exception")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The detail of one exception, as stored.
pub struct Detail {
    pub row: DetailRow,
    pub occurrences: Vec<(DateTime<Utc>, String, String)>,
    pub timeline: Vec<store::audit::AuditRow>,
    /// Name of the SLA policy version it started under.
    pub policy: Option<String>,
}

fn scope_queues(viewer_scope: &crate::auth::QueueScope) -> Option<Vec<String>> {
    match viewer_scope {
        crate::auth::QueueScope::All => None,
        crate::auth::QueueScope::Only(q) => Some(q.iter().map(|k| k.to_string()).collect()),
    }
}

impl Services {
    /// One page of a queue view, within the viewer's reach.
    #[tracing::instrument(skip_all)]
    pub async fn queue_page(
        &self,
        viewer: &Viewer<'_>,
        filter: &QueueFilter,
        after: Option<Cursor>,
    ) -> Result<QueuePage, ServiceError> {
        let queues = scope_queues(viewer.scope());
        let username = viewer.user().username.to_string();
        let v = store::triage::Viewer { username: &username, queues: queues.as_deref() };
        Ok(store::triage::page(&self.pool, &v, filter, after, PAGE_SIZE, Utc::now()).await?)
    }

    /// Open exceptions in reach per queue and per SLA state.
    pub async fn queue_counts(&self, viewer: &Viewer<'_>) -> Result<QueueCounts, ServiceError> {
        let queues = scope_queues(viewer.scope());
        let username = viewer.user().username.to_string();
        let v = store::triage::Viewer { username: &username, queues: queues.as_deref() };
        Ok(store::triage::counts(&self.pool, &v, Utc::now()).await?)
    }

    /// How many exceptions a view holds (what a bulk action would touch).
    pub async fn view_count(&self, viewer: &Viewer<'_>, filter: &QueueFilter) -> Result<i64, ServiceError> {
        let queues = scope_queues(viewer.scope());
        let username = viewer.user().username.to_string();
        let v = store::triage::Viewer { username: &username, queues: queues.as_deref() };
        Ok(store::triage::count(&self.pool, &v, filter, Utc::now()).await?)
    }

    /// The ids a view holds, at most `max`.
    pub async fn view_ids(
        &self,
        viewer: &Viewer<'_>,
        filter: &QueueFilter,
        max: u32,
    ) -> Result<Vec<i64>, ServiceError> {
        let queues = scope_queues(viewer.scope());
        let username = viewer.user().username.to_string();
        let v = store::triage::Viewer { username: &username, queues: queues.as_deref() };
        Ok(store::triage::ids(&self.pool, &v, filter, Utc::now(), max).await?)
    }

    /// The detail of one exception in reach; `NotFound` outside it.
    #[tracing::instrument(skip_all, fields(exception = id.get()))]
    pub async fn exception_detail(&self, viewer: &Viewer<'_>, id: ExceptionId) -> Result<Detail, ServiceError> {
        let row = store::triage::detail(&self.pool, id.get())
            .await?
            .filter(|r| viewer.scope().includes(&r.queue))
            .ok_or_else(|| ServiceError::NotFound(format!("exception {id}")))?;
        let occurrences = store::triage::occurrences(&self.pool, id.get())
            .await?
            .into_iter()
            .map(|(at, source, event)| Ok((store::from_millis(at)?, source, event)))
            .collect::<anyhow::Result<_>>()?;
        let timeline = store::triage::timeline(&self.pool, id.get()).await?;
        let policy = match row.sla_policy_version {
            Some(v) => store::config::by_id(&self.pool, v).await?.map(|p| format!("{} (version {})", p.key, p.version)),
            None => None,
        };
        Ok(Detail { row, occurrences, timeline, policy })
    }

    /// Takes one action on one exception. `seen` is the version the actor
    /// saw; a change based on an older one is refused.
    #[tracing::instrument(skip_all, fields(exception = id.get(), action = action.name()))]
    pub async fn act(
        &self,
        worker: &Worker<'_>,
        id: ExceptionId,
        seen: Option<i64>,
        action: &TriageAction,
    ) -> Result<i64, ActError> {
        if let TriageAction::Replay = action {
            // A replay is a job of its own; its audit record says who asked.
            self.request_replay(worker, id, None).await?;
            return Ok(seen.unwrap_or_default());
        }
        let me = worker.user();
        let now = Utc::now();
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let state = store::triage::state(&mut tx, id.get()).await?.ok_or(ActError::NotFound)?;
        if !worker.scope().includes(&state.queue) {
            return Err(ActError::NotAllowed(format!("{id} is in queue {}, which you do not work in", state.queue)));
        }
        if let (Some(seen), true) = (seen, action.changes())
            && seen != state.version
        {
            let last = store::triage::last_change(&mut *tx, id.get()).await?;
            let who = last
                .map(|(actor, action, at)| {
                    let at = store::from_millis(at).map(|t| t.format("%H:%M:%S UTC").to_string()).unwrap_or_default();
                    format!("{actor} ({}) at {at}", action.trim_start_matches("exception."))
                })
                .unwrap_or_else(|| "someone".to_owned());
            return Err(ActError::Changed(format!(
                "{id} was changed by {who} since you opened it; nothing was done, and the view shows it as it is now"
            )));
        }
        let status: Status = state.status.parse().context("stored status is invalid")?;
        let mut next_status = status;
        let mut assignee = state.assignee.clone();
        let mut queue = state.queue.clone();
        let mut reason = None;
        let held_by_other = |a: &Option<String>| a.as_deref().is_some_and(|a| a != me.username.as_str());
        let may_reassign = me.role.allows(Permission::ReassignAnyone);
        let verb: &'static str;
        match action {
            TriageAction::Claim => {
                if held_by_other(&assignee) && !may_reassign {
                    return Err(ActError::NotAllowed(format!(
                        "{id} is assigned to {}; only a supervisor may take it",
                        assignee.unwrap_or_default()
                    )));
                }
                assignee = Some(me.username.to_string());
                verb = "exception.claimed";
            }
            TriageAction::Assign { assignee: to, queue: to_queue, reason: why } => {
                if held_by_other(&assignee) && !may_reassign {
                    return Err(ActError::NotAllowed(format!(
                        "{id} is assigned to {}; only a supervisor may reassign it",
                        assignee.unwrap_or_default()
                    )));
                }
                if let Some(q) = to_queue.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                    let key = QueueKey::parse(q)
                        .map_err(|e| ActError::Invalid { field: "queue".into(), message: e.to_string() })?;
                    if self.configuration().queue(&key).is_none() {
                        return Err(ActError::Invalid {
                            field: "queue".into(),
                            message: format!("there is no queue `{q}`"),
                        });
                    }
                    queue = key.to_string();
                }
                assignee = match to.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                    None => None,
                    Some(name) => {
                        let name = name.to_ascii_lowercase();
                        let (role, queues) =
                            store::triage::assignable(&mut tx, &name).await?.ok_or_else(|| ActError::Invalid {
                                field: "assignee".into(),
                                message: format!("there is no active user `{name}`"),
                            })?;
                        let role: Role = role.parse().context("stored role is invalid")?;
                        if !role.allows(Permission::WorkExceptions) {
                            return Err(ActError::Invalid {
                                field: "assignee".into(),
                                message: format!("{name} is an {role} and does not work exceptions"),
                            });
                        }
                        if role.limited_to_member_queues() && !queues.contains(&queue) {
                            return Err(ActError::Invalid {
                                field: "assignee".into(),
                                message: format!("{name} does not work in queue {queue}"),
                            });
                        }
                        Some(name)
                    }
                };
                reason = Some(why.as_str().to_owned());
                verb = "exception.assigned";
            }
            TriageAction::Comment { text } => {
                let entry = AuditEntry {
                    at: now,
                    actor: me.audit_name(),
                    action: "exception.commented",
                    entity: "exception",
                    entity_id: id.get().to_string(),
                    before: None,
                    after: Some(serde_json::json!({"comment": text.as_str()})),
                    reason: None,
                };
                store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
                tx.commit().await.context("Failed to commit the comment")?;
                return Ok(state.version);
            }
            TriageAction::Replay => {
                return Err(ActError::Internal(anyhow::anyhow!("a replay reached the status path")));
            }
            TriageAction::Status(a) => {
                next_status = status.apply(a.kind()).map_err(|e| ActError::WrongState(format!("{id}: {e}")))?;
                // Whoever picks up unassigned work takes it.
                if assignee.is_none() && matches!(a.kind(), ActionKind::Acknowledge | ActionKind::Start) {
                    assignee = Some(me.username.to_string());
                }
                reason = match a {
                    Action::Wait { party, reason } => Some(format!("waiting on {party}: {}", reason.as_str())),
                    Action::Resolve { code, note } => {
                        Some(note.as_ref().map_or_else(|| code.to_string(), |n| format!("{code}: {}", n.as_str())))
                    }
                    Action::Dismiss { reason } | Action::Reopen { reason } => Some(reason.as_str().to_owned()),
                    Action::Acknowledge | Action::Start | Action::Resume => None,
                };
                verb = match a.kind() {
                    ActionKind::Acknowledge => "exception.acknowledged",
                    ActionKind::Start => "exception.started",
                    ActionKind::Wait => "exception.waiting",
                    ActionKind::Resume => "exception.resumed",
                    ActionKind::Resolve => "exception.resolved",
                    ActionKind::Dismiss => "exception.dismissed",
                    ActionKind::Reopen => "exception.reopened",
                };
            }
        }
        if next_status != status {
            store::triage::record_status(&mut tx, id.get(), next_status.as_str(), &me.audit_name(), now).await?;
        }
        let severity = state.severity.parse().context("stored severity is invalid")?;
        let config = self.configuration();
        let clocks = sla::clocks(&mut tx, &config, id.get(), severity, &queue, state.sla_policy_version, now).await?;
        let change = Change {
            status: next_status.as_str(),
            assignee: assignee.as_deref(),
            queue: &queue,
            sla: &clocks,
            at: now,
        };
        if !store::triage::update(&mut tx, id.get(), state.version, &change).await? {
            return Err(ActError::Changed(format!("{id} was changed at the same moment; try again")));
        }
        let entry = AuditEntry {
            at: now,
            actor: me.audit_name(),
            action: verb,
            entity: "exception",
            entity_id: id.get().to_string(),
            before: Some(serde_json::json!({"status": state.status, "assignee": state.assignee, "queue": state.queue})),
            after: Some(serde_json::json!({"status": next_status, "assignee": assignee, "queue": queue})),
            reason,
        };
        store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
        tx.commit().await.context("Failed to commit the action")?;
        Ok(state.version + 1)
    }
}

impl From<ActError> for ServiceError {
    fn from(err: ActError) -> Self {
        match err {
            ActError::NotAllowed(m) => ServiceError::Forbidden(m),
            ActError::WrongState(m) => ServiceError::invalid("action", m),
            ActError::Changed(m) => ServiceError::Conflict(m),
            ActError::Invalid { field, message } => ServiceError::Invalid { field, message },
            ActError::NotFound => ServiceError::NotFound("exception".into()),
            ActError::Internal(e) => ServiceError::Internal(e),
        }
    }
}
