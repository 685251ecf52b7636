//! The signed-in person's choice of which notifications go outward, beyond
//! the console's bell.

use std::collections::BTreeSet;

use crossdock::escalation::EscalationLevel;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::forms::{FormError, last_error};
use crate::components::loaded::Loaded;
use crate::serverfns::channels::{SetOutward, read_outward};

#[component]
pub fn NotificationSettingsPage() -> impl IntoView {
    let save = ServerAction::<SetOutward>::new();
    let choice = Resource::new(move || save.version().get(), |_| read_outward());
    view! {
        <section class="page">
            <h1>"Notification settings"</h1>
            <p class="muted">"Every notification reaches you in the console. Tick the ones that should also be sent outward, through the channels your admins set up."</p>
            <Loaded resource=choice what="your settings" show=move |c| {
                let picked = RwSignal::new(c.levels.clone());
                let submit = move |ev: SubmitEvent| {
                    ev.prevent_default();
                    save.dispatch(SetOutward { levels: picked.get_untracked() });
                };
                let none = c.channels.is_empty();
                view! {
                    <form class="form" aria-label="Sent outward" on:submit=submit>
                        <fieldset>
                            <legend>"Send outward"</legend>
                            {EscalationLevel::ALL.iter().map(|level| {
                                let level = *level;
                                let id = format!("outward-{}", level.as_str());
                                view! {
                                    <label class="check" for=id.clone()>
                                        <input type="checkbox" id=id.clone()
                                            prop:checked=move || picked.get().contains(&level)
                                            on:change=move |ev| picked.update(|l: &mut BTreeSet<EscalationLevel>| {
                                                if event_target_checked(&ev) { l.insert(level); } else { l.remove(&level); }
                                            }) />
                                        {level.label()}
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                        <FormError error=last_error(save.value()) />
                        <button type="submit">"Save"</button>
                        <Show when=move || matches!(save.value().get(), Some(Ok(_)))>
                            <p role="status">"Saved."</p>
                        </Show>
                    </form>
                    <h2>"Channels in service"</h2>
                    {none.then(|| view! { <p class="muted">"No channel is in service yet: nothing is sent outward until an admin sets one up."</p> })}
                    <ul aria-label="Channels in service">
                        {c.channels.into_iter().map(|(name, kind, levels)| {
                            let carries: Vec<&str> = levels.iter().map(|l| l.label()).collect();
                            view! { <li>{format!("{name} ({}): {}", kind.label(), carries.join(", "))}</li> }
                        }).collect_view()}
                    </ul>
                }
            } />
        </section>
    }
}
