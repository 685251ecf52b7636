//! The store: the only code that speaks SQL.

pub mod audit;
pub mod board;
pub mod bulk;
pub mod channels;
pub mod config;
pub mod connectors;
pub mod copy;
pub mod dead_letters;
pub mod escalation;
pub mod events;
pub mod exceptions;
pub mod expectations;
pub mod ingest;
pub mod kpi;
pub mod leases;
pub mod lineage;
pub mod live;
pub mod notifications;
pub mod queue_views;
pub mod replay;
pub mod sessions;
pub mod settings;
pub mod sources;
pub mod sql;
pub mod users;
pub mod views;

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::Executor;
use sqlx::migrate::Migrator;
use sqlx::pool::PoolOptions;

use settings::{DatabaseUrl, Synchronous};

/// The pool every service shares: SQLite or PostgreSQL, chosen by the
/// database URL at start-up. Statements are written once, with `$1`-style
/// placeholders both read; where the two backends need different text, the
/// query says so with [`Backend::pick`], both texts side by side.
pub type Pool = sqlx::AnyPool;
/// A transaction owned by one use case.
pub type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Which database a pool or transaction speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(pool: &Pool) -> Backend {
        if pool.connect_options().database_url.scheme().starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn of_tx(tx: &Tx<'_>) -> Backend {
        if tx.backend_name() == "PostgreSQL" { Backend::Postgres } else { Backend::Sqlite }
    }

    /// SQLite's `INDEXED BY index`, for a query whose best index SQLite's
    /// planner misses at depth; PostgreSQL's planner chooses for itself.
    pub fn indexed_by(self, index: &str) -> String {
        match self {
            Backend::Sqlite => format!("INDEXED BY {index}"),
            Backend::Postgres => String::new(),
        }
    }

    /// `a IS b`, true also when both are NULL.
    pub fn is(self) -> &'static str {
        self.pick("IS", "IS NOT DISTINCT FROM")
    }

    /// The statement text for this backend.
    pub fn pick<'a>(self, sqlite: &'a str, postgres: &'a str) -> &'a str {
        match self {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }
}

/// A pause between the slices of a long piece of work, so that writers
/// waiting on the database get their turn: SQLite's busy wait is not fair,
/// and a loop that begins its next transaction at once can hold others off
/// past their timeout.
pub async fn let_writers_in() {
    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
}

/// The key of the PostgreSQL advisory lock that write transactions take.
const WRITE_LOCK: i64 = 0x0C05_5D0C;

/// Begins a transaction that will write. It takes the database's write lock
/// at once (waiting for it), so that a transaction that reads before it
/// writes never fails or races because another writer went first: SQLite's
/// `BEGIN IMMEDIATE`, and on PostgreSQL a transaction-scoped advisory lock,
/// which gives every instance on the database the same order of writes.
pub async fn begin(pool: &Pool) -> Result<Tx<'static>, sqlx::Error> {
    match Backend::of(pool) {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
            Ok(tx)
        }
    }
}

/// Begins a transaction that only reads and sees one snapshot throughout:
/// SQLite's deferred transaction does; PostgreSQL's default (read committed)
/// takes a new snapshot for each statement, so it asks for repeatable read.
pub async fn begin_read(pool: &Pool) -> Result<Tx<'static>, sqlx::Error> {
    match Backend::of(pool) {
        Backend::Sqlite => pool.begin().await,
        Backend::Postgres => pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await,
    }
}

/// The SQLite schema, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");
/// The PostgreSQL schema, embedded in the binary.
pub static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &MIGRATOR,
        Backend::Postgres => &POSTGRES_MIGRATOR,
    }
}

/// Opens the database (creating a missing SQLite file and its folder) and
/// applies the migrations.
pub async fn open(url: &DatabaseUrl, synchronous: Synchronous) -> anyhow::Result<Pool> {
    let pool = connect(url, synchronous).await?;
    migrator(Backend::of(&pool)).run(&pool).await.with_context(|| format!("cannot migrate database {url}"))?;
    Ok(pool)
}

async fn connect(url: &DatabaseUrl, synchronous: Synchronous) -> anyhow::Result<Pool> {
    sqlx::any::install_default_drivers();
    let (address, max) = match url {
        DatabaseUrl::SqliteFile(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create the database folder {}", parent.display()))?;
            }
            let path = path.to_str().with_context(|| format!("the database path {} is not UTF-8", path.display()))?;
            // The path is read percent-decoded: escape what would end it early.
            let path = path.replace('%', "%25").replace('?', "%3F").replace('#', "%23");
            (format!("sqlite://{path}?mode=rwc"), 8)
        }
        // An in-memory database lives in one connection only.
        DatabaseUrl::SqliteMemory => ("sqlite::memory:".to_owned(), 1),
        DatabaseUrl::Postgres(address) => (address.clone(), 16),
    };
    let pragmas = format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
        match synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    );
    let sqlite = !matches!(url, DatabaseUrl::Postgres(_));
    PoolOptions::<sqlx::Any>::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _| {
            let pragmas = pragmas.clone();
            Box::pin(async move {
                if sqlite {
                    conn.execute(sqlx::raw_sql(&pragmas)).await?;
                }
                Ok(())
            })
        })
        .connect(&address)
        .await
        .with_context(|| format!("cannot open database {url}"))
}

/// True when the database answers and every migration this binary knows of
/// has been applied.
pub async fn is_ready(pool: &Pool) -> bool {
    let latest = migrator(Backend::of(pool)).iter().map(|m| m.version).max().unwrap_or(0);
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

/// A yes/no value read from the database: stored as an integer 0 or 1 on
/// both backends (SQLite has no boolean type), or a boolean expression that
/// PostgreSQL answers as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        ty.kind().is_integer() || ty.kind() == sqlx::any::AnyTypeInfoKind::Bool
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        use sqlx::ValueRef;
        if value.type_info().kind() == sqlx::any::AnyTypeInfoKind::Bool {
            <bool as sqlx::Decode<sqlx::Any>>::decode(value).map(Flag)
        } else {
            <i64 as sqlx::Decode<sqlx::Any>>::decode(value).map(|n| Flag(n != 0))
        }
    }
}
