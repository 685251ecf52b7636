//! What the server functions hand the browser.

use chrono::{DateTime, Utc};
use crossdock::accounts::{Density, Permission, Role};
use serde::{Deserialize, Serialize};

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub queues: Vec<String>,
    /// How they like their queue list.
    pub density: Density,
}

impl Me {
    pub fn may(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }
}

/// A user as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub queues: Vec<String>,
    pub disabled: bool,
    pub demo: bool,
}

/// A source as the admin page lists it (never its keys or secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceEntry {
    pub name: String,
    pub prefixes: Vec<String>,
    pub rate_per_sec: f64,
    pub burst: u32,
    pub signed: bool,
    pub created_at: DateTime<Utc>,
    /// The NATS subjects its messages are published on, if any.
    pub nats_subject: Option<String>,
    /// Its messages from NATS that were set aside.
    pub dead_letters: i64,
}

/// What became, or would become, of one event sent from a source's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriedStatus {
    Accepted,
    Duplicate,
    Rejected,
}

/// One event of a test send, as a dry run found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriedEvent {
    /// The event's `id`, when it had one.
    pub id: Option<String>,
    pub status: TriedStatus,
    /// For a rejected event: each problem, at its JSON pointer.
    pub problems: Vec<(String, String)>,
    /// The business transaction it would be placed in.
    pub transaction: Option<String>,
    /// For an exception: where it would be filed.
    pub filing: Option<TriedFiling>,
}

/// Where an exception would be filed, and why (for an occurrence: where the
/// exception it joins is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriedFiling {
    pub queue: String,
    pub severity: crossdock::Severity,
    pub assignee: Option<String>,
    /// The routing rule that chose the queue, as `<number>. <name>`; `None`
    /// for the fallback queue.
    pub rule: Option<String>,
    pub sla_policy: Option<String>,
    pub acknowledge_due_at: Option<DateTime<Utc>>,
    pub resolve_due_at: Option<DateTime<Utc>>,
    pub grouping: TriedGrouping,
}

/// What an exception event would become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriedGrouping {
    /// A new exception.
    Opens,
    /// Another occurrence of this open exception.
    Joins(i64),
    /// Another occurrence of the exception an earlier event of the same
    /// test would open.
    JoinsEarlier,
}

/// A message from NATS that could never be accepted, as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterEntry {
    pub at: DateTime<Utc>,
    pub subject: String,
    pub stream_seq: u64,
    pub reason: String,
    /// The body as received (its first 64 KiB).
    pub body: String,
}

/// A queue as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub key: String,
    pub name: String,
    pub team: String,
    pub sla_policy: String,
    /// The site whose calendar the queue follows, if any.
    pub site: Option<String>,
    /// The calendar in words, e.g. `America/Chicago, 5 shifts a week`.
    pub calendar: String,
}

/// A site: its code, name, and the time zone its times are shown in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteChoice {
    pub code: String,
    pub name: String,
    pub zone: String,
}

/// The choices the queue form offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct QueueChoices {
    pub policies: Vec<String>,
    pub sites: Vec<SiteChoice>,
}

/// An open exception a rule set sends elsewhere, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveView {
    pub exception_id: i64,
    pub summary: String,
    pub from: String,
    pub to: String,
    /// After saving with re-routing: `moved` or `skipped`.
    pub outcome: Option<String>,
}

/// A recent exception event, to dry-run rules against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentEvent {
    pub label: String,
    /// The event as it was received, JSON.
    pub body: String,
}

/// What the routing editor offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RoutingChoices {
    pub queues: Vec<String>,
    pub recent_events: Vec<RecentEvent>,
}

/// One stored version of a configuration document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigVersionView {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub version: i64,
    pub actor: String,
    pub at: DateTime<Utc>,
    /// The document as JSON; `None` when this version removed it.
    pub spec: Option<String>,
    /// Whether this is the version in force.
    pub current: bool,
}

/// Everything the detail page shows of an exception.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionDetailView {
    pub item: crossdock::ExceptionListItem,
    pub acknowledge: crossdock::sla::SlaSnapshot,
    pub resolve: crossdock::sla::SlaSnapshot,
    /// The SLA policy version it started under.
    pub policy: Option<String>,
    pub correlation_id: Option<String>,
    /// The event that opened it, parsed, when it still parses.
    pub event: Option<crossdock::event::Event>,
    /// Its data as received, pretty-printed.
    pub payload: String,
    pub occurrences: Vec<crossdock::exception::Occurrence>,
    /// Everything done to it, oldest first.
    pub timeline: Vec<crossdock::audit::TimelineEntry>,
    /// The changes the person looking may pick, as its status and holder allow.
    pub offered: Vec<crossdock::triage::ChangeKind>,
    /// Whose business hours its clocks count: its queue's calendar, in words.
    pub calendar: Option<String>,
    /// The time zone of its site, its times are shown in.
    pub zone: Option<String>,
    /// Since when it waits (its resolve clock paused), while it does.
    pub waiting_since: Option<DateTime<Utc>>,
    /// The business transaction it belongs to, and how far it has come.
    pub transaction: Option<TransactionStrip>,
}

/// A transaction's stages in brief, for the exception page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionStrip {
    pub id: i64,
    pub name: String,
    pub progress: Option<crossdock::lineage::Progress>,
}

/// A business transaction as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionSummary {
    pub id: i64,
    pub name: String,
    pub flow: Option<crossdock::lineage::Flow>,
    pub stage: Option<crossdock::event::MilestoneKind>,
    /// Stages reached, of how many.
    pub reached: usize,
    pub stages: usize,
    pub site: Option<String>,
    pub supplier: Option<String>,
    pub customer: Option<String>,
    pub last_milestone_at: Option<DateTime<Utc>>,
    /// Business hours since its last milestone, on its site's calendar.
    pub quiet_hours: Option<i64>,
}

/// One milestone on a lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneView {
    /// The event's row, to open it as received.
    pub event: i64,
    pub kind: crossdock::event::MilestoneKind,
    pub at: DateTime<Utc>,
    /// The registered source that sent it: the lane it is drawn in.
    pub lane: String,
    /// The event's `source` attribute.
    pub source: String,
    pub facts: Vec<(String, String)>,
}

/// An exception on a lineage: in full for those who may see it, otherwise
/// only that there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageException {
    pub stage: Option<crossdock::event::MilestoneKind>,
    pub at: DateTime<Utc>,
    pub item: Option<crossdock::ExceptionListItem>,
}

/// A transaction end to end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageView {
    pub transaction: TransactionSummary,
    pub keys: Vec<String>,
    pub progress: Option<crossdock::lineage::Progress>,
    /// Stages whose milestone is overdue.
    pub overdue: Vec<crossdock::event::MilestoneKind>,
    pub milestones: Vec<MilestoneView>,
    pub exceptions: Vec<LineageException>,
    pub linked: Vec<TransactionSummary>,
    /// The time zone of its site, its times are shown in.
    pub zone: Option<String>,
}

/// A milestone as it was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawEventView {
    pub event_id: String,
    pub source: String,
    pub sender: String,
    pub kind: String,
    pub received_at: DateTime<Utc>,
    pub traceparent: Option<String>,
    /// The event as received, pretty-printed.
    pub body: String,
}

/// Which transactions the list shows, as the page's query says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionQuery {
    pub flow: Option<crossdock::lineage::Flow>,
    pub site: Option<String>,
    pub supplier: Option<String>,
    pub customer: Option<String>,
    pub stage: Option<crossdock::event::MilestoneKind>,
    /// Only those without a milestone for more than this many business hours.
    pub stuck_hours: Option<u32>,
    /// The page after this row: `crossdock::lineage::TransactionCursor` as text.
    pub after: Option<String>,
    /// Only those a KPI counted at `site` from `from` through `to`.
    #[serde(default)]
    pub kpi: Option<crossdock::kpi::Kpi>,
    #[serde(default)]
    pub from: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub to: Option<chrono::NaiveDate>,
}

/// What moving an exception to another queue would do to its deadlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovePreviewView {
    pub from: String,
    pub to: String,
    pub before: crossdock::audit::Deadlines,
    pub after: crossdock::audit::Deadlines,
    /// The new queue's calendar, in words.
    pub calendar: String,
}

/// What a connector's target answered to a test request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorTestView {
    pub outcome: crossdock::replay::AttemptOutcome,
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    pub head: Option<String>,
}

/// Someone an exception can be given to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssigneeOption {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub queues: Vec<String>,
}

/// A saved queue view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedViewEntry {
    pub id: i64,
    pub name: String,
    pub team: Option<String>,
    pub query: String,
    pub mine: bool,
}

/// What a bulk action acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum BulkTarget {
    /// The rows the person selected.
    Selected { ids: Vec<i64> },
    /// Everything the view's filters hold, not only the rows on screen.
    View { query: String },
}

/// A replay target as admins see it: never its secret, only whether one is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorEntry {
    pub spec: crossdock::replay::ConnectorSpec,
    pub has_secret: bool,
    pub breaker: crossdock::replay::Breaker,
}

/// The retry policies, which queue names which, and the queues to choose from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicies {
    pub policies: Vec<crossdock::replay::RetryPolicySpec>,
    /// (queue, policy) pairs.
    pub queue_policies: Vec<(String, String)>,
    pub queues: Vec<String>,
}

/// The replay side of an exception, as its detail page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayView {
    /// The connector that replays it, if one does.
    pub connector: Option<ConnectorEntry>,
    /// The source that filed the failure.
    pub filed_by: Option<String>,
    /// Whether the connector replays it on its source's word; if not, a
    /// supervisor must confirm the replay.
    pub trusted: bool,
    pub state: Option<crossdock::replay::ReplayState>,
    /// Why the last replay failed, or what it waits for.
    pub note: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The message as it was received, pretty-printed.
    pub original: String,
    /// The message a replay sends now (the correction, if any), pretty-printed.
    pub current: String,
    /// How the current message differs from the original.
    pub changes: Vec<crossdock::replay::JsonChange>,
    pub jobs: Vec<crossdock::replay::ReplayJob>,
    /// Newest first.
    pub attempts: Vec<crossdock::replay::ReplayAttempt>,
}

/// A read-only board link as admins see it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardLinkEntry {
    pub id: i64,
    pub name: String,
    pub grouping: crossdock::board::BoardGrouping,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// The board a screen's link shows: the link's name and the counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WallBoard {
    pub name: String,
    pub board: crossdock::board::Board,
}

/// One of the signed-in person's notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEntry {
    pub id: i64,
    pub exception_id: Option<i64>,
    pub kind: crossdock::escalation::EscalationLevel,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// What the bell shows: the newest notifications and the unread count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifications {
    pub unread: i64,
    pub items: Vec<NotificationEntry>,
}

/// A notification channel as admins see it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelEntry {
    pub spec: crossdock::channel::ChannelSpec,
    pub has_secret: bool,
}

/// The channels, their newest deliveries, and what an admin picks from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelsView {
    pub channels: Vec<ChannelEntry>,
    pub deliveries: Vec<crossdock::channel::Delivery>,
    pub retry_policies: Vec<String>,
    pub queues: Vec<String>,
}

/// Which of a person's notifications go outward, and through which channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutwardChoice {
    pub levels: std::collections::BTreeSet<crossdock::escalation::EscalationLevel>,
    /// The channels in service: name, kind and the levels each carries.
    pub channels: Vec<(String, crossdock::channel::ChannelKind, Vec<crossdock::escalation::EscalationLevel>)>,
}

/// The KPI page: the report, what to choose from, and the targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiView {
    pub report: crossdock::kpi::KpiReport,
    pub sites: Vec<String>,
    pub suppliers: Vec<String>,
    pub targets: crossdock::kpi::KpiTargets,
    /// Whether the reader may change the targets.
    pub may_set_targets: bool,
}
