//! Use cases. Each takes the capability it needs (or, for signing in and
//! ingest, the credentials it checks); each change runs in one transaction
//! and writes its audit record in that same transaction.

pub mod audit;
mod board;
mod bulk;
mod channels;
mod config;
pub mod demo;
mod detection;
mod escalation;
mod exceptions;
pub mod ingest;
mod kpi;
mod lineage;
pub mod live;
mod measure;
mod notifications;
pub mod outbound;
mod queue_views;
mod replay;
mod routing;
mod saved_views;
mod sign_in;
mod sla;
mod sources;
mod users;

use std::sync::{Arc, RwLock};

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::FieldProblem;
use crossdock::config::Configuration;
use crossdock::triage::Refusal;

pub use board::{BoardLink, MAX_LINK_NAME};
pub use bulk::MAX_BULK;
pub use channels::{ChannelEntry, DeliveryStep};
pub use config::{ConfigDocs, QueueSummary, SiteSummary};
pub use demo::SeedOutcome;
pub use detection::{SYSTEM_SOURCE, SweepReport};
pub use escalation::EscalationReport;
pub use exceptions::{Acted, Detail, MovePreview};
pub use ingest::source::{AuthError, AuthenticatedSource};
pub use ingest::{EventResult, IngestSettings, RejectReason, Throttled};
pub use kpi::KpiChoices;
pub use lineage::{Lineage, Milestone, OnLineage, RawMilestone, Strip, TransactionInfo, TransactionQuery};
pub use notifications::Notification;
pub use queue_views::PAGE_SIZE;
pub use replay::{ConnectorSummary, Queued, ReplayStatus, ReplayStep, TestAnswer};
pub use routing::{Move, MoveOutcome};
pub use saved_views::SavedView;
pub use sign_in::{LoginError, LoginPolicy, SessionStamp};
pub use sources::{NewSourceKey, PreviousSecrets, SourceSettings, SourceSummary};
pub use users::{Assignable, NewUser, UserChanges, UserSummary};

use crate::auth::passwords::PasswordHashing;
use crate::clock::Clock;
use crate::store::{self, Pool};
use ingest::throttle::Throttle;
use ingest::writer::IngestWriter;
use outbound::{HttpOutbound, Outbound};

use crate::secrets::Sealer;

/// Why a use case did not happen, grouped by what the caller must do. Each
/// variant names the HTTP status it answers with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// 400: a value from the caller was refused; `field` names it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// 400: several values were refused, each at its JSON pointer.
    #[error("{} problem(s)", .0.len())]
    Problems(Vec<FieldProblem>),
    /// 404: the thing named does not exist, or is out of the caller's reach.
    #[error("{0} not found")]
    NotFound(String),
    /// 403: the caller's role or queues do not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// 409: someone changed it since the caller saw it.
    #[error("{0}")]
    Conflict(String),
    /// 429: the caller sends faster than its allowance; try again after the wait.
    #[error("too many requests")]
    Throttled(std::time::Duration),
    /// 429: a batch larger than the source may ever send at once.
    #[error("the batch holds {events} events; the source's burst is {burst}")]
    OverBurst { events: usize, burst: usize },
    /// 503: the server is saturated; try again shortly.
    #[error("the server is busy")]
    Overloaded,
    /// 500: something failed that the caller cannot fix; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Invalid { field: field.into(), message: message.into() }
    }
}

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

impl From<Refusal> for ActError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotAllowed(m) => ActError::NotAllowed(m),
            Refusal::WrongState(m) | Refusal::Unchanged(m) => ActError::WrongState(m),
            Refusal::Stale => ActError::Changed("it was changed since it was shown".into()),
            Refusal::Invalid { field, message } => ActError::Invalid { field: field.to_owned(), message },
        }
    }
}

/// The services of one server process; cheap to clone.
#[derive(Clone)]
pub struct Services {
    pool: Pool,
    writer: IngestWriter,
    config: Arc<RwLock<Arc<Configuration>>>,
    /// Held from a configuration save's transaction until the configuration
    /// in memory is replaced, so memory follows the order of the commits.
    config_saves: Arc<tokio::sync::Mutex<()>>,
    /// The newest configuration version the one in memory was built from.
    config_version: Arc<std::sync::atomic::AtomicI64>,
    source_cache: Arc<ingest::source::SourceCache>,
    subject_cache: Arc<ingest::source::SubjectCache>,
    throttle: Arc<Throttle>,
    webhook_ids: Arc<ingest::signature::WebhookIds>,
    settings: IngestSettings,
    hashing: PasswordHashing,
    login_policy: LoginPolicy,
    /// How replays reach their targets.
    outbound: Arc<dyn Outbound>,
    /// Seals and opens the secrets kept in the database.
    sealer: Sealer,
    /// Wakes the background workers when new work is queued.
    work_queued: Arc<tokio::sync::Notify>,
    clock: Clock,
    /// The SLA board's week of medians, read at most once a minute.
    board_medians: Arc<board::MedianCache>,
    public_origin: Arc<str>,
    /// The pulse of changes the consoles follow.
    changes: Arc<live::Changes>,
    /// One dry run at a time holds the database's write lock, so that
    /// trying events never crowds out the writer's own sends.
    dry_runs: Arc<tokio::sync::Semaphore>,
}

/// How the services are tuned.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub ingest: IngestSettings,
    pub login: LoginPolicy,
    pub clock: Clock,
    /// Where people reach the console (`https://crossdock.example.com`): the
    /// links in outward notifications start with it.
    pub public_origin: String,
}

impl Services {
    /// Loads the configuration (writing a minimal one into an empty database)
    /// and starts the ingest writer.
    pub async fn start(pool: Pool, settings: ServiceSettings, sealer: Sealer) -> anyhow::Result<Self> {
        let (configuration, config_version) = config::bootstrap_and_load(&pool).await?;
        sources::seal_plain_secrets(&pool, &sealer).await?;
        lineage::backfill(&pool).await?;
        crate::store::audit::seal_unsealed(&pool).await?;
        kpi::backfill(&pool, &configuration).await?;
        let (writer, _task) = IngestWriter::spawn(pool.clone(), settings.ingest.writer, settings.clock.clone());
        // Each hash holds 19 MiB: four at a time bound a login storm to 76 MiB.
        let hashing = PasswordHashing::new(4)?;
        Ok(Self {
            pool,
            writer,
            config: Arc::new(RwLock::new(Arc::new(configuration))),
            config_saves: Arc::default(),
            config_version: Arc::new(config_version.into()),
            source_cache: Arc::default(),
            subject_cache: Arc::default(),
            throttle: Arc::default(),
            webhook_ids: Arc::default(),
            settings: settings.ingest,
            hashing,
            login_policy: settings.login,
            outbound: Arc::new(HttpOutbound::new().context("cannot build the HTTP client for replays")?),
            sealer,
            work_queued: Arc::default(),
            clock: settings.clock,
            board_medians: Arc::default(),
            public_origin: settings.public_origin.into(),
            changes: Arc::default(),
            dry_runs: Arc::new(tokio::sync::Semaphore::new(1)),
        })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The same services, reaching other systems through `outbound`.
    pub fn with_outbound(mut self, outbound: Arc<dyn Outbound>) -> Self {
        self.outbound = outbound;
        self
    }

    /// The time as the services read it.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn ingest_settings(&self) -> &IngestSettings {
        &self.settings
    }

    /// True when the database answers and is fully migrated.
    pub async fn is_ready(&self) -> bool {
        store::is_ready(&self.pool).await
    }

    /// Resolves when new background work is queued; workers also look on
    /// their own every so often.
    pub async fn work_queued(&self) {
        self.work_queued.notified().await;
    }

    fn wake_workers(&self) {
        self.work_queued.notify_waiters();
    }
}
