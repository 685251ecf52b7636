//! The console's ports, implemented over the services: each call acts as the
//! person signed in to the current request and takes the capability its use
//! case needs. One file per resource, mirroring the app's `serverfns/`.

mod audit;
mod auth;
mod board;
mod channels;
mod config;
mod exceptions;
mod kpis;
mod lineage;
mod notifications;
mod queues;
mod replays;
mod sources;
mod users;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use crossdock_app::AppError;
use crossdock_app::error::FieldError;
use crossdock_app::ports::Console;
use tower_sessions::Session;

use crate::auth::{Admin, AuditReader, CurrentUser, Denied, Viewer, Worker};
use crate::http::session::{self, SessionSettings};
use crate::services::{ServiceError, Services};

struct ConsoleServices {
    services: Services,
    sessions: SessionSettings,
}

/// The services as the console's server functions reach them.
pub fn console(services: Services, sessions: SessionSettings) -> Console {
    Arc::new(ConsoleServices { services, sessions })
}

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid { field, message } => AppError::Invalid { field, message },
            ServiceError::Problems(problems) => AppError::Fields(
                problems
                    .into_iter()
                    .map(|p| FieldError { field: p.pointer.trim_start_matches('/').to_owned(), message: p.message })
                    .collect(),
            ),
            ServiceError::NotFound(_) => AppError::NotFound,
            ServiceError::Forbidden(message) => AppError::Forbidden(message),
            ServiceError::Conflict(message) => AppError::Conflict(message),
            ServiceError::Throttled(wait) => {
                AppError::Refused(format!("too many requests; try again in {} s", wait.as_secs().max(1)))
            }
            err @ ServiceError::OverBurst { .. } => AppError::Refused(err.to_string()),
            ServiceError::Overloaded => AppError::Unavailable,
            ServiceError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "console request failed");
                AppError::Internal
            }
        }
    }
}

fn denied(denied: Denied) -> AppError {
    tracing::info!(role = %denied.role, permission = %denied.permission, "denied");
    AppError::Forbidden(denied.to_string())
}

/// Runs a use case, giving its error the HTTP status it stands for.
async fn answer<T>(work: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    work.await.map_err(crossdock_app::ports::with_status)
}

async fn request_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer on this request");
        AppError::Internal
    })
}

/// The client's address, as the connection or a trusted proxy says.
async fn client_address(sessions: &SessionSettings) -> String {
    let Ok(ConnectInfo(peer)) = leptos_axum::extract::<ConnectInfo<SocketAddr>>().await else {
        return "unknown".to_owned();
    };
    let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.unwrap_or_default();
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    session::client_ip(peer.ip(), forwarded, &sessions.trusted_proxies).to_string()
}

impl ConsoleServices {
    /// The signed-in person, if any.
    async fn signed_in(&self) -> Result<Option<CurrentUser>, AppError> {
        let session = request_session().await?;
        Ok(session::signed_in(&session, &self.services, &self.sessions).await?)
    }

    /// The signed-in person, or `Unauthenticated`.
    async fn user(&self) -> Result<CurrentUser, AppError> {
        self.signed_in().await?.ok_or(AppError::Unauthenticated)
    }

    async fn as_viewer(&self) -> Result<Viewer, AppError> {
        Ok(self.user().await?.viewer())
    }

    async fn as_worker(&self) -> Result<Worker, AppError> {
        self.user().await?.worker().map_err(denied)
    }

    async fn as_admin(&self) -> Result<Admin, AppError> {
        self.user().await?.admin().map_err(denied)
    }

    async fn as_auditor(&self) -> Result<AuditReader, AppError> {
        self.user().await?.audit_reader().map_err(denied)
    }
}
