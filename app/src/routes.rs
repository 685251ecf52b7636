//! The pages a clerk does not need on the way in, loaded lazily.
//!
//! Each is a lazy route: the build cuts its view out of the main browser
//! bundle into a part of its own (`scripts/build.sh`), which the browser
//! fetches the first time the page is shown, or, when the page is loaded by
//! its URL, before the page hydrates ([`preload`]). The queue and the sign-in
//! page stay in the main bundle, so a clerk's first page needs nothing else.

use crossdock::accounts::Permission;
use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::components::auth::Private;
use crate::pages;

/// A lazily loaded page behind sign-in, and behind a permission when one is
/// named.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        lazy_page!(@define $(#[$doc])* $route, view! { <Private>{$page()}</Private> });
    };
    ($(#[$doc:meta])* $route:ident => $page:path, $permission:expr) => {
        lazy_page!(@define $(#[$doc])* $route, view! { <Private require=$permission>{$page()}</Private> });
    };
    (@define $(#[$doc:meta])* $route:ident, $view:expr) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $view.into_any()
            }
        }
    };
}

lazy_page!(
    /// One exception, `/exceptions/:id`.
    ExceptionRoute => pages::exception::ExceptionPage
);
lazy_page!(
    /// Finding a business transaction, `/transactions`.
    TransactionsRoute => pages::transactions::TransactionsPage
);
lazy_page!(
    /// One transaction's lineage, `/transactions/:id`.
    LineageRoute => pages::lineage::LineagePage
);
lazy_page!(
    /// The KPI page, `/kpis`.
    KpisRoute => pages::kpis::KpisPage
);
lazy_page!(
    /// One's own notification settings, `/settings/notifications`.
    NotificationSettingsRoute => pages::settings::NotificationSettingsPage
);
lazy_page!(
    /// The SLA board, `/board`.
    BoardRoute => pages::board::BoardPage, Permission::ViewSlaBoard
);
lazy_page!(
    /// The auditor console, `/audit`.
    AuditRoute => pages::audit::AuditPage, Permission::ViewAudit
);
lazy_page!(
    /// Accounts, `/admin/users`.
    UsersRoute => pages::admin::users::UsersPage, Permission::ManageUsers
);
lazy_page!(
    /// Event sources, `/admin/sources`.
    SourcesRoute => pages::admin::sources::SourcesPage, Permission::ManageSources
);
lazy_page!(
    /// Work queues, `/admin/queues`.
    QueuesRoute => pages::admin::queues::QueuesPage, Permission::ManageConfiguration
);
lazy_page!(
    /// Sites, `/admin/sites`.
    SitesRoute => pages::admin::sites::SitesPage, Permission::ManageConfiguration
);
lazy_page!(
    /// SLA policies, `/admin/policies`.
    PoliciesRoute => pages::admin::policies::PoliciesPage, Permission::ManageConfiguration
);
lazy_page!(
    /// The routing editor, `/admin/routing`.
    RoutingRoute => pages::admin::routing::RoutingPage, Permission::ManageConfiguration
);
lazy_page!(
    /// Expected milestones, `/admin/expectations`.
    ExpectationsRoute => pages::admin::expectations::ExpectationsPage, Permission::ManageConfiguration
);
lazy_page!(
    /// Escalation policies, `/admin/escalations`.
    EscalationsRoute => pages::admin::escalations::EscalationsPage, Permission::ManageConfiguration
);
lazy_page!(
    /// Notification channels, `/admin/channels`.
    ChannelsRoute => pages::admin::channels::ChannelsPage, Permission::ManageConfiguration
);
lazy_page!(
    /// Replay connectors, `/admin/connectors`.
    ConnectorsRoute => pages::admin::connectors::ConnectorsPage, Permission::ManageConfiguration
);
lazy_page!(
    /// Retry policies, `/admin/retry-policies`.
    RetryPoliciesRoute => pages::admin::retry_policies::RetryPoliciesPage, Permission::ManageConfiguration
);
lazy_page!(
    /// The history of the configuration, `/admin/history`.
    HistoryRoute => pages::admin::history::HistoryPage, Permission::ManageConfiguration
);

lazy_page!(@define
    /// The wall board, `/wall/:token`: its own token, no sign-in.
    WallRoute, pages::wall::WallPage()
);

/// Loads the part of the bundle the page at `path` needs. The page hydrates
/// after this: a lazily loaded view must be at hand when the hydration reaches
/// it, or it would not match what the server rendered, and the router does not
/// wait for it while hydrating. Paths are those of the lazy routes in
/// [`crate::App`] (a route missing here fails the end-to-end spec that loads
/// every page by URL); any other path needs nothing more.
#[cfg(feature = "hydrate")]
pub async fn preload(path: &str) {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["exceptions", _] => ExceptionRoute::preload().await,
        ["transactions"] => TransactionsRoute::preload().await,
        ["transactions", _] => LineageRoute::preload().await,
        ["kpis"] => KpisRoute::preload().await,
        ["settings", "notifications"] => NotificationSettingsRoute::preload().await,
        ["board"] => BoardRoute::preload().await,
        ["audit"] => AuditRoute::preload().await,
        ["wall", _] => WallRoute::preload().await,
        ["admin", "users"] => UsersRoute::preload().await,
        ["admin", "sources"] => SourcesRoute::preload().await,
        ["admin", "queues"] => QueuesRoute::preload().await,
        ["admin", "sites"] => SitesRoute::preload().await,
        ["admin", "policies"] => PoliciesRoute::preload().await,
        ["admin", "routing"] => RoutingRoute::preload().await,
        ["admin", "expectations"] => ExpectationsRoute::preload().await,
        ["admin", "escalations"] => EscalationsRoute::preload().await,
        ["admin", "channels"] => ChannelsRoute::preload().await,
        ["admin", "connectors"] => ConnectorsRoute::preload().await,
        ["admin", "retry-policies"] => RetryPoliciesRoute::preload().await,
        ["admin", "history"] => HistoryRoute::preload().await,
        _ => {}
    }
}
