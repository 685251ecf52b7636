//! Ingest throughput, by hand: `cargo bench -p crossdock-server --bench ingest`.
//!
//! Starts the release `crossdock` binary on a fresh SQLite file (WAL,
//! synchronous=FULL) and measures, over real HTTP on 127.0.0.1:
//! (a) batches of 100 events over 8 connections, (b) single events over 64
//! concurrent connections: events a second, request latency p50/p99, and the
//! server's peak resident memory. In the same run it commits the same rows
//! straight into the same schema in batched transactions (no HTTP, parsing or
//! routing), on a fresh file with and without lineage (no transaction keys:
//! nothing placed), and prints the ratio. The event mix is half partial
//! receipts (each opens an exception) and half receipt milestones, a new
//! purchase order every two events.
//!
//! Then (c), when a NATS server answers at BENCH_NATS_URL (default
//! nats://127.0.0.1:4222): the same events published to a JetStream stream
//! beforehand, taken by a fresh server's durable consumer, from the first
//! event stored to the last; and its ratio to (a) and (b).
//!
//! Then, when a PostgreSQL server answers at BENCH_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/test), (a) and (b) again on it (each
//! run in a fresh schema), with one instance and with two instances on the
//! same database (the connections shared between them), and (c) on it.
//!
//! Sizes can be set with BENCH_BATCHED_EVENTS, BENCH_SINGLE_EVENTS and
//! BENCH_NATS_EVENTS.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use crossdock::{BusinessRefs, ExceptionKind, RefKind, Severity};
use crossdock_server::config::{DatabaseUrl, Synchronous};
use crossdock_server::services::ingest::writer::{IngestItem, commit_items};
use crossdock_server::store::events::EventRecord;
use crossdock_server::store::exceptions::{NewException, SlaColumns};
use serde_json::json;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn event(n: usize) -> serde_json::Value {
    if n.is_multiple_of(2) {
        json!({"specversion": "1.0", "id": format!("e-{n}"), "source": "bench/wms", "type": "exception.partial_receipt",
            "time": "2026-11-24T15:42:10Z",
            "data": {"site": "DC-ATL", "refs": {"po": format!("PO-{n}"), "supplier": "SUP-017"}, "po": format!("PO-{n}"),
                     "line": 1 + n % 9, "item": "SKU-20418", "expected_qty": 240, "received_qty": 192}})
    } else {
        json!({"specversion": "1.0", "id": format!("e-{n}"), "source": "bench/wms", "type": "receipt.posted",
            "time": "2026-11-24T15:42:10Z",
            "data": {"site": "DC-ATL", "refs": {"po": format!("PO-{}", n - 1)}, "receipt": format!("RCV-{n}"),
                     "lines": [{"line": 1, "item": "SKU-20418", "qty_received": 192}]}})
    }
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn crossdock(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crossdock"));
    let key = std::env::temp_dir().join(format!("crossdock-bench-{}.key", std::process::id()));
    cmd.env("CROSSDOCK_DATABASE_URL", db).env("CROSSDOCK_LOG", "warn").env("CROSSDOCK_SECRET_KEY_FILE", key);
    cmd
}

fn start(db: &str) -> (Server, String) {
    start_with(db, &[], &[])
}

/// A server on `db` with the bench source (created with `source_args` more)
/// and `serve_args`.
fn start_with(db: &str, source_args: &[&str], serve_args: &[&str]) -> (Server, String) {
    let out = crossdock(db)
        .args(["source", "create", "bench", "--prefix", "bench/", "--rate", "1000000", "--burst", "1000000"])
        .args(source_args)
        .output()
        .expect("source created");
    let key = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_owned();
    (serve(db, serve_args), key)
}

/// A server on `db`, as it is.
fn serve(db: &str, serve_args: &[&str]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let child = crossdock(db)
        .env("CROSSDOCK_BIND", format!("127.0.0.1:{port}"))
        .env("CROSSDOCK_INGEST_QUEUE", "4096")
        .arg("serve")
        .args(serve_args)
        .stdout(Stdio::null())
        .spawn()
        .expect("server started");
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, url }
}

fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct Run {
    events: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn report(&self, name: &str) -> f64 {
        let mut l = self.latencies.clone();
        l.sort();
        let pct = |p: f64| l.get(((l.len() as f64 - 1.0) * p) as usize).copied().unwrap_or_default();
        let rate = self.events as f64 / self.elapsed.as_secs_f64();
        let latency = if l.is_empty() {
            String::new()
        } else {
            format!(
                "   p50 {:>7.2} ms   p99 {:>7.2} ms",
                pct(0.50).as_secs_f64() * 1000.0,
                pct(0.99).as_secs_f64() * 1000.0
            )
        };
        println!(
            "{name:<34} {:>9} events in {:>6.2} s = {:>8.0} events/s{latency}",
            self.events,
            self.elapsed.as_secs_f64(),
            rate,
        );
        rate
    }
}

/// Sends `bodies` over `connections` connections, spread over the servers
/// at `urls` in turn.
async fn drive(urls: &[&str], key: &str, bodies: Vec<(String, &'static str, usize)>, connections: usize) -> Run {
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let url = format!("{}/api/v1/events", urls[c % urls.len()]);
        let (bodies, next, key) = (bodies.clone(), next.clone(), key.to_owned());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("client");
            let mut latencies = Vec::new();
            let mut events = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, content_type, n)) = bodies.get(i) else {
                    break;
                };
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", *content_type)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("sent");
                let status = response.status();
                let _ = response.bytes().await;
                assert!(status.is_success(), "answered {status}");
                latencies.push(sent.elapsed());
                events += n;
            }
            (events, latencies)
        }));
    }
    let mut run = Run { events: 0, elapsed: Duration::ZERO, latencies: Vec::new() };
    for t in tasks {
        let (events, latencies) = t.await.expect("task");
        run.events += events;
        run.latencies.extend(latencies);
    }
    run.elapsed = started.elapsed();
    run
}

fn item(n: usize, lineage: bool) -> IngestItem {
    let now = Utc::now();
    let refs = BusinessRefs::new().with(RefKind::Po, format!("PO-{n}")).with(RefKind::Supplier, "SUP-017");
    let body = event(n).to_string();
    let exception = (n.is_multiple_of(2)).then(|| NewException {
        kind: ExceptionKind::PartialReceipt,
        severity: Severity::Medium,
        site: "DC-ATL".into(),
        queue: "triage".into(),
        summary: format!("48 short on PO-{n} line 1"),
        refs: refs.clone(),
        payload: event(n)["data"].to_string(),
        fingerprint: format!("exception.partial_receipt|DC-ATL|po:PO-{n}/line:1|"),
        source: "bench/wms".into(),
        correlation_id: Some(format!("po:PO-{n}")),
        assignee: None,
        event_id: 0,
        transaction_id: None,
        sla_policy_version: None,
        sla: SlaColumns::default(),
        opened_at: now,
    });
    IngestItem {
        event: EventRecord {
            source_id: 1,
            source: "bench/wms".into(),
            event_id: format!("d-{n}"),
            event_type: if n.is_multiple_of(2) { "exception.partial_receipt" } else { "receipt.posted" },
            time: now,
            received_at: now,
            subject: None,
            correlation_id: Some(format!("po:PO-{n}")),
            site: Some("DC-ATL".into()),
            body,
            refs: refs.iter().map(|(k, v)| (k, v.to_owned())).collect(),
            lineage: {
                let facts = crossdock::lineage::Facts::of(&crossdock::event::parse(&event(n)).expect("a valid event"));
                if lineage { facts } else { crossdock::lineage::Facts { keys: Vec::new(), ..facts } }
            },
            kpi: None,
        },
        exception,
        actor: crossdock::audit::Actor::Source("bench".into()),
        routed: None,
    }
}

/// Publishes `events` events to a stream of its own, then starts a server
/// taking them through a durable consumer and times them into the database,
/// from the first stored to the last.
async fn jetstream(url: &str, db: &str, events: usize) -> anyhow::Result<Run> {
    let client = async_nats::connect(url).await?;
    let js = async_nats::jetstream::new(client);
    let (stream, root) = (format!("BENCH{}", std::process::id()), format!("bench{}", std::process::id()));
    let subjects = format!("{root}.>");
    js.create_stream(async_nats::jetstream::stream::Config {
        name: stream.clone(),
        subjects: vec![subjects.clone()],
        ..Default::default()
    })
    .await?;
    // Acknowledged a thousand at a time: the client holds only so many open.
    for chunk in (0..events).collect::<Vec<_>>().chunks(1_000) {
        let mut acks = Vec::with_capacity(chunk.len());
        for n in chunk {
            acks.push(js.publish(format!("{root}.wms"), event(20_000_000 + n).to_string().into()).await?);
        }
        for ack in acks {
            ack.await?;
        }
    }
    let source_subject = format!("{root}.wms");
    let server = start_with(
        db,
        &["--nats-subject", &source_subject],
        &["--nats-url", url, "--nats-stream", &stream, "--nats-subjects", &subjects],
    );
    let reader = crossdock_server::store::open(&db.parse().map_err(anyhow::Error::msg)?, Synchronous::Full).await?;
    let stored = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events").fetch_one(&reader).await.unwrap_or(0) as usize
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    while stored().await == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    while stored().await < events && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let done = stored().await;
    drop(server);
    let _ = js.delete_stream(&stream).await;
    anyhow::ensure!(done == events, "only {done} of {events} events were stored");
    Ok(Run { events, elapsed, latencies: Vec::new() })
}

fn main() {
    let batched = env_usize("BENCH_BATCHED_EVENTS", 100_000);
    let single = env_usize("BENCH_SINGLE_EVENTS", 30_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}/bench.db", dir.path().display());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");

    let (server, key) = start(&db);
    println!(
        "crossdock ingest benchmark: SQLite WAL, synchronous=FULL, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let (batched_rate, single_rate) = http_runs(&runtime, &[&server.url], &key, batched, single, "");
    println!("server peak memory (VmHWM)          {:>8.1} MB", peak_rss_mb(server.child.id()));
    drop(server);

    let nats_url = std::env::var("BENCH_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let nats_events = env_usize("BENCH_NATS_EVENTS", 30_000);
    let db = format!("sqlite://{}/nats.db", dir.path().display());
    match runtime.block_on(jetstream(&nats_url, &db, nats_events)) {
        Ok(run) => {
            let rate = run.report("(c) JetStream, one durable consumer");
            println!("ratio of (c) to (a) {:>6.2}, to (b) {:>6.2}", rate / batched_rate, rate / single_rate);
        }
        Err(e) => println!("(c) JetStream: skipped ({e:#})"),
    }

    // The same rows, straight into the same schema, in transactions of 100;
    // and again on a fresh file without lineage (no keys: nothing placed).
    let direct = |file: String, lineage: bool| {
        let items: Vec<Vec<IngestItem>> =
            (0..batched / 100).map(|b| (0..100).map(|i| item(b * 100 + i, lineage)).collect()).collect();
        runtime.block_on(async move {
            let url: DatabaseUrl = file.parse().expect("url");
            let pool = crossdock_server::store::open(&url, Synchronous::Full).await.expect("db");
            let started = Instant::now();
            for chunk in &items {
                commit_items(&pool, chunk).await.expect("committed");
            }
            batched as f64 / started.elapsed().as_secs_f64()
        })
    };
    let direct_rate = direct(format!("sqlite://{}/direct.db", dir.path().display()), true);
    let plain_rate = direct(format!("sqlite://{}/plain.db", dir.path().display()), false);
    println!("{:<34} {:>9} events at {:>8.0} events/s", "direct inserts, 100 per transaction", batched, direct_rate);
    println!("{:<34} {:>9} events at {:>8.0} events/s", "  the same without lineage", batched, plain_rate);
    println!("ratio of (a) to direct inserts      {:>8.2}", batched_rate / direct_rate);

    let postgres =
        std::env::var("BENCH_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let Some(schema) = runtime.block_on(fresh_schema(&postgres, "bench_ingest_one")) else {
        println!("PostgreSQL: skipped (nothing answers at {postgres})");
        return;
    };
    println!("on PostgreSQL ({postgres}):");
    let (server, key) = start(&schema);
    let (pg_batched, pg_single) = http_runs(&runtime, &[&server.url], &key, batched, single, "one instance ");
    drop(server);
    println!("ratio to SQLite: (a) {:>6.2}, (b) {:>6.2}", pg_batched / batched_rate, pg_single / single_rate);
    if let Some(schema) = runtime.block_on(fresh_schema(&postgres, "bench_ingest_two")) {
        let (first, key) = start(&schema);
        let second = serve(&schema, &[]);
        let (two_batched, two_single) =
            http_runs(&runtime, &[&first.url, &second.url], &key, batched, single, "two instances ");
        println!(
            "ratio of two instances to one: (a) {:>6.2}, (b) {:>6.2}",
            two_batched / pg_batched,
            two_single / pg_single
        );
    }
    if let Some(schema) = runtime.block_on(fresh_schema(&postgres, "bench_ingest_nats")) {
        match runtime.block_on(jetstream(&nats_url, &schema, nats_events)) {
            Ok(run) => {
                let rate = run.report("(c) JetStream on PostgreSQL");
                println!("ratio of (c) to (a) {:>6.2}, to (b) {:>6.2}", rate / pg_batched, rate / pg_single);
            }
            Err(e) => println!("(c) JetStream on PostgreSQL: skipped ({e:#})"),
        }
    }
}

/// (a) and (b) against the servers at `urls`; their rates.
fn http_runs(
    runtime: &tokio::runtime::Runtime,
    urls: &[&str],
    key: &str,
    batched: usize,
    single: usize,
    label: &str,
) -> (f64, f64) {
    let batches: Vec<(String, &'static str, usize)> = (0..batched / 100)
        .map(|b| {
            let events: Vec<_> = (0..100).map(|i| event(b * 100 + i)).collect();
            (serde_json::Value::Array(events).to_string(), "application/cloudevents-batch+json", 100)
        })
        .collect();
    let a = runtime.block_on(drive(urls, key, batches, 8));
    let batched_rate = a.report(&format!("(a) {label}batches of 100, 8 conn."));
    let singles: Vec<(String, &'static str, usize)> =
        (0..single).map(|i| (event(10_000_000 + i).to_string(), "application/cloudevents+json", 1)).collect();
    let b = runtime.block_on(drive(urls, key, singles, 64));
    let single_rate = b.report(&format!("(b) {label}single events, 64 conn."));
    (batched_rate, single_rate)
}

/// A fresh schema named `name` on the PostgreSQL server at `server`, and the
/// URL that works in it; `None` when the server does not answer.
async fn fresh_schema(server: &str, name: &str) -> Option<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(server).await.ok()?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&mut conn).await.ok()?;
    sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&mut conn).await.ok()?;
    let joint = if server.contains('?') { '&' } else { '?' };
    Some(format!("{server}{joint}options=-c%20search_path%3D{name}"))
}
