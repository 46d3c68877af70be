//! A tenant's settings: versioned, validated, rolled back by writing an old version again,
//! guarded against concurrent edits, audited, and each tenant's own.

use reqwest::Method;
use serde_json::{Value, json};

use super::{OWNER_PASSWORD, create_tenant, token_on, with_token};
use crate::both;
use crate::common::{Resp, TestApp};

const SETTINGS: &str = "/api/v1/admin/settings";

async fn put(app: &TestApp, body: &Value) -> Resp {
    let req = app.admin(Method::PUT, SETTINGS).await.json(body);
    app.send(req).await
}

fn branding(primary: &str) -> Value {
    json!({"branding": {"colors": {"primary": primary}, "texts": {"tagline": "A medida"}},
           "origins": ["https://www.example.com"]})
}

async fn settings_are_versioned_and_rolled_back(app: TestApp) {
    let v0 = app.admin_get(SETTINGS).await;
    assert_eq!(v0.status, 200, "{v0}");
    assert_eq!(v0.json()["version"], 0);
    assert_eq!(v0.json()["doc"], json!({"branding": {}, "origins": []}));

    let r = put(
        &app,
        &json!({"doc": branding("#0a7d5a"), "base_version": 0}),
    )
    .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["version"], 1);
    let r = put(&app, &json!({"doc": branding("#ff0000")})).await;
    assert_eq!(r.json()["version"], 2, "{r}");
    // An edit started from version 1 is refused: someone saved version 2 meanwhile.
    let r = put(
        &app,
        &json!({"doc": branding("#00ff00"), "base_version": 1}),
    )
    .await;
    r.assert_error(409, "settings_changed");

    let r = app
        .admin_post(&format!("{SETTINGS}/versions/1/rollback"), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{r}");
    let v3 = r.json();
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["note"], "rollback to 1");
    assert_eq!(v3["doc"]["branding"]["colors"]["primary"], "#0a7d5a");
    let now = app.admin_get(SETTINGS).await.json();
    assert_eq!(now["version"], 3);

    let list = app
        .admin_get(&format!("{SETTINGS}/versions?limit=2"))
        .await
        .json();
    let versions: Vec<i64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(versions, [3, 2]);
    let cursor = list["next_cursor"].as_str().expect("more");
    let rest = app
        .admin_get(&format!("{SETTINGS}/versions?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(rest["items"][0]["version"], 1);
    assert_eq!(rest["next_cursor"], Value::Null);
    app.admin_post(&format!("{SETTINGS}/versions/9/rollback"), &json!({}))
        .await
        .assert_error(404, "not_found");

    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["settings.rollback", "settings.update", "settings.update"],
        "{audit}"
    );
    assert_eq!(audit["items"][0]["before"]["version"], 2);
    assert_eq!(audit["items"][0]["after"]["version"], 3);
}
both!(settings_are_versioned_and_rolled_back);

async fn invalid_settings_name_every_problem(app: TestApp) {
    let r = put(
        &app,
        &json!({"doc": {"branding": {"colors": {"primary": "green"}, "logo": "ftp://x"},
                        "origins": ["https://x.com/path"], "quotas": {"tests": -1}, "theme": 1}}),
    )
    .await;
    r.assert_error(422, "validation_failed");
    let mut paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "doc.branding.colors.primary",
            "doc.branding.logo",
            "doc.origins[0]",
            "doc.quotas",
            "doc.theme"
        ],
        "{r}"
    );
    let r = put(&app, &json!({"doc": branding("#000000"), "extra": 1})).await;
    assert_eq!(r.status, 422, "{r}");
    assert_eq!(app.admin_get(SETTINGS).await.json()["version"], 0);
}
both!(invalid_settings_name_every_problem);

async fn each_tenant_has_its_own_settings(app: TestApp) {
    let acme = create_tenant(&app, "acme", "acme.test").await;
    assert!(acme["id"].is_string());
    let owner = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    // A new tenant starts at version 1, the initial document.
    let mine = with_token(&app, &owner, Method::GET, SETTINGS).await.json();
    assert_eq!(mine["version"], 1, "{mine}");
    let r = put(&app, &json!({"doc": branding("#123456")})).await;
    assert_eq!(r.status, 200, "{r}");
    let mine = with_token(&app, &owner, Method::GET, SETTINGS).await.json();
    assert_eq!(mine["version"], 1, "{mine}");
    assert_eq!(mine["doc"]["branding"], json!({}));
    let r = app
        .send(
            app.request(Method::POST, &format!("{SETTINGS}/versions/1/rollback"))
                .bearer_auth(&owner),
        )
        .await;
    assert_eq!(r.json()["doc"]["branding"], json!({}), "{r}");
}
both!(each_tenant_has_its_own_settings);

/// A CORS preflight from `origin` for a `POST` to the visitor API, sent to `host`.
async fn preflight(app: &TestApp, host: &str, origin: &str) -> Resp {
    let req = app
        .request(Method::OPTIONS, "/api/v1/public/whoami")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-faro-visitor",
        );
    super::on_host(app, host, req).await
}

async fn a_tenants_origins_may_call_its_own_host_only(app: TestApp) {
    create_tenant(&app, "cocinas", "cocinas.test").await;
    let owner = token_on(&app, "cocinas.test", "owner", OWNER_PASSWORD).await;
    const SITE: &str = "https://www.cocinas.example";
    let before = preflight(&app, "cocinas.test", SITE).await;
    assert!(
        before.header("access-control-allow-origin").is_none(),
        "{before}"
    );

    let doc = json!({"doc": {"origins": ["https://WWW.cocinas.example:443"]}});
    let r = app
        .send(
            app.request(Method::PUT, SETTINGS)
                .bearer_auth(&owner)
                .json(&doc),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");

    // Applied at once on this instance, as browsers write the origin.
    let ok = preflight(&app, "cocinas.test", SITE).await;
    assert!(ok.status < 300, "{ok}");
    assert_eq!(ok.header("access-control-allow-origin"), Some(SITE));
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    let allowed = ok
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(allowed.contains("x-faro-visitor"), "{allowed}");
    // A real call gets the header too, with what a widget may read.
    let req = app
        .request(Method::GET, "/api/v1/public/whoami")
        .header("origin", SITE);
    let r = super::on_host(&app, "cocinas.test", req).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("access-control-allow-origin"), Some(SITE));

    // Another tenant's host (here the default tenant's) does not take the brand's site.
    let other = preflight(&app, "localhost", SITE).await;
    assert!(
        other.header("access-control-allow-origin").is_none(),
        "{other}"
    );
    // Nor does the brand's host take another site.
    let evil = preflight(&app, "cocinas.test", "https://evil.example").await;
    assert!(
        evil.header("access-control-allow-origin").is_none(),
        "{evil}"
    );

    // A rollback to the version without origins takes it away again.
    let r = app
        .send(
            app.request(Method::POST, &format!("{SETTINGS}/versions/1/rollback"))
                .bearer_auth(&owner),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let gone = preflight(&app, "cocinas.test", SITE).await;
    assert!(
        gone.header("access-control-allow-origin").is_none(),
        "{gone}"
    );

    // A request with no origin is nobody's preflight: the router answers as before.
    let r = super::on_host(
        &app,
        "cocinas.test",
        app.request(Method::OPTIONS, "/api/v1/public/whoami"),
    )
    .await;
    r.assert_error(405, "method_not_allowed");
}
both!(a_tenants_origins_may_call_its_own_host_only);

async fn another_instance_applies_the_origins_within_seconds(app: TestApp) {
    create_tenant(&app, "muebles", "muebles.test").await;
    let other = app.sibling(&[]).await;
    let owner = token_on(&app, "muebles.test", "owner", OWNER_PASSWORD).await;
    const SITE: &str = "https://muebles.example";
    // The other instance has read the directory before the change.
    assert!(
        preflight(&other, "muebles.test", SITE)
            .await
            .header("access-control-allow-origin")
            .is_none()
    );
    let doc = json!({"doc": {"origins": [SITE]}});
    let r = app
        .send(
            app.request(Method::PUT, SETTINGS)
                .bearer_auth(&owner)
                .json(&doc),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let started = std::time::Instant::now();
    loop {
        let r = preflight(&other, "muebles.test", SITE).await;
        if r.header("access-control-allow-origin") == Some(SITE) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(12),
            "the other instance never allowed the origin: {r}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
both!(another_instance_applies_the_origins_within_seconds);
