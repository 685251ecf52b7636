//! Reading the audit trail.

use crossdock::audit::AuditRecord;

use super::{ServiceError, Services};
use crate::auth::AuditReader;
use crate::store;

/// Records on one page of the audit trail.
const PAGE: u32 = 100;

impl Services {
    /// The newest audit records, before record `before` if given.
    pub async fn list_audit(
        &self,
        _reader: &AuditReader,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, ServiceError> {
        Ok(store::audit::list(&self.pool, before, PAGE).await?)
    }
}
