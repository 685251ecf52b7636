//! An exception's timeline: every change, by whom and when, and why.

use crossdock::audit::TimelineEntry;
use leptos::prelude::*;

use super::time::LocalTime;

/// The timeline, oldest first; times in `zone`.
#[component]
pub fn Timeline(entries: Vec<TimelineEntry>, zone: Option<String>) -> impl IntoView {
    let lines = entries.into_iter().map(|e| line(e, zone.clone())).collect_view();
    view! { <ol class="timeline">{lines}</ol> }
}

fn line(e: TimelineEntry, zone: Option<String>) -> impl IntoView {
    let changes = e
        .changes
        .iter()
        .map(|c| {
            let value = |v: &Option<String>| -> AnyView {
                match v {
                    // Deadlines are instants: shown in the site's time.
                    Some(text) if c.field.ends_with(" due") => match text.parse::<chrono::DateTime<chrono::Utc>>() {
                        Ok(at) => view! { <LocalTime at zone=zone.clone() /> }.into_any(),
                        Err(_) => text.clone().into_any(),
                    },
                    Some(text) => text.clone().into_any(),
                    None => "—".into_any(),
                }
            };
            view! { <span class="change">{format!("{}: ", c.field)} {value(&c.before)} " → " {value(&c.after)}</span> }
        })
        .collect_view();
    view! {
        <li>
            <LocalTime at=e.at zone=zone.clone() />
            " " <strong>{e.actor.to_string()}</strong> " " {e.action.label()}
            {e.comment.map(|c| view! { <span class="timeline-detail">{format!(" — {c}")}</span> })}
            <span class="timeline-detail">" " {changes}</span>
            {e.reason.map(|r| view! { <span class="timeline-reason">{format!(" (reason: {r})")}</span> })}
        </li>
    }
}
