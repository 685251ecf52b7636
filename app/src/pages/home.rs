//! The home page: every exception, narrowed by a filter box.

use leptos::prelude::*;

use crate::components::forms::ErrorNotice;

use crate::components::exception_table::ExceptionTable;
use crate::serverfns::exceptions::list_exceptions;

#[component]
pub fn HomePage() -> impl IntoView {
    let (filter, set_filter) = signal(String::new());
    let exceptions = Resource::new(move || filter.get(), list_exceptions);

    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Exceptions"</h1>
                <div class="filter">
                    <label for="filter">"Filter"</label>
                    <input
                        id="filter"
                        type="search"
                        autocomplete="off"
                        placeholder="PO, item, shipment, site or words"
                        prop:value=filter
                        on:input=move |ev| set_filter.set(event_target_value(&ev))
                    />
                </div>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading exceptions…"</p> }>
                {move || {
                    exceptions
                        .get()
                        .map(|answer| match answer {
                            Ok(items) => view! { <ExceptionTable items /> }.into_any(),
                            Err(error) => view! { <ErrorNotice error /> }.into_any()
                        })
                }}
            </Transition>
        </section>
    }
}
