//! Signing in.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::serverfns::auth::return_to;

use crate::components::auth::Auth;
use crate::components::forms::{FieldMessage, FormError, last_error};

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = Auth::get();
    let error = last_error(auth.login.value());
    let signed_in = move || auth.me.get().and_then(Result::ok).flatten().is_some();
    // Where the person was going before being asked to sign in.
    let next = use_query_map().read_untracked().get("next");
    let target = return_to(next.as_deref());
    view! {
        <section class="page login">
            <Transition>
                {move || {
                    let target = target.clone();
                    signed_in()
                        .then(move || {
                            #[cfg(feature = "ssr")]
                            leptos_axum::redirect(&target);
                            view! { <Redirect path=target /> }
                        })
                }}
            </Transition>
            <h1>"Sign in"</h1>
            <ActionForm action=auth.login attr:class="form">
                <input type="hidden" name="next" value=next.unwrap_or_default() />
                <div class="field">
                    <label for="username">"User name"</label>
                    <input id="username" name="username" type="text" autocomplete="username" required maxlength="64" />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        maxlength="128"
                        aria-describedby="password-error"
                    />
                    <FieldMessage error field="password" id="password-error" />
                </div>
                <FormError error />
                <button type="submit">"Sign in"</button>
            </ActionForm>
        </section>
    }
}
