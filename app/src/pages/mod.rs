//! One module per page.

pub mod admin;
pub mod audit;
pub mod board;
pub mod exception;
pub mod kpis;
pub mod lineage;
pub mod login;
pub mod not_found;
pub mod queue;
pub mod settings;
pub mod transactions;
pub mod wall;
