//! The signed-in person's notifications.

use leptos::prelude::*;

use crate::serverfns::codec::Answer;

use crate::AppError;
use crate::dto::Notifications;

#[server(prefix = "/console", endpoint = "notifications", output = Answer)]
pub async fn fetch_notifications() -> Result<Notifications, AppError> {
    crate::ports::console()?.notifications().await
}

/// Marks one notification read, or all of them when `id` is absent.
#[server(prefix = "/console", endpoint = "mark_read", output = Answer)]
pub async fn mark_read(id: Option<i64>) -> Result<(), AppError> {
    crate::ports::console()?.mark_read(id).await
}
