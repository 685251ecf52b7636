//! The history of the configuration: every version of every site, SLA
//! policy, queue and rule set, who saved it and when; an earlier version can
//! be made current again.

use leptos::prelude::*;

use crate::components::forms::{ConfirmButton, FormError, last_error};
use crate::components::loaded::Loaded;
use crate::components::time::LocalTime;
use crate::dto::ConfigVersionView;
use crate::serverfns::config::{RestoreConfig, config_history};

const KINDS: [(&str, &str); 6] = [
    ("routing", "Routing rules"),
    ("expectations", "Expectations"),
    ("escalations", "Escalations"),
    ("sla_policy", "SLA policies"),
    ("queue", "Queues"),
    ("site", "Sites and calendars"),
];

#[component]
pub fn HistoryPage() -> impl IntoView {
    let kind = RwSignal::new("routing".to_owned());
    let restore = ServerAction::<RestoreConfig>::new();
    let versions = Resource::new(move || (kind.get(), restore.version().get()), |(kind, _)| config_history(kind, None));
    view! {
        <section class="page">
            <h1>"Configuration history"</h1>
            <div class="field">
                <label for="history-kind">"Show"</label>
                <select id="history-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    {KINDS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                </select>
            </div>
            <FormError error=last_error(restore.value()) />
            <Show when=move || matches!(restore.value().get(), Some(Ok(())))>
                <p role="status">"Version restored as the current one."</p>
            </Show>
            <Loaded resource=versions what="versions" show=move |list| {
                                view! {
                                    <table class="grid" aria-label="Versions">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Document"</th>
                                                <th scope="col">"Version"</th>
                                                <th scope="col">"Saved"</th>
                                                <th scope="col">"By"</th>
                                                <th scope="col">"Content"</th>
                                                <th scope="col">"Actions"</th>
                                            </tr>
                                        </thead>
                                        <tbody>{list.into_iter().map(|v| view! { <VersionRow v restore /> }).collect_view()}</tbody>
                                    </table>
                                }
                            } />
        </section>
    }
}

#[component]
fn VersionRow(v: ConfigVersionView, restore: ServerAction<RestoreConfig>) -> impl IntoView {
    let open = RwSignal::new(false);
    let id = v.id;
    let label = format!("Restore {} version {}", v.key, v.version);
    let restorable = !v.current && v.spec.is_some();
    let spec = v.spec.clone().unwrap_or_else(|| "(removed)".to_owned());
    view! {
        <tr>
            <td>{v.key.clone()}</td>
            <td>{v.version} {v.current.then_some(" (current)")}</td>
            <td class="time"><LocalTime at=v.at /></td>
            <td>{v.actor.clone()}</td>
            <td>
                <button type="button" on:click=move |_| open.update(|o| *o = !*o)>{move || if open.get() { "Hide" } else { "Show" }}</button>
                <Show when=move || open.get()>
                    <pre class="json">{spec.clone()}</pre>
                </Show>
            </td>
            <td class="actions">
                {restorable.then(|| view! {
                    <ConfirmButton
                        label=label.clone()
                        question="Make this version the one in force? The change is saved as a new version."
                        yes="Yes, restore it"
                        on_yes=Callback::new(move |()| { restore.dispatch(RestoreConfig { version_id: id }); })
                    />
                })}
            </td>
        </tr>
    }
}
