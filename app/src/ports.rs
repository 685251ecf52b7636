//! The ports through which server functions reach the server's services,
//! one per resource, mirroring `serverfns/`.
//!
//! The server implements them all and provides a [`Console`] as Leptos
//! context for every page render and server-function call. Each method acts
//! as the person signed in to the current request; the server checks their
//! role.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;

use crossdock::accounts::Density;
use crossdock::audit::query::{AuditPage, ChainState};
use crossdock::board::{Board, BoardGrouping};
use crossdock::channel::ChannelSpec;
use crossdock::config::SiteSpec;
use crossdock::escalation::EscalationLevel;
use crossdock::kpi::{KpiTargets, Period};
use crossdock::replay::{ConnectorSpec, RetryPolicySpec};
use crossdock::routing::{RouteDecision, RuleSetSpec};
use crossdock::sla::SlaPolicySpec;
use crossdock::triage::{BulkJob, Cursor, QueueCounts, QueueFilter, QueuePage, TriageAction};
use leptos::prelude::use_context;

use crate::AppError;
use crate::dto::{
    AssigneeOption, BoardLinkEntry, BulkTarget, ChannelsView, ConfigVersionView, ConnectorEntry, ConnectorTestView,
    DeadLetterEntry, ExceptionDetailView, KpiView, LineageView, Me, MovePreviewView, MoveView, Notifications,
    OutwardChoice, QueueChoices, QueueEntry, RawEventView, ReplayView, RetryPolicies, RoutingChoices, SavedViewEntry,
    SourceEntry, TransactionQuery, TransactionSummary, TriedEvent, UserEntry, WallBoard,
};

/// A user as the admin form enters it.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password: String,
    pub queues: Vec<String>,
}

/// A source's settings as the admin form enters them.
#[derive(Debug, Clone, Default)]
pub struct SourceInput {
    pub name: String,
    /// Prefixes as typed: separated by commas, spaces or lines.
    pub prefixes: String,
    pub rate_per_sec: f64,
    pub burst: u32,
    /// The NATS subject pattern as typed; empty: none.
    pub nats_subject: String,
}

/// A queue as the admin form enters it.
#[derive(Debug, Clone, Default)]
pub struct QueueInput {
    pub key: String,
    pub name: String,
    pub team: String,
    pub sla_policy: String,
    /// A site code to follow its calendar; empty to keep the queue's own.
    pub site: String,
}

/// Signing in and out.
#[async_trait::async_trait]
pub trait AuthPort: Send + Sync + 'static {
    /// The signed-in person, if any.
    async fn me(&self) -> Result<Option<Me>, AppError>;
    async fn login(&self, username: String, password: String) -> Result<Me, AppError>;
    async fn logout(&self) -> Result<(), AppError>;
    /// Remembers how the person likes their queue list.
    async fn set_density(&self, density: Density) -> Result<(), AppError>;
}

/// Queue views, one exception, actions, bulk actions and saved views.
#[async_trait::async_trait]
pub trait ExceptionsPort: Send + Sync + 'static {
    /// One page of a queue view, within the person's reach.
    async fn queue_page(&self, filter: QueueFilter, after: Option<Cursor>) -> Result<QueuePage, AppError>;
    /// Open exceptions in reach, per queue and per SLA state.
    async fn queue_counts(&self) -> Result<QueueCounts, AppError>;
    async fn exception_detail(&self, id: i64) -> Result<ExceptionDetailView, AppError>;
    /// What moving an exception to `queue` would do to its deadlines.
    async fn preview_move(&self, id: i64, queue: String) -> Result<MovePreviewView, AppError>;
    /// Takes an action on an exception the person saw at version `seen`;
    /// answers its version after the action.
    async fn act(&self, id: i64, seen: Option<i64>, action: TriageAction) -> Result<i64, AppError>;
    async fn assignees(&self) -> Result<Vec<AssigneeOption>, AppError>;
    /// How many exceptions a bulk action would touch.
    async fn bulk_preview(&self, target: BulkTarget) -> Result<i64, AppError>;
    /// Starts a bulk action in the background; answers its id.
    async fn start_bulk(&self, target: BulkTarget, action: TriageAction) -> Result<i64, AppError>;
    async fn bulk_status(&self, job: i64) -> Result<BulkJob, AppError>;
    async fn list_views(&self) -> Result<Vec<SavedViewEntry>, AppError>;
    async fn save_view(&self, name: String, query: String, team: Option<String>) -> Result<i64, AppError>;
    async fn delete_view(&self, id: i64) -> Result<(), AppError>;
}

/// Users, for admins.
#[async_trait::async_trait]
pub trait UsersPort: Send + Sync + 'static {
    async fn list_users(&self) -> Result<Vec<UserEntry>, AppError>;
    async fn create_user(&self, user: UserInput) -> Result<UserEntry, AppError>;
    async fn update_user(&self, id: i64, user: UserInput) -> Result<UserEntry, AppError>;
    async fn set_user_disabled(&self, id: i64, disabled: bool) -> Result<(), AppError>;
    async fn reset_password(&self, id: i64, password: String) -> Result<(), AppError>;
}

/// Sources and their keys, for admins.
#[async_trait::async_trait]
pub trait SourcesPort: Send + Sync + 'static {
    async fn list_sources(&self) -> Result<Vec<SourceEntry>, AppError>;
    /// Registers a source and returns its first API key (shown once).
    async fn create_source(&self, source: SourceInput) -> Result<String, AppError>;
    async fn update_source(&self, source: SourceInput) -> Result<(), AppError>;
    /// Issues a new key (shown once); the old ones stay valid for the grace hours.
    async fn rotate_source_key(&self, name: String, grace_hours: u32) -> Result<String, AppError>;
    async fn revoke_source_keys(&self, name: String) -> Result<u64, AppError>;
    /// The newest of a source's messages from NATS that were set aside, or
    /// (`None`) of those on subjects no source takes.
    async fn dead_letters(&self, name: Option<String>) -> Result<Vec<DeadLetterEntry>, AppError>;
    /// Sends events (JSON: one event or an array) as the source, as a dry
    /// run: what each would do, nothing stored.
    async fn try_events(&self, name: String, events: String) -> Result<Vec<TriedEvent>, AppError>;
    /// Adds a signing secret (shown once). The others are dropped at once
    /// (`replace`), retired after `retire_after_hours`, or kept.
    async fn add_signing_secret(
        &self,
        name: String,
        replace: bool,
        retire_after_hours: Option<u32>,
    ) -> Result<String, AppError>;
}

/// Queues.
#[async_trait::async_trait]
pub trait QueuesPort: Send + Sync + 'static {
    async fn list_queues(&self) -> Result<(Vec<QueueEntry>, QueueChoices), AppError>;
    async fn save_queue(&self, queue: QueueInput) -> Result<(), AppError>;
}

/// The auditor console.
#[async_trait::async_trait]
pub trait AuditPort: Send + Sync + 'static {
    /// A page of the trail for the console's address (filter and `after`).
    async fn audit_page(&self, query: String) -> Result<AuditPage, AppError>;
    /// Where the hash chain stands, as its last check found it.
    async fn audit_chain_state(&self) -> Result<ChainState, AppError>;
    /// Checks the whole chain now (admins).
    async fn check_audit_chain(&self) -> Result<ChainState, AppError>;
}

/// Sites and calendars, SLA policies, routing rules, expectations and their
/// history.
#[async_trait::async_trait]
pub trait ConfigPort: Send + Sync + 'static {
    async fn list_sites(&self) -> Result<Vec<SiteSpec>, AppError>;
    async fn save_site(&self, site: SiteSpec) -> Result<(), AppError>;
    async fn list_policies(&self) -> Result<Vec<SlaPolicySpec>, AppError>;
    async fn save_policy(&self, policy: SlaPolicySpec) -> Result<(), AppError>;
    async fn routing(&self) -> Result<(RuleSetSpec, RoutingChoices), AppError>;
    /// Routes an event (JSON text) with a rule set that need not be saved.
    async fn dry_run(&self, rules: RuleSetSpec, event: String) -> Result<RouteDecision, AppError>;
    /// The open exceptions a rule set would send to another queue.
    async fn routing_impact(&self, rules: RuleSetSpec) -> Result<Vec<MoveView>, AppError>;
    /// Saves a rule set; with `reroute`, moves the open exceptions it sends elsewhere.
    async fn save_routing(&self, rules: RuleSetSpec, reroute: bool) -> Result<Vec<MoveView>, AppError>;
    /// The milestones expected after others.
    async fn expectations(&self) -> Result<crossdock::lineage::ExpectationSet, AppError>;
    async fn escalations(&self) -> Result<crossdock::escalation::EscalationSet, AppError>;
    async fn save_escalations(&self, escalations: crossdock::escalation::EscalationSet) -> Result<(), AppError>;
    async fn save_expectations(&self, expectations: crossdock::lineage::ExpectationSet) -> Result<(), AppError>;
    async fn config_history(&self, kind: String, key: Option<String>) -> Result<Vec<ConfigVersionView>, AppError>;
    async fn restore_config(&self, version_id: i64) -> Result<(), AppError>;
}

/// Replays: connectors and retry policies, replaying a message and following it.
#[async_trait::async_trait]
pub trait ReplaysPort: Send + Sync + 'static {
    async fn list_connectors(&self) -> Result<Vec<ConnectorEntry>, AppError>;
    /// Saves a connector; a `None` secret keeps the stored one. With
    /// `reset_breaker` its circuit is closed again.
    async fn save_connector(
        &self,
        connector: ConnectorSpec,
        secret: Option<String>,
        reset_breaker: bool,
    ) -> Result<(), AppError>;
    /// Sends a test request through a connector; what its target answered.
    async fn test_connector(&self, name: String) -> Result<ConnectorTestView, AppError>;
    /// Deletes a connector no replay under way uses.
    async fn delete_connector(&self, name: String) -> Result<(), AppError>;
    async fn list_retry_policies(&self) -> Result<RetryPolicies, AppError>;
    async fn save_retry_policy(&self, policy: RetryPolicySpec) -> Result<(), AppError>;
    async fn set_queue_retry_policy(&self, queue: String, policy: Option<String>) -> Result<(), AppError>;
    /// Replays an exception's message, corrected first when given; answers
    /// the job. `confirm`: a supervisor vouches for a failure its connector
    /// does not take on its source's word.
    async fn replay(&self, id: i64, corrected: Option<serde_json::Value>, confirm: bool) -> Result<i64, AppError>;
    async fn replay_status(&self, id: i64) -> Result<ReplayView, AppError>;
    /// What the target answered to one attempt (its first KiB); the
    /// reading is recorded in the audit trail.
    async fn replay_answer(&self, id: i64, job: i64, attempt: i64) -> Result<String, AppError>;
}

/// Business transactions end to end. Milestones are for every signed-in
/// person; exceptions on them only for those who may see them.
#[async_trait::async_trait]
pub trait LineagePort: Send + Sync + 'static {
    async fn transaction(&self, id: i64) -> Result<LineageView, AppError>;
    async fn transactions(&self, query: TransactionQuery) -> Result<Vec<TransactionSummary>, AppError>;
    /// The transaction a typed key names, if one does.
    async fn find_transaction(&self, typed: String) -> Result<Option<i64>, AppError>;
    async fn milestone_event(&self, transaction: i64, event: i64) -> Result<RawEventView, AppError>;
}

/// The SLA board and the read-only links screens show it through.
#[async_trait::async_trait]
pub trait BoardPort: Send + Sync + 'static {
    async fn board(&self, grouping: BoardGrouping) -> Result<Board, AppError>;
    /// The counts a link shows; no session needed, only the link's token.
    async fn wall_board(&self, token: String) -> Result<WallBoard, AppError>;
    async fn board_links(&self) -> Result<Vec<BoardLinkEntry>, AppError>;
    /// Creates a link; answers its secret token (shown once).
    async fn create_board_link(&self, name: String, grouping: BoardGrouping) -> Result<String, AppError>;
    async fn revoke_board_link(&self, id: i64) -> Result<(), AppError>;
}

/// The signed-in person's notifications.
#[async_trait::async_trait]
pub trait NotificationsPort: Send + Sync + 'static {
    async fn notifications(&self) -> Result<Notifications, AppError>;
    /// Marks one read, or all when `id` is `None`.
    async fn mark_read(&self, id: Option<i64>) -> Result<(), AppError>;
    /// Which of the person's notifications go outward.
    async fn outward(&self) -> Result<OutwardChoice, AppError>;
    async fn set_outward(&self, levels: BTreeSet<EscalationLevel>) -> Result<OutwardChoice, AppError>;
}

/// Business KPIs, for everyone; their targets, for admins.
#[async_trait::async_trait]
pub trait KpisPort: Send + Sync + 'static {
    /// The KPIs over a range; the last 14 days up to today when no range is given.
    async fn kpis(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        period: Period,
        site: Option<String>,
        supplier: Option<String>,
    ) -> Result<KpiView, AppError>;
    async fn save_kpi_targets(&self, targets: KpiTargets) -> Result<(), AppError>;
}

/// Notification channels and their deliveries, for admins.
#[async_trait::async_trait]
pub trait ChannelsPort: Send + Sync + 'static {
    /// The channels and the newest deliveries (of one channel, or of all).
    async fn channels(&self, channel: Option<String>) -> Result<ChannelsView, AppError>;
    /// Creates or saves a channel; a new signing secret when one was made.
    async fn save_channel(&self, spec: ChannelSpec) -> Result<Option<String>, AppError>;
    async fn rotate_channel_secret(&self, name: String) -> Result<String, AppError>;
    async fn delete_channel(&self, name: String) -> Result<(), AppError>;
    /// Queues a test message; its delivery's id.
    async fn test_channel(&self, name: String) -> Result<i64, AppError>;
}

/// Every use case the console calls.
pub trait ConsolePort:
    AuthPort
    + ExceptionsPort
    + UsersPort
    + SourcesPort
    + QueuesPort
    + AuditPort
    + ConfigPort
    + ReplaysPort
    + LineagePort
    + BoardPort
    + NotificationsPort
    + ChannelsPort
    + KpisPort
{
}

impl<T> ConsolePort for T where
    T: AuthPort
        + ExceptionsPort
        + UsersPort
        + SourcesPort
        + QueuesPort
        + AuditPort
        + ConfigPort
        + ReplaysPort
        + LineagePort
        + BoardPort
        + NotificationsPort
        + ChannelsPort
        + KpisPort
{
}

/// Gives an error the HTTP status it stands for, on the current response.
pub fn with_status(err: AppError) -> AppError {
    use http::StatusCode;
    let status = match &err {
        AppError::Invalid { .. } | AppError::Fields(_) => StatusCode::BAD_REQUEST,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::Refused(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    err
}

/// The services as the console sees them.
pub type Console = Arc<dyn ConsolePort>;

/// The services provided to this request, or an error when they are missing.
pub fn console() -> Result<Console, AppError> {
    use_context::<Console>().ok_or_else(|| {
        leptos::logging::error!("the console services were not provided as context");
        AppError::Internal
    })
}
