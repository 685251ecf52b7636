//! Several instances on one database, and moving an installation from
//! SQLite to PostgreSQL.

use std::process::Command;

use crossdock_server::config::DatabaseUrl;
use serde_json::Value;

use crate::helpers::{postgres_schema, spawn_app_on, spawn_app_with_demo};
use crate::ingest::partial_receipt;

#[tokio::test]
async fn the_same_event_sent_to_two_instances_at_once_is_stored_once() {
    let first = spawn_app_with_demo().await;
    let key = first.source("test-wms", "t-wms/", 10_000.0, 10_000).await;
    let second = first.beside(|_| {}).await;
    let event = partial_receipt("twice-1", "PO-961").to_string();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let mut sends = Vec::new();
    for n in 0..16 {
        let url = format!("{}/api/v1/events", if n % 2 == 0 { &first.address } else { &second.address });
        let (key, event, barrier) = (key.clone(), event.clone(), barrier.clone());
        sends.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .header("content-type", "application/cloudevents+json")
                .body(event)
                .send()
                .await
                .expect("sent");
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("an answer");
            body["status"].as_str().expect("a status").to_owned()
        }));
    }
    let mut statuses = Vec::new();
    for send in sends {
        statuses.push(send.await.expect("a send"));
    }
    assert_eq!(statuses.iter().filter(|s| *s == "accepted").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "duplicate").count(), 15, "{statuses:?}");
    assert_eq!(first.scalar("SELECT COUNT(*) FROM events WHERE event_id = 'twice-1'").await, 1);
    assert_eq!(first.scalar("SELECT COUNT(*) FROM exceptions WHERE refs LIKE '%PO-961%'").await, 1);
}

fn crossdock(database: &str) -> Command {
    let mut cmd = crate::cli::crossdock();
    cmd.env("CROSSDOCK_DATABASE_URL", database).env("CROSSDOCK_LOG", "warn");
    cmd
}

#[tokio::test]
async fn an_installation_moves_to_postgres_with_everything_and_its_audit_chain() {
    let Some((target, schema)) = postgres_schema().await else {
        return; // the suite runs without a PostgreSQL server
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite://{}/crossdock.db", dir.path().display());
    let seeded = crossdock(&sqlite).arg("seed-demo").output().expect("seed-demo runs");
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    let before = crossdock(&sqlite).args(["audit", "head"]).output().expect("audit head runs");
    let head = String::from_utf8_lossy(&before.stdout).trim().to_owned();

    let moved = crossdock(&sqlite).args(["migrate-to", &target]).output().expect("migrate-to runs");
    let said = String::from_utf8_lossy(&moved.stdout);
    assert!(moved.status.success(), "{said}{}", String::from_utf8_lossy(&moved.stderr));
    assert!(said.contains("the audit chain holds"), "{said}");
    let seq = head.split(':').next().expect("a head");
    assert!(said.contains(&format!("up to {seq}")), "{said}");
    // Into a database in use it refuses, and says why.
    let again = crossdock(&sqlite).args(["migrate-to", &target]).output().expect("migrate-to runs");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("in use"), "{}", String::from_utf8_lossy(&again.stderr));

    // The console on PostgreSQL: the same people, exceptions and trail.
    let app = spawn_app_on(DatabaseUrl::Postgres(target.clone()), Some(schema), dir.path().join("crossdock.key")).await;
    let after = crossdock(&target).args(["audit", "verify", "--head", &head]).output().expect("verify runs");
    assert!(after.status.success(), "{}", String::from_utf8_lossy(&after.stderr));
    let pat = app.signed_in("pat").await;
    let page: crossdock::triage::QueuePage =
        pat.server_fn("queue_page", &[("query", "")]).await.json().await.expect("a page");
    assert!(!page.items.is_empty(), "the copied exceptions show");
    // Their words are indexed again, notes and all: Pat's comment of the
    // demo finds its exception.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM exception_words").await,
        app.scalar("SELECT COUNT(*) FROM exceptions").await
    );
    let found: crossdock::triage::QueuePage =
        pat.server_fn("queue_page", &[("query", "q=recount+dock+lead")]).await.json().await.expect("a page");
    assert_eq!(found.items.len(), 1);
    assert!(found.items[0].summary.contains("PO-10052"), "{:?}", found.items[0].summary);
    // New rows take ids after the copied ones.
    let key = app.source("after-move", "after-move/", 100.0, 100).await;
    let sent = app
        .post_event(
            &key,
            &serde_json::json!({
                "specversion": "1.0", "id": "moved-1", "source": "after-move/x", "type": "exception.partial_receipt",
                "time": "2026-11-24T15:42:10Z",
                "data": {"site": "DC-ATL", "refs": {"po": "PO-962"}, "po": "PO-962", "line": 1,
                         "item": "SKU-1", "expected_qty": 2, "received_qty": 1}
            }),
        )
        .await;
    assert_eq!(sent.status(), 200, "{:?}", sent.text().await);
}

#[tokio::test]
async fn a_session_from_one_instance_works_on_another_which_shows_what_was_done_through_the_first() {
    let first = spawn_app_with_demo().await;
    let second = first.beside(|_| {}).await;
    // Sam signs in through the first instance...
    let sam_first = first.browser();
    let login = sam_first.login("sam", crate::helpers::demo_password("sam")).await;
    assert!(login.status().is_success());
    let cookie = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("crossdock_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    // ...and the balancer sends his next requests to the second.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, second.address.parse().expect("origin"));
    headers.insert(reqwest::header::COOKIE, cookie.parse().expect("cookie"));
    let sam_second = crate::helpers::Browser {
        address: second.address.clone(),
        client: reqwest::Client::builder().default_headers(headers).build().expect("client"),
    };
    let id = first.claim_a_new_receipt(&sam_first).await;
    let r = sam_second.server_fn("exception_detail", &[("id", &id.to_string())]).await;
    assert_eq!(r.status(), 200, "signed in on the second instance too");
    let detail: crossdock_app::dto::ExceptionDetailView = r.json().await.expect("a detail");
    assert_eq!(detail.item.assignee.as_deref(), Some("sam"), "the claim made through the first shows");
    // Signing out through the second ends the session on the first.
    let out = sam_second.server_fn("logout", &[]).await.status();
    assert!(out.is_success() || out.is_redirection(), "{out}");
    assert_eq!(sam_first.server_fn("exception_detail", &[("id", &id.to_string())]).await.status(), 401);
}

/// A bulk action whose instance is killed midway is finished by another
/// instance once the lease runs out, and no item is done twice: a change and
/// the record that its item is done commit together.
#[tokio::test]
async fn a_bulk_action_left_by_a_killed_instance_is_finished_by_another_each_item_once() {
    const ITEMS: usize = 600;
    const NOTE: &str = "counted again with the dock lead";
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, database, schema) = match postgres_schema().await {
        Some((url, schema)) => (url.clone(), DatabaseUrl::Postgres(url), Some(schema)),
        None => {
            let file = dir.path().join("crossdock.db");
            (format!("sqlite://{}", file.display()), DatabaseUrl::SqliteFile(file), None)
        }
    };
    // Dropped however the test ends; the second instance is given none.
    let _dropped = crate::helpers::DroppedSchema(schema);
    let key_file = dir.path().join("crossdock.key");
    let run = |args: &[&str]| {
        let output = crossdock(&url).env("CROSSDOCK_SECRET_KEY_FILE", &key_file).args(args).output().expect("ran");
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    run(&["seed-demo"]);
    let created = run(&["source", "create", "test-wms", "--prefix", "t-wms/", "--rate", "10000", "--burst", "10000"]);
    let key = created.lines().last().expect("a key").trim().to_owned();

    // The first instance, a process of its own, is killed midway.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("address").port();
    let mut first = Killed(
        crossdock(&url)
            .env("CROSSDOCK_SECRET_KEY_FILE", &key_file)
            .env("CROSSDOCK_BIND", format!("127.0.0.1:{port}"))
            .env("CROSSDOCK_LINEAGE_SWEEP_SECONDS", "0")
            .env("CROSSDOCK_ESCALATION_SWEEP_SECONDS", "0")
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the first instance starts"),
    );
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !client.get(format!("{address}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(std::time::Instant::now() < deadline, "the first instance never became ready");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for batch in 0..ITEMS / 100 {
        let events: Vec<Value> =
            (0..100).map(|i| partial_receipt(&format!("bk-{batch}-{i}"), &format!("PO-BK{batch}{i:02}"))).collect();
        let r = client
            .post(format!("{address}/api/v1/events"))
            .bearer_auth(&key)
            .header("content-type", "application/cloudevents-batch+json")
            .body(Value::Array(events).to_string())
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status(), 200);
    }
    let pool = crossdock_server::store::open(&database, crossdock_server::config::Synchronous::Normal)
        .await
        .expect("the database opens");
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM exceptions WHERE refs LIKE '%PO-BK%' ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("ids");
    assert_eq!(ids.len(), ITEMS);
    let sam = crate::helpers::Browser { address: address.clone(), client: signed_in_client(&address, "sam").await };
    let body = serde_json::json!({"target": {"target": "selected", "ids": ids},
        "action": {"kind": "comment", "text": NOTE}});
    let started = sam.server_fn_json("start_bulk", &body).await;
    assert_eq!(started.status(), 200);
    let job: i64 = started.json().await.expect("a job");
    let done = |pool: crossdock_server::store::Pool| async move {
        sqlx::query_scalar::<_, i64>(&format!("SELECT done FROM bulk_jobs WHERE id = {job}"))
            .fetch_one(&pool)
            .await
            .expect("the count of items done")
    };
    loop {
        let n = done(pool.clone()).await;
        if n > 0 {
            assert!(n < ITEMS as i64, "the first instance finished before it could be killed");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the first instance never started the bulk action");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    first.0.kill().expect("killed");
    first.0.wait().expect("reaped");
    let at_kill = done(pool.clone()).await;

    // Another instance takes the action up once the dead one's lease ends.
    let second = spawn_app_on(database, None, key_file.clone()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while second.scalar(&format!("SELECT COUNT(*) FROM bulk_jobs WHERE id = {job} AND finished_at IS NOT NULL")).await
        == 0
    {
        assert!(std::time::Instant::now() < deadline, "the second instance never finished the action");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let count = |sql: String| {
        let second = &second;
        async move { second.scalar(&sql).await }
    };
    assert!(at_kill < ITEMS as i64, "killed midway ({at_kill} of {ITEMS} done)");
    assert_eq!(count(format!("SELECT done FROM bulk_jobs WHERE id = {job}")).await, ITEMS as i64);
    assert_eq!(
        count(format!("SELECT COUNT(*) FROM bulk_job_items WHERE job_id = {job} AND outcome = 'done'")).await,
        ITEMS as i64
    );
    let notes =
        format!("SELECT COUNT(*) FROM audit_log WHERE action = 'exception.commented' AND after LIKE '%{NOTE}%'");
    assert_eq!(count(notes).await, ITEMS as i64, "each exception noted once");
    let noted = format!(
        "SELECT COUNT(DISTINCT entity_id) FROM audit_log WHERE action = 'exception.commented' AND after LIKE '%{NOTE}%'"
    );
    assert_eq!(count(noted).await, ITEMS as i64);
}

/// A process killed when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A client signed in to `address` as a demo user.
async fn signed_in_client(address: &str, username: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, address.parse().expect("origin"));
    let client = reqwest::Client::builder().cookie_store(true).default_headers(headers).build().expect("a client");
    let browser = crate::helpers::Browser { address: address.to_owned(), client: client.clone() };
    let login = browser.login(username, crate::helpers::demo_password(username)).await;
    assert!(login.status().is_success(), "{username} signs in");
    client
}
