//! Word search: how typed words find text, the same on every backend.
//!
//! Text is cut into tokens at every character that is not a letter or a
//! digit, and tokens compare without case: `SKU-20418` holds the tokens
//! `sku` and `20418`. A typed word is cut the same way and found where its
//! tokens follow one another in the text. The last token of a word is a
//! prefix, so `SKU-204` finds `SKU-20418` and `shor` finds `short`, unless
//! the word is a single token of fewer than [`PREFIX_FROM`] characters: the
//! `7` of `line 7` is that line only. Every typed word must be found.
//!
//! The stores hand these rules to their full-text indexes (SQLite FTS5,
//! PostgreSQL `tsvector`); [`Words::finds`] states them in plain code, for
//! tests to hold the indexes to.

/// The most words one search looks for; more are ignored.
pub const MAX_WORDS: usize = 16;

/// From how many characters a word of a single token is a prefix.
pub const PREFIX_FROM: usize = 3;

/// Typed words, cut into tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words(Vec<Word>);

/// One typed word: its tokens, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The tokens before the last, matched whole.
    pub before: Vec<String>,
    /// The last token: a prefix when [`Word::is_prefix`].
    pub last: String,
}

/// `text` cut into tokens of letters and digits, as written: each index
/// folds the case of what it is asked as it folds the case of what it holds.
pub fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty())
}

impl Word {
    /// Whether the last token stands for every token it begins.
    pub fn is_prefix(&self) -> bool {
        !self.before.is_empty() || self.last.chars().count() >= PREFIX_FROM
    }

    /// The phrase of `before` followed by `last`, quoted for FTS5.
    pub fn fts5_phrase(&self, last: &str) -> String {
        let mut tokens = self.before.clone();
        tokens.push(last.to_owned());
        format!("\"{}\"", tokens.join(" "))
    }
}

impl Words {
    /// The words of `typed`; `None` when it holds no letter or digit to
    /// look for.
    pub fn parse(typed: &str) -> Option<Words> {
        let words: Vec<Word> = typed
            .split_whitespace()
            .filter_map(|w| {
                let mut tokens: Vec<String> = tokens(w).map(str::to_owned).collect();
                let last = tokens.pop()?;
                Some(Word { before: tokens, last })
            })
            .take(MAX_WORDS)
            .collect();
        (!words.is_empty()).then_some(Words(words))
    }

    /// The words, in the order typed.
    pub fn iter(&self) -> impl Iterator<Item = &Word> {
        self.0.iter()
    }

    /// Whether `text` holds every word: the plain statement of what the
    /// indexes answer.
    pub fn finds(&self, text: &str) -> bool {
        let found: Vec<String> = tokens(text).map(str::to_lowercase).collect();
        self.0.iter().all(|word| {
            let before: Vec<String> = word.before.iter().map(|t| t.to_lowercase()).collect();
            let last = word.last.to_lowercase();
            found.windows(before.len() + 1).any(|run| {
                run[..before.len()] == before[..]
                    && if word.is_prefix() { run[before.len()].starts_with(&last) } else { run[before.len()] == last }
            })
        })
    }

    /// The words as an SQLite FTS5 query: each a quoted phrase (whose last
    /// token is a prefix where the rule says so), all required. Tokens hold
    /// only letters and digits, so nothing in them needs escaping.
    pub fn fts5(&self) -> String {
        self.0
            .iter()
            .map(|w| format!("{}{}", w.fts5_phrase(&w.last), if w.is_prefix() { "*" } else { "" }))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The words as a PostgreSQL `tsquery` (for `to_tsquery('simple', …)`):
    /// each a phrase of tokens following one another (the last a prefix
    /// where the rule says so), all required.
    pub fn tsquery(&self) -> String {
        self.0
            .iter()
            .map(|w| {
                let mut parts: Vec<String> = w.before.iter().map(|t| format!("'{t}'")).collect();
                parts.push(format!("'{}'{}", w.last, if w.is_prefix() { ":*" } else { "" }));
                format!("({})", parts.join(" <-> "))
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(typed: &str, text: &str) -> bool {
        Words::parse(typed).expect("words").finds(text)
    }

    #[test]
    fn a_key_typed_in_part_finds_the_whole_key() {
        assert!(finds("SKU-204", "short on SKU-20418, line 2"));
        assert!(finds("sku-20418", "short on SKU-20418"));
        assert!(!finds("SKU-205", "short on SKU-20418"));
        // The tokens must follow one another: `204` alone is no SKU.
        assert!(!finds("SKU-204", "SKU 9 and 20418"));
    }

    #[test]
    fn a_short_last_token_is_itself_only() {
        assert!(finds("line 7", "short on PO-1 line 7"));
        assert!(!finds("line 7", "short on PO-1 line 70"));
        assert!(finds("line 70", "short on PO-1 line 70"));
        assert!(finds("sho", "short on PO-1"));
        assert!(!finds("sh", "short on PO-1"));
        // A short last token after others is a prefix again.
        assert!(finds("SUP-01", "asked SUP-017"));
        assert!(finds("line-7", "line 70"));
    }

    #[test]
    fn every_word_must_be_found_anywhere_in_any_case() {
        assert!(finds("pallet SHORT", "Short receipt: one pallet missing"));
        assert!(!finds("pallet crushed", "Short receipt: one pallet missing"));
        assert!(finds("CAFÉ", "Café order"));
    }

    #[test]
    fn punctuation_alone_is_no_word() {
        assert_eq!(Words::parse(" -- / "), None);
        assert_eq!(Words::parse("\"'%*"), None);
        assert_eq!(Words::parse("50% off").map(|w| w.0.len()), Some(2));
    }

    #[test]
    fn queries_carry_nothing_but_tokens() {
        let words = Words::parse("SKU-204 \"pallet\" o'brien line-7 7").expect("words");
        assert_eq!(words.fts5(), r#""SKU 204"* AND "pallet"* AND "o brien"* AND "line 7"* AND "7""#);
        assert_eq!(
            words.tsquery(),
            "('SKU' <-> '204':*) & ('pallet':*) & ('o' <-> 'brien':*) & ('line' <-> '7':*) & ('7')"
        );
    }

    #[test]
    fn many_words_are_cut_to_the_most_one_search_holds() {
        let typed = (0..40).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        assert_eq!(Words::parse(&typed).map(|w| w.0.len()), Some(MAX_WORDS));
    }
}
