//! The demo data, seeded through the same paths as real data.

mod data;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::{EventResult, NewSourceKey, ServiceError, Services};
use crate::auth::Operator;
use crate::store;

pub use data::{DEMO_USERS, SITES};

/// What seeding the demo did.
#[derive(Debug, Clone)]
pub enum SeedOutcome {
    /// The database was empty: the demo configuration and sources were added
    /// and this many exceptions filed; the sources' keys are shown once.
    Seeded { exceptions: i64, keys: Vec<NewSourceKey> },
    /// The database already held this many exceptions; nothing was added.
    NotEmpty(i64),
}

impl Services {
    /// Fills an empty database with the demo configuration, sources and
    /// events, through the same paths as real ones; as of `now`.
    #[tracing::instrument(skip_all)]
    pub async fn seed_demo(&self, _operator: &Operator, now: DateTime<Utc>) -> Result<SeedOutcome, ServiceError> {
        let present = store::exceptions::count(&self.pool).await?;
        if present > 0 {
            return Ok(SeedOutcome::NotEmpty(present));
        }
        let demo = Operator::demo();
        self.save_configuration(&demo, &data::configuration()).await?;
        let mut keys = Vec::new();
        for settings in data::sources() {
            keys.push(self.create_source(&demo, &settings).await?);
        }
        for user in data::users() {
            self.create_user(&demo, &user).await?;
        }
        let mut sources = Vec::new();
        for key in &keys {
            use secrecy::ExposeSecret;
            let header = format!("Bearer {}", key.key.expose_secret());
            let source = self.authenticate_source(Some(&header)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            sources.push(source);
        }
        for (event, received_at) in data::events(now) {
            let name = event["source"].as_str().unwrap_or_default();
            let source =
                sources.iter().find(|s| name.starts_with(&s.prefix)).context("a demo event has no demo source")?;
            let results = self.ingest(source, std::slice::from_ref(&event), received_at).await?;
            if let Some(EventResult::Rejected { problems, .. }) = results.first() {
                return Err(anyhow::anyhow!("a demo event was rejected: {problems:?}").into());
            }
        }
        Ok(SeedOutcome::Seeded { exceptions: store::exceptions::count(&self.pool).await?, keys })
    }
}
