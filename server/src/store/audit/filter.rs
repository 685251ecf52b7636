//! Reading the trail through the auditor console's filter: which records a
//! filter holds, a page of them in the chain's order or in the order of
//! time, and how many an export will hold.

use crate::store::sql::Builder;
use anyhow::Context;
use crossdock::audit::chain::SealedRecord;
use crossdock::audit::query::{ActorFilter, AuditFilter, AuditOrder};
use crossdock::search::Words;

use super::{COLUMNS, Row};
use crate::store::{Backend, Pool, Tx, to_millis};

/// Adds `filter`'s conditions to a query over what [`source`] names.
fn push_filter<'a>(q: &mut Builder<'a>, filter: &'a AuditFilter, backend: Backend) {
    match &filter.actor {
        Some(ActorFilter::Exactly(actor)) => {
            q.push(" AND a.actor = ").push_bind(actor.to_string());
        }
        Some(ActorFilter::System) => {
            q.push(" AND a.actor >= 'system:' AND a.actor < 'system;'");
        }
        None => {}
    }
    if let Some(action) = filter.action {
        q.push(" AND a.action = ").push_bind(action.as_str());
    }
    if let Some(entity) = filter.entity {
        q.push(" AND a.entity = ").push_bind(entity.as_str());
    }
    if let Some(id) = &filter.entity_id {
        q.push(" AND a.entity_id = ").push_bind(id.as_str());
    }
    if let Some(exception) = filter.exception {
        q.push(" AND a.entity = 'exception' AND a.entity_id = ").push_bind(exception.to_string());
    }
    if filter.queue.is_some() || filter.site.is_some() || filter.key.is_some() {
        q.push(
            " AND a.entity = 'exception' AND a.entity_id IN (SELECT CAST(e.id AS TEXT) FROM exceptions e WHERE 1 = 1",
        );
        if let Some(queue) = &filter.queue {
            q.push(" AND e.queue = ").push_bind(queue.as_str());
        }
        if let Some(site) = &filter.site {
            q.push(" AND e.site = ").push_bind(site.as_str());
        }
        if let Some(key) = &filter.key {
            // A business key is one of the values of the exception's refs.
            q.push(" AND e.id IN (SELECT r.exception_id FROM exception_refs r WHERE r.value = ")
                .push_bind(key.as_str())
                .push(")");
        }
        q.push(")");
    }
    let (start, end) = filter.span();
    if let Some(start) = start {
        q.push(" AND a.at >= ").push_bind(to_millis(start));
    }
    if let Some(end) = end {
        q.push(" AND a.at < ").push_bind(to_millis(end));
    }
    if let Some(words) = &filter.words {
        match (Words::parse(words), backend) {
            (Some(words), Backend::Sqlite) => q.push(" AND w.audit_words MATCH ").push_bind(words.fts5()),
            (Some(words), Backend::Postgres) => q
                .push(" AND a.reason IS NOT NULL AND search_words(a.reason) @@ to_tsquery('simple', ")
                .push_bind(words.tsquery())
                .push(")"),
            (None, _) => q.push(" AND 1 = 0"),
        };
    }
}

/// What a filtered read reads, and the column its order and cursor follow:
/// the log, or with words the words index joined to the log, in record
/// order (the index hands its matches over by rowid, so a page reads no
/// further than it shows, however common the word).
/// On PostgreSQL the log is read with its word index (a GIN index of the
/// reasons' words).
fn source(filter: &AuditFilter, backend: Backend) -> (&'static str, &'static str) {
    match (&filter.words, backend) {
        (Some(_), Backend::Sqlite) => ("audit_words w CROSS JOIN audit_log a ON a.id = w.rowid", "w.rowid"),
        _ => ("audit_log a", "a.id"),
    }
}

/// How many records `filter` holds up to record `through`.
pub async fn count(tx: &mut Tx<'_>, filter: &AuditFilter, through: i64) -> anyhow::Result<i64> {
    let backend = Backend::of_tx(tx);
    let (from, key) = source(filter, backend);
    let mut q = Builder::new(format!("SELECT COUNT(*) FROM {from} WHERE 1 = 1"));
    push_filter(&mut q, filter, backend);
    q.push(format!(" AND {key} <= ")).push_bind(through);
    q.build_query_scalar()
        .persistent(filter.words.is_none())
        .fetch_one(&mut **tx)
        .await
        .context("Failed to count the records of an export")
}

/// A page of records that `filter` holds, after record `after` in the
/// filter's order by record number (and up to record `through`), `limit`
/// at most: the order of the chain, which exports follow.
pub async fn page(
    pool: &Pool,
    filter: &AuditFilter,
    after: Option<i64>,
    through: Option<i64>,
    limit: u32,
) -> anyhow::Result<Vec<SealedRecord>> {
    read(pool, filter, after, through, limit, false).await
}

/// A page of the console: as [`page`], but a filter with days is read in
/// the order of time (then record number), straight from the index of
/// instants, so that a week a year back costs what this week does.
/// Records are appended as they happen, so the two orders differ only
/// where a tool wrote older events.
pub async fn console_page(
    pool: &Pool,
    filter: &AuditFilter,
    after: Option<i64>,
    limit: u32,
) -> anyhow::Result<Vec<SealedRecord>> {
    let (start, end) = filter.span();
    let by_time = (start.is_some() || end.is_some()) && filter.words.is_none();
    read(pool, filter, after, None, limit, by_time).await
}

async fn read(
    pool: &Pool,
    filter: &AuditFilter,
    after: Option<i64>,
    through: Option<i64>,
    limit: u32,
    by_time: bool,
) -> anyhow::Result<Vec<SealedRecord>> {
    let backend = Backend::of(pool);
    let (from, key) = source(filter, backend);
    let from = if by_time { format!("audit_log a {}", backend.indexed_by("audit_log_at")) } else { from.to_owned() };
    let mut q = Builder::new(format!("SELECT {COLUMNS} FROM {from} WHERE 1 = 1"));
    push_filter(&mut q, filter, backend);
    let (cmp, order) = match filter.order {
        AuditOrder::NewestFirst => ("<", "DESC"),
        AuditOrder::OldestFirst => (">", "ASC"),
    };
    match after {
        Some(after) if by_time => {
            q.push(format!(" AND (a.at, a.id) {cmp} ((SELECT c.at FROM audit_log c WHERE c.id = "))
                .push_bind(after)
                .push("), ")
                .push_bind(after)
                .push(")");
        }
        Some(after) => {
            q.push(format!(" AND {key} {cmp} ")).push_bind(after);
        }
        None => {}
    }
    if let Some(through) = through {
        q.push(format!(" AND {key} <= ")).push_bind(through);
    }
    match by_time {
        true => q.push(format!(" ORDER BY a.at {order}, a.id {order} LIMIT ")),
        false => q.push(format!(" ORDER BY {key} {order} LIMIT ")),
    };
    q.push_bind(i64::from(limit));
    // Words are planned for their own values each time: a prepared statement
    // on PostgreSQL soon runs on a generic plan, blind to how rare they are.
    let rows: Vec<Row> = q
        .build_query_as()
        .persistent(filter.words.is_none())
        .fetch_all(pool)
        .await
        .context("Failed to read the audit trail")?;
    rows.iter().map(|r| r.sealed()?.with_context(|| format!("audit record {} is not sealed", r.id))).collect()
}
