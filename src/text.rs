//! What text from outside may hold. Control characters have no place in a
//! name, a key or a line of text, and NUL cannot be stored at all on
//! PostgreSQL; free text keeps its tabs and line breaks.

/// Whether `c` may appear in free text (messages, comments, summaries): any
/// character but the controls (Unicode category Cc), tab, line feed and
/// carriage return excepted.
pub fn fits_free_text(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\r')
}

/// Whether `s` is a name or key: no control character at all.
pub fn is_one_line(s: &str) -> bool {
    !s.contains(char::is_control)
}

/// Whether `s` is free text: no control character but tab and line breaks.
pub fn is_free_text(s: &str) -> bool {
    s.chars().all(fits_free_text)
}

/// `s` with each NUL replaced by U+FFFD, for bodies kept as they came (a
/// message set aside, the head of a partner's answer): PostgreSQL text cannot
/// hold NUL.
pub fn storable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') { std::borrow::Cow::Owned(s.replace('\0', "\u{fffd}")) } else { std::borrow::Cow::Borrowed(s) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_keeps_tabs_and_line_breaks_but_no_other_control() {
        assert!(is_free_text("short by 4\r\n\tline 2 — ünïcode"));
        for bad in ["a\0b", "a\u{7}b", "a\u{1b}[31m", "a\u{85}b", "a\u{7f}"] {
            assert!(!is_free_text(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_name_holds_no_control_character() {
        assert!(is_one_line("PO-4471 / Zürich"));
        assert!(!is_one_line("PO\n4471"));
        assert!(!is_one_line("PO\t4471"));
    }

    #[test]
    fn nul_is_replaced_only_where_present() {
        assert!(matches!(storable("plain"), std::borrow::Cow::Borrowed("plain")));
        assert_eq!(storable("a\0b\0"), "a\u{fffd}b\u{fffd}");
    }
}
