//! Queues: where exceptions wait for people.

use serde::{Deserialize, Serialize};

/// The stable key of a queue, e.g. `receiving` or `dc-dal-transport`:
/// lowercase letters, digits and dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QueueKey(String);

/// Why a queue key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueKeyError {
    #[error("a queue key is required")]
    Empty,
    #[error("a queue key is at most {max} characters")]
    TooLong { max: usize },
    #[error("a queue key uses lowercase letters, digits and dashes, and starts with a letter")]
    BadCharacters,
}

impl QueueKey {
    pub const MAX: usize = 64;

    pub fn parse(s: &str) -> Result<Self, QueueKeyError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(QueueKeyError::Empty);
        }
        if s.len() > Self::MAX {
            return Err(QueueKeyError::TooLong { max: Self::MAX });
        }
        let ok = s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(QueueKeyError::BadCharacters);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for QueueKey {
    type Error = QueueKeyError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        QueueKey::parse(&value)
    }
}

impl From<QueueKey> for String {
    fn from(k: QueueKey) -> Self {
        k.0
    }
}

impl std::fmt::Display for QueueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_keys_are_lowercase_slugs() {
        assert_eq!(QueueKey::parse(" receiving ").unwrap().as_str(), "receiving");
        assert!(QueueKey::parse("inventory-control-2").is_ok());
        assert_eq!(QueueKey::parse("Receiving"), Err(QueueKeyError::BadCharacters));
        assert_eq!(QueueKey::parse("2nd"), Err(QueueKeyError::BadCharacters));
        assert_eq!(QueueKey::parse(""), Err(QueueKeyError::Empty));
        assert!(matches!(QueueKey::parse(&"a".repeat(65)), Err(QueueKeyError::TooLong { .. })));
    }
}
