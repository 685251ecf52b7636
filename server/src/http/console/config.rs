//! Sites and calendars, SLA policies, routing rules and their history.

use crossdock::config::SiteSpec;
use crossdock::routing::{RouteDecision, RuleSetSpec};
use crossdock::sla::SlaPolicySpec;
use crossdock_app::AppError;
use crossdock_app::dto::{ConfigVersionView, MoveView, RecentEvent, RoutingChoices};
use crossdock_app::ports::ConfigPort;

use super::{ConsoleServices, answer};
use crate::services::{Move, MoveOutcome};

fn move_view(m: Move, outcome: Option<MoveOutcome>) -> MoveView {
    MoveView {
        exception_id: m.exception.get(),
        summary: m.summary,
        from: m.from,
        to: m.to,
        outcome: outcome.map(|o| match o {
            MoveOutcome::Moved => "moved".to_owned(),
            MoveOutcome::Skipped => "skipped".to_owned(),
        }),
    }
}

#[async_trait::async_trait]
impl ConfigPort for ConsoleServices {
    async fn list_sites(&self) -> Result<Vec<SiteSpec>, AppError> {
        answer(async { Ok(self.services.sites(&self.as_admin().await?)) }).await
    }

    async fn save_site(&self, site: SiteSpec) -> Result<(), AppError> {
        answer(async { Ok(self.services.save_site(&self.as_admin().await?, site).await?) }).await
    }

    async fn expectations(&self) -> Result<crossdock::lineage::ExpectationSet, AppError> {
        answer(async { Ok(self.services.expectations(&self.as_admin().await?)) }).await
    }

    async fn escalations(&self) -> Result<crossdock::escalation::EscalationSet, AppError> {
        answer(async { Ok(self.services.escalations(&self.as_admin().await?)) }).await
    }

    async fn save_escalations(&self, escalations: crossdock::escalation::EscalationSet) -> Result<(), AppError> {
        answer(async { Ok(self.services.save_escalations(&self.as_admin().await?, escalations).await?) }).await
    }

    async fn save_expectations(&self, expectations: crossdock::lineage::ExpectationSet) -> Result<(), AppError> {
        answer(async { Ok(self.services.save_expectations(&self.as_admin().await?, expectations).await?) }).await
    }

    async fn list_policies(&self) -> Result<Vec<SlaPolicySpec>, AppError> {
        answer(async { Ok(self.services.policies(&self.as_admin().await?)) }).await
    }

    async fn save_policy(&self, policy: SlaPolicySpec) -> Result<(), AppError> {
        answer(async { Ok(self.services.save_policy(&self.as_admin().await?, policy).await?) }).await
    }

    async fn routing(&self) -> Result<(RuleSetSpec, RoutingChoices), AppError> {
        answer(async {
            let admin = self.as_admin().await?;
            let (queues, _, _) = self.services.list_queues(&admin.user().viewer());
            let recent = self.services.recent_exception_events(&admin).await?;
            let choices = RoutingChoices {
                queues: queues.into_iter().map(|q| q.spec.key).collect(),
                recent_events: recent.into_iter().map(|(label, body)| RecentEvent { label, body }).collect(),
            };
            Ok((self.services.routing_spec(&admin), choices))
        })
        .await
    }

    async fn dry_run(&self, rules: RuleSetSpec, event: String) -> Result<RouteDecision, AppError> {
        answer(async {
            let admin = self.as_admin().await?;
            let raw: serde_json::Value = serde_json::from_str(&event)
                .map_err(|e| AppError::invalid("event", format!("the event is not valid JSON: {e}")))?;
            Ok(self.services.dry_run(&admin, &rules, &raw)?)
        })
        .await
    }

    async fn routing_impact(&self, rules: RuleSetSpec) -> Result<Vec<MoveView>, AppError> {
        answer(async {
            let moves = self.services.routing_impact(&self.as_admin().await?, &rules).await?;
            Ok(moves.into_iter().map(|m| move_view(m, None)).collect())
        })
        .await
    }

    async fn save_routing(&self, rules: RuleSetSpec, reroute: bool) -> Result<Vec<MoveView>, AppError> {
        answer(async {
            let outcomes = self.services.save_routing(&self.as_admin().await?, &rules, reroute).await?;
            Ok(outcomes.into_iter().map(|(m, o)| move_view(m, Some(o))).collect())
        })
        .await
    }

    async fn config_history(&self, kind: String, key: Option<String>) -> Result<Vec<ConfigVersionView>, AppError> {
        answer(async {
            let versions = self.services.config_history(&self.as_admin().await?, &kind, key.as_deref()).await?;
            let mut seen = std::collections::HashSet::new();
            Ok(versions
                .into_iter()
                .map(|v| ConfigVersionView {
                    // Newest first: the first version of each key is the one in force.
                    current: seen.insert(v.key.clone()) && v.spec.is_some(),
                    id: v.id,
                    kind: v.kind.to_string(),
                    key: v.key,
                    version: v.version,
                    actor: v.actor.to_string(),
                    at: v.at,
                    spec: v.spec.map(|s| s.to_string()),
                })
                .collect())
        })
        .await
    }

    async fn restore_config(&self, version_id: i64) -> Result<(), AppError> {
        answer(async { Ok(self.services.restore_config(&self.as_admin().await?, version_id).await?) }).await
    }
}
