//! Use cases. Each checks its actor, runs in one transaction and writes its
//! audit record in that same transaction.

mod exceptions;

pub use exceptions::SeedOutcome;

use crate::store::Pool;

/// Why a use case did not happen, grouped by what the caller must do.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A value from the caller was refused (400 / a message next to a field).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Something failed that the caller cannot fix (500); logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The services of one server process; cheap to clone.
#[derive(Clone)]
pub struct Services {
    pool: Pool,
}

impl Services {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }
}
