//! Server functions over exceptions: queue views, details, actions, bulk
//! actions and saved views.

use crossdock::triage::{BulkJob, QueueCounts, QueuePage, TriageAction};
use leptos::prelude::*;

use crate::serverfns::codec::Answer;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::dto::{AssigneeOption, BulkTarget, ExceptionDetailView, MovePreviewView, SavedViewEntry};
/// Reads the filters of a view from its URL query string.
#[cfg(feature = "ssr")]
fn filter(query: &str) -> Result<crossdock::triage::QueueFilter, AppError> {
    use crate::error::FieldError;
    use crossdock::triage::QueueFilter;
    QueueFilter::parse_query(query).map_err(|problems| {
        let fields = problems.into_iter().map(|p| FieldError { field: p.pointer, message: p.message }).collect();
        crate::ports::with_status(AppError::Fields(fields))
    })
}

/// One page of the view whose filters are `query` (a URL query string),
/// after the cursor `after` when given.
#[server(prefix = "/console", endpoint = "queue_page", output = Answer)]
pub async fn fetch_queue_page(query: String, after: Option<String>) -> Result<QueuePage, AppError> {
    let after = match after.filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(
            crossdock::triage::Cursor::parse(&a)
                .ok_or_else(|| crate::ports::with_status(AppError::invalid("after", "not a page cursor")))?,
        ),
    };
    crate::ports::console()?.queue_page(filter(&query)?, after).await
}

#[server(prefix = "/console", endpoint = "queue_counts", output = Answer)]
pub async fn fetch_queue_counts() -> Result<QueueCounts, AppError> {
    crate::ports::console()?.queue_counts().await
}

#[server(prefix = "/console", endpoint = "exception_detail", output = Answer)]
pub async fn exception_detail(id: i64) -> Result<ExceptionDetailView, AppError> {
    crate::ports::console()?.exception_detail(id).await
}

/// Takes an action on an exception last seen at version `seen`.
#[server(prefix = "/console", endpoint = "act", input = Json, output = Answer)]
pub async fn act(id: i64, seen: Option<i64>, action: TriageAction) -> Result<i64, AppError> {
    crate::ports::console()?.act(id, seen, action).await
}

/// What moving an exception to `queue` would do to its SLA deadlines.
#[server(prefix = "/console", endpoint = "preview_move", output = Answer)]
pub async fn preview_move(id: i64, queue: String) -> Result<MovePreviewView, AppError> {
    crate::ports::console()?.preview_move(id, queue).await
}

#[server(prefix = "/console", endpoint = "assignees", output = Answer)]
pub async fn assignees() -> Result<Vec<AssigneeOption>, AppError> {
    crate::ports::console()?.assignees().await
}

#[server(prefix = "/console", endpoint = "bulk_preview", input = Json, output = Answer)]
pub async fn bulk_preview(target: BulkTarget) -> Result<i64, AppError> {
    if let BulkTarget::View { query } = &target {
        filter(query)?;
    }
    crate::ports::console()?.bulk_preview(target).await
}

#[server(prefix = "/console", endpoint = "start_bulk", input = Json, output = Answer)]
pub async fn start_bulk(target: BulkTarget, action: TriageAction) -> Result<i64, AppError> {
    if let BulkTarget::View { query } = &target {
        filter(query)?;
    }
    crate::ports::console()?.start_bulk(target, action).await
}

#[server(prefix = "/console", endpoint = "bulk_status", output = Answer)]
pub async fn bulk_status(job: i64) -> Result<BulkJob, AppError> {
    crate::ports::console()?.bulk_status(job).await
}

#[server(prefix = "/console", endpoint = "list_views", output = Answer)]
pub async fn list_views() -> Result<Vec<SavedViewEntry>, AppError> {
    crate::ports::console()?.list_views().await
}

#[server(prefix = "/console", endpoint = "save_view", output = Answer)]
pub async fn save_view(name: String, query: String, team: Option<String>) -> Result<i64, AppError> {
    crate::ports::console()?.save_view(name, query, team).await
}

#[server(prefix = "/console", endpoint = "delete_view", output = Answer)]
pub async fn delete_view(id: i64) -> Result<(), AppError> {
    crate::ports::console()?.delete_view(id).await
}
