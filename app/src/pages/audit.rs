//! The audit trail: every change, who made it and when, newest first.

use leptos::prelude::*;

use crate::components::forms::ErrorNotice;

use crate::dto::AuditEntryView;
use crate::serverfns::audit::list_audit;

#[component]
pub fn AuditPage() -> impl IntoView {
    let before = RwSignal::new(None::<i64>);
    let records = Resource::new(move || before.get(), list_audit);
    view! {
        <section class="page">
            <h1>"Audit trail"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    records
                        .get()
                        .map(|answer| match answer {
                            Ok(list) => {
                                let oldest = list.last().map(|r| r.id);
                                let full = list.len() == 100;
                                view! {
                                    <table class="grid" aria-label="Audit trail">
                                        <thead>
                                            <tr>
                                                <th scope="col">"When (UTC)"</th>
                                                <th scope="col">"Who"</th>
                                                <th scope="col">"Action"</th>
                                                <th scope="col">"On"</th>
                                                <th scope="col">"Before"</th>
                                                <th scope="col">"After"</th>
                                            </tr>
                                        </thead>
                                        <tbody>{list.into_iter().map(audit_row).collect_view()}</tbody>
                                    </table>
                                    <nav class="pager" aria-label="Audit pages">
                                        <button type="button" disabled=move || before.get().is_none() on:click=move |_| before.set(None)>
                                            "Newest"
                                        </button>
                                        <button type="button" disabled=!full on:click=move |_| before.set(oldest)>
                                            "Older"
                                        </button>
                                    </nav>
                                }
                                    .into_any()
                            }
                            Err(error) => view! { <ErrorNotice error /> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

fn audit_row(r: AuditEntryView) -> impl IntoView {
    view! {
        <tr>
            <td class="time">{r.at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
            <td>{r.actor}</td>
            <td>{r.action}</td>
            <td>{format!("{} {}", r.entity, r.entity_id)}</td>
            <td class="json">{r.before.unwrap_or_default()}</td>
            <td class="json">{r.after.unwrap_or_default()}</td>
        </tr>
    }
}
