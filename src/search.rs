//! Word search: how typed words find text, the same on every backend.
//!
//! Text is cut into tokens at every character that is not a letter or a
//! digit, and tokens compare without case: `SKU-20418` holds the tokens
//! `sku` and `20418`. A typed word is cut the same way and found where its
//! tokens follow one another in the text, the last one as a prefix, so
//! `SKU-204` finds `SKU-20418` and `short on` finds `short on PO-1`. Every
//! typed word must be found.
//!
//! The stores hand these rules to their full-text indexes (SQLite FTS5,
//! PostgreSQL `tsvector`); [`Words::finds`] states them in plain code, for
//! tests to hold the indexes to.

/// The most words one search looks for; more are ignored.
pub const MAX_WORDS: usize = 16;

/// Typed words, cut into tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words(Vec<Vec<String>>);

/// `text` cut into lower-case tokens of letters and digits.
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase)
}

impl Words {
    /// The words of `typed`; `None` when it holds no letter or digit to
    /// look for.
    pub fn parse(typed: &str) -> Option<Words> {
        let words: Vec<Vec<String>> = typed
            .split_whitespace()
            .map(|w| tokens(w).collect::<Vec<_>>())
            .filter(|w| !w.is_empty())
            .take(MAX_WORDS)
            .collect();
        (!words.is_empty()).then_some(Words(words))
    }

    /// Whether `text` holds every word: the plain statement of what the
    /// indexes answer.
    pub fn finds(&self, text: &str) -> bool {
        let found: Vec<String> = tokens(text).collect();
        self.0.iter().all(|word| {
            let Some((last, before)) = word.split_last() else { return true };
            found
                .windows(word.len())
                .any(|run| run[..before.len()] == before[..] && run[before.len()].starts_with(last.as_str()))
        })
    }

    /// The words as an SQLite FTS5 query: each a quoted phrase whose last
    /// token is a prefix, all required. Tokens hold only letters and digits,
    /// so nothing in them needs escaping.
    pub fn fts5(&self) -> String {
        self.0.iter().map(|w| format!("\"{}\"*", w.join(" "))).collect::<Vec<_>>().join(" AND ")
    }

    /// The words as a PostgreSQL `tsquery` (for `to_tsquery('simple', …)`):
    /// each a phrase of tokens following one another, the last a prefix,
    /// all required.
    pub fn tsquery(&self) -> String {
        self.0
            .iter()
            .filter_map(|w| {
                let (last, before) = w.split_last()?;
                let mut parts: Vec<String> = before.iter().map(|t| format!("'{t}'")).collect();
                parts.push(format!("'{last}':*"));
                Some(format!("({})", parts.join(" <-> ")))
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
    fn every_word_must_be_found_anywhere_in_any_case() {
        assert!(finds("pallet SHORT", "Short receipt: one pallet missing"));
        assert!(!finds("pallet crushed", "Short receipt: one pallet missing"));
        assert!(finds("café", "Café order"));
    }

    #[test]
    fn punctuation_alone_is_no_word() {
        assert_eq!(Words::parse(" -- / "), None);
        assert_eq!(Words::parse("\"'%*"), None);
        assert_eq!(Words::parse("50% off").map(|w| w.0.len()), Some(2));
    }

    #[test]
    fn queries_carry_nothing_but_tokens() {
        let words = Words::parse("SKU-204 \"pallet\" o'brien").expect("words");
        assert_eq!(words.fts5(), r#""sku 204"* AND "pallet"* AND "o brien"*"#);
        assert_eq!(words.tsquery(), "('sku' <-> '204':*) & ('pallet':*) & ('o' <-> 'brien':*)");
    }

    #[test]
    fn many_words_are_cut_to_the_most_one_search_holds() {
        let typed = (0..40).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
        assert_eq!(Words::parse(&typed).map(|w| w.0.len()), Some(MAX_WORDS));
    }
}
