//! Question-by-question editing of a draft through `/api/v1/admin/questions`.

use serde_json::{Value, json};

use crate::both;
use crate::common::{TestApp, doc};

fn q(path: &str, vid: &str) -> String {
    format!("/api/v1/admin/questions{path}?test_version_id={vid}")
}

async fn draft(app: &TestApp, slug: &str) -> (String, String) {
    let id = app.create_test(&doc(slug)).await;
    let vid = app.version_id(&id, 1).await;
    (id, vid)
}

async fn definition(app: &TestApp, id: &str) -> Value {
    app.admin_get(&format!("/api/v1/admin/tests/{id}/versions/1"))
        .await
        .json()["definition"]
        .clone()
}

fn keys(def: &Value) -> Vec<String> {
    def["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .filter_map(|q| q["key"].as_str().map(str::to_string))
        .collect()
}

async fn questions_of_a_draft_can_be_listed_read_added_changed_and_removed(app: TestApp) {
    let (id, vid) = draft(&app, "editable").await;

    let list = app.admin_get(&q("", &vid)).await;
    assert_eq!(list.status, 200, "{list}");
    let items = list.json()["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 3);
    assert_eq!(items[1]["position"], 1);
    assert_eq!(items[1]["question"]["key"], "q2");
    assert_eq!(
        items[1]["rules"].as_array().map(Vec::len),
        Some(1),
        "the crypto rule names q2"
    );

    let one = app.admin_get(&q("/q3", &vid)).await;
    assert_eq!(one.status, 200, "{one}");
    assert_eq!(one.json()["question"]["type"], "scale");
    app.admin_get(&q("/nope", &vid))
        .await
        .assert_error(404, "not_found");

    // Add one in second place, with a rule.
    let added = app
        .admin_post(
            &q("", &vid),
            &json!({
                "question": {"key": "q1b", "type": "single", "text": "Do you have debts?",
                    "options": [{"key": "y", "text": "Yes", "scores": {"tolerance": 0}},
                                {"key": "n", "text": "No", "scores": {"tolerance": 2}}]},
                "rules": [{"if": {"question": "q1b", "option": "y"}, "then": {"skip_to": "end"}}],
                "position": 1
            }),
        )
        .await;
    assert_eq!(added.status, 201, "{added}");
    let added = added.json();
    assert_eq!(added["position"], 1);
    assert_eq!(added["rules"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        keys(&definition(&app, &id).await),
        ["q1", "q1b", "q2", "q3"]
    );

    // Change its text and drop its rule.
    let changed = app
        .admin_put(
            &q("/q1b", &vid),
            &json!({
                "question": {"key": "q1b", "type": "single", "text": "Any debts at all?",
                    "options": [{"key": "y", "text": "Yes"}, {"key": "n", "text": "No"}]},
                "rules": []
            }),
        )
        .await;
    assert_eq!(changed.status, 200, "{changed}");
    assert_eq!(changed.json()["question"]["text"], "Any debts at all?");
    let def = definition(&app, &id).await;
    assert_eq!(def["questions"][1]["text"], "Any debts at all?");
    assert_eq!(
        def["rules"].as_array().map(Vec::len),
        Some(1),
        "only the crypto rule is left"
    );

    // Move q3 first? A jump from q1 goes to q3, so moving it before q1 breaks the flow.
    let q3 = app.admin_get(&q("/q3", &vid)).await.json()["question"].clone();
    let r = app
        .admin_put(&q("/q3", &vid), &json!({"question": q3, "position": 0}))
        .await;
    r.assert_error(422, "validation_failed");

    // Remove q2 with the rule naming it.
    let r = app.admin_delete(&q("/q2", &vid)).await;
    assert_eq!(r.status, 204, "{r}");
    let def = definition(&app, &id).await;
    assert_eq!(keys(&def), ["q1", "q1b", "q3"]);
    assert_eq!(def["rules"], json!([]));
    app.admin_delete(&q("/q2", &vid))
        .await
        .assert_error(404, "not_found");

    // The edited draft publishes and serves the new order.
    assert_eq!(app.publish(&id, 1).await.status, 200);
    let s = app.start("editable").await;
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "q1", "selected_option_ids": ["a"]}),
        )
        .await;
    assert_eq!(r.json()["next_question"]["id"], "q1b");
}
both!(questions_of_a_draft_can_be_listed_read_added_changed_and_removed);

async fn an_edit_that_breaks_the_document_is_422_and_saves_nothing(app: TestApp) {
    let (id, vid) = draft(&app, "fragile").await;
    let before = definition(&app, &id).await;

    let mut q1 = doc("fragile")["questions"][0].clone();
    q1["options"][0]["next"] = json!("nowhere");
    let r = app
        .admin_put(&q("/q1", &vid), &json!({"question": q1}))
        .await;
    r.assert_error(422, "validation_failed");
    assert!(
        r.problems()
            .iter()
            .any(|(p, m)| p == "questions[0].options[0].next" && m.contains("nowhere")),
        "{r}"
    );

    // q1's option `c` jumps to q3: removing q3 leaves a jump to an unknown question.
    let r = app.admin_delete(&q("/q3", &vid)).await;
    r.assert_error(422, "validation_failed");

    // A rule on an option the question does not have.
    let r = app
        .admin_post(
            &q("", &vid),
            &json!({
                "question": {"key": "q4", "type": "single", "text": "?", "options": [
                    {"key": "a", "text": "A"}, {"key": "b", "text": "B"}]},
                "rules": [{"if": {"question": "q4", "option": "zzz"}, "then": {"add": {"tolerance": 1}}}]
            }),
        )
        .await;
    r.assert_error(422, "validation_failed");

    // Duplicates and missing keys.
    let existing = doc("fragile")["questions"][1].clone();
    app.admin_post(&q("", &vid), &json!({"question": existing}))
        .await
        .assert_error(409, "question_exists");
    let r = app
        .admin_post(&q("", &vid), &json!({"question": {"type": "single"}}))
        .await;
    r.assert_error(422, "validation_failed");
    app.admin_post(
        &q("", &vid),
        &json!({"question": {"key": "x"}, "colour": 1}),
    )
    .await
    .assert_error(422, "invalid_body");

    assert_eq!(definition(&app, &id).await, before, "nothing was saved");
}
both!(an_edit_that_breaks_the_document_is_422_and_saves_nothing);

async fn editing_questions_of_a_published_version_is_409(app: TestApp) {
    let id = app.create_published(&doc("published-q")).await;
    let vid = app.version_id(&id, 1).await;
    // Reading is fine.
    assert_eq!(app.admin_get(&q("", &vid)).await.status, 200);
    let q1 = doc("published-q")["questions"][0].clone();
    app.admin_put(&q("/q1", &vid), &json!({"question": q1}))
        .await
        .assert_error(409, "version_published");
    app.admin_delete(&q("/q2", &vid))
        .await
        .assert_error(409, "version_published");
    let new = json!({"question": {"key": "q9", "type": "single", "text": "?",
        "options": [{"key": "a", "text": "A"}, {"key": "b", "text": "B"}]}});
    app.admin_post(&q("", &vid), &new)
        .await
        .assert_error(409, "version_published");
    let def = app
        .admin_get(&format!("/api/v1/admin/tests/{id}/versions/1"))
        .await
        .json()["definition"]
        .clone();
    assert_eq!(keys(&def), ["q1", "q2", "q3"]);
}
both!(editing_questions_of_a_published_version_is_409);

async fn questions_need_a_known_version(app: TestApp) {
    app.admin_get(&q("", "no-such-version"))
        .await
        .assert_error(404, "not_found");
    app.admin_get("/api/v1/admin/questions")
        .await
        .assert_error(400, "invalid_query");
    let new = json!({"question": {"key": "q9", "type": "single", "text": "?",
        "options": [{"key": "a", "text": "A"}, {"key": "b", "text": "B"}]}});
    app.admin_post(&q("", "no-such-version"), &new)
        .await
        .assert_error(404, "not_found");
}
both!(questions_need_a_known_version);
