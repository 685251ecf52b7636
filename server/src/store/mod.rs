//! The store: the only code that speaks SQL.

pub mod audit;
pub mod board;
pub mod bulk;
pub mod channels;
pub mod config;
pub mod connectors;
pub mod dead_letters;
pub mod escalation;
pub mod events;
pub mod exceptions;
pub mod expectations;
pub mod ingest;
pub mod kpi;
pub mod leases;
pub mod lineage;
pub mod notifications;
pub mod queue_views;
pub mod replay;
pub mod settings;
pub mod sources;
pub mod users;
pub mod views;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use settings::{DatabaseUrl, Synchronous};

/// The pool every service shares.
pub type Pool = SqlitePool;
/// A transaction owned by one use case.
pub type Tx<'c> = sqlx::Transaction<'c, sqlx::Sqlite>;

/// A pause between the slices of a long piece of work, so that writers
/// waiting on the database get their turn: SQLite's busy wait is not fair,
/// and a loop that begins its next transaction at once can hold others off
/// past their timeout.
pub async fn let_writers_in() {
    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
}

/// Begins a transaction that will write. It takes SQLite's write lock at
/// once (waiting up to the busy timeout for it), so that a transaction that
/// reads before it writes never fails because another writer went first.
pub async fn begin(pool: &Pool) -> Result<Tx<'static>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// The SQLite schema, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");

/// Opens the database (creating a missing SQLite file and its folder) and
/// applies the migrations.
pub async fn open(url: &DatabaseUrl, synchronous: Synchronous) -> anyhow::Result<Pool> {
    let pool = connect(url, synchronous).await?;
    MIGRATOR.run(&pool).await.with_context(|| format!("cannot migrate database {url}"))?;
    Ok(pool)
}

async fn connect(url: &DatabaseUrl, synchronous: Synchronous) -> anyhow::Result<Pool> {
    let options = match url {
        DatabaseUrl::SqliteFile(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create the database folder {}", parent.display()))?;
            }
            SqliteConnectOptions::new().filename(path).create_if_missing(true)
        }
        DatabaseUrl::SqliteMemory => {
            SqliteConnectOptions::from_str("sqlite::memory:").context("cannot configure an in-memory database")?
        }
    }
    .journal_mode(SqliteJournalMode::Wal)
    .synchronous(match synchronous {
        Synchronous::Full => SqliteSynchronous::Full,
        Synchronous::Normal => SqliteSynchronous::Normal,
    })
    .foreign_keys(true)
    .busy_timeout(Duration::from_secs(5));

    // An in-memory database lives in one connection only.
    let max = if matches!(url, DatabaseUrl::SqliteMemory) { 1 } else { 8 };
    SqlitePoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open database {url}"))
}

/// True when the database answers and every migration this binary knows of
/// has been applied.
pub async fn is_ready(pool: &Pool) -> bool {
    let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Result<Option<i64>, _> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(pool).await;
    match applied {
        Ok(applied) => applied == Some(latest),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            false
        }
    }
}

/// Instants are stored as epoch milliseconds.
pub(crate) fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> anyhow::Result<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single().with_context(|| format!("stored time {ms} is out of range"))
}
