//! API keys: made by a tenant's admins, shown once, accepted as bearer credentials on the
//! modules' routes within their scopes, never on the platform's own routes, refused once
//! revoked or expired, and confined to their tenant whatever host they are sent to.

use reqwest::Method;
use reqwest::header::HOST;
use serde_json::{Value, json};

use super::{OWNER_PASSWORD, create_tenant, token_on, with_token};
use crate::both;
use crate::common::{ADMIN_USER, Resp, TestApp, doc};

const KEYS: &str = "/api/v1/admin/api-keys";

async fn make_key(app: &TestApp, scopes: &[&str]) -> Value {
    let r = app
        .admin_post(KEYS, &json!({"name": "CRM sync", "scopes": scopes}))
        .await;
    assert_eq!(r.status, 201, "{r}");
    r.json()
}

fn key_of(v: &Value) -> String {
    v["key"].as_str().expect("key").to_string()
}

async fn with_key(app: &TestApp, key: &str, method: Method, path: &str) -> Resp {
    with_token(app, key, method, path).await
}

async fn a_key_reads_and_writes_within_its_scopes(app: TestApp) {
    let read = make_key(&app, &["quiz:read"]).await;
    let key = key_of(&read);
    assert!(key.starts_with("faro_") && key.len() == 48, "{read}");
    assert!(key.starts_with(read["prefix"].as_str().expect("prefix")));
    assert_eq!(read["status"], "active");
    assert_eq!(read["scopes"], json!(["quiz:read"]));
    assert_eq!(read["created_by"], ADMIN_USER);
    assert_eq!(read["expires_at"], Value::Null);

    // The key is shown once: lists and reads never carry it.
    let list = app.admin_get(KEYS).await;
    assert_eq!(list.status, 200, "{list}");
    assert_eq!(list.json()["items"].as_array().map(Vec::len), Some(1));
    assert!(!list.text.contains(&key), "{list}");
    let id = read["id"].as_str().expect("id");
    let one = app.admin_get(&format!("{KEYS}/{id}")).await;
    assert_eq!(one.json()["name"], "CRM sync", "{one}");
    assert!(!one.text.contains(&key));

    // Reading the quiz module: yes; writing it: not with a read key.
    let r = with_key(&app, &key, Method::GET, "/api/v1/admin/tests").await;
    assert_eq!(r.status, 200, "{r}");
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/admin/tests")
                .bearer_auth(&key)
                .json(&doc("from-a-read-key")),
        )
        .await;
    r.assert_error(403, "insufficient_scope");
    assert!(r.text.contains("quiz:write"), "{r}");

    let write = key_of(&make_key(&app, &["quiz:write"]).await);
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/admin/tests")
                .bearer_auth(&write)
                .json(&doc("from-a-key")),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    // Write includes read.
    let r = with_key(&app, &write, Method::GET, "/api/v1/admin/tests").await;
    assert!(r.text.contains("from-a-key"), "{r}");
    // Another module than the key's scopes: refused.
    let r = with_key(&app, &write, Method::GET, "/api/v1/admin/webhooks").await;
    r.assert_error(403, "insufficient_scope");

    // The platform's own routes never take a key, whatever its scopes.
    for path in [KEYS, "/api/v1/admin/audit", "/api/v1/admin/me"] {
        let r = with_key(&app, &write, Method::GET, path).await;
        r.assert_error(403, "api_key_not_allowed");
    }
    let r = with_key(&app, &write, Method::GET, "/api/v1/platform/tenants").await;
    r.assert_error(403, "super_admin_only");

    // Making keys is audited; the key's use shows as its last use (written behind the request).
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let made: Vec<&Value> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "api_key.create")
        .collect();
    assert_eq!(made.len(), 2, "{audit}");
    assert_eq!(made[1]["target"], read["id"]);
    assert_eq!(made[1]["after"]["scopes"], json!(["quiz:read"]));
    assert!(made[1]["after"].get("key").is_none(), "{audit}");
    let mut used = Value::Null;
    for _ in 0..50 {
        used = app.admin_get(&format!("{KEYS}/{id}")).await.json();
        if used["last_used_at"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(used["last_used_at"].is_string(), "{used}");
}
both!(a_key_reads_and_writes_within_its_scopes);

async fn revoked_expired_and_unknown_keys_are_refused(app: TestApp) {
    let made = make_key(&app, &["quiz:read"]).await;
    let key = key_of(&made);
    let id = made["id"].as_str().expect("id");
    let r = with_key(&app, &key, Method::GET, "/api/v1/admin/tests").await;
    assert_eq!(r.status, 200, "{r}");

    let r = app
        .send(app.admin(Method::DELETE, &format!("{KEYS}/{id}")).await)
        .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["status"], "revoked");
    assert!(r.json()["revoked_at"].is_string(), "{r}");
    let r = with_key(&app, &key, Method::GET, "/api/v1/admin/tests").await;
    r.assert_error(401, "unauthorized");
    assert!(r.text.contains("revoked"), "{r}");
    // Revoking again changes nothing and writes no second entry.
    let first = app.admin_get(&format!("{KEYS}/{id}")).await.json();
    let r = app
        .send(app.admin(Method::DELETE, &format!("{KEYS}/{id}")).await)
        .await;
    assert_eq!(r.json()["revoked_at"], first["revoked_at"], "{r}");
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let revokes = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "api_key.revoke")
        .count();
    assert_eq!(revokes, 1, "{audit}");
    let r = app
        .send(
            app.admin(Method::DELETE, &format!("{KEYS}/no-such-key"))
                .await,
        )
        .await;
    r.assert_error(404, "not_found");

    // Past its expiry (moved into the past in the database, before the key was ever used).
    let made = make_key(&app, &["quiz:read"]).await;
    let expiring = key_of(&made);
    sqlx::query("UPDATE api_keys SET expires_at = $1 WHERE id = $2")
        .bind(faro_store::unix_now() - 1)
        .bind(made["id"].as_str().expect("id"))
        .execute(app.core.db.writer())
        .await
        .expect("expire");
    let r = with_key(&app, &expiring, Method::GET, "/api/v1/admin/tests").await;
    r.assert_error(401, "unauthorized");
    assert!(r.text.contains("expired"), "{r}");
    let listed = app
        .admin_get(&format!("{KEYS}/{}", made["id"].as_str().expect("id")))
        .await;
    assert_eq!(listed.json()["status"], "expired", "{listed}");

    // Made up, or a staff token's lookalike.
    let r = with_key(
        &app,
        "faro_notakeyatall",
        Method::GET,
        "/api/v1/admin/tests",
    )
    .await;
    r.assert_error(401, "unauthorized");
    assert!(r.text.contains("not known"), "{r}");
}
both!(revoked_expired_and_unknown_keys_are_refused);

async fn invalid_keys_are_refused_with_every_problem(app: TestApp) {
    let r = app
        .admin_post(
            KEYS,
            &json!({"name": " ", "scopes": ["quiz:admin", "platform:read", "quiz:read", "quiz:read"],
                    "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        ["name", "scopes[0]", "scopes[1]", "scopes[3]", "expires_at"],
        "{r}"
    );
    let r = app
        .admin_post(KEYS, &json!({"name": "x", "scopes": []}))
        .await;
    assert_eq!(r.problems()[0].0, "scopes", "{r}");
    let r = app
        .admin_post(
            KEYS,
            &json!({"name": "x", "scopes": ["quiz:read"], "expires_at": "tomorrow"}),
        )
        .await;
    r.assert_error(422, "validation_failed");
    assert!(r.text.contains("RFC 3339"), "{r}");
    let r = app
        .admin_post(
            KEYS,
            &json!({"name": "x", "scopes": ["quiz:read"], "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 422, "{r}");
    let r = app.send(app.request(Method::GET, KEYS)).await;
    r.assert_error(401, "unauthorized");
}
both!(invalid_keys_are_refused_with_every_problem);

async fn a_key_stays_in_its_tenant_whatever_the_host(app: TestApp) {
    create_tenant(&app, "acme", "acme.test").await;
    let owner = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let r = app
        .send(
            app.request(Method::POST, KEYS)
                .bearer_auth(&owner)
                .json(&json!({"name": "acme CRM", "scopes": ["quiz:write"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let acme_key = key_of(&r.json());
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/admin/tests")
                .bearer_auth(&acme_key)
                .json(&doc("acme-only")),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let acme_test = r.json()["id"].as_str().expect("id").to_string();

    // acme's key, sent to the default tenant's host, still sees acme's tests only.
    let default_tests = app.admin_get("/api/v1/admin/tests").await;
    let r = with_key(&app, &acme_key, Method::GET, "/api/v1/admin/tests").await;
    assert!(r.text.contains("acme-only"), "{r}");
    for t in default_tests.json()["items"].as_array().expect("items") {
        let id = t["id"].as_str().expect("id");
        assert!(!r.text.contains(id), "a default test leaked: {r}");
        let one = with_key(
            &app,
            &acme_key,
            Method::GET,
            &format!("/api/v1/admin/tests/{id}"),
        )
        .await;
        one.assert_error(404, "not_found");
    }
    // The default tenant's key on acme's host sees the default tenant's, not acme's.
    let default_key = key_of(&make_key(&app, &["quiz:read"]).await);
    let r = app
        .send(
            app.request(Method::GET, &format!("/api/v1/admin/tests/{acme_test}"))
                .bearer_auth(&default_key)
                .header(HOST, "acme.test"),
        )
        .await;
    r.assert_error(404, "not_found");
    // Neither tenant's staff see the other's keys.
    let mine = with_token(&app, &owner, Method::GET, KEYS).await.json();
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(mine["items"][0]["name"], "acme CRM");
    let theirs = app.admin_get(KEYS).await.json();
    let default_id = theirs["items"][0]["id"].as_str().expect("id").to_string();
    with_token(&app, &owner, Method::GET, &format!("{KEYS}/{default_id}"))
        .await
        .assert_error(404, "not_found");
    let r = app
        .send(
            app.request(Method::DELETE, &format!("{KEYS}/{default_id}"))
                .bearer_auth(&owner),
        )
        .await;
    r.assert_error(404, "not_found");

    // With the quiz switched off for acme, acme's key finds nothing there.
    let r = app
        .admin(Method::PATCH, "/api/v1/platform/tenants/acme")
        .await
        .json(&json!({"modules": []}));
    assert_eq!(app.send(r).await.status, 200);
    let r = with_key(&app, &acme_key, Method::GET, "/api/v1/admin/tests").await;
    r.assert_error(404, "not_found");
    let r = with_key(&app, &default_key, Method::GET, "/api/v1/admin/tests").await;
    assert_eq!(r.status, 200, "{r}");
}
both!(a_key_stays_in_its_tenant_whatever_the_host);
