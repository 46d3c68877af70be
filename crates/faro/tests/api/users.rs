//! End users (spec/platform.md): register, log in, rotating refresh tokens with reuse
//! detection, logout with a deny list, `GET /me`, each on its own tenant's host.

use reqwest::Method;
use reqwest::header::HOST;
use serde_json::{Value, json};
use sqlx::Row;

use crate::both;
use crate::common::{Resp, TestApp};
use crate::tenants::{create_tenant, with_token};

const PASSWORD: &str = "Sol-y-Sombra-2026";

async fn post(app: &TestApp, host: Option<&str>, path: &str, body: &Value) -> Resp {
    let mut req = app.request(Method::POST, path).json(body);
    if let Some(h) = host {
        req = req.header(HOST, h);
    }
    app.send(req).await
}

async fn register(app: &TestApp, email: &str) -> Value {
    let r = post(
        app,
        None,
        "/api/v1/auth/register",
        &json!({"email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    r.json()
}

/// Spends the sign-in's refresh token (`sign_in` is a token response).
async fn refresh(app: &TestApp, sign_in: &Value) -> Resp {
    post(
        app,
        None,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": s(sign_in, "refresh_token")}),
    )
    .await
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("no {k} in {v}"))
        .to_string()
}

async fn registering_gives_a_sign_in_and_an_event(app: TestApp) {
    let v = register(&app, " Ana@Example.COM ").await;
    assert_eq!(v["user"]["email"], "ana@example.com");
    assert_eq!(v["expires_in"], 900);
    assert_eq!(v["token_type"], "Bearer");
    assert!(s(&v, "refresh_token").starts_with("rt_"), "{v}");
    let me = with_token(&app, &s(&v, "access_token"), Method::GET, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{me}");
    assert_eq!(me.json()["id"], v["user"]["id"]);
    assert_eq!(me.json()["email_verified"], false);

    // One account per address per site, whatever its case.
    let r = post(
        &app,
        None,
        "/api/v1/auth/register",
        &json!({"email": "ANA@example.com", "password": PASSWORD}),
    )
    .await;
    r.assert_error(409, "email_taken");

    let row = sqlx::query("SELECT kind, subject FROM events WHERE kind = 'user.registered'")
        .fetch_all(app.core.db.writer())
        .await
        .expect("events");
    assert_eq!(row.len(), 1);
    let subject: String = row[0].try_get("subject").expect("subject");
    assert_eq!(subject, s(&v["user"], "id"));

    // The address is sealed at rest and found by its keyed hash.
    let stored = sqlx::query("SELECT email, email_index FROM end_users")
        .fetch_one(app.core.db.writer())
        .await
        .expect("row");
    let email: String = stored.try_get("email").expect("email");
    let index: String = stored.try_get("email_index").expect("index");
    assert!(email.starts_with("s1.") && !email.contains('@'), "{email}");
    assert!(index.len() == 64 && !index.contains("ana"), "{index}");
    let again = post(
        &app,
        None,
        "/api/v1/auth/login",
        &json!({"email": "ana@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(again.status, 200, "{again}");
}
both!(registering_gives_a_sign_in_and_an_event);

async fn logging_in_checks_the_password_and_says_nothing_more(app: TestApp) {
    register(&app, "ana@example.com").await;
    for (email, password) in [
        ("ana@example.com", "Wrong-Password-1"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ] {
        let r = post(
            &app,
            None,
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await;
        r.assert_error(401, "invalid_credentials");
        assert!(r.text.contains("wrong email or password"), "{r}");
    }
    let r = post(
        &app,
        None,
        "/api/v1/auth/login",
        &json!({"email": "ANA@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, 200, "{r}");
    let me = with_token(
        &app,
        &s(&r.json(), "access_token"),
        Method::GET,
        "/api/v1/me",
    )
    .await;
    assert!(me.json()["last_login_at"].is_string(), "{me}");
}
both!(logging_in_checks_the_password_and_says_nothing_more);

async fn a_refresh_token_works_once_and_its_reuse_ends_the_sign_in(app: TestApp) {
    let first = register(&app, "ana@example.com").await;
    let r = refresh(&app, &first).await;
    assert_eq!(r.status, 200, "{r}");
    let second = r.json();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    let me = with_token(&app, &s(&second, "access_token"), Method::GET, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{me}");

    // The spent token again: someone copied it. The whole sign-in ends, the new token too.
    let r = refresh(&app, &first).await;
    r.assert_error(401, "invalid_refresh_token");
    assert!(r.text.contains("already used"), "{r}");
    let r = refresh(&app, &second).await;
    r.assert_error(401, "invalid_refresh_token");
    assert!(r.text.contains("ended"), "{r}");
    // Whoever holds the sign-in's access token is out at once too.
    let me = with_token(&app, &s(&second, "access_token"), Method::GET, "/api/v1/me").await;
    me.assert_error(401, "unauthorized");

    // Made-up tokens and malformed bodies.
    let r = post(
        &app,
        None,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": "rt_nope"}),
    )
    .await;
    r.assert_error(401, "invalid_refresh_token");
    let r = post(&app, None, "/api/v1/auth/refresh", &json!({})).await;
    assert_eq!(r.status, 422, "{r}");
}
both!(a_refresh_token_works_once_and_its_reuse_ends_the_sign_in);

async fn logging_out_ends_that_sign_in_only(app: TestApp) {
    let phone = register(&app, "ana@example.com").await;
    // The same sign-in, refreshed: both access tokens belong to it.
    let refreshed = refresh(&app, &phone).await.json();
    let earlier = s(&phone, "access_token");
    let phone = refreshed;
    let r = post(
        &app,
        None,
        "/api/v1/auth/login",
        &json!({"email": "ana@example.com", "password": PASSWORD}),
    )
    .await;
    let laptop = r.json();
    let r = with_token(
        &app,
        &s(&phone, "access_token"),
        Method::POST,
        "/api/v1/auth/logout",
    )
    .await;
    assert_eq!(r.status, 204, "{r}");
    for token in [s(&phone, "access_token"), earlier] {
        let r = with_token(&app, &token, Method::GET, "/api/v1/me").await;
        r.assert_error(401, "unauthorized");
        assert!(r.text.contains("revoked"), "{r}");
    }
    let r = refresh(&app, &phone).await;
    r.assert_error(401, "invalid_refresh_token");
    // The other sign-in goes on.
    let r = with_token(&app, &s(&laptop, "access_token"), Method::GET, "/api/v1/me").await;
    assert_eq!(r.status, 200, "{r}");
    let r = refresh(&app, &laptop).await;
    assert_eq!(r.status, 200, "{r}");
    // Anonymous logout: nothing to end.
    let r = app
        .send(app.request(Method::POST, "/api/v1/auth/logout"))
        .await;
    r.assert_error(401, "unauthorized");
}
both!(logging_out_ends_that_sign_in_only);

async fn end_users_belong_to_their_site(app: TestApp) {
    create_tenant(&app, "acme", "acme.test").await;
    let body = json!({"email": "ana@example.com", "password": PASSWORD});
    let at_acme = post(&app, Some("acme.test"), "/api/v1/auth/register", &body).await;
    assert_eq!(at_acme.status, 201, "{at_acme}");
    let at_acme = at_acme.json();
    // The same address is another account on another site.
    let here = register(&app, "ana@example.com").await;
    assert_ne!(here["user"]["id"], at_acme["user"]["id"]);

    // acme's tokens are refused on the default site, and the other way round.
    let r = with_token(
        &app,
        &s(&at_acme, "access_token"),
        Method::GET,
        "/api/v1/me",
    )
    .await;
    r.assert_error(401, "unauthorized");
    assert!(r.text.contains("another site"), "{r}");
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/me")
                .bearer_auth(s(&at_acme, "access_token"))
                .header(HOST, "acme.test"),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let r = refresh(&app, &at_acme).await;
    r.assert_error(401, "invalid_refresh_token");
    // The same credentials on acme's host sign in to acme's account.
    let r = post(&app, Some("acme.test"), "/api/v1/auth/login", &body).await;
    assert_eq!(r.json()["user"]["id"], at_acme["user"]["id"], "{r}");

    // End users are not staff, and staff are not end users.
    let r = with_token(
        &app,
        &s(&here, "access_token"),
        Method::GET,
        "/api/v1/admin/tests",
    )
    .await;
    r.assert_error(401, "unauthorized");
    let staff = app.admin(Method::GET, "/api/v1/me").await;
    app.send(staff).await.assert_error(401, "unauthorized");
}
both!(end_users_belong_to_their_site);

async fn bad_registrations_list_every_problem(app: TestApp) {
    let r = post(
        &app,
        None,
        "/api/v1/auth/register",
        &json!({"email": "ana@", "password": "short"}),
    )
    .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["email", "password"], "{r}");
    let r = post(
        &app,
        None,
        "/api/v1/auth/register",
        &json!({"email": "ana@example.com", "password": "password123"}),
    )
    .await;
    assert_eq!(r.problems()[0].0, "password", "{r}");
    let r = post(
        &app,
        None,
        "/api/v1/auth/register",
        &json!({"email": "ana@example.com", "password": PASSWORD, "admin": true}),
    )
    .await;
    assert_eq!(r.status, 422, "{r}");
}
both!(bad_registrations_list_every_problem);

async fn sensitive_endpoints_are_rate_limited(app: TestApp) {
    let mut last = None;
    for i in 0..4 {
        let r = post(
            &app,
            None,
            "/api/v1/auth/register",
            &json!({"email": format!("u{i}@example.com"), "password": PASSWORD}),
        )
        .await;
        last = Some(r);
    }
    let r = last.take().expect("four answers");
    r.assert_error(429, "rate_limited");
    for _ in 0..4 {
        last = Some(
            post(
                &app,
                None,
                "/api/v1/auth/login",
                &json!({"email": "u0@example.com", "password": "Wrong-Password-1"}),
            )
            .await,
        );
    }
    last.expect("answers").assert_error(429, "rate_limited");
}
both!(sensitive_endpoints_are_rate_limited, "RATE_LIMIT_LOGIN" => "3/minute");

/// One address registered on three instances at once: one account. One refresh token sent to
/// three instances at once: one new pair, and the sign-in ends (two holders of one token).
/// And a logout on one instance is refused on the others within the deny list's cache time.
async fn three_instances_keep_accounts_and_refresh_tokens_unique(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    let body = json!({"email": "ana@example.com", "password": PASSWORD});
    let (ra, rb, rc) = tokio::join!(
        post(&a, None, "/api/v1/auth/register", &body),
        post(&b, None, "/api/v1/auth/register", &body),
        post(&c, None, "/api/v1/auth/register", &body),
    );
    let mut statuses = [ra.status, rb.status, rc.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409], "{ra}\n{rb}\n{rc}");
    let accounts = sqlx::query("SELECT id FROM end_users")
        .fetch_all(a.core.db.writer())
        .await
        .expect("users");
    assert_eq!(accounts.len(), 1);

    for round in 0..5 {
        let login = post(&a, None, "/api/v1/auth/login", &body).await.json();
        let refresh = json!({"refresh_token": s(&login, "refresh_token")});
        let (ra, rb, rc) = tokio::join!(
            post(&a, None, "/api/v1/auth/refresh", &refresh),
            post(&b, None, "/api/v1/auth/refresh", &refresh),
            post(&c, None, "/api/v1/auth/refresh", &refresh),
        );
        let winners: Vec<&Resp> = [&ra, &rb, &rc]
            .into_iter()
            .filter(|r| r.status == 200)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {ra}\n{rb}\n{rc}");
        for r in [&ra, &rb, &rc].into_iter().filter(|r| r.status != 200) {
            r.assert_error(401, "invalid_refresh_token");
        }
        // Its token was copied: the winner's next token is refused too (the family is revoked
        // by the losers, whichever finished first).
        let next = json!({"refresh_token": s(&winners[0].json(), "refresh_token")});
        let r = post(&b, None, "/api/v1/auth/refresh", &next).await;
        r.assert_error(401, "invalid_refresh_token");
    }

    // Logged out on A: refused on B and C within the deny list's cache time (5 s).
    let login = post(&a, None, "/api/v1/auth/login", &body).await.json();
    let access = s(&login, "access_token");
    for app in [&b, &c] {
        let r = with_token(app, &access, Method::GET, "/api/v1/me").await;
        assert_eq!(r.status, 200, "{r}");
    }
    let r = with_token(&a, &access, Method::POST, "/api/v1/auth/logout").await;
    assert_eq!(r.status, 204, "{r}");
    refused_everywhere(&[&a, &b, &c], &access).await;
}
crate::postgres_only!(three_instances_keep_accounts_and_refresh_tokens_unique);

async fn refused_everywhere(apps: &[&TestApp], access: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
    for app in apps {
        loop {
            let r = with_token(app, access, Method::GET, "/api/v1/me").await;
            if r.status == 401 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "still accepted: {r}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}

async fn changing_the_password_ends_the_other_sign_ins(app: TestApp) {
    let phone = register(&app, "ana@example.com").await;
    let laptop = post(
        &app,
        None,
        "/api/v1/auth/login",
        &json!({"email": "ana@example.com", "password": PASSWORD}),
    )
    .await
    .json();
    let patch = |body: Value| {
        let token = s(&phone, "access_token");
        let app = &app;
        async move {
            app.send(
                app.request(Method::PATCH, "/api/v1/me")
                    .bearer_auth(token)
                    .json(&body),
            )
            .await
        }
    };
    let r = patch(json!({"current_password": "Wrong-Password-1", "password": "Nueva-Clave-2027"}))
        .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.problems()[0].0, "current_password", "{r}");
    let r = patch(json!({"current_password": PASSWORD, "password": "short"})).await;
    assert_eq!(r.problems()[0].0, "password", "{r}");
    let r = patch(json!({"current_password": PASSWORD, "password": "Nueva-Clave-2027"})).await;
    assert_eq!(r.status, 200, "{r}");

    // The laptop's sign-in ended, its access token with it; the phone's goes on; only the
    // new password logs in.
    let r = refresh(&app, &laptop).await;
    r.assert_error(401, "invalid_refresh_token");
    with_token(&app, &s(&laptop, "access_token"), Method::GET, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    let r = with_token(&app, &s(&phone, "access_token"), Method::GET, "/api/v1/me").await;
    assert_eq!(r.status, 200, "{r}");
    let r = refresh(&app, &phone).await;
    assert_eq!(r.status, 200, "{r}");
    let old = json!({"email": "ana@example.com", "password": PASSWORD});
    post(&app, None, "/api/v1/auth/login", &old)
        .await
        .assert_error(401, "invalid_credentials");
    let new = json!({"email": "ana@example.com", "password": "Nueva-Clave-2027"});
    assert_eq!(
        post(&app, None, "/api/v1/auth/login", &new).await.status,
        200
    );
}
both!(changing_the_password_ends_the_other_sign_ins);

async fn an_account_is_erased_by_its_owner_or_by_staff(app: TestApp) {
    let ana = register(&app, "ana@example.com").await;
    let bea = register(&app, "bea@example.com").await;
    let list = app.admin_get("/api/v1/admin/users").await;
    assert_eq!(list.status, 200, "{list}");
    let emails: Vec<&str> = list.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .map(|e| if e.starts_with("bea") { "bea" } else { "ana" })
        .collect();
    assert_eq!(emails, ["bea", "ana"], "{list}");

    // Ana erases herself, with her password.
    let token = s(&ana, "access_token");
    let del = |password: &str| {
        app.request(Method::DELETE, "/api/v1/me")
            .bearer_auth(&token)
            .json(&json!({"password": password}))
    };
    let r = app.send(del("Wrong-Password-1")).await;
    r.assert_error(422, "validation_failed");
    let r = app.send(del(PASSWORD)).await;
    assert_eq!(r.status, 204, "{r}");
    with_token(&app, &token, Method::GET, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");
    post(
        &app,
        None,
        "/api/v1/auth/login",
        &json!({"email": "ana@example.com", "password": PASSWORD}),
    )
    .await
    .assert_error(401, "invalid_credentials");

    // Staff erase Bea; then she is nobody, here or at another tenant's console.
    let bea_id = s(&bea["user"], "id");
    let r = app
        .send(
            app.admin(Method::DELETE, &format!("/api/v1/admin/users/{bea_id}"))
                .await,
        )
        .await;
    assert_eq!(r.status, 204, "{r}");
    let r = app
        .send(
            app.admin(Method::DELETE, &format!("/api/v1/admin/users/{bea_id}"))
                .await,
        )
        .await;
    r.assert_error(404, "not_found");
    let list = app.admin_get("/api/v1/admin/users").await.json();
    assert_eq!(list["items"], json!([]), "{list}");
    // Bea's access token ends with her account.
    with_token(&app, &s(&bea, "access_token"), Method::GET, "/api/v1/me")
        .await
        .assert_error(401, "unauthorized");

    // Every module hears of it; the audit log confirms who asked.
    let events = sqlx::query("SELECT subject FROM events WHERE kind = 'user.deleted'")
        .fetch_all(app.core.db.writer())
        .await
        .expect("events");
    assert_eq!(events.len(), 2);
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let deletes: Vec<&Value> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "user.delete")
        .collect();
    assert_eq!(deletes.len(), 2, "{audit}");
    assert_eq!(deletes[0]["actor"], "admin");
    assert_eq!(deletes[1]["actor"], "user:ana@example.com");
    assert!(!audit.to_string().contains("bea@example.com"), "{audit}");
}
both!(an_account_is_erased_by_its_owner_or_by_staff);
