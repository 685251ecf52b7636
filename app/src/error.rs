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
    /// Several values were refused; each message belongs next to its field.
    #[error("{}", .0.first().map(|f| f.message.as_str()).unwrap_or("Some values were refused."))]
    Fields(Vec<FieldError>),
    #[error("Not found.")]
    NotFound,
    /// Not signed in, or the session ended.
    #[error("Please sign in.")]
    Unauthenticated,
    /// Not allowed, and why (the role, or someone else holds the exception).
    #[error("{0}")]
    Forbidden(String),
    /// The request was understood and refused, e.g. a login lock.
    #[error("{0}")]
    Refused(String),
    /// Someone changed the thing since it was shown; the message says who and how.
    #[error("{0}")]
    Conflict(String),
    #[error("The service is busy or starting; try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. It has been logged.")]
    Internal,
    #[error("The server could not be reached or answered oddly: {0}")]
    Transport(ServerFnErrorErr),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid { field: field.into(), message: message.into() }
    }

    /// The message for one form field, if this error names it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid { field: f, message } if f == field => Some(message.clone()),
            AppError::Fields(fields) => fields.iter().find(|f| f.field == field).map(|f| f.message.clone()),
            _ => None,
        }
    }

    /// Whether the error is about the form's fields (shown next to them).
    pub fn is_about_fields(&self) -> bool {
        matches!(self, AppError::Invalid { .. } | AppError::Fields(_))
    }
}

/// A message for one form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value)
    }
}
