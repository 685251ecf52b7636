//! A bulk replay while people work, by hand:
//! `cargo bench -p crossdock-server --bench replay`.
//!
//! Starts the server (four replay workers) over a SQLite file with the demo
//! data and 1,000 more integration failures (BENCH_REPLAYS to change), and a
//! target on 127.0.0.1 that answers each delivery after 20 ms. Times the
//! queue page a supervisor sees before, then during a bulk replay of every
//! integration failure; prints how long queueing and delivering took, and
//! checks that the target saw each idempotency key exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossdock::replay::{ConnectorSpec, HttpMethod};
use crossdock_server::auth::Operator;
use crossdock_server::config::{Config, DatabaseUrl};
use crossdock_server::startup::Application;
use serde_json::{Value, json};

type Seen = Arc<Mutex<HashMap<String, usize>>>;

async fn target(seen: Seen) -> String {
    let app = axum::Router::new().route(
        "/deliver",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                *seen.lock().expect("seen").entry(key).or_default() += 1;
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/deliver", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn page(client: &reqwest::Client, base: &str) -> Duration {
    let started = Instant::now();
    let r = client.post(format!("{base}/console/queue_page")).form(&[("query", "")]).send().await.expect("queue page");
    assert!(r.status().is_success(), "queue page: {}", r.status());
    r.bytes().await.expect("body");
    started.elapsed()
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<40} n={:>4}  p50 {:>7.2} ms  p95 {:>7.2} ms  max {:>7.2} ms",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.95).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::var("BENCH_REPLAYS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::defaults(DatabaseUrl::SqliteFile(dir.path().join("bench.db")));
    config.bind = "127.0.0.1:0".parse().expect("address");
    let app = Application::build(&config).await.expect("server");
    let base = format!("http://{}", app.address());
    let services = app.services().clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let operator = Operator::command_line();
    services.seed_demo(&operator, chrono::Utc::now()).await.expect("demo");

    let seen: Seen = Arc::default();
    let url = target(seen.clone()).await;
    let settings = crossdock_server::services::SourceSettings {
        name: "bench".into(),
        prefixes: crossdock::source::Prefixes::parse_list("bench").expect("a prefix"),
        rate_per_sec: 1e6,
        burst: 1_000_000,
        nats_subject: None,
    };
    let key =
        secrecy::ExposeSecret::expose_secret(&services.create_source(&operator, &settings).await.expect("source").key)
            .to_owned();
    let connector = ConnectorSpec {
        name: "Bench target".into(),
        system: crossdock::event::System::Tms,
        operation: "*".into(),
        method: HttpMethod::Post,
        url,
        headers: Default::default(),
        auth_header: None,
        timeout_ms: 5_000,
        retry_policy: None,
        breaker_threshold: 50,
        breaker_cooldown_seconds: 10,
        allowed_sources: vec![crossdock::source::SourceName::parse("bench").expect("a name")],
    };
    services.save_connector(&operator, &connector, None, false).await.expect("connector");
    let client = reqwest::Client::new();
    for chunk in (0..total).collect::<Vec<_>>().chunks(500) {
        let events: Vec<Value> = chunk
            .iter()
            .map(|i| {
                json!({"specversion": "1.0", "id": format!("r-{i}"), "source": "bench/replays", "type": "exception.integration",
                    "time": "2026-11-24T16:05:00Z", "data": {"site": "DC-DAL", "refs": {"shipment": format!("SHP-B{i}")},
                    "system": "tms", "operation": "tms.create_shipment", "error_code": "timeout", "message": "no answer",
                    "retryable": true, "payload": {"shipment": format!("SHP-B{i}")}}})
            })
            .collect();
        let r = client
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&key)
            .header("content-type", "application/cloudevents-batch+json")
            .body(Value::Array(events).to_string())
            .send()
            .await
            .expect("ingest");
        assert!(r.status().is_success(), "ingest: {}", r.status());
    }

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, base.parse().expect("origin"));
    let sam = reqwest::Client::builder().cookie_store(true).default_headers(headers).build().expect("client");
    let login = sam
        .post(format!("{base}/console/login"))
        .form(&[("username", "sam"), ("password", "supervisor-board-amber-9")])
        .send()
        .await
        .expect("login");
    assert!(login.status().is_success());

    let mut before = Vec::new();
    for _ in 0..200 {
        before.push(page(&sam, &base).await);
    }
    report("queue page, idle", before);

    let started = Instant::now();
    let body =
        json!({"target": {"target": "view", "query": "type=exception.integration"}, "action": {"kind": "replay"}});
    let r = sam.post(format!("{base}/console/start_bulk")).json(&body).send().await.expect("bulk");
    assert!(r.status().is_success(), "bulk: {}", r.status());
    let job: i64 = r.json().await.expect("job id");

    let mut during = Vec::new();
    let mut queued_after = None;
    let pool = services.pool().clone();
    loop {
        during.push(page(&sam, &base).await);
        if queued_after.is_none() {
            let status: Value = sam
                .post(format!("{base}/console/bulk_status"))
                .form(&[("job", job.to_string())])
                .send()
                .await
                .expect("status")
                .json()
                .await
                .expect("json");
            if status["finished"] == true {
                queued_after = Some(started.elapsed());
            }
        }
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM replay_jobs WHERE state IN ('pending', 'running')")
            .fetch_one(&pool)
            .await
            .expect("count");
        if queued_after.is_some() && open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered_after = started.elapsed();
    report("queue page, during the bulk replay", during);
    let delivered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM replay_jobs WHERE state = 'succeeded'")
        .fetch_one(&pool)
        .await
        .expect("count");
    let seen = seen.lock().expect("seen");
    println!(
        "bulk replay: {delivered} delivered; all queued after {:.1} s, all delivered after {:.1} s ({:.0} replays/s)",
        queued_after.unwrap_or_default().as_secs_f64(),
        delivered_after.as_secs_f64(),
        delivered as f64 / delivered_after.as_secs_f64()
    );
    println!("deliveries per idempotency key: {:?}", {
        let mut counts: Vec<usize> = seen.values().copied().collect();
        counts.sort();
        counts.dedup();
        counts
    });
    assert!(seen.values().all(|n| *n == 1), "a key was delivered twice");
}
