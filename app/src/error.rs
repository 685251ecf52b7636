//! The error the server functions return to the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong, in words the console can show. Internal causes are logged
/// on the server and never sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A value the user gave was refused; `field` names the form field.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("Not found.")]
    NotFound,
    #[error("You are not allowed to do this.")]
    Forbidden,
    #[error("The service is busy or starting; try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. It has been logged.")]
    Internal,
    #[error("The server could not be reached or answered oddly: {0}")]
    Transport(ServerFnErrorErr),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value)
    }
}
