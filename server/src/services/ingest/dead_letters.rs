//! Messages from the broker that could never be accepted, kept for admins.

use crate::auth::Configurer;
use crate::services::{ServiceError, Services};
use crate::store;
use crate::store::dead_letters::{DeadLetter, NewDeadLetter};

/// How many of a source's messages set aside its page shows.
const SHOWN: i64 = 20;

impl Services {
    /// Keeps a message that was set aside, with its reason.
    pub async fn record_dead_letter(&self, letter: &NewDeadLetter<'_>) -> anyhow::Result<()> {
        store::dead_letters::insert(&self.pool, letter).await
    }

    /// The newest messages of a source that were set aside; `None` names
    /// the messages no source took.
    pub async fn dead_letters_of(
        &self,
        _by: &impl Configurer,
        source: Option<&str>,
    ) -> Result<Vec<DeadLetter>, ServiceError> {
        let id = match source {
            None => None,
            Some(name) => Some(
                store::sources::by_name(&self.pool, name)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("source `{name}`")))?
                    .id,
            ),
        };
        Ok(store::dead_letters::newest_of(&self.pool, id, SHOWN).await?)
    }
}
