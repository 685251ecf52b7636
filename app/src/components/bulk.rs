//! Bulk actions on a queue view: the selected rows or the whole filtered
//! view, a count before confirming, then progress and each item's outcome.

use std::collections::BTreeSet;

use leptos::prelude::*;

use super::action_form::{ActionFields, ActionFieldsView};
use crate::AppError;
use crate::components::forms::FormError;
use crossdock::triage::{BulkJob, BulkOutcome};

use crate::dto::AssigneeOption;
use crate::dto::BulkTarget;
use crate::serverfns::exceptions::{bulk_preview, bulk_status, start_bulk};

/// The bulk panel in a part of the browser bundle of its own: only those who
/// may work exceptions see it, and the queue page shows it once it is
/// interactive (it is not rendered on the server).
#[lazy]
pub fn lazy_bulk_panel(
    selected: RwSignal<BTreeSet<i64>>,
    filter_query: Memo<String>,
    people: Vec<AssigneeOption>,
    queues: Vec<String>,
    finished: Callback<()>,
) -> AnyView {
    view! { <BulkPanel selected filter_query people queues finished /> }.into_any()
}

#[component]
pub fn BulkPanel(
    selected: RwSignal<BTreeSet<i64>>,
    filter_query: Memo<String>,
    people: Vec<AssigneeOption>,
    queues: Vec<String>,
    /// Called when the action has finished, so the list shows what it did.
    finished: Callback<()>,
) -> impl IntoView {
    let whole_view = RwSignal::new(false);
    let fields = ActionFields::new("acknowledge");
    let error = RwSignal::new(None::<AppError>);
    let preview = RwSignal::new(None::<i64>);
    let job = RwSignal::new(None::<BulkJob>);
    let people = Signal::derive(move || people.clone());
    let queue_keys = Signal::derive(move || queues.clone());
    let all_kinds = Signal::derive(|| super::actions::CHOICES.iter().map(|(k, _)| (*k).to_owned()).collect());
    let target = move || {
        if whole_view.get_untracked() {
            BulkTarget::View { query: filter_query.get_untracked() }
        } else {
            BulkTarget::Selected { ids: selected.get_untracked().into_iter().collect() }
        }
    };
    // A new choice needs a new count.
    Effect::new(move |_| {
        whole_view.track();
        selected.track();
        filter_query.track();
        preview.set(None);
    });
    let check = move |_| {
        error.set(None);
        if let Err(e) = fields.input().action() {
            error.set(Some(e));
            return;
        }
        let t = target();
        leptos::task::spawn_local(async move {
            match bulk_preview(t).await {
                Ok(n) => preview.set(Some(n)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let confirm = move |_| {
        let action = match fields.input().action() {
            Ok(a) => a,
            Err(e) => return error.set(Some(e)),
        };
        let t = target();
        preview.set(None);
        leptos::task::spawn_local(async move {
            match start_bulk(t, action).await {
                Ok(id) => {
                    selected.set(BTreeSet::new());
                    follow(id, job, error).await;
                    finished.run(());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let error_signal = Signal::derive(move || error.get());
    view! {
        <details class="bulk">
            <summary>{move || format!("Bulk action ({} selected)", selected.get().len())}</summary>
            <div class="form inline" role="group" aria-label="Bulk action">
                <fieldset class="target">
                    <legend>"Act on"</legend>
                    <label class="check" for="bulk-selected">
                        <input id="bulk-selected" type="radio" name="bulk-target" prop:checked=move || !whole_view.get() on:change=move |_| whole_view.set(false) />
                        {move || format!("the {} selected row(s)", selected.get().len())}
                    </label>
                    <label class="check" for="bulk-view">
                        <input id="bulk-view" type="radio" name="bulk-target" prop:checked=whole_view on:change=move |_| whole_view.set(true) />
                        "everything this view holds, on every page"
                    </label>
                </fieldset>
                <ActionFieldsView fields id="bulk" kinds=all_kinds people queues=queue_keys error=error_signal />
                <button type="button" on:click=check>"Count"</button>
                {move || preview.get().map(|n| view! {
                    <p role="status">{format!("This will touch {n} exception(s).")}</p>
                    <button type="button" disabled=n == 0 on:click=confirm>{format!("Apply to {n}")}</button>
                })}
                <FormError error=error_signal />
            </div>
            {move || job.get().map(|j| view! { <Progress job=j /> })}
        </details>
    }
}

/// Polls a bulk job until it is finished.
async fn follow(id: i64, job: RwSignal<Option<BulkJob>>, error: RwSignal<Option<AppError>>) {
    loop {
        match bulk_status(id).await {
            Ok(status) => {
                let finished = status.finished;
                job.set(Some(status));
                if finished {
                    break;
                }
            }
            Err(e) => {
                error.set(Some(e));
                break;
            }
        }
        sleep_ms(700).await;
    }
}

async fn sleep_ms(ms: u32) {
    let (tx, rx) = futures_channel();
    set_timeout(
        move || {
            let _ = tx.send(());
        },
        std::time::Duration::from_millis(u64::from(ms)),
    );
    let _ = rx.await;
}

fn futures_channel() -> (futures::channel::oneshot::Sender<()>, futures::channel::oneshot::Receiver<()>) {
    futures::channel::oneshot::channel()
}

#[component]
fn Progress(job: BulkJob) -> impl IntoView {
    let count = |o: BulkOutcome| job.items.iter().filter(|i| i.outcome == Some(o)).count();
    let summary = format!(
        "{}: {} of {} processed — {} done, {} skipped, {} refused, {} failed",
        job.action,
        job.done,
        job.total,
        count(BulkOutcome::Done),
        count(BulkOutcome::Skipped),
        count(BulkOutcome::Refused),
        count(BulkOutcome::Failed)
    );
    let state = if job.finished { "Finished. " } else { "Running… " };
    view! {
        <div class="bulk-progress" role="status" aria-live="polite">
            <p>{state} {summary}</p>
            <progress max=job.total value=job.done></progress>
            <table class="grid" aria-label="Outcomes">
                <thead><tr><th scope="col">"Exception"</th><th scope="col">"Outcome"</th><th scope="col">"Why"</th></tr></thead>
                <tbody>
                    {job.items.into_iter().map(|i| view! {
                        <tr>
                            <td><a href=format!("/exceptions/{}", i.exception.get())>{i.exception.to_string()}</a></td>
                            <td>{i.outcome.map_or("pending", BulkOutcome::as_str)}</td>
                            <td>{i.message.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
