//! Queues: name, owning team, SLA policy, and the site whose business
//! calendar they follow.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::forms::{FieldMessage, FormError, last_error};
use crate::components::loaded::Loaded;
use crate::dto::{QueueChoices, QueueEntry};
use crate::serverfns::queues::{SaveQueue, list_queues};

#[component]
pub fn QueuesPage() -> impl IntoView {
    let save = ServerAction::<SaveQueue>::new();
    let queues = Resource::new(move || save.version().get(), |_| list_queues());
    view! {
        <section class="page">
            <h1>"Queues"</h1>
            <Loaded resource=queues what="queues" show=move |(list, choices)| {
                                let choices = StoredValue::new(choices);
                                view! {
                                    <table class="grid" aria-label="Queues">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Key"</th>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Team"</th>
                                                <th scope="col">"SLA policy"</th>
                                                <th scope="col">"Calendar"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list.iter().map(queue_row).collect_view()}
                                        </tbody>
                                    </table>
                                    <QueueForm save choices=choices.get_value() />
                                }
                                    .into_any()
                            } />
        </section>
    }
}

fn queue_row(q: &QueueEntry) -> impl IntoView + use<> {
    let calendar = match &q.site {
        Some(site) => format!("{site} ({})", q.calendar),
        None => q.calendar.clone(),
    };
    view! {
        <tr>
            <td><code>{q.key.clone()}</code></td>
            <td>{q.name.clone()}</td>
            <td>{q.team.clone()}</td>
            <td>{q.sla_policy.clone()}</td>
            <td>{calendar}</td>
        </tr>
    }
}

/// Creates a queue, or changes the one whose key is entered.
#[component]
fn QueueForm(save: ServerAction<SaveQueue>, choices: QueueChoices) -> impl IntoView {
    let key = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let policy = RwSignal::new(choices.policies.first().cloned().unwrap_or_default());
    let site = RwSignal::new(String::new());
    let error = last_error(save.value());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveQueue {
            key: key.get(),
            name: name.get(),
            team: team.get(),
            sla_policy: policy.get(),
            site: site.get(),
        });
    };
    view! {
        <h2>"New or changed queue"</h2>
        <form class="form" on:submit=submit aria-label="Queue">
            <div class="field">
                <label for="queue-key">"Key"</label>
                <input id="queue-key" placeholder="returns" prop:value=key on:input=move |ev| key.set(event_target_value(&ev)) />
                <FieldMessage error field="key" id="queue-key-error" />
            </div>
            <div class="field">
                <label for="queue-name">"Name"</label>
                <input id="queue-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
                <FieldMessage error field="name" id="queue-name-error" />
            </div>
            <div class="field">
                <label for="queue-team">"Owning team"</label>
                <input id="queue-team" prop:value=team on:input=move |ev| team.set(event_target_value(&ev)) />
                <FieldMessage error field="team" id="queue-team-error" />
            </div>
            <div class="field">
                <label for="queue-policy">"SLA policy"</label>
                <select id="queue-policy" on:change=move |ev| policy.set(event_target_value(&ev))>
                    {choices.policies.iter().map(|p| view! { <option value=p.clone()>{p.clone()}</option> }).collect_view()}
                </select>
                <FieldMessage error field="sla_policy" id="queue-policy-error" />
            </div>
            <div class="field">
                <label for="queue-site">"Business calendar"</label>
                <select id="queue-site" on:change=move |ev| site.set(event_target_value(&ev))>
                    <option value="">"Keep the queue's own calendar"</option>
                    {choices
                        .sites
                        .iter()
                        .map(|s| view! { <option value=s.code.clone()>{format!("{} ({})", s.name, s.code)}</option> })
                        .collect_view()}
                </select>
                <FieldMessage error field="site" id="queue-site-error" />
            </div>
            <FormError error />
            <button type="submit">"Save queue"</button>
            <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                <p role="status">"Queue saved."</p>
            </Show>
        </form>
    }
}
