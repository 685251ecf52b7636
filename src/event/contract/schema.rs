//! The JSON Schemas (2020-12) of the contract, written from its tables
//! ([`super::fields`]): a validator that follows them accepts and refuses
//! what the parser does.

use serde_json::{Map, Value, json};

use super::{Field, Kind, event_types, fields};
use crate::event::reader::{MAX_AMOUNT, MAX_KEY, MAX_QUANTITY, MAX_TEXT, YEARS};
use crate::event::{EventType, MAX_ATTRIBUTE_NAME};
use crate::{Named, RefKind, Severity};

/// The Unicode white space that `str::trim` removes.
const SPACE: &str = r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (Unicode category Cc).
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";

/// Control characters but tab, line feed and carriage return.
const CONTROL_IN_TEXT: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// A string that holds none of `chars` anywhere. The pattern is not
/// anchored: Python's `$` also matches before a final line feed, so an
/// anchored pattern would let `"PO-1\n"` through there.
fn holds_none_of(chars: &str) -> Value {
    json!({"pattern": format!("[{chars}]")})
}

/// A context attribute or a key: not blank, no control characters.
fn key_schema(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max,
           "pattern": format!("[^{SPACE}{CONTROL}]"), "not": holds_none_of(CONTROL)})
}

/// Free text: not blank, no control characters but tabs and line breaks.
fn text_schema() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": MAX_TEXT,
           "pattern": format!("[^{SPACE}{CONTROL}]"), "not": holds_none_of(CONTROL_IN_TEXT)})
}

/// A year of [`YEARS`], as a regular expression.
fn year_pattern() -> &'static str {
    debug_assert_eq!((*YEARS.start(), *YEARS.end()), (1970, 2199));
    "(19[7-9][0-9]|2[01][0-9]{2})"
}

/// A calendar day (the 29th of February left out: a regular expression
/// cannot tell leap years).
fn day_pattern() -> String {
    format!(
        "{}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))",
        year_pattern()
    )
}

/// An RFC 3339 timestamp with its offset, as the parser reads it: a leap
/// second, any digits of fraction, a minus sign U+2212 in the offset.
fn time_pattern() -> String {
    format!(
        "^{}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+\\-\\u2212]([01][0-9]|2[0-3]):[0-5][0-9])$",
        day_pattern()
    )
}

fn time_schema() -> Value {
    json!({"type": "string", "pattern": time_pattern(), "not": holds_none_of(CONTROL)})
}

/// A W3C `traceparent`: version, trace id, parent id and flags in lower-case
/// hex; neither id all zeros, and not version `ff`.
fn traceparent_schema() -> Value {
    json!({"type": "string", "maxLength": 55,
           "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
           "not": {"anyOf": [{"pattern": "^ff-"}, {"pattern": "^..-0{32}-"}, {"pattern": "-0{16}-..$"}]}})
}

/// A JSON media type, as [`super::is_json_media_type`] reads it: the part
/// before any `;`, spaces around it ignored, `application/json` or a
/// `+json` suffix in any case.
fn datacontenttype_schema() -> Value {
    let ci = |word: &str| -> String {
        word.chars()
            .map(|c| {
                if c.is_ascii_alphabetic() {
                    format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    let pattern = format!("^[ \\t]*({}/{}|[^;]*\\+{})[ \\t]*(;[\\s\\S]*)?$", ci("application"), ci("json"), ci("json"));
    let mut schema = key_schema(MAX_KEY);
    schema["allOf"] = json!([{"pattern": pattern}]);
    schema
}

fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Key => key_schema(MAX_KEY),
        Kind::Text => text_schema(),
        Kind::Quantity => json!({"type": "number", "minimum": 0, "maximum": MAX_QUANTITY}),
        Kind::Amount => json!({"type": "number", "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT}),
        Kind::Line => json!({"type": "integer", "minimum": 1, "maximum": u32::MAX}),
        Kind::Count { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Date => json!({"type": "string", "not": holds_none_of(CONTROL), "anyOf": [
            {"pattern": format!("^{}$", day_pattern())},
            {"pattern": time_pattern()},
        ]}),
        Kind::Time => time_schema(),
        Kind::OneOf(names) => json!({"type": "string", "enum": names}),
        Kind::Currency => json!({"type": "string", "maxLength": 3, "pattern": "^[A-Z]{3}$"}),
        Kind::Keys => json!({"type": "array", "minItems": 1, "items": kind_schema(Kind::Key)}),
        Kind::Lines(fields) => json!({"type": "array", "minItems": 1, "items": object(fields)}),
        Kind::Any => json!({"not": {"type": "null"}}),
    }
}

/// An object with these fields; others are allowed (and kept). An optional
/// field may be `null`, which reads as absent.
fn object(fields: &[Field]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in fields {
        let schema = kind_schema(f.kind);
        if f.required {
            required.push(f.name);
            properties.insert(f.name.into(), schema);
        } else {
            properties.insert(f.name.into(), json!({"anyOf": [schema, {"type": "null"}]}));
        }
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// The schema of `data` for an event type.
pub fn data_schema(event_type: EventType) -> Value {
    let optional_key = json!({"anyOf": [kind_schema(Kind::Key), {"type": "null"}]});
    let refs: Map<String, Value> =
        RefKind::ALL.iter().map(|k| (k.as_str().to_owned(), kind_schema(Kind::Key))).collect();
    let mut schema = object(fields(event_type));
    let properties = schema["properties"].as_object_mut().map(std::mem::take).unwrap_or_default();
    let mut all = Map::new();
    all.insert("site".into(), optional_key);
    all.insert("refs".into(), json!({"anyOf": [{"type": "object", "properties": refs}, {"type": "null"}]}));
    if let EventType::Exception(_) = event_type {
        all.insert(
            "severity".into(),
            json!({"anyOf": [{"type": "string", "enum": Severity::NAMES}, {"type": "null"}]}),
        );
        all.insert("summary".into(), json!({"anyOf": [kind_schema(Kind::Text), {"type": "null"}]}));
    }
    all.extend(properties);
    schema["properties"] = Value::Object(all);
    schema
}

/// The schema of a whole event of one type, as published: `data`, or
/// `data_base64` in its place.
pub fn event_schema(event_type: EventType) -> Value {
    schema_of_event(event_type, true)
}

/// The schema of a whole event of one type with its `data` as JSON only, as
/// the OpenAPI document gives it: a request generated from it is accepted
/// exactly when it is valid, which a schema cannot promise for the inside
/// of `data_base64`.
pub fn json_event_schema(event_type: EventType) -> Value {
    schema_of_event(event_type, false)
}

fn schema_of_event(event_type: EventType, base64: bool) -> Value {
    let optional = |schema: Value| json!({"anyOf": [schema, {"type": "null"}]});
    let mut schema = json!({
        "title": event_type.as_str(),
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": key_schema(MAX_KEY),
            "source": key_schema(MAX_KEY),
            "type": {"const": event_type.as_str()},
            "time": time_schema(),
            "subject": optional(key_schema(MAX_KEY)),
            "correlationid": optional(key_schema(MAX_KEY)),
            "traceparent": optional(traceparent_schema()),
            "datacontenttype": optional(datacontenttype_schema()),
            "data": data_schema(event_type),
        },
        // Extension attributes: lower-case letters and digits; a string
        // holds no control character.
        "propertyNames": {"anyOf": [
            {"const": "data"},
            {"minLength": 1, "maxLength": MAX_ATTRIBUTE_NAME, "not": {"pattern": "[^a-z0-9]"}},
        ]},
        "additionalProperties": {"not": {"type": "string", "pattern": format!("[{CONTROL}]")}},
    });
    if base64 {
        // What the CloudEvents SDKs write for bytes: the same `data`, in
        // base64. A schema cannot look inside it; the server decodes it and
        // reads it as `data`.
        schema["required"] = json!(["specversion", "id", "source", "type", "time"]);
        schema["properties"]["data"] = optional(data_schema(event_type));
        schema["properties"]["data_base64"] =
            json!({"type": "string", "contentEncoding": "base64", "contentMediaType": "application/json"});
        schema["propertyNames"]["anyOf"][0] = json!({"enum": ["data", "data_base64"]});
        // `data`, or `data_base64` with no `data` beside it.
        schema["anyOf"] = json!([
            {"required": ["data"], "properties": {"data": {"type": "object"}}, "not": {"required": ["data_base64"]}},
            {"required": ["data_base64"], "properties": {"data": {"type": "null"}}},
        ]);
    }
    schema
}

/// The schema of any event: one of the types.
pub fn any_event_schema() -> Value {
    json!({"oneOf": event_types().map(event_schema).collect::<Vec<_>>()})
}
