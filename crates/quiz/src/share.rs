//! The public result behind a share link: JSON for clients, HTML with OpenGraph and Twitter
//! card tags for people and social networks (the page itself is `pages::result`). It never
//! holds answers, ids, hashes or anything personal: only the test, the profile and the scores.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use faro_http::PublicTenant;
use faro_http::{ApiError, ApiResult, Json};
use faro_store::TenantId;
use faro_store::unix_now;

use crate::pages::i18n::Lang;
use crate::service::QuizError;
use crate::views::{DimensionResult, SharedResult, SharedTest};
use crate::{Quiz, store};

fn valid_token(token: &str) -> bool {
    token.len() == 22
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The shareable view of a result and the version it belongs to, or None for an unknown token.
pub async fn load(
    quiz: &Quiz,
    tenant: &TenantId,
    token: &str,
) -> Result<Option<(SharedResult, String)>, QuizError> {
    if !valid_token(token) {
        return Ok(None);
    }
    let key = format!("{tenant}/{token}");
    if let Some(cached) = quiz.cache.result(&key) {
        return Ok(Some((*cached).clone()));
    }
    let Some(row) = store::get_result(&quiz.core.db, tenant, token).await? else {
        return Ok(None);
    };
    let Some(version) = quiz
        .cache
        .version(&quiz.core.db, tenant, &row.version_id)
        .await?
    else {
        return Ok(None);
    };
    let def = &version.def;
    let profile = def
        .profiles
        .iter()
        .find(|p| p.code == row.profile_code)
        .ok_or_else(|| QuizError::Internal("result names a profile its version lacks".into()))?;
    let dimensions: Vec<DimensionResult> =
        serde_json::from_str(&row.dimensions).map_err(|e| QuizError::Internal(e.to_string()))?;
    let view = SharedResult {
        test: SharedTest {
            slug: def.slug.clone(),
            title: def.title.clone(),
            lang: def.lang.clone(),
        },
        profile_code: profile.code.clone(),
        title: profile.title.clone(),
        summary: profile.summary.clone(),
        recommendations: profile.recommendations.clone(),
        score: u8::try_from(row.score.clamp(0, 100)).unwrap_or(0),
        dimensions,
        share_url: crate::visit::share_url(quiz, token),
        take_url: format!("{}/t/{}", quiz.core.web.public_base_url, def.slug),
    };
    let loaded = (view, row.version_id);
    quiz.cache
        .put_result(key, std::sync::Arc::new(loaded.clone()));
    Ok(Some(loaded))
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
    let Some((shared, version_id)) = load(&quiz, tenant, &token).await? else {
        if json {
            return Err(
                ApiError::not_found("no result behind this link").with_code("result_not_found")
            );
        }
        return Ok(crate::pages::result_not_found(Lang::for_visitor(&headers)));
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
    let page = crate::pages::result::page(&shared, version.as_ref().map(|v| &v.def), &headers);
    Ok((cache, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_before_any_lookup() {
        assert!(valid_token("abcdefghijklmnopqrstuv"));
        assert!(!valid_token("abc"));
        assert!(!valid_token("abcdefghijklmnopqrstu/"));
        assert!(!valid_token("abcdefghijklmnopqrstu'"));
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
