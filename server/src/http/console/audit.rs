//! The audit trail.

use crossdock::audit::AuditRecord;
use crossdock_app::AppError;
use crossdock_app::ports::AuditPort;

use super::{ConsoleServices, answer};

#[async_trait::async_trait]
impl AuditPort for ConsoleServices {
    async fn list_audit(&self, before: Option<i64>) -> Result<Vec<AuditRecord>, AppError> {
        answer(async { Ok(self.services.list_audit(&self.as_auditor().await?, before).await?) }).await
    }
}
