//! HTTP: the API routers, the console, and the layers around them.

mod audit_export;
mod console;
mod health;
pub mod ingest;
mod live;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod serve;
pub mod session;
mod test_clock;

use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderName, Request};
use axum::middleware;
use crossdock_app::{App, shell};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::services::Services;
use session::SessionSettings;

/// The state every handler may extract from.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub sessions: SessionSettings,
    pub metrics: metrics::MetricsToken,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API routes, the console pages and server functions,
/// static files, sessions, the same-origin guard, and the request-id,
/// tracing, panic and body-timeout layers.
pub fn router(state: AppState, read_timeout: std::time::Duration) -> Router {
    let console = console::console(state.services.clone(), state.sessions.clone());
    let context = move || provide_context(console.clone());
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let sessions = session::layer(state.services.pool().clone(), &state.sessions);

    let test_clock = if state.services.clock().is_adjustable() { test_clock::router() } else { Router::new() };
    Router::new()
        .merge(health::router())
        .merge(test_clock)
        .merge(ingest::router())
        .merge(openapi::router())
        .merge(metrics::router())
        .merge(audit_export::router())
        .merge(live::router())
        .leptos_routes_with_context(&state, routes, context.clone(), move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(middleware::from_fn(metrics::count_requests))
        .layer(middleware::from_fn(session::no_store))
        .layer(middleware::from_fn(session::bad_arguments_are_bad_requests))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(state.sessions.clone(), session::same_origin_only))
        .layer(middleware::from_fn(problem::api_errors_are_problems))
        .layer(CatchPanicLayer::custom(problem::panicked))
        .layer(RequestBodyTimeoutLayer::new(read_timeout))
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %logged_path(request.uri().path()),
                request_id,
            )
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// A path as logs may show it: a screen link's secret token is left out.
fn logged_path(path: &str) -> &str {
    if path.starts_with("/wall/") { "/wall/{token}" } else { path }
}
