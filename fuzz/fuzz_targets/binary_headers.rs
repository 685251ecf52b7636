//! Binary mode: any set of headers (`ce-*` attributes, other names, raw
//! value bytes) and a body, read into an event and then parsed.

#![no_main]

mod shared;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A request in binary mode.
#[derive(Debug, Arbitrary)]
struct Request<'a> {
    headers: Vec<Header<'a>>,
    /// The body; one that is not JSON stands for `null`, so that changes to
    /// the headers are not lost on a body the server would refuse first.
    body: Bytes<'a>,
}

#[derive(Debug, Arbitrary)]
struct Header<'a> {
    name: Name<'a>,
    value: Bytes<'a>,
}

/// Raw bytes, shown as text with escapes by `cargo fuzz fmt`.
#[derive(Arbitrary)]
struct Bytes<'a>(&'a [u8]);

impl std::fmt::Debug for Bytes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

#[derive(Debug, Arbitrary)]
enum Name<'a> {
    /// `ce-` and an attribute the contract reads.
    Attribute(Attribute),
    /// `ce-` and any text: an extension, or a name the contract refuses.
    Prefixed(&'a str),
    /// Any text: a header that is not an attribute (`content-type`,
    /// `CE-ID`, `ce_id`, ...).
    Other(&'a str),
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Attribute {
    Specversion,
    Id,
    Source,
    Type,
    Time,
    Subject,
    Correlationid,
    Traceparent,
    Datacontenttype,
    Data,
    DataBase64,
}

impl Attribute {
    fn header(self) -> &'static str {
        match self {
            Attribute::Specversion => "ce-specversion",
            Attribute::Id => "ce-id",
            Attribute::Source => "ce-source",
            Attribute::Type => "ce-type",
            Attribute::Time => "ce-time",
            Attribute::Subject => "ce-subject",
            Attribute::Correlationid => "ce-correlationid",
            Attribute::Traceparent => "ce-traceparent",
            Attribute::Datacontenttype => "ce-datacontenttype",
            Attribute::Data => "ce-data",
            Attribute::DataBase64 => "ce-data_base64",
        }
    }
}

impl Name<'_> {
    fn to_header(&self) -> String {
        match self {
            Name::Attribute(a) => a.header().to_owned(),
            Name::Prefixed(rest) => format!("ce-{rest}"),
            Name::Other(name) => (*name).to_owned(),
        }
    }
}

fuzz_target!(|request: Request<'_>| {
    let names: Vec<String> = request.headers.iter().map(|h| h.name.to_header()).collect();
    let headers = names.iter().zip(&request.headers).map(|(name, h)| (name.as_str(), h.value.0));
    let body = serde_json::from_slice(request.body.0).unwrap_or(Value::Null);
    if let Ok(value) = crossdock::wire::binary::event_from(headers, body) {
        shared::ingest(&value);
    }
});
