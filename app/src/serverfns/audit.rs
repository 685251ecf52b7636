//! The auditor console.

use leptos::prelude::*;

use crate::serverfns::codec::Answer;

use crate::AppError;
use crossdock::audit::query::{AuditPage, ChainState};

/// A page of the trail: `query` is the console's address (its filter, and
/// `after` where the page starts).
#[server(prefix = "/console", endpoint = "audit_page", output = Answer)]
pub async fn read_audit(query: String) -> Result<AuditPage, AppError> {
    crate::ports::console()?.audit_page(query).await
}

/// Where the hash chain stands, as its last check found it.
#[server(prefix = "/console", endpoint = "audit_chain_state", output = Answer)]
pub async fn audit_chain_state() -> Result<ChainState, AppError> {
    crate::ports::console()?.audit_chain_state().await
}

/// An admin's check of the whole chain, now.
#[server(prefix = "/console", endpoint = "check_audit_chain", output = Answer)]
pub async fn check_audit_chain() -> Result<ChainState, AppError> {
    crate::ports::console()?.check_audit_chain().await
}
