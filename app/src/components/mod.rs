//! Components shared by several pages.

pub mod exception_table;
pub mod nav;
