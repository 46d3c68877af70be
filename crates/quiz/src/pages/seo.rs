//! What crawlers read: `/robots.txt` and `/sitemap.xml` (the catalog and every served test).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use faro_http::PublicTenant;

use faro_web::esc;

use crate::Quiz;

pub async fn sitemap(State(quiz): State<Quiz>, PublicTenant(ref tenant): PublicTenant) -> Response {
    let catalog = match quiz.cache.catalog(&quiz.core.db, tenant).await {
        Ok(c) => c,
        Err(e) => return faro_http::ApiError::from(e).into_response(),
    };
    let base = &quiz.core.web.public_base_url;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    xml.push_str(&format!("  <url><loc>{}/</loc></url>\n", esc(base)));
    for e in &catalog.entries {
        xml.push_str(&format!(
            "  <url><loc>{}/t/{}</loc></url>\n",
            esc(base),
            esc(&e.slug)
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
        assert_eq!(super::esc("a&b<'\">"), "a&amp;b&lt;&#39;&quot;&gt;");
    }
}
