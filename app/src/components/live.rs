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

#[cfg(feature = "hydrate")]
fn follow(heard: RwSignal<u64>) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let auth = crate::components::auth::Auth::get();
    let mounted = crate::components::time::Mounted::get();
    let signed_in = Memo::new(move |_| mounted.get() && auth.me.get().and_then(Result::ok).flatten().is_some());
    Effect::new(move |_| {
        if !signed_in.get() {
            return;
        }
        let Ok(source) = web_sys::EventSource::new("/console/changes") else { return };
        let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
            heard.update(|n| *n += 1);
        });
        if source.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref()).is_err() {
            source.close();
            return;
        }
        // Closed when the person signs out or leaves the app.
        let open = SendWrapper::new((source, on_change));
        on_cleanup(move || open.0.close());
    });
}
