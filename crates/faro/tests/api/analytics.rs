//! Analytics add up exactly: starts, finishes, conversion, drop-off, profiles, attribution,
//! share opens, and suspicious sessions counted apart.

use serde_json::{Value, json};

use crate::both;
use crate::common::{DEMO, TestApp, aggressive, cautious, doc, pick};

/// Answers everything, then moves the start back ten minutes, so the finish is not
/// suspicious under ANTIBOT_MIN_SECONDS=60. Bumping `rev` is what every writer of a session
/// row does; it tells the server's live-session cache its copy is stale.
async fn finish_slowly(
    app: &TestApp,
    sid: &str,
    first: &Value,
    answer: impl Fn(&Value) -> Value,
) -> Value {
    app.answer_all(sid, first, answer).await;
    app.exec(
        "UPDATE quiz_sessions SET started_at = started_at - 600, rev = rev + 1 WHERE id = $1",
        sid,
    )
    .await;
    let r = app.finish(sid).await;
    assert_eq!(r.status, 200, "{r}");
    r.json()
}

fn question(report: &Value, key: &str) -> (i64, i64, i64, f64) {
    let q = report["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .find(|q| q["key"] == key)
        .unwrap_or_else(|| panic!("no question {key} in {report}"));
    (
        q["reached"].as_i64().expect("reached"),
        q["answered"].as_i64().expect("answered"),
        q["drop_off"].as_i64().expect("drop_off"),
        q["drop_off_rate"].as_f64().expect("rate"),
    )
}

async fn analytics_add_up_exactly(app: TestApp) {
    // Two cautious finishes from the newsletter.
    let mut shared = None;
    for _ in 0..2 {
        let r = app.start_session(DEMO, "?utm_source=newsletter").await;
        assert_eq!(r.status, 201, "{r}");
        let s = crate::common::started(&r);
        let result = finish_slowly(&app, &s.id, &s.first, cautious).await;
        assert_eq!(result["profile_code"], "CONSERVADOR");
        shared = result["share_url"].as_str().map(str::to_string);
    }
    // One aggressive finish from the spring campaign.
    let r = app
        .start_session_with(DEMO, &json!({"campaign": "spring"}))
        .await;
    let s = crate::common::started(&r);
    let result = finish_slowly(&app, &s.id, &s.first, aggressive).await;
    assert_eq!(result["profile_code"], "AGRESIVO");
    // One finish that skips the advanced questions.
    let s = app.start(DEMO).await;
    let result = finish_slowly(&app, &s.id, &s.first, |q| {
        pick(q, false, &[("ingresos", "inestables")])
    })
    .await;
    assert_eq!(result["profile_code"], "AGRESIVO");
    // Two abandoned: one after the first answer, one before any.
    let s = app.start(DEMO).await;
    let r = app.answer(&s.id, &cautious(&s.first)).await;
    assert_eq!(r.status, 200);
    app.start(DEMO).await;
    // One suspicious: finished faster than ANTIBOT_MIN_SECONDS, from a bot source.
    let r = app
        .start_session(DEMO, "?utm_source=bot&utm_campaign=botnet")
        .await;
    let s = crate::common::started(&r);
    app.answer_all(&s.id, &s.first, aggressive).await;
    let r = app.finish(&s.id).await;
    assert_eq!(
        r.status, 200,
        "a suspicious visitor still gets a result: {r}"
    );
    // Two share opens.
    let token = shared
        .as_deref()
        .and_then(|u| u.rsplit('/').next())
        .expect("token")
        .to_string();
    assert_eq!(app.share(&token, false).await.status, 200);
    assert_eq!(app.share(&token, true).await.status, 200);
    // Another test's traffic stays out of the demo's figures.
    app.create_published(&doc("elsewhere")).await;
    app.start("elsewhere").await;

    let id = app.test_id(DEMO).await;
    let report = app.analytics(&format!("test_id={id}")).await;
    assert_eq!(report["test_id"], id.as_str());
    assert_eq!(report["versions"], json!([1]));
    assert_eq!(report["starts"], 6, "{report}");
    assert_eq!(report["finishes"], 4, "{report}");
    assert_eq!(report["suspicious"], 1, "{report}");
    assert_eq!(report["conversion_rate"], 0.6667);
    assert_eq!(report["share_opens"], 2);
    let avg = report["avg_seconds_to_finish"].as_f64().expect("avg");
    assert!((600.0..660.0).contains(&avg), "{avg}");

    assert_eq!(question(&report, "plazo"), (6, 5, 1, 0.1667));
    assert_eq!(question(&report, "fondo"), (5, 4, 1, 0.2));
    assert_eq!(question(&report, "ingresos"), (4, 4, 0, 0.0));
    assert_eq!(
        question(&report, "experiencia"),
        (3, 3, 0, 0.0),
        "one session skipped it"
    );
    assert_eq!(question(&report, "caida"), (3, 3, 0, 0.0));
    assert_eq!(question(&report, "porcentaje"), (3, 3, 0, 0.0));
    assert_eq!(question(&report, "objetivo"), (4, 4, 0, 0.0));
    assert_eq!(question(&report, "conocimiento"), (4, 4, 0, 0.0));
    let order: Vec<&str> = report["questions"]
        .as_array()
        .expect("q")
        .iter()
        .filter_map(|q| q["key"].as_str())
        .collect();
    assert_eq!(
        order,
        [
            "plazo",
            "fondo",
            "ingresos",
            "experiencia",
            "caida",
            "porcentaje",
            "objetivo",
            "conocimiento"
        ]
    );

    let profiles: Vec<(String, i64, f64)> = report["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap_or("").to_string(),
                p["count"].as_i64().unwrap_or(-1),
                p["share"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    assert_eq!(
        profiles,
        [
            ("CONSERVADOR".to_string(), 2, 0.5),
            ("MODERADO".to_string(), 0, 0.0),
            ("AGRESIVO".to_string(), 2, 0.5)
        ]
    );
    assert_eq!(
        report["sources"],
        json!([{"name": "newsletter", "count": 2}]),
        "the bot is out"
    );
    assert_eq!(report["campaigns"], json!([{"name": "spring", "count": 1}]));

    let daily = report["daily"].as_array().expect("daily");
    let sum = |field: &str| {
        daily
            .iter()
            .map(|d| d[field].as_i64().unwrap_or(0))
            .sum::<i64>()
    };
    assert_eq!(
        (
            sum("starts"),
            sum("finishes"),
            sum("share_opens"),
            sum("suspicious")
        ),
        (6, 4, 2, 1)
    );

    // By version: the demo has one, so the figures are the same.
    let vid = app.version_id(&id, 1).await;
    let by_version = app.analytics(&format!("test_version_id={vid}")).await;
    for field in [
        "starts",
        "finishes",
        "suspicious",
        "share_opens",
        "questions",
        "profiles",
        "sources",
    ] {
        assert_eq!(by_version[field], report[field], "{field}");
    }

    // Today only is everything; a range in the past is empty.
    let today = faro_store::day_of(faro_store::unix_now());
    let yesterday = faro_store::day_of(faro_store::unix_now() - 86_400);
    let range = app
        .analytics(&format!("test_id={id}&from={yesterday}&to={today}"))
        .await;
    assert_eq!(range["starts"], 6);
    assert_eq!(
        (range["from"].clone(), range["to"].clone()),
        (json!(yesterday), json!(today))
    );
    let past = app
        .analytics(&format!("test_id={id}&from=2020-01-01&to=2020-12-31"))
        .await;
    assert_eq!(
        (past["starts"].clone(), past["finishes"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(past["conversion_rate"], 0.0);
    assert!(past["avg_seconds_to_finish"].is_null());
}
both!(analytics_add_up_exactly, "ANTIBOT_MIN_SECONDS" => "60");

async fn analytics_reject_bad_dates_and_ranges(app: TestApp) {
    let id = app.test_id(DEMO).await;
    for (query, code) in [
        ("from=yesterday", "invalid_date"),
        ("to=2026-13-01", "invalid_date"),
        ("from=2026-02-30", "invalid_date"),
        ("from=22-11-2026", "invalid_date"),
        ("to=", "invalid_date"),
        ("from=2026-11-23&to=2026-11-22", "invalid_range"),
        ("from=2020-01-01&to=2026-11-22", "invalid_range"),
    ] {
        let r = app
            .admin_get(&format!("/api/v1/admin/analytics?test_id={id}&{query}"))
            .await;
        r.assert_error(400, code);
    }
    let r = app
        .admin_get(&format!(
            "/api/v1/admin/analytics?test_id={id}&from=2025-11-22&to=2026-11-22"
        ))
        .await;
    assert_eq!(r.status, 200, "366 days is allowed: {r}");
}
both!(analytics_reject_bad_dates_and_ranges);

async fn analytics_need_exactly_one_of_test_id_and_test_version_id(app: TestApp) {
    let id = app.test_id(DEMO).await;
    let vid = app.version_id(&id, 1).await;
    app.admin_get("/api/v1/admin/analytics")
        .await
        .assert_error(400, "invalid_query");
    app.admin_get(&format!(
        "/api/v1/admin/analytics?test_id={id}&test_version_id={vid}"
    ))
    .await
    .assert_error(400, "invalid_query");
    app.admin_get(&format!("/api/v1/admin/analytics?test_id={id}&version=1"))
        .await
        .assert_error(400, "invalid_query");
    app.admin_get("/api/v1/admin/analytics?test_id=nope")
        .await
        .assert_error(404, "not_found");
    app.admin_get("/api/v1/admin/analytics?test_version_id=nope")
        .await
        .assert_error(404, "not_found");
}
both!(analytics_need_exactly_one_of_test_id_and_test_version_id);

async fn counters_reach_the_database_by_themselves(app: TestApp) {
    // No explicit flush: the flusher (COUNTER_FLUSH_MS=1000) writes them within a second or so.
    app.start(DEMO).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let n = app.scalar("SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM stats_daily WHERE metric = 'starts'").await;
        if n == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the flusher did not write the start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
both!(counters_reach_the_database_by_themselves);
