//! The auditor console: the trail is one hash chain that names the first
//! record changed behind its back; it filters, pages and exports, and an
//! export checks outside the server.

use std::process::Command;

use crossdock::audit::chain::{ChainBreak, KeptHead};
use crossdock::audit::query::{AuditPage, ChainState};
use crossdock_server::services::audit::verify_export;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with_demo};

async fn sql(app: &TestApp, statement: &str) {
    sqlx::query(statement).execute(app.services.pool()).await.unwrap();
}

/// Lifts the database's own guard, as someone with the file could.
async fn unguard(app: &TestApp) {
    let on = if app.on_postgres() { " ON audit_log" } else { "" };
    sql(app, &format!("DROP TRIGGER IF EXISTS audit_log_no_update{on}")).await;
    sql(app, &format!("DROP TRIGGER IF EXISTS audit_log_no_delete{on}")).await;
}

async fn broken(app: &TestApp) -> Option<ChainBreak> {
    app.services.verify_audit_chain(None).await.unwrap().broken
}

#[tokio::test]
async fn the_trail_is_one_chain_and_a_walk_names_the_first_record_changed_behind_its_back() {
    let app = spawn_app_with_demo().await;
    let count = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    assert!(count > 20, "the demo wrote {count} records");
    let report = app.services.verify_audit_chain(None).await.unwrap();
    assert_eq!((report.checked as i64, report.broken), (count, None));
    let (seq, hash) = app.services.audit_head().await.unwrap();
    assert_eq!(seq, count);
    assert_eq!(report.verified, Some((seq, hash)));
    // The database refuses edits and deletes on its own.
    assert!(sqlx::query("UPDATE audit_log SET reason = 'x' WHERE id = 3").execute(app.services.pool()).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_log WHERE id = 3").execute(app.services.pool()).await.is_err());

    unguard(&app).await;
    let reason: Option<String> =
        sqlx::query_scalar("SELECT reason FROM audit_log WHERE id = 5").fetch_one(app.services.pool()).await.unwrap();
    sql(&app, "UPDATE audit_log SET reason = 'nothing to see' WHERE id = 5").await;
    assert_eq!(broken(&app).await, Some(ChainBreak::Edited(5)));
    sqlx::query("UPDATE audit_log SET reason = $1 WHERE id = 5")
        .bind(reason)
        .execute(app.services.pool())
        .await
        .unwrap();
    assert_eq!(broken(&app).await, None, "put back as it was");

    sql(&app, "CREATE TABLE kept AS SELECT * FROM audit_log WHERE id = 9").await;
    sql(&app, "DELETE FROM audit_log WHERE id = 9").await;
    assert_eq!(broken(&app).await, Some(ChainBreak::Missing { first: 9, last: 9 }));
    sql(&app, "INSERT INTO audit_log SELECT * FROM kept").await;
    assert_eq!(broken(&app).await, None);

    sql(&app, "DROP TABLE kept").await;

    // Two records' contents swapped, each keeping its number and seal.
    let differ =
        app.scalar("SELECT COUNT(DISTINCT entity || entity_id || action) FROM audit_log WHERE id IN (10, 11)").await;
    assert_eq!(differ, 2, "records 10 and 11 say different things");
    sql(&app, "CREATE TABLE swapped AS SELECT * FROM audit_log WHERE id IN (10, 11)").await;
    for (to, from) in [(10, 11), (11, 10)] {
        let columns = ["at", "actor", "action", "entity", "entity_id", "before", "after", "reason"]
            .map(|c| format!("{c} = (SELECT {c} FROM swapped WHERE id = {from})"))
            .join(", ");
        sql(&app, &format!("UPDATE audit_log SET {columns} WHERE id = {to}")).await;
    }
    assert_eq!(broken(&app).await, Some(ChainBreak::Edited(10)));
}

#[tokio::test]
async fn records_deleted_from_the_end_show_against_a_head_kept_outside() {
    let app = spawn_app_with_demo().await;
    let (seq, hash) = app.services.audit_head().await.unwrap();
    let kept = KeptHead { seq, hash };
    unguard(&app).await;
    sql(&app, &format!("DELETE FROM audit_log WHERE id >= {}", seq - 1)).await;
    assert_eq!(broken(&app).await, None, "a shorter chain is still a chain");
    let report = app.services.verify_audit_chain(Some(kept)).await.unwrap();
    assert_eq!(report.broken, Some(ChainBreak::HeadMissing { last: seq - 2, head: seq }));
}

#[tokio::test]
async fn records_written_before_the_chain_are_sealed_once_at_start() {
    let app = spawn_app_with_demo().await;
    let before = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    sql(
        &app,
        "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, reason) \
         SELECT MAX(id) + 1, 1764600000000, 'user:sam', 'exception.commented', 'exception', '1', \
         'written by an older version' FROM audit_log",
    )
    .await;
    assert!(app.services.verify_audit_chain(None).await.unwrap().broken.is_some());
    assert_eq!(app.services.seal_audit_trail().await.unwrap(), 1);
    assert_eq!(app.services.seal_audit_trail().await.unwrap(), 0, "sealed once");
    let report = app.services.verify_audit_chain(None).await.unwrap();
    assert_eq!((report.broken, report.checked as i64), (None, before + 1));
    // A sealed record stays as it is.
    assert!(sqlx::query("UPDATE audit_log SET hash = NULL WHERE id = 1").execute(app.services.pool()).await.is_err());
}

async fn page(b: &crate::helpers::Browser, query: &str) -> AuditPage {
    let r = b.server_fn("audit_page", &[("query", query)]).await;
    assert_eq!(r.status(), 200, "{query}: {:?}", r.text().await);
    r.json().await.unwrap()
}

#[tokio::test]
async fn auditors_filter_and_page_the_trail_and_see_what_each_record_changed() {
    let app = spawn_app_with_demo().await;
    let alex = app.signed_in("alex").await;
    let sam = app.signed_in("sam").await;
    let id: i64 = app.scalar("SELECT id FROM exceptions WHERE status = 'new' ORDER BY id LIMIT 1").await;
    let version = app.scalar(&format!("SELECT version FROM exceptions WHERE id = {id}")).await;
    let r = sam.server_fn_json("act", &json!({"id": id, "seen": version, "action": {"kind": "claim"}})).await;
    assert_eq!(r.status(), 200);
    let r = sam
        .server_fn_json(
            "act",
            &json!({"id": id, "seen": version + 1, "action": {"kind": "comment", "text": "called the carrier about pallet 7"}}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let history = page(&alex, &format!("exception={id}&order=oldest")).await;
    let seqs: Vec<i64> = history.lines.iter().map(|l| l.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first: {seqs:?}");
    assert_eq!(history.lines.first().map(|l| l.action.as_str()), Some("exception.filed"));
    let claim = history.lines.iter().find(|l| l.action.as_str() == "exception.claimed").expect("the claim");
    assert!(
        claim.changes.iter().any(|c| c.path == "assignee" && c.after.as_deref() == Some("sam")),
        "{:?}",
        claim.changes
    );
    assert!(history.lines.iter().all(|l| l.exception() == Some(id)));

    let mine = page(&alex, "actor=sam").await;
    assert!(!mine.lines.is_empty() && mine.lines.iter().all(|l| l.actor.to_string() == "user:sam"));
    let words = page(&alex, "q=PALLET+7").await;
    assert!(words.lines.is_empty(), "a comment's text is not a reason");
    // Words in reasons, as people type them: prefixes, any case, all required.
    let asked = page(&alex, "q=asked+sup-01").await;
    assert!(!asked.lines.is_empty());
    for line in &asked.lines {
        let reason = line.reason.as_deref().unwrap_or_default().to_lowercase();
        assert!(reason.contains("asked") && reason.contains("sup-01"), "{reason}");
    }
    assert!(page(&alex, "q=asked+nowhere").await.lines.is_empty());
    assert!(page(&alex, "q=%22+*").await.lines.is_empty(), "no word to look for finds nothing, and fails nothing");
    let claimed = page(&alex, "action=exception.claimed&entity=exception").await;
    assert!(claimed.lines.iter().all(|l| l.action.as_str() == "exception.claimed"));
    let system = page(&alex, "actor=system").await;
    assert!(!system.lines.is_empty() && system.lines.iter().all(|l| l.actor.to_string().starts_with("system:")));
    let queue: String = sqlx::query_scalar(&format!("SELECT queue FROM exceptions WHERE id = {id}"))
        .fetch_one(app.services.pool())
        .await
        .unwrap();
    let in_queue = page(&alex, &format!("queue={queue}")).await;
    assert!(in_queue.lines.iter().any(|l| l.exception() == Some(id)));

    // Keyset pages follow each other without gaps or repeats.
    let total = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let mut seen = Vec::new();
    let mut query = String::new();
    loop {
        let p = page(&alex, &query).await;
        seen.extend(p.lines.iter().map(|l| l.seq));
        let Some(next) = p.next else { break };
        query = format!("after={next}");
    }
    assert_eq!(seen.len() as i64, total);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, each once");

    let bad = alex.server_fn("audit_page", &[("query", "from=yesterday&action=nothing")]).await;
    assert_eq!(bad.status(), 400);
    let text = bad.text().await.unwrap();
    assert!(text.contains("from") && text.contains("action"), "{text}");
    let pat = app.signed_in("pat").await;
    assert_eq!(pat.server_fn("audit_page", &[("query", "")]).await.status(), 403);

    // The chain's state: the background check, then an admin's.
    let morgan = app.signed_in("morgan").await;
    let r = morgan.server_fn("check_audit_chain", &[]).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let state: ChainState = r.json().await.unwrap();
    assert_eq!((state.broken, state.requested_by.as_deref()), (None, Some("morgan")));
    assert_eq!(state.verified_seq, Some(state.head_seq));
    assert_eq!(alex.server_fn("check_audit_chain", &[]).await.status(), 403, "auditors read; admins check");
}

#[tokio::test]
async fn an_export_streams_what_the_filter_holds_is_recorded_and_checks_outside() {
    let app = spawn_app_with_demo().await;
    let alex = app.signed_in("alex").await;
    let get = |query: &'static str| {
        let alex = &alex;
        async move { alex.get(&format!("/audit/export?{query}")).await }
    };
    let all = get("format=jsonl").await;
    assert_eq!(all.status(), 200);
    let rows: i64 = all.headers()["x-audit-rows"].to_str().unwrap().parse().unwrap();
    let body = all.text().await.unwrap();
    assert_eq!(body.lines().count() as i64, rows);
    let report = verify_export(body.as_bytes(), false, None).unwrap();
    assert_eq!((report.broken.as_deref(), report.contiguous, report.span), (None, true, Some((1, rows))));

    // The export is itself a record: who, which filter, how many rows.
    let exports =
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'audit.exported' AND actor = 'user:alex'").await;
    assert_eq!(exports, 1);
    let after: String = sqlx::query_scalar("SELECT after FROM audit_log WHERE action = 'audit.exported'")
        .fetch_one(app.services.pool())
        .await
        .unwrap();
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(after["rows"], json!(rows));

    let filtered = get("format=csv&entity=exception&order=oldest").await;
    assert_eq!(filtered.status(), 200);
    let csv = filtered.text().await.unwrap();
    assert!(csv.starts_with("seq,at,actor,action,entity,entity_id,before,after,reason,prev_hash,hash"));
    let report = verify_export(csv.as_bytes(), true, None).unwrap();
    assert_eq!(report.broken, None, "{report}");
    let (rows, first, last): (i64, i64, i64) =
        sqlx::query_as("SELECT COUNT(*), MIN(id), MAX(id) FROM audit_log WHERE entity = 'exception'")
            .fetch_one(app.services.pool())
            .await
            .unwrap();
    assert_eq!(
        (report.rows as i64, report.span, report.contiguous),
        (rows, Some((first, last)), last - first + 1 == rows)
    );

    // One character changed in a row is found, and named.
    let forged = body.replacen("\"actor\":\"user:sam\"", "\"actor\":\"user:pat\"", 1);
    assert_ne!(forged, body);
    let report = verify_export(forged.as_bytes(), false, None).unwrap();
    assert!(report.broken.as_deref().is_some_and(|b| b.contains("changed after it was written")), "{report}");

    // The command line checks the same file.
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = (dir.path().join("export.jsonl"), dir.path().join("forged.jsonl"));
    std::fs::write(&good, &body).unwrap();
    std::fs::write(&bad, &forged).unwrap();
    let verify = |path: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_crossdock")).args(["audit", "verify", "--file"]).arg(path).output().unwrap()
    };
    let ok = verify(&good);
    assert!(ok.status.success(), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("the range is complete"));
    let refused = verify(&bad);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("changed after it was written"), "{refused:?}");

    assert_eq!(get("format=xml").await.status(), 400);
    assert_eq!(get("format=csv&from=soon").await.status(), 400);
    let pat = app.signed_in("pat").await;
    assert_eq!(pat.get("/audit/export?format=csv").await.status(), 403);
    assert_eq!(app.get("/audit/export?format=csv").await.status(), 401);
}

/// What a record says a field became.
fn became(line: &crossdock::audit::query::AuditLine, path: &str) -> String {
    let change = line.changes.iter().find(|c| c.path == path);
    change.and_then(|c| c.after.clone()).unwrap_or_else(|| panic!("no {path} in {:?}", line.changes))
}

#[tokio::test]
async fn every_accepted_event_leaves_what_it_became_and_why_in_the_trail() {
    let app = spawn_app_with_demo().await;
    let key = app.source("test-wms", "t-wms/", 1000.0, 1000).await;
    let receipt = |id: &str| {
        json!({
            "specversion": "1.0", "id": id, "source": "t-wms/dc-atl", "type": "exception.partial_receipt",
            "time": "2026-11-24T15:42:10Z", "subject": "PO-7701",
            "data": {"site": "DC-ATL", "refs": {"po": "PO-7701", "supplier": "SUP-017"}, "po": "PO-7701", "line": 2,
                     "item": "SKU-20418", "expected_qty": 240, "received_qty": 192}
        })
    };
    for id in ["tr-1", "tr-2"] {
        assert_eq!(app.post_event(&key, &receipt(id)).await.status(), 200);
    }
    let milestone = json!({
        "specversion": "1.0", "id": "tr-3", "source": "t-wms/dc-atl", "type": "receipt.posted",
        "time": "2026-11-24T15:00:00Z",
        "data": {"refs": {"po": "PO-7701"}, "receipt": "RCV-7701", "lines": [{"line": 1, "item": "SKU-1", "qty_received": 50}]}
    });
    assert_eq!(app.post_event(&key, &milestone).await.status(), 200);
    let exception = app.scalar("SELECT id FROM exceptions WHERE summary LIKE '%PO-7701%'").await;
    let routing_version = app.scalar("SELECT MAX(id) FROM config_versions WHERE kind = 'routing'").await;

    let alex = app.signed_in("alex").await;
    let history = page(&alex, &format!("exception={exception}&order=oldest")).await;
    let filed = &history.lines[0];
    assert_eq!(filed.action.as_str(), "exception.filed");
    assert_eq!(filed.actor.to_string(), "source:test-wms");
    assert_eq!(became(filed, "event.id"), "tr-1");
    assert_eq!(became(filed, "routing.rule[0]"), "4", "the rule that matched, by position");
    assert_eq!(became(filed, "routing.rule[1]"), "Partial receipts");
    assert_eq!(became(filed, "routing.routing_version"), routing_version.to_string());
    assert_eq!(became(filed, "routing.queue"), "receiving");
    assert_eq!(became(filed, "routing.sla_policy"), "Warehouse", "the receiving queue's policy");
    assert!(became(filed, "routing.sla_policy_version").parse::<i64>().is_ok());
    assert_eq!(became(filed, "grouping.outcome"), "opened");
    let fingerprint = became(filed, "grouping.fingerprint");
    let reason = filed.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("rule 4") && reason.contains("receiving"), "{reason}");

    let again = &history.lines[1];
    assert_eq!(again.action.as_str(), "exception.recurred");
    assert_eq!(became(again, "event.id"), "tr-2");
    assert_eq!(became(again, "grouping.fingerprint"), fingerprint);
    assert_eq!(became(again, "grouping.outcome"), "occurrence");
    assert_eq!(became(again, "grouping.of"), exception.to_string());

    // The exception's page counts occurrences; its timeline keeps to what people did.
    let sam = app.signed_in("sam").await;
    let detail: crossdock_app::dto::ExceptionDetailView =
        sam.server_fn("exception_detail", &[("id", &exception.to_string())]).await.json().await.unwrap();
    assert!(detail.timeline.iter().all(|t| t.action.as_str() != "exception.recurred"));
    assert_eq!(detail.timeline[0].action.as_str(), "exception.filed");

    let transaction = app.scalar("SELECT transaction_id FROM events WHERE event_id = 'tr-3'").await;
    let events = page(&alex, &format!("entity=transaction&entity_id={transaction}&order=oldest")).await;
    let recorded = events.lines.iter().find(|l| l.action.as_str() == "event.recorded").expect("the milestone");
    assert_eq!(became(recorded, "event.type"), "receipt.posted");
    assert_eq!(app.services.verify_audit_chain(None).await.unwrap().broken, None);
}

#[tokio::test]
async fn a_span_of_days_pages_in_the_order_of_time_and_misses_nothing() {
    let app = spawn_app_with_demo().await;
    let alex = app.signed_in("alex").await;
    let today = chrono::Utc::now().date_naive();
    let span = format!("from={}&to={today}", today - chrono::Duration::days(30));
    let since = (today - chrono::Duration::days(30)).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis();
    let expected = app.scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE at >= {since}")).await;
    for order in ["", "&order=oldest"] {
        let (mut seen, mut after) = (Vec::new(), None::<i64>);
        loop {
            let query = match after {
                Some(a) => format!("{span}{order}&after={a}"),
                None => format!("{span}{order}"),
            };
            let p = page(&alex, &query).await;
            seen.extend(p.lines.iter().map(|l| (l.at, l.seq)));
            match p.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        if order.is_empty() {
            sorted.reverse();
        }
        assert_eq!(seen, sorted, "in the order of time, then record number{order}");
        sorted.dedup();
        assert_eq!(sorted.len() as i64, expected, "each record once{order}");
    }
}
