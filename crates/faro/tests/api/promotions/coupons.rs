//! Coupons: a hand-written code, every bad input with its code, generated batches with a
//! check character and unique in the site across batches, the list with use counts.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::{create, now, promotion};
use crate::both;
use crate::common::{Resp, TestApp};

async fn coupon(app: &TestApp, promotion: &str, body: &Value) -> Resp {
    app.admin_post(
        &format!("/api/v1/admin/promotions/{promotion}/coupons"),
        body,
    )
    .await
}

async fn batch(app: &TestApp, promotion: &str, body: &Value) -> Resp {
    app.admin_post(
        &format!("/api/v1/admin/promotions/{promotion}/coupons/batch"),
        body,
    )
    .await
}

fn codes(r: &Resp) -> Vec<String> {
    r.json()["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect()
}

async fn hand_written_coupons_and_their_refusals(app: TestApp) {
    assert_eq!(
        create(&app, &promotion("spring", now(), None)).await.status,
        201
    );
    let r = coupon(
        &app,
        "spring",
        &json!({"code": " spring-26 ", "kind": {"type": "multi_use", "max_uses": 10},
                "expires_at": now() + 86_400}),
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    let body = r.json();
    assert_eq!(body["code"], "SPRING26");
    assert_eq!(body["promotion_id"], "spring");
    assert_eq!(body["kind"], json!({"type": "multi_use", "max_uses": 10}));
    assert_eq!(body["uses"], 0);
    assert!(body["batch_id"].is_null());

    let single = json!({"type": "single_use"});
    coupon(&app, "spring", &json!({"code": "SPRING26", "kind": single}))
        .await
        .assert_error(409, "coupon_code_taken");
    // Unique in the site, whichever promotion holds it.
    coupon(
        &app,
        "spring",
        &json!({"code": "welcome10", "kind": single}),
    )
    .await
    .assert_error(409, "coupon_code_taken");
    coupon(&app, "nope", &json!({"code": "ANYCODE", "kind": single}))
        .await
        .assert_error(404, "not_found");
    let r = coupon(
        &app,
        "spring",
        &json!({"code": "a!", "kind": {"type": "multi_use", "max_uses": 0,
                "max_uses_per_user": 0}, "expires_at": now() - 1}),
    )
    .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "code",
            "kind.max_uses",
            "kind.max_uses_per_user",
            "expires_at"
        ]
    );
    let r = coupon(
        &app,
        "spring",
        &json!({"code": "SORRYANA", "kind": {"type": "per_user", "user_id": " ", "max_uses": 0}}),
    )
    .await;
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["kind.user_id", "kind.max_uses"]);
    // The shape of a generated code (FARO and 9 characters) with a wrong check character.
    let r = coupon(
        &app,
        "spring",
        &json!({"code": "FARO23456789A", "kind": single}),
    )
    .await;
    let r2 = coupon(
        &app,
        "spring",
        &json!({"code": "FARO23456789B", "kind": single}),
    )
    .await;
    assert!(
        [r.status, r2.status].contains(&422),
        "one of two neighbours has a wrong check character: {r} {r2}"
    );
    coupon(
        &app,
        "spring",
        &json!({"code": "OK", "kind": {"type": "weekly"}}),
    )
    .await
    .assert_error(422, "invalid_body");
    coupon(
        &app,
        "spring",
        &json!({"code": "OKCODE", "kind": single, "colour": 1}),
    )
    .await
    .assert_error(422, "invalid_body");
}
both!(hand_written_coupons_and_their_refusals);

async fn batches_are_unique_across_batches_and_listed_with_uses(app: TestApp) {
    assert_eq!(
        create(&app, &promotion("summer", now(), None)).await.status,
        201
    );
    let kind = json!({"type": "single_use"});
    let first = batch(
        &app,
        "summer",
        &json!({"count": 300, "prefix": "sum", "kind": kind}),
    )
    .await;
    assert_eq!(first.status, 201, "{first}");
    assert_eq!(first.json()["count"], 300);
    let first_codes = codes(&first);
    assert!(
        first_codes
            .iter()
            .all(|c| c.starts_with("SUM") && c.len() == 3 + 9)
    );
    let second = batch(
        &app,
        "summer",
        &json!({"count": 300, "prefix": "SUM", "kind": kind, "expires_at": now() + 3600}),
    )
    .await;
    assert_eq!(second.status, 201, "{second}");
    let mut all: HashSet<String> = first_codes.iter().cloned().collect();
    all.extend(codes(&second));
    assert_eq!(all.len(), 600, "no code repeats across batches");
    let plain = batch(&app, "summer", &json!({"count": 5, "kind": kind})).await;
    assert!(
        codes(&plain)
            .iter()
            .all(|c| c.starts_with("FARO") && c.len() == 13),
        "{plain}"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(DISTINCT code) FROM promotions_coupons")
            .await,
        app.scalar("SELECT COUNT(*) FROM promotions_coupons").await
    );
    // Refusals, each with its path.
    for (body, path) in [
        (json!({"count": 0, "kind": kind}), "count"),
        (json!({"count": 100_001, "kind": kind}), "count"),
        (
            json!({"count": 5, "prefix": "TOOLONGPREFIX1", "kind": kind}),
            "prefix",
        ),
        (json!({"count": 5, "prefix": "ñ", "kind": kind}), "prefix"),
        (
            json!({"count": 5, "kind": {"type": "multi_use", "max_uses": 0}}),
            "kind.max_uses",
        ),
        (
            json!({"count": 5, "kind": kind, "expires_at": 5}),
            "expires_at",
        ),
    ] {
        let r = batch(&app, "summer", &body).await;
        r.assert_error(422, "validation_failed");
        assert_eq!(r.problems()[0].0, path, "{body}: {r}");
    }
    batch(&app, "nope", &json!({"count": 5, "kind": kind}))
        .await
        .assert_error(404, "not_found");
    batch(&app, "summer", &json!({"count": "many", "kind": kind}))
        .await
        .assert_error(422, "invalid_body");

    // The list pages by code, with use counts.
    app.exec(
        "UPDATE promotions_coupons SET uses = 1 WHERE code = $1",
        &first_codes[0],
    )
    .await;
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = app
            .admin_get(&format!(
                "/api/v1/admin/promotions/summer/coupons?limit=200{q}"
            ))
            .await;
        assert_eq!(page.status, 200, "{page}");
        let page = page.json();
        listed.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(listed.len(), 605);
    let used = listed
        .iter()
        .find(|c| c["code"] == first_codes[0].as_str())
        .expect("the used code");
    assert_eq!(used["uses"], 1);
    assert_eq!(used["batch_id"], first.json()["batch_id"]);
    app.admin_get("/api/v1/admin/promotions/nope/coupons")
        .await
        .assert_error(404, "not_found");

    // Deleting the promotion deletes its codes.
    assert_eq!(
        app.admin_delete("/api/v1/admin/promotions/summer")
            .await
            .status,
        204
    );
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM promotions_coupons WHERE promotion_id = $1",
            "summer"
        )
        .await,
        0
    );
}
both!(batches_are_unique_across_batches_and_listed_with_uses);
