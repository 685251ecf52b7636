//! Saved views: filters kept under a name, for oneself or a team.

use leptos::prelude::*;

use crossdock::accounts::Permission;

use crate::AppError;
use crate::components::auth::Auth;
use crate::components::forms::{FieldMessage, FormError};
use crate::serverfns::exceptions::{DeleteView, SaveView, list_views};

#[component]
pub fn SavedViews(current: Memo<String>) -> impl IntoView {
    let save = ServerAction::<SaveView>::new();
    let delete = ServerAction::<DeleteView>::new();
    let views = Resource::new(move || (save.version().get(), delete.version().get()), |_| list_views());
    let name = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let error = Signal::derive(move || save.value().get().and_then(|r: Result<i64, AppError>| r.err()));
    let auth = Auth::get();
    // Sharing with a team is for supervisors and admins.
    let may_publish =
        move || auth.me.get().and_then(Result::ok).flatten().is_some_and(|me| me.may(Permission::PublishViews));
    view! {
        <h2>"Saved views"</h2>
        <Transition>
            {move || views.get().and_then(Result::ok).map(|list| view! {
                <ul class="views">
                    {list.into_iter().map(|v| {
                        let id = v.id;
                        let label = match &v.team { Some(t) => format!("{} ({t})", v.name), None => v.name.clone() };
                        view! {
                            <li>
                                <a href=format!("/?{}", v.query)>{label.clone()}</a>
                                {v.mine.then(|| view! {
                                    <button type="button" class="small" aria-label=format!("Delete view {label}") on:click=move |_| { delete.dispatch(DeleteView { id }); }>"×"</button>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
        </Transition>
        <form class="save-view" on:submit=move |ev| {
            ev.prevent_default();
            save.dispatch(SaveView { name: name.get(), query: current.get(), team: Some(team.get()).filter(|t| !t.trim().is_empty()) });
        }>
            <label for="view-name">"Save this view as"</label>
            <input id="view-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
            <FieldMessage error field="name" id="view-name-error" />
            <Show when=may_publish>
                <label for="view-team">"Share with team (optional)"</label>
                <input id="view-team" prop:value=team on:input=move |ev| team.set(event_target_value(&ev)) />
                <FieldMessage error field="team" id="view-team-error" />
            </Show>
            <FormError error />
            <button type="submit">"Save view"</button>
        </form>
    }
}
