//! Binary mode: attributes in `ce-*` headers, the body is `data`.
//!
//! Header values are read strictly: a value that is not visible ASCII, or
//! whose percent-encoding does not decode to UTF-8, is refused naming its
//! header, so no two distinct events ever read the same.

use axum::http::HeaderMap;
use serde_json::{Map, Value};

use crate::http::problem::ProblemItem;

/// Why a `ce-*` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadHeader {
    pub header: String,
    pub detail: &'static str,
}

impl BadHeader {
    /// The header as a problem item, pointing at the attribute it carries.
    pub fn item(&self) -> ProblemItem {
        let attribute = self.header.trim_start_matches("ce-");
        ProblemItem { pointer: format!("/{attribute}"), detail: format!("{} (header {})", self.detail, self.header) }
    }
}

/// Percent-decodes a header value, as the CloudEvents HTTP binding allows;
/// `None` when the bytes it stands for are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
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
    String::from_utf8(out).ok()
}

/// Whether a request carries its attributes in `ce-*` headers.
pub fn has_attribute_headers(headers: &HeaderMap) -> bool {
    headers.contains_key("ce-specversion")
}

/// The event a binary-mode request describes.
pub fn event_from(headers: &HeaderMap, data: Value) -> Result<Value, BadHeader> {
    let mut event = Map::new();
    for (name, value) in headers {
        let Some(attribute) = name.as_str().strip_prefix("ce-") else {
            continue;
        };
        let bad = |detail| BadHeader { header: name.as_str().to_owned(), detail };
        // `to_str` refuses bytes outside visible ASCII (and tab).
        let text = value.to_str().map_err(|_| bad("must be ASCII; percent-encode other characters"))?;
        let decoded = percent_decode(text).ok_or_else(|| bad("its percent-encoding is not UTF-8"))?;
        event.insert(attribute.to_owned(), Value::String(decoded));
    }
    event.insert("datacontenttype".into(), Value::String("application/json".into()));
    event.insert("data".into(), data);
    Ok(Value::Object(event))
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
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn percent_encoded_values_are_decoded() {
        assert_eq!(percent_decode("PO%2010045").as_deref(), Some("PO 10045"));
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decode("%zz").as_deref(), Some("%zz"));
        assert_eq!(percent_decode("caf%C3%A9").as_deref(), Some("café"));
    }

    #[test]
    fn bytes_that_are_not_utf8_never_read_alike() {
        assert_eq!(percent_decode("x-%FF"), None);
        assert_eq!(percent_decode("x-%FE"), None);
        let mut headers = HeaderMap::new();
        headers.insert("ce-id", HeaderValue::from_static("x-%FF"));
        assert_eq!(event_from(&headers, Value::Null).unwrap_err().header, "ce-id");
    }

    #[test]
    fn raw_bytes_outside_ascii_name_their_header() {
        let mut headers = HeaderMap::new();
        headers.insert("ce-subject", HeaderValue::from_bytes("PO-10045-ü".as_bytes()).unwrap());
        let bad = event_from(&headers, Value::Null).unwrap_err();
        assert_eq!(bad.item().pointer, "/subject");
        assert!(bad.item().detail.contains("header ce-subject"));
    }
}
