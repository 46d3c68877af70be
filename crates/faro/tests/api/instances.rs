//! Several stateless instances on one PostgreSQL database: sessions move between them,
//! counters add up, catalog changes spread within CATALOG_CACHE_MS.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{DEMO, TestApp, aggressive, cautious, doc};
use crate::postgres_only;

async fn a_session_moves_freely_between_instances(a: TestApp) {
    let b = a.sibling(&[]).await;
    let s = a.start(DEMO).await;
    // Answered on B, then on A, then B again: A's live-session cache is stale at each of its
    // steps, and the row's rev sends it back to the database.
    let r = b.answer(&s.id, &aggressive(&s.first)).await;
    assert_eq!(r.status, 200, "{r}");
    let next = r.json()["next_question"].clone();
    let r = a.answer(&s.id, &aggressive(&next)).await;
    assert_eq!(r.status, 200, "{r}");
    let next = r.json()["next_question"].clone();
    assert_eq!(b.question(&s.id).await.json()["id"], next["id"]);
    b.answer_all(&s.id, &next, aggressive).await;
    let on_a = a.finish(&s.id).await;
    assert_eq!(on_a.status, 200, "{on_a}");
    let on_b = b.finish(&s.id).await;
    assert_eq!(on_b.status, 200, "{on_b}");
    // Each test instance has its own PUBLIC_BASE_URL; the link's token is the same.
    let strip = |mut v: serde_json::Value| {
        let url = v["share_url"].as_str().unwrap_or_default().to_string();
        let token = url.rsplit('/').next().unwrap_or_default().to_string();
        v["share_url"] = json!(token);
        v
    };
    assert_eq!(
        strip(on_b.json()),
        strip(on_a.json()),
        "the result is the same everywhere"
    );
    // The admin token of one instance works on the other (shared secret).
    let token = a.login().await;
    let r = b
        .send(
            b.request(reqwest::Method::GET, "/api/v1/admin/me")
                .bearer_auth(token),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
}
postgres_only!(a_session_moves_freely_between_instances);

/// The live-session cache of one instance never lets an answer apply twice: the instance that
/// started the session holds it in memory, the other reads the row, and the row's `rev`
/// decides.
async fn one_answer_sent_to_two_instances_at_once_applies_once(a: TestApp) {
    let b = a.sibling(&[]).await;
    for _ in 0..5 {
        let s = a.start(DEMO).await;
        let body = aggressive(&s.first);
        let (x, y) = tokio::join!(a.answer(&s.id, &body), b.answer(&s.id, &body));
        let mut statuses = [x.status, y.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{x} / {y}");
        let lost = if x.status == 409 { &x } else { &y };
        assert!(
            ["concurrent_answer", "not_current_question"].contains(&lost.error_code().as_str()),
            "{lost}"
        );
        let next = a.question(&s.id).await.json();
        assert_ne!(next["id"], s.first["id"]);
        assert_eq!(b.question(&s.id).await.json()["id"], next["id"]);
    }
}
postgres_only!(one_answer_sent_to_two_instances_at_once_applies_once);

async fn analytics_after_flushing_every_instance_are_the_sum(a: TestApp) {
    let b = a.sibling(&[]).await;
    // Two finished on A, one on B, one started on A and finished on B, one abandoned on B.
    for _ in 0..2 {
        a.complete(DEMO, cautious).await;
    }
    b.complete(DEMO, aggressive).await;
    let s = a.start(DEMO).await;
    b.answer_all(&s.id, &s.first, aggressive).await;
    assert_eq!(b.finish(&s.id).await.status, 200);
    b.start(DEMO).await;

    let id = a.test_id(DEMO).await;
    b.flush().await;
    let report = a.analytics(&format!("test_id={id}")).await;
    assert_eq!(report["starts"], 5, "{report}");
    assert_eq!(report["finishes"], 4, "{report}");
    assert_eq!(report["conversion_rate"], 0.8);
    let from_b = b.analytics(&format!("test_id={id}")).await;
    assert_eq!(from_b, report, "every instance reads the same figures");
    let plazo = &report["questions"][0];
    assert_eq!(
        (plazo["reached"].clone(), plazo["answered"].clone()),
        (json!(5), json!(4))
    );
}
postgres_only!(analytics_after_flushing_every_instance_are_the_sum);

/// Issue 5's setup: three instances on one PostgreSQL database and one Redis, with the default
/// start limit (30 an hour per client). Thirty starts spread over the three all pass and the
/// 31st is refused by each of them; a session moves through all three; the analytics count
/// exactly what was done.
async fn three_instances_share_sessions_limits_and_counts(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    let apps = [&a, &b, &c];
    let mut first = None;
    for i in 0..30 {
        let r = apps[i % 3].start_session(DEMO, "").await;
        assert_eq!(r.status, 201, "start {i}: {r}");
        first.get_or_insert(r.json());
    }
    for app in apps {
        app.start_session(DEMO, "")
            .await
            .assert_error(429, "rate_limited");
    }
    let started = first.expect("a session");
    let sid = started["session_id"].as_str().expect("id").to_string();
    let mut question = started["first_question"].clone();
    let mut answered = 0;
    while !question.is_null() {
        // Started on A; answered on B, C, A, B...
        let r = apps[(answered + 1) % 3]
            .answer(&sid, &aggressive(&question))
            .await;
        assert_eq!(r.status, 200, "{r}");
        question = r.json()["next_question"].clone();
        answered += 1;
    }
    let finished = c.finish(&sid).await;
    assert_eq!(finished.status, 200, "{finished}");
    let token = finished.json()["share_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("token")
        .to_string();
    for app in apps {
        assert_eq!(app.share(&token, true).await.status, 200);
    }
    let id = a.test_id(DEMO).await;
    b.flush().await;
    c.flush().await;
    let report = a.analytics(&format!("test_id={id}")).await;
    assert_eq!(
        report["starts"], 30,
        "refused starts are not counted: {report}"
    );
    assert_eq!(report["finishes"], 1, "{report}");
    assert_eq!(report["share_opens"], 3, "{report}");
}
postgres_only!(
    three_instances_share_sessions_limits_and_counts,
    "REDIS_URL" => crate::common::redis_url().as_str(),
    "RATE_LIMIT_SESSION_STARTS" => "30/hour",
);

async fn listed(app: &TestApp, slug: &str) -> Option<i64> {
    app.catalog("").await.json()["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["slug"] == slug))
        .and_then(|t| t["version"].as_i64())
}

/// Polls the catalog of `app` until `slug` is served at `version` (None: not served), for at
/// most two seconds; returns how long it took.
async fn served_within_two_seconds(app: &TestApp, slug: &str, version: Option<i64>) -> Duration {
    let started = Instant::now();
    loop {
        if listed(app, slug).await == version {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{slug} not at {version:?} within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn a_publish_on_one_instance_reaches_the_others_within_the_cache_ttl(a: TestApp) {
    let b = a.sibling(&[]).await;
    assert_eq!(listed(&b, "late").await, None, "B has cached its catalog");
    let id = a.create_published(&doc("late")).await;
    assert_eq!(
        listed(&a, "late").await,
        Some(1),
        "A sees its own publish at once"
    );
    let took = served_within_two_seconds(&b, "late", Some(1)).await;
    eprintln!("B saw the publish after {took:?}");
    assert_eq!(b.start("late").await.version, 1);

    // A new version, and switching off, spread the same way.
    let r = a
        .admin_post_raw(&format!("/api/v1/admin/tests/{id}/versions"), "", None)
        .await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(a.publish(&id, 2).await.status, 200);
    served_within_two_seconds(&b, "late", Some(2)).await;
    assert_eq!(b.start("late").await.version, 2);
    let r = a
        .admin_put(
            &format!("/api/v1/admin/tests/{id}"),
            &json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.status, 200);
    served_within_two_seconds(&b, "late", None).await;
    b.start_session("late", "")
        .await
        .assert_error(404, "test_not_found");
}
postgres_only!(
    a_publish_on_one_instance_reaches_the_others_within_the_cache_ttl,
    "CATALOG_CACHE_MS" => "200",
);

async fn a_test_deleted_on_one_instance_is_404_on_another_with_a_stale_cache(a: TestApp) {
    let b = a.sibling(&[]).await;
    let id = a.create_published(&doc("short-lived")).await;
    // B caches the catalog and the version by serving a session.
    let s = b.start("short-lived").await;
    assert_eq!(
        a.admin_delete(&format!("/api/v1/admin/tests/{id}"))
            .await
            .status,
        204
    );
    // B's catalog is stale for up to CATALOG_CACHE_MS, but a start must not fail with a 500.
    b.start_session("short-lived", "")
        .await
        .assert_error(404, "test_not_found");
    b.question(&s.id)
        .await
        .assert_error(404, "session_not_found");
    b.answer(&s.id, &cautious(&s.first))
        .await
        .assert_error(404, "session_not_found");
}
postgres_only!(
    a_test_deleted_on_one_instance_is_404_on_another_with_a_stale_cache,
    "CATALOG_CACHE_MS" => "60000",
);

async fn instances_starting_together_seed_the_demo_once(a: TestApp) {
    // A fresh database, and three instances booting at the same moment.
    let url = faro_store::testing::create_database(faro_store::Backend::Postgres).await;
    let (x, y, z) = tokio::join!(
        TestApp::builder(faro_store::Backend::Postgres)
            .database(&url)
            .spawn(),
        TestApp::builder(faro_store::Backend::Postgres)
            .database(&url)
            .spawn(),
        TestApp::builder(faro_store::Backend::Postgres)
            .database(&url)
            .spawn(),
    );
    let catalog = x.catalog("").await.json();
    assert_eq!(
        catalog["items"].as_array().map(Vec::len),
        Some(1),
        "{catalog}"
    );
    assert_eq!(
        catalog["items"][0]["version"], 1,
        "one demo, published once: {catalog}"
    );
    let id = y.test_id(DEMO).await;
    let versions = z
        .admin_get(&format!("/api/v1/admin/tests/{id}/versions"))
        .await
        .json();
    assert_eq!(
        versions["items"].as_array().map(Vec::len),
        Some(1),
        "{versions}"
    );
    assert_eq!(x.scalar("SELECT COUNT(*) FROM users").await, 1);
    drop((x, y, z));
    crate::common::drop_database(faro_store::Backend::Postgres, &url).await;
    drop(a);
}
postgres_only!(instances_starting_together_seed_the_demo_once);
