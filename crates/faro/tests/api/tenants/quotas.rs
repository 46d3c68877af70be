//! Plans and their quotas: the super-admin defines plans, a tenant's creates past its plan's
//! quota answer 429 `quota_exceeded` with the reason, and concurrent creates from three
//! instances never overshoot.

use reqwest::Method;
use serde_json::{Value, json};

use super::{OWNER_PASSWORD, create_tenant, token_on, with_token};
use crate::both;
use crate::common::{TestApp, doc};

const PLANS: &str = "/api/v1/platform/plans";

async fn put_plan(app: &TestApp, name: &str, quotas: Value) {
    let r = app
        .admin(Method::PUT, &format!("{PLANS}/{name}"))
        .await
        .json(&json!({ "quotas": quotas }));
    let r = app.send(r).await;
    assert_eq!(r.status, 200, "{r}");
}

async fn move_tenant(app: &TestApp, tenant: &str, plan: &str) {
    let req = app
        .admin(Method::PATCH, &format!("/api/v1/platform/tenants/{tenant}"))
        .await
        .json(&json!({ "plan": plan }));
    let r = app.send(req).await;
    assert_eq!(r.status, 200, "{r}");
}

async fn plans_are_the_super_admins(app: TestApp) {
    let empty = app.admin_get(PLANS).await;
    assert_eq!(empty.status, 200, "{empty}");
    assert_eq!(empty.json()["items"], json!([]));

    let bad = app
        .send(
            app.admin(Method::PUT, &format!("{PLANS}/Pro Plan"))
                .await
                .json(&json!({"quotas": {"tests": -1, "seats": 3}})),
        )
        .await;
    bad.assert_error(422, "validation_failed");
    let mut paths: Vec<String> = bad.problems().into_iter().map(|(p, _)| p).collect();
    paths.sort();
    assert_eq!(paths, ["name", "quotas.seats", "quotas.tests"], "{bad}");

    put_plan(&app, "pro", json!({"tests": 50, "staff": 10})).await;
    put_plan(&app, "pro", json!({"staff": 10, "tests": 60})).await;
    let list = app.admin_get(PLANS).await.json();
    assert_eq!(list["items"][0]["name"], "pro");
    assert_eq!(
        list["items"][0]["quotas"],
        json!({"staff": 10, "tests": 60})
    );
    assert_eq!(list["items"][0]["tenants"], 0);

    // A plan in use cannot be deleted: its tenants would silently lose their limits.
    create_tenant(&app, "acme", "acme.test").await;
    move_tenant(&app, "acme", "pro").await;
    let r = app
        .send(app.admin(Method::DELETE, &format!("{PLANS}/pro")).await)
        .await;
    r.assert_error(409, "plan_in_use");
    move_tenant(&app, "acme", "free").await;
    let r = app
        .send(app.admin(Method::DELETE, &format!("{PLANS}/pro")).await)
        .await;
    assert_eq!(r.status, 204, "{r}");
    let r = app
        .send(app.admin(Method::DELETE, &format!("{PLANS}/pro")).await)
        .await;
    r.assert_error(404, "not_found");

    // A tenant's owner reaches none of it.
    let owner = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let r = with_token(&app, &owner, Method::GET, PLANS).await;
    assert_eq!(r.status, 403, "{r}");
    let audit = app
        .admin_get("/api/v1/platform/audit?limit=200")
        .await
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("plan."))
        .collect();
    assert_eq!(actions, ["plan.delete", "plan.put", "plan.put"], "{audit}");
}
both!(plans_are_the_super_admins);

async fn creates_past_a_quota_answer_429_with_the_reason(app: TestApp) {
    create_tenant(&app, "acme", "acme.test").await;
    put_plan(
        &app,
        "small",
        json!({"tests": 1, "staff": 2, "api_keys": 1, "end_users": 1, "webhooks": 1}),
    )
    .await;
    move_tenant(&app, "acme", "small").await;
    let owner = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let post = |path: &'static str, body: Value| {
        let req = app
            .request(Method::POST, path)
            .bearer_auth(&owner)
            .json(&body);
        app.send(req)
    };

    // Tests: one fits, the second is refused with what, how many and which plan.
    assert_eq!(post("/api/v1/admin/tests", doc("first")).await.status, 201);
    let r = post("/api/v1/admin/tests", doc("second")).await;
    r.assert_error(429, "quota_exceeded");
    let body = r.json();
    assert_eq!(
        body["error"]["details"],
        json!({"quota": "tests", "plan": "small", "limit": 1, "used": 1})
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("the plan \"small\" allows 1 tests"),
        "{r}"
    );
    // Another tenant (the default one, on no plan with quotas) is not limited by it.
    assert_eq!(
        app.admin_post("/api/v1/admin/tests", &doc("elsewhere"))
            .await
            .status,
        201
    );

    // Staff: the owner is one seat; a second fits, a third does not; disabling frees a seat,
    // and enabling takes one.
    let staff = json!({"username": "alba", "password": OWNER_PASSWORD, "role": "agent"});
    let alba = post("/api/v1/admin/staff", staff).await;
    assert_eq!(alba.status, 201, "{alba}");
    let alba_id = alba.json()["id"].as_str().expect("id").to_string();
    let more = json!({"username": "bruno", "password": OWNER_PASSWORD, "role": "agent"});
    post("/api/v1/admin/staff", more.clone())
        .await
        .assert_error(429, "quota_exceeded");
    let patch = |disabled: bool| {
        let req = app
            .request(Method::PATCH, &format!("/api/v1/admin/staff/{alba_id}"))
            .bearer_auth(&owner)
            .json(&json!({ "disabled": disabled }));
        app.send(req)
    };
    assert_eq!(patch(true).await.status, 200);
    assert_eq!(post("/api/v1/admin/staff", more).await.status, 201);
    patch(false).await.assert_error(429, "quota_exceeded");

    // API keys: revoking frees the one allowed.
    let key = json!({"name": "CRM", "scopes": ["quiz:read"]});
    let first = post("/api/v1/admin/api-keys", key.clone()).await;
    assert_eq!(first.status, 201, "{first}");
    post("/api/v1/admin/api-keys", key.clone())
        .await
        .assert_error(429, "quota_exceeded");
    let id = first.json()["id"].as_str().expect("id").to_string();
    let revoke = app
        .request(Method::DELETE, &format!("/api/v1/admin/api-keys/{id}"))
        .bearer_auth(&owner);
    assert!(app.send(revoke).await.status < 300);
    assert_eq!(post("/api/v1/admin/api-keys", key).await.status, 201);

    // End users register on the tenant's host until the plan's number.
    let register = |email: &str| {
        let req = app
            .request(Method::POST, "/api/v1/auth/register")
            .header(reqwest::header::HOST, "acme.test")
            .json(&json!({"email": email, "password": OWNER_PASSWORD}));
        app.send(req)
    };
    assert_eq!(register("ana@example.com").await.status, 201);
    register("ben@example.com")
        .await
        .assert_error(429, "quota_exceeded");

    // Webhook endpoints: one, then the plan's reason (the installation's cap of 50 is a 409).
    let hook =
        |n: u32| json!({"url": format!("https://crm.example/hook/{n}"), "event_kinds": ["quiz.*"]});
    let r = post("/api/v1/admin/webhooks", hook(1)).await;
    assert_eq!(r.status, 201, "{r}");
    let r = post("/api/v1/admin/webhooks", hook(2)).await;
    r.assert_error(429, "quota_exceeded");
    assert_eq!(r.json()["error"]["details"]["quota"], "webhooks", "{r}");

    // Raising the plan lets the next create through at once.
    put_plan(&app, "small", json!({"tests": 2})).await;
    assert_eq!(post("/api/v1/admin/tests", doc("second")).await.status, 201);
}
both!(creates_past_a_quota_answer_429_with_the_reason);

/// Three instances on one database create tests at once against a quota of 5: exactly 5.
async fn concurrent_creates_on_three_instances_never_overshoot(app: TestApp) {
    put_plan(&app, "free", json!({"tests": 0})).await;
    let before = app.scalar("SELECT COUNT(*) FROM quiz_tests").await;
    put_plan(&app, "free", json!({ "tests": before + 5 })).await;
    let b = app.sibling(&[]).await;
    let c = app.sibling(&[]).await;
    let apps = [&app, &b, &c];
    let mut tokens = Vec::new();
    for a in apps {
        tokens.push(a.login().await);
    }
    let mut tasks = Vec::new();
    for i in 0..24 {
        let a = apps[i % 3];
        let req = a
            .request(Method::POST, "/api/v1/admin/tests")
            .bearer_auth(&tokens[i % 3])
            .json(&doc(&format!("race-{i}")));
        tasks.push(a.send(req));
    }
    let results = futures_util::future::join_all(tasks).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let refused = results
        .iter()
        .filter(|r| r.status == 429 && r.text.contains("quota_exceeded"))
        .count();
    assert_eq!(
        (created, refused),
        (5, 19),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM quiz_tests").await,
        before + 5
    );
}
both!(concurrent_creates_on_three_instances_never_overshoot);
