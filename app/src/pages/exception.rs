//! One exception: its summary, the business context for people, both SLA
//! clocks counting down, occurrences, the original payload, its timeline,
//! and the actions its status allows.
//!
//! Everything the page loads and every timer it starts lives here, above the
//! part that re-renders on a refresh, and stops when the page is left.

use crossdock::audit::query::AuditFilter;
use crossdock::event::Body;
use crossdock::replay::ReplayState;
use crossdock::summary::qty;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::action_form::{ActionFields, ActionForm};
use crate::components::audit_link::AuditLink;
use crate::components::forms::ErrorNotice;
use crate::components::keys::RefChips;
use crate::components::replay_panel::{ReplayForm, ReplayPanel};
use crate::components::sla_clock::{Now, describe};
use crate::components::time::LocalTime;
use crate::components::timeline::Timeline;
use crate::dto::ExceptionDetailView;
use crate::pages::lineage::StageSteps;
use crate::serverfns::exceptions::{assignees, exception_detail};
use crate::serverfns::queues::list_queues;
use crate::serverfns::replays::replay_status;

/// Seconds between refreshes showing others' changes.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(10);
/// Seconds between looks at a replay under way.
const LIVE: std::time::Duration = std::time::Duration::from_secs(2);

#[component]
pub fn ExceptionPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|i| i.parse::<i64>().ok()).unwrap_or(0));
    let refresh = RwSignal::new(0u64);
    let replay_tick = RwSignal::new(0u64);
    let wanted = use_query_map().read_untracked().get("do").unwrap_or_else(|| "comment".to_owned());
    let form = ActionForm::new(ActionFields::new(&wanted));
    let replay_form = ReplayForm::new();
    let detail = Resource::new(move || (id.get(), refresh.get()), |(id, _)| exception_detail(id));
    let replay = Resource::new(move || (id.get(), refresh.get(), replay_tick.get()), |(id, ..)| replay_status(id));
    let people = Resource::new(|| (), |_| assignees());
    let queues = Resource::new(|| (), |_| list_queues());

    // Whether a replay is under way, read in an effect (timers may not read
    // a resource directly while the page hydrates).
    let under_way = RwSignal::new(false);
    Effect::new(move |_| {
        let scheduled = replay.get().and_then(Result::ok).is_some_and(|v| v.state == Some(ReplayState::Scheduled));
        under_way.set(scheduled);
    });
    // Others' changes show up as they are heard and on a timer, unless a
    // note or a correction is being written; a replay under way is followed
    // closely.
    crate::components::live::Changes::on_change(move || {
        if form.fields.text.get_untracked().is_empty() && !replay_form.editing() {
            refresh.update(|r| *r += 1);
        }
    });
    Effect::new(move |_| {
        let every = set_interval_with_handle(
            move || {
                if form.fields.text.get_untracked().is_empty() && !replay_form.editing() {
                    refresh.update(|r| *r += 1);
                }
            },
            REFRESH,
        );
        let live = set_interval_with_handle(
            move || {
                if under_way.get_untracked() && !replay_form.editing() {
                    replay_tick.update(|t| *t += 1);
                }
            },
            LIVE,
        );
        on_cleanup(move || {
            for handle in [every, live].into_iter().flatten() {
                handle.clear();
            }
        });
    });
    // Keyboard: a assign, c comment, e resolve (outside of form fields).
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if crate::components::keys::typing(&ev) {
            return;
        }
        let kind = match ev.key().as_str() {
            "a" => "assign",
            "c" => "comment",
            "e" => "resolve",
            _ => return,
        };
        // The key selects the action; it must not also type into the list
        // it focuses.
        ev.prevent_default();
        form.fields.kind.set(kind.to_owned());
        crate::components::keys::focus("act-kind");
    });
    on_cleanup(move || keys.remove());

    view! {
        <section class="page exception-page">
            <p><a href="/">"← Exceptions"</a></p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || detail.get().map(|answer| match answer {
                    Ok(d) => {
                        let rest = Rest { refresh, form, replay, replay_form, people, queues };
                        view! { <Detail d rest /> }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// What the page keeps across refreshes, handed to the part that re-renders
/// (public for the render benchmark, as is [`Detail`]).
#[derive(Clone, Copy)]
pub struct Rest {
    pub refresh: RwSignal<u64>,
    pub form: ActionForm,
    pub replay: Resource<Result<crate::dto::ReplayView, crate::AppError>>,
    pub replay_form: ReplayForm,
    pub people: Resource<Result<Vec<crate::dto::AssigneeOption>, crate::AppError>>,
    pub queues: Resource<Result<(Vec<crate::dto::QueueEntry>, crate::dto::QueueChoices), crate::AppError>>,
}

/// The part of the page an exception's detail fills, rendered again on
/// each refresh.
#[component]
pub fn Detail(d: ExceptionDetailView, rest: Rest) -> impl IntoView {
    let item = d.item.clone();
    let zone = d.zone.clone();
    let now = Now::get();
    let clock = {
        let zone = zone.clone();
        move |label: &'static str, s: crossdock::sla::SlaSnapshot, paused: Option<chrono::DateTime<chrono::Utc>>| {
            let zone = zone.clone();
            view! {
                <div class="clock">
                    <h3>{label}</h3>
                    {move || {
                        let (state, text) = describe(&s, now.get());
                        view! { <p class=format!("sla sla-{}", state.as_str())><strong>{state.label()}</strong> " " {text}</p> }
                    }}
                    {paused.map(|since| {
                        let zone = zone.clone();
                        view! { <p class="sla-paused">"Paused since " <LocalTime at=since zone /></p> }
                    })}
                    {s.due_at.map(|due| {
                        let zone = zone.clone();
                        view! { <p class="muted">"due " <LocalTime at=due zone /></p> }
                    })}
                </div>
            }
        }
    };
    let holder = item.assignee.clone().map(|a| format!("assigned to {a}")).unwrap_or_else(|| "unassigned".to_owned());
    let policy = match (&d.policy, &d.calendar) {
        (Some(p), Some(c)) => {
            format!("Policy {p}, from when it was opened; counted in the business hours of queue {} ({c}).", item.queue)
        }
        (Some(p), None) => format!("Policy {p}, from when it was opened."),
        _ => String::new(),
    };
    view! {
        <header class="detail-head">
            <h1>{format!("{} · {}", item.id, item.summary)}</h1>
            <p class="meta">
                <span class=format!("severity severity-{}", item.severity.as_str())>{item.severity.label()}</span>
                " · " {item.kind.label()} " · " <span class="status">{item.status.label()}</span>
                " · queue " <strong>{item.queue.clone()}</strong>
                " · " {holder}
                " · site " {item.site.clone()}
            </p>
            <RefChips refs=item.refs.clone() />
        </header>
        <div class="detail-grid">
            <section aria-label="SLA">
                <h2>"SLA"</h2>
                <div class="clocks">{clock("Acknowledge", d.acknowledge, None)}{clock("Resolve", d.resolve, d.waiting_since)}</div>
                <p class="muted">{policy}</p>
            </section>
            <section aria-label="Business context">
                <h2>"Business context"</h2>
                {d.event.as_ref().map(|e| context(&e.data.body)).unwrap_or_else(|| view! { <p class="muted">"The original event is not available."</p> }.into_any())}
                {match d.transaction.clone() {
                    Some(t) => view! {
                        <nav class="transaction-strip" aria-label="Transaction">
                            <p>
                                "Transaction " <code>{t.name.clone()}</code> " · "
                                <a href=format!("/transactions/{}", t.id)>"Open its lineage"</a>
                            </p>
                            {t.progress.map(|progress| view! { <StageSteps progress /> })}
                        </nav>
                    }.into_any(),
                    None => d.correlation_id.clone().map(|c| view! { <p>"Transaction " <code>{c}</code></p> }).into_any(),
                }}
            </section>
            <crate::components::actions_panel::ActionsPanel d=d.clone() refresh=rest.refresh form=rest.form people=rest.people queues=rest.queues />
            {(item.kind == crossdock::ExceptionKind::Integration).then(|| {
                let (id, open) = (item.id.get(), item.status.is_open());
                view! { <ReplayPanel status=rest.replay id open refresh=rest.refresh form=rest.replay_form zone=zone.clone() /> }
            })}
            <section aria-label="Occurrences">
                <h2>{format!("Occurrences ({})", item.occurrences)}</h2>
                <ul class="occurrences">
                    {d.occurrences.iter().map(|o| {
                        let zone = zone.clone();
                        view! { <li><LocalTime at=o.received_at zone /> {format!(" — {} from {}", o.event_id, o.source)}</li> }
                    }).collect_view()}
                </ul>
            </section>
            <section aria-label="Payload">
                <h2>"Original payload"</h2>
                <pre class="json payload">{d.payload.clone()}</pre>
            </section>
            <section aria-label="Timeline">
                <h2>"Timeline"</h2>
                <AuditLink
                    href=format!("/audit?{}", AuditFilter::history_of(item.id.get()).to_query())
                    label="Its whole history in the audit trail"
                />
                <Timeline entries=d.timeline.clone() zone=zone.clone() />
            </section>
        </div>
    }
}

/// The business context of an exception, laid out for people, per type.
fn context(body: &Body) -> AnyView {
    let row = |label: &'static str, value: String| view! { <tr><th scope="row">{label}</th><td>{value}</td></tr> };
    let rows = match body {
        Body::PartialReceipt { po, line, item, expected_qty, received_qty } => vec![
            row("Purchase order", format!("{po} line {line}")),
            row("Item", item.clone()),
            row("Expected", qty(*expected_qty)),
            row("Received", qty(*received_qty)),
            row("Short by", qty(expected_qty - received_qty)),
        ],
        Body::SupplierDateChange { po, line, supplier, previous_date, promised_date } => vec![
            row("Purchase order", line.map_or_else(|| po.clone(), |l| format!("{po} line {l}"))),
            row("Supplier", supplier.clone()),
            row("Previously promised", previous_date.to_string()),
            row("Now promised", promised_date.to_string()),
        ],
        Body::InventoryMismatch { item, erp_qty, wms_qty, bin, lot } => vec![
            row("Item", item.clone()),
            row("ERP quantity", qty(*erp_qty)),
            row("WMS quantity", qty(*wms_qty)),
            row("Difference", qty(erp_qty - wms_qty)),
            row("Bin", bin.clone().unwrap_or_else(|| "—".into())),
            row("Lot", lot.clone().unwrap_or_else(|| "—".into())),
        ],
        Body::Integration(f) => vec![
            row("System", f.system.to_string()),
            row("Operation", f.operation.clone()),
            row("Error", f.error_code.clone()),
            row("Message", f.message.clone()),
            row("HTTP status", f.http_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into())),
            row("Retryable", if f.retryable { "yes".into() } else { "no".into() }),
            row("Attempts so far", f.attempts.map(|a| a.to_string()).unwrap_or_else(|| "—".into())),
        ],
        Body::DuplicateEvent { original_id, duplicate_id, entity } => vec![
            row("Entity", entity.clone()),
            row("Original event", original_id.clone()),
            row("Duplicate event", duplicate_id.clone()),
        ],
        Body::AllocationFailed { order, item, requested_qty, available_qty } => vec![
            row("Order", order.clone()),
            row("Item", item.clone()),
            row("Requested", qty(*requested_qty)),
            row("Available", qty(*available_qty)),
        ],
        Body::InvoiceTriggerFailed { invoice, shipment, order, error_code, message } => vec![
            row("Invoice", invoice.clone().unwrap_or_else(|| "—".into())),
            row("Order", order.clone().unwrap_or_else(|| "—".into())),
            row("Shipment", shipment.clone().unwrap_or_else(|| "—".into())),
            row("Error", error_code.clone()),
            row("Message", message.clone()),
        ],
        _ => Vec::new(),
    };
    view! { <table class="context"><tbody>{rows.into_iter().collect_view()}</tbody></table> }.into_any()
}
