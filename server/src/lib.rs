//! The Crossdock server: ingest API, services, store, workers and the console.

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo_target;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod nats;
pub mod secrets;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;
