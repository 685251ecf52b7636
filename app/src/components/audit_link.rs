//! A link into the audit trail, shown only to those who may read it.

use leptos::prelude::*;

/// For auditors and admins: `label`, linking to the trail filtered by `href`.
#[component]
pub fn AuditLink(href: String, label: &'static str) -> impl IntoView {
    let auth = crate::components::auth::Auth::get();
    let may = Memo::new(move |_| {
        auth.me
            .get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|me| me.may(crossdock::accounts::Permission::ViewAudit))
    });
    view! {
        <Show when=move || may.get()>
            <p><a href=href.clone()>{label}</a></p>
        </Show>
    }
}
