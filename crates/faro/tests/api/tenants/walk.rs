//! Cross-tenant isolation, proven by walking every route of the OpenAPI document: the
//! default tenant holds data (a test, a session, a webhook, a file, an API key, an end user,
//! a visitor); tenant acme's owner token, acme's API key (every scope) and acme's end user
//! call every method of every path, with the default tenant's ids in the path, on the default
//! tenant's host and on acme's. Nothing of the default tenant may show in any answer, no id
//! of it may be answered 2xx, nothing answers 5xx, and the default tenant's data is intact
//! afterwards.

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HOST};
use serde_json::json;

use super::{OWNER_PASSWORD, create_tenant, token_on};
use crate::both;
use crate::common::{DEMO, TestApp, aggressive};

const SECRET_HOOK: &str = "http://127.0.0.1:9/default-only-hook";
const SECRET_FILE: &str = "default-only-secret.txt";
const SECRET_KEY_NAME: &str = "default-only-key";
const SECRET_EMAIL: &str = "default-only@example.com";

/// What acme's callers present.
struct Caller {
    what: &'static str,
    bearer: String,
    host: Option<&'static str>,
}

async fn walk_every_route_as_another_tenant(app: TestApp) {
    // The default tenant's data.
    let tests = app.admin_get("/api/v1/admin/tests").await.json();
    let test = tests["items"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["slug"] == DEMO))
        .expect("the demo test")
        .clone();
    let test_id = test["id"].as_str().expect("id").to_string();
    let title = test["title"].as_str().expect("title").to_string();
    let s = app.start(DEMO).await;
    app.answer_all(&s.id, &s.first, aggressive).await;
    let finished = app.finish(&s.id).await.json();
    let share = finished["share_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("share token")
        .to_string();
    let hook = app
        .admin_post(
            "/api/v1/admin/webhooks",
            &json!({"url": SECRET_HOOK, "event_kinds": ["quiz.finished"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{hook}");
    let hook_id = hook.json()["id"].as_str().expect("id").to_string();
    let (ct, body) = crate::files::form("file", SECRET_FILE, "text/plain", b"default only");
    let file = app
        .send(
            app.admin(Method::POST, "/api/v1/admin/files")
                .await
                .header(CONTENT_TYPE, ct)
                .body(body),
        )
        .await;
    assert_eq!(file.status, 201, "{file}");
    let file_id = file.json()["id"].as_str().expect("id").to_string();
    let key = app
        .admin_post(
            "/api/v1/admin/api-keys",
            &json!({"name": SECRET_KEY_NAME, "scopes": ["quiz:read"]}),
        )
        .await;
    let key_id = key.json()["id"].as_str().expect("id").to_string();
    let user = app
        .send(
            app.request(Method::POST, "/api/v1/auth/register")
                .json(&json!({"email": SECRET_EMAIL, "password": OWNER_PASSWORD})),
        )
        .await;
    assert_eq!(user.status, 201, "{user}");
    let user_id = user.json()["user"]["id"].as_str().expect("id").to_string();
    let visitor = app
        .send(app.request(Method::GET, "/api/v1/public/whoami"))
        .await;
    let visitor_id = visitor.json()["visitor_id"]
        .as_str()
        .expect("id")
        .to_string();
    let deliveries = app
        .admin_get(&format!("/api/v1/admin/webhooks/{hook_id}/deliveries"))
        .await
        .json();
    let delivery_id = deliveries["items"][0]["id"]
        .as_str()
        .unwrap_or("no-delivery-yet")
        .to_string();

    // acme and its three callers.
    create_tenant(&app, "acme", "acme.test").await;
    let owner = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let scopes: Vec<String> = app
        .core
        .key_modules
        .iter()
        .map(|m| format!("{m}:write"))
        .collect();
    let acme_key = app
        .send(
            app.request(Method::POST, "/api/v1/admin/api-keys")
                .bearer_auth(&owner)
                .json(&json!({"name": "acme everything", "scopes": scopes})),
        )
        .await;
    assert_eq!(acme_key.status, 201, "{acme_key}");
    let acme_key = acme_key.json()["key"].as_str().expect("key").to_string();
    let acme_user = app
        .send(
            app.request(Method::POST, "/api/v1/auth/register")
                .header(HOST, "acme.test")
                .json(&json!({"email": "ana@acme.test", "password": OWNER_PASSWORD})),
        )
        .await;
    let acme_user = acme_user.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let callers = [
        Caller {
            what: "acme owner",
            bearer: owner.clone(),
            host: None,
        },
        Caller {
            what: "acme owner on acme's host",
            bearer: owner,
            host: Some("acme.test"),
        },
        Caller {
            what: "acme API key",
            bearer: acme_key.clone(),
            host: None,
        },
        Caller {
            what: "acme API key on acme's host",
            bearer: acme_key,
            host: Some("acme.test"),
        },
        Caller {
            what: "acme end user",
            bearer: acme_user.clone(),
            host: None,
        },
        Caller {
            what: "acme end user on acme's host",
            bearer: acme_user,
            host: Some("acme.test"),
        },
    ];

    let secrets = [
        title.as_str(),
        SECRET_HOOK,
        SECRET_FILE,
        SECRET_KEY_NAME,
        SECRET_EMAIL,
        visitor_id.as_str(),
    ];
    let doc = app
        .send(app.request(Method::GET, "/api/v1/openapi.json"))
        .await
        .json();
    let paths = doc["paths"].as_object().expect("paths");
    let mut calls = 0;
    for (template, item) in paths {
        let (path, names_default_data) = fill(
            template,
            &[
                (
                    "{id}",
                    id_for(
                        template,
                        [
                            &test_id,
                            &hook_id,
                            &file_id,
                            &key_id,
                            &delivery_id,
                            &user_id,
                        ],
                    ),
                ),
                ("{version}", "1".into()),
                ("{key}", "q1".into()),
                ("{slug}", DEMO.into()),
                ("{session_id}", s.id.clone()),
                ("{share_token}", share.clone()),
                ("{tenant}", "default".into()),
            ],
        );
        for method in item.as_object().expect("methods").keys() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            for c in &callers {
                // Public pages and the visitor API are everyone's on their own host: only
                // acme's host can show what acme's callers must not see there.
                if is_public(template) && c.host.is_none() {
                    continue;
                }
                let mut req = app.request(method.clone(), &path).bearer_auth(&c.bearer);
                if let Some(h) = c.host {
                    req = req.header(HOST, h);
                }
                if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
                    req = req.json(&json!({}));
                }
                let r = app.send(req).await;
                calls += 1;
                let at = format!("{} {method} {path}", c.what);
                assert!(r.status < 500, "{at}: {r}");
                for secret in secrets {
                    assert!(!r.text.contains(secret), "{at} shows {secret}: {r}");
                }
                if names_default_data {
                    assert!(
                        !(200..300).contains(&r.status),
                        "{at} answered the default tenant's id: {r}"
                    );
                }
            }
        }
    }
    assert!(calls > 200, "only {calls} calls: is the document empty?");

    // The default tenant's data is all there.
    for path in [
        format!("/api/v1/admin/tests/{test_id}"),
        format!("/api/v1/admin/webhooks/{hook_id}"),
        format!("/api/v1/admin/files/{file_id}"),
        format!("/api/v1/admin/api-keys/{key_id}"),
    ] {
        let r = app.admin_get(&path).await;
        assert_eq!(r.status, 200, "{path}: {r}");
    }
    let key = app
        .admin_get(&format!("/api/v1/admin/api-keys/{key_id}"))
        .await
        .json();
    assert_eq!(key["status"], "active");
    let share = app
        .send(
            app.request(Method::GET, &format!("/r/{share}"))
                .header("accept", "application/json"),
        )
        .await;
    assert_eq!(share.status, 200, "{share}");
    let r = app
        .send(
            app.admin(Method::DELETE, &format!("/api/v1/admin/files/{file_id}"))
                .await,
        )
        .await;
    assert_eq!(r.status, 204, "{r}");
}
both!(
    walk_every_route_as_another_tenant,
    "ALLOW_PRIVATE_NETWORK_TARGETS" => "true",
    "FILES_DIR" => super::files_dir().as_str(),
);

/// A directory of its own for the uploaded file, under the system's temp dir (not the
/// working directory, where a default `data/files` would be left behind).
fn files_dir() -> String {
    std::env::temp_dir()
        .join(format!("faro-walk-{}", faro_store::new_id()))
        .display()
        .to_string()
}

/// Which of the default tenant's ids (test, webhook, file, key, delivery, end user) an `{id}`
/// names.
fn id_for(template: &str, [test, hook, file, key, delivery, user]: [&String; 6]) -> String {
    let id = if template.contains("/users/") {
        user
    } else if template.contains("/webhook-deliveries/") {
        delivery
    } else if template.contains("/webhooks/") {
        hook
    } else if template.contains("/files/") {
        file
    } else if template.contains("/api-keys/") {
        key
    } else {
        test
    };
    id.clone()
}

/// Routes anyone may call (the tenant is the host's), as opposed to staff's, the console and
/// an end user's own.
fn is_public(template: &str) -> bool {
    ![
        "/api/v1/admin",
        "/api/v1/platform",
        "/api/v1/me",
        "/api/v1/auth/logout",
    ]
    .iter()
    .any(|p| template.starts_with(p))
}

/// The path with its parameters filled; whether it names the default tenant's data.
fn fill(template: &str, values: &[(&str, String)]) -> (String, bool) {
    let mut path = template.to_string();
    let mut named = false;
    for (param, value) in values {
        if path.contains(param) {
            // Version numbers and question keys are not the default tenant's: acme has its
            // own version 1.
            named |= !matches!(*param, "{version}" | "{key}" | "{tenant}");
            path = path.replace(param, value);
        }
    }
    (path, named && !template.starts_with("/api/v1/platform/"))
}
