//! Live changes for the consoles. Each instance keeps a pulse that moves
//! when something a console shows has changed in the database, through this
//! instance or any other: on PostgreSQL it listens to the channel the
//! triggers notify, on SQLite it reads the triggers' counter a few times a
//! second. Consoles hear the pulse through `GET /console/changes` and read
//! again what they show.

use std::time::Duration;

use tokio::sync::watch;

use super::Services;
use crate::store::{self, Backend};

/// How often SQLite's counter is read.
const SQLITE_EVERY: Duration = Duration::from_millis(250);
/// The wait before listening again after the database was lost.
const AGAIN_AFTER: Duration = Duration::from_secs(1);

/// What the consoles' streams follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pulse {
    /// The number of changes heard so far (any change moves it).
    At(u64),
    /// The instance is stopping: streams end, and browsers reconnect to
    /// another instance or to this one once it is back.
    Closing,
}

/// The sending side, shared by the services' clones.
#[derive(Debug)]
pub(super) struct Changes(watch::Sender<Pulse>);

impl Default for Changes {
    fn default() -> Self {
        Self(watch::Sender::new(Pulse::At(0)))
    }
}

impl Changes {
    fn heard(&self) {
        self.0.send_modify(|pulse| {
            if let Pulse::At(n) = pulse {
                *n += 1;
            }
        });
    }
}

impl Services {
    /// The pulse of changes, for one console's stream.
    pub fn changes(&self) -> watch::Receiver<Pulse> {
        self.changes.0.subscribe()
    }

    /// Ends every console's stream (the instance is stopping).
    pub fn close_changes(&self) {
        self.changes.0.send_replace(Pulse::Closing);
    }

    /// Follows the database's changes until `stop`.
    pub async fn follow_changes(&self, mut stop: watch::Receiver<bool>) {
        loop {
            let followed = match Backend::of(&self.pool) {
                Backend::Postgres => self.listen(&mut stop).await,
                Backend::Sqlite => self.count(&mut stop).await,
            };
            match followed {
                Ok(()) => return,
                Err(err) => tracing::warn!(error = format!("{err:#}"), "following changes failed; trying again"),
            }
            tokio::select! {
                _ = stop.changed() => return,
                () = tokio::time::sleep(AGAIN_AFTER) => {}
            }
        }
    }

    /// PostgreSQL: a pulse for each notification of this installation's
    /// schema, and one each time the listener connects again (what was
    /// notified meanwhile is lost).
    async fn listen(&self, stop: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        let (mut listener, schema) = store::live::listen(&self.pool).await?;
        self.changes.heard();
        loop {
            tokio::select! {
                _ = stop.changed() => return Ok(()),
                heard = listener.try_recv() => match heard? {
                    Some(note) if note.payload() != schema => {}
                    Some(_) | None => self.changes.heard(),
                },
            }
        }
    }

    /// SQLite: a pulse each time the counter moved.
    async fn count(&self, stop: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut seen = store::live::counted(&self.pool).await?;
        loop {
            tokio::select! {
                _ = stop.changed() => return Ok(()),
                () = tokio::time::sleep(SQLITE_EVERY) => {}
            }
            let now = store::live::counted(&self.pool).await?;
            if now != seen {
                seen = now;
                self.changes.heard();
            }
        }
    }
}
