//! Users: accounts, roles, queue membership, and signing in.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::FieldProblem;
use crossdock::accounts::{Role, Username, parse_display_name};
use crossdock::queue::QueueKey;

use super::{Actor, ServiceError, Services};
use crate::auth::passwords::{self, HashingError};
use crate::auth::{Admin, Configurer, CurrentUser, UserId};
use crate::store::audit::AuditEntry;
use crate::store::users::{NewUserRow, UserRow, UserUpdate};
use crate::store::{self, from_millis};

/// Limits on failed logins.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// Failures counted are those within this window.
    pub window: Duration,
    /// From this many failures for a name, answers are slowed.
    pub slow_after: u32,
    /// At this many failures for a name, it is locked until they age out.
    pub lock_after: u32,
    /// At this many failures from one address, it is locked likewise.
    pub address_lock_after: u32,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self { window: Duration::from_secs(15 * 60), slow_after: 3, lock_after: 10, address_lock_after: 50 }
    }
}

/// A new user as an admin enters it.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password: String,
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

/// Why a login was refused. The words never tell whether the name exists.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong user name or password")]
    Refused,
    #[error("too many failed attempts; try again in {minutes} minute(s)")]
    Locked { minutes: i64 },
    #[error("the server is busy; try again in a moment")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What a session remembers of its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStamp {
    pub user: UserId,
    /// The user's session epoch at sign-in; a bump ends the session.
    pub epoch: i64,
}

fn problem(field: &str, message: impl ToString) -> FieldProblem {
    FieldProblem { pointer: field.to_owned(), message: message.to_string() }
}

impl Services {
    fn check_queues(&self, queues: &[String], problems: &mut Vec<FieldProblem>) -> Vec<String> {
        let config = self.configuration();
        let mut out = Vec::new();
        for q in queues.iter().map(|q| q.trim()).filter(|q| !q.is_empty()) {
            match QueueKey::parse(q) {
                Ok(k) if config.queues.contains_key(&k) => out.push(k.to_string()),
                _ => problems.push(problem("queues", format!("there is no queue `{q}`"))),
            }
        }
        out.sort();
        out.dedup();
        out
    }

    async fn hash(&self, password: String) -> Result<String, ServiceError> {
        self.hashing.hash(password).await.map_err(|e| match e {
            HashingError::Busy => ServiceError::Overloaded,
            HashingError::Failed(e) => ServiceError::Internal(e),
        })
    }

    /// Creates a user; every field problem is reported and nothing is saved.
    #[tracing::instrument(skip_all, fields(username = %new.username))]
    pub async fn create_user(&self, by: &impl Configurer, new: &NewUser) -> Result<UserSummary, ServiceError> {
        let (actor, demo) = (&by.actor(), by.demo());
        let mut problems = Vec::new();
        let username = Username::parse(&new.username).map_err(|e| problems.push(problem("username", e))).ok();
        let display = parse_display_name(&new.display_name).map_err(|e| problems.push(problem("display_name", e))).ok();
        let role = new.role.parse::<Role>().map_err(|_| problems.push(problem("role", "choose a role"))).ok();
        let hints: Vec<&str> = [new.username.as_str(), new.display_name.as_str()].into_iter().collect();
        if let Err(weak) = passwords::check_policy(&new.password, &hints) {
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
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let row = NewUserRow {
            username: username.as_str(),
            display_name: &display,
            role: role.as_str(),
            password_hash: &hash,
            demo,
            at: now,
        };
        let Some(id) = store::users::insert(&mut tx, &row).await? else {
            return Err(ServiceError::Problems(vec![problem("username", "this user name is taken")]));
        };
        store::users::set_queues(&mut tx, id, &queues).await?;
        let after = serde_json::json!({"username": username, "display_name": display, "role": role, "queues": queues, "demo": demo});
        store::audit::append(&mut tx, &user_audit(actor, "user.created", username.as_str(), None, Some(after), now))
            .await
            .context("Failed to audit")?;
        tx.commit().await.context("Failed to commit the user")?;
        Ok(UserSummary {
            id: UserId(id),
            username: username.to_string(),
            display_name: display,
            role,
            queues,
            disabled: false,
            demo,
            created_at: now,
        })
    }

    pub async fn list_users(&self, _admin: &Admin<'_>) -> Result<Vec<UserSummary>, ServiceError> {
        let rows = store::users::list(&self.pool).await?;
        let memberships = store::users::all_memberships(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                let queues = memberships.iter().filter(|(u, _)| *u == r.id).map(|(_, q)| q.clone()).collect();
                summary(r, queues)
            })
            .collect()
    }

    async fn user_row(&self, tx: &mut store::Tx<'_>, id: UserId) -> Result<UserRow, ServiceError> {
        store::users::by_id(&mut **tx, id.0).await?.ok_or_else(|| ServiceError::NotFound(format!("user {}", id.0)))
    }

    /// Changes a user's name, role and queues. A new role signs them out.
    #[tracing::instrument(skip_all, fields(user = id.0))]
    pub async fn update_user(
        &self,
        admin: &Admin<'_>,
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
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let row = self.user_row(&mut tx, id).await?;
        if row.id == admin.user().id.0 && role != Role::Admin {
            return Err(ServiceError::invalid("role", "you cannot take the admin role from yourself"));
        }
        let before_queues = store::users::queues_of(&mut *tx, row.id).await?;
        let role_changed = row.role != role.as_str();
        store::users::update(
            &mut tx,
            row.id,
            &UserUpdate {
                display_name: &display,
                role: role.as_str(),
                password_hash: None,
                disabled_at: row.disabled_at,
                end_sessions: role_changed,
                at: now,
            },
        )
        .await?;
        store::users::set_queues(&mut tx, row.id, &queues).await?;
        let before = serde_json::json!({"display_name": row.display_name, "role": row.role, "queues": before_queues});
        let after = serde_json::json!({"display_name": display, "role": role, "queues": queues});
        let actor = admin.actor();
        store::audit::append(
            &mut tx,
            &user_audit(&actor, "user.updated", &row.username, Some(before), Some(after), now),
        )
        .await
        .context("Failed to audit")?;
        tx.commit().await.context("Failed to commit the user")?;
        summary(UserRow { display_name: display, role: role.as_str().to_owned(), ..row }, queues)
    }

    /// Disables (ending every session at once) or enables a user.
    #[tracing::instrument(skip_all, fields(user = id.0))]
    pub async fn set_user_disabled(&self, admin: &Admin<'_>, id: UserId, disabled: bool) -> Result<(), ServiceError> {
        if disabled && id == admin.user().id {
            return Err(ServiceError::invalid("disabled", "you cannot disable yourself"));
        }
        let now = Utc::now();
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let row = self.user_row(&mut tx, id).await?;
        let disabled_at = if disabled { row.disabled_at.or(Some(now.timestamp_millis())) } else { None };
        store::users::update(
            &mut tx,
            row.id,
            &UserUpdate {
                display_name: &row.display_name,
                role: &row.role,
                password_hash: None,
                disabled_at,
                end_sessions: disabled,
                at: now,
            },
        )
        .await?;
        let action = if disabled { "user.disabled" } else { "user.enabled" };
        let actor = admin.actor();
        store::audit::append(
            &mut tx,
            &user_audit(
                &actor,
                action,
                &row.username,
                Some(serde_json::json!({"disabled": row.disabled_at.is_some()})),
                Some(serde_json::json!({"disabled": disabled})),
                now,
            ),
        )
        .await
        .context("Failed to audit")?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }

    /// Sets a new password for a user, ending their sessions.
    #[tracing::instrument(skip_all, fields(user = id.0))]
    pub async fn reset_password(&self, admin: &Admin<'_>, id: UserId, password: &str) -> Result<(), ServiceError> {
        let row = store::users::by_id(&self.pool, id.0)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("user {}", id.0)))?;
        passwords::check_policy(password, &[&row.username, &row.display_name])
            .map_err(|weak| ServiceError::Problems(vec![problem("password", weak)]))?;
        let hash = self.hash(password.to_owned()).await?;
        let now = Utc::now();
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        store::users::update(
            &mut tx,
            row.id,
            &UserUpdate {
                display_name: &row.display_name,
                role: &row.role,
                password_hash: Some(&hash),
                disabled_at: row.disabled_at,
                end_sessions: true,
                at: now,
            },
        )
        .await?;
        let actor = admin.actor();
        store::audit::append(&mut tx, &user_audit(&actor, "user.password_reset", &row.username, None, None, now))
            .await
            .context("Failed to audit")?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }

    /// Checks a name and password from `address`, with throttling. A failure
    /// is audited with the address; so is a success.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: &str,
    ) -> Result<(CurrentUser, SessionStamp), LoginError> {
        let policy = self.login_policy;
        let now = Utc::now();
        let tried = username.trim().to_ascii_lowercase();
        let tried = if tried.len() > 64 { tried.chars().take(64).collect() } else { tried };
        let since = now - chrono::Duration::from_std(policy.window).unwrap_or_default();
        let (by_name, by_address) = store::users::failures_since(&self.pool, &tried, address, since).await?;
        let locked_until = |failures: &[i64], limit: u32| -> Option<i64> {
            let nth = failures.get(limit.saturating_sub(1) as usize)?;
            Some(nth + policy.window.as_millis() as i64)
        };
        let lock = locked_until(&by_name, policy.lock_after).or_else(|| {
            (by_address >= i64::from(policy.address_lock_after))
                .then(|| now.timestamp_millis() + policy.window.as_millis() as i64)
        });
        if let Some(until) = lock {
            let minutes = ((until - now.timestamp_millis()) as f64 / 60_000.0).ceil().max(1.0) as i64;
            return Err(LoginError::Locked { minutes });
        }
        // Each failure past the first few adds a fifth of a second, up to two.
        if by_name.len() as u32 >= policy.slow_after {
            let steps = (by_name.len() as u32 - policy.slow_after + 1).min(10);
            tokio::time::sleep(Duration::from_millis(200 * u64::from(steps))).await;
        }
        let row = match Username::parse(&tried) {
            Ok(name) => store::users::by_username(&self.pool, name.as_str()).await?,
            Err(_) => None,
        };
        let usable = row.as_ref().filter(|r| r.disabled_at.is_none());
        let verified =
            self.hashing.verify(password.to_owned(), usable.map(|r| r.password_hash.clone())).await.map_err(
                |e| match e {
                    HashingError::Busy => LoginError::Busy,
                    HashingError::Failed(e) => LoginError::Internal(e),
                },
            )?;
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let outcome = match (verified, usable) {
            (true, Some(row)) => {
                store::users::clear_failures(&mut tx, &tried).await?;
                let queues = store::users::queues_of(&mut *tx, row.id).await?;
                let user = current_user(row.clone(), queues)?;
                let entry = access_audit(user.audit_name(), "login.succeeded", user.username.as_str(), address, now);
                store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
                Ok((user, SessionStamp { user: UserId(row.id), epoch: row.session_epoch }))
            }
            _ => {
                store::users::record_failure(&mut tx, &tried, address, now).await?;
                let entry = access_audit("anonymous".to_owned(), "login.failed", &tried, address, now);
                store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
                Err(LoginError::Refused)
            }
        };
        tx.commit().await.context("Failed to commit the login")?;
        outcome
    }

    /// The user a session belongs to, if it is still theirs: the account
    /// exists, is enabled, and has not ended its sessions since.
    pub async fn session_user(&self, stamp: SessionStamp) -> Result<Option<CurrentUser>, ServiceError> {
        let Some(row) = store::users::by_id(&self.pool, stamp.user.0).await? else { return Ok(None) };
        if row.disabled_at.is_some() || row.session_epoch != stamp.epoch {
            return Ok(None);
        }
        let queues = store::users::queues_of(&self.pool, row.id).await?;
        Ok(Some(current_user(row, queues)?))
    }

    /// Audits a sign-out.
    pub async fn record_logout(&self, user: &CurrentUser, address: &str) -> Result<(), ServiceError> {
        let now = Utc::now();
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let entry = access_audit(user.audit_name(), "logout", user.username.as_str(), address, now);
        store::audit::append(&mut tx, &entry).await.context("Failed to audit")?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }

    pub async fn user_count(&self) -> Result<i64, ServiceError> {
        Ok(store::users::count(&self.pool).await?)
    }
}

fn current_user(row: UserRow, queues: Vec<String>) -> anyhow::Result<CurrentUser> {
    Ok(CurrentUser {
        id: UserId(row.id),
        username: Username::parse(&row.username).context("stored user name is invalid")?,
        display_name: row.display_name,
        role: row.role.parse().context("stored role is invalid")?,
        queues: queues.iter().filter_map(|q| QueueKey::parse(q).ok()).collect(),
    })
}

fn summary(row: UserRow, queues: Vec<String>) -> Result<UserSummary, ServiceError> {
    Ok(UserSummary {
        id: UserId(row.id),
        role: row.role.parse().context("stored role is invalid")?,
        created_at: from_millis(row.created_at)?,
        username: row.username,
        display_name: row.display_name,
        queues,
        disabled: row.disabled_at.is_some(),
        demo: row.demo,
    })
}

fn user_audit(
    actor: &Actor,
    action: &'static str,
    username: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    at: DateTime<Utc>,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.audit_name(),
        action,
        entity: "user",
        entity_id: username.to_owned(),
        before,
        after,
        reason: None,
    }
}

/// A sign-in, failed sign-in or sign-out, with the address it came from.
fn access_audit(actor: String, action: &'static str, username: &str, address: &str, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry {
        at,
        actor,
        action,
        entity: "user",
        entity_id: username.to_owned(),
        before: None,
        after: Some(serde_json::json!({"address": address})),
        reason: None,
    }
}

/// Someone exceptions can be given to.
#[derive(Debug, Clone)]
pub struct Assignable {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub queues: Vec<String>,
}

impl Services {
    /// The enabled people who work exceptions, for the assign picker.
    pub async fn assignable_users(&self, _worker: &crate::auth::Worker<'_>) -> Result<Vec<Assignable>, ServiceError> {
        let rows = store::users::list(&self.pool).await?;
        let memberships = store::users::all_memberships(&self.pool).await?;
        let mut out = Vec::new();
        for r in rows.into_iter().filter(|r| r.disabled_at.is_none()) {
            let role: Role = r.role.parse().context("stored role is invalid")?;
            if !role.allows(crossdock::accounts::Permission::WorkExceptions) {
                continue;
            }
            let queues = memberships.iter().filter(|(u, _)| *u == r.id).map(|(_, q)| q.clone()).collect();
            out.push(Assignable { username: r.username, display_name: r.display_name, role, queues });
        }
        Ok(out)
    }
}
