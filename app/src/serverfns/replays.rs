//! Replays: connectors and retry policies (admins), replaying an
//! exception's message and following its attempts.

use crossdock::replay::{ConnectorSpec, RetryPolicySpec};
use leptos::prelude::*;

use crate::serverfns::codec::Answer;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::dto::{ConnectorEntry, ConnectorTestView, ReplayView, RetryPolicies};

/// The largest corrected message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Reads a corrected message typed into the editor: JSON, at most
/// [`MAX_MESSAGE_BYTES`].
pub fn parse_message(text: &str) -> Result<serde_json::Value, AppError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(AppError::invalid("message", format!("a message is at most {} KiB", MAX_MESSAGE_BYTES / 1024)));
    }
    if text.trim().is_empty() {
        return Err(AppError::invalid("message", "the message is empty"));
    }
    serde_json::from_str(text).map_err(|e| AppError::invalid("message", format!("not valid JSON: {e}")))
}

#[server(prefix = "/console", endpoint = "list_connectors", output = Answer)]
pub async fn list_connectors() -> Result<Vec<ConnectorEntry>, AppError> {
    crate::ports::console()?.list_connectors().await
}

#[server(prefix = "/console", endpoint = "save_connector", input = Json, output = Answer)]
pub async fn save_connector(
    connector: ConnectorSpec,
    secret: Option<String>,
    #[server(default)] reset_breaker: bool,
) -> Result<(), AppError> {
    crate::ports::console()?.save_connector(connector, secret, reset_breaker).await
}

/// Sends a test request through a connector; what its target answered.
#[server(prefix = "/console", endpoint = "test_connector", output = Answer)]
pub async fn test_connector(name: String) -> Result<ConnectorTestView, AppError> {
    crate::ports::console()?.test_connector(name).await
}

/// Deletes a connector that no replay under way uses.
#[server(prefix = "/console", endpoint = "delete_connector", output = Answer)]
pub async fn delete_connector(name: String) -> Result<(), AppError> {
    crate::ports::console()?.delete_connector(name).await
}

#[server(prefix = "/console", endpoint = "list_retry_policies", output = Answer)]
pub async fn list_retry_policies() -> Result<RetryPolicies, AppError> {
    crate::ports::console()?.list_retry_policies().await
}

#[server(prefix = "/console", endpoint = "save_retry_policy", input = Json, output = Answer)]
pub async fn save_retry_policy(policy: RetryPolicySpec) -> Result<(), AppError> {
    crate::ports::console()?.save_retry_policy(policy).await
}

#[server(prefix = "/console", endpoint = "set_queue_retry_policy", output = Answer)]
pub async fn set_queue_retry_policy(queue: String, policy: Option<String>) -> Result<(), AppError> {
    crate::ports::console()?.set_queue_retry_policy(queue, policy.filter(|p| !p.trim().is_empty())).await
}

/// Replays an exception's message; with `corrected` (JSON text), corrects it
/// first; with `confirm`, a supervisor vouches for a failure from a source
/// its connector does not trust.
#[server(prefix = "/console", endpoint = "replay", input = Json, output = Answer)]
pub async fn replay(id: i64, corrected: Option<String>, #[server(default)] confirm: bool) -> Result<i64, AppError> {
    let corrected = corrected.as_deref().map(parse_message).transpose().map_err(crate::ports::with_status)?;
    crate::ports::console()?.replay(id, corrected, confirm).await
}

#[server(prefix = "/console", endpoint = "replay_status", output = Answer)]
pub async fn replay_status(id: i64) -> Result<ReplayView, AppError> {
    crate::ports::console()?.replay_status(id).await
}

/// What a replay target answered to one attempt; recorded as a read.
#[server(prefix = "/console", endpoint = "replay_answer", output = Answer)]
pub async fn replay_answer(id: i64, job: i64, attempt: i64) -> Result<String, AppError> {
    crate::ports::console()?.replay_answer(id, job, attempt).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correction_must_be_json_and_says_where_it_is_not() {
        assert_eq!(parse_message(" {\"a\": 1} ").unwrap(), serde_json::json!({"a": 1}));
        let broken = parse_message("{\"a\": ").unwrap_err().for_field("message").unwrap();
        assert!(broken.starts_with("not valid JSON") && broken.contains("line 1"), "{broken}");
        assert!(parse_message("  ").unwrap_err().for_field("message").is_some());
        assert!(parse_message(&format!("\"{}\"", "x".repeat(MAX_MESSAGE_BYTES))).is_err());
    }
}
