//! One business transaction end to end: the stages of its flow (reached,
//! missed, still to come), one lane per system that took part with its
//! milestones and their facts, the exceptions at the stage where they
//! happened, and the transactions it is linked to.

use std::collections::BTreeSet;

use crossdock::event::MilestoneKind;
use crossdock::lineage::Progress;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::audit_link::AuditLink;
use crate::components::forms::ErrorNotice;
use crate::components::loaded::Loaded;
use crate::components::sla_clock::{Now, describe};
use crate::components::time::LocalTime;
use crate::dto::{LineageException, LineageView, MilestoneView, TransactionSummary};
use crate::serverfns::lineage::{milestone_event, transaction};

/// How far a stage is: reached, passed without its milestone, or to come.
fn stage_state(progress: &Progress, stage: MilestoneKind, position: usize) -> &'static str {
    if progress.gaps.contains(&stage) {
        "gap"
    } else if position < progress.reached {
        "reached"
    } else {
        "pending"
    }
}

/// The stages of the flow, as a row of steps.
#[component]
pub fn StageSteps(progress: Progress, #[prop(default = Vec::new())] overdue: Vec<MilestoneKind>) -> impl IntoView {
    let steps = progress
        .flow
        .stages()
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let state = stage_state(&progress, *stage, i);
            let late = overdue.contains(stage);
            let words = match (state, late) {
                (_, true) => "overdue",
                ("gap", _) => "never seen",
                ("reached", _) => "reached",
                _ => "to come",
            };
            let class = format!("stage stage-{state}{}", if late { " stage-overdue" } else { "" });
            view! {
                <li class=class data-stage=stage.as_str() aria-label=format!("{}: {words}", stage.label())>
                    {stage.label()}
                </li>
            }
        })
        .collect_view();
    view! { <ol class="stages" aria-label="Stages">{steps}</ol> }
}

fn summary_line(t: &TransactionSummary) -> String {
    let stage = t.stage.map_or_else(|| "no milestone yet".to_owned(), |s| s.label().to_owned());
    let flow = t.flow.map_or("", |f| f.label());
    format!("{flow} · {stage} ({} of {})", t.reached, t.stages)
}

#[component]
fn Milestone(m: MilestoneView, transaction: i64, zone: Option<String>) -> impl IntoView {
    let open = RwSignal::new(false);
    let raw = Resource::new(
        move || open.get(),
        move |open| async move { if open { Some(milestone_event(transaction, m.event).await) } else { None } },
    );
    let facts =
        m.facts.into_iter().map(|(k, v)| view! { <li><span class="fact">{k}</span> " " {v}</li> }).collect_view();
    view! {
        <article class="milestone" data-milestone=m.kind.as_str() aria-label=m.kind.label()>
            <h4>{m.kind.label()}</h4>
            <p class="when"><LocalTime at=m.at zone /> <span class="muted">{format!(" · {} UTC", m.at.format("%Y-%m-%d %H:%M"))}</span></p>
            <p class="muted">{m.source}</p>
            <ul class="facts">{facts}</ul>
            <button type="button" class="link-button" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                {move || if open.get() { "Hide the event" } else { "The event as received" }}
            </button>
            <Transition>
                {move || raw.get().flatten().map(|answer| match answer {
                    Ok(e) => view! {
                        <div class="raw-event" role="region" aria-label="Event as received">
                            <p>{format!("{} · id {} · from {} ({})", e.kind, e.event_id, e.source, e.sender)}</p>
                            {e.traceparent.map(|t| view! { <p>"Trace " <code>{t}</code></p> })}
                            <pre>{e.body}</pre>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                })}
            </Transition>
        </article>
    }
}

#[component]
fn ExceptionHere(e: LineageException, zone: Option<String>) -> impl IntoView {
    let now = Now::get();
    match e.item {
        Some(item) => {
            let sla = item.sla;
            view! {
                <article class="on-lineage" aria-label=format!("Exception {}", item.id)>
                    <a href=format!("/exceptions/{}", item.id.get())>{format!("{} · {}", item.id, item.kind.label())}</a>
                    <p>{item.summary.clone()}</p>
                    <p class="muted">
                        {format!("{} · {} · ", item.status.label(), item.assignee.clone().unwrap_or_else(|| "unassigned".into()))}
                        {move || describe(&sla, now.get()).1}
                    </p>
                    <p class="muted"><LocalTime at=e.at zone /></p>
                </article>
            }
            .into_any()
        }
        None => view! {
            <article class="on-lineage other-queue" aria-label="Exception in another queue">
                <p>"An exception in another queue"</p>
                <p class="muted"><LocalTime at=e.at zone /></p>
            </article>
        }
        .into_any(),
    }
}

fn lineage_body(v: LineageView) -> impl IntoView {
    let t = v.transaction.clone();
    let id = t.id;
    let zone = v.zone.clone();
    let stages: Vec<MilestoneKind> = v.progress.as_ref().map(|p| p.flow.stages().to_vec()).unwrap_or_default();
    // Lanes: every system that sent a milestone, in the order they first did.
    let mut lanes: Vec<String> = Vec::new();
    for m in &v.milestones {
        if !lanes.contains(&m.lane) {
            lanes.push(m.lane.clone());
        }
    }
    let other: BTreeSet<MilestoneKind> = v.milestones.iter().map(|m| m.kind).filter(|k| !stages.contains(k)).collect();
    let columns: Vec<MilestoneKind> = stages.iter().copied().chain(other).collect();
    let header = columns.iter().map(|c| view! { <th scope="col">{c.label()}</th> }).collect_view();
    let lane_rows = lanes
        .iter()
        .map(|lane| {
            let cells = columns
                .iter()
                .map(|c| {
                    let here: Vec<MilestoneView> =
                        v.milestones.iter().filter(|m| &m.lane == lane && m.kind == *c).cloned().collect();
                    let zone = zone.clone();
                    view! {
                        <td>{here.into_iter().map(|m| view! { <Milestone m transaction=id zone=zone.clone() /> }).collect_view()}</td>
                    }
                })
                .collect_view();
            view! { <tr><th scope="row">{lane.clone()}</th>{cells}</tr> }
        })
        .collect_view();
    let exception_cells = columns
        .iter()
        .map(|c| {
            let here: Vec<LineageException> = v.exceptions.iter().filter(|e| e.stage == Some(*c)).cloned().collect();
            let zone = zone.clone();
            view! { <td>{here.into_iter().map(|e| view! { <ExceptionHere e zone=zone.clone() /> }).collect_view()}</td> }
        })
        .collect_view();
    let unplaced: Vec<LineageException> =
        v.exceptions.iter().filter(|e| e.stage.is_none_or(|s| !columns.contains(&s))).cloned().collect();
    let has_exceptions = !v.exceptions.is_empty();
    let dimensions = [("Site", t.site.clone()), ("Supplier", t.supplier.clone()), ("Customer", t.customer.clone())]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| view! { <li>{format!("{k}: {v}")}</li> }))
        .collect_view();
    view! {
        <header class="page-header">
            <h1>{format!("Transaction {}", t.name)}</h1>
        </header>
        <p class="lineage-summary">{summary_line(&t)}</p>
        <ul class="keys" aria-label="Keys">
            {v.keys.iter().map(|k| view! { <li><code>{k.clone()}</code></li> }).collect_view()}
            {dimensions}
        </ul>
        {v.progress.clone().map(|progress| view! { <StageSteps progress overdue=v.overdue.clone() /> })}
        <AuditLink
            href=format!("/audit?{}", crossdock::audit::query::AuditFilter::events_of_transaction(t.id).to_query())
            label="Its events as received, in the audit trail"
        />
        {if v.milestones.is_empty() {
            view! { <p class="muted">"No milestone of this transaction has arrived yet."</p> }.into_any()
        } else {
            view! {
                <div class="lanes-scroll">
                    <table class="grid lanes" aria-label="Lanes">
                        <thead><tr><th scope="col">"System"</th>{header}</tr></thead>
                        <tbody>
                            {lane_rows}
                            {has_exceptions.then(|| view! { <tr class="exceptions-lane"><th scope="row">"Exceptions"</th>{exception_cells}</tr> })}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        {(!unplaced.is_empty()).then(|| view! {
            <section aria-label="Other exceptions">
                <h2>"Exceptions"</h2>
                {unplaced.into_iter().map(|e| view! { <ExceptionHere e zone=zone.clone() /> }).collect_view()}
            </section>
        })}
        <section aria-label="Linked transactions">
            <h2>"Linked transactions"</h2>
            {if v.linked.is_empty() {
                view! { <p class="muted">"None: no other transaction shares a key with this one."</p> }.into_any()
            } else {
                view! {
                    <ul class="linked">
                        {v.linked.iter().map(|l| view! {
                            <li><a href=format!("/transactions/{}", l.id)>{l.name.clone()}</a> " — " {summary_line(l)}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn LineagePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|i| i.parse::<i64>().ok()).unwrap_or(0));
    let lineage = Resource::new(move || id.get(), transaction);
    view! {
        <section class="page lineage-page">
            <p><a href="/transactions">"← Transactions"</a></p>
            <Loaded resource=lineage what="the transaction" show=lineage_body />
        </section>
    }
}
