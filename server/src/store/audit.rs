//! The append-only audit log, sealed as a hash chain (see
//! [`crossdock::audit::chain`]): each record is written with its hash and
//! the hash of the record before it, in the transaction of the change it
//! records. SQLite has one writer at a time, so the chain is a single line.

use crate::store::sql::Builder;
use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::audit::chain::{
    ChainBreak, ChainHash, ChainWalk, KeptHead, Link, Parts, SealedRecord, canonical_json, seal_parts,
};
use crossdock::audit::{AuditEntry, AuditRecord, Entity};

use super::{Backend, Pool, Tx, from_millis, to_millis};

mod filter;
pub use filter::{console_page, count, page};

/// The columns of a record, in the order [`Row`] reads them.
const COLUMNS: &str =
    "a.id, a.at, a.actor, a.action, a.entity, a.entity_id, a.before, a.after, a.reason, a.prev_hash, a.hash";

#[derive(sqlx::FromRow, serde::Deserialize)]
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
pub async fn head<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> anyhow::Result<(i64, ChainHash)> {
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
        let mut q = Builder::new(
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
        "SELECT hash FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT 1",
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
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM audit_log a WHERE a.id >= $1 ORDER BY a.id"))
        .bind(first)
        .fetch_all(&mut *tx)
        .await
        .context("Failed to read unsealed audit records")?;
    let sealed = rows.len() as u64;
    for row in rows {
        let hash = crossdock::audit::chain::seal(row.id, &row.entry()?, prev);
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE id = $3")
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

/// Walks the whole chain in order, a page at a time (memory stays flat
/// however long the trail), against a head kept outside when given.
pub async fn verify(pool: &Pool, kept: Option<KeptHead>) -> anyhow::Result<ChainReport> {
    let mut walk = ChainWalk::from_start().holding(kept);
    let mut broken = None;
    let mut after = 0;
    loop {
        let rows = verify_page(pool, after).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let checked =
            tokio::task::spawn_blocking(move || seal_checked(rows)).await.context("a seal check failed")??;
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
        if broken.is_some() {
            break;
        }
    }
    if broken.is_none() {
        broken = walk.finish().err();
    }
    Ok(ChainReport { checked: walk.checked(), verified: walk.head(), broken })
}

/// Records a walk reads and checks at a time.
const VERIFY_PAGE: i64 = 4096;

/// The records after `after`, in order. Handing a row across the driver
/// costs more than hashing it, so the database hands over a page as one
/// JSON array; a page that does not read that way (a value of the wrong
/// type put in by hand) is read row by row, as any other read would.
async fn verify_page(pool: &Pool, after: i64) -> anyhow::Result<Vec<Row>> {
    let whole: Result<String, _> = sqlx::query_scalar(Backend::of(pool).pick(
        "SELECT json_group_array(json_array(id, at, actor, action, entity, entity_id, before, after, reason, \
         prev_hash, hash)) FROM (SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2) page",
        "SELECT json_agg(json_build_array(id, at, actor, action, entity, entity_id, before, after, reason, \
         prev_hash, hash))::text FROM (SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2) page",
    ))
    .bind(after)
    .bind(VERIFY_PAGE)
    .fetch_one(pool)
    .await;
    if let Some(mut rows) = whole.ok().and_then(|text| serde_json::from_str::<Vec<Row>>(&text).ok()) {
        // An aggregate promises no order of its own.
        rows.sort_by_key(|r| r.id);
        return Ok(rows);
    }
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM audit_log a WHERE a.id > $1 ORDER BY a.id LIMIT $2"))
        .bind(after)
        .bind(VERIFY_PAGE)
        .fetch_all(pool)
        .await
        .context("Failed to read the audit trail")
}

/// A record's number, and its place in the chain with whether it matches
/// its seal (`None` when it no longer reads).
type Checked = (i64, Option<(Link, bool)>);

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

/// The action of an exception's repeated occurrences.
const RECURRED: &str = "exception.recurred";

/// Every record about one thing, oldest first, but for the repeated
/// occurrences of an exception (the trail keeps each; the exception's
/// page counts them).
pub async fn of(pool: &Pool, entity: Entity, id: &str) -> anyhow::Result<Vec<AuditRecord>> {
    let rows = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_log a WHERE a.entity = $1 AND a.entity_id = $2 AND a.action <> '{RECURRED}' \
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
        "SELECT {COLUMNS} FROM audit_log a WHERE a.entity = $1 AND a.entity_id = $2 AND a.action <> '{RECURRED}' \
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
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
