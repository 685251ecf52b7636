//! Components shared by several pages.

pub mod auth;
pub mod exception_table;
pub mod forms;
pub mod nav;
