//! `GET /audit/export?format=csv|jsonl&<filter>`: the records an auditor's
//! filter holds, streamed a chunk at a time (memory stays flat whatever the
//! size), each row with its sequence number and hashes so that it can be
//! checked outside (`crossdock audit verify --file`).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use crossdock::audit::chain::SealedRecord;
use crossdock::audit::query::{AuditFilter, ExportFormat, ExportRow};
use tower_sessions::Session;

use super::AppState;
use super::problem::Problem;
use super::session;
use crate::services::ServiceError;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit/export", get(export))
}

/// The columns of a CSV export, in order.
pub const CSV_COLUMNS: [&str; 11] =
    ["seq", "at", "actor", "action", "entity", "entity_id", "before", "after", "reason", "prev_hash", "hash"];

fn refused(status: StatusCode, kind: &'static str, title: &'static str, detail: impl Into<String>) -> Response {
    Problem::new(status, kind, title).detail(detail).into_response()
}

async fn export(State(state): State<AppState>, session: Session, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let user = match session::signed_in(&session, &state.services, &state.sessions).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return refused(StatusCode::UNAUTHORIZED, "/problems/unauthorized", "Unauthorized", "sign in first");
        }
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "reading a session failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Ok(reader) = user.audit_reader() else {
        return refused(
            StatusCode::FORBIDDEN,
            "/problems/forbidden",
            "Forbidden",
            "only auditors and admins export the trail",
        );
    };
    let format = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "format").map(|(_, v)| v.into_owned());
    let Some(format) = format.and_then(|f| f.parse::<ExportFormat>().ok()) else {
        return refused(StatusCode::BAD_REQUEST, "/problems/invalid-input", "Invalid input", "format is csv or jsonl");
    };
    let filter = match AuditFilter::parse_query(&query) {
        Ok(filter) => filter,
        Err(problems) => {
            let detail = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            return refused(StatusCode::BAD_REQUEST, "/problems/invalid-input", "Invalid input", detail);
        }
    };
    let export = match state.services.start_audit_export(&reader, &filter, format).await {
        Ok(export) => export,
        Err(ServiceError::Internal(err)) => {
            tracing::error!(error = format!("{err:#}"), "starting an export failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Err(err) => {
            return refused(StatusCode::BAD_REQUEST, "/problems/invalid-input", "Invalid input", err.to_string());
        }
    };
    let name = format!("audit-through-{}.{}", export.through, format.as_str());
    let content_type = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::JsonLines => "application/jsonl; charset=utf-8",
    };
    let rows = export.rows;
    let stream = futures::stream::try_unfold(Some((export, None::<i64>, true)), move |at| async move {
        let Some((export, after, first)) = at else { return Ok(None) };
        let chunk = export.next_chunk(after).await.map_err(std::io::Error::other)?;
        let mut out = Vec::new();
        if first && format == ExportFormat::Csv {
            out.extend(csv_line(CSV_COLUMNS.iter().map(|c| (*c).to_owned()))?);
        }
        let Some(last) = chunk.last().map(|r| r.record.id) else {
            return Ok(if out.is_empty() { None } else { Some((Bytes::from(out), None)) });
        };
        for record in &chunk {
            out.extend(encode(format, record)?);
        }
        Ok::<_, std::io::Error>(Some((Bytes::from(out), Some((export, Some(last), false)))))
    });
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::HeaderName::from_static("x-audit-rows"), rows.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

fn csv_line(fields: impl IntoIterator<Item = String>) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields).map_err(std::io::Error::other)?;
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

fn encode(format: ExportFormat, record: &SealedRecord) -> std::io::Result<Vec<u8>> {
    let row = ExportRow::from(record);
    match format {
        ExportFormat::JsonLines => {
            let mut line = serde_json::to_vec(&row).map_err(std::io::Error::other)?;
            line.push(b'\n');
            Ok(line)
        }
        ExportFormat::Csv => {
            let json = |v: &Option<serde_json::Value>| v.as_ref().map(ToString::to_string).unwrap_or_default();
            csv_line([
                row.seq.to_string(),
                row.at.clone(),
                row.actor.clone(),
                row.action.clone(),
                row.entity.clone(),
                row.entity_id.clone(),
                json(&row.before),
                json(&row.after),
                row.reason.clone().unwrap_or_default(),
                row.prev_hash.clone(),
                row.hash.clone(),
            ])
        }
    }
}
