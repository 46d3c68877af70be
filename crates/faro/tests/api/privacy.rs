//! What is kept about visitors: raw answers only when asked for, never with a session id;
//! no IP or user agent anywhere.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::both;
use crate::common::{DEMO, TestApp, aggressive, cautious, doc};

async fn without_store_answers_no_answer_is_kept(app: TestApp) {
    app.complete(DEMO, cautious).await;
    app.complete(DEMO, aggressive).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM quiz_answers").await, 0);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM quiz_results").await, 2);
}
both!(without_store_answers_no_answer_is_kept);

async fn with_store_answers_a_row_has_the_answers_and_no_session_id(app: TestApp) {
    let s = app.start(DEMO).await;
    app.answer_all(&s.id, &s.first, |q| {
        crate::common::pick(q, false, &[("ingresos", "inestables")])
    })
    .await;
    let result = app.finish(&s.id).await.json();
    // Unfinished sessions keep nothing.
    let open = app.start(DEMO).await;
    assert_eq!(
        app.answer(&open.id, &cautious(&open.first)).await.status,
        200
    );

    assert_eq!(app.scalar("SELECT COUNT(*) FROM quiz_answers").await, 1);
    let columns: BTreeSet<String> = app.columns("quiz_answers").await.into_iter().collect();
    let expected: BTreeSet<String> = ["id", "tenant_id", "version_id", "day", "answers"]
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        columns, expected,
        "no session id, no share token, no client hash"
    );

    let row = sqlx::query("SELECT id, answers FROM quiz_answers")
        .fetch_one(app.core.db.reader())
        .await
        .expect("row");
    use sqlx::Row;
    let id: String = row.try_get("id").expect("id");
    let text: String = row.try_get("answers").expect("answers");
    assert_ne!(id, s.id);
    assert!(!text.contains(&s.id));
    let token = result["share_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("token");
    assert!(!text.contains(token), "not joinable to the share link");
    let answers: Value = serde_json::from_str(&text).expect("answers JSON");
    assert_eq!(
        answers,
        json!({
            "plazo": ["mas-10"],
            "fondo": ["mas-6"],
            "ingresos": ["inestables"],
            "objetivo": ["crecer"],
            "conocimiento": ["avanzado"]
        })
    );
}
both!(with_store_answers_a_row_has_the_answers_and_no_session_id, "STORE_ANSWERS" => "true");

async fn a_test_can_opt_in_to_keeping_answers(app: TestApp) {
    let mut opted = doc("opted-in");
    opted["store_answers"] = json!(true);
    app.create_published(&opted).await;
    app.complete("opted-in", |q| {
        let id = q["id"].as_str().unwrap_or_default();
        match id {
            "q1" => json!({"question_id": id, "selected_option_ids": ["b"]}),
            "q2" => json!({"question_id": id, "selected_option_ids": ["stocks", "crypto"]}),
            _ => json!({"question_id": id, "value": 4}),
        }
    })
    .await;
    app.complete(DEMO, cautious).await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM quiz_answers").await,
        1,
        "only the opted-in test"
    );
    let text: String = {
        use sqlx::Row;
        sqlx::query("SELECT answers FROM quiz_answers")
            .fetch_one(app.core.db.reader())
            .await
            .expect("row")
            .try_get(0)
            .expect("answers")
    };
    let answers: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        answers,
        json!({"q1": ["b"], "q2": ["stocks", "crypto"], "q3": 4})
    );
}
both!(a_test_can_opt_in_to_keeping_answers);

async fn sessions_and_results_keep_no_ip_or_user_agent(app: TestApp) {
    let sessions: BTreeSet<String> = app.columns("quiz_sessions").await.into_iter().collect();
    let expected: BTreeSet<String> = [
        "id",
        "tenant_id",
        "version_id",
        "state",
        "rev",
        "status",
        "started_at",
        "finished_at",
        "expires_at",
        "source",
        "campaign",
        "share_token",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(sessions, expected);
    for table in [
        "quiz_sessions",
        "quiz_results",
        "quiz_answers",
        "stats_daily",
    ] {
        for column in app.columns(table).await {
            let c = column.to_lowercase();
            for bad in [
                "ip", "addr", "agent", "ua", "user", "client", "hash", "email",
            ] {
                assert!(
                    !c.split('_').any(|part| part == bad),
                    "{table}.{column} looks personal"
                );
            }
        }
    }
    let results: BTreeSet<String> = app.columns("quiz_results").await.into_iter().collect();
    assert!(!results.contains("session_id"), "{results:?}");

    // And a real session stores nothing about the client: the request headers are not in the row.
    let r = app
        .send(
            app.request(
                reqwest::Method::POST,
                &format!("/api/v1/tests/{DEMO}/sessions"),
            )
            .header("user-agent", "UniqueAgent/9.9")
            .header("x-forwarded-for", "203.0.113.77"),
        )
        .await;
    assert_eq!(r.status, 201);
    let dump: String = {
        use sqlx::Row;
        sqlx::query(
            "SELECT state || COALESCE(source, '') || COALESCE(campaign, '') FROM quiz_sessions",
        )
        .fetch_one(app.core.db.reader())
        .await
        .expect("row")
        .try_get(0)
        .expect("text")
    };
    assert!(
        !dump.contains("UniqueAgent") && !dump.contains("203.0.113"),
        "{dump}"
    );
}
both!(sessions_and_results_keep_no_ip_or_user_agent);
