//! What every target does with an event once it is JSON: what the ingest
//! service does with it.

use crossdock::event;
use crossdock::grouping::Fingerprint;
use crossdock::source::SourceName;
use crossdock::summary::summarize;
use serde_json::Value;

/// Reads one event as ingest does: `data_base64` decoded, parsed, then
/// grouped and summarized when it parses.
pub fn ingest(value: &Value) {
    let Ok(value) = event::with_json_data(value) else { return };
    let Ok(event) = event::parse(&value) else { return };
    let source = SourceName::parse("fuzz").expect("`fuzz` is a valid source name");
    let _ = Fingerprint::of(&source, &event);
    let _ = summarize(&event);
}
