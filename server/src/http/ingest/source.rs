//! The source an ingest request comes from: its API key is valid, its body
//! was read within the limit, and, when the source signs, the signature
//! matches the body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::Mode;
use crate::http::AppState;
use crate::http::problem::Problem;
use crate::services::ingest::signature;
use crate::services::{AuthError, AuthenticatedSource, ServiceError, Services};

/// An ingest request from an authenticated source.
pub struct SourceRequest {
    pub source: Arc<AuthenticatedSource>,
    pub mode: Mode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub received_at: DateTime<Utc>,
}

fn problem(status: StatusCode, kind: &'static str, title: &'static str, detail: String) -> Response {
    Problem::new(status, kind, title).detail(detail).into_response()
}

fn unauthorized(detail: String) -> Response {
    let mut response = problem(StatusCode::UNAUTHORIZED, "/problems/unauthorized", "Unauthorized", detail);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn too_large(limit: usize) -> Response {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "/problems/too-large",
        "Request too large",
        format!("the body is over {limit} bytes"),
    )
}

pub fn bad_request(pointer: &str, detail: String) -> Response {
    Problem::new(StatusCode::BAD_REQUEST, "/problems/invalid-request", "Invalid request")
        .detail(detail)
        .pointer(pointer)
        .into_response()
}

impl FromRequest<AppState> for SourceRequest {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let services = Services::from_ref(state);
        let received_at = Utc::now();
        let (parts, body) = request.into_parts();
        let headers = parts.headers;
        let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let source = match services.authenticate_source(authorization).await {
            Ok(source) => source,
            Err(AuthError::Internal(err)) => return Err(ServiceError::Internal(err).into_response()),
            Err(err) => return Err(unauthorized(err.to_string())),
        };
        let Some(mode) = Mode::of(&headers) else {
            return Err(problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "/problems/unsupported-media-type",
                "Unsupported media type",
                "send application/cloudevents+json, application/cloudevents-batch+json or application/json".into(),
            ));
        };
        let limit = services.ingest_settings().max_body_bytes;
        let declared =
            headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large(limit));
        }
        let body = match axum::body::to_bytes(axum::body::Body::new(body), limit).await {
            Ok(bytes) => bytes,
            Err(err) => {
                let over = std::error::Error::source(&err).is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
                return Err(if over {
                    too_large(limit)
                } else {
                    bad_request("", "the request body could not be read".into())
                });
            }
        };
        if !source.secrets.is_empty() {
            let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let checked = signature::verify(
                &source.secrets,
                get("webhook-id"),
                get("webhook-timestamp"),
                get("webhook-signature"),
                &body,
                received_at,
            );
            if let Err(err) = checked {
                return Err(unauthorized(err.to_string()));
            }
        }
        Ok(SourceRequest { source, mode, headers, body, received_at })
    }
}
