//! Connectors: where the failed messages of a system are replayed to, with
//! their secrets (write-only) and circuit breakers.

use std::collections::BTreeMap;

use crossdock::event::System;
use crossdock::replay::{Breaker, ConnectorSpec, HttpMethod};
use crossdock::source::SourceName;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::AppError;
use crate::components::forms::{ConfirmButton, FieldMessage, FormError, last_error, messages_under, number};
use crate::components::loaded::Loaded;
use crate::serverfns::replays::{DeleteConnector, SaveConnector, TestConnector, list_connectors, list_retry_policies};

/// The connector being edited, as typed.
#[derive(Clone, Copy)]
struct ConnectorEditor {
    name: RwSignal<String>,
    system: RwSignal<String>,
    operation: RwSignal<String>,
    method: RwSignal<String>,
    url: RwSignal<String>,
    headers: RwSignal<String>,
    auth_header: RwSignal<String>,
    secret: RwSignal<String>,
    timeout_ms: RwSignal<String>,
    policy: RwSignal<String>,
    threshold: RwSignal<String>,
    cooldown: RwSignal<String>,
    /// Close the circuit again on save.
    reset: RwSignal<bool>,
    /// Sources whose failures are replayed on their word, space-separated.
    allowed: RwSignal<String>,
}

impl ConnectorEditor {
    fn new() -> Self {
        let s = |v: &str| RwSignal::new(v.to_owned());
        Self {
            name: s(""),
            system: s("tms"),
            operation: s(""),
            method: s("POST"),
            url: s(""),
            headers: s(""),
            auth_header: s("Authorization"),
            secret: s(""),
            timeout_ms: s("10000"),
            policy: s(""),
            threshold: s("5"),
            cooldown: s("60"),
            reset: RwSignal::new(false),
            allowed: s(""),
        }
    }

    fn load(&self, c: &ConnectorSpec) {
        self.name.set(c.name.clone());
        self.system.set(c.system.as_str().to_owned());
        self.operation.set(c.operation.clone());
        self.method.set(c.method.as_str().to_owned());
        self.url.set(c.url.clone());
        self.headers.set(c.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n"));
        self.auth_header.set(c.auth_header.clone().unwrap_or_default());
        self.secret.set(String::new());
        self.timeout_ms.set(c.timeout_ms.to_string());
        self.policy.set(c.retry_policy.clone().unwrap_or_default());
        self.threshold.set(c.breaker_threshold.to_string());
        self.cooldown.set(c.breaker_cooldown_seconds.to_string());
        self.reset.set(false);
        self.allowed.set(c.allowed_sources.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "));
    }

    fn spec(&self) -> Result<ConnectorSpec, AppError> {
        let mut headers = BTreeMap::new();
        for line in self.headers.get_untracked().lines().filter(|l| !l.trim().is_empty()) {
            let (name, value) =
                line.split_once(':').ok_or_else(|| AppError::invalid("headers", "one `Name: value` per line"))?;
            headers.insert(name.trim().to_owned(), value.trim().to_owned());
        }
        let method = match self.method.get_untracked().as_str() {
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            _ => HttpMethod::Post,
        };
        let text = |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|t| !t.is_empty());
        Ok(ConnectorSpec {
            name: self.name.get_untracked().trim().to_owned(),
            system: self.system.get_untracked().parse().map_err(|_| AppError::invalid("system", "choose a system"))?,
            operation: self.operation.get_untracked().trim().to_owned(),
            method,
            url: self.url.get_untracked().trim().to_owned(),
            headers,
            auth_header: text(self.auth_header),
            timeout_ms: number("timeout_ms", &self.timeout_ms.get_untracked(), "a whole number of milliseconds")?,
            retry_policy: text(self.policy),
            breaker_threshold: number("breaker_threshold", &self.threshold.get_untracked(), "a whole number")?,
            breaker_cooldown_seconds: number(
                "breaker_cooldown_seconds",
                &self.cooldown.get_untracked(),
                "whole seconds",
            )?,
            allowed_sources: self
                .allowed
                .get_untracked()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| {
                    SourceName::parse(s).map_err(|rule| AppError::invalid("allowed_sources", format!("`{s}`: {rule}")))
                })
                .collect::<Result<_, _>>()?,
        })
    }
}

fn breaker_label(b: &Breaker) -> String {
    match b {
        Breaker::Closed { failures: 0 } => "closed".to_owned(),
        Breaker::Closed { failures } => format!("closed ({failures} failure(s) in a row)"),
        Breaker::Open { since } => format!("open since {}", since.format("%Y-%m-%d %H:%M:%S UTC")),
        Breaker::HalfOpen { .. } => "half-open (probing)".to_owned(),
    }
}

#[component]
pub fn ConnectorsPage() -> impl IntoView {
    let save = ServerAction::<SaveConnector>::new();
    let test = ServerAction::<TestConnector>::new();
    let delete = ServerAction::<DeleteConnector>::new();
    let connectors = Resource::new(move || (save.version().get(), delete.version().get()), |_| list_connectors());
    let policies = Resource::new(|| (), |_| list_retry_policies());
    let editor = ConnectorEditor::new();
    let local_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || local_error.get().or_else(|| last_error(save.value()).get()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match editor.spec() {
            Ok(connector) => {
                local_error.set(None);
                let secret = Some(editor.secret.get_untracked()).filter(|s| !s.trim().is_empty());
                let reset_breaker = editor.reset.get_untracked();
                save.dispatch(SaveConnector { connector, secret, reset_breaker });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    // A saved secret leaves the form; a refused save keeps it for the retry.
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(()))) {
            editor.secret.set(String::new());
            editor.reset.set(false);
        }
    });

    let input = move |id: &'static str, label: &'static str, field: &'static str, value: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
                <FieldMessage error field id=field />
            </div>
        }
    };
    view! {
        <section class="page">
            <h1>"Connectors"</h1>
            <p class="muted">"Where the failed messages of a system and operation are replayed to. A secret is sent in its header and never shown again."</p>
            <Loaded resource=connectors what="connectors" show=move |list| if list.is_empty() {
                    view! { <p class="muted">"No connectors yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="grid" aria-label="Connectors">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Replays"</th>
                                    <th scope="col">"Target"</th>
                                    <th scope="col">"Timeout"</th>
                                    <th scope="col">"Retry policy"</th>
                                    <th scope="col">"Trusted sources"</th>
                                    <th scope="col">"Secret"</th>
                                    <th scope="col">"Circuit"</th>
                                    <th scope="col">"Actions"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|c| {
                                    let stored = StoredValue::new(c.spec.clone());
                                    let label = format!("Edit {}", c.spec.name);
                                    view! {
                                        <tr>
                                            <td>{c.spec.name.clone()}</td>
                                            <td>{format!("{} {}", c.spec.system, c.spec.operation)}</td>
                                            <td><code>{format!("{} {}", c.spec.method.as_str(), c.spec.url)}</code></td>
                                            <td>{format!("{} ms", c.spec.timeout_ms)}</td>
                                            <td>{c.spec.retry_policy.clone().unwrap_or_else(|| "queue's or standard".into())}</td>
                                            <td>{if c.spec.allowed_sources.is_empty() {
                                                "none: every replay needs a supervisor".to_owned()
                                            } else {
                                                c.spec.allowed_sources.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                                            }}</td>
                                            <td>{if c.has_secret { "set" } else { "none" }}</td>
                                            <td class="breaker">{breaker_label(&c.breaker)}</td>
                                            <td class="actions">
                                                <button type="button" on:click=move |_| editor.load(&stored.get_value())>{label}</button>
                                                <button type="button" class="secondary" on:click={
                                                    let name = c.spec.name.clone();
                                                    move |_| { test.dispatch(TestConnector { name: name.clone() }); }
                                                }>{format!("Send a test request to {}", c.spec.name)}</button>
                                                <ConfirmButton
                                                    label=format!("Delete {}", c.spec.name)
                                                    question=format!("Delete connector {}? Its failures can no longer be replayed.", c.spec.name)
                                                    yes="Yes, delete it"
                                                    on_yes={
                                                        let name = c.spec.name.clone();
                                                        Callback::new(move |()| { delete.dispatch(DeleteConnector { name: name.clone() }); })
                                                    }
                                                />
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                } />
            <FormError error=last_error(delete.value()) />
            {move || test.value().get().map(|answer| match answer {
                Ok(a) => {
                    let status = a.http_status.map(|s| format!("HTTP {s}")).unwrap_or_else(|| a.outcome.as_str().replace('_', " "));
                    view! {
                        <div class="test-answer" role="status" aria-label="Test answer">
                            <p>{format!("The target answered {status} in {} ms.", a.latency_ms)}</p>
                            {a.head.map(|h| view! { <pre class="response-head">{h}</pre> })}
                        </div>
                    }.into_any()
                }
                Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
            <h2>"Connector"</h2>
            <Loaded resource=policies what="retry policies" show=move |all| {
                let names: Vec<String> = all.policies.into_iter().map(|p| p.name).collect();
                view! {
            <form class="form wide" on:submit=submit aria-label="Connector">
                {input("connector-name", "Name", "name", editor.name)}
                <div class="field">
                    <label for="connector-system">"System"</label>
                    <select id="connector-system" on:change=move |ev| editor.system.set(event_target_value(&ev))>
                        {System::ALL.iter().map(|s| view! {
                            <option value=s.as_str() selected=move || editor.system.get() == s.as_str()>{s.as_str()}</option>
                        }).collect_view()}
                    </select>
                </div>
                {input("connector-operation", "Operation (e.g. tms.create_shipment, or * for all)", "operation", editor.operation)}
                <div class="field">
                    <label for="connector-method">"Method"</label>
                    <select id="connector-method" on:change=move |ev| editor.method.set(event_target_value(&ev))>
                        {["POST", "PUT", "PATCH"].into_iter().map(|m| view! {
                            <option value=m selected=move || editor.method.get() == m>{m}</option>
                        }).collect_view()}
                    </select>
                </div>
                {input("connector-url", "URL (http or https)", "url", editor.url)}
                <div class="field">
                    <label for="connector-headers">"Headers (one `Name: value` per line)"</label>
                    <textarea id="connector-headers" rows="3" prop:value=editor.headers on:input=move |ev| editor.headers.set(event_target_value(&ev))></textarea>
                    {move || messages_under(error.get(), "headers").into_iter().map(|m| view! { <p class="field-error" role="alert">{m}</p> }).collect_view()}
                </div>
                {input("connector-auth-header", "Header the secret is sent in", "auth_header", editor.auth_header)}
                <div class="field">
                    <label for="connector-secret">"Secret (leave empty to keep the stored one)"</label>
                    <input id="connector-secret" type="password" autocomplete="new-password" prop:value=editor.secret on:input=move |ev| editor.secret.set(event_target_value(&ev)) />
                    <FieldMessage error field="secret" id="connector-secret-error" />
                </div>
                {input("connector-timeout", "Timeout (ms)", "timeout_ms", editor.timeout_ms)}
                <div class="field">
                    <label for="connector-policy">"Retry policy"</label>
                    <select id="connector-policy" on:change=move |ev| editor.policy.set(event_target_value(&ev))>
                        <option value="" selected=move || editor.policy.get().is_empty()>"(the queue's, else the standard one)"</option>
                        {names.into_iter().map(|p| {
                            let (v, text) = (p.clone(), p.clone());
                            view! { <option value=p selected=move || editor.policy.get() == v>{text}</option> }
                        }).collect_view()}
                    </select>
                    <FieldMessage error field="retry_policy" id="connector-policy-error" />
                </div>
                {input("connector-allowed", "Sources whose failures it replays on their word (space-separated; others need a supervisor)", "allowed_sources", editor.allowed)}
                {input("connector-threshold", "Failures in a row that open the circuit", "breaker_threshold", editor.threshold)}
                {input("connector-cooldown", "Rest before a probe (seconds)", "breaker_cooldown_seconds", editor.cooldown)}
                <div class="field checkbox">
                    <input id="connector-reset" type="checkbox" prop:checked=editor.reset on:change=move |ev| editor.reset.set(event_target_checked(&ev)) />
                    <label for="connector-reset">"Close its circuit on save (the target is known to be back)"</label>
                </div>
                <FormError error />
                <button type="submit">"Save connector"</button>
                <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                    <p role="status">"Connector saved."</p>
                </Show>
            </form>
                }
            } />
        </section>
    }
}
