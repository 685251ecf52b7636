use leptos::prelude::*;

/// Shown for any path the console does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p>
                <a href="/">"Back to the exceptions"</a>
            </p>
        </section>
    }
}
