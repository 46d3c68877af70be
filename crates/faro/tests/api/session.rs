//! A visitor's whole session on the demo test: start, every answer, finish, the rules.

use serde_json::{Value, json};

use crate::both;
use crate::common::{DEMO, TestApp, aggressive, cautious, pick, started};

const DEMO_KEYS: [&str; 8] = [
    "plazo",
    "fondo",
    "ingresos",
    "experiencia",
    "caida",
    "porcentaje",
    "objetivo",
    "conocimiento",
];

fn ids(served: &[Value]) -> Vec<String> {
    served
        .iter()
        .map(|q| q["id"].as_str().expect("id").to_string())
        .collect()
}

async fn a_full_session_on_the_demo_ends_with_a_profile_and_a_share_url(app: TestApp) {
    let r = app.start_session(DEMO, "").await;
    assert_eq!(r.status, 201, "{r}");
    let s = started(&r);
    assert!(
        uuid::Uuid::parse_str(&s.id).is_ok(),
        "session ids are UUIDs: {}",
        s.id
    );
    assert_eq!(s.version, 1);
    let first = &s.first;
    assert_eq!(first["id"], "plazo");
    assert_eq!(first["type"], "single");
    assert_eq!(first["required"], true);
    assert_eq!(first["progress"], json!({"index": 1, "total_estimate": 8}));
    assert_eq!(first["options"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        first["options"][0],
        json!({"id": "menos-1", "text": "En menos de un año"})
    );

    // GET /question serves the same current question.
    let q = app.question(&s.id).await;
    assert_eq!(q.status, 200, "{q}");
    assert_eq!(q.json()["id"], "plazo");

    let served = app.answer_all(&s.id, first, aggressive).await;
    assert_eq!(ids(&served), DEMO_KEYS);
    for (i, q) in served.iter().enumerate() {
        assert_eq!(q["progress"]["index"], i + 1, "{q}");
        assert_eq!(q["progress"]["total_estimate"], 8, "{q}");
        assert!(!q.to_string().contains("scores"), "no scores exposed: {q}");
        assert!(!q.to_string().contains("\"next\""), "no jumps exposed: {q}");
    }
    let types: Vec<&str> = served
        .iter()
        .map(|q| q["type"].as_str().unwrap_or(""))
        .collect();
    assert!(
        types.contains(&"multi") && types.contains(&"scale"),
        "{types:?}"
    );
    let scale = &served[4];
    assert_eq!(scale["scale"]["min"], 1);
    assert_eq!(scale["scale"]["max"], 5);
    assert!(scale["scale"]["min_label"].is_string());
    assert_eq!(scale["options"], json!([]));

    // Nothing left to ask.
    app.question(&s.id)
        .await
        .assert_error(409, "session_finished");

    let r = app.finish(&s.id).await;
    assert_eq!(r.status, 200, "{r}");
    let result = r.json();
    assert_eq!(result["profile_code"], "AGRESIVO");
    assert_eq!(result["title"], "Agresivo");
    assert_eq!(result["score"], 100);
    assert!(result["summary"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(result["recommendations"].as_array().map(Vec::len), Some(3));
    let dims = result["dimensions"].as_array().expect("dimensions");
    assert_eq!(dims.len(), 5);
    for d in dims {
        assert!(d["key"].is_string() && d["label"].is_string(), "{d}");
        let score = d["score"].as_u64().expect("score");
        assert!(score <= 100, "{d}");
    }
    let share = result["share_url"].as_str().expect("share_url");
    let prefix = format!("{}/r/", app.base);
    assert!(
        share.starts_with(&prefix),
        "{share} starts with PUBLIC_BASE_URL"
    );
    assert_eq!(share.len(), prefix.len() + 22, "{share}");
    assert!(
        !share.contains(&s.id),
        "the share link does not reveal the session"
    );
}
both!(a_full_session_on_the_demo_ends_with_a_profile_and_a_share_url);

async fn a_cautious_path_is_conservador(app: TestApp) {
    let result = app.complete(DEMO, cautious).await;
    assert_eq!(result["profile_code"], "CONSERVADOR", "{result}");
    assert_eq!(result["title"], "Conservador");
    // Weighted bounds of the demo are 9..=191; these answers total 23 (the rule on `caida`
    // adds -2 tolerance, weight 3): round(100 * 14 / 182) = 8.
    assert_eq!(result["score"], 8, "{result}");
    // Per dimension, unweighted: ingresos is 10 of 0..=16, 62.5 rounded away from zero;
    // tolerancia (1 after the rule, of 3..=36) clamps to 0.
    let dims: Vec<(String, u64)> = result["dimensions"]
        .as_array()
        .expect("dimensions")
        .iter()
        .map(|d| {
            (
                d["key"].as_str().unwrap_or("").to_string(),
                d["score"].as_u64().unwrap_or(999),
            )
        })
        .collect();
    let expected = [
        ("horizonte", 0),
        ("tolerancia", 0),
        ("ingresos", 63),
        ("objetivo", 0),
        ("conocimiento", 0),
    ];
    assert_eq!(
        dims,
        expected
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<Vec<_>>(),
        "{result}"
    );
}
both!(a_cautious_path_is_conservador);

async fn an_aggressive_path_is_agresivo(app: TestApp) {
    let result = app.complete(DEMO, aggressive).await;
    assert_eq!(result["profile_code"], "AGRESIVO", "{result}");
    assert_eq!(result["score"], 100);
    for d in result["dimensions"].as_array().expect("dims") {
        assert_eq!(d["score"], 100, "every dimension at its maximum: {d}");
    }
}
both!(an_aggressive_path_is_agresivo);

async fn a_middle_path_is_moderado(app: TestApp) {
    let result = app
        .complete(DEMO, |q: &Value| {
            let id = q["id"].as_str().unwrap_or_default();
            match id {
                "experiencia" => {
                    json!({"question_id": id, "selected_option_ids": ["acciones", "fci"]})
                }
                "caida" => json!({"question_id": id, "value": 3}),
                _ => {
                    let option = match id {
                        "plazo" | "fondo" => "1-3",
                        "ingresos" => "variables",
                        "porcentaje" => "hasta-10",
                        "objetivo" => "meta",
                        "conocimiento" => "basico",
                        other => panic!("unexpected question {other}"),
                    };
                    json!({"question_id": id, "selected_option_ids": [option]})
                }
            }
        })
        .await;
    // 8 + 7 + 12 + 17 + 27 + 9 + 4 + 3 = 87 of 9..=191: round(100 * 78 / 182) = 43.
    assert_eq!(result["profile_code"], "MODERADO", "{result}");
    assert_eq!(result["score"], 43, "{result}");
}
both!(a_middle_path_is_moderado);

async fn no_stable_income_skips_the_advanced_questions(app: TestApp) {
    let s = app.start(DEMO).await;
    let served = app
        .answer_all(&s.id, &s.first, |q| {
            pick(q, false, &[("ingresos", "inestables")])
        })
        .await;
    assert_eq!(
        ids(&served),
        ["plazo", "fondo", "ingresos", "objetivo", "conocimiento"]
    );
    let progress: Vec<Value> = served.iter().map(|q| q["progress"].clone()).collect();
    assert_eq!(progress[2], json!({"index": 3, "total_estimate": 8}));
    assert_eq!(
        progress[3],
        json!({"index": 4, "total_estimate": 5}),
        "the estimate shrinks once the jump skips three questions"
    );
    assert_eq!(progress[4], json!({"index": 5, "total_estimate": 5}));
    let r = app.finish(&s.id).await;
    assert_eq!(r.status, 200, "{r}");
    // Skipped questions stay out of the bounds: 20 + 21 + 0 + 10 + 10 = 61 of 0..=81 is 75.
    let result = r.json();
    assert_eq!(result["score"], 75, "{result}");
    assert_eq!(result["profile_code"], "AGRESIVO", "{result}");

    // The skipped questions are never current, so they cannot be answered either.
    let s = app.start(DEMO).await;
    for (key, option) in [
        ("plazo", "mas-10"),
        ("fondo", "mas-6"),
        ("ingresos", "inestables"),
    ] {
        let r = app
            .answer(
                &s.id,
                &json!({"question_id": key, "selected_option_ids": [option]}),
            )
            .await;
        assert_eq!(r.status, 200, "{r}");
    }
    let r = app
        .answer(
            &s.id,
            &json!({"question_id": "experiencia", "selected_option_ids": []}),
        )
        .await;
    r.assert_error(409, "not_current_question");
    assert_eq!(r.json()["error"]["details"]["current_question"], "objetivo");
}
both!(no_stable_income_skips_the_advanced_questions);

async fn the_start_takes_attribution_from_the_query_or_the_body(app: TestApp) {
    let r = app
        .start_session(DEMO, "?utm_source=Newsletter&utm_campaign=Black%20Friday")
        .await;
    assert_eq!(r.status, 201, "{r}");
    let r = app
        .start_session_with(DEMO, &json!({"source": "instagram", "campaign": "spring"}))
        .await;
    assert_eq!(r.status, 201, "{r}");
    let r = app
        .start_session_with(DEMO, &json!({"source": "instagram"}))
        .await;
    assert_eq!(r.status, 201, "{r}");
    // The body wins over the query when both are given.
    let r = app
        .send(
            app.request(
                reqwest::Method::POST,
                &format!("/api/v1/tests/{DEMO}/sessions?utm_source=ignored"),
            )
            .json(&json!({"source": "mail"})),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    // An empty JSON object, a JSON null (the body is optional and nullable) and an empty
    // body are all fine.
    assert_eq!(app.start_session_with(DEMO, &json!({})).await.status, 201);
    assert_eq!(app.start_session_with(DEMO, &json!(null)).await.status, 201);
    assert_eq!(app.start_session(DEMO, "").await.status, 201);

    let id = app.test_id(DEMO).await;
    let report = app.analytics(&format!("test_id={id}")).await;
    assert_eq!(report["starts"], 7, "{report}");
    assert_eq!(
        report["sources"],
        json!([
            {"name": "instagram", "count": 2},
            {"name": "mail", "count": 1},
            {"name": "newsletter", "count": 1}
        ])
    );
    assert_eq!(
        report["campaigns"],
        json!([{"name": "black_friday", "count": 1}, {"name": "spring", "count": 1}])
    );
}
both!(the_start_takes_attribution_from_the_query_or_the_body);

async fn finishing_twice_gives_the_same_result_and_counts_once(app: TestApp) {
    let s = app.start(DEMO).await;
    app.answer_all(&s.id, &s.first, cautious).await;
    let first = app.finish(&s.id).await;
    assert_eq!(first.status, 200, "{first}");
    let second = app.finish(&s.id).await;
    assert_eq!(second.status, 200, "{second}");
    assert_eq!(first.json(), second.json());
    // Concurrent finishes of another session agree too.
    let s2 = app.start(DEMO).await;
    app.answer_all(&s2.id, &s2.first, aggressive).await;
    let (a, b) = tokio::join!(app.finish(&s2.id), app.finish(&s2.id));
    assert_eq!((a.status, b.status), (200, 200), "{a} {b}");
    assert_eq!(a.json(), b.json());

    let id = app.test_id(DEMO).await;
    let report = app.analytics(&format!("test_id={id}")).await;
    assert_eq!(report["starts"], 2, "{report}");
    assert_eq!(report["finishes"], 2, "each session counted once: {report}");
    let profiles: Vec<(String, i64)> = report["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap_or("").to_string(),
                p["count"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        profiles,
        [
            ("CONSERVADOR".to_string(), 1),
            ("MODERADO".to_string(), 0),
            ("AGRESIVO".to_string(), 1)
        ]
    );
}
both!(finishing_twice_gives_the_same_result_and_counts_once);

async fn the_same_answers_always_give_the_same_result(app: TestApp) {
    let a = app.complete(DEMO, cautious).await;
    let b = app.complete(DEMO, cautious).await;
    let strip = |mut v: Value| {
        v.as_object_mut().map(|m| m.remove("share_url"));
        v
    };
    assert_ne!(
        a["share_url"], b["share_url"],
        "each result has its own link"
    );
    assert_eq!(strip(a), strip(b));
}
both!(the_same_answers_always_give_the_same_result);

async fn hostile_attribution_labels_are_cleaned(app: TestApp) {
    let long = "x".repeat(300);
    let r = app
        .start_session_with(
            DEMO,
            &json!({"source": "<script>alert(1)</script>", "campaign": long}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let r = app
        .start_session(DEMO, "?utm_source=%20%20&utm_campaign=Spring%20Sale%21")
        .await;
    assert_eq!(r.status, 201, "{r}");
    let id = app.test_id(DEMO).await;
    let report = app.analytics(&format!("test_id={id}")).await;
    let sources = report["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 1, "a blank source is no source: {sources:?}");
    let source = sources[0]["name"].as_str().expect("name");
    assert!(
        !source.contains('<') && !source.contains('>') && !source.contains('('),
        "{source}"
    );
    let campaigns: Vec<&str> = report["campaigns"]
        .as_array()
        .expect("campaigns")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(campaigns.contains(&"spring_sale_"), "{campaigns:?}");
    assert!(campaigns.iter().all(|c| c.len() <= 64), "{campaigns:?}");
}
both!(hostile_attribution_labels_are_cleaned);

/// `doc()` with q2 optional.
fn optional_doc(slug: &str, required: bool) -> Value {
    let mut d = crate::common::doc(slug);
    d["questions"][1]["required"] = json!(required);
    d
}

async fn an_optional_question_left_empty_stays_out_of_the_score(app: TestApp) {
    app.create_published(&optional_doc("optional-q2", false))
        .await;
    app.create_published(&optional_doc("required-q2", true))
        .await;
    let answer = |q: &Value| {
        let id = q["id"].as_str().unwrap_or_default();
        match id {
            "q1" => json!({"question_id": id, "selected_option_ids": ["b"]}),
            "q2" => json!({"question_id": id, "selected_option_ids": []}),
            _ => json!({"question_id": id, "value": 3}),
        }
    };
    // q1=b is 5, q3=3 is 12: 17 over bounds 4..=30 without q2 gives 50.
    let skipped = app.complete("optional-q2", answer).await;
    assert_eq!(skipped["score"], 50, "{skipped}");
    assert_eq!(skipped["profile_code"], "MED");
    // A required multi with min_select 0 answered empty is a real zero: bounds 4..=44 give
    // round(32.5) = 33, halves rounding away from zero.
    let zero = app.complete("required-q2", answer).await;
    assert_eq!(zero["score"], 33, "{zero}");
    assert_eq!(zero["profile_code"], "LOW");
    // An option's `next` jumps over q2 altogether.
    let jumped = app
        .complete("optional-q2", |q: &Value| {
            let id = q["id"].as_str().unwrap_or_default();
            match id {
                "q1" => json!({"question_id": id, "selected_option_ids": ["c"]}),
                "q3" => json!({"question_id": id, "value": 5}),
                other => panic!("{other} should have been skipped"),
            }
        })
        .await;
    assert_eq!(jumped["score"], 100, "{jumped}");
}
both!(an_optional_question_left_empty_stays_out_of_the_score);
