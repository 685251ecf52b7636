//! The Crossdock server: ingest API, services, store, workers and the console.

pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod demo;
pub mod error;
pub mod http;
pub mod ingest;
pub mod openapi;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;
