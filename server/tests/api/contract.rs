//! The event contract as integrators meet it: the published JSON Schemas,
//! the documented examples, the dry run, and sending a test event as a
//! source from the console and the command line.

use std::collections::BTreeSet;

use crossdock::event::{contract, reference};
use serde_json::{Value, json};

use crate::cli::crossdock;
use crate::helpers::{TestApp, spawn_app, spawn_app_with_demo};

const BATCH: &str = "application/cloudevents-batch+json";

/// Every documented example, each with an id of its own.
fn examples(tag: &str) -> Vec<Value> {
    contract::event_types()
        .map(|t| {
            let mut event = reference::example(t);
            event["id"] = json!(format!("{tag}-{t}"));
            event
        })
        .collect()
}

/// What the database holds of events, exceptions, transactions and the trail.
async fn stored(app: &TestApp) -> [i64; 4] {
    [
        app.scalar("SELECT COUNT(*) FROM events").await,
        app.scalar("SELECT COUNT(*) FROM exceptions").await,
        app.scalar("SELECT COUNT(*) FROM transactions").await,
        app.scalar("SELECT COUNT(*) FROM audit_log").await,
    ]
}

async fn dry_run(app: &TestApp, key: &str, events: &[Value]) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/events", app.address))
        .bearer_auth(key)
        .header("content-type", BATCH)
        .header("crossdock-dry-run", "true")
        .body(Value::Array(events.to_vec()).to_string())
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn every_type_has_a_published_schema_holding_its_documented_example() {
    // The examples of docs/events.md, by type.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events.md")).expect("the document");
    let documented: std::collections::BTreeMap<String, Value> = doc
        .split("```json\n")
        .skip(1)
        .filter_map(|block| block.split_once("\n```").map(|(json, _)| json))
        .map(|json| serde_json::from_str::<Value>(json).expect("an example is JSON"))
        .filter_map(|event| Some((event["type"].as_str()?.to_owned(), event)))
        .collect();
    let app = spawn_app_with_demo().await;
    let listed: Value = app.get("/api/v1/schemas").await.json().await.expect("JSON");
    let types: BTreeSet<String> =
        listed["schemas"].as_array().expect("a list").iter().map(|s| s["type"].as_str().unwrap().to_owned()).collect();
    let wanted: BTreeSet<String> = contract::event_types().map(|t| t.as_str().to_owned()).collect();
    assert_eq!(types, wanted);
    for entry in listed["schemas"].as_array().unwrap() {
        let response = app.get(entry["href"].as_str().unwrap()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/schema+json");
        let schema: Value = response.json().await.expect("JSON");
        let t = contract::event_types().find(|t| t.as_str() == entry["type"]).unwrap();
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(schema["properties"]["type"]["const"], t.as_str());
        assert_eq!(Some(&schema["examples"][0]), documented.get(t.as_str()), "{t}: the example of docs/events.md");
    }
    let missing = app.get("/api/v1/schemas/exception.milestone_overdue").await;
    assert_eq!(missing.status(), 404, "a type only Crossdock raises has no schema to send by");
    assert_eq!(missing.headers()["content-type"], "application/problem+json");

    // The OpenAPI document's request body is one of the same schemas, by type.
    let doc: Value = app.get("/api/openapi.json").await.json().await.expect("JSON");
    let any = &doc["components"]["schemas"]["CloudEvent"];
    assert_eq!(any["discriminator"]["propertyName"], "type");
    assert_eq!(any["oneOf"].as_array().unwrap().len(), wanted.len());
    for t in &wanted {
        let path = format!("#/components/schemas/{t}");
        assert_eq!(any["discriminator"]["mapping"][t], path);
        assert_eq!(doc["components"]["schemas"][t]["properties"]["type"]["const"], t.as_str());
    }
    let parameters = doc["paths"]["/api/v1/events"]["post"]["parameters"].as_array().unwrap();
    assert!(parameters.iter().any(|p| p["name"] == "crossdock-dry-run"), "the dry-run header is documented");
}

#[tokio::test]
async fn every_documented_example_is_accepted() {
    let app = spawn_app().await;
    let key = app.source("contract-wms", "wms", 1000.0, 1000).await;
    let events = examples("doc");
    let response = app.post_events(Some(&key), BATCH, Value::Array(events.clone()).to_string()).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(answer["accepted"], events.len(), "{answer}");
}

#[tokio::test]
async fn a_dry_run_stores_nothing_and_says_what_a_send_then_does() {
    let app = spawn_app().await;
    let key = app.source("contract-wms", "wms", 1000.0, 1000).await;
    let events = examples("dry");
    let before = stored(&app).await;

    let response = dry_run(&app, &key, &events).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["crossdock-dry-run"], "true");
    let tried: Value = response.json().await.expect("JSON");
    assert_eq!(tried["accepted"], events.len(), "{tried}");
    assert_eq!(stored(&app).await, before, "a dry run stores nothing");

    // Sent for real, each does what the dry run said.
    let sent: Value =
        app.post_events(Some(&key), BATCH, Value::Array(events.clone()).to_string()).await.json().await.expect("JSON");
    assert_eq!(sent["accepted"], events.len(), "{sent}");
    for (would, did) in tried["results"].as_array().unwrap().iter().zip(sent["results"].as_array().unwrap()) {
        let forecast = &would["forecast"];
        let id = did["id"].as_str().unwrap();
        let transaction: Option<String> = sqlx::query_scalar(
            "SELECT t.name FROM events v JOIN transactions t ON t.id = v.transaction_id WHERE v.event_id = $1",
        )
        .bind(id)
        .fetch_optional(app.services.pool())
        .await
        .expect("the event's transaction");
        assert_eq!(forecast["transaction"].as_str().map(str::to_owned), transaction, "{id}: its transaction");
        let Some(exception) = did["exception_id"].as_i64() else {
            assert!(forecast["queue"].is_null(), "{id}: a milestone files nothing");
            continue;
        };
        assert_eq!(did["exception"], "opened");
        assert_eq!(would["exception"], "opened", "{id}: the dry run said it opens one");
        assert!(would["exception_id"].is_null(), "{id}: a new exception has no number before it is sent");
        let (queue, severity, assignee, ack_due, due): (String, String, Option<String>, Option<i64>, Option<i64>) =
            sqlx::query_as(
                "SELECT queue, severity, assignee, ack_due_at, resolve_due_at FROM exceptions WHERE id = $1",
            )
            .bind(exception)
            .fetch_one(app.services.pool())
            .await
            .expect("the exception");
        assert_eq!(forecast["queue"], queue.as_str(), "{id}");
        assert_eq!(forecast["severity"], severity.as_str(), "{id}");
        assert_eq!(forecast["assignee"].as_str(), assignee.as_deref(), "{id}: its assignee");
        for (name, given) in [("acknowledge_due_at", ack_due), ("resolve_due_at", due)] {
            let said = forecast[name]
                .as_str()
                .map(|t| chrono::DateTime::parse_from_rfc3339(t).expect("a time").timestamp_millis());
            match (said, given) {
                // The send came a moment after the dry run.
                (Some(a), Some(b)) => assert!((b - a).abs() < 60_000, "{id}: {name} {a} said, {b} given"),
                (a, b) => assert_eq!(a, b, "{id}: {name}"),
            }
        }
    }

    // Tried again: each is a duplicate now, and nothing more is stored.
    let after = stored(&app).await;
    let again: Value = dry_run(&app, &key, &events).await.json().await.expect("JSON");
    assert_eq!(again["duplicates"], events.len(), "{again}");
    assert_eq!(stored(&app).await, after);

    // Another occurrence of an open exception is said to join it, where that
    // exception is now (moved to another queue since).
    let receipt = events.iter().find(|e| e["type"] == "exception.partial_receipt").unwrap();
    let mut recurring = receipt.clone();
    recurring["id"] = json!("dry-again");
    let open: i64 = sqlx::query_scalar("SELECT exception_id FROM events WHERE event_id = $1")
        .bind(receipt["id"].as_str().unwrap())
        .fetch_one(app.services.pool())
        .await
        .expect("the receipt's exception");
    sqlx::query("UPDATE exceptions SET queue = 'elsewhere' WHERE id = $1")
        .bind(open)
        .execute(app.services.pool())
        .await
        .expect("moved");
    let joined: Value = dry_run(&app, &key, std::slice::from_ref(&recurring)).await.json().await.expect("JSON");
    let result = &joined["results"][0];
    assert_eq!(result["exception"], "occurrence", "{joined}");
    assert_eq!(result["exception_id"], open, "{joined}");
    assert_eq!(result["forecast"]["queue"], "elsewhere", "where the joined exception is: {joined}");
    assert!(result["forecast"]["resolve_due_at"].is_null(), "its clocks already run: {joined}");
    let recurring = Value::Array(vec![recurring]);
    let counted: Value = app.post_events(Some(&key), BATCH, recurring.to_string()).await.json().await.expect("JSON");
    assert_eq!(counted["results"][0]["exception"], "occurrence", "sent, it joins as said: {counted}");
    assert_eq!(counted["results"][0]["exception_id"], open, "{counted}");

    // Two events of one problem in one request: the second joins the first,
    // which has no number yet.
    let mut first = receipt.clone();
    first["id"] = json!("dry-pair-1");
    first["data"]["po"] = json!("PO-77001");
    first["data"]["refs"]["po"] = json!("PO-77001");
    let mut second = first.clone();
    second["id"] = json!("dry-pair-2");
    let pair: Value = dry_run(&app, &key, &[first, second]).await.json().await.expect("JSON");
    assert_eq!(pair["results"][0]["exception"], "opened", "{pair}");
    assert_eq!(pair["results"][1]["exception"], "occurrence", "{pair}");
    assert!(pair["results"][1]["exception_id"].is_null(), "no number that does not exist: {pair}");
}

#[tokio::test]
async fn a_dry_run_refuses_what_a_send_refuses() {
    let app = spawn_app().await;
    let key = app.source("contract-wms", "wms", 1000.0, 1000).await;
    let mut bad = examples("bad");
    bad.truncate(3);
    bad[0]["data"].as_object_mut().unwrap().remove("supplier");
    bad[1]["source"] = json!("erp/elsewhere");
    let tried: Value = dry_run(&app, &key, &bad).await.json().await.expect("JSON");
    let sent: Value =
        app.post_events(Some(&key), BATCH, Value::Array(bad.clone()).to_string()).await.json().await.expect("JSON");
    for (would, did) in tried["results"].as_array().unwrap().iter().zip(sent["results"].as_array().unwrap()) {
        assert_eq!(would["status"], did["status"], "{tried} {sent}");
        assert_eq!(would["errors"], did["errors"], "{tried} {sent}");
    }
    assert_eq!(tried["rejected"], 2);

    let odd = app
        .client
        .post(format!("{}/api/v1/events", app.address))
        .bearer_auth(&key)
        .header("content-type", BATCH)
        .header("crossdock-dry-run", "maybe")
        .body(Value::Array(bad).to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(odd.status(), 400);
    let problem: Value = odd.json().await.expect("JSON");
    assert!(problem["detail"].as_str().unwrap().contains("crossdock-dry-run"), "{problem}");

    // What a schema does not see (docs/events.md): a lone surrogate, and
    // nesting deeper than 128 levels, refuse the whole body.
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    for body in [r#"{"specversion": "1.0", "id": "\ud800"}"#.to_owned(), deep] {
        let refused = app.post_events(Some(&key), "application/cloudevents+json", body.clone()).await;
        assert_eq!(refused.status(), 400, "{body}");
    }
}

#[tokio::test]
async fn an_admin_tries_a_test_event_from_a_source_page() {
    // The demo's source `wms` sends as `wms/...`.
    let app = spawn_app_with_demo().await;
    let morgan = app.signed_in("morgan").await;
    let before = stored(&app).await;
    let t = contract::event_types().find(|t| t.as_str() == "exception.partial_receipt").unwrap();
    let text = reference::example_text(t, "wms");
    let answer = morgan.server_fn("try_events", &[("name", "wms"), ("events", &text)]).await;
    assert_eq!(answer.status(), 200);
    let tried: Value = serde_json::from_str(&answer.text().await.unwrap()).expect("JSON");
    let first = &tried[0];
    assert_eq!(first["status"], "accepted", "{tried}");
    assert!(first["filing"]["queue"].is_string(), "{tried}");
    assert_eq!(first["transaction"], "po:PO-10045");
    assert_eq!(stored(&app).await, before, "nothing is stored");

    let broken = morgan.server_fn("try_events", &[("name", "wms"), ("events", "{\"specversion\": ")]).await;
    assert_eq!(broken.status(), 400, "text that is not JSON is refused with a message");
    let unknown = morgan.server_fn("try_events", &[("name", "no-such-source"), ("events", &text)]).await;
    assert_eq!(unknown.status(), 404);
    let pat = app.signed_in("pat").await;
    let refused = pat.server_fn("try_events", &[("name", "wms"), ("events", &text)]).await;
    assert_eq!(refused.status(), 403, "only admins send as a source");
}

#[test]
fn events_send_on_the_command_line_tries_then_sends() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/c.db", dir.path().display());
    let run = |args: &[&str]| {
        crossdock().env("CROSSDOCK_DATABASE_URL", &url).env("CROSSDOCK_LOG", "off").args(args).output().unwrap()
    };
    let created = run(&["source", "create", "wms-dc-atl", "--prefix", "wms"]);
    assert!(created.status.success(), "{created:?}");
    let file = dir.path().join("events.json");
    std::fs::write(&file, Value::Array(examples("cli")).to_string()).unwrap();
    let file = file.to_str().unwrap();

    let tried = run(&["events", "send", "--source", "wms-dc-atl", "--file", file, "--dry-run"]);
    let out = String::from_utf8_lossy(&tried.stdout);
    assert!(tried.status.success(), "{tried:?}");
    assert!(out.contains("accepted cli-exception.partial_receipt: would open an exception in"), "{out}");
    assert!(out.contains("dry run: nothing was stored"), "{out}");

    let sent = run(&["events", "send", "--source", "wms-dc-atl", "--file", file]);
    let out = String::from_utf8_lossy(&sent.stdout);
    assert!(sent.status.success(), "{sent:?}");
    assert!(out.contains("accepted cli-exception.partial_receipt: opened exception"), "{out}");
    let again = run(&["events", "send", "--source", "wms-dc-atl", "--file", file]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("duplicate cli-po.created"), "{again:?}");

    std::fs::write(dir.path().join("bad.json"), "{\"specversion\": \"1.0\"}").unwrap();
    let bad =
        run(&["events", "send", "--source", "wms-dc-atl", "--file", dir.path().join("bad.json").to_str().unwrap()]);
    assert!(!bad.status.success(), "a rejected event fails the command");
    assert!(String::from_utf8_lossy(&bad.stdout).starts_with("rejected"), "{bad:?}");
    let nobody = run(&["events", "send", "--source", "nobody", "--file", file, "--dry-run"]);
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("source nobody not found"), "{nobody:?}");
}

#[tokio::test]
async fn a_dry_run_works_in_every_mode_and_a_signed_one_cannot_be_sent_again_as_a_send() {
    use crossdock_server::services::PreviousSecrets;
    use crossdock_server::services::ingest::signature;
    use secrecy::ExposeSecret;

    let app = spawn_app().await;
    let key = app.source("contract-wms", "wms", 1000.0, 1000).await;
    let receipt = examples("mode").into_iter().find(|e| e["type"] == "exception.partial_receipt").unwrap();
    let before = stored(&app).await;

    // Structured mode: one event, one answer.
    let one = app
        .client
        .post(format!("{}/api/v1/events", app.address))
        .bearer_auth(&key)
        .header("content-type", "application/cloudevents+json")
        .header("crossdock-dry-run", "true")
        .body(receipt.to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(one.status(), 200);
    let one: Value = one.json().await.expect("JSON");
    assert_eq!(one["status"], "accepted", "{one}");
    assert_eq!(one["exception"], "opened", "{one}");
    assert_eq!(one["forecast"]["transaction"], "po:PO-10045", "{one}");
    assert!(one["forecast"]["queue"].is_string(), "{one}");

    // Binary mode: the attributes in headers, `data` as the body.
    let binary = app
        .client
        .post(format!("{}/api/v1/events", app.address))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("ce-specversion", "1.0")
        .header("ce-id", "mode-binary")
        .header("ce-source", "wms/dc-atl")
        .header("ce-type", "exception.partial_receipt")
        .header("ce-time", "2026-11-24T15:42:10Z")
        .header("crossdock-dry-run", "true")
        .body(receipt["data"].to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(binary.status(), 200);
    assert_eq!(binary.headers()["crossdock-dry-run"], "true");
    let binary: Value = binary.json().await.expect("JSON");
    assert_eq!(binary["forecast"]["queue"], one["forecast"]["queue"], "{binary}");
    assert_eq!(stored(&app).await, before, "neither mode stored anything");

    // A signing source: the dry run is signed like a send, and its webhook
    // id cannot carry the same body again without the header.
    let signing = app.source("contract-portal", "portal", 1000.0, 1000).await;
    let secret = app
        .services
        .add_signing_secret(&crossdock_server::auth::Operator::command_line(), "contract-portal", PreviousSecrets::Keep)
        .await
        .expect("a secret");
    let before = stored(&app).await;
    let mut event = receipt.clone();
    event["source"] = json!("portal/hub");
    let body = event.to_string();
    let now = chrono::Utc::now().timestamp();
    let secret = signature::decode_secret(secret.expose_secret()).expect("a whsec_ secret");
    let signed = signature::sign(&secret, "msg-dry", now, body.as_bytes());
    let send = |dry: bool| {
        let mut request = app
            .client
            .post(format!("{}/api/v1/events", app.address))
            .bearer_auth(&signing)
            .header("content-type", "application/cloudevents+json")
            .header("webhook-id", "msg-dry")
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signed.clone())
            .body(body.clone());
        if dry {
            request = request.header("crossdock-dry-run", "true");
        }
        request.send()
    };
    let tried = send(true).await.expect("sent");
    assert_eq!(tried.status(), 200, "a signed dry run is answered");
    let again = send(true).await.expect("sent");
    assert_eq!(again.status(), 200, "the same dry run again is a retry");
    let replayed = send(false).await.expect("sent");
    assert_eq!(replayed.status(), 401, "the dry run's webhook id is not good for a send");
    let problem: Value = replayed.json().await.expect("JSON");
    assert!(problem["detail"].as_str().unwrap_or_default().contains("webhook-id"), "{problem}");
    assert_eq!(stored(&app).await, before, "nothing stored");
}

#[tokio::test]
async fn a_disabled_source_is_tried_but_not_sent_as() {
    let app = spawn_app_with_demo().await;
    let morgan = app.signed_in("morgan").await;
    sqlx::query("UPDATE sources SET disabled_at = 1 WHERE name = 'wms'")
        .execute(app.services.pool())
        .await
        .expect("disabled");
    let t = contract::event_types().find(|t| t.as_str() == "exception.partial_receipt").unwrap();
    let text = reference::example_text(t, "wms");
    let tried = morgan.server_fn("try_events", &[("name", "wms"), ("events", &text)]).await;
    assert_eq!(tried.status(), 200, "a dry run as a disabled source says what would happen");
    let tried: Value = serde_json::from_str(&tried.text().await.unwrap()).expect("JSON");
    assert_eq!(tried[0]["status"], "accepted", "{tried}");
    assert!(tried[0]["filing"]["queue"].is_string(), "{tried}");
    let before = stored(&app).await;
    let sent = app
        .services
        .send_as_source(
            &crossdock_server::auth::Operator::command_line(),
            "wms",
            &[serde_json::from_str(&text).unwrap()],
            false,
        )
        .await;
    assert!(
        matches!(sent, Err(crossdock_server::services::ServiceError::Forbidden(ref m)) if m.contains("disabled")),
        "{sent:?}"
    );
    assert_eq!(stored(&app).await, before);
}
