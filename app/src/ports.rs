//! The port through which server functions reach the server's services.
//!
//! The server implements [`ConsolePort`] and provides a [`Console`] as Leptos
//! context for every page render and server-function call.

use std::sync::Arc;

use crossdock::{ExceptionListItem, ListQuery};
use leptos::prelude::use_context;

use crate::AppError;

/// The use cases the console calls.
#[async_trait::async_trait]
pub trait ConsolePort: Send + Sync + 'static {
    /// Exceptions matching a query, newest first.
    async fn list_exceptions(&self, query: ListQuery) -> Result<Vec<ExceptionListItem>, AppError>;
}

/// The services as the console sees them.
pub type Console = Arc<dyn ConsolePort>;

/// The services provided to this request, or an error when they are missing.
pub fn console() -> Result<Console, AppError> {
    use_context::<Console>().ok_or_else(|| {
        leptos::logging::error!("the console services were not provided as context");
        AppError::Internal
    })
}
