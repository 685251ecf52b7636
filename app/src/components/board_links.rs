//! Read-only board links, for admins: a secret address a screen on the
//! warehouse floor shows the board's counts at, without signing in. The
//! address is shown once; revoking it stops the screen at its next refresh.

use crossdock::board::BoardGrouping;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::forms::{ConfirmButton, FieldMessage, FormError, last_error};
use crate::components::loaded::Loaded;
use crate::components::time::LocalTime;
use crate::dto::BoardLinkEntry;
use crate::pages::board::grouping_label;
use crate::serverfns::board::{CreateBoardLink, RevokeBoardLink, board_links};

#[component]
pub fn BoardLinks() -> impl IntoView {
    let create = ServerAction::<CreateBoardLink>::new();
    let revoke = ServerAction::<RevokeBoardLink>::new();
    let links = Resource::new(move || (create.version().get(), revoke.version().get()), |_| board_links());
    let name = RwSignal::new(String::new());
    let grouping = RwSignal::new(BoardGrouping::Queue);
    let error = last_error(create.value());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateBoardLink { name: name.get(), grouping: grouping.get() });
    };
    let address = move || {
        let token = create.value().get().and_then(Result::ok)?;
        let origin = window().location().origin().unwrap_or_default();
        Some(format!("{origin}/wall/{token}"))
    };
    view! {
        <section class="board-links" aria-labelledby="board-links-title">
            <h2 id="board-links-title">"Screen links"</h2>
            <p class="muted">
                "A screen link shows the board's counts, without exception contents, to anyone who has the address. No sign-in is needed and it does not time out; revoke it when the screen is retired."
            </p>
            {move || address().map(|url| view! {
                <div class="notice" role="status">
                    <p>"Screen link (copy it now; it is not shown again):"</p>
                    <code class="secret">{url}</code>
                </div>
            })}
            <FormError error=last_error(revoke.value()) />
            <form class="form inline" on:submit=submit>
                <div class="field">
                    <label for="link-name">"Screen name"</label>
                    <input id="link-name" placeholder="Dock 3 wall" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
                    <FieldMessage error field="name" id="link-name-error" />
                </div>
                <div class="field">
                    <label for="link-rows">"One row per"</label>
                    <select id="link-rows" on:change=move |ev| {
                        if let Ok(g) = event_target_value(&ev).parse() {
                            grouping.set(g);
                        }
                    }>
                        {BoardGrouping::ALL.iter().map(|g| view! {
                            <option value=g.as_str() selected=move || grouping.get() == *g>{grouping_label(*g)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit">"Create screen link"</button>
            </form>
            <Loaded resource=links what="screen links" show=move |list| view! {
                <table class="grid" aria-label="Screen links">
                    <thead>
                        <tr>
                            <th scope="col">"Screen"</th>
                            <th scope="col">"Rows"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col">"State"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.into_iter().map(|link: BoardLinkEntry| {
                            let id = link.id;
                            let state = match (link.revoked_at, link.revoked_by.clone()) {
                                (Some(at), by) => view! {
                                    "Revoked " <LocalTime at /> {by.map(|b| format!(" by {b}"))}
                                }.into_any(),
                                (None, _) => view! {
                                    <ConfirmButton
                                        label=format!("Revoke {}", link.name)
                                        question="Stop this screen?"
                                        yes="Revoke"
                                        on_yes=Callback::new(move |()| { revoke.dispatch(RevokeBoardLink { id }); })
                                    />
                                }.into_any(),
                            };
                            view! {
                                <tr>
                                    <td>{link.name.clone()}</td>
                                    <td>{grouping_label(link.grouping)}</td>
                                    <td><LocalTime at=link.created_at /> " by " {link.created_by.clone()}</td>
                                    <td>{state}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any() />
        </section>
    }
}
