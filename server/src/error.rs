//! Errors of the HTTP API, answered as RFC 9457 problem details.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::services::ServiceError;

/// An RFC 9457 problem details document.
#[derive(Debug, Clone, Serialize)]
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
}

impl Problem {
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str) -> Self {
        Self {
            kind,
            title,
            status: status.as_u16(),
            detail: None,
            pointer: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// Errors of the HTTP API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a value in the request was refused.
    #[error("{message}")]
    Invalid { pointer: String, message: String },
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
            ServiceError::Invalid { field, message } => ApiError::Invalid {
                pointer: format!("/{field}"),
                message,
            },
            ServiceError::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Invalid { pointer, message } => Problem::new(
                StatusCode::BAD_REQUEST,
                "/problems/invalid-input",
                "Invalid input",
            )
            .detail(message)
            .pointer(pointer)
            .into_response(),
            ApiError::Unavailable => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "/problems/unavailable",
                "Service unavailable",
            )
            .into_response(),
            ApiError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "/problems/internal",
                    "Internal error",
                )
                .detail("The error has been logged.")
                .into_response()
            }
        }
    }
}
