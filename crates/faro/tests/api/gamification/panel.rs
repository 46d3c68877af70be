//! The panel's gamification pages over HTTP (the browser test is e2e/admin.mjs): each page
//! renders with real figures, viewers read but never write, forms need their CSRF token, a
//! bad design lists every problem (422) and saves nothing, a stale version is a 409, and a
//! reversal writes a ledger entry and an audit row.

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

use super::{conversion, send};
use crate::both;
use crate::common::{ADMIN_PASSWORD, ADMIN_USER, Resp, TestApp};

/// A browser's panel session: its cookies and the token its forms echo.
struct Session {
    cookies: String,
    csrf: String,
}

async fn session(app: &TestApp, user: &str, password: &str) -> Session {
    let r = app.login_as(user, password).await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    let csrf = v["csrf_token"].as_str().expect("csrf").to_owned();
    Session {
        cookies: format!(
            "faro_session={}; faro_csrf={csrf}",
            v["access_token"].as_str().expect("token")
        ),
        csrf,
    }
}

async fn page(app: &TestApp, s: &Session, path: &str) -> Resp {
    app.send(app.request(Method::GET, path).header(COOKIE, &s.cookies))
        .await
}

async fn post(app: &TestApp, s: &Session, path: &str, fields: &[(String, String)]) -> Resp {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.send(
        app.request(Method::POST, path)
            .header(COOKIE, &s.cookies)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(crate::common::form_body(&fields)),
    )
    .await
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The design form as the page pre-fills it, for the stored design `doc` (`{version, design}`).
fn design_form(doc: &Value, csrf: &str) -> Vec<(String, String)> {
    let d = &doc["design"];
    let mut f = pairs(&[("csrf", csrf)]);
    f.push(("version".into(), doc["version"].to_string()));
    for l in d["levels"].as_array().expect("levels") {
        f.push((
            "level_title".into(),
            l["title"].as_str().expect("title").into(),
        ));
        f.push(("level_min".into(), l["min_points"].to_string()));
    }
    for list in ["rules", "multipliers", "badges", "templates"] {
        let text = serde_json::to_string_pretty(&d[list]).expect("json");
        f.push((list.into(), text));
    }
    f.push(("streak_bonus".into(), d["streak_bonus"].to_string()));
    let r = &d["redemption"];
    f.push((
        "points_per_credit".into(),
        r["points_per_credit"].to_string(),
    ));
    f.push(("min_points".into(), r["min_points"].to_string()));
    let kinds: Vec<&str> = d["user_events"]
        .as_array()
        .expect("user_events")
        .iter()
        .map(|k| k.as_str().expect("kind"))
        .collect();
    f.push(("user_events".into(), kinds.join("\n")));
    f
}

/// Replaces the first value of `name`, or the `n`th when the field repeats.
fn set(fields: &mut [(String, String)], name: &str, n: usize, value: &str) {
    let slot = fields
        .iter_mut()
        .filter(|(k, _)| k == name)
        .nth(n)
        .expect("the field");
    slot.1 = value.to_owned();
}

async fn design_doc(app: &TestApp) -> Value {
    let r = app.admin_get("/api/v1/admin/gamification/design").await;
    assert_eq!(r.status, 200, "{r}");
    r.json()
}

async fn every_page_renders_what_the_design_produces(app: TestApp) {
    for (user, key) in [("ana", "a-1"), ("bea", "b-1"), ("ana", "a-2")] {
        let mut e = conversion(user, key, json!({"target_format": "pdf"}));
        e["display_name"] = json!(format!("{} Pérez", user.to_uppercase()));
        assert_eq!(send(&app, e).await.status, 201);
    }
    let admin = session(&app, ADMIN_USER, ADMIN_PASSWORD).await;

    let r = page(&app, &admin, "/admin/gamification").await;
    assert_eq!(r.status, 200, "{r}");
    let html = &r.text;
    assert!(
        html.contains(r#"<a href="/admin/gamification" aria-current="page">Gamification</a>"#),
        "the panel's navigation marks the section"
    );
    for figure in [
        r#"data-metric="players" data-value="2""#,
        r#"data-metric="events" data-value="3""#,
        // 610 + 610 for the first conversions (with their badges), 10 for the second.
        r#"data-metric="points" data-value="1230""#,
    ] {
        assert!(html.contains(figure), "{figure}:\n{html}");
    }
    assert!(html.contains("<svg class=\"chart\""), "the awards chart");
    assert!(html.contains(r#"id="awards-table""#), "and its table");
    // Both players reached level 4 (Maestro de Formatos) with their first conversion.
    assert!(
        html.contains(r#"data-level="4" data-players="2""#),
        "{html}"
    );
    assert!(html.contains("Maestro de Formatos"));
    assert!(
        html.contains(r#"data-badge="primer_paso" data-unlocked="2""#),
        "badge unlocks"
    );
    assert!(html.contains("100.0%"), "2 of 2 players");
    assert!(html.contains(r#"id="challenges""#), "the week's challenges");
    assert!(
        html.contains(r#"href="/admin/gamification/players?user=ana""#),
        "the top 10 links to the players"
    );

    let r = page(&app, &admin, "/admin/gamification/design").await;
    assert_eq!(r.status, 200, "{r}");
    for part in [
        r#"data-rule="first_conversion""#,
        r#"data-level="10""#,
        "Emperador de Conversiones",
        r#"data-badge="primer_paso""#,
        r#"id="design-form""#,
        r#"name="version" value="1""#,
        "user.daily_login",
    ] {
        assert!(r.text.contains(part), "{part}");
    }

    let r = page(&app, &admin, "/admin/gamification/players").await;
    assert_eq!(r.status, 200, "{r}");
    assert!(r.text.contains(r#"<tr data-user="ana">"#), "top players");

    let r = page(&app, &admin, "/admin/gamification/players?user=ana").await;
    assert_eq!(r.status, 200, "{r}");
    assert!(r.text.contains(r#"data-user="ana""#));
    assert_eq!(
        r.text.matches(r#"data-kind="award""#).count(),
        5,
        "conversion, first_conversion, two badges, conversion again"
    );
    assert!(
        r.text
            .contains(r#"action="/admin/gamification/players/reversals""#)
    );

    let r = page(
        &app,
        &admin,
        "/admin/gamification/players?user=nobody%20at%20all",
    )
    .await;
    assert_eq!(r.status, 200, "{r}");
    assert!(
        r.text.contains(r#"id="missing""#),
        "says there is no such player"
    );

    // Signed out, each page sends the browser to sign in and back.
    let r = app.get("/admin/gamification/design").await;
    assert_eq!(r.status, 303, "{r}");
    assert_eq!(
        r.header("location"),
        Some("/admin/login?next=/admin/gamification/design")
    );
}
both!(every_page_renders_what_the_design_produces);

async fn a_viewer_reads_every_page_and_changes_nothing(app: TestApp) {
    send(&app, conversion("ana", "a-1", json!({}))).await;
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "vera", "password": "Lectura-Segura-77", "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let viewer = session(&app, "vera", "Lectura-Segura-77").await;
    for path in [
        "/admin/gamification",
        "/admin/gamification/design",
        "/admin/gamification/players",
        "/admin/gamification/players?user=ana",
    ] {
        let r = page(&app, &viewer, path).await;
        assert_eq!(r.status, 200, "{path}: {r}");
        assert!(
            !r.text
                .contains("method=\"post\" action=\"/admin/gamification"),
            "{path}: no forms"
        );
    }
    let doc = design_doc(&app).await;
    let r = post(
        &app,
        &viewer,
        "/admin/gamification/design",
        &design_form(&doc, &viewer.csrf),
    )
    .await;
    assert_eq!(r.status, 403, "{r}");
    let award: String = award_id(&app, "ana", "conversion").await;
    let r = post(
        &app,
        &viewer,
        "/admin/gamification/players/reversals",
        &pairs(&[
            ("csrf", &viewer.csrf),
            ("user", "ana"),
            ("entry", &award),
            ("reason", "a viewer tries"),
        ]),
    )
    .await;
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(design_doc(&app).await["version"], doc["version"]);
    let reversals = app
        .scalar("SELECT COUNT(*) FROM gamification_ledger WHERE kind = 'reversal'")
        .await;
    assert_eq!(reversals, 0);
}
both!(a_viewer_reads_every_page_and_changes_nothing);

async fn award_id(app: &TestApp, user: &str, rule: &str) -> String {
    sqlx::query_scalar(
        "SELECT id FROM gamification_ledger WHERE user_id = $1 AND rule = $2 AND kind = 'award'",
    )
    .bind(user)
    .bind(rule)
    .fetch_one(app.core.db.writer())
    .await
    .expect("the award")
}

async fn the_design_form_saves_a_level_and_refuses_bad_stale_and_forged_posts(app: TestApp) {
    let admin = session(&app, ADMIN_USER, ADMIN_PASSWORD).await;
    let doc = design_doc(&app).await;
    let version = doc["version"].as_i64().expect("version");

    // Without the CSRF field: refused, nothing saved.
    let mut forged = design_form(&doc, &admin.csrf);
    forged.retain(|(k, _)| k != "csrf");
    let r = post(&app, &admin, "/admin/gamification/design", &forged).await;
    assert_eq!(r.status, 403, "{r}");
    assert!(r.text.contains("Form expired"), "{r}");

    // Bad input: every problem with its path, what was typed kept, nothing saved.
    let mut bad = design_form(&doc, &admin.csrf);
    set(&mut bad, "level_min", 1, "lots");
    set(
        &mut bad,
        "rules",
        0,
        r#"[{"key": "x", "event": "Not A Kind", "award": {"type": "points", "points": 5}}]"#,
    );
    set(&mut bad, "badges", 0, "[{\"key\": ");
    set(&mut bad, "streak_bonus", 0, "-1");
    let r = post(&app, &admin, "/admin/gamification/design", &bad).await;
    assert_eq!(r.status, 422, "{r}");
    for path in [
        "levels[1].min_points",
        "badges",
        "rules[0].event",
        "streak_bonus",
    ] {
        assert!(
            r.text.contains(&format!(r#"data-path="{path}""#)),
            "{path}:\n{}",
            r.text
        );
    }
    assert!(
        r.text.contains(r#"value="lots""#),
        "the typed value is kept"
    );
    assert!(r.text.contains("Not A Kind"), "the typed rules are kept");
    assert_eq!(design_doc(&app).await["version"], version, "nothing saved");

    // A problem only the design's check finds (levels out of order) is a 422 too.
    let mut unordered = design_form(&doc, &admin.csrf);
    set(&mut unordered, "level_min", 2, "50");
    let r = post(&app, &admin, "/admin/gamification/design", &unordered).await;
    assert_eq!(r.status, 422, "{r}");
    assert!(
        r.text.contains(r#"data-path="levels[2].min_points""#),
        "{}",
        r.text
    );

    // A good change: a renamed level, a removed one, and a new one from a blank row.
    let mut good = design_form(&doc, &admin.csrf);
    set(&mut good, "level_title", 0, "Aprendiz");
    good.push(("level_remove".into(), "9".into()));
    good.push(("level_title".into(), "Leyenda".into()));
    good.push(("level_min".into(), "20000".into()));
    let r = post(&app, &admin, "/admin/gamification/design", &good).await;
    assert_eq!(r.status, 303, "{r}");
    let next = version + 1;
    assert_eq!(
        r.header("location"),
        Some(format!("/admin/gamification/design?msg=saved&v={next}").as_str())
    );
    let saved = design_doc(&app).await;
    assert_eq!(saved["version"], next);
    let levels = saved["design"]["levels"].as_array().expect("levels");
    assert_eq!(levels.len(), 10);
    assert_eq!(levels[0]["title"], "Aprendiz");
    assert_eq!(levels[9], json!({"title": "Leyenda", "min_points": 20000}));
    assert_eq!(
        saved["design"]["rules"], doc["design"]["rules"],
        "the rest is unchanged"
    );
    let r = page(
        &app,
        &admin,
        &format!("/admin/gamification/design?msg=saved&v={next}"),
    )
    .await;
    assert!(r.text.contains(&format!("Design saved as version {next}.")));
    assert!(r.text.contains("Leyenda"));
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    assert!(
        audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["action"] == "gamification.design_put"),
        "{audit}"
    );

    // The same form again carries the version it read: stale now, a 409, nothing saved.
    let r = post(&app, &admin, "/admin/gamification/design", &good).await;
    assert_eq!(r.status, 409, "{r}");
    assert!(r.text.contains(r#"id="conflict""#), "{}", r.text);
    assert!(r.text.contains(&format!("it is now version {next}")));
    assert!(r.text.contains("Leyenda"), "what was typed is kept");
    assert_eq!(design_doc(&app).await["version"], next);

    // A form without a version is refused as such.
    let mut no_version = design_form(&saved, &admin.csrf);
    no_version.retain(|(k, _)| k != "version");
    let r = post(&app, &admin, "/admin/gamification/design", &no_version).await;
    assert_eq!(r.status, 400, "{r}");
}
both!(the_design_form_saves_a_level_and_refuses_bad_stale_and_forged_posts);

async fn a_reversal_from_the_panel_writes_a_ledger_entry_and_an_audit_row(app: TestApp) {
    assert_eq!(
        send(&app, conversion("ana", "a-1", json!({}))).await.status,
        201
    );
    let admin = session(&app, ADMIN_USER, ADMIN_PASSWORD).await;
    let award = award_id(&app, "ana", "first_conversion").await;
    let reverse = |fields: Vec<(String, String)>| {
        let admin = &admin;
        let app = &app;
        async move { post(app, admin, "/admin/gamification/players/reversals", &fields).await }
    };

    // No reason, or an award that is not the player's: refused with the problem, typed kept.
    let r = reverse(pairs(&[
        ("csrf", &admin.csrf),
        ("user", "ana"),
        ("entry", &award),
        ("points", "20"),
        ("reason", "  "),
    ]))
    .await;
    assert_eq!(r.status, 422, "{r}");
    assert!(r.text.contains(r#"data-path="reason""#), "{}", r.text);
    assert!(
        r.text.contains(r#"value="20""#),
        "the points typed are kept"
    );
    let r = reverse(pairs(&[
        ("csrf", &admin.csrf),
        ("user", "bea"),
        ("entry", &award),
        ("points", "many"),
        ("reason", "wrong player"),
    ]))
    .await;
    assert_eq!(r.status, 422, "{r}");
    assert!(r.text.contains(r#"data-path="points""#));
    assert!(r.text.contains(r#"data-path="entry""#));

    // Without the CSRF field: refused.
    let r = reverse(pairs(&[
        ("user", "ana"),
        ("entry", &award),
        ("reason", "forged"),
    ]))
    .await;
    assert_eq!(r.status, 403, "{r}");

    let r = reverse(pairs(&[
        ("csrf", &admin.csrf),
        ("user", "ana"),
        ("entry", &award),
        ("points", "20"),
        ("reason", "a test conversion"),
    ]))
    .await;
    assert_eq!(r.status, 303, "{r}");
    assert_eq!(
        r.header("location"),
        Some("/admin/gamification/players?user=ana&msg=reversed")
    );
    let row = sqlx::query_as::<_, (i64, Option<String>, Option<String>)>(
        "SELECT points, reason, actor FROM gamification_ledger WHERE user_id = 'ana' \
         AND kind = 'reversal'",
    )
    .fetch_all(app.core.db.writer())
    .await
    .expect("reversals");
    assert_eq!(
        row,
        [(
            -20,
            Some("a test conversion".to_owned()),
            Some(format!("staff:{ADMIN_USER}"))
        )]
    );
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let entry = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "gamification.reverse")
        .cloned()
        .expect("an audit row");
    assert_eq!(entry["target"], "ana", "{entry}");
    assert_eq!(entry["after"]["reversed"], 20);

    let r = page(
        &app,
        &admin,
        "/admin/gamification/players?user=ana&msg=reversed",
    )
    .await;
    assert!(r.text.contains("The award was taken back"));
    assert!(r.text.contains(r#"data-kind="reversal""#));
    assert!(r.text.contains("a test conversion"));
    assert!(r.text.contains(">-20<"), "{}", r.text);

    // The rest of the award (30 of 50), then nothing is left: a 409 on the page.
    let all = pairs(&[
        ("csrf", &admin.csrf),
        ("user", "ana"),
        ("entry", &award),
        ("reason", "all of it"),
    ]);
    assert_eq!(reverse(all.clone()).await.status, 303);
    let r = reverse(all).await;
    assert_eq!(r.status, 409, "{r}");
    assert!(r.text.contains("nothing left to reverse"), "{}", r.text);
}
both!(a_reversal_from_the_panel_writes_a_ledger_entry_and_an_audit_row);
