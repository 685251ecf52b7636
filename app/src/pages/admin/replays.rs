//! Replay configuration: connectors (where failed messages are replayed to,
//! with their circuit breakers) and retry policies (how patiently, and for
//! which queues).

use std::collections::BTreeMap;

use crossdock::event::System;
use crossdock::replay::{Breaker, ConnectorSpec, HttpMethod, RetryOn, RetryPolicySpec};
use crossdock::retry::{Jitter, RetrySchedule};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::AppError;
use crate::components::forms::{ErrorNotice, FieldMessage, FormError, last_error, messages_under};
use crate::serverfns::replays::{
    SaveConnector, SaveRetryPolicy, SetQueueRetryPolicy, list_connectors, list_retry_policies,
};

fn number<T: std::str::FromStr>(field: &str, text: &str, what: &str) -> Result<T, AppError> {
    text.trim().parse::<T>().map_err(|_| AppError::invalid(field, what))
}

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
        })
    }
}

fn breaker_label(b: &Breaker) -> String {
    match b {
        Breaker::Closed { failures: 0 } => "closed".to_owned(),
        Breaker::Closed { failures } => format!("closed ({failures} failure(s) in a row)"),
        Breaker::Open { since } => format!("open since {}", since.format("%Y-%m-%d %H:%M:%S UTC")),
        Breaker::HalfOpen => "half-open (probing)".to_owned(),
    }
}

#[component]
pub fn ConnectorsPage() -> impl IntoView {
    let save = ServerAction::<SaveConnector>::new();
    let connectors = Resource::new(move || save.version().get(), |_| list_connectors());
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
                save.dispatch(SaveConnector { connector, secret });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    // A saved secret leaves the form; a refused save keeps it for the retry.
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(()))) {
            editor.secret.set(String::new());
        }
    });
    let policy_names = move || {
        policies
            .get()
            .and_then(Result::ok)
            .map(|p| p.policies.into_iter().map(|p| p.name).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let input = |id: &'static str, label: &'static str, field: &'static str, value: RwSignal<String>| {
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
            <Transition fallback=|| view! { <p class="muted">"Loading connectors…"</p> }>
                {move || connectors.get().map(|answer| match answer {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No connectors yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="grid" aria-label="Connectors">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Replays"</th>
                                    <th scope="col">"Target"</th>
                                    <th scope="col">"Timeout"</th>
                                    <th scope="col">"Retry policy"</th>
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
                                            <td>{if c.has_secret { "set" } else { "none" }}</td>
                                            <td class="breaker">{breaker_label(&c.breaker)}</td>
                                            <td class="actions">
                                                <button type="button" on:click=move |_| editor.load(&stored.get_value())>{label}</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                })}
            </Transition>
            <h2>"Connector"</h2>
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
                        {move || policy_names().into_iter().map(|p| {
                            let selected = editor.policy.get() == p;
                            view! { <option value=p.clone() selected=selected>{p.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <FieldMessage error field="retry_policy" id="connector-policy-error" />
                </div>
                {input("connector-threshold", "Failures in a row that open the circuit", "breaker_threshold", editor.threshold)}
                {input("connector-cooldown", "Rest before a probe (seconds)", "breaker_cooldown_seconds", editor.cooldown)}
                <FormError error />
                <button type="submit">"Save connector"</button>
                <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                    <p role="status">"Connector saved."</p>
                </Show>
            </form>
        </section>
    }
}

/// The retry policy being edited, as typed.
#[derive(Clone, Copy)]
struct PolicyEditor {
    name: RwSignal<String>,
    attempts: RwSignal<String>,
    initial: RwSignal<String>,
    multiplier: RwSignal<String>,
    max: RwSignal<String>,
    jitter: RwSignal<bool>,
    timeout: RwSignal<bool>,
    connection: RwSignal<bool>,
    throttled: RwSignal<bool>,
    server: RwSignal<bool>,
    automatic: RwSignal<bool>,
}

fn seconds(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if ms.is_multiple_of(1000) { format!("{}", ms / 1000) } else { format!("{s}") }
}

impl PolicyEditor {
    fn new() -> Self {
        let s = |v: &str| RwSignal::new(v.to_owned());
        Self {
            name: s(""),
            attempts: s("5"),
            initial: s("30"),
            multiplier: s("2"),
            max: s("600"),
            jitter: RwSignal::new(true),
            timeout: RwSignal::new(true),
            connection: RwSignal::new(true),
            throttled: RwSignal::new(true),
            server: RwSignal::new(true),
            automatic: RwSignal::new(false),
        }
    }

    fn load(&self, p: &RetryPolicySpec) {
        self.name.set(p.name.clone());
        self.attempts.set(p.schedule.max_attempts.to_string());
        self.initial.set(seconds(p.schedule.initial_delay_ms));
        self.multiplier.set(p.schedule.multiplier.to_string());
        self.max.set(seconds(p.schedule.max_delay_ms));
        self.jitter.set(p.schedule.jitter == Jitter::Full);
        self.timeout.set(p.retry_on.timeout);
        self.connection.set(p.retry_on.connection_error);
        self.throttled.set(p.retry_on.throttled);
        self.server.set(p.retry_on.server_error);
        self.automatic.set(p.automatic);
    }

    fn spec(&self) -> Result<RetryPolicySpec, AppError> {
        let ms = |field: &str, text: String| -> Result<u64, AppError> {
            let s: f64 = number(field, &text, "a number of seconds")?;
            if !(s.is_finite() && s >= 0.0) {
                return Err(AppError::invalid(field, "a number of seconds"));
            }
            Ok((s * 1000.0).round() as u64)
        };
        Ok(RetryPolicySpec {
            name: self.name.get_untracked().trim().to_owned(),
            schedule: RetrySchedule {
                max_attempts: number("max_attempts", &self.attempts.get_untracked(), "a whole number")?,
                initial_delay_ms: ms("initial_delay_ms", self.initial.get_untracked())?,
                multiplier: number("multiplier", &self.multiplier.get_untracked(), "a number such as 2")?,
                max_delay_ms: ms("max_delay_ms", self.max.get_untracked())?,
                jitter: if self.jitter.get_untracked() { Jitter::Full } else { Jitter::None },
            },
            retry_on: RetryOn {
                timeout: self.timeout.get_untracked(),
                connection_error: self.connection.get_untracked(),
                throttled: self.throttled.get_untracked(),
                server_error: self.server.get_untracked(),
            },
            automatic: self.automatic.get_untracked(),
        })
    }
}

fn retry_on_label(r: &RetryOn) -> String {
    let mut parts = Vec::new();
    for (on, label) in [
        (r.timeout, "timeouts"),
        (r.connection_error, "connection errors"),
        (r.throttled, "408/429"),
        (r.server_error, "5xx"),
    ] {
        if on {
            parts.push(label);
        }
    }
    if parts.is_empty() { "nothing".to_owned() } else { parts.join(", ") }
}

#[component]
pub fn RetryPoliciesPage() -> impl IntoView {
    let save = ServerAction::<SaveRetryPolicy>::new();
    let assign = ServerAction::<SetQueueRetryPolicy>::new();
    let policies = Resource::new(move || (save.version().get(), assign.version().get()), |_| list_retry_policies());
    let editor = PolicyEditor::new();
    let local_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || local_error.get().or_else(|| last_error(save.value()).get()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match editor.spec() {
            Ok(policy) => {
                local_error.set(None);
                save.dispatch(SaveRetryPolicy { policy });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    let input = |id: &'static str, label: &'static str, field: &'static str, value: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id inputmode="decimal" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
                <FieldMessage error field id=field />
            </div>
        }
    };
    let check = |id: &'static str, label: &'static str, value: RwSignal<bool>| {
        view! {
            <label class="check" for=id>
                <input type="checkbox" id=id prop:checked=value on:change=move |ev| value.set(event_target_checked(&ev)) />
                {label}
            </label>
        }
    };
    let queue = RwSignal::new(String::new());
    let queue_policy = RwSignal::new(String::new());
    view! {
        <section class="page">
            <h1>"Retry policies"</h1>
            <p class="muted">"How often and how patiently a replay is tried. A connector's policy wins; else the queue's; else the standard one (5 attempts from 30 s, doubling, at most 10 min)."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading policies…"</p> }>
                {move || policies.get().map(|answer| match answer {
                    Ok(all) => {
                        let names: Vec<String> = all.policies.iter().map(|p| p.name.clone()).collect();
                        let queues = all.queues.clone();
                        view! {
                            <table class="grid" aria-label="Retry policies">
                                <thead>
                                    <tr>
                                        <th scope="col">"Policy"</th>
                                        <th scope="col">"Attempts"</th>
                                        <th scope="col">"Delays"</th>
                                        <th scope="col">"Retries on"</th>
                                        <th scope="col">"Automatic"</th>
                                        <th scope="col">"Actions"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {all.policies.into_iter().map(|p| {
                                        let stored = StoredValue::new(p.clone());
                                        let label = format!("Edit {}", p.name);
                                        let s = &p.schedule;
                                        let delays = format!(
                                            "from {} s ×{} up to {} s{}",
                                            seconds(s.initial_delay_ms), s.multiplier, seconds(s.max_delay_ms),
                                            if s.jitter == Jitter::Full { ", jittered" } else { "" }
                                        );
                                        view! {
                                            <tr>
                                                <td>{p.name.clone()}</td>
                                                <td>{s.max_attempts}</td>
                                                <td>{delays}</td>
                                                <td>{retry_on_label(&p.retry_on)}</td>
                                                <td>{if p.automatic { "yes" } else { "no" }}</td>
                                                <td class="actions"><button type="button" on:click=move |_| editor.load(&stored.get_value())>{label}</button></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h2>"Queues"</h2>
                            <ul aria-label="Queue retry policies">
                                {all.queue_policies.into_iter().map(|(q, p)| view! { <li>{format!("{q}: {p}")}</li> }).collect_view()}
                            </ul>
                            <form class="form inline" aria-label="Queue retry policy" on:submit=move |ev: SubmitEvent| {
                                ev.prevent_default();
                                assign.dispatch(SetQueueRetryPolicy { queue: queue.get_untracked(), policy: Some(queue_policy.get_untracked()) });
                            }>
                                <div class="field">
                                    <label for="queue-policy-queue">"Queue"</label>
                                    <select id="queue-policy-queue" on:change=move |ev| queue.set(event_target_value(&ev))>
                                        <option value="">"(choose)"</option>
                                        {queues.into_iter().map(|q| view! { <option value=q.clone()>{q.clone()}</option> }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="queue-policy-policy">"Policy"</label>
                                    <select id="queue-policy-policy" on:change=move |ev| queue_policy.set(event_target_value(&ev))>
                                        <option value="">"(standard)"</option>
                                        {names.into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                                    </select>
                                </div>
                                <button type="submit">"Set queue policy"</button>
                                <FormError error=last_error(assign.value()) />
                            </form>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                })}
            </Transition>
            <h2>"Policy"</h2>
            <form class="form wide" on:submit=submit aria-label="Retry policy">
                {input("retry-name", "Name", "name", editor.name)}
                {input("retry-attempts", "Attempts in all", "max_attempts", editor.attempts)}
                {input("retry-initial", "First wait (seconds)", "initial_delay_ms", editor.initial)}
                {input("retry-multiplier", "Multiplier", "multiplier", editor.multiplier)}
                {input("retry-max", "Longest wait (seconds)", "max_delay_ms", editor.max)}
                <fieldset>
                    <legend>"Retry on"</legend>
                    {check("retry-on-timeout", "Timeouts", editor.timeout)}
                    {check("retry-on-connection", "Connection errors", editor.connection)}
                    {check("retry-on-throttled", "Throttling (408, 429)", editor.throttled)}
                    {check("retry-on-server", "Server errors (5xx)", editor.server)}
                </fieldset>
                {check("retry-jitter", "Spread the waits at random (jitter)", editor.jitter)}
                {check("retry-automatic", "Replay new integration failures automatically, before a person sees them", editor.automatic)}
                <FormError error />
                <button type="submit">"Save policy"</button>
                <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                    <p role="status">"Policy saved."</p>
                </Show>
            </form>
        </section>
    }
}
