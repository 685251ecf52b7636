//! The queue view: exceptions filtered (in the URL, so a view can be
//! bookmarked or saved), sorted by what breaches first, paged by keyset, with
//! counts beside it, selection and bulk actions, keyboard moves, and live
//! refresh that keeps the selection and the scroll position.

use std::collections::BTreeSet;

use crossdock::accounts::Permission;
use crossdock::lifecycle::Status;
use crossdock::sla::SlaState;
use crossdock::triage::{AssigneeFilter, QueueFilter, SortOrder};
use crossdock::{ExceptionKind, ExceptionListItem, Severity};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::components::auth::Auth;
use crate::components::bulk::BulkPanel;
use crate::components::forms::ErrorNotice;
use crate::components::sla_clock::SlaBadge;
use crate::components::views::SavedViews;
use crate::serverfns::exceptions::{fetch_queue_counts, fetch_queue_page};

/// Seconds between refreshes of the list and the counts.
const REFRESH_SECONDS: u64 = 10;

#[component]
pub fn QueuePage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    // The filters as a URL query string (without the page cursor).
    let filter_query = Memo::new(move |_| {
        let q = query.read();
        let pairs: Vec<(String, String)> =
            q.clone().into_iter().filter(|(k, _)| &**k != "after").map(|(k, v)| (k.to_string(), v)).collect();
        let mut out = String::new();
        for (k, v) in pairs {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&k);
            out.push('=');
            out.push_str(&urlencode(&v));
        }
        out
    });
    let filter = Memo::new(move |_| QueueFilter::parse_query(&filter_query.get()).unwrap_or_default());
    let after = Memo::new(move |_| query.read().get("after"));
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        let _ =
            set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(REFRESH_SECONDS));
    });
    let page = Resource::new(
        move || (filter_query.get(), after.get(), tick.get()),
        |(q, after, _)| fetch_queue_page(q, after),
    );
    let counts = Resource::new(move || tick.get(), |_| fetch_queue_counts());
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    let focused = RwSignal::new(None::<i64>);

    let set_param = {
        let navigate = navigate.clone();
        move |name: &'static str, value: String| {
            let mut f = filter.get_untracked();
            apply(&mut f, name, &value);
            let url = format!("/?{}", f.to_query());
            navigate(&url, NavigateOptions { replace: true, scroll: false, ..Default::default() });
        }
    };
    let auth = Auth::get();
    let may_work =
        move || auth.me.get().and_then(Result::ok).flatten().is_some_and(|me| me.may(Permission::WorkExceptions));
    let items = Memo::new(move |_| page.get().and_then(Result::ok).map(|p| p.items).unwrap_or_default());
    let keyboard_navigate = navigate.clone();
    let _keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if typing(&ev) {
            return;
        }
        let ids: Vec<i64> = items.get_untracked().iter().map(|i| i.id.get()).collect();
        let at = focused.get_untracked().and_then(|f| ids.iter().position(|i| *i == f));
        let focus = |i: usize| {
            if let Some(id) = ids.get(i) {
                focused.set(Some(*id));
                if let Some(row) = document().get_element_by_id(&format!("row-{id}")) {
                    let _ = wasm_focus(&row);
                }
            }
        };
        match ev.key().as_str() {
            "j" => focus(at.map_or(0, |i| (i + 1).min(ids.len().saturating_sub(1)))),
            "k" => focus(at.map_or(0, |i| i.saturating_sub(1))),
            "Enter" | "a" | "c" | "e" => {
                if let Some(id) = focused.get_untracked() {
                    let panel = match ev.key().as_str() {
                        "a" => "?do=assign",
                        "c" => "?do=comment",
                        "e" => "?do=resolve",
                        _ => "",
                    };
                    keyboard_navigate(&format!("/exceptions/{id}{panel}"), NavigateOptions::default());
                }
            }
            _ => {}
        }
    });
    let next_page = {
        let navigate = navigate.clone();
        move |cursor: String| {
            let q = filter_query.get_untracked();
            let sep = if q.is_empty() { "" } else { "&" };
            navigate(&format!("/?{q}{sep}after={cursor}"), NavigateOptions { scroll: false, ..Default::default() });
        }
    };
    let first_page = {
        let navigate = navigate.clone();
        move |_| {
            navigate(
                &format!("/?{}", filter_query.get_untracked()),
                NavigateOptions { scroll: false, ..Default::default() },
            )
        }
    };

    view! {
        <section class="page queue-page">
            <header class="page-header">
                <h1>"Exceptions"</h1>
                <div class="filter">
                    <label for="filter">"Search"</label>
                    <input
                        id="filter"
                        type="search"
                        autocomplete="off"
                        placeholder="PO, item, shipment, tracking or words"
                        prop:value=move || filter.get().text.unwrap_or_default()
                        on:input={
                            let set_param = set_param.clone();
                            move |ev| set_param("q", event_target_value(&ev))
                        }
                    />
                </div>
            </header>
            <div class="queue-layout">
                <aside class="counts" aria-label="Counts">
                    <Transition>
                        {move || counts.get().and_then(Result::ok).map(|c| {
                            let total: i64 = c.by_queue.iter().map(|(_, n)| n).sum();
                            view! {
                                <h2>"Open by queue"</h2>
                                <ul>
                                    <li><a href="/">{format!("All queues ({total})")}</a></li>
                                    {c.by_queue.into_iter().map(|(q, n)| view! {
                                        <li><a href=format!("/?queue={q}")>{format!("{q} ({n})")}</a></li>
                                    }).collect_view()}
                                </ul>
                                <h2>"Open by SLA"</h2>
                                <ul>
                                    {c.by_sla.into_iter().map(|(s, n)| view! {
                                        <li><a href=format!("/?sla={}", s.as_str()) class=format!("sla-{}", s.as_str())>{format!("{} ({n})", s.label())}</a></li>
                                    }).collect_view()}
                                </ul>
                            }
                        })}
                    </Transition>
                    <SavedViews current=filter_query />
                </aside>
                <div class="queue-main">
                    <Filters filter set_param=set_param.clone() />
                    <Show when=may_work>
                        <BulkPanel selected filter_query />
                    </Show>
                    <Transition fallback=|| view! { <p class="muted">"Loading exceptions…"</p> }>
                        {move || page.get().map(|answer| match answer {
                            Ok(p) => {
                                let count = p.items.len();
                                let caption = match count {
                                    0 => "No exceptions match.".to_owned(),
                                    1 => "1 exception".to_owned(),
                                    n if p.next.is_some() => format!("{n} exceptions on this page"),
                                    n => format!("{n} exceptions"),
                                };
                                let next = p.next.map(|c| c.to_string());
                                let next_page = next_page.clone();
                                view! {
                                    <p class="count" role="status" aria-live="polite">{caption}</p>
                                    <ExceptionRows items=p.items selected focused />
                                    <nav class="pager" aria-label="Pages">
                                        <button type="button" disabled=move || after.get().is_none() on:click=first_page.clone()>"First page"</button>
                                        {next.map(|cursor| view! {
                                            <button type="button" on:click=move |_| next_page(cursor.clone())>"Next page"</button>
                                        })}
                                    </nav>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorNotice error /> }.into_any(),
                        })}
                    </Transition>
                </div>
            </div>
        </section>
    }
}

fn typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    use leptos::wasm_bindgen::JsCast;
    ev.ctrl_key()
        || ev.meta_key()
        || ev.alt_key()
        || ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlElement>().ok()).is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable()
        })
}

fn wasm_focus(el: &leptos::web_sys::Element) -> Result<(), leptos::wasm_bindgen::JsValue> {
    use leptos::wasm_bindgen::JsCast;
    match el.dyn_ref::<leptos::web_sys::HtmlElement>() {
        Some(el) => el.focus(),
        None => Ok(()),
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Sets one filter from a form control (empty clears it).
fn apply(f: &mut QueueFilter, name: &str, value: &str) {
    let value = value.trim();
    let one = |v: &str| if v.is_empty() { Vec::new() } else { vec![v.to_owned()] };
    match name {
        "q" => f.text = Some(value.to_owned()).filter(|v| !v.is_empty()),
        "queue" => f.queues = one(value),
        "site" => f.sites = one(value),
        "supplier" => f.supplier = Some(value.to_owned()).filter(|v| !v.is_empty()),
        "status" => f.statuses = value.parse().map(|s| vec![s]).unwrap_or_default(),
        "severity" => f.severities = value.parse().map(|s| vec![s]).unwrap_or_default(),
        "type" => f.kinds = value.parse().map(|s| vec![s]).unwrap_or_default(),
        "sla" => f.sla = value.parse().map(|s| vec![s]).unwrap_or_default(),
        "sort" => f.sort = value.parse().ok(),
        "assignee" => {
            f.assignee = match value {
                "" => AssigneeFilter::Anyone,
                "me" => AssigneeFilter::Me,
                "none" => AssigneeFilter::Unassigned,
                other => AssigneeFilter::Person(other.to_owned()),
            }
        }
        _ => {}
    }
}

#[component]
fn Filters<F>(filter: Memo<QueueFilter>, set_param: F) -> impl IntoView
where
    F: Fn(&'static str, String) + Clone + Send + Sync + 'static,
{
    let select =
        move |name: &'static str, label: &'static str, options: Vec<(String, String)>, current: Signal<String>| {
            let set = set_param.clone();
            let id = format!("filter-{name}");
            view! {
                <div class="field">
                    <label for=id.clone()>{label}</label>
                    <select id=id on:change=move |ev| set(name, event_target_value(&ev))>
                        <option value="" selected=move || current.get().is_empty()>"Any"</option>
                        {options.into_iter().map(|(value, text)| {
                            let v = value.clone();
                            view! { <option value=value selected=move || current.get() == v>{text}</option> }
                        }).collect_view()}
                    </select>
                </div>
            }
        };
    let first = |f: fn(&QueueFilter) -> Option<String>| Signal::derive(move || f(&filter.get()).unwrap_or_default());
    view! {
        <div class="filters" role="group" aria-label="Filters">
            {select("status", "Status", Status::ALL.iter().map(|s| (s.as_str().into(), s.label().into())).collect(),
                first(|f| f.statuses.first().map(|s| s.as_str().to_owned())))}
            {select("severity", "Severity", Severity::ALL.iter().map(|s| (s.as_str().into(), s.label().into())).collect(),
                first(|f| f.severities.first().map(|s| s.as_str().to_owned())))}
            {select("type", "Type", ExceptionKind::ALL.iter().map(|k| (k.as_str().into(), k.label().into())).collect(),
                first(|f| f.kinds.first().map(|k| k.as_str().to_owned())))}
            {select("sla", "SLA", SlaState::ALL.iter().map(|s| (s.as_str().into(), s.label().into())).collect(),
                first(|f| f.sla.first().map(|s| s.as_str().to_owned())))}
            {select("assignee", "Assignee", vec![("me".into(), "Me".into()), ("none".into(), "Unassigned".into())],
                first(|f| match &f.assignee {
                    AssigneeFilter::Anyone => None,
                    AssigneeFilter::Me => Some("me".into()),
                    AssigneeFilter::Unassigned => Some("none".into()),
                    AssigneeFilter::Person(p) => Some(p.clone()),
                }))}
            {select("sort", "Sort by", vec![
                    ("due".into(), "SLA due".into()), ("severity".into(), "Severity".into()), ("age".into(), "Age".into())],
                first(|f| f.sort.map(|s: SortOrder| s.as_str().to_owned())))}
        </div>
    }
}

#[component]
fn ExceptionRows(
    items: Vec<ExceptionListItem>,
    selected: RwSignal<BTreeSet<i64>>,
    focused: RwSignal<Option<i64>>,
) -> impl IntoView {
    let all_ids: Vec<i64> = items.iter().map(|i| i.id.get()).collect();
    let all_ids = StoredValue::new(all_ids);
    let all_selected = move || {
        let s = selected.get();
        let ids = all_ids.get_value();
        !ids.is_empty() && ids.iter().all(|i| s.contains(i))
    };
    view! {
        <table class="exceptions" aria-label="Exceptions">
            <thead>
                <tr>
                    <th scope="col">
                        <input
                            type="checkbox"
                            aria-label="Select every row on this page"
                            prop:checked=all_selected
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                selected.update(|s| for id in all_ids.get_value() {
                                    if on { s.insert(id); } else { s.remove(&id); }
                                });
                            }
                        />
                    </th>
                    <th scope="col">"ID"</th>
                    <th scope="col">"SLA"</th>
                    <th scope="col">"Severity"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col">"Summary"</th>
                    <th scope="col">"Business keys"</th>
                    <th scope="col">"Site"</th>
                    <th scope="col">"Queue"</th>
                    <th scope="col">"Assignee"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || items.clone() key=|i| (i.id.get(), i.version) let:item>
                    <Row item selected focused />
                </For>
            </tbody>
        </table>
    }
}

#[component]
fn Row(item: ExceptionListItem, selected: RwSignal<BTreeSet<i64>>, focused: RwSignal<Option<i64>>) -> impl IntoView {
    let id = item.id.get();
    let keys = item
        .refs
        .iter()
        .map(|(kind, value)| view! { <span class="ref"><span class="ref-kind">{kind.label()}</span> " " {value.to_owned()}</span> })
        .collect_view();
    let href = format!("/exceptions/{id}");
    view! {
        <tr
            id=format!("row-{id}")
            tabindex=move || if focused.get() == Some(id) { "0" } else { "-1" }
            class:focused=move || focused.get() == Some(id)
            class:selected=move || selected.get().contains(&id)
            on:focus=move |_| focused.set(Some(id))
        >
            <td>
                <input
                    type="checkbox"
                    aria-label=format!("Select {}", item.id)
                    prop:checked=move || selected.get().contains(&id)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                    }
                />
            </td>
            <td class="id"><a href=href>{item.id.to_string()}</a></td>
            <td><SlaBadge snapshot=item.sla /></td>
            <td><span class=format!("severity severity-{}", item.severity.as_str())>{item.severity.label()}</span></td>
            <td>{item.kind.label()}</td>
            <td class="summary">{item.summary.clone()}</td>
            <td class="refs">{keys}</td>
            <td>{item.site.clone()}</td>
            <td>{item.queue.clone()}</td>
            <td>{item.assignee.clone().unwrap_or_else(|| "—".to_owned())}</td>
            <td>
                {item.status.label()}
                {item.replay.map(|r| view! { <span class=format!("replay-tag replay-{}", r.as_str())>{r.label()}</span> })}
            </td>
        </tr>
    }
}
