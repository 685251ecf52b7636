//! Saved queue views: for oneself, or for a whole team.

use anyhow::Context;
use chrono::Utc;
use crossdock::audit::{AuditAction, AuditEntry, Entity};
use crossdock::triage::QueueFilter;

use super::{ServiceError, Services};
use crate::auth::{CurrentUser, Publisher, Viewer};
use crate::store::views::ViewRow;
use crate::store::{self};

/// A view as its users see it.
#[derive(Debug, Clone)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The team it is shared with; `None` for one's own.
    pub team: Option<String>,
    pub query: String,
    pub mine: bool,
}

impl Services {
    /// The teams a person belongs to: the teams owning their queues; every
    /// team for roles that see every queue.
    fn teams_of(&self, user: &CurrentUser) -> Vec<String> {
        let config = self.configuration();
        let mut teams: Vec<String> = config
            .queues
            .values()
            .filter(|q| !user.role.limited_to_member_queues() || user.queues.contains(&q.key))
            .map(|q| q.spec.team.clone())
            .collect();
        teams.sort();
        teams.dedup();
        teams
    }

    pub async fn list_views(&self, viewer: &Viewer) -> Result<Vec<SavedView>, ServiceError> {
        let user = viewer.user();
        let teams = self.teams_of(user);
        let rows = store::views::list(&self.pool, user.id.0).await?;
        Ok(rows
            .into_iter()
            .filter(|r| r.owner == Some(user.id.0) || r.team.as_ref().is_some_and(|t| teams.contains(t)))
            .map(|r: ViewRow| SavedView {
                mine: r.created_by == user.id.0,
                id: r.id,
                name: r.name,
                team: r.team,
                query: r.query,
            })
            .collect())
    }

    /// Saves the current filters under a name, for oneself, or (a publisher)
    /// for a team one belongs to. Audited.
    pub async fn save_view(
        &self,
        viewer: &Viewer,
        name: &str,
        query: &str,
        share: Option<(&Publisher, &str)>,
    ) -> Result<i64, ServiceError> {
        let user = viewer.user();
        let team = share.map(|(_, team)| team);
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 || !crossdock::text::is_one_line(name) {
            return Err(ServiceError::invalid("name", "a view name is 1 to 80 characters, without control characters"));
        }
        let filter = QueueFilter::parse_query(query).map_err(|p| {
            ServiceError::invalid(
                "query",
                p.first().map(|p| format!("{}: {}", p.pointer, p.message)).unwrap_or_default(),
            )
        })?;
        let team = team.map(str::trim).filter(|t| !t.is_empty());
        if let Some(team) = team
            && !self.teams_of(user).iter().any(|t| t == team)
        {
            return Err(ServiceError::invalid("team", format!("you are not in team {team}")));
        }
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let owner = if team.is_some() { None } else { Some(user.id.0) };
        let now = Utc::now();
        let query = filter.to_query();
        let id = store::views::insert(&mut tx, name, owner, team, &query, user.id.0, now)
            .await?
            .ok_or_else(|| ServiceError::invalid("name", "a view with this name exists already"))?;
        let entry = AuditEntry::new(now, user.actor(), AuditAction::ViewSaved, Entity::View, id.to_string())
            .after(serde_json::json!({"name": name, "query": query, "team": team}));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit the view")?;
        Ok(id)
    }

    /// Deletes a view: one's own, one one created for a team, or any as admin.
    pub async fn delete_view(&self, viewer: &Viewer, id: i64) -> Result<(), ServiceError> {
        let user = viewer.user();
        let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
        let row =
            store::views::by_id(&mut tx, id).await?.ok_or_else(|| ServiceError::NotFound(format!("view {id}")))?;
        if row.created_by != user.id.0 && user.admin().is_err() {
            return Err(ServiceError::Forbidden("only whoever saved a view (or an admin) deletes it".into()));
        }
        store::views::delete(&mut tx, id).await?;
        let entry = AuditEntry::new(Utc::now(), user.actor(), AuditAction::ViewDeleted, Entity::View, id.to_string())
            .before(serde_json::json!({"name": row.name, "query": row.query, "team": row.team}));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit")?;
        Ok(())
    }
}
