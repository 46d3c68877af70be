//! Admin authentication: login, tokens, cookies with CSRF, roles, the login rate limit.

use faro_auth::Role;
use faro_auth::token::Keys;
use reqwest::Method;
use serde_json::json;

use crate::common::{ADMIN_PASSWORD, ADMIN_USER, DEMO, Resp, TestApp, doc};
use crate::{both, sqlite_only};

/// The value of cookie `name` in the Set-Cookie headers, with its attributes.
fn set_cookie(r: &Resp, name: &str) -> Option<String> {
    r.all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

async fn viewer(app: &TestApp) -> String {
    let hash = faro_auth::password::hash_blocking("viewer-password-1".into())
        .await
        .expect("hash");
    faro::accounts::upsert_user(
        &app.core.db,
        &faro_http::TenantId::default_tenant(),
        "vera",
        &hash,
        Role::Viewer,
        false,
    )
    .await
    .expect("viewer");
    let r = app.login_as("vera", "viewer-password-1").await;
    assert_eq!(r.status, 200, "{r}");
    r.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string()
}

async fn with_token(app: &TestApp, method: Method, path: &str, token: &str) -> Resp {
    app.send(app.request(method, path).bearer_auth(token)).await
}

async fn a_login_returns_a_token_and_strict_http_only_cookies(app: TestApp) {
    let r = app.login_as(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    let token = v["access_token"].as_str().expect("token");
    assert_eq!(token.split('.').count(), 3, "a JWT");
    assert_eq!(r.header("cache-control"), Some("no-store"));

    let session = set_cookie(&r, "faro_session").expect("faro_session cookie");
    assert_eq!(cookie_value(&session), token);
    let attrs: Vec<String> = session
        .split(';')
        .map(|a| a.trim().to_lowercase())
        .collect();
    assert!(attrs.contains(&"httponly".to_string()), "{session}");
    assert!(attrs.contains(&"samesite=strict".to_string()), "{session}");
    assert!(attrs.contains(&"path=/".to_string()), "{session}");
    assert!(
        !attrs.contains(&"secure".to_string()),
        "plain http: no Secure: {session}"
    );

    let csrf = set_cookie(&r, "faro_csrf").expect("faro_csrf cookie");
    assert_eq!(
        cookie_value(&csrf),
        v["csrf_token"].as_str().expect("csrf_token")
    );
    assert!(
        !csrf.to_lowercase().contains("httponly"),
        "the panel reads it: {csrf}"
    );
    assert!(csrf.to_lowercase().contains("samesite=strict"), "{csrf}");

    let me = with_token(&app, Method::GET, "/api/v1/admin/me", token).await;
    assert_eq!(me.status, 200, "{me}");
    let me = me.json();
    assert_eq!(
        (me["username"].clone(), me["role"].clone()),
        (json!("admin"), json!("owner"))
    );
    assert!(
        me["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{me}"
    );

    let out = app
        .send(
            app.request(Method::POST, "/api/v1/admin/logout")
                .bearer_auth(token),
        )
        .await;
    assert_eq!(out.status, 204);
    let cleared = set_cookie(&out, "faro_session").expect("cleared cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // Signing out ends the token itself, not only the cookie.
    with_token(&app, Method::GET, "/api/v1/admin/me", token)
        .await
        .assert_error(401, "unauthorized");
}
both!(a_login_returns_a_token_and_strict_http_only_cookies);

async fn a_wrong_password_and_an_unknown_user_get_the_same_401(app: TestApp) {
    let wrong = app.login_as(ADMIN_USER, "not-the-password").await;
    let unknown = app.login_as("nobody", ADMIN_PASSWORD).await;
    let invalid = app.login_as("not a name", ADMIN_PASSWORD).await;
    for r in [&wrong, &unknown, &invalid] {
        r.assert_error(401, "invalid_credentials");
        assert!(r.all("set-cookie").is_empty(), "no cookie on failure: {r}");
    }
    assert_eq!(
        wrong.text, unknown.text,
        "the body does not say which one was wrong"
    );
    assert_eq!(wrong.text, invalid.text);
}
both!(a_wrong_password_and_an_unknown_user_get_the_same_401);

/// Median wall time of `n` sign-ins with these credentials.
async fn median_login(app: &TestApp, username: &str, n: usize) -> std::time::Duration {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = std::time::Instant::now();
        let r = app.login_as(username, "not-the-password").await;
        times.push(started.elapsed());
        r.assert_error(401, "invalid_credentials");
    }
    times.sort();
    times[n / 2]
}

async fn an_unknown_user_takes_as_long_as_a_wrong_password(app: TestApp) {
    // Without the dummy argon2 verification an unknown name answers in about a millisecond
    // and a known one in tens: a ratio of 10 or more. Medians of interleaved rounds keep a
    // busy machine's noise out.
    let _ = median_login(&app, ADMIN_USER, 3).await;
    let (mut known, mut unknown, mut invalid) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        known.push(median_login(&app, ADMIN_USER, 5).await);
        unknown.push(median_login(&app, "nobody-at-all", 5).await);
        invalid.push(median_login(&app, "not a name", 5).await);
    }
    let median = |mut v: Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let (known, unknown, invalid) = (median(known), median(unknown), median(invalid));
    for (what, t) in [("an unknown user", unknown), ("an invalid name", invalid)] {
        let ratio = t / known;
        assert!(
            (0.5..2.0).contains(&ratio),
            "{what} took {t:.4} s against {known:.4} s for a wrong password (ratio {ratio:.2})"
        );
    }
}
sqlite_only!(an_unknown_user_takes_as_long_as_a_wrong_password);

async fn a_malformed_login_is_refused_before_any_check(app: TestApp) {
    let path = "/api/v1/admin/login";
    app.post_raw(path, "{", Some("application/json"))
        .await
        .assert_error(400, "malformed_json");
    app.post_json(path, &json!({"username": "admin"}))
        .await
        .assert_error(422, "invalid_body");
    app.post_json(
        path,
        &json!({"username": "admin", "password": "x", "otp": 1}),
    )
    .await
    .assert_error(422, "invalid_body");
    app.post_raw(path, r#"{"username":"admin","password":"x"}"#, None)
        .await
        .assert_error(415, "unsupported_media_type");
}
both!(a_malformed_login_is_refused_before_any_check);

async fn admin_endpoints_without_a_token_are_401(app: TestApp) {
    let id = app.test_id(DEMO).await;
    let routes = [
        (Method::GET, "/api/v1/admin/tests".to_string()),
        (Method::POST, "/api/v1/admin/tests".to_string()),
        (Method::GET, format!("/api/v1/admin/tests/{id}")),
        (Method::PUT, format!("/api/v1/admin/tests/{id}")),
        (Method::DELETE, format!("/api/v1/admin/tests/{id}")),
        (Method::POST, format!("/api/v1/admin/tests/{id}/versions")),
        (
            Method::POST,
            format!("/api/v1/admin/tests/{id}/versions/1/publish"),
        ),
        (Method::GET, format!("/api/v1/admin/analytics?test_id={id}")),
        (Method::GET, "/api/v1/admin/me".to_string()),
        (
            Method::GET,
            "/api/v1/admin/questions?test_version_id=x".to_string(),
        ),
    ];
    for (method, path) in routes {
        let r = app
            .send(
                app.request(method.clone(), &path)
                    .header("content-type", "application/json")
                    .body("{}"),
            )
            .await;
        r.assert_error(401, "unauthorized");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer"),
            "{method} {path}"
        );
    }
    // The test is still there.
    assert_eq!(
        app.admin_get(&format!("/api/v1/admin/tests/{id}"))
            .await
            .status,
        200
    );
}
both!(admin_endpoints_without_a_token_are_401);

async fn garbage_expired_and_tampered_tokens_are_401(app: TestApp) {
    let good = app.login().await;
    let secret = faro_store::get_setting(&app.core.db, "jwt_secret")
        .await
        .expect("settings")
        .expect("a generated JWT secret");
    let keys = Keys::new(secret.as_bytes(), "faro", "faro-admin").expect("keys");
    let now = faro_store::unix_now();
    let ttl = std::time::Duration::from_secs(60);
    let expired = keys
        .issue("u1", "admin", "default", Role::Admin, ttl, now - 3600)
        .expect("token");
    let fresh = keys
        .issue("u1", "admin", "default", Role::Admin, ttl, now)
        .expect("token");
    assert_eq!(
        with_token(&app, Method::GET, "/api/v1/admin/me", &fresh)
            .await
            .status,
        200,
        "a token minted with the instance's secret works"
    );
    let other = Keys::new(
        b"another-secret-another-secret-0123456789",
        "faro",
        "faro-admin",
    )
    .expect("keys")
    .issue("u1", "admin", "default", Role::Admin, ttl, now)
    .expect("token");
    let wrong_audience = Keys::new(secret.as_bytes(), "faro", "someone-else")
        .expect("keys")
        .issue("u1", "admin", "default", Role::Admin, ttl, now)
        .expect("token");
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    // Flip one character of the payload: the signature no longer matches.
    let payload = parts[1].clone();
    let flipped = if payload.ends_with('A') { 'B' } else { 'A' };
    parts[1] = format!("{}{flipped}", &payload[..payload.len() - 1]);
    let tampered = parts.join(".");
    let unsigned = format!("{}.{}.", good.split('.').next().unwrap_or(""), payload);
    for token in [
        "garbage".to_string(),
        "a.b.c".to_string(),
        expired,
        other,
        wrong_audience,
        tampered,
        unsigned,
        "x".repeat(9000),
    ] {
        let r = with_token(&app, Method::GET, "/api/v1/admin/tests", &token).await;
        r.assert_error(401, "unauthorized");
    }
    let basic = app
        .send(
            app.request(Method::GET, "/api/v1/admin/tests")
                .header("authorization", "Basic YWRtaW46YWRtaW4="),
        )
        .await;
    basic.assert_error(401, "unauthorized");
}
both!(garbage_expired_and_tampered_tokens_are_401);

async fn a_viewer_reads_tests_and_analytics_but_cannot_write(app: TestApp) {
    let token = viewer(&app).await;
    let id = app.test_id(DEMO).await;
    let vid = app.version_id(&id, 1).await;
    for path in [
        "/api/v1/admin/tests".to_string(),
        format!("/api/v1/admin/tests/{id}"),
        format!("/api/v1/admin/tests/{id}/versions"),
        format!("/api/v1/admin/tests/{id}/versions/1"),
        format!("/api/v1/admin/questions?test_version_id={vid}"),
        format!("/api/v1/admin/questions/plazo?test_version_id={vid}"),
        format!("/api/v1/admin/analytics?test_id={id}"),
        format!("/api/v1/admin/analytics?test_version_id={vid}"),
    ] {
        let r = with_token(&app, Method::GET, &path, &token).await;
        assert_eq!(r.status, 200, "viewer GET {path}: {r}");
    }
    let me = with_token(&app, Method::GET, "/api/v1/admin/me", &token)
        .await
        .json();
    assert_eq!(me["role"], "viewer");

    let document = doc("viewer-made").to_string();
    let writes = [
        (
            Method::POST,
            "/api/v1/admin/tests".to_string(),
            document.clone(),
        ),
        (
            Method::PUT,
            format!("/api/v1/admin/tests/{id}"),
            r#"{"is_active": false}"#.to_string(),
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/tests/{id}"),
            String::new(),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/tests/{id}/versions"),
            String::new(),
        ),
        (
            Method::PUT,
            format!("/api/v1/admin/tests/{id}/versions/1"),
            document.clone(),
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/tests/{id}/versions/1"),
            String::new(),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/tests/{id}/versions/1/publish"),
            String::new(),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/questions?test_version_id={vid}"),
            r#"{"question": {"key": "x"}}"#.to_string(),
        ),
        (
            Method::PUT,
            format!("/api/v1/admin/questions/plazo?test_version_id={vid}"),
            r#"{"question": {"key": "plazo"}}"#.to_string(),
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/questions/plazo?test_version_id={vid}"),
            String::new(),
        ),
    ];
    for (method, path, body) in writes {
        let r = app
            .send(
                app.request(method.clone(), &path)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
        r.assert_error(403, "forbidden");
        let _ = (method, path);
    }
    // Nothing changed.
    let list = app.admin_get("/api/v1/admin/tests").await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["items"][0]["is_active"], true);
    assert_eq!(app.catalog("").await.json()["items"][0]["slug"], DEMO);
}
both!(a_viewer_reads_tests_and_analytics_but_cannot_write);

async fn cookie_writes_need_the_csrf_token(app: TestApp) {
    let login = app.login_as(ADMIN_USER, ADMIN_PASSWORD).await;
    let session = cookie_value(&set_cookie(&login, "faro_session").expect("session"));
    let csrf = cookie_value(&set_cookie(&login, "faro_csrf").expect("csrf"));
    let cookies = format!("faro_session={session}; faro_csrf={csrf}");

    // Reads need no CSRF token.
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/admin/tests")
                .header("cookie", &cookies),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");

    let post = |extra: Option<&str>, cookie: &str| {
        let mut req = app
            .request(Method::POST, "/api/v1/admin/tests")
            .header("cookie", cookie.to_string())
            .json(&doc("by-cookie"));
        if let Some(t) = extra {
            req = req.header("x-csrf-token", t.to_string());
        }
        req
    };
    app.send(post(None, &cookies))
        .await
        .assert_error(403, "csrf_failed");
    app.send(post(Some("wrong-token"), &cookies))
        .await
        .assert_error(403, "csrf_failed");
    // The header alone, without the matching cookie, is not enough either.
    app.send(post(Some(&csrf), &format!("faro_session={session}")))
        .await
        .assert_error(403, "csrf_failed");
    assert_eq!(
        app.catalog("").await.json()["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let ok = app.send(post(Some(&csrf), &cookies)).await;
    assert_eq!(ok.status, 201, "{ok}");
    assert_eq!(ok.json()["slug"], "by-cookie");
    // Bearer-authenticated writes need no CSRF token.
    let r = app
        .admin_post("/api/v1/admin/tests", &doc("by-bearer"))
        .await;
    assert_eq!(r.status, 201, "{r}");
}
both!(cookie_writes_need_the_csrf_token);

async fn logins_are_rate_limited(app: TestApp) {
    for _ in 0..3 {
        app.login_as(ADMIN_USER, "wrong-password")
            .await
            .assert_error(401, "invalid_credentials");
    }
    // The quota is spent: even the right password waits.
    let r = app.login_as(ADMIN_USER, ADMIN_PASSWORD).await;
    r.assert_error(429, "rate_limited");
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(r.header("ratelimit-limit"), Some("3"));
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    let reset: u64 = r
        .header("ratelimit-reset")
        .expect("RateLimit-Reset")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&reset), "{reset}");
    assert_eq!(r.json()["error"]["details"]["retry_after"], retry);
}
both!(logins_are_rate_limited, "RATE_LIMIT_LOGIN" => "3/minute");
