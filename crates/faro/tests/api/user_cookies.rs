//! End users in a browser: the sign-in as HttpOnly cookies, writes carried by them only with
//! the double-submit CSRF token, refresh and logout by cookie (spec/api-conventions.md,
//! issue 10's "cookies for browsers, bearer tokens for apps").

use std::collections::HashMap;

use reqwest::Method;
use reqwest::header::{COOKIE, HOST};
use serde_json::{Value, json};

use crate::both;
use crate::common::{Resp, TestApp, cautious, doc};
use crate::tenants::create_tenant;

const PASSWORD: &str = "Sol-y-Sombra-2026";

/// A browser's cookie jar, kept by hand: what `Set-Cookie` said, by name, with its attributes.
#[derive(Default, Debug)]
struct Jar {
    cookies: HashMap<String, (String, String)>,
}

impl Jar {
    /// Takes what an answer set (a `Max-Age=0` removes the cookie).
    fn take(&mut self, r: &Resp) {
        for line in r.all("set-cookie") {
            let (pair, attrs) = line.split_once(';').unwrap_or((&line, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies
                    .insert(name.into(), (value.into(), attrs.trim().to_string()));
            }
        }
    }

    fn value(&self, name: &str) -> String {
        self.cookies
            .get(name)
            .unwrap_or_else(|| panic!("no {name} cookie in {self:?}"))
            .0
            .clone()
    }

    fn attrs(&self, name: &str) -> &str {
        &self.cookies.get(name).expect("cookie").1
    }

    /// The `Cookie` header for a request to `path` (the refresh cookie only goes to
    /// `/api/v1/auth`).
    fn header(&self, path: &str) -> String {
        self.cookies
            .iter()
            .filter(|(_, (_, attrs))| {
                attrs
                    .split(';')
                    .find_map(|a| a.trim().strip_prefix("Path="))
                    .is_none_or(|p| path.starts_with(p))
            })
            .map(|(k, (v, _))| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Sends `method path` with the jar's cookies, `x-csrf-token` when given, to `host`.
async fn browse(
    app: &TestApp,
    jar: &Jar,
    method: Method,
    path: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut req = app.request(method, path).header(COOKIE, jar.header(path));
    if let Some(token) = csrf {
        req = req.header("x-csrf-token", token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    app.send(req).await
}

async fn sign_in(app: &TestApp, host: Option<&str>) -> (Jar, Value) {
    let mut req = app
        .request(Method::POST, "/api/v1/auth/register")
        .json(&json!({
            "email": "ana@example.com", "password": PASSWORD
        }));
    if let Some(h) = host {
        req = req.header(HOST, h);
    }
    let r = app.send(req).await;
    assert_eq!(r.status, 201, "{r}");
    let mut jar = Jar::default();
    jar.take(&r);
    (jar, r.json())
}

async fn a_browser_signs_in_with_cookies_and_writes_with_the_csrf_token(app: TestApp) {
    let (mut jar, body) = sign_in(&app, None).await;
    // The same sign-in as the body's tokens, in cookies scripts cannot read.
    assert_eq!(
        jar.value("faro_user"),
        body["access_token"].as_str().expect("at")
    );
    assert_eq!(
        jar.value("faro_user_refresh"),
        body["refresh_token"].as_str().expect("rt")
    );
    let csrf = jar.value("faro_user_csrf");
    assert_eq!(body["csrf_token"], csrf.as_str());
    assert_eq!(
        jar.attrs("faro_user"),
        "Path=/; Max-Age=900; SameSite=Lax; HttpOnly"
    );
    assert_eq!(
        jar.attrs("faro_user_refresh"),
        "Path=/api/v1/auth; Max-Age=2592000; SameSite=Strict; HttpOnly"
    );
    assert_eq!(
        jar.attrs("faro_user_csrf"),
        "Path=/; Max-Age=2592000; SameSite=Strict"
    );

    // Reads need only the cookie.
    let r = browse(&app, &jar, Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["email"], "ana@example.com");

    // A write carried by the cookie needs the token: absent, wrong, then right.
    let change = json!({"fields": {}});
    let r = browse(
        &app,
        &jar,
        Method::PATCH,
        "/api/v1/me",
        None,
        Some(change.clone()),
    )
    .await;
    r.assert_error(403, "csrf_failed");
    assert!(r.text.contains("faro_user_csrf"), "{r}");
    let r = browse(
        &app,
        &jar,
        Method::PATCH,
        "/api/v1/me",
        Some("not-the-token-at-all-no"),
        Some(change.clone()),
    )
    .await;
    r.assert_error(403, "csrf_failed");
    let r = browse(
        &app,
        &jar,
        Method::PATCH,
        "/api/v1/me",
        Some(&csrf),
        Some(change),
    )
    .await;
    assert_eq!(r.status, 200, "{r}");

    // A bearer token wins over the cookie, and is judged alone.
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/me")
                .header(COOKIE, jar.header("/api/v1/me"))
                .bearer_auth("not-a-token"),
        )
        .await;
    r.assert_error(401, "unauthorized");

    // Refresh by cookie: `{}` and the token; the browser keeps its CSRF token.
    let first = jar.value("faro_user_refresh");
    let r = browse(
        &app,
        &jar,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({})),
    )
    .await;
    r.assert_error(403, "csrf_failed");
    let r = browse(
        &app,
        &jar,
        Method::POST,
        "/api/v1/auth/refresh",
        Some(&csrf),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 200, "{r}");
    jar.take(&r);
    assert_ne!(jar.value("faro_user_refresh"), first);
    assert_eq!(jar.value("faro_user_csrf"), csrf);
    assert_eq!(r.json()["csrf_token"], csrf.as_str());
    let r = browse(&app, &jar, Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(r.status, 200, "{r}");

    // Logout by cookie clears every cookie; the old access token is refused.
    let access = jar.value("faro_user");
    let r = browse(&app, &jar, Method::POST, "/api/v1/auth/logout", None, None).await;
    r.assert_error(403, "csrf_failed");
    let r = browse(
        &app,
        &jar,
        Method::POST,
        "/api/v1/auth/logout",
        Some(&csrf),
        None,
    )
    .await;
    assert_eq!(r.status, 204, "{r}");
    jar.take(&r);
    assert!(jar.cookies.is_empty(), "{jar:?}");
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/me")
                .header(COOKIE, format!("faro_user={access}")),
        )
        .await;
    r.assert_error(401, "unauthorized");
    assert!(r.text.contains("revoked"), "{r}");

    // Nothing to refresh with: a clear 422, not a guess.
    let r = browse(
        &app,
        &jar,
        Method::POST,
        "/api/v1/auth/refresh",
        Some(&csrf),
        Some(json!({})),
    )
    .await;
    r.assert_error(422, "validation_failed");
    assert!(r.text.contains("faro_user_refresh"), "{r}");
}
both!(a_browser_signs_in_with_cookies_and_writes_with_the_csrf_token);

async fn a_copied_refresh_cookie_ends_the_sign_in(app: TestApp) {
    let (mut jar, _) = sign_in(&app, None).await;
    let csrf = jar.value("faro_user_csrf");
    let stolen = jar.header("/api/v1/auth/refresh");
    let r = browse(
        &app,
        &jar,
        Method::POST,
        "/api/v1/auth/refresh",
        Some(&csrf),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 200, "{r}");
    jar.take(&r);
    // The spent cookie again (copied from the browser): the whole sign-in ends.
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/refresh")
                .header(COOKIE, stolen)
                .header("x-csrf-token", &csrf)
                .json(&json!({})),
        )
        .await;
    r.assert_error(401, "invalid_refresh_token");
    let r = browse(
        &app,
        &jar,
        Method::POST,
        "/api/v1/auth/refresh",
        Some(&csrf),
        Some(json!({})),
    )
    .await;
    r.assert_error(401, "invalid_refresh_token");
}
both!(a_copied_refresh_cookie_ends_the_sign_in);

async fn cookies_are_secure_on_https_and_stay_on_their_site(app: TestApp) {
    create_tenant(&app, "brand", "brand.example").await;
    let (jar, _) = sign_in(&app, Some("brand.example")).await;
    for name in ["faro_user", "faro_user_refresh", "faro_user_csrf"] {
        assert!(jar.attrs(name).ends_with("; Secure"), "{name}: {jar:?}");
    }
    let me = |host: &'static str| {
        app.request(Method::GET, "/api/v1/me")
            .header(COOKIE, jar.header("/api/v1/me"))
            .header(HOST, host)
    };
    let r = app.send(me("brand.example")).await;
    assert_eq!(r.status, 200, "{r}");
    // The same cookie sent to another site of the installation is not believed there.
    let r = app.send(me("localhost")).await;
    r.assert_error(401, "unauthorized");
    assert!(r.text.contains("another site"), "{r}");
}
both!(cookies_are_secure_on_https_and_stay_on_their_site, "PUBLIC_BASE_URL" => "https://faro.example");

async fn a_quiz_result_is_a_cookie_users_only_with_the_csrf_token(app: TestApp) {
    app.create_published(&doc("cookie-quiz")).await;
    let (jar, body) = sign_in(&app, None).await;
    let user = body["user"]["id"].as_str().expect("id").to_string();
    let csrf = jar.value("faro_user_csrf");
    for with_token in [false, true] {
        let s = app.start("cookie-quiz").await;
        app.answer_all(&s.id, &s.first, cautious).await;
        let path = format!("/api/v1/sessions/{}/finish", s.id);
        let csrf = with_token.then_some(csrf.as_str());
        let r = browse(&app, &jar, Method::POST, &path, csrf, None).await;
        // Without the token the cookie is not believed, and the visitor is not turned away.
        assert_eq!(r.status, 200, "{r}");
    }
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM quiz_result_owners WHERE user_id = $1",
            &user
        )
        .await,
        1
    );
}
both!(a_quiz_result_is_a_cookie_users_only_with_the_csrf_token);
