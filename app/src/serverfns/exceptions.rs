//! Server functions over exceptions.

use crossdock::ExceptionListItem;
use leptos::prelude::*;

use crate::AppError;

/// Exceptions whose summary, site, queue, type or business keys contain `text`.
#[server(prefix = "/console", endpoint = "list_exceptions")]
pub async fn list_exceptions(text: String) -> Result<Vec<ExceptionListItem>, AppError> {
    let query = crossdock::ListQuery::parse(&text)
        .map_err(|e| crate::ports::with_status(AppError::invalid("filter", e.to_string())))?;
    crate::ports::console()?.list_exceptions(query).await
}
