//! Lineage at scale, by hand: `cargo bench -p crossdock-server --bench lineage`.
//!
//! Fills a SQLite file with 10,000,000 milestone events in 1,000,000
//! transactions (BENCH_LINEAGE_TRANSACTIONS to change; ten events each, half
//! procure-to-receive, half order-to-cash, a fifth of them stuck part way),
//! their key index and one open expectation each, a thousand of them
//! overdue. Then times the server's own use cases on one core: the lineage
//! page, a key lookup, the "stuck" list at depths from its first page to its
//! last, and a detection sweep. Last, on fresh files, the ingest write path
//! with and without lineage (key index, placement, and the sweep that starts
//! the expectations), side by side. Prints p50, p95 and max.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossdock::lineage::{Facts, Flow, Named, TransactionCursor};
use crossdock::{BusinessRefs, RefKind};
use crossdock_server::config::{Config, DatabaseUrl, Synchronous};
use crossdock_server::services::ingest::writer::{IngestItem, commit_items};
use crossdock_server::services::{Services, TransactionQuery};
use crossdock_server::store::events::EventRecord;
use crossdock_server::store::sql::Builder;
use serde_json::{Value, json};
use support::{Rng, report, user};

const SITES: [&str; 3] = ["DC-ATL", "DC-DAL", "DC-RNO"];
const EVENTS_PER_TRANSACTION: i64 = 10;
const OVERDUE: i64 = 1_000;
const HOUR: i64 = 3_600_000;

/// The milestone types of a transaction's ten events, in order.
fn types(flow: Flow) -> [&'static str; 10] {
    match flow {
        Flow::ProcureToReceive => [
            "po.created",
            "po.acknowledged",
            "po.acknowledged",
            "asn.received",
            "receipt.posted",
            "putaway.completed",
            "putaway.completed",
            "putaway.completed",
            "putaway.completed",
            "putaway.completed",
        ],
        Flow::OrderToCash => [
            "order.released",
            "order.allocated",
            "pick.completed",
            "shipment.dispatched",
            "shipment.in_transit",
            "shipment.in_transit",
            "shipment.in_transit",
            "shipment.in_transit",
            "delivery.confirmed",
            "invoice.posted",
        ],
    }
}

/// The data of one milestone of transaction `t`, as the contract writes it.
fn data(kind: &str, t: i64, site: &str, n: usize) -> Value {
    let (po, asn, rcv) = (format!("PO-{t}"), format!("ASN-{t}"), format!("RCV-{t}"));
    let (so, shp, trk, inv) = (format!("SO-{t}"), format!("SHP-{t}"), format!("TRK-{t}"), format!("INV-{t}"));
    let item = format!("SKU-{}", 10_000 + t % 5_000);
    match kind {
        "po.created" => json!({"site": site, "refs": {"po": po}, "supplier": format!("SUP-{:03}", t % 200),
            "lines": [{"line": 1, "item": item, "qty": 240, "uom": "EA", "requested_date": "2026-12-01"}]}),
        "po.acknowledged" => json!({"site": site, "refs": {"po": po}, "supplier": format!("SUP-{:03}", t % 200),
            "lines": [{"line": 1, "status": "accepted", "qty": 240, "promised_date": "2026-12-03"}]}),
        "asn.received" => json!({"site": site, "refs": {"po": po, "asn": asn}, "asn": asn,
            "eta": "2026-12-02T09:00:00Z", "lines": [{"line": 1, "item": item, "qty": 240}]}),
        "receipt.posted" => json!({"site": site, "refs": {"po": po, "asn": asn, "receipt": rcv}, "receipt": rcv,
            "lines": [{"line": 1, "item": item, "qty_received": 240}]}),
        "putaway.completed" => json!({"site": site, "refs": {"receipt": rcv}, "receipt": rcv, "item": item,
            "qty": 48, "bin": format!("A-{n:02}-3")}),
        "order.released" => json!({"site": site, "refs": {"order": so}, "order": so,
            "customer": format!("CUST-{:03}", t % 300), "channel": "edi",
            "lines": [{"line": 1, "item": item, "qty": 12}]}),
        "order.allocated" => json!({"site": site, "refs": {"order": so}, "order": so,
            "lines": [{"line": 1, "item": item, "qty_allocated": 12}]}),
        "pick.completed" => json!({"site": site, "refs": {"order": so}, "order": so,
            "lines": [{"line": 1, "item": item, "qty_picked": 12}]}),
        "shipment.dispatched" => json!({"site": site, "refs": {"order": so, "shipment": shp, "tracking": trk},
            "shipment": shp, "carrier": "ODFL", "tracking": trk, "orders": [so]}),
        "shipment.in_transit" => json!({"site": site, "refs": {"shipment": shp}, "shipment": shp,
            "location": "Memphis TN"}),
        "delivery.confirmed" => json!({"site": site, "refs": {"shipment": shp}, "shipment": shp,
            "delivered_at": "2026-12-01T11:20:00Z", "signed_by": "R. ALVAREZ"}),
        _ => json!({"site": site, "refs": {"invoice": inv, "order": so, "shipment": shp}, "invoice": inv,
            "order": so, "shipment": shp, "amount": 1250.5, "currency": "USD"}),
    }
}

fn name(flow: Flow, t: i64) -> String {
    match flow {
        Flow::ProcureToReceive => format!("po:PO-{t}"),
        Flow::OrderToCash => format!("order:SO-{t}"),
    }
}

fn keys(flow: Flow, t: i64) -> Vec<(&'static str, String)> {
    match flow {
        Flow::ProcureToReceive => {
            vec![("po", format!("PO-{t}")), ("asn", format!("ASN-{t}")), ("receipt", format!("RCV-{t}"))]
        }
        Flow::OrderToCash => vec![
            ("order", format!("SO-{t}")),
            ("shipment", format!("SHP-{t}")),
            ("tracking", format!("TRK-{t}")),
            ("invoice", format!("INV-{t}")),
        ],
    }
}

struct Planned {
    id: i64,
    flow: Flow,
    site: &'static str,
    start: i64,
    /// Events that happened (ten), and how many distinct stages they reach.
    kinds: Vec<&'static str>,
    stage: usize,
}

fn plan(t: i64, now: i64, rng: &mut Rng) -> Planned {
    let flow = if t % 2 == 0 { Flow::ProcureToReceive } else { Flow::OrderToCash };
    let all = types(flow);
    // A fifth are stuck part way: their later events are repeats of the
    // last milestone reached (in-transit updates, acknowledgement changes).
    let cut = if rng.below(5) == 0 { 1 + rng.below(all.len() as u64 - 2) as usize } else { all.len() };
    let kinds: Vec<&'static str> = (0..all.len()).map(|i| all[i.min(cut - 1)]).collect();
    let stage = flow.stages().iter().filter(|s| kinds.contains(&s.as_str())).count();
    let start = now - (rng.below(60 * 24) as i64 + 12) * HOUR;
    Planned { id: t + 1, flow, site: SITES[(t % 3) as usize], start, kinds, stage }
}

async fn fill(pool: &crossdock_server::store::Pool, transactions: i64) {
    let started = Instant::now();
    let now = Utc::now().timestamp_millis();
    let source_id: i64 = sqlx::query_scalar(
        "INSERT INTO sources (name, prefixes, rate_per_sec, burst, created_at) VALUES ('bench', '[\"bench\"]', 1e6, 1000000, 0) RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("a source");
    let mut rng = Rng(42);
    let mut event_id = 0_i64;
    const CHUNK: i64 = 2_000;
    let mut t = 0;
    while t < transactions {
        let plans: Vec<Planned> = (t..(t + CHUNK).min(transactions)).map(|t| plan(t, now, &mut rng)).collect();
        t += plans.len() as i64;
        let mut tx = pool.begin().await.expect("tx");
        let mut q = Builder::new(
            "INSERT INTO transactions (id, name, flow, stage, site, supplier, customer, first_at, last_milestone_at, updated_at) ",
        );
        q.push_values(&plans, |mut b, p| {
            let t = p.id - 1;
            let last = p.start + (p.kinds.len() as i64 - 1) * HOUR;
            b.push_bind(p.id)
                .push_bind(name(p.flow, t))
                .push_bind(p.flow.as_str())
                .push_bind(p.stage as i64)
                .push_bind(p.site)
                .push_bind((p.flow == Flow::ProcureToReceive).then(|| format!("SUP-{:03}", t % 200)))
                .push_bind((p.flow == Flow::OrderToCash).then(|| format!("CUST-{:03}", t % 300)))
                .push_bind(p.start)
                .push_bind(last)
                .push_bind(last);
        });
        q.build().execute(&mut *tx).await.expect("transactions");
        let all_keys: Vec<(&str, String, i64)> =
            plans.iter().flat_map(|p| keys(p.flow, p.id - 1).into_iter().map(move |(k, v)| (k, v, p.id))).collect();
        for part in all_keys.chunks(3_000) {
            let mut q = Builder::new("INSERT INTO transaction_keys (kind, value, transaction_id) ");
            q.push_values(part, |mut b, (k, v, id)| {
                b.push_bind(*k).push_bind(v.clone()).push_bind(*id);
            });
            q.build().execute(&mut *tx).await.expect("keys");
        }
        let mut rows = Vec::with_capacity(plans.len() * EVENTS_PER_TRANSACTION as usize);
        for p in &plans {
            for (n, kind) in p.kinds.iter().enumerate() {
                event_id += 1;
                let time = p.start + n as i64 * HOUR;
                let at = DateTime::<Utc>::from_timestamp_millis(time).unwrap_or_default();
                let body = json!({"specversion": "1.0", "id": format!("b-{event_id}"), "source": "bench/hub",
                    "type": kind, "time": at.to_rfc3339(), "data": data(kind, p.id - 1, p.site, n)})
                .to_string();
                rows.push((event_id, *kind, time, p.site, body, p.id));
            }
        }
        for part in rows.chunks(2_000) {
            let mut q = Builder::new(
                "INSERT INTO events (id, source_id, source, event_id, type, time, received_at, site, body, transaction_id) ",
            );
            q.push_values(part, |mut b, (id, kind, time, site, body, txn)| {
                b.push_bind(*id)
                    .push_bind(source_id)
                    .push_bind("bench/hub")
                    .push_bind(format!("b-{id}"))
                    .push_bind(*kind)
                    .push_bind(*time)
                    .push_bind(*time)
                    .push_bind(*site)
                    .push_bind(body.as_str())
                    .push_bind(*txn);
            });
            q.build().execute(&mut *tx).await.expect("events");
        }
        // One open expectation each; the first thousand are overdue.
        let mut q = Builder::new("INSERT INTO expectations (transaction_id, after, expect, since, due_at, state) ");
        q.push_values(&plans, |mut b, p| {
            let overdue = p.id <= OVERDUE;
            let (after, expect) = match p.flow {
                Flow::ProcureToReceive => ("asn.received", "receipt.posted"),
                Flow::OrderToCash => ("shipment.dispatched", "delivery.confirmed"),
            };
            b.push_bind(p.id)
                .push_bind(after)
                .push_bind(expect)
                .push_bind(p.start)
                .push_bind(if overdue { now - HOUR } else { now + 30 * 24 * HOUR })
                .push_bind("open");
        });
        q.build().execute(&mut *tx).await.expect("expectations");
        tx.commit().await.expect("commit");
        if t % 100_000 == 0 {
            println!("  {t} transactions, {event_id} events, {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    sqlx::query("UPDATE lineage_sweep SET last_event = (SELECT MAX(id) FROM events)")
        .execute(pool)
        .await
        .expect("the sweep starts after the filled events");
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
    println!("filled {transactions} transactions, {event_id} events in {:.1} s", started.elapsed().as_secs_f64());
}

async fn start(
    path: &std::path::Path,
    file: &str,
    synchronous: Synchronous,
) -> (crossdock_server::store::Pool, Services) {
    let url: DatabaseUrl = format!("sqlite://{}/{file}", path.display()).parse().expect("url");
    let pool = crossdock_server::store::open(&url, synchronous).await.expect("db");
    let config = Config::defaults(url.clone());
    let sealer = crossdock_server::secrets::Sealer::load(&config.key_source()).expect("a key");
    let services = Services::start(pool.clone(), config.service_settings(), sealer).await.expect("services");
    (pool, services)
}

/// An event of the ingest mix, the shape of the filled data: ten events a
/// transaction, half of them purchase orders, half customer orders, each
/// transaction's events arriving one after the other.
fn ingest_item(n: usize, lineage: bool) -> IngestItem {
    let now = Utc::now();
    let t = (n / 10) as i64;
    let flow = if t % 2 == 0 { Flow::ProcureToReceive } else { Flow::OrderToCash };
    let kind = types(flow)[n % 10];
    let event = json!({"specversion": "1.0", "id": format!("i-{n}"), "source": "bench/wms", "type": kind,
        "time": now.to_rfc3339(), "data": data(kind, t, "DC-ATL", n % 10)});
    let parsed = crossdock::event::parse(&event).expect("a valid event");
    let refs = match flow {
        Flow::ProcureToReceive => BusinessRefs::new().with(RefKind::Po, format!("PO-{t}")),
        Flow::OrderToCash => BusinessRefs::new().with(RefKind::Order, format!("SO-{t}")),
    };
    let facts = Facts::of(&parsed);
    IngestItem {
        event: EventRecord {
            // Crossdock's own source, the one every new database has.
            source_id: 1,
            source: "bench/wms".into(),
            event_id: format!("i-{n}"),
            event_type: kind,
            time: now,
            received_at: now,
            subject: None,
            correlation_id: None,
            site: Some("DC-ATL".into()),
            body: event.to_string(),
            refs: refs.iter().map(|(k, v)| (k, v.to_owned())).collect(),
            lineage: if lineage { facts } else { Facts { named: Named::Derived, keys: Vec::new(), ..facts } },
            // With lineage, the business KPIs its milestones move are counted too.
            kpi: crossdock::kpi::Signal::of(&parsed)
                .filter(|_| lineage)
                .map(|signal| (signal, chrono_tz::America::New_York)),
        },
        exception: None,
        actor: crossdock::audit::Actor::Source("bench".into()),
        routed: None,
    }
}

/// Events a second through the write path, 100 per transaction, and with
/// lineage the seconds the sweep then took to start their expectations.
async fn ingest_rate(dir: &std::path::Path, lineage: bool, events: usize, round: usize) -> (f64, Duration) {
    let file = format!("{}-{round}.db", if lineage { "with" } else { "without" });
    let file = file.as_str();
    let (pool, services) = start(dir, file, Synchronous::Full).await;
    let items: Vec<Vec<IngestItem>> =
        (0..events / 100).map(|b| (0..100).map(|i| ingest_item(b * 100 + i, lineage)).collect()).collect();
    let started = Instant::now();
    for chunk in &items {
        commit_items(&pool, chunk).await.expect("committed");
    }
    let elapsed = started.elapsed();
    let swept = Instant::now();
    if lineage {
        let report = services.sweep_lineage(Utc::now()).await.expect("sweep").expect("the lease");
        assert_eq!(report.milestones, events, "every milestone swept");
    }
    let swept = swept.elapsed();
    let placed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE transaction_id IS NOT NULL")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(placed > 0, lineage);
    (events as f64 / elapsed.as_secs_f64(), swept)
}

fn main() {
    let transactions: i64 =
        std::env::var("BENCH_LINEAGE_TRANSACTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let ingest_events: usize =
        std::env::var("BENCH_LINEAGE_INGEST").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    runtime.block_on(async {
        let (pool, services) = start(dir.path(), "lineage.db", Synchronous::Normal).await;
        fill(&pool, transactions).await;
        let boss = user(&services, "boss", "supervisor", &[]).await;
        let viewer = boss.viewer();
        println!("lineage at {transactions} transactions, {} events, one core:", transactions * EVENTS_PER_TRANSACTION);

        let mut rng = Rng(7);
        let mut samples = Vec::new();
        for _ in 0..500 {
            let id = 1 + rng.below(transactions as u64) as i64;
            let started = Instant::now();
            let lineage = services.lineage(&viewer, id).await.expect("a lineage");
            samples.push(started.elapsed());
            assert!(!lineage.milestones.is_empty());
        }
        report("lineage page (a transaction end to end)", samples);

        let mut samples = Vec::new();
        for round in 0..500 {
            let t = rng.below(transactions as u64);
            let key = match (t % 2, round % 3) {
                (0, 0) => format!("PO-{t}"),
                (0, 1) => format!("ASN-{t}"),
                (0, _) => format!("RCV-{t}"),
                (_, 0) => format!("SHP-{t}"),
                (_, 1) => format!("TRK-{t}"),
                (_, _) => format!("INV-{t}"),
            };
            let started = Instant::now();
            let found = services.find_transaction(&viewer, &key).await.expect("a lookup");
            samples.push(started.elapsed());
            assert_eq!(found, Some(t as i64 + 1), "{key}");
        }
        report("key lookup (PO, ASN, receipt, shipment, tracking, invoice)", samples);

        let now = Utc::now();
        for (label, flow) in
            [("stuck > 24 business hours, page of 50", None), ("stuck > 24 h, order to cash", Some(Flow::OrderToCash))]
        {
            let quiet_before = (now - chrono::Duration::hours(24)).timestamp_millis();
            let flow_sql = flow.map(|f| format!(" AND flow = '{}'", f.as_str())).unwrap_or_default();
            let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
                "SELECT last_milestone_at, id FROM transactions WHERE last_milestone_at < {quiet_before}{flow_sql} \
                 AND stage < CASE flow WHEN 'procure_to_receive' THEN 5 ELSE 7 END ORDER BY last_milestone_at, id"
            ))
            .fetch_all(&pool)
            .await
            .expect("cursor rows");
            let mut depths: Vec<Option<TransactionCursor>> = vec![None];
            for i in 1..=20 {
                let (at, id) = rows[(rows.len() - 1) * i / 21];
                depths.push(Some(TransactionCursor { at: Some(at), id }));
            }
            let mut samples = Vec::new();
            for _ in 0..10 {
                for after in &depths {
                    let query =
                        TransactionQuery { flow, stuck_hours: Some(24), after: *after, ..TransactionQuery::default() };
                    let started = Instant::now();
                    let page = services.transactions(&viewer, &query).await.expect("a page");
                    samples.push(started.elapsed());
                    assert!(!page.is_empty(), "{label}: {after:?} shows rows");
                }
            }
            report(&format!("{label} ({} stuck, 21 depths)", rows.len()), samples);
        }

        let started = Instant::now();
        let sweep = services.sweep_lineage(Utc::now()).await.expect("a sweep").expect("the lease");
        let took = started.elapsed();
        assert_eq!(sweep.overdue, OVERDUE.min(transactions) as usize, "{sweep:?}");
        println!(
            "{:<52} {:>7.0} ms  ({} open, {} overdue found and filed)",
            "detection sweep over the open expectations",
            took.as_secs_f64() * 1000.0,
            transactions,
            sweep.filed
        );
        let started = Instant::now();
        services.sweep_lineage(Utc::now()).await.expect("a sweep").expect("the lease");
        println!("{:<52} {:>7.2} ms", "the next sweep, nothing new", started.elapsed().as_secs_f64() * 1000.0);
    });
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        // Three rounds each, alternating, on fresh files; the median of each.
        let (mut withouts, mut withs, mut sweeps) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..3 {
            withouts.push(ingest_rate(dir.path(), false, ingest_events, round).await.0);
            let (rate, swept) = ingest_rate(dir.path(), true, ingest_events, round).await;
            withs.push(rate);
            sweeps.push(swept);
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        sweeps.sort();
        let (without, with, swept) = (median(withouts), median(withs), sweeps[sweeps.len() / 2]);
        println!("ingest write path, 100 per transaction, synchronous=FULL, {ingest_events} milestones, median of 3:");
        println!("{:<52} {:>8.0} events/s", "  without lineage", without);
        println!("{:<52} {:>8.0} events/s", "  with the key index and placement", with);
        println!("{:<52} {:>8.1} %", "  slower by", (1.0 - with / without) * 100.0);
        println!(
            "{:<52} {:>8.0} milestones/s",
            "  the sweep starting and meeting their expectations",
            ingest_events as f64 / swept.as_secs_f64()
        );
    });
}
