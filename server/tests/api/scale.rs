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
    let id = first
        .scalar(
            "SELECT id FROM exceptions WHERE status = 'new' AND queue = 'receiving' AND assignee IS NULL ORDER BY id",
        )
        .await;
    let version = first.scalar(&format!("SELECT version FROM exceptions WHERE id = {id}")).await;
    let claimed = sam_first
        .server_fn_json("act", &serde_json::json!({"id": id, "seen": version, "action": {"kind": "claim"}}))
        .await;
    assert_eq!(claimed.status(), 200, "{:?}", claimed.text().await);
    let r = sam_second.server_fn("exception_detail", &[("id", &id.to_string())]).await;
    assert_eq!(r.status(), 200, "signed in on the second instance too");
    let detail: crossdock_app::dto::ExceptionDetailView = r.json().await.expect("a detail");
    assert_eq!(detail.item.assignee.as_deref(), Some("sam"), "the claim made through the first shows");
    // Signing out through the second ends the session on the first.
    let out = sam_second.server_fn("logout", &[]).await.status();
    assert!(out.is_success() || out.is_redirection(), "{out}");
    assert_eq!(sam_first.server_fn("exception_detail", &[("id", &id.to_string())]).await.status(), 401);
}
