//! Retention per data class: a tenant keeps anonymous visitors, end users and its audit log
//! for the days its settings say; the hourly job erases what is older through the usual
//! erasure (events and audit entries), and nothing else: not the recent, not another
//! tenant's.

use reqwest::Method;
use serde_json::json;

use crate::both;
use crate::common::TestApp;
use crate::tenants::create_tenant;

async fn register(app: &TestApp, host: Option<&str>, email: &str) -> String {
    let mut req = app
        .request(Method::POST, "/api/v1/auth/register")
        .json(&json!({"email": email, "password": "Sol-y-Sombra-2026"}));
    if let Some(h) = host {
        req = req.header(reqwest::header::HOST, h);
    }
    let r = app.send(req).await;
    assert_eq!(r.status, 201, "{r}");
    r.json()["user"]["id"].as_str().expect("id").to_owned()
}

async fn visitor(app: &TestApp, host: Option<&str>) -> String {
    let mut req = app.request(Method::GET, "/api/v1/public/whoami");
    if let Some(h) = host {
        req = req.header(reqwest::header::HOST, h);
    }
    let r = app.send(req).await;
    r.json()["visitor_id"].as_str().expect("id").to_owned()
}

async fn age(app: &TestApp, sql: &'static str, id: &str) {
    assert_eq!(app.exec(sql, id).await, 1, "{sql} {id}");
}

async fn the_job_erases_what_is_older_than_each_class_keeps(app: TestApp) {
    let bad = app
        .admin_put(
            "/api/v1/admin/settings",
            &json!({"doc": {"retention": {"visitors": 7, "emails": 30}}}),
        )
        .await;
    bad.assert_error(422, "validation_failed");
    let r = app
        .admin_put(
            "/api/v1/admin/settings",
            &json!({"doc": {"retention": {"visitors": 30, "end_users": 365, "audit_log": 90}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");

    // The scheduled run stays out of the way: this test runs it by hand.
    app.exec(
        "UPDATE jobs SET next_run_at = 99999999999999 WHERE name = $1",
        "platform.retention",
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    // Old and recent people here; old people on a tenant that keeps everything.
    create_tenant(&app, "keeps", "keeps.test").await;
    let old_visitor = visitor(&app, None).await;
    let new_visitor = visitor(&app, None).await;
    let old_user = register(&app, None, "old@example.com").await;
    let new_user = register(&app, None, "new@example.com").await;
    let other_visitor = visitor(&app, Some("keeps.test")).await;
    let other_user = register(&app, Some("keeps.test"), "old@example.com").await;
    let now = faro_store::unix_now();
    // Visitors last seen 40 days ago, users last signed in 400 days ago, entries of 100 days.
    for v in [&old_visitor, &other_visitor] {
        age(
            &app,
            "UPDATE visitors SET first_seen_at = first_seen_at - 3456000, \
             last_seen_at = last_seen_at - 3456000 WHERE id = $1",
            v,
        )
        .await;
    }
    for u in [&old_user, &other_user] {
        age(
            &app,
            "UPDATE end_users SET created_at = created_at - 34560000, \
             last_login_at = last_login_at - 34560000 WHERE id = $1",
            u,
        )
        .await;
    }
    let audit_before = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE tenant_id = 'default'")
        .await;
    assert!(audit_before >= 1);
    app.exec(
        "UPDATE audit_log SET at = at - 8640000 WHERE tenant_id = $1",
        "default",
    )
    .await;
    let other_audit = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE tenant_id <> 'default'")
        .await;

    let applied = faro_platform::retention::apply(&app.core, now)
        .await
        .expect("retention runs");
    assert_eq!(applied.visitors, 1, "{applied:?}");
    assert_eq!(applied.end_users, 1, "{applied:?}");
    assert_eq!(applied.audit_entries as i64, audit_before, "{applied:?}");

    for (id, kept) in [(&old_visitor, 0), (&new_visitor, 1), (&other_visitor, 1)] {
        assert_eq!(
            app.scalar_where("SELECT COUNT(*) FROM visitors WHERE id = $1", id)
                .await,
            kept,
            "visitor {id}"
        );
    }
    for (id, kept) in [(&old_user, 0), (&new_user, 1), (&other_user, 1)] {
        assert_eq!(
            app.scalar_where("SELECT COUNT(*) FROM end_users WHERE id = $1", id)
                .await,
            kept,
            "{id}"
        );
    }
    // Erased the usual way: events for every module, audit entries by `retention`.
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM events WHERE kind = 'user.deleted' AND subject = $1",
            &old_user
        )
        .await,
        1
    );
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM events WHERE kind = 'visitor.deleted' AND subject = $1",
            &old_visitor
        )
        .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'retention'")
            .await,
        2
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE tenant_id <> 'default'")
            .await,
        other_audit,
        "another tenant's log is untouched"
    );
    // A second run finds nothing more.
    let again = faro_platform::retention::apply(&app.core, now)
        .await
        .expect("runs");
    assert_eq!(again, faro_platform::retention::Applied::default());
}
both!(the_job_erases_what_is_older_than_each_class_keeps);
