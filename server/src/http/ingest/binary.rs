//! Binary mode: attributes in `ce-*` headers, the body is `data` (read by
//! the core's [`crossdock::wire::binary`]).

use axum::http::HeaderMap;
use crossdock::wire::binary::{self, BadHeader};
use serde_json::Value;

use crate::http::problem::ProblemItem;

/// Whether a request carries its attributes in `ce-*` headers.
pub fn has_attribute_headers(headers: &HeaderMap) -> bool {
    headers.contains_key("ce-specversion")
}

/// The event a binary-mode request describes.
pub fn event_from(headers: &HeaderMap, data: Value) -> Result<Value, BadHeader> {
    binary::event_from(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())), data)
}

/// A header that could not be read, as a problem item.
pub fn bad_header(bad: &BadHeader) -> ProblemItem {
    ProblemItem { pointer: bad.pointer(), detail: format!("{} (header {})", bad.detail, bad.header) }
}

/// Says which header a top-level attribute came from.
pub fn name_headers(errors: Vec<ProblemItem>) -> Vec<ProblemItem> {
    errors
        .into_iter()
        .map(|mut e| {
            let attribute = e.pointer.trim_start_matches('/');
            if !attribute.is_empty() && !attribute.contains('/') && attribute != "data" {
                e.detail = format!("{} (header ce-{attribute})", e.detail);
            }
            e
        })
        .collect()
}
