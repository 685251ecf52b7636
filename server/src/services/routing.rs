//! Routing rules: dry runs, the effect of a changed rule set on open
//! exceptions, and saving (with re-routing when asked).

use anyhow::Context;
use crossdock::event;
use crossdock::routing::{RouteDecision, RoutingFacts, RuleSet, RuleSetSpec};
use crossdock::{ExceptionId, FieldProblem};
use serde_json::Value;

use crossdock::audit::{AuditAction, AuditEntry, Entity};

use super::sla::{self, Clocked};
use super::{ConfigDocs, ServiceError, Services};
use crate::auth::Configurer;
use crate::store::{self};

/// An open exception a rule set sends elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub exception: ExceptionId,
    pub summary: String,
    pub from: String,
    pub to: String,
}

/// What became of one move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveOutcome {
    Moved,
    /// It was closed or moved by someone else meanwhile.
    Skipped,
}

impl Services {
    fn rule_set(&self, spec: &RuleSetSpec) -> Result<RuleSet, ServiceError> {
        let config = self.configuration();
        RuleSet::from_spec(spec, |k| config.queues.contains_key(k)).map_err(ServiceError::Problems)
    }

    /// Routes one event (its JSON as sent) with a rule set that need not be
    /// saved. Problems with the event point under `/event`.
    pub fn dry_run(
        &self,
        _by: &impl Configurer,
        spec: &RuleSetSpec,
        raw: &Value,
    ) -> Result<RouteDecision, ServiceError> {
        let rules = self.rule_set(spec)?;
        let parsed = event::parse(raw).map_err(|invalid| {
            ServiceError::Problems(
                invalid.0.into_iter().map(|p| FieldProblem { pointer: format!("/event{}", p.pointer), ..p }).collect(),
            )
        })?;
        let null = Value::Null;
        let facts = RoutingFacts::of_event(&parsed, raw.get("data").unwrap_or(&null)).ok_or_else(|| {
            ServiceError::invalid(
                "event",
                format!("a {} is a milestone: only exceptions are routed", parsed.event_type),
            )
        })?;
        Ok(rules.route(&facts))
    }

    /// The open exceptions a rule set would send to another queue.
    pub async fn routing_impact(&self, _by: &impl Configurer, spec: &RuleSetSpec) -> Result<Vec<Move>, ServiceError> {
        let rules = self.rule_set(spec)?;
        self.moves(&rules).await
    }

    async fn moves(&self, rules: &RuleSet) -> Result<Vec<Move>, ServiceError> {
        let mut moves = Vec::new();
        for open in store::exceptions::open_with_events(&self.pool).await? {
            let Some(raw) = open.event.as_ref() else { continue };
            let Ok(parsed) = event::parse_stored(raw) else { continue };
            let null = Value::Null;
            let Some(facts) = RoutingFacts::of_event(&parsed, raw.get("data").unwrap_or(&null)) else { continue };
            let to = rules.route(&facts).queue.to_string();
            if to != open.queue {
                moves.push(Move { exception: open.id, summary: open.summary, from: open.queue, to });
            }
        }
        Ok(moves)
    }

    /// Saves a rule set (only if valid as a whole). With `reroute`, the open
    /// exceptions it sends elsewhere are moved, each with its audit record,
    /// a few at a time so that ingest never waits long for the database.
    #[tracing::instrument(skip_all, fields(rules = spec.rules.len(), reroute))]
    pub async fn save_routing(
        &self,
        by: &impl Configurer,
        spec: &RuleSetSpec,
        reroute: bool,
    ) -> Result<Vec<(Move, MoveOutcome)>, ServiceError> {
        let rules = self.rule_set(spec)?;
        self.save_configuration(by, &ConfigDocs { routing: Some(spec.clone()), ..ConfigDocs::default() }).await?;
        if !reroute {
            return Ok(Vec::new());
        }
        let moves = self.moves(&rules).await?;
        let config = self.configuration();
        let now = self.now();
        let actor = by.actor();
        let mut outcomes = Vec::with_capacity(moves.len());
        let open = store::exceptions::open_with_events(&self.pool).await?;
        let by_id: std::collections::HashMap<_, _> = open.iter().map(|o| (o.id, o)).collect();
        let mut moves = moves.into_iter().peekable();
        while moves.peek().is_some() {
            let mut tx = crate::store::begin(&self.pool).await.context("Failed to begin a transaction")?;
            for m in moves.by_ref().take(REROUTE_SLICE) {
                let Some(row) = by_id.get(&m.exception) else { continue };
                let of = Clocked {
                    id: row.id,
                    severity: row.severity,
                    queue: &m.to,
                    policy_version: row.sla_policy_version,
                };
                let clocks = sla::clocks(&mut tx, &config, of, now).await?;
                // A move that lost a race (someone moved or closed it) is skipped.
                let moved = store::exceptions::move_to_queue(&mut tx, row.id, &m.from, &m.to, &clocks, now).await?;
                if moved {
                    let id = row.id.get().to_string();
                    let entry =
                        AuditEntry::new(now, actor.clone(), AuditAction::ExceptionRerouted, Entity::Exception, id)
                            .before(serde_json::json!({"queue": m.from}))
                            .after(serde_json::json!({"queue": m.to}))
                            .reason("routing rules changed");
                    store::audit::append(&mut tx, &[entry]).await?;
                }
                outcomes.push((m, if moved { MoveOutcome::Moved } else { MoveOutcome::Skipped }));
            }
            tx.commit().await.context("Failed to commit the re-routing")?;
            crate::store::let_writers_in().await;
        }
        Ok(outcomes)
    }
}

/// Moves made in one transaction: short enough that ingest waiting for the
/// database is not held up.
const REROUTE_SLICE: usize = 50;

impl Services {
    /// The newest exception events, labelled, with their bodies.
    pub async fn recent_exception_events(&self, _by: &impl Configurer) -> Result<Vec<(String, String)>, ServiceError> {
        Ok(store::events::recent_exceptions(&self.pool, 20)
            .await?
            .into_iter()
            .map(|e| (format!("{} {} from {}", e.kind, e.event_id, e.source), e.body))
            .collect())
    }
}
