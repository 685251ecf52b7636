//! Binary mode: the event's attributes in `ce-*` headers, its `data` in the
//! body.
//!
//! Header values are read strictly: a value that is not visible ASCII, or
//! whose percent-encoding does not decode to UTF-8, is refused naming its
//! header, so no two distinct events ever read the same.

use serde_json::{Map, Value};

/// Why a `ce-*` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadHeader {
    pub header: String,
    pub detail: &'static str,
}

impl BadHeader {
    /// The attribute the header carries, as a JSON pointer.
    pub fn pointer(&self) -> String {
        format!("/{}", self.header.trim_start_matches("ce-"))
    }
}

/// Percent-decodes a header value, as the CloudEvents HTTP binding allows;
/// `None` when the bytes it stands for are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
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

/// Visible ASCII and tab: what a header value may hold as text.
fn header_text(value: &[u8]) -> Option<&str> {
    value.iter().all(|b| *b == b'\t' || (0x20..0x7f).contains(b)).then(|| std::str::from_utf8(value).ok()).flatten()
}

/// The event a binary-mode request describes: each `ce-*` header (names in
/// lower case, as HTTP gives them) is an attribute, the body is `data`.
pub fn event_from<'a>(headers: impl IntoIterator<Item = (&'a str, &'a [u8])>, data: Value) -> Result<Value, BadHeader> {
    let mut event = Map::new();
    for (name, value) in headers {
        let Some(attribute) = name.strip_prefix("ce-") else {
            continue;
        };
        let bad = |detail| BadHeader { header: name.to_owned(), detail };
        let text = header_text(value).ok_or_else(|| bad("must be ASCII; percent-encode other characters"))?;
        let decoded = percent_decode(text).ok_or_else(|| bad("its percent-encoding is not UTF-8"))?;
        event.insert(attribute.to_owned(), Value::String(decoded));
    }
    event.insert("datacontenttype".into(), Value::String("application/json".into()));
    event.insert("data".into(), data);
    Ok(Value::Object(event))
}

#[cfg(test)]
mod tests {
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
        let bad = event_from([("ce-id", b"x-%FF".as_slice())], Value::Null).unwrap_err();
        assert_eq!(bad.header, "ce-id");
    }

    #[test]
    fn raw_bytes_outside_ascii_name_their_header() {
        let bad = event_from([("ce-subject", "PO-10045-ü".as_bytes())], Value::Null).unwrap_err();
        assert_eq!(bad.pointer(), "/subject");
    }

    #[test]
    fn attributes_come_from_ce_headers_only() {
        let event = event_from([("ce-id", b"e-1".as_slice()), ("x-other", b"y".as_slice())], Value::Null).unwrap();
        assert_eq!(event["id"], "e-1");
        assert!(event.get("other").is_none() && event.get("x-other").is_none());
    }
}
