use leptos::prelude::*;

/// The bar at the top of every page.
#[component]
pub fn TopBar() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <header class="top-bar">
            <a class="brand" href="/">
                "Crossdock"
            </a>
            <nav aria-label="Main">
                <a href="/">"Exceptions"</a>
            </nav>
        </header>
    }
}
