//! Times as people read them: in the time zone of the exception's site, or
//! the person's own where no site applies. The server renders UTC and the
//! browser's first render does the same, so the two agree; once the page is
//! interactive the browser shows local time (UTC stays on hover).

use chrono::{DateTime, Datelike, Timelike, Utc};
use leptos::prelude::*;

/// Whether the page has become interactive in the browser.
#[derive(Clone, Copy)]
pub struct Mounted(RwSignal<bool>);

impl Mounted {
    /// Provides the flag to every page; it turns true after hydration.
    pub fn provide() {
        let mounted = RwSignal::new(false);
        provide_context(Mounted(mounted));
        // Effects run only in the browser, after the page is hydrated.
        Effect::new(move |_| mounted.set(true));
    }

    pub fn get() -> RwSignal<bool> {
        use_context::<Mounted>().map(|m| m.0).unwrap_or_else(|| RwSignal::new(false))
    }
}

/// `2026-12-01 15:42 UTC`. Written out by hand: a format string would
/// bring chrono's format parser into the browser bundle.
pub fn utc(at: DateTime<Utc>) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", at.year(), at.month(), at.day(), at.hour(), at.minute())
}

/// A time in `zone` (an IANA name; the person's own when `None`).
#[component]
pub fn LocalTime(at: DateTime<Utc>, #[prop(default = None)] zone: Option<String>) -> impl IntoView {
    let mounted = Mounted::get();
    let in_utc = utc(at);
    let title = in_utc.clone();
    let text = move || {
        if mounted.get() { local(at, zone.as_deref()).unwrap_or_else(|| in_utc.clone()) } else { in_utc.clone() }
    };
    view! { <time datetime=at.to_rfc3339() title=title>{text}</time> }
}

/// Formats with the browser's time zone data: `2026-12-01 09:42 CST`.
#[cfg(feature = "hydrate")]
fn local(at: DateTime<Utc>, zone: Option<&str>) -> Option<String> {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys::js_sys::{Array, Date, Intl, Object, Reflect};
    let options = Object::new();
    let set = |key: &str, value: &str| Reflect::set(&options, &key.into(), &value.into()).is_ok();
    let all = ["year", "month", "day", "hour", "minute"]
        .iter()
        .all(|k| set(k, if *k == "year" { "numeric" } else { "2-digit" }));
    if !(all && set("hourCycle", "h23") && set("timeZoneName", "short")) {
        return None;
    }
    if let Some(zone) = zone {
        set("timeZone", zone);
    }
    let format = Intl::DateTimeFormat::new(&Array::of1(&JsValue::from_str("en-US")), &options);
    let parts = format.format_to_parts(&Date::new(&JsValue::from_f64(at.timestamp_millis() as f64)));
    let mut get = std::collections::HashMap::new();
    for part in parts.iter() {
        let part: Object = part.dyn_into().ok()?;
        let kind = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        let value = Reflect::get(&part, &"value".into()).ok()?.as_string()?;
        get.insert(kind, value);
    }
    let p = |k: &str| get.get(k).cloned();
    Some(format!(
        "{}-{}-{} {}:{} {}",
        p("year")?,
        p("month")?,
        p("day")?,
        p("hour")?,
        p("minute")?,
        p("timeZoneName").unwrap_or_default()
    ))
}

#[cfg(not(feature = "hydrate"))]
fn local(_at: DateTime<Utc>, _zone: Option<&str>) -> Option<String> {
    None
}
