//! The public catalog: what is listed, filters, pages, caching headers, details, 404s.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::common::{DEMO, TestApp, doc};

fn slugs(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["slug"].as_str().expect("slug").to_string())
        .collect()
}

/// Three published tests (alpha, beta, gamma) beside the demo.
async fn three_more(app: &TestApp) {
    for slug in ["gamma-test", "alpha-test", "beta-test"] {
        app.create_published(&doc(slug)).await;
    }
}

async fn the_catalog_lists_the_seeded_demo(app: TestApp) {
    let r = app.catalog("").await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(slugs(&v), vec![DEMO]);
    let demo = &v["items"][0];
    assert_eq!(demo["title"], "¿Qué tipo de ahorrista sos?");
    assert_eq!(demo["lang"], "es");
    assert_eq!(demo["tags"], json!(["ahorro", "riesgo", "inversión"]));
    assert_eq!(demo["estimated_minutes"], 4);
    assert_eq!(demo["version"], 1);
    assert!(demo["description"].as_str().is_some_and(|d| !d.is_empty()));
    let keys: Vec<&str> = demo
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.len(),
        7,
        "slug, title, description, lang, tags, estimated_minutes, version: {keys:?}"
    );
    assert!(v["next_cursor"].is_null());
}
both!(the_catalog_lists_the_seeded_demo);

async fn drafts_and_switched_off_tests_are_not_listed(app: TestApp) {
    app.create_test(&doc("draft-only")).await;
    let r = app.catalog("").await;
    assert_eq!(slugs(&r.json()), vec![DEMO]);
    app.test_detail("draft-only")
        .await
        .assert_error(404, "test_not_found");
}
both!(drafts_and_switched_off_tests_are_not_listed);

async fn the_catalog_filters_by_language_and_tag(app: TestApp) {
    three_more(&app).await;
    let cases: &[(&str, &[&str])] = &[
        ("?lang=es", &[DEMO]),
        ("?lang=ES", &[DEMO]),
        ("?lang=en", &["alpha-test", "beta-test", "gamma-test"]),
        ("?lang=fr", &[]),
        ("?tag=ahorro", &[DEMO]),
        ("?tag=inversi%C3%B3n", &[DEMO]),
        ("?tag=savings", &["alpha-test", "beta-test", "gamma-test"]),
        ("?tag=nothing", &[]),
        (
            "?lang=en&tag=risk",
            &["alpha-test", "beta-test", "gamma-test"],
        ),
        ("?lang=es&tag=savings", &[]),
    ];
    for (query, expected) in cases {
        let r = app.catalog(query).await;
        assert_eq!(r.status, 200, "{query}: {r}");
        assert_eq!(slugs(&r.json()), *expected, "{query}");
    }
}
both!(the_catalog_filters_by_language_and_tag);

async fn the_catalog_pages_with_limit_and_cursor(app: TestApp) {
    three_more(&app).await;
    let all = ["alpha-test", "beta-test", "gamma-test", DEMO];

    let first = app.catalog("?limit=2").await.json();
    assert_eq!(slugs(&first), all[..2]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    assert!(!cursor.contains("beta"), "cursors are opaque: {cursor}");
    let second = app
        .catalog(&format!("?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(slugs(&second), all[2..]);
    assert!(second["next_cursor"].is_null(), "{second}");

    let exact = app.catalog("?limit=4").await.json();
    assert_eq!(slugs(&exact), all);
    assert!(exact["next_cursor"].is_null(), "no empty last page");

    // Walking one by one visits everything once.
    let mut seen = Vec::new();
    let mut query = "?limit=1".to_string();
    loop {
        let page = app.catalog(&query).await.json();
        seen.extend(slugs(&page));
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("?limit=1&cursor={c}"),
            None => break,
        }
        assert!(seen.len() <= 4, "{seen:?}");
    }
    assert_eq!(seen, all);

    // Filters and pages together.
    let en = app.catalog("?lang=en&limit=2").await.json();
    assert_eq!(slugs(&en), ["alpha-test", "beta-test"]);
    let c = en["next_cursor"].as_str().expect("next").to_string();
    let en2 = app
        .catalog(&format!("?lang=en&limit=2&cursor={c}"))
        .await
        .json();
    assert_eq!(slugs(&en2), ["gamma-test"]);
    assert!(en2["next_cursor"].is_null());
}
both!(the_catalog_pages_with_limit_and_cursor);

async fn a_bad_limit_is_a_400(app: TestApp) {
    for q in [
        "?limit=0",
        "?limit=201",
        "?limit=-1",
        "?limit=abc",
        "?limit=",
    ] {
        let r = app.catalog(q).await;
        assert_eq!(r.status, 400, "{q}: {r}");
        let code = r.error_code();
        assert!(
            ["invalid_limit", "invalid_query"].contains(&code.as_str()),
            "{q}: {code}"
        );
    }
    assert_eq!(app.catalog("?limit=200").await.status, 200);
    assert_eq!(app.catalog("?limit=1").await.status, 200);
}
both!(a_bad_limit_is_a_400);

async fn a_bad_cursor_is_a_400(app: TestApp) {
    for q in ["?cursor=!!!", "?cursor=__4", "?cursor=a%20b"] {
        app.catalog(q).await.assert_error(400, "invalid_cursor");
    }
}
both!(a_bad_cursor_is_a_400);

async fn an_unknown_query_parameter_is_a_400(app: TestApp) {
    app.catalog("?langg=es")
        .await
        .assert_error(400, "invalid_query");
}
both!(an_unknown_query_parameter_is_a_400);

async fn the_catalog_sends_etag_and_cache_control_and_honours_if_none_match(app: TestApp) {
    let r = app.catalog("").await;
    let etag = r.header("etag").expect("ETag").to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let cc = r.header("cache-control").expect("Cache-Control");
    assert!(cc.contains("max-age="), "{cc}");

    let cached = app
        .send(
            app.request(Method::GET, "/api/v1/tests")
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(cached.status, 304, "{cached}");
    assert!(cached.text.is_empty());
    assert_eq!(cached.header("etag"), Some(etag.as_str()));

    let listed = app
        .send(
            app.request(Method::GET, "/api/v1/tests")
                .header("if-none-match", format!("\"other\", {etag}")),
        )
        .await;
    assert_eq!(listed.status, 304, "a list of tags matches too");
    // If-None-Match compares weakly: a proxy that gzips hands clients W/"...".
    let weak = app
        .send(
            app.request(Method::GET, "/api/v1/tests")
                .header("if-none-match", format!("W/{etag}")),
        )
        .await;
    assert_eq!(weak.status, 304, "{weak}");

    let stale = app
        .send(
            app.request(Method::GET, "/api/v1/tests")
                .header("if-none-match", "\"stale\""),
        )
        .await;
    assert_eq!(stale.status, 200);

    // A change to the catalog changes the tag.
    app.create_published(&doc("new-test")).await;
    let changed = app
        .send(
            app.request(Method::GET, "/api/v1/tests")
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(changed.status, 200, "{changed}");
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
}
both!(the_catalog_sends_etag_and_cache_control_and_honours_if_none_match);

async fn the_detail_has_question_count_dimensions_and_an_etag(app: TestApp) {
    let r = app.test_detail(DEMO).await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["slug"], DEMO);
    assert_eq!(v["version"], 1);
    assert_eq!(v["question_count"], 8);
    assert_eq!(
        v["dimensions"],
        json!([
            {"key": "horizonte", "label": "Horizonte de tiempo"},
            {"key": "tolerancia", "label": "Tolerancia a las pérdidas"},
            {"key": "ingresos", "label": "Estabilidad de ingresos"},
            {"key": "objetivo", "label": "Objetivo"},
            {"key": "conocimiento", "label": "Conocimiento y experiencia"}
        ])
    );
    assert!(
        v.get("questions").is_none() && !r.text.contains("scores"),
        "{v}"
    );
    let etag = r.header("etag").expect("ETag").to_string();
    assert!(r.header("cache-control").is_some());
    let again = app
        .send(
            app.request(Method::GET, &format!("/api/v1/tests/{DEMO}"))
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(again.status, 304);
}
both!(the_detail_has_question_count_dimensions_and_an_etag);

async fn an_unknown_slug_is_a_json_404(app: TestApp) {
    let r = app.test_detail("no-such-test").await;
    r.assert_error(404, "test_not_found");
    let v = r.json();
    assert!(v["error"]["details"].is_object(), "{v}");
    app.start_session("no-such-test", "")
        .await
        .assert_error(404, "test_not_found");
}
both!(an_unknown_slug_is_a_json_404);

async fn changes_on_this_instance_skip_the_catalog_cache(app: TestApp) {
    // A long cache: what this instance changes must still show at once.
    assert_eq!(slugs(&app.catalog("").await.json()), vec![DEMO]);
    let id = app.create_published(&doc("fresh")).await;
    assert_eq!(slugs(&app.catalog("").await.json()), vec!["fresh", DEMO]);
    let r = app
        .admin_put(
            &format!("/api/v1/admin/tests/{id}"),
            &json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(slugs(&app.catalog("").await.json()), vec![DEMO]);
    let r = app
        .admin_put(
            &format!("/api/v1/admin/tests/{id}"),
            &json!({"is_active": true}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .admin_post_raw(&format!("/api/v1/admin/tests/{id}/versions"), "", None)
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(app.publish(&id, 2).await.status, 200);
    assert_eq!(app.test_detail("fresh").await.json()["version"], 2);
    assert_eq!(
        app.admin_delete(&format!("/api/v1/admin/tests/{id}"))
            .await
            .status,
        204
    );
    assert_eq!(slugs(&app.catalog("").await.json()), vec![DEMO]);
    app.start_session("fresh", "")
        .await
        .assert_error(404, "test_not_found");
}
both!(changes_on_this_instance_skip_the_catalog_cache, "CATALOG_CACHE_MS" => "60000");
