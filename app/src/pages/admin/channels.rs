//! Notification channels: where notifications go beyond the console (a
//! signed JSON webhook, Slack, Microsoft Teams), what each carries, and
//! every attempt at delivering each message.

use std::collections::BTreeSet;

use crossdock::channel::{ChannelKind, ChannelSpec, Delivery, DeliveryState};
use crossdock::escalation::EscalationLevel;
use crossdock::replay::AttemptOutcome;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::AppError;
use crate::components::forms::{ConfirmButton, FieldMessage, FormError, last_error, number};
use crate::components::loaded::Loaded;
use crate::components::time::LocalTime;
use crate::dto::ChannelEntry;
use crate::pages::board::ticking;
use crate::serverfns::channels::{DeleteChannel, RotateChannelSecret, SaveChannel, TestChannel, list_channels};

/// The channel being edited, as typed.
#[derive(Clone, Copy)]
struct ChannelEditor {
    name: RwSignal<String>,
    kind: RwSignal<ChannelKind>,
    url: RwSignal<String>,
    levels: RwSignal<BTreeSet<EscalationLevel>>,
    queues: RwSignal<BTreeSet<String>>,
    retry_policy: RwSignal<String>,
    timeout: RwSignal<String>,
    enabled: RwSignal<bool>,
}

impl ChannelEditor {
    fn new() -> Self {
        let blank = ChannelSpec::new("", ChannelKind::Webhook, "");
        Self {
            name: RwSignal::new(String::new()),
            kind: RwSignal::new(blank.kind),
            url: RwSignal::new(String::new()),
            levels: RwSignal::new(blank.levels),
            queues: RwSignal::new(BTreeSet::new()),
            retry_policy: RwSignal::new(String::new()),
            timeout: RwSignal::new(blank.timeout_ms.to_string()),
            enabled: RwSignal::new(true),
        }
    }

    fn load(&self, spec: &ChannelSpec) {
        self.name.set(spec.name.clone());
        self.kind.set(spec.kind);
        self.url.set(spec.url.clone());
        self.levels.set(spec.levels.clone());
        self.queues.set(spec.queues.iter().cloned().collect());
        self.retry_policy.set(spec.retry_policy.clone().unwrap_or_default());
        self.timeout.set(spec.timeout_ms.to_string());
        self.enabled.set(spec.enabled);
    }

    fn spec(&self) -> Result<ChannelSpec, AppError> {
        Ok(ChannelSpec {
            name: self.name.get_untracked().trim().to_owned(),
            kind: self.kind.get_untracked(),
            url: self.url.get_untracked().trim().to_owned(),
            levels: self.levels.get_untracked(),
            queues: self.queues.get_untracked().into_iter().collect(),
            retry_policy: Some(self.retry_policy.get_untracked()).filter(|p| !p.is_empty()),
            timeout_ms: number("timeout_ms", &self.timeout.get_untracked(), "a whole number of milliseconds")?,
            enabled: self.enabled.get_untracked(),
        })
    }
}

fn what_of(d: &Delivery) -> &'static str {
    d.level.map_or("Test message", EscalationLevel::label)
}

fn attempts_of(d: &Delivery) -> String {
    let parts: Vec<String> = d
        .attempts
        .iter()
        .map(|a| {
            let answer = match (a.outcome, a.http_status) {
                (AttemptOutcome::Delivered | AttemptOutcome::HttpError, Some(status)) => format!("HTTP {status}"),
                (outcome, _) => outcome.as_str().replace('_', " "),
            };
            format!("#{}: {answer} in {} ms", a.number, a.latency_ms)
        })
        .collect();
    if parts.is_empty() { "none yet".to_owned() } else { parts.join("; ") }
}

fn state_label(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "waiting",
        DeliveryState::Running => "sending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Failed => "failed",
    }
}

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let save = ServerAction::<SaveChannel>::new();
    let rotate = ServerAction::<RotateChannelSecret>::new();
    let remove = ServerAction::<DeleteChannel>::new();
    let test = ServerAction::<TestChannel>::new();
    let shown = RwSignal::new(String::new());
    let tick = ticking();
    // The channels and the form change only when an admin acts; the
    // deliveries are read again every few seconds.
    let setup = Resource::new(
        move || (save.version().get(), rotate.version().get(), remove.version().get()),
        |_| list_channels(None),
    );
    let deliveries = Resource::new(
        move || (save.version().get(), remove.version().get(), test.version().get(), shown.get(), tick.get()),
        |(_, _, _, channel, _)| async move { list_channels(Some(channel)).await.map(|v| v.deliveries) },
    );
    let editor = ChannelEditor::new();
    let local_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || local_error.get().or_else(|| last_error(save.value()).get()));
    // The secret the last save or rotation made, with its channel: each
    // action's answer replaces what the other showed.
    let shown_secret = RwSignal::new(None::<(String, String)>);
    let rotating = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(made)) = save.value().get() {
            let name = editor.name.get_untracked().trim().to_owned();
            shown_secret.set(made.map(|s| (name, s)));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(made)) = rotate.value().get() {
            let name = rotating.get_untracked();
            shown_secret.set(Some((name, made)));
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match editor.spec() {
            Ok(spec) => {
                local_error.set(None);
                save.dispatch(SaveChannel { spec });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    view! {
        <section class="page">
            <h1>"Notification channels"</h1>
            <p class="muted">"Channels carry escalation notifications beyond the console, to the people who chose to have them sent outward. A message is queued with the step that caused it and delivered in the background, retried under the channel's retry policy."</p>
            {move || shown_secret.get().map(|(name, s)| view! {
                <div class="notice" role="status">
                    <p>{format!("Signing secret of {name} (copy it now; it is not shown again). The receiver checks the webhook-signature header with it, as Standard Webhooks describes:")}</p>
                    <code class="secret">{s}</code>
                </div>
            })}
            <FormError error=last_error(test.value()) />
            <FormError error=last_error(remove.value()) />
            <FormError error=last_error(rotate.value()) />
            <Loaded resource=setup what="channels" show=move |all| {
                let policies = all.retry_policies.clone();
                let queues = all.queues.clone();
                let channel_names: Vec<String> = all.channels.iter().map(|c| c.spec.name.clone()).collect();
                let none = all.channels.is_empty();
                view! {
                    {none.then(|| view! { <p class="muted">"No channel yet: notifications stay in the console."</p> })}
                    <table class="grid" aria-label="Channels">
                        <thead>
                            <tr>
                                <th scope="col">"Channel"</th>
                                <th scope="col">"Kind"</th>
                                <th scope="col">"Address"</th>
                                <th scope="col">"Carries"</th>
                                <th scope="col">"Queues"</th>
                                <th scope="col">"Retry policy"</th>
                                <th scope="col">"State"</th>
                                <th scope="col">"Actions"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {all.channels.into_iter().map(|c: ChannelEntry| {
                                let spec = StoredValue::new(c.spec.clone());
                                let name = c.spec.name.clone();
                                let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
                                let carries: Vec<&str> = c.spec.levels.iter().map(|l| l.label()).collect();
                                view! {
                                    <tr>
                                        <td>{name.clone()}</td>
                                        <td>{c.spec.kind.label()}</td>
                                        <td class="wrap">{c.spec.url.clone()}</td>
                                        <td>{carries.join(", ")}</td>
                                        <td>{if c.spec.queues.is_empty() { "all".to_owned() } else { c.spec.queues.join(", ") }}</td>
                                        <td>{c.spec.retry_policy.clone().unwrap_or_else(|| "standard".into())}</td>
                                        <td>{if c.spec.enabled { "on" } else { "off" }}</td>
                                        <td class="actions">
                                            <button type="button" on:click=move |_| editor.load(&spec.get_value())>{format!("Edit {name}")}</button>
                                            <button type="button" aria-label=format!("Send a test to {name}") on:click=move |_| { test.dispatch(TestChannel { name: n1.clone() }); }>"Send a test"</button>
                                            {c.spec.kind.signed().then(|| view! {
                                                <button type="button" aria-label=format!("New secret for {}", n2) on:click=move |_| {
                                                    rotating.set(n2.clone());
                                                    rotate.dispatch(RotateChannelSecret { name: n2.clone() });
                                                }>"New secret"</button>
                                            })}
                                            <ConfirmButton
                                                label="Delete"
                                                question=format!("Delete {n3}? Messages still waiting for it fail.")
                                                yes="Delete channel"
                                                on_yes=Callback::new(move |()| { remove.dispatch(DeleteChannel { name: n3.clone() }); })
                                            />
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h2>"Channel"</h2>
                    <form class="form wide" on:submit=submit aria-label="Channel">
                        <div class="field">
                            <label for="channel-name">"Name (saving under a new name makes another channel)"</label>
                            <input id="channel-name" prop:value=editor.name on:input=move |ev| editor.name.set(event_target_value(&ev)) />
                            <FieldMessage error field="name" id="channel-name-error" />
                        </div>
                        <div class="field">
                            <label for="channel-kind">"Kind"</label>
                            <select id="channel-kind" on:change=move |ev| {
                                if let Ok(k) = event_target_value(&ev).parse() {
                                    editor.kind.set(k);
                                }
                            }>
                                {ChannelKind::ALL.iter().map(|k| view! {
                                    <option value=k.as_str() selected=move || editor.kind.get() == *k>{k.label()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="channel-url">"Webhook address"</label>
                            <input id="channel-url" inputmode="url" placeholder="https://" prop:value=editor.url on:input=move |ev| editor.url.set(event_target_value(&ev)) />
                            <FieldMessage error field="url" id="channel-url-error" />
                        </div>
                        <fieldset>
                            <legend>"Carries"</legend>
                            {EscalationLevel::ALL.iter().map(|level| {
                                let level = *level;
                                let id = format!("channel-level-{}", level.as_str());
                                view! {
                                    <label class="check" for=id.clone()>
                                        <input type="checkbox" id=id.clone()
                                            prop:checked=move || editor.levels.get().contains(&level)
                                            on:change=move |ev| editor.levels.update(|l| {
                                                if event_target_checked(&ev) { l.insert(level); } else { l.remove(&level); }
                                            }) />
                                        {level.label()}
                                    </label>
                                }
                            }).collect_view()}
                            <FieldMessage error field="levels" id="channel-levels-error" />
                        </fieldset>
                        <fieldset>
                            <legend>"Queues (none ticked: every queue)"</legend>
                            {queues.into_iter().map(|q| {
                                let id = format!("channel-queue-{q}");
                                let key = StoredValue::new(q.clone());
                                view! {
                                    <label class="check" for=id.clone()>
                                        <input type="checkbox" id=id.clone()
                                            prop:checked=move || editor.queues.get().contains(&key.get_value())
                                            on:change=move |ev| editor.queues.update(|s| {
                                                if event_target_checked(&ev) { s.insert(key.get_value()); } else { s.remove(&key.get_value()); }
                                            }) />
                                        {q.clone()}
                                    </label>
                                }
                            }).collect_view()}
                            <FieldMessage error field="queues" id="channel-queues-error" />
                        </fieldset>
                        <div class="field">
                            <label for="channel-policy">"Retry policy"</label>
                            <select id="channel-policy" on:change=move |ev| editor.retry_policy.set(event_target_value(&ev))>
                                <option value="">"(standard)"</option>
                                {policies.into_iter().map(|p| {
                                    let value = p.clone();
                                    view! { <option value=p.clone() selected=move || editor.retry_policy.get() == value>{p.clone()}</option> }
                                }).collect_view()}
                            </select>
                            <FieldMessage error field="retry_policy" id="channel-policy-error" />
                        </div>
                        <div class="field">
                            <label for="channel-timeout">"Timeout (ms)"</label>
                            <input id="channel-timeout" inputmode="numeric" prop:value=editor.timeout on:input=move |ev| editor.timeout.set(event_target_value(&ev)) />
                            <FieldMessage error field="timeout_ms" id="channel-timeout-error" />
                        </div>
                        <label class="check" for="channel-enabled">
                            <input type="checkbox" id="channel-enabled" prop:checked=editor.enabled on:change=move |ev| editor.enabled.set(event_target_checked(&ev)) />
                            "In service"
                        </label>
                        <FormError error />
                        <button type="submit">"Save channel"</button>
                        <Show when=move || matches!(save.value().get(), Some(Ok(_)))>
                            <p role="status">"Channel saved."</p>
                        </Show>
                    </form>
                    <h2>"Deliveries"</h2>
                    <div class="field inline">
                        <label for="deliveries-of">"Channel"</label>
                        <select id="deliveries-of" on:change=move |ev| shown.set(event_target_value(&ev))>
                            <option value="">"(all)"</option>
                            {channel_names.into_iter().map(|n| {
                                let selected = shown.get_untracked() == n;
                                view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                }
            } />
            <Loaded resource=deliveries what="deliveries" show=move |list| view! {
                    {list.is_empty().then(|| view! { <p class="muted">"Nothing sent yet."</p> })}
                    <table class="grid" aria-label="Deliveries">
                        <thead>
                            <tr>
                                <th scope="col">"Queued"</th>
                                <th scope="col">"Channel"</th>
                                <th scope="col">"Message"</th>
                                <th scope="col">"Exception"</th>
                                <th scope="col">"For"</th>
                                <th scope="col">"State"</th>
                                <th scope="col">"Attempts"</th>
                                <th scope="col">"Next or last error"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.into_iter().map(|d| {
                                let next = match (d.next_attempt_at, d.last_error.clone()) {
                                    (Some(at), error) => view! { <span>"next at " <LocalTime at /> {error.map(|e| format!(" (last: {e})"))}</span> }.into_any(),
                                    (None, Some(error)) => view! { <span>{error}</span> }.into_any(),
                                    (None, None) => view! { <span></span> }.into_any(),
                                };
                                view! {
                                    <tr data-state=d.state.as_str()>
                                        <td><LocalTime at=d.created_at /></td>
                                        <td>{d.channel.clone()}</td>
                                        <td>{what_of(&d)}</td>
                                        <td>{d.exception_id.map(|id| view! { <a href=format!("/exceptions/{id}")>{format!("EX-{id}")}</a> })}</td>
                                        <td>{if d.recipients == 0 { String::new() } else { format!("{} people", d.recipients) }}</td>
                                        <td>{state_label(d.state)}</td>
                                        <td>{attempts_of(&d)}</td>
                                        <td>{next}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
            } />
        </section>
    }
}
