//! The SLA board, for supervisors, admins and auditors, and the read-only
//! links that show its counts on a screen on the warehouse floor.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use crossdock::accounts::Permission;
use crossdock::audit::{AuditAction, AuditEntry, Entity};
use crossdock::board::{self, Board, BoardGrouping, BoardInputs, BoardZones, Medians, OpenTally};

use super::ingest::source::key_hash;
use super::{ServiceError, Services};
use crate::auth::{Admin, BoardReader};
use crate::store;

/// A read-only board link as admins see it (its token only once, at creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardLink {
    pub id: i64,
    pub name: String,
    pub grouping: BoardGrouping,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// How long the week's medians are kept before they are read again.
const MEDIANS_KEPT: std::time::Duration = std::time::Duration::from_secs(60);

/// The week's medians per grouping, with when they were read.
pub(super) type MedianCache = std::sync::Mutex<std::collections::HashMap<BoardGrouping, (std::time::Instant, Medians)>>;

/// How far the tally clock may lag behind a reader before it is moved.
const TALLY_CLOCK_LAG: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// The longest name a board link may have.
pub const MAX_LINK_NAME: usize = 100;

impl Services {
    /// The board as `reader` sees it: every queue, site or person.
    #[tracing::instrument(skip_all, fields(grouping = %grouping))]
    pub async fn board(&self, _reader: &BoardReader, grouping: BoardGrouping) -> Result<Board, ServiceError> {
        Ok(self.board_at(grouping, self.now()).await?)
    }

    /// The board a live link shows, and the link's name; a token that names
    /// no live link reads as not found.
    pub async fn board_by_link(&self, token: &str) -> Result<(String, Board), ServiceError> {
        let not_found = || ServiceError::NotFound("board link".into());
        if token.is_empty() || token.len() > 100 {
            return Err(not_found());
        }
        let link = store::board::live_link_by_hash(&self.pool, &key_hash(token)).await?.ok_or_else(not_found)?;
        Ok((link.name.clone(), self.board_at(link.grouping()?, self.now()).await?))
    }

    /// The board at `now`.
    pub async fn board_at(&self, grouping: BoardGrouping, now: DateTime<Utc>) -> anyhow::Result<Board> {
        let config = self.configuration();
        let zones = BoardZones {
            queues: config.queues.iter().map(|(k, q)| (k.to_string(), q.calendar.time_zone())).collect(),
            sites: config.sites.iter().map(|(code, (_, cal))| (code.clone(), cal.time_zone())).collect(),
            home: config.sites.values().next().map(|(_, cal)| cal.time_zone()),
        };
        let keys: Vec<(String, String)> = match grouping {
            BoardGrouping::Queue => config.queues.iter().map(|(k, q)| (k.to_string(), q.spec.name.clone())).collect(),
            BoardGrouping::Site => config.sites.iter().map(|(code, (s, _))| (code.clone(), s.name.clone())).collect(),
            BoardGrouping::Assignee => store::users::list(&self.pool)
                .await?
                .into_iter()
                .filter(|u| u.disabled_at.is_none() && u.role.allows(Permission::WorkExceptions))
                .map(|u| (u.username.to_string(), u.display_name))
                .collect(),
        };
        let week = board::week_start(now);
        let (opened, resolved) = store::board::counted_since(&self.pool, &board::day_starts(&zones, now)).await?;
        let inputs = BoardInputs {
            open: self.open_tallies(now).await?,
            opened,
            resolved,
            medians: self.week_medians(grouping, week).await?,
            earliest_breach: store::board::earliest_breaches(&self.pool, grouping, now).await?,
        };
        Ok(board::assemble(grouping, now, &keys, &zones, inputs))
    }

    /// Open exceptions per queue, site and person at `now`. Moves the
    /// tally clock up to `now` once it lags by a minute, so that what a
    /// reader adds to the tallies stays a minute's worth of turns.
    pub(super) async fn open_tallies(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<OpenTally>> {
        let (tallies, clock) = store::board::open_tallies(&self.pool, now).await?;
        if now - clock > TALLY_CLOCK_LAG {
            store::board::advance_tally_clock(&self.pool, now).await?;
        }
        Ok(tallies)
    }

    /// The week's medians per row, read again at most once a minute: they
    /// move slowly, and reading a week of work on every refresh of every
    /// board would cost more than the rest of the board. Once they are a
    /// minute old, a read answers them as they are and reads them again
    /// in the background, so no board waits for the week but the first.
    async fn week_medians(&self, grouping: BoardGrouping, since: DateTime<Utc>) -> anyhow::Result<Medians> {
        let cached = {
            let mut cache = self.board_medians.lock().unwrap_or_else(|p| p.into_inner());
            cache.get_mut(&grouping).map(|(at, medians)| {
                let stale = at.elapsed() >= MEDIANS_KEPT;
                if stale {
                    // Marked fresh at once, so that one reader refreshes them.
                    *at = std::time::Instant::now();
                }
                (stale, medians.clone())
            })
        };
        match cached {
            Some((stale, medians)) => {
                if stale {
                    let services = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = services.read_week_medians(grouping, since).await {
                            tracing::warn!(error = format!("{e:#}"), "the board's medians were not read again");
                        }
                    });
                }
                Ok(medians)
            }
            None => self.read_week_medians(grouping, since).await,
        }
    }

    /// Reads the week's medians and keeps them.
    async fn read_week_medians(&self, grouping: BoardGrouping, since: DateTime<Utc>) -> anyhow::Result<Medians> {
        let acknowledged = store::board::acknowledged_since(&self.pool, since).await?;
        let closed = store::board::closed_since(&self.pool, since).await?;
        let medians = board::medians(grouping, &acknowledged, &closed);
        let kept = (std::time::Instant::now(), medians.clone());
        self.board_medians.lock().unwrap_or_else(|p| p.into_inner()).insert(grouping, kept);
        Ok(medians)
    }

    /// Every board link, the newest first.
    pub async fn board_links(&self, _admin: &Admin) -> Result<Vec<BoardLink>, ServiceError> {
        let rows = store::board::links(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                Ok(BoardLink {
                    id: r.id,
                    grouping: r.grouping()?,
                    created_at: store::from_millis(r.created_at)?,
                    revoked_at: r.revoked_at.map(store::from_millis).transpose()?,
                    name: r.name,
                    created_by: r.created_by,
                    revoked_by: r.revoked_by,
                })
            })
            .collect::<anyhow::Result<_>>()
            .map_err(ServiceError::Internal)
    }

    /// Creates a read-only board link; answers its id and secret token
    /// (shown once: only its hash is kept).
    pub async fn create_board_link(
        &self,
        admin: &Admin,
        name: &str,
        grouping: BoardGrouping,
    ) -> Result<(i64, String), ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_LINK_NAME || !crossdock::text::is_one_line(name) {
            return Err(ServiceError::invalid(
                "name",
                format!("name the screen in 1 to {MAX_LINK_NAME} characters, without control characters"),
            ));
        }
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the system random source failed: {e}"))?;
        let token = format!("cdb_{}", URL_SAFE_NO_PAD.encode(bytes));
        let now = self.now();
        let by = admin.user().username.to_string();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let id = store::board::create_link(&mut tx, name, &key_hash(&token), grouping, &by, now).await?;
        let entry = AuditEntry::new(
            now,
            admin.user().actor(),
            AuditAction::BoardLinkCreated,
            Entity::BoardLink,
            id.to_string(),
        )
        .after(serde_json::json!({ "name": name, "grouping": grouping }));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit a board link")?;
        Ok((id, token))
    }

    /// Revokes a board link: its screen shows nothing from the next refresh.
    pub async fn revoke_board_link(&self, admin: &Admin, id: i64) -> Result<(), ServiceError> {
        let now = self.now();
        let by = admin.user().username.to_string();
        let mut tx = store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let link = store::board::link(&mut tx, id).await?.ok_or_else(|| ServiceError::NotFound("board link".into()))?;
        if !store::board::revoke_link(&mut tx, id, &by, now).await? {
            return Err(ServiceError::Conflict(format!("the link for {} was revoked already", link.name)));
        }
        let entry = AuditEntry::new(
            now,
            admin.user().actor(),
            AuditAction::BoardLinkRevoked,
            Entity::BoardLink,
            id.to_string(),
        )
        .before(serde_json::json!({ "name": link.name, "grouping": link.grouping }));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit a revocation")?;
        Ok(())
    }
}
