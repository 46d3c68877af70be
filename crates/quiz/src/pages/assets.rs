//! The pages' static files (CSS, one script, fonts, icon), embedded in the binary and served
//! under `/assets/public/` with a year of caching: pages link them with `?v=<content hash>`,
//! so a changed file gets a new URL.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/public/"]
struct Public;

/// An embedded file's bytes (the card takes its full fonts from here: one copy in the binary).
pub fn bytes(path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    Public::get(path).map(|f| f.data)
}

/// `quiz.css` → `/assets/public/quiz.css?v=1a2b3c4d5e`.
pub fn url(path: &'static str) -> &'static str {
    static URLS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
        Public::iter()
            .filter_map(|p| {
                let file = Public::get(&p)?;
                let hash = hex(&file.metadata.sha256_hash()[..5]);
                Some((p.to_string(), format!("/assets/public/{p}?v={hash}")))
            })
            .collect()
    });
    URLS.get(path).map(String::as_str).unwrap_or(path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The content type of a servable file; None for what is embedded but not served (the card's
/// full fonts, developer notes).
fn content_type(path: &str) -> Option<&'static str> {
    Some(match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "woff2" => "font/woff2",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let (Some(file), Some(content_type)) = (Public::get(&path), content_type(&path)) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..12]));
    let cache = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
        ),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        file.data.into_owned(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_pages_link_is_embedded_and_versioned() {
        for p in [
            "quiz.css",
            "quiz.js",
            "favicon.svg",
            "fonts/inter-400.woff2",
            "fonts/inter-700.woff2",
        ] {
            assert!(Public::get(p).is_some(), "{p} is embedded");
            assert!(url(p).starts_with(&format!("/assets/public/{p}?v=")), "{p}");
        }
        assert!(bytes("fonts/Inter-Regular.otf").is_some());
        assert!(bytes("fonts/Inter-Bold.otf").is_some());
        assert_eq!(content_type("fonts/Inter-Bold.otf"), None, "not served");
        assert_eq!(content_type("fonts/README.md"), None);
        assert_eq!(content_type("a/b.woff2"), Some("font/woff2"));
        assert_eq!(
            content_type("quiz.js"),
            Some("text/javascript; charset=utf-8")
        );
    }
}
