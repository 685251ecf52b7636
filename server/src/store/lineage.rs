//! Lineage in the database: placing logged events in their transactions (in
//! the ingest transaction, a batch at a time), the key index, links, and
//! each transaction's summary.

use std::collections::{BTreeSet, HashMap};

use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::ExceptionListItem;
use crossdock::lineage::{
    Facts, Flow, Found, Named, TRANSACTION_KEYS, TransactionCursor, TransactionKey, place, stage_number,
};
use sqlx::{QueryBuilder, Sqlite};

use super::exceptions::{ITEM_COLUMNS, ItemRow};
use super::{Pool, Tx, from_millis, to_millis};

/// Rows per multi-row statement.
const CHUNK: usize = 100;

/// A transaction: made in this batch (its index among the new ones), or
/// already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Txn {
    Stored(i64),
    New(usize),
}

/// What a batch changes of one transaction's summary.
#[derive(Debug, Default)]
struct Summary {
    flow: Option<&'static str>,
    stage: i64,
    first_at: Option<i64>,
    last_milestone_at: Option<i64>,
    site: Option<String>,
    supplier: Option<String>,
    customer: Option<String>,
}

impl Summary {
    fn add(&mut self, facts: &Facts) {
        let at = to_millis(facts.time);
        self.flow = self.flow.or(facts.flow.map(|f| f.as_str()));
        if let Some((flow, n)) = facts.milestone.and_then(stage_number) {
            if Some(flow.as_str()) == self.flow {
                self.stage = self.stage.max(n as i64);
            }
            self.last_milestone_at = Some(self.last_milestone_at.map_or(at, |t| t.max(at)));
        }
        self.first_at = Some(self.first_at.map_or(at, |t| t.min(at)));
        self.site = self.site.take().or_else(|| facts.site.clone());
        self.supplier = self.supplier.take().or_else(|| facts.supplier.clone());
        self.customer = self.customer.take().or_else(|| facts.customer.clone());
    }
}

/// Places events (`(the caller's handle, facts)`, in order) in their
/// transactions, creating, indexing, linking and summing those up; the
/// transaction of each event that has one, by handle.
pub async fn place_events<K: Copy + Eq + std::hash::Hash>(
    tx: &mut Tx<'_>,
    events: &[(K, &Facts)],
    now: DateTime<Utc>,
) -> anyhow::Result<HashMap<K, i64>> {
    // What the index and the transactions table already hold for this batch.
    let keys: BTreeSet<&TransactionKey> = events.iter().flat_map(|(_, f)| &f.keys).collect();
    let mut index: HashMap<TransactionKey, Txn> = indexed(tx, &keys).await?;
    let names: BTreeSet<String> = events
        .iter()
        .filter_map(|(_, f)| match &f.named {
            Named::Given(name) => Some(name.clone()),
            Named::Derived => f.keys.first().map(ToString::to_string),
        })
        .collect();
    let mut by_name: HashMap<String, Txn> = named(tx, &names).await?;

    let mut new_names: Vec<String> = Vec::new();
    let mut placed: Vec<(K, Txn)> = Vec::new();
    let mut new_keys: Vec<(TransactionKey, Txn)> = Vec::new();
    let mut links: BTreeSet<(Txn, Txn)> = BTreeSet::new();
    let mut summaries: HashMap<Txn, Summary> = HashMap::new();
    for (event, facts) in events {
        let Some(placement) = place(&facts.named, &facts.keys, |k| index.get(k).copied()) else { continue };
        let txn = match placement.transaction {
            Found::Known(t) => t,
            Found::Named(name) => *by_name.entry(name.clone()).or_insert_with(|| {
                new_names.push(name);
                Txn::New(new_names.len() - 1)
            }),
        };
        for key in placement.index {
            index.insert(key.clone(), txn);
            new_keys.push((key, txn));
        }
        for other in placement.links {
            links.insert((txn.min(other), txn.max(other)));
        }
        summaries.entry(txn).or_default().add(facts);
        placed.push((*event, txn));
    }

    // The new transactions, then everything in terms of their ids.
    // New transactions are written whole; stored ones get their summary
    // folded in below.
    let made = create(tx, &new_names, &summaries, now).await?;
    let id = |t: Txn| match t {
        Txn::Stored(id) => id,
        Txn::New(i) => made[i],
    };
    for chunk in new_keys.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO transaction_keys (kind, value, transaction_id) ");
        q.push_values(chunk, |mut b, (key, txn)| {
            b.push_bind(key.kind.as_str()).push_bind(&key.value).push_bind(id(*txn));
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut **tx).await.context("Failed to index transaction keys")?;
    }
    let links: BTreeSet<(i64, i64)> =
        links.into_iter().map(|(a, b)| (id(a).min(id(b)), id(a).max(id(b)))).filter(|(a, b)| a != b).collect();
    let links: Vec<(i64, i64)> = links.into_iter().collect();
    for chunk in links.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO transaction_links (a, b) ");
        q.push_values(chunk, |mut b, (x, y)| {
            b.push_bind(*x).push_bind(*y);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut **tx).await.context("Failed to link transactions")?;
    }
    // Every transaction's summary in one statement per chunk.
    let summaries: Vec<(i64, Summary)> = summaries
        .into_iter()
        .filter_map(|(t, s)| match t {
            Txn::Stored(id) => Some((id, s)),
            Txn::New(_) => None,
        })
        .collect();
    for chunk in summaries.chunks(CHUNK) {
        let mut q =
            QueryBuilder::<Sqlite>::new("WITH v (id, flow, stage, first_at, last_at, site, supplier, customer) AS (");
        q.push_values(chunk, |mut b, (txn, s)| {
            b.push_bind(*txn)
                .push_bind(s.flow)
                .push_bind(s.stage)
                .push_bind(s.first_at)
                .push_bind(s.last_milestone_at)
                .push_bind(&s.site)
                .push_bind(&s.supplier)
                .push_bind(&s.customer);
        });
        q.push(
            ") UPDATE transactions SET flow = COALESCE(transactions.flow, v.flow), \
             stage = CASE WHEN COALESCE(transactions.flow, v.flow) = v.flow \
                 THEN MAX(transactions.stage, v.stage) ELSE transactions.stage END, \
             first_at = MIN(transactions.first_at, COALESCE(v.first_at, transactions.first_at)), \
             last_milestone_at = CASE WHEN v.last_at IS NULL THEN transactions.last_milestone_at \
                 ELSE MAX(COALESCE(transactions.last_milestone_at, v.last_at), v.last_at) END, \
             site = COALESCE(transactions.site, v.site), supplier = COALESCE(transactions.supplier, v.supplier), \
             customer = COALESCE(transactions.customer, v.customer), updated_at = ",
        );
        q.push_bind(to_millis(now)).push(" FROM v WHERE transactions.id = v.id");
        q.build().execute(&mut **tx).await.context("Failed to update transactions")?;
    }
    let of_event = placed.into_iter().map(|(e, t)| (e, id(t))).collect();
    Ok(of_event)
}

/// Places events already logged (by row id) and records their transactions
/// on their rows; how many were placed.
pub async fn place_logged_events(
    tx: &mut Tx<'_>,
    events: &[(i64, &Facts)],
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let placed: Vec<(i64, i64)> = place_events(tx, events, now).await?.into_iter().collect();
    for chunk in placed.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("WITH v (e, t) AS (");
        q.push_values(chunk, |mut b, (event, txn)| {
            b.push_bind(*event).push_bind(*txn);
        });
        q.push(") UPDATE events SET transaction_id = v.t FROM v WHERE events.id = v.e");
        q.build().execute(&mut **tx).await.context("Failed to place events in their transactions")?;
    }
    Ok(placed.len())
}

/// The index entries of these keys.
async fn indexed(tx: &mut Tx<'_>, keys: &BTreeSet<&TransactionKey>) -> anyhow::Result<HashMap<TransactionKey, Txn>> {
    let keys: Vec<&&TransactionKey> = keys.iter().collect();
    let mut found = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("WITH v (kind, value) AS (");
        q.push_values(chunk, |mut b, key| {
            b.push_bind(key.kind.as_str()).push_bind(&key.value);
        });
        q.push(
            ") SELECT k.kind, k.value, k.transaction_id FROM v \
             JOIN transaction_keys k ON k.kind = v.kind AND k.value = v.value",
        );
        let rows: Vec<(String, String, i64)> =
            q.build_query_as().fetch_all(&mut **tx).await.context("Failed to look up transaction keys")?;
        for (kind, value, txn) in rows {
            let kind = kind.parse().context("stored transaction key kind is unknown")?;
            found.insert(TransactionKey::new(kind, value), Txn::Stored(txn));
        }
    }
    Ok(found)
}

/// The stored transactions of these names.
async fn named(tx: &mut Tx<'_>, names: &BTreeSet<String>) -> anyhow::Result<HashMap<String, Txn>> {
    let names: Vec<&String> = names.iter().collect();
    let mut found = HashMap::new();
    for chunk in names.chunks(CHUNK * 3) {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT name, id FROM transactions WHERE name IN (");
        let mut list = q.separated(", ");
        for name in chunk {
            list.push_bind(*name);
        }
        q.push(")");
        let rows: Vec<(String, i64)> =
            q.build_query_as().fetch_all(&mut **tx).await.context("Failed to look up transactions")?;
        found.extend(rows.into_iter().map(|(n, id)| (n, Txn::Stored(id))));
    }
    Ok(found)
}

/// Makes the new transactions; their ids, in order.
async fn create(
    tx: &mut Tx<'_>,
    names: &[String],
    summaries: &HashMap<Txn, Summary>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(names.len());
    let now = to_millis(now);
    let none = Summary::default();
    for (offset, chunk) in names.chunks(CHUNK).enumerate() {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO transactions (name, flow, stage, site, supplier, customer, first_at, last_milestone_at, \
             updated_at) ",
        );
        q.push_values(chunk.iter().enumerate(), |mut b, (i, name)| {
            let s = summaries.get(&Txn::New(offset * CHUNK + i)).unwrap_or(&none);
            b.push_bind(name)
                .push_bind(s.flow)
                .push_bind(s.stage)
                .push_bind(&s.site)
                .push_bind(&s.supplier)
                .push_bind(&s.customer)
                .push_bind(s.first_at.unwrap_or(now))
                .push_bind(s.last_milestone_at)
                .push_bind(now);
        });
        q.push(" RETURNING name, id");
        let rows: Vec<(String, i64)> =
            q.build_query_as().fetch_all(&mut **tx).await.context("Failed to make transactions")?;
        let by_name: HashMap<String, i64> = rows.into_iter().collect();
        for name in chunk {
            ids.push(*by_name.get(name).context("a new transaction was not made")?);
        }
    }
    Ok(ids)
}

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
    let row: Option<TransactionRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM transactions t WHERE t.id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("Failed to read a transaction")?;
    row.map(TransactionRow::into_transaction).transpose()
}

/// The keys indexed to a transaction.
pub async fn keys_of(pool: &Pool, id: i64) -> anyhow::Result<Vec<TransactionKey>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, value FROM transaction_keys WHERE transaction_id = ? ORDER BY kind, value")
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
        "SELECT {COLUMNS} FROM transaction_links l JOIN transactions t ON t.id = CASE WHEN l.a = ?1 THEN l.b ELSE l.a END \
         WHERE l.a = ?1 OR l.b = ?1 ORDER BY t.name"
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
         WHERE e.transaction_id = ? AND e.type NOT LIKE 'exception.%' ORDER BY e.time, e.id"
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
         WHERE e.id = ? AND e.transaction_id = ? AND e.type NOT LIKE 'exception.%'"
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
        "SELECT {ITEM_COLUMNS} FROM exceptions e WHERE e.transaction_id = ? ORDER BY e.created_at, e.id"
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
    if let Some(id) = sqlx::query_scalar("SELECT id FROM transactions WHERE name = ?")
        .bind(typed)
        .fetch_optional(pool)
        .await
        .context("Failed to find a transaction")?
    {
        return Ok(Some(id));
    }
    let value = TransactionKey::parse(typed).map_or(typed.to_owned(), |k| k.value);
    // Every kind is named so that the primary key (kind, value) answers.
    let mut q = QueryBuilder::<Sqlite>::new("SELECT kind, transaction_id FROM transaction_keys WHERE kind IN (");
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
        q.push(" ORDER BY t.last_milestone_at, t.id LIMIT ").push_bind(filter.limit);
        rows = q.build_query_as().fetch_all(pool).await.context("Failed to list transactions")?;
    }
    let room = u32::try_from(rows.len()).map_or(0, |n| filter.limit.saturating_sub(n));
    if room > 0 && filter.quiet_since.is_none() {
        let mut q = filtered(filter);
        q.push(" AND t.last_milestone_at IS NULL");
        if let Some(TransactionCursor { at: None, id }) = filter.after {
            q.push(" AND t.id > ").push_bind(id);
        }
        q.push(" ORDER BY t.id LIMIT ").push_bind(room);
        let more: Vec<_> = q.build_query_as().fetch_all(pool).await.context("Failed to list transactions")?;
        rows.extend(more);
    }
    transactions_of(rows)
}

fn filtered(filter: &TransactionFilter) -> QueryBuilder<'static, Sqlite> {
    let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM transactions t WHERE 1 = 1"));
    if let Some(flow) = filter.flow {
        q.push(" AND t.flow = ").push_bind(flow.as_str());
    }
    for (column, value) in [("site", &filter.site), ("supplier", &filter.supplier), ("customer", &filter.customer)] {
        if let Some(v) = value {
            q.push(format!(" AND t.{column} = ")).push_bind(v.clone());
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
    let id: Option<Option<i64>> = sqlx::query_scalar("SELECT transaction_id FROM exceptions WHERE id = ?")
        .bind(exception.get())
        .fetch_optional(pool)
        .await
        .context("Failed to read an exception's transaction")?;
    Ok(id.flatten())
}
