//! Ingest from NATS JetStream, against the NATS server on 127.0.0.1:4222:
//! both modes, idempotency, dead letters, and a consumer killed mid-stream.
//! Each test has a stream, subjects and a consumer of its own, deleted after.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer::PullConsumer};
use crossdock_server::auth::Operator;
use crossdock_server::services::SourceSettings;
use futures::StreamExt;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with};
use crate::ingest::partial_receipt;

const NATS: &str = "nats://127.0.0.1:4222";

/// A stream, its subjects and a dead-letter subject no other test uses.
struct Names {
    stream: String,
    /// The stream's subjects: `<root>.>`.
    root: String,
    dead_letter: String,
}

impl Names {
    fn new() -> Self {
        let tag = format!(
            "{}{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos()
        );
        Self { stream: format!("T{tag}"), root: format!("t{tag}"), dead_letter: format!("dead{tag}") }
    }

    fn configure(&self, config: &mut crossdock_server::config::Config) {
        config.nats_url = Some(NATS.into());
        config.nats_stream = self.stream.clone();
        config.nats_subjects = vec![format!("{}.>", self.root)];
        config.nats_dead_letter_subject = self.dead_letter.clone();
    }

    async fn jetstream(&self) -> (async_nats::Client, jetstream::Context) {
        let client = async_nats::connect(NATS).await.expect("the NATS server on 127.0.0.1:4222");
        let context = jetstream::new(client.clone());
        (client, context)
    }

    /// Deletes the stream (and its consumer with it).
    async fn delete(&self) {
        let (_, js) = self.jetstream().await;
        let _ = js.delete_stream(&self.stream).await;
    }
}

/// A server taking events from its own stream, with a source publishing on
/// `<root>.wms.>`.
async fn app_on_nats(names: &Names) -> TestApp {
    let app = spawn_app_with(|c| names.configure(c), None).await;
    let settings = SourceSettings {
        name: "test-wms".into(),
        prefixes: crossdock::source::Prefixes::parse_list("t-wms/").expect("prefixes"),
        rate_per_sec: 10_000.0,
        burst: 10_000,
        nats_subject: Some(
            crossdock::source::SubjectPattern::parse(&format!("{}.wms.>", names.root)).expect("subject"),
        ),
    };
    app.services.create_source(&Operator::command_line(), &settings).await.expect("source created");
    app
}

async fn publish(js: &jetstream::Context, subject: String, headers: HeaderMap, body: Vec<u8>) {
    js.publish_with_headers(subject, headers, body.into())
        .await
        .expect("published")
        .await
        .expect("stored in the stream");
}

/// The durable consumer's messages not yet settled: pending delivery and
/// waiting for an ack.
async fn unsettled(js: &jetstream::Context, names: &Names) -> (u64, usize) {
    let stream = js.get_stream(&names.stream).await.expect("the stream");
    let mut consumer: PullConsumer = stream.get_consumer("crossdock").await.expect("the durable consumer");
    let info = consumer.info().await.expect("consumer info");
    (info.num_pending, info.num_ack_pending)
}

/// Waits until `done` holds, for at most `within`.
async fn eventually<F: std::future::Future<Output = bool>>(within: Duration, mut done: impl FnMut() -> F) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn events_published_in_either_mode_are_stored_once_and_acknowledged() {
    let names = Names::new();
    let app = app_on_nats(&names).await;
    let (_, js) = names.jetstream().await;
    let subject = format!("{}.wms.dc-atl", names.root);
    let structured = serde_json::to_vec(&partial_receipt("n-1", "PO-71")).unwrap();
    publish(&js, subject.clone(), HeaderMap::new(), structured.clone()).await;
    // The same event again: a duplicate, stored once.
    publish(&js, subject.clone(), HeaderMap::new(), structured).await;
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("ce-specversion", "1.0"),
        ("ce-id", "n-2"),
        ("ce-source", "t-wms/dc-atl"),
        ("ce-type", "exception.partial_receipt"),
        ("ce-subject", "PO-72"),
        ("ce-time", "2026-11-24T15:42:10Z"),
        ("content-type", "application/json"),
    ] {
        headers.insert(name, value);
    }
    let data = json!({"site": "DC-ATL", "refs": {"po": "PO-72", "supplier": "SUP-017"}, "po": "PO-72", "line": 1,
                      "item": "SKU-1", "expected_qty": 10, "received_qty": 4});
    publish(&js, subject, headers, serde_json::to_vec(&data).unwrap()).await;

    let stored = eventually(Duration::from_secs(20), || async {
        app.scalar("SELECT count(*) FROM events WHERE source LIKE 't-wms/%'").await == 2
            && unsettled(&js, &names).await == (0, 0)
    })
    .await;
    let set_aside: Vec<String> =
        sqlx::query_scalar("SELECT reason FROM dead_letters").fetch_all(app.services.pool()).await.unwrap();
    assert!(stored, "both events stored once and every message acknowledged; set aside: {set_aside:?}");
    let binary: String = sqlx::query_scalar("SELECT subject FROM events WHERE event_id = 'n-2'")
        .fetch_one(app.services.pool())
        .await
        .unwrap();
    assert_eq!(binary, "PO-72", "binary mode read its attributes from the ce- headers");
    assert_eq!(app.scalar("SELECT count(*) FROM exceptions").await, 2, "each filed an exception");
    assert_eq!(app.scalar("SELECT count(*) FROM dead_letters").await, 0);
    names.delete().await;
}

#[tokio::test]
async fn a_message_that_can_never_be_accepted_is_set_aside_with_its_reason() {
    let names = Names::new();
    let app = app_on_nats(&names).await;
    let (client, js) = names.jetstream().await;
    let mut dead = client.subscribe(names.dead_letter.clone()).await.unwrap();
    client.flush().await.unwrap();

    let ours = format!("{}.wms.dc-atl", names.root);
    // NUL, which PostgreSQL text cannot hold, is kept as U+FFFD.
    publish(&js, ours.clone(), HeaderMap::new(), b"{not\0json".to_vec()).await;
    let mut broken = partial_receipt("n-bad", "PO-80");
    broken["data"].as_object_mut().unwrap().remove("expected_qty");
    publish(&js, ours.clone(), HeaderMap::new(), serde_json::to_vec(&broken).unwrap()).await;
    publish(&js, format!("{}.nobody.x", names.root), HeaderMap::new(), b"{}".to_vec()).await;
    // A good event behind the poison ones still goes through.
    publish(&js, ours, HeaderMap::new(), serde_json::to_vec(&partial_receipt("n-good", "PO-81")).unwrap()).await;

    let mut reasons = Vec::new();
    while reasons.len() < 3 {
        let letter = tokio::time::timeout(Duration::from_secs(20), dead.next())
            .await
            .expect("a dead letter within 20 s")
            .expect("the subscription is open");
        let headers = letter.headers.expect("a dead letter carries headers");
        let reason = headers.get("Crossdock-Reason").expect("the reason").as_str().to_owned();
        let subject = headers.get("Crossdock-Subject").expect("the subject").as_str().to_owned();
        reasons.push((subject, reason));
    }
    reasons.sort();
    assert!(reasons.iter().any(|(_, r)| r.contains("not valid JSON")), "{reasons:?}");
    assert!(reasons.iter().any(|(_, r)| r.contains("expected_qty")), "{reasons:?}");
    assert!(reasons.iter().any(|(s, r)| s.ends_with(".nobody.x") && r.contains("no source takes")), "{reasons:?}");

    let settled = eventually(Duration::from_secs(20), || async {
        unsettled(&js, &names).await == (0, 0)
            && app.scalar("SELECT count(*) FROM events WHERE event_id = 'n-good'").await == 1
    })
    .await;
    assert!(settled, "the poison messages were terminated and the good one stored");
    let admin = Operator::command_line();
    let of_source = app.services.dead_letters_of(&admin, Some("test-wms")).await.unwrap();
    assert_eq!(of_source.len(), 2, "the source's page lists its two");
    assert!(of_source.iter().any(|l| l.body == "{not\u{fffd}json"), "the body is kept as received, NUL replaced");
    let of_nobody = app.services.dead_letters_of(&admin, None).await.unwrap();
    assert_eq!(of_nobody.len(), 1);
    names.delete().await;
}

#[tokio::test]
async fn two_instances_share_the_durable_consumer_and_store_each_event_once() {
    const EVENTS: usize = 600;
    let names = Names::new();
    let first = app_on_nats(&names).await;
    let second = first.beside(|c| names.configure(c)).await;
    let (_, js) = names.jetstream().await;
    let subject = format!("{}.wms.dc-atl", names.root);
    let mut acks = Vec::new();
    for n in 0..EVENTS {
        // Every event twice: the copy is a duplicate, whichever instance takes it.
        let body = serde_json::to_vec(&partial_receipt(&format!("s-{n}"), &format!("PO-{n}"))).unwrap();
        for _ in 0..2 {
            acks.push(js.publish(subject.clone(), body.clone().into()).await.expect("published"));
        }
    }
    for ack in acks {
        ack.await.expect("stored in the stream");
    }
    let done = eventually(Duration::from_secs(60), || async {
        first.scalar("SELECT count(*) FROM events WHERE source LIKE 't-wms/%'").await == EVENTS as i64
            && unsettled(&js, &names).await == (0, 0)
    })
    .await;
    assert!(done, "every event stored and every message acknowledged");
    assert_eq!(
        first.scalar("SELECT count(DISTINCT event_id) FROM events WHERE source LIKE 't-wms/%'").await,
        EVENTS as i64
    );
    let stream = js.get_stream(&names.stream).await.unwrap();
    let mut consumer: PullConsumer = stream.get_consumer("crossdock").await.unwrap();
    assert_eq!(consumer.info().await.unwrap().delivered.stream_sequence, 2 * EVENTS as u64, "all delivered");
    second.stop().await.expect("the second instance stops");
    names.delete().await;
}

/// The `crossdock` binary with a clean environment.
fn crossdock(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crossdock"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CROSSDOCK_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("CROSSDOCK_DATABASE_URL", db).env("CROSSDOCK_LOG", "warn");
    cmd
}

#[tokio::test]
async fn a_consumer_killed_mid_stream_loses_and_duplicates_nothing() {
    // The source's allowance (500 a second) keeps the first instance busy
    // for seconds: it is killed with part of the stream stored.
    const EVENTS: i64 = 3_000;
    let names = Names::new();
    let dir = tempfile::tempdir().unwrap();
    // The suite's backend: a SQLite file, or a PostgreSQL schema of its own.
    let (db, database, schema) = match crate::helpers::postgres_schema().await {
        Some((url, schema)) => (url.clone(), crossdock_server::config::DatabaseUrl::Postgres(url), Some(schema)),
        None => {
            let file = dir.path().join("c.db");
            (format!("sqlite://{}", file.display()), crossdock_server::config::DatabaseUrl::SqliteFile(file), None)
        }
    };
    let _dropped = crate::helpers::DroppedSchema(schema);
    let key_file = dir.path().join("crossdock.key");
    let created = crossdock(&db)
        .env("CROSSDOCK_SECRET_KEY_FILE", &key_file)
        .args(["source", "create", "test-wms", "--prefix", "t-wms/"])
        .args(["--rate", "500", "--burst", "500", "--nats-subject", &format!("{}.wms.>", names.root)])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");

    let (_, js) = names.jetstream().await;
    js.create_stream(jetstream::stream::Config {
        name: names.stream.clone(),
        subjects: vec![format!("{}.>", names.root)],
        ..Default::default()
    })
    .await
    .expect("the stream");
    let subject = format!("{}.wms.dc-atl", names.root);
    // Acknowledged a thousand at a time: the client holds only so many open.
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(1_000) {
        let mut acks = Vec::new();
        for n in chunk {
            let body = serde_json::to_vec(&partial_receipt(&format!("k-{n}"), &format!("PO-{n}"))).unwrap();
            acks.push(js.publish(subject.clone(), body.into()).await.expect("published"));
        }
        for ack in acks {
            ack.await.expect("stored in the stream");
        }
    }

    let serve = |port: u16| {
        crossdock(&db)
            .env("CROSSDOCK_SECRET_KEY_FILE", &key_file)
            .env("CROSSDOCK_BIND", format!("127.0.0.1:{port}"))
            .args(["serve", "--nats-url", NATS, "--nats-stream", &names.stream])
            .args(["--nats-subjects", &format!("{}.>", names.root), "--nats-dead-letter-subject", &names.dead_letter])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let port = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let pool = crossdock_server::store::open(&database, crossdock_server::config::Synchronous::Normal)
        .await
        .expect("a reader of the server's database");
    let stored = |pool: crossdock_server::store::Pool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events WHERE source LIKE 't-wms/%'")
            .fetch_one(&pool)
            .await
            .unwrap_or(0)
    };

    let mut first = serve(port());
    let midway = eventually(Duration::from_secs(60), || async {
        let n = stored(pool.clone()).await;
        n > 100 && n < EVENTS
    })
    .await;
    assert!(midway, "the first instance stored some of the events");
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = stored(pool.clone()).await;

    let mut second = serve(port());
    let all = eventually(Duration::from_secs(120), || async {
        stored(pool.clone()).await == EVENTS && unsettled(&js, &names).await == (0, 0)
    })
    .await;
    let _ = Command::new("kill").args(["-TERM", &second.id().to_string()]).status();
    let _ = second.wait();
    assert!(all, "every event stored after the restart (stored {} at the kill)", at_kill);
    let distinct: i64 = sqlx::query_scalar("SELECT count(DISTINCT event_id) FROM events WHERE source LIKE 't-wms/%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(distinct, EVENTS, "each event once");
    names.delete().await;
}
