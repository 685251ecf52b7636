//! Reading a JSON object field by field, collecting every problem with the
//! JSON pointer of the field it concerns.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde_json::{Map, Value};

use super::BusinessDate;
use crate::FieldProblem;
use crate::Named;

/// The longest string accepted in a key-like field (ids, codes, keys).
pub(crate) const MAX_KEY: usize = 256;
/// The longest free text accepted (messages, summaries).
pub(crate) const MAX_TEXT: usize = 4096;
/// The largest quantity a business could mean: a trillion units.
pub const MAX_QUANTITY: f64 = 1e12;
/// The largest amount of money, either way: a quadrillion.
pub const MAX_AMOUNT: f64 = 1e15;
/// The years a date or timestamp may fall in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=2199;

/// Escapes a key for use as a JSON pointer segment (RFC 6901).
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Whether `s` fits a key-like field: not blank, at most [`MAX_KEY`]
/// characters, no control character.
pub(crate) fn is_key(s: &str) -> bool {
    !s.trim().is_empty() && s.chars().count() <= MAX_KEY && crate::text::is_one_line(s)
}

/// What is said of a value that [`is_key`] refuses.
pub(crate) fn not_a_key() -> String {
    format!("must be a non-empty string of at most {MAX_KEY} characters, without control characters")
}

/// The two kinds of string field.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// Ids, codes, keys: one line, no control characters.
    Key,
    /// Messages, summaries: tabs and line breaks allowed.
    Text,
}

impl Shape {
    fn max(self) -> usize {
        match self {
            Shape::Key => MAX_KEY,
            Shape::Text => MAX_TEXT,
        }
    }
}

/// Problems found so far.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<FieldProblem>, Reading);

/// How days and timestamps are read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// In the one shape the published schemas describe: new events.
    #[default]
    Published,
    /// As chrono reads them: events stored before the shape was enforced.
    Stored,
}

impl Problems {
    /// Problems of an event stored earlier, read as leniently as it was
    /// accepted.
    pub(crate) fn stored() -> Self {
        Problems(Vec::new(), Reading::Stored)
    }

    pub(crate) fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem { pointer: pointer.into(), message: message.into() });
    }
}

#[cfg(test)]
thread_local! {
    /// Every key the parser asked for on this thread, with the pointer of
    /// its object: what a test holds the contract's tables to.
    pub(crate) static ASKED: std::cell::RefCell<Vec<(String, &'static str)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A JSON object being read; remembers which keys were read so the rest can be
/// kept as extra fields.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    used: Vec<&'a str>,
}

impl<'a> Obj<'a> {
    /// Reads `value` as an object at `path`, or records a problem.
    pub(crate) fn new(value: &'a Value, path: &str, p: &mut Problems) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self { map, path: path.to_owned(), used: Vec::new() }),
            _ => {
                p.push(pointer_or_root(path), "must be a JSON object");
                None
            }
        }
    }

    pub(crate) fn ptr(&self, key: &str) -> String {
        format!("{}/{}", self.path, escape(key))
    }

    /// The value of a key; `null` counts as absent.
    pub(crate) fn raw(&mut self, key: &'static str) -> Option<&'a Value> {
        #[cfg(test)]
        ASKED.with(|asked| asked.borrow_mut().push((self.path.clone(), key)));
        self.used.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Marks keys as read without reading them.
    pub(crate) fn skip(&mut self, keys: &[&'static str]) {
        self.used.extend_from_slice(keys);
    }

    fn required(&mut self, key: &'static str, p: &mut Problems) -> Option<&'a Value> {
        let value = self.raw(key);
        if value.is_none() {
            p.push(self.ptr(key), "is required");
        }
        value
    }

    fn string_of(&self, key: &str, value: &Value, shape: Shape, p: &mut Problems) -> Option<String> {
        let Value::String(s) = value else {
            p.push(self.ptr(key), "must be a string");
            return None;
        };
        if s.trim().is_empty() {
            p.push(self.ptr(key), "must not be empty");
            return None;
        }
        let max = shape.max();
        if s.chars().count() > max {
            p.push(self.ptr(key), format!("is longer than {max} characters"));
            return None;
        }
        match shape {
            Shape::Key if !crate::text::is_one_line(s) => {
                p.push(self.ptr(key), "must not contain control characters");
                None
            }
            Shape::Text if !crate::text::is_free_text(s) => {
                p.push(self.ptr(key), "must not contain control characters other than tab and line breaks");
                None
            }
            _ => Some(s.clone()),
        }
    }

    /// A required, non-empty key-like string.
    pub(crate) fn req_str(&mut self, key: &'static str, p: &mut Problems) -> Option<String> {
        let value = self.required(key, p)?;
        self.string_of(key, value, Shape::Key, p)
    }

    /// An optional, non-empty key-like string.
    pub(crate) fn opt_str(&mut self, key: &'static str, p: &mut Problems) -> Option<String> {
        let value = self.raw(key)?;
        self.string_of(key, value, Shape::Key, p)
    }

    /// A required free text.
    pub(crate) fn req_text(&mut self, key: &'static str, p: &mut Problems) -> Option<String> {
        let value = self.required(key, p)?;
        self.string_of(key, value, Shape::Text, p)
    }

    /// An optional free text.
    pub(crate) fn opt_text(&mut self, key: &'static str, p: &mut Problems) -> Option<String> {
        let value = self.raw(key)?;
        self.string_of(key, value, Shape::Text, p)
    }

    fn quantity_of(&self, key: &str, value: &Value, p: &mut Problems) -> Option<f64> {
        match value.as_f64() {
            Some(q) if q.is_finite() && (0.0..=MAX_QUANTITY).contains(&q) => Some(q),
            Some(q) if q < 0.0 => {
                p.push(self.ptr(key), "must not be negative");
                None
            }
            Some(_) => {
                p.push(self.ptr(key), format!("must be at most {MAX_QUANTITY:e} units"));
                None
            }
            None => {
                p.push(self.ptr(key), "must be a number");
                None
            }
        }
    }

    /// A required quantity: a number, zero or more.
    pub(crate) fn req_qty(&mut self, key: &'static str, p: &mut Problems) -> Option<f64> {
        let value = self.required(key, p)?;
        self.quantity_of(key, value, p)
    }

    /// A required amount of money: any finite number.
    pub(crate) fn req_amount(&mut self, key: &'static str, p: &mut Problems) -> Option<f64> {
        let value = self.required(key, p)?;
        match value.as_f64() {
            Some(a) if a.is_finite() && a.abs() <= MAX_AMOUNT => Some(a),
            Some(_) => {
                p.push(self.ptr(key), format!("must be between -{MAX_AMOUNT:e} and {MAX_AMOUNT:e}"));
                None
            }
            None => {
                p.push(self.ptr(key), "must be a number");
                None
            }
        }
    }

    fn count_of(&self, key: &str, value: &Value, min: u64, max: u64, p: &mut Problems) -> Option<u64> {
        // JSON does not tell 7 from 7.0: a whole number is one however written.
        let whole = value.as_u64().or_else(|| {
            value.as_f64().filter(|f| f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(f)).map(|f| f as u64)
        });
        match whole {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                p.push(self.ptr(key), format!("must be a whole number from {min} to {max}"));
                None
            }
        }
    }

    /// A required line number (1 or more).
    pub(crate) fn req_line(&mut self, key: &'static str, p: &mut Problems) -> Option<u32> {
        let value = self.required(key, p)?;
        self.count_of(key, value, 1, u64::from(u32::MAX), p).map(|n| n as u32)
    }

    /// An optional whole number within bounds.
    pub(crate) fn opt_count(&mut self, key: &'static str, min: u64, max: u64, p: &mut Problems) -> Option<u64> {
        let value = self.raw(key)?;
        self.count_of(key, value, min, max, p)
    }

    /// A required boolean.
    pub(crate) fn req_bool(&mut self, key: &'static str, p: &mut Problems) -> Option<bool> {
        let value = self.required(key, p)?;
        let b = value.as_bool();
        if b.is_none() {
            p.push(self.ptr(key), "must be true or false");
        }
        b
    }

    fn time_of(&self, key: &str, value: &Value, p: &mut Problems) -> Option<DateTime<FixedOffset>> {
        let read = |s: &str| match p.1 {
            Reading::Published => timestamp(s),
            Reading::Stored => DateTime::parse_from_rfc3339(s).map_err(|_| ()),
        };
        match value.as_str().map(read) {
            Some(Ok(t)) if YEARS.contains(&t.year()) => Some(t),
            Some(Ok(_)) => {
                p.push(self.ptr(key), year_rule());
                None
            }
            _ => {
                p.push(self.ptr(key), "must be an RFC 3339 timestamp, e.g. 2026-11-24T15:42:10Z");
                None
            }
        }
    }

    /// A required RFC 3339 timestamp.
    pub(crate) fn req_time(&mut self, key: &'static str, p: &mut Problems) -> Option<DateTime<FixedOffset>> {
        let value = self.required(key, p)?;
        self.time_of(key, value, p)
    }

    /// An optional RFC 3339 timestamp.
    pub(crate) fn opt_time(&mut self, key: &'static str, p: &mut Problems) -> Option<DateTime<FixedOffset>> {
        let value = self.raw(key)?;
        self.time_of(key, value, p)
    }

    fn date_of(&self, key: &str, value: &Value, p: &mut Problems) -> Option<BusinessDate> {
        let parsed = value.as_str().and_then(|s| {
            let day = match p.1 {
                Reading::Published => day(s),
                Reading::Stored => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
            };
            let instant = || match p.1 {
                Reading::Published => timestamp(s).ok(),
                Reading::Stored => DateTime::parse_from_rfc3339(s).ok(),
            };
            day.map(BusinessDate::Day).or_else(|| instant().map(BusinessDate::Instant))
        });
        match parsed {
            None => p.push(self.ptr(key), "must be a date (2026-12-09) or an RFC 3339 timestamp"),
            Some(d) if !YEARS.contains(&d.year()) => {
                p.push(self.ptr(key), year_rule());
                return None;
            }
            Some(_) => {}
        }
        parsed
    }

    /// A required date or timestamp.
    pub(crate) fn req_date(&mut self, key: &'static str, p: &mut Problems) -> Option<BusinessDate> {
        let value = self.required(key, p)?;
        self.date_of(key, value, p)
    }

    /// A required value of a named enum.
    pub(crate) fn req_enum<T: Named>(&mut self, key: &'static str, p: &mut Problems) -> Option<T> {
        let value = self.required(key, p)?;
        self.enum_of(key, value, p)
    }

    /// An optional value of a named enum.
    pub(crate) fn opt_enum<T: Named>(&mut self, key: &'static str, p: &mut Problems) -> Option<T> {
        let value = self.raw(key)?;
        self.enum_of(key, value, p)
    }

    fn enum_of<T: Named>(&self, key: &str, value: &Value, p: &mut Problems) -> Option<T> {
        let parsed = value.as_str().and_then(|s| s.parse().ok());
        if parsed.is_none() {
            p.push(self.ptr(key), format!("must be one of {}", T::NAMES.join(", ")));
        }
        parsed
    }

    /// A required, non-empty array of objects, each read by `item`.
    pub(crate) fn req_list<T>(
        &mut self,
        key: &'static str,
        p: &mut Problems,
        mut item: impl FnMut(&mut Obj<'a>, &mut Problems) -> Option<T>,
    ) -> Option<Vec<T>> {
        let value = self.required(key, p)?;
        let Value::Array(values) = value else {
            p.push(self.ptr(key), "must be an array");
            return None;
        };
        if values.is_empty() {
            p.push(self.ptr(key), "must not be empty");
            return None;
        }
        let base = self.ptr(key);
        let mut out = Vec::with_capacity(values.len());
        let mut complete = true;
        for (i, v) in values.iter().enumerate() {
            match Obj::new(v, &format!("{base}/{i}"), p).and_then(|mut o| item(&mut o, p)) {
                Some(t) => out.push(t),
                None => complete = false,
            }
        }
        complete.then_some(out)
    }

    /// A required, non-empty array of key-like strings.
    pub(crate) fn req_strings(&mut self, key: &'static str, p: &mut Problems) -> Option<Vec<String>> {
        let value = self.required(key, p)?;
        let Value::Array(values) = value else {
            p.push(self.ptr(key), "must be an array of strings");
            return None;
        };
        if values.is_empty() {
            p.push(self.ptr(key), "must not be empty");
            return None;
        }
        let base = self.ptr(key);
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            match v.as_str().filter(|s| is_key(s)) {
                Some(s) => out.push(s.to_owned()),
                None => p.push(format!("{base}/{i}"), not_a_key()),
            }
        }
        (out.len() == values.len()).then_some(out)
    }

    /// The fields that were not read, kept as they came.
    pub(crate) fn extras(&self) -> Map<String, Value> {
        self.map.iter().filter(|(k, _)| !self.used.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Whether the bytes at `at` are `n` ASCII digits no greater than `max`.
fn digits(bytes: &[u8], at: usize, n: usize, max: u32) -> bool {
    bytes.get(at..at + n).is_some_and(|d| {
        d.iter().all(u8::is_ascii_digit) && d.iter().fold(0, |v, b| v * 10 + u32::from(b - b'0')) <= max
    })
}

/// Whether `s` starts with a day written `YYYY-MM-DD`, exactly.
fn day_shape(s: &[u8]) -> bool {
    digits(s, 0, 4, 9999)
        && s.get(4) == Some(&b'-')
        && digits(s, 5, 2, 12)
        && s.get(7) == Some(&b'-')
        && digits(s, 8, 2, 31)
}

/// A day written `YYYY-MM-DD`, exactly: chrono alone would also take
/// `2026-12-9`, a leading sign or spaces.
fn day(s: &str) -> Option<NaiveDate> {
    (s.len() == 10 && day_shape(s.as_bytes())).then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()).flatten()
}

/// An RFC 3339 timestamp with its offset, in the one shape the published
/// schemas describe (and chrono reads): `T`, `t` or a space between day and
/// time, seconds up to 60 (a leap second), any digits of fraction (the
/// first nine kept), `Z`, `z` or `±HH:MM` (a minus sign U+2212 too).
fn timestamp(s: &str) -> Result<DateTime<FixedOffset>, ()> {
    let b = s.as_bytes();
    let mut at = 19;
    let clock = day_shape(b)
        && matches!(b.get(10), Some(b'T' | b't' | b' '))
        && digits(b, 11, 2, 23)
        && b.get(13) == Some(&b':')
        && digits(b, 14, 2, 59)
        && b.get(16) == Some(&b':')
        && digits(b, 17, 2, 60);
    if b.get(at) == Some(&b'.') {
        let fraction = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return Err(());
        }
        at += 1 + fraction;
    }
    let rest = b.get(at..).unwrap_or_default();
    let hours_minutes = |o: &[u8]| o.len() == 5 && digits(o, 0, 2, 23) && o[2] == b':' && digits(o, 3, 2, 59);
    let offset = match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', o @ ..] => hours_minutes(o),
        [0xE2, 0x88, 0x92, o @ ..] => hours_minutes(o),
        _ => false,
    };
    if !(clock && offset) {
        return Err(());
    }
    DateTime::parse_from_rfc3339(s).map_err(|_| ())
}

fn year_rule() -> String {
    format!("must fall in the years {} to {}", YEARS.start(), YEARS.end())
}

fn pointer_or_root(path: &str) -> String {
    if path.is_empty() { String::new() } else { path.to_owned() }
}

#[cfg(test)]
mod tests;
