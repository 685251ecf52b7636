//! The SLA board: its counts agree with the queue views its cells open, its
//! states follow the clock, and its read-only links show counts to screens
//! until revoked.

use chrono::{DateTime, Duration, Utc};
use crossdock::audit::AuditAction;
use crossdock::board::{Board, BoardColumn, BoardGrouping, OpenTally};
use crossdock_app::dto::{BoardLinkEntry, WallBoard};
use crossdock_server::store;
use serde_json::json;

use crate::helpers::{Browser, TestApp, spawn_app_with_demo, spawn_quiet_demo};

async fn board(b: &Browser, grouping: &str) -> Board {
    let r = b.server_fn("board", &[("grouping", grouping)]).await;
    assert_eq!(r.status(), 200, "{grouping}: {:?}", r.text().await);
    r.json().await.unwrap()
}

async fn view_count(b: &Browser, query: &str) -> i64 {
    let r = b.server_fn_json("bulk_preview", &json!({"target": {"target": "view", "query": query}})).await;
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

async fn act(b: &Browser, id: i64, seen: i64, action: serde_json::Value) -> reqwest::Response {
    b.server_fn_json("act", &json!({"id": id, "seen": seen, "action": action})).await
}

#[tokio::test]
async fn every_count_on_the_board_is_what_the_view_its_cell_opens_holds() {
    let app = spawn_app_with_demo().await;
    let sam = app.signed_in("sam").await;
    for grouping in ["queue", "site", "assignee"] {
        let board = board(&sam, grouping).await;
        assert!(!board.rows.is_empty(), "{grouping}");
        let open: i64 = board.rows.iter().map(|r| r.open).sum();
        let all_open = app
            .scalar("SELECT COUNT(*) FROM exceptions WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting')")
            .await;
        assert_eq!(open, all_open, "{grouping}: every open exception is on one row");
        for row in &board.rows {
            for column in BoardColumn::ALL.iter().filter(|c| c.is_count()) {
                let value = row.value(*column, board.at).unwrap();
                let Some(filter) = board.cell_filter(row, *column) else {
                    assert_eq!(value, 0, "{grouping} {:?} {column}", row.key);
                    continue;
                };
                let query = filter.to_query();
                assert_eq!(view_count(&sam, &query).await, value, "{grouping} {:?} {column}: /?{query}", row.key);
            }
        }
    }
}

#[tokio::test]
async fn the_board_counts_todays_work_and_the_weeks_medians_as_people_do_it() {
    let app = spawn_app_with_demo().await;
    let sam = app.signed_in("sam").await;
    let before = board(&sam, "queue").await;
    let row = |b: &Board| b.rows.iter().find(|r| r.key.as_deref() == Some("receiving")).cloned().unwrap();
    let id: i64 =
        app.scalar("SELECT id FROM exceptions WHERE queue = 'receiving' AND status = 'new' ORDER BY id LIMIT 1").await;
    let version = app.scalar(&format!("SELECT version FROM exceptions WHERE id = {id}")).await;
    let r = act(&sam, id, version, json!({"kind": "status", "action": "acknowledge"})).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let r = act(
        &sam,
        id,
        version + 1,
        json!({"kind": "status", "action": "resolve", "code": "corrected", "note": "Counted again"}),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    let after = board(&sam, "queue").await;
    let changed = after.changes_from(&before);
    assert!(changed.contains(&(Some("receiving".into()), BoardColumn::ResolvedToday)), "{changed:?}");
    assert_eq!(row(&after).resolved_today, row(&before).resolved_today + 1);
    assert_eq!(row(&after).open, row(&before).open - 1);
    // The week's medians are read again at most once a minute: a server
    // started now reads them afresh.
    let fresh = app.restarted_services().await.board_at(BoardGrouping::Queue, app.services.now()).await.unwrap();
    assert!(row(&fresh).median_ack_seconds.is_some() && row(&fresh).median_resolve_seconds.is_some());
    let (acked, closed) = (
        app.scalar(&format!("SELECT acknowledged_at IS NOT NULL AND ack_seconds >= 0 FROM exceptions WHERE id = {id}"))
            .await,
        app.scalar(&format!("SELECT closed_at IS NOT NULL AND resolve_seconds >= 0 FROM exceptions WHERE id = {id}"))
            .await,
    );
    assert_eq!((acked, closed), (1, 1), "the board's instants and business times are kept");

    let reopen =
        act(&sam, id, version + 2, json!({"kind": "status", "action": "reopen", "reason": "Short again"})).await;
    assert_eq!(reopen.status(), 200, "{:?}", reopen.text().await);
    assert_eq!(
        row(&board(&sam, "queue").await).resolved_today,
        row(&before).resolved_today,
        "a reopened one is not resolved"
    );
}

#[tokio::test]
async fn cells_move_from_at_risk_to_breached_as_time_passes() {
    let app = spawn_app_with_demo().await;
    let now = app.services.now();
    let at_risk: i64 = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM exceptions WHERE status IN ('new', 'acknowledged', 'in_progress') \
             AND sla_frozen IS NULL AND sla_risk_at <= {0} AND sla_due_at > {0}",
            now.timestamp_millis()
        ))
        .await;
    assert!(at_risk > 0, "the demo has work at risk");
    let earlier = app.services.board_at(BoardGrouping::Queue, now).await.unwrap();
    let later = app.services.board_at(BoardGrouping::Queue, now + chrono::Duration::days(10)).await.unwrap();
    let sum = |b: &Board, f: fn(&crossdock::board::BoardRow) -> i64| b.rows.iter().map(f).sum::<i64>();
    assert_eq!(sum(&earlier, |r| r.at_risk), at_risk);
    assert_eq!(sum(&later, |r| r.at_risk), 0, "ten days on, nothing is merely at risk");
    assert_eq!(sum(&later, |r| r.breached), sum(&earlier, |r| r.breached + r.at_risk + r.on_track));
    assert!(later.rows.iter().filter(|r| r.breached > 0).all(|r| r.oldest_breach.is_some()));
}

#[tokio::test]
async fn only_supervisors_admins_and_auditors_see_the_board() {
    let app = spawn_app_with_demo().await;
    for (who, status) in [("pat", 403), ("sam", 200), ("alex", 200), ("morgan", 200)] {
        let b = app.signed_in(who).await;
        assert_eq!(b.server_fn("board", &[("grouping", "queue")]).await.status(), status, "{who}");
    }
    assert_eq!(app.browser().server_fn("board", &[("grouping", "queue")]).await.status(), 401);
    let alex = app.signed_in("alex").await;
    let r = alex.server_fn("create_board_link", &[("name", "Dock 3"), ("grouping", "queue")]).await;
    assert_eq!(r.status(), 403, "auditors change nothing");
    let page = alex.get("/board").await;
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn a_screen_link_shows_counts_without_a_session_until_it_is_revoked() {
    let app = spawn_app_with_demo().await;
    let morgan = app.signed_in("morgan").await;
    let blank = morgan.server_fn("create_board_link", &[("name", "  "), ("grouping", "site")]).await;
    assert_eq!(blank.status(), 400);
    let r = morgan.server_fn("create_board_link", &[("name", "Dock 3 wall"), ("grouping", "site")]).await;
    assert_eq!(r.status(), 200);
    let token: String = r.json().await.unwrap();

    let screen = app.browser();
    let shown = screen.server_fn("wall_board", &[("token", &token)]).await;
    assert_eq!(shown.status(), 200);
    let wall: WallBoard = shown.json().await.unwrap();
    assert_eq!((wall.name.as_str(), wall.board.grouping), ("Dock 3 wall", BoardGrouping::Site));
    let html = screen.get(&format!("/wall/{token}")).await.text().await.unwrap();
    assert!(html.contains("Dock 3 wall") && html.contains("Atlanta DC"), "the page renders on the server");
    assert!(!html.contains("PO-"), "no exception contents reach the screen");
    let wrong = screen.server_fn("wall_board", &[("token", "cdb_nothing")]).await;
    assert_eq!(wrong.status(), 404);

    let links: Vec<BoardLinkEntry> = morgan.server_fn("board_links", &[]).await.json().await.unwrap();
    assert_eq!(links.len(), 1);
    assert!(!serde_json::to_string(&links).unwrap().contains(&token), "the token is shown once only");
    let id = links[0].id.to_string();
    assert_eq!(morgan.server_fn("revoke_board_link", &[("id", &id)]).await.status(), 200);
    assert_eq!(morgan.server_fn("revoke_board_link", &[("id", &id)]).await.status(), 409);
    assert_eq!(screen.server_fn("wall_board", &[("token", &token)]).await.status(), 404);
    let html = screen.get(&format!("/wall/{token}")).await.text().await.unwrap();
    assert!(html.contains("not valid"));

    let actions = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'board_link' AND action IN ('{}', '{}')",
            AuditAction::BoardLinkCreated,
            AuditAction::BoardLinkRevoked
        ))
        .await;
    assert_eq!(actions, 2, "creating and revoking are audited");
}

/// The open exceptions per queue, site and person read the slow way: every
/// open row, classified at `now`.
async fn scanned_tallies(app: &TestApp, now: DateTime<Utc>) -> Vec<OpenTally> {
    type Row = (String, String, Option<String>, i64, i64, i64, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT queue, site, assignee, COUNT(*), \
           COUNT(CASE WHEN sla_frozen IS NULL AND sla_sort < 9007199254740991 AND sla_risk_at > {now} THEN 1 END), \
           COUNT(CASE WHEN sla_frozen IS NULL AND sla_sort > {now} AND sla_risk_at <= {now} THEN 1 END), \
           COUNT(CASE WHEN (sla_frozen IS NULL AND sla_sort <= {now}) OR sla_frozen = 'breached' THEN 1 END), \
           COUNT(CASE WHEN sla_frozen = 'paused' THEN 1 END), COUNT(CASE WHEN status = 'waiting' THEN 1 END) \
         FROM exceptions WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting') \
         GROUP BY queue, site, assignee ORDER BY queue, site, COALESCE(assignee, '')",
        now = now.timestamp_millis()
    ))
    .fetch_all(app.services.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(queue, site, assignee, open, on_track, at_risk, breached, paused, waiting)| OpenTally {
            queue,
            site,
            assignee,
            open,
            on_track,
            at_risk,
            breached,
            paused,
            waiting,
        })
        .collect()
}

/// The earliest breach per board row, read the slow way.
async fn scanned_earliest(app: &TestApp, grouping: BoardGrouping, now: DateTime<Utc>) -> Vec<(Option<String>, i64)> {
    let column = match grouping {
        BoardGrouping::Queue => "queue",
        BoardGrouping::Site => "site",
        BoardGrouping::Assignee => "assignee",
    };
    sqlx::query_as(&format!(
        "SELECT {column}, MIN(sla_sort) FROM exceptions \
         WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting') AND sla_frozen IS NULL \
           AND sla_sort <= {} GROUP BY {column} ORDER BY COALESCE({column}, '')",
        now.timestamp_millis()
    ))
    .fetch_all(app.services.pool())
    .await
    .unwrap()
}

async fn kept_tallies(app: &TestApp, now: DateTime<Utc>) -> Vec<OpenTally> {
    let (mut tallies, _) = store::board::open_tallies(app.services.pool(), now).await.unwrap();
    tallies.sort_by(|a, b| (&a.queue, &a.site, &a.assignee).cmp(&(&b.queue, &b.site, &b.assignee)));
    tallies
}

#[tokio::test]
async fn the_kept_tallies_agree_with_a_scan_through_every_kind_of_change_and_instant() {
    // No sweep files work between a scan and the read it is compared with.
    let app = spawn_quiet_demo(|c| c.replay_workers = 0).await;
    let key = app.source("tallywms", "t-wms/", 100_000.0, 100_000).await;
    let sites = ["DC-ATL", "DC-DAL", "DC-RNO"];
    for batch in 0..4 {
        let events: Vec<serde_json::Value> = (0..500)
            .map(|i| {
                let n = batch * 500 + i;
                let site = sites[n % 3];
                // Spread over three days, so clocks stand in every state.
                let time = (Utc::now() - Duration::minutes(n as i64 * 2)).to_rfc3339();
                if n % 4 == 0 {
                    json!({"specversion": "1.0", "id": format!("t-{n}"), "source": "t-wms/x", "type": "exception.integration",
                        "time": time, "data": {"site": site, "refs": {"shipment": format!("SH-{n}")}, "system": "carrier",
                            "operation": "tms.create_shipment", "error_code": "timeout", "message": "no answer",
                            "retryable": true, "payload": {"n": n}}})
                } else {
                    json!({"specversion": "1.0", "id": format!("t-{n}"), "source": "t-wms/x", "type": "exception.partial_receipt",
                        "time": time, "data": {"site": site, "po": format!("PO-7{n:04}"), "line": 1, "item": "SKU-1",
                            "expected_qty": 10, "received_qty": 4}})
                }
            })
            .collect();
        let r = app
            .post_events(Some(&key), "application/cloudevents-batch+json", serde_json::Value::Array(events).to_string())
            .await;
        let answer = r.text().await.unwrap();
        assert!(answer.contains(r#""rejected":0"#), "{answer}");
    }
    let open = app
        .scalar("SELECT COUNT(*) FROM exceptions WHERE status IN ('new', 'acknowledged', 'in_progress', 'waiting')")
        .await;
    assert!(open > 2000, "{open} open");

    let sam = app.signed_in("sam").await;
    let actions = [
        json!({"kind": "claim"}),
        json!({"kind": "assign", "assignee": "pat", "queue": "inventory-control", "reason": "counted there"}),
        json!({"kind": "assign", "assignee": null, "queue": null, "reason": "back to the queue"}),
        json!({"kind": "status", "action": "acknowledge"}),
        json!({"kind": "status", "action": "start"}),
        json!({"kind": "status", "action": "wait", "party": "supplier", "reason": "asked for the rest"}),
        json!({"kind": "status", "action": "resume"}),
        json!({"kind": "status", "action": "resolve", "code": "corrected", "note": "received the rest"}),
        json!({"kind": "status", "action": "dismiss", "reason": "seen twice"}),
        json!({"kind": "status", "action": "reopen", "reason": "short again"}),
    ];
    let mut rng = 0x2545_f491_u64;
    let mut next = move |below: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % below
    };
    let base = app.services.now();
    let mut changed = 0;
    let mut seen = std::collections::BTreeMap::new();
    for round in 0..6 {
        for _ in 0..40 {
            let id = app
                .scalar(&format!("SELECT id FROM exceptions ORDER BY id LIMIT 1 OFFSET {}", next(open as u64)))
                .await;
            let version = app.scalar(&format!("SELECT version FROM exceptions WHERE id = {id}")).await;
            let action = actions[next(actions.len() as u64) as usize].clone();
            if act(&sam, id, version, action).await.status() == 200 {
                changed += 1;
            }
        }
        // Read at instants on both sides of the tally clock, then move it.
        for hours in [0, 1, 5, 30, 24 * 9, -3, -48] {
            let at = base + Duration::hours(hours) + Duration::minutes(round * 17);
            let scanned = scanned_tallies(&app, at).await;
            for (state, n) in crossdock::triage::QueueCounts::of(&scanned).by_sla {
                seen.insert(state, n);
            }
            assert_eq!(kept_tallies(&app, at).await, scanned, "round {round}, {hours} h");
            for grouping in BoardGrouping::ALL {
                let kept: Vec<(Option<String>, i64)> =
                    store::board::earliest_breaches(app.services.pool(), *grouping, at)
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|(k, due)| (k, due.timestamp_millis()))
                        .collect();
                assert_eq!(kept, scanned_earliest(&app, *grouping, at).await, "round {round}, {hours} h, {grouping}");
            }
        }
        store::board::advance_tally_clock(app.services.pool(), base + Duration::hours(round * 7)).await.unwrap();
    }
    assert!(changed > 100, "{changed} changes went through");
    assert_eq!(seen.len(), 4, "every SLA state was compared: {seen:?}");
    // The queue view's counts are the tallies in reach.
    let now = app.services.now();
    let scanned = scanned_tallies(&app, now).await;
    let counts = crossdock::triage::QueueCounts::of(&scanned);
    let r = sam.server_fn("queue_counts", &[]).await;
    let served: crossdock::triage::QueueCounts = r.json().await.unwrap();
    assert_eq!(served.by_sla, counts.by_sla);
    for (queue, n) in &counts.by_queue {
        assert!(served.by_queue.contains(&(queue.clone(), *n)), "{queue}: {n} in {:?}", served.by_queue);
    }
}
