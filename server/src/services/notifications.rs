//! Notifications in the console: each person's own, newest first, marked
//! read one by one or all at once.

use chrono::{DateTime, Utc};
use crossdock::escalation::EscalationLevel;

use super::{ServiceError, Services};
use crate::auth::CurrentUser;
use crate::store;

/// How many notifications the bell lists.
pub const SHOWN: u32 = 20;

/// One notification as its person sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub exception_id: Option<i64>,
    pub kind: EscalationLevel,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

impl Services {
    /// The person's newest notifications, and how many are unread in all.
    pub async fn notifications(&self, me: &CurrentUser) -> Result<(i64, Vec<Notification>), ServiceError> {
        let unread = store::notifications::unread(&self.pool, me.id.0).await?;
        let rows = store::notifications::recent(&self.pool, me.id.0, SHOWN).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(Notification {
                    id: r.id,
                    exception_id: r.exception_id,
                    kind: r.kind.parse()?,
                    title: r.title,
                    created_at: store::from_millis(r.created_at)?,
                    read: r.read_at.is_some(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok((unread, items))
    }

    /// Marks one of the person's notifications read, or all of them.
    pub async fn mark_notifications_read(&self, me: &CurrentUser, id: Option<i64>) -> Result<u64, ServiceError> {
        Ok(store::notifications::mark_read(&self.pool, me.id.0, id, self.now()).await?)
    }
}
