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
