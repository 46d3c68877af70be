//! The result page behind a share link (`GET /r/{token}`, routed in `share.rs`): the profile,
//! the score against the test's profile bands, a bar per dimension, recommendations, share
//! buttons and a way to take the test. OpenGraph and Twitter tags point at the rendered card.
//! Nothing on it identifies the session: no answers, no ids, no hashes.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use faro_http::{ApiError, ApiResult, Json, PublicTenant};
use faro_quiz_domain::Definition;
use faro_store::unix_now;

use super::i18n::{Lang, fill};
use super::{Chrome, card, pct};
use crate::Quiz;
use crate::views::SharedResult;

pub(crate) struct Band {
    pub title: String,
    pub width: String,
    pub current: bool,
}

pub(crate) struct Dim {
    pub label: String,
    pub score: u8,
}

pub(crate) struct ShareLink {
    pub network: &'static str,
    pub class: &'static str,
    /// Inline SVG, ours (rendered unescaped).
    pub icon: &'static str,
    pub href: String,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/result.html")]
pub(crate) struct ResultPage {
    pub chrome: Chrome,
    pub test_title: String,
    pub take_href: String,
    pub take_label: String,
    pub profile_title: String,
    pub summary: String,
    pub recommendations: Vec<String>,
    pub score: u8,
    pub score_text: String,
    pub bands: Vec<Band>,
    pub dims: Vec<Dim>,
    pub share_url: String,
    pub share_text: String,
    pub links: Vec<ShareLink>,
    pub og_title: String,
    pub og_description: String,
    pub og_image: String,
    pub og_image_alt: String,
}

const ICON_WHATSAPP: &str = r##"<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path d="M12 2.8a9.2 9.2 0 0 0-7.9 13.9L2.8 21.2l4.6-1.2A9.2 9.2 0 1 0 12 2.8z" fill="#25d366"/><path d="M9 7.4c-.2-.5-.5-.5-.7-.5h-.6c-.2 0-.6.1-.9.4-.3.3-1.1 1.1-1.1 2.7s1.2 3.2 1.3 3.4c.2.2 2.3 3.7 5.7 5 2.8 1.1 3.4.9 4 .8.6-.1 2-.8 2.3-1.6.3-.8.3-1.5.2-1.6-.1-.1-.3-.2-.7-.4l-2.3-1.1c-.3-.1-.5-.2-.8.2l-1 1.3c-.2.2-.4.2-.7.1-.4-.2-1.5-.6-2.8-1.8-1-.9-1.7-2-1.9-2.4-.2-.4 0-.5.2-.7l.5-.6c.2-.2.2-.4.3-.6.1-.2 0-.5 0-.6z" fill="#fff"/></svg>"##;
const ICON_X: &str = r##"<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><rect width="24" height="24" rx="5" fill="#0f1419"/><path d="M6 6h3.6l3 4.2L16.2 6h1.6l-4.5 5.2L18.3 18h-3.6l-3.2-4.5L7.6 18H6l4.8-5.5z" fill="#fff"/></svg>"##;
const ICON_LINKEDIN: &str = r##"<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><rect width="24" height="24" rx="5" fill="#0a66c2"/><rect x="5.5" y="9.5" width="2.8" height="9" fill="#fff"/><circle cx="6.9" cy="6.6" r="1.6" fill="#fff"/><path d="M10.6 9.5h2.7v1.3c.5-.8 1.5-1.5 3-1.5 2.4 0 3.2 1.5 3.2 4v5.2h-2.8v-4.6c0-1.2-.3-2-1.5-2s-1.8.9-1.8 2.1v4.5h-2.8z" fill="#fff"/></svg>"##;
const ICON_FACEBOOK: &str = r##"<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="#1877f2"/><path d="M13.3 23v-8.3h2.6l.4-3h-3V9.8c0-.9.3-1.5 1.5-1.5h1.6V5.6c-.3 0-1.2-.1-2.3-.1-2.3 0-3.9 1.4-3.9 4v2.2H7.6v3h2.6V23z" fill="#fff"/></svg>"##;

/// Cuts `s` to at most `max` characters on a word boundary, with an ellipsis.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([' ', ',', '.', ';', ':']))
}

pub(crate) fn page(
    shared: &SharedResult,
    def: Option<&Definition>,
    headers: &HeaderMap,
) -> ResultPage {
    let lang = Lang::for_test(&shared.test.lang, headers);
    let t = super::i18n::texts(lang);
    let bands = def
        .map(|d| {
            d.profiles
                .iter()
                .map(|p| Band {
                    title: p.title.clone(),
                    // Bands share the bar in proportion to the scores they cover.
                    width: (u32::from(p.max.saturating_sub(p.min)) + 1).to_string(),
                    current: p.code == shared.profile_code,
                })
                .collect()
        })
        .unwrap_or_default();
    let share_text = fill(
        t.share_text,
        &[("test", &shared.test.title), ("profile", &shared.title)],
    );
    let url = &shared.share_url;
    let links = vec![
        ShareLink {
            network: "WhatsApp",
            class: "whatsapp",
            icon: ICON_WHATSAPP,
            href: format!(
                "https://wa.me/?text={}",
                pct(&format!("{share_text} {url}"))
            ),
            label: fill(t.share_on, &[("network", &"WhatsApp")]),
        },
        ShareLink {
            network: "X",
            class: "x",
            icon: ICON_X,
            href: format!(
                "https://x.com/intent/post?text={}&url={}",
                pct(&share_text),
                pct(url)
            ),
            label: fill(t.share_on, &[("network", &"X")]),
        },
        ShareLink {
            network: "LinkedIn",
            class: "linkedin",
            icon: ICON_LINKEDIN,
            href: format!(
                "https://www.linkedin.com/sharing/share-offsite/?url={}",
                pct(url)
            ),
            label: fill(t.share_on, &[("network", &"LinkedIn")]),
        },
        ShareLink {
            network: "Facebook",
            class: "facebook",
            icon: ICON_FACEBOOK,
            href: format!("https://www.facebook.com/sharer/sharer.php?u={}", pct(url)),
            label: fill(t.share_on, &[("network", &"Facebook")]),
        },
    ];
    let minutes = def.map(|d| d.estimated_minutes).unwrap_or(0);
    ResultPage {
        chrome: Chrome::new(lang, &shared.test.lang),
        test_title: shared.test.title.clone(),
        take_href: format!("/t/{}", shared.test.slug),
        take_label: if minutes > 0 {
            format!("{} · {}", t.take_test, t.minutes(i64::from(minutes)))
        } else {
            t.take_test.to_string()
        },
        profile_title: shared.title.clone(),
        summary: shared.summary.clone(),
        recommendations: shared.recommendations.clone(),
        score: shared.score,
        score_text: fill(t.out_of, &[("score", &shared.score)]),
        bands,
        dims: shared
            .dimensions
            .iter()
            .map(|d| Dim {
                label: d.label.clone(),
                score: d.score.min(100),
            })
            .collect(),
        share_url: url.clone(),
        og_title: format!("{} — {}", shared.title, shared.test.title),
        og_description: clip(&shared.summary, 200),
        og_image: format!("{url}/card.png"),
        og_image_alt: card::alt_text(lang, &shared.title, shared.score, &shared.test.title),
        share_text,
        links,
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// A browser navigating here from one of our own pages: the visitor who just finished the test
/// seeing their result, not someone opening a shared link. Not counted as a share open, so the
/// pages count exactly what the JSON API does (its `finish` shows the result without a visit).
fn own_navigation(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    get("sec-fetch-site") == Some("same-origin") && get("sec-fetch-mode") == Some("navigate")
}

/// A shared result: HTML by default, JSON with `Accept: application/json`. Counts a share open
/// (except the finisher's own first view, which arrives from our own pages).
#[utoipa::path(get, path = "/r/{share_token}", tag = "quiz",
    params(("share_token" = String, Path)),
    responses(
        (status = 200, description = "HTML page with OpenGraph tags, or JSON on Accept: application/json",
            content((SharedResult = "application/json"), (String = "text/html"))),
        (status = 404, description = "Unknown token: a JSON error on Accept: application/json, an HTML page otherwise",
            content((faro_http::ErrorBody = "application/json"), (String = "text/html"))),
    ))]
pub async fn shared_result(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let json = wants_json(&headers);
    let Some((shared, version_id)) = crate::visit::load_shared(&quiz, tenant, &token).await? else {
        if json {
            return Err(
                ApiError::not_found("no result behind this link").with_code("result_not_found")
            );
        }
        return Ok(super::result_not_found(Lang::for_visitor(&headers)));
    };
    let cache = [
        (header::CACHE_CONTROL, "public, max-age=300"),
        (header::VARY, "Accept"),
    ];
    if json {
        crate::counters::share_opened(&quiz, tenant, &version_id, unix_now());
        return Ok((cache, Json(shared)).into_response());
    }
    if !own_navigation(&headers) {
        crate::counters::share_opened(&quiz, tenant, &version_id, unix_now());
    }
    // The version was just loaded into the cache by `load`: no database work here.
    let version = quiz
        .cache
        .version(&quiz.core.db, tenant, &version_id)
        .await?;
    let page = page(&shared, version.as_ref().map(|v| &v.def), &headers);
    Ok((cache, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{DimensionResult, SharedTest};
    use askama::Template;

    fn shared() -> SharedResult {
        SharedResult {
            test: SharedTest {
                slug: "saver".into(),
                title: "What <kind> of saver?".into(),
                lang: "en".into(),
            },
            profile_code: "MED".into(),
            title: "Moderate".into(),
            summary: "Balanced. ".repeat(40),
            recommendations: vec!["Diversify".into()],
            score: 54,
            dimensions: vec![DimensionResult {
                key: "horizon".into(),
                label: "Horizon".into(),
                score: 80,
            }],
            share_url: "https://q.example/r/abcdefghijklmnopqrstuv".into(),
            take_url: "https://q.example/t/saver".into(),
        }
    }

    #[test]
    fn the_page_has_social_tags_and_no_internal_codes() {
        let html = page(&shared(), None, &HeaderMap::new())
            .render()
            .expect("renders");
        for needle in [
            r#"<meta property="og:image" content="https://q.example/r/abcdefghijklmnopqrstuv/card.png">"#,
            r#"<meta name="twitter:card" content="summary_large_image">"#,
            r#"<meta property="og:url" content="https://q.example/r/abcdefghijklmnopqrstuv">"#,
            "What &#60;kind&#62; of saver?",
            r#"href="/t/saver""#,
            "https://wa.me/?text=",
        ] {
            assert!(html.contains(needle), "missing {needle}");
        }
        assert!(!html.contains("MED"), "no profile code");
        assert!(!html.contains("horizon\""), "no dimension keys");
    }

    #[test]
    fn descriptions_are_clipped_on_words() {
        let c = clip(&"word ".repeat(100), 50);
        assert!(c.chars().count() <= 51 && c.ends_with('…'), "{c}");
        assert_eq!(clip("short", 50), "short");
    }

    #[test]
    fn only_same_origin_navigations_are_own_views() {
        use axum::http::HeaderValue;
        let mut h = HeaderMap::new();
        assert!(!own_navigation(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        h.insert("sec-fetch-mode", HeaderValue::from_static("navigate"));
        assert!(own_navigation(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!own_navigation(&h));
    }
}
