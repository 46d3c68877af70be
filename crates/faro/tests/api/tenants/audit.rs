//! The audit log: every tenant change is recorded with who, what, before and after; each
//! tenant's staff read only their own entries; both consoles export NDJSON.

use reqwest::Method;
use serde_json::{Value, json};

use super::{OWNER_PASSWORD, create_tenant, token_on, with_token};
use crate::both;
use crate::common::{ADMIN_USER, TestApp};

fn actions(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {v}"))
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn tenant_changes_are_audited_and_each_tenant_reads_its_own(app: TestApp) {
    let acme = create_tenant(&app, "acme", "acme.test").await;
    let acme_id = acme["id"].as_str().expect("id");
    let beta = create_tenant(&app, "beta", "beta.test").await;
    let req = app
        .admin(Method::PATCH, "/api/v1/platform/tenants/acme")
        .await
        .json(&json!({"plan": "pro"}));
    assert_eq!(app.send(req).await.status, 200);

    // The console sees every tenant's entries, newest first.
    let r = app.admin_get("/api/v1/platform/audit").await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(
        actions(&v),
        ["tenant.update", "tenant.create", "tenant.create"],
        "{v}"
    );
    let update = &v["items"][0];
    assert_eq!(update["actor"], ADMIN_USER, "{update}");
    assert_eq!(update["tenant"], acme_id);
    assert_eq!(update["target"], acme_id);
    assert_eq!(update["before"]["plan"], "free");
    assert_eq!(update["after"]["plan"], "pro");
    assert_eq!(update["ip"], "127.0.0.1", "{update}");
    assert!(update["at"].as_str().is_some_and(|t| t.ends_with('Z')));
    // Filtered to one tenant.
    let r = app
        .admin_get(&format!("/api/v1/platform/audit?tenant={acme_id}"))
        .await;
    assert_eq!(
        actions(&r.json()),
        ["tenant.update", "tenant.create"],
        "{r}"
    );

    // acme's owner reads acme's entries only.
    let token = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let r = with_token(&app, &token, Method::GET, "/api/v1/admin/audit").await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(actions(&v), ["tenant.update", "tenant.create"], "{v}");
    assert!(
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["tenant"] == acme_id),
        "{v}"
    );
    assert!(!r.text.contains(beta["id"].as_str().expect("id")));

    // Pages: one entry, then the next.
    let r = with_token(&app, &token, Method::GET, "/api/v1/admin/audit?limit=1").await;
    assert_eq!(r.status, 200, "{r}");
    let cursor = r.json()["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let r = with_token(
        &app,
        &token,
        Method::GET,
        &format!("/api/v1/admin/audit?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(actions(&r.json()), ["tenant.create"], "{r}");
    assert_eq!(r.json()["next_cursor"], json!(null), "{r}");

    // Exports: NDJSON, one entry a line.
    let r = with_token(&app, &token, Method::GET, "/api/v1/admin/audit/export").await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = r
        .text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 2, "{r}");
    assert!(lines.iter().all(|e| e["tenant"] == acme_id));
    let r = app.admin_get("/api/v1/platform/audit/export").await;
    assert_eq!(r.text.lines().count(), 3, "{r}");
    let r = with_token(&app, &token, Method::GET, "/api/v1/platform/audit/export").await;
    r.assert_error(403, "super_admin_only");
}
both!(tenant_changes_are_audited_and_each_tenant_reads_its_own);

async fn impersonation_is_short_lived_audited_and_cannot_reach_the_console(app: TestApp) {
    let acme = create_tenant(&app, "acme", "acme.test").await;
    let acme_id = acme["id"].as_str().expect("id");
    let r = app
        .admin_post("/api/v1/platform/tenants/acme/impersonate", &json!({}))
        .await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["expires_in"], 900);
    assert_eq!(v["tenant"], acme_id);
    let token = v["access_token"].as_str().expect("token").to_string();

    let me = with_token(&app, &token, Method::GET, "/api/v1/admin/me").await;
    assert_eq!(me.status, 200, "{me}");
    let me = me.json();
    assert_eq!(me["tenant"], acme_id);
    assert_eq!(me["role"], "owner");
    assert_eq!(me["super_admin"], false);
    assert!(me["impersonated_by"].is_string(), "{me}");
    let r = with_token(&app, &token, Method::GET, "/api/v1/platform/tenants").await;
    r.assert_error(403, "super_admin_only");

    let r = with_token(&app, &token, Method::GET, "/api/v1/admin/audit").await;
    let v = r.json();
    assert_eq!(actions(&v), ["tenant.impersonate", "tenant.create"], "{v}");
    assert_eq!(v["items"][0]["actor"], ADMIN_USER);

    // Tenant staff cannot impersonate anyone.
    let owner = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/platform/tenants/default/impersonate")
                .bearer_auth(&owner),
        )
        .await;
    r.assert_error(403, "super_admin_only");
    let r = app
        .admin_post("/api/v1/platform/tenants/nobody/impersonate", &json!({}))
        .await;
    r.assert_error(404, "not_found");
}
both!(impersonation_is_short_lived_audited_and_cannot_reach_the_console);
