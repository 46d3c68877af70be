//! Security headers on every HTML page a visitor or an admin sees: a CSP whose scripts are
//! same-origin only (no `'unsafe-inline'`, no `'unsafe-eval'`) and that forbids framing,
//! `X-Content-Type-Options: nosniff`, and a Referrer-Policy that never sends a page's full
//! URL (share links carry their token in the path) to another site. The pages must also work
//! under that CSP: no inline script and no inline event handler the browser would block.
//! (API responses are covered by `api/platform.rs::responses_carry_the_security_headers`.)

#[path = "common/mod.rs"]
mod common;

use common::{ADMIN_PASSWORD, ADMIN_USER, DEMO, Resp, TestApp, cautious};
use reqwest::Method;
use reqwest::header::COOKIE;

/// Referrer policies that send at most the origin to other sites.
const SAFE_REFERRER_POLICIES: &[&str] = &[
    "no-referrer",
    "same-origin",
    "origin",
    "strict-origin",
    "origin-when-cross-origin",
    "strict-origin-when-cross-origin",
];

/// The sources of a CSP directive, falling back to `default-src` as browsers do.
fn directive<'a>(csp: &'a str, name: &str) -> Option<Vec<&'a str>> {
    let find = |n: &str| {
        csp.split(';').map(str::trim).find_map(|d| {
            let mut parts = d.split_whitespace();
            (parts.next() == Some(n)).then(|| parts.collect::<Vec<_>>())
        })
    };
    find(name).or_else(|| {
        if name == "frame-ancestors" {
            None
        } else {
            find("default-src")
        }
    })
}

#[track_caller]
fn assert_secure_page(what: &str, r: &Resp) {
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{what}: not an HTML page: {r}"
    );
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    let scripts = directive(csp, "script-src")
        .unwrap_or_else(|| panic!("{what}: the CSP does not restrict scripts: {csp}"));
    for bad in [
        "'unsafe-inline'",
        "'unsafe-eval'",
        "*",
        "data:",
        "http:",
        "https:",
    ] {
        assert!(
            !scripts.contains(&bad),
            "{what}: script-src allows {bad}: {csp}"
        );
    }
    let framing = directive(csp, "frame-ancestors");
    assert!(
        framing.as_deref() == Some(&["'none'"][..]) || r.header("x-frame-options") == Some("DENY"),
        "{what}: the page can be framed: {csp}"
    );
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    let referrer = r
        .header("referrer-policy")
        .unwrap_or_else(|| panic!("{what}: no Referrer-Policy"));
    assert!(
        SAFE_REFERRER_POLICIES.contains(&referrer),
        "{what}: Referrer-Policy {referrer} may send the full URL elsewhere"
    );

    // What the CSP would block must not be there: inline scripts and event handlers.
    let html = r.text.to_lowercase();
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or_default();
        assert!(
            open.contains("src="),
            "{what}: an inline <script> the CSP blocks: <script{open}>"
        );
    }
    for handler in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " onchange=",
        " oninput=",
    ] {
        assert!(
            !html.contains(handler),
            "{what}: an inline event handler ({handler}) the CSP blocks"
        );
    }
}

async fn every_page_carries_the_security_headers(app: TestApp) {
    let page = |path: String| {
        let app = &app;
        async move {
            app.send(
                app.request(Method::GET, &path)
                    .header("accept", "text/html"),
            )
            .await
        }
    };

    // Public pages.
    for path in ["/".to_string(), format!("/t/{DEMO}")] {
        let r = page(path.clone()).await;
        assert_eq!(r.status, 200, "{path}: {r}");
        assert_secure_page(&path, &r);
    }
    let result = app.complete(DEMO, cautious).await;
    let share_url = result["share_url"].as_str().expect("share_url");
    let token = share_url.rsplit('/').next().expect("token");
    let r = page(format!("/r/{token}")).await;
    assert_eq!(r.status, 200, "{r}");
    assert_secure_page("/r/{token}", &r);

    // A question page of the plain-form flow.
    let r = app
        .send(
            app.request(Method::POST, &format!("/t/{DEMO}/start"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("utm_source=x"),
        )
        .await;
    assert_eq!(r.status, 303, "{r}");
    let question = r.header("location").expect("location").to_string();
    let r = page(question.clone()).await;
    assert_eq!(r.status, 200, "{r}");
    assert_secure_page("/t/{slug}/s/{session}", &r);

    // Error pages are pages too.
    for path in ["/t/no-such-test", "/r/no-such-token"] {
        let r = page(path.to_string()).await;
        assert_eq!(r.status, 404, "{path}: {r}");
        assert_secure_page(path, &r);
    }

    // The panel: the sign-in form, then pages while signed in.
    let r = page("/admin/login".into()).await;
    assert_eq!(r.status, 200, "{r}");
    assert_secure_page("/admin/login", &r);
    let login = app.login_as(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(login.status, 200, "{login}");
    let session = login
        .all("set-cookie")
        .into_iter()
        .find_map(|c| {
            c.split(';')
                .next()
                .and_then(|p| p.strip_prefix("faro_session="))
                .map(str::to_string)
        })
        .expect("a session cookie");
    let test_id = app.test_id(DEMO).await;
    for path in [
        "/admin".to_string(),
        "/admin/tests/new".to_string(),
        format!("/admin/tests/{test_id}"),
        format!("/admin/tests/{test_id}/dashboard"),
    ] {
        let r = app
            .send(
                app.request(Method::GET, &path)
                    .header(COOKIE, format!("faro_session={session}")),
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {r}");
        assert_secure_page(&path, &r);
    }
}
sqlite_only!(every_page_carries_the_security_headers);
