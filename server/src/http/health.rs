//! Liveness and readiness.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::services::{ServiceError, Services};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// Answers as long as the process serves requests.
async fn healthz() -> &'static str {
    "ok"
}

/// Answers only when the database is reachable and fully migrated.
async fn readyz(State(services): State<Services>) -> Response {
    if services.is_ready().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        ServiceError::Overloaded.into_response()
    }
}
