//! What a page shows of one resource while it loads, once it has arrived,
//! or when it could not be loaded; the same on the server and in the browser.

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::AppError;
use crate::components::forms::ErrorNotice;

/// Shows `show(value)` once `resource` has loaded, a note naming `what`
/// while it loads, and the error when it could not be loaded. A refresh of
/// the resource keeps the current view until the new value arrives.
#[component]
pub fn Loaded<T, F, V>(resource: Resource<Result<T, AppError>>, what: &'static str, show: F) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || view! { <p class="muted">{format!("Loading {what}…")}</p> }>
            {move || {
                resource
                    .get()
                    .map(|answer| match answer {
                        Ok(value) => show(value).into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}
