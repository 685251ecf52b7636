//! Moving an installation to another database: every table copied row for
//! row into an empty one, in one transaction, then counted on both sides.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use futures::TryStreamExt;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::sql::Builder;
use super::{Backend, Pool};

/// Tables not copied: the migrations' own record, the open tallies, which
/// the target's triggers rebuild from the exceptions as they arrive, and the
/// words of each exception, written again once all is in.
const NOT_COPIED: [&str; 3] = ["_sqlx_migrations", "open_tallies", "exception_words"];

/// The triggers that index each exception's words as it changes, set aside
/// while the copy runs.
const WORDS_TRIGGERS: [(&str, &str); 2] =
    [("exceptions", "exception_words_own"), ("audit_log", "exception_words_note")];

/// Tables the target's schema fills with a starting row; the source's rows
/// take their place.
const SEEDED: [&str; 6] =
    ["open_tally_clock", "lineage_backfill", "lineage_sweep", "kpi_backfill", "sweep_leases", "sources"];

/// Tables that hold a database's use: the target must have none of these.
const IN_USE: [&str; 4] = ["exceptions", "events", "users", "audit_log"];

/// Rows sent in one statement (PostgreSQL takes 65,535 values at most).
const ROWS_AT_ONCE: usize = 500;

/// How a column's values are read and written.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Integer,
    Real,
    Text,
}

/// One table of the target: its columns in order.
struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
}

/// Copies every row of `from` into `to`, a PostgreSQL database migrated and
/// unused; the number of rows of each table copied, in the order copied.
pub async fn copy_all(from: &Pool, to: &Pool) -> anyhow::Result<Vec<(String, i64)>> {
    anyhow::ensure!(Backend::of(to) == Backend::Postgres, "the target must be a PostgreSQL database");
    for table in IN_USE {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(to).await?;
        anyhow::ensure!(n == 0, "the target is in use: its {table} holds {n} rows; give an empty database");
    }
    let tables = target_tables(to).await?;
    let mut tx = super::begin(to).await.context("Failed to begin the copy")?;
    for table in SEEDED {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
    }
    // The words are indexed once, when all is in.
    for (table, trigger) in WORDS_TRIGGERS {
        sqlx::query(&format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}")).execute(&mut *tx).await?;
    }
    let mut copied = Vec::new();
    for table in &tables {
        let names = table.columns.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ");
        let mut count = 0_i64;
        // Read as one stream (on its own connection), written in batches.
        let select = format!("SELECT {names} FROM {}", table.name);
        let mut rows = sqlx::query(&select).fetch(from);
        let mut batch: Vec<AnyRow> = Vec::with_capacity(ROWS_AT_ONCE);
        loop {
            let row = rows.try_next().await.with_context(|| format!("Failed to read {}", table.name))?;
            let done = row.is_none();
            batch.extend(row);
            if batch.len() == ROWS_AT_ONCE || (done && !batch.is_empty()) {
                insert(&mut tx, table, &names, &batch).await?;
                count += batch.len() as i64;
                batch.clear();
            }
            if done {
                break;
            }
        }
        copied.push((table.name.clone(), count));
    }
    for table in &tables {
        if table.columns.iter().any(|(c, _)| c == "id") && has_identity(&mut tx, &table.name).await? {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {0}",
                table.name
            ))
            .execute(&mut *tx)
            .await
            .with_context(|| format!("Failed to move on the ids of {}", table.name))?;
        }
    }
    sqlx::query("SELECT exception_words_rebuild()")
        .execute(&mut *tx)
        .await
        .context("Failed to index the words of the exceptions copied")?;
    for (table, trigger) in WORDS_TRIGGERS {
        sqlx::query(&format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}")).execute(&mut *tx).await?;
    }
    tx.commit().await.context("Failed to commit the copy")?;
    Ok(copied)
}

/// Writes one batch of rows read from the source.
async fn insert(tx: &mut super::Tx<'_>, table: &Table, names: &str, rows: &[AnyRow]) -> anyhow::Result<()> {
    let mut q = Builder::new(format!("INSERT INTO {} ({names}) ", table.name));
    let mut failed = None;
    q.push_values(rows, |mut b, row| {
        for (i, (column, kind)) in table.columns.iter().enumerate() {
            let read = match kind {
                Kind::Integer => row.try_get::<Option<i64>, _>(i).map(|v| {
                    b.push_bind(v);
                }),
                // A whole number in a REAL column reads as an integer.
                Kind::Real => row
                    .try_get::<Option<f64>, _>(i)
                    .or_else(|_| row.try_get::<Option<i64>, _>(i).map(|v| v.map(|n| n as f64)))
                    .map(|v| {
                        b.push_bind(v);
                    }),
                Kind::Text => row.try_get::<Option<String>, _>(i).map(|v| {
                    b.push_bind(v);
                }),
            };
            if let Err(err) = read {
                failed.get_or_insert(format!("{}.{column}: {err}", table.name));
                b.push_bind(None::<i64>);
            }
        }
    });
    if let Some(failed) = failed {
        anyhow::bail!("a value does not read as its column's type: {failed}");
    }
    q.build().execute(&mut **tx).await.with_context(|| format!("Failed to write rows of {}", table.name))?;
    Ok(())
}

/// The target's tables in an order where each comes after those it refers
/// to, with their columns.
async fn target_tables(to: &Pool) -> anyhow::Result<Vec<Table>> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
    )
    .fetch_all(to)
    .await
    .context("Failed to read the target's tables")?;
    let mut tables: BTreeMap<String, Vec<(String, Kind)>> = BTreeMap::new();
    for (table, column, data_type) in columns {
        if NOT_COPIED.contains(&table.as_str()) {
            continue;
        }
        let kind = match data_type.as_str() {
            "bigint" | "integer" | "smallint" => Kind::Integer,
            "double precision" | "real" => Kind::Real,
            "text" => Kind::Text,
            other => anyhow::bail!("the target's column {table}.{column} is of a type the copy does not know: {other}"),
        };
        tables.entry(table).or_default().push((column, kind));
    }
    let references: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, r.relname::text FROM pg_constraint k \
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid \
         WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace",
    )
    .fetch_all(to)
    .await
    .context("Failed to read the target's references")?;
    // Each round takes the tables whose references are all placed.
    let mut placed: Vec<Table> = Vec::new();
    let mut left: BTreeSet<String> = tables.keys().cloned().collect();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|t| references.iter().all(|(from, to)| from != *t || to == *t || !left.contains(to)))
            .cloned()
            .collect();
        anyhow::ensure!(!ready.is_empty(), "the target's tables refer to each other in a circle: {left:?}");
        for name in ready {
            left.remove(&name);
            let columns = tables.remove(&name).unwrap_or_default();
            placed.push(Table { name, columns });
        }
    }
    Ok(placed)
}

async fn has_identity(tx: &mut super::Tx<'_>, table: &str) -> anyhow::Result<bool> {
    let identity: Option<String> = sqlx::query_scalar(
        "SELECT is_identity::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'id'",
    )
    .bind(table)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(identity.as_deref() == Some("YES"))
}

/// The number of rows of each table on each side, where they differ.
pub async fn differences(from: &Pool, to: &Pool, copied: &[(String, i64)]) -> anyhow::Result<Vec<String>> {
    let mut differ = Vec::new();
    for (table, _) in copied {
        let count = |pool: &Pool| {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let pool = pool.clone();
            async move { sqlx::query_scalar::<_, i64>(&sql).fetch_one(&pool).await }
        };
        let (a, b) = (count(from).await?, count(to).await?);
        if a != b {
            differ.push(format!("{table}: {a} here, {b} there"));
        }
    }
    Ok(differ)
}
