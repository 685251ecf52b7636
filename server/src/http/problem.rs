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
            ServiceError::OverBurst { events, burst } => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "/problems/over-burst", "Batch over the burst")
                    .detail(format!(
                        "the batch holds {events} events; this source may send at most {burst} at once: split it"
                    ))
                    .into_response()
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

/// Every error answer under `/api/` is a problem document: the router's own
/// 404 and 405 and any other error that left without one get one here, with
/// their status and headers (`Allow`, `Retry-After`) kept.
pub async fn api_errors_are_problems(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let under_api = path == "/api" || path.starts_with("/api/");
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if !under_api || is_problem || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let title = status.canonical_reason().unwrap_or("Error");
    let problem = match status {
        StatusCode::NOT_FOUND => {
            Problem::new(status, "/problems/not-found", "Not found").detail(format!("there is nothing at {path}"))
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = response.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or("");
            Problem::new(status, "/problems/method-not-allowed", "Method not allowed")
                .detail(format!("{method} is not allowed on {path}; allowed: {allowed}"))
        }
        _ => Problem::new(status, "/problems/http", title),
    };
    let mut answer = problem.into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = response.headers().get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

/// A handler that panicked: logged, and answered as a 500 problem instead of
/// a dropped connection.
pub fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "/problems/internal", "Internal error")
        .detail("the server failed on this request; it has been logged")
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_http::catch_panic::CatchPanicLayer;

    use super::*;

    async fn boom() -> &'static str {
        panic!("a defect")
    }

    #[tokio::test]
    async fn a_handler_that_panics_is_answered_with_a_500_problem() {
        let app = Router::new().route("/api/boom", get(boom)).layer(CatchPanicLayer::custom(panicked));
        let answer = app.oneshot(Request::get("/api/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/problem+json");
    }
}
