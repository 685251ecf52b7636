//! Signing in and out.

use leptos::prelude::*;

use crate::serverfns::codec::Answer;

use crate::AppError;
use crate::dto::Me;

/// The signed-in person, or none.
#[server(prefix = "/console", endpoint = "current_user", output = Answer)]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    crate::ports::console()?.me().await
}

/// Signs in; on success the browser goes to `next` (a page of the console),
/// else to the exceptions.
#[server(prefix = "/console", endpoint = "login", output = Answer)]
pub async fn login(
    username: String,
    password: String,
    #[server(default)] next: Option<String>,
) -> Result<Me, AppError> {
    let me = crate::ports::console()?.login(username, password).await?;
    leptos_axum::redirect(&return_to(next.as_deref()));
    Ok(me)
}

/// Where to go after signing in: a path of the console, never another site.
pub fn return_to(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains(['\\', '\r', '\n']) => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Remembers how the person likes their queue list.
#[server(prefix = "/console", endpoint = "set_density", output = Answer)]
pub async fn set_density(density: crossdock::accounts::Density) -> Result<(), AppError> {
    crate::ports::console()?.set_density(density).await
}

#[cfg(test)]
mod tests {
    use super::return_to;

    #[test]
    fn after_signing_in_only_pages_of_the_console_are_returned_to() {
        assert_eq!(return_to(Some("/exceptions/4?do=claim")), "/exceptions/4?do=claim");
        assert_eq!(return_to(Some("//evil.example/x")), "/");
        assert_eq!(return_to(Some("https://evil.example")), "/");
        assert_eq!(return_to(Some("/\\evil")), "/");
        assert_eq!(return_to(None), "/");
    }
}

/// Signs out; the browser goes to the sign-in page.
#[server(prefix = "/console", endpoint = "logout", output = Answer)]
pub async fn logout() -> Result<(), AppError> {
    crate::ports::console()?.logout().await?;
    leptos_axum::redirect("/login");
    Ok(())
}
