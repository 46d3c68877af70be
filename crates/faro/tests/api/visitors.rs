//! Visitors: a signed id in a cookie (or a widget's header), believed only with its
//! signature and only on its own site; staff list them; registering or logging in makes the
//! visitor the account's and publishes `visitor.merged`.

use reqwest::Method;
use reqwest::header::{COOKIE, HOST};
use serde_json::{Value, json};
use sqlx::Row;

use crate::both;
use crate::common::{Resp, TestApp};
use crate::tenants::create_tenant;

const WHOAMI: &str = "/api/v1/public/whoami";

async fn whoami(
    app: &TestApp,
    cookie: Option<&str>,
    header: Option<&str>,
    host: Option<&str>,
) -> Resp {
    let mut req = app.request(Method::GET, WHOAMI);
    if let Some(c) = cookie {
        req = req.header(COOKIE, format!("faro_vid={c}"));
    }
    if let Some(h) = header {
        req = req.header("x-faro-visitor", h);
    }
    if let Some(h) = host {
        req = req.header(HOST, h);
    }
    let r = app.send(req).await;
    assert_eq!(r.status, 200, "{r}");
    r
}

fn id_and_token(r: &Resp) -> (String, String) {
    let v = r.json();
    (
        v["visitor_id"].as_str().expect("visitor_id").to_string(),
        v["token"].as_str().expect("token").to_string(),
    )
}

async fn a_visitor_keeps_its_signed_id_and_a_forged_one_gets_a_new_one(app: TestApp) {
    let first = whoami(&app, None, None, None).await;
    let (id, token) = id_and_token(&first);
    let set = first.all("set-cookie");
    assert_eq!(set.len(), 1, "{first}");
    let cookie = &set[0];
    assert!(
        cookie.starts_with(&format!("faro_vid={token};")),
        "{cookie}"
    );
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=31536000"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
    assert!(token.starts_with(&format!("{id}.")));

    // The cookie, or the same value in the widget's header: the same visitor, no new cookie.
    let again = whoami(&app, Some(&token), None, None).await;
    assert_eq!(id_and_token(&again).0, id);
    assert!(again.all("set-cookie").is_empty(), "{again}");
    let widget = whoami(&app, None, Some(&token), None).await;
    assert_eq!(id_and_token(&widget).0, id);

    // Unsigned, tampered, or someone else's id with this signature: a new visitor.
    let other_id = "0193a000-0000-7000-8000-000000000000";
    let sig = token.split_once('.').expect("signed").1;
    for forged in [
        id.clone(),
        format!("{id}.00000000000000000000000000000000"),
        format!("{other_id}.{sig}"),
        "garbage".to_string(),
    ] {
        let r = whoami(&app, Some(&forged), None, None).await;
        let (new_id, _) = id_and_token(&r);
        assert_ne!(new_id, id, "{forged}");
        assert_ne!(new_id, other_id, "{forged}");
        assert_eq!(r.all("set-cookie").len(), 1, "{r}");
    }

    // Staff see the visitors (most recent first), never their addresses.
    let list = app.admin_get("/api/v1/admin/visitors").await;
    assert_eq!(list.status, 200, "{list}");
    let items = list.json()["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 5, "{list}");
    assert!(items.iter().any(|v| v["id"] == id.as_str()));
    assert!(!list.text.contains("ip"), "{list}");
    let page = app.admin_get("/api/v1/admin/visitors?limit=2").await.json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let next = app
        .admin_get(&format!("/api/v1/admin/visitors?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(next["items"].as_array().map(Vec::len), Some(2));
    assert_ne!(next["items"][0]["id"], page["items"][0]["id"]);
    app.admin_get("/api/v1/admin/visitors?cursor=bm9wZQ")
        .await
        .assert_error(400, "invalid_cursor");
    let anonymous = app
        .send(app.request(Method::GET, "/api/v1/admin/visitors"))
        .await;
    anonymous.assert_error(401, "unauthorized");
}
both!(a_visitor_keeps_its_signed_id_and_a_forged_one_gets_a_new_one);

async fn a_visitor_id_belongs_to_its_site(app: TestApp) {
    create_tenant(&app, "acme", "acme.test").await;
    let (id, token) = id_and_token(&whoami(&app, None, None, None).await);
    let at_acme = whoami(&app, Some(&token), None, Some("acme.test")).await;
    assert_ne!(
        id_and_token(&at_acme).0,
        id,
        "a default visitor is nobody at acme"
    );
    let (acme_id, _) = id_and_token(&at_acme);
    let acme_list = sqlx::query("SELECT tenant_id FROM visitors WHERE id = $1")
        .bind(&acme_id)
        .fetch_one(app.core.db.writer())
        .await
        .expect("acme's visitor");
    let tenant: String = acme_list.try_get("tenant_id").expect("tenant");
    assert_ne!(tenant, "default");
    let default_list = app.admin_get("/api/v1/admin/visitors").await;
    assert!(!default_list.text.contains(&acme_id), "{default_list}");
}
both!(a_visitor_id_belongs_to_its_site);

async fn registering_makes_the_visitor_the_accounts(app: TestApp) {
    let (id, token) = id_and_token(&whoami(&app, None, None, None).await);
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/register")
                .header(COOKIE, format!("faro_vid={token}"))
                .json(&json!({"email": "ana@example.com", "password": "Sol-y-Sombra-2026"})),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let user = r.json()["user"]["id"].as_str().expect("id").to_string();
    let list = app.admin_get("/api/v1/admin/visitors").await.json();
    let me: &Value = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|v| v["id"] == id.as_str())
        .expect("the visitor");
    assert_eq!(me["user_id"], user.as_str());
    assert!(me["merged_at"].is_string());

    // Logging in again from the same browser changes nothing; one event was published.
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/login")
                .header("x-faro-visitor", &token)
                .json(&json!({"email": "ana@example.com", "password": "Sol-y-Sombra-2026"})),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let events = sqlx::query("SELECT subject, payload FROM events WHERE kind = 'visitor.merged'")
        .fetch_all(app.core.db.writer())
        .await
        .expect("events");
    assert_eq!(events.len(), 1);
    let payload: String = events[0].try_get("payload").expect("payload");
    let payload: Value = serde_json::from_str(&payload).expect("json");
    assert_eq!(payload, json!({"visitor_id": id, "user_id": user}));
}
both!(registering_makes_the_visitor_the_accounts);
