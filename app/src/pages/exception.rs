//! One exception: its summary, the business context for people, both SLA
//! clocks counting down, occurrences, the original payload, its timeline,
//! and the actions its status allows.

use crossdock::accounts::Permission;
use crossdock::event::Body;
use crossdock::summary::qty;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::AppError;
use crate::components::action_form::{ActionFields, ActionFieldsView};
use crate::components::auth::Auth;
use crate::components::forms::{ErrorNotice, FormError};
use crate::components::replay_panel::{ReplayForm, ReplayPanel};
use crate::components::sla_clock::{Now, describe};
use crossdock::audit::TimelineEntry;

use crate::dto::ExceptionDetailView;
use crate::serverfns::exceptions::{act, assignees, exception_detail};
use crate::serverfns::queues::list_queues;

#[component]
pub fn ExceptionPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|i| i.parse::<i64>().ok()).unwrap_or(0));
    let refresh = RwSignal::new(0u64);
    // The action form lives here so that a refresh keeps what was typed and
    // the last answer.
    let wanted = use_query_map().read_untracked().get("do").unwrap_or_else(|| "comment".to_owned());
    let form = ActionForm { fields: ActionFields::new(&wanted), error: RwSignal::new(None), done: RwSignal::new(None) };
    let replay_form = ReplayForm::new();
    Effect::new(move |_| {
        let _ = set_interval_with_handle(
            move || {
                // Others' changes show up, unless a note is being written.
                if form.fields.text.get_untracked().is_empty() && !replay_form.editing() {
                    refresh.update(|r| *r += 1)
                }
            },
            std::time::Duration::from_secs(10),
        );
    });
    let detail = Resource::new(move || (id.get(), refresh.get()), |(id, _)| exception_detail(id));
    view! {
        <section class="page exception-page">
            <p><a href="/">"← Exceptions"</a></p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || detail.get().map(|answer| match answer {
                    Ok(d) => view! { <Detail d refresh form replay_form /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// The state of the action form, kept across refreshes.
#[derive(Clone, Copy)]
struct ActionForm {
    fields: ActionFields,
    error: RwSignal<Option<AppError>>,
    done: RwSignal<Option<String>>,
}

#[component]
fn Detail(d: ExceptionDetailView, refresh: RwSignal<u64>, form: ActionForm, replay_form: ReplayForm) -> impl IntoView {
    let item = d.item.clone();
    let now = Now::get();
    let clock = move |label: &'static str, s: crossdock::sla::SlaSnapshot| {
        view! {
            <div class="clock">
                <h3>{label}</h3>
                {move || {
                    let (state, text) = describe(&s, now.get());
                    view! { <p class=format!("sla sla-{}", state.as_str())><strong>{state.label()}</strong> " " {text}</p> }
                }}
                {s.due_at.map(|d| view! { <p class="muted">{format!("due {}", d.format("%Y-%m-%d %H:%M UTC"))}</p> })}
            </div>
        }
    };
    let keys = item
        .refs
        .iter()
        .map(|(k, v)| view! { <span class="ref"><span class="ref-kind">{k.label()}</span> " " {v.to_owned()}</span> })
        .collect_view();
    view! {
        <header class="detail-head">
            <h1>{format!("{} · {}", item.id, item.summary)}</h1>
            <p class="meta">
                <span class=format!("severity severity-{}", item.severity.as_str())>{item.severity.label()}</span>
                " · " {item.kind.label()} " · " <span class="status">{item.status.label()}</span>
                " · queue " <strong>{item.queue.clone()}</strong>
                " · " {item.assignee.clone().map(|a| format!("assigned to {a}")).unwrap_or_else(|| "unassigned".to_owned())}
                " · site " {item.site.clone()}
            </p>
            <p class="refs">{keys}</p>
        </header>
        <div class="detail-grid">
            <section aria-label="SLA">
                <h2>"SLA"</h2>
                <div class="clocks">{clock("Acknowledge", d.acknowledge)}{clock("Resolve", d.resolve)}</div>
                <p class="muted">{d.policy.clone().map(|p| format!("Policy {p}, kept from when it was opened")).unwrap_or_default()}</p>
            </section>
            <section aria-label="Business context">
                <h2>"Business context"</h2>
                {d.event.as_ref().map(|e| context(&e.data.body)).unwrap_or_else(|| view! { <p class="muted">"The original event is not available."</p> }.into_any())}
                {d.correlation_id.clone().map(|c| view! { <p>"Transaction " <code>{c}</code></p> })}
            </section>
            <Actions d=d.clone() refresh form />
            {(item.kind == crossdock::ExceptionKind::Integration).then(|| {
                let (id, open) = (item.id.get(), item.status.is_open());
                view! { <ReplayPanel id open refresh form=replay_form /> }
            })}
            <section aria-label="Occurrences">
                <h2>{format!("Occurrences ({})", item.occurrences)}</h2>
                <ul class="occurrences">
                    {d.occurrences.iter().map(|o| view! {
                        <li>{format!("{} — {} from {}", o.received_at.format("%Y-%m-%d %H:%M:%S"), o.event_id, o.source)}</li>
                    }).collect_view()}
                </ul>
            </section>
            <section aria-label="Payload">
                <h2>"Original payload"</h2>
                <pre class="json payload">{d.payload.clone()}</pre>
            </section>
            <section aria-label="Timeline">
                <h2>"Timeline"</h2>
                <ol class="timeline">{d.timeline.iter().map(timeline_entry).collect_view()}</ol>
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

fn timeline_entry(e: &TimelineEntry) -> impl IntoView + use<> {
    let what = e.action.label();
    let detail = match &e.comment {
        Some(comment) => comment.clone(),
        None => e
            .changes
            .iter()
            .map(|c| {
                let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
                format!("{}: {} → {}", c.field, show(&c.before), show(&c.after))
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    view! {
        <li>
            <time datetime=e.at.to_rfc3339()>{e.at.format("%Y-%m-%d %H:%M:%S").to_string()}</time>
            " " <strong>{e.actor.to_string()}</strong> " " {what}
            {(!detail.is_empty()).then(|| view! { <span class="timeline-detail">{format!(" — {detail}")}</span> })}
            {e.reason.clone().map(|r| view! { <span class="timeline-reason">{format!(" (reason: {r})")}</span> })}
        </li>
    }
}

#[component]
fn Actions(d: ExceptionDetailView, refresh: RwSignal<u64>, form: ActionForm) -> impl IntoView {
    let auth = Auth::get();
    let may_work =
        move || auth.me.get().and_then(Result::ok).flatten().is_some_and(|me| me.may(Permission::WorkExceptions));
    let mut kinds: Vec<String> = vec!["claim".into(), "assign".into(), "comment".into()];
    kinds.extend(d.allowed.iter().map(|k| k.as_str().to_owned()));
    let ActionForm { fields, error, done } = form;
    if !kinds.contains(&fields.kind.get_untracked()) {
        fields.kind.set("comment".to_owned());
    }
    let kinds = Signal::derive(move || kinds.clone());
    let people = Resource::new(|| (), |_| assignees());
    let queues = Resource::new(|| (), |_| list_queues());
    let people = Signal::derive(move || people.get().and_then(Result::ok).unwrap_or_default());
    let queue_keys = Signal::derive(move || {
        queues.get().and_then(Result::ok).map(|(q, _)| q.into_iter().map(|q| q.key).collect()).unwrap_or_default()
    });
    let (id, seen) = (d.item.id.get(), d.item.version);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        done.set(None);
        let action = match fields.input().action() {
            Ok(a) => a,
            Err(e) => return error.set(Some(e)),
        };
        let name = action.name();
        leptos::task::spawn_local(async move {
            match act(id, Some(seen), action).await {
                Ok(_) => {
                    done.set(Some(format!("Done: {name}.")));
                    fields.text.set(String::new());
                    refresh.update(|r| *r += 1);
                }
                Err(e) => {
                    let changed = matches!(e, AppError::Conflict(_));
                    error.set(Some(e));
                    if changed {
                        refresh.update(|r| *r += 1);
                    }
                }
            }
        });
    };
    let error_signal = Signal::derive(move || error.get());
    // Keyboard: a assign, c comment, e resolve (outside of form fields).
    let _keys = window_event_listener(leptos::ev::keydown, move |ev| {
        use leptos::wasm_bindgen::JsCast;
        let in_field = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlElement>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if in_field || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let kind = match ev.key().as_str() {
            "a" => "assign",
            "c" => "comment",
            "e" => "resolve",
            _ => return,
        };
        fields.kind.set(kind.to_owned());
        if let Some(el) = document().get_element_by_id("act-kind")
            && let Ok(el) = el.dyn_into::<leptos::web_sys::HtmlElement>()
        {
            let _ = el.focus();
        }
    });
    view! {
        <Show when=may_work>
            <section aria-label="Actions" class="actions-panel">
                <h2>"Act"</h2>
                <form class="form" on:submit=submit aria-label="Act on this exception">
                    <ActionFieldsView fields id="act" kinds people queues=queue_keys error=error_signal />
                    <FormError error=error_signal />
                    {move || done.get().map(|m| view! { <p role="status">{m}</p> })}
                    <button type="submit">"Apply"</button>
                </form>
                <p class="muted keys">"Keys: a assign, c comment, e resolve."</p>
            </section>
        </Show>
    }
}
