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
    /// Events of the source's allowance this request was charged already.
    pub charged: usize,
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

/// Reads up to `most` bytes of a body and drops them.
async fn drain(mut body: axum::body::Body, most: usize) {
    use http_body_util::BodyExt;
    let mut read = 0;
    while read < most {
        match body.frame().await {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len()),
            _ => break,
        }
    }
}

/// Whether an error, or one of its causes, is a `T`.
fn caused_by<T: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if e.is::<T>() {
            return true;
        }
        cause = e.source();
    }
    false
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
        if let Some(declared) = declared.filter(|n| *n > limit) {
            // A body a little over the limit is read and dropped first, so
            // that its sender, still writing it, reads the answer rather
            // than a closed connection; a far larger one is refused at once.
            if declared <= limit.saturating_mul(2) {
                drain(axum::body::Body::new(body), declared).await;
            }
            return Err(too_large(limit));
        }
        let body = match axum::body::to_bytes(axum::body::Body::new(body), limit).await {
            Ok(bytes) => bytes,
            Err(err) => {
                return Err(if caused_by::<http_body_util::LengthLimitError>(&err) {
                    too_large(limit)
                } else if caused_by::<tower_http::timeout::TimeoutError>(&err) {
                    problem(
                        StatusCode::REQUEST_TIMEOUT,
                        "/problems/timeout",
                        "Request timeout",
                        "the body stalled longer than the read timeout".into(),
                    )
                } else {
                    bad_request("", "the request body could not be read".into())
                });
            }
        };
        let mut charged = 0;
        if source.signs {
            let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            let signed = signature::Signed {
                id: get("webhook-id"),
                timestamp: get("webhook-timestamp"),
                signatures: get("webhook-signature"),
                body: &body,
                carried: signature::digest(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())), &body),
            };
            match services.verify_signed(&source, &signed, received_at) {
                Ok(()) => charged = 1,
                Err(signature::SignatureError::Throttled(wait)) => {
                    return Err(ServiceError::Throttled(wait).into_response());
                }
                Err(err) => return Err(unauthorized(err.to_string())),
            }
        }
        Ok(SourceRequest { source, mode, headers, body, received_at, charged })
    }
}
