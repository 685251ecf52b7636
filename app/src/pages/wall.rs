//! A board on a screen on the warehouse floor, opened by a secret link: the
//! counts only, in large type, refreshed every five seconds, with no
//! sign-in to time out. A revoked link shows nothing from its next refresh.

use crossdock::board::BoardColumn;
use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::hooks::use_params_map;

use crate::AppError;
use crate::components::forms::ErrorNotice;
use crate::dto::WallBoard;
use crate::pages::board::{BoardTable, changes, ticking};
use crate::serverfns::board::read_wall_board;

/// What a screen shows: counts and the age of the oldest breach.
const WALL_COLUMNS: &[BoardColumn] = &[
    BoardColumn::Open,
    BoardColumn::Unassigned,
    BoardColumn::OnTrack,
    BoardColumn::AtRisk,
    BoardColumn::Breached,
    BoardColumn::Waiting,
    BoardColumn::OldestBreach,
    BoardColumn::OpenedToday,
    BoardColumn::ResolvedToday,
];

#[component]
pub fn WallPage() -> impl IntoView {
    let params = use_params_map();
    let token = Memo::new(move |_| params.read().get("token").unwrap_or_default());
    let tick = ticking();
    // A revoked link stops asking.
    let gone = RwSignal::new(false);
    let wall =
        Resource::new(move || (token.get(), if gone.get() { 0 } else { tick.get() }), |(t, _)| read_wall_board(t));
    let changed = changes(move || wall.get().and_then(Result::ok).map(|w| w.board));
    // The last board that arrived: a screen keeps it while the server is
    // out of reach, marked as stale.
    let last = RwSignal::new(None::<WallBoard>);
    Effect::new(move |_| match wall.get() {
        Some(Ok(board)) => last.set(Some(board)),
        Some(Err(AppError::NotFound)) => gone.set(true),
        _ => {}
    });
    view! {
        // A secret address: keep it out of referrers and search engines.
        <Meta name="referrer" content="no-referrer" />
        <Meta name="robots" content="noindex" />
        <section class="page board-page wall">
            <Transition fallback=|| view! { <p class="muted">"Loading the board…"</p> }>
                {move || wall.get().map(|answer| match answer {
                    Ok(wall) => view! {
                        <h1>{wall.name.clone()}</h1>
                        <BoardTable board=wall.board changed links=false columns=WALL_COLUMNS />
                    }.into_any(),
                    Err(AppError::NotFound) => view! {
                        <h1>"Board unavailable"</h1>
                        <p role="alert">"This screen link is not valid: it was revoked, or the address is incomplete. Ask an admin for a new one."</p>
                    }.into_any(),
                    Err(error) => match last.get() {
                        Some(wall) => view! {
                            <h1>{wall.name.clone()}</h1>
                            <p class="stale" role="status">"Not updated since the time below: the server is out of reach. Retrying every 5 seconds."</p>
                            <BoardTable board=wall.board changed links=false columns=WALL_COLUMNS />
                        }.into_any(),
                        None => view! { <ErrorNotice error /> }.into_any(),
                    },
                })}
            </Transition>
        </section>
    }
}
