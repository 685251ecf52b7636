//! The demo data, seeded through the same paths as real data.

mod data;
mod history;

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::ExceptionId;
use serde_json::Value;

use super::{EventResult, NewSourceKey, ServiceError, Services};
use crate::auth::Operator;
use crate::store;

pub use data::{DEMO_TARGET, DEMO_USERS, SITES};

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
    /// events, through the same paths as real ones; as of `now`. Its
    /// connectors replay to the demo target at [`DEMO_TARGET`].
    pub async fn seed_demo(&self, operator: &Operator, now: DateTime<Utc>) -> Result<SeedOutcome, ServiceError> {
        self.seed_demo_with(operator, now, DEMO_TARGET).await
    }

    /// [`Services::seed_demo`], with the demo connectors replaying to `target`.
    #[tracing::instrument(skip_all)]
    pub async fn seed_demo_with(
        &self,
        _operator: &Operator,
        now: DateTime<Utc>,
        target: &str,
    ) -> Result<SeedOutcome, ServiceError> {
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
        for spec in data::connectors(target) {
            self.save_connector(&demo, &spec, None, false).await?;
        }
        // The exception each business key was filed on, for the morning's work.
        let mut filed: HashMap<String, ExceptionId> = HashMap::new();
        for (event, received_at) in data::events(now) {
            let name = event["source"].as_str().unwrap_or_default();
            let source = sources.iter().find(|s| s.prefixes.cover(name)).context("a demo event has no demo source")?;
            let results = self.ingest(source, std::slice::from_ref(&event), received_at, 0).await?;
            match results.first() {
                Some(EventResult::Rejected { problems, .. }) => {
                    return Err(anyhow::anyhow!("a demo event was rejected: {problems:?}").into());
                }
                Some(EventResult::Accepted { exception: Some(id), .. }) => {
                    if let Some(refs) = event["data"]["refs"].as_object() {
                        for key in refs.values().filter_map(Value::as_str) {
                            filed.entry(key.to_owned()).or_insert(*id);
                        }
                    }
                }
                _ => {}
            }
        }
        // Two weeks of business before this morning, for the KPIs; the
        // allocation failures among it were resolved by the inventory team.
        let past = history::history(now);
        // Milestones go in batches per source (the KPIs and lineage take
        // them in any order); each failure alone, received when it happened.
        let mut failed: HashMap<String, ExceptionId> = HashMap::new();
        let mut batches: Vec<(&str, Vec<Value>, DateTime<Utc>)> = Vec::new();
        for (event, received_at) in &past.events {
            let name = event["source"].as_str().unwrap_or_default();
            if event["type"].as_str().is_some_and(|t| t.starts_with("exception.")) {
                batches.push((name, vec![event.clone()], *received_at));
                continue;
            }
            match batches.iter_mut().rev().find(|(s, b, _)| {
                *s == name && b.len() < 200 && !b[0]["type"].as_str().unwrap_or_default().starts_with("exception.")
            }) {
                Some(batch) => {
                    batch.1.push(event.clone());
                    batch.2 = *received_at;
                }
                None => batches.push((name, vec![event.clone()], *received_at)),
            }
        }
        for (name, batch, received_at) in &batches {
            let source = sources.iter().find(|s| s.prefixes.cover(name)).context("a demo event has no demo source")?;
            // Seeding is not a sender: its history is not charged to the sources.
            let results = self.ingest(source, batch, *received_at, batch.len()).await?;
            for (event, result) in batch.iter().zip(&results) {
                match result {
                    EventResult::Rejected { problems, .. } => {
                        return Err(anyhow::anyhow!("a demo history event was rejected: {problems:?}").into());
                    }
                    EventResult::Accepted { exception: Some(id), .. } => {
                        failed.insert(event["id"].as_str().unwrap_or_default().to_owned(), *id);
                    }
                    _ => {}
                }
            }
        }
        let pat = store::users::by_username(&self.pool, "pat").await?.context("a demo user is missing")?;
        let stamp = super::SessionStamp { user: pat.id, epoch: pat.session_epoch };
        let person = self.session_user(stamp).await?.context("a demo user is disabled")?;
        let worker = person.worker().map_err(|e| anyhow::anyhow!("{e}"))?;
        for (event, at) in &past.failures {
            let Some(id) = failed.get(event) else { continue };
            let resolve = crossdock::triage::Change::Status(crossdock::lifecycle::Action::Resolve {
                code: crossdock::lifecycle::ResolutionCode::Corrected,
                note: crossdock::lifecycle::Reason::parse("stock moved from the reserve location").ok(),
            });
            self.change_as_of(&worker, *id, None, &resolve, *at, None)
                .await
                .map_err(|e| anyhow::anyhow!("resolving a demo allocation failure failed: {e}"))?;
        }
        for scene in data::scenes() {
            let id = *filed.get(scene.event).with_context(|| format!("no demo exception for {}", scene.event))?;
            let user = store::users::by_username(&self.pool, scene.user).await?.context("a demo user is missing")?;
            let stamp = super::SessionStamp { user: user.id, epoch: user.session_epoch };
            let person = self.session_user(stamp).await?.context("a demo user is disabled")?;
            let worker = person.worker().map_err(|e| anyhow::anyhow!("{e}"))?;
            let at = now - chrono::Duration::minutes(scene.minutes_ago);
            self.change_as_of(&worker, id, None, &scene.change, at, None)
                .await
                .map_err(|e| anyhow::anyhow!("the demo scene on {} failed: {e}", scene.event))?;
        }
        // The morning's escalations have fired by the time anyone looks.
        self.sweep_escalations(now).await?;
        Ok(SeedOutcome::Seeded { exceptions: store::exceptions::count(&self.pool).await?, keys })
    }
}
