//! Ingest under attack and under outside clients: who may write which
//! `source` values, and what odd input gets (each test fails without the fix
//! it proves).

use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with_demo};

fn snapshot(id: &str, source: &str) -> Value {
    json!({"specversion": "1.0", "id": id, "source": source, "type": "inventory.snapshot",
           "time": "2026-11-24T15:42:10Z", "data": {"item": "SKU-1", "erp_qty": 1, "wms_qty": 1}})
}

#[tokio::test]
async fn a_prefix_covers_its_own_values_up_to_a_slash_and_no_further() {
    let app = spawn_app().await;
    let wms = app.source("wms", "wms", 1000.0, 1000).await;
    let eu = app.source("wms-eu", "wms-eu", 1000.0, 1000).await;
    assert_eq!(app.post_event(&wms, &snapshot("p-1", "wms")).await.status(), 200);
    assert_eq!(app.post_event(&wms, &snapshot("p-2", "wms/dc-atl")).await.status(), 200);
    let taken = app.post_event(&wms, &snapshot("p-3", "wms-eu/dc-ams")).await;
    assert_eq!(taken.status(), 403, "wms may not write as wms-eu");
    // So wms-eu's own event with that id is its own, not a duplicate.
    let theirs = app.post_event(&eu, &snapshot("p-3", "wms-eu/dc-ams")).await;
    let body: Value = theirs.json().await.expect("json");
    assert_eq!(body["status"], "accepted");
}

#[tokio::test]
async fn two_sources_never_share_source_values() {
    let app = spawn_app_with_demo().await;
    let morgan = app.signed_in("morgan").await;
    let create = |prefixes: &'static str| {
        let morgan = &morgan;
        async move {
            morgan
                .server_fn(
                    "create_source",
                    &[("name", "wms-eu"), ("prefixes", prefixes), ("rate_per_sec", "5"), ("burst", "5")],
                )
                .await
        }
    };
    for overlapping in ["wms/eu", "wms", "eu wms/", "wms/eu/ams"] {
        let refused = create(overlapping).await;
        assert_eq!(refused.status(), 400, "{overlapping}");
        let error: crossdock_app::AppError = refused.json().await.expect("error");
        let said = error.for_field("prefixes").unwrap_or_default();
        assert!(said.contains("overlaps") && said.contains("source wms"), "{said}");
    }
    assert_eq!(create("wms-eu").await.status(), 200, "a neighbour without a shared boundary is fine");
    let update = morgan
        .server_fn(
            "update_source",
            &[("name", "erp"), ("prefixes", "erp wms-eu/x"), ("rate_per_sec", "5"), ("burst", "5")],
        )
        .await;
    assert_eq!(update.status(), 400, "nor on update");
}

#[tokio::test]
async fn a_middleware_writes_as_each_system_it_forwards() {
    let app = spawn_app().await;
    let hub = app.source("hub", "erp, wms tms/", 1000.0, 1000).await;
    for (id, source) in [("m-1", "erp/sap-prod"), ("m-2", "wms/dc-atl"), ("m-3", "tms")] {
        assert_eq!(app.post_event(&hub, &snapshot(id, source)).await.status(), 200, "{source}");
    }
    assert_eq!(app.post_event(&hub, &snapshot("m-4", "edi/as2")).await.status(), 403);
    let listed: Vec<String> = sqlx::query_scalar("SELECT prefixes FROM sources WHERE name = 'hub'")
        .fetch_all(app.services.pool())
        .await
        .expect("stored");
    assert_eq!(listed, [r#"["erp","tms","wms"]"#]);
}

#[tokio::test]
async fn a_batch_larger_than_the_burst_is_refused_whole() {
    let app = spawn_app().await;
    let key = app.source("small", "small", 1000.0, 5).await;
    let batch = |n: usize| {
        let events: Vec<Value> = (0..n).map(|i| snapshot(&format!("b-{n}-{i}"), "small/x")).collect();
        Value::Array(events).to_string()
    };
    let refused = app.post_events(Some(&key), "application/cloudevents-batch+json", batch(6)).await;
    assert_eq!(refused.status(), 429);
    let problem: Value = refused.json().await.expect("problem");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("at most 5")), "{problem}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events").await, 0, "nothing of it was let through");
    let ok = app.post_events(Some(&key), "application/cloudevents-batch+json", batch(5)).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events").await, 5);
}

#[tokio::test]
async fn every_error_under_the_api_is_a_problem_document() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", app.address);
    for (method, path, status) in [
        (reqwest::Method::GET, "/api/v1/events", 405),
        (reqwest::Method::DELETE, "/api/v1/events", 405),
        (reqwest::Method::GET, "/api/nothing-here", 404),
        (reqwest::Method::GET, "/api/v1/events/1", 404),
    ] {
        let r = client.request(method.clone(), url(path)).send().await.expect("answer");
        assert_eq!(r.status(), status, "{method} {path}");
        let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(content_type, "application/problem+json", "{method} {path}");
        if status == 405 {
            assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
        }
        let problem: Value = r.json().await.expect("a problem document");
        assert_eq!(problem["status"], status);
    }
    let page = client.get(url("/no-such-page")).send().await.expect("answer");
    assert_eq!(page.status(), 404);
    assert!(
        page.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("text/html")),
        "the console's own pages stay pages"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_events_the_batch_and_the_headers() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.expect("json");
    let types = doc["components"]["schemas"]["CloudEvent"]["oneOf"].as_array().expect("one schema per type");
    assert_eq!(types.len(), 20);
    let post = &doc["paths"]["/api/v1/events"]["post"];
    assert_eq!(post["requestBody"]["content"]["application/cloudevents-batch+json"]["schema"]["maxItems"], 1000);
    let headers: Vec<&str> =
        post["parameters"].as_array().expect("parameters").iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(headers.contains(&"ce-id") && headers.contains(&"ce-type"), "{headers:?}");
    assert!(post["responses"]["429"]["headers"]["Retry-After"].is_object());
    assert!(post["responses"]["405"].is_object());
}

/// Reads from a raw connection until the server closes it or answers, for
/// at most `within`; what it read, or `None` if it was still open.
async fn until_closed(stream: &mut tokio::net::TcpStream, within: std::time::Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut read = Vec::new();
    let outcome = tokio::time::timeout(within, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    outcome.ok().map(|()| String::from_utf8_lossy(&read).into_owned())
}

#[tokio::test]
async fn a_client_that_stalls_mid_request_is_cut_off_after_the_read_timeout() {
    use tokio::io::AsyncWriteExt;
    let app = crate::helpers::spawn_app_with(|c| c.read_timeout_seconds = 1, None).await;
    let key = app.source("slow", "slow", 1000.0, 1000).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let within = std::time::Duration::from_secs(5);

    // Mid-headers: the connection is closed.
    let mut stalled = tokio::net::TcpStream::connect(&address).await.expect("connect");
    stalled.write_all(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    assert!(until_closed(&mut stalled, within).await.is_some(), "still open after the read timeout");

    // Mid-body: answered 408 (or closed), never held.
    let mut stalled = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/cloudevents+json\r\nContent-Length: 100\r\n\r\n{{\"id\":"
    );
    stalled.write_all(head.as_bytes()).await.expect("write");
    let answer = until_closed(&mut stalled, within).await.expect("still open after the read timeout");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A prompt client is served as before.
    assert_eq!(app.post_event(&key, &snapshot("s-1", "slow/x")).await.status(), 200);
}
