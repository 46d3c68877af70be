//! Promotions over HTTP on both databases: staff's promotions (every problem with its path),
//! coupons (hand-written, generated batches unique across batches, the list with uses), the
//! promotions running now, eligibility with its reasons (first purchase after a purchase),
//! and `promotion.started` / `promotion.ended` published once per boundary.

mod coupons;
mod eligibility;
mod windows;

use serde_json::{Value, json};

use crate::both;
use crate::common::{Resp, TestApp};

/// A valid promotion document with this id and window.
pub fn promotion(id: &str, starts_at: i64, ends_at: Option<i64>) -> Value {
    let mut window = json!({"starts_at": starts_at});
    if let Some(end) = ends_at {
        window["ends_at"] = json!(end);
    }
    json!({
        "id": id,
        "name": format!("Promotion {id}"),
        "scope": {"type": "categories", "categories": ["summer"]},
        "conditions": {"min_ticket": 2000},
        "reward": {"type": "percent_off", "bps": 1500, "max_discount": 1000},
        "window": window,
        "budget": {"max_uses": 100, "max_uses_per_user": 2},
        "stackable": true,
        "priority": 3
    })
}

pub async fn create(app: &TestApp, doc: &Value) -> Resp {
    app.admin_post("/api/v1/admin/promotions", doc).await
}

pub fn now() -> i64 {
    faro_store::unix_now()
}

async fn demo_promotions_run_and_show_only_public_fields(app: TestApp) {
    let r = app.get("/api/v1/promotions/active").await;
    assert_eq!(r.status, 200, "{r}");
    let items = r.json()["items"].as_array().expect("items").clone();
    let ids: Vec<&str> = items.iter().filter_map(|p| p["id"].as_str()).collect();
    // The summer 2x1 ran from June to September 2026.
    assert_eq!(ids, ["bonus-200", "gold-5", "welcome"]);
    let bonus = &items[0];
    assert_eq!(
        bonus["reward"],
        json!({"type": "bonus_credits", "credits": 200})
    );
    assert_eq!(bonus["min_ticket"], 3000);
    assert_eq!(bonus["stackable"], true);
    assert!(bonus.get("budget").is_none(), "{bonus}");
    assert!(bonus.get("uses").is_none(), "{bonus}");
    assert_eq!(items[2]["requires_coupon"], true);
    assert_eq!(items[2]["first_purchase"], true);

    let staff = app.admin_get("/api/v1/admin/promotions").await;
    assert_eq!(staff.status, 200, "{staff}");
    let staff = staff.json();
    let summer = staff["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["promotion"]["id"] == "summer-2x1")
        .expect("the summer promotion")
        .clone();
    assert_eq!(summer["status"], "ended");
    assert_eq!(summer["uses"], 0);
    let coupons = app
        .admin_get("/api/v1/admin/promotions/welcome/coupons")
        .await;
    assert_eq!(coupons.status, 200, "{coupons}");
    let coupons = coupons.json();
    assert_eq!(coupons["items"][0]["code"], "WELCOME10");
    assert_eq!(coupons["items"][0]["uses"], 0);
    assert_eq!(
        coupons["items"][0]["kind"],
        json!({"type": "multi_use", "max_uses_per_user": 1})
    );
}
both!(demo_promotions_run_and_show_only_public_fields);

async fn staff_create_read_replace_and_delete_promotions(app: TestApp) {
    let start = now() - 60;
    let r = create(&app, &promotion("spring", start, None)).await;
    assert_eq!(r.status, 201, "{r}");
    let body = r.json();
    assert_eq!(body["promotion"]["id"], "spring");
    assert_eq!(body["promotion"]["reward"]["bps"], 1500);
    assert_eq!(body["status"], "active");
    assert_eq!(
        (body["uses"].clone(), body["spent"].clone()),
        (json!(0), json!(0))
    );
    create(&app, &promotion("spring", start, None))
        .await
        .assert_error(409, "promotion_exists");
    let later = create(&app, &promotion("later", now() + 3600, None)).await;
    assert_eq!(later.json()["status"], "scheduled", "{later}");
    let ended = create(&app, &promotion("old", start - 100, Some(start))).await;
    assert_eq!(ended.json()["status"], "ended", "{ended}");

    let got = app.admin_get("/api/v1/admin/promotions/spring").await;
    assert_eq!(got.status, 200, "{got}");
    assert_eq!(got.json()["promotion"], body["promotion"]);
    // Pages by id: bonus-200, gold-5, later, old, spring, summer-2x1, welcome.
    let page = app
        .admin_get("/api/v1/admin/promotions?limit=3")
        .await
        .json();
    let ids: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["promotion"]["id"].as_str())
        .collect();
    assert_eq!(ids, ["bonus-200", "gold-5", "later"]);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let next = app
        .admin_get(&format!("/api/v1/admin/promotions?limit=3&cursor={cursor}"))
        .await
        .json();
    assert_eq!(next["items"][0]["promotion"]["id"], "old");

    let mut changed = promotion("spring", start, None);
    changed["name"] = json!("Spring, renamed");
    changed["reward"] = json!({"type": "amount_off", "amount": 500});
    let put = app
        .admin_put("/api/v1/admin/promotions/spring", &changed)
        .await;
    assert_eq!(put.status, 200, "{put}");
    assert_eq!(put.json()["promotion"]["name"], "Spring, renamed");
    assert_eq!(
        app.admin_get("/api/v1/admin/promotions/spring")
            .await
            .json()["promotion"]["reward"],
        json!({"type": "amount_off", "amount": 500})
    );
    let moved = app
        .admin_put("/api/v1/admin/promotions/later", &changed)
        .await;
    moved.assert_error(422, "validation_failed");
    assert_eq!(moved.problems()[0].0, "id");
    app.admin_put(
        "/api/v1/admin/promotions/nope",
        &promotion("nope", start, None),
    )
    .await
    .assert_error(404, "not_found");
    let audited = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'promotions.%'")
        .await;
    assert_eq!(audited, 4);

    let r = app.admin_delete("/api/v1/admin/promotions/spring").await;
    assert_eq!(r.status, 204, "{r}");
    app.admin_get("/api/v1/admin/promotions/spring")
        .await
        .assert_error(404, "not_found");
    app.admin_delete("/api/v1/admin/promotions/spring")
        .await
        .assert_error(404, "not_found");
    // Staff only.
    assert_eq!(app.get("/api/v1/admin/promotions").await.status, 401);
    let anon = app
        .post_json("/api/v1/admin/promotions", &promotion("x", start, None))
        .await;
    assert_eq!(anon.status, 401, "{anon}");
}
both!(staff_create_read_replace_and_delete_promotions);

async fn every_problem_of_a_promotion_is_named_by_its_path(app: TestApp) {
    let bad = json!({
        "id": "bad id",
        "name": " ",
        "scope": {"type": "categories", "categories": []},
        "conditions": {"segments": [""], "min_tier": "Platinum", "min_ticket": 0,
            "attributes": [{"prop": "customer.age", "op": "gte", "value": "x"}]},
        "reward": {"type": "percent_off", "bps": 10001, "max_discount": 0},
        "window": {"starts_at": 100, "ends_at": 100},
        "budget": {"max_uses": 0, "max_spend": 0}
    });
    let r = create(&app, &bad).await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "id",
            "name",
            "scope.categories",
            "conditions.segments[0]",
            "conditions.min_tier",
            "conditions.min_ticket",
            "conditions.attributes[0].value",
            "reward.bps",
            "reward.max_discount",
            "window.ends_at",
            "budget.max_uses",
            "budget.max_spend",
        ]
    );
    // The same checks on a replacement.
    let mut put = bad.clone();
    put["id"] = json!("welcome");
    let r = app
        .admin_put("/api/v1/admin/promotions/welcome", &put)
        .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.problems().len(), 11, "{r}");
    // A body of the wrong shape, and one that is not JSON.
    let mut unknown = promotion("x", 100, None);
    unknown["colour"] = json!("red");
    create(&app, &unknown)
        .await
        .assert_error(422, "invalid_body");
    let mut no_reward = promotion("x", 100, None);
    no_reward.as_object_mut().expect("object").remove("reward");
    create(&app, &no_reward)
        .await
        .assert_error(422, "invalid_body");
    app.admin_post_raw(
        "/api/v1/admin/promotions",
        "{\"id\":",
        Some("application/json"),
    )
    .await
    .assert_error(400, "malformed_json");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM promotions_promotions")
            .await,
        4,
        "nothing written"
    );
}
both!(every_problem_of_a_promotion_is_named_by_its_path);

async fn api_keys_reach_promotions_within_their_scopes(app: TestApp) {
    let key = |scope: &'static str| {
        let app = &app;
        async move {
            let r = app
                .admin_post(
                    "/api/v1/admin/api-keys",
                    &json!({"name": "shop sync", "scopes": [scope]}),
                )
                .await;
            assert_eq!(r.status, 201, "{r}");
            r.json()["key"].as_str().expect("key").to_owned()
        }
    };
    let read = key("promotions:read").await;
    let write = key("promotions:write").await;
    let list = app
        .send(
            app.request(reqwest::Method::GET, "/api/v1/admin/promotions")
                .bearer_auth(&read),
        )
        .await;
    assert_eq!(list.status, 200, "{list}");
    let doc = promotion("from-a-key", now(), None);
    let refused = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/admin/promotions")
                .bearer_auth(&read)
                .json(&doc),
        )
        .await;
    assert_eq!(refused.status, 403, "{refused}");
    let made = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/admin/promotions")
                .bearer_auth(&write)
                .json(&doc),
        )
        .await;
    assert_eq!(made.status, 201, "{made}");
}
both!(api_keys_reach_promotions_within_their_scopes);
