//! What an attacker's probe of a running Faro found (issue 17), each reproduced here against
//! the real server and shown not to hold any more: headers on every response, tokens that end
//! at sign-out, an account its owner can still sign into while it is being guessed, paths with
//! control characters, metric labels from a closed set, and the SQLite file's permissions.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::COOKIE;
use serde_json::json;

use crate::common::{ADMIN_PASSWORD, ADMIN_USER, DEMO, Resp, TestApp};
use crate::staff_refresh::me;
use crate::{both, postgres_only, sqlite_only};

/// Form posts, as a browser sends them (ids and tokens here need no escaping).
const FORM: &str = "application/x-www-form-urlencoded";

#[track_caller]
fn assert_security_headers(what: &str, r: &Resp) {
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}: {r}"
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
    assert!(
        r.header("content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'")),
        "{what}"
    );
    assert!(r.header("referrer-policy").is_some(), "{what}");
}

/// The value of cookie `name` in a response's Set-Cookie headers.
fn cookie_value(r: &Resp, name: &str) -> Option<String> {
    r.all("set-cookie").into_iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .and_then(|rest| rest.split(';').next())
            .map(str::to_owned)
    })
}

// ---- 6. headers on every response ------------------------------------------------------

async fn fallback_and_refused_responses_carry_the_security_headers(app: TestApp) {
    let unknown = app.get("/api/v1/no-such-endpoint").await;
    unknown.assert_error(404, "not_found");
    assert_security_headers("unknown API route", &unknown);
    let wrong_method = app
        .send(app.request(Method::DELETE, "/api/v1/health"))
        .await;
    wrong_method.assert_error(405, "method_not_allowed");
    assert_security_headers("wrong method", &wrong_method);
    let bad_path = app.get("/api/v1/tests/%0d%0a").await;
    bad_path.assert_error(400, "bad_path");
    assert_security_headers("bad path", &bad_path);
    let anonymous = app.get("/api/v1/admin/me").await;
    anonymous.assert_error(401, "unauthorized");
    assert_security_headers("401", &anonymous);
    assert_security_headers("a page's 404", &app.get("/no-such-page").await);
    // Served over http: no HSTS (a browser would ignore it, and localhost must stay http).
    assert!(unknown.header("strict-transport-security").is_none());
}
both!(fallback_and_refused_responses_carry_the_security_headers);

async fn hsts_follows_an_https_public_address() {
    type Case = (
        &'static [(&'static str, &'static str)],
        Option<&'static str>,
    );
    let cases: [Case; 4] = [
        (
            &[("PUBLIC_BASE_URL", "https://faro.example")],
            Some("max-age=31536000"),
        ),
        (
            &[
                ("PUBLIC_BASE_URL", "https://faro.example"),
                ("HSTS_MAX_AGE", "600"),
            ],
            Some("max-age=600"),
        ),
        (
            &[
                ("PUBLIC_BASE_URL", "https://faro.example"),
                ("HSTS_MAX_AGE", "0"),
            ],
            None,
        ),
        (&[("PUBLIC_BASE_URL", "http://faro.example")], None),
    ];
    for (env, expected) in cases {
        crate::common::run(faro_store::Backend::Sqlite, env, move |app| async move {
            for path in ["/api/v1/health", "/api/v1/nothing-here", "/"] {
                let r = app.get(path).await;
                assert_eq!(
                    r.header("strict-transport-security"),
                    expected,
                    "{path} {env:?}"
                );
            }
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_only_for_an_https_public_address() {
    hsts_follows_an_https_public_address().await;
}

async fn what_a_signed_in_caller_reads_is_never_stored(app: TestApp) {
    let token = app.login().await;
    for path in [
        "/api/v1/admin/me",
        "/api/v1/admin/tests",
        "/api/v1/admin/audit",
    ] {
        let r = app.admin_get(path).await;
        assert_eq!(r.status, 200, "{path}: {r}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    }
    // By the panel's cookie too.
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/admin/me")
                .header(COOKIE, format!("faro_session={token}")),
        )
        .await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // The public catalog, asked anonymously, keeps its own caching.
    let public = app.get("/api/v1/tests").await;
    assert_ne!(public.header("cache-control"), Some("no-store"), "{public}");
}
both!(what_a_signed_in_caller_reads_is_never_stored);

// ---- 3. sign-out ends the token ----------------------------------------------------------

async fn sign_in(app: &TestApp) -> (String, String) {
    let r = app.login_as(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    (
        v["access_token"].as_str().expect("token").to_owned(),
        v["refresh_token"].as_str().expect("refresh").to_owned(),
    )
}

async fn a_signed_out_token_is_refused_at_once(app: TestApp) {
    // An API client signs out with its bearer token.
    let (token, refresh) = sign_in(&app).await;
    assert_eq!(me(&app, &token).await.status, 200);
    let out = app
        .send(
            app.request(Method::POST, "/api/v1/admin/logout")
                .bearer_auth(&token)
                .json(&json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(out.status, 204, "{out}");
    let again = me(&app, &token).await;
    again.assert_error(401, "unauthorized");
    assert!(again.text.contains("signed out"), "{again}");

    // A browser signs out of the panel; a copy of its session cookie is worth nothing after.
    let (token, _) = sign_in(&app).await;
    let as_cookie = |t: &str| {
        app.request(Method::GET, "/api/v1/admin/me")
            .header(COOKIE, format!("faro_session={t}"))
    };
    assert_eq!(app.send(as_cookie(&token)).await.status, 200);
    let csrf = "the-csrf-token";
    let out = app
        .send(
            app.request(Method::POST, "/admin/logout")
                .header(COOKIE, format!("faro_session={token}; faro_csrf={csrf}"))
                .header("content-type", FORM)
                .body(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(out.status, 303, "{out}");
    app.send(as_cookie(&token))
        .await
        .assert_error(401, "unauthorized");
    // Signing in again works at once.
    let (fresh, _) = sign_in(&app).await;
    assert_eq!(me(&app, &fresh).await.status, 200);
}
both!(a_signed_out_token_is_refused_at_once);

async fn a_sign_out_on_one_instance_reaches_the_others(a: TestApp) {
    let b = a.sibling(&[]).await;
    let (token, refresh) = sign_in(&a).await;
    assert_eq!(
        me(&b, &token).await.status,
        200,
        "b has seen the token as good"
    );
    let out = a
        .send(
            a.request(Method::POST, "/api/v1/admin/logout")
                .bearer_auth(&token)
                .json(&json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(out.status, 204);
    me(&a, &token).await.assert_error(401, "unauthorized");
    let began = Instant::now();
    loop {
        let r = me(&b, &token).await;
        if r.status == 401 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(7),
            "the other instance still takes the token: {r}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
postgres_only!(a_sign_out_on_one_instance_reaches_the_others);

// ---- 4. guessing slows strangers down, not the owner ---------------------------------------

async fn login_from(app: &TestApp, address: &str, password: &str, device: Option<&str>) -> Resp {
    let mut req = app
        .request(Method::POST, "/api/v1/admin/login")
        .header("x-forwarded-for", address)
        .json(&json!({"username": ADMIN_USER, "password": password}));
    if let Some(d) = device {
        req = req.header(COOKIE, format!("faro_device={d}"));
    }
    app.send(req).await
}

fn retry_after(r: &Resp) -> u64 {
    r.header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {r}"))
}

async fn a_guessed_account_slows_strangers_but_not_its_owners_browser(app: TestApp) {
    // The owner signed in from this browser before: it carries a known-device mark.
    let first = login_from(&app, "203.0.113.1", ADMIN_PASSWORD, None).await;
    assert_eq!(first.status, 200, "{first}");
    let device = cookie_value(&first, "faro_device").expect("a faro_device cookie");
    let set = first
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("faro_device="))
        .expect("cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );

    // A botnet spends the free failures (three, the login quota), one address each...
    for i in 0..3 {
        login_from(&app, &format!("198.51.100.{i}"), "guess", None)
            .await
            .assert_error(401, "invalid_credentials");
    }
    // ... and from then on a stranger waits, whatever password it sends.
    let held = login_from(&app, "198.51.100.50", ADMIN_PASSWORD, None).await;
    held.assert_error(429, "rate_limited");
    assert_eq!(held.json()["error"]["details"]["bucket"], "login_account");
    assert_eq!(retry_after(&held), 1);
    // A made-up mark is no mark.
    login_from(&app, "198.51.100.51", ADMIN_PASSWORD, Some("abc.def"))
        .await
        .assert_error(429, "rate_limited");
    // The owner's browser is never held up.
    let owner = login_from(&app, "203.0.113.1", ADMIN_PASSWORD, Some(&device)).await;
    assert_eq!(owner.status, 200, "{owner}");

    // Progressive, not a wall: once the delay is over, the right password gets in.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let later = login_from(&app, "198.51.100.52", ADMIN_PASSWORD, None).await;
    assert_eq!(later.status, 200, "{later}");
    // Each failure past the free ones doubles the wait: the fourth makes it 2 s.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    login_from(&app, "198.51.100.53", "guess", None)
        .await
        .assert_error(401, "invalid_credentials");
    let held = login_from(&app, "198.51.100.54", "guess", None).await;
    held.assert_error(429, "rate_limited");
    assert_eq!(retry_after(&held), 2);

    // Guesses sent all at once when the delay ends: one is judged, the rest wait.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let statuses: Vec<u16> = futures_util::future::join_all((0..6).map(|i| {
        let app = &app;
        async move { login_from(app, &format!("192.0.2.{i}"), "guess", None).await }
    }))
    .await
    .iter()
    .map(|r| r.status)
    .collect();
    let judged = statuses.iter().filter(|s| **s == 401).count();
    let held = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((judged, held), (1, 5), "{statuses:?}");
}
both!(
    a_guessed_account_slows_strangers_but_not_its_owners_browser,
    "RATE_LIMIT_LOGIN" => "3/minute",
    "TRUSTED_PROXIES" => "127.0.0.1/32",
);

async fn user_login_from(
    app: &TestApp,
    address: &str,
    password: &str,
    device: Option<&str>,
) -> Resp {
    let mut req = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("x-forwarded-for", address)
        .json(&json!({"email": "Ana@Example.com", "password": password}));
    if let Some(d) = device {
        req = req.header(COOKIE, format!("faro_user_device={d}"));
    }
    app.send(req).await
}

async fn an_end_users_account_is_guarded_the_same_way(app: TestApp) {
    const RIGHT: &str = "Correct-Horse-9";
    let r = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "ana@example.com", "password": RIGHT}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let first = user_login_from(&app, "203.0.113.1", RIGHT, None).await;
    assert_eq!(first.status, 200, "{first}");
    let device = cookie_value(&first, "faro_user_device").expect("a device cookie");
    for i in 0..3 {
        user_login_from(&app, &format!("198.51.100.{i}"), "Wrong-Horse-9", None)
            .await
            .assert_error(401, "invalid_credentials");
    }
    let held = user_login_from(&app, "198.51.100.50", RIGHT, None).await;
    held.assert_error(429, "rate_limited");
    assert_eq!(held.json()["error"]["details"]["bucket"], "login_account");
    let owner = user_login_from(&app, "203.0.113.1", RIGHT, Some(&device)).await;
    assert_eq!(owner.status, 200, "{owner}");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let later = user_login_from(&app, "198.51.100.52", RIGHT, None).await;
    assert_eq!(later.status, 200, "{later}");
    // The limiter's store never holds the address in clear.
    let rows = app
        .scalar_where(
            "SELECT COUNT(*) FROM login_failures WHERE account LIKE $1",
            "%example%",
        )
        .await;
    assert_eq!(rows, 0);
}
both!(
    an_end_users_account_is_guarded_the_same_way,
    "RATE_LIMIT_LOGIN" => "3/minute",
    "TRUSTED_PROXIES" => "127.0.0.1/32",
);

// ---- 5. paths ---------------------------------------------------------------------------

async fn control_characters_in_a_path_are_a_json_400_and_store_nothing(app: TestApp) {
    for path in [
        "/admin/tests/%0d%0a/versions",
        "/api/v1/tests/%0d%0a",
        "/api/v1/tests/%ff",
        "/t/%7f",
        "/r/%00",
    ] {
        for method in [Method::GET, Method::POST] {
            let r = app.send(app.request(method.clone(), path)).await;
            r.assert_error(400, "bad_path");
            assert!(r.json()["error"]["message"].is_string(), "{r}");
        }
    }
    // The answer form under such a slug stores nothing.
    let s = app.start(DEMO).await;
    let q = &s.first;
    let option = q["options"][0]["id"].as_str().expect("an option");
    let question_id = q["id"].as_str().expect("id");
    let r = app
        .send(
            app.request(Method::POST, &format!("/t/%0d%0a/s/{}/answer", s.id))
                .header("content-type", FORM)
                .body(format!("question_id={question_id}&option={option}")),
        )
        .await;
    r.assert_error(400, "bad_path");
    let now = app.question(&s.id).await.json();
    assert_eq!(now["id"], q["id"], "the session did not move: {now}");
}
both!(control_characters_in_a_path_are_a_json_400_and_store_nothing);

async fn the_answer_form_refuses_a_session_of_another_test(app: TestApp) {
    let s = app.start(DEMO).await;
    let q = &s.first;
    let fields = format!(
        "question_id={}&option={}",
        q["id"].as_str().expect("id"),
        q["options"][0]["id"].as_str().expect("option")
    );
    for action in ["answer", "finish"] {
        let r = app
            .send(
                app.request(
                    Method::POST,
                    &format!("/t/another-test/s/{}/{action}", s.id),
                )
                .header("content-type", FORM)
                .body(fields.clone()),
            )
            .await;
        assert_eq!(r.status, 404, "{action}: {r}");
    }
    let now = app.question(&s.id).await.json();
    assert_eq!(now["id"], q["id"], "nothing was stored: {now}");
    // Under its own test's address the same answer goes through.
    let r = app
        .send(
            app.request(Method::POST, &format!("/t/{DEMO}/s/{}/answer", s.id))
                .header("content-type", FORM)
                .body(fields.clone()),
        )
        .await;
    assert_eq!(r.status, 303, "{r}");
    assert_eq!(
        r.header("location"),
        Some(format!("/t/{DEMO}/s/{}", s.id).as_str())
    );
}
both!(the_answer_form_refuses_a_session_of_another_test);

/// What each path segment becomes in the fuzz: control characters, broken UTF-8, huge,
/// reversed text, markup, numbers at the edges. (`..` is left out: a client folds it into
/// the path before sending, so it tests the client, not the server.)
fn bad_segments() -> Vec<String> {
    [
        "%0d%0a",
        "%00",
        "%7f",
        "%c2%85",
        "%ff",
        "%c3",
        "%e2%80%ae",
        "%25",
        "%22%3E%3Cx",
        "0",
        "-1",
        "99999999999999999999",
        "%F0%9F%92%A5",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([("x".repeat(3000))])
    .collect()
}

/// The values following `name="` in `text`.
fn quoted_after<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!("{name}=\"");
    text.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &text[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// The same-site `href`s and form `action`s of a page, without query or fragment.
fn links(html: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for attr in ["href", "action"] {
        for v in quoted_after(html, attr) {
            let path = v.split(['?', '#']).next().unwrap_or_default();
            if path.starts_with('/') && !path.starts_with("//") {
                out.push((attr, path.to_string()));
            }
        }
    }
    out
}

/// Every same-site link and form action of the pages reachable from `/`, `/admin` and
/// `/platform` as the signed-in super-admin, with the methods to send them.
async fn crawl(app: &TestApp, token: &str) -> BTreeSet<(String, &'static str)> {
    let mut seen = BTreeSet::new();
    let mut queue: Vec<String> = vec!["/".into(), "/admin".into(), "/platform".into()];
    let mut found = BTreeSet::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) || seen.len() > 400 {
            continue;
        }
        let r = app
            .send(
                app.request(Method::GET, &path)
                    .header(COOKIE, format!("faro_session={token}")),
            )
            .await;
        found.insert((path.clone(), "GET"));
        if !r
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
        {
            continue;
        }
        for (attr, target) in links(&r.text) {
            if target.starts_with("/static") || target.starts_with("/assets") {
                continue;
            }
            if attr == "action" {
                found.insert((target, "POST"));
            } else if !target.contains("logout") {
                queue.push(target);
            }
        }
    }
    found
}

/// Every route of the OpenAPI document, its parameters filled with plausible values.
async fn api_routes(app: &TestApp) -> BTreeSet<(String, &'static str)> {
    let doc = app.get("/api/v1/openapi.json").await.json();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
            .replace("/tests/x", &format!("/tests/{DEMO}"));
        for (m, name) in [
            ("get", "GET"),
            ("post", "POST"),
            ("put", "PUT"),
            ("patch", "PATCH"),
            ("delete", "DELETE"),
        ] {
            if item.get(m).is_some() {
                routes.insert((concrete.clone(), name));
            }
        }
    }
    routes
}

async fn no_path_segment_on_any_route_gives_a_5xx(app: TestApp) {
    let token = app.login().await;
    let mut routes = api_routes(&app).await;
    routes.extend(crawl(&app, &token).await);
    // The page routes no link leads to, as the source declares them.
    for declared in crate::common::declared_routes() {
        let concrete = declared
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        routes.insert((concrete.clone(), "GET"));
        routes.insert((concrete, "POST"));
    }
    assert!(
        routes.contains(&("/admin/tests/x/versions".to_string(), "GET")),
        "the probe's route is among them"
    );
    assert!(routes.len() > 100, "only {} routes found", routes.len());
    let bad = bad_segments();
    let mut failures = Vec::new();
    let mut sent = 0;
    for (path, method) in &routes {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        // The first segment names the area (`api`, `admin`, `t`...): mutate the rest.
        for i in 1..segments.len().max(2) {
            for b in &bad {
                let mut mutated = segments.clone();
                if i < mutated.len() {
                    mutated[i] = b;
                } else {
                    mutated.push(b);
                }
                let url = format!("/{}", mutated.join("/"));
                let m = Method::from_bytes(method.as_bytes()).expect("method");
                let mut req = app
                    .request(m, &url)
                    .bearer_auth(&token)
                    .header(COOKIE, format!("faro_session={token}"));
                if *method != "GET" {
                    req = req.json(&json!({}));
                }
                let r = app.send(req).await;
                sent += 1;
                if r.status >= 500 {
                    failures.push(format!("{method} {url}: {r}"));
                }
            }
        }
    }
    assert!(sent > 1000, "only {sent} requests");
    assert!(
        failures.is_empty(),
        "{} of {sent} requests gave a 5xx:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
both!(no_path_segment_on_any_route_gives_a_5xx);

// ---- 1. metric labels --------------------------------------------------------------------

/// The distinct values of the `method` label in a scrape.
fn method_labels(scrape: &str) -> BTreeSet<String> {
    quoted_after(scrape, "method")
        .into_iter()
        .map(str::to_owned)
        .collect()
}

async fn a_thousand_made_up_methods_add_no_metric_series(app: TestApp) {
    let before = app.get("/metrics").await;
    assert_eq!(before.status, 200);
    for i in 0..1000u32 {
        // Made-up methods of every length up to the probe's 16,000 characters.
        let len = 1 + (i as usize * 37) % 16_000;
        let name: String = (0..len)
            .map(|j| (b'A' + ((i as usize + j) % 26) as u8) as char)
            .collect();
        let m = Method::from_bytes(name.as_bytes()).expect("a token");
        let _ = app.send(app.request(m, "/api/v1/health")).await;
    }
    let after = app.get("/metrics").await.text;
    let standard: BTreeSet<String> = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let labels = method_labels(&after);
    assert!(labels.contains("other"), "{labels:?}");
    assert!(labels.is_subset(&standard), "{labels:?}");
    assert!(
        after.len() < before.text.len() + 64 * 1024,
        "the scrape grew from {} to {} bytes",
        before.text.len(),
        after.len()
    );
}
sqlite_only!(a_thousand_made_up_methods_add_no_metric_series);

async fn metrics_can_require_a_token(app: TestApp) {
    let none = app.get("/metrics").await;
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    let wrong = app
        .send(
            app.request(Method::GET, "/metrics")
                .bearer_auth("not-the-token-at-all"),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let right = app
        .send(
            app.request(Method::GET, "/metrics")
                .bearer_auth("a-long-enough-scrape-token"),
        )
        .await;
    assert_eq!(right.status, 200, "{right}");
    // The probes stay open.
    assert_eq!(app.get("/api/v1/health").await.status, 200);
}
sqlite_only!(metrics_can_require_a_token, "METRICS_TOKEN" => "a-long-enough-scrape-token");

// ---- 6. the SQLite file ------------------------------------------------------------------

fn env_for(url: &str) -> std::collections::BTreeMap<String, String> {
    [
        ("DATABASE_URL", url),
        ("ADMIN_USER", ADMIN_USER),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("FARO_DEMO", "false"),
        ("FARO_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_file_is_owner_only_and_a_world_readable_one_stops_start_up() {
    use std::os::unix::fs::PermissionsExt;
    let root = std::env::temp_dir().join(format!("faro-perms-{}", faro_store::new_id()));
    let file = root.join("data/faro.db");
    let url = format!("sqlite://{}", file.display());
    let config = faro::Config::from_sources(None, &env_for(&url)).expect("config");
    let app = faro::App::build(config).await.expect("builds");
    drop(app);
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&root.join("data")), 0o700);
    assert_eq!(mode(&file), 0o600);

    // A file left readable by everyone (as an older release made it) holds the signing key.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let config = faro::Config::from_sources(None, &env_for(&url)).expect("config");
    let refused = match faro::App::build(config).await {
        Ok(_) => panic!("a world-readable database holding the signing key must not start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        refused.contains("chmod 600") && refused.contains("JWT_SECRET"),
        "{refused}"
    );
    // With the key given from outside, nothing secret is kept there: it starts.
    let mut env = env_for(&url);
    env.insert("JWT_SECRET".into(), "x".repeat(40));
    let config = faro::Config::from_sources(None, &env).expect("config");
    assert!(faro::App::build(config).await.is_ok());
    let _ = std::fs::remove_dir_all(&root);
}
