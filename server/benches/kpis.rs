//! The business KPIs at the scale of a busy year: what counting costs on the
//! ingest path, and how long the KPI page's report takes over the daily
//! totals that 10,000,000 events leave behind.
//!
//! Counting: `BENCH_KPI_SIGNALS` milestone signals (default 300,000: PO
//! lines ordered, promised and received; orders released, allocated,
//! dispatched; proofs of delivery) through the store, 500 per transaction, as
//! the ingest writer does. Reporting: `kpi_daily` filled as a year of such
//! events at three sites and 200 suppliers fills it (one row per KPI, site,
//! supplier and day), then the report for 90 days at every site, one site, and
//! one supplier, as the page asks for it.
//!
//! Run: `cargo bench -p crossdock-server --bench kpis`.

mod support;

use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use crossdock::calendar::{CalendarSpec, HoursSpec};
use crossdock::config::SiteSpec;
use crossdock::kpi::{BUCKETS, Kpi, KpiQuery, Period, Signal};
use crossdock_server::auth::Operator;
use crossdock_server::config::{Config, DatabaseUrl, Synchronous};
use crossdock_server::services::{ConfigDocs, Services};
use crossdock_server::store::kpi::Counted;
use crossdock_server::store::sql::Builder;
use support::{Rng, report, user};

const SITES: [&str; 3] = ["DC-ATL", "DC-DAL", "DC-RNO"];
const SUPPLIERS: u64 = 200;
const DAYS: i64 = 365;

/// The signals of one purchase order and one customer order.
fn signals(n: u64, rng: &mut Rng) -> Vec<Signal> {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap() + Duration::minutes((n * 7) as i64);
    let site = Some(SITES[(n % 3) as usize].to_owned());
    let po = format!("PO-{n}");
    let supplier = format!("SUP-{:03}", rng.below(SUPPLIERS));
    let order = format!("SO-{n}");
    let promised = crossdock::event::BusinessDate::Day((at + Duration::days(5)).date_naive());
    vec![
        Signal::Ordered {
            po: po.clone(),
            site: site.clone(),
            supplier: supplier.clone(),
            lines: vec![(1, 100.0), (2, 40.0)],
        },
        Signal::Promised { po: po.clone(), site: site.clone(), supplier, lines: vec![(1, promised), (2, promised)] },
        Signal::Received {
            po,
            site: site.clone(),
            at: at + Duration::days(4 + rng.below(4) as i64),
            lines: vec![(1, 100.0 - rng.below(3) as f64 * 10.0), (2, 40.0)],
        },
        Signal::Released { order: order.clone(), site: site.clone(), at },
        Signal::Allocation { site: site.clone(), at: at + Duration::minutes(30), failed: rng.below(20) == 0 },
        Signal::Dispatched {
            shipment: format!("SHP-{n}"),
            site: site.clone(),
            at: at + Duration::hours(4 + rng.below(30) as i64),
            orders: vec![order],
        },
        Signal::Confirmed {
            shipment: format!("SHP-{n}"),
            site,
            at: at + Duration::hours(60),
            delivered_at: at + Duration::hours(50),
        },
    ]
}

/// `kpi_daily` as a year at three sites and 200 suppliers leaves it.
async fn fill_daily(pool: &crossdock_server::store::Pool) -> u64 {
    let mut rng = Rng(11);
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a day");
    let mut rows = Vec::new();
    for d in 0..DAYS {
        let day = (first + Duration::days(d)).to_string();
        for site in SITES {
            for kpi in Kpi::ALL {
                let suppliers: Vec<String> = if kpi.by_supplier() {
                    std::iter::once(String::new()).chain((0..SUPPLIERS).map(|s| format!("SUP-{s:03}"))).collect()
                } else {
                    vec![String::new()]
                };
                for supplier in suppliers {
                    let n = 1 + rng.below(if supplier.is_empty() { 4000 } else { 30 }) as i64;
                    rows.push((supplier, day.clone(), kpi.as_str(), site, n, n as f64 * 9.0, n as f64 * 10.0, n / 10));
                }
            }
        }
    }
    let count = rows.len() as u64;
    let mut tx = pool.begin().await.expect("a transaction");
    for chunk in rows.chunks(500) {
        let mut q = Builder::new("INSERT INTO kpi_daily (supplier, day, kpi, site, n, num, den, hits, b3) ");
        q.push_values(chunk, |mut b, r| {
            b.push_bind(&r.0)
                .push_bind(&r.1)
                .push_bind(r.2)
                .push_bind(r.3)
                .push_bind(r.4)
                .push_bind(r.5)
                .push_bind(r.6)
                .push_bind(r.7)
                .push_bind(r.4);
        });
        q.build().execute(&mut *tx).await.expect("rows");
    }
    sqlx::query(
        "INSERT OR IGNORE INTO kpi_suppliers (supplier) SELECT DISTINCT supplier FROM kpi_daily WHERE supplier <> ''",
    )
    .execute(&mut *tx)
    .await
    .expect("suppliers");
    tx.commit().await.expect("commit");
    count
}

fn main() {
    let total: u64 = std::env::var("BENCH_KPI_SIGNALS").ok().and_then(|v| v.parse().ok()).unwrap_or(300_000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    runtime.block_on(async {
        let url: DatabaseUrl = format!("sqlite://{}/kpis.db", dir.path().display()).parse().expect("url");
        let pool = crossdock_server::store::open(&url, Synchronous::Normal).await.expect("db");
        let config = Config::defaults(url.clone());
        let sealer = crossdock_server::secrets::Sealer::load(&config.key_source()).expect("a key");
        let services = Services::start(pool.clone(), config.service_settings(), sealer).await.expect("services");
        let calendar =
            CalendarSpec { time_zone: "America/Chicago".into(), hours: HoursSpec::AlwaysOpen, holidays: vec![] };
        let sites = SITES
            .iter()
            .map(|code| SiteSpec { code: (*code).into(), name: (*code).into(), calendar: calendar.clone() })
            .collect();
        let docs = ConfigDocs { sites, ..ConfigDocs::default() };
        services.save_configuration(&Operator::command_line(), &docs).await.expect("sites configured");

        // Counting, as the ingest writer does it.
        let mut rng = Rng(3);
        let mut batch = Vec::new();
        let mut counted = 0u64;
        let mut samples = Vec::new();
        let started = Instant::now();
        let mut n = 0;
        while counted < total {
            for signal in signals(n, &mut rng) {
                batch.push(Counted { signal, zone: chrono_tz::America::Chicago, transaction: None });
            }
            n += 1;
            if batch.len() >= 500 {
                let begun = Instant::now();
                let mut tx = crossdock_server::store::begin(&pool).await.expect("a transaction");
                crossdock_server::store::kpi::count(&mut tx, &batch).await.expect("counted");
                tx.commit().await.expect("commit");
                samples.push(begun.elapsed());
                counted += batch.len() as u64;
                batch.clear();
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "counted {counted} milestone signals in {secs:.1} s: {:.0} signals/s on one core",
            counted as f64 / secs
        );
        report("counting a batch of 500 signals (one transaction)", samples);

        sqlx::query("DELETE FROM kpi_daily").execute(&pool).await.expect("cleared");
        let rows = fill_daily(&pool).await;
        println!("kpi_daily holds {rows} rows: {DAYS} days, 3 sites, {SUPPLIERS} suppliers");
        let person = user(&services, "clerk", "staff", &[]).await;
        let viewer = person.viewer();
        let to = NaiveDate::from_ymd_opt(2026, 12, 31).expect("a day");
        let from = to - Duration::days(89);
        let cases = [
            (
                "KPI report, 90 days, every site, per day",
                KpiQuery { from, to, period: Period::Day, site: None, supplier: None },
            ),
            (
                "KPI report, 90 days, every site, per week",
                KpiQuery { from, to, period: Period::Week, site: None, supplier: None },
            ),
            (
                "KPI report, 90 days, one site",
                KpiQuery { from, to, period: Period::Day, site: Some("DC-DAL".into()), supplier: None },
            ),
            (
                "KPI report, 90 days, one supplier",
                KpiQuery { from, to, period: Period::Day, site: None, supplier: Some("SUP-042".into()) },
            ),
        ];
        for (name, query) in cases {
            let mut samples = Vec::new();
            for _ in 0..50 {
                let begun = Instant::now();
                let (report, _) = services.kpis(&viewer, &query).await.expect("a report");
                samples.push(begun.elapsed());
                assert!(report.kpis.iter().any(|k| k.n > 0));
                assert_eq!(report.kpis.first().map(|k| k.distribution.len()), Some(BUCKETS));
            }
            report(name, samples);
        }
    });
}
