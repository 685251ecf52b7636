//! The SLA board: one row per queue, site or person, refreshed every five
//! seconds; a cell that changed since the last refresh is marked, and each
//! opens the queue view listing what it counts. `?display=wall` shows it in
//! large type without controls, for a screen.
//!
//! The board's resource and its one timer live here, above the table that
//! re-renders, and stop when the page is left.

use std::collections::BTreeSet;

use crossdock::accounts::Permission;
use crossdock::board::{Board, BoardColumn, BoardGrouping, span};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::auth::Auth;
use crate::components::board_links::BoardLinks;
use crate::components::forms::ErrorNotice;
use crate::components::time::LocalTime;
use crate::serverfns::board::read_board;

/// Between two refreshes of the board.
pub const REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// Cells changed since the refresh before.
pub type Changed = BTreeSet<(Option<String>, BoardColumn)>;

/// A counter that goes up every [`REFRESH`], and at each change heard, until
/// the page is left.
pub fn ticking() -> RwSignal<u64> {
    let tick = RwSignal::new(0u64);
    crate::components::live::Changes::on_change(move || tick.update(|t| *t += 1));
    Effect::new(move |_| {
        let every = set_interval_with_handle(move || tick.update(|t| *t += 1), REFRESH);
        on_cleanup(move || {
            if let Ok(handle) = every {
                handle.clear();
            }
        });
    });
    tick
}

/// The cells that changed between the last two boards `current` gave.
pub fn changes(current: impl Fn() -> Option<Board> + Send + Sync + 'static) -> RwSignal<Changed> {
    let changed = RwSignal::new(Changed::new());
    // Effects run in the browser only: the first render marks nothing, on
    // both sides.
    Effect::new(move |before: Option<Option<Board>>| {
        let now = current();
        match (before.flatten(), &now) {
            (Some(before), Some(now)) => changed.set(now.changes_from(&before).into_iter().collect()),
            (before, None) => return before,
            (None, Some(_)) => {}
        }
        now
    });
    changed
}

#[component]
pub fn BoardPage() -> impl IntoView {
    let query = use_query_map();
    let grouping = Memo::new(move |_| {
        query.read().get("by").and_then(|b| b.parse::<BoardGrouping>().ok()).unwrap_or(BoardGrouping::Queue)
    });
    let wall = Memo::new(move |_| query.read().get("display").as_deref() == Some("wall"));
    let tick = ticking();
    let board = Resource::new(move || (grouping.get(), tick.get()), |(g, _)| read_board(g));
    let changed = changes(move || board.get().and_then(Result::ok));
    let auth = Auth::get();
    let admin = Memo::new(move |_| {
        auth.me.get().and_then(Result::ok).flatten().is_some_and(|me| me.may(Permission::ManageConfiguration))
    });

    view! {
        <section class=move || if wall.get() { "page board-page wall" } else { "page board-page" }>
            <header class="page-header">
                <h1>"SLA board"</h1>
                <Show when=move || !wall.get()>
                    <nav class="board-grouping" aria-label="Board rows">
                        {BoardGrouping::ALL.iter().map(|g| {
                            let g = *g;
                            view! {
                                <a
                                    href=format!("/board?by={g}")
                                    aria-current=move || (grouping.get() == g).then_some("page")
                                >
                                    {format!("Per {}", grouping_label(g).to_lowercase())}
                                </a>
                            }
                        }).collect_view()}
                        <a href=move || format!("/board?by={}&display=wall", grouping.get())>"Wall display"</a>
                    </nav>
                </Show>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading the board…"</p> }>
                {move || board.get().map(|answer| match answer {
                    Ok(board) => view! { <BoardTable board changed links=!wall.get() /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                })}
            </Transition>
            <Show when=move || admin.get() && !wall.get()>
                <BoardLinks />
            </Show>
        </section>
    }
}

pub fn grouping_label(g: BoardGrouping) -> &'static str {
    match g {
        BoardGrouping::Queue => "Queue",
        BoardGrouping::Site => "Site",
        BoardGrouping::Assignee => "Person",
    }
}

/// The board as a table: `links` makes each cell open its queue view;
/// `columns` picks what is shown.
#[component]
pub fn BoardTable(
    board: Board,
    changed: RwSignal<Changed>,
    links: bool,
    #[prop(default = BoardColumn::ALL)] columns: &'static [BoardColumn],
) -> impl IntoView {
    let at = board.at;
    let head = grouping_label(board.grouping);
    let rows = board.rows.clone();
    view! {
        <table class="board">
            <caption>
                "As of " <LocalTime at /> " · refreshed every " {REFRESH.as_secs()} " s"
            </caption>
            <thead>
                <tr>
                    <th scope="col">{head}</th>
                    {columns.iter().map(|c| view! { <th scope="col" class=format!("col-{c}")>{c.label()}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let cells = columns.iter().map(|c| {
                        let column = *c;
                        let value = row.value(column, at);
                        let text = match (column.is_count(), value) {
                            (true, v) => v.unwrap_or(0).to_string(),
                            (false, Some(s)) => span(s),
                            (false, None) => "–".to_owned(),
                        };
                        let key = (row.key.clone(), column);
                        let hot = match column {
                            BoardColumn::AtRisk | BoardColumn::Breached | BoardColumn::OldestBreach => value.unwrap_or(0) > 0,
                            _ => false,
                        };
                        let class = move || {
                            let mut class = format!("cell col-{column}");
                            if hot {
                                class.push_str(" hot");
                            }
                            if changed.with(|c| c.contains(&key)) {
                                class.push_str(" changed");
                            }
                            class
                        };
                        let title = format!("{}: {}", row.label, column.label());
                        let inner = match board.cell_filter(&row, column).filter(|_| links) {
                            Some(filter) => {
                                let href = format!("/?{}", filter.to_query());
                                view! { <a href=href title=title>{text}</a> }.into_any()
                            }
                            None => view! { <span title=title>{text}</span> }.into_any(),
                        };
                        view! { <td class=class>{inner}</td> }
                    }).collect_view();
                    view! {
                        <tr>
                            <th scope="row">
                                {row.label.clone()}
                                <span class="zone">{row.zone.clone()}</span>
                            </th>
                            {cells}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
