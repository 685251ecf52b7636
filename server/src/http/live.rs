//! `GET /console/changes`: a stream of server-sent events telling a signed-in
//! console that what it shows may have changed, through this instance or
//! another. Each event is `change` with the instance's count of changes;
//! events come at most every two seconds, however busy the database.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_sessions::Session;

use super::AppState;
use super::problem::Problem;
use super::session;
use crate::services::live::Pulse;

/// The least time between two events of one stream: a console reads again
/// at most this often, however busy the database.
const AT_MOST_EVERY: Duration = Duration::from_secs(2);
/// How long a browser waits before it connects again.
const RETRY: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new().route("/console/changes", get(changes))
}

async fn changes(State(state): State<AppState>, session: Session) -> Response {
    match session::signed_in(&session, &state.services, &state.sessions).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Problem::new(StatusCode::UNAUTHORIZED, "/problems/unauthorized", "Unauthorized")
                .detail("sign in first")
                .into_response();
        }
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "reading a session failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let mut pulse = state.services.changes();
    pulse.mark_unchanged();
    // The first event says only how long to wait before connecting again.
    let hello = Event::default().retry(RETRY).comment("following changes");
    let first = futures::stream::once(async move { Ok::<_, Infallible>(hello) });
    let rest = futures::stream::unfold((pulse, false), |(mut pulse, spoken)| async move {
        if spoken {
            tokio::time::sleep(AT_MOST_EVERY).await;
        }
        // A stream opened while the instance stops ends at once.
        if *pulse.borrow() == Pulse::Closing {
            return None;
        }
        pulse.changed().await.ok()?;
        let Pulse::At(n) = *pulse.borrow_and_update() else { return None };
        Some((Ok(Event::default().event("change").data(n.to_string())), (pulse, true)))
    });
    let mut response =
        Sse::new(futures::StreamExt::chain(first, rest)).keep_alive(KeepAlive::default()).into_response();
    // Proxies must pass each event on as it comes.
    response.headers_mut().insert("x-accel-buffering", axum::http::HeaderValue::from_static("no"));
    response
}
