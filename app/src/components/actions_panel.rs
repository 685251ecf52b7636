//! The panel where a person acts on one exception: the changes its status and
//! holder allow, what a move to another queue does to the deadlines before it
//! is made, and the answer.

use crossdock::accounts::Permission;
use leptos::prelude::*;

use super::action_form::{ActionFieldsView, ActionForm};
use super::auth::Auth;
use super::forms::FormError;
use super::time::LocalTime;
use crate::AppError;
use crate::dto::{AssigneeOption, ExceptionDetailView, MovePreviewView, QueueChoices, QueueEntry};
use crate::serverfns::exceptions::{act, preview_move};

type Loaded<T> = Resource<Result<T, AppError>>;

#[component]
pub fn ActionsPanel(
    d: ExceptionDetailView,
    refresh: RwSignal<u64>,
    form: ActionForm,
    people: Loaded<Vec<AssigneeOption>>,
    queues: Loaded<(Vec<QueueEntry>, QueueChoices)>,
) -> impl IntoView {
    let auth = Auth::get();
    let may_work =
        move || auth.me.get().and_then(Result::ok).flatten().is_some_and(|me| me.may(Permission::WorkExceptions));
    let kinds: Vec<String> = d.offered.iter().map(|k| k.as_str().to_owned()).collect();
    let ActionForm { fields, error, done, preview } = form;
    if !kinds.contains(&fields.kind.get_untracked()) {
        fields.kind.set("comment".to_owned());
    }
    let kinds = Signal::derive(move || kinds.clone());
    let people = Signal::derive(move || people.get().and_then(Result::ok).unwrap_or_default());
    let queue_keys = Signal::derive(move || {
        queues.get().and_then(Result::ok).map(|(q, _)| q.into_iter().map(|q| q.key).collect()).unwrap_or_default()
    });
    let (id, seen, current_queue) = (d.item.id.get(), d.item.version, d.item.queue.clone());
    let zone = d.zone.clone();
    // A queue chosen in the form: what the move would do, asked once per choice.
    Effect::new(move |_| {
        let to = fields.queue.get();
        let moving = fields.kind.get() == "assign" && !to.is_empty() && to != current_queue;
        preview.set(None);
        if moving {
            leptos::task::spawn_local(async move {
                if let Ok(p) = preview_move(id, to.clone()).await
                    && fields.queue.get_untracked() == to
                {
                    preview.set(Some(p));
                }
            });
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        done.set(None);
        let action = match fields.input().action() {
            Ok(a) => a,
            Err(e) => return error.set(Some(e)),
        };
        let name = action.name();
        leptos::task::spawn_local(async move {
            match act(id, Some(seen), action).await {
                Ok(_) => {
                    done.set(Some(format!("Done: {name}.")));
                    fields.text.set(String::new());
                    fields.queue.set(String::new());
                    refresh.update(|r| *r += 1);
                }
                Err(e) => {
                    let changed = matches!(e, AppError::Conflict(_));
                    error.set(Some(e));
                    if changed {
                        refresh.update(|r| *r += 1);
                    }
                }
            }
        });
    };
    let error_signal = Signal::derive(move || error.get());
    view! {
        <Show when=may_work>
            <section aria-label="Actions" class="actions-panel">
                <h2>"Act"</h2>
                <form class="form" on:submit=submit aria-label="Act on this exception">
                    <ActionFieldsView fields id="act" kinds people queues=queue_keys error=error_signal />
                    {
                        let zone = zone.clone();
                        move || preview.get().map(|p| move_preview(p, zone.clone()))
                    }
                    <FormError error=error_signal />
                    {move || done.get().map(|m| view! { <p role="status">{m}</p> })}
                    <button type="submit">"Apply"</button>
                </form>
                <p class="muted keys">"Keys: a assign, c comment, e resolve."</p>
            </section>
        </Show>
    }
}

/// What a move does to the deadlines, shown before it is made.
fn move_preview(p: MovePreviewView, zone: Option<String>) -> impl IntoView {
    let deadline = move |label: &'static str,
                         before: Option<chrono::DateTime<chrono::Utc>>,
                         after: Option<chrono::DateTime<chrono::Utc>>| {
        let show = |at: Option<chrono::DateTime<chrono::Utc>>, zone: Option<String>| match at {
            Some(at) => view! { <LocalTime at zone /> }.into_any(),
            None => "—".into_any(),
        };
        let same = before == after;
        view! {
            <li>
                {label} ": " {show(before, zone.clone())} " → " {show(after, zone.clone())}
                {same.then_some(" (unchanged)")}
            </li>
        }
    };
    view! {
        <div class="move-preview" role="note" aria-label="What the move does">
            <p>
                {format!(
                    "Moving to {} keeps the SLA policy it was opened under; its clocks count the business hours of {} ({}).",
                    p.to, p.to, p.calendar
                )}
            </p>
            <ul>
                {deadline("Acknowledge due", p.before.acknowledge, p.after.acknowledge)}
                {deadline("Resolve due", p.before.resolve, p.after.resolve)}
            </ul>
        </div>
    }
}
