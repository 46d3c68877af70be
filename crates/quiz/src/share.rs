//! The public result behind a share link: JSON for clients, HTML with OpenGraph and Twitter
//! card tags for people and social networks. It never holds answers, ids, hashes or anything
//! personal: only the test, the profile and the scores.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use faro_http::{ApiError, ApiResult, Json};
use faro_store::unix_now;

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
    tenant: &str,
    token: &str,
) -> ApiResult<Option<(SharedResult, String)>> {
    if !valid_token(token) {
        return Ok(None);
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
        .ok_or_else(|| ApiError::internal("result names a profile its version lacks"))?;
    let dimensions: Vec<DimensionResult> =
        serde_json::from_str(&row.dimensions).map_err(ApiError::internal)?;
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
        share_url: crate::share_url(quiz, token),
        take_url: format!("{}/t/{}", quiz.core.web.public_base_url, def.slug),
    };
    Ok(Some((view, row.version_id)))
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// A shared result: HTML by default, JSON with `Accept: application/json`. Counts a share open.
#[utoipa::path(get, path = "/r/{share_token}", tag = "quiz",
    params(("share_token" = String, Path)),
    responses(
        (status = 200, description = "HTML page with OpenGraph tags, or JSON on Accept: application/json", body = SharedResult),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn shared_result(
    State(quiz): State<Quiz>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let tenant = quiz.core.public_tenant();
    let json = wants_json(&headers);
    let Some((shared, version_id)) = load(&quiz, tenant, &token).await? else {
        if json {
            return Err(
                ApiError::not_found("no result behind this link").with_code("result_not_found")
            );
        }
        return Ok((axum::http::StatusCode::NOT_FOUND, Html(not_found_page())).into_response());
    };
    crate::counters::share_opened(&quiz, tenant, &version_id, unix_now());
    let cache = [(header::CACHE_CONTROL, "public, max-age=300")];
    if json {
        return Ok((cache, Json(shared)).into_response());
    }
    Ok((cache, Html(render(&shared))).into_response())
}

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn not_found_page() -> String {
    "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Not found</title></head><body><h1>This result does not exist</h1></body></html>".to_string()
}

fn render(r: &SharedResult) -> String {
    let title = format!("{} — {}", r.title, r.test.title);
    let description = r.summary.chars().take(200).collect::<String>();
    let mut bars = String::new();
    for d in &r.dimensions {
        bars.push_str(&format!(
            "<li><span>{}</span><span class=\"bar\"><span style=\"width:{}%\"></span></span><b>{}</b></li>",
            esc(&d.label),
            d.score,
            d.score
        ));
    }
    let recs: String = r
        .recommendations
        .iter()
        .map(|x| format!("<li>{}</li>", esc(x)))
        .collect();
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title}</title>
<meta name="description" content="{desc}">
<meta property="og:type" content="website">
<meta property="og:title" content="{title}">
<meta property="og:description" content="{desc}">
<meta property="og:url" content="{url}">
<meta name="twitter:card" content="summary">
<meta name="twitter:title" content="{title}">
<meta name="twitter:description" content="{desc}">
<style>
body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1d2330}}
.score{{font-size:3rem;font-weight:700;color:#2d5bd7}}
ul.dims{{list-style:none;padding:0}} ul.dims li{{display:grid;grid-template-columns:9rem 1fr 2.5rem;gap:.5rem;align-items:center;margin:.4rem 0}}
.bar{{background:#e6e9f0;border-radius:4px;height:.7rem;display:block}} .bar span{{background:#2d5bd7;border-radius:4px;height:100%;display:block}}
a.cta{{display:inline-block;margin-top:1rem;padding:.7rem 1.2rem;background:#2d5bd7;color:#fff;border-radius:6px;text-decoration:none}}
</style>
</head>
<body>
<main>
<p>{test}</p>
<h1>{profile}</h1>
<p class="score">{score}/100</p>
<p>{summary}</p>
<ul class="dims">{bars}</ul>
<h2>✔</h2>
<ul>{recs}</ul>
<a class="cta" href="{take}">{test}</a>
</main>
</body>
</html>"#,
        lang = esc(&r.test.lang),
        title = esc(&title),
        desc = esc(&description),
        url = esc(&r.share_url),
        test = esc(&r.test.title),
        profile = esc(&r.title),
        score = r.score,
        summary = esc(&r.summary),
        bars = bars,
        recs = recs,
        take = esc(&r.take_url),
    )
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
    fn html_is_escaped() {
        assert_eq!(esc("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
    }
}
