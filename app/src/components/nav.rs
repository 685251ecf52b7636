use crossdock::accounts::Permission;
use leptos::form::ActionForm;
use leptos::prelude::*;

use super::auth::Auth;

/// The bar at the top of every page: the sections the person's role opens,
/// who is signed in, and signing out.
#[component]
pub fn TopBar() -> impl IntoView {
    let auth = Auth::get();
    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <header class="top-bar">
            <a class="brand" href="/">
                "Crossdock"
            </a>
            <Transition>
                {move || {
                    auth.me
                        .get()
                        .and_then(Result::ok)
                        .flatten()
                        .map(|me| {
                            let role = me.role;
                            let link = move |permission: Permission, href: &'static str, label: &'static str| {
                                role.allows(permission).then(|| view! { <a href=href>{label}</a> })
                            };
                            view! {
                                <nav aria-label="Main">
                                    <a href="/">"Exceptions"</a>
                                    <a href="/transactions">"Transactions"</a>
                                    {link(Permission::ViewSlaBoard, "/board", "SLA board")}
                                    <a href="/kpis">"KPIs"</a>
                                    {link(Permission::ManageConfiguration, "/admin/routing", "Routing")}
                                    {link(Permission::ManageConfiguration, "/admin/queues", "Queues")}
                                    {link(Permission::ManageConfiguration, "/admin/policies", "SLA policies")}
                                    {link(Permission::ManageConfiguration, "/admin/sites", "Sites")}
                                    {link(Permission::ManageConfiguration, "/admin/expectations", "Expectations")}
                                    {link(Permission::ManageConfiguration, "/admin/escalations", "Escalations")}
                                    {link(Permission::ManageConfiguration, "/admin/channels", "Channels")}
                                    {link(Permission::ManageConfiguration, "/admin/connectors", "Connectors")}
                                    {link(Permission::ManageConfiguration, "/admin/retry-policies", "Retry policies")}
                                    {link(Permission::ManageConfiguration, "/admin/history", "History")}
                                    {link(Permission::ManageUsers, "/admin/users", "Users")}
                                    {link(Permission::ManageSources, "/admin/sources", "Sources")}
                                    {link(Permission::ViewAudit, "/audit", "Audit trail")}
                                </nav>
                                <div class="who">
                                    <super::bell::Bell />
                                    <span class="user">{me.display_name.clone()}</span>
                                    <span class="role">{me.role.label()}</span>
                                    <ActionForm action=auth.logout>
                                        <button type="submit" class="link-button">
                                            "Sign out"
                                        </button>
                                    </ActionForm>
                                </div>
                            }
                        })
                }}
            </Transition>
        </header>
    }
}
