//! Routing rules: an ordered list (first match wins) edited in the browser,
//! validated as a whole before it is saved, with a dry run against an event
//! and the effect on open exceptions shown before saving.

use crossdock::Severity;
use crossdock::routing::{ConditionSpec, RouteDecision, RuleOutcome, RuleSetSpec, RuleSpec};
use leptos::ev::{DragEvent, SubmitEvent};
use leptos::prelude::*;
use serde_json::Value;

use crate::AppError;
use crate::components::forms::{FormError, last_error, messages_under};
use crate::components::loaded::Loaded;
use crate::dto::{MoveView, RoutingChoices};
use crate::serverfns::config::{DryRun, RoutingImpact, SaveRouting, routing};

const FIELDS: [(&str, &str); 6] = [
    ("type", "Type"),
    ("source", "Source"),
    ("site", "Site"),
    ("supplier", "Supplier"),
    ("severity", "Severity"),
    ("data", "Data field"),
];
const OPS: [(&str, &str); 7] = [
    ("equals", "equals"),
    ("one_of", "is one of"),
    ("prefix", "starts with"),
    ("lt", "<"),
    ("le", "≤"),
    ("gt", ">"),
    ("ge", "≥"),
];

#[derive(Clone, Copy)]
struct ConditionRow {
    id: usize,
    field: RwSignal<String>,
    pointer: RwSignal<String>,
    op: RwSignal<String>,
    value: RwSignal<String>,
}

#[derive(Clone, Copy)]
struct RuleRow {
    id: usize,
    name: RwSignal<String>,
    enabled: RwSignal<bool>,
    queue: RwSignal<String>,
    severity: RwSignal<String>,
    override_severity: RwSignal<bool>,
    assignee: RwSignal<String>,
    conditions: RwSignal<Vec<ConditionRow>>,
}

/// The rule set being edited.
#[derive(Clone, Copy)]
struct Editor {
    rules: RwSignal<Vec<RuleRow>>,
    fallback: RwSignal<String>,
    next_id: StoredValue<usize>,
    dragging: RwSignal<Option<usize>>,
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

impl Editor {
    fn new() -> Self {
        Self {
            rules: RwSignal::new(Vec::new()),
            fallback: RwSignal::new(String::new()),
            next_id: StoredValue::new(0),
            dragging: RwSignal::new(None),
        }
    }

    fn id(&self) -> usize {
        self.next_id.update_value(|n| *n += 1);
        self.next_id.get_value()
    }

    fn condition(&self, c: &ConditionSpec) -> ConditionRow {
        let (field, pointer) = match c.field.strip_prefix("data:") {
            Some(p) => ("data".to_owned(), p.to_owned()),
            None => (c.field.clone(), String::new()),
        };
        ConditionRow {
            id: self.id(),
            field: RwSignal::new(field),
            pointer: RwSignal::new(pointer),
            op: RwSignal::new(c.op.clone()),
            value: RwSignal::new(value_text(&c.value)),
        }
    }

    fn rule(&self, r: &RuleSpec) -> RuleRow {
        RuleRow {
            id: self.id(),
            name: RwSignal::new(r.name.clone()),
            enabled: RwSignal::new(r.enabled),
            queue: RwSignal::new(r.queue.clone()),
            severity: RwSignal::new(r.severity.map(|s| s.as_str().to_owned()).unwrap_or_default()),
            override_severity: RwSignal::new(r.override_severity),
            assignee: RwSignal::new(r.assignee.clone().unwrap_or_default()),
            conditions: RwSignal::new(r.conditions.iter().map(|c| self.condition(c)).collect()),
        }
    }

    fn load(&self, spec: &RuleSetSpec) {
        self.rules.set(spec.rules.iter().map(|r| self.rule(r)).collect());
        self.fallback.set(spec.fallback_queue.clone());
    }

    /// The rule set as edited, read again whenever any part of it changes.
    fn spec(&self) -> RuleSetSpec {
        self.fallback.track();
        for r in self.rules.get() {
            r.name.track();
            r.enabled.track();
            r.queue.track();
            r.severity.track();
            r.override_severity.track();
            r.assignee.track();
            for c in r.conditions.get() {
                c.field.track();
                c.pointer.track();
                c.op.track();
                c.value.track();
            }
        }
        self.spec_untracked()
    }

    /// The rule set as edited now.
    fn spec_untracked(&self) -> RuleSetSpec {
        let rules = self
            .rules
            .get_untracked()
            .iter()
            .map(|r| RuleSpec {
                name: r.name.get_untracked(),
                enabled: r.enabled.get_untracked(),
                queue: r.queue.get_untracked(),
                severity: r.severity.get_untracked().parse::<Severity>().ok(),
                override_severity: r.override_severity.get_untracked(),
                assignee: Some(r.assignee.get_untracked()).filter(|a| !a.trim().is_empty()),
                conditions: r
                    .conditions
                    .get_untracked()
                    .iter()
                    .map(|c| {
                        let field = c.field.get_untracked();
                        let field =
                            if field == "data" { format!("data:{}", c.pointer.get_untracked().trim()) } else { field };
                        let op = c.op.get_untracked();
                        let text = c.value.get_untracked();
                        let value = match op.as_str() {
                            "one_of" => Value::Array(
                                text.split(',')
                                    .map(str::trim)
                                    .filter(|s| !s.is_empty())
                                    .map(|s| Value::String(s.to_owned()))
                                    .collect(),
                            ),
                            "lt" | "le" | "gt" | "ge" => text
                                .trim()
                                .parse::<f64>()
                                .ok()
                                .and_then(serde_json::Number::from_f64)
                                .map(Value::Number)
                                .unwrap_or(Value::String(text.clone())),
                            _ => Value::String(text.trim().to_owned()),
                        };
                        ConditionSpec { field, op, value }
                    })
                    .collect(),
            })
            .collect();
        RuleSetSpec { rules, fallback_queue: self.fallback.get_untracked() }
    }

    fn move_rule(&self, from: usize, to: usize) {
        self.rules.update(|rules| {
            if from < rules.len() && to < rules.len() {
                let rule = rules.remove(from);
                rules.insert(to, rule);
            }
        });
    }

    fn index_of(&self, id: usize) -> usize {
        self.rules.with(|rules| rules.iter().position(|r| r.id == id).unwrap_or(0))
    }
}

#[component]
pub fn RoutingPage() -> impl IntoView {
    let loaded = Resource::new(|| (), |_| routing());
    view! {
        <section class="page">
            <h1>"Routing rules"</h1>
            <p class="muted">"Rules are tried in order; the first enabled rule whose conditions all hold decides the queue."</p>
            <Loaded resource=loaded what="rules" show=move |(spec, choices)| view! { <RuleSetEditor spec choices /> }.into_any() />
        </section>
    }
}

#[component]
fn RuleSetEditor(spec: RuleSetSpec, choices: RoutingChoices) -> impl IntoView {
    let editor = Editor::new();
    editor.load(&spec);
    // What is saved; anything else is an unsaved change.
    let saved = RwSignal::new(editor.spec_untracked());
    let dirty = Memo::new(move |_| editor.spec() != saved.get());
    guard_unsaved(dirty);
    let queues = StoredValue::new(choices.queues.clone());
    let save = ServerAction::<SaveRouting>::new();
    let impact = ServerAction::<RoutingImpact>::new();
    let reroute = RwSignal::new(false);
    let error = last_error(save.value());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveRouting { rules: editor.spec_untracked(), reroute: reroute.get_untracked() });
    };
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            saved.set(editor.spec_untracked());
        }
    });
    let add_rule = move |_| {
        let rule = editor.rule(&RuleSpec {
            name: String::new(),
            enabled: true,
            conditions: Vec::new(),
            queue: queues.get_value().first().cloned().unwrap_or_default(),
            severity: None,
            override_severity: false,
            assignee: None,
        });
        editor.rules.update(|r| r.push(rule));
    };
    view! {
        <Show when=move || dirty.get()>
            <p class="notice unsaved" role="status">"Unsaved changes: leaving this page warns first."</p>
        </Show>
        <form class="rules" on:submit=submit aria-label="Routing rules">
            <ol class="rule-list">
                <For each=move || editor.rules.get() key=|r| r.id let:rule>
                    <RuleEditor rule editor queues error />
                </For>
            </ol>
            <button type="button" on:click=add_rule>"Add rule"</button>
            <div class="field">
                <label for="fallback-queue">"When no rule matches, the catch-all queue"</label>
                <select id="fallback-queue" on:change=move |ev| editor.fallback.set(event_target_value(&ev))>
                    {queues.get_value().into_iter().map(|q| {
                        let selected = q == editor.fallback.get_untracked();
                        view! { <option value=q.clone() selected=selected>{q.clone()}</option> }
                    }).collect_view()}
                </select>
                {move || messages_under(error.get(), "fallback_queue").into_iter().map(|m| view! { <p class="field-error" role="alert">{m}</p> }).collect_view()}
            </div>
            <DryRunPanel editor recent=choices.recent_events.clone() />
            <section class="impact" aria-label="Effect on open exceptions">
                <h2>"Effect on open exceptions"</h2>
                <button type="button" on:click=move |_| { impact.dispatch(RoutingImpact { rules: editor.spec_untracked() }); }>
                    "Check which open exceptions would move"
                </button>
                <FormError error=last_error(impact.value()) />
                {move || impact.value().get().and_then(Result::ok).map(|moves| view! { <MoveList moves title="would move" /> })}
                <label class="check" for="reroute">
                    <input id="reroute" type="checkbox" prop:checked=reroute on:change=move |ev| reroute.set(event_target_checked(&ev)) />
                    "When saving, also move the open exceptions these rules send elsewhere"
                </label>
            </section>
            <FormError error />
            {move || {
                let count = match error.get() {
                    Some(AppError::Fields(f)) => f.len(),
                    _ => 0,
                };
                (count > 0).then(|| view! { <p class="error" role="alert">{format!("The rules were not saved: {count} problem(s), shown at the rules concerned.")}</p> })
            }}
            <button type="submit">"Save rules"</button>
            {move || {
                save.value().get().and_then(Result::ok).map(|moves| {
                    let moved = moves.iter().filter(|m| m.outcome.as_deref() == Some("moved")).count();
                    view! {
                        <p role="status">{format!("Rules saved. {moved} open exception(s) moved.")}</p>
                        <MoveList moves title="re-routed" />
                    }
                })
            }}
        </form>
    }
}

/// Warns before the page is left while the rules have unsaved changes: a
/// reload or a closed tab (the browser asks), or a link (a question here).
fn guard_unsaved(dirty: Memo<bool>) {
    let unload = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if dirty.get_untracked() {
            ev.prevent_default();
            ev.set_return_value("unsaved");
        }
    });
    on_cleanup(move || unload.remove());
    // Links are caught before the router follows them (capture phase).
    Effect::new(move |_| {
        use leptos::wasm_bindgen::JsCast;
        use leptos::wasm_bindgen::closure::Closure;
        let guard = Closure::<dyn Fn(leptos::web_sys::MouseEvent)>::new(move |ev: leptos::web_sys::MouseEvent| {
            let to_link = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .and_then(|el| el.closest("a[href]").ok().flatten())
                .is_some();
            if to_link && dirty.get_untracked() {
                let leave = window()
                    .confirm_with_message("The routing rules have unsaved changes. Leave without saving them?")
                    .unwrap_or(true);
                if !leave {
                    ev.prevent_default();
                    ev.stop_propagation();
                }
            }
        });
        let _ = window().add_event_listener_with_callback_and_bool("click", guard.as_ref().unchecked_ref(), true);
        let guard = StoredValue::new_local(guard);
        on_cleanup(move || {
            guard.with_value(|g| {
                let _ =
                    window().remove_event_listener_with_callback_and_bool("click", g.as_ref().unchecked_ref(), true);
            });
        });
    });
}

#[component]
fn MoveList(moves: Vec<MoveView>, title: &'static str) -> impl IntoView {
    let count = moves.len();
    view! {
        <p>{format!("{count} open exception(s) {title}.")}</p>
        <Show when=move || { count > 0 }>
            <table class="grid" aria-label=title>
                <thead>
                    <tr>
                        <th scope="col">"Exception"</th>
                        <th scope="col">"Summary"</th>
                        <th scope="col">"From"</th>
                        <th scope="col">"To"</th>
                        <th scope="col">"Outcome"</th>
                    </tr>
                </thead>
                <tbody>
                    {moves
                        .iter()
                        .map(|m| view! {
                            <tr>
                                <td>{format!("EX-{}", m.exception_id)}</td>
                                <td>{m.summary.clone()}</td>
                                <td>{m.from.clone()}</td>
                                <td>{m.to.clone()}</td>
                                <td>{m.outcome.clone().unwrap_or_else(|| "—".to_owned())}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </Show>
    }
}

#[component]
fn RuleEditor(
    rule: RuleRow,
    editor: Editor,
    queues: StoredValue<Vec<String>>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = rule.id;
    let index = move || editor.index_of(id);
    let messages = move || {
        let i = index();
        let mut all = messages_under(error.get(), &format!("rules/{i}"));
        all.dedup();
        all
    };
    let add_condition = move |_| {
        let c = editor.condition(&ConditionSpec {
            field: "type".into(),
            op: "equals".into(),
            value: Value::String(String::new()),
        });
        rule.conditions.update(|cs| cs.push(c));
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        if let Some(from) = editor.dragging.get_untracked() {
            editor.move_rule(editor.index_of(from), index());
        }
        editor.dragging.set(None);
    };
    view! {
        <li
            class="rule"
            class:disabled=move || !rule.enabled.get()
            draggable="true"
            on:dragstart=move |_| editor.dragging.set(Some(id))
            on:dragover=|ev: DragEvent| ev.prevent_default()
            on:drop=on_drop
            aria-label=move || format!("Rule {}", index() + 1)
        >
            <div class="rule-head">
                <span class="position">{move || index() + 1}</span>
                <div class="field">
                    <label for=format!("rule-name-{id}")>"Rule name"</label>
                    <input id=format!("rule-name-{id}") prop:value=rule.name on:input=move |ev| rule.name.set(event_target_value(&ev)) />
                </div>
                <label class="check" for=format!("rule-enabled-{id}")>
                    <input id=format!("rule-enabled-{id}") type="checkbox" prop:checked=rule.enabled on:change=move |ev| rule.enabled.set(event_target_checked(&ev)) />
                    "Enabled"
                </label>
                <button type="button" aria-label=move || format!("Move rule {} up", index() + 1) disabled=move || index() == 0 on:click=move |_| editor.move_rule(index(), index().saturating_sub(1))>"↑"</button>
                <button type="button" aria-label=move || format!("Move rule {} down", index() + 1) on:click=move |_| editor.move_rule(index(), index() + 1)>"↓"</button>
                <button type="button" aria-label=move || format!("Remove rule {}", index() + 1) on:click=move |_| editor.rules.update(|r| r.retain(|x| x.id != id))>"Remove"</button>
            </div>
            <ul class="conditions">
                <For each=move || rule.conditions.get() key=|c| c.id let:condition>
                    <ConditionEditor condition rule />
                </For>
            </ul>
            <button type="button" on:click=add_condition>"Add condition"</button>
            <div class="rule-then">
                <div class="field">
                    <label for=format!("rule-queue-{id}")>"Queue"</label>
                    <select id=format!("rule-queue-{id}") on:change=move |ev| rule.queue.set(event_target_value(&ev))>
                        {queues.get_value().into_iter().map(|q| {
                            let selected = q == rule.queue.get_untracked();
                            view! { <option value=q.clone() selected=selected>{q.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for=format!("rule-severity-{id}")>"Severity"</label>
                    <select id=format!("rule-severity-{id}") on:change=move |ev| rule.severity.set(event_target_value(&ev))>
                        <option value="" selected=rule.severity.get_untracked().is_empty()>"(the event's)"</option>
                        {Severity::ALL.iter().map(|s| {
                            let selected = rule.severity.get_untracked() == s.as_str();
                            view! { <option value=s.as_str() selected=selected>{s.label()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <label class="check" for=format!("rule-override-{id}")>
                    <input id=format!("rule-override-{id}") type="checkbox" prop:checked=rule.override_severity on:change=move |ev| rule.override_severity.set(event_target_checked(&ev)) />
                    "even when the event has one"
                </label>
                <div class="field">
                    <label for=format!("rule-assignee-{id}")>"Default assignee"</label>
                    <input id=format!("rule-assignee-{id}") prop:value=rule.assignee on:input=move |ev| rule.assignee.set(event_target_value(&ev)) />
                </div>
            </div>
            {move || messages().into_iter().map(|m| view! { <p class="field-error" role="alert">{m}</p> }).collect_view()}
        </li>
    }
}

#[component]
fn ConditionEditor(condition: ConditionRow, rule: RuleRow) -> impl IntoView {
    let id = condition.id;
    view! {
        <li class="condition">
            <label class="sr-only" for=format!("cond-field-{id}")>"Field"</label>
            <select id=format!("cond-field-{id}") on:change=move |ev| condition.field.set(event_target_value(&ev))>
                {FIELDS.iter().map(|(value, label)| {
                    let selected = condition.field.get_untracked() == *value;
                    view! { <option value=*value selected=selected>{*label}</option> }
                }).collect_view()}
            </select>
            <Show when=move || condition.field.get() == "data">
                <label class="sr-only" for=format!("cond-pointer-{id}")>"Data field pointer"</label>
                <input id=format!("cond-pointer-{id}") class="pointer" placeholder="/system" prop:value=condition.pointer on:input=move |ev| condition.pointer.set(event_target_value(&ev)) />
            </Show>
            <label class="sr-only" for=format!("cond-op-{id}")>"Comparison"</label>
            <select id=format!("cond-op-{id}") on:change=move |ev| condition.op.set(event_target_value(&ev))>
                {OPS.iter().map(|(value, label)| {
                    let selected = condition.op.get_untracked() == *value;
                    view! { <option value=*value selected=selected>{*label}</option> }
                }).collect_view()}
            </select>
            <label class="sr-only" for=format!("cond-value-{id}")>"Value"</label>
            <input id=format!("cond-value-{id}") placeholder="value (a, b, c for one of)" prop:value=condition.value on:input=move |ev| condition.value.set(event_target_value(&ev)) />
            <button type="button" aria-label="Remove condition" on:click=move |_| rule.conditions.update(|cs| cs.retain(|c| c.id != id))>"×"</button>
        </li>
    }
}

#[component]
fn DryRunPanel(editor: Editor, recent: Vec<crate::dto::RecentEvent>) -> impl IntoView {
    let dry = ServerAction::<DryRun>::new();
    let event = RwSignal::new(recent.first().map(|e| e.body.clone()).unwrap_or_default());
    let recent = StoredValue::new(recent);
    let error = last_error(dry.value());
    view! {
        <section class="dry-run" aria-label="Dry run">
            <h2>"Dry run"</h2>
            <div class="field">
                <label for="dry-pick">"A recent event"</label>
                <select id="dry-pick" on:change=move |ev| {
                    let i: usize = event_target_value(&ev).parse().unwrap_or(0);
                    if let Some(e) = recent.get_value().get(i) { event.set(e.body.clone()); }
                }>
                    {recent.get_value().iter().enumerate().map(|(i, e)| view! { <option value=i.to_string()>{e.label.clone()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="dry-event">"Event (JSON)"</label>
                <textarea id="dry-event" rows="8" prop:value=event on:input=move |ev| event.set(event_target_value(&ev))></textarea>
            </div>
            <button type="button" on:click=move |_| { dry.dispatch(DryRun { rules: editor.spec_untracked(), event: event.get_untracked() }); }>
                "Dry run"
            </button>
            {move || match error.get() {
                Some(AppError::Fields(fields)) => view! {
                    <ul class="field-error" role="alert">
                        {fields.into_iter().map(|f| view! { <li>{format!("{}: {}", f.field, f.message)}</li> }).collect_view()}
                    </ul>
                }.into_any(),
                Some(other) => view! { <p class="error" role="alert">{other.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            {move || dry.value().get().and_then(Result::ok).map(|decision| view! { <Decision decision /> })}
        </section>
    }
}

#[component]
fn Decision(decision: RouteDecision) -> impl IntoView {
    let matched = decision.rule.and_then(|i| decision.trace.get(i)).map(|t| t.name.clone());
    view! {
        <div class="decision" role="status">
            <p>
                "Queue " <strong>{decision.queue.to_string()}</strong> ", severity " <strong>{decision.severity.label()}</strong>
                {decision.assignee.clone().map(|a| format!(", assigned to {a}"))}
                {match matched {
                    Some(name) => format!(" (rule “{name}”)"),
                    None => " (no rule matched: the catch-all queue)".to_owned(),
                }}
            </p>
            <table class="grid" aria-label="Why">
                <thead>
                    <tr><th scope="col">"Rule"</th><th scope="col">"Outcome"</th></tr>
                </thead>
                <tbody>
                    {decision.trace.iter().map(|t| {
                        let outcome = match &t.outcome {
                            RuleOutcome::Disabled => "disabled".to_owned(),
                            RuleOutcome::Matched => "matched".to_owned(),
                            RuleOutcome::NotMatched { reason, .. } => format!("no: {reason}"),
                        };
                        view! { <tr><td>{format!("{}. {}", t.rule + 1, t.name)}</td><td>{outcome}</td></tr> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
