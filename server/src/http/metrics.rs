//! `GET /metrics` in the Prometheus text format, when a bearer token is
//! configured (off otherwise); and the layer that counts HTTP requests by
//! route and status.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret;

use super::AppState;
use super::problem::Problem;
use crate::metrics as m;
use crate::services::Services;

/// The token scrapers send; none turns `/metrics` off.
#[derive(Clone, Default)]
pub struct MetricsToken(pub Option<secrecy::SecretString>);

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// Constant-time comparison, so the token cannot be guessed byte by byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn scrape(State(token): State<MetricsToken>, State(services): State<Services>, request: Request) -> Response {
    let Some(expected) = token.0 else {
        return Problem::new(StatusCode::NOT_FOUND, "/problems/not-found", "Not found")
            .detail("metrics are off: set CROSSDOCK_METRICS_TOKEN to turn them on")
            .into_response();
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same(given.as_bytes(), expected.expose_secret().as_bytes()) {
        return Problem::new(StatusCode::UNAUTHORIZED, "/problems/unauthorized", "Unauthorized")
            .detail("send the metrics token as a bearer token")
            .into_response();
    }
    let Some(handle) = m::handle() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    if let Err(err) = services.measure().await {
        tracing::error!(error = format!("{err:#}"), "reading the gauges failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// Counts every request by the route that matched (not the path, so ids do
/// not make new series), method and status, and times it.
pub async fn count_requests(request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(m::HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status).increment(1);
    metrics::histogram!(m::HTTP_SECONDS, "route" => route).record(started.elapsed().as_secs_f64());
    response
}
