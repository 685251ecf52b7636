//! Server functions, grouped by resource. Each is a thin adapter: take the
//! console port from context, call one use case.

pub mod audit;
pub mod auth;
pub mod board;
pub mod channels;
pub mod codec;
pub mod config;
pub mod exceptions;
pub mod kpis;
pub mod lineage;
pub mod notifications;
pub mod queues;
pub mod replays;
pub mod sources;
pub mod users;
