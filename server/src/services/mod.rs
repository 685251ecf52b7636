//! Use cases. Each checks its actor, runs in one transaction and writes its
//! audit record in that same transaction.

mod bulk;
mod config;
mod exceptions;
mod ingest;
mod replay;
mod routing;
mod sla;
mod sources;
mod triage;
mod users;
mod views;

use std::sync::{Arc, RwLock};

use anyhow::Context;

use crossdock::FieldProblem;
use crossdock::config::Configuration;

pub use bulk::{BulkStatus, ItemOutcome, MAX_BULK};
pub use config::{ConfigDocs, ConfigVersion, QueueSummary};
pub use exceptions::SeedOutcome;
pub use ingest::{EventResult, IngestSettings, RejectReason};
pub use replay::{ConnectorSummary, ReplayStatus, ReplayStep};
pub use routing::{Move, MoveOutcome};
pub use sources::{AuthError, AuthenticatedSource, NewSourceKey, SourceSettings, SourceSummary};
pub use triage::{ActError, Detail, PAGE_SIZE};
pub use users::{Assignable, LoginError, LoginPolicy, NewUser, SessionStamp, UserChanges, UserSummary};
pub use views::SavedView;

use crate::auth::passwords::PasswordHashing;
use crate::ingest::throttle::Throttle;
use crate::ingest::writer::IngestWriter;
use crate::store::Pool;

/// Who is acting, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The server itself (bootstrap, demo data, workers).
    System(&'static str),
    /// An operator at the command line of the server's machine.
    Operator,
    /// A registered source sending events.
    Source(String),
    /// A person signed in to the console, by user name.
    User(String),
}

impl Actor {
    pub fn audit_name(&self) -> String {
        match self {
            Actor::System(what) => format!("system:{what}"),
            Actor::Operator => "operator:cli".to_owned(),
            Actor::Source(name) => format!("source:{name}"),
            Actor::User(name) => format!("user:{name}"),
        }
    }
}

/// Why a use case did not happen, grouped by what the caller must do.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A value from the caller was refused (400 / a message next to a field).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Several values were refused, each at its JSON pointer (400).
    #[error("{} problem(s)", .0.len())]
    Problems(Vec<FieldProblem>),
    /// The thing named does not exist (404).
    #[error("{0} not found")]
    NotFound(String),
    /// The actor's role or queues do not allow it (403).
    #[error("{0}")]
    Forbidden(String),
    /// Someone changed it since the actor saw it (409).
    #[error("{0}")]
    Conflict(String),
    /// The server is saturated; try again shortly (503 with Retry-After).
    #[error("the server is busy")]
    Overloaded,
    /// Something failed that the caller cannot fix (500); logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Invalid { field: field.into(), message: message.into() }
    }
}

/// The services of one server process; cheap to clone.
#[derive(Clone)]
pub struct Services {
    pool: Pool,
    writer: IngestWriter,
    config: Arc<RwLock<Arc<Configuration>>>,
    source_cache: Arc<sources::SourceCache>,
    throttle: Arc<Throttle>,
    settings: IngestSettings,
    hashing: PasswordHashing,
    login_policy: LoginPolicy,
    /// The client replays are delivered with.
    http: reqwest::Client,
}

/// How the services are tuned.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceSettings {
    pub ingest: IngestSettings,
    pub login: LoginPolicy,
}

impl Services {
    /// Loads the configuration (writing a minimal one into an empty database)
    /// and starts the ingest writer.
    pub async fn start(pool: Pool, settings: ServiceSettings) -> anyhow::Result<Self> {
        let configuration = config::bootstrap_and_load(&pool).await?;
        let (writer, _task) = IngestWriter::spawn(pool.clone(), settings.ingest.writer);
        // Each hash holds 19 MiB: four at a time bound a login storm to 76 MiB.
        let hashing = PasswordHashing::new(4)?;
        Ok(Self {
            pool,
            writer,
            config: Arc::new(RwLock::new(Arc::new(configuration))),
            source_cache: Arc::default(),
            throttle: Arc::default(),
            settings: settings.ingest,
            hashing,
            login_policy: settings.login,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("crossdock-replay")
                .build()
                .context("cannot build the HTTP client for replays")?,
        })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn ingest_settings(&self) -> &IngestSettings {
        &self.settings
    }
}
