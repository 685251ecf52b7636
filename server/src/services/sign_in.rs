//! Signing in and out: checking a name and password with throttling, and
//! finding the person a session belongs to.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::accounts::{UserId, Username};
use crossdock::audit::{Actor, AuditAction, AuditEntry, Entity};
use secrecy::SecretString;

use super::{ServiceError, Services};
use crate::auth::CurrentUser;
use crate::auth::passwords::HashingError;
use crate::store::users::StoredUser;
use crate::store::{self};

/// Limits on failed logins.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// Failures counted are those within this window.
    pub window: Duration,
    /// From this many failures for a name, answers are slowed.
    pub slow_after: u32,
    /// At this many failures for a name, it is locked until they age out.
    pub lock_after: u32,
    /// From this many failures from one address (many names behind one
    /// proxy or NAT), its answers are slowed; a right password still works.
    pub address_slow_after: u32,
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

fn current_user(user: StoredUser, queues: Vec<crossdock::queue::QueueKey>) -> CurrentUser {
    CurrentUser {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        queues,
        density: user.density,
    }
}

/// A sign-in, failed sign-in or sign-out, with the address it came from.
fn access_audit(actor: Actor, action: AuditAction, username: &str, address: &str, at: DateTime<Utc>) -> AuditEntry {
    AuditEntry::new(at, actor, action, Entity::User, username).after(serde_json::json!({"address": address}))
}

impl Services {
    /// Checks a name and password from `address`, with throttling. A failure
    /// is audited with the address; so is a success.
    ///
    /// A name is locked after [`LoginPolicy::lock_after`] failures in the
    /// window. Each attempt is counted as a failure *before* its password is
    /// checked (and the count taken in the same transaction), so attempts
    /// made at once cannot check more passwords than the lock allows; a
    /// right password then takes its failure back. Failures from one
    /// address only slow its answers: behind a proxy or NAT, another
    /// person's right password is never refused for someone else's guesses.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        username: &str,
        password: SecretString,
        address: &str,
    ) -> Result<(CurrentUser, SessionStamp), LoginError> {
        let policy = self.login_policy;
        let now = Utc::now();
        // Counted and audited as typed, but for control characters (which no
        // user name holds, and PostgreSQL text cannot keep when NUL).
        let tried: String = username
            .trim()
            .to_ascii_lowercase()
            .chars()
            .take(64)
            .map(|c| if c.is_control() { char::REPLACEMENT_CHARACTER } else { c })
            .collect();
        let since = now - chrono::Duration::from_std(policy.window).unwrap_or_default();
        let window_ms = i64::try_from(policy.window.as_millis()).unwrap_or(i64::MAX);

        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let (by_name, by_address) = store::users::failures_since(&mut tx, &tried, address, since).await?;
        if let Some(nth) = by_name.get(policy.lock_after.saturating_sub(1) as usize) {
            let until = nth.saturating_add(window_ms);
            let minutes = ((until - now.timestamp_millis()) as f64 / 60_000.0).ceil().max(1.0) as i64;
            return Err(LoginError::Locked { minutes });
        }
        store::users::record_failure(&mut tx, &tried, address, now).await?;
        tx.commit().await.context("Failed to count the attempt")?;

        // Each failure past the first few adds a fifth of a second, up to two.
        let name_steps = (by_name.len() as u32 + 1).saturating_sub(policy.slow_after);
        let address_steps = u32::try_from(by_address).unwrap_or(u32::MAX).saturating_sub(policy.address_slow_after);
        let steps = name_steps.max(address_steps).min(10);
        if steps > 0 {
            tokio::time::sleep(Duration::from_millis(200 * u64::from(steps))).await;
        }
        let user = match Username::parse(&tried) {
            Ok(name) => store::users::by_username(&self.pool, name.as_str()).await?,
            Err(_) => None,
        };
        let usable = user.filter(|u| u.disabled_at.is_none());
        let verified = self.hashing.verify(password, usable.as_ref().map(|u| u.password_hash.clone())).await.map_err(
            |e| match e {
                HashingError::Busy => LoginError::Busy,
                HashingError::Failed(e) => LoginError::Internal(e),
            },
        )?;
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let outcome = match (verified, usable) {
            (true, Some(user)) => {
                // The attempt counted as a failure, and the name's earlier ones, go.
                store::users::clear_failures(&mut tx, &tried).await?;
                let queues = store::users::queues_of(&mut *tx, user.id).await?;
                let stamp = SessionStamp { user: user.id, epoch: user.session_epoch };
                let me = current_user(user, queues);
                let entry = access_audit(me.actor(), AuditAction::LoginSucceeded, me.username.as_str(), address, now);
                store::audit::append(&mut tx, &[entry]).await?;
                Ok((me, stamp))
            }
            _ => {
                let entry = access_audit(Actor::Anonymous, AuditAction::LoginFailed, &tried, address, now);
                store::audit::append(&mut tx, &[entry]).await?;
                Err(LoginError::Refused)
            }
        };
        tx.commit().await.context("Failed to commit the login")?;
        outcome
    }

    /// The user a session belongs to, if it is still theirs: the account
    /// exists, is enabled, and has not ended its sessions since.
    pub async fn session_user(&self, stamp: SessionStamp) -> Result<Option<CurrentUser>, ServiceError> {
        let Some(user) = store::users::by_id(&self.pool, stamp.user).await? else { return Ok(None) };
        if user.disabled_at.is_some() || user.session_epoch != stamp.epoch {
            return Ok(None);
        }
        let queues = store::users::queues_of(&self.pool, user.id).await?;
        Ok(Some(current_user(user, queues)))
    }

    /// Remembers how the person likes their queue list.
    pub async fn set_density(
        &self,
        viewer: &crate::auth::Viewer,
        density: crossdock::accounts::Density,
    ) -> Result<(), ServiceError> {
        Ok(store::users::set_density(&self.pool, viewer.user().id, density).await?)
    }

    /// Audits a sign-out.
    pub async fn record_logout(&self, user: &CurrentUser, address: &str) -> Result<(), ServiceError> {
        let now = Utc::now();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let entry = access_audit(user.actor(), AuditAction::Logout, user.username.as_str(), address, now);
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }
}
