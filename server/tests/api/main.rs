//! Integration tests of the server: a real server on an ephemeral port over a
//! real SQLite file.

mod accounts;
mod audit;
mod board;
mod channels;
mod cli;
mod configuration;
mod console;
mod console_fixes;
mod contract;
mod escalation;
mod hardening;
mod health;
mod helpers;
mod ingest;
mod ingest_bad_input;
mod kpis;
mod lineage;
mod live;
mod metrics;
mod nats;
mod replay;
mod scale;
mod search;
mod store;
mod triage;
mod views;
