//! The embeddable widget's script over HTTP: its content type, caching (an hour and an ETag at
//! the address pages paste, a year under its version), its weight on the wire, the demo page
//! only with `FARO_DEMO`, and the cross-origin calls a landing page on an allowed origin makes.

use reqwest::Method;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, ORIGIN,
};

use crate::common::TestApp;
use crate::{both, sqlite_only};

/// What the script may weigh on the wire, gzipped by the server (docs/gamification.md, "Widget").
const BUDGET: usize = 10 * 1024;
const LANDING: &str = "https://landing.example";

/// A client that shows the bytes as sent: no decompression, no redirects followed.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

async fn the_script_is_javascript_cached_by_version_and_small(app: TestApp) {
    let r = app.get("/gamification/widget.js").await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(
        r.header("cross-origin-resource-policy"),
        Some("cross-origin"),
        "isolated pages may load it"
    );
    assert!(r.text.contains("window.FaroGamification"), "the API");
    let etag = r.header("etag").expect("an ETag").to_owned();
    let version = etag.trim_matches('"').to_owned();
    assert_eq!(version, faro_gamification::widget::version());

    // The browser's copy is still good: 304, nothing sent.
    let again = app
        .send(
            app.request(Method::GET, "/gamification/widget.js")
                .header(IF_NONE_MATCH, &etag),
        )
        .await;
    assert_eq!(again.status, 304, "{again}");
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));

    // Asked for by its version, it is kept for a year; a stale version only for the hour.
    let pinned = app
        .get(&format!("/gamification/widget.js?v={version}"))
        .await;
    assert_eq!(pinned.status, 200);
    assert_eq!(
        pinned.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let stale = app.get("/gamification/widget.js?v=0123456789abcdef").await;
    assert_eq!(stale.header("cache-control"), Some("public, max-age=3600"));

    // Small on the wire.
    let sent = raw_client()
        .get(app.url("/gamification/widget.js"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .expect("GET");
    assert_eq!(
        sent.headers()
            .get(CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let gzipped = sent.bytes().await.expect("body").len();
    println!(
        "widget.js: {} B, {gzipped} B gzipped on the wire",
        r.text.len()
    );
    assert!(
        gzipped < BUDGET,
        "widget.js weighs {gzipped} B gzipped, over {BUDGET}"
    );
}
both!(the_script_is_javascript_cached_by_version_and_small);

async fn the_demo_page_links_the_versioned_script(app: TestApp) {
    let page = app.get("/gamification/demo").await;
    assert_eq!(page.status, 200, "{page}");
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let version = faro_gamification::widget::version();
    assert!(
        page.text
            .contains(&format!("src=\"/gamification/widget.js?v={version}\"")),
        "{}",
        page.text
    );
    for part in [
        "data-faro-gamification=\"leaderboard\"",
        "data-faro-gamification=\"progress\"",
        "data-faro-track=\"content.shared\"",
    ] {
        assert!(page.text.contains(part), "{part}");
    }
    // The snippet names this installation's address.
    assert!(
        page.text
            .contains(&format!("{}/gamification/widget.js", app.base)),
        "the snippet's origin"
    );
    let demo_js = app.get("/gamification/demo.js").await;
    assert_eq!(demo_js.status, 200);
    assert_eq!(
        demo_js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
}
both!(the_demo_page_links_the_versioned_script);

async fn without_demo_content_there_is_no_demo_page(app: TestApp) {
    assert_eq!(app.get("/gamification/demo").await.status, 404);
    assert_eq!(app.get("/gamification/demo.js").await.status, 404);
    assert_eq!(
        app.get("/gamification/widget.js").await.status,
        200,
        "the widget itself is always there"
    );
}
sqlite_only!(without_demo_content_there_is_no_demo_page, "FARO_DEMO" => "false");

async fn a_landing_page_on_an_allowed_origin_may_call_what_the_widget_calls(app: TestApp) {
    // The board, without credentials.
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/gamification/leaderboard?limit=10")
                .header(ORIGIN, LANDING),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("access-control-allow-origin"), Some(LANDING));
    // An event with the user's token: the preflight lets the headers through.
    let pre = app
        .send(
            app.request(Method::OPTIONS, "/api/v1/gamification/me/events")
                .header(ORIGIN, LANDING)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization,content-type",
                ),
        )
        .await;
    assert_eq!(pre.status, 200, "{pre}");
    assert_eq!(pre.header("access-control-allow-origin"), Some(LANDING));
    assert_eq!(pre.header("access-control-allow-credentials"), Some("true"));
    let allowed = pre
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    // Another origin gets no CORS headers: the browser refuses the answer.
    let other = app
        .send(
            app.request(Method::GET, "/api/v1/gamification/leaderboard")
                .header(ORIGIN, "https://elsewhere.example"),
        )
        .await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    // The script itself needs no CORS: a classic <script src> loads from any page.
    let script = app
        .send(
            app.request(Method::GET, "/gamification/widget.js")
                .header(ORIGIN, LANDING),
        )
        .await;
    assert_eq!(script.status, 200);
    assert!(
        script
            .header(CONTENT_TYPE.as_str())
            .is_some_and(|t| t.starts_with("text/javascript"))
    );
    assert!(script.header(ETAG.as_str()).is_some());
    assert!(script.header(CACHE_CONTROL.as_str()).is_some());
}
sqlite_only!(
    a_landing_page_on_an_allowed_origin_may_call_what_the_widget_calls,
    "CORS_ALLOWED_ORIGINS" => "https://landing.example"
);
