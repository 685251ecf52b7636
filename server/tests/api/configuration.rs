//! Admin configuration: sites and calendars, SLA policies, routing rules with
//! dry runs and re-routing, versions and restore.

use crossdock::routing::{RouteDecision, RuleSetSpec};
use crossdock_app::AppError;
use crossdock_app::dto::{ConfigVersionView, MoveView, RoutingChoices};
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, spawn_app_with_demo};

async fn admin(app: &TestApp) -> Browser {
    app.signed_in("morgan").await
}

fn fields(error: &AppError) -> Vec<String> {
    match error {
        AppError::Fields(f) => f.iter().map(|f| f.field.clone()).collect(),
        AppError::Invalid { field, .. } => vec![field.clone()],
        other => panic!("not a field error: {other:?}"),
    }
}

async fn current_rules(browser: &Browser) -> RuleSetSpec {
    let (spec, _): (RuleSetSpec, RoutingChoices) = browser.server_fn("routing", &[]).await.json().await.unwrap();
    spec
}

#[tokio::test]
async fn a_site_with_bad_hours_or_zone_is_refused_field_by_field_and_not_saved() {
    let app = spawn_app_with_demo().await;
    let admin = admin(&app).await;
    let before = app.scalar("SELECT COUNT(*) FROM config_versions").await;
    let site = json!({"site": {"code": "DC-PHX", "name": "Phoenix DC", "calendar": {
        "time_zone": "America/Phoenixx",
        "hours": {"kind": "weekly", "shifts": [
            {"day": "mon", "start": "08:00", "end": "17:00"},
            {"day": "mon", "start": "16:00", "end": "18:00"},
            {"day": "tue", "start": "17:00", "end": "08:00"}
        ]},
        "holidays": []}}});
    let response = admin.server_fn_json("save_site", &site).await;
    assert_eq!(response.status(), 400);
    let error: AppError = response.json().await.unwrap();
    let found = fields(&error);
    for expected in ["calendar/time_zone", "calendar/hours/shifts/1", "calendar/hours/shifts/2/end"] {
        assert!(found.iter().any(|f| f == expected), "{expected} in {found:?}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM config_versions").await, before, "nothing half-saved");

    let good = json!({"site": {"code": "DC-PHX", "name": "Phoenix DC", "calendar": {
        "time_zone": "America/Phoenix",
        "hours": {"kind": "weekly", "shifts": [{"day": "sun", "start": "22:00", "end": "06:00", "overnight": true}]},
        "holidays": ["2026-12-25"]}}});
    assert_eq!(admin.server_fn_json("save_site", &good).await.status(), 200);
    let sites: Vec<Value> = admin.server_fn("list_sites", &[]).await.json().await.unwrap();
    assert!(sites.iter().any(|s| s["code"] == "DC-PHX"));
}

#[tokio::test]
async fn expectations_are_checked_saved_as_versions_audited_and_restorable() {
    let app = spawn_app_with_demo().await;
    let admin = admin(&app).await;
    let standard: Value = admin.server_fn("expectations", &[]).await.json().await.unwrap();
    assert_eq!(standard["rules"].as_array().map(Vec::len), Some(4), "the defaults: {standard}");
    assert_eq!(standard["rules"][0]["after"], "po.created");
    assert_eq!(standard["rules"][0]["within_hours"], 24);

    let rule = |after: &str, expect: &str, hours: u32| json!({"after": after, "expect": expect, "within_hours": hours, "business_hours": true});
    let bad = json!({"expectations": {"rules": [
        rule("po.created", "po.acknowledged", 0),
        rule("receipt.posted", "po.created", 8),
        rule("order.released", "invoice.posted", 24),
        rule("order.released", "invoice.posted", 48),
    ]}});
    let before = app.scalar("SELECT COUNT(*) FROM config_versions").await;
    let response = admin.server_fn_json("save_expectations", &bad).await;
    assert_eq!(response.status(), 400);
    let found = fields(&response.json().await.unwrap());
    for expected in ["rules/0/within_hours", "rules/1/expect", "rules/3/expect"] {
        assert!(found.iter().any(|f| f == expected), "{expected} in {found:?}");
    }
    assert!(!found.iter().any(|f| f.starts_with("rules/2")), "{found:?}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM config_versions").await, before, "nothing half-saved");
    let unknown = json!({"expectations": {"rules": [rule("po.created", "po.teleported", 4)]}});
    assert_eq!(admin.server_fn_json("save_expectations", &unknown).await.status(), 400);

    let good = json!({"expectations": {"rules": [rule("order.released", "order.allocated", 4)]}});
    assert_eq!(admin.server_fn_json("save_expectations", &good).await.status(), 200);
    let now: Value = admin.server_fn("expectations", &[]).await.json().await.unwrap();
    assert_eq!(now["rules"], good["expectations"]["rules"]);
    assert_eq!(
        app.services.configuration().expectations.rules.len(),
        1,
        "the sweep uses the saved set from the next milestone on"
    );
    let audited =
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'expectations' AND action = 'config.saved'").await;
    assert_eq!(audited, 1);

    let history: Vec<ConfigVersionView> =
        admin.server_fn("config_history", &[("kind", "expectations")]).await.json().await.unwrap();
    assert_eq!(history.len(), 1);
    // Restoring the standard set is a new version like any other change.
    let standard_again = json!({"expectations": standard});
    assert_eq!(admin.server_fn_json("save_expectations", &standard_again).await.status(), 200);
    let history: Vec<ConfigVersionView> =
        admin.server_fn("config_history", &[("kind", "expectations")]).await.json().await.unwrap();
    let first = history.iter().map(|v| v.id).min().unwrap();
    let restore = first.to_string();
    assert_eq!(admin.server_fn("restore_config", &[("version_id", restore.as_str())]).await.status(), 200);
    assert_eq!(app.services.configuration().expectations.rules.len(), 1, "the first saved set is in force again");
}

/// The migration that lets versions hold any kind rebuilds the table under
/// exceptions that refer to it: run again on a database full of such
/// references, it keeps every version and every reference.
#[tokio::test]
async fn rebuilding_the_versions_table_keeps_every_version_and_reference() {
    let app = spawn_app_with_demo().await;
    if app.on_postgres() {
        return; // a migration of SQLite's schema; PostgreSQL's was born with the change
    }
    let referenced = "SELECT COUNT(*) FROM exceptions WHERE sla_policy_version IS NOT NULL";
    let (versions, references) =
        (app.scalar("SELECT COUNT(*) FROM config_versions").await, app.scalar(referenced).await);
    assert!(references > 10, "the demo's exceptions refer to their policy versions");
    let sql = include_str!("../../../migrations/sqlite/20261202000002_config_any_kind.sql");
    let mut tx = app.services.pool().begin().await.unwrap();
    sqlx::raw_sql(sql).execute(&mut *tx).await.expect("the rebuild runs");
    tx.commit().await.expect("and commits with every reference whole");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM config_versions").await, versions);
    assert_eq!(app.scalar(referenced).await, references);
    let dangling = app
        .scalar(
            "SELECT COUNT(*) FROM exceptions e WHERE sla_policy_version IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM config_versions v WHERE v.id = e.sla_policy_version)",
        )
        .await;
    assert_eq!(dangling, 0);
}

#[tokio::test]
async fn an_sla_policy_with_zero_or_absurd_targets_is_refused() {
    let app = spawn_app_with_demo().await;
    let admin = admin(&app).await;
    let t = |a: u32, r: u32| json!({"acknowledge_minutes": a, "resolve_minutes": r});
    let policy = json!({"policy": {"name": "Rush", "at_risk_percent": 80, "targets": {
        "low": t(0, 60), "medium": t(30, 10_000_000), "high": t(30, 60), "critical": t(15, 30)}}});
    let response = admin.server_fn_json("save_policy", &policy).await;
    assert_eq!(response.status(), 400);
    let found = fields(&response.json().await.unwrap());
    assert!(found.contains(&"targets/low/acknowledge_minutes".to_owned()), "{found:?}");
    assert!(found.contains(&"targets/medium/resolve_minutes".to_owned()), "{found:?}");
}

#[tokio::test]
async fn a_policy_change_applies_to_exceptions_opened_after_it() {
    let app = spawn_app_with_demo().await;
    let admin = admin(&app).await;
    let key = app.source("test-wms", "t-wms/", 1000.0, 1000).await;
    let event = |id: &str, po: &str| {
        json!({"specversion": "1.0", "id": id, "source": "t-wms/dc-atl",
        "type": "exception.partial_receipt", "time": "2026-11-24T15:42:10Z",
        "data": {"site": "DC-ATL", "po": po, "line": 1, "item": "SKU-1", "expected_qty": 10, "received_qty": 5}})
    };
    let first: Value = app.post_event(&key, &event("p-1", "PO-7001")).await.json().await.unwrap();
    let t = |a: u32, r: u32| json!({"acknowledge_minutes": a, "resolve_minutes": r});
    let policy = json!({"policy": {"name": "Warehouse", "at_risk_percent": 50, "targets": {
        "low": t(60, 600), "medium": t(30, 300), "high": t(15, 120), "critical": t(5, 60)}}});
    assert_eq!(admin.server_fn_json("save_policy", &policy).await.status(), 200);
    let second: Value = app.post_event(&key, &event("p-2", "PO-7002")).await.json().await.unwrap();
    let version = |id: &Value| {
        let id = id["exception_id"].as_i64().unwrap();
        format!("SELECT sla_policy_version FROM exceptions WHERE id = {id}")
    };
    let (old, new) = (app.scalar(&version(&first)).await, app.scalar(&version(&second)).await);
    assert_ne!(old, new, "the later exception starts under the new version");
    let kept: String = sqlx::query_scalar("SELECT spec FROM config_versions WHERE id = $1")
        .bind(old)
        .fetch_one(app.services.pool())
        .await
        .unwrap();
    assert!(kept.contains("\"at_risk_percent\":75"), "the earlier exception keeps the policy it started with");
}

#[tokio::test]
async fn an_invalid_rule_set_is_never_saved_and_says_which_rule_is_wrong() {
    let app = spawn_app_with_demo().await;
    let admin = admin(&app).await;
    let mut rules = serde_json::to_value(current_rules(&admin).await).unwrap();
    rules["rules"][1]["queue"] = json!("no-such-queue");
    rules["rules"][2]["conditions"] = json!([{"field": "data:/qty", "op": "gt", "value": "many"}]);
    rules["rules"].as_array_mut().unwrap().insert(0, json!({"name": "Everything", "queue": "triage"}));
    let before = app.scalar("SELECT COUNT(*) FROM config_versions WHERE kind = 'routing'").await;
    let response = admin.server_fn_json("save_routing", &json!({"rules": rules, "reroute": false})).await;
    assert_eq!(response.status(), 400);
    let found = fields(&response.json().await.unwrap());
    for expected in ["rules/2/queue", "rules/3/conditions/0/value", "rules/1"] {
        assert!(found.iter().any(|f| f == expected), "{expected} in {found:?}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM config_versions WHERE kind = 'routing'").await, before);
}

#[tokio::test]
async fn a_dry_run_shows_the_decision_and_why_earlier_rules_did_not_match() {
    let app = spawn_app_with_demo().await;
    let admin = admin(&app).await;
    let rules = current_rules(&admin).await;
    let event = json!({"specversion": "1.0", "id": "d-1", "source": "t-wms/dc-atl", "type": "exception.inventory_mismatch",
        "time": "2026-11-24T15:42:10Z", "data": {"site": "DC-ATL", "item": "SKU-1", "erp_qty": 5, "wms_qty": 3}});
    let response = admin.server_fn_json("dry_run", &json!({"rules": rules, "event": event.to_string()})).await;
    assert_eq!(response.status(), 200);
    let decision: RouteDecision = response.json().await.unwrap();
    assert_eq!(decision.queue.as_str(), "inventory-control");
    let expected = rules.rules.iter().position(|r| r.name == "Inventory mismatches").unwrap();
    assert_eq!(decision.rule, Some(expected));
    assert_eq!(decision.trace.len(), expected + 1, "every rule before the one that matched says why not");
    let broken =
        json!({"rules": rules, "event": "{\"specversion\": \"1.0\", \"type\": \"exception.partial_receipt\"}"});
    let response = admin.server_fn_json("dry_run", &broken).await;
    assert_eq!(response.status(), 400);
    let found = fields(&response.json().await.unwrap());
    assert!(found.iter().any(|f| f == "event/id"), "{found:?}");
}

#[tokio::test]
async fn a_changed_rule_set_shows_and_then_moves_the_open_exceptions_it_sends_elsewhere() {
    let app = spawn_app_with_demo().await;
    let admin = admin(&app).await;
    let mut rules = serde_json::to_value(current_rules(&admin).await).unwrap();
    // Partial receipts go to purchasing from now on.
    let receipts = rules["rules"].as_array().unwrap().iter().position(|r| r["name"] == "Partial receipts").unwrap();
    rules["rules"][receipts]["queue"] = json!("purchasing");
    let impact: Vec<MoveView> =
        admin.server_fn_json("routing_impact", &json!({"rules": rules})).await.json().await.unwrap();
    let receipts = app
        .scalar("SELECT COUNT(*) FROM exceptions WHERE kind = 'exception.partial_receipt' AND status NOT IN ('resolved', 'dismissed')")
        .await;
    assert!(receipts > 0);
    // What the escalation sweep moved out of its routed queue (the demo's
    // billing breaches, by the time of day it is seeded) would go back too;
    // this test follows the receipts.
    let impact: Vec<MoveView> = impact.into_iter().filter(|m| m.from == "receiving").collect();
    assert_eq!(impact.len() as i64, receipts, "the open demo partial receipts");
    assert!(impact.iter().all(|m| m.from == "receiving" && m.to == "purchasing" && m.outcome.is_none()));
    let in_receiving =
        "SELECT COUNT(*) FROM exceptions WHERE queue = 'receiving' AND status NOT IN ('resolved', 'dismissed')";
    assert_eq!(app.scalar(in_receiving).await, receipts, "nothing moved yet");

    let saved: Vec<MoveView> =
        admin.server_fn_json("save_routing", &json!({"rules": rules, "reroute": true})).await.json().await.unwrap();
    assert!(saved.iter().all(|m| m.outcome.as_deref() == Some("moved")));
    assert_eq!(saved.iter().filter(|m| m.from == "receiving").count() as i64, receipts);
    assert_eq!(app.scalar(in_receiving).await, 0);
    let rerouted = app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'exception.rerouted'").await;
    assert_eq!(rerouted, saved.len() as i64);
}

#[tokio::test]
async fn every_change_is_versioned_and_an_earlier_version_can_be_restored() {
    let app = spawn_app_with_demo().await;
    let admin = admin(&app).await;
    let original = current_rules(&admin).await;
    let mut changed = serde_json::to_value(&original).unwrap();
    changed["rules"][0]["enabled"] = json!(false);
    assert_eq!(admin.server_fn_json("save_routing", &json!({"rules": changed, "reroute": false})).await.status(), 200);
    assert!(!current_rules(&admin).await.rules[0].enabled);

    let history: Vec<ConfigVersionView> =
        admin.server_fn("config_history", &[("kind", "routing")]).await.json().await.unwrap();
    assert!(history.len() >= 3, "bootstrap, demo, change");
    assert!(history[0].current && history[0].actor == "user:morgan");
    let demo_version = history.iter().find(|v| v.actor == "system:demo").unwrap().id.to_string();
    assert_eq!(admin.server_fn("restore_config", &[("version_id", &demo_version)]).await.status(), 200);
    assert_eq!(current_rules(&admin).await, original);
    let audited = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'config.saved' AND entity = 'routing' AND before IS NOT NULL AND actor = 'user:morgan'")
        .await;
    assert_eq!(audited, 2, "the change and the restore, each with before and after");
}

/// Each configuration action, for each role: only admins get through.
#[tokio::test]
async fn only_admins_configure_and_the_server_says_so_to_everyone_else() {
    let app = spawn_app_with_demo().await;
    let rules = serde_json::to_value(current_rules(&admin(&app).await).await).unwrap();
    let version: i64 =
        app.scalar("SELECT MIN(id) FROM config_versions WHERE kind = 'routing' AND actor = 'system:demo'").await;
    let t = json!({"acknowledge_minutes": 30, "resolve_minutes": 120});
    let site =
        json!({"site": {"code": "DC-X", "name": "X", "calendar": {"time_zone": "UTC", "hours": {"kind": "24x7"}}}});
    let policy = json!({"policy": {"name": "P", "targets": {"low": t, "medium": t, "high": t, "critical": t}}});
    let event = json!({"specversion": "1.0", "id": "m-1", "source": "t-wms/a", "type": "exception.duplicate_event",
        "time": "2026-11-24T15:42:10Z", "data": {"original_id": "a", "duplicate_id": "b", "entity": "order"}})
    .to_string();
    for (user, allowed) in [("pat", false), ("sam", false), ("alex", false), ("morgan", true)] {
        let browser = app.signed_in(user).await;
        let expected = if allowed { 200 } else { 403 };
        let form_calls = [
            ("list_sites", vec![]),
            ("list_policies", vec![]),
            ("routing", vec![]),
            ("expectations", vec![]),
            ("config_history", vec![("kind", "routing".to_owned())]),
            ("restore_config", vec![("version_id", version.to_string())]),
        ];
        for (name, args) in form_calls {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(browser.server_fn(name, &args).await.status(), expected, "{user} {name}");
        }
        let json_calls = [
            ("save_site", site.clone()),
            ("save_policy", policy.clone()),
            ("dry_run", json!({"rules": rules, "event": event})),
            ("routing_impact", json!({"rules": rules})),
            ("save_routing", json!({"rules": rules, "reroute": false})),
            ("save_expectations", json!({"expectations": {"rules": []}})),
        ];
        for (name, body) in json_calls {
            assert_eq!(browser.server_fn_json(name, &body).await.status(), expected, "{user} {name}");
        }
    }
}

#[tokio::test]
async fn of_two_saves_at_once_the_one_committed_last_is_in_force() {
    let app = spawn_app_with_demo().await;
    let operator = crossdock_server::auth::Operator::command_line();
    for round in 0..15 {
        let save = |name: String| {
            let services = app.services.clone();
            let operator = &operator;
            async move {
                services
                    .save_queue(operator, "receiving", &name, "Receiving", "Warehouse", "DC-ATL")
                    .await
                    .expect("saved")
            }
        };
        tokio::join!(save(format!("Receiving A{round}")), save(format!("Receiving B{round}")));
        let name = if app.on_postgres() { "spec::json->>'name'" } else { "json_extract(spec, '$.name')" };
        let stored: String = sqlx::query_scalar(&format!(
            "SELECT {name} FROM config_versions WHERE kind = 'queue' AND key = 'receiving' ORDER BY id DESC LIMIT 1"
        ))
        .fetch_one(app.services.pool())
        .await
        .expect("stored");
        let key = crossdock::queue::QueueKey::parse("receiving").expect("key");
        let in_memory = app.services.configuration().queues[&key].spec.name.clone();
        assert_eq!(in_memory, stored, "round {round}: memory holds an older save");
    }
}

#[tokio::test]
async fn ingest_goes_on_while_thousands_of_exceptions_are_rerouted() {
    let app = spawn_app_with_demo().await;
    let key = app.source("bulk-wms", "t-wms/", 1_000_000.0, 1_000_000).await;
    // Enough that one transaction for all moves would hold the database
    // longer than ingest waits for it (5 s).
    for chunk in 0..15 {
        let batch: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"specversion": "1.0", "id": format!("rr-{chunk}-{i}"), "source": "t-wms/dc-atl",
                       "type": "exception.partial_receipt", "time": "2026-11-24T15:42:10Z",
                       "data": {"site": "DC-ATL", "po": format!("PO-R{chunk}-{i}"), "line": 1, "item": "SKU-1",
                                "expected_qty": 10, "received_qty": 8}})
            })
            .collect();
        let r =
            app.post_events(Some(&key), "application/cloudevents-batch+json", Value::Array(batch).to_string()).await;
        assert_eq!(r.status(), 200);
    }
    let admin = admin(&app).await;
    let mut rules = serde_json::to_value(current_rules(&admin).await).unwrap();
    let receipts = rules["rules"].as_array().unwrap().iter().position(|r| r["name"] == "Partial receipts").unwrap();
    rules["rules"][receipts]["queue"] = json!("purchasing");

    let sending = {
        let (app_address, key) = (app.address.clone(), key.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut statuses = Vec::new();
            for i in 0..1000 {
                let event = json!({"specversion": "1.0", "id": format!("during-{i}"), "source": "t-wms/dc-atl",
                    "type": "inventory.snapshot", "time": "2026-11-24T15:42:10Z",
                    "data": {"item": "SKU-1", "erp_qty": 1, "wms_qty": 1}});
                let r = client
                    .post(format!("{app_address}/api/v1/events"))
                    .bearer_auth(&key)
                    .header("content-type", "application/cloudevents+json")
                    .body(event.to_string())
                    .send()
                    .await
                    .expect("answer");
                statuses.push(r.status().as_u16());
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            statuses
        })
    };
    let started = std::time::Instant::now();
    let saved = admin.server_fn_json("save_routing", &json!({"rules": rules, "reroute": true})).await;
    assert_eq!(saved.status(), 200);
    let moved: Vec<MoveView> = saved.json().await.unwrap();
    println!("rerouted {} exceptions in {:?}", moved.len(), started.elapsed());
    assert!(moved.len() >= 15_000);
    let statuses = sending.await.expect("sender");
    assert!(statuses.iter().all(|s| *s == 200), "ingest answered {:?} during the reroute", {
        let mut odd: Vec<_> = statuses.iter().filter(|s| **s != 200).collect();
        odd.dedup();
        odd
    });
}

#[tokio::test]
async fn a_configuration_saved_through_one_instance_is_taken_up_by_another_on_the_same_database() {
    let first = spawn_app_with_demo().await;
    let second = first.beside(|_| {}).await;
    let key = crossdock::queue::QueueKey::parse("receiving").expect("key");
    let name_on = |app: &TestApp| app.services.configuration().queues[&key].spec.name.clone();
    assert_eq!(name_on(&second), name_on(&first));
    let operator = crossdock_server::auth::Operator::command_line();
    first
        .services
        .save_queue(&operator, "receiving", "Receiving dock", "Receiving", "Warehouse", "DC-ATL")
        .await
        .expect("saved");
    assert_eq!(name_on(&first), "Receiving dock", "at once where it was saved");
    let saved = std::time::Instant::now();
    while name_on(&second) != "Receiving dock" {
        // Each instance looks every second; five is a generous bound.
        assert!(saved.elapsed() < std::time::Duration::from_secs(5), "the other instance never took it up");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
