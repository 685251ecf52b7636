//! The ingest API: modes, idempotency, routing, grouping, signatures,
//! throttling, key lifecycle.

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crossdock_server::services::PreviousSecrets;

use crate::helpers::{TestApp, spawn_app, spawn_app_with_demo};

pub fn partial_receipt(id: &str, po: &str) -> Value {
    json!({
        "specversion": "1.0", "id": id, "source": "t-wms/dc-atl", "type": "exception.partial_receipt",
        "time": "2026-11-24T15:42:10Z", "subject": po,
        "data": {"site": "DC-ATL", "refs": {"po": po, "supplier": "SUP-017"}, "po": po, "line": 2,
                 "item": "SKU-20418", "expected_qty": 240, "received_qty": 192}
    })
}

fn carrier_timeout(id: &str, shipment: &str) -> Value {
    json!({
        "specversion": "1.0", "id": id, "source": "t-wms/dc-dal", "type": "exception.integration",
        "time": "2026-11-24T16:05:00Z",
        "data": {"site": "DC-DAL", "refs": {"shipment": shipment, "order": "SO-1"}, "system": "carrier",
                 "operation": "tms.create_shipment", "error_code": "timeout", "message": "no answer in 30 s",
                 "retryable": true, "payload": {"shipment": shipment}}
    })
}

async fn demo_with_wms_key() -> (TestApp, String) {
    let app = spawn_app_with_demo().await;
    let key = app.source("test-wms", "t-wms/", 10_000.0, 10_000).await;
    (app, key)
}

async fn queue_of(app: &TestApp, exception_id: i64) -> String {
    sqlx::query_scalar("SELECT queue FROM exceptions WHERE id = $1")
        .bind(exception_id)
        .fetch_one(app.services.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_structured_event_is_accepted_routed_and_its_sla_clock_started() {
    let (app, key) = demo_with_wms_key().await;
    let response = app.post_event(&key, &partial_receipt("e-1", "PO-900")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "accepted");
    assert_eq!(body["exception"], "opened");
    let id = body["exception_id"].as_i64().unwrap();
    assert_eq!(queue_of(&app, id).await, "receiving");
    let (severity, resolve_due, policy): (String, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT severity, resolve_due_at, sla_policy_version FROM exceptions WHERE id = $1")
            .bind(id)
            .fetch_one(app.services.pool())
            .await
            .unwrap();
    assert_eq!(severity, "medium");
    assert!(resolve_due.is_some(), "the resolve clock runs");
    assert!(policy.is_some(), "the policy version is recorded");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE event_id = 'e-1'").await, 1);
}

#[tokio::test]
async fn each_exception_type_lands_in_its_queue() {
    let (app, key) = demo_with_wms_key().await;
    let timeout: Value = app.post_event(&key, &carrier_timeout("t-1", "SHP-9")).await.json().await.unwrap();
    assert_eq!(queue_of(&app, timeout["exception_id"].as_i64().unwrap()).await, "transportation");
    let duplicate = json!({"specversion": "1.0", "id": "d-1", "source": "t-wms/dc-atl", "type": "exception.duplicate_event",
        "time": "2026-11-24T16:05:00Z", "data": {"original_id": "a", "duplicate_id": "b", "entity": "shipment"}});
    let body: Value = app.post_event(&key, &duplicate).await.json().await.unwrap();
    assert_eq!(queue_of(&app, body["exception_id"].as_i64().unwrap()).await, "triage", "the catch-all queue");
}

#[tokio::test]
async fn a_batch_is_answered_event_by_event_and_stores_exactly_the_valid_ones() {
    let (app, key) = demo_with_wms_key().await;
    let before = app.scalar("SELECT COUNT(*) FROM events").await;
    let mut bad = partial_receipt("b-2", "PO-902");
    bad["data"]["expected_qty"] = json!("lots");
    let foreign = {
        let mut e = partial_receipt("b-4", "PO-904");
        e["source"] = json!("t-erp/sap-prod");
        e
    };
    let batch = json!([
        partial_receipt("b-1", "PO-901"),
        bad,
        carrier_timeout("b-3", "SHP-1"),
        foreign,
        partial_receipt("b-1", "PO-901")
    ]);
    let response = app.post_events(Some(&key), "application/cloudevents-batch+json", batch.to_string()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["accepted"].as_u64(), body["rejected"].as_u64(), body["duplicates"].as_u64()),
        (Some(2), Some(2), Some(1))
    );
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[1]["status"], "rejected");
    assert_eq!(results[1]["status_code"], 400);
    assert_eq!(results[1]["errors"][0]["pointer"], "/1/data/expected_qty");
    assert_eq!(results[3]["status_code"], 403);
    assert_eq!(results[3]["errors"][0]["pointer"], "/3/source");
    assert_eq!(results[4]["status"], "duplicate");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events").await, before + 2);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE event_id IN ('b-2', 'b-4')").await, 0);
}

/// PostgreSQL cannot store NUL in text: the contract refuses control
/// characters in keys and texts, so such an event costs only itself, not the
/// events written beside it.
#[tokio::test]
async fn control_characters_in_keys_and_texts_are_refused_event_by_event() {
    let (app, key) = demo_with_wms_key().await;
    let before = app.scalar("SELECT COUNT(*) FROM events").await;
    let mut nul_summary = partial_receipt("c-2", "PO-912");
    nul_summary["data"]["summary"] = json!("48 EA\u{0} short");
    let mut broken_ref = carrier_timeout("c-3", "SHP-9\n1");
    broken_ref["data"]["message"] = json!("no answer\r\n\tin 30 s");
    let mut multi_line = carrier_timeout("c-4", "SHP-94");
    multi_line["data"]["message"] = json!("no answer\r\n\tin 30 s");
    let batch = json!([partial_receipt("c-1", "PO-911"), nul_summary, broken_ref, multi_line]);
    let response = app.post_events(Some(&key), "application/cloudevents-batch+json", batch.to_string()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let results = body["results"].as_array().unwrap();
    let verdicts: Vec<_> = results.iter().map(|r| r["status"].as_str().unwrap_or_default()).collect();
    assert_eq!(verdicts, ["accepted", "rejected", "rejected", "accepted"], "{body}");
    assert_eq!(results[1]["errors"][0]["pointer"], "/1/data/summary");
    assert_eq!(results[2]["errors"][0]["pointer"], "/2/data/refs/shipment");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events").await, before + 2);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE event_id IN ('c-1', 'c-4')").await, 2);
}

#[tokio::test]
async fn binary_mode_reads_attributes_from_ce_headers() {
    let (app, key) = demo_with_wms_key().await;
    let event = carrier_timeout("bin-1", "SHP-77");
    let response = app
        .client
        .post(format!("{}/api/v1/events", app.address))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("ce-specversion", "1.0")
        .header("ce-id", "bin-1")
        .header("ce-source", "t-wms/dc-dal")
        .header("ce-type", "exception.integration")
        .header("ce-time", "2026-11-24T16:05:00Z")
        .header("ce-correlationid", "order:SO-77812")
        .header("ce-traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .body(event["data"].to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "accepted");
    let stored: String = sqlx::query_scalar("SELECT body FROM events WHERE event_id = 'bin-1'")
        .fetch_one(app.services.pool())
        .await
        .unwrap();
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    let correlation: String = sqlx::query_scalar("SELECT correlation_id FROM events WHERE event_id = 'bin-1'")
        .fetch_one(app.services.pool())
        .await
        .unwrap();
    assert_eq!(correlation, "order:SO-77812");
}

#[tokio::test]
async fn binary_mode_problems_name_the_header() {
    let (app, key) = demo_with_wms_key().await;
    let response = app
        .client
        .post(format!("{}/api/v1/events", app.address))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("ce-specversion", "1.0")
        .header("ce-source", "t-wms/dc-dal")
        .header("ce-type", "inventory.snapshot")
        .header("ce-time", "last tuesday")
        .body(r#"{"item": "SKU-1", "erp_qty": 1, "wms_qty": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    let details: Vec<String> =
        body["errors"].as_array().unwrap().iter().map(|e| format!("{} {}", e["pointer"], e["detail"])).collect();
    assert!(details.iter().any(|d| d.contains("/id") && d.contains("header ce-id")), "{details:?}");
    assert!(details.iter().any(|d| d.contains("/time") && d.contains("header ce-time")), "{details:?}");
}

#[tokio::test]
async fn a_repeated_event_is_stored_once() {
    let (app, key) = demo_with_wms_key().await;
    let event = partial_receipt("dup-1", "PO-950");
    let first: Value = app.post_event(&key, &event).await.json().await.unwrap();
    let second = app.post_event(&key, &event).await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["status"], "accepted");
    assert_eq!(second["status"], "duplicate");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE event_id = 'dup-1'").await, 1);
    assert_eq!(app.scalar("SELECT occurrences FROM exceptions WHERE refs LIKE '%PO-950%'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn copies_arriving_at_the_same_moment_are_stored_once() {
    let (app, key) = demo_with_wms_key().await;
    let event = partial_receipt("race-1", "PO-960").to_string();
    let url = format!("{}/api/v1/events", app.address);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(24));
    let mut handles = Vec::new();
    for _ in 0..24 {
        // A client each: separate connections.
        let (client, url, key, event, barrier) =
            (reqwest::Client::new(), url.clone(), key.clone(), event.clone(), barrier.clone());
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = client
                .post(url)
                .bearer_auth(key)
                .header("content-type", "application/cloudevents+json")
                .body(event)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            body["status"].as_str().unwrap().to_owned()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| *s == "accepted").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "duplicate").count(), 23);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE event_id = 'race-1'").await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM exceptions WHERE refs LIKE '%PO-960%'").await, 1);
}

#[tokio::test]
async fn a_repeat_of_an_open_problem_is_counted_as_an_occurrence() {
    let (app, key) = demo_with_wms_key().await;
    let first: Value = app.post_event(&key, &carrier_timeout("occ-1", "SHP-555")).await.json().await.unwrap();
    let second: Value = app.post_event(&key, &carrier_timeout("occ-2", "SHP-555")).await.json().await.unwrap();
    let other: Value = app.post_event(&key, &carrier_timeout("occ-3", "SHP-556")).await.json().await.unwrap();
    assert_eq!(first["exception"], "opened");
    assert_eq!(second["exception"], "occurrence");
    assert_eq!(second["exception_id"], first["exception_id"]);
    let fps: Vec<String> = sqlx::query_scalar("SELECT fingerprint FROM exceptions ORDER BY id DESC LIMIT 3")
        .fetch_all(app.services.pool())
        .await
        .unwrap();
    assert_ne!(other["exception_id"], first["exception_id"], "{other} {fps:?}");
    let id = first["exception_id"].as_i64().unwrap();
    assert_eq!(app.scalar(&format!("SELECT occurrences FROM exceptions WHERE id = {id}")).await, 2);
    assert_eq!(app.scalar(&format!("SELECT COUNT(*) FROM events WHERE exception_id = {id}")).await, 2);
}

#[tokio::test]
async fn a_source_may_not_write_as_another() {
    let (app, key) = demo_with_wms_key().await;
    let mut event = partial_receipt("f-1", "PO-970");
    event["source"] = json!("t-erp/sap-prod");
    let response = app.post_event(&key, &event).await;
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["pointer"], "/source");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE event_id = 'f-1'").await, 0);
}

#[tokio::test]
async fn a_rotated_key_stays_valid_for_its_grace_period_and_a_revoked_one_at_once_not() {
    let app = spawn_app().await;
    let old = app.source("erp", "t-erp/", 1000.0, 1000).await;
    let actor = crossdock_server::auth::Operator::command_line();
    let event = |id: &str| {
        json!({"specversion": "1.0", "id": id, "source": "t-erp/sap", "type": "inventory.snapshot",
            "time": "2026-11-24T16:05:00Z", "data": {"item": "SKU-1", "erp_qty": 1, "wms_qty": 2}})
    };
    let new = app
        .services
        .rotate_source_key(&actor, "erp", chrono::Duration::hours(1))
        .await
        .unwrap()
        .key
        .expose_secret()
        .to_owned();
    assert_eq!(app.post_event(&old, &event("k-1")).await.status(), 200, "old key in its grace period");
    assert_eq!(app.post_event(&new, &event("k-2")).await.status(), 200);
    let newest = app
        .services
        .rotate_source_key(&actor, "erp", chrono::Duration::zero())
        .await
        .unwrap()
        .key
        .expose_secret()
        .to_owned();
    assert_eq!(app.post_event(&new, &event("k-3")).await.status(), 401, "no grace");
    assert_eq!(app.post_event(&newest, &event("k-4")).await.status(), 200);
    app.services.revoke_source_keys(&actor, "erp").await.unwrap();
    let refused = app.post_event(&newest, &event("k-5")).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    let audited = app.scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'source' AND entity_id = 'erp'").await;
    assert_eq!(audited, 4, "created, rotated twice, revoked");
}

#[tokio::test]
async fn keys_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let key = app.source("tms", "t-tms/", 10.0, 10).await;
    assert!(key.len() >= 26, "at least 128 random bits");
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT key_hash FROM source_keys").fetch_all(app.services.pool()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], key);
    assert!(!stored[0].contains(&key[4..]));
    let audit: Vec<String> =
        sqlx::query_scalar("SELECT after FROM audit_log").fetch_all(app.services.pool()).await.unwrap();
    assert!(audit.iter().all(|a| !a.contains(&key)), "the key never reaches the audit log");
}

mod signatures {
    use super::*;
    use crossdock_server::services::ingest::signature;

    async fn signed_source(app: &TestApp) -> (String, String) {
        let key = app.source("portal", "t-portal/", 1000.0, 1000).await;
        let secret = app
            .services
            .add_signing_secret(&crossdock_server::auth::Operator::command_line(), "portal", PreviousSecrets::Keep)
            .await
            .unwrap();
        (key, secret.expose_secret().to_owned())
    }

    fn event(id: &str) -> String {
        json!({"specversion": "1.0", "id": id, "source": "t-portal/hub", "type": "exception.supplier_date_change",
            "time": "2026-11-24T16:05:00Z", "data": {"po": "PO-1", "supplier": "SUP-1",
            "previous_date": "2026-12-01", "promised_date": "2026-12-09"}})
        .to_string()
    }

    async fn post(app: &TestApp, key: &str, body: &str, headers: &[(&str, String)]) -> reqwest::Response {
        let mut request = app
            .client
            .post(format!("{}/api/v1/events", app.address))
            .bearer_auth(key)
            .header("content-type", "application/cloudevents+json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap()
    }

    fn headers(secret: &str, id: &str, ts: i64, body: &str) -> Vec<(&'static str, String)> {
        let sig = signature::sign(&signature::decode_secret(secret).unwrap(), id, ts, body.as_bytes());
        vec![("webhook-id", id.to_owned()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)]
    }

    #[tokio::test]
    async fn a_valid_signature_is_accepted() {
        let app = spawn_app().await;
        let (key, secret) = signed_source(&app).await;
        let body = event("s-1");
        let now = chrono::Utc::now().timestamp();
        assert_eq!(post(&app, &key, &body, &headers(&secret, "msg-1", now, &body)).await.status(), 200);
    }

    #[tokio::test]
    async fn an_unsigned_request_is_refused() {
        let app = spawn_app().await;
        let (key, _) = signed_source(&app).await;
        let response = post(&app, &key, &event("s-2"), &[]).await;
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains("webhook-id"));
    }

    #[tokio::test]
    async fn a_stale_signature_is_refused() {
        let app = spawn_app().await;
        let (key, secret) = signed_source(&app).await;
        let body = event("s-3");
        let old = chrono::Utc::now().timestamp() - 6 * 60;
        let response = post(&app, &key, &body, &headers(&secret, "msg-3", old, &body)).await;
        assert_eq!(response.status(), 401);
        assert!(response.text().await.unwrap().contains("5 minutes"));
    }

    #[tokio::test]
    async fn a_tampered_body_is_refused() {
        let app = spawn_app().await;
        let (key, secret) = signed_source(&app).await;
        let body = event("s-4");
        let now = chrono::Utc::now().timestamp();
        let signed = headers(&secret, "msg-4", now, &body);
        let tampered = body.replace("PO-1", "PO-2");
        assert_eq!(post(&app, &key, &tampered, &signed).await.status(), 401);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM events").await, 0);
    }

    #[tokio::test]
    async fn during_rotation_either_secret_and_several_signatures_are_accepted() {
        let app = spawn_app().await;
        let (key, old_secret) = signed_source(&app).await;
        let new_secret = app
            .services
            .add_signing_secret(&crossdock_server::auth::Operator::command_line(), "portal", PreviousSecrets::Keep)
            .await
            .unwrap()
            .expose_secret()
            .to_owned();
        let now = chrono::Utc::now().timestamp();
        let body = event("s-5");
        assert_eq!(post(&app, &key, &body, &headers(&old_secret, "m5", now, &body)).await.status(), 200);
        let body = event("s-6");
        assert_eq!(post(&app, &key, &body, &headers(&new_secret, "m6", now, &body)).await.status(), 200);
        // A sender that signs with a secret we do not know and one we do.
        let body = event("s-7");
        let stranger = signature::sign(b"not our secret", "m7", now, body.as_bytes());
        let ours = signature::sign(&signature::decode_secret(&new_secret).unwrap(), "m7", now, body.as_bytes());
        let both = vec![
            ("webhook-id", "m7".to_owned()),
            ("webhook-timestamp", now.to_string()),
            ("webhook-signature", format!("{stranger} {ours}")),
        ];
        assert_eq!(post(&app, &key, &body, &both).await.status(), 200);
        // After replacing the secrets, the old one no longer works.
        let newest = app
            .services
            .add_signing_secret(
                &crossdock_server::auth::Operator::command_line(),
                "portal",
                PreviousSecrets::RetireAfter(chrono::Duration::zero()),
            )
            .await
            .unwrap()
            .expose_secret()
            .to_owned();
        let body = event("s-8");
        assert_eq!(post(&app, &key, &body, &headers(&old_secret, "m8", now, &body)).await.status(), 401);
        assert_eq!(post(&app, &key, &body, &headers(&newest, "m8", now, &body)).await.status(), 200);
    }

    #[tokio::test]
    async fn signing_and_connector_secrets_are_sealed_at_rest() {
        let app = spawn_app().await;
        let (key, secret) = signed_source(&app).await;
        let stored: String = sqlx::query_scalar("SELECT signing_secrets FROM sources WHERE name = 'portal'")
            .fetch_one(app.services.pool())
            .await
            .unwrap();
        let whsec = secret.trim_start_matches("whsec_");
        assert!(!stored.contains(whsec) && stored.contains("sealed:v1:"), "{stored}");
        let now = chrono::Utc::now().timestamp();
        let body = event("r-1");
        assert_eq!(
            post(&app, &key, &body, &headers(&secret, "r1", now, &body)).await.status(),
            200,
            "it still verifies"
        );
    }

    #[tokio::test]
    async fn secrets_stored_plain_before_sealing_are_sealed_at_the_next_start() {
        let app = spawn_app().await;
        let (key, _) = signed_source(&app).await;
        let plain = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        sqlx::query("UPDATE sources SET signing_secrets = $1 WHERE name = 'portal'")
            .bind(json!([plain]).to_string())
            .execute(app.services.pool())
            .await
            .unwrap();
        let restarted = app.restarted_services().await;
        let stored: String = sqlx::query_scalar("SELECT signing_secrets FROM sources WHERE name = 'portal'")
            .fetch_one(restarted.pool())
            .await
            .unwrap();
        assert!(!stored.contains(plain.trim_start_matches("whsec_")), "{stored}");
        let answer = restarted.authenticate_source(Some(&format!("Bearer {key}"))).await.expect("opens");
        assert_eq!(answer.secrets.len(), 1, "the sealed secret opens with the key that sealed it");
    }

    #[tokio::test]
    async fn a_rotated_signing_secret_works_through_its_grace_then_is_refused() {
        let app = spawn_app().await;
        let (key, old_secret) = signed_source(&app).await;
        let new_secret = app
            .services
            .add_signing_secret(
                &crossdock_server::auth::Operator::command_line(),
                "portal",
                PreviousSecrets::RetireAfter(chrono::Duration::hours(1)),
            )
            .await
            .unwrap()
            .expose_secret()
            .to_owned();
        let now = chrono::Utc::now().timestamp();
        let body = event("g-1");
        assert_eq!(
            post(&app, &key, &body, &headers(&old_secret, "g1", now, &body)).await.status(),
            200,
            "in its grace"
        );
        // The grace is over.
        let past = chrono::Utc::now().timestamp_millis() - 1000;
        sqlx::query(if app.on_postgres() {
            "UPDATE sources SET signing_secrets = \
             jsonb_set(signing_secrets::jsonb, '{0,retires_at}', to_jsonb($1::bigint))::text WHERE name = 'portal'"
        } else {
            "UPDATE sources SET signing_secrets = json_set(signing_secrets, '$[0].retires_at', $1) WHERE name = 'portal'"
        })
        .bind(past)
        .execute(app.services.pool())
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(6)).await; // the key cache forgets
        let body = event("g-2");
        assert_eq!(post(&app, &key, &body, &headers(&old_secret, "g2", now, &body)).await.status(), 401);
        assert_eq!(post(&app, &key, &body, &headers(&new_secret, "g3", now, &body)).await.status(), 200);
        let unsigned = post(&app, &key, &event("g-4"), &[]).await;
        assert_eq!(unsigned.status(), 401, "a source with secrets stays signed");
    }
}

#[tokio::test]
async fn a_noisy_source_is_throttled_without_slowing_another() {
    let app = spawn_app().await;
    let noisy = app.source("noisy", "t-wms/", 1.0, 2).await;
    let quiet = app.source("quiet", "t-erp/", 1.0, 2).await;
    let event = |id: &str, source: &str| {
        json!({"specversion": "1.0", "id": id, "source": source, "type": "inventory.snapshot",
            "time": "2026-11-24T16:05:00Z", "data": {"item": "SKU-1", "erp_qty": 1, "wms_qty": 2}})
    };
    assert_eq!(app.post_event(&noisy, &event("n-1", "t-wms/a")).await.status(), 200);
    assert_eq!(app.post_event(&noisy, &event("n-2", "t-wms/a")).await.status(), 200);
    let throttled = app.post_event(&noisy, &event("n-3", "t-wms/a")).await;
    assert_eq!(throttled.status(), 429);
    let wait: u64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait));
    assert_eq!(throttled.headers()["content-type"], "application/problem+json");
    assert_eq!(app.post_event(&quiet, &event("q-1", "t-erp/a")).await.status(), 200);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE event_id = 'n-3'").await, 0);
}

#[tokio::test]
async fn the_openapi_description_matches_the_endpoint() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let post = &doc["paths"]["/api/v1/events"]["post"];
    for code in ["200", "400", "401", "403", "413", "415", "429", "503"] {
        assert!(post["responses"].get(code).is_some(), "response {code} documented");
    }
    let content = post["requestBody"]["content"].as_object().unwrap();
    for mode in ["application/cloudevents+json", "application/cloudevents-batch+json"] {
        assert!(content.contains_key(mode), "{mode} documented");
    }
    // Binary mode is described by its `ce-*` header parameters and the text.
    assert!(post["description"].as_str().is_some_and(|d| d.contains("Binary mode")));
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["scheme"], "bearer");
}

#[tokio::test]
async fn within_one_batch_repeats_are_occurrences_and_copies_are_duplicates() {
    let (app, key) = demo_with_wms_key().await;
    let batch = json!([
        carrier_timeout("w-1", "SHP-808"),
        carrier_timeout("w-2", "SHP-808"),
        carrier_timeout("w-1", "SHP-808"),
        carrier_timeout("w-3", "SHP-809"),
    ]);
    let body: Value = app
        .post_events(Some(&key), "application/cloudevents-batch+json", batch.to_string())
        .await
        .json()
        .await
        .unwrap();
    let r = body["results"].as_array().unwrap();
    assert_eq!((r[0]["status"].as_str(), r[0]["exception"].as_str()), (Some("accepted"), Some("opened")));
    assert_eq!((r[1]["status"].as_str(), r[1]["exception"].as_str()), (Some("accepted"), Some("occurrence")));
    assert_eq!(r[1]["exception_id"], r[0]["exception_id"]);
    assert_eq!(r[2]["status"], "duplicate");
    assert_eq!(r[3]["exception"], "opened");
    assert_ne!(r[3]["exception_id"], r[0]["exception_id"]);
    let id = r[0]["exception_id"].as_i64().unwrap();
    assert_eq!(app.scalar(&format!("SELECT occurrences FROM exceptions WHERE id = {id}")).await, 2);
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM exception_status_history WHERE exception_id = {id}")).await,
        1
    );
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'exception.filed' AND entity_id = '{id}'"))
            .await,
        1
    );
}
