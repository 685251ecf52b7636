//! Use cases over exceptions.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::{ExceptionListItem, ListQuery};

use super::{ServiceError, Services};
use crate::demo;
use crate::store::{self, audit::AuditEntry};

/// What seeding the demo did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The database was empty; this many exceptions were added.
    Seeded(usize),
    /// The database already held this many exceptions; nothing was added.
    NotEmpty(i64),
}

impl Services {
    /// Exceptions matching the query, newest first.
    #[tracing::instrument(skip_all, fields(text = query.text()), err)]
    pub async fn list_exceptions(
        &self,
        query: ListQuery,
    ) -> Result<Vec<ExceptionListItem>, ServiceError> {
        Ok(store::exceptions::list(&self.pool, &query).await?)
    }

    /// Fills an empty database with the demo exceptions, as of `now`.
    #[tracing::instrument(skip_all, err)]
    pub async fn seed_demo(&self, now: DateTime<Utc>) -> Result<SeedOutcome, ServiceError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("Failed to begin a transaction")?;
        let present = store::exceptions::count(&mut *tx).await?;
        if present > 0 {
            return Ok(SeedOutcome::NotEmpty(present));
        }
        let exceptions = demo::exceptions(now);
        for new in &exceptions {
            let id = store::exceptions::insert(&mut tx, new).await?;
            store::audit::append(
                &mut tx,
                &AuditEntry {
                    at: now,
                    actor: "system:demo".to_owned(),
                    action: "exception.filed",
                    entity: "exception",
                    entity_id: id.get().to_string(),
                    before: None,
                    after: Some(serde_json::json!({
                        "kind": new.kind,
                        "status": new.status,
                        "severity": new.severity,
                        "queue": new.queue,
                    })),
                    reason: Some("demo data".to_owned()),
                },
            )
            .await
            .context("Failed to write the audit record")?;
        }
        tx.commit()
            .await
            .context("Failed to commit the demo data")?;
        Ok(SeedOutcome::Seeded(exceptions.len()))
    }
}
