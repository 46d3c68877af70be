//! The platform's panel pages (Staff, Settings, Audit log, Visitors) with forms, as a
//! browser without JavaScript uses them: each change lands through the same use case as the
//! API (checked through the API), each refusal is shown with its reason, and each change is
//! in the audit log.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Browser, input_value, location, post_forms};
use crate::both;
use crate::common::{ADMIN_USER, TestApp};

/// The `data-<attr>` value of the table row that contains `marker`.
fn row_with<'h>(html: &'h str, marker: &str) -> &'h str {
    let at = html.find(marker).unwrap_or_else(|| panic!("no {marker}"));
    let start = html[..at].rfind("<tr").expect("a row");
    let end = at + html[at..].find("</tr>").expect("the row's end");
    &html[start..end]
}

fn staff_id(html: &str, username: &str) -> String {
    let row = row_with(html, &format!("<span class=\"title\">{username}</span>"));
    row.split("data-staff=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the row's id")
        .to_owned()
}

async fn the_staff_page_adds_changes_and_disables_staff(app: TestApp) {
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let page = b.get("/admin/staff").await;
    assert_eq!(page.status, 200, "{page}");
    assert!(
        row_with(&page.text, "(you)").contains(&format!(">{ADMIN_USER}<")),
        "{page}"
    );
    assert!(
        page.text
            .contains("href=\"/admin/staff\" aria-current=\"page\"")
    );
    let csrf = b.csrf();

    // A weak password: the problem shown, the username kept.
    let r = b
        .post(
            "/admin/staff",
            &[
                ("csrf", &csrf),
                ("username", "ana"),
                ("password", "short"),
                ("role", "agent"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{r}");
    assert!(r.text.contains("<code>password</code>"), "{r}");
    assert_eq!(input_value(&r.text, "username"), "ana");

    let r = b
        .post(
            "/admin/staff",
            &[
                ("csrf", &csrf),
                ("username", "ana"),
                ("password", "Segura-Clave-2026"),
                ("role", "agent"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/staff?msg=added");
    let r = b
        .post(
            "/admin/staff",
            &[
                ("csrf", &csrf),
                ("username", "ana"),
                ("password", "Segura-Clave-2026"),
                ("role", "agent"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{r}");
    assert!(r.text.contains("another staff member"), "{r}");
    let page = b.get("/admin/staff").await;
    let ana = staff_id(&page.text, "ana");
    assert!(row_with(&page.text, &format!("data-staff=\"{ana}\"")).contains("data-role=\"agent\""));

    // Ana signs in; an agent does not manage staff.
    let mut ana_b = Browser::new(&app);
    assert_eq!(
        location(&ana_b.sign_in_as("ana", "Segura-Clave-2026").await),
        "/admin"
    );
    assert_eq!(ana_b.get("/admin/staff").await.status, 403);

    // A role change refuses her older session at once.
    let r = b
        .post(
            &format!("/admin/staff/{ana}/role"),
            &[("csrf", &csrf), ("role", "admin")],
        )
        .await;
    assert_eq!(location(&r), "/admin/staff?msg=role");
    // Her session from before is refused; her sign-in renews it with the new role.
    let refused = ana_b.get("/admin/staff").await;
    assert_eq!(
        location(&refused),
        "/admin/session/renew?next=/admin/staff",
        "the old session is refused"
    );
    let renewed = ana_b.get(&location(&refused)).await;
    assert_eq!(location(&renewed), "/admin/staff");
    assert_eq!(ana_b.get("/admin/staff").await.status, 200, "an admin now");
    let api = app.admin_get(&format!("/api/v1/admin/staff/{ana}")).await;
    assert_eq!(api.json()["role"], "admin");

    // A new password; then she, an admin, may not touch the owner nor grant owner.
    let r = b
        .post(
            &format!("/admin/staff/{ana}/password"),
            &[("csrf", &csrf), ("password", "Otra-Clave-Segura-9")],
        )
        .await;
    assert_eq!(location(&r), "/admin/staff?msg=password");
    let mut ana_b = Browser::new(&app);
    assert_eq!(
        location(&ana_b.sign_in_as("ana", "Otra-Clave-Segura-9").await),
        "/admin"
    );
    let page = ana_b.get("/admin/staff").await;
    assert_eq!(page.status, 200, "{page}");
    let admin_id = staff_id(&page.text, ADMIN_USER);
    assert!(
        !row_with(&page.text, &format!("data-staff=\"{admin_id}\"")).contains("<form"),
        "no forms on an account above hers"
    );
    assert!(
        !page.text.contains("<option value=\"owner\""),
        "owner is not offered"
    );
    let ana_csrf = ana_b.csrf();
    let r = ana_b
        .post(
            &format!("/admin/staff/{admin_id}/disable"),
            &[("csrf", &ana_csrf)],
        )
        .await;
    assert_eq!(r.status, 403, "{r}");
    assert!(r.text.contains("id=\"refused\""), "{r}");
    let r = ana_b
        .post(
            &format!("/admin/staff/{ana}/role"),
            &[("csrf", &ana_csrf), ("role", "owner")],
        )
        .await;
    assert_eq!(r.status, 403, "{r}");
    assert!(r.text.contains("above their own"), "{r}");

    // Nobody disables their own account; the owner disables Ana, who cannot sign in.
    let admin_self = staff_id(&b.get("/admin/staff").await.text, ADMIN_USER);
    let r = b
        .post(
            &format!("/admin/staff/{admin_self}/disable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 409, "{r}");
    assert!(r.text.contains("your own account"), "{r}");
    let r = b
        .post(&format!("/admin/staff/{ana}/disable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/admin/staff?msg=disable");
    let mut again = Browser::new(&app);
    assert_eq!(
        again.sign_in_as("ana", "Otra-Clave-Segura-9").await.status,
        401
    );
    let r = b
        .post(&format!("/admin/staff/{ana}/enable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/admin/staff?msg=enable");
    let r = b
        .post(&format!("/admin/staff/{ana}/promote"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 404, "{r}");

    // Every change is in the audit log, with its fields.
    let audit = b.get("/admin/audit").await;
    assert_eq!(audit.status, 200, "{audit}");
    assert!(
        audit.text.contains("data-action=\"staff.create\""),
        "{audit}"
    );
    assert!(
        audit
            .text
            .contains("<code>role</code>: <span class=\"muted\">agent</span> → admin")
    );
    assert!(
        audit.text.contains("<code>password</code>"),
        "a reset is recorded"
    );
    assert!(
        !audit.text.contains("Otra-Clave"),
        "never the password itself"
    );
}
both!(the_staff_page_adds_changes_and_disables_staff);

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn version_from(loc: &str) -> i64 {
    loc.rsplit("v=")
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a version in {loc}"))
}

async fn the_settings_page_saves_versions_and_restores_them(app: TestApp) {
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let page = b.get("/admin/settings").await;
    assert_eq!(page.status, 200, "{page}");
    let base = super::hidden(&page.text, "base");
    let csrf = b.csrf();
    let fields = |base: &str, primary: &str| -> Vec<(String, String)> {
        [
            ("csrf", csrf.as_str()),
            ("base", base),
            ("color_primary", primary),
            ("color_accent", ""),
            ("color_background", ""),
            ("color_text", ""),
            ("logo", "https://cdn.example.com/logo.svg"),
            ("texts", "tagline = Cocinas a medida"),
            (
                "origins",
                "https://www.cocinaslopez.es\nhttp://localhost:5173",
            ),
            ("role_owner", ""),
            ("role_admin", ""),
            ("role_agent", "Comercial"),
            ("role_viewer", ""),
            ("require_totp", "on"),
        ]
        .into_iter()
        // Two-factor for everyone is the last save: the admin has none.
        .filter(|(k, _)| *k != "require_totp" || primary == "#111111")
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };

    // A bad colour: the problem named, what was typed kept, nothing saved.
    let bad = fields(&base, "green");
    let bad = refs(&bad);
    let r = b.post("/admin/settings", &bad).await;
    assert_eq!(r.status, 422, "{r}");
    assert!(r.text.contains("doc.branding.colors.primary"), "{r}");
    assert_eq!(input_value(&r.text, "color_primary"), "green");
    assert_eq!(input_value(&r.text, "role_agent"), "Comercial");

    let good = fields(&base, "#0A7D5A");
    let good = refs(&good);
    let r = b.post("/admin/settings", &good).await;
    let saved = version_from(&location(&r));
    let api = app.admin_get("/api/v1/admin/settings").await.json();
    assert_eq!(api["version"], saved);
    assert_eq!(api["doc"]["branding"]["colors"]["primary"], "#0a7d5a");
    assert_eq!(
        api["doc"]["origins"],
        json!(["https://www.cocinaslopez.es", "http://localhost:5173"])
    );
    assert_eq!(api["doc"]["roles"], json!({"agent": "Comercial"}));
    assert_eq!(api["doc"]["security"]["require_totp"], false);
    let page = b.get(&location(&r)).await;
    assert!(
        page.text.contains(&format!("Saved as version {saved}")),
        "{page}"
    );
    assert_eq!(input_value(&page.text, "color_primary"), "#0a7d5a");

    // The origin may call the API from a browser now.
    let cors = app
        .send(
            app.request(Method::GET, "/api/v1/public/whoami")
                .header("origin", "https://www.cocinaslopez.es"),
        )
        .await;
    assert_eq!(
        cors.header("access-control-allow-origin"),
        Some("https://www.cocinaslopez.es")
    );

    // The staff page uses the role's new name.
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "carla", "password": "Segura-Clave-2026", "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let staff = b.get("/admin/staff").await;
    assert!(
        staff
            .text
            .contains("<span class=\"badge role-agent\">Comercial</span>"),
        "{staff}"
    );

    // A form read before someone else's save is refused, not silently overwritten.
    let stale = fields(&base, "#000000");
    let stale = refs(&stale);
    let r = b.post("/admin/settings", &stale).await;
    assert_eq!(r.status, 409, "{r}");
    assert!(r.text.contains("Someone saved the settings"), "{r}");
    assert_eq!(input_value(&r.text, "color_primary"), "#000000");

    // Restoring the version before brings its document back as the newest version.
    let history = b.get("/admin/settings").await;
    assert!(history.text.contains(&format!("data-version=\"{saved}\"")));
    let r = b
        .post(
            &format!("/admin/settings/versions/{base}/restore"),
            &[("csrf", &csrf)],
        )
        .await;
    if base == "0" {
        assert_eq!(
            r.status, 404,
            "version 0 is the initial document, never saved"
        );
    } else {
        let restored = version_from(&location(&r));
        assert_eq!(restored, saved + 1);
        let api = app.admin_get("/api/v1/admin/settings").await.json();
        assert_eq!(api["doc"]["roles"], Value::Null);
        assert_eq!(api["note"], format!("rollback to {base}"));
    }
    let audit = b.get("/admin/audit").await;
    assert!(audit.text.contains("data-action=\"settings.update\""));
    assert!(
        audit
            .text
            .contains("<code>doc.branding.colors.primary</code>")
    );

    // Requiring two-factor of all staff sends this admin, who has none, to set it up.
    let base = super::hidden(&b.get("/admin/settings").await.text, "base");
    let last = fields(&base, "#111111");
    let r = b.post("/admin/settings", &refs(&last)).await;
    assert!(location(&r).starts_with("/admin/settings?msg=saved"), "{r}");
    let page = b.get("/admin/settings").await;
    assert_eq!(page.status, 403, "{page}");
    assert!(page.text.contains("Security page"), "{page}");
}
both!(the_settings_page_saves_versions_and_restores_them);

async fn the_visitors_page_lists_exports_and_erases_visitors(app: TestApp) {
    let who = app.get("/api/v1/public/whoami").await;
    assert_eq!(who.status, 200, "{who}");
    let visitor = who.json()["visitor_id"].as_str().expect("an id").to_owned();
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let page = b.get("/admin/visitors").await;
    assert_eq!(page.status, 200, "{page}");
    let row = row_with(&page.text, &format!("data-visitor=\"{visitor}\""));
    assert!(row.contains("anonymous"), "{row}");

    // The export link works with the panel's session alone, and is audited.
    let export = b
        .get(&format!("/api/v1/admin/visitors/{visitor}/export"))
        .await;
    assert_eq!(export.status, 200, "{export}");
    assert_eq!(
        export.json()["modules"]["platform"]["visitor"]["id"],
        visitor.as_str()
    );

    // A viewer sees the list, without export or erase.
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "vera", "password": "Lectura-Segura-77", "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let mut v = Browser::new(&app);
    v.sign_in_as("vera", "Lectura-Segura-77").await;
    let seen = v.get("/admin/visitors").await;
    assert_eq!(seen.status, 200, "{seen}");
    assert!(seen.text.contains(&visitor));
    assert_eq!(post_forms(&seen.text), vec!["/admin/logout"]);
    assert!(!seen.text.contains("/export"));
    let v_csrf = v.csrf();
    let r = v
        .post(
            &format!("/admin/visitors/{visitor}/delete"),
            &[("csrf", &v_csrf)],
        )
        .await;
    assert_eq!(r.status, 403, "{r}");

    let csrf = b.csrf();
    let r = b
        .post(
            &format!("/admin/visitors/{visitor}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(location(&r), "/admin/visitors?msg=deleted");
    let page = b.get("/admin/visitors?msg=deleted").await;
    assert!(page.text.contains("The visitor is erased"));
    assert!(!page.text.contains(&format!("data-visitor=\"{visitor}\"")));
    let r = b
        .post(
            &format!("/admin/visitors/{visitor}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 404, "{r}");
    let audit = b.get("/admin/audit").await;
    assert!(audit.text.contains("data-action=\"visitor.delete\""));
    assert!(audit.text.contains("data-action=\"visitor.export\""));
    assert_eq!(b.get("/admin/visitors?before=nonsense").await.status, 400);
}
both!(the_visitors_page_lists_exports_and_erases_visitors);

async fn the_audit_log_pages_back_and_exports(app: TestApp) {
    let tenant = faro_http::TenantId::default_tenant();
    let actor = faro_platform::audit::Actor::cli();
    for i in 0..55 {
        faro_platform::audit::record_alone(
            &app.core.db,
            faro_platform::audit::Entry {
                tenant: &tenant,
                actor: &actor,
                action: "test.change",
                target: &format!("thing-{i:02}"),
                before: Some(json!({"n": i})),
                after: Some(json!({"n": i + 1})),
            },
        )
        .await
        .expect("recorded");
    }
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let first = b.get("/admin/audit").await;
    assert_eq!(first.status, 200, "{first}");
    assert_eq!(first.text.matches("data-action=").count(), 50);
    assert!(first.text.contains("thing-54"));
    assert!(
        first
            .text
            .contains("<code>n</code>: <span class=\"muted\">54</span> → 55")
    );
    let older = first
        .text
        .split("href=\"/admin/audit?before=")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to older entries");
    let second = b.get(&format!("/admin/audit?before={older}")).await;
    assert!(second.text.contains("thing-00"));
    assert!(!second.text.contains("thing-54"));
    assert!(!second.text.contains("?before="), "no older page");

    let export = b.get("/api/v1/admin/audit/export").await;
    assert_eq!(export.status, 200, "{export}");
    assert_eq!(export.text.lines().count(), 55);

    // Agents and viewers do not read the audit log.
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "vera", "password": "Lectura-Segura-77", "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let mut v = Browser::new(&app);
    v.sign_in_as("vera", "Lectura-Segura-77").await;
    for path in ["/admin/audit", "/admin/staff", "/admin/settings"] {
        assert_eq!(v.get(path).await.status, 403, "{path}");
    }
    let nav = v.get("/admin/visitors").await;
    for hidden in ["/admin/audit\"", "/admin/staff\"", "/admin/settings\""] {
        assert!(!nav.text.contains(&format!("href=\"{hidden}")), "{hidden}");
    }
}
both!(the_audit_log_pages_back_and_exports);

async fn the_platform_pages_refuse_forms_without_the_csrf_field(app: TestApp) {
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let admin = staff_id(&b.get("/admin/staff").await.text, ADMIN_USER);
    for (path, fields) in [
        (
            "/admin/staff".to_string(),
            vec![
                ("username", "eve"),
                ("password", "Segura-Clave-2026"),
                ("role", "owner"),
            ],
        ),
        (
            format!("/admin/staff/{admin}/role"),
            vec![("role", "viewer")],
        ),
        (
            format!("/admin/staff/{admin}/password"),
            vec![("password", "Segura-Clave-2026")],
        ),
        ("/admin/settings".to_string(), vec![("base", "0")]),
        ("/admin/settings/versions/1/restore".to_string(), vec![]),
        ("/admin/visitors/v1/delete".to_string(), vec![]),
    ] {
        let r = b.post(&path, &fields).await;
        assert_eq!(r.status, 403, "{path}: {r}");
        assert!(r.text.contains("CSRF"), "{path}");
    }
    let staff = app.admin_get("/api/v1/admin/staff").await.json();
    assert_eq!(staff["items"].as_array().map(Vec::len), Some(1));
}
both!(the_platform_pages_refuse_forms_without_the_csrf_field);
