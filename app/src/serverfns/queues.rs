//! Queues.

use leptos::prelude::*;

use crate::serverfns::codec::Answer;

use crate::AppError;
use crate::dto::{QueueChoices, QueueEntry};

#[server(prefix = "/console", endpoint = "list_queues", output = Answer)]
pub async fn list_queues() -> Result<(Vec<QueueEntry>, QueueChoices), AppError> {
    crate::ports::console()?.list_queues().await
}

#[server(prefix = "/console", endpoint = "save_queue", output = Answer)]
pub async fn save_queue(
    key: String,
    name: String,
    team: String,
    sla_policy: String,
    site: String,
) -> Result<(), AppError> {
    crate::ports::console()?.save_queue(crate::ports::QueueInput { key, name, team, sla_policy, site }).await
}
