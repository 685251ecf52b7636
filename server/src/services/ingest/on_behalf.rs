//! Sending events as a registered source on behalf of an admin: a test event
//! from a source's page in the console, or `crossdock events send`. The
//! events take the API's own path (the contract, the source's prefixes and
//! allowance, routing, grouping, the writer); only the key and signature
//! are not asked for, the admin being signed in or at the server's shell.

use chrono::Utc;
use crossdock::source::SourceName;
use serde_json::Value;

use super::source::AuthenticatedSource;
use super::{EventResult, Tried};
use crate::auth::Configurer;
use crate::services::{ServiceError, Services};
use crate::store;

impl Services {
    /// Sends `values` as the source `name`; with `dry_run`, says what each
    /// would do and stores nothing (as `crossdock-dry-run: true` on the API).
    /// The trail names `by` as the sender of what is stored, and the events
    /// do not count against the source's allowance, so that trying them
    /// never holds up the source's own traffic.
    #[tracing::instrument(skip_all, fields(source = name, events = values.len(), dry_run))]
    pub async fn send_as_source(
        &self,
        by: &impl Configurer,
        name: &str,
        values: &[Value],
        dry_run: bool,
    ) -> Result<Vec<Tried>, ServiceError> {
        let found = store::sources::by_name(&self.pool, name)
            .await?
            .filter(|s| s.name != crate::services::SYSTEM_SOURCE)
            .ok_or_else(|| ServiceError::NotFound(format!("source {name}")))?;
        if found.disabled && !dry_run {
            return Err(ServiceError::Forbidden(format!(
                "source {name} is disabled: its events are refused; a dry run still says what they would do"
            )));
        }
        if values.is_empty() {
            return Err(ServiceError::invalid("events", "there is no event to send"));
        }
        let max = self.ingest_settings().max_batch;
        if values.len() > max {
            return Err(ServiceError::invalid("events", format!("at most {max} events are sent at once")));
        }
        let source = AuthenticatedSource {
            id: found.id,
            name: SourceName::parse(&found.name).map_err(|rule| anyhow::anyhow!("stored source name: {rule}"))?,
            prefixes: found.prefixes,
            rate_per_sec: found.rate_per_sec,
            burst: found.burst,
            signs: false,
            secrets: Vec::new(),
        };
        let (now, charged, actor) = (Utc::now(), values.len(), Some(by.actor()));
        if dry_run {
            self.dry_run_by(&source, values, now, charged, actor).await
        } else {
            let results = self.ingest_by(&source, values, now, charged, actor).await?;
            Ok(results.into_iter().map(|result: EventResult| Tried { result, forecast: None }).collect())
        }
    }
}
