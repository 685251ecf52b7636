//! Queue views at scale, by hand: `cargo bench -p crossdock-server --bench triage`.
//!
//! Fills a SQLite file with 1,000,000 exceptions (BENCH_EXCEPTIONS to change;
//! 15% open, BENCH_OPEN_PERCENT to change; ten queues, three sites, twenty
//! people), then times the server's own use cases on one core: a filtered,
//! sorted queue page of 50 at several depths (keyset cursors from the first
//! page to the last), word searches through the full-text index (after
//! merging it, as the server does), the counts beside the list, the detail of an
//! exception, the SLA board per queue, site and person, and the escalation
//! sweep (with nothing new to fire, and firing what 60 hours bring). Prints
//! p50, p95 and max, and for the board the time of each of its reads.
//!
//! Filling takes minutes: with `BENCH_KEEP_DIR=<dir>` the filled file is
//! kept there (one per size and share open) and copied in again on the
//! next run instead of filling.
//!
//! With `BENCH_MATRIX=1` it also reads the first page of every status
//! choice, sort and filter crossed (`BENCH_MATRIX=open`: of the open
//! exceptions only).
//!
//! With `BENCH_DATABASE_URL=postgres://…` the same runs on PostgreSQL, in a
//! fresh schema `bench_triage` of that database (filled every time, then
//! analysed).

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use chrono::Utc;
use crossdock::ExceptionId;
use crossdock::board::BoardGrouping;
use crossdock::calendar::{CalendarSpec, HoursSpec};
use crossdock::config::QueueSpec;
use crossdock::triage::{Cursor, QueueFilter};
use crossdock_server::auth::{CurrentUser, Operator};
use crossdock_server::config::{Config, DatabaseUrl, Synchronous};
use crossdock_server::services::{ConfigDocs, Services};
use crossdock_server::store::sql::Builder;
use support::{Rng, report, user};

const QUEUES: [&str; 10] = [
    "receiving",
    "purchasing",
    "inventory-control",
    "transportation",
    "billing",
    "returns",
    "edi",
    "ecommerce",
    "customs",
    "triage",
];
const SITES: [&str; 3] = ["DC-ATL", "DC-DAL", "DC-RNO"];
const KINDS: [&str; 4] = [
    "exception.partial_receipt",
    "exception.integration",
    "exception.inventory_mismatch",
    "exception.invoice_trigger_failed",
];
const SEVERITIES: [(&str, i64); 4] = [("critical", 0), ("high", 1), ("medium", 2), ("low", 3)];
const STATUSES_OPEN: [&str; 4] = ["new", "acknowledged", "in_progress", "waiting"];

async fn fill(pool: &crossdock_server::store::Pool, total: u64, open_percent: u64) {
    let started = Instant::now();
    let now = Utc::now().timestamp_millis();
    let mut rng = Rng(42);
    let mut id = 0u64;
    while id < total {
        let mut tx = pool.begin().await.expect("tx");
        for _ in 0..50 {
            if id >= total {
                break;
            }
            let rows: Vec<u64> = (id..(id + 200).min(total)).collect();
            id += rows.len() as u64;
            let mut values = Vec::with_capacity(rows.len());
            for n in &rows {
                let open = rng.below(100) < open_percent;
                let status = if open {
                    STATUSES_OPEN[rng.below(4) as usize]
                } else if rng.below(5) == 0 {
                    "dismissed"
                } else {
                    "resolved"
                };
                let (severity, order) = SEVERITIES[rng.below(4) as usize];
                let created = now - (rng.below(365 * 86_400) as i64) * 1000;
                let due = created + (rng.below(10 * 86_400) as i64) * 1000;
                let running = open && status != "waiting";
                let assignee = (rng.below(10) < 7).then(|| format!("user{:02}", rng.below(20)));
                // Handled work: acknowledged within hours, closed within days.
                let acked = (status != "new").then(|| created + (rng.below(4 * 3600) as i64) * 1000);
                let closed = (!open).then(|| created + (rng.below(5 * 86_400) as i64) * 1000);
                // Levels already passed have fired (as after an upgrade).
                let passed = |at: i64| at <= now;
                let escalated = if running {
                    i64::from(passed(due - 3_600_000))
                        | (i64::from(passed(due)) << 1)
                        | (i64::from(status != "new") << 2)
                } else {
                    7
                };
                values.push((
                    *n as i64 + 1,
                    KINDS[rng.below(4) as usize],
                    status,
                    severity,
                    SITES[rng.below(3) as usize],
                    QUEUES[rng.below(10) as usize],
                    format!("{} short on PO-{} line {}", rng.below(100), 100_000 + n, 1 + rng.below(9)),
                    format!(r#"{{"po":"PO-{}","supplier":"SUP-{:03}"}}"#, 100_000 + n, rng.below(200)),
                    created,
                    assignee,
                    running.then_some(due),
                    running.then_some(due - 3_600_000),
                    if running {
                        None
                    } else if open {
                        Some("paused")
                    } else {
                        Some("met")
                    },
                    if running { due } else { 9_007_199_254_740_991 },
                    order,
                    (
                        acked,
                        acked.map(|a| (a - created) / 1000),
                        closed,
                        closed.map(|c| (c - created) / 1000),
                        escalated,
                    ),
                ));
            }
            let mut q = Builder::new(
                "INSERT INTO exceptions (id, kind, status, severity, site, queue, summary, refs, payload, created_at, updated_at, \
                 assignee, sla_due_at, sla_risk_at, sla_frozen, sla_sort, severity_order, fingerprint, \
                 acknowledged_at, ack_seconds, closed_at, resolve_seconds, escalated, supplier) ",
            );
            q.push_values(&values, |mut b, v| {
                b.push_bind(v.0)
                    .push_bind(v.1)
                    .push_bind(v.2)
                    .push_bind(v.3)
                    .push_bind(v.4)
                    .push_bind(v.5)
                    .push_bind(&v.6)
                    .push_bind(&v.7)
                    .push_bind("{}")
                    .push_bind(v.8)
                    .push_bind(v.8)
                    .push_bind(&v.9)
                    .push_bind(v.10)
                    .push_bind(v.11)
                    .push_bind(v.12)
                    .push_bind(v.13)
                    .push_bind(v.14)
                    .push_bind(format!("bench|{}", v.0))
                    .push_bind(v.15.0)
                    .push_bind(v.15.1)
                    .push_bind(v.15.2)
                    .push_bind(v.15.3)
                    .push_bind(v.15.4)
                    .push_bind(format!("SUP-{:03}", v.0 % 200));
            });
            q.build().execute(&mut *tx).await.expect("exceptions");
            let mut q = Builder::new("INSERT INTO exception_refs (exception_id, kind, value) ");
            q.push_values(
                values.iter().flat_map(|v| {
                    [(v.0, "po", format!("PO-{}", 99_999 + v.0)), (v.0, "supplier", format!("SUP-{:03}", v.0 % 200))]
                }),
                |mut b, (id, kind, value)| {
                    b.push_bind(id).push_bind(kind).push_bind(value);
                },
            );
            q.build().execute(&mut *tx).await.expect("refs");
        }
        tx.commit().await.expect("commit");
    }
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
    println!("filled {total} exceptions in {:.1} s", started.elapsed().as_secs_f64());
}

/// Cursors spread over a view, from its start to its end.
async fn cursors(pool: &crossdock_server::store::Pool, sql: &str, n: usize) -> Vec<Option<Cursor>> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(sql).fetch_all(pool).await.expect("cursor rows");
    let mut out = vec![None];
    if rows.is_empty() {
        return out;
    }
    for i in 0..n {
        let (a, b, id) = rows[(rows.len() - 1) * i / n.max(1)];
        out.push(Some(Cursor { keys: [a, b], id }));
    }
    out
}

/// Times each read the board makes, one by one, to show where its time goes.
async fn board_reads(pool: &crossdock_server::store::Pool, grouping: BoardGrouping) {
    use crossdock_server::store;
    let now = Utc::now();
    let week = crossdock::board::week_start(now);
    let days = std::collections::BTreeSet::from([now - chrono::Duration::hours(10), now - chrono::Duration::hours(16)]);
    let mut times: [Vec<std::time::Duration>; 6] = Default::default();
    for _ in 0..20 {
        let mut lap = Instant::now();
        let mut mark = |i: usize, times: &mut [Vec<std::time::Duration>; 6]| {
            times[i].push(lap.elapsed());
            lap = Instant::now();
        };
        store::board::open_tallies(pool, now).await.expect("tallies");
        mark(0, &mut times);
        store::board::earliest_breaches(pool, grouping, now).await.expect("breaches");
        mark(1, &mut times);
        store::board::counted_since(pool, &days).await.expect("counted");
        mark(2, &mut times);
        store::users::list(pool).await.expect("users");
        mark(3, &mut times);
        store::board::acknowledged_since(pool, week).await.expect("acknowledged");
        mark(4, &mut times);
        store::board::closed_since(pool, week).await.expect("closed");
        mark(5, &mut times);
    }
    let names = [
        "tallies",
        "earliest breaches",
        "today's work (two day starts)",
        "people",
        "week acknowledged (cached a minute)",
        "week closed (cached a minute)",
    ];
    for (name, samples) in names.iter().zip(times) {
        report(&format!("  board read: {name}"), samples);
    }
}

fn main() {
    let total: u64 = std::env::var("BENCH_EXCEPTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let open_percent: u64 =
        std::env::var("BENCH_OPEN_PERCENT").ok().and_then(|v| v.parse().ok()).unwrap_or(15).min(100);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("triage.db");
    let kept = std::env::var_os("BENCH_KEEP_DIR")
        .map(|d| std::path::PathBuf::from(d).join(format!("triage-{total}-{open_percent}.db")));
    let postgres = std::env::var("BENCH_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"));
    let kept = kept.filter(|_| postgres.is_none());
    let reused = kept.as_ref().is_some_and(|k| k.exists());
    if let Some(kept) = kept.as_ref().filter(|_| reused) {
        std::fs::copy(kept, &file).expect("the kept file copied in");
        println!("reusing the filled file {}", kept.display());
    }
    runtime.block_on(async {
        let url: DatabaseUrl = match &postgres {
            Some(server) => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(server).await.expect("PostgreSQL answers");
                for sql in ["DROP SCHEMA IF EXISTS bench_triage CASCADE", "CREATE SCHEMA bench_triage"] {
                    sqlx::query(sql).execute(&mut conn).await.expect("a fresh schema");
                }
                let joint = if server.contains('?') { '&' } else { '?' };
                println!("on PostgreSQL ({server})");
                format!("{server}{joint}options=-c%20search_path%3Dbench_triage").parse().expect("url")
            }
            None => format!("sqlite://{}", file.display()).parse().expect("url"),
        };
        let pool = crossdock_server::store::open(&url, Synchronous::Normal).await.expect("db");
        let mut config = Config::defaults(url.clone());
        config.secret_key_file = Some(dir.path().join("bench.key"));
        let sealer = crossdock_server::secrets::Sealer::load(&config.key_source()).expect("a key");
        let services = Services::start(pool.clone(), config.service_settings(), sealer).await.expect("services");
        if !reused {
            fill(&pool, total, open_percent).await;
            if postgres.is_some() {
                sqlx::query("ANALYZE").execute(&pool).await.expect("analysed");
            }
            if let Some(kept) = &kept {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.expect("checkpoint");
                std::fs::copy(&file, kept).expect("the filled file kept");
            }
        }
        // As the server does at start-up and every hour.
        let started = Instant::now();
        services.tidy_word_index().await.expect("the word index merged");
        println!("word index merged in {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
        let calendar = CalendarSpec { time_zone: "UTC".into(), hours: HoursSpec::AlwaysOpen, holidays: vec![] };
        let queues = QUEUES
            .iter()
            .map(|q| QueueSpec {
                key: (*q).into(),
                name: (*q).into(),
                team: "Operations".into(),
                sla_policy: "Standard".into(),
                site: None,
                calendar: Some(calendar.clone()),
            })
            .collect();
        let docs = ConfigDocs { queues, ..ConfigDocs::default() };
        services.save_configuration(&Operator::command_line(), &docs).await.expect("queues configured");
        let supervisor = user(&services, "boss", "supervisor", &[]).await;
        let staff = user(&services, "user03", "staff", &["receiving", "billing"]).await;
        println!("queue page of 50 at depths from the first page to the last, {total} exceptions, one core:");

        let open = "status IN ('new','acknowledged','in_progress','waiting')";
        let scenarios: Vec<(&str, &CurrentUser, &str, String)> = vec![
            ("all open, by SLA due (supervisor)", &supervisor, "", format!("SELECT sla_sort, 0, id FROM exceptions WHERE {open} ORDER BY sla_sort, id")),
            ("one queue, by SLA due", &supervisor, "queue=receiving", format!("SELECT sla_sort, 0, id FROM exceptions WHERE {open} AND queue = 'receiving' ORDER BY sla_sort, id")),
            ("staff's two queues, by SLA due", &staff, "", format!("SELECT sla_sort, 0, id FROM exceptions WHERE {open} AND queue IN ('receiving','billing') ORDER BY sla_sort, id")),
            ("one queue, high severity, one site", &supervisor, "queue=transportation&severity=high&site=DC-DAL", format!("SELECT sla_sort, 0, id FROM exceptions WHERE {open} AND queue = 'transportation' AND severity = 'high' AND site = 'DC-DAL' ORDER BY sla_sort, id")),
            ("assigned to me", &staff, "assignee=me", format!("SELECT sla_sort, 0, id FROM exceptions WHERE {open} AND queue IN ('receiving','billing') AND assignee = 'user03' ORDER BY sla_sort, id")),
            ("breached only", &supervisor, "sla=breached", format!("SELECT sla_sort, 0, id FROM exceptions WHERE {open} AND sla_due_at <= {} ORDER BY sla_sort, id", Utc::now().timestamp_millis())),
            ("by severity", &supervisor, "sort=severity", format!("SELECT severity_order, sla_sort, id FROM exceptions WHERE {open} ORDER BY severity_order, sla_sort, id")),
            ("resolved, oldest first", &supervisor, "status=resolved&sort=age", "SELECT created_at, 0, id FROM exceptions WHERE status = 'resolved' ORDER BY created_at, id".to_owned()),
            // Words, through the full-text index; a view in SLA order is cut at
            // the same depths whatever it filters.
            ("words: a common one (short)", &supervisor, "q=short", format!("SELECT sla_sort, 0, id FROM exceptions WHERE {open} ORDER BY sla_sort, id")),
            ("words: two (short line 7)", &supervisor, "q=short+line+7", format!("SELECT sla_sort, 0, id FROM exceptions WHERE {open} ORDER BY sla_sort, id")),
            ("words: a rare prefix, every status (PO-51234)", &supervisor, "q=PO-51234&status=any", "SELECT sla_sort, 0, id FROM exceptions ORDER BY sla_sort, id".to_owned()),
            ("words in every status, oldest first (PO-7777)", &supervisor, "q=PO-7777&status=any&sort=age", "SELECT created_at, 0, id FROM exceptions ORDER BY created_at, id".to_owned()),
            ("one supplier", &supervisor, "supplier=SUP-017", format!("SELECT sla_sort, 0, id FROM exceptions e WHERE {open} AND EXISTS (SELECT 1 FROM exception_refs r WHERE r.exception_id = e.id AND r.kind = 'supplier' AND r.value = 'SUP-017') ORDER BY sla_sort, id")),
        ];
        for (name, who, query, cursor_sql) in scenarios {
            let filter = QueueFilter::parse_query(query).expect("filter");
            let depths = cursors(&pool, &cursor_sql, 20).await;
            let viewer = who.viewer();
            let mut samples = Vec::new();
            for round in 0..10 {
                for after in &depths {
                    let started = Instant::now();
                    let page = services.queue_page(&viewer, &filter, *after).await.expect("page");
                    samples.push(started.elapsed());
                    if round == 0 && after.is_none() {
                        assert!(!page.items.is_empty() || query.contains("supplier"), "{name} shows rows");
                    }
                }
            }
            let first = samples[0].as_secs_f64() * 1000.0;
            let slowest = samples.iter().enumerate().max_by_key(|(_, d)| **d).map_or(0, |(i, _)| i);
            report(name, samples);
            println!("  first query {first:.2} ms; the slowest: round {}, depth {}", slowest / depths.len(), slowest % depths.len());
        }
        // Every status choice, sort and single filter the console offers,
        // crossed: the first page (its first query, then the p95 of five).
        // `BENCH_MATRIX=open`: the open exceptions only.
        if let Ok(matrix) = std::env::var("BENCH_MATRIX") {
            println!("the first page of each status, sort and filter (first query; p95 of 5 after):");
            let statuses: &[&str] = if matrix == "open" {
                &[""]
            } else {
                &["", "status=resolved", "status=new", "status=resolved&status=dismissed", "status=any"]
            };
            for status in statuses.iter().copied() {
                for sort in ["", "sort=severity", "sort=age"] {
                    for (who, filter) in [
                        (&supervisor, ""),
                        (&supervisor, "site=DC-DAL"),
                        (&supervisor, "queue=receiving"),
                        (&supervisor, "severity=high"),
                        (&supervisor, "sla=breached"),
                        (&staff, "assignee=me"),
                        (&staff, ""),
                    ] {
                        let query = [status, sort, filter].iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join("&");
                        let parsed = QueueFilter::parse_query(&query).expect("filter");
                        let viewer = who.viewer();
                        let mut samples = Vec::new();
                        for _ in 0..6 {
                            let started = Instant::now();
                            services.queue_page(&viewer, &parsed, None).await.expect("page");
                            samples.push(started.elapsed());
                        }
                        let first = samples.remove(0).as_secs_f64() * 1000.0;
                        samples.sort();
                        let p95 = samples[samples.len() - 1].as_secs_f64() * 1000.0;
                        let role = if std::ptr::eq(who, &staff) { "staff" } else { "supervisor" };
                        println!("  {role:<10} {:<58} first {first:>8.2} ms   p95 {p95:>8.2} ms", if query.is_empty() { "(all open, by SLA due)" } else { &query });
                    }
                }
            }
        }
        let viewer = supervisor.viewer();
        let mut samples = Vec::new();
        for _ in 0..50 {
            let started = Instant::now();
            services.queue_page(&viewer, &QueueFilter::parse_query("q=PO-512345").expect("filter"), None).await.expect("page");
            samples.push(started.elapsed());
        }
        report("search by a business key (PO)", samples);
        let mut samples = Vec::new();
        for _ in 0..20 {
            let started = Instant::now();
            services.queue_counts(&viewer).await.expect("counts");
            samples.push(started.elapsed());
        }
        report("counts per queue and SLA state (all queues)", samples);
        let mut rng = Rng(7);
        let mut samples = Vec::new();
        for _ in 0..500 {
            let id = 1 + rng.below(total) as i64;
            let started = Instant::now();
            services.exception_detail(&viewer, ExceptionId::new(id)).await.expect("detail");
            samples.push(started.elapsed());
        }
        report("exception detail", samples);

        let open: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM exceptions WHERE {open}"))
            .fetch_one(&pool)
            .await
            .expect("open count");
        println!("the SLA board and the escalation sweep, {open} open exceptions:");
        let reader = supervisor.board_reader().expect("a supervisor reads the board");
        for grouping in BoardGrouping::ALL {
            let mut samples = Vec::new();
            for _ in 0..30 {
                let started = Instant::now();
                services.board(&reader, *grouping).await.expect("board");
                samples.push(started.elapsed());
            }
            report(&format!("SLA board, a row per {grouping}"), samples);
            board_reads(&pool, *grouping).await;
        }
        // What came due between the fill and now fires first.
        let now = Utc::now();
        services.sweep_escalations(now).await.expect("sweep");
        let mut samples = Vec::new();
        for _ in 0..10 {
            let started = Instant::now();
            services.sweep_escalations(now).await.expect("sweep").expect("the lease");
            samples.push(started.elapsed());
        }
        report("escalation sweep, nothing new to fire", samples);
        let started = Instant::now();
        let fired = services.sweep_escalations(now + chrono::Duration::hours(60)).await.expect("sweep").expect("the lease");
        println!(
            "escalation sweep firing what 60 hours bring: {} at risk, {} breached, {} notifications in {:.0} ms",
            fired.at_risk,
            fired.breached,
            fired.notifications,
            started.elapsed().as_secs_f64() * 1000.0
        );
    });
}
