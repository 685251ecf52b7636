//! Business KPIs: the state of each PO line, order and shipment measured,
//! and the daily totals kept up to date with it in the same transaction
//! (what a state contributed before a signal is taken away, what it
//! contributes after is added).

use std::collections::HashMap;

use crate::store::sql::Builder;
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use crossdock::kpi::{
    BUCKETS, Contribution, DailyRow, Kpi, OrderState, PoLineState, ShipmentState, Signal, Totals, allocation,
};

use super::{Pool, Tx, to_millis};

/// A signal to count, with the time zone of its site and its transaction.
#[derive(Debug, Clone)]
pub struct Counted {
    pub signal: Signal,
    pub zone: Tz,
    pub transaction: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    PoLine(String, u32),
    Order(String),
    Shipment(String),
}

#[derive(Debug, Clone)]
enum State {
    PoLine(PoLineState),
    Order(OrderState),
    Shipment(ShipmentState),
}

impl State {
    fn contributions(&self, zone: Tz) -> Vec<Contribution> {
        match self {
            State::PoLine(s) => s.contributions(zone),
            State::Order(s) => s.contributions(zone),
            State::Shipment(s) => s.contributions(zone),
        }
    }

    /// The instant it counts at, once it counts.
    fn counted_at(&self) -> Option<DateTime<Utc>> {
        match self {
            State::PoLine(s) => s.first_receipt_at,
            State::Order(s) => s.released_at.and(s.dispatched_at),
            State::Shipment(s) => s.confirmed_at,
        }
    }

    fn site(&self) -> Option<&str> {
        match self {
            State::PoLine(s) => s.site.as_deref(),
            State::Order(s) => s.site.as_deref(),
            State::Shipment(s) => s.site.as_deref(),
        }
    }

    fn json(&self) -> anyhow::Result<String> {
        Ok(match self {
            State::PoLine(s) => serde_json::to_string(s)?,
            State::Order(s) => serde_json::to_string(s)?,
            State::Shipment(s) => serde_json::to_string(s)?,
        })
    }
}

/// One measured thing as loaded in this batch.
struct Held {
    state: State,
    zone: Tz,
    transaction: Option<i64>,
    dirty: bool,
}

/// What a batch adds to the daily totals, per (supplier, day, KPI, site).
type Deltas = HashMap<(String, NaiveDate, Kpi, String), Totals>;

fn add(deltas: &mut Deltas, contributions: &[Contribution], sign: i64) {
    for c in contributions {
        let t = deltas.entry((c.supplier.clone(), c.day, c.kpi, c.site.clone())).or_default();
        t.n += sign;
        t.num += sign as f64 * c.num;
        t.den += sign as f64 * c.den;
        t.hits += sign * i64::from(c.hit);
        t.buckets[c.bucket.min(BUCKETS - 1)] += sign;
    }
}

async fn load(tx: &mut Tx<'_>, key: &Key) -> anyhow::Result<Option<(State, Tz, Option<i64>)>> {
    let row: Option<(String, String, Option<i64>)> = match key {
        Key::PoLine(po, line) => {
            sqlx::query_as("SELECT state, tz, transaction_id FROM kpi_po_lines WHERE po = $1 AND line = $2")
                .bind(po)
                .bind(i64::from(*line))
                .fetch_optional(&mut **tx)
                .await
        }
        Key::Order(order) => {
            sqlx::query_as("SELECT state, tz, transaction_id FROM kpi_orders WHERE order_key = $1")
                .bind(order)
                .fetch_optional(&mut **tx)
                .await
        }
        Key::Shipment(shipment) => {
            sqlx::query_as("SELECT state, tz, transaction_id FROM kpi_shipments WHERE shipment = $1")
                .bind(shipment)
                .fetch_optional(&mut **tx)
                .await
        }
    }
    .context("Failed to read a KPI state")?;
    let Some((json, tz, transaction)) = row else { return Ok(None) };
    let state = match key {
        Key::PoLine(..) => State::PoLine(serde_json::from_str(&json).context("stored PO line state")?),
        Key::Order(_) => State::Order(serde_json::from_str(&json).context("stored order state")?),
        Key::Shipment(_) => State::Shipment(serde_json::from_str(&json).context("stored shipment state")?),
    };
    let zone = tz.parse().map_err(|e| anyhow::anyhow!("stored time zone `{tz}`: {e}"))?;
    Ok(Some((state, zone, transaction)))
}

async fn save(tx: &mut Tx<'_>, key: &Key, held: &Held) -> anyhow::Result<()> {
    let json = held.state.json()?;
    let counted = held.state.counted_at().map(to_millis);
    let site = held.state.site();
    let zone = held.zone.name();
    let q = match key {
        Key::PoLine(po, line) => sqlx::query(
            "INSERT INTO kpi_po_lines (po, line, state, tz, site, counted_at, transaction_id) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (po, line) DO UPDATE SET state = excluded.state, tz = excluded.tz, site = excluded.site, \
             counted_at = excluded.counted_at, \
             transaction_id = COALESCE(kpi_po_lines.transaction_id, excluded.transaction_id)",
        )
        .bind(po)
        .bind(i64::from(*line)),
        Key::Order(order) => sqlx::query(
            "INSERT INTO kpi_orders (order_key, state, tz, site, counted_at, transaction_id) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (order_key) DO UPDATE SET state = excluded.state, tz = excluded.tz, site = excluded.site, \
             counted_at = excluded.counted_at, transaction_id = COALESCE(kpi_orders.transaction_id, excluded.transaction_id)",
        )
        .bind(order),
        Key::Shipment(shipment) => sqlx::query(
            "INSERT INTO kpi_shipments (shipment, state, tz, site, counted_at, transaction_id) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (shipment) DO UPDATE SET state = excluded.state, tz = excluded.tz, site = excluded.site, \
             counted_at = excluded.counted_at, \
             transaction_id = COALESCE(kpi_shipments.transaction_id, excluded.transaction_id)",
        )
        .bind(shipment),
    };
    q.bind(json)
        .bind(zone)
        .bind(site)
        .bind(counted)
        .bind(held.transaction)
        .execute(&mut **tx)
        .await
        .context("Failed to save a KPI state")?;
    Ok(())
}

/// The things a signal changes, each once (a receipt may name a line twice).
fn keys_of(signal: &Signal) -> Vec<Key> {
    let mut keys = all_keys_of(signal);
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    keys
}

fn all_keys_of(signal: &Signal) -> Vec<Key> {
    match signal {
        Signal::Ordered { po, lines, .. } | Signal::Received { po, lines, .. } => {
            lines.iter().map(|(l, _)| Key::PoLine(po.clone(), *l)).collect()
        }
        Signal::Promised { po, lines, .. } => lines.iter().map(|(l, _)| Key::PoLine(po.clone(), *l)).collect(),
        Signal::Released { order, .. } => vec![Key::Order(order.clone())],
        Signal::Dispatched { shipment, orders, .. } => std::iter::once(Key::Shipment(shipment.clone()))
            .chain(orders.iter().map(|o| Key::Order(o.clone())))
            .collect(),
        Signal::Confirmed { shipment, .. } => vec![Key::Shipment(shipment.clone())],
        Signal::Allocation { .. } => Vec::new(),
    }
}

/// Counts signals, in order, in the caller's transaction.
pub async fn count(tx: &mut Tx<'_>, signals: &[Counted]) -> anyhow::Result<()> {
    let mut held: HashMap<Key, Held> = HashMap::new();
    let mut order: Vec<Key> = Vec::new();
    let mut deltas = Deltas::new();
    for counted in signals {
        if let Signal::Allocation { at, failed, site } = &counted.signal {
            add(&mut deltas, &[allocation(site.as_deref(), *at, counted.zone, *failed)], 1);
            continue;
        }
        for key in keys_of(&counted.signal) {
            if !held.contains_key(&key) {
                let loaded = load(tx, &key).await?;
                let (state, zone, transaction) = loaded.unwrap_or_else(|| {
                    let state = match &key {
                        Key::PoLine(..) => State::PoLine(PoLineState::default()),
                        Key::Order(_) => State::Order(OrderState::default()),
                        Key::Shipment(_) => State::Shipment(ShipmentState::default()),
                    };
                    (state, counted.zone, None)
                });
                held.insert(key.clone(), Held { state, zone, transaction, dirty: false });
                order.push(key.clone());
            }
            let Some(h) = held.get_mut(&key) else { continue };
            let before = h.state.contributions(h.zone);
            // Days are counted in the zone of the thing's site: a thing first
            // seen without one takes the zone of the first signal naming it
            // (what it contributed so far is taken away in the old zone).
            if h.state.site().is_none() && counted.signal.site().is_some() {
                h.zone = counted.zone;
            }
            match (&mut h.state, &key) {
                (State::PoLine(s), Key::PoLine(_, line)) => s.apply(&counted.signal, *line),
                (State::Order(s), _) => s.apply(&counted.signal),
                (State::Shipment(s), _) => s.apply(&counted.signal),
                _ => {}
            }
            let after = h.state.contributions(h.zone);
            add(&mut deltas, &before, -1);
            add(&mut deltas, &after, 1);
            h.transaction = h.transaction.or(counted.transaction);
            h.dirty = true;
        }
    }
    for key in &order {
        if let Some(h) = held.get(key).filter(|h| h.dirty) {
            save(tx, key, h).await?;
        }
    }
    apply(tx, deltas).await
}

/// Adds the deltas to the daily totals, and the suppliers they name to those
/// measured.
async fn apply(tx: &mut Tx<'_>, deltas: Deltas) -> anyhow::Result<()> {
    let rows: Vec<_> = deltas.into_iter().filter(|(_, t)| *t != Totals::default()).collect();
    let suppliers: std::collections::BTreeSet<&str> =
        rows.iter().map(|((supplier, ..), _)| supplier.as_str()).filter(|s| !s.is_empty()).collect();
    for chunk in suppliers.into_iter().collect::<Vec<_>>().chunks(100) {
        let mut q = Builder::new("INSERT INTO kpi_suppliers (supplier) ");
        q.push_values(chunk, |mut b, s| {
            b.push_bind(*s);
        });
        q.push(" ON CONFLICT (supplier) DO NOTHING");
        q.build().execute(&mut **tx).await.context("Failed to record the suppliers measured")?;
    }
    for chunk in rows.chunks(50) {
        let mut q = Builder::new(
            "INSERT INTO kpi_daily AS d (supplier, day, kpi, site, n, num, den, hits, b0, b1, b2, b3, b4, b5, b6) ",
        );
        q.push_values(chunk, |mut b, ((supplier, day, kpi, site), t)| {
            b.push_bind(supplier)
                .push_bind(day.to_string())
                .push_bind(kpi.as_str())
                .push_bind(site)
                .push_bind(t.n)
                .push_bind(t.num)
                .push_bind(t.den)
                .push_bind(t.hits);
            for bucket in t.buckets {
                b.push_bind(bucket);
            }
        });
        q.push(
            " ON CONFLICT (supplier, day, kpi, site) DO UPDATE SET n = d.n + excluded.n, num = d.num + excluded.num, \
             den = d.den + excluded.den, hits = d.hits + excluded.hits, b0 = d.b0 + excluded.b0, \
             b1 = d.b1 + excluded.b1, b2 = d.b2 + excluded.b2, b3 = d.b3 + excluded.b3, b4 = d.b4 + excluded.b4, \
             b5 = d.b5 + excluded.b5, b6 = d.b6 + excluded.b6",
        );
        q.build().execute(&mut **tx).await.context("Failed to update the KPI totals")?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct TotalsRow {
    kpi: String,
    site: String,
    day: String,
    n: i64,
    num: f64,
    den: f64,
    hits: i64,
    b0: i64,
    b1: i64,
    b2: i64,
    b3: i64,
    b4: i64,
    b5: i64,
    b6: i64,
}

/// The daily totals from `from` to `to` (one supplier's, or every supplier's
/// with `""`), of one site or all.
pub async fn daily(
    pool: &Pool,
    supplier: &str,
    from: NaiveDate,
    to: NaiveDate,
    site: Option<&str>,
) -> anyhow::Result<Vec<DailyRow>> {
    let rows: Vec<TotalsRow> = sqlx::query_as(
        "SELECT kpi, site, day, n, num, den, hits, b0, b1, b2, b3, b4, b5, b6 FROM kpi_daily \
         WHERE supplier = $1 AND day BETWEEN $2 AND $3 AND ($4 IS NULL OR site = $4) AND n <> 0",
    )
    .bind(supplier)
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(site)
    .fetch_all(pool)
    .await
    .context("Failed to read the KPI totals")?;
    rows.into_iter()
        .map(|r| {
            Ok(DailyRow {
                kpi: r.kpi.parse()?,
                site: r.site,
                day: r.day.parse().context("stored KPI day")?,
                totals: Totals {
                    n: r.n,
                    num: r.num,
                    den: r.den,
                    hits: r.hits,
                    buckets: [r.b0, r.b1, r.b2, r.b3, r.b4, r.b5, r.b6],
                },
            })
        })
        .collect()
}

/// The suppliers measured, for a report's choice.
pub async fn suppliers(pool: &Pool) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar("SELECT supplier FROM kpi_suppliers ORDER BY supplier LIMIT 500")
        .fetch_all(pool)
        .await
        .context("Failed to read the suppliers measured")
}

/// The transactions a KPI counted at a site between two instants, newest first.
pub async fn transactions_behind(
    pool: &Pool,
    kpi: Kpi,
    site: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> anyhow::Result<Vec<i64>> {
    let table = match kpi {
        Kpi::FillRate | Kpi::LateReceipts => "kpi_po_lines",
        Kpi::ShipmentLatency => "kpi_orders",
        Kpi::DeliveryLag | Kpi::PodLag => "kpi_shipments",
        Kpi::AllocationFailures => {
            return sqlx::query_scalar(
                "SELECT DISTINCT transaction_id FROM events WHERE type IN ('order.allocated', 'exception.allocation_failed') \
                 AND site = $1 AND time >= $2 AND time < $3 AND transaction_id IS NOT NULL ORDER BY transaction_id DESC LIMIT $4",
            )
            .bind(site)
            .bind(to_millis(from))
            .bind(to_millis(to))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .context("Failed to read the transactions behind a KPI");
        }
    };
    sqlx::query_scalar(&format!(
        "SELECT DISTINCT transaction_id FROM {table} WHERE site = $1 AND counted_at >= $2 AND counted_at < $3 \
         AND transaction_id IS NOT NULL ORDER BY transaction_id DESC LIMIT $4"
    ))
    .bind(site)
    .bind(to_millis(from))
    .bind(to_millis(to))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .context("Failed to read the transactions behind a KPI")
}

/// Events logged before the KPIs existed are counted up to this event (0:
/// done), and have been counted through the second.
pub async fn backfill(pool: &Pool) -> anyhow::Result<(i64, i64)> {
    let row: Option<(i64, i64)> = sqlx::query_as("SELECT up_to_event, counted_through FROM kpi_backfill LIMIT 1")
        .fetch_optional(pool)
        .await
        .context("Failed to read the KPI backfill")?;
    Ok(row.unwrap_or((0, 0)))
}

/// Saves how far the backfill has counted, in the transaction of that slice.
pub async fn counted_through(tx: &mut Tx<'_>, event: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE kpi_backfill SET counted_through = $1")
        .bind(event)
        .execute(&mut **tx)
        .await
        .context("Failed to save the KPI backfill's progress")?;
    Ok(())
}

pub async fn finish_backfill(pool: &Pool) -> anyhow::Result<()> {
    sqlx::query("UPDATE kpi_backfill SET up_to_event = 0, counted_through = 0")
        .execute(pool)
        .await
        .context("Failed to mark the KPI backfill done")?;
    Ok(())
}

/// The milestone events (and allocation failures) after `after`, up to
/// `up_to`, with their transactions.
pub async fn events_to_count(
    pool: &Pool,
    after: i64,
    up_to: i64,
    limit: i64,
) -> anyhow::Result<Vec<(i64, String, Option<i64>)>> {
    sqlx::query_as(
        "SELECT id, body, transaction_id FROM events WHERE id > $1 AND id <= $2 AND type IN ('po.created', \
         'po.acknowledged', 'receipt.posted', 'order.released', 'order.allocated', 'exception.allocation_failed', \
         'shipment.dispatched', 'delivery.confirmed') ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(up_to)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("Failed to read events to count")
}
