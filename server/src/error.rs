//! Errors of the HTTP API, answered as RFC 9457 problem details.

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

/// Errors of the HTTP API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a value in the request was refused.
    #[error("{message}")]
    Invalid { pointer: String, message: String },
    /// 400: several values were refused.
    #[error("invalid input")]
    Problems(Vec<ProblemItem>),
    /// 404: the thing named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 409: the thing changed since the caller saw it.
    #[error("{0}")]
    Conflict(String),
    /// 503: the service cannot answer now.
    #[error("service unavailable")]
    Unavailable,
    /// 500: logged with its cause; the client sees only that it happened.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid { field, message } => ApiError::Invalid { pointer: format!("/{field}"), message },
            ServiceError::Problems(problems) => ApiError::Problems(
                problems.into_iter().map(|p| ProblemItem { pointer: p.pointer, detail: p.message }).collect(),
            ),
            ServiceError::NotFound(what) => ApiError::NotFound(what),
            ServiceError::Forbidden(why) => ApiError::Forbidden(why),
            ServiceError::Conflict(why) => ApiError::Conflict(why),
            ServiceError::Overloaded => ApiError::Unavailable,
            ServiceError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Invalid { pointer, message } => {
                Problem::new(StatusCode::BAD_REQUEST, "/problems/invalid-input", "Invalid input")
                    .detail(message)
                    .pointer(pointer)
                    .into_response()
            }
            ApiError::Problems(errors) => {
                Problem::new(StatusCode::BAD_REQUEST, "/problems/invalid-input", "Invalid input")
                    .detail(errors.first().map(|e| e.detail.clone()).unwrap_or_default())
                    .errors(errors)
                    .into_response()
            }
            ApiError::NotFound(what) => Problem::new(StatusCode::NOT_FOUND, "/problems/not-found", "Not found")
                .detail(format!("{what} not found"))
                .into_response(),
            ApiError::Forbidden(why) => {
                Problem::new(StatusCode::FORBIDDEN, "/problems/forbidden", "Forbidden").detail(why).into_response()
            }
            ApiError::Conflict(why) => Problem::new(StatusCode::CONFLICT, "/problems/conflict", "Changed meanwhile")
                .detail(why)
                .into_response(),
            ApiError::Unavailable => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "/problems/unavailable", "Service unavailable")
                    .into_response()
            }
            ApiError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "/problems/internal", "Internal error")
                    .detail("The error has been logged.")
                    .into_response()
            }
        }
    }
}
