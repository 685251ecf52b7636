//! How the HTTP API answers errors: RFC 9457 problem details.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::services::ServiceError;

/// One problem of several, at the JSON pointer of the field concerned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemItem {
    pub pointer: String,
    pub detail: String,
}

/// An RFC 9457 problem details document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// JSON pointer of the offending field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Every problem, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemItem>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str) -> Self {
        Self { kind, title, status: status.as_u16(), detail: None, pointer: None, errors: Vec::new() }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    pub fn errors(mut self, errors: Vec<ProblemItem>) -> Self {
        self.errors = errors;
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

/// A use case's refusal as the API answers it.
impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        match self {
            ServiceError::Invalid { field, message } => {
                Problem::new(StatusCode::BAD_REQUEST, "/problems/invalid-input", "Invalid input")
                    .detail(message)
                    .pointer(format!("/{field}"))
                    .into_response()
            }
            ServiceError::Problems(problems) => {
                let errors: Vec<ProblemItem> =
                    problems.into_iter().map(|p| ProblemItem { pointer: p.pointer, detail: p.message }).collect();
                Problem::new(StatusCode::BAD_REQUEST, "/problems/invalid-input", "Invalid input")
                    .detail(errors.first().map(|e| e.detail.clone()).unwrap_or_default())
                    .errors(errors)
                    .into_response()
            }
            ServiceError::NotFound(what) => Problem::new(StatusCode::NOT_FOUND, "/problems/not-found", "Not found")
                .detail(format!("{what} not found"))
                .into_response(),
            ServiceError::Forbidden(why) => {
                Problem::new(StatusCode::FORBIDDEN, "/problems/forbidden", "Forbidden").detail(why).into_response()
            }
            ServiceError::Conflict(why) => {
                Problem::new(StatusCode::CONFLICT, "/problems/conflict", "Changed meanwhile")
                    .detail(why)
                    .into_response()
            }
            ServiceError::Throttled(wait) => {
                let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
                let response = Problem::new(StatusCode::TOO_MANY_REQUESTS, "/problems/throttled", "Too many events")
                    .detail(format!("the source is over its allowance; try again in {seconds} s"))
                    .into_response();
                retry_after(response, seconds)
            }
            ServiceError::Overloaded => {
                let response = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "/problems/overloaded", "Busy")
                    .detail("the server is committing as fast as it can; try again shortly")
                    .into_response();
                retry_after(response, 1)
            }
            ServiceError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "/problems/internal", "Internal error")
                    .detail("The error has been logged.")
                    .into_response()
            }
        }
    }
}

/// Adds a `Retry-After` of at least one second.
pub fn retry_after(mut response: Response, seconds: u64) -> Response {
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}
