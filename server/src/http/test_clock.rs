//! For end-to-end tests only, and only on a server started with
//! `--test-clock`: moves the services' clock forward (or back), so that SLA deadlines
//! pass in seconds. A server without it has no such route.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::AppState;
use super::problem::Problem;
use crate::services::Services;

#[derive(Deserialize)]
struct Advance {
    /// Seconds to move: up to 30 days' worth either way (a spec that moved
    /// it forward moves it back when it ends).
    advance_seconds: i64,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/test/clock", post(advance))
}

async fn advance(
    State(services): State<Services>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<Advance>,
) -> Response {
    // Only the machine the server runs on: tests run beside it.
    if !peer.ip().is_loopback() {
        return Problem::new(StatusCode::FORBIDDEN, "/problems/forbidden", "Forbidden")
            .detail("the test clock answers only the server's own machine")
            .into_response();
    }
    if body.advance_seconds == 0 || body.advance_seconds.abs() > 30 * 86_400 {
        return Problem::new(StatusCode::BAD_REQUEST, "/problems/invalid-input", "Invalid clock step")
            .detail("advance_seconds must be between -2592000 and 2592000, and not 0")
            .into_response();
    }
    services.clock().advance(chrono::Duration::seconds(body.advance_seconds));
    tracing::warn!(seconds = body.advance_seconds, now = %services.now(), "the test clock was moved");
    Json(serde_json::json!({ "now": services.now() })).into_response()
}
