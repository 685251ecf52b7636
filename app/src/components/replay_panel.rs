//! The replay side of an integration failure on its detail page: where its
//! message goes, the circuit, where the replay stands, every attempt as it
//! happens, and replaying (as received or corrected).

use crossdock::accounts::Permission;
use crossdock::replay::{Breaker, JsonChange, ReplayState, json_diff};
use leptos::prelude::*;

use crate::AppError;
use crate::components::auth::Auth;
use crate::components::forms::{ErrorNotice, FieldMessage, FormError};
use crossdock::replay::ReplayAttempt;

use crate::components::time::LocalTime;
use crate::dto::{ConnectorEntry, ReplayView};
use crate::serverfns::replays::{parse_message, replay, replay_answer};

/// The answers read so far, by replay job and attempt.
type Answers = RwSignal<std::collections::BTreeMap<(i64, i64), Result<String, AppError>>>;

/// What the person is doing in the panel, kept across refreshes of the page
/// (which come whenever anything changes).
#[derive(Clone, Copy)]
pub struct ReplayForm {
    editing: RwSignal<bool>,
    text: RwSignal<String>,
    error: RwSignal<Option<AppError>>,
    done: RwSignal<Option<String>>,
    answers: Answers,
}

impl ReplayForm {
    pub fn new() -> Self {
        Self {
            editing: RwSignal::new(false),
            text: RwSignal::new(String::new()),
            error: RwSignal::new(None),
            done: RwSignal::new(None),
            answers: RwSignal::new(Default::default()),
        }
    }

    /// Whether a correction is being written (the page then holds still).
    pub fn editing(&self) -> bool {
        self.editing.get_untracked()
    }
}

impl Default for ReplayForm {
    fn default() -> Self {
        Self::new()
    }
}

/// The replay side of an integration failure; `status` is loaded (and
/// refreshed) by the page.
#[component]
pub fn ReplayPanel(
    status: Resource<Result<ReplayView, AppError>>,
    id: i64,
    open: bool,
    refresh: RwSignal<u64>,
    form: ReplayForm,
    zone: Option<String>,
) -> impl IntoView {
    view! {
        <section aria-label="Replay" class="replay-panel">
            <h2>"Replay"</h2>
            {move || status.get().map(|answer| match answer {
                Ok(v) => view! { <ReplayBody v id open refresh form zone=zone.clone() /> }.into_any(),
                Err(error) => view! { <ErrorNotice error /> }.into_any(),
            })}
        </section>
    }
}

fn breaker_text(b: &Breaker) -> (&'static str, String) {
    match b {
        Breaker::Closed { failures: 0 } => ("closed", "Circuit closed: deliveries go through.".to_owned()),
        Breaker::Closed { failures } => ("closed", format!("Circuit closed ({failures} failure(s) in a row).")),
        Breaker::Open { since } => {
            ("open", format!("Circuit open since {}: deliveries are paused.", since.format("%H:%M:%S UTC")))
        }
        Breaker::HalfOpen { .. } => ("half-open", "Circuit half-open: one probe is on its way.".to_owned()),
    }
}

fn connector_line(c: &ConnectorEntry) -> impl IntoView + use<> {
    let (state, text) = breaker_text(&c.breaker);
    view! {
        <p>"Replays go to " <strong>{c.spec.name.clone()}</strong> " — " <code>{format!("{} {}", c.spec.method.as_str(), c.spec.url)}</code></p>
        <p class=format!("breaker breaker-{state}") data-breaker=state>{text}</p>
    }
}

fn state_line(v: &ReplayView, zone: Option<String>) -> impl IntoView + use<> {
    let state = v.state;
    view! {
        {state.map(|s| view! { <p class=format!("replay-state replay-{}", s.as_str()) data-replay=s.as_str()><strong>{s.label()}</strong></p> })}
        {v.note.clone().map(|n| view! { <p class="replay-note">{n}</p> })}
        {v.next_attempt_at.filter(|_| state == Some(ReplayState::Scheduled)).map(|t| view! {
            <p class="muted">"Next attempt " <LocalTime at=t zone /></p>
        })}
    }
}

fn changes_list(changes: &[JsonChange]) -> impl IntoView + use<> {
    let show = |v: &Option<serde_json::Value>| v.as_ref().map_or_else(|| "(none)".to_owned(), |v| v.to_string());
    let items = changes
        .iter()
        .map(|c| {
            let pointer = if c.pointer.is_empty() { "(whole message)".to_owned() } else { c.pointer.clone() };
            view! {
                <li>
                    <code>{pointer}</code> ": " <del>{show(&c.before)}</del> " → " <ins>{show(&c.after)}</ins>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="diff" aria-label="Changes">{items}</ul> }
}

/// What the target answered, read only when asked for: each reading is
/// recorded in the audit trail.
#[component]
fn Answer(id: i64, job: i64, attempt: i64, answers: Answers) -> impl IntoView {
    let show = move |_| {
        leptos::task::spawn_local(async move {
            let read = replay_answer(id, job, attempt).await;
            answers.update(|a| {
                a.insert((job, attempt), read);
            });
        });
    };
    move || match answers.with(|a| a.get(&(job, attempt)).cloned()) {
        None => view! {
            <button type="button" class="secondary" title="Reading it is recorded in the audit trail" on:click=show>
                "Show the answer"
            </button>
        }
        .into_any(),
        Some(Ok(text)) => view! { <code class="response-head">{text}</code> }.into_any(),
        Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
    }
}

fn attempts_table(
    id: i64,
    attempts: &[ReplayAttempt],
    zone: Option<String>,
    answers: Answers,
) -> impl IntoView + use<> {
    let rows = attempts
        .iter()
        .map(|a| {
            let answer = a.answered.then(|| view! { <Answer id job=a.job attempt=a.attempt answers /> });
            view! {
                <tr>
                    <td>{format!("#{} · {}", a.job, a.attempt)}</td>
                    <td><LocalTime at=a.started_at zone=zone.clone() /></td>
                    <td class=format!("outcome outcome-{}", a.outcome.as_str())>{a.outcome.as_str().replace('_', " ")}</td>
                    <td>{a.http_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into())}</td>
                    <td>{a.latency_ms.map(|l| format!("{l} ms")).unwrap_or_else(|| "—".into())}</td>
                    <td>{answer}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="grid attempts" aria-label="Attempts">
            <thead>
                <tr>
                    <th scope="col">"Replay · attempt"</th>
                    <th scope="col">"Started"</th>
                    <th scope="col">"Outcome"</th>
                    <th scope="col">"HTTP"</th>
                    <th scope="col">"Latency"</th>
                    <th scope="col">"Answer (first KiB)"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn ReplayBody(
    v: ReplayView,
    id: i64,
    open: bool,
    refresh: RwSignal<u64>,
    form: ReplayForm,
    zone: Option<String>,
) -> impl IntoView {
    let auth = Auth::get();
    let may = move |p: Permission| auth.me.get().and_then(Result::ok).flatten().is_some_and(|me| me.may(p));
    let busy = v.state == Some(ReplayState::Scheduled);
    let can_replay = open && !busy && v.connector.is_some();
    let ReplayForm { editing, text, error, done, answers } = form;
    let original: serde_json::Value =
        serde_json::from_str(&v.original).unwrap_or_else(|_| serde_json::Value::String(v.original.clone()));
    let current = v.current.clone();
    let received = StoredValue::new(v.current.clone());
    // What the edited text changes, or why it is not JSON.
    let preview = Memo::new(move |_| parse_message(&text.get()).map(|edited| json_diff(&original, &edited)));
    // A failure from a source the connector does not trust needs a
    // supervisor's confirmation, which every replay from here then carries.
    let confirm = !v.trusted;
    let send = move |corrected: Option<String>| {
        error.set(None);
        done.set(None);
        leptos::task::spawn_local(async move {
            match replay(id, corrected, confirm).await {
                Ok(job) => {
                    done.set(Some(format!("Replay #{job} queued.")));
                    editing.set(false);
                    refresh.update(|r| *r += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let error_signal = Signal::derive(move || error.get());
    let no_connector = v.connector.is_none();
    let untrusted = v.connector.as_ref().filter(|_| !v.trusted).map(|c| {
        let from = v.filed_by.clone().map_or_else(|| "an unknown source".to_owned(), |s| format!("source {s}"));
        format!(
            "Filed by {from}, which connector {} does not replay on its word: check the message, then a supervisor confirms the replay.",
            c.spec.name
        )
    });
    let may_replay = move || may(Permission::WorkExceptions) && (!confirm || may(Permission::ConfirmReplays));
    view! {
        {v.connector.as_ref().map(connector_line)}
        {no_connector.then(|| view! { <p class="muted">"No connector replays this system and operation; an admin can add one under Connectors."</p> })}
        {untrusted.map(|text| view! { <p class="notice untrusted" role="note">{text}</p> })}
        {state_line(&v, zone.clone())}
        {(!v.changes.is_empty()).then(|| view! {
            <details class="correction">
                <summary>{format!("The message was corrected ({} change(s))", v.changes.len())}</summary>
                {changes_list(&v.changes)}
            </details>
        })}
        <Show when=move || can_replay && may_replay()>
            <div class="replay-actions">
                <button type="button" on:click=move |_| send(None)>{if confirm { "Confirm and replay" } else { "Replay" }}</button>
                <Show when=move || may(Permission::CorrectMessages)>
                    <button type="button" class="secondary" on:click=move |_| {
                        if !editing.get_untracked() {
                            text.set(received.get_value());
                        }
                        editing.update(|e| *e = !*e);
                    }>"Edit and replay"</button>
                </Show>
            </div>
        </Show>
        <Show when=move || editing.get()>
            <form class="form wide" aria-label="Corrected message" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                send(Some(text.get_untracked()));
            }>
                <div class="field">
                    <label for="replay-message">"Message (JSON)"</label>
                    <textarea id="replay-message" class="json-editor" rows="12" spellcheck="false"
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <FieldMessage error=error_signal field="message" id="replay-message-error" />
                </div>
                {move || match preview.get() {
                    Ok(changes) if changes.is_empty() => view! { <p class="muted">"No changes from the message as received."</p> }.into_any(),
                    Ok(changes) => view! { <div><h3>"Changes from the message as received"</h3>{changes_list(&changes)}</div> }.into_any(),
                    Err(e) => view! { <p class="field-error" role="alert">{e.for_field("message").unwrap_or_default()}</p> }.into_any(),
                }}
                <div class="replay-actions">
                    <button type="submit" disabled=move || preview.with(Result::is_err)>"Replay corrected message"</button>
                    <button type="button" class="secondary" on:click={
                        let current = current.clone();
                        move |_| text.set(current.clone())
                    }>"Undo edits"</button>
                </div>
            </form>
        </Show>
        <FieldMessage error=error_signal field="action" id="replay-action-error" />
        <FieldMessage error=error_signal field="connector" id="replay-connector-error" />
        <FormError error=error_signal />
        // "Queued" holds only while the replay is under way.
        {move || done.get().filter(|_| busy).map(|m| view! { <p role="status">{m}</p> })}
        {(!v.attempts.is_empty()).then(|| attempts_table(id, &v.attempts, zone.clone(), answers))}
        {v.attempts.is_empty().then(|| view! { <p class="muted">"No delivery attempts yet."</p> })}
    }
}
