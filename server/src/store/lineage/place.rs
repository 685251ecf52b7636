//! Placing events in their transactions (in the ingest transaction, a batch
//! at a time): the key index, links, and each transaction's summary.

use std::collections::{BTreeSet, HashMap};

use crate::store::sql::Builder;
use anyhow::Context;
use chrono::{DateTime, Utc};
use crossdock::lineage::{Facts, Found, Named, TransactionKey, place, stage_number};

use crate::store::{Tx, to_millis};

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
        let mut q = Builder::new("INSERT INTO transaction_keys (kind, value, transaction_id) ");
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
        let mut q = Builder::new("INSERT INTO transaction_links (a, b) ");
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
    let backend = super::super::Backend::of_tx(tx);
    for chunk in summaries.chunks(CHUNK) {
        let mut q = Builder::new("WITH v (id, flow, stage, first_at, last_at, site, supplier, customer) AS (");
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
        // The larger and smaller of two values: MAX and MIN on SQLite,
        // GREATEST and LEAST on PostgreSQL (none of them is NULL here).
        let (max, min) = (backend.pick("MAX", "GREATEST"), backend.pick("MIN", "LEAST"));
        q.push(format!(
            ") UPDATE transactions SET flow = COALESCE(transactions.flow, v.flow), \
             stage = CASE WHEN COALESCE(transactions.flow, v.flow) = v.flow \
                 THEN {max}(transactions.stage, v.stage) ELSE transactions.stage END, \
             first_at = {min}(transactions.first_at, COALESCE(v.first_at, transactions.first_at)), \
             last_milestone_at = CASE WHEN v.last_at IS NULL THEN transactions.last_milestone_at \
                 ELSE {max}(COALESCE(transactions.last_milestone_at, v.last_at), v.last_at) END, \
             site = COALESCE(transactions.site, v.site), supplier = COALESCE(transactions.supplier, v.supplier), \
             customer = COALESCE(transactions.customer, v.customer), updated_at = "
        ));
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
        let mut q = Builder::new("WITH v (e, t) AS (");
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
        let mut q = Builder::new("WITH v (kind, value) AS (");
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
        let mut q = Builder::new("SELECT name, id FROM transactions WHERE name IN (");
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
        let mut q = Builder::new(
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

/// Events logged before lineage are placed up to this event (0: done).
pub async fn backfill_up_to(pool: &crate::store::Pool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(up_to_event), 0) FROM lineage_backfill")
        .fetch_one(pool)
        .await
        .context("Failed to read the lineage backfill")
}

/// The next events to place, by id, with their bodies.
pub async fn events_to_place(
    pool: &crate::store::Pool,
    after: i64,
    up_to: i64,
    limit: i64,
) -> anyhow::Result<Vec<(i64, String)>> {
    sqlx::query_as("SELECT id, body FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3")
        .bind(after)
        .bind(up_to)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("Failed to read events to place")
}

/// Gives the exceptions of placed events their transactions, and marks the
/// backfill done.
pub async fn finish_backfill(pool: &crate::store::Pool) -> anyhow::Result<()> {
    let mut tx = crate::store::begin(pool).await.context("Failed to begin a transaction")?;
    sqlx::query(
        "UPDATE exceptions SET transaction_id = (SELECT e.transaction_id FROM events e WHERE e.id = exceptions.event_id) \
         WHERE transaction_id IS NULL AND event_id IS NOT NULL",
    )
    .execute(&mut *tx)
    .await
    .context("Failed to give exceptions their transactions")?;
    sqlx::query("UPDATE lineage_backfill SET up_to_event = 0").execute(&mut *tx).await.context("Failed to finish")?;
    tx.commit().await.context("Failed to commit the lineage backfill")
}
