//! Rate limits on session starts and answers, in one process and shared through Redis.

use serde_json::json;

use crate::common::{DEMO, Resp, TestApp};
use crate::{both, postgres_only};

#[track_caller]
fn limited(r: &Resp, limit: &str) -> u64 {
    r.assert_error(429, "rate_limited");
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!(retry >= 1, "{retry}");
    assert_eq!(r.header("ratelimit-limit"), Some(limit), "{:?}", r.headers);
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    let reset: u64 = r
        .header("ratelimit-reset")
        .expect("RateLimit-Reset")
        .parse()
        .expect("seconds");
    assert!(reset >= 1, "{reset}");
    retry
}

async fn session_starts_are_limited_per_client(app: TestApp) {
    for remaining in ["2", "1", "0"] {
        let r = app.start_session(DEMO, "").await;
        assert_eq!(r.status, 201, "{r}");
        assert_eq!(r.header("ratelimit-limit"), Some("3"));
        assert_eq!(r.header("ratelimit-remaining"), Some(remaining));
        let reset: u64 = r
            .header("ratelimit-reset")
            .expect("reset")
            .parse()
            .expect("secs");
        assert!((1..=3600).contains(&reset), "{reset}");
    }
    let r = app.start_session(DEMO, "").await;
    let retry = limited(&r, "3");
    // 3/hour refills one start every 20 minutes.
    assert!((1000..=1200).contains(&retry), "{retry}");
    assert_eq!(r.json()["error"]["details"]["bucket"], "session_starts");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM quiz_sessions").await,
        3,
        "no session for the refused start"
    );
    // Other endpoints are not affected.
    assert_eq!(app.catalog("").await.status, 200);
}
both!(session_starts_are_limited_per_client, "RATE_LIMIT_SESSION_STARTS" => "3/hour");

async fn answers_are_limited_per_client(app: TestApp) {
    let s = app.start(DEMO).await;
    let bodies = [
        json!({"question_id": "plazo", "selected_option_ids": ["1-3"]}),
        json!({"question_id": "fondo", "selected_option_ids": ["1-3"]}),
        json!({"question_id": "ingresos", "selected_option_ids": ["estables"]}),
    ];
    for (body, remaining) in bodies.iter().zip(["1", "0"]) {
        let r = app.answer(&s.id, body).await;
        assert_eq!(r.status, 200, "{r}");
        assert_eq!(r.header("ratelimit-remaining"), Some(remaining));
    }
    let r = app.answer(&s.id, &bodies[2]).await;
    limited(&r, "2");
    assert_eq!(
        app.question(&s.id).await.json()["id"],
        "ingresos",
        "the refused answer was not applied"
    );
}
both!(answers_are_limited_per_client, "RATE_LIMIT_ANSWERS" => "2/hour");

async fn without_limits_no_ratelimit_headers_are_sent(app: TestApp) {
    for _ in 0..5 {
        let r = app.start_session(DEMO, "").await;
        assert_eq!(r.status, 201);
        assert!(r.header("ratelimit-limit").is_none(), "{:?}", r.headers);
    }
}
both!(without_limits_no_ratelimit_headers_are_sent);

async fn limits_are_shared_by_instances_through_redis(a: TestApp) {
    let b = a.sibling(&[]).await;
    for app in [&a, &b] {
        assert_eq!(
            app.get("/api/v1/ready").await.json()["rate_limits"],
            "redis"
        );
    }
    assert_eq!(a.start_session(DEMO, "").await.status, 201);
    let r = b.start_session(DEMO, "").await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(
        r.header("ratelimit-remaining"),
        Some("1"),
        "B sees what A spent"
    );
    assert_eq!(a.start_session(DEMO, "").await.status, 201);
    limited(&b.start_session(DEMO, "").await, "3");
    limited(&a.start_session(DEMO, "").await, "3");
    assert_eq!(a.scalar("SELECT COUNT(*) FROM quiz_sessions").await, 3);
}
postgres_only!(
    limits_are_shared_by_instances_through_redis,
    "REDIS_URL" => crate::common::redis_url().as_str(),
    "RATE_LIMIT_SESSION_STARTS" => "3/hour",
);

async fn x_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limit(app: TestApp) {
    for n in 1..=4 {
        let r = app
            .send(
                app.request(
                    reqwest::Method::POST,
                    &format!("/api/v1/tests/{DEMO}/sessions"),
                )
                .header("x-forwarded-for", format!("198.51.100.{n}")),
            )
            .await;
        if n <= 2 {
            assert_eq!(r.status, 201, "{r}");
        } else {
            limited(&r, "2");
        }
    }
}
both!(
    x_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limit,
    "RATE_LIMIT_SESSION_STARTS" => "2/hour",
);

async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(app: TestApp) {
    let start = |ip: &'static str| {
        app.send(
            app.request(
                reqwest::Method::POST,
                &format!("/api/v1/tests/{DEMO}/sessions"),
            )
            .header("x-forwarded-for", format!("{ip}, 127.0.0.1")),
        )
    };
    assert_eq!(start("198.51.100.1").await.status, 201);
    assert_eq!(start("198.51.100.1").await.status, 201);
    limited(&start("198.51.100.1").await, "2");
    assert_eq!(
        start("198.51.100.2").await.status,
        201,
        "another client behind the proxy"
    );
}
both!(
    behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget,
    "RATE_LIMIT_SESSION_STARTS" => "2/hour",
    "TRUSTED_PROXIES" => "127.0.0.1/32",
);
