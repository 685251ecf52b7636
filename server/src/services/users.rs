//! User administration: accounts, roles and queue membership.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::FieldProblem;
use crossdock::accounts::{Permission, Role, UserId, Username, parse_display_name};
use crossdock::audit::{AuditAction, AuditEntry, Entity};
use crossdock::queue::QueueKey;
use secrecy::{ExposeSecret, SecretString};

use super::{ServiceError, Services};
use crate::auth::passwords::{self, HashingError};
use crate::auth::{Admin, Configurer, Viewer};
use crate::store::users::{NewUserRow, StoredUser};
use crate::store::{self};

/// A new user as an admin enters it.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password: SecretString,
    pub queues: Vec<String>,
}

/// Changes to a user as an admin enters them.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: String,
    pub role: String,
    pub queues: Vec<String>,
}

/// A user as admins see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub queues: Vec<String>,
    pub disabled: bool,
    pub demo: bool,
    pub created_at: DateTime<Utc>,
}

/// Someone exceptions can be given to.
#[derive(Debug, Clone)]
pub struct Assignable {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub queues: Vec<String>,
}

pub(super) fn problem(field: &str, message: impl ToString) -> FieldProblem {
    FieldProblem { pointer: field.to_owned(), message: message.to_string() }
}

fn summary(user: StoredUser, queues: Vec<QueueKey>) -> UserSummary {
    UserSummary {
        id: user.id,
        username: user.username.to_string(),
        display_name: user.display_name,
        role: user.role,
        queues: queues.iter().map(ToString::to_string).collect(),
        disabled: user.disabled_at.is_some(),
        demo: user.demo,
        created_at: user.created_at,
    }
}

fn user_audit(by: &impl Configurer, action: AuditAction, username: &Username, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry::new(at, by.actor(), action, Entity::User, username.as_str())
}

impl Services {
    fn check_queues(&self, queues: &[String], problems: &mut Vec<FieldProblem>) -> Vec<QueueKey> {
        let config = self.configuration();
        let mut out = Vec::new();
        for q in queues.iter().map(|q| q.trim()).filter(|q| !q.is_empty()) {
            match QueueKey::parse(q) {
                Ok(k) if config.queues.contains_key(&k) => out.push(k),
                _ => problems.push(problem("queues", format!("there is no queue `{q}`"))),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    pub(super) async fn hash(&self, password: SecretString) -> Result<String, ServiceError> {
        self.hashing.hash(password).await.map_err(|e| match e {
            HashingError::Busy => ServiceError::Overloaded,
            HashingError::Failed(e) => ServiceError::Internal(e),
        })
    }

    /// Creates a user; every field problem is reported and nothing is saved.
    #[tracing::instrument(skip_all, fields(username = %new.username))]
    pub async fn create_user(&self, by: &impl Configurer, new: &NewUser) -> Result<UserSummary, ServiceError> {
        let demo = by.demo();
        let mut problems = Vec::new();
        let username = Username::parse(&new.username).map_err(|e| problems.push(problem("username", e))).ok();
        let display = parse_display_name(&new.display_name).map_err(|e| problems.push(problem("display_name", e))).ok();
        let role = new.role.parse::<Role>().map_err(|_| problems.push(problem("role", "choose a role"))).ok();
        let hints = [new.username.as_str(), new.display_name.as_str()];
        if let Err(weak) = passwords::check_policy(new.password.expose_secret(), &hints) {
            problems.push(problem("password", weak));
        }
        let queues = self.check_queues(&new.queues, &mut problems);
        let (Some(username), Some(display), Some(role)) = (username, display, role) else {
            return Err(ServiceError::Problems(problems));
        };
        if !problems.is_empty() {
            return Err(ServiceError::Problems(problems));
        }
        if store::users::by_username(&self.pool, username.as_str()).await?.is_some() {
            return Err(ServiceError::Problems(vec![problem("username", "this user name is taken")]));
        }
        let hash = self.hash(new.password.clone()).await?;
        let now = Utc::now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let row = NewUserRow { username: &username, display_name: &display, role, password_hash: &hash, demo, at: now };
        let Some(id) = store::users::insert(&mut tx, &row).await? else {
            return Err(ServiceError::Problems(vec![problem("username", "this user name is taken")]));
        };
        store::users::set_queues(&mut tx, id, &queues).await?;
        let after = serde_json::json!({"username": username, "display_name": display, "role": role, "queues": queues, "demo": demo});
        store::audit::append(&mut tx, &[user_audit(by, AuditAction::UserCreated, &username, now).after(after)]).await?;
        tx.commit().await.context("Failed to commit the user")?;
        Ok(UserSummary {
            id,
            username: username.to_string(),
            display_name: display,
            role,
            queues: queues.iter().map(ToString::to_string).collect(),
            disabled: false,
            demo,
            created_at: now,
        })
    }

    pub async fn list_users(&self, _admin: &Admin) -> Result<Vec<UserSummary>, ServiceError> {
        let users = store::users::list(&self.pool).await?;
        let memberships = store::users::all_memberships(&self.pool).await?;
        Ok(users
            .into_iter()
            .map(|u| {
                let queues = memberships.iter().filter(|(m, _)| *m == u.id).map(|(_, q)| q.clone()).collect();
                summary(u, queues)
            })
            .collect())
    }

    async fn user(&self, tx: &mut store::Tx<'_>, id: UserId) -> Result<StoredUser, ServiceError> {
        store::users::by_id(&mut **tx, id).await?.ok_or_else(|| ServiceError::NotFound(format!("user {}", id.0)))
    }

    /// Changes a user's name, role and queues. A new role signs them out.
    #[tracing::instrument(skip_all, fields(user = id.0))]
    pub async fn update_user(
        &self,
        admin: &Admin,
        id: UserId,
        changes: &UserChanges,
    ) -> Result<UserSummary, ServiceError> {
        let mut problems = Vec::new();
        let display =
            parse_display_name(&changes.display_name).map_err(|e| problems.push(problem("display_name", e))).ok();
        let role = changes.role.parse::<Role>().map_err(|_| problems.push(problem("role", "choose a role"))).ok();
        let queues = self.check_queues(&changes.queues, &mut problems);
        let (Some(display), Some(role)) = (display, role) else { return Err(ServiceError::Problems(problems)) };
        if !problems.is_empty() {
            return Err(ServiceError::Problems(problems));
        }
        let now = Utc::now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let user = self.user(&mut tx, id).await?;
        if user.id == admin.user().id && role != Role::Admin {
            return Err(ServiceError::invalid("role", "you cannot take the admin role from yourself"));
        }
        let before_queues = store::users::queues_of(&mut *tx, user.id).await?;
        store::users::set_profile(&mut tx, user.id, &display, role, user.role != role, now).await?;
        store::users::set_queues(&mut tx, user.id, &queues).await?;
        let before = serde_json::json!({"display_name": user.display_name, "role": user.role, "queues": before_queues});
        let after = serde_json::json!({"display_name": display, "role": role, "queues": queues});
        let entry = user_audit(admin, AuditAction::UserUpdated, &user.username, now).before(before).after(after);
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit the user")?;
        Ok(summary(StoredUser { display_name: display, role, ..user }, queues))
    }

    /// Disables (ending every session at once) or enables a user.
    #[tracing::instrument(skip_all, fields(user = id.0))]
    pub async fn set_user_disabled(&self, admin: &Admin, id: UserId, disabled: bool) -> Result<(), ServiceError> {
        if disabled && id == admin.user().id {
            return Err(ServiceError::invalid("disabled", "you cannot disable yourself"));
        }
        let now = Utc::now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let user = self.user(&mut tx, id).await?;
        store::users::set_disabled(&mut tx, user.id, disabled, now).await?;
        let action = if disabled { AuditAction::UserDisabled } else { AuditAction::UserEnabled };
        let entry = user_audit(admin, action, &user.username, now)
            .before(serde_json::json!({"disabled": user.disabled_at.is_some()}))
            .after(serde_json::json!({"disabled": disabled}));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }

    /// Sets a new password for a user, ending their sessions; nothing else
    /// about the account changes.
    #[tracing::instrument(skip_all, fields(user = id.0))]
    pub async fn reset_password(&self, admin: &Admin, id: UserId, password: SecretString) -> Result<(), ServiceError> {
        let user = store::users::by_id(&self.pool, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("user {}", id.0)))?;
        passwords::check_policy(password.expose_secret(), &[user.username.as_str(), &user.display_name])
            .map_err(|weak| ServiceError::Problems(vec![problem("password", weak)]))?;
        let hash = self.hash(password).await?;
        let now = Utc::now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        store::users::set_password(&mut tx, user.id, &hash, now).await?;
        store::audit::append(&mut tx, &[user_audit(admin, AuditAction::PasswordReset, &user.username, now)]).await?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }

    /// The enabled people who work exceptions, for the assign picker.
    pub async fn assignable_users(&self, _viewer: &Viewer) -> Result<Vec<Assignable>, ServiceError> {
        let users = store::users::list(&self.pool).await?;
        let memberships = store::users::all_memberships(&self.pool).await?;
        Ok(users
            .into_iter()
            .filter(|u| u.disabled_at.is_none() && u.role.allows(Permission::WorkExceptions))
            .map(|u| Assignable {
                queues: memberships.iter().filter(|(m, _)| *m == u.id).map(|(_, q)| q.to_string()).collect(),
                username: u.username.to_string(),
                display_name: u.display_name,
                role: u.role,
            })
            .collect())
    }
}
