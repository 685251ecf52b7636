//! Notification channels (admins) and each person's outward choice.

use std::collections::BTreeSet;

use crossdock::channel::ChannelSpec;
use crossdock::escalation::EscalationLevel;
use leptos::prelude::*;

use crate::serverfns::codec::Answer;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::dto::{ChannelsView, OutwardChoice};

#[server(prefix = "/console", endpoint = "channels", output = Answer)]
pub async fn list_channels(channel: Option<String>) -> Result<ChannelsView, AppError> {
    crate::ports::console()?.channels(channel.filter(|c| !c.is_empty())).await
}

/// Creates or saves a channel; answers a new signing secret, shown once.
#[server(prefix = "/console", endpoint = "save_channel", input = Json, output = Answer)]
pub async fn save_channel(spec: ChannelSpec) -> Result<Option<String>, AppError> {
    crate::ports::console()?.save_channel(spec).await
}

#[server(prefix = "/console", endpoint = "rotate_channel_secret", output = Answer)]
pub async fn rotate_channel_secret(name: String) -> Result<String, AppError> {
    crate::ports::console()?.rotate_channel_secret(name).await
}

#[server(prefix = "/console", endpoint = "delete_channel", output = Answer)]
pub async fn delete_channel(name: String) -> Result<(), AppError> {
    crate::ports::console()?.delete_channel(name).await
}

/// Queues a test message to a channel.
#[server(prefix = "/console", endpoint = "test_channel", output = Answer)]
pub async fn test_channel(name: String) -> Result<i64, AppError> {
    crate::ports::console()?.test_channel(name).await
}

#[server(prefix = "/console", endpoint = "outward", output = Answer)]
pub async fn read_outward() -> Result<OutwardChoice, AppError> {
    crate::ports::console()?.outward().await
}

#[server(prefix = "/console", endpoint = "set_outward", input = Json, output = Answer)]
pub async fn set_outward(levels: BTreeSet<EscalationLevel>) -> Result<OutwardChoice, AppError> {
    crate::ports::console()?.set_outward(levels).await
}
