//! Retry policies: how often and how patiently a replay is tried, and which
//! queue uses which.

use crossdock::replay::{RetryOn, RetryPolicySpec};
use crossdock::retry::{Jitter, RetrySchedule};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::AppError;
use crate::components::forms::{FieldMessage, FormError, last_error, number};
use crate::components::loaded::Loaded;
use crate::serverfns::replays::{SaveRetryPolicy, SetQueueRetryPolicy, list_retry_policies};

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
            <Loaded resource=policies what="policies" show=move |all| {
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
                        }
                } />
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
