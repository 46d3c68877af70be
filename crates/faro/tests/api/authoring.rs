//! Authoring through the admin API: create (JSON, YAML), validation, drafts, publishing,
//! versions, rollback, switching off and deleting.

use serde_json::{Value, json};

use crate::both;
use crate::common::{Resp, TestApp, cautious, doc};

const YAML_DOC: &str = r#"
slug: yaml-test
title: "A test written in YAML"
description: Imported as YAML.
lang: es-AR
tags: [yaml]
dimensions:
  - {key: d, label: Dimension}
questions:
  - key: q1
    type: single
    text: "First?"
    options:
      - {key: a, text: A, scores: {d: 0}}
      - {key: b, text: B, scores: {d: 10}}
  - key: q2
    type: scale
    text: "How much?"
    scale: {min: 0, max: 10, scores_per_point: {d: 1}}
profiles:
  - {code: LOW, title: Low, min: 0, max: 49}
  - {code: HIGH, title: High, min: 50, max: 100}
"#;

fn tests_path(id: &str) -> String {
    format!("/api/v1/admin/tests/{id}")
}

fn version_path(id: &str, v: i64) -> String {
    format!("/api/v1/admin/tests/{id}/versions/{v}")
}

fn catalog_version(catalog: &Value, slug: &str) -> Option<i64> {
    catalog["items"]
        .as_array()?
        .iter()
        .find(|t| t["slug"] == slug)
        .and_then(|t| t["version"].as_i64())
}

fn has_problem(r: &Resp, path: &str) -> bool {
    r.problems().iter().any(|(p, _)| p == path)
}

async fn creating_from_json_gives_a_first_draft(app: TestApp) {
    let r = app
        .admin_post("/api/v1/admin/tests", &doc("json-test"))
        .await;
    assert_eq!(r.status, 201, "{r}");
    let v = r.json();
    assert_eq!(v["slug"], "json-test");
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "draft");
    assert_eq!(v["publish_problems"], json!([]));
    let id = v["id"].as_str().expect("id");
    let t = app.admin_get(&tests_path(id)).await;
    assert_eq!(t.status, 200, "{t}");
    let t = t.json();
    assert_eq!(t["slug"], "json-test");
    assert_eq!(t["is_active"], true);
    assert!(t["published_version"].is_null());
    assert_eq!(t["latest_version"], 1);
    assert_eq!(t["versions"].as_array().map(Vec::len), Some(1));
    assert_eq!(t["versions"][0]["status"], "draft");
    assert_eq!(t["versions"][0]["served"], false);
}
both!(creating_from_json_gives_a_first_draft);

async fn creating_from_yaml_gives_a_first_draft(app: TestApp) {
    let r = app
        .admin_post_raw("/api/v1/admin/tests", YAML_DOC, Some("application/yaml"))
        .await;
    assert_eq!(r.status, 201, "{r}");
    let v = r.json();
    assert_eq!(
        (v["slug"].clone(), v["version"].clone(), v["status"].clone()),
        (json!("yaml-test"), json!(1), json!("draft"))
    );
    let id = v["id"].as_str().expect("id");
    let draft = app.admin_get(&version_path(id, 1)).await.json();
    assert_eq!(draft["definition"]["lang"], "es-AR");
    assert_eq!(draft["definition"]["questions"][1]["scale"]["max"], 10);
    // Published, it is served like any other.
    assert_eq!(app.publish(id, 1).await.status, 200);
    let s = app.start("yaml-test").await;
    assert_eq!(s.first["id"], "q1");

    // YAML that does not parse is malformed (400), with the parser's message.
    let r = app
        .admin_post_raw(
            "/api/v1/admin/tests",
            "slug: [unclosed",
            Some("application/x-yaml"),
        )
        .await;
    r.assert_error(400, "malformed_yaml");
    assert!(!r.problems()[0].1.is_empty(), "{r}");
}
both!(creating_from_yaml_gives_a_first_draft);

async fn a_document_with_several_problems_lists_every_one_with_its_path(app: TestApp) {
    let bad = json!({
        "slug": "Bad Slug",
        "title": "",
        "lang": "english",
        "colour": "red",
        "dimensions": [{"key": "d", "label": "D"}],
        "questions": [
            {"key": "q1", "type": "single", "text": "Q1", "options": [
                {"key": "a", "text": "A", "scores": {"nope": 1}},
                {"key": "b", "text": "B", "next": "q0"}]},
            {"key": "q2", "type": "dropdown", "text": "Q2"},
            {"key": "q3", "type": "scale", "text": "Q3", "options": [],
             "scale": {"min": 1, "max": 5, "scores_per_point": {"d": 1}}},
            {"key": "q4", "type": "single", "text": "Q4", "options": [
                {"key": "a", "text": "A", "next": "q1"},
                {"key": "b", "text": "B"}]}
        ],
        "profiles": [{"code": "ALL", "title": "All", "min": 0, "max": 100}]
    });
    let r = app.admin_post("/api/v1/admin/tests", &bad).await;
    r.assert_error(422, "validation_failed");
    for path in [
        "slug",
        "title",
        "lang",
        "colour",
        "questions[0].options[0].scores.nope",
        "questions[0].options[1].next",
        "questions[1].type",
        "questions[2].options",
        "questions[3].options[0].next",
    ] {
        assert!(
            has_problem(&r, path),
            "a problem at {path}: {:?}",
            r.problems()
        );
    }
    let message = r.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message.contains(&r.problems().len().to_string()),
        "{message}"
    );
    // Nothing was created.
    let list = app.admin_get("/api/v1/admin/tests").await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    // Valid JSON that is not a document is invalid (422); text that is not JSON is malformed (400).
    app.admin_post("/api/v1/admin/tests", &json!([1, 2]))
        .await
        .assert_error(422, "validation_failed");
    for body in ["{", "", "{\"slug\": \"x\"} trailing", "\u{0}"] {
        let r = app
            .admin_post_raw("/api/v1/admin/tests", body, Some("application/json"))
            .await;
        r.assert_error(400, "malformed_json");
        assert_eq!(r.problems().len(), 1, "{r}");
    }
    let id = app.test_id(crate::common::DEMO).await;
    // A frozen version is refused before its body is read.
    app.admin_put(&version_path(&id, 1), &json!(null))
        .await
        .assert_error(409, "version_published");
    let r = app
        .admin_post_raw(
            &format!("/api/v1/admin/tests/{id}/versions"),
            "{nope",
            Some("application/json"),
        )
        .await;
    r.assert_error(400, "malformed_json");
    let r = app
        .admin_post_raw(
            "/api/v1/admin/tests",
            vec![0xff_u8, 0xfe, 0x00],
            Some("application/json"),
        )
        .await;
    r.assert_error(400, "malformed_json");
}
both!(a_document_with_several_problems_lists_every_one_with_its_path);

async fn a_taken_slug_is_409(app: TestApp) {
    app.create_test(&doc("twice")).await;
    let r = app.admin_post("/api/v1/admin/tests", &doc("twice")).await;
    r.assert_error(409, "slug_taken");
    let r = app
        .admin_post("/api/v1/admin/tests", &doc(crate::common::DEMO))
        .await;
    r.assert_error(409, "slug_taken");
}
both!(a_taken_slug_is_409);

async fn a_draft_can_be_read_and_replaced(app: TestApp) {
    let id = app.create_test(&doc("drafty")).await;
    let r = app.admin_get(&version_path(&id, 1)).await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "draft");
    assert_eq!(v["served"], false);
    assert_eq!(v["definition"]["slug"], "drafty");
    assert_eq!(
        v["definition"]["questions"].as_array().map(Vec::len),
        Some(3)
    );

    let mut changed = doc("drafty");
    changed["title"] = json!("A better title");
    changed["questions"][0]["text"] = json!("Changed question?");
    let r = app.admin_put(&version_path(&id, 1), &changed).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["definition"]["title"], "A better title");
    let again = app.admin_get(&version_path(&id, 1)).await.json();
    assert_eq!(
        again["definition"]["questions"][0]["text"],
        "Changed question?"
    );

    // A replacement is validated like a creation, and cannot rename the test.
    let mut broken = doc("drafty");
    broken["questions"][0]["type"] = json!("essay");
    let r = app.admin_put(&version_path(&id, 1), &broken).await;
    r.assert_error(422, "validation_failed");
    assert!(has_problem(&r, "questions[0].type"), "{r}");
    let r = app.admin_put(&version_path(&id, 1), &doc("renamed")).await;
    r.assert_error(422, "validation_failed");
    assert!(has_problem(&r, "slug"), "{r}");
    let kept = app.admin_get(&version_path(&id, 1)).await.json();
    assert_eq!(
        kept["definition"]["title"], "A better title",
        "failed saves change nothing"
    );

    // Unknown tests and versions.
    app.admin_get(&version_path(&id, 9))
        .await
        .assert_error(404, "not_found");
    app.admin_get(&version_path(&id, 0))
        .await
        .assert_error(404, "not_found");
    app.admin_get(&format!("/api/v1/admin/tests/{id}/versions/abc"))
        .await
        .assert_error(404, "not_found");
    app.admin_get(&tests_path("no-such-id"))
        .await
        .assert_error(404, "not_found");
}
both!(a_draft_can_be_read_and_replaced);

async fn publishing_serves_the_test_in_the_catalog(app: TestApp) {
    let id = app.create_test(&doc("to-publish")).await;
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "to-publish"),
        None
    );
    let r = app.publish(&id, 1).await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["status"], "published");
    assert_eq!(v["served"], true);
    assert!(
        v["published_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{v}"
    );
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "to-publish"),
        Some(1)
    );
    let detail = app.test_detail("to-publish").await.json();
    assert_eq!(detail["question_count"], 3);
    let t = app.admin_get(&tests_path(&id)).await.json();
    assert_eq!(t["published_version"], 1);
    app.publish(&id, 7).await.assert_error(404, "not_found");
    app.publish("nope", 1).await.assert_error(404, "not_found");
}
both!(publishing_serves_the_test_in_the_catalog);

async fn publishing_a_draft_with_a_profile_gap_is_422(app: TestApp) {
    let mut gap = doc("gappy");
    gap["profiles"] = json!([
        {"code": "LOW", "title": "Low", "min": 0, "max": 33},
        {"code": "HIGH", "title": "High", "min": 40, "max": 100}
    ]);
    let r = app.admin_post("/api/v1/admin/tests", &gap).await;
    assert_eq!(r.status, 201, "a draft may have a gap: {r}");
    let v = r.json();
    let problems = v["publish_problems"].as_array().expect("publish_problems");
    assert_eq!(problems.len(), 1, "{v}");
    let id = v["id"].as_str().expect("id").to_string();
    let r = app.publish(&id, 1).await;
    r.assert_error(422, "validation_failed");
    let problems = r.problems();
    assert!(
        problems
            .iter()
            .any(|(p, m)| p == "profiles" && m.contains("34..=39")),
        "{problems:?}"
    );
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "gappy"),
        None
    );
    // Overlaps are refused too.
    let mut overlap = doc("gappy");
    overlap["profiles"] = json!([
        {"code": "LOW", "title": "Low", "min": 0, "max": 50},
        {"code": "HIGH", "title": "High", "min": 50, "max": 100}
    ]);
    assert_eq!(
        app.admin_put(&version_path(&id, 1), &overlap).await.status,
        200
    );
    let r = app.publish(&id, 1).await;
    r.assert_error(422, "validation_failed");
    assert!(has_problem(&r, "profiles[1]"), "{r}");
}
both!(publishing_a_draft_with_a_profile_gap_is_422);

async fn a_published_version_cannot_be_changed(app: TestApp) {
    let id = app.create_published(&doc("frozen")).await;
    let mut changed = doc("frozen");
    changed["title"] = json!("Sneaky edit");
    app.admin_put(&version_path(&id, 1), &changed)
        .await
        .assert_error(409, "version_published");
    let v = app.admin_get(&version_path(&id, 1)).await.json();
    assert_eq!(v["definition"]["title"], "Test frozen");
}
both!(a_published_version_cannot_be_changed);

async fn a_new_version_is_a_draft_cloned_from_the_latest(app: TestApp) {
    let id = app.create_published(&doc("cloned")).await;
    let r = app
        .admin_post_raw(&format!("/api/v1/admin/tests/{id}/versions"), "", None)
        .await;
    assert_eq!(r.status, 201, "{r}");
    let v2 = r.json();
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["status"], "draft");
    assert_eq!(v2["served"], false);
    let v1 = app.admin_get(&version_path(&id, 1)).await.json();
    assert_eq!(v2["definition"], v1["definition"], "a copy of v1");
    assert_ne!(v2["id"], v1["id"]);
    // Or from a given document, which must keep the slug.
    let mut third = doc("cloned");
    third["title"] = json!("Third");
    let r = app
        .admin_post(&format!("/api/v1/admin/tests/{id}/versions"), &third)
        .await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(r.json()["version"], 3);
    let r = app
        .admin_post(
            &format!("/api/v1/admin/tests/{id}/versions"),
            &doc("other-slug"),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let list = app
        .admin_get(&format!("/api/v1/admin/tests/{id}/versions"))
        .await
        .json();
    let numbers: Vec<i64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    // The catalog still serves v1.
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "cloned"),
        Some(1)
    );
}
both!(a_new_version_is_a_draft_cloned_from_the_latest);

/// v2 of `doc(slug)`: new texts and a fourth question.
fn second_version(slug: &str) -> Value {
    let mut d = doc(slug);
    d["questions"][0]["text"] = json!("V2: when will you need it?");
    d["questions"][1]["text"] = json!("V2: what have you invested in?");
    d["questions"].as_array_mut().expect("questions").push(json!({
        "key": "q4", "type": "single", "text": "V2 only: do you rebalance?",
        "options": [{"key": "y", "text": "Yes", "scores": {"tolerance": 1}}, {"key": "n", "text": "No"}]
    }));
    d
}

async fn a_session_started_on_v1_finishes_on_v1_after_v2_is_published(app: TestApp) {
    let id = app.create_published(&doc("frozen-sessions")).await;
    let old = app.start("frozen-sessions").await;
    assert_eq!(old.version, 1);
    let r = app
        .answer(
            &old.id,
            &json!({"question_id": "q1", "selected_option_ids": ["a"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let old_next = r.json()["next_question"].clone();

    let r = app
        .admin_post(
            &format!("/api/v1/admin/tests/{id}/versions"),
            &second_version("frozen-sessions"),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(app.publish(&id, 2).await.status, 200);
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "frozen-sessions"),
        Some(2)
    );

    // The old session goes on with v1's questions only.
    let current = app.question(&old.id).await.json();
    assert_eq!(current["text"], "What have you invested in before?");
    assert_eq!(current["progress"]["total_estimate"], 3);
    let served = app.answer_all(&old.id, &old_next, cautious).await;
    let keys: Vec<&str> = served.iter().filter_map(|q| q["id"].as_str()).collect();
    assert_eq!(keys, ["q2", "q3"]);
    assert!(
        served
            .iter()
            .all(|q| !q["text"].as_str().unwrap_or("").starts_with("V2"))
    );
    let r = app.finish(&old.id).await;
    assert_eq!(r.status, 200, "{r}");

    // New sessions get v2.
    let new = app.start("frozen-sessions").await;
    assert_eq!(new.version, 2);
    assert_eq!(new.first["text"], "V2: when will you need it?");
    assert_eq!(new.first["progress"]["total_estimate"], 4);
    let served = app.answer_all(&new.id, &new.first, cautious).await;
    assert_eq!(served.last().expect("q")["id"], "q4");
    assert_eq!(app.finish(&new.id).await.status, 200);

    // Analytics by version tell the two apart.
    let v1 = app.version_id(&id, 1).await;
    let v2 = app.version_id(&id, 2).await;
    let r1 = app.analytics(&format!("test_version_id={v1}")).await;
    let r2 = app.analytics(&format!("test_version_id={v2}")).await;
    assert_eq!(
        (r1["starts"].clone(), r1["finishes"].clone()),
        (json!(1), json!(1)),
        "{r1}"
    );
    assert_eq!(
        (r2["starts"].clone(), r2["finishes"].clone()),
        (json!(1), json!(1)),
        "{r2}"
    );
    assert_eq!(r1["versions"], json!([1]));
    let all = app.analytics(&format!("test_id={id}")).await;
    assert_eq!(all["starts"], 2);
    assert_eq!(all["versions"], json!([2, 1]));
}
both!(a_session_started_on_v1_finishes_on_v1_after_v2_is_published);

async fn publishing_v1_again_rolls_back(app: TestApp) {
    let id = app.create_published(&doc("rollback")).await;
    let r = app
        .admin_post(
            &format!("/api/v1/admin/tests/{id}/versions"),
            &second_version("rollback"),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(app.publish(&id, 2).await.status, 200);
    assert_eq!(app.start("rollback").await.version, 2);

    let r = app.publish(&id, 1).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["served"], true);
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "rollback"),
        Some(1)
    );
    assert_eq!(app.test_detail("rollback").await.json()["version"], 1);
    let s = app.start("rollback").await;
    assert_eq!(s.version, 1);
    assert_eq!(s.first["text"], "When will you need this money?");
    let t = app.admin_get(&tests_path(&id)).await.json();
    assert_eq!(t["published_version"], 1);
    let served: Vec<(i64, bool)> = t["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap_or(0),
                v["served"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(served, [(2, false), (1, true)]);
    // Both stay published (frozen).
    app.admin_put(&version_path(&id, 2), &second_version("rollback"))
        .await
        .assert_error(409, "version_published");
}
both!(publishing_v1_again_rolls_back);

async fn a_switched_off_test_leaves_the_catalog(app: TestApp) {
    let id = app.create_published(&doc("switch")).await;
    let before = app.start("switch").await;
    let r = app
        .admin_put(&tests_path(&id), &json!({"is_active": false}))
        .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["is_active"], false);
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "switch"),
        None
    );
    app.test_detail("switch")
        .await
        .assert_error(404, "test_not_found");
    app.start_session("switch", "")
        .await
        .assert_error(404, "test_not_found");
    // The admin still sees it.
    assert_eq!(
        app.admin_get(&tests_path(&id)).await.json()["is_active"],
        false
    );
    let _ = before;

    let r = app
        .admin_put(&tests_path(&id), &json!({"is_active": true}))
        .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "switch"),
        Some(1)
    );
    assert_eq!(app.start_session("switch", "").await.status, 201);

    // Only `is_active` can be changed here.
    app.admin_put(&tests_path(&id), &json!({"title": "x"}))
        .await
        .assert_error(422, "invalid_body");
    app.admin_put(&tests_path("nope"), &json!({"is_active": true}))
        .await
        .assert_error(404, "not_found");
}
both!(a_switched_off_test_leaves_the_catalog);

async fn a_draft_version_can_be_deleted_but_not_a_published_one(app: TestApp) {
    let id = app.create_published(&doc("deletable")).await;
    let r = app
        .admin_post_raw(&format!("/api/v1/admin/tests/{id}/versions"), "", None)
        .await;
    assert_eq!(r.status, 201, "{r}");
    let r = app.admin_delete(&version_path(&id, 2)).await;
    assert_eq!(r.status, 204, "{r}");
    assert!(r.text.is_empty());
    app.admin_get(&version_path(&id, 2))
        .await
        .assert_error(404, "not_found");
    app.admin_delete(&version_path(&id, 2))
        .await
        .assert_error(404, "not_found");
    app.admin_delete(&version_path(&id, 1))
        .await
        .assert_error(409, "version_published");
    assert_eq!(app.admin_get(&version_path(&id, 1)).await.status, 200);
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "deletable"),
        Some(1)
    );
}
both!(a_draft_version_can_be_deleted_but_not_a_published_one);

async fn deleting_a_test_breaks_its_share_links(app: TestApp) {
    let id = app.create_published(&doc("doomed")).await;
    let result = app.complete("doomed", cautious).await;
    let token = result["share_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("token")
        .to_string();
    assert_eq!(app.share(&token, true).await.status, 200);
    let r = app.admin_delete(&tests_path(&id)).await;
    assert_eq!(r.status, 204, "{r}");
    app.share(&token, true)
        .await
        .assert_error(404, "result_not_found");
    assert_eq!(app.share(&token, false).await.status, 404);
    app.admin_get(&tests_path(&id))
        .await
        .assert_error(404, "not_found");
    app.admin_delete(&tests_path(&id))
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        catalog_version(&app.catalog("").await.json(), "doomed"),
        None
    );
    app.start_session("doomed", "")
        .await
        .assert_error(404, "test_not_found");
    let rows = app.scalar("SELECT COUNT(*) FROM quiz_results").await;
    assert_eq!(rows, 0, "its results are gone");
    let rows = app.scalar("SELECT COUNT(*) FROM quiz_sessions").await;
    assert_eq!(rows, 0, "and its sessions");
    // The slug is free again.
    app.create_test(&doc("doomed")).await;
}
both!(deleting_a_test_breaks_its_share_links);

async fn the_admin_list_pages_with_limit_and_cursor(app: TestApp) {
    for slug in ["b-test", "a-test", "c-test"] {
        app.create_test(&doc(slug)).await;
    }
    let page = app.admin_get("/api/v1/admin/tests?limit=2").await.json();
    let slugs: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["slug"].as_str())
        .collect();
    assert_eq!(slugs, ["a-test", "b-test"]);
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let page = app
        .admin_get(&format!("/api/v1/admin/tests?limit=2&cursor={cursor}"))
        .await
        .json();
    let slugs: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["slug"].as_str())
        .collect();
    assert_eq!(slugs, ["c-test", crate::common::DEMO]);
    assert!(page["next_cursor"].is_null());
    app.admin_get("/api/v1/admin/tests?limit=0")
        .await
        .assert_error(400, "invalid_limit");
    app.admin_get("/api/v1/admin/tests?cursor=!!")
        .await
        .assert_error(400, "invalid_cursor");
}
both!(the_admin_list_pages_with_limit_and_cursor);

async fn a_document_over_256_kib_is_refused(app: TestApp) {
    let mut big = doc("big");
    big["description"] = json!("y".repeat(1000));
    // Pad with help texts to just over 256 KiB while staying under the 512 KiB body limit.
    for q in big["questions"].as_array_mut().expect("questions") {
        q["help"] = json!("z".repeat(95 * 1024));
    }
    let r = app.admin_post("/api/v1/admin/tests", &big).await;
    r.assert_error(422, "validation_failed");
    assert!(
        r.problems().iter().any(|(_, m)| m.contains("256 KiB")),
        "{r}"
    );
}
both!(a_document_over_256_kib_is_refused);

async fn every_authoring_change_is_audited_with_who_and_what(app: TestApp) {
    let id = app.create_test(&doc("audited")).await;
    let mut edited = doc("audited");
    edited["title"] = json!("Audited, edited");
    let r = app.admin_put(&version_path(&id, 1), &edited).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(app.publish(&id, 1).await.status, 200);
    let r = app
        .admin_post_raw(&format!("/api/v1/admin/tests/{id}/versions"), "", None)
        .await;
    assert_eq!(r.status, 201, "{r}");
    let v2 = app.version_id(&id, 2).await;
    let r = app
        .admin_delete(&format!("/api/v1/admin/questions/q2?test_version_id={v2}"))
        .await;
    assert_eq!(r.status, 204, "{r}");
    assert_eq!(app.admin_delete(&version_path(&id, 2)).await.status, 204);
    let r = app
        .admin_put(&tests_path(&id), &json!({"is_active": false}))
        .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(app.publish(&id, 1).await.status, 200, "served again");
    assert_eq!(app.admin_delete(&tests_path(&id)).await.status, 204);

    let audit = app.admin_get("/api/v1/admin/audit?limit=100").await.json();
    let mut quiz: Vec<&Value> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("quiz.")))
        .collect();
    quiz.reverse();
    let actions: Vec<&str> = quiz
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        [
            "quiz.test_create",
            "quiz.draft_update",
            "quiz.version_publish",
            "quiz.version_create",
            "quiz.draft_update",
            "quiz.draft_delete",
            "quiz.test_active",
            "quiz.version_serve",
            "quiz.test_delete",
        ],
        "{audit}"
    );
    for e in &quiz {
        assert_eq!(e["target"], id.as_str(), "{e}");
        assert_eq!(e["actor"], crate::common::ADMIN_USER, "{e}");
        assert_eq!(e["ip"], "127.0.0.1", "{e}");
    }
    assert_eq!(quiz[0]["after"]["slug"], "audited");
    assert_eq!(quiz[2]["after"]["served"], 1);
    assert_eq!(quiz[3]["after"]["version"], 2);
    assert_eq!(quiz[6]["after"]["active"], false);
    assert_eq!(quiz[7]["before"]["served"], 1);
    assert_eq!(quiz[8]["before"]["title"], "Audited, edited");
    // Definitions stay in the version history, not in the log.
    assert!(!audit.to_string().contains("When will you need this money?"));
}
both!(every_authoring_change_is_audited_with_who_and_what);
