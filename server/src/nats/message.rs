//! Reading a NATS message as a CloudEvent, and the headers of a dead letter.

use async_nats::HeaderMap;
use serde_json::Value;

/// The longest reason a dead letter's header carries.
const REASON_IN_HEADER: usize = 1_000;

/// The CloudEvent a message carries: in binary mode when it has a
/// `ce-specversion` header, in structured mode otherwise.
pub(super) fn event_of(headers: Option<&HeaderMap>, payload: &[u8]) -> Result<Value, String> {
    let pairs: Vec<(String, &str)> = headers
        .into_iter()
        .flat_map(HeaderMap::iter)
        .filter_map(|(name, values)| Some((AsRef::<str>::as_ref(name).to_ascii_lowercase(), values.first()?.as_str())))
        .collect();
    let body: Value = serde_json::from_slice(payload).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    if !pairs.iter().any(|(name, _)| name == "ce-specversion") {
        if body.is_array() {
            return Err("a message carries one event, not a batch".into());
        }
        return Ok(body);
    }
    if let Some((_, content_type)) = pairs.iter().find(|(name, _)| name == "content-type")
        && !content_type.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json")
    {
        return Err(format!("binary mode carries `data` as application/json, not {content_type}"));
    }
    crossdock::wire::binary::event_from(pairs.iter().map(|(n, v)| (n.as_str(), v.as_bytes())), body)
        .map_err(|bad| format!("header {}: {}", bad.header, bad.detail))
}

/// The headers of a dead letter: the message's own, but for the server's
/// `Nats-*` ones (a message id would make a dead-letter stream drop it as a
/// copy), and the reason (one line, cut short), subject and stream sequence.
pub(super) fn headers_for_dead_letter(given: Option<&HeaderMap>, reason: &str, subject: &str, seq: u64) -> HeaderMap {
    let mut headers: HeaderMap = given
        .into_iter()
        .flat_map(HeaderMap::iter)
        .filter(|(name, _)| !AsRef::<str>::as_ref(*name).to_ascii_lowercase().starts_with("nats-"))
        .flat_map(|(name, values)| values.iter().map(move |v| (name.clone(), v.clone())))
        .collect();
    let line: String = reason.chars().take(REASON_IN_HEADER).map(|c| if c.is_control() { ' ' } else { c }).collect();
    headers.insert("Crossdock-Reason", line.as_str());
    headers.insert("Crossdock-Subject", subject);
    headers.insert("Crossdock-Stream-Sequence", seq.to_string().as_str());
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_read_in_structured_or_binary_mode() {
        let structured = event_of(None, br#"{"specversion":"1.0","id":"e1"}"#).unwrap();
        assert_eq!(structured["id"], "e1");
        assert!(event_of(None, b"[]").unwrap_err().contains("batch"));
        assert!(event_of(None, b"not json").unwrap_err().contains("not valid JSON"));

        let mut headers = HeaderMap::new();
        headers.insert("ce-specversion", "1.0");
        headers.insert("ce-id", "PO%2010045");
        let binary = event_of(Some(&headers), br#"{"qty":3}"#).unwrap();
        assert_eq!(binary["id"], "PO 10045");
        assert_eq!(binary["data"]["qty"], 3);
        headers.insert("content-type", "text/plain");
        assert!(event_of(Some(&headers), br#"{"qty":3}"#).unwrap_err().contains("application/json"));
    }

    #[test]
    fn a_dead_letter_keeps_the_senders_headers_but_not_the_servers() {
        let mut given = HeaderMap::new();
        given.insert("ce-id", "e1");
        given.insert("Nats-Msg-Id", "e1");
        let headers = headers_for_dead_letter(Some(&given), &format!("bad\n{}", "x".repeat(5_000)), "a.b", 7);
        assert_eq!(headers.get("ce-id").map(|v| v.as_str()), Some("e1"));
        assert!(headers.get("Nats-Msg-Id").is_none());
        let reason = headers.get("Crossdock-Reason").unwrap().as_str();
        assert!(reason.starts_with("bad ") && reason.chars().count() == REASON_IN_HEADER, "{reason}");
        assert_eq!(headers.get("Crossdock-Stream-Sequence").map(|v| v.as_str()), Some("7"));
    }
}
