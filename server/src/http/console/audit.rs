//! The auditor console.

use crossdock::audit::query::{AuditFilter, AuditPage, ChainState};

use crossdock_app::AppError;
use crossdock_app::error::FieldError;
use crossdock_app::ports::AuditPort;

use super::{ConsoleServices, answer};

/// The filter a page's address holds, and where the page starts.
pub(crate) fn read_query(query: &str) -> Result<(AuditFilter, Option<i64>), AppError> {
    let filter = AuditFilter::parse_query(query).map_err(|problems| {
        AppError::Fields(
            problems
                .into_iter()
                .map(|p| FieldError { message: format!("{} {}", p.pointer, p.message), field: p.pointer })
                .collect(),
        )
    })?;
    let after = form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .find(|(k, _)| k == "after")
        .map(|(_, v)| {
            v.parse::<i64>().map_err(|_| AppError::Invalid {
                field: "after".into(),
                message: "after is not a record number".into(),
            })
        })
        .transpose()?;
    Ok((filter, after))
}

#[async_trait::async_trait]
impl AuditPort for ConsoleServices {
    async fn audit_page(&self, query: String) -> Result<AuditPage, AppError> {
        answer(async {
            let reader = self.as_auditor().await?;
            let (filter, after) = read_query(&query)?;
            Ok(self.services.audit_page(&reader, &filter, after).await?)
        })
        .await
    }

    async fn audit_chain_state(&self) -> Result<ChainState, AppError> {
        answer(async { Ok(self.services.audit_chain_state(&self.as_auditor().await?).await?) }).await
    }

    async fn check_audit_chain(&self) -> Result<ChainState, AppError> {
        answer(async { Ok(self.services.check_audit_chain_now(&self.as_admin().await?).await?) }).await
    }
}
