//! Rules for the free text merchants send (docs/reference/limits.md#input).

/// Whether `text` may be stored and shown as it is: no control character (U+0000–U+001F,
/// U+007F), except tab and newline where the text may span lines (`multi_line`, e.g. a
/// description). Control characters have no place in a reference or a URL: NUL is refused
/// by PostgreSQL's `TEXT`, and the others can break log lines, CSV exports and terminals.
#[must_use]
pub fn is_clean(text: &str, multi_line: bool) -> bool {
    !text.chars().any(|c| match c {
        '\t' | '\n' => !multi_line,
        c => c.is_ascii_control(),
    })
}

/// Whether `text` is an e-mail address as gatepost checks one: one `@` with something on
/// each side, and a dot inside the domain. Deliverability is the merchant's to find out.
#[must_use]
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    let dotted = domain.char_indices().any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len());
    !local.is_empty() && !domain.contains('@') && dotted && is_clean(text, false)
}

#[cfg(test)]
mod tests {
    use super::is_clean;

    #[test]
    fn control_characters_are_refused_and_tab_and_newline_only_where_lines_are() {
        assert!(is_clean("order-1234 — café", false));
        assert!(is_clean("two lines\n\tindented", true));
        for bad in ["a\0b", "a\u{1}", "bell\u{7}", "esc\u{1b}[31m", "del\u{7f}", "cr\r"] {
            assert!(!is_clean(bad, false), "{bad:?}");
            assert!(!is_clean(bad, true), "{bad:?}");
        }
        assert!(!is_clean("tab\there", false));
        assert!(!is_clean("new\nline", false));
        assert!(is_clean("\u{80}\u{9f} C1 controls are text to Rust, and harmless", false));
    }

    #[test]
    fn an_email_has_one_at_and_a_dot_inside_its_domain() {
        for good in ["ana@example.com", "a@b.c", "a.b+c@d..e", "ü@ex.ample"] {
            assert!(super::is_email(good), "{good}");
        }
        for bad in ["ana", "@example.com", "ana@", "ana@example", "ana@.com", "ana@com.", "a@b@c.d", "a\0@b.c"] {
            assert!(!super::is_email(bad), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn clean_text_has_no_ascii_control_but_tab_and_newline(text in "\\PC*|[\\x00-\\x7f]{0,20}") {
            if is_clean(&text, true) {
                proptest::prop_assert!(text.chars().all(|c| !c.is_ascii_control() || c == '\t' || c == '\n'));
            }
        }
    }
}
