//! The fields of a triage action: the action, and what it needs.

use leptos::prelude::*;

use super::actions::{CHOICES, PARTIES, RESOLUTIONS};
use crate::AppError;
use crate::components::forms::FieldMessage;
use crate::dto::{AssigneeOption, MovePreviewView};

/// The signals behind an action form.
#[derive(Clone, Copy)]
pub struct ActionFields {
    pub kind: RwSignal<String>,
    pub text: RwSignal<String>,
    pub assignee: RwSignal<String>,
    pub queue: RwSignal<String>,
    pub party: RwSignal<String>,
    pub code: RwSignal<String>,
}

impl ActionFields {
    pub fn new(kind: &str) -> Self {
        Self {
            kind: RwSignal::new(kind.to_owned()),
            text: RwSignal::new(String::new()),
            assignee: RwSignal::new(String::new()),
            queue: RwSignal::new(String::new()),
            party: RwSignal::new("supplier".to_owned()),
            // A resolution is chosen on purpose, never preselected.
            code: RwSignal::new(String::new()),
        }
    }

    pub fn input(&self) -> super::actions::ActionInput {
        super::actions::ActionInput {
            kind: self.kind.get_untracked(),
            text: self.text.get_untracked(),
            assignee: self.assignee.get_untracked(),
            queue: self.queue.get_untracked(),
            party: self.party.get_untracked(),
            code: self.code.get_untracked(),
        }
    }
}

/// The state of an action form, kept across refreshes of its page.
#[derive(Clone, Copy)]
pub struct ActionForm {
    pub fields: ActionFields,
    pub error: RwSignal<Option<AppError>>,
    pub done: RwSignal<Option<String>>,
    /// What a move to the chosen queue would do to the deadlines.
    pub preview: RwSignal<Option<MovePreviewView>>,
}

impl ActionForm {
    pub fn new(fields: ActionFields) -> Self {
        Self { fields, error: RwSignal::new(None), done: RwSignal::new(None), preview: RwSignal::new(None) }
    }
}

/// The fields; `kinds` limits the actions offered.
#[component]
pub fn ActionFieldsView(
    fields: ActionFields,
    id: &'static str,
    kinds: Signal<Vec<String>>,
    people: Signal<Vec<AssigneeOption>>,
    queues: Signal<Vec<String>>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let kind = fields.kind;
    let needs_text = move || super::actions::ActionInput::text_label(&kind.get());
    view! {
        <div class="field">
            <label for=format!("{id}-kind")>"Action"</label>
            <select id=format!("{id}-kind") on:change=move |ev| kind.set(event_target_value(&ev))>
                {move || {
                    let offered = kinds.get();
                    CHOICES
                        .iter()
                        .filter(|(k, _)| offered.iter().any(|o| o == k))
                        .map(|(value, label)| view! { <option value=*value selected=move || kind.get() == *value>{*label}</option> })
                        .collect_view()
                }}
            </select>
            <FieldMessage error field="action" id="action-error" />
            <FieldMessage error field="kind" id="kind-error" />
        </div>
        <Show when=move || kind.get() == "assign">
            <div class="field">
                <label for=format!("{id}-assignee")>"Person"</label>
                <select id=format!("{id}-assignee") on:change=move |ev| fields.assignee.set(event_target_value(&ev))>
                    <option value="">"(keep)"</option>
                    <option value="(nobody)">"(nobody)"</option>
                    {move || people.get().into_iter().map(|p| {
                        let label = format!("{} ({})", p.display_name, p.username);
                        view! { <option value=p.username>{label}</option> }
                    }).collect_view()}
                </select>
                <FieldMessage error field="assignee" id="assignee-error" />
            </div>
            <div class="field">
                <label for=format!("{id}-queue")>"Queue"</label>
                <select id=format!("{id}-queue") on:change=move |ev| fields.queue.set(event_target_value(&ev))>
                    <option value="">"(keep)"</option>
                    {move || queues.get().into_iter().map(|q| view! { <option value=q.clone()>{q.clone()}</option> }).collect_view()}
                </select>
                <FieldMessage error field="queue" id="queue-error" />
            </div>
        </Show>
        <Show when=move || kind.get() == "wait">
            <div class="field">
                <label for=format!("{id}-party")>"Waiting on"</label>
                <select id=format!("{id}-party") on:change=move |ev| fields.party.set(event_target_value(&ev))>
                    {PARTIES.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                </select>
                <FieldMessage error field="party" id="party-error" />
            </div>
        </Show>
        <Show when=move || kind.get() == "resolve">
            <div class="field">
                <label for=format!("{id}-code")>"Resolution"</label>
                <select id=format!("{id}-code") on:change=move |ev| fields.code.set(event_target_value(&ev))>
                    <option value="" selected=move || fields.code.get().is_empty()>"(choose a resolution)"</option>
                    {RESOLUTIONS.iter().map(|(v, l)| view! { <option value=*v selected=move || fields.code.get() == *v>{*l}</option> }).collect_view()}
                </select>
                <FieldMessage error field="code" id="code-error" />
            </div>
        </Show>
        {move || needs_text().map(|label| view! {
            <div class="field">
                <label for=format!("{id}-text")>{label}</label>
                <textarea id=format!("{id}-text") rows="3" prop:value=fields.text on:input=move |ev| fields.text.set(event_target_value(&ev))></textarea>
                <FieldMessage error field="text" id="text-error" />
            </div>
        })}
    }
}
