//! Sending a test event as a source, from its page: the event goes through
//! the API's own path as a dry run, and the page shows where it would land
//! (queue, severity, rule, SLA, grouping, transaction). Nothing is stored.

use crossdock::ExceptionKind;
use crossdock::event::{EventType, contract, reference};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::forms::{FieldMessage, FormError, last_error};
use crate::components::time::LocalTime;
use crate::dto::{TriedEvent, TriedGrouping, TriedStatus};
use crate::serverfns::sources::TryEvents;

/// The type offered first.
const FIRST: EventType = EventType::Exception(ExceptionKind::PartialReceipt);

#[component]
pub fn TestEvent(source: String, prefix: String) -> impl IntoView {
    let prefix = StoredValue::new(prefix);
    let name = StoredValue::new(source);
    let chosen = RwSignal::new(FIRST.as_str().to_owned());
    let text = RwSignal::new(reference::example_text(FIRST, &prefix.get_value()));
    let action = ServerAction::<TryEvents>::new();
    let error = last_error(action.value());
    let pick = move |ev: leptos::ev::Event| {
        let wanted = event_target_value(&ev);
        if let Some(t) = contract::event_types().find(|t| t.as_str() == wanted) {
            text.set(reference::example_text(t, &prefix.get_value()));
        }
        chosen.set(wanted);
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        action.dispatch(TryEvents { name: name.get_value(), events: text.get() });
    };
    let id = |what: &str| format!("test-{what}-{}", name.get_value());
    let options = contract::event_types()
        .map(|t| {
            let value = t.as_str();
            view! { <option value=value selected=move || chosen.get() == value>{value}</option> }
        })
        .collect_view();
    view! {
        <form class="form test-event" on:submit=submit aria-label=format!("Send a test event as {}", name.get_value())>
            <h3>"Send a test event"</h3>
            <p class="muted">
                "A dry run: the event is checked, routed and timed as if " {name.get_value()}
                " had sent it, and nothing is stored. The contract is in docs/events.md."
            </p>
            <div class="field">
                <label for=id("type")>"Event type (fills in an example)"</label>
                <select id=id("type") on:change=pick>{options}</select>
            </div>
            <div class="field">
                <label for=id("body")>"Event (a CloudEvent as JSON, or an array of them)"</label>
                <textarea
                    id=id("body")
                    class="json"
                    rows="18"
                    spellcheck="false"
                    prop:value=text
                    on:input=move |ev| text.set(event_target_value(&ev))
                    aria-describedby=id("body-error")
                    aria-invalid=move || error.get().and_then(|e| e.for_field("events")).is_some().then_some("true")
                ></textarea>
                <FieldMessage error field="events" id=id("body-error") />
            </div>
            <FormError error />
            <button type="submit" disabled=move || action.pending().get()>"Try it"</button>
        </form>
        // The region is there from the start, so that screen readers
        // announce each answer as it arrives.
        <section class="tried" aria-label=format!("Test answer for {}", name.get_value()) role="status">
            {move || action.value().get().and_then(Result::ok).map(|tried| view! { <TriedList tried /> })}
        </section>
    }
}

/// Each event's answer, in order.
#[component]
fn TriedList(tried: Vec<TriedEvent>) -> impl IntoView {
    let rows = tried.into_iter().map(|t| view! { <li>{answer(t)}</li> }).collect_view();
    view! {
        <h4>"What would happen (nothing was stored)"</h4>
        <ul>{rows}</ul>
    }
}

fn answer(t: TriedEvent) -> AnyView {
    let id = t.id.clone().unwrap_or_else(|| "(no id)".into());
    match t.status {
        TriedStatus::Rejected => {
            let problems = t
                .problems
                .into_iter()
                .map(|(pointer, message)| view! { <li><code>{pointer}</code> " " {message}</li> })
                .collect_view();
            view! { <strong class="danger">"Rejected "</strong> <code>{id}</code> <ul>{problems}</ul> }.into_any()
        }
        TriedStatus::Duplicate => view! {
            <strong>"Duplicate "</strong> <code>{id}</code> ": this source sent an event with this id before; nothing would change. Change the "
            <code>"id"</code> " to try it as a new event."
        }
        .into_any(),
        TriedStatus::Accepted => {
            let transaction = match t.transaction {
                Some(name) => view! { " In transaction " <code>{name}</code> "." }.into_any(),
                None => view! { " In no transaction: it names no business key." }.into_any(),
            };
            let filing = t.filing.map(|f| match f.grouping {
                TriedGrouping::Joins(x) => view! {
                    " Another occurrence of " <a href=format!("/exceptions/{x}")>{format!("exception {x}")}</a>
                    " (open, same fingerprint), in queue " <strong>{f.queue}</strong> "."
                }
                .into_any(),
                TriedGrouping::JoinsEarlier => view! {
                    " Another occurrence of the exception an earlier event of this test would open, in queue "
                    <strong>{f.queue}</strong> "."
                }
                .into_any(),
                TriedGrouping::Opens => {
                    let rule = f.rule.map_or_else(|| "no rule matched: the fallback queue".to_owned(), |r| format!("rule {r}"));
                    let assignee = f.assignee.map(|a| format!(", assigned to {a}")).unwrap_or_default();
                    let sla = match (f.sla_policy, f.acknowledge_due_at, f.resolve_due_at) {
                        (Some(policy), ack, resolve) => view! {
                            " SLA policy " {policy} ": acknowledge by "
                            {ack.map(|at| view! { <LocalTime at /> })}
                            ", resolve by " {resolve.map(|at| view! { <LocalTime at /> })} "."
                        }
                        .into_any(),
                        (None, ..) => view! { " Not timed by any SLA policy." }.into_any(),
                    };
                    view! {
                        " Would open an exception in queue " <strong class="tried-queue">{f.queue}</strong>
                        " at " <span class=format!("severity severity-{}", f.severity.as_str())>{f.severity.label()}</span>
                        " (" {rule} {assignee} ")." {sla}
                    }
                    .into_any()
                }
            });
            view! { <strong>"Accepted "</strong> <code>{id}</code> ":" {filing} {transaction} }.into_any()
        }
    }
}
