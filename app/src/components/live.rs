//! Changes heard from the server as they happen. Once a signed-in page is
//! interactive the browser follows `/console/changes` (server-sent events;
//! the browser reconnects by itself, to another instance when one stops),
//! and each page reads again what it shows when it hears a change, as it
//! also does on its own timer.

use leptos::prelude::*;

/// The number of changes heard since the page was opened.
#[derive(Clone, Copy)]
pub struct Changes(RwSignal<u64>);

impl Changes {
    /// Follows the server's changes while someone is signed in.
    pub fn provide() {
        let heard = RwSignal::new(0u64);
        provide_context(Changes(heard));
        #[cfg(feature = "hydrate")]
        follow(heard);
    }

    /// The count of changes heard: a page that reads it reads again with
    /// each change.
    pub fn heard() -> Signal<u64> {
        use_context::<Changes>().map(|c| c.0.into()).unwrap_or_else(|| Signal::stored(0))
    }

    /// Runs `again` at each change heard after the page became
    /// interactive (never for the page's first render).
    pub fn on_change(again: impl Fn() + 'static) {
        let heard = Self::heard();
        Effect::new(move |before: Option<u64>| {
            let now = heard.get();
            if before.is_some_and(|b| b != now) {
                again();
            }
            now
        });
    }
}

/// How long the browser waits before it opens a stream the server closed
/// (an error answer, say from a proxy while the instances restart).
#[cfg(feature = "hydrate")]
const REOPEN_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

#[cfg(feature = "hydrate")]
fn follow(heard: RwSignal<u64>) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{Event, EventSource, MessageEvent};

    let auth = crate::components::auth::Auth::get();
    let mounted = crate::components::time::Mounted::get();
    let signed_in = Memo::new(move |_| mounted.get() && auth.me.get().and_then(Result::ok).flatten().is_some());
    // Each attempt opens a new stream; the one before is closed first.
    let attempt = RwSignal::new(0u32);
    Effect::new(move |_| {
        let attempt_now = attempt.get();
        if !signed_in.get() {
            return;
        }
        let Ok(source) = EventSource::new("/console/changes") else { return };
        let on_change = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| heard.update(|n| *n += 1));
        // The browser reconnects by itself after a dropped connection; what
        // changed meanwhile was not told, so an open after the first counts
        // as a change. The body says the stream is open (tests wait for it).
        let opened = std::cell::Cell::new(attempt_now > 0);
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            if opened.replace(true) {
                heard.update(|n| *n += 1);
            }
            live_mark(Some("open"));
        });
        // An error answer closes the stream for good: open a new one later.
        let on_error = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
            live_mark(None);
            let closed = ev
                .target()
                .and_then(|t| t.dyn_into::<EventSource>().ok())
                .is_some_and(|s| s.ready_state() == EventSource::CLOSED);
            if closed {
                set_timeout(move || attempt.update(|a| *a += 1), REOPEN_AFTER);
            }
        });
        let listening = [("change", on_change.as_ref()), ("open", on_open.as_ref()), ("error", on_error.as_ref())]
            .into_iter()
            .all(|(name, f)| source.add_event_listener_with_callback(name, f.unchecked_ref()).is_ok());
        if !listening {
            source.close();
            return;
        }
        // Closed when the person signs out, at the next attempt, or when the
        // app is left.
        let open = SendWrapper::new((source, on_change, on_open, on_error));
        on_cleanup(move || {
            open.0.close();
            live_mark(None);
        });
    });
}

/// Marks the page's body with the stream's state (`data-live="open"`).
#[cfg(feature = "hydrate")]
fn live_mark(state: Option<&str>) {
    let Some(body) = document().body() else { return };
    let _ = match state {
        Some(state) => body.set_attribute("data-live", state),
        None => body.remove_attribute("data-live"),
    };
}
