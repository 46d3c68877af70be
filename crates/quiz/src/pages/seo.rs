//! What crawlers read: `/robots.txt` and `/sitemap.xml` (the catalog and every served test).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Quiz;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub async fn sitemap(State(quiz): State<Quiz>) -> Response {
    let tenant = quiz.core.public_tenant();
    let catalog = match quiz.cache.catalog(&quiz.core.db, tenant).await {
        Ok(c) => c,
        Err(e) => return faro_http::ApiError::from(e).into_response(),
    };
    let base = &quiz.core.web.public_base_url;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    xml.push_str(&format!("  <url><loc>{}/</loc></url>\n", xml_escape(base)));
    for e in &catalog.entries {
        xml.push_str(&format!(
            "  <url><loc>{}/t/{}</loc></url>\n",
            xml_escape(base),
            xml_escape(&e.slug)
        ));
    }
    xml.push_str("</urlset>\n");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/xml; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        xml,
    )
        .into_response()
}

pub async fn robots(State(quiz): State<Quiz>) -> Response {
    let base = &quiz.core.web.public_base_url;
    let body = format!(
        "User-agent: *\n\
         Allow: /\n\
         Allow: /t/\n\
         Allow: /r/\n\
         Disallow: /t/*/s/\n\
         Disallow: /admin\n\
         Disallow: /api\n\
         \n\
         Sitemap: {base}/sitemap.xml\n"
    );
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_is_escaped() {
        assert_eq!(super::xml_escape("a&b<'\">"), "a&amp;b&lt;&apos;&quot;&gt;");
    }
}
