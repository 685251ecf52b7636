//! The queue view: exceptions filtered (in the URL, so a view can be
//! bookmarked or saved), sorted by what breaches first, paged by keyset, with
//! counts beside it, selection and bulk actions, keyboard moves, and live
//! refresh that keeps the selection and the scroll position.
//!
//! Everything the page loads and every timer it starts lives here, above the
//! part that re-renders, and stops when the page is left.

use std::collections::{BTreeMap, BTreeSet};

use crossdock::ExceptionListItem;
use crossdock::accounts::{Density, Permission};
use crossdock::triage::{QueueFilter, SortOrder};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::components::auth::Auth;
use crate::components::bulk::lazy_bulk_panel;
use crate::components::filters::{Filters, hidden_by};
use crate::components::forms::ErrorNotice;
use crate::components::keys::{RefChips, focus, typing};
use crate::components::sla_clock::SlaBadge;
use crate::components::time::LocalTime;
use crate::components::views::SavedViews;
use crate::serverfns::auth::set_density;
use crate::serverfns::exceptions::{assignees, fetch_queue_counts, fetch_queue_page};
use crate::serverfns::lineage::find_transaction;
use crate::serverfns::queues::list_queues;

/// Seconds between refreshes of the list and the counts.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

#[component]
pub fn QueuePage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    // The filters as a URL query string (without the page cursor).
    let filter_query = Memo::new(move |_| {
        let q = query.read();
        let pairs: Vec<(String, String)> =
            q.clone().into_iter().filter(|(k, _)| &**k != "after").map(|(k, v)| (k.to_string(), v)).collect();
        pairs.iter().map(|(k, v)| crate::components::keys::query_pair(k, v)).collect::<Vec<_>>().join("&")
    });
    let filter = Memo::new(move |_| QueueFilter::parse_query(&filter_query.get()).unwrap_or_default());
    let after = Memo::new(move |_| query.read().get("after"));
    let tick = RwSignal::new(0u64);
    let page = Resource::new(
        move || (filter_query.get(), after.get(), tick.get()),
        |(q, after, _)| fetch_queue_page(q, after),
    );
    let counts = Resource::new(move || tick.get(), |_| fetch_queue_counts());
    let queues = Resource::new(|| (), |_| list_queues());
    let people = Resource::new(|| (), |_| assignees());
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    let focused = RwSignal::new(None::<i64>);

    crate::components::live::Changes::on_change(move || tick.update(|t| *t += 1));
    Effect::new(move |_| {
        let every = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH);
        on_cleanup(move || {
            if let Ok(handle) = every {
                handle.clear();
            }
        });
    });

    let show = {
        let navigate = navigate.clone();
        Callback::new(move |f: QueueFilter| {
            navigate(
                &format!("/?{}", f.to_query()),
                NavigateOptions { replace: true, scroll: false, ..Default::default() },
            );
        })
    };
    let auth = Auth::get();
    let me = Memo::new(move |_| auth.me.get().and_then(Result::ok).flatten());
    let mounted = crate::components::time::Mounted::get();
    let may_work = Signal::derive(move || me.get().is_some_and(|me| me.may(Permission::WorkExceptions)));
    let chosen_density = RwSignal::new(None::<Density>);
    let density = Signal::derive(move || {
        chosen_density.get().or_else(|| me.get().map(|m| m.density)).unwrap_or(Density::Compact)
    });
    let items = Memo::new(move |_| page.get().and_then(Result::ok).map(|p| p.items).unwrap_or_default());
    let keyboard_navigate = navigate.clone();
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if typing(&ev) {
            return;
        }
        let ids: Vec<i64> = items.get_untracked().iter().map(|i| i.id.get()).collect();
        let at = focused.get_untracked().and_then(|f| ids.iter().position(|i| *i == f));
        let move_to = |i: usize| {
            if let Some(id) = ids.get(i) {
                focused.set(Some(*id));
                focus(&format!("row-{id}"));
            }
        };
        let panel = match ev.key().as_str() {
            "j" => {
                ev.prevent_default();
                return move_to(at.map_or(0, |i| (i + 1).min(ids.len().saturating_sub(1))));
            }
            "k" => {
                ev.prevent_default();
                return move_to(at.map_or(0, |i| i.saturating_sub(1)));
            }
            "Enter" => "",
            "a" => "?do=assign",
            "c" => "?do=comment",
            "e" => "?do=resolve",
            _ => return,
        };
        if let Some(id) = focused.get_untracked() {
            ev.prevent_default();
            keyboard_navigate(&format!("/exceptions/{id}{panel}"), NavigateOptions::default());
        }
    });
    on_cleanup(move || keys.remove());
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
    let zones = Memo::new(move |_| {
        queues
            .get()
            .and_then(Result::ok)
            .map(|(_, choices)| choices.sites.into_iter().map(|s| (s.code, s.zone)).collect::<BTreeMap<_, _>>())
            .unwrap_or_default()
    });
    // A transaction key typed in the search box (a PO, ASN, order,
    // shipment or invoice number) names a transaction: Enter opens it.
    let typed = Memo::new(move |_| filter.get().text.unwrap_or_default());
    let found = Resource::new(
        move || typed.get(),
        |t| async move { if t.trim().len() < 3 { Ok(None) } else { find_transaction(t).await } },
    );
    let open_transaction = navigate.clone();
    let set_text = move |text: String| {
        let mut f = filter.get_untracked();
        f.text = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        show.run(f);
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
                        on:input=move |ev| set_text(event_target_value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            // Enter asks afresh rather than trusting the lookup
                            // above, which may still be on the text before.
                            let text = event_target_value(&ev).trim().to_owned();
                            if ev.key() == "Enter" && text.len() >= 3 {
                                ev.prevent_default();
                                let open = open_transaction.clone();
                                leptos::task::spawn_local(async move {
                                    if let Ok(Some(id)) = find_transaction(text).await {
                                        open(&format!("/transactions/{id}"), NavigateOptions::default());
                                    }
                                });
                            }
                        }
                    />
                    // Read inside a Transition, so the server's HTML and the
                    // browser's first render agree whenever the lookup ends.
                    <Transition fallback=|| ()>
                        {move || found.get().and_then(Result::ok).flatten().map(|id| view! {
                            <a class="found-transaction" href=format!("/transactions/{id}")>"Open its transaction (Enter)"</a>
                        })}
                    </Transition>
                </div>
                <button
                    type="button"
                    class="secondary density"
                    aria-pressed=move || (density.get() == Density::Comfortable).to_string()
                    on:click=move |_| {
                        let next = match density.get_untracked() {
                            Density::Compact => Density::Comfortable,
                            Density::Comfortable => Density::Compact,
                        };
                        chosen_density.set(Some(next));
                        leptos::task::spawn_local(async move {
                            let _ = set_density(next).await;
                        });
                    }
                >
                    "Comfortable rows"
                </button>
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
                    <Transition>
                        {move || {
                            let choices = queues.get().and_then(Result::ok);
                            let people = people.get().and_then(Result::ok).unwrap_or_default();
                            choices.map(|(queues, choices)| view! {
                                <Filters filter show queues choices people />
                            })
                        }}
                    </Transition>
                    <Transition>
                        // Shown once the page is interactive (bulk actions need the
                        // browser), from a part of the bundle loaded then.
                        {move || (may_work.get() && mounted.get()).then(|| {
                            let people = people.get().and_then(Result::ok).unwrap_or_default();
                            let queue_keys = queues
                                .get()
                                .and_then(Result::ok)
                                .map(|(q, _)| q.into_iter().map(|q| q.key).collect::<Vec<_>>())
                                .unwrap_or_default();
                            let finished = Callback::new(move |()| tick.update(|t| *t += 1));
                            Suspend::new(lazy_bulk_panel(selected, filter_query, people, queue_keys, finished))
                        })}
                    </Transition>
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
                                let empty = (count == 0).then(|| view! { <EmptyState filter=filter.get_untracked() show /> });
                                let paged = after.get_untracked().is_some() || next.is_some();
                                view! {
                                    <p class="count" role="status" aria-live="polite">{caption}</p>
                                    {empty}
                                    {(count > 0).then(|| view! {
                                        <ExceptionRows items=p.items selected focused may_work zones density />
                                    })}
                                    {paged.then(|| view! {
                                        <nav class="pager" aria-label="Pages">
                                            {after.get_untracked().is_some().then(|| view! {
                                                <button type="button" on:click=first_page.clone()>"First page"</button>
                                            })}
                                            {next.map(|cursor| view! {
                                                <button type="button" on:click=move |_| next_page(cursor.clone())>"Next page"</button>
                                            })}
                                        </nav>
                                    })}
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

/// What hides every exception, and how to see them.
#[component]
fn EmptyState(filter: QueueFilter, show: Callback<QueueFilter>) -> impl IntoView {
    let hiding = hidden_by(&filter);
    let only_open = filter.statuses.is_empty();
    let any_status = {
        let mut f = filter.clone();
        f.statuses = crossdock::Status::ALL.to_vec();
        f
    };
    let items = hiding
        .into_iter()
        .map(|(label, without)| {
            view! {
                <li>
                    {label.clone()} " "
                    <button type="button" class="text-button" aria-label=format!("Remove {label}") on:click=move |_| show.run(without.clone())>
                        "remove"
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="empty-state" aria-label="Why nothing is shown">
            <p>"These filters hide everything:"</p>
            <ul>{items}</ul>
            <p>
                {only_open.then(|| view! {
                    <button type="button" class="secondary" on:click=move |_| show.run(any_status.clone())>"Include resolved and dismissed"</button>
                })}
                " "
                <button type="button" class="secondary" on:click=move |_| show.run(QueueFilter::default())>"Clear all filters"</button>
            </p>
        </div>
    }
}

/// The table of a page of exceptions.
#[component]
pub fn ExceptionRows(
    items: Vec<ExceptionListItem>,
    selected: RwSignal<BTreeSet<i64>>,
    focused: RwSignal<Option<i64>>,
    may_work: Signal<bool>,
    zones: Memo<BTreeMap<String, String>>,
    density: Signal<Density>,
) -> impl IntoView {
    let all_ids: Vec<i64> = items.iter().map(|i| i.id.get()).collect();
    let all_ids = StoredValue::new(all_ids);
    let all_selected = move || {
        let s = selected.get();
        let ids = all_ids.get_value();
        !ids.is_empty() && ids.iter().all(|i| s.contains(i))
    };
    view! {
        <table class=move || format!("exceptions density-{}", density.get().as_str()) aria-label="Exceptions">
            <thead>
                <tr>
                    <Show when=move || may_work.get()>
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
                    </Show>
                    <th scope="col">"ID"</th>
                    <th scope="col">"SLA"</th>
                    <th scope="col">"Due"</th>
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
                    <Row item selected focused may_work zones />
                </For>
            </tbody>
        </table>
    }
}

#[component]
fn Row(
    item: ExceptionListItem,
    selected: RwSignal<BTreeSet<i64>>,
    focused: RwSignal<Option<i64>>,
    may_work: Signal<bool>,
    zones: Memo<BTreeMap<String, String>>,
) -> impl IntoView {
    let id = item.id.get();
    let href = format!("/exceptions/{id}");
    let all_keys = item.refs.iter().map(|(k, v)| format!("{} {v}", k.label())).collect::<Vec<_>>().join(", ");
    let due = item.sla.due_at;
    let site = item.site.clone();
    let paused = item.status == crossdock::Status::Waiting;
    view! {
        <tr
            id=format!("row-{id}")
            tabindex=move || if focused.get() == Some(id) { "0" } else { "-1" }
            class:focused=move || focused.get() == Some(id)
            class:selected=move || selected.get().contains(&id)
            on:focus=move |_| focused.set(Some(id))
        >
            <Show when=move || may_work.get()>
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
            </Show>
            <td class="id"><a href=href.clone()>{item.id.to_string()}</a></td>
            <td>
                <SlaBadge snapshot=item.sla />
                {paused.then(|| view! { <span class="sla-paused-tag">" (paused)"</span> })}
            </td>
            <td class="due">
                {move || due.map(|at| view! { <LocalTime at zone=zones.get().get(&site).cloned() /> })}
            </td>
            <td><span class=format!("severity severity-{}", item.severity.as_str())>{item.severity.label()}</span></td>
            <td>{item.kind.label()}</td>
            <td class="summary" title=item.summary.clone()>{item.summary.clone()}</td>
            <td class="refs" title=all_keys><RefChips refs=item.refs.clone() /></td>
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

/// The sort orders people choose from, the default first.
pub const SORTS: [(SortOrder, &str); 3] =
    [(SortOrder::SlaDue, "SLA due"), (SortOrder::Severity, "Severity"), (SortOrder::Age, "Age")];
