//! The filters of a queue view, each as people pick it: several values where
//! the URL takes several (queue, status, severity, type, site, SLA state),
//! one supplier, one person, one sort order.

use crossdock::sla::SlaState;
use crossdock::triage::{AssigneeFilter, QueueFilter, SortOrder};
use crossdock::{ExceptionKind, Severity, Status};
use leptos::prelude::*;

use crate::dto::{AssigneeOption, QueueChoices, QueueEntry};

/// One filter that takes several values, as a list of check boxes.
#[component]
fn MultiFilter(
    label: &'static str,
    /// Value and text of each choice.
    options: Vec<(String, String)>,
    chosen: Signal<Vec<String>>,
    /// What the summary says when nothing is chosen.
    none: &'static str,
    toggle: Callback<(String, bool)>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let texts = options.clone();
    let summary = move || {
        let picked = chosen.get();
        if picked.is_empty() {
            return none.to_owned();
        }
        if picked.len() == texts.len() {
            return "any".to_owned();
        }
        picked
            .iter()
            .map(|v| texts.iter().find(|(o, _)| o == v).map_or(v.clone(), |(_, t)| t.clone()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <details class="multi">
            <summary>{label} ": " <span class="multi-summary">{summary}</span></summary>
            <fieldset>
                <legend class="sr-only">{label}</legend>
                {options.into_iter().map(|(value, text)| {
                    let v = value.clone();
                    let v2 = value.clone();
                    view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                prop:checked=move || chosen.get().contains(&v)
                                on:change=move |ev| toggle.run((v2.clone(), event_target_checked(&ev)))
                            />
                            {text}
                        </label>
                    }
                }).collect_view()}
                {children.map(|c| c())}
            </fieldset>
        </details>
    }
}

fn toggled(list: &mut Vec<String>, value: String, on: bool) {
    list.retain(|v| *v != value);
    if on {
        list.push(value);
    }
}

fn toggle_parsed<T: std::str::FromStr + PartialEq>(list: &mut Vec<T>, value: &str, on: bool) {
    if let Ok(v) = value.parse::<T>() {
        list.retain(|x| *x != v);
        if on {
            list.push(v);
        }
    }
}

#[component]
pub fn Filters(
    filter: Memo<QueueFilter>,
    show: Callback<QueueFilter>,
    queues: Vec<QueueEntry>,
    choices: QueueChoices,
    people: Vec<AssigneeOption>,
) -> impl IntoView {
    let change = move |edit: Box<dyn Fn(&mut QueueFilter)>| {
        let mut f = filter.get_untracked();
        edit(&mut f);
        show.run(f);
    };
    let chosen = |pick: fn(&QueueFilter) -> Vec<String>| Signal::derive(move || pick(&filter.get()));
    let queue_options = queues.into_iter().map(|q| (q.key.clone(), q.name)).collect();
    let site_options = choices.sites.into_iter().map(|s| (s.code.clone(), s.code)).collect();
    let statuses = Status::ALL.iter().map(|s| (s.as_str().to_owned(), s.label().to_owned())).collect();
    let severities = Severity::ALL.iter().map(|s| (s.as_str().to_owned(), s.label().to_owned())).collect();
    let kinds = ExceptionKind::ALL.iter().map(|k| (k.as_str().to_owned(), k.label().to_owned())).collect();
    let sla = SlaState::ALL.iter().map(|s| (s.as_str().to_owned(), s.label().to_owned())).collect();
    let supplier = RwSignal::new(filter.get_untracked().supplier.unwrap_or_default());
    let assignee_value = move || match filter.get().assignee {
        AssigneeFilter::Anyone => String::new(),
        AssigneeFilter::Me => "me".to_owned(),
        AssigneeFilter::Unassigned => "none".to_owned(),
        AssigneeFilter::Person(p) => p,
    };
    let sort_value = move || filter.get().sort().as_str().to_owned();
    view! {
        <div class="filters" role="group" aria-label="Filters">
            <MultiFilter label="Queue" options=queue_options none="all in reach" chosen=chosen(|f| f.queues.clone())
                toggle=Callback::new(move |(v, on): (String, bool)| change(Box::new(move |f: &mut QueueFilter| toggled(&mut f.queues, v.clone(), on)))) />
            <MultiFilter label="Status" options=statuses none="open" chosen=chosen(|f| f.statuses.iter().map(|s| s.as_str().to_owned()).collect())
                toggle=Callback::new(move |(v, on): (String, bool)| change(Box::new(move |f: &mut QueueFilter| toggle_parsed(&mut f.statuses, &v, on))))>
                <p class="multi-shortcuts">
                    <button type="button" class="text-button" on:click=move |_| change(Box::new(|f: &mut QueueFilter| f.statuses.clear()))>"Open only"</button>
                    " · "
                    <button type="button" class="text-button" on:click=move |_| change(Box::new(|f: &mut QueueFilter| f.statuses = Status::ALL.to_vec()))>"Any status"</button>
                </p>
            </MultiFilter>
            <MultiFilter label="Severity" options=severities none="any" chosen=chosen(|f| f.severities.iter().map(|s| s.as_str().to_owned()).collect())
                toggle=Callback::new(move |(v, on): (String, bool)| change(Box::new(move |f: &mut QueueFilter| toggle_parsed(&mut f.severities, &v, on)))) />
            <MultiFilter label="Type" options=kinds none="any" chosen=chosen(|f| f.kinds.iter().map(|k| k.as_str().to_owned()).collect())
                toggle=Callback::new(move |(v, on): (String, bool)| change(Box::new(move |f: &mut QueueFilter| toggle_parsed(&mut f.kinds, &v, on)))) />
            <MultiFilter label="Site" options=site_options none="any" chosen=chosen(|f| f.sites.clone())
                toggle=Callback::new(move |(v, on): (String, bool)| change(Box::new(move |f: &mut QueueFilter| toggled(&mut f.sites, v.clone(), on)))) />
            <MultiFilter label="SLA" options=sla none="any" chosen=chosen(|f| f.sla.iter().map(|s| s.as_str().to_owned()).collect())
                toggle=Callback::new(move |(v, on): (String, bool)| change(Box::new(move |f: &mut QueueFilter| toggle_parsed(&mut f.sla, &v, on)))) />
            <form class="field" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let text = supplier.get_untracked();
                change(Box::new(move |f: &mut QueueFilter| f.supplier = Some(text.trim().to_owned()).filter(|s| !s.is_empty())));
            }>
                <label for="filter-supplier">"Supplier"</label>
                <input id="filter-supplier" placeholder="SUP-017" prop:value=supplier on:input=move |ev| supplier.set(event_target_value(&ev))
                    on:change=move |ev| {
                        let text = event_target_value(&ev);
                        change(Box::new(move |f: &mut QueueFilter| f.supplier = Some(text.trim().to_owned()).filter(|s| !s.is_empty())));
                    } />
            </form>
            <div class="field">
                <label for="filter-assignee">"Assignee"</label>
                <select id="filter-assignee" on:change=move |ev| {
                    let value = event_target_value(&ev);
                    change(Box::new(move |f: &mut QueueFilter| {
                        f.assignee = match value.as_str() {
                            "" => AssigneeFilter::Anyone,
                            "me" => AssigneeFilter::Me,
                            "none" => AssigneeFilter::Unassigned,
                            other => AssigneeFilter::Person(other.to_owned()),
                        }
                    }));
                }>
                    <option value="" selected=move || assignee_value().is_empty()>"Anyone"</option>
                    <option value="me" selected=move || assignee_value() == "me">"Me"</option>
                    <option value="none" selected=move || assignee_value() == "none">"Unassigned"</option>
                    {people.into_iter().map(|p| {
                        let v = p.username.clone();
                        view! { <option value=p.username.clone() selected=move || assignee_value() == v>{format!("{} ({})", p.display_name, p.username)}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-sort">"Sort by"</label>
                <select id="filter-sort" on:change=move |ev| {
                    let value = event_target_value(&ev);
                    change(Box::new(move |f: &mut QueueFilter| f.sort = value.parse::<SortOrder>().ok().filter(|s| *s != SortOrder::SlaDue)));
                }>
                    {crate::pages::queue::SORTS.iter().map(|(sort, text)| {
                        let v = sort.as_str();
                        view! { <option value=v selected=move || sort_value() == v>{*text}</option> }
                    }).collect_view()}
                </select>
            </div>
            // Set by the SLA board's cells: shown, and removable, one by one.
            {move || since_filters(&filter.get()).into_iter().map(|(label, without)| view! {
                <p class="since-filter">
                    {label}
                    " "
                    <button type="button" class="text-button" on:click=move |_| show.run(without.clone())>"Remove"</button>
                </p>
            }).collect_view()}
        </div>
    }
}

/// The time filters a board cell sets, in words, with the filter each
/// leaves when removed.
fn since_filters(filter: &QueueFilter) -> Vec<(String, QueueFilter)> {
    let mut out = Vec::new();
    let utc = crate::components::time::utc;
    if let Some(t) = filter.opened_since {
        out.push((format!("Opened since {}", utc(t)), QueueFilter { opened_since: None, ..filter.clone() }));
    }
    if let Some(t) = filter.acked_since {
        out.push((format!("Acknowledged since {}", utc(t)), QueueFilter { acked_since: None, ..filter.clone() }));
    }
    if let Some(t) = filter.closed_since {
        out.push((format!("Closed since {}", utc(t)), QueueFilter { closed_since: None, ..filter.clone() }));
    }
    out
}

/// Each active filter in words, with the filter it leaves when removed.
pub fn hidden_by(filter: &QueueFilter) -> Vec<(String, QueueFilter)> {
    let mut out = Vec::new();
    let mut push = |label: String, clear: &dyn Fn(&mut QueueFilter)| {
        let mut without = filter.clone();
        clear(&mut without);
        out.push((label, without));
    };
    let words = |list: Vec<String>| list.join(", ");
    if let Some(text) = &filter.text {
        push(format!("search “{text}”"), &|f| f.text = None);
    }
    if !filter.queues.is_empty() {
        push(format!("queue: {}", words(filter.queues.clone())), &|f| f.queues.clear());
    }
    if !filter.statuses.is_empty() && !filter.any_status() {
        push(format!("status: {}", words(filter.statuses.iter().map(|s| s.label().to_owned()).collect())), &|f| {
            f.statuses.clear()
        });
    }
    if filter.statuses.is_empty() {
        push("status: open only".to_owned(), &|f| f.statuses = Status::ALL.to_vec());
    }
    if !filter.severities.is_empty() {
        push(format!("severity: {}", words(filter.severities.iter().map(|s| s.label().to_owned()).collect())), &|f| {
            f.severities.clear()
        });
    }
    if !filter.kinds.is_empty() {
        push(format!("type: {}", words(filter.kinds.iter().map(|k| k.label().to_owned()).collect())), &|f| {
            f.kinds.clear()
        });
    }
    if !filter.sites.is_empty() {
        push(format!("site: {}", words(filter.sites.clone())), &|f| f.sites.clear());
    }
    if let Some(s) = &filter.supplier {
        push(format!("supplier: {s}"), &|f| f.supplier = None);
    }
    match &filter.assignee {
        AssigneeFilter::Anyone => {}
        AssigneeFilter::Me => push("assigned to me".to_owned(), &|f| f.assignee = AssigneeFilter::Anyone),
        AssigneeFilter::Unassigned => push("unassigned".to_owned(), &|f| f.assignee = AssigneeFilter::Anyone),
        AssigneeFilter::Person(p) => push(format!("assigned to {p}"), &|f| f.assignee = AssigneeFilter::Anyone),
    }
    if !filter.sla.is_empty() {
        push(format!("SLA: {}", words(filter.sla.iter().map(|s| s.label().to_owned()).collect())), &|f| f.sla.clear());
    }
    out.extend(since_filters(filter));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_view_names_each_filter_and_what_removing_it_leaves() {
        let filter = QueueFilter::parse_query("q=PO-1&site=DC-DAL&severity=high").unwrap();
        let hidden = hidden_by(&filter);
        let labels: Vec<&str> = hidden.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["search “PO-1”", "status: open only", "severity: High", "site: DC-DAL"]);
        let (_, without_site) = &hidden[3];
        assert!(without_site.sites.is_empty() && without_site.text.is_some());
        assert!(hidden[1].1.any_status(), "removing 'open only' shows every status");
    }
}
