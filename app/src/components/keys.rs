//! Keyboard shortcuts and business keys.

use crossdock::BusinessRefs;
use leptos::prelude::*;

/// Whether a key press belongs to a form field (or a modified shortcut of
/// the browser), not to the page's shortcuts.
pub fn typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    use leptos::wasm_bindgen::JsCast;
    ev.ctrl_key()
        || ev.meta_key()
        || ev.alt_key()
        || ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlElement>().ok()).is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable()
        })
}

/// Moves the focus to the element with this id, if there is one.
pub fn focus(id: &str) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(el) = document().get_element_by_id(id).and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// The view of the queue that finds every exception touching a key, open or not.
pub fn search_href(key: &str) -> String {
    format!("/?{}&status=any", query_pair("q", key))
}

/// `name=value`, the value encoded for a URL query.
pub fn query_pair(name: &str, value: &str) -> String {
    let mut out = format!("{name}=");
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The business keys of an exception as chips, each a link that searches for it.
#[component]
pub fn RefChips(refs: BusinessRefs) -> impl IntoView {
    let chips = refs
        .iter()
        .map(|(kind, value)| {
            view! {
                <li>
                    <a class="ref" href=search_href(value) title=format!("Every exception with {} {value}", kind.label())>
                        <span class="ref-kind">{kind.label()}</span>
                        " "
                        {value.to_owned()}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="refs" aria-label="Business keys">{chips}</ul> }
}
