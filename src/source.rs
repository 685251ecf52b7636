//! Sources: the registered senders of events, and the `source` values each
//! may write as.
//!
//! A source owns one or more prefixes. A prefix covers a `source` value that
//! is the prefix itself or continues it after a `/`: the prefix `wms` covers
//! `wms` and `wms/dc-atl`, never `wms-eu/dc-ams`. A middleware forwarding the
//! events of several systems owns one prefix per system (`erp`, `wms`, `tms`).
//! No two sources' prefixes overlap, so every `source` value has one owner and
//! no source can take another's event ids first.

use serde::{Deserialize, Serialize};

mod subject;
pub use subject::SubjectPattern;

/// The name of a registered source: 1 to 64 letters, digits, dots, dashes or
/// underscores.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceName(String);

impl SourceName {
    pub const RULE: &'static str = "a source name is 1 to 64 letters, digits, dots, dashes or underscores";

    pub fn parse(name: &str) -> Result<Self, &'static str> {
        let ok = (1..=64).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok { Ok(Self(name.to_owned())) } else { Err(Self::RULE) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SourceName {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SourceName> for String {
    fn from(n: SourceName) -> Self {
        n.0
    }
}

impl std::fmt::Display for SourceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One prefix of `source` values, kept without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourcePrefix(String);

impl SourcePrefix {
    pub const MAX_LEN: usize = 256;
    pub const RULE: &'static str = "a prefix is 1 to 256 visible characters, e.g. `wms` (covering `wms` and `wms/...`)";

    pub fn parse(prefix: &str) -> Result<Self, &'static str> {
        let trimmed = prefix.trim().trim_end_matches('/');
        let visible = trimmed.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if trimmed.is_empty() || trimmed.len() > Self::MAX_LEN || !visible {
            return Err(Self::RULE);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether an event's `source` is this prefix or continues it after `/`.
    pub fn covers(&self, source: &str) -> bool {
        source.strip_prefix(self.0.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Whether some `source` value would be covered by both.
    pub fn overlaps(&self, other: &SourcePrefix) -> bool {
        self.covers(&other.0) || other.covers(&self.0)
    }
}

impl TryFrom<String> for SourcePrefix {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SourcePrefix> for String {
    fn from(p: SourcePrefix) -> Self {
        p.0
    }
}

impl std::fmt::Display for SourcePrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The prefixes of one source: at least one, at most [`Prefixes::MAX`], none
/// overlapping another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<SourcePrefix>", into = "Vec<SourcePrefix>")]
pub struct Prefixes(Vec<SourcePrefix>);

impl Prefixes {
    pub const MAX: usize = 32;

    /// Parses prefixes as typed: separated by commas, spaces or new lines.
    pub fn parse_list(text: &str) -> Result<Self, String> {
        let parsed = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(|p| SourcePrefix::parse(p).map_err(|rule| format!("`{p}`: {rule}")))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(parsed)
    }

    pub fn new(mut prefixes: Vec<SourcePrefix>) -> Result<Self, String> {
        prefixes.sort();
        prefixes.dedup();
        if prefixes.is_empty() {
            return Err("at least one prefix is required".into());
        }
        if prefixes.len() > Self::MAX {
            return Err(format!("at most {} prefixes", Self::MAX));
        }
        for (i, a) in prefixes.iter().enumerate() {
            if let Some(b) = prefixes[i + 1..].iter().find(|b| a.overlaps(b)) {
                return Err(format!("`{a}` and `{b}` overlap: keep the shorter one"));
            }
        }
        Ok(Self(prefixes))
    }

    pub fn iter(&self) -> impl Iterator<Item = &SourcePrefix> {
        self.0.iter()
    }

    /// Whether one of these prefixes covers an event's `source`.
    pub fn cover(&self, source: &str) -> bool {
        self.0.iter().any(|p| p.covers(source))
    }

    /// The first pair of prefixes, ours and theirs, that overlap.
    pub fn overlap_with<'a>(&'a self, other: &'a Prefixes) -> Option<(&'a SourcePrefix, &'a SourcePrefix)> {
        self.0.iter().find_map(|a| other.0.iter().find(|b| a.overlaps(b)).map(|b| (a, b)))
    }
}

impl TryFrom<Vec<SourcePrefix>> for Prefixes {
    type Error = String;
    fn try_from(v: Vec<SourcePrefix>) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Prefixes> for Vec<SourcePrefix> {
    fn from(p: Prefixes) -> Self {
        p.0
    }
}

impl std::fmt::Display for Prefixes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<&str> = self.0.iter().map(SourcePrefix::as_str).collect();
        f.write_str(&list.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> SourcePrefix {
        SourcePrefix::parse(s).unwrap()
    }

    #[test]
    fn a_prefix_covers_itself_and_what_continues_it_after_a_slash() {
        let wms = p("wms");
        assert!(wms.covers("wms"));
        assert!(wms.covers("wms/dc-atl"));
        assert!(!wms.covers("wms-eu/dc-ams"), "no boundary, no match");
        assert!(!wms.covers("wm"));
        assert_eq!(p("mw/"), p("mw"), "a trailing slash is the same prefix");
        assert!(p("mw/").covers("mw/hub"));
        assert!(p("https://erp.example.com").covers("https://erp.example.com/orders"));
    }

    #[test]
    fn overlapping_prefixes_are_told_apart_from_neighbours() {
        assert!(p("wms").overlaps(&p("wms/eu")));
        assert!(p("wms/eu").overlaps(&p("wms")));
        assert!(!p("wms").overlaps(&p("wms-eu")));
        assert!(p("wms").overlaps(&p("wms/")));
    }

    #[test]
    fn a_middleware_may_own_several_prefixes_but_not_overlapping_ones() {
        let mw = Prefixes::parse_list("erp, wms\ntms").unwrap();
        assert!(mw.cover("erp/orders") && mw.cover("tms") && !mw.cover("edi/x"));
        assert!(Prefixes::parse_list("").is_err());
        assert!(Prefixes::parse_list("wms wms/eu").unwrap_err().contains("overlap"));
        assert!(Prefixes::parse_list("/").is_err(), "a prefix of nothing covers everything");
        assert_eq!(Prefixes::parse_list("wms wms/").unwrap().to_string(), "wms", "the same prefix twice is once");
        let other = Prefixes::parse_list("wms/eu").unwrap();
        assert!(mw.overlap_with(&other).is_some());
        let json = serde_json::to_string(&mw).unwrap();
        assert_eq!(json, r#"["erp","tms","wms"]"#);
        assert!(serde_json::from_str::<Prefixes>(r#"["a","a/b"]"#).is_err());
    }

    #[test]
    fn source_names_are_plain_tokens() {
        assert!(SourceName::parse("wms-eu_1.0").is_ok());
        assert!(SourceName::parse("").is_err());
        assert!(SourceName::parse("w m s").is_err());
        assert!(SourceName::parse(&"x".repeat(65)).is_err());
    }
}
