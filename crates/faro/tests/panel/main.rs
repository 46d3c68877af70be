//! The admin panel (`/admin`) over real HTTP, like a browser without JavaScript: signing in
//! and out, redirects when signed out, the CSRF field on every form, roles, creating a test
//! from a document with every problem shown, publishing, rollback, the on/off switch, the
//! question editor, and the dashboard and its CSV agreeing with `/api/v1/admin/analytics`.
//!
//! Every test runs on a fresh SQLite file and a fresh PostgreSQL database (`name::sqlite`,
//! `name::postgres`) through the shared harness in `common/mod.rs`.

#[path = "../common/mod.rs"]
mod common;
mod console;
mod platform_pages;

use std::collections::BTreeMap;

use common::{ADMIN_PASSWORD, ADMIN_USER, Resp, TestApp, doc};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

// ---- a cookie-keeping browser --------------------------------------------------------------

/// A client that keeps cookies like a browser (the harness's client does not follow redirects,
/// so every 303 is seen).
struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookies: BTreeMap::new(),
        }
    }

    fn keep_cookies(&mut self, r: &Resp) {
        for c in r.all(SET_COOKIE.as_str()) {
            let pair = c.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if value.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    fn with_cookies(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.cookies.is_empty() {
            return req;
        }
        let header = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        req.header(COOKIE, header)
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Resp {
        let r = self.app.send(self.with_cookies(req)).await;
        self.keep_cookies(&r);
        r
    }

    async fn get(&mut self, path: &str) -> Resp {
        let req = self.app.request(Method::GET, path);
        self.send(req).await
    }

    /// A urlencoded form post, as a browser sends it.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = self
            .app
            .request(Method::POST, path)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// A multipart form post with an optional file, as a browser sends an upload.
    async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &str)>,
    ) -> Resp {
        let boundary = "----faro-panel-test-boundary";
        let mut body = String::new();
        for (k, v) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        if let Some((field, name, content)) = file {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let req = self
            .app
            .request(Method::POST, path)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(req).await
    }

    fn csrf(&self) -> String {
        self.cookies.get("faro_csrf").cloned().unwrap_or_default()
    }

    /// Signs in through the form; returns the answer to the form post.
    async fn sign_in_as(&mut self, user: &str, password: &str) -> Resp {
        let form = self.get("/admin/login").await;
        assert_eq!(form.status, 200, "{form}");
        let csrf = hidden(&form.text, "csrf");
        assert_eq!(csrf, self.csrf(), "the form echoes the cookie's token");
        self.post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", user),
                ("password", password),
                ("next", "/admin"),
            ],
        )
        .await
    }

    async fn sign_in(&mut self) {
        let r = self.sign_in_as(ADMIN_USER, ADMIN_PASSWORD).await;
        assert_eq!(location(&r), "/admin");
    }
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[track_caller]
fn location(r: &Resp) -> String {
    assert_eq!(r.status, 303, "expected a redirect: {r}");
    r.header(LOCATION.as_str())
        .expect("a Location header")
        .to_string()
}

/// The text as askama writes it into HTML.
fn escaped(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
}

fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
}

/// The value of the first `<input ... name="NAME" value="...">`.
fn hidden(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&key)
        .unwrap_or_else(|| panic!("no input {name} in the page"));
    let rest = &html[at + key.len()..];
    unescape(&rest[..rest.find('"').expect("closing quote")])
}

/// Every value of `attr="..."` in the page, in order.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let key = format!(" {attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&key) {
        let v = &rest[i + key.len()..];
        let end = v.find('"').expect("closing quote");
        out.push(unescape(&v[..end]));
        rest = &v[end..];
    }
    out
}

/// The opening tag (`<tr ...>`) holding `marker`.
fn tag_with<'h>(html: &'h str, marker: &str) -> &'h str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the page"));
    let start = html[..at].rfind('<').expect("tag start");
    let end = at + html[at..].find('>').expect("tag end");
    &html[start..=end]
}

fn attr_of(tag: &str, attr: &str) -> String {
    attr_values(tag, attr)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {attr} in {tag}"))
}

/// Only the sign-out form posts on a read-only page.
fn post_forms(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<form method=\"post\" action=\"") {
        let v = &rest[i + 28..];
        let end = v.find('"').expect("closing quote");
        out.push(v[..end].to_string());
        rest = &v[end..];
    }
    out
}

async fn create_viewer(app: &TestApp) {
    let hash = faro_auth::password::hash_blocking("viewer-password-123".into())
        .await
        .expect("hash");
    faro::accounts::upsert_user(
        &app.core.db,
        &faro_http::TenantId::default_tenant(),
        "viewer",
        &hash,
        faro_auth::Role::Viewer,
        false,
    )
    .await
    .expect("viewer");
}

// ---- signing in and out ------------------------------------------------------------------

async fn the_sign_in_page_signs_in_and_says_when_the_password_is_wrong(app: TestApp) {
    let mut b = Browser::new(&app);
    let page = b.get("/admin/login?next=/admin/tests%3Fafter%3Dx").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains("<form method=\"post\" action=\"/admin/login\">")
    );
    assert!(!b.csrf().is_empty(), "a CSRF cookie for the sign-in form");
    assert_eq!(hidden(&page.text, "next"), "/admin/tests?after=x");
    let csrf = b.csrf();

    let wrong = b
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", ADMIN_USER),
                ("password", "not-the-password"),
                ("next", "/admin/tests?after=x"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401, "{wrong}");
    assert!(
        wrong.text.contains("Wrong username or password."),
        "{wrong}"
    );
    assert_eq!(
        hidden(&wrong.text, "username"),
        ADMIN_USER,
        "the username is kept"
    );
    assert!(!b.cookies.contains_key("faro_session"));
    let unknown = b
        .post(
            "/admin/login",
            &[("csrf", &csrf), ("username", "nobody"), ("password", "x")],
        )
        .await;
    assert_eq!(unknown.status, 401);
    assert!(unknown.text.contains("Wrong username or password."));

    // Right password: the session cookies, then on to `next`.
    let ok = b
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", ADMIN_USER),
                ("password", ADMIN_PASSWORD),
                ("next", "/admin/tests?after=x"),
            ],
        )
        .await;
    assert_eq!(location(&ok), "/admin/tests?after=x");
    assert!(
        ok.all("set-cookie")
            .iter()
            .any(|c| c.starts_with("faro_session=")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Strict"))
    );
    let home = b.get("/admin").await;
    assert_eq!(home.status, 200, "{home}");
    assert!(
        home.text.contains(common::DEMO),
        "the tests list shows the demo"
    );
    // Signed in, the sign-in page goes straight on.
    assert_eq!(location(&b.get("/admin/login").await), "/admin");

    // The session works for the JSON API too (same cookie).
    let me = b.get("/api/v1/admin/me").await;
    assert_eq!(me.json()["username"], ADMIN_USER);

    // Signing out clears the cookies...
    let csrf = b.csrf();
    let session = b.cookies.get("faro_session").cloned().expect("a session");
    let out = b.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(location(&out), "/admin/login?signed_out=1");
    assert!(!b.cookies.contains_key("faro_session"));
    assert_eq!(
        location(&b.get("/admin/tests").await),
        "/admin/login?next=/admin/tests"
    );
    // ... and ends the session: a copy of the old cookie opens nothing.
    b.cookies.insert("faro_session".into(), session);
    assert_eq!(b.get("/api/v1/admin/me").await.status, 401);
    assert_eq!(
        location(&b.get("/admin/tests").await),
        "/admin/login?next=/admin/tests"
    );
}
both!(the_sign_in_page_signs_in_and_says_when_the_password_is_wrong);

async fn with_two_factor_on_the_sign_in_page_asks_for_the_code(app: TestApp) {
    let r = app.admin_post("/api/v1/admin/me/totp", &json!({})).await;
    assert_eq!(r.status, 201, "{r}");
    let secret = faro_auth::totp::secret_from_text(r.json()["secret"].as_str().expect("secret"))
        .expect("base32");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let first = faro_auth::totp::code_at(&secret, now);
    let r = app
        .admin_post("/api/v1/admin/me/totp/confirm", &json!({"code": first}))
        .await;
    assert_eq!(r.status, 200, "{r}");

    let mut b = Browser::new(&app);
    let form = b.get("/admin/login").await;
    assert!(
        form.text.contains("autocomplete=\"one-time-code\""),
        "the form has the code field"
    );
    let r = b.sign_in_as(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(r.status, 401, "{r}");
    assert!(
        r.text
            .contains("Enter the code from your authenticator app"),
        "{r}"
    );
    let csrf = b.csrf();
    let next = faro_auth::totp::code_at(&secret, now + faro_auth::totp::STEP);
    let r = b
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", ADMIN_USER),
                ("password", ADMIN_PASSWORD),
                ("totp", &next),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin", "{r}");
}
both!(with_two_factor_on_the_sign_in_page_asks_for_the_code);

/// The `value` of the input with `id`.
fn input_value(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[at..];
    let v = rest.find("value=\"").expect("value") + 7;
    rest[v..].split('"').next().unwrap_or_default().to_string()
}

async fn the_security_page_turns_two_factor_on_and_off(app: TestApp) {
    // A viewer may do it for their own account.
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "vera", "password": "Lectura-Segura-77", "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let mut b = Browser::new(&app);
    let r = b.sign_in_as("vera", "Lectura-Segura-77").await;
    assert_eq!(location(&r), "/admin");
    let page = b.get("/admin/security").await;
    assert_eq!(page.status, 200, "{page}");
    assert!(page.text.contains("Set up two-factor sign-in"), "{page}");
    assert!(
        page.text.contains("href=\"/admin/security\""),
        "in the navigation"
    );

    let csrf = b.csrf();
    let r = b.post("/admin/security/totp", &[("csrf", &csrf)]).await;
    assert_eq!(location(&r), "/admin/security");
    let page = b.get("/admin/security").await;
    let key = input_value(&page.text, "secret");
    let secret = faro_auth::totp::secret_from_text(&key).expect("base32");
    let r = b
        .post(
            "/admin/security/totp/confirm",
            &[("csrf", &csrf), ("code", "000000")],
        )
        .await;
    assert_eq!(r.status, 401, "{r}");
    assert!(r.text.contains("wrong or already used"), "{r}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let code = faro_auth::totp::code_at(&secret, now);
    let r = b
        .post(
            "/admin/security/totp/confirm",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.text.matches("<li><code>").count(),
        10,
        "ten recovery codes: {r}"
    );
    let first = r
        .text
        .split("<li><code>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("a code")
        .to_string();
    let page = b.get("/admin/security").await;
    assert!(page.text.contains("id=\"totp-state\">on<"), "{page}");
    assert!(!page.text.contains(&first), "the codes are shown once");

    // Without the form's token nothing changes.
    let r = b
        .post("/admin/security/totp/off", &[("code", &first)])
        .await;
    assert_eq!(r.status, 403, "{r}");
    let r = b
        .post(
            "/admin/security/totp/off",
            &[("csrf", &csrf), ("code", &first)],
        )
        .await;
    assert_eq!(location(&r), "/admin/security?msg=off");
    let page = b.get("/admin/security?msg=off").await;
    assert!(page.text.contains("id=\"totp-state\">off<"), "{page}");
}
both!(the_security_page_turns_two_factor_on_and_off);

async fn a_site_requiring_two_factor_sends_the_panel_to_the_security_page(app: TestApp) {
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let r = app
        .admin_put(
            "/api/v1/admin/settings",
            &json!({"doc": {"security": {"require_totp": true}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let tests = b.get("/admin/tests").await;
    assert_eq!(tests.status, 403, "{tests}");
    assert!(tests.text.contains("Security page"), "{tests}");
    let page = b.get("/admin/security").await;
    assert_eq!(page.status, 200, "{page}");
    assert!(
        page.text
            .contains("requires two-factor sign-in of all its staff"),
        "{page}"
    );
}
both!(a_site_requiring_two_factor_sends_the_panel_to_the_security_page);

async fn the_api_keys_page_makes_shows_once_and_revokes_keys(app: TestApp) {
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let page = b.get("/admin/api-keys").await;
    assert_eq!(page.status, 200, "{page}");
    assert!(page.text.contains("No API keys yet"), "{page}");
    assert!(
        page.text.contains("value=\"quiz:read\""),
        "the scopes are offered"
    );
    let csrf = b.csrf();
    let r = b
        .post(
            "/admin/api-keys",
            &[("csrf", &csrf), ("name", ""), ("scope", "quiz:read")],
        )
        .await;
    assert_eq!(r.status, 422, "{r}");
    assert!(r.text.contains("<code>name</code>"), "{r}");
    let r = b
        .post(
            "/admin/api-keys",
            &[
                ("csrf", &csrf),
                ("name", "CRM sync"),
                ("scope", "quiz:read"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let key = input_value(&r.text, "new-key");
    assert!(key.starts_with("faro_"), "{key}");
    let with_key = app
        .send(
            app.request(Method::GET, "/api/v1/admin/tests")
                .bearer_auth(&key),
        )
        .await;
    assert_eq!(with_key.status, 200, "{with_key}");
    let page = b.get("/admin/api-keys").await;
    assert!(!page.text.contains(&key), "the key is shown once");
    assert!(page.text.contains("data-status=\"active\""), "{page}");
    let id = page
        .text
        .split("data-key=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the key's row")
        .to_string();
    let r = b
        .post(&format!("/admin/api-keys/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/admin/api-keys?msg=revoked");
    let refused = app
        .send(
            app.request(Method::GET, "/api/v1/admin/tests")
                .bearer_auth(&key),
        )
        .await;
    refused.assert_error(401, "unauthorized");

    // Viewers see neither the page nor its link.
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "vera", "password": "Lectura-Segura-77", "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let mut v = Browser::new(&app);
    v.sign_in_as("vera", "Lectura-Segura-77").await;
    assert_eq!(v.get("/admin/api-keys").await.status, 403);
    assert!(
        !v.get("/admin/security")
            .await
            .text
            .contains("href=\"/admin/api-keys\"")
    );
}
both!(the_api_keys_page_makes_shows_once_and_revokes_keys);

async fn next_only_leads_to_panel_pages(app: TestApp) {
    for evil in [
        "https://evil.example/admin",
        "//evil.example",
        "/admin//evil.example",
        "/administrator",
        "/api/v1/admin/me",
    ] {
        let mut b = Browser::new(&app);
        let page = b
            .get(&format!("/admin/login?next={}", form_encode(evil)))
            .await;
        assert_eq!(hidden(&page.text, "next"), "/admin", "{evil}");
        let csrf = b.csrf();
        let r = b
            .post(
                "/admin/login",
                &[
                    ("csrf", &csrf),
                    ("username", ADMIN_USER),
                    ("password", ADMIN_PASSWORD),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(location(&r), "/admin", "{evil}");
    }
}
both!(next_only_leads_to_panel_pages);

async fn signed_out_pages_redirect_to_the_sign_in_page(app: TestApp) {
    let id = app.test_id(common::DEMO).await;
    let mut b = Browser::new(&app);
    assert_eq!(location(&b.get("/admin").await), "/admin/login");
    assert_eq!(
        location(&b.get("/admin/tests").await),
        "/admin/login?next=/admin/tests"
    );
    assert_eq!(
        location(
            &b.get(&format!(
                "/admin/tests/{id}/dashboard?from=2026-01-01&to=2026-01-31"
            ))
            .await
        ),
        format!(
            "/admin/login?next=/admin/tests/{id}/dashboard%3Ffrom%3D2026-01-01%26to%3D2026-01-31"
        )
    );
    for path in [
        format!("/admin/tests/{id}"),
        format!("/admin/tests/{id}/versions/1"),
        format!("/admin/tests/{id}/versions/1/preview"),
        format!("/admin/tests/{id}/dashboard.csv"),
        "/admin/tests/new".to_string(),
    ] {
        let r = b.get(&path).await;
        assert!(
            location(&r).starts_with("/admin/login?next=/admin/tests"),
            "{path}"
        );
    }
    // A forged or expired session cookie is the same as none.
    b.cookies
        .insert("faro_session".into(), "not-a-token".into());
    assert_eq!(
        location(&b.get("/admin/tests").await),
        "/admin/login?next=/admin/tests"
    );
    // A form post while signed out goes to the sign-in page too, changing nothing.
    b.cookies.insert("faro_csrf".into(), "t".into());
    let r = b
        .post(
            &format!("/admin/tests/{id}/active"),
            &[("csrf", "t"), ("active", "off")],
        )
        .await;
    assert_eq!(location(&r), "/admin/login");
    assert_eq!(
        app.catalog("").await.json()["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // The stylesheet is public and embedded.
    let css_href = attr_of(
        tag_with(&b.get("/admin/login").await.text, "rel=\"stylesheet\""),
        "href",
    );
    let css = b.get(&css_href).await;
    assert_eq!(css.status, 200);
    assert!(
        css.header("content-type")
            .is_some_and(|c| c.starts_with("text/css"))
    );
    assert!(css.text.contains("--primary"));
}
both!(signed_out_pages_redirect_to_the_sign_in_page);

// ---- CSRF on every form -------------------------------------------------------------------

async fn every_form_post_without_the_csrf_field_is_refused(app: TestApp) {
    let id = app.create_test(&doc("csrf-test")).await;
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let document = doc("csrf-other").to_string();
    let own = doc("csrf-test").to_string();
    let question = [
        ("key", "q1"),
        ("type", "single"),
        ("text", "Changed?"),
        ("opt_key", "a"),
        ("opt_text", "A"),
        ("opt_key", "b"),
        ("opt_text", "B"),
    ];
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/admin/tests".into(), vec![("document", &document)]),
        (format!("/admin/tests/{id}/active"), vec![("active", "off")]),
        (format!("/admin/tests/{id}/versions"), vec![]),
        (
            format!("/admin/tests/{id}/versions/1"),
            vec![("document", &own)],
        ),
        (format!("/admin/tests/{id}/versions/1/publish"), vec![]),
        (format!("/admin/tests/{id}/versions/1/delete"), vec![]),
        (
            format!("/admin/tests/{id}/versions/1/add-question"),
            question.to_vec(),
        ),
        (
            format!("/admin/tests/{id}/versions/1/questions/q1"),
            question.to_vec(),
        ),
        (
            format!("/admin/tests/{id}/versions/1/questions/q2/delete"),
            vec![],
        ),
        ("/admin/logout".into(), vec![]),
        (
            "/admin/login".into(),
            vec![("username", ADMIN_USER), ("password", ADMIN_PASSWORD)],
        ),
    ];
    for (path, fields) in &posts {
        let missing = b.post(path, fields).await;
        assert_eq!(missing.status, 403, "{path} without csrf: {missing}");
        assert!(
            missing
                .header("content-type")
                .is_some_and(|c| c.starts_with("text/html")),
            "{path}: a page"
        );
        assert!(missing.text.contains("CSRF"), "{path}: says why");
        let mut wrong = fields.clone();
        wrong.push(("csrf", "forged-token-value"));
        let r = b.post(path, &wrong).await;
        assert_eq!(r.status, 403, "{path} with a wrong csrf: {r}");
    }
    // A multipart upload without the field too.
    let r = b
        .post_multipart("/admin/tests", &[], Some(("file", "t.json", &document)))
        .await;
    assert_eq!(r.status, 403, "{r}");
    // A stray x-csrf-token header does not stand in for the form field.
    let csrf = b.csrf();
    let req = b
        .app
        .request(Method::POST, &format!("/admin/tests/{id}/active"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-csrf-token", csrf.as_str())
        .body("active=off");
    assert_eq!(b.send(req).await.status, 403);

    // Nothing changed: still one version, still a draft, still on, still signed in.
    let t = app
        .admin_get(&format!("/api/v1/admin/tests/{id}"))
        .await
        .json();
    assert_eq!(t["is_active"], true);
    assert_eq!(t["latest_version"], 1);
    assert_eq!(t["published_version"], Value::Null);
    assert_eq!(t["versions"][0]["title"], "Test csrf-test");
    assert!(app.get("/api/v1/tests/csrf-other").await.status == 404);
    assert_eq!(b.get("/admin/tests").await.status, 200);
}
both!(every_form_post_without_the_csrf_field_is_refused);

// ---- roles ------------------------------------------------------------------------------------

async fn a_viewer_sees_every_page_but_cannot_write(app: TestApp) {
    let id = app.create_published(&doc("viewer-test")).await;
    create_viewer(&app).await;
    let mut b = Browser::new(&app);
    let r = b.sign_in_as("viewer", "viewer-password-123").await;
    assert_eq!(location(&r), "/admin");
    for path in [
        "/admin".to_string(),
        "/admin/tests".to_string(),
        format!("/admin/tests/{id}"),
        format!("/admin/tests/{id}/versions/1"),
        format!("/admin/tests/{id}/versions/1/preview"),
        format!("/admin/tests/{id}/versions/1/questions/q1"),
        format!("/admin/tests/{id}/dashboard"),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {page}");
        assert!(page.text.contains("role-viewer"), "{path}: shows the role");
        assert_eq!(
            post_forms(&page.text),
            vec!["/admin/logout"],
            "{path}: no write forms"
        );
    }
    assert_eq!(
        b.get(&format!("/admin/tests/{id}/dashboard.csv"))
            .await
            .status,
        200
    );
    assert_eq!(b.get("/admin/tests/new").await.status, 403);

    let csrf = b.csrf();
    let document = doc("viewer-made").to_string();
    for (path, fields) in [
        (format!("/admin/tests/{id}/active"), vec![("active", "off")]),
        (format!("/admin/tests/{id}/versions/1/publish"), vec![]),
        (format!("/admin/tests/{id}/versions"), vec![]),
        (
            "/admin/tests".to_string(),
            vec![("document", document.as_str())],
        ),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let r = b.post(&path, &fields).await;
        assert_eq!(r.status, 403, "{path}: {r}");
        assert!(r.text.contains("admin role"), "{path}: says why");
    }
    let t = app
        .admin_get(&format!("/api/v1/admin/tests/{id}"))
        .await
        .json();
    assert_eq!(t["is_active"], true);
    assert_eq!(t["latest_version"], 1);
    assert_eq!(app.get("/api/v1/tests/viewer-made").await.status, 404);
    // The admin sees the write buttons on the same pages.
    let mut admin = Browser::new(&app);
    admin.sign_in().await;
    let page = admin.get(&format!("/admin/tests/{id}")).await;
    assert!(post_forms(&page.text).contains(&format!("/admin/tests/{id}/active")));
}
both!(a_viewer_sees_every_page_but_cannot_write);

// ---- creating from a document ------------------------------------------------------------

fn bad_document() -> Value {
    let mut d = doc("bad-document");
    d["slug"] = json!("Bad Slug!");
    d["questions"][0]["options"][2]["next"] = json!("nowhere");
    d["questions"][1]["text"] = json!("");
    d["questions"][1]["options"][0]["scores"] = json!({"luck": 1});
    d["questions"][1]["options"][1]["key"] = json!("stocks");
    d["questions"][2]["scale"]["min"] = json!(9);
    d["profiles"][0]["title"] = json!("");
    d
}

async fn creating_from_a_bad_document_shows_every_problem_next_to_its_question(app: TestApp) {
    let bad = bad_document();
    // What the API says about the same document.
    let api = app.admin_post("/api/v1/admin/tests", &bad).await;
    assert_eq!(api.status, 422, "{api}");
    let problems = api.problems();
    assert!(problems.len() >= 6, "{problems:?}");

    let mut b = Browser::new(&app);
    b.sign_in().await;
    let form = b.get("/admin/tests/new").await;
    assert_eq!(form.status, 200);
    assert!(form.text.contains("enctype=\"multipart/form-data\""));
    let csrf = b.csrf();
    let text = serde_json::to_string_pretty(&bad).expect("json");
    for page in [
        b.post("/admin/tests", &[("csrf", &csrf), ("document", &text)])
            .await,
        b.post_multipart(
            "/admin/tests",
            &[("csrf", &csrf)],
            Some(("file", "bad.json", &text)),
        )
        .await,
    ] {
        assert_eq!(page.status, 422, "{page}");
        let html = &page.text;
        assert!(html.contains(&format!("{} problem(s)", problems.len())));
        for (path, message) in &problems {
            assert!(
                html.contains(&format!(
                    "data-path=\"{}\"><code>{}</code> {}",
                    escaped(path),
                    escaped(path),
                    escaped(message)
                )),
                "{path}: {message} is listed"
            );
        }
        // Grouped per question, linked to the question's card, which is highlighted, and
        // each problem also sits on the card or option it names.
        assert!(html.contains(
            "<a href=\"#question-0\">Question 1 · q1 · When will you need this money?</a>"
        ));
        assert!(html.contains("<a href=\"#question-1\">Question 2 · q2 · </a>"));
        assert!(html.contains(
            "<a href=\"#question-2\">Question 3 · q3 · How calm are you when markets fall?</a>"
        ));
        for card in ["question-0", "question-1", "question-2", "profile-0"] {
            let tag = tag_with(html, &format!("id=\"{card}\""));
            assert!(tag.contains("qcard bad"), "{card} is highlighted: {tag}");
        }
        assert!(
            html.contains("<span class=\"problem\">next: unknown question `nowhere`</span>")
                || html.contains("<span class=\"problem\">option 3 (`c`) · next: "),
            "on the option"
        );
        // The document is kept in the editor to be fixed.
        assert!(html.contains(&escaped("\"nowhere\"")));
    }

    // A YAML file, detected by its extension: same problems.
    let yaml = yaml_of(&bad);
    let page = b
        .post_multipart(
            "/admin/tests",
            &[("csrf", &csrf), ("format", "auto")],
            Some(("file", "bad.yaml", &yaml)),
        )
        .await;
    assert_eq!(page.status, 422, "{page}");
    for (path, _) in &problems {
        assert!(
            page.text
                .contains(&format!("data-path=\"{}\"", escaped(path))),
            "{path}"
        );
    }
    // Not even JSON: the parser's message, at the document.
    let page = b
        .post(
            "/admin/tests",
            &[("csrf", &csrf), ("document", "{ nope"), ("format", "json")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.text.contains("not valid JSON"));
    // Nothing was created.
    assert_eq!(app.get("/api/v1/admin/tests").await.status, 401);
    let list = app.admin_get("/api/v1/admin/tests").await.json();
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(1),
        "only the demo"
    );
}
both!(creating_from_a_bad_document_shows_every_problem_next_to_its_question);

/// A YAML rendering of a JSON document (flow style is valid YAML).
fn yaml_of(v: &Value) -> String {
    format!(
        "# uploaded as YAML\n{}\n",
        serde_json::to_string(v).expect("json")
    )
}

// ---- the whole authoring round -----------------------------------------------------------

async fn an_admin_creates_publishes_edits_rolls_back_and_switches_off_with_forms(app: TestApp) {
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let csrf = b.csrf();

    // Create from an uploaded YAML file.
    let yaml = yaml_of(&doc("form-made"));
    let r = b
        .post_multipart(
            "/admin/tests",
            &[("csrf", &csrf)],
            Some(("file", "form-made.yml", &yaml)),
        )
        .await;
    let created = location(&r);
    assert!(created.ends_with("?msg=created"), "{created}");
    let id = created
        .trim_start_matches("/admin/tests/")
        .trim_end_matches("?msg=created")
        .to_string();
    let page = b.get(&created).await;
    assert!(page.text.contains("Test created as a draft"));
    assert!(page.text.contains("<tr data-version=\"1\">"));
    assert_eq!(
        app.get("/api/v1/tests/form-made").await.status,
        404,
        "a draft is not public"
    );
    // The same slug again: refused, shown next to the slug.
    let again = b
        .post(
            "/admin/tests",
            &[("csrf", &csrf), ("document", &doc("form-made").to_string())],
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(again.text.contains("another test already uses this slug"));

    // Publish v1: visitors get it.
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/1/publish"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/tests/{id}?msg=published"));
    assert_eq!(
        app.get("/api/v1/tests/form-made").await.json()["version"],
        1
    );
    let list = b.get("/admin/tests").await.text;
    let row = tag_with(&list, "data-test=\"form-made\"");
    assert!(row.starts_with("<tr"));
    assert!(list.contains("<span class=\"badge served\">v1</span>"));

    // Switch off from the list, then on again from the test's page.
    let r = b
        .post(
            &format!("/admin/tests/{id}/active"),
            &[("csrf", &csrf), ("active", "off"), ("back", "list")],
        )
        .await;
    assert_eq!(location(&r), "/admin/tests?msg=off");
    assert_eq!(
        app.get("/api/v1/tests/form-made").await.status,
        404,
        "switched off"
    );
    let slugs: Vec<Value> = app.catalog("").await.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["slug"].clone())
        .collect();
    assert!(!slugs.contains(&json!("form-made")));
    let detail = b.get(&format!("/admin/tests/{id}")).await.text;
    assert!(detail.contains("<span class=\"badge off\" id=\"active-state\">off</span>"));
    let r = b
        .post(
            &format!("/admin/tests/{id}/active"),
            &[("csrf", &csrf), ("active", "on")],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/tests/{id}?msg=on"));
    assert_eq!(app.get("/api/v1/tests/form-made").await.status, 200);

    // A new draft (a copy of v1), edited as a whole document.
    let r = b
        .post(&format!("/admin/tests/{id}/versions"), &[("csrf", &csrf)])
        .await;
    assert_eq!(
        location(&r),
        format!("/admin/tests/{id}/versions/2?msg=draft")
    );
    let editor = b.get(&format!("/admin/tests/{id}/versions/2")).await.text;
    assert!(editor.contains("Ready to publish."));
    let mut v2 = doc("form-made");
    v2["title"] = json!("Form made, second edition");
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/2"),
            &[
                ("csrf", &csrf),
                ("document", &v2.to_string()),
                ("format", "auto"),
            ],
        )
        .await;
    assert_eq!(
        location(&r),
        format!("/admin/tests/{id}/versions/2?msg=saved")
    );
    // A broken save keeps the stored draft and says why.
    let mut broken = v2.clone();
    broken["questions"][0]["options"][2]["next"] = json!("q1");
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/2"),
            &[("csrf", &csrf), ("document", &broken.to_string())],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Not saved"));
    assert!(
        r.text
            .contains("data-path=\"questions[0].options[2].next\"")
    );
    // Renaming the slug is refused.
    let mut renamed = v2.clone();
    renamed["slug"] = json!("another-slug");
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/2"),
            &[("csrf", &csrf), ("document", &renamed.to_string())],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("data-path=\"slug\""));

    // Question by question: change q1's text and an option's jump, through the form.
    let q = b
        .get(&format!("/admin/tests/{id}/versions/2/questions/q1"))
        .await;
    assert_eq!(q.status, 200);
    assert!(q.text.contains("name=\"opt_key\" value=\"c\""));
    let fields = [
        ("csrf", csrf.as_str()),
        ("key", "q1"),
        ("type", "single"),
        ("text", "When do you need the money?"),
        ("required", "1"),
        ("position", "1"),
        ("opt_key", "a"),
        ("opt_text", "Within a year"),
        ("opt_score.horizon", "0"),
        ("opt_score.tolerance", ""),
        ("opt_next", ""),
        ("opt_key", "b"),
        ("opt_text", "In 1-5 years"),
        ("opt_score.horizon", "5"),
        ("opt_score.tolerance", ""),
        ("opt_next", "end"),
        ("opt_key", "c"),
        ("opt_text", "In 5+ years"),
        ("opt_score.horizon", "10"),
        ("opt_score.tolerance", ""),
        ("opt_next", "q3"),
        ("opt_key", ""),
        ("opt_text", ""),
        ("opt_score.horizon", ""),
        ("opt_score.tolerance", ""),
        ("opt_next", ""),
        ("rules", ""),
    ];
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/2/questions/q1"),
            &fields,
        )
        .await;
    assert_eq!(
        location(&r),
        format!("/admin/tests/{id}/versions/2/questions/q1?msg=question-saved")
    );
    let vid = app.version_id(&id, 2).await;
    let api_q = app
        .admin_get(&format!("/api/v1/admin/questions/q1?test_version_id={vid}"))
        .await
        .json();
    assert_eq!(api_q["question"]["text"], "When do you need the money?");
    assert_eq!(api_q["question"]["options"][1]["next"], "end");
    // A backward jump: refused, with the problem on the option's row.
    let mut backward = fields.to_vec();
    for f in backward.iter_mut() {
        if *f == ("opt_next", "q3") {
            *f = ("opt_next", "q1");
        }
    }
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/2/questions/q1"),
            &backward,
        )
        .await;
    assert_eq!(r.status, 422, "{r}");
    assert!(r.text.contains("Not saved: 1 problem(s)"));
    let row = &r.text[r.text.find("id=\"opt-2\"").expect("row of option 3")..];
    let row = &row[..row.find("</tr>").expect("end of row")];
    assert!(row.contains("class=\"problem\">next: "), "{row}");
    // Add a question, then remove it.
    let add = [
        ("csrf", csrf.as_str()),
        ("key", "q9"),
        ("type", "scale"),
        ("text", "How sure are you?"),
        ("required", "1"),
        ("scale_min", "1"),
        ("scale_max", "3"),
        ("scale_score.tolerance", "1"),
    ];
    let r = b
        .post(&format!("/admin/tests/{id}/versions/2/add-question"), &add)
        .await;
    assert_eq!(
        location(&r),
        format!("/admin/tests/{id}/versions/2/questions/q9?msg=question-saved")
    );
    let r = b
        .post(&format!("/admin/tests/{id}/versions/2/add-question"), &add)
        .await;
    assert_eq!(r.status, 409, "the key is taken");
    assert!(r.text.contains("already has this key"));
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/2/questions/q9/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        location(&r),
        format!("/admin/tests/{id}/versions/2?msg=question-deleted")
    );
    // q3 is a jump target: removing it is refused with the reason.
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/2/questions/q3/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("was not removed"));

    // The preview shows the questions and their jumps, starting no session.
    let sessions = app.scalar("SELECT COUNT(*) FROM quiz_sessions").await;
    let preview = b
        .get(&format!("/admin/tests/{id}/versions/2/preview"))
        .await;
    assert_eq!(preview.status, 200);
    assert!(preview.text.contains("When do you need the money?"));
    assert!(preview.text.contains("→ finishes"));
    assert!(preview.text.contains("→ jumps to q3"));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM quiz_sessions").await,
        sessions
    );

    // Publish v2, then serve v1 again (rollback).
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/2/publish"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/tests/{id}?msg=published"));
    let public = app.get("/api/v1/tests/form-made").await.json();
    assert_eq!(
        (public["version"].clone(), public["title"].clone()),
        (json!(2), json!("Form made, second edition"))
    );
    let detail = b.get(&format!("/admin/tests/{id}")).await.text;
    assert!(
        detail.contains(&format!("action=\"/admin/tests/{id}/versions/1/publish\"")),
        "serve v1 again"
    );
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/1/publish"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/tests/{id}?msg=served"));
    assert_eq!(
        app.get("/api/v1/tests/form-made").await.json()["version"],
        1
    );
    // Published versions are frozen.
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/2"),
            &[("csrf", &csrf), ("document", &v2.to_string())],
        )
        .await;
    assert_eq!(r.status, 409);
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/1/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 409);

    // A draft that cannot be published says why on its page.
    let mut gap = doc("form-made");
    gap["profiles"][2]["min"] = json!(80);
    let r = b
        .post_multipart(
            &format!("/admin/tests/{id}/versions"),
            &[("csrf", &csrf), ("document", &gap.to_string())],
            None,
        )
        .await;
    assert_eq!(
        location(&r),
        format!("/admin/tests/{id}/versions/3?msg=draft")
    );
    let page = b.get(&format!("/admin/tests/{id}/versions/3")).await.text;
    assert!(page.contains("problem(s) to fix before this draft can be published"));
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/3/publish"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Not published"));
    assert!(r.text.contains("data-path=\"profiles\""));
    let r = b
        .post(
            &format!("/admin/tests/{id}/versions/3/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/tests/{id}?msg=deleted"));
    // Every change made with the forms is in the audit log, by the signed-in admin.
    let audit = b.get("/api/v1/admin/audit?limit=100").await.json();
    let by_forms: Vec<&serde_json::Value> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["target"] == id.as_str())
        .collect();
    for action in [
        "quiz.test_create",
        "quiz.version_publish",
        "quiz.version_serve",
        "quiz.test_active",
        "quiz.draft_delete",
    ] {
        assert!(
            by_forms.iter().any(|e| e["action"] == action),
            "{action} missing: {audit}"
        );
    }
    assert!(by_forms.iter().all(|e| e["actor"] == ADMIN_USER), "{audit}");
}
both!(an_admin_creates_publishes_edits_rolls_back_and_switches_off_with_forms);

// ---- dashboard and CSV agree with the analytics API -------------------------------------------

/// Drives sessions through the JSON API: some finish, some stop halfway, with sources and
/// campaigns.
async fn drive_sessions(app: &TestApp, slug: &str) {
    for (query, finish) in [
        ("?utm_source=newsletter&utm_campaign=spring", true),
        ("?utm_source=newsletter&utm_campaign=spring", true),
        ("?utm_source=instagram", true),
        ("?utm_source=instagram&utm_campaign=autumn", false),
        ("", false),
    ] {
        let r = app.start_session(slug, query).await;
        assert_eq!(r.status, 201, "{r}");
        let s = common::started(&r);
        if finish {
            app.answer_all(&s.id, &s.first, common::cautious).await;
            assert_eq!(app.finish(&s.id).await.status, 200);
        } else {
            let a = app.answer(&s.id, &common::cautious(&s.first)).await;
            assert_eq!(a.status, 200);
        }
    }
    let done = app.complete(slug, common::aggressive).await;
    assert!(done["share_url"].is_string());
}

fn number(s: &str) -> f64 {
    s.parse::<f64>()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

#[track_caller]
fn same(a: f64, b: &Value, what: &str) {
    let b = b
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: API value {b}"));
    assert!((a - b).abs() < 1e-9, "{what}: dashboard {a} vs API {b}");
}

/// Compares the dashboard's HTML with an analytics report.
fn assert_dashboard_matches(html: &str, api: &Value) {
    let f = api;
    for metric in [
        "starts",
        "finishes",
        "conversion_rate",
        "share_opens",
        "suspicious",
    ] {
        let tag = tag_with(html, &format!("data-metric=\"{metric}\""));
        same(number(&attr_of(tag, "data-value")), &f[metric], metric);
    }
    let avg = attr_of(
        tag_with(html, "data-metric=\"avg_seconds_to_finish\""),
        "data-value",
    );
    match f["avg_seconds_to_finish"].as_f64() {
        Some(v) => same(number(&avg), &json!(v), "avg"),
        None => assert_eq!(avg, ""),
    }
    let questions = f["questions"].as_array().expect("questions");
    let keys: Vec<String> = {
        let funnel = &html[html.find("id=\"funnel\"").expect("funnel")..];
        attr_values(
            &funnel[..funnel.find("</ol>").expect("end")],
            "data-question",
        )
    };
    assert_eq!(
        keys,
        questions
            .iter()
            .map(|q| q["key"].as_str().expect("key").to_string())
            .collect::<Vec<_>>()
    );
    for q in questions {
        let key = q["key"].as_str().expect("key");
        let tag = tag_with(html, &format!("data-question=\"{key}\" data-reached"));
        for (attr, field) in [
            ("data-reached", "reached"),
            ("data-answered", "answered"),
            ("data-drop-off", "drop_off"),
            ("data-drop-off-rate", "drop_off_rate"),
        ] {
            same(
                number(&attr_of(tag, attr)),
                &q[field],
                &format!("{key} {field}"),
            );
        }
    }
    for p in f["profiles"].as_array().expect("profiles") {
        let code = p["code"].as_str().expect("code");
        let tag = tag_with(html, &format!("data-profile=\"{code}\""));
        same(number(&attr_of(tag, "data-count")), &p["count"], code);
    }
    for (list, attr) in [("sources", "data-source"), ("campaigns", "data-campaign")] {
        let shown = attr_values(html, attr);
        let api_names: Vec<String> = f[list]
            .as_array()
            .expect("list")
            .iter()
            .map(|s| s["name"].as_str().expect("name").to_string())
            .collect();
        assert_eq!(shown, api_names, "{list}");
        for s in f[list].as_array().expect("list") {
            let name = s["name"].as_str().expect("name");
            let tag = tag_with(html, &format!("{attr}=\"{name}\""));
            same(number(&attr_of(tag, "data-count")), &s["count"], name);
        }
    }
    // The daily table: every API day with its numbers, the other days zero.
    for d in f["daily"].as_array().expect("daily") {
        let day = d["day"].as_str().expect("day");
        let row = &html[html
            .find(&format!("<tr data-day=\"{day}\">"))
            .expect("day row")..];
        let row = &row[..row.find("</tr>").expect("end")];
        let cells: Vec<f64> = row
            .split("<td class=\"num\">")
            .skip(1)
            .map(|c| number(&c[..c.find('<').expect("cell end")]))
            .collect();
        for (i, field) in ["starts", "finishes", "share_opens", "suspicious"]
            .iter()
            .enumerate()
        {
            same(cells[i], &d[*field], &format!("{day} {field}"));
        }
    }
}

/// The CSV's rows as (section, key, metric) → value.
fn csv_rows(csv: &str) -> BTreeMap<(String, String, String), String> {
    let mut out = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let cells = split_csv(line);
        assert_eq!(cells.len(), 5, "{line}");
        out.insert(
            (cells[0].clone(), cells[1].clone(), cells[3].clone()),
            cells[4].clone(),
        );
    }
    out
}

fn split_csv(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().expect("cell").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().expect("cell").push(c),
        }
    }
    cells
}

fn assert_csv_matches(csv: &str, api: &Value) {
    let rows = csv_rows(csv);
    let get = |section: &str, key: &str, metric: &str| -> f64 {
        number(
            rows.get(&(section.to_string(), key.to_string(), metric.to_string()))
                .unwrap_or_else(|| panic!("no CSV row {section},{key},{metric}")),
        )
    };
    for metric in [
        "starts",
        "finishes",
        "conversion_rate",
        "share_opens",
        "suspicious",
    ] {
        same(get("summary", "", metric), &api[metric], metric);
    }
    if api["avg_seconds_to_finish"].is_number() {
        same(
            get("summary", "", "avg_seconds_to_finish"),
            &api["avg_seconds_to_finish"],
            "avg",
        );
    }
    for q in api["questions"].as_array().expect("questions") {
        let key = q["key"].as_str().expect("key");
        for field in ["reached", "answered", "drop_off", "drop_off_rate"] {
            same(
                get("question", key, field),
                &q[field],
                &format!("{key} {field}"),
            );
        }
    }
    for p in api["profiles"].as_array().expect("profiles") {
        let code = p["code"].as_str().expect("code");
        same(get("profile", code, "count"), &p["count"], code);
        same(get("profile", code, "share"), &p["share"], code);
    }
    for (list, section) in [("sources", "source"), ("campaigns", "campaign")] {
        let items = api[list].as_array().expect("list");
        let n = rows.keys().filter(|(s, _, _)| s == section).count();
        assert_eq!(n, items.len(), "{list}");
        for s in items {
            let name = s["name"].as_str().expect("name");
            same(get(section, name, "starts"), &s["count"], name);
        }
    }
    let mut daily_starts = 0.0;
    for d in api["daily"].as_array().expect("daily") {
        let day = d["day"].as_str().expect("day");
        for field in ["starts", "finishes", "share_opens", "suspicious"] {
            same(
                get("daily", day, field),
                &d[field],
                &format!("{day} {field}"),
            );
        }
    }
    for ((section, _, metric), v) in &rows {
        if section == "daily" && metric == "starts" {
            daily_starts += number(v);
        }
    }
    same(daily_starts, &api["starts"], "daily starts add up");
}

async fn the_dashboard_and_its_csv_show_the_numbers_of_the_analytics_api(app: TestApp) {
    let id = app.create_published(&doc("dash-test")).await;
    drive_sessions(&app, "dash-test").await;
    // A second version with one more session: "all versions" and "version 2" differ.
    let r = app
        .admin_post_raw(&format!("/api/v1/admin/tests/{id}/versions"), "", None)
        .await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(app.publish(&id, 2).await.status, 200);
    app.complete("dash-test", common::cautious).await;
    // A share open counts too.
    let result = app.complete("dash-test", common::aggressive).await;
    let token = result["share_url"]
        .as_str()
        .expect("share_url")
        .rsplit('/')
        .next()
        .expect("token")
        .to_string();
    assert_eq!(app.share(&token, true).await.status, 200);
    app.flush().await;
    let v2 = app.version_id(&id, 2).await;

    let today = time::OffsetDateTime::now_utc().date();
    let day = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let week_ago = day(today - time::Duration::days(6));
    let today = day(today);

    let mut b = Browser::new(&app);
    b.sign_in().await;
    for (dash_query, api_query) in [
        (String::new(), format!("test_id={id}")),
        (
            format!("version=&from={week_ago}&to={today}"),
            format!("test_id={id}&from={week_ago}&to={today}"),
        ),
        (
            format!("version=2&from={week_ago}&to={today}"),
            format!("test_version_id={v2}&from={week_ago}&to={today}"),
        ),
        (
            "from=2020-01-01&to=2020-01-31".to_string(),
            format!("test_id={id}&from=2020-01-01&to=2020-01-31"),
        ),
    ] {
        let api = app.analytics(&api_query).await;
        let page = b
            .get(&format!("/admin/tests/{id}/dashboard?{dash_query}"))
            .await;
        assert_eq!(page.status, 200, "{dash_query}: {page}");
        assert_dashboard_matches(&page.text, &api);
        assert!(page.text.contains(&format!(
            "{} to {} (UTC)",
            api["from"].as_str().expect("from"),
            api["to"].as_str().expect("to")
        )));
        assert!(
            page.text.contains("<svg class=\"chart\""),
            "the daily chart"
        );

        let csv = b
            .get(&format!("/admin/tests/{id}/dashboard.csv?{dash_query}"))
            .await;
        assert_eq!(csv.status, 200);
        assert!(
            csv.header("content-type")
                .is_some_and(|c| c.starts_with("text/csv"))
        );
        let disposition = csv.header("content-disposition").expect("disposition");
        assert!(
            disposition.starts_with("attachment; filename=\"faro-dash-test"),
            "{disposition}"
        );
        assert_csv_matches(&csv.text, &api);
        // The page links this very CSV.
        let href = attr_of(tag_with(&page.text, "download>"), "href");
        assert_eq!(b.get(&href).await.text, csv.text, "{href}");
    }
    // The numbers are the ones driven: 8 starts over both versions, 6 finishes.
    let all = app.analytics(&format!("test_id={id}")).await;
    assert_eq!(
        (all["starts"].clone(), all["finishes"].clone()),
        (json!(8), json!(6))
    );
    assert_eq!(all["share_opens"], 1);
    assert_eq!(
        all["sources"],
        json!([{"name": "instagram", "count": 2}, {"name": "newsletter", "count": 2}])
    );

    // Bad parameters: a page that says so, not a crash.
    let r = b
        .get(&format!("/admin/tests/{id}/dashboard?from=2026-13-01"))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("from must be a date"));
    assert_eq!(
        b.get(&format!("/admin/tests/{id}/dashboard?version=99"))
            .await
            .status,
        404
    );
    assert_eq!(b.get("/admin/tests/nope/dashboard").await.status, 404);
}
both!(the_dashboard_and_its_csv_show_the_numbers_of_the_analytics_api);

async fn an_ended_panel_session_is_renewed_by_its_refresh_cookie(app: TestApp) {
    let mut b = Browser::new(&app);
    b.sign_in().await;
    assert!(b.cookies.contains_key("faro_refresh"), "a refresh cookie");
    // The hour is over: the browser dropped the session and CSRF cookies.
    b.cookies.remove("faro_session");
    b.cookies.remove("faro_csrf");
    let r = b.get("/admin/staff?x=1").await;
    assert_eq!(
        location(&r),
        "/admin/session/renew?next=/admin/staff%3Fx%3D1"
    );
    let renewed = b.get(&location(&r)).await;
    assert_eq!(location(&renewed), "/admin/staff?x=1");
    let page = b.get("/admin/staff?x=1").await;
    assert_eq!(page.status, 200, "{page}");
    // Signing out ends the sign-in: the refresh cookie renews nothing after.
    let csrf = b.csrf();
    let refresh = b.cookies.get("faro_refresh").cloned().expect("rt");
    b.post("/admin/logout", &[("csrf", &csrf)]).await;
    b.cookies.insert("faro_refresh".into(), refresh);
    b.cookies.remove("faro_session");
    let r = b.get("/admin/session/renew?next=/admin/staff").await;
    assert_eq!(location(&r), "/admin/login?next=/admin/staff");
    // A renewal never leaves the panel.
    let r = b
        .get("/admin/session/renew?next=https://evil.example")
        .await;
    assert_eq!(location(&r), "/admin/login");
}
both!(an_ended_panel_session_is_renewed_by_its_refresh_cookie);
