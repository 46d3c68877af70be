//! Language negotiation shared by every page: the four interface languages (es, ca, pt, en),
//! `Accept-Language` with q-values, and `{placeholder}` filling. Each module keeps its own
//! text tables and picks one with a `texts(Lang)` function of its own.

use axum::http::{HeaderMap, header};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Es,
    En,
    Pt,
    Ca,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::Es, Lang::En, Lang::Pt, Lang::Ca];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
            Lang::Pt => "pt",
            Lang::Ca => "ca",
        }
    }

    /// The interface language for a BCP 47 tag (`es`, `pt-BR`, `ca-ES-valencia`), if supported.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.trim();
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The visitor's preferred supported language from `Accept-Language` (q-values honoured,
    /// ties by order), if any.
    pub fn from_accept(headers: &HeaderMap) -> Option<Lang> {
        let header = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',').take(32) {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            if let Some(lang) = Lang::from_tag(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// Interface language for a page about a test: the test's own language when supported,
    /// else the visitor's, else English.
    pub fn for_test(test_lang: &str, headers: &HeaderMap) -> Lang {
        Lang::from_tag(test_lang)
            .or_else(|| Lang::from_accept(headers))
            .unwrap_or(Lang::En)
    }

    /// Interface language for pages not tied to a test (catalog, errors).
    pub fn for_visitor(headers: &HeaderMap) -> Lang {
        Lang::from_accept(headers).unwrap_or(Lang::En)
    }
}

/// The name of a language in that language, for badges; the tag itself when unknown.
pub fn language_name(tag: &str) -> String {
    match Lang::from_tag(tag) {
        Some(Lang::Es) => "Español".into(),
        Some(Lang::En) => "English".into(),
        Some(Lang::Pt) => "Português".into(),
        Some(Lang::Ca) => "Català".into(),
        None => tag.to_uppercase(),
    }
}

/// Replaces each `{key}` in `template` by its value.
pub fn fill(template: &str, pairs: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = template.to_string();
    for (k, v) in pairs {
        out = out.replace(&format!("{{{k}}}"), &v.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(v));
        h
    }
    #[test]
    fn accept_language_honours_q_values_and_regions() {
        assert_eq!(Lang::from_accept(&accept("pt-BR,pt;q=0.9")), Some(Lang::Pt));
        assert_eq!(
            Lang::from_accept(&accept("de-DE, en;q=0.5, ca;q=0.8")),
            Some(Lang::Ca)
        );
        assert_eq!(
            Lang::from_accept(&accept("es;q=0, en;q=0.1")),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept(&accept("de, fr")), None);
        assert_eq!(Lang::from_accept(&accept("*")), None);
        assert_eq!(Lang::from_accept(&HeaderMap::new()), None);
        assert_eq!(Lang::for_visitor(&accept("zh")), Lang::En);
    }

    #[test]
    fn a_tests_own_language_wins_on_its_pages() {
        assert_eq!(Lang::for_test("es", &accept("en")), Lang::Es);
        assert_eq!(Lang::for_test("ca-ES", &accept("en")), Lang::Ca);
        assert_eq!(Lang::for_test("de", &accept("pt")), Lang::Pt);
        assert_eq!(Lang::for_test("de", &HeaderMap::new()), Lang::En);
    }

    #[test]
    fn placeholders_fill_and_languages_name_themselves() {
        assert_eq!(
            fill("{a} and {b}", &[("a", &1), ("b", &"x")]),
            "1 and x".to_string()
        );
        assert_eq!(language_name("pt-BR"), "Português");
        assert_eq!(language_name("de"), "DE");
    }
}
