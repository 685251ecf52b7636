//! Business KPIs and their targets.

use chrono::NaiveDate;
use crossdock::kpi::{KpiTargets, Period};
use leptos::prelude::*;

use crate::serverfns::codec::Answer;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::dto::KpiView;

#[server(prefix = "/console", endpoint = "kpis", input = Json, output = Answer)]
pub async fn read_kpis(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    #[server(default)] period: Period,
    site: Option<String>,
    supplier: Option<String>,
) -> Result<KpiView, AppError> {
    let text = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    crate::ports::console()?.kpis(from, to, period, text(site), text(supplier)).await
}

#[server(prefix = "/console", endpoint = "save_kpi_targets", input = Json, output = Answer)]
pub async fn save_kpi_targets(targets: KpiTargets) -> Result<(), AppError> {
    crate::ports::console()?.save_kpi_targets(targets).await
}
