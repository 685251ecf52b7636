//! Server-side rendering of the queue page's table (50 exceptions) and of
//! an exception's detail, as the server renders them into the HTML of their
//! pages. Prints criterion's figures (the median is the p50); not a timed
//! test.
//!
//!     cargo bench -p crossdock-app --features ssr --bench render

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crossdock::accounts::Density;
use crossdock::exception::ExceptionListItem;
use crossdock_app::components::action_form::{ActionFields, ActionForm};
use crossdock_app::components::auth::Auth;
use crossdock_app::components::replay_panel::ReplayForm;
use crossdock_app::components::sla_clock::Now;
use crossdock_app::dto::ExceptionDetailView;
use crossdock_app::pages::exception::{Detail, Rest};
use crossdock_app::pages::queue::ExceptionRows;
use leptos::prelude::*;

const KINDS: [&str; 4] = [
    "exception.partial_receipt",
    "exception.integration",
    "exception.inventory_mismatch",
    "exception.allocation_failed",
];
const STATUSES: [&str; 4] = ["new", "acknowledged", "in_progress", "waiting"];
const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];
const SITES: [&str; 3] = ["DC-DAL", "DC-RNO", "DC-ATL"];
const QUEUES: [&str; 3] = ["receiving", "purchasing", "inventory-control"];

/// A page of 50 exceptions such as a busy queue holds: business keys,
/// assignees on most, a replay under way on some.
fn page() -> Vec<ExceptionListItem> {
    (0..50)
        .map(|i| {
            let item = serde_json::json!({
                "id": 900_000 + i,
                "kind": KINDS[i % 4],
                "status": STATUSES[i % 4],
                "severity": SEVERITIES[i % 4],
                "site": SITES[i % 3],
                "queue": QUEUES[i % 3],
                "summary": format!("Receipt short on PO-{} line {}: 40 of 48 cases of SKU-{} received", 51_000 + i, i % 9 + 1, 20_400 + i),
                "refs": { "po": format!("PO-{}", 51_000 + i), "asn": format!("ASN-{}", 55_000 + i), "item": format!("SKU-{}", 20_400 + i), "supplier": "SUP-017" },
                "created_at": "2026-12-04T07:12:00Z",
                "updated_at": "2026-12-04T08:40:00Z",
                "assignee": if i % 5 == 0 { serde_json::Value::Null } else { serde_json::json!("sam") },
                "occurrences": 1 + i % 3,
                "version": 3,
                "sla": { "frozen": null, "due_at": "2026-12-04T15:00:00Z", "at_risk_at": "2026-12-04T13:00:00Z" },
                "replay": if i % 7 == 0 { serde_json::json!("scheduled") } else { serde_json::Value::Null },
            });
            serde_json::from_value(item).expect("a list item as the server sends it")
        })
        .collect()
}

fn render(items: Vec<ExceptionListItem>) -> String {
    let owner = Owner::new();
    owner.with(|| {
        let selected = RwSignal::new(BTreeSet::new());
        let focused = RwSignal::new(None);
        let may_work = Signal::derive(|| true);
        let zones = Memo::new(|_| {
            BTreeMap::from([
                ("DC-DAL".to_owned(), "America/Chicago".to_owned()),
                ("DC-RNO".to_owned(), "America/Los_Angeles".to_owned()),
                ("DC-ATL".to_owned(), "America/New_York".to_owned()),
            ])
        });
        let density = Signal::derive(|| Density::Compact);
        view! { <ExceptionRows items selected focused may_work zones density /> }.to_html()
    })
}

/// The detail of an integration failure as the server sends it: its
/// business context, both clocks, its transaction, its payload and a
/// timeline of four entries (`detail.json`, read from the demo console).
fn detail() -> ExceptionDetailView {
    serde_json::from_str(include_str!("detail.json")).expect("a detail as the server sends it")
}

/// What the exception page keeps across refreshes (the signed-in person,
/// the clock, the forms, and the lists the forms offer, still loading as on
/// the first render), made once under `page` as the page makes it.
fn page_state(page: &Owner) -> Rest {
    page.with(|| {
        Auth::provide();
        Now::provide();
        Rest {
            refresh: RwSignal::new(0),
            form: ActionForm::new(ActionFields::new("comment")),
            replay: Resource::new(|| (), |_| std::future::pending()),
            replay_form: ReplayForm::new(),
            people: Resource::new(|| (), |_| std::future::pending()),
            queues: Resource::new(|| (), |_| std::future::pending()),
        }
    })
}

/// The detail part of the exception page, as each refresh renders it anew
/// under the page.
fn render_detail(page: &Owner, rest: Rest, d: ExceptionDetailView) -> String {
    page.child().with(|| view! { <Detail d rest /> }.to_html())
}

fn bench(c: &mut Criterion) {
    let items = page();
    let html = render(items.clone());
    assert!(html.matches("<tr").count() == 51, "the table renders a header and 50 rows");
    c.bench_function("queue page table, 50 rows", |b| b.iter(|| black_box(render(black_box(items.clone())))));

    // Resources hand their work to the executor the server runs; here it
    // is never driven, so the lists the forms offer stay loading.
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let _inside = runtime.enter();
    any_spawner::Executor::init_tokio().expect("the executor starts once");
    let d = detail();
    let page = Owner::new();
    let rest = page_state(&page);
    let html = render_detail(&page, rest, d.clone());
    for part in ["Business context", "Timeline", "Original payload", "Occurrences (1)", "Replay"] {
        assert!(html.contains(part), "the detail shows {part}");
    }
    c.bench_function("exception detail", |b| b.iter(|| black_box(render_detail(&page, rest, black_box(d.clone())))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
