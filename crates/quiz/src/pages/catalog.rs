//! `GET /`: the catalog of active tests, from the same cached catalog as `GET /api/v1/tests`.
//! Every test is listed; those in the visitor's language (Accept-Language) come first and the
//! rest are grouped under "in other languages" with a language badge.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use faro_http::PublicTenant;

use super::i18n::{Lang, language_name};
use super::{Chrome, ErrorContext, error_page};
use crate::Quiz;
use crate::cache::Entry;

pub(crate) struct Card {
    pub href: String,
    pub title: String,
    pub description: String,
    pub minutes: String,
    pub tags: Vec<String>,
    /// Shown when the test is not in the interface language.
    pub language: Option<String>,
    /// The test's language tag, for `lang` on its card.
    pub lang: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/catalog.html")]
pub(crate) struct CatalogPage {
    pub chrome: Chrome,
    pub canonical: String,
    pub mine: Vec<Card>,
    pub others: Vec<Card>,
}

fn card(e: &Entry, lang: Lang) -> Card {
    let same = Lang::from_tag(&e.lang) == Some(lang);
    Card {
        href: format!("/t/{}", e.slug),
        title: e.title.clone(),
        description: e.description.clone(),
        minutes: super::i18n::texts(lang).minutes(e.estimated_minutes),
        tags: e.tags.clone(),
        language: (!same).then(|| language_name(&e.lang)),
        lang: e.lang.clone(),
    }
}

/// Sorts the catalog for a visitor: their language first, then by title.
pub(crate) fn arrange(entries: &[Entry], lang: Lang) -> (Vec<Card>, Vec<Card>) {
    let (mut mine, mut others): (Vec<&Entry>, Vec<&Entry>) = entries
        .iter()
        .partition(|e| Lang::from_tag(&e.lang) == Some(lang));
    mine.sort_by_key(|e| e.title.to_lowercase());
    others.sort_by_key(|e| (e.lang.to_lowercase(), e.title.to_lowercase()));
    (
        mine.into_iter().map(|e| card(e, lang)).collect(),
        others.into_iter().map(|e| card(e, lang)).collect(),
    )
}

pub async fn catalog(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::for_visitor(&headers);
    let catalog = match quiz.cache.catalog(&quiz.core.db, tenant).await {
        Ok(c) => c,
        Err(e) => return error_page(lang, e, ErrorContext::default()),
    };
    let (mine, others) = arrange(&catalog.entries, lang);
    let page = CatalogPage {
        chrome: Chrome::new(lang, ""),
        canonical: format!("{}/", quiz.core.web.public_base_url),
        mine,
        others,
    };
    (
        [
            (header::CACHE_CONTROL, "public, max-age=30"),
            (header::VARY, "Accept-Language"),
        ],
        page,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(slug: &str, lang: &str, title: &str) -> Entry {
        Entry {
            test_id: slug.into(),
            slug: slug.into(),
            title: title.into(),
            description: String::new(),
            lang: lang.into(),
            tags: vec![],
            estimated_minutes: 3,
            version: 1,
            version_id: slug.into(),
        }
    }

    #[test]
    fn the_visitors_language_comes_first_and_others_are_badged() {
        let entries = vec![
            entry("b", "en", "Beta"),
            entry("a", "es", "Alfa"),
            entry("c", "en-GB", "Alpha"),
            entry("d", "de", "Delta"),
        ];
        let (mine, others) = arrange(&entries, Lang::En);
        let titles: Vec<&str> = mine.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["Alpha", "Beta"]);
        assert!(mine.iter().all(|c| c.language.is_none()));
        let others: Vec<(&str, Option<&str>)> = others
            .iter()
            .map(|c| (c.title.as_str(), c.language.as_deref()))
            .collect();
        assert_eq!(others, [("Delta", Some("DE")), ("Alfa", Some("Español"))]);
    }
}
