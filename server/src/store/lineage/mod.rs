//! Lineage in the database: placing logged events in their transactions,
//! and reading transactions, their keys, links, milestones and exceptions.

use crate::store::sql::Builder;
use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::ExceptionListItem;
use crossdock::lineage::{Flow, TRANSACTION_KEYS, TransactionCursor, TransactionKey};

use super::exceptions::{ITEM_COLUMNS, ItemRow};
use super::{Pool, from_millis, to_millis};

mod place;

pub use place::{backfill_up_to, events_to_place, finish_backfill, place_events, place_logged_events};

/// A business transaction as stored.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub id: i64,
    pub name: String,
    pub flow: Option<Flow>,
    /// The furthest stage reached, 1-based.
    pub stage: usize,
    pub site: Option<String>,
    pub supplier: Option<String>,
    pub customer: Option<String>,
    pub first_at: DateTime<Utc>,
    pub last_milestone_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct TransactionRow {
    id: i64,
    name: String,
    flow: Option<String>,
    stage: i64,
    site: Option<String>,
    supplier: Option<String>,
    customer: Option<String>,
    first_at: i64,
    last_milestone_at: Option<i64>,
}

const COLUMNS: &str = "t.id, t.name, t.flow, t.stage, t.site, t.supplier, t.customer, t.first_at, t.last_milestone_at";

impl TransactionRow {
    fn into_transaction(self) -> anyhow::Result<Transaction> {
        Ok(Transaction {
            id: self.id,
            name: self.name,
            flow: self.flow.as_deref().map(str::parse).transpose().context("stored flow is unknown")?,
            stage: usize::try_from(self.stage).unwrap_or(0),
            site: self.site,
            supplier: self.supplier,
            customer: self.customer,
            first_at: from_millis(self.first_at)?,
            last_milestone_at: self.last_milestone_at.map(from_millis).transpose()?,
        })
    }
}

fn transactions_of(rows: Vec<TransactionRow>) -> anyhow::Result<Vec<Transaction>> {
    rows.into_iter().map(TransactionRow::into_transaction).collect()
}

pub async fn transaction(pool: &Pool, id: i64) -> anyhow::Result<Option<Transaction>> {
    let row: Option<TransactionRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM transactions t WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("Failed to read a transaction")?;
    row.map(TransactionRow::into_transaction).transpose()
}

/// A transaction's name (`po:PO-10045`), read inside a transaction of the
/// database (a dry run's, which sees what it wrote before it rolls back).
pub async fn transaction_name(tx: &mut super::Tx<'_>, id: i64) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM transactions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .context("Failed to read a transaction's name")
}

/// The keys indexed to a transaction.
pub async fn keys_of(pool: &Pool, id: i64) -> anyhow::Result<Vec<TransactionKey>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, value FROM transaction_keys WHERE transaction_id = $1 ORDER BY kind, value")
            .bind(id)
            .fetch_all(pool)
            .await
            .context("Failed to read a transaction's keys")?;
    rows.into_iter()
        .map(|(kind, value)| Ok(TransactionKey::new(kind.parse().context("stored key kind is unknown")?, value)))
        .collect()
}

/// The transactions linked to one.
pub async fn linked(pool: &Pool, id: i64) -> anyhow::Result<Vec<Transaction>> {
    let rows = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transaction_links l JOIN transactions t ON t.id = CASE WHEN l.a = $1 THEN l.b ELSE l.a END \
         WHERE l.a = $1 OR l.b = $1 ORDER BY t.name"
    ))
    .bind(id)
    .fetch_all(pool)
    .await
    .context("Failed to read linked transactions")?;
    transactions_of(rows)
}

/// A logged event of a transaction (not an exception's).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoggedEvent {
    pub id: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub time: i64,
    pub received_at: i64,
    /// The event's `source` attribute.
    pub source: String,
    /// The registered source that sent it.
    pub sender: String,
    pub event_id: String,
    pub body: String,
}

const EVENT_COLUMNS: &str = "e.id, e.type, e.time, e.received_at, e.source, s.name AS sender, e.event_id, e.body";

/// A transaction's milestones, in the order they happened.
pub async fn milestones_of(pool: &Pool, id: i64) -> anyhow::Result<Vec<LoggedEvent>> {
    sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events e JOIN sources s ON s.id = e.source_id \
         WHERE e.transaction_id = $1 AND e.type NOT LIKE 'exception.%' ORDER BY e.time, e.id"
    ))
    .bind(id)
    .fetch_all(pool)
    .await
    .context("Failed to read a transaction's milestones")
}

/// One milestone of a transaction, as received.
pub async fn milestone(pool: &Pool, transaction: i64, event: i64) -> anyhow::Result<Option<LoggedEvent>> {
    sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events e JOIN sources s ON s.id = e.source_id \
         WHERE e.id = $1 AND e.transaction_id = $2 AND e.type NOT LIKE 'exception.%'"
    ))
    .bind(event)
    .bind(transaction)
    .fetch_optional(pool)
    .await
    .context("Failed to read a milestone")
}

/// A transaction's exceptions, oldest first.
pub async fn exceptions_of(pool: &Pool, id: i64) -> anyhow::Result<Vec<ExceptionListItem>> {
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM exceptions e WHERE e.transaction_id = $1 ORDER BY e.created_at, e.id"
    ))
    .bind(id)
    .fetch_all(pool)
    .await
    .context("Failed to read a transaction's exceptions")?;
    rows.into_iter().map(ItemRow::into_item).collect()
}

/// The transaction a key's value names (`PO-10045`, `ASN-55120`, or a
/// whole key or name such as `po:PO-10045`), the most telling kind first.
pub async fn find(pool: &Pool, typed: &str) -> anyhow::Result<Option<i64>> {
    let typed = typed.trim();
    if let Some(id) = sqlx::query_scalar("SELECT id FROM transactions WHERE name = $1")
        .bind(typed)
        .fetch_optional(pool)
        .await
        .context("Failed to find a transaction")?
    {
        return Ok(Some(id));
    }
    let value = TransactionKey::parse(typed).map_or(typed.to_owned(), |k| k.value);
    // Every kind is named so that the primary key (kind, value) answers.
    let mut q = Builder::new("SELECT kind, transaction_id FROM transaction_keys WHERE kind IN (");
    let mut kinds = q.separated(", ");
    for kind in TRANSACTION_KEYS {
        kinds.push_bind(kind.as_str());
    }
    q.push(") AND value = ").push_bind(&value);
    let found: Vec<(String, i64)> = q.build_query_as().fetch_all(pool).await.context("Failed to find a transaction")?;
    let rank = |kind: &str| TRANSACTION_KEYS.iter().position(|k| k.as_str() == kind).unwrap_or(usize::MAX);
    Ok(found.into_iter().min_by_key(|(kind, _)| rank(kind)).map(|(_, id)| id))
}

/// Which transactions the list shows.
#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    pub flow: Option<Flow>,
    pub site: Option<String>,
    pub supplier: Option<String>,
    pub customer: Option<String>,
    /// Exactly this stage reached.
    pub stage: Option<usize>,
    /// No milestone since before this instant, and not at its flow's end.
    pub quiet_since: Option<DateTime<Utc>>,
    /// Only these transactions.
    pub ids: Option<Vec<i64>>,
    /// The page after this row.
    pub after: Option<TransactionCursor>,
    pub limit: u32,
}

/// Transactions, the longest quiet first: those with milestones by the
/// time of their last one, then those without any. Each part is read in the
/// order of an index, so any page costs the same.
pub async fn list(pool: &Pool, filter: &TransactionFilter) -> anyhow::Result<Vec<Transaction>> {
    let mut rows: Vec<TransactionRow> = Vec::new();
    let without_milestones_only = filter.after.is_some_and(|c| c.at.is_none());
    if !without_milestones_only {
        let mut q = filtered(filter);
        q.push(" AND t.last_milestone_at IS NOT NULL");
        if let Some(TransactionCursor { at: Some(at), id }) = filter.after {
            // A lower bound the index can seek to, then the rows after the
            // cursor's among those at the same instant.
            q.push(" AND t.last_milestone_at >= ").push_bind(at);
            q.push(" AND (t.last_milestone_at > ").push_bind(at).push(" OR t.id > ").push_bind(id).push(")");
        }
        q.push(" ORDER BY t.last_milestone_at, t.id LIMIT ").push_bind(i64::from(filter.limit));
        rows = q.build_query_as().fetch_all(pool).await.context("Failed to list transactions")?;
    }
    let room = u32::try_from(rows.len()).map_or(0, |n| filter.limit.saturating_sub(n));
    if room > 0 && filter.quiet_since.is_none() {
        let mut q = filtered(filter);
        q.push(" AND t.last_milestone_at IS NULL");
        if let Some(TransactionCursor { at: None, id }) = filter.after {
            q.push(" AND t.id > ").push_bind(id);
        }
        q.push(" ORDER BY t.id LIMIT ").push_bind(i64::from(room));
        let more: Vec<_> = q.build_query_as().fetch_all(pool).await.context("Failed to list transactions")?;
        rows.extend(more);
    }
    transactions_of(rows)
}

fn filtered(filter: &TransactionFilter) -> Builder<'static> {
    let mut q = Builder::new(format!("SELECT {COLUMNS} FROM transactions t WHERE 1 = 1"));
    if let Some(flow) = filter.flow {
        q.push(" AND t.flow = ").push_bind(flow.as_str());
    }
    for (column, value) in [("site", &filter.site), ("supplier", &filter.supplier), ("customer", &filter.customer)] {
        if let Some(v) = value {
            q.push(format!(" AND t.{column} = ")).push_bind(v.clone());
        }
    }
    if let Some(ids) = &filter.ids {
        if ids.is_empty() {
            q.push(" AND 1 = 0");
        } else {
            q.push(" AND t.id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            q.push(")");
        }
    }
    if let Some(stage) = filter.stage {
        q.push(" AND t.stage = ").push_bind(i64::try_from(stage).unwrap_or(i64::MAX));
    }
    if let Some(before) = filter.quiet_since {
        q.push(" AND t.last_milestone_at < ").push_bind(to_millis(before));
        q.push(" AND t.stage < CASE t.flow WHEN 'procure_to_receive' THEN ");
        q.push_bind(Flow::ProcureToReceive.stages().len() as i64);
        q.push(" ELSE ").push_bind(Flow::OrderToCash.stages().len() as i64).push(" END");
    }
    q
}

/// The transaction of an exception, if it has one.
pub async fn of_exception(pool: &Pool, exception: crossdock::ExceptionId) -> anyhow::Result<Option<i64>> {
    let id: Option<Option<i64>> = sqlx::query_scalar("SELECT transaction_id FROM exceptions WHERE id = $1")
        .bind(exception.get())
        .fetch_optional(pool)
        .await
        .context("Failed to read an exception's transaction")?;
    Ok(id.flatten())
}
