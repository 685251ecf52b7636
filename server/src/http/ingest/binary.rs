//! Binary mode: attributes in `ce-*` headers, the body is `data`.

use axum::http::HeaderMap;
use serde_json::{Map, Value};

use crate::http::problem::ProblemItem;

/// Percent-decodes a header value, as the CloudEvents HTTP binding allows.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The event a binary-mode request describes.
pub fn event_from(headers: &HeaderMap, data: Value) -> Value {
    let mut event = Map::new();
    for (name, value) in headers {
        let Some(attribute) = name.as_str().strip_prefix("ce-") else {
            continue;
        };
        let Ok(value) = value.to_str() else { continue };
        event.insert(attribute.to_owned(), Value::String(percent_decode(value)));
    }
    event.insert("datacontenttype".into(), Value::String("application/json".into()));
    event.insert("data".into(), data);
    Value::Object(event)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_values_are_decoded() {
        assert_eq!(percent_decode("PO%2010045"), "PO 10045");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
