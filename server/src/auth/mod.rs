//! Who is acting, and what they may do.
//!
//! A signed-in person is a [`CurrentUser`]. Use cases that need a permission
//! take a capability (an [`Admin`], an [`AuditReader`], a [`Worker`]) that only
//! [`CurrentUser`]'s checks can make, so a use case cannot be called without
//! its role check.

pub mod passwords;

use crossdock::accounts::{Permission, Role, Username};
use crossdock::queue::QueueKey;
use serde::{Deserialize, Serialize};

/// The identity of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(pub i64);

/// A signed-in person, as loaded for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    /// The queues a staff member works in.
    pub queues: Vec<QueueKey>,
}

/// An action the role does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("your role ({role}) may not {permission}")]
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
}

/// May configure users, sources, queues, routing and policies.
#[derive(Debug)]
pub struct Admin<'a>(&'a CurrentUser);

/// May read the audit trail.
#[derive(Debug)]
pub struct AuditReader<'a>(&'a CurrentUser);

/// May read exceptions within a scope.
#[derive(Debug)]
pub struct Viewer<'a> {
    user: &'a CurrentUser,
    scope: QueueScope,
}

/// May work exceptions within a scope.
#[derive(Debug)]
pub struct Worker<'a> {
    user: &'a CurrentUser,
    scope: QueueScope,
}

impl CurrentUser {
    fn require(&self, permission: Permission) -> Result<(), Denied> {
        if self.role.allows(permission) { Ok(()) } else { Err(Denied { role: self.role, permission }) }
    }

    fn scope(&self) -> QueueScope {
        if self.role.limited_to_member_queues() { QueueScope::Only(self.queues.clone()) } else { QueueScope::All }
    }

    pub fn admin(&self) -> Result<Admin<'_>, Denied> {
        self.require(Permission::ManageUsers)?;
        Ok(Admin(self))
    }

    pub fn audit_reader(&self) -> Result<AuditReader<'_>, Denied> {
        self.require(Permission::ViewAudit)?;
        Ok(AuditReader(self))
    }

    pub fn viewer(&self) -> Viewer<'_> {
        Viewer { user: self, scope: self.scope() }
    }

    pub fn worker(&self) -> Result<Worker<'_>, Denied> {
        self.require(Permission::WorkExceptions)?;
        Ok(Worker { user: self, scope: self.scope() })
    }

    /// The name the audit log gives this person.
    pub fn audit_name(&self) -> String {
        format!("user:{}", self.username)
    }
}

impl Admin<'_> {
    pub fn user(&self) -> &CurrentUser {
        self.0
    }
}

impl AuditReader<'_> {
    pub fn user(&self) -> &CurrentUser {
        self.0
    }
}

impl Viewer<'_> {
    pub fn user(&self) -> &CurrentUser {
        self.user
    }

    pub fn scope(&self) -> &QueueScope {
        &self.scope
    }
}

impl Worker<'_> {
    pub fn user(&self) -> &CurrentUser {
        self.user
    }

    pub fn scope(&self) -> &QueueScope {
        &self.scope
    }
}

/// Someone allowed to configure Crossdock: an admin in the console, or the
/// operator at the server's command line.
pub trait Configurer {
    /// Who the audit log names.
    fn actor(&self) -> crate::services::Actor;
    /// Whether what is created is demo data.
    fn demo(&self) -> bool {
        false
    }
}

impl Configurer for Admin<'_> {
    fn actor(&self) -> crate::services::Actor {
        crate::services::Actor::User(self.0.username.to_string())
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
    fn actor(&self) -> crate::services::Actor {
        if self.demo { crate::services::Actor::System("demo") } else { crate::services::Actor::Operator }
    }

    fn demo(&self) -> bool {
        self.demo
    }
}
