//! Configuration: sites and calendars, SLA policies, routing rules,
//! expected milestones, history.
//! Documents travel as JSON.

use crossdock::config::SiteSpec;
use crossdock::lineage::ExpectationSet;
use crossdock::routing::{RouteDecision, RuleSetSpec};
use crossdock::sla::SlaPolicySpec;
use leptos::prelude::*;

use crate::serverfns::codec::Answer;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::dto::{ConfigVersionView, MoveView, RoutingChoices};

#[server(prefix = "/console", endpoint = "list_sites", output = Answer)]
pub async fn list_sites() -> Result<Vec<SiteSpec>, AppError> {
    crate::ports::console()?.list_sites().await
}

#[server(prefix = "/console", endpoint = "save_site", input = Json, output = Answer)]
pub async fn save_site(site: SiteSpec) -> Result<(), AppError> {
    crate::ports::console()?.save_site(site).await
}

#[server(prefix = "/console", endpoint = "list_policies", output = Answer)]
pub async fn list_policies() -> Result<Vec<SlaPolicySpec>, AppError> {
    crate::ports::console()?.list_policies().await
}

#[server(prefix = "/console", endpoint = "save_policy", input = Json, output = Answer)]
pub async fn save_policy(policy: SlaPolicySpec) -> Result<(), AppError> {
    crate::ports::console()?.save_policy(policy).await
}

#[server(prefix = "/console", endpoint = "routing", output = Answer)]
pub async fn routing() -> Result<(RuleSetSpec, RoutingChoices), AppError> {
    crate::ports::console()?.routing().await
}

#[server(prefix = "/console", endpoint = "dry_run", input = Json, output = Answer)]
pub async fn dry_run(rules: RuleSetSpec, event: String) -> Result<RouteDecision, AppError> {
    crate::ports::console()?.dry_run(rules, event).await
}

#[server(prefix = "/console", endpoint = "routing_impact", input = Json, output = Answer)]
pub async fn routing_impact(rules: RuleSetSpec) -> Result<Vec<MoveView>, AppError> {
    crate::ports::console()?.routing_impact(rules).await
}

#[server(prefix = "/console", endpoint = "save_routing", input = Json, output = Answer)]
pub async fn save_routing(rules: RuleSetSpec, reroute: bool) -> Result<Vec<MoveView>, AppError> {
    crate::ports::console()?.save_routing(rules, reroute).await
}

#[server(prefix = "/console", endpoint = "expectations", output = Answer)]
pub async fn expectations() -> Result<ExpectationSet, AppError> {
    crate::ports::console()?.expectations().await
}

#[server(prefix = "/console", endpoint = "escalations", output = Answer)]
pub async fn escalations() -> Result<crossdock::escalation::EscalationSet, AppError> {
    crate::ports::console()?.escalations().await
}

#[server(prefix = "/console", endpoint = "save_escalations", input = Json, output = Answer)]
pub async fn save_escalations(escalations: crossdock::escalation::EscalationSet) -> Result<(), AppError> {
    crate::ports::console()?.save_escalations(escalations).await
}

#[server(prefix = "/console", endpoint = "save_expectations", input = Json, output = Answer)]
pub async fn save_expectations(expectations: ExpectationSet) -> Result<(), AppError> {
    crate::ports::console()?.save_expectations(expectations).await
}

#[server(prefix = "/console", endpoint = "config_history", output = Answer)]
pub async fn config_history(kind: String, key: Option<String>) -> Result<Vec<ConfigVersionView>, AppError> {
    crate::ports::console()?.config_history(kind, key).await
}

#[server(prefix = "/console", endpoint = "restore_config", output = Answer)]
pub async fn restore_config(version_id: i64) -> Result<(), AppError> {
    crate::ports::console()?.restore_config(version_id).await
}
