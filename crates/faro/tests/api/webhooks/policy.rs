//! Who receives what: disabled endpoints and other kinds get nothing, tenants are apart, and
//! private network targets are refused unless the installation allows them.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    Receiver, admin_patch, create_webhook, deliveries, finish_a_quiz, subscribe, wait_for_status,
};
use crate::both;
use crate::common::TestApp;

async fn a_disabled_endpoint_and_an_endpoint_for_other_kinds_receive_nothing(app: TestApp) {
    let rx = Receiver::start();
    let on = subscribe(&app, &rx, "on", "").await;
    let off = subscribe(&app, &rx, "off", "").await;
    let other = create_webhook(&app, &rx.url("other", ""), &["leads.*", "user.registered"]).await;
    rx.register("other", &other.secret).await;
    let r = admin_patch(
        &app,
        &format!("/api/v1/admin/webhooks/{}", off.id),
        &json!({"enabled": false}),
    )
    .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["enabled"], false);
    assert_eq!(
        r.json()["event_kinds"],
        json!(["quiz.finished"]),
        "the rest is kept"
    );

    finish_a_quiz(&app).await;
    rx.wait_for("on", 1).await;
    wait_for_status(&app, &on.id, "delivered").await;
    // The fan-out handled the event for every endpoint at once: nothing else is coming.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.received_by("off").await.is_empty());
    assert!(rx.received_by("other").await.is_empty());
    assert!(
        deliveries(&app, &off.id).await.is_empty(),
        "nothing queued while disabled"
    );
    assert!(deliveries(&app, &other.id).await.is_empty());

    // Switched on again, it gets what happens from now on, not what it missed.
    let r = admin_patch(
        &app,
        &format!("/api/v1/admin/webhooks/{}", off.id),
        &json!({"enabled": true}),
    )
    .await;
    assert_eq!(r.json()["enabled"], true, "{r}");
    let second = finish_a_quiz(&app).await;
    let got = rx.wait_for("off", 1).await;
    rx.wait_for("on", 2).await;
    assert_eq!(got.len(), 1);
    let body: serde_json::Value =
        serde_json::from_str(got[0]["body"].as_str().expect("body")).expect("json");
    assert_eq!(body["subject"], second.as_str());
    assert_eq!(got[0]["verified"], true);
}
both!(
    a_disabled_endpoint_and_an_endpoint_for_other_kinds_receive_nothing,
    "ALLOW_PRIVATE_NETWORK_TARGETS" => "true",
    "WEBHOOK_RETRY_SCHEDULE_SECS" => "0.2,0.2,0.2",
);

async fn another_tenants_staff_can_neither_see_nor_touch_an_endpoint(app: TestApp) {
    let rx = Receiver::start();
    let mine = subscribe(&app, &rx, "mine", "").await;
    finish_a_quiz(&app).await;
    let delivery = wait_for_status(&app, &mine.id, "delivered").await;
    let delivery_id = delivery["id"].as_str().expect("id");

    // A second tenant and an admin of it.
    app.exec(
        "INSERT INTO tenants (id, name, created_at) VALUES ($1, 'Second', 0)",
        "t2",
    )
    .await;
    let token = app
        .core
        .keys
        .issue(
            "t2-admin",
            "t2admin",
            "t2",
            faro_auth::Role::Admin,
            Duration::from_secs(3600),
            faro_store::unix_now(),
        )
        .expect("a token for t2");
    let as_t2 = |method: Method, path: String| app.request(method, &path).bearer_auth(&token);

    let list = app
        .send(as_t2(Method::GET, "/api/v1/admin/webhooks".into()))
        .await;
    assert_eq!(list.status, 200, "{list}");
    assert_eq!(list.json()["items"], json!([]));
    let one = format!("/api/v1/admin/webhooks/{}", mine.id);
    for req in [
        as_t2(Method::GET, one.clone()),
        as_t2(Method::PATCH, one.clone()).json(&json!({"enabled": false})),
        as_t2(Method::DELETE, one.clone()),
        as_t2(Method::GET, format!("{one}/deliveries")),
        as_t2(
            Method::POST,
            format!("/api/v1/admin/webhook-deliveries/{delivery_id}/replay"),
        ),
    ] {
        app.send(req).await.assert_error(404, "not_found");
    }
    // Still there, still enabled, its delivery untouched.
    let r = app.admin_get(&one).await;
    assert_eq!(r.json()["enabled"], true, "{r}");
    assert_eq!(deliveries(&app, &mine.id).await[0]["status"], "delivered");

    // t2's own endpoint is invisible to the default tenant and hears none of its events.
    let r = app
        .send(
            as_t2(Method::POST, "/api/v1/admin/webhooks".into())
                .json(&json!({"url": rx.url("theirs", ""), "event_kinds": ["quiz.*"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let theirs = r.json()["id"].as_str().expect("id").to_string();
    let listed = app.admin_get("/api/v1/admin/webhooks").await.json();
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert_eq!(ids, [mine.id.as_str()]);
    app.admin_get(&format!("/api/v1/admin/webhooks/{theirs}"))
        .await
        .assert_error(404, "not_found");
    finish_a_quiz(&app).await;
    rx.wait_for("mine", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.received_by("theirs").await.is_empty());

    // The owner's own changes are in its audit log, without the secret; t2's refused tries
    // and t2's own endpoint are not.
    let r = app
        .send(
            app.admin(Method::PATCH, &one)
                .await
                .json(&json!({"enabled": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let r = app.send(app.admin(Method::DELETE, &one).await).await;
    assert_eq!(r.status, 204, "{r}");
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let mut hooks: Vec<(&str, &Value)> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| {
            e["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("webhook."))
        })
        .map(|e| (e["action"].as_str().expect("action"), e))
        .collect();
    hooks.reverse();
    let actions: Vec<&str> = hooks.iter().map(|(a, _)| *a).collect();
    assert_eq!(
        actions,
        ["webhook.create", "webhook.update", "webhook.delete"],
        "{audit}"
    );
    assert!(hooks.iter().all(|(_, e)| e["target"] == mine.id.as_str()));
    assert_eq!(hooks[1].1["before"]["enabled"], true);
    assert_eq!(hooks[1].1["after"]["enabled"], false);
    assert!(
        !audit.to_string().contains("whsec_"),
        "no secret in the log"
    );
}
both!(
    another_tenants_staff_can_neither_see_nor_touch_an_endpoint,
    "ALLOW_PRIVATE_NETWORK_TARGETS" => "true",
    "WEBHOOK_RETRY_SCHEDULE_SECS" => "0.2,0.2,0.2",
);

async fn without_private_targets_a_loopback_url_is_refused_at_creation_and_localhost_at_delivery(
    app: TestApp,
) {
    let rx = Receiver::start();
    let port = rx.base.rsplit(':').next().expect("port").to_string();
    for url in [
        rx.url("direct", ""),
        format!("http://[::1]:{port}/hook/direct"),
        format!("http://0x7f.1:{port}/hook/direct"),
        "http://10.1.2.3/hook".to_string(),
        "http://169.254.169.254/latest/meta-data".to_string(),
    ] {
        let r = app
            .admin_post(
                "/api/v1/admin/webhooks",
                &json!({"url": url, "event_kinds": ["quiz.finished"]}),
            )
            .await;
        r.assert_error(422, "validation_failed");
        let problems = r.problems();
        assert_eq!(problems.len(), 1, "{r}");
        assert_eq!(problems[0].0, "url");
        assert!(
            problems[0].1.contains("ALLOW_PRIVATE_NETWORK_TARGETS"),
            "the message says why: {r}"
        );
    }
    // Other input problems are listed all at once.
    let r = app
        .admin_post(
            "/api/v1/admin/webhooks",
            &json!({"url": "ftp://receiver.example/x", "event_kinds": []}),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["url", "event_kinds"]);
    let many: Vec<String> = (0..21).map(|i| format!("m{i}.done")).collect();
    let r = app
        .admin_post(
            "/api/v1/admin/webhooks",
            &json!({"url": "https://receiver.example/x", "event_kinds": many}),
        )
        .await;
    r.assert_error(422, "validation_failed");

    // A host name is judged when resolved: localhost is accepted now, refused at delivery.
    let hook = create_webhook(
        &app,
        &format!("http://localhost:{port}/hook/named"),
        &["quiz.finished"],
    )
    .await;
    finish_a_quiz(&app).await;
    let d = wait_for_status(&app, &hook.id, "failed").await;
    let error = d["last_error"].as_str().expect("last_error");
    assert!(
        error.contains("localhost resolves to") && error.contains("loopback"),
        "{error}"
    );
    assert!(d["last_status_code"].is_null(), "{d:#}");
    assert!(
        rx.received().await.is_empty(),
        "nothing reached the receiver"
    );
}
both!(
    without_private_targets_a_loopback_url_is_refused_at_creation_and_localhost_at_delivery,
    "WEBHOOK_RETRY_SCHEDULE_SECS" => "0.1,0.1,0.1",
);
