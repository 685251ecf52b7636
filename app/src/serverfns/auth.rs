//! Signing in and out.

use leptos::prelude::*;

use crate::AppError;
use crate::dto::Me;

/// The signed-in person, or none.
#[server(prefix = "/console", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    crate::ports::console()?.me().await
}

/// Signs in; on success the browser goes to the exceptions.
#[server(prefix = "/console", endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<Me, AppError> {
    let me = crate::ports::console()?.login(username, password).await?;
    leptos_axum::redirect("/");
    Ok(me)
}

/// Signs out; the browser goes to the sign-in page.
#[server(prefix = "/console", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::ports::console()?.logout().await?;
    leptos_axum::redirect("/login");
    Ok(())
}
