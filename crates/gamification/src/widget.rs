//! The embeddable widget (issue 11): one dependency-free script that any landing page
//! includes to show the tenant's leaderboard, the signed-in end user's progress to the next
//! level, and a toast for each badge or level an event of theirs unlocks. It talks to the
//! JSON API of the Faro it was loaded from (public leaderboard, `profile`, `me/events`), so a
//! page on another origin needs that origin in the tenant's CORS settings.
//!
//! | route | does |
//! |---|---|
//! | `GET /gamification/widget.js` | the script; an hour of caching with an ETag, a year under `?v=<version>` |
//! | `GET /gamification/demo`, `GET /gamification/demo.js` | a landing page using it, only with `FARO_DEMO` |
//!
//! The files are compiled in (`assets/gamification/`); docs/gamification.md, "Widget", has
//! the snippet to paste.

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use faro_http::module::{ConfigError, Settings};

/// Where the script is served.
pub const WIDGET_PATH: &str = "/gamification/widget.js";

const WIDGET: &str = include_str!("../assets/gamification/widget.js");
const DEMO_JS: &str = include_str!("../assets/gamification/demo.js");
const DEMO_PAGE: &str = include_str!("../assets/gamification/demo.html");

const JS: &str = "text/javascript; charset=utf-8";
/// The unversioned address is what landing pages paste: a change reaches them within the hour,
/// and revalidating costs a 304.
const CACHE_SHORT: &str = "public, max-age=3600";
const CACHE_LONG: &str = "public, max-age=31536000, immutable";

/// FNV-1a, at compile time: the files' versions for their addresses and ETags.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// A compiled-in file with its version.
struct Asset {
    body: &'static str,
    version: String,
}

impl Asset {
    fn new(body: &'static str) -> Asset {
        Asset {
            body,
            version: format!("{:016x}", fnv1a(body.as_bytes())),
        }
    }

    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

static WIDGET_ASSET: LazyLock<Asset> = LazyLock::new(|| Asset::new(WIDGET));
static DEMO_ASSET: LazyLock<Asset> = LazyLock::new(|| Asset::new(DEMO_JS));

/// The script's version: `/gamification/widget.js?v=<version>` may be cached for good.
pub fn version() -> &'static str {
    &WIDGET_ASSET.version
}

/// The widget's routes; the demo page only when `FARO_DEMO` is on.
pub fn router(settings: &Settings) -> Result<Router, ConfigError> {
    let mut router = Router::new().route(WIDGET_PATH, get(widget_js));
    let demo = settings.get("FARO_DEMO").is_some() && settings.boolean("FARO_DEMO")?;
    if demo {
        let origin = settings
            .get("PUBLIC_BASE_URL")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        let page: Arc<str> = demo_page(&origin).into();
        router = router
            .route("/gamification/demo", get(move || demo_html(page.clone())))
            .route("/gamification/demo.js", get(demo_js));
    }
    Ok(router)
}

/// The demo page with its scripts' versioned addresses and the snippet's origin filled in.
fn demo_page(origin: &str) -> String {
    DEMO_PAGE
        .replace(
            "{{widget}}",
            &format!("{WIDGET_PATH}?v={}", WIDGET_ASSET.version),
        )
        .replace(
            "{{demo}}",
            &format!("/gamification/demo.js?v={}", DEMO_ASSET.version),
        )
        .replace("{{origin}}", &escape(origin))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn widget_js(RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    serve(&WIDGET_ASSET, query.as_deref(), &headers)
}

async fn demo_js(RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    serve(&DEMO_ASSET, query.as_deref(), &headers)
}

async fn demo_html(page: Arc<str>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page.to_string(),
    )
        .into_response()
}

/// A script: a year of caching when asked for by its current version, else an hour; an ETag
/// either way, and a 304 when the browser already holds it.
fn serve(asset: &Asset, query: Option<&str>, headers: &HeaderMap) -> Response {
    let pinned = query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.strip_prefix("v=") == Some(asset.version.as_str()))
    });
    let etag = asset.etag();
    let cache = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(if pinned { CACHE_LONG } else { CACHE_SHORT }),
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
        ),
        // Pages that isolate themselves (COEP `require-corp`) may still load it.
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [(header::CONTENT_TYPE, HeaderValue::from_static(JS))],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_page_links_the_current_versions() {
        let page = demo_page("https://faro.example.com");
        assert!(page.contains(&format!("src=\"/gamification/widget.js?v={}\"", version())));
        assert!(page.contains(&format!(
            "src=\"/gamification/demo.js?v={}\"",
            DEMO_ASSET.version
        )));
        assert!(page.contains("https://faro.example.com/gamification/widget.js"));
        assert!(!page.contains("{{"), "every placeholder filled");
    }

    #[test]
    fn the_script_never_writes_markup() {
        for (name, body) in [("widget.js", WIDGET), ("demo.js", DEMO_JS)] {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
            ] {
                assert!(!body.contains(sink), "{name} uses {sink}");
            }
        }
    }

    #[test]
    fn versions_follow_the_content() {
        assert_eq!(version().len(), 16);
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}
