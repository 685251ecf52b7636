//! Sources and their keys, for admins.

use leptos::prelude::*;

use crate::serverfns::codec::Answer;

use crate::AppError;
use crate::dto::{DeadLetterEntry, SourceEntry, TriedEvent};

#[server(prefix = "/console", endpoint = "list_sources", output = Answer)]
pub async fn list_sources() -> Result<Vec<SourceEntry>, AppError> {
    crate::ports::console()?.list_sources().await
}

/// Registers a source; answers its API key, shown once.
#[server(prefix = "/console", endpoint = "create_source", output = Answer)]
pub async fn create_source(
    name: String,
    prefixes: String,
    rate_per_sec: f64,
    burst: u32,
    #[server(default)] nats_subject: String,
) -> Result<String, AppError> {
    let input = crate::ports::SourceInput { name, prefixes, rate_per_sec, burst, nats_subject };
    crate::ports::console()?.create_source(input).await
}

#[server(prefix = "/console", endpoint = "update_source", output = Answer)]
pub async fn update_source(
    name: String,
    prefixes: String,
    rate_per_sec: f64,
    burst: u32,
    #[server(default)] nats_subject: String,
) -> Result<(), AppError> {
    let input = crate::ports::SourceInput { name, prefixes, rate_per_sec, burst, nats_subject };
    crate::ports::console()?.update_source(input).await
}

/// The newest of a source's messages from NATS that were set aside, or
/// (no name) of those on subjects no source takes.
#[server(prefix = "/console", endpoint = "source_dead_letters", output = Answer)]
pub async fn source_dead_letters(#[server(default)] name: Option<String>) -> Result<Vec<DeadLetterEntry>, AppError> {
    crate::ports::console()?.dead_letters(name).await
}

/// Sends a test event (or a JSON array of them) as the source, as a dry
/// run: says what each would do and stores nothing.
#[server(prefix = "/console", endpoint = "try_events", output = Answer)]
pub async fn try_events(name: String, events: String) -> Result<Vec<TriedEvent>, AppError> {
    crate::ports::console()?.try_events(name, events).await
}

/// Issues a new key, shown once; the old ones stay valid for `grace_hours`.
#[server(prefix = "/console", endpoint = "rotate_source_key", output = Answer)]
pub async fn rotate_source_key(name: String, grace_hours: u32) -> Result<String, AppError> {
    crate::ports::console()?.rotate_source_key(name, grace_hours).await
}

#[server(prefix = "/console", endpoint = "revoke_source_keys", output = Answer)]
pub async fn revoke_source_keys(name: String) -> Result<u64, AppError> {
    crate::ports::console()?.revoke_source_keys(name).await
}

/// Adds a signing secret, shown once.
#[server(prefix = "/console", endpoint = "add_signing_secret", output = Answer)]
pub async fn add_signing_secret(
    name: String,
    replace: bool,
    #[server(default)] retire_after_hours: Option<u32>,
) -> Result<String, AppError> {
    crate::ports::console()?.add_signing_secret(name, replace, retire_after_hours).await
}
