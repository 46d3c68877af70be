//! A tenant's life: created with its owner, listed, edited, paused and resumed, refused when
//! invalid; and what its staff and visitors see at each step.

use reqwest::Method;
use serde_json::json;

use super::{OWNER_PASSWORD, create_tenant, login_on, on_host, token_on, with_token};
use crate::both;
use crate::common::TestApp;

async fn the_super_admin_creates_lists_and_edits_tenants(app: TestApp) {
    let t = create_tenant(&app, "cocinas-lopez", "Cocinas.Example.").await;
    let id = t["id"].as_str().expect("id").to_string();
    assert_ne!(id, "cocinas-lopez", "ids are opaque, not the slug");
    assert_eq!(t["slug"], "cocinas-lopez");
    assert_eq!(
        t["hosts"],
        json!(["cocinas.example"]),
        "hosts are normalised"
    );
    assert_eq!(t["language"], "ca");
    assert_eq!(t["time_zone"], "Europe/Madrid");
    assert_eq!(t["status"], "active");
    assert_eq!(t["plan"], "free");
    assert_eq!(t["modules"], json!(null));

    let r = app.admin_get("/api/v1/platform/tenants").await;
    assert_eq!(r.status, 200, "{r}");
    let slugs: Vec<String> = r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["slug"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(slugs, ["cocinas-lopez", "default"]);

    // By id or by slug.
    for key in [id.as_str(), "cocinas-lopez"] {
        let r = app
            .admin_get(&format!("/api/v1/platform/tenants/{key}"))
            .await;
        assert_eq!(r.status, 200, "{r}");
        assert_eq!(r.json()["id"], id.as_str());
    }
    let r = app.admin_get("/api/v1/platform/tenants/nobody").await;
    r.assert_error(404, "not_found");

    let req = app
        .admin(Method::PATCH, "/api/v1/platform/tenants/cocinas-lopez")
        .await
        .json(&json!({"name": "Cocinas López", "hosts": ["cocinaslopez.es", "www.cocinaslopez.es"], "plan": "pro"}));
    let r = app.send(req).await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["name"], "Cocinas López");
    assert_eq!(v["plan"], "pro");
    assert_eq!(
        v["hosts"],
        json!(["cocinaslopez.es", "www.cocinaslopez.es"])
    );
    assert_eq!(v["language"], "ca", "fields left out stay as they were");

    // Pages of one.
    let r = app.admin_get("/api/v1/platform/tenants?limit=1").await;
    let first = r.json();
    assert_eq!(first["items"].as_array().map(Vec::len), Some(1));
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let r = app
        .admin_get(&format!("/api/v1/platform/tenants?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(r.json()["items"][0]["slug"], "default");
    assert_eq!(r.json()["next_cursor"], json!(null));
}
both!(the_super_admin_creates_lists_and_edits_tenants);

async fn the_owner_signs_in_on_the_tenants_host_and_stays_in_it(app: TestApp) {
    let t = create_tenant(&app, "acme", "acme.test").await;
    let id = t["id"].as_str().expect("id");
    let token = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let me = with_token(&app, &token, Method::GET, "/api/v1/admin/me").await;
    assert_eq!(me.status, 200, "{me}");
    assert_eq!(me.json()["tenant"], id);
    assert_eq!(me.json()["role"], "owner");
    assert_eq!(me.json()["super_admin"], false);

    // The same credentials on another host name are another tenant's: unknown there.
    let r = login_on(&app, "elsewhere.test", "owner", OWNER_PASSWORD).await;
    r.assert_error(401, "invalid_credentials");

    // A tenant's owner never reaches the console.
    for (method, path) in [
        (Method::GET, "/api/v1/platform/tenants"),
        (Method::POST, "/api/v1/platform/tenants"),
        (Method::GET, "/api/v1/platform/audit"),
        (Method::PATCH, "/api/v1/platform/tenants/acme"),
    ] {
        let r = with_token(&app, &token, method.clone(), path).await;
        r.assert_error(403, "super_admin_only");
    }
    // Nor does anyone without credentials.
    let r = app.get("/api/v1/platform/tenants").await;
    r.assert_error(401, "unauthorized");

    // The super-admin is also the default tenant's owner.
    let me = app.admin_get("/api/v1/admin/me").await;
    assert_eq!(me.json()["role"], "owner");
    assert_eq!(me.json()["super_admin"], true);
}
both!(the_owner_signs_in_on_the_tenants_host_and_stays_in_it);

async fn invalid_tenants_are_refused_with_every_problem(app: TestApp) {
    let r = app
        .admin_post(
            "/api/v1/platform/tenants",
            &json!({
                "slug": "Bad Slug",
                "name": " ",
                "hosts": ["ok.test", "https://x.test/", "OK.test"],
                "language": "fr",
                "time_zone": "Europe/Atlantis",
                "plan": "Gold",
                "modules": ["quiz", "nothing"],
                "owner": {"username": "a b", "password": "password1"},
            }),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "slug",
            "name",
            "hosts[1]",
            "hosts[2]",
            "language",
            "time_zone",
            "plan",
            "modules[1]",
            "owner.username",
            "owner.password"
        ]
    );

    let r = app
        .admin_post(
            "/api/v1/platform/tenants",
            &json!({"slug": "acme", "name": "Acme", "colour": "red"}),
        )
        .await;
    assert_eq!(r.status, 422, "unknown fields are refused: {r}");

    create_tenant(&app, "acme", "acme.test").await;
    let r = app
        .admin_post(
            "/api/v1/platform/tenants",
            &json!({"slug": "acme", "name": "Acme again"}),
        )
        .await;
    r.assert_error(409, "slug_taken");
    let r = app
        .admin_post(
            "/api/v1/platform/tenants",
            &json!({"slug": "acme-2", "name": "Acme 2", "hosts": ["ACME.test"]}),
        )
        .await;
    r.assert_error(409, "host_taken");
    // Nothing of the refused tenant was kept.
    let r = app.admin_get("/api/v1/platform/tenants/acme-2").await;
    assert_eq!(r.status, 404, "{r}");

    let req = app
        .admin(Method::PATCH, "/api/v1/platform/tenants/default")
        .await
        .json(&json!({"status": "paused"}));
    app.send(req).await.assert_error(409, "default_tenant");
}
both!(invalid_tenants_are_refused_with_every_problem);

async fn a_paused_tenant_serves_nothing_until_resumed(app: TestApp) {
    create_tenant(&app, "acme", "acme.test").await;
    let token = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let public = |app: &TestApp| app.request(Method::GET, "/api/v1/tests");
    assert_eq!(on_host(&app, "acme.test", public(&app)).await.status, 200);

    let set = |status: &'static str| {
        let app = &app;
        async move {
            let req = app
                .admin(Method::PATCH, "/api/v1/platform/tenants/acme")
                .await
                .json(&json!({"status": status}));
            let r = app.send(req).await;
            assert_eq!(r.status, 200, "{r}");
            assert_eq!(r.json()["status"], status);
        }
    };
    set("paused").await;
    on_host(&app, "acme.test", public(&app))
        .await
        .assert_error(503, "tenant_paused");
    with_token(&app, &token, Method::GET, "/api/v1/admin/me")
        .await
        .assert_error(403, "tenant_paused");
    login_on(&app, "acme.test", "owner", OWNER_PASSWORD)
        .await
        .assert_error(403, "tenant_paused");
    // A wrong password still reads as a wrong password.
    login_on(&app, "acme.test", "owner", "Wrong-Password-1")
        .await
        .assert_error(401, "invalid_credentials");
    // Other tenants are untouched.
    assert_eq!(app.get("/api/v1/tests").await.status, 200);

    set("active").await;
    assert_eq!(on_host(&app, "acme.test", public(&app)).await.status, 200);
    let me = with_token(&app, &token, Method::GET, "/api/v1/admin/me").await;
    assert_eq!(me.status, 200, "{me}");
}
both!(a_paused_tenant_serves_nothing_until_resumed);

async fn maintenance_turns_visitors_away_but_not_staff(app: TestApp) {
    create_tenant(&app, "acme", "acme.test").await;
    let token = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let req = app
        .admin(Method::PATCH, "/api/v1/platform/tenants/acme")
        .await
        .json(&json!({"maintenance": true}));
    assert_eq!(app.send(req).await.status, 200);
    let r = on_host(&app, "acme.test", app.request(Method::GET, "/api/v1/tests")).await;
    r.assert_error(503, "maintenance");
    assert_eq!(r.header("retry-after"), Some("300"));
    let me = with_token(&app, &token, Method::GET, "/api/v1/admin/me").await;
    assert_eq!(me.status, 200, "{me}");
    assert_eq!(
        login_on(&app, "acme.test", "owner", OWNER_PASSWORD)
            .await
            .status,
        200
    );
}
both!(maintenance_turns_visitors_away_but_not_staff);

async fn a_module_switched_off_for_a_tenant_is_gone_for_it_alone(app: TestApp) {
    create_tenant(&app, "acme", "acme.test").await;
    let token = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let set = |modules: serde_json::Value| {
        let app = &app;
        async move {
            let req = app
                .admin(Method::PATCH, "/api/v1/platform/tenants/acme")
                .await
                .json(&json!({ "modules": modules }));
            let r = app.send(req).await;
            assert_eq!(r.status, 200, "{r}");
            r.json()
        }
    };
    let v = set(json!([])).await;
    assert_eq!(v["modules"], json!([]));
    // The quiz is off for acme: its visitor API, pages and staff API answer 404.
    for path in ["/api/v1/tests", "/t/que-tipo-de-ahorrista-sos"] {
        let r = on_host(&app, "acme.test", app.request(Method::GET, path)).await;
        assert_eq!(r.status, 404, "{path}: {r}");
    }
    let r = with_token(&app, &token, Method::GET, "/api/v1/admin/tests").await;
    assert_eq!(r.status, 404, "{r}");
    // The platform's services still answer.
    let r = with_token(&app, &token, Method::GET, "/api/v1/admin/webhooks").await;
    assert_eq!(r.status, 200, "{r}");
    let r = with_token(&app, &token, Method::GET, "/api/v1/admin/me").await;
    assert_eq!(r.status, 200, "{r}");
    // Every other tenant keeps the quiz.
    assert_eq!(app.get("/api/v1/tests").await.status, 200);
    assert_eq!(app.admin_get("/api/v1/admin/tests").await.status, 200);

    // `null` switches every installed module on again.
    let v = set(json!(null)).await;
    assert_eq!(v["modules"], json!(null));
    let r = on_host(&app, "acme.test", app.request(Method::GET, "/api/v1/tests")).await;
    assert_eq!(r.status, 200, "{r}");
}
both!(a_module_switched_off_for_a_tenant_is_gone_for_it_alone);
