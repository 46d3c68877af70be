//! Deliveries: signed envelopes a third-party library verifies, retries with the same
//! webhook-id, timeouts, failure and replay.

use serde_json::{Value, json};

use super::{Receiver, deliveries, finish_a_quiz, subscribe, wait_for_status};
use crate::both;
use crate::common::TestApp;

fn header<'a>(request: &'a Value, name: &str) -> &'a str {
    request["headers"][name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} header: {request:#}"))
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

async fn a_finished_quiz_is_delivered_signed_and_the_standard_webhooks_library_verifies_it(
    app: TestApp,
) {
    let rx = Receiver::start();
    let hook = subscribe(&app, &rx, "main", "").await;
    // The creation answer: the secret, shown this once, and the endpoint.
    let b = &hook.body;
    assert!(hook.secret.starts_with("whsec_"), "{b}");
    assert_eq!(b["url"], rx.url("main", ""));
    assert_eq!(b["event_kinds"], json!(["quiz.finished"]));
    assert_eq!(b["enabled"], true);
    assert!(
        b["created_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{b}"
    );

    let session = finish_a_quiz(&app).await;
    let got = rx.wait_for("main", 1).await;
    assert_eq!(got.len(), 1, "one event, one request: {got:#?}");
    let request = &got[0];
    assert_eq!(
        request["verified"], true,
        "standardwebhooks verifies it: {request:#}"
    );
    assert!(request["error"].is_null(), "{request:#}");

    // Standard Webhooks headers, a JSON body, our user agent.
    let id = header(request, "webhook-id");
    let ts: f64 = header(request, "webhook-timestamp")
        .parse()
        .expect("unix seconds");
    assert!((ts - unix_now()).abs() < 60.0, "timestamp {ts}");
    assert!(header(request, "webhook-signature").starts_with("v1,"));
    assert_eq!(header(request, "content-type"), "application/json");
    assert!(header(request, "user-agent").starts_with("Faro-Webhooks/"));

    // The envelope: exactly the fixed fields, the payload an object.
    let envelope: Value =
        serde_json::from_str(request["body"].as_str().expect("body")).expect("JSON body");
    let mut fields: Vec<&str> = envelope
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["id", "kind", "occurred_at", "payload", "subject", "tenant"]
    );
    assert_eq!(envelope["id"], id, "webhook-id is the event id");
    assert_eq!(envelope["kind"], "quiz.finished");
    assert_eq!(envelope["tenant"], "default");
    assert_eq!(envelope["subject"], session.as_str());
    let occurred = envelope["occurred_at"].as_str().expect("occurred_at");
    assert!(
        time::OffsetDateTime::parse(occurred, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "RFC 3339: {occurred}"
    );
    let payload = &envelope["payload"];
    assert!(
        payload.is_object(),
        "the payload is an object: {envelope:#}"
    );
    assert_eq!(payload["session_id"], session.as_str());
    assert!(payload["profile_code"].is_string(), "{payload:#}");
    assert!(payload["score"].is_number(), "{payload:#}");

    // The delivery log says so; the secret is never shown again.
    let d = wait_for_status(&app, &hook.id, "delivered").await;
    assert_eq!(d["event_id"], id);
    assert_eq!(d["event_kind"], "quiz.finished");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["max_attempts"], 4);
    assert_eq!(d["last_status_code"], 200);
    assert!(d["last_error"].is_null(), "{d:#}");
    assert!(d["delivered_at"].is_string(), "{d:#}");
    let list = app.admin_get("/api/v1/admin/webhooks").await;
    assert_eq!(list.status, 200, "{list}");
    let one = app
        .admin_get(&format!("/api/v1/admin/webhooks/{}", hook.id))
        .await;
    assert_eq!(one.status, 200, "{one}");
    for r in [&list, &one] {
        assert!(!r.text.contains("whsec_"), "no secret after creation: {r}");
        assert!(!r.text.contains("\"secret\""), "{r}");
    }
    assert_eq!(list.json()["items"][0]["id"], hook.id.as_str());
    assert!(list.json()["next_cursor"].is_null());
}
both!(
    a_finished_quiz_is_delivered_signed_and_the_standard_webhooks_library_verifies_it,
    "ALLOW_PRIVATE_NETWORK_TARGETS" => "true",
    "WEBHOOK_RETRY_SCHEDULE_SECS" => "0.2,0.2,0.2",
);

async fn a_500_is_retried_with_the_same_webhook_id_and_succeeds_on_a_later_attempt(app: TestApp) {
    let rx = Receiver::start();
    let hook = subscribe(&app, &rx, "flaky", "fail=2").await;
    finish_a_quiz(&app).await;
    let got = rx.wait_for("flaky", 3).await;
    let answers: Vec<&str> = got
        .iter()
        .map(|r| r["answer"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(answers, ["500", "500", "200"]);
    let ids: Vec<&str> = got.iter().map(|r| header(r, "webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "same webhook-id: {ids:?}");
    assert!(
        got.iter().all(|r| r["verified"] == true),
        "every attempt is signed afresh: {got:#?}"
    );
    // The schedule's waits (0.2 s) separate the attempts.
    for pair in got.windows(2) {
        let gap = pair[1]["at"].as_f64().unwrap_or(0.0) - pair[0]["at"].as_f64().unwrap_or(0.0);
        assert!(gap >= 0.15, "retried after {gap} s");
    }
    let d = wait_for_status(&app, &hook.id, "delivered").await;
    assert_eq!(d["attempts"], 3, "{d:#}");
    assert_eq!(d["last_status_code"], 200);
    assert_eq!(
        deliveries(&app, &hook.id).await.len(),
        1,
        "one delivery, three attempts"
    );
}
both!(
    a_500_is_retried_with_the_same_webhook_id_and_succeeds_on_a_later_attempt,
    "ALLOW_PRIVATE_NETWORK_TARGETS" => "true",
    "WEBHOOK_RETRY_SCHEDULE_SECS" => "0.2,0.2,0.2",
);

async fn a_receiver_that_does_not_answer_in_time_counts_as_a_failure_and_is_retried(app: TestApp) {
    let rx = Receiver::start();
    let hook = subscribe(&app, &rx, "slow", "hang=1").await;
    finish_a_quiz(&app).await;
    let got = rx.wait_for("slow", 2).await;
    assert_eq!(got[0]["answer"], "hang");
    assert_eq!(got[1]["answer"], "200");
    assert_eq!(header(&got[0], "webhook-id"), header(&got[1], "webhook-id"));
    // The first attempt was given up after the 1 s timeout, then retried 0.2 s later.
    let gap = got[1]["at"].as_f64().unwrap_or(0.0) - got[0]["at"].as_f64().unwrap_or(0.0);
    assert!(
        (1.0..3.5).contains(&gap),
        "retried {gap} s after the hanging attempt"
    );
    let d = wait_for_status(&app, &hook.id, "delivered").await;
    assert_eq!(d["attempts"], 2, "{d:#}");
}
both!(
    a_receiver_that_does_not_answer_in_time_counts_as_a_failure_and_is_retried,
    "ALLOW_PRIVATE_NETWORK_TARGETS" => "true",
    "WEBHOOK_RETRY_SCHEDULE_SECS" => "0.2,0.2,0.2",
    "WEBHOOK_TIMEOUT_SECS" => "1",
);

async fn after_every_attempt_fails_the_delivery_is_failed_and_a_replay_delivers_it(app: TestApp) {
    let rx = Receiver::start();
    let hook = subscribe(&app, &rx, "down", "fail=4").await;
    finish_a_quiz(&app).await;
    let d = wait_for_status(&app, &hook.id, "failed").await;
    assert_eq!(d["attempts"], 4, "{d:#}");
    assert_eq!(d["last_status_code"], 500);
    assert_eq!(d["last_error"], "HTTP 500");
    assert!(
        d["last_response"]
            .as_str()
            .is_some_and(|r| r.contains("told to fail")),
        "the answer's start is kept: {d:#}"
    );
    assert!(d["next_attempt_at"].is_null(), "{d:#}");
    assert_eq!(rx.received_by("down").await.len(), 4, "no fifth attempt");

    // Only the failed ones of this endpoint, by status.
    let failed = app
        .admin_get(&format!(
            "/api/v1/admin/webhooks/{}/deliveries?status=failed",
            hook.id
        ))
        .await;
    assert_eq!(failed.json()["items"].as_array().map(Vec::len), Some(1));
    let none = app
        .admin_get(&format!(
            "/api/v1/admin/webhooks/{}/deliveries?status=delivered",
            hook.id
        ))
        .await;
    assert_eq!(none.json()["items"], json!([]));
    app.admin_get(&format!(
        "/api/v1/admin/webhooks/{}/deliveries?status=lost",
        hook.id
    ))
    .await
    .assert_error(400, "invalid_query");

    // Replay: queued again at once, delivered by the receiver's fifth answer (a 200).
    let id = d["id"].as_str().expect("id");
    let r = app
        .admin_post(
            &format!("/api/v1/admin/webhook-deliveries/{id}/replay"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{r}");
    assert_eq!(r.json()["status"], "pending");
    assert_eq!(r.json()["attempts"], 0);
    let got = rx.wait_for("down", 5).await;
    assert_eq!(got[4]["answer"], "200");
    assert_eq!(
        header(&got[4], "webhook-id"),
        d["event_id"].as_str().expect("event")
    );
    assert_eq!(got[4]["verified"], true);
    let d = wait_for_status(&app, &hook.id, "delivered").await;
    assert_eq!(d["attempts"], 1, "{d:#}");
    app.admin_post(
        "/api/v1/admin/webhook-deliveries/no-such-delivery/replay",
        &json!({}),
    )
    .await
    .assert_error(404, "not_found");
}
both!(
    after_every_attempt_fails_the_delivery_is_failed_and_a_replay_delivers_it,
    "ALLOW_PRIVATE_NETWORK_TARGETS" => "true",
    "WEBHOOK_RETRY_SCHEDULE_SECS" => "0.2,0.2,0.2",
);

async fn three_instances_make_each_attempt_once(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    let rx = Receiver::start();
    // The first three requests fail, so retries are up for grabs too.
    let hook = subscribe(&a, &rx, "shared", "fail=3").await;
    for app in [&a, &b, &c, &a, &b, &c] {
        finish_a_quiz(app).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let items = deliveries(&a, &hook.id).await;
        if items.len() == 6 && items.iter().all(|d| d["status"] == "delivered") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all delivered: {items:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let got = rx.received_by("shared").await;
    assert_eq!(
        got.len(),
        9,
        "six events, three retries, nothing twice: {got:#?}"
    );
    let mut ok: Vec<&str> = got
        .iter()
        .filter(|r| r["answer"] == "200")
        .map(|r| header(r, "webhook-id"))
        .collect();
    ok.sort_unstable();
    ok.dedup();
    assert_eq!(ok.len(), 6, "each event delivered once");
    assert!(got.iter().all(|r| r["verified"] == true));
}
crate::postgres_only!(
    three_instances_make_each_attempt_once,
    "ALLOW_PRIVATE_NETWORK_TARGETS" => "true",
    "WEBHOOK_RETRY_SCHEDULE_SECS" => "0.2,0.2,0.2",
);
