//! The audit trail.

use leptos::prelude::*;

use crate::AppError;
use crossdock::audit::AuditRecord;

/// The newest audit records, 100 at a time, before record `before` if given.
#[server(prefix = "/console", endpoint = "list_audit")]
pub async fn list_audit(before: Option<i64>) -> Result<Vec<AuditRecord>, AppError> {
    crate::ports::console()?.list_audit(before).await
}
