//! A tenant's usage as the super-admin reads it: requests counted per tenant and day, people
//! who signed in, and the files it stores.

use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use super::{OWNER_PASSWORD, create_tenant, on_host, token_on, with_token};
use crate::both;
use crate::common::TestApp;
use crate::files::{PNG, form};

async fn usage(app: &TestApp, tenant: &str) -> Value {
    let r = app
        .admin_get(&format!("/api/v1/platform/tenants/{tenant}/usage"))
        .await;
    assert_eq!(r.status, 200, "{r}");
    r.json()
}

async fn usage_counts_requests_people_and_storage(app: TestApp) {
    let created = create_tenant(&app, "uso", "uso.example").await;
    let id = created["id"].as_str().expect("id").to_string();
    let before = usage(&app, "uso").await;
    assert_eq!(before["requests_today"], 0, "{before}");
    assert_eq!(before["files"], 0);
    assert_eq!(before["staff"], 1, "the owner");

    // Seven requests on the tenant's host: a sign-in, four reads, a registration, an upload.
    let owner = token_on(&app, "uso.example", "owner", OWNER_PASSWORD).await;
    for _ in 0..4 {
        let r = on_host(
            &app,
            "uso.example",
            app.request(Method::GET, "/api/v1/tests"),
        )
        .await;
        assert_eq!(r.status, 200, "{r}");
    }
    let r = on_host(
        &app,
        "uso.example",
        app.request(Method::POST, "/api/v1/auth/register")
            .json(&json!({"email": "ana@uso.example", "password": OWNER_PASSWORD})),
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    let (ct, body) = form("file", "logo.png", "image/png", PNG);
    let r = on_host(
        &app,
        "uso.example",
        app.request(Method::POST, "/api/v1/admin/files")
            .bearer_auth(&owner)
            .header(CONTENT_TYPE, ct)
            .body(body),
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    // Requests that resolve no tenant (health) or another one (the console's own) do not count.
    app.send(app.request(Method::GET, "/api/v1/health")).await;
    // Earlier days: three days ago counts in the week, eight days ago does not.
    let day = |days: i64| faro_store::day_of(faro_store::unix_now() - days * 86_400);
    for (days, n) in [(3, 10), (8, 1000)] {
        sqlx::query(
            "INSERT INTO stats_daily (tenant_id, scope, day, metric, key, value) \
             VALUES ($1, 'platform', $2, 'requests', '', $3)",
        )
        .bind(&id)
        .bind(day(days))
        .bind(n)
        .execute(app.core.db.writer())
        .await
        .expect("an earlier day's count");
    }
    app.flush().await;

    let u = usage(&app, "uso").await;
    assert_eq!(u["requests_today"], 7, "{u}");
    assert_eq!(u["requests_7d"], 17, "{u}");
    assert_eq!(u["end_users"], 1);
    assert_eq!(u["active_users_30d"], 1, "registering signs in");
    assert_eq!(u["files"], 1);
    assert_eq!(u["storage_bytes"], PNG.len());
    assert_eq!(u["staff"], 1);
    assert_eq!(u["errors_24h"], 0);
    // The same figures by id, and none of them in the default tenant's.
    assert_eq!(usage(&app, &id).await, u);
    let home = usage(&app, "default").await;
    assert_eq!(home["files"], 0, "{home}");
    assert_eq!(home["end_users"], 0, "{home}");

    // Only the super-admin reads it.
    with_token(
        &app,
        &owner,
        Method::GET,
        "/api/v1/platform/tenants/uso/usage",
    )
    .await
    .assert_error(403, "super_admin_only");
    app.admin_get("/api/v1/platform/tenants/nadie/usage")
        .await
        .assert_error(404, "not_found");
}
both!(
    usage_counts_requests_people_and_storage,
    "FILES_DIR" => &faro_files::testing::temp_dir("usage").display().to_string()
);
