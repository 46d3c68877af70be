//! Staff sign-ins: a one-hour access token and a rotating refresh token (the body's
//! `refresh_token`, or the panel's `faro_refresh` cookie). A spent refresh token presented
//! again ends the sign-in; a refresh reads the account again (a new role, a disabled
//! account); signing out ends the sign-in; a refresh token is only good on its own site.

use reqwest::Method;
use reqwest::header::{COOKIE, HOST};
use serde_json::{Value, json};

use crate::both;
use crate::common::{ADMIN_PASSWORD, ADMIN_USER, Resp, TestApp};
use crate::tenants::create_tenant;

async fn login(app: &TestApp, username: &str, password: &str) -> Value {
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/admin/login")
                .json(&json!({"username": username, "password": password})),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    r.json()
}

async fn refresh(app: &TestApp, token: &str) -> Resp {
    app.send(
        app.request(Method::POST, "/api/v1/admin/refresh")
            .json(&json!({"refresh_token": token})),
    )
    .await
}

pub(crate) async fn me(app: &TestApp, access: &str) -> Resp {
    app.send(
        app.request(Method::GET, "/api/v1/admin/me")
            .bearer_auth(access),
    )
    .await
}

async fn a_staff_sign_in_renews_for_an_hour_at_a_time(app: TestApp) {
    let first = login(&app, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(first["expires_in"], 3600);
    let rt1 = first["refresh_token"].as_str().expect("a refresh token");
    assert!(rt1.starts_with("rt_"), "{rt1}");

    let r = refresh(&app, rt1).await;
    assert_eq!(r.status, 200, "{r}");
    assert!(
        r.header("set-cookie").is_some(),
        "the panel's cookies come with it"
    );
    let second = r.json();
    let rt2 = second["refresh_token"].as_str().expect("the next one");
    assert_ne!(rt1, rt2);
    assert_eq!(
        me(&app, second["access_token"].as_str().expect("access"))
            .await
            .status,
        200
    );

    // The spent one again: copied, so the whole sign-in ends, the newest token too.
    refresh(&app, rt1)
        .await
        .assert_error(401, "invalid_refresh_token");
    refresh(&app, rt2)
        .await
        .assert_error(401, "invalid_refresh_token");
    refresh(&app, "rt_made-up")
        .await
        .assert_error(401, "invalid_refresh_token");
    let none = app
        .send(app.request(Method::POST, "/api/v1/admin/refresh"))
        .await;
    none.assert_error(401, "invalid_refresh_token");
    let bad = app
        .send(
            app.request(Method::POST, "/api/v1/admin/refresh")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(bad.status, 400, "{bad}");

    // The panel's cookie works the same; signing out with it ends the sign-in.
    let third = login(&app, ADMIN_USER, ADMIN_PASSWORD).await;
    let rt3 = third["refresh_token"].as_str().expect("rt");
    let by_cookie = app
        .send(
            app.request(Method::POST, "/api/v1/admin/refresh")
                .header(COOKIE, format!("faro_refresh={rt3}")),
        )
        .await;
    assert_eq!(by_cookie.status, 200, "{by_cookie}");
    let rt4 = by_cookie.json()["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    let out = app
        .send(
            app.request(Method::POST, "/api/v1/admin/logout")
                .header(COOKIE, format!("faro_refresh={rt4}")),
        )
        .await;
    assert_eq!(out.status, 204, "{out}");
    refresh(&app, &rt4)
        .await
        .assert_error(401, "invalid_refresh_token");
}
both!(a_staff_sign_in_renews_for_an_hour_at_a_time);

async fn a_refresh_reads_the_account_again(app: TestApp) {
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "eva", "password": "Segura-Clave-2026", "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let eva_id = r.json()["id"].as_str().expect("id").to_owned();
    let eva = login(&app, "eva", "Segura-Clave-2026").await;
    let rt = eva["refresh_token"].as_str().expect("rt");
    let promoted = app
        .send(
            app.admin(Method::PATCH, &format!("/api/v1/admin/staff/{eva_id}"))
                .await
                .json(&json!({"role": "admin"})),
        )
        .await;
    assert_eq!(promoted.status, 200, "{promoted}");
    let r = refresh(&app, rt).await;
    assert_eq!(r.status, 200, "{r}");
    let renewed = r.json();
    let now = me(&app, renewed["access_token"].as_str().expect("access")).await;
    assert_eq!(now.json()["role"], "admin", "{now}");

    let disabled = app
        .send(
            app.admin(Method::PATCH, &format!("/api/v1/admin/staff/{eva_id}"))
                .await
                .json(&json!({"disabled": true})),
        )
        .await;
    assert_eq!(disabled.status, 200, "{disabled}");
    refresh(&app, renewed["refresh_token"].as_str().expect("rt"))
        .await
        .assert_error(401, "invalid_refresh_token");

    // Only on its own site.
    create_tenant(&app, "otra", "otra.test").await;
    let admin = login(&app, ADMIN_USER, ADMIN_PASSWORD).await;
    let elsewhere = app
        .send(
            app.request(Method::POST, "/api/v1/admin/refresh")
                .header(HOST, "otra.test")
                .json(&json!({"refresh_token": admin["refresh_token"]})),
        )
        .await;
    elsewhere.assert_error(401, "invalid_refresh_token");
}
both!(a_refresh_reads_the_account_again);

/// One staff refresh token sent to three instances at once: one new pair, and the sign-in
/// ends (two holders of one token), round after round.
async fn three_instances_rotate_a_staff_refresh_token_once(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    for round in 0..5 {
        let signed_in = login(&a, ADMIN_USER, ADMIN_PASSWORD).await;
        let token = signed_in["refresh_token"].as_str().expect("refresh token");
        let (ra, rb, rc) = tokio::join!(refresh(&a, token), refresh(&b, token), refresh(&c, token));
        let winners: Vec<&Resp> = [&ra, &rb, &rc]
            .into_iter()
            .filter(|r| r.status == 200)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {ra}\n{rb}\n{rc}");
        for r in [&ra, &rb, &rc].into_iter().filter(|r| r.status != 200) {
            r.assert_error(401, "invalid_refresh_token");
        }
        // The token was presented twice: the winner's next one is refused too.
        let next = winners[0].json();
        let next = next["refresh_token"].as_str().expect("the next token");
        refresh(&b, next)
            .await
            .assert_error(401, "invalid_refresh_token");
    }
}
crate::postgres_only!(three_instances_rotate_a_staff_refresh_token_once);
