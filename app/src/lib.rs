//! Crossdock console: the Leptos UI and its server functions.
//!
//! Server functions are thin adapters over the server's services, which they
//! reach through the [`ports::Console`] port provided as Leptos context.

pub mod components;
pub mod dto;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod serverfns;

use crossdock::accounts::Permission;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use components::auth::{Auth, Private};

pub use error::AppError;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The console.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Auth::provide();
    components::sla_clock::Now::provide();
    components::time::Mounted::provide();
    components::live::Changes::provide();
    components::bell::Alerts::provide();
    // Effects run only in the browser: mark the page once it is interactive,
    // so people's tools (and the end-to-end tests) can tell.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/crossdock.css" />
        <Title text="Crossdock" />
        <Router>
            <components::nav::TopBar />
            <main id="main">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/")
                        view=|| view! { <Private><pages::queue::QueuePage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/exceptions/:id")
                        view=|| view! { <Private><pages::exception::ExceptionPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/transactions")
                        view=|| view! { <Private><pages::transactions::TransactionsPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/transactions/:id")
                        view=|| view! { <Private><pages::lineage::LineagePage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/users")
                        view=|| view! { <Private require=Permission::ManageUsers><pages::admin::users::UsersPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/sources")
                        view=|| view! { <Private require=Permission::ManageSources><pages::admin::sources::SourcesPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/queues")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::queues::QueuesPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/sites")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::sites::SitesPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/policies")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::policies::PoliciesPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/routing")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::routing::RoutingPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/expectations")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::expectations::ExpectationsPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/escalations")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::escalations::EscalationsPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/kpis")
                        view=|| view! { <Private><pages::kpis::KpisPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/channels")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::channels::ChannelsPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/settings/notifications")
                        view=|| view! { <Private><pages::settings::NotificationSettingsPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/connectors")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::connectors::ConnectorsPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/retry-policies")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::retry_policies::RetryPoliciesPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/admin/history")
                        view=|| view! { <Private require=Permission::ManageConfiguration><pages::admin::history::HistoryPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/board")
                        view=|| view! { <Private require=Permission::ViewSlaBoard><pages::board::BoardPage /></Private> }
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/wall/:token") view=pages::wall::WallPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/audit")
                        view=|| view! { <Private require=Permission::ViewAudit><pages::audit::AuditPage /></Private> }
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// Entry point of the browser bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
