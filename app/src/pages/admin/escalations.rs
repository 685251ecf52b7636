//! Escalations: per queue, what happens when an exception's SLA is at risk,
//! when it is breached, and when nobody acknowledged it in time. Each step
//! fires once per exception; a change applies from the next sweep, and
//! every version is kept in the history.

use crossdock::escalation::{EscalationPolicy, EscalationSet};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::AppError;
use crate::components::forms::{FormError, last_error, messages_under};
use crate::components::loaded::Loaded;
use crate::dto::QueueEntry;
use crate::serverfns::config::{SaveEscalations, escalations};
use crate::serverfns::queues::list_queues;

/// One queue's policy being edited; the minutes stay text until saved.
#[derive(Clone)]
struct PolicyRow {
    queue: QueueEntry,
    at_risk: RwSignal<bool>,
    breached: RwSignal<bool>,
    raise: RwSignal<bool>,
    move_to: RwSignal<String>,
    minutes: RwSignal<String>,
}

impl PolicyRow {
    fn new(queue: QueueEntry, p: EscalationPolicy) -> Self {
        Self {
            queue,
            at_risk: RwSignal::new(p.notify_at_risk),
            breached: RwSignal::new(p.notify_breached),
            raise: RwSignal::new(p.raise_severity),
            move_to: RwSignal::new(p.move_to.unwrap_or_default()),
            minutes: RwSignal::new(p.unacknowledged_minutes.map(|m| m.to_string()).unwrap_or_default()),
        }
    }

    fn policy(&self, i: usize) -> Result<EscalationPolicy, AppError> {
        let minutes = self.minutes.get_untracked();
        let unacknowledged_minutes = match minutes.trim() {
            "" => None,
            text => Some(text.parse::<u32>().map_err(|_| {
                AppError::invalid(format!("policies/{i}/unacknowledged_minutes"), "a whole number of minutes, or empty")
            })?),
        };
        Ok(EscalationPolicy {
            queue: self.queue.key.clone(),
            notify_at_risk: self.at_risk.get_untracked(),
            notify_breached: self.breached.get_untracked(),
            raise_severity: self.raise.get_untracked(),
            move_to: Some(self.move_to.get_untracked()).filter(|m| !m.is_empty()),
            unacknowledged_minutes,
        })
    }
}

#[component]
pub fn EscalationsPage() -> impl IntoView {
    // One server function per resource: each runs with the request's context.
    let set = Resource::new(|| (), |_| escalations());
    let queues = Resource::new(|| (), |_| list_queues());
    view! {
        <section class="page">
            <h1>"Escalations"</h1>
            <p class="muted">
                "When an exception's SLA is at risk, its assignee (or its queue, when nobody holds it) is notified; "
                "when it is breached, the supervisors, and it may become more severe or move to another queue. "
                "Each step happens once per exception and shows on its timeline."
            </p>
            <Loaded resource=set what="escalations" show=move |set| view! {
                <Loaded resource=queues what="queues" show=move |(queues, _)| {
                    let set = set.clone();
                    view! { <PolicyEditor set queues /> }.into_any()
                } />
            }.into_any() />
        </section>
    }
}

#[component]
fn PolicyEditor(set: EscalationSet, queues: Vec<QueueEntry>) -> impl IntoView {
    let rows: Vec<PolicyRow> = queues.iter().map(|q| PolicyRow::new(q.clone(), set.for_queue(&q.key))).collect();
    let rows = StoredValue::new(rows);
    let keys: Vec<(String, String)> = queues.iter().map(|q| (q.key.clone(), q.name.clone())).collect();
    let save = ServerAction::<SaveEscalations>::new();
    let local_error = RwSignal::new(None::<AppError>);
    let saved_error = last_error(save.value());
    let error = Signal::derive(move || local_error.get().or_else(|| saved_error.get()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let policies =
            rows.with_value(|rows| rows.iter().enumerate().map(|(i, r)| r.policy(i)).collect::<Result<Vec<_>, _>>());
        match policies {
            Ok(policies) => {
                local_error.set(None);
                save.dispatch(SaveEscalations { escalations: EscalationSet { policies } });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    view! {
        <form class="form wide" on:submit=submit aria-label="Escalations">
            <table class="grid" aria-label="Escalation policies">
                <thead>
                    <tr>
                        <th scope="col">"Queue"</th>
                        <th scope="col">"At risk"</th>
                        <th scope="col">"Breached"</th>
                        <th scope="col">"Move when breached to"</th>
                        <th scope="col">"Not acknowledged within (business minutes)"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.get_value().into_iter().enumerate().map(|(i, row)| {
                        let name = row.queue.name.clone();
                        let messages = move || messages_under(error.get(), &format!("policies/{i}"));
                        let others: Vec<(String, String)> = keys.iter().filter(|(k, _)| *k != row.queue.key).cloned().collect();
                        let move_to = row.move_to;
                        view! {
                            <tr>
                                <th scope="row">{name.clone()}</th>
                                <td>
                                    <label class="check">
                                        <input type="checkbox" prop:checked=row.at_risk on:change=move |ev| row.at_risk.set(event_target_checked(&ev)) />
                                        {format!("Notify {name}'s holder")}
                                    </label>
                                </td>
                                <td>
                                    <label class="check">
                                        <input type="checkbox" prop:checked=row.breached on:change=move |ev| row.breached.set(event_target_checked(&ev)) />
                                        "Notify supervisors"
                                    </label>
                                    <label class="check">
                                        <input type="checkbox" prop:checked=row.raise on:change=move |ev| row.raise.set(event_target_checked(&ev)) />
                                        {format!("Raise {name}'s severity")}
                                    </label>
                                </td>
                                <td>
                                    <select aria-label=format!("{name}: move when breached to") on:change=move |ev| move_to.set(event_target_value(&ev))>
                                        <option value="" selected=move || move_to.get().is_empty()>"Stay in its queue"</option>
                                        {others.into_iter().map(|(k, label)| {
                                            let v = k.clone();
                                            view! { <option value=k selected=move || move_to.get() == v>{label}</option> }
                                        }).collect_view()}
                                    </select>
                                </td>
                                <td>
                                    <input
                                        aria-label=format!("{name}: not acknowledged within minutes")
                                        inputmode="numeric"
                                        placeholder="no limit"
                                        prop:value=row.minutes
                                        on:input=move |ev| row.minutes.set(event_target_value(&ev))
                                    />
                                    {move || messages().into_iter().map(|m| view! { <p class="field-error" role="alert">{m}</p> }).collect_view()}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <FormError error />
            <button type="submit">"Save escalations"</button>
            <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                <p role="status">"Escalations saved."</p>
            </Show>
        </form>
    }
}
