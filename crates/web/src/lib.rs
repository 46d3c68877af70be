//! The shared web shell: what every module's pages stand on, so no module owns it and the
//! platform's sign-in works with any set of modules switched on. The panel's page extractors,
//! CSRF-checked forms, error pages, base templates and stylesheet (`panel`), language
//! negotiation (`i18n`), and the one escaper for text written into HTML or SVG by hand.
//!
//! Module templates reach the shell's templates through their crate's `askama.toml`
//! (`dirs = ["templates", "../web/templates"]`) and extend `panel/base.html`.

pub mod i18n;
pub mod panel;

/// Escapes text for HTML and XML (SVG): the five markup characters, and control characters
/// other than tab and line breaks (which XML forbids) become spaces. Templates escape by
/// themselves; this is for markup built in code.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_and_control_characters_are_neutralised() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("a\u{0}b\u{7f}c\nd"), "a b c\nd");
        assert_eq!(esc("plain María"), "plain María");
    }
}
