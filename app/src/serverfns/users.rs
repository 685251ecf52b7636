//! Users, for admins.

use leptos::prelude::*;

use crate::serverfns::codec::Answer;

use crate::AppError;
use crate::dto::UserEntry;

#[server(prefix = "/console", endpoint = "list_users", output = Answer)]
pub async fn list_users() -> Result<Vec<UserEntry>, AppError> {
    crate::ports::console()?.list_users().await
}

#[server(prefix = "/console", endpoint = "create_user", output = Answer)]
pub async fn create_user(
    username: String,
    display_name: String,
    role: String,
    password: String,
    #[server(default)] queues: Vec<String>,
) -> Result<UserEntry, AppError> {
    let input = crate::ports::UserInput { username, display_name, role, password, queues };
    crate::ports::console()?.create_user(input).await
}

#[server(prefix = "/console", endpoint = "update_user", output = Answer)]
pub async fn update_user(
    id: i64,
    display_name: String,
    role: String,
    #[server(default)] queues: Vec<String>,
) -> Result<UserEntry, AppError> {
    let input = crate::ports::UserInput { display_name, role, queues, ..Default::default() };
    crate::ports::console()?.update_user(id, input).await
}

#[server(prefix = "/console", endpoint = "set_user_disabled", output = Answer)]
pub async fn set_user_disabled(id: i64, disabled: bool) -> Result<(), AppError> {
    crate::ports::console()?.set_user_disabled(id, disabled).await
}

#[server(prefix = "/console", endpoint = "reset_password", output = Answer)]
pub async fn reset_password(id: i64, password: String) -> Result<(), AppError> {
    crate::ports::console()?.reset_password(id, password).await
}
