//! The auditor console: the trail filtered by who, what, which thing,
//! which exception, queue, site or business key, when and why; newest or
//! oldest first, a page at a time; each record's changes field by field; an
//! exception's whole history or a person's activity in one click; exports
//! to CSV and JSON Lines; and where the hash chain stands.

use chrono::Duration;
use crossdock::accounts::Permission;
use crossdock::audit::query::{AuditFilter, AuditLine, AuditOrder, ChainState, ExportFormat};
use crossdock::audit::{AuditAction, Entity};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

use crate::components::auth::Auth;
use crate::components::forms::ErrorNotice;
use crate::components::loaded::Loaded;
use crate::components::time::LocalTime;
use crate::serverfns::audit::{CheckAuditChain, audit_chain_state, read_audit};

/// The address of the console showing `filter`.
fn audit_href(filter: &AuditFilter) -> String {
    format!("/audit?{}", filter.to_query())
}

/// The chain's state, and for admins a button to check it now.
#[component]
fn ChainStatus() -> impl IntoView {
    let check = ServerAction::<CheckAuditChain>::new();
    let state = Resource::new(move || check.version().get(), |_| audit_chain_state());
    let auth = Auth::get();
    let admin = Memo::new(move |_| {
        auth.me.get().and_then(Result::ok).flatten().is_some_and(|me| me.may(Permission::ManageConfiguration))
    });
    view! {
        <div class="chain-status">
            <Loaded resource=state what="the chain's state" show=move |s: ChainState| chain_words(&s) />
            <Show when=move || admin.get()>
                <ActionForm action=check attr:class="inline">
                    <button type="submit" disabled=move || check.pending().get()>"Check the chain now"</button>
                </ActionForm>
            </Show>
            {move || check.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error /> })}
        </div>
    }
}

fn chain_words(s: &ChainState) -> impl IntoView + use<> {
    let Some(at) = s.checked_at else {
        return view! { <p role="status">{format!("The chain holds {} records; it has not been checked yet.", s.head_seq)}</p> }
            .into_any();
    };
    let by = s.requested_by.as_ref().map(|u| format!(" (asked for by {u})")).unwrap_or_default();
    match &s.broken {
        Some(broken) => view! {
            <p class="error" role="alert">
                "The chain is broken: " {broken.clone()} ". Last check " <LocalTime at /> {by}
                ". Run " <code>"crossdock audit verify"</code> " on the server for the details."
            </p>
        }
        .into_any(),
        None => {
            let verified = s.verified_seq.unwrap_or(0);
            let hash = s.verified_hash.clone().unwrap_or_default();
            let short = hash.get(..16).unwrap_or_default().to_owned();
            view! {
                <p class="ok" role="status">
                    {format!("Chain verified up to record {verified} ")}
                    <code title=hash>{short}"…"</code>
                    " at " <LocalTime at /> {by} {format!("; {} records now.", s.head_seq)}
                </p>
            }
            .into_any()
        }
    }
}

fn options<T: Copy + 'static>(
    all: &'static [T],
    chosen: Option<T>,
    name: fn(T) -> &'static str,
) -> impl IntoView + use<T> {
    all.iter()
        .map(|v| {
            let n = name(*v);
            view! { <option value=n selected=chosen.map(name) == Some(n)>{n}</option> }
        })
        .collect_view()
}

#[component]
fn FilterForm(filter: AuditFilter) -> impl IntoView {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let actor = filter.actor.as_ref().map(ToString::to_string).unwrap_or_default();
    let exception = filter.exception.map(|e| e.to_string()).unwrap_or_default();
    let from = filter.from.map(|d| d.to_string()).unwrap_or_default();
    let to = filter.to.map(|d| d.to_string()).unwrap_or_default();
    let oldest = filter.order == AuditOrder::OldestFirst;
    view! {
        <Form method="GET" action="/audit" attr:aria-label="Filter the trail" attr:class="form audit-filter">
            <div class="field">
                <label for="audit-actor">"Who"</label>
                <input id="audit-actor" name="actor" value=actor placeholder="pat, source:wms, system" />
            </div>
            <div class="field">
                <label for="audit-action">"Action"</label>
                <select id="audit-action" name="action">
                    <option value="">"any"</option>
                    {options(AuditAction::ALL, filter.action, AuditAction::as_str)}
                </select>
            </div>
            <div class="field">
                <label for="audit-entity">"On"</label>
                <select id="audit-entity" name="entity">
                    <option value="">"anything"</option>
                    {options(Entity::ALL, filter.entity, Entity::as_str)}
                </select>
            </div>
            <div class="field">
                <label for="audit-entity-id">"Its id"</label>
                <input id="audit-entity-id" name="entity_id" value=text(&filter.entity_id) />
            </div>
            <div class="field">
                <label for="audit-exception">"Exception"</label>
                <input id="audit-exception" name="exception" inputmode="numeric" value=exception />
            </div>
            <div class="field">
                <label for="audit-queue">"Queue"</label>
                <input id="audit-queue" name="queue" value=text(&filter.queue) />
            </div>
            <div class="field">
                <label for="audit-site">"Site"</label>
                <input id="audit-site" name="site" value=text(&filter.site) />
            </div>
            <div class="field">
                <label for="audit-key">"Business key"</label>
                <input id="audit-key" name="key" value=text(&filter.key) placeholder="PO-10045" />
            </div>
            <div class="field">
                <label for="audit-from">"From"</label>
                <input id="audit-from" name="from" type="date" value=from />
            </div>
            <div class="field">
                <label for="audit-to">"To"</label>
                <input id="audit-to" name="to" type="date" value=to />
            </div>
            <div class="field">
                <label for="audit-words">"Words in the reason"</label>
                <input id="audit-words" name="q" type="search" value=text(&filter.words) />
            </div>
            <div class="field">
                <label for="audit-order">"Order"</label>
                <select id="audit-order" name="order">
                    <option value="newest" selected=!oldest>"newest first"</option>
                    <option value="oldest" selected=oldest>"oldest first"</option>
                </select>
            </div>
            <button type="submit">"Show"</button>
            <a href="/audit">"Clear"</a>
        </Form>
    }
}

fn record_row(line: AuditLine) -> impl IntoView {
    let on = format!("{} {}", line.entity, line.entity_id);
    let exception = line.exception();
    let history = exception.map(|id| {
        let (page, trail) = (format!("/exceptions/{id}"), audit_href(&AuditFilter::history_of(id)));
        view! {
            <a href=page>"open"</a>
            " · "
            <a href=trail>"history"</a>
        }
    });
    let transaction = line.transaction().map(|id| {
        let (page, trail) = (format!("/transactions/{id}"), audit_href(&AuditFilter::events_of_transaction(id)));
        view! {
            <a href=page>"open"</a>
            " · "
            <a href=trail>"events"</a>
        }
    });
    // The person's week up to this record.
    let day = line.at.date_naive();
    let actor = line.actor.to_string();
    let activity = line.person().map(|name| {
        let href = audit_href(&AuditFilter::activity_of(name, day - Duration::days(7), day));
        view! { <a href=href title="What they did in the week up to this">{actor.clone()}</a> }
    });
    let who = if activity.is_some() { None } else { Some(actor.clone()) };
    let changes = line
        .changes
        .iter()
        .map(|c| {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
            view! {
                <li>
                    <span class="path">{c.path.clone()}</span>": "
                    <del>{show(&c.before)}</del>" → "<ins>{show(&c.after)}</ins>
                </li>
            }
        })
        .collect_view();
    let hash = line.hash.to_string();
    let short = hash.get(..12).unwrap_or_default().to_owned();
    view! {
        <tr>
            <td class="num">{line.seq}</td>
            <td class="time"><LocalTime at=line.at /></td>
            <td>{activity}{who}</td>
            <td>{line.action.label()}</td>
            <td>{on}" "{history}{transaction}</td>
            <td><ul class="changes">{changes}</ul></td>
            <td>{line.reason.clone().unwrap_or_default()}</td>
            <td><code title=hash>{short}</code></td>
        </tr>
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let location = use_location();
    let search = Memo::new(move |_| location.search.get());
    let page = Resource::new(move || search.get(), read_audit);
    let filter = Memo::new(move |_| AuditFilter::parse_query(&search.get()).unwrap_or_default());
    let export = move |format: ExportFormat| format!("/audit/export?format={format}&{}", filter.get().to_query());
    view! {
        <section class="page audit-page">
            <h1>"Audit trail"</h1>
            <ChainStatus />
            {move || view! { <FilterForm filter=filter.get() /> }}
            <p class="exports">
                "Export what the filter holds: "
                <a href=move || export(ExportFormat::Csv) download="audit.csv">"CSV"</a>
                " · "
                <a href=move || export(ExportFormat::JsonLines) download="audit.jsonl">"JSON Lines"</a>
            </p>
            <Loaded resource=page what="the audit trail" show=move |page| {
                let next = page.next.map(|after| format!("/audit?{}&after={after}", filter.get_untracked().to_query()));
                let empty = page.lines.is_empty();
                view! {
                    <Show when=move || empty>
                        <p class="muted">"No record matches the filter."</p>
                    </Show>
                    <table class="grid audit" aria-label="Audit trail">
                        <thead>
                            <tr>
                                <th scope="col">"#"</th>
                                <th scope="col">"When"</th>
                                <th scope="col">"Who"</th>
                                <th scope="col">"Action"</th>
                                <th scope="col">"On"</th>
                                <th scope="col">"Changes"</th>
                                <th scope="col">"Reason"</th>
                                <th scope="col">"Hash"</th>
                            </tr>
                        </thead>
                        <tbody>{page.lines.into_iter().map(record_row).collect_view()}</tbody>
                    </table>
                    <nav class="pager" aria-label="Audit pages">
                        <a href=move || audit_href(&filter.get())>"First page"</a>
                        {next.map(|href| view! { " · " <a href=href rel="next">"Next page"</a> })}
                    </nav>
                }
            } />
        </section>
    }
}
