//! The demo's replay target: a small HTTP service standing in for the
//! carrier gateway, the ERP and the WMS, so that a newcomer can replay a
//! failed message and watch it go through. Carrier and WMS messages are
//! accepted at once; the ERP is busy (503) the first time it sees a message
//! and accepts it when it comes again.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;

/// The idempotency keys the ERP has turned away once.
type Seen = Arc<Mutex<HashSet<String>>>;

async fn receive(State(seen): State<Seen>, Path(system): Path<String>, headers: HeaderMap) -> impl IntoResponse {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if system == "erp" {
        let first = seen.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone());
        if first {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "2")],
                "{\"error\":\"ERP busy, try again\"}".to_owned(),
            );
        }
    }
    tracing::info!(system, key, "demo target accepted a replay");
    (StatusCode::OK, [("retry-after", "0")], format!("{{\"accepted\":true,\"system\":\"{system}\"}}"))
}

/// Serves the demo target on `listen` until the process is stopped.
pub async fn serve(
    listen: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = Router::new().route("/{system}", post(receive)).with_state(Seen::default());
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, "demo replay target is listening");
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.context("the demo target failed")
}
