//! Custom user fields: a site defines them in its settings (`user_fields`), registration and
//! `PATCH /me` fill them, checked and normalised, required ones enforced; they are sealed at
//! rest and part of the person's export.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::common::{Resp, TestApp};

const PASSWORD: &str = "Sol-y-Sombra-2026";

async fn register(app: &TestApp, body: Value) -> Resp {
    app.send(
        app.request(Method::POST, "/api/v1/auth/register")
            .json(&body),
    )
    .await
}

async fn patch_me(app: &TestApp, token: &str, body: Value) -> Resp {
    app.send(
        app.request(Method::PATCH, "/api/v1/me")
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

fn problem_paths(r: &Resp) -> Vec<String> {
    r.json()["error"]["details"]["problems"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|p| p["path"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn a_site_defines_fields_its_users_fill(app: TestApp) {
    let bad = app
        .admin_put(
            "/api/v1/admin/settings",
            &json!({"doc": {"user_fields": [{"name": "Phone", "type": "tel"}]}}),
        )
        .await;
    bad.assert_error(422, "validation_failed");
    assert_eq!(
        problem_paths(&bad),
        ["doc.user_fields[0].name", "doc.user_fields[0].type"]
    );
    let r = app
        .admin_put(
            "/api/v1/admin/settings",
            &json!({"doc": {"user_fields": [
                {"name": "phone", "type": "phone", "required": true, "label": "Teléfono"},
                {"name": "kitchen_m2", "type": "number"},
                {"name": "newsletter", "type": "boolean"}]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");

    // Every problem at once, the password's and the fields'.
    let r = register(
        &app,
        json!({"email": "ana@example.com", "password": "short",
               "fields": {"kitchen_m2": "veinte", "shoe_size": 42}}),
    )
    .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(
        problem_paths(&r),
        [
            "password",
            "fields.kitchen_m2",
            "fields.shoe_size",
            "fields.phone"
        ]
    );
    let r = register(
        &app,
        json!({"email": "ana@example.com", "password": PASSWORD,
               "fields": {"phone": "+34 600 111 222", "kitchen_m2": 20}}),
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    let token = r.json()["access_token"].as_str().expect("token").to_owned();
    let me = app
        .send(app.request(Method::GET, "/api/v1/me").bearer_auth(&token))
        .await;
    assert_eq!(
        me.json()["fields"],
        json!({"phone": "+34600111222", "kitchen_m2": 20})
    );

    // Sealed at rest: the number is nowhere in the row.
    let stored: String = sqlx::query_scalar("SELECT fields FROM end_users")
        .fetch_one(app.core.db.writer())
        .await
        .expect("a row");
    assert!(!stored.contains("600111222"), "{stored}");

    // A patch merges; null removes; a required field stays; no password without the current.
    let r = patch_me(
        &app,
        &token,
        json!({"fields": {"newsletter": true, "kitchen_m2": null}}),
    )
    .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        r.json()["fields"],
        json!({"phone": "+34600111222", "newsletter": true})
    );
    let r = patch_me(&app, &token, json!({"fields": {"phone": null}})).await;
    r.assert_error(422, "validation_failed");
    assert_eq!(problem_paths(&r), ["fields.phone"]);
    let r = patch_me(
        &app,
        &token,
        json!({"fields": {"newsletter": false}, "password": "Otra-Clave-Segura-9"}),
    )
    .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(problem_paths(&r), ["current_password"]);
    // A bad field leaves the password as it was.
    let r = patch_me(
        &app,
        &token,
        json!({"fields": {"kitchen_m2": "big"}, "current_password": PASSWORD,
               "password": "Otra-Clave-Segura-9"}),
    )
    .await;
    r.assert_error(422, "validation_failed");
    let login = app
        .send(
            app.request(Method::POST, "/api/v1/auth/login")
                .json(&json!({"email": "ana@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(login.status, 200, "the old password still works: {login}");

    // The export carries them.
    let export = app
        .send(
            app.request(Method::GET, "/api/v1/me/export")
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(
        export.json()["modules"]["platform"]["account"]["fields"]["phone"],
        "+34600111222"
    );
}
both!(a_site_defines_fields_its_users_fill);
