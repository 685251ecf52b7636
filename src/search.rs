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

    /// A sieve for texts of ASCII only: SQLite `GLOB` patterns, one for each
    /// ASCII token of each word, that such a text with a space added at each
    /// end matches whenever it holds the words (a token where the word has
    /// it whole, a token's start where the word has a prefix). A text that
    /// holds the words passes; one that passes may not hold them (the order
    /// of a word's tokens is not looked at), so the index still decides.
    /// Tokens with letters beyond ASCII are left out: case folds differently
    /// there.
    pub fn ascii_globs(&self) -> Vec<String> {
        const EDGE: &str = "[^0-9A-Za-z]";
        let mut globs: Vec<String> = Vec::new();
        for word in &self.0 {
            let whole = word.before.len();
            for (i, token) in word.before.iter().chain([&word.last]).enumerate() {
                if !token.is_ascii() {
                    continue;
                }
                let body: String = token
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphabetic() {
                            format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
                        } else {
                            c.to_string()
                        }
                    })
                    .collect();
                let end = if i < whole || !word.is_prefix() { EDGE } else { "" };
                let glob = format!("*{EDGE}{body}{end}*");
                if !globs.contains(&glob) {
                    globs.push(glob);
                }
            }
        }
        globs
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

    /// SQLite's `GLOB` for the patterns [`Words::ascii_globs`] writes: `*`,
    /// classes `[..]` and `[^..]` of single characters and ranges, and
    /// characters standing for themselves.
    fn glob(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.first() {
            None => text.is_empty(),
            Some(b'*') => (0..=text.len()).any(|i| glob(&pattern[1..], &text[i..])),
            Some(b'[') => {
                let close = pattern.iter().position(|&b| b == b']').expect("a closed class");
                let (negated, set) = match &pattern[1..close] {
                    [b'^', rest @ ..] => (true, rest),
                    set => (false, set),
                };
                let Some((&c, rest)) = text.split_first() else { return false };
                let mut inside = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == b'-' {
                        inside |= (set[i]..=set[i + 2]).contains(&c);
                        i += 3;
                    } else {
                        inside |= set[i] == c;
                        i += 1;
                    }
                }
                inside != negated && glob(&pattern[close + 1..], rest)
            }
            Some(&p) => text.first() == Some(&p) && glob(&pattern[1..], &text[1..]),
        }
    }

    fn sieve_passes(typed: &str, text: &str) -> bool {
        let padded = format!(" {text} ");
        Words::parse(typed).expect("words").ascii_globs().iter().all(|g| glob(g.as_bytes(), padded.as_bytes()))
    }

    #[test]
    fn the_ascii_sieve_lets_through_every_text_that_holds_the_words() {
        let texts = [
            "Receipt short on PO-10045 line 7: 40 of 48 cases of SKU-20418",
            "line 70 short",
            "SKU-2041 x",
            "sku20418",
            "shortage; LINE-7",
            "7",
            "",
        ];
        let typed = ["short line 7", "SKU-204", "sku-20418", "shor", "line 7", "7", "Line", "PO-10045", "LINE-7", "x"];
        for text in texts {
            for words in typed {
                let holds = Words::parse(words).expect("words").finds(text);
                let passes = sieve_passes(words, text);
                assert!(!holds || passes, "{words:?} is in {text:?}, and the sieve stopped it");
            }
        }
        // It does stop what it can tell apart.
        assert!(!sieve_passes("line 7", "line 70"), "7 is a whole token");
        assert!(!sieve_passes("shor", "ashort"), "a prefix begins a token");
        assert!(sieve_passes("Köln 7", "line 7"), "a token beyond ASCII is left to the index");
    }

    proptest::proptest! {
        /// Over texts and words of a small alphabet (so that they meet often),
        /// what holds the words always passes the sieve.
        #[test]
        fn no_text_that_holds_the_words_is_sieved_out(
            text in "[a-cA-C0-2 .-]{0,24}",
            typed in "[a-cA-C0-2-]{1,5}( [a-cA-C0-2-]{1,5}){0,2}",
        ) {
            if let Some(words) = Words::parse(&typed) {
                proptest::prop_assert!(!words.finds(&text) || sieve_passes(&typed, &text), "{typed:?} in {text:?}");
            }
        }
    }

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
