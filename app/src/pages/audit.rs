//! The audit trail: every change, who made it and when, newest first.

use leptos::prelude::*;

use crate::components::loaded::Loaded;
use crate::components::time::LocalTime;

use crate::serverfns::audit::list_audit;
use crossdock::audit::AuditRecord;

#[component]
pub fn AuditPage() -> impl IntoView {
    let before = RwSignal::new(None::<i64>);
    let records = Resource::new(move || before.get(), list_audit);
    view! {
        <section class="page">
            <h1>"Audit trail"</h1>
            <Loaded resource=records what="the audit trail" show=move |list| {
                                let oldest = list.last().map(|r| r.id);
                                let full = list.len() == 100;
                                view! {
                                    <table class="grid" aria-label="Audit trail">
                                        <thead>
                                            <tr>
                                                <th scope="col">"When"</th>
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
                            } />
        </section>
    }
}

fn audit_row(r: AuditRecord) -> impl IntoView {
    let e = r.entry;
    let json = |v: Option<serde_json::Value>| v.map(|v| v.to_string()).unwrap_or_default();
    view! {
        <tr>
            <td class="time"><LocalTime at=e.at /></td>
            <td>{e.actor.to_string()}</td>
            <td>{e.action.as_str()}</td>
            <td>{format!("{} {}", e.entity, e.entity_id)}</td>
            <td class="json">{json(e.before)}</td>
            <td class="json">{json(e.after)}</td>
        </tr>
    }
}
