//! Everything a visitor can get wrong while answering, and what the API says about it.

use serde_json::{Value, json};

use crate::both;
use crate::common::{DEMO, Started, TestApp, aggressive, cautious, doc};

const NIL_SESSION: &str = "5b0c4a0e-8f8e-4a57-9d0c-2f6a1c3e9b11";

/// A demo session answered up to the scale question `caida`.
async fn at_the_scale_question(app: &TestApp) -> Started {
    let s = app.start(DEMO).await;
    for body in [
        json!({"question_id": "plazo", "selected_option_ids": ["1-3"]}),
        json!({"question_id": "fondo", "selected_option_ids": ["1-3"]}),
        json!({"question_id": "ingresos", "selected_option_ids": ["estables"]}),
        json!({"question_id": "experiencia", "selected_option_ids": ["fci"]}),
    ] {
        let r = app.answer(&s.id, &body).await;
        assert_eq!(r.status, 200, "{r}");
    }
    assert_eq!(app.question(&s.id).await.json()["id"], "caida");
    s
}

/// Asserts a 422 `invalid_answer` whose problems name `path`.
#[track_caller]
fn invalid_at(r: &crate::common::Resp, path: &str) {
    r.assert_error(422, "invalid_answer");
    let problems = r.problems();
    assert!(!problems.is_empty(), "{r}");
    assert!(problems.iter().all(|(_, m)| !m.is_empty()), "{r}");
    assert!(
        problems.iter().any(|(p, _)| p == path),
        "a problem at {path}: {problems:?}"
    );
}

async fn answering_another_question_than_the_current_one_is_409(app: TestApp) {
    let s = app.start(DEMO).await;
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "fondo", "selected_option_ids": ["nada"]}),
        )
        .await;
    r.assert_error(409, "not_current_question");
    assert_eq!(r.json()["error"]["details"]["current_question"], "plazo");
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "nope", "selected_option_ids": ["nada"]}),
        )
        .await;
    r.assert_error(409, "not_current_question");
    // Answering the same question twice (a replayed request) is refused the same way.
    let body = json!({"question_id": "plazo", "selected_option_ids": ["1-3"]});
    assert_eq!(app.answer(&s.id, &body).await.status, 200);
    app.answer(&s.id, &body)
        .await
        .assert_error(409, "not_current_question");
}
both!(answering_another_question_than_the_current_one_is_409);

async fn an_unknown_option_is_422(app: TestApp) {
    let s = app.start(DEMO).await;
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "plazo", "selected_option_ids": ["nope"]}),
        )
        .await;
    invalid_at(&r, "selected_option_ids[0]");
    // Nothing moved: the question is still current.
    assert_eq!(app.question(&s.id).await.json()["id"], "plazo");
}
both!(an_unknown_option_is_422);

async fn two_options_on_a_single_question_is_422(app: TestApp) {
    let s = app.start(DEMO).await;
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "plazo", "selected_option_ids": ["menos-1", "1-3"]}),
        )
        .await;
    invalid_at(&r, "selected_option_ids");
}
both!(two_options_on_a_single_question_is_422);

async fn no_option_on_a_required_single_question_is_422(app: TestApp) {
    let s = app.start(DEMO).await;
    for body in [
        json!({"question_id": "plazo", "selected_option_ids": []}),
        json!({"question_id": "plazo"}),
    ] {
        invalid_at(&app.answer(&s.id, &body).await, "selected_option_ids");
    }
}
both!(no_option_on_a_required_single_question_is_422);

async fn more_options_than_max_select_is_422(app: TestApp) {
    app.create_published(&doc("multi-test")).await;
    let s = app.start("multi-test").await;
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "q1", "selected_option_ids": ["a"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let q2 = r.json()["next_question"].clone();
    assert_eq!(q2["type"], "multi");
    assert_eq!(
        (q2["min_select"].clone(), q2["max_select"].clone()),
        (json!(0), json!(2))
    );
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "q2", "selected_option_ids": ["stocks", "bonds", "crypto"]}),
        )
        .await;
    invalid_at(&r, "selected_option_ids");
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "q2", "selected_option_ids": ["stocks", "stocks"]}),
        )
        .await;
    assert_eq!(r.status, 422, "a duplicate option is refused: {r}");
    let ok = app
        .answer(
            &s.id,
            &json!({"question_id": "q2", "selected_option_ids": ["stocks", "crypto"]}),
        )
        .await;
    assert_eq!(ok.status, 200, "{ok}");
}
both!(more_options_than_max_select_is_422);

async fn a_value_on_a_single_question_is_422(app: TestApp) {
    let s = app.start(DEMO).await;
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "plazo", "selected_option_ids": ["1-3"], "value": 3}),
        )
        .await;
    invalid_at(&r, "value");
}
both!(a_value_on_a_single_question_is_422);

async fn a_scale_question_without_a_value_is_422(app: TestApp) {
    let s = at_the_scale_question(&app).await;
    for body in [
        json!({"question_id": "caida"}),
        json!({"question_id": "caida", "value": null}),
        json!({"question_id": "caida", "selected_option_ids": []}),
    ] {
        invalid_at(&app.answer(&s.id, &body).await, "value");
    }
}
both!(a_scale_question_without_a_value_is_422);

async fn a_scale_value_out_of_range_is_422(app: TestApp) {
    let s = at_the_scale_question(&app).await;
    for v in [0, 6, -1, 1_000_000] {
        let r = app
            .answer(&s.id, &json!({"question_id": "caida", "value": v}))
            .await;
        invalid_at(&r, "value");
        let message = &r.problems()[0].1;
        assert!(
            message.contains('1') && message.contains('5'),
            "names the range: {message}"
        );
    }
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "caida", "value": 3, "selected_option_ids": ["x"]}),
        )
        .await;
    invalid_at(&r, "selected_option_ids");
    let ok = app
        .answer(&s.id, &json!({"question_id": "caida", "value": 5}))
        .await;
    assert_eq!(ok.status, 200, "{ok}");
}
both!(a_scale_value_out_of_range_is_422);

async fn malformed_json_is_400(app: TestApp) {
    let s = app.start(DEMO).await;
    let path = format!("/api/v1/sessions/{}/answer", s.id);
    for body in ["{", "{\"question_id\": }", "not json", ""] {
        let r = app.post_raw(&path, body, Some("application/json")).await;
        assert_eq!(r.status, 400, "{body:?}: {r}");
        assert!(
            ["malformed_json", "bad_body"].contains(&r.error_code().as_str()),
            "{r}"
        );
    }
    let start = format!("/api/v1/tests/{DEMO}/sessions");
    app.post_raw(&start, "{", Some("application/json"))
        .await
        .assert_error(400, "malformed_json");
}
both!(malformed_json_is_400);

async fn an_unknown_field_is_422(app: TestApp) {
    let s = app.start(DEMO).await;
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "plazo", "selected_option_ids": ["1-3"], "extra": true}),
        )
        .await;
    r.assert_error(422, "invalid_body");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("extra"),
        "{r}"
    );
    // The start body rejects unknown fields too, and wrong types are 422 as well.
    app.start_session_with(DEMO, &json!({"source": "x", "utm": "y"}))
        .await
        .assert_error(422, "invalid_body");
    app.answer(
        &s.id,
        &json!({"question_id": "plazo", "selected_option_ids": "1-3"}),
    )
    .await
    .assert_error(422, "invalid_body");
    app.answer(&s.id, &json!({"selected_option_ids": ["1-3"]}))
        .await
        .assert_error(422, "invalid_body");
}
both!(an_unknown_field_is_422);

async fn an_answer_without_a_json_content_type_is_415(app: TestApp) {
    let s = app.start(DEMO).await;
    let path = format!("/api/v1/sessions/{}/answer", s.id);
    let body = r#"{"question_id": "plazo", "selected_option_ids": ["1-3"]}"#;
    app.post_raw(&path, body, None)
        .await
        .assert_error(415, "unsupported_media_type");
    app.post_raw(&path, body, Some("text/plain"))
        .await
        .assert_error(415, "unsupported_media_type");
    let ok = app
        .post_raw(&path, body, Some("application/json; charset=utf-8"))
        .await;
    assert_eq!(ok.status, 200, "{ok}");
}
both!(an_answer_without_a_json_content_type_is_415);

async fn finishing_with_questions_left_is_409(app: TestApp) {
    let s = app.start(DEMO).await;
    app.finish(&s.id)
        .await
        .assert_error(409, "questions_remain");
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "plazo", "selected_option_ids": ["1-3"]}),
        )
        .await;
    assert_eq!(r.status, 200);
    app.finish(&s.id)
        .await
        .assert_error(409, "questions_remain");
    // Still answerable afterwards.
    assert_eq!(app.question(&s.id).await.json()["id"], "fondo");
}
both!(finishing_with_questions_left_is_409);

async fn answering_after_the_finish_is_409(app: TestApp) {
    let s = app.start(DEMO).await;
    let served = app.answer_all(&s.id, &s.first, cautious).await;
    let last = served.last().expect("a question").clone();
    // Every question answered, not finished yet: no current question.
    let r = app.answer(&s.id, &cautious(&last)).await;
    r.assert_error(409, "session_finished");
    assert_eq!(app.finish(&s.id).await.status, 200);
    let r = app.answer(&s.id, &cautious(&s.first)).await;
    r.assert_error(409, "session_finished");
    app.question(&s.id)
        .await
        .assert_error(409, "session_finished");
}
both!(answering_after_the_finish_is_409);

async fn an_unknown_session_is_404(app: TestApp) {
    let body = json!({"question_id": "plazo", "selected_option_ids": ["1-3"]});
    app.question(NIL_SESSION)
        .await
        .assert_error(404, "session_not_found");
    app.answer(NIL_SESSION, &body)
        .await
        .assert_error(404, "session_not_found");
    app.finish(NIL_SESSION)
        .await
        .assert_error(404, "session_not_found");
}
both!(an_unknown_session_is_404);

async fn a_session_id_that_is_not_a_uuid_is_404(app: TestApp) {
    let body = json!({"question_id": "plazo", "selected_option_ids": ["1-3"]});
    for sid in ["1", "not-a-uuid", "' OR 1=1 --", "x.y", &"f".repeat(300)] {
        let enc: String = sid
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'-' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        app.question(&enc)
            .await
            .assert_error(404, "session_not_found");
        app.answer(&enc, &body)
            .await
            .assert_error(404, "session_not_found");
        app.finish(&enc)
            .await
            .assert_error(404, "session_not_found");
    }
}
both!(a_session_id_that_is_not_a_uuid_is_404);

async fn an_expired_session_is_410(app: TestApp) {
    let s = app.start(DEMO).await;
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "plazo", "selected_option_ids": ["1-3"]}),
        )
        .await;
    assert_eq!(r.status, 200);
    let expires = app
        .scalar_where("SELECT expires_at FROM quiz_sessions WHERE id = $1", &s.id)
        .await;
    let started = app
        .scalar_where("SELECT started_at FROM quiz_sessions WHERE id = $1", &s.id)
        .await;
    assert_eq!(
        expires - started,
        86_400,
        "SESSION_TTL_DAYS=1 sets the expiry"
    );
    // As any writer of a session row does, bump `rev`: the live-session cache's copy is stale.
    app.exec(
        "UPDATE quiz_sessions SET expires_at = expires_at - 86401, rev = rev + 1 WHERE id = $1",
        &s.id,
    )
    .await;
    app.question(&s.id)
        .await
        .assert_error(410, "session_expired");
    app.answer(
        &s.id,
        &json!({"question_id": "fondo", "selected_option_ids": ["nada"]}),
    )
    .await
    .assert_error(410, "session_expired");
    app.finish(&s.id).await.assert_error(410, "session_expired");
}
both!(an_expired_session_is_410, "SESSION_TTL_DAYS" => "1");

async fn an_oversized_body_is_a_json_413(app: TestApp) {
    let s = app.start(DEMO).await;
    let huge = "x".repeat(600 * 1024);
    let body = json!({"question_id": "plazo", "selected_option_ids": [huge]});
    let r = app.answer(&s.id, &body).await;
    r.assert_error(413, "payload_too_large");
    let r = app
        .post_raw(
            &format!("/api/v1/tests/{DEMO}/sessions"),
            body.to_string(),
            Some("application/json"),
        )
        .await;
    r.assert_error(413, "payload_too_large");
    let r = app
        .admin_post_raw(
            "/api/v1/admin/tests",
            body.to_string(),
            Some("application/json"),
        )
        .await;
    r.assert_error(413, "payload_too_large");
    // Just under the limit is read (and refused for what it says, not for its size).
    let under = json!({"question_id": "plazo", "selected_option_ids": ["x".repeat(500 * 1024)]});
    assert_eq!(app.answer(&s.id, &under).await.status, 422);
}
both!(an_oversized_body_is_a_json_413);

async fn a_flood_of_option_ids_gets_a_small_422(app: TestApp) {
    // 100,000 bogus ids (400 KB of JSON, under the 512 KiB body limit): once, every one came
    // back as a problem, megabytes of 422.
    let s = app.start(DEMO).await;
    let ids = vec!["z"; 100_000];
    let body = json!({"question_id": "plazo", "selected_option_ids": ids});
    let sent = body.to_string().len();
    assert!(
        sent < 512 * 1024,
        "{sent} bytes would be a 413, not the case under test"
    );
    let r = app.answer(&s.id, &body).await;
    invalid_at(&r, "selected_option_ids[0]");
    let problems = r.problems();
    assert_eq!(problems.len(), 21, "20 listed and one counting the rest");
    assert_eq!(problems[20].1, "99981 more problems were not listed");
    assert!(r.text.len() < 4096, "{} bytes of 422", r.text.len());
    // Refused whole: the question is still current.
    assert_eq!(app.question(&s.id).await.json()["id"], "plazo");
}
both!(a_flood_of_option_ids_gets_a_small_422);

async fn a_finished_session_can_be_read_while_a_new_one_starts(app: TestApp) {
    // Two sessions of one visitor do not interfere.
    let a = app.start(DEMO).await;
    let b = app.start(DEMO).await;
    assert_ne!(a.id, b.id);
    app.answer_all(&a.id, &a.first, aggressive).await;
    assert_eq!(app.question(&b.id).await.json()["id"], "plazo");
    let r: Value = app.finish(&a.id).await.json();
    assert_eq!(r["profile_code"], "AGRESIVO");
}
both!(a_finished_session_can_be_read_while_a_new_one_starts);

async fn concurrent_answers_to_one_question_apply_once(app: TestApp) {
    let s = app.start(DEMO).await;
    let body = json!({"question_id": "plazo", "selected_option_ids": ["1-3"]});
    let (a, b, c, d) = tokio::join!(
        app.answer(&s.id, &body),
        app.answer(&s.id, &body),
        app.answer(&s.id, &body),
        app.answer(&s.id, &body)
    );
    let all = [a, b, c, d];
    let won = all.iter().filter(|r| r.status == 200).count();
    assert_eq!(won, 1, "exactly one applies: {all:?}");
    for r in all.iter().filter(|r| r.status != 200) {
        assert_eq!(r.status, 409, "{r}");
        let code = r.error_code();
        assert!(
            ["concurrent_answer", "not_current_question"].contains(&code.as_str()),
            "{r}"
        );
    }
    let q = app.question(&s.id).await.json();
    assert_eq!(q["id"], "fondo");
    assert_eq!(q["progress"]["index"], 2, "one answer recorded");
}
both!(concurrent_answers_to_one_question_apply_once);
