//! The append-only audit log, sealed as a hash chain (see
//! [`crossdock::audit::chain`]): each record is written with its hash and
//! the hash of the record before it, in the transaction of the change it
//! records. SQLite has one writer at a time, so the chain is a single line.

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::audit::chain::{
    ChainBreak, ChainHash, ChainWalk, KeptHead, Link, Parts, SealedRecord, canonical_json, seal_parts,
};
use crossdock::audit::query::{ActorFilter, AuditFilter, AuditOrder};
use crossdock::audit::{AuditEntry, AuditRecord, Entity};
use futures::TryStreamExt;
use sqlx::{QueryBuilder, Sqlite};

use super::{Pool, Tx, from_millis, to_millis};

/// The columns of a record, in the order [`Row`] reads them.
const COLUMNS: &str =
    "a.id, a.at, a.actor, a.action, a.entity, a.entity_id, a.before, a.after, a.reason, a.prev_hash, a.hash";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    before: Option<String>,
    after: Option<String>,
    reason: Option<String>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

impl Row {
    fn entry(&self) -> anyhow::Result<AuditEntry> {
        let json = |text: &Option<String>| -> anyhow::Result<Option<serde_json::Value>> {
            text.as_deref().map(serde_json::from_str).transpose().context("stored audit values are unreadable")
        };
        let id = self.id;
        Ok(AuditEntry {
            at: from_millis(self.at)?,
            actor: self.actor.parse().with_context(|| format!("audit record {id}: actor"))?,
            action: self.action.parse().with_context(|| format!("audit record {id}: action"))?,
            entity: self.entity.parse().with_context(|| format!("audit record {id}: entity"))?,
            entity_id: self.entity_id.clone(),
            before: json(&self.before)?,
            after: json(&self.after)?,
            reason: self.reason.clone(),
        })
    }

    fn into_record(self) -> anyhow::Result<AuditRecord> {
        Ok(AuditRecord { id: self.id, entry: self.entry()? })
    }

    /// The record and its seal; `None` for a record not sealed yet.
    fn sealed(&self) -> anyhow::Result<Option<SealedRecord>> {
        let (Some(prev), Some(hash)) = (&self.prev_hash, &self.hash) else { return Ok(None) };
        Ok(Some(SealedRecord {
            record: AuditRecord { id: self.id, entry: self.entry()? },
            prev: prev.parse().context("stored hash is unreadable")?,
            hash: hash.parse().context("stored hash is unreadable")?,
        }))
    }
}

fn records(rows: Vec<Row>) -> anyhow::Result<Vec<AuditRecord>> {
    rows.into_iter().map(Row::into_record).collect()
}

/// The chain's last record and its hash; `(0, genesis)` for an empty trail.
pub async fn head<'e>(db: impl sqlx::SqliteExecutor<'e>) -> anyhow::Result<(i64, ChainHash)> {
    let row: Option<(i64, Option<String>)> = sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
        .fetch_optional(db)
        .await
        .context("Failed to read the audit chain's head")?;
    match row {
        None => Ok((0, ChainHash::GENESIS)),
        Some((id, Some(hash))) => Ok((id, hash.parse().context("stored hash is unreadable")?)),
        Some((id, None)) => anyhow::bail!("audit record {id} is not sealed: start the server once to seal the trail"),
    }
}

/// Appends records in the caller's transaction, in order, each sealed after
/// the one before.
pub async fn append(tx: &mut Tx<'_>, entries: &[AuditEntry]) -> anyhow::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev) = head(&mut **tx).await?;
    for chunk in entries.chunks(100) {
        let mut sealed = Vec::with_capacity(chunk.len());
        for e in chunk {
            seq += 1;
            let hash = crossdock::audit::chain::seal(seq, e, prev);
            sealed.push((seq, e, prev, hash));
            prev = hash;
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, before, after, reason, prev_hash, hash) ",
        );
        q.push_values(sealed, |mut b, (seq, e, prev, hash)| {
            b.push_bind(seq)
                .push_bind(to_millis(e.at))
                .push_bind(e.actor.to_string())
                .push_bind(e.action.as_str())
                .push_bind(e.entity.as_str())
                .push_bind(e.entity_id.clone())
                // In canonical form, so that a walk hashes the text as stored.
                .push_bind(e.before.as_ref().map(canonical_json))
                .push_bind(e.after.as_ref().map(canonical_json))
                .push_bind(e.reason.clone())
                .push_bind(prev.to_string())
                .push_bind(hash.to_string());
        });
        q.build().execute(&mut **tx).await.context("Failed to write the audit log")?;
    }
    Ok(())
}

/// Seals the records written before the chain existed, oldest first; how
/// many it sealed.
pub async fn seal_unsealed(pool: &Pool) -> anyhow::Result<u64> {
    let mut tx = super::begin(pool).await.context("Failed to begin sealing the audit trail")?;
    let first: Option<i64> = sqlx::query_scalar("SELECT MIN(id) FROM audit_log WHERE hash IS NULL")
        .fetch_one(&mut *tx)
        .await
        .context("Failed to find unsealed audit records")?;
    let Some(first) = first else { return Ok(0) };
    let mut prev: ChainHash = match sqlx::query_scalar::<_, Option<String>>(
        "SELECT hash FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT 1",
    )
    .bind(first)
    .fetch_optional(&mut *tx)
    .await
    .context("Failed to read the last sealed record")?
    .flatten()
    {
        Some(hash) => hash.parse().context("stored hash is unreadable")?,
        None => ChainHash::GENESIS,
    };
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM audit_log a WHERE a.id >= ? ORDER BY a.id"))
        .bind(first)
        .fetch_all(&mut *tx)
        .await
        .context("Failed to read unsealed audit records")?;
    let sealed = rows.len() as u64;
    for row in rows {
        let hash = crossdock::audit::chain::seal(row.id, &row.entry()?, prev);
        sqlx::query("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?")
            .bind(prev.to_string())
            .bind(hash.to_string())
            .bind(row.id)
            .execute(&mut *tx)
            .await
            .context("Failed to seal an audit record")?;
        prev = hash;
    }
    tx.commit().await.context("Failed to commit the sealed audit records")?;
    Ok(sealed)
}

/// What a walk over the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub checked: u64,
    /// The last record that checked, and its hash.
    pub verified: Option<(i64, ChainHash)>,
    pub broken: Option<ChainBreak>,
}

/// Walks the whole chain in order, streaming (memory stays flat however
/// long the trail), against a head kept outside when given.
pub async fn verify(pool: &Pool, kept: Option<KeptHead>) -> anyhow::Result<ChainReport> {
    let mut walk = ChainWalk::from_start().holding(kept);
    let sql = format!("SELECT {COLUMNS} FROM audit_log a ORDER BY a.id");
    let mut rows = sqlx::query_as::<_, Row>(&sql).fetch(pool);
    let mut broken = None;
    let mut batch = Vec::with_capacity(VERIFY_BATCH);
    loop {
        let row = rows.try_next().await.context("Failed to read the audit trail")?;
        let end = row.is_none();
        batch.extend(row);
        if batch.len() < VERIFY_BATCH && !end {
            continue;
        }
        let checked =
            tokio::task::spawn_blocking(move || seal_checked(batch)).await.context("a seal check failed")??;
        batch = Vec::with_capacity(VERIFY_BATCH);
        for (id, sealed) in checked {
            // A record that no longer reads was changed by hand.
            let step = match sealed {
                Some((link, intact)) => walk.step_link(link, intact),
                None => Err(ChainBreak::Edited(id)),
            };
            if let Err(b) = step {
                broken = Some(b);
                break;
            }
        }
        if broken.is_some() || end {
            break;
        }
    }
    if broken.is_none() {
        broken = walk.finish().err();
    }
    Ok(ChainReport { checked: walk.checked(), verified: walk.head(), broken })
}

/// A record's number, and its place in the chain with whether it matches
/// its seal (`None` when it no longer reads).
type Checked = (i64, Option<(Link, bool)>);

/// Records a walk reads before checking their seals together.
const VERIFY_BATCH: usize = 4096;

/// Each row's place in the chain and whether it matches its seal (`None`
/// when it no longer reads), in order; the seals are computed on every core.
fn seal_checked(rows: Vec<Row>) -> anyhow::Result<Vec<Checked>> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let part = rows.len().div_ceil(cores.max(1)).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = rows
            .chunks(part)
            .map(|chunk| scope.spawn(move || chunk.iter().map(Row::checked).collect::<Vec<_>>()))
            .collect();
        let mut checked = Vec::with_capacity(rows.len());
        for p in parts {
            checked.extend(p.join().map_err(|_| anyhow::anyhow!("a seal check panicked"))?);
        }
        Ok(checked)
    })
}

impl Row {
    /// Its place in the chain and whether it matches its seal: hashed from
    /// the text as stored (the trail stores values in canonical JSON), or,
    /// for a record written before it did, from the values it reads as.
    fn checked(&self) -> Checked {
        let link = |prev: &Option<String>, hash: &Option<String>| -> Option<Link> {
            Some(Link { seq: self.id, prev: prev.as_deref()?.parse().ok()?, hash: hash.as_deref()?.parse().ok()? })
        };
        let Some(link) = link(&self.prev_hash, &self.hash) else { return (self.id, None) };
        let parts = Parts {
            seq: self.id,
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            entity: &self.entity,
            entity_id: &self.entity_id,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
            reason: self.reason.as_deref(),
            prev: link.prev,
        };
        if seal_parts(&parts) == link.hash {
            return (self.id, Some((link, true)));
        }
        match self.sealed() {
            Ok(Some(sealed)) => (self.id, Some((link, sealed.intact()))),
            _ => (self.id, None),
        }
    }
}

/// Adds `filter`'s conditions to a query over what [`source`] names.
fn push_filter<'a>(q: &mut QueryBuilder<'a, Sqlite>, filter: &'a AuditFilter) {
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
        match match_words(words) {
            Some(query) => q.push(" AND w.audit_words MATCH ").push_bind(query),
            None => q.push(" AND 0"),
        };
    }
}

/// What a filtered read reads, and the column its order and cursor follow:
/// the log, or with words the words index joined to the log, in record
/// order (the index hands its matches over by rowid, so a page reads no
/// further than it shows, however common the word).
fn source(filter: &AuditFilter) -> (&'static str, &'static str) {
    match filter.words {
        Some(_) => ("audit_words w CROSS JOIN audit_log a ON a.id = w.rowid", "w.rowid"),
        None => ("audit_log a", "a.id"),
    }
}

/// Words as a full-text query: each a quoted prefix (`SUP-01` finds
/// `SUP-017`), all of them required; `None` when no word has a letter or a
/// digit to look for.
fn match_words(words: &str) -> Option<String> {
    let terms: Vec<String> = words
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// How many records `filter` holds up to record `through`.
pub async fn count(tx: &mut Tx<'_>, filter: &AuditFilter, through: i64) -> anyhow::Result<i64> {
    let (from, key) = source(filter);
    let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT COUNT(*) FROM {from} WHERE 1 = 1"));
    push_filter(&mut q, filter);
    q.push(format!(" AND {key} <= ")).push_bind(through);
    q.build_query_scalar().fetch_one(&mut **tx).await.context("Failed to count the records of an export")
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
    let (from, key) = source(filter);
    let from = if by_time { "audit_log a INDEXED BY audit_log_at" } else { from };
    let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM {from} WHERE 1 = 1"));
    push_filter(&mut q, filter);
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
    let rows: Vec<Row> = q.build_query_as().fetch_all(pool).await.context("Failed to read the audit trail")?;
    rows.iter().map(|r| r.sealed()?.with_context(|| format!("audit record {} is not sealed", r.id))).collect()
}

/// The action of an exception's repeated occurrences.
const RECURRED: &str = "exception.recurred";

/// Every record about one thing, oldest first, but for the repeated
/// occurrences of an exception (the trail keeps each; the exception's
/// page counts them).
pub async fn of(pool: &Pool, entity: Entity, id: &str) -> anyhow::Result<Vec<AuditRecord>> {
    let rows = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log a WHERE a.entity = ? AND a.entity_id = ? AND a.action <> '{RECURRED}' \
         ORDER BY a.id"
    ))
    .bind(entity.as_str())
    .bind(id)
    .fetch_all(pool)
    .await
    .context("Failed to read an audit trail")?;
    records(rows)
}

/// The newest record about one thing: who changed it last, and how (an
/// occurrence changes nobody's work).
pub async fn last_of(tx: &mut Tx<'_>, entity: Entity, id: &str) -> anyhow::Result<Option<AuditRecord>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log a WHERE a.entity = ? AND a.entity_id = ? AND a.action <> '{RECURRED}' \
         ORDER BY a.id DESC LIMIT 1"
    ))
    .bind(entity.as_str())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .context("Failed to read the last change")?;
    row.map(Row::into_record).transpose()
}

/// A check of the chain, as the console shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CheckRow {
    pub finished_at: i64,
    pub checked: i64,
    pub verified_seq: Option<i64>,
    pub verified_hash: Option<String>,
    pub broken: Option<String>,
    pub requested_by: Option<String>,
}

/// Records a check of the chain.
pub async fn record_check(
    pool: &Pool,
    report: &ChainReport,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    requested_by: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit_checks (started_at, finished_at, checked, verified_seq, verified_hash, broken, requested_by) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(to_millis(started))
    .bind(to_millis(finished))
    .bind(i64::try_from(report.checked).unwrap_or(i64::MAX))
    .bind(report.verified.map(|(seq, _)| seq))
    .bind(report.verified.map(|(_, hash)| hash.to_string()))
    .bind(report.broken.as_ref().map(ToString::to_string))
    .bind(requested_by)
    .execute(pool)
    .await
    .context("Failed to record a check of the audit chain")?;
    Ok(())
}

/// The latest check of the chain.
pub async fn last_check(pool: &Pool) -> anyhow::Result<Option<CheckRow>> {
    sqlx::query_as(
        "SELECT finished_at, checked, verified_seq, verified_hash, broken, requested_by FROM audit_checks \
         ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .context("Failed to read the last check of the audit chain")
}
