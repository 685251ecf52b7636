//! Who is signed in, and the guard around private pages.

use crossdock::accounts::Permission;
use leptos::prelude::*;

use crate::components::forms::ErrorNotice;
use leptos_router::components::Redirect;

use crate::AppError;
use crate::dto::Me;
use crate::serverfns::auth::{Login, Logout, current_user};

/// The sign-in state every page shares.
#[derive(Clone, Copy)]
pub struct Auth {
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    /// The signed-in person; fetched again after each sign-in and sign-out.
    pub me: Resource<Result<Option<Me>, AppError>>,
}

impl Auth {
    /// Creates the shared state and provides it to every page.
    pub fn provide() -> Self {
        let login = ServerAction::<Login>::new();
        let logout = ServerAction::<Logout>::new();
        let me = Resource::new(move || (login.version().get(), logout.version().get()), |_| current_user());
        let auth = Self { login, logout, me };
        provide_context(auth);
        auth
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }
}

/// Renders its children for a signed-in person allowed `require`; sends
/// everyone else to the sign-in page, or says they may not see it.
#[component]
pub fn Private(#[prop(optional)] require: Option<Permission>, children: ChildrenFn) -> impl IntoView {
    let auth = Auth::get();
    let location = leptos_router::hooks::use_location();
    let children = StoredValue::new(children);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                auth.me
                    .get()
                    .map(|me| match me {
                        Ok(Some(me)) if require.is_none_or(|p| me.may(p)) => {
                            children.read_value()().into_any()
                        }
                        Ok(Some(_)) => view! { <NotAllowed /> }.into_any(),
                        Ok(None) => {
                            // Back here once signed in.
                            let (path, search) = (location.pathname.get_untracked(), location.search.get_untracked());
                            let here = if search.is_empty() { path } else { format!("{path}?{search}") };
                            let login = match here.as_str() {
                                "/" | "" => "/login".to_owned(),
                                _ => format!("/login?{}", crate::components::keys::query_pair("next", &here)),
                            };
                            #[cfg(feature = "ssr")]
                            leptos_axum::redirect(&login);
                            view! { <Redirect path=login /> }.into_any()
                        }
                        Err(error) => view! { <ErrorNotice error /> }.into_any()
                    })
            }}
        </Transition>
    }
}

/// Shown for a page the person's role does not open.
#[component]
pub fn NotAllowed() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <section class="page">
            <h1>"Not allowed"</h1>
            <p>"Your role does not open this page."</p>
        </section>
    }
}
