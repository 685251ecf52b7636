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
pub mod routes;
pub mod serverfns;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

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
                    <Route path=path!("/exceptions/:id") view={Lazy::<routes::ExceptionRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/transactions") view={Lazy::<routes::TransactionsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/transactions/:id") view={Lazy::<routes::LineageRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view={Lazy::<routes::UsersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/sources") view={Lazy::<routes::SourcesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/queues") view={Lazy::<routes::QueuesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/sites") view={Lazy::<routes::SitesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/policies") view={Lazy::<routes::PoliciesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/routing") view={Lazy::<routes::RoutingRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/expectations") view={Lazy::<routes::ExpectationsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/escalations") view={Lazy::<routes::EscalationsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/kpis") view={Lazy::<routes::KpisRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/channels") view={Lazy::<routes::ChannelsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/settings/notifications") view={Lazy::<routes::NotificationSettingsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/connectors") view={Lazy::<routes::ConnectorsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/retry-policies") view={Lazy::<routes::RetryPoliciesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/admin/history") view={Lazy::<routes::HistoryRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/board") view={Lazy::<routes::BoardRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/wall/:token") view={Lazy::<routes::WallRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("/audit") view={Lazy::<routes::AuditRoute>::new()} ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// Entry point of the browser bundle: hydrates the server-rendered page, once
/// the part of the bundle a lazily loaded page needs is in.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let path = window().location().pathname().unwrap_or_default();
    wasm_bindgen_futures::spawn_local(async move {
        routes::preload(&path).await;
        leptos::mount::hydrate_lazy(App);
    });
}
