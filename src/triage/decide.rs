//! What an action does to an exception, decided once: people's actions from
//! the console, bulk actions, and what the system does on its own (a replay
//! that went through) all come here. The caller keeps the transaction, the
//! capability and the audit record; this says what changes and why, or why
//! not.

use serde::{Deserialize, Serialize};

use crate::accounts::{Permission, Role, Username};
use crate::audit::{
    Actor, AuditAction, AuditEntry, CommentRecord, Deadlines, Entity, ExceptionSnapshot, SystemAgent, TimelineEntry,
};
use crate::config::Configuration;
use crate::lifecycle::{Action, ActionKind, Reason};
use crate::queue::QueueKey;
use crate::{ExceptionId, Severity, Status};

/// The parts of an exception an action reads and changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionState {
    pub id: ExceptionId,
    pub queue: QueueKey,
    pub status: Status,
    pub severity: Severity,
    pub assignee: Option<Username>,
    /// Bumped by every change.
    pub version: i64,
    /// The SLA policy version it started under.
    pub sla_policy_version: Option<i64>,
    /// When its clocks are due, as last computed.
    pub due: Deadlines,
}

impl ExceptionState {
    pub fn snapshot(&self) -> ExceptionSnapshot {
        ExceptionSnapshot {
            status: self.status,
            assignee: self.assignee.as_ref().map(ToString::to_string),
            queue: self.queue.to_string(),
            due: None,
        }
    }
}

/// A change to one exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Take it: assign it to oneself.
    Claim,
    /// Give it to a person (or nobody), and/or move it to another queue.
    Assign { assignee: Option<String>, queue: Option<String>, reason: Reason },
    /// Add a note to its timeline.
    Comment { text: Reason },
    /// Move it through its lifecycle.
    Status(Action),
}

impl Change {
    /// Whether the change alters the exception (and so must not be based on
    /// a stale view of it).
    pub fn alters(&self) -> bool {
        !matches!(self, Change::Comment { .. })
    }

    /// A name for logs and for people.
    pub fn name(&self) -> &'static str {
        match self {
            Change::Claim => "claim",
            Change::Assign { .. } => "assign",
            Change::Comment { .. } => "comment",
            Change::Status(a) => a.kind().as_str(),
        }
    }

    /// The person an assignment names, as user names are compared.
    pub fn assignee_name(&self) -> Option<String> {
        match self {
            Change::Assign { assignee: Some(name), .. } => {
                Some(name.trim().to_ascii_lowercase()).filter(|n| !n.is_empty())
            }
            _ => None,
        }
    }
}

/// What a person does from a queue view or an exception's page: change the
/// exception, or send its failed message again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageAction {
    Change(Change),
    /// Send an integration failure's message again to its target.
    Replay,
}

impl TriageAction {
    pub const fn claim() -> Self {
        TriageAction::Change(Change::Claim)
    }

    /// A name for logs and for people.
    pub fn name(&self) -> &'static str {
        match self {
            TriageAction::Change(change) => change.name(),
            TriageAction::Replay => "replay",
        }
    }
}

impl From<Change> for TriageAction {
    fn from(change: Change) -> Self {
        TriageAction::Change(change)
    }
}

const REPLAY: &str = "replay";

/// On the wire both are one object tagged by `kind`: `{"kind": "replay"}` or
/// a change's own form.
impl Serialize for TriageAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TriageAction::Change(change) => change.serialize(s),
            TriageAction::Replay => {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("kind", REPLAY)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for TriageAction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        if value.get("kind").and_then(serde_json::Value::as_str) == Some(REPLAY) {
            return Ok(TriageAction::Replay);
        }
        Change::deserialize(value).map(TriageAction::Change).map_err(serde::de::Error::custom)
    }
}

/// Someone who may be given exceptions, as found when an assignment names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub username: Username,
    pub role: Role,
    pub queues: Vec<QueueKey>,
}

/// Who takes the action.
#[derive(Debug, Clone, Copy)]
pub enum Doer<'a> {
    Person { username: &'a Username, role: Role },
    System(SystemAgent),
}

impl Doer<'_> {
    pub fn actor(&self) -> Actor {
        match self {
            Doer::Person { username, .. } => Actor::User(username.to_string()),
            Doer::System(agent) => Actor::System(*agent),
        }
    }

    fn may_reassign(&self) -> bool {
        match self {
            Doer::Person { role, .. } => role.allows(Permission::ReassignAnyone),
            Doer::System(_) => true,
        }
    }

    fn username(&self) -> Option<&Username> {
        match self {
            Doer::Person { username, .. } => Some(username),
            Doer::System(_) => None,
        }
    }
}

crate::named_enum! {
    /// The kinds of change a person can pick, in the order a form offers them.
    pub enum ChangeKind ("kind of change") {
        Claim => "claim",
        Assign => "assign",
        Comment => "comment",
        Acknowledge => "acknowledge",
        Start => "start",
        Wait => "wait",
        Resume => "resume",
        Resolve => "resolve",
        Dismiss => "dismiss",
        Reopen => "reopen",
    }
}

impl From<ActionKind> for ChangeKind {
    fn from(kind: ActionKind) -> Self {
        match kind {
            ActionKind::Acknowledge => ChangeKind::Acknowledge,
            ActionKind::Start => ChangeKind::Start,
            ActionKind::Wait => ChangeKind::Wait,
            ActionKind::Resume => ChangeKind::Resume,
            ActionKind::Resolve => ChangeKind::Resolve,
            ActionKind::Dismiss => ChangeKind::Dismiss,
            ActionKind::Reopen => ChangeKind::Reopen,
        }
    }
}

/// The changes `me`, in `role`, may pick for an exception in `status` held by
/// `assignee`: what [`decide`] would not refuse for reasons of status or
/// ownership.
pub fn offered(status: Status, assignee: Option<&str>, me: &Username, role: Role) -> Vec<ChangeKind> {
    if !role.allows(Permission::WorkExceptions) {
        return Vec::new();
    }
    let mine = assignee == Some(me.as_str());
    let others = assignee.is_some() && !mine && !role.allows(Permission::ReassignAnyone);
    let mut kinds = Vec::new();
    if !mine && !others {
        kinds.push(ChangeKind::Claim);
    }
    if !others {
        kinds.push(ChangeKind::Assign);
    }
    kinds.push(ChangeKind::Comment);
    kinds.extend(status.allowed_actions().into_iter().map(ChangeKind::from));
    kinds
}

/// What else a decision depends on.
#[derive(Clone, Copy)]
pub struct Setting<'a> {
    /// The version the doer saw; `None` when they act on whatever is current.
    pub seen: Option<i64>,
    pub config: &'a Configuration,
    /// The active person an assignment names, when one was found.
    pub candidate: Option<&'a Candidate>,
}

/// Why an action was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The doer may not do this to this exception.
    #[error("{0}")]
    NotAllowed(String),
    /// The exception's status does not allow it.
    #[error("{0}")]
    WrongState(String),
    /// It would change nothing.
    #[error("{0}")]
    Unchanged(String),
    /// It changed since the doer saw it.
    #[error("it was changed since it was shown")]
    Stale,
    /// A value given with the action was refused.
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
}

/// What an action does: the audit verb, the state before and after, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: AuditAction,
    pub before: ExceptionSnapshot,
    pub after: ExceptionSnapshot,
    pub reason: Option<String>,
    /// For a comment: the note. Nothing else changes.
    pub comment: Option<String>,
}

impl Decision {
    /// Whether the exception itself changes (a comment only adds a note).
    pub fn alters(&self) -> bool {
        self.comment.is_none()
    }

    pub fn status_changed(&self) -> bool {
        self.before.status != self.after.status
    }

    /// Whether it moves the exception to another queue.
    pub fn moves(&self) -> bool {
        self.before.queue != self.after.queue
    }

    /// What it changed, in words: `status: New → Acknowledged; assignee: — → pat`.
    pub fn describe(&self) -> String {
        if let Some(comment) = &self.comment {
            return format!("comment: {comment}");
        }
        let record = crate::audit::AuditRecord {
            id: 0,
            entry: self.audit(ExceptionId::new(0), chrono::DateTime::UNIX_EPOCH, Actor::Anonymous),
        };
        TimelineEntry::of(&record).describe()
    }

    /// The audit record of this decision.
    pub fn audit(&self, id: ExceptionId, at: chrono::DateTime<chrono::Utc>, actor: Actor) -> AuditEntry {
        let entry = AuditEntry::new(at, actor, self.action, Entity::Exception, id.get().to_string());
        let entry = match &self.comment {
            Some(comment) => entry.after(CommentRecord { comment: comment.clone() }),
            None => entry.before(&self.before).after(&self.after),
        };
        match &self.reason {
            Some(reason) => entry.reason(reason.clone()),
            None => entry,
        }
    }
}

/// Decides what `change` by `by` does to the exception in `state`.
pub fn decide(
    state: &ExceptionState,
    change: &Change,
    by: &Doer<'_>,
    setting: Setting<'_>,
) -> Result<Decision, Refusal> {
    let id = state.id;
    if let Some(seen) = setting.seen
        && change.alters()
        && seen != state.version
    {
        return Err(Refusal::Stale);
    }
    let before = state.snapshot();
    let mut after = before.clone();
    let held_by_other = state.assignee.as_ref().is_some_and(|a| Some(a) != by.username());
    let holder = || state.assignee.as_ref().map(ToString::to_string).unwrap_or_default();
    let (action, reason, comment) = match change {
        Change::Claim => {
            let Some(me) = by.username() else {
                return Err(Refusal::NotAllowed("only a person claims an exception".into()));
            };
            if state.assignee.as_ref() == Some(me) {
                return Err(Refusal::Unchanged(format!("{id} is yours already")));
            }
            if held_by_other && !by.may_reassign() {
                return Err(Refusal::NotAllowed(format!(
                    "{id} is assigned to {}; only a supervisor may take it",
                    holder()
                )));
            }
            after.assignee = Some(me.to_string());
            // Taking ownership is the acknowledgement.
            if state.status == Status::New {
                after.status = Status::Acknowledged;
            }
            (AuditAction::ExceptionClaimed, None, None)
        }
        Change::Assign { queue, reason, .. } => {
            if held_by_other && !by.may_reassign() {
                return Err(Refusal::NotAllowed(format!(
                    "{id} is assigned to {}; only a supervisor may reassign it",
                    holder()
                )));
            }
            let mut target = state.queue.clone();
            if let Some(q) = queue.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                let key =
                    QueueKey::parse(q).map_err(|e| Refusal::Invalid { field: "queue", message: e.to_string() })?;
                if setting.config.queue(&key).is_none() {
                    return Err(Refusal::Invalid { field: "queue", message: format!("there is no queue `{q}`") });
                }
                target = key;
            }
            after.queue = target.to_string();
            after.assignee = match change.assignee_name() {
                None => None,
                Some(name) => Some(check_candidate(&name, setting.candidate, &target)?),
            };
            (AuditAction::ExceptionAssigned, Some(reason.as_str().to_owned()), None)
        }
        Change::Comment { text } => (AuditAction::ExceptionCommented, None, Some(text.as_str().to_owned())),
        Change::Status(a) => {
            after.status = state.status.apply(a.kind()).map_err(|e| Refusal::WrongState(format!("{id}: {e}")))?;
            // Whoever picks up unassigned work takes it.
            if state.assignee.is_none() && matches!(a.kind(), ActionKind::Acknowledge | ActionKind::Start) {
                after.assignee = by.username().map(ToString::to_string);
            }
            (verb(a.kind()), status_reason(a), None)
        }
    };
    Ok(Decision { action, before, after, reason, comment })
}

/// The person an assignment names, if they may be given it.
fn check_candidate(name: &str, candidate: Option<&Candidate>, queue: &QueueKey) -> Result<String, Refusal> {
    let invalid = |message: String| Refusal::Invalid { field: "assignee", message };
    let Some(c) = candidate.filter(|c| c.username.as_str() == name) else {
        return Err(invalid(format!("there is no active user `{name}`")));
    };
    if !c.role.allows(Permission::WorkExceptions) {
        return Err(invalid(format!("{name} is an {} and does not work exceptions", c.role)));
    }
    if c.role.limited_to_member_queues() && !c.queues.contains(queue) {
        return Err(invalid(format!("{name} does not work in queue {queue}")));
    }
    Ok(c.username.to_string())
}

const fn verb(kind: ActionKind) -> AuditAction {
    match kind {
        ActionKind::Acknowledge => AuditAction::ExceptionAcknowledged,
        ActionKind::Start => AuditAction::ExceptionStarted,
        ActionKind::Wait => AuditAction::ExceptionWaiting,
        ActionKind::Resume => AuditAction::ExceptionResumed,
        ActionKind::Resolve => AuditAction::ExceptionResolved,
        ActionKind::Dismiss => AuditAction::ExceptionDismissed,
        ActionKind::Reopen => AuditAction::ExceptionReopened,
    }
}

fn status_reason(action: &Action) -> Option<String> {
    match action {
        Action::Wait { party, reason } => Some(format!("waiting on {party}: {}", reason.as_str())),
        Action::Resolve { code, note } => {
            Some(note.as_ref().map_or_else(|| code.to_string(), |n| format!("{code}: {}", n.as_str())))
        }
        Action::Dismiss { reason } | Action::Reopen { reason } => Some(reason.as_str().to_owned()),
        Action::Acknowledge | Action::Start | Action::Resume => None,
    }
}

#[cfg(test)]
mod tests;
