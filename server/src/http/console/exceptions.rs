//! Queue views, one exception, actions, bulk actions and saved views.

use crossdock::ExceptionId;
use crossdock::audit::TimelineEntry;
use crossdock::triage::{BulkJob, Cursor, QueueCounts, QueueFilter, QueuePage, TriageAction};
use crossdock_app::AppError;
use crossdock_app::dto::{AssigneeOption, BulkTarget, ExceptionDetailView, MovePreviewView, SavedViewEntry};
use crossdock_app::ports::ExceptionsPort;

use super::{ConsoleServices, answer};
use crate::auth::CurrentUser;
use crate::services::{Detail, MAX_BULK, ServiceError};

fn filter(query: &str) -> Result<QueueFilter, AppError> {
    QueueFilter::parse_query(query).map_err(|_| AppError::invalid("query", "not a view"))
}

fn detail_view(d: Detail, me: &CurrentUser) -> ExceptionDetailView {
    let e = d.exception;
    let offered = crossdock::triage::offered(e.item.status, e.item.assignee.as_deref(), &me.username, me.role);
    ExceptionDetailView {
        event: e.event.as_ref().and_then(|v| crossdock::event::parse_stored(v).ok()),
        payload: serde_json::to_string_pretty(&e.payload).unwrap_or_default(),
        item: e.item,
        acknowledge: e.acknowledge,
        resolve: e.resolve,
        policy: d.policy,
        correlation_id: e.correlation_id,
        occurrences: d.occurrences,
        timeline: d.timeline.iter().map(TimelineEntry::of).collect(),
        offered,
        calendar: d.calendar,
        zone: d.zone,
        waiting_since: d.waiting_since,
        transaction: d.transaction.map(|s| crossdock_app::dto::TransactionStrip {
            id: s.id,
            name: s.name,
            progress: s.progress,
        }),
    }
}

#[async_trait::async_trait]
impl ExceptionsPort for ConsoleServices {
    async fn queue_page(&self, filter: QueueFilter, after: Option<Cursor>) -> Result<QueuePage, AppError> {
        answer(async { Ok(self.services.queue_page(&self.as_viewer().await?, &filter, after).await?) }).await
    }

    async fn queue_counts(&self) -> Result<QueueCounts, AppError> {
        answer(async { Ok(self.services.queue_counts(&self.as_viewer().await?).await?) }).await
    }

    async fn exception_detail(&self, id: i64) -> Result<ExceptionDetailView, AppError> {
        answer(async {
            let viewer = self.as_viewer().await?;
            let detail = self.services.exception_detail(&viewer, ExceptionId::new(id)).await?;
            Ok(detail_view(detail, viewer.user()))
        })
        .await
    }

    async fn preview_move(&self, id: i64, queue: String) -> Result<MovePreviewView, AppError> {
        answer(async {
            let p = self.services.preview_move(&self.as_viewer().await?, ExceptionId::new(id), &queue).await?;
            Ok(MovePreviewView { from: p.from, to: p.to, before: p.before, after: p.after, calendar: p.calendar })
        })
        .await
    }

    async fn act(&self, id: i64, seen: Option<i64>, action: TriageAction) -> Result<i64, AppError> {
        answer(async {
            let worker = self.as_worker().await?;
            let acted = self.services.act(&worker, ExceptionId::new(id), seen, &action).await;
            Ok(acted.map_err(ServiceError::from)?.version())
        })
        .await
    }

    async fn assignees(&self) -> Result<Vec<AssigneeOption>, AppError> {
        answer(async {
            let people = self.services.assignable_users(&self.as_viewer().await?).await?;
            Ok(people
                .into_iter()
                .map(|a| AssigneeOption {
                    username: a.username,
                    display_name: a.display_name,
                    role: a.role,
                    queues: a.queues,
                })
                .collect())
        })
        .await
    }

    async fn bulk_preview(&self, target: BulkTarget) -> Result<i64, AppError> {
        answer(async {
            let worker = self.as_worker().await?;
            match target {
                BulkTarget::Selected { ids } => Ok(ids.len() as i64),
                BulkTarget::View { query } => Ok(self.services.view_count(&worker.viewer(), &filter(&query)?).await?),
            }
        })
        .await
    }

    async fn start_bulk(&self, target: BulkTarget, action: TriageAction) -> Result<i64, AppError> {
        answer(async {
            let worker = self.as_worker().await?;
            let ids = match target {
                BulkTarget::Selected { ids } => ids.into_iter().map(ExceptionId::new).collect(),
                BulkTarget::View { query } => {
                    self.services.view_ids(&worker.viewer(), &filter(&query)?, MAX_BULK + 1).await?
                }
            };
            Ok(self.services.start_bulk(&worker, &ids, &action).await?)
        })
        .await
    }

    async fn bulk_status(&self, job: i64) -> Result<BulkJob, AppError> {
        answer(async { Ok(self.services.bulk_status(&self.as_viewer().await?, job).await?) }).await
    }

    async fn list_views(&self) -> Result<Vec<SavedViewEntry>, AppError> {
        answer(async {
            let views = self.services.list_views(&self.as_viewer().await?).await?;
            Ok(views
                .into_iter()
                .map(|v| SavedViewEntry { id: v.id, name: v.name, team: v.team, query: v.query, mine: v.mine })
                .collect())
        })
        .await
    }

    async fn save_view(&self, name: String, query: String, team: Option<String>) -> Result<i64, AppError> {
        answer(async {
            let viewer = self.as_viewer().await?;
            let team = team.as_deref().map(str::trim).filter(|t| !t.is_empty());
            let publisher =
                match team {
                    Some(_) => Some(viewer.publisher().map_err(|_| {
                        AppError::Forbidden("only supervisors and admins share a view with a team".into())
                    })?),
                    None => None,
                };
            let share = publisher.as_ref().zip(team);
            Ok(self.services.save_view(&viewer, &name, &query, share).await?)
        })
        .await
    }

    async fn delete_view(&self, id: i64) -> Result<(), AppError> {
        answer(async { Ok(self.services.delete_view(&self.as_viewer().await?, id).await?) }).await
    }
}
