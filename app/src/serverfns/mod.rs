//! Server functions, grouped by resource.

pub mod exceptions;
