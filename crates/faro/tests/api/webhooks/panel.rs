//! The panel's webhooks page over HTTP (the browser tests are elsewhere): endpoints with
//! their deliveries, adding one (the secret shown once), and replaying a failed delivery.

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::json;

use super::{Receiver, finish_a_quiz, subscribe, wait_for_status};
use crate::both;
use crate::common::{ADMIN_PASSWORD, ADMIN_USER, TestApp, form_body};

async fn the_panel_lists_endpoints_with_their_deliveries_and_replays_a_failed_one(app: TestApp) {
    let rx = Receiver::start();
    let good = subscribe(&app, &rx, "good", "").await;
    let bad = subscribe(&app, &rx, "bad", "fail=4").await;
    finish_a_quiz(&app).await;
    wait_for_status(&app, &good.id, "delivered").await;
    let failed = wait_for_status(&app, &bad.id, "failed").await;
    let failed_id = failed["id"].as_str().expect("id");

    // The panel session a browser would have: the cookies and the form's CSRF token.
    let login = app
        .post_json(
            "/api/v1/admin/login",
            &json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}),
        )
        .await;
    let v = login.json();
    let csrf = v["csrf_token"].as_str().expect("csrf").to_string();
    let cookies = format!(
        "faro_session={}; faro_csrf={csrf}",
        v["access_token"].as_str().expect("token")
    );

    let page = app
        .send(
            app.request(Method::GET, "/admin/webhooks")
                .header(COOKIE, &cookies),
        )
        .await;
    assert_eq!(page.status, 200, "{page}");
    let html = &page.text;
    assert!(
        html.contains(r#"<a href="/admin/webhooks" aria-current="page">Webhooks</a>"#),
        "the navigation marks the page"
    );
    for url in [rx.url("good", ""), rx.url("bad", "fail=4")] {
        assert!(
            html.contains(&url.replace('&', "&amp;")),
            "{url} listed:\n{html}"
        );
    }
    assert!(html.contains(r#"data-status="delivered""#), "{html}");
    assert!(html.contains(r#"data-status="failed""#), "{html}");
    assert!(html.contains("HTTP 500"), "the failure's cause is shown");
    let replay = format!(r#"action="/admin/webhook-deliveries/{failed_id}/replay""#);
    assert!(html.contains(&replay), "a Replay button for the failed one");
    assert_eq!(
        html.matches("/replay\"").count(),
        1,
        "only failed ones replay"
    );
    assert!(!html.contains("whsec_"), "no secret on the page");

    // Replay through the form: back to the page, delivered by the receiver's fifth answer.
    let r = app
        .send(
            app.request(
                Method::POST,
                &format!("/admin/webhook-deliveries/{failed_id}/replay"),
            )
            .header(COOKIE, &cookies)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_body(&[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(r.status, 303, "{r}");
    assert_eq!(r.header("location"), Some("/admin/webhooks?msg=replayed"));
    rx.wait_for("bad", 5).await;
    wait_for_status(&app, &bad.id, "delivered").await;

    // Adding one through the form shows its secret on that answer only.
    let r = app
        .send(
            app.request(Method::POST, "/admin/webhooks")
                .header(COOKIE, &cookies)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form_body(&[
                    ("csrf", &csrf),
                    ("url", &rx.url("third", "")),
                    ("event_kinds", "quiz.*"),
                ])),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    assert!(r.text.contains("whsec_"), "the secret is shown once");
    let again = app
        .send(
            app.request(Method::GET, "/admin/webhooks")
                .header(COOKIE, &cookies),
        )
        .await;
    assert!(again.text.contains(&rx.url("third", "")));
    assert!(!again.text.contains("whsec_"), "and never again");

    // A form without its CSRF token changes nothing.
    let r = app
        .send(
            app.request(Method::POST, "/admin/webhooks")
                .header(COOKIE, &cookies)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form_body(&[
                    ("url", &rx.url("fourth", "")),
                    ("event_kinds", "quiz.*"),
                ])),
        )
        .await;
    assert_eq!(r.status, 403, "{r}");
}
both!(
    the_panel_lists_endpoints_with_their_deliveries_and_replays_a_failed_one,
    "ALLOW_PRIVATE_NETWORK_TARGETS" => "true",
    "WEBHOOK_RETRY_SCHEDULE_SECS" => "0.2,0.2,0.2",
);
