//! SLA clocks with a live countdown.

use chrono::{DateTime, Utc};
use crossdock::sla::{SlaSnapshot, SlaState};
use leptos::prelude::*;

/// The current instant, ticking every second in the browser.
#[derive(Clone, Copy)]
pub struct Now(pub RwSignal<DateTime<Utc>>);

impl Now {
    /// Provides the ticking clock to every page.
    pub fn provide() {
        let now = RwSignal::new(Utc::now());
        provide_context(Now(now));
        // Effects run only in the browser; the clock stops with the app.
        Effect::new(move |_| {
            let ticking = set_interval_with_handle(move || now.set(Utc::now()), std::time::Duration::from_secs(1));
            on_cleanup(move || {
                if let Ok(handle) = ticking {
                    handle.clear();
                }
            });
        });
    }

    pub fn get() -> RwSignal<DateTime<Utc>> {
        use_context::<Now>().map(|n| n.0).unwrap_or_else(|| RwSignal::new(Utc::now()))
    }
}

/// `1 h 23 min`, `4 min`, `2 d 3 h`.
pub fn span(seconds: i64) -> String {
    let s = seconds.abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{} s", s % 60),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// The state of a clock and its countdown, in words.
pub fn describe(snapshot: &SlaSnapshot, now: DateTime<Utc>) -> (SlaState, String) {
    let state = snapshot.state_at(now);
    let text = match (state, snapshot.due_at) {
        (SlaState::Breached, Some(due)) => format!("{} ago", span((now - due).num_seconds())),
        (SlaState::OnTrack | SlaState::AtRisk, Some(due)) => format!("in {}", span((due - now).num_seconds())),
        _ => String::new(),
    };
    (state, text)
}

/// A badge with the clock's state and countdown.
#[component]
pub fn SlaBadge(snapshot: SlaSnapshot) -> impl IntoView {
    let now = Now::get();
    let view = move || describe(&snapshot, now.get());
    view! {
        <span class=move || format!("sla sla-{}", view().0.as_str())>
            <span class="sla-state">{move || view().0.label()}</span>
            " "
            <span class="sla-when">{move || view().1}</span>
        </span>
    }
}
