//! Who is acting, and what they may do.
//!
//! A signed-in person is a [`CurrentUser`]. Use cases take a capability (an
//! [`Admin`], an [`AuditReader`], a [`Viewer`], a [`Worker`]) that only
//! [`CurrentUser`]'s role checks can make, so a use case cannot be called
//! without its check.

pub mod passwords;

use crossdock::accounts::{Density, Permission, Role, Username};
use crossdock::audit::SystemAgent;
use crossdock::queue::QueueKey;
use crossdock::triage::Doer;

pub use crossdock::accounts::UserId;
pub use crossdock::audit::Actor;

/// A signed-in person, as loaded for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    /// The queues a staff member works in.
    pub queues: Vec<QueueKey>,
    /// How they like their queue list.
    pub density: Density,
}

/// An action the role does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("your role ({role}) may not {}", permission.as_str().replace('_', " "))]
pub struct Denied {
    pub role: Role,
    pub permission: Permission,
}

/// Which exceptions a capability reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueScope {
    All,
    Only(Vec<QueueKey>),
}

impl QueueScope {
    pub fn includes(&self, queue: &str) -> bool {
        match self {
            QueueScope::All => true,
            QueueScope::Only(queues) => queues.iter().any(|q| q.as_str() == queue),
        }
    }

    /// The queues in reach as names; `None` for every queue.
    pub fn queue_names(&self) -> Option<Vec<String>> {
        match self {
            QueueScope::All => None,
            QueueScope::Only(queues) => Some(queues.iter().map(ToString::to_string).collect()),
        }
    }
}

/// May configure users, sources, queues, routing and policies.
#[derive(Debug, Clone)]
pub struct Admin(CurrentUser);

/// May read the audit trail.
#[derive(Debug, Clone)]
pub struct AuditReader(CurrentUser);

/// May read the SLA board.
#[derive(Debug, Clone)]
pub struct BoardReader(CurrentUser);

/// May read exceptions within a scope.
#[derive(Debug, Clone)]
pub struct Viewer {
    user: CurrentUser,
    scope: QueueScope,
}

/// May work exceptions within a scope.
#[derive(Debug, Clone)]
pub struct Worker {
    user: CurrentUser,
    scope: QueueScope,
}

impl CurrentUser {
    fn require(&self, permission: Permission) -> Result<(), Denied> {
        if self.role.allows(permission) { Ok(()) } else { Err(Denied { role: self.role, permission }) }
    }

    fn scope(&self) -> QueueScope {
        if self.role.limited_to_member_queues() { QueueScope::Only(self.queues.clone()) } else { QueueScope::All }
    }

    pub fn admin(&self) -> Result<Admin, Denied> {
        self.require(Permission::ManageUsers)?;
        self.require(Permission::ManageSources)?;
        self.require(Permission::ManageConfiguration)?;
        Ok(Admin(self.clone()))
    }

    pub fn audit_reader(&self) -> Result<AuditReader, Denied> {
        self.require(Permission::ViewAudit)?;
        Ok(AuditReader(self.clone()))
    }

    pub fn board_reader(&self) -> Result<BoardReader, Denied> {
        self.require(Permission::ViewSlaBoard)?;
        Ok(BoardReader(self.clone()))
    }

    pub fn viewer(&self) -> Viewer {
        Viewer { user: self.clone(), scope: self.scope() }
    }

    pub fn worker(&self) -> Result<Worker, Denied> {
        self.require(Permission::WorkExceptions)?;
        Ok(Worker { user: self.clone(), scope: self.scope() })
    }

    /// The name the audit trail gives this person.
    pub fn actor(&self) -> Actor {
        Actor::User(self.username.to_string())
    }

    /// This person as the one who takes an action.
    pub fn doer(&self) -> Doer<'_> {
        Doer::Person { username: &self.username, role: self.role }
    }
}

impl Admin {
    pub fn user(&self) -> &CurrentUser {
        &self.0
    }
}

impl BoardReader {
    pub fn user(&self) -> &CurrentUser {
        &self.0
    }
}

impl AuditReader {
    pub fn user(&self) -> &CurrentUser {
        &self.0
    }
}

impl Viewer {
    pub fn user(&self) -> &CurrentUser {
        &self.user
    }

    /// This viewer as one who may save views for a whole team.
    pub fn publisher(&self) -> Result<Publisher, Denied> {
        self.user.require(Permission::PublishViews)?;
        Ok(Publisher(self.user.clone()))
    }

    pub fn scope(&self) -> &QueueScope {
        &self.scope
    }
}

impl Worker {
    pub fn user(&self) -> &CurrentUser {
        &self.user
    }

    pub fn scope(&self) -> &QueueScope {
        &self.scope
    }

    /// What a worker may read.
    pub fn viewer(&self) -> Viewer {
        Viewer { user: self.user.clone(), scope: self.scope.clone() }
    }

    /// A corrected message, if this worker may correct messages before
    /// replaying them.
    pub fn correction(&self, message: serde_json::Value) -> Result<Correction, Denied> {
        self.user.require(Permission::CorrectMessages)?;
        Ok(Correction(message))
    }

    /// This worker's confirmation of a replay its connector would not take
    /// on the filing source's word, if this worker may give one.
    pub fn vouch(&self) -> Result<Vouch, Denied> {
        self.user.require(Permission::ConfirmReplays)?;
        Ok(Vouch(self.user.actor()))
    }
}

/// Someone who may save a queue view for a whole team (supervisors, admins).
#[derive(Debug, Clone)]
pub struct Publisher(CurrentUser);

impl Publisher {
    pub fn user(&self) -> &CurrentUser {
        &self.0
    }
}

/// A supervisor's confirmation that a failure from a source its connector
/// does not trust may be replayed.
#[derive(Debug, Clone)]
pub struct Vouch(Actor);

impl Vouch {
    /// Who confirmed.
    pub fn by(&self) -> &Actor {
        &self.0
    }
}

/// A corrected message, made by someone allowed to correct messages.
#[derive(Debug, Clone)]
pub struct Correction(serde_json::Value);

impl Correction {
    pub fn message(&self) -> &serde_json::Value {
        &self.0
    }

    pub fn into_message(self) -> serde_json::Value {
        self.0
    }
}

/// Someone allowed to configure Crossdock: an admin in the console, or the
/// operator at the server's command line.
pub trait Configurer {
    /// Who the audit trail names.
    fn actor(&self) -> Actor;
    /// Whether what is created is demo data.
    fn demo(&self) -> bool {
        false
    }
}

impl Configurer for Admin {
    fn actor(&self) -> Actor {
        self.0.actor()
    }
}

/// The operator at the server's command line (first admin, sources, demo
/// data). Only the command line and tests make one; the console never does.
#[derive(Debug)]
pub struct Operator {
    demo: bool,
}

impl Operator {
    pub fn command_line() -> Self {
        Self { demo: false }
    }

    /// The operator seeding demo data.
    pub fn demo() -> Self {
        Self { demo: true }
    }
}

impl Configurer for Operator {
    fn actor(&self) -> Actor {
        if self.demo { Actor::System(SystemAgent::Demo) } else { Actor::Operator }
    }

    fn demo(&self) -> bool {
        self.demo
    }
}
