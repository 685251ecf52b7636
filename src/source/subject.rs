//! NATS subjects a source's events arrive on: a pattern of dot-separated
//! tokens where `*` stands for any one token and a last `>` for one or more.
//! `erp.events.>` takes `erp.events.orders` and `erp.events.orders.eu`; no
//! two sources' patterns may take the same subject, so a message has one
//! owner.

use serde::{Deserialize, Serialize};

/// The subject pattern a source's messages are published on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubjectPattern(String);

impl SubjectPattern {
    pub const RULE: &'static str = "a subject is dot-separated tokens of letters, digits, `-` or `_` (at most 255 \
                                    characters); `*` stands for one token, a last `>` for the rest";

    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        let count = text.split('.').count();
        let ok = (1..=255).contains(&text.len())
            && text.split('.').enumerate().all(|(i, token)| match token {
                "*" => true,
                ">" => i + 1 == count,
                _ => !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')),
            });
        if ok { Ok(Self(text.to_owned())) } else { Err(Self::RULE) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a message published on `subject` is this pattern's.
    pub fn takes(&self, subject: &str) -> bool {
        let mut subject = subject.split('.');
        for token in self.0.split('.') {
            match (token, subject.next()) {
                (">", Some(_)) => return true,
                (_, None) => return false,
                ("*", Some(_)) => {}
                (literal, Some(given)) if literal == given => {}
                _ => return false,
            }
        }
        subject.next().is_none()
    }

    /// Whether some subject is taken by both patterns.
    pub fn overlaps(&self, other: &SubjectPattern) -> bool {
        let (mut a, mut b) = (self.0.split('.'), other.0.split('.'));
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(">"), Some(_)) | (Some(_), Some(">")) => return true,
                (Some(x), Some(y)) if x == "*" || y == "*" || x == y => {}
                _ => return false,
            }
        }
    }
}

impl TryFrom<String> for SubjectPattern {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SubjectPattern> for String {
    fn from(s: SubjectPattern) -> Self {
        s.0
    }
}

impl std::fmt::Display for SubjectPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> SubjectPattern {
        SubjectPattern::parse(text).unwrap()
    }

    #[test]
    fn a_pattern_takes_its_subjects_and_no_others() {
        let erp = s("erp.events.>");
        assert!(erp.takes("erp.events.orders") && erp.takes("erp.events.orders.eu"));
        assert!(!erp.takes("erp.events"), "`>` stands for at least one token");
        assert!(!erp.takes("erp.eventsx.orders"));
        let one = s("wms.*.exceptions");
        assert!(one.takes("wms.dc-atl.exceptions"));
        assert!(!one.takes("wms.dc-atl.exceptions.more") && !one.takes("wms.exceptions"));
        assert!(s("tms").takes("tms") && !s("tms").takes("tms.x"));
    }

    #[test]
    fn patterns_that_could_take_one_subject_overlap() {
        assert!(s("erp.>").overlaps(&s("erp.events.orders")));
        assert!(s("erp.*.orders").overlaps(&s("erp.events.*")));
        assert!(s("a.b").overlaps(&s("a.b")));
        assert!(!s("erp.>").overlaps(&s("wms.>")));
        assert!(!s("erp.>").overlaps(&s("erp")), "`erp.>` never takes `erp` itself");
        assert!(!s("a.*").overlaps(&s("a.b.c")));
        assert!(s(">").overlaps(&s("a.b.c")));
    }

    #[test]
    fn only_well_formed_patterns_parse() {
        for bad in ["", ".", "a..b", "a.>.b", "a b", "a.*x", "a.b.", &"a".repeat(256)] {
            assert!(SubjectPattern::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(s("  erp.events.>  ").as_str(), "erp.events.>");
        assert!(serde_json::from_str::<SubjectPattern>("\"a..b\"").is_err());
    }
}
