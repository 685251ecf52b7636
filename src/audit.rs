//! The audit trail's words: who acted, what they did, to what, and the
//! before and after of an exception's state, so that writers and readers of
//! the trail share one vocabulary instead of strings and JSON keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Status, UnknownName, named_enum};

pub mod chain;
pub mod query;

named_enum! {
    /// The parts of the server that act on their own.
    pub enum SystemAgent ("system actor") {
        /// Writes the configuration an empty database starts with.
        Bootstrap => "bootstrap",
        /// Seeds the demo data.
        Demo => "demo",
        /// Delivers replays and resolves what went through.
        Replay => "replay",
        /// Queues replays of new failures whose retry policy is automatic.
        AutoRetry => "auto-retry",
        /// Watches transactions for milestones that do not come, and
        /// milestones that contradict others.
        Lineage => "lineage",
        /// Escalates exceptions whose SLA is at risk or breached, or that
        /// nobody acknowledged, and notifies people.
        Escalation => "escalation",
    }
}

/// Who did something, as the audit trail names them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The server itself.
    System(SystemAgent),
    /// An operator at the command line of the server's machine.
    Operator,
    /// A registered source sending events, by name.
    Source(String),
    /// A person signed in to the console, by user name.
    User(String),
    /// Someone not signed in (a failed sign-in).
    Anonymous,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::System(agent) => write!(f, "system:{agent}"),
            Actor::Operator => f.write_str("operator:cli"),
            Actor::Source(name) => write!(f, "source:{name}"),
            Actor::User(name) => write!(f, "user:{name}"),
            Actor::Anonymous => f.write_str("anonymous"),
        }
    }
}

impl std::str::FromStr for Actor {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownName { what: "actor", value: s.to_owned() };
        match s.split_once(':') {
            Some(("system", agent)) => agent.parse().map(Actor::System).map_err(|_| unknown()),
            Some(("operator", "cli")) => Ok(Actor::Operator),
            Some(("source", name)) if !name.is_empty() => Ok(Actor::Source(name.to_owned())),
            Some(("user", name)) if !name.is_empty() => Ok(Actor::User(name.to_owned())),
            None if s == "anonymous" => Ok(Actor::Anonymous),
            _ => Err(unknown()),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

named_enum! {
    /// What an audit record records.
    pub enum AuditAction ("audit action") {
        /// An event filed a new exception: how it was routed and grouped.
        ExceptionFiled => "exception.filed",
        /// An event was another occurrence of an open exception.
        ExceptionRecurred => "exception.recurred",
        /// An event that files no exception was recorded (a milestone of
        /// its transaction, when it has one).
        EventRecorded => "event.recorded",
        ExceptionClaimed => "exception.claimed",
        ExceptionAssigned => "exception.assigned",
        ExceptionCommented => "exception.commented",
        ExceptionAcknowledged => "exception.acknowledged",
        ExceptionStarted => "exception.started",
        ExceptionWaiting => "exception.waiting",
        ExceptionResumed => "exception.resumed",
        ExceptionResolved => "exception.resolved",
        ExceptionDismissed => "exception.dismissed",
        ExceptionReopened => "exception.reopened",
        ExceptionRerouted => "exception.rerouted",
        MessageCorrected => "exception.message_corrected",
        ReplayRequested => "exception.replay_requested",
        ReplayFailed => "exception.replay_failed",
        /// Someone read what a replay target answered (a sensitive read).
        ReplayAnswerRead => "exception.replay_answer_read",
        UserCreated => "user.created",
        UserUpdated => "user.updated",
        UserDisabled => "user.disabled",
        UserEnabled => "user.enabled",
        PasswordReset => "user.password_reset",
        LoginSucceeded => "login.succeeded",
        LoginFailed => "login.failed",
        Logout => "logout",
        SourceCreated => "source.created",
        SourceUpdated => "source.updated",
        SourceKeyRotated => "source.key_rotated",
        SourceKeysRevoked => "source.keys_revoked",
        SourceSecretAdded => "source.secret_added",
        ConfigSaved => "config.saved",
        ConnectorSaved => "connector.saved",
        ConnectorTested => "connector.tested",
        ConnectorDeleted => "connector.deleted",
        RetryPolicySaved => "retry_policy.saved",
        QueueRetryPolicySet => "queue.retry_policy_set",
        ViewSaved => "view.saved",
        ViewDeleted => "view.deleted",
        BoardLinkCreated => "board_link.created",
        BoardLinkRevoked => "board_link.revoked",
        ExceptionEscalated => "exception.escalated",
        ChannelSaved => "channel.saved",
        ChannelSecretRotated => "channel.secret_rotated",
        ChannelTested => "channel.tested",
        ChannelDeleted => "channel.deleted",
        OutwardChosen => "user.outward_chosen",
        /// An export of the trail (a sensitive read).
        AuditExported => "audit.exported",
    }
}

impl AuditAction {
    /// A few words for people, e.g. `claimed` or `message corrected`.
    pub fn label(self) -> String {
        let name = self.as_str();
        name.strip_prefix("exception.").unwrap_or(name).replace(['_', '.'], " ")
    }
}

named_enum! {
    /// What an audit record is about.
    pub enum Entity ("audit entity") {
        Exception => "exception",
        User => "user",
        Source => "source",
        Connector => "connector",
        RetryPolicy => "retry_policy",
        Queue => "queue",
        Site => "site",
        SlaPolicy => "sla_policy",
        Routing => "routing",
        View => "view",
        Expectations => "expectations",
        BoardLink => "board_link",
        Escalations => "escalations",
        Channel => "channel",
        KpiTargets => "kpi_targets",
        /// The trail itself.
        Audit => "audit",
        /// A business transaction (the lineage of one order or receipt).
        Transaction => "transaction",
        /// One event as received, by its number in the event log.
        Event => "event",
    }
}

/// A change to record: who did what to which thing, before and after, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: AuditAction,
    pub entity: Entity,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
}

impl AuditEntry {
    /// A record of `action` on `entity` `id`, with no before, after or reason yet.
    pub fn new(at: DateTime<Utc>, actor: Actor, action: AuditAction, entity: Entity, id: impl Into<String>) -> Self {
        Self { at, actor, action, entity, entity_id: id.into(), before: None, after: None, reason: None }
    }

    pub fn before(mut self, value: impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// An audit record as stored: its entry and its place in the trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    pub entry: AuditEntry,
}

/// When an exception's clocks are due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub acknowledge: Option<DateTime<Utc>>,
    pub resolve: Option<DateTime<Utc>>,
}

/// The parts of an exception's state its audit records show before and after
/// a change; the deadlines when a change moved them (a move to another queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionSnapshot {
    pub status: Status,
    pub assignee: Option<String>,
    pub queue: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Deadlines>,
}

/// A note added to an exception's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRecord {
    pub comment: String,
}

/// What an exception record may hold, read leniently: records of every kind
/// of exception change share these fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct ExceptionFields {
    status: Option<Status>,
    #[serde(default, deserialize_with = "present")]
    assignee: Option<Option<String>>,
    queue: Option<String>,
    comment: Option<String>,
    due: Option<Deadlines>,
}

/// Tells a field set to `null` (`Some(None)`) from a missing one (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// One field of an exception that a change altered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// `status`, `assignee`, `queue`, `acknowledge due` or `resolve due`
    /// (deadlines as RFC 3339 instants).
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One line of an exception's timeline, as people read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: AuditAction,
    /// What the change altered.
    pub changes: Vec<FieldChange>,
    /// The note, for a comment.
    pub comment: Option<String>,
    pub reason: Option<String>,
}

impl TimelineEntry {
    /// What changed, in words: `status: New → Acknowledged; assignee: — → pat`.
    pub fn describe(&self) -> String {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
        self.changes
            .iter()
            .map(|c| format!("{}: {} → {}", c.field, show(&c.before), show(&c.after)))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The timeline line of an audit record about an exception.
    pub fn of(record: &AuditRecord) -> Self {
        let fields = |v: &Option<serde_json::Value>| -> ExceptionFields {
            v.as_ref().and_then(|v| ExceptionFields::deserialize(v).ok()).unwrap_or_default()
        };
        let e = &record.entry;
        let (before, after) = (fields(&e.before), fields(&e.after));
        let mut changes = Vec::new();
        let mut compare = |field: &str, b: Option<Option<String>>, a: Option<Option<String>>| {
            if a.is_some() && b.clone().flatten() != a.clone().flatten() {
                changes.push(FieldChange { field: field.to_owned(), before: b.flatten(), after: a.flatten() });
            }
        };
        let status = |f: &ExceptionFields| f.status.map(|s| Some(s.label().to_owned()));
        compare("status", status(&before), status(&after));
        compare("assignee", before.assignee.clone(), after.assignee.clone());
        compare("queue", before.queue.clone().map(Some), after.queue.clone().map(Some));
        let due = |f: &ExceptionFields, pick: fn(&Deadlines) -> Option<DateTime<Utc>>| {
            f.due.as_ref().map(|d| pick(d).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        };
        compare("acknowledge due", due(&before, |d| d.acknowledge), due(&after, |d| d.acknowledge));
        compare("resolve due", due(&before, |d| d.resolve), due(&after, |d| d.resolve));
        TimelineEntry {
            id: record.id,
            at: e.at,
            actor: e.actor.clone(),
            action: e.action,
            changes,
            comment: after.comment,
            reason: e.reason.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn actors_read_back_as_written() {
        for actor in [
            Actor::System(SystemAgent::AutoRetry),
            Actor::Operator,
            Actor::Source("wms".into()),
            Actor::User("pat".into()),
            Actor::Anonymous,
        ] {
            assert_eq!(actor.to_string().parse::<Actor>(), Ok(actor));
        }
        assert!("robot:x".parse::<Actor>().is_err());
        assert!("user:".parse::<Actor>().is_err());
    }

    #[test]
    fn a_timeline_line_names_what_changed_and_not_what_stayed() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let snapshot = |status, assignee: Option<&str>| ExceptionSnapshot {
            status,
            assignee: assignee.map(str::to_owned),
            queue: "receiving".into(),
            due: None,
        };
        let entry =
            AuditEntry::new(at, Actor::User("pat".into()), AuditAction::ExceptionClaimed, Entity::Exception, "4")
                .before(snapshot(Status::New, None))
                .after(snapshot(Status::Acknowledged, Some("pat")));
        let line = TimelineEntry::of(&AuditRecord { id: 7, entry });
        assert_eq!(
            line.changes,
            vec![
                FieldChange { field: "status".into(), before: Some("New".into()), after: Some("Acknowledged".into()) },
                FieldChange { field: "assignee".into(), before: None, after: Some("pat".into()) },
            ]
        );
    }

    #[test]
    fn a_comment_shows_its_note() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let entry =
            AuditEntry::new(at, Actor::User("pat".into()), AuditAction::ExceptionCommented, Entity::Exception, "4")
                .after(CommentRecord { comment: "called the supplier".into() });
        let line = TimelineEntry::of(&AuditRecord { id: 1, entry });
        assert_eq!(line.comment.as_deref(), Some("called the supplier"));
        assert!(line.changes.is_empty());
    }
}
