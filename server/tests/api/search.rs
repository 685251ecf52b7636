//! Word search through the full-text index: it follows every change that
//! writes words (ingest, comment, resolution), survives a restart, and finds
//! exactly what the plain rule of [`Words::finds`] finds, in the view's order.

use crossdock::search::Words;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, spawn_app_with_demo};
use crate::views::all_pages;

fn receipt(i: usize, item: &str, supplier: &str) -> Value {
    let site = ["DC-ATL", "DC-DAL"][i % 2];
    let severity = ["low", "medium", "high", "critical"][i % 4];
    // A third are received at a dock whose name is beyond ASCII.
    let dock = ["Nord", "Süd", "Ost"][i % 3];
    json!({"specversion": "1.0", "id": format!("w-{i}"), "source": "t-wms/x",
        "type": "exception.partial_receipt", "time": "2026-11-24T15:42:10Z",
        "data": {"site": site, "po": format!("PO-W{i:05}"), "line": 1 + i % 5,
            "item": item, "expected_qty": 10, "received_qty": i % 10,
            "severity": severity, "refs": {"supplier": supplier}, "dock": dock}})
}

async fn act(app: &TestApp, who: &Browser, id: i64, action: Value) {
    let version = app.scalar(&format!("SELECT version FROM exceptions WHERE id = {id}")).await;
    let r = who.server_fn_json("act", &json!({"id": id, "seen": version, "action": action})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
}

/// `q=<words>`, encoded.
fn q(words: &str) -> String {
    let url = reqwest::Url::parse_with_params("http://x/", [("q", words)]).expect("a url");
    url.query().unwrap_or_default().to_owned()
}

/// What a search for `words` over every status shows.
async fn found(who: &Browser, words: &str) -> Vec<i64> {
    all_pages(who, &format!("{}&status=any", q(words))).await
}

#[tokio::test]
async fn word_search_follows_each_change_that_writes_words_and_a_restart() {
    let app = spawn_app_with_demo().await;
    let key = app.source("words-wms", "t-wms/", 1_000.0, 1_000).await;
    let r = app.post_event(&key, &receipt(1, "SKU-93418", "SUP-W1")).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let id = r.json::<Value>().await.expect("json")["exception_id"].as_i64().expect("an exception");
    let sam = app.signed_in("sam").await;

    // Filed: the item typed in part, and the supplier of its business context.
    assert_eq!(found(&sam, "SKU-934").await, [id]);
    assert_eq!(found(&sam, "sup-w1").await, [id]);
    assert_eq!(found(&sam, "SKU-935").await, Vec::<i64>::new());
    assert_eq!(found(&sam, "tarpaulin").await, Vec::<i64>::new());

    // What the server wrote on the trail (how it routed the event) is no
    // word of the exception.
    assert!(found(&sam, "routed").await.is_empty());

    act(&app, &sam, id, json!({"kind": "claim"})).await;
    act(&app, &sam, id, json!({"kind": "comment", "text": "Tarpaulin torn on arrival, photos taken"})).await;
    assert_eq!(found(&sam, "tarpaulin tor").await, [id]);
    assert_eq!(found(&sam, "SKU-93418 photos").await, [id], "words of the filing and of a note together");
    act(&app, &sam, id, json!({"kind": "comment", "text": "Lieferschein für Köln fehlt"})).await;
    assert_eq!(found(&sam, "KÖLN lieferschein").await, [id], "letters beyond ASCII, in any case");
    act(
        &app,
        &sam,
        id,
        json!({"kind": "assign", "assignee": "pat", "queue": null, "reason": "Yard check by the gatehouse"}),
    )
    .await;
    assert_eq!(found(&sam, "gatehouse").await, [id], "the reason of a reassignment");

    act(&app, &sam, id, json!({"kind": "status", "action": "resolve", "code": "corrected", "note": "Carrier credit issued, ref CC-88120"}))
        .await;
    assert_eq!(found(&sam, "carrier credit CC-8812").await, [id]);
    // A closed exception is out of the open view, found in every status.
    assert_eq!(all_pages(&sam, "q=CC-8812").await, Vec::<i64>::new());
    // Text with nothing to look for finds nothing.
    assert_eq!(found(&sam, "-- %").await, Vec::<i64>::new());

    let app = app.restart(|_| {}).await;
    let sam = app.signed_in("sam").await;
    for words in ["SKU-934", "tarpaulin tor", "köln", "gatehouse", "CC-8812"] {
        assert_eq!(found(&sam, words).await, [id], "{words} after a restart");
    }
}

/// One exception as the plain rule reads it.
struct Plain {
    id: i64,
    open: bool,
    sla_sort: i64,
    /// Its own words (summary, then the values of its business keys and
    /// payload), then what people wrote on its trail.
    text: String,
}

/// The values of a JSON document (strings and numbers), as text.
fn json_values(doc: &str) -> String {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(fields) => fields.values().for_each(|f| walk(f, out)),
            Value::Bool(_) | Value::Null => {}
        }
    }
    let mut out = Vec::new();
    walk(&serde_json::from_str(doc).unwrap_or(Value::Null), &mut out);
    out.join(" ")
}

/// Every exception's words as the index holds them, by the plain rule.
async fn plain_texts(app: &TestApp) -> Vec<Plain> {
    let rows: Vec<(i64, i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT id, CASE WHEN status IN ('new', 'acknowledged', 'in_progress', 'waiting') THEN 1 ELSE 0 END, sla_sort, \
         summary, refs, COALESCE(corrected_payload, payload) FROM exceptions ORDER BY id",
    )
    .fetch_all(app.services.pool())
    .await
    .expect("the exceptions");
    let mut out = Vec::new();
    for (id, open, sla_sort, summary, refs, payload) in rows {
        let own: String =
            format!("{summary} {} {}", json_values(&refs), json_values(&payload)).chars().take(16_000).collect();
        let trail: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT actor, action, reason, after FROM audit_log WHERE entity = 'exception' AND entity_id = $1 ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(app.services.pool())
        .await
        .expect("the trail");
        let notes: Vec<String> = trail
            .into_iter()
            .filter(|(actor, ..)| actor.starts_with("user:"))
            .flat_map(|(_, action, reason, after)| {
                let comment = (action == "exception.commented")
                    .then(|| after.and_then(|a| serde_json::from_str::<Value>(&a).ok()))
                    .flatten()
                    .and_then(|a| a["comment"].as_str().map(str::to_owned));
                reason.into_iter().chain(comment)
            })
            .collect();
        out.push(Plain { id, open: open == 1, sla_sort, text: format!("{own} {}", notes.join(" ")) });
    }
    out
}

#[tokio::test]
async fn word_search_shows_what_the_plain_rule_finds_in_the_same_order() {
    let app = spawn_app_with_demo().await;
    let key = app.source("words-wms", "t-wms/", 100_000.0, 100_000).await;
    // 2,000 receipts over a few hundred items and seven suppliers.
    for batch in 0..10 {
        let events: Vec<Value> = (0..200)
            .map(|j| {
                let i = batch * 200 + j;
                receipt(i, &format!("SKU-{}", 20_000 + (i * 37) % 600), &format!("SUP-W{}", i % 7))
            })
            .collect();
        let r =
            app.post_events(Some(&key), "application/cloudevents-batch+json", Value::Array(events).to_string()).await;
        assert_eq!(r.status(), 200);
    }
    // Notes on some, and some closed with a note.
    let sam = app.signed_in("sam").await;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM exceptions WHERE summary LIKE '%PO-W%' AND assignee IS NULL ORDER BY id LIMIT 60",
    )
    .fetch_all(app.services.pool())
    .await
    .expect("ids");
    for (n, id) in ids.iter().enumerate() {
        act(&app, &sam, *id, json!({"kind": "claim"})).await;
        act(&app, &sam, *id, json!({"kind": "comment", "text": format!("pallet {n} wrapped again")})).await;
        if n % 3 == 0 {
            act(
                &app,
                &sam,
                *id,
                json!({"kind": "status", "action": "resolve", "code": "corrected", "note": "counted twice"}),
            )
            .await;
        }
    }

    let texts = plain_texts(&app).await;
    // A rare prefix (spelled out into the few item numbers it begins), a
    // prefix of a thousand order numbers (asked as a prefix), a common word
    // (found in most: read in order and looked up row by row), a word of the
    // notes, two words, a short last token (itself only), a supplier in part.
    for words in [
        "SKU-2041",
        "SKU-205",
        "PO-W00",
        "short",
        "line 3",
        "pallet 1",
        "counted twice",
        "sup-w3",
        "PO-W0012",
        "zzz",
        "süd short",
        "SHORT line",
    ] {
        let parsed = Words::parse(words).expect("words");
        for (status, open_only) in [("", true), ("&status=any", false)] {
            let query = format!("{}{status}", q(words));
            let shown = all_pages(&sam, &query).await;
            let mut expected: Vec<(i64, i64)> = texts
                .iter()
                .filter(|p| (!open_only || p.open) && parsed.finds(&p.text))
                .map(|p| (p.sla_sort, p.id))
                .collect();
            expected.sort();
            let expected: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();
            assert_eq!(shown, expected, "{query}");
        }
    }
    // The common word is common indeed, and the rare prefix rare.
    let count = |words: &str| texts.iter().filter(|p| Words::parse(words).expect("words").finds(&p.text)).count();
    assert!(count("short") > 1_000, "short: {}", count("short"));
    assert!((1..50).contains(&count("SKU-2041")), "SKU-2041: {}", count("SKU-2041"));
}
