//! A list of exceptions as a table.

use crossdock::ExceptionListItem;
use leptos::prelude::*;

#[component]
pub fn ExceptionTable(items: Vec<ExceptionListItem>) -> impl IntoView {
    let count = items.len();
    let caption = match count {
        0 => "No exceptions match.".to_owned(),
        1 => "1 exception".to_owned(),
        n => format!("{n} exceptions"),
    };
    view! {
        <p class="count" role="status" aria-live="polite">
            {caption}
        </p>
        <table class="exceptions" aria-label="Exceptions">
            <thead>
                <tr>
                    <th scope="col">"ID"</th>
                    <th scope="col">"Severity"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col">"Summary"</th>
                    <th scope="col">"Business keys"</th>
                    <th scope="col">"Site"</th>
                    <th scope="col">"Queue"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Opened (UTC)"</th>
                </tr>
            </thead>
            <tbody>
                {items.into_iter().map(|item| view! { <ExceptionRow item /> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn ExceptionRow(item: ExceptionListItem) -> impl IntoView {
    let keys = item
        .refs
        .iter()
        .map(|(kind, value)| {
            view! {
                <span class="ref">
                    <span class="ref-kind">{kind.label()}</span>
                    " "
                    {value.to_owned()}
                </span>
            }
        })
        .collect_view();
    let severity_class = format!("severity severity-{}", item.severity.as_str());
    view! {
        <tr>
            <td class="id">{item.id.to_string()}</td>
            <td>
                <span class=severity_class>{item.severity.label()}</span>
            </td>
            <td>{item.kind.label()}</td>
            <td class="summary">{item.summary}</td>
            <td class="refs">{keys}</td>
            <td>{item.site}</td>
            <td>{item.queue}</td>
            <td>{item.status.label()}</td>
            <td class="time">
                <time datetime=item
                    .created_at
                    .to_rfc3339()>{item.created_at.format("%Y-%m-%d %H:%M").to_string()}</time>
            </td>
        </tr>
    }
}
