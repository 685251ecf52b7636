//! The console port, implemented over the services.

use std::sync::Arc;

use crossdock::{ExceptionListItem, ListQuery};
use crossdock_app::AppError;
use crossdock_app::ports::{Console, ConsolePort};

use crate::services::{ServiceError, Services};

struct ConsoleServices(Services);

/// The services as the console's server functions reach them.
pub fn console(services: Services) -> Console {
    Arc::new(ConsoleServices(services))
}

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid { field, message } => AppError::Invalid { field, message },
            ServiceError::Problems(problems) => match problems.into_iter().next() {
                Some(p) => AppError::Invalid {
                    field: p.pointer,
                    message: p.message,
                },
                None => AppError::Internal,
            },
            ServiceError::NotFound(_) => AppError::NotFound,
            ServiceError::Overloaded => AppError::Unavailable,
            ServiceError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "console request failed");
                AppError::Internal
            }
        }
    }
}

#[async_trait::async_trait]
impl ConsolePort for ConsoleServices {
    async fn list_exceptions(&self, query: ListQuery) -> Result<Vec<ExceptionListItem>, AppError> {
        Ok(self.0.list_exceptions(query).await?)
    }
}
