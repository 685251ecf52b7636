//! The audit trail at scale, by hand: `cargo bench -p crossdock-server --bench audit`.
//!
//! Fills a SQLite file with 5,000,000 sealed audit records (BENCH_AUDIT_RECORDS
//! to change) over a year: twenty people, five sources and the system acting
//! on a million exceptions. Then times, on one core: a page of the auditor
//! console under each filter at depths from the newest record to the oldest;
//! the walk `crossdock audit verify` makes over the whole chain; an export of
//! about a million rows (paging and encoding as the HTTP export does) with the
//! process's peak memory growth; and the cost of chaining, side by side with
//! the same records written unchained, in transactions of one record (a
//! triage action) and of 200 (an ingest group commit).
//!
//! BENCH_KEEP_DIR=<dir> keeps the filled file there and reuses it on the next
//! run; BENCH_ONLY=<parts> (of chaining, pages, verify, export, by commas)
//! runs only those parts.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use chrono::{TimeZone, Utc};
use crossdock::audit::query::{AuditFilter, ExportRow};
use crossdock::audit::{Actor, AuditAction, AuditEntry, Entity, SystemAgent};
use crossdock_server::config::{Config, DatabaseUrl, Synchronous};
use crossdock_server::services::Services;
use crossdock_server::store::sql::Builder;
use crossdock_server::store::{self, Pool};
use support::{Rng, report, sign_in, user};

const ACTIONS: [(AuditAction, u64); 8] = [
    (AuditAction::ExceptionFiled, 30),
    (AuditAction::ExceptionRecurred, 20),
    (AuditAction::ExceptionClaimed, 10),
    (AuditAction::ExceptionCommented, 10),
    (AuditAction::ExceptionAssigned, 8),
    (AuditAction::ExceptionResolved, 12),
    (AuditAction::ExceptionEscalated, 5),
    (AuditAction::MessageCorrected, 5),
];
const WORDS: [&str; 8] = ["pallet", "carrier", "short", "damaged", "invoice", "customs", "label", "recount"];

/// The instant of the first record: a year before now.
fn start() -> i64 {
    Utc::now().timestamp_millis() - 365 * 86_400_000
}

/// Record `n` of `total`: who did what, spread evenly over the year.
fn entry(rng: &mut Rng, n: u64, total: u64, start: i64) -> AuditEntry {
    let at =
        Utc.timestamp_millis_opt(start + (n as i64) * (365 * 86_400_000 / total as i64)).single().expect("an instant");
    let mut pick = rng.below(100);
    let action = ACTIONS
        .iter()
        .find(|(_, weight)| {
            let hit = pick < *weight;
            pick = pick.saturating_sub(*weight);
            hit
        })
        .map_or(AuditAction::ExceptionCommented, |(a, _)| *a);
    let actor = match action {
        AuditAction::ExceptionFiled | AuditAction::ExceptionRecurred => Actor::Source(format!("src{}", rng.below(5))),
        AuditAction::ExceptionEscalated => Actor::System(SystemAgent::Escalation),
        _ => Actor::User(format!("user{:02}", rng.below(20))),
    };
    let word = WORDS[rng.below(WORDS.len() as u64) as usize];
    AuditEntry::new(at, actor, action, Entity::Exception, (1 + rng.below(1_000_000)).to_string())
        .before(serde_json::json!({"status": "new", "queue": "receiving"}))
        .after(serde_json::json!({"status": "in_progress", "queue": "receiving", "assignee": "user07"}))
        .reason(format!("{word} on PO-{} checked", 100_000 + rng.below(900_000)))
}

async fn fill(pool: &Pool, total: u64) {
    let started = Instant::now();
    let (mut rng, start) = (Rng(7), start());
    let mut n = 0;
    while n < total {
        let batch: Vec<AuditEntry> = (n..(n + 5_000).min(total)).map(|i| entry(&mut rng, i, total, start)).collect();
        n += batch.len() as u64;
        let mut tx = store::begin(pool).await.expect("tx");
        store::audit::append(&mut tx, &batch).await.expect("append");
        tx.commit().await.expect("commit");
    }
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
    let secs = started.elapsed().as_secs_f64();
    println!("filled {total} sealed records in {secs:.1} s ({:.0} records/s)", total as f64 / secs);
}

/// The process's resident memory now and at its peak since the last reset, in MB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Writes `records` records one transaction at a time, `per` records each,
/// sealed into the chain or not; answers records per second.
async fn write_rate(pool: &Pool, records: u64, per: u64, sealed: bool) -> f64 {
    let mut rng = Rng(11);
    let start = Utc::now().timestamp_millis();
    let started = Instant::now();
    let mut n = 0;
    while n < records {
        let batch: Vec<AuditEntry> = (n..n + per).map(|i| entry(&mut rng, i, records, start)).collect();
        n += per;
        let mut tx = store::begin(pool).await.expect("tx");
        if sealed {
            store::audit::append(&mut tx, &batch).await.expect("append");
        } else {
            let mut q =
                Builder::new("INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after, reason) ");
            q.push_values(&batch, |mut b, e| {
                b.push_bind(e.at.timestamp_millis())
                    .push_bind(e.actor.to_string())
                    .push_bind(e.action.as_str())
                    .push_bind(e.entity.as_str())
                    .push_bind(e.entity_id.clone())
                    .push_bind(e.before.as_ref().map(serde_json::Value::to_string))
                    .push_bind(e.after.as_ref().map(serde_json::Value::to_string))
                    .push_bind(e.reason.clone());
            });
            q.build().execute(&mut *tx).await.expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    records as f64 / started.elapsed().as_secs_f64()
}

async fn scratch(dir: &std::path::Path, name: &str) -> Pool {
    let url: DatabaseUrl = format!("sqlite://{}/{name}.db", dir.display()).parse().expect("url");
    store::open(&url, Synchronous::Full).await.expect("db")
}

fn main() {
    let total: u64 = std::env::var("BENCH_AUDIT_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000_000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let temp = tempfile::tempdir().expect("temp dir");
    let kept = std::env::var("BENCH_KEEP_DIR").ok().map(std::path::PathBuf::from);
    let dir = kept.clone().unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir).expect("the bench's directory");
    let only = std::env::var("BENCH_ONLY").ok();
    let runs = |part: &str| only.as_deref().is_none_or(|o| o.split(',').any(|p| p.trim() == part));
    runtime.block_on(async {
        // The cost of chaining first, on small fresh files, as the product writes them.
        if runs("chaining") {
        println!("chaining, records written per second (fresh files, synchronous=FULL):");
        for (per, what) in [(1, "one record per transaction (a triage action)"), (200, "200 per transaction (ingest)")] {
            let records = if per == 1 { 1_000 } else { 40_000 };
            let (plain_file, sealed_file) =
                (scratch(temp.path(), &format!("plain{per}")).await, scratch(temp.path(), &format!("sealed{per}")).await);
            // Turn about, five rounds each, so that the disk's moods fall on both; the medians.
            let (mut plain, mut sealed) = (Vec::new(), Vec::new());
            for _ in 0..5 {
                plain.push(write_rate(&plain_file, records, per, false).await);
                sealed.push(write_rate(&sealed_file, records, per, true).await);
            }
            let median = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let (plain, sealed) = (median(plain), median(sealed));
            println!(
                "  {what:<48} unchained {plain:>9.0}/s   chained {sealed:>9.0}/s   ({:+.0} µs a record)",
                (1.0 / sealed - 1.0 / plain) * 1e6
            );
        }
        }

        let filled = kept.is_some() && dir.join("audit.db").exists();
        let url: DatabaseUrl = format!("sqlite://{}/audit.db", dir.display()).parse().expect("url");
        let pool = store::open(&url, Synchronous::Normal).await.expect("db");
        let config = Config::defaults(url.clone());
        let sealer = crossdock_server::secrets::Sealer::load(&config.key_source()).expect("a key");
        let services = Services::start(pool.clone(), config.service_settings(), sealer).await.expect("services");
        let auditor = if filled {
            let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&pool).await.expect("count");
            println!("reusing {total} records in {}", dir.display());
            sign_in(&services, "audra").await
        } else {
            fill(&pool, total).await;
            user(&services, "audra", "auditor", &[]).await
        };
        let reader = auditor.audit_reader().expect("an auditor reads the trail");
        let last = total as i64;

        let year_start = Utc.timestamp_millis_opt(start()).single().expect("start").date_naive();
        let week = |w: i64| {
            let from = year_start + chrono::Duration::weeks(w);
            format!("from={from}&to={}", from + chrono::Duration::days(6))
        };
        println!("a page of the auditor console, {total} records, at depths from the newest to the oldest:");
        let scenarios = [
            ("everything, newest first", String::new()),
            ("everything, oldest first", "order=oldest".to_owned()),
            ("one person", "actor=user:user07".to_owned()),
            ("the system", "actor=system".to_owned()),
            ("one action", "action=exception.resolved".to_owned()),
            ("one exception's history", "exception=424242&order=oldest".to_owned()),
            ("one week", week(26)),
            ("one person's week", format!("actor=user:user07&{}", week(26))),
            ("one person's week, a year back", format!("actor=user:user07&{}", week(1))),
            ("a common word in the reason", "q=recount".to_owned()),
            ("a rare word in the reason (one PO)", "q=PO-512345".to_owned()),
        ];
        for (name, query) in scenarios.into_iter().filter(|_| runs("pages")) {
            let filter = AuditFilter::parse_query(&query).expect("filter");
            let depths: Vec<Option<i64>> =
                std::iter::once(None).chain((1..=20).map(|i| Some(1 + last * i / 21))).collect();
            let mut samples = Vec::new();
            for _ in 0..5 {
                for after in &depths {
                    let started = Instant::now();
                    services.audit_page(&reader, &filter, *after).await.expect("page");
                    samples.push(started.elapsed());
                }
            }
            report(name, samples);
        }

        if runs("verify") {
            let started = Instant::now();
            let walked = services.verify_audit_chain(None).await.expect("verify");
            let secs = started.elapsed().as_secs_f64();
            assert!(walked.broken.is_none(), "the chain holds");
            println!(
                "verify: walked {} records in {secs:.1} s ({:.0} records/s)",
                walked.checked,
                walked.checked as f64 / secs
            );
        }
        if !runs("export") {
            return;
        }

        // About a fifth of the year: a million of five million.
        let to = year_start + chrono::Duration::days(72);
        let filter = AuditFilter::parse_query(&format!("from={year_start}&to={to}")).expect("filter");
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let (before, _) = memory();
        let started = Instant::now();
        let export = services
            .start_audit_export(&reader, &filter, crossdock::audit::query::ExportFormat::JsonLines)
            .await
            .expect("export");
        let (mut after, mut rows, mut bytes) = (None, 0u64, 0usize);
        loop {
            let chunk = export.next_chunk(after).await.expect("chunk");
            let Some(last) = chunk.last() else { break };
            after = Some(last.record.id);
            for record in &chunk {
                bytes += serde_json::to_vec(&ExportRow::from(record)).expect("a line").len() + 1;
            }
            rows += chunk.len() as u64;
        }
        let secs = started.elapsed().as_secs_f64();
        let (_, peak) = memory();
        println!(
            "export: {rows} rows ({:.0} MB of JSON Lines) in {secs:.1} s ({:.0} rows/s); resident {before:.0} MB before, peak {peak:.0} MB: growth {:.0} MB",
            bytes as f64 / 1e6,
            rows as f64 / secs,
            peak - before
        );
        assert_eq!(rows as i64, export.rows, "every counted row exported");
    });
}
