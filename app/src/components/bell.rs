//! The bell in the top bar: the signed-in person's unread notifications,
//! each linking to its exception and marked read when opened. It looks for
//! new ones at each change the server tells of, and every 15 seconds with
//! one timer, stopped when the app is left.

use leptos::prelude::*;

use crate::components::time::LocalTime;
use crate::dto::Notifications;
use crate::serverfns::notifications::{MarkRead, fetch_notifications};

/// Between two looks for new notifications.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(15);

/// The bell's state, made once for the whole app (not in the part of the
/// page that re-renders) and shared through context.
#[derive(Clone, Copy)]
pub struct Alerts {
    notes: Resource<Result<Notifications, crate::AppError>>,
    mark: ServerAction<MarkRead>,
}

impl Alerts {
    /// Starts looking for the signed-in person's notifications.
    pub fn provide() {
        let auth = crate::components::auth::Auth::get();
        let tick = RwSignal::new(0u64);
        let mark = ServerAction::<MarkRead>::new();
        let mounted = crate::components::time::Mounted::get();
        // Only in the browser once the page is interactive: the server and
        // the first render show no bell, so the two always agree.
        let wanted = move || mounted.get() && auth.me.get().and_then(Result::ok).flatten().is_some();
        let notes = Resource::new(
            move || (wanted(), tick.get(), mark.version().get()),
            |(wanted, ..)| async move { if wanted { fetch_notifications().await } else { Ok(Notifications::default()) } },
        );
        crate::components::live::Changes::on_change(move || tick.update(|t| *t += 1));
        Effect::new(move |_| {
            let every = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH);
            on_cleanup(move || {
                if let Ok(handle) = every {
                    handle.clear();
                }
            });
        });
        provide_context(Alerts { notes, mark });
    }
}

#[component]
pub fn Bell() -> impl IntoView {
    let Some(Alerts { notes, mark }) = use_context::<Alerts>() else { return ().into_any() };
    let mounted = crate::components::time::Mounted::get();
    let open = RwSignal::new(false);
    // Escape closes the list, as it closes menus everywhere.
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && open.get_untracked() {
            open.set(false);
        }
    });
    on_cleanup(move || escape.remove());
    let current = move || notes.get().and_then(Result::ok).unwrap_or_default();
    let bell = move || {
        mounted.get().then(|| view! {
            <Transition fallback=|| ()>
                {move || {
                    let Notifications { unread, .. } = current();
                    view! {
                        <button
                            type="button"
                            class="bell-button"
                            aria-expanded=move || open.get().to_string()
                            aria-controls="bell-list"
                            on:click=move |_| open.update(|o| *o = !*o)
                        >
                            "Notifications"
                            <span class="badge" class:none=move || unread == 0>
                                {format!(" {unread} unread")}
                            </span>
                        </button>
                    }
                }}
            </Transition>
            <Show when=move || open.get()>
                <div id="bell-list" class="bell-list" role="region" aria-label="Notifications">
                    <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || {
                            let Notifications { unread, items } = current();
                            view! {
                                {(unread > 0).then(|| view! {
                                    <button type="button" class="text-button" on:click=move |_| {
                                        mark.dispatch(MarkRead { id: None });
                                    }>"Mark all read"</button>
                                })}
                                {items.is_empty().then(|| view! { <p class="muted">"Nothing yet."</p> })}
                                {(unread > items.iter().filter(|n| !n.read).count() as i64).then(|| view! {
                                    <p class="more">{format!("The newest {} are shown; {unread} are unread in all.", items.len())}</p>
                                })}
                                <ul>
                                    {items.into_iter().map(|n| {
                                        let id = n.id;
                                        let href = n.exception_id.map(|e| format!("/exceptions/{e}")).unwrap_or_else(|| "/".into());
                                        view! {
                                            <li class:unread=!n.read>
                                                <a href=href on:click=move |_| {
                                                    open.set(false);
                                                    if !n.read {
                                                        mark.dispatch(MarkRead { id: Some(id) });
                                                    }
                                                }>{n.title.clone()}</a>
                                                <LocalTime at=n.created_at />
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                                <a class="settings-link" href="/settings/notifications" on:click=move |_| open.set(false)>
                                    "Choose what is sent outward"
                                </a>
                            }
                        }}
                    </Transition>
                </div>
            </Show>
        })
    };
    view! { <div class="bell">{bell}</div> }.into_any()
}
