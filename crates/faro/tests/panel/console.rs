//! The installation's console (`/platform`) with forms: the super-admin creates, edits,
//! pauses and resumes a tenant, switches maintenance and modules, and opens its panel with an
//! audited 15-minute owner's session; nobody else, and no impersonation session, reaches it.

use reqwest::Method;
use reqwest::header::HOST;
use serde_json::json;

use super::{Browser, location};
use crate::both;
use crate::common::TestApp;

async fn the_super_admin_creates_edits_pauses_and_enters_a_tenant(app: TestApp) {
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let home = b.get("/admin/visitors").await;
    assert!(home.text.contains("href=\"/platform\""), "the console link");
    let console = b.get("/platform").await;
    assert_eq!(console.status, 200, "{console}");
    assert!(
        console.text.contains("data-tenant=\"default\""),
        "{console}"
    );
    assert!(console.text.contains("data-job=\"platform.send_mail\""));
    // Each tenant's requests and storage beside its people.
    assert!(
        console.text.contains("data-usage=\"requests\""),
        "{console}"
    );
    assert!(
        console
            .text
            .contains("0 MB<br><span class=\"small muted\">0 files")
    );
    assert!(console.text.contains("No server errors kept"));
    // The newest server errors of every tenant, with the id a user would quote.
    sqlx::query(
        "INSERT INTO request_errors (id, tenant_id, request_id, method, route, status, cause, \
         created_at) VALUES ('e1', 'other', 'req-console-1', 'GET', '/api/v1/tests', 500, \
         'the database went away', $1)",
    )
    .bind(faro_store::unix_now())
    .execute(app.core.db.writer())
    .await
    .expect("an error row");
    let console = b.get("/platform").await;
    assert!(console.text.contains("req-console-1"), "{console}");
    assert!(console.text.contains("the database went away"));
    let csrf = b.csrf();

    // A bad slug and a weak owner password: every problem, the typed fields kept.
    let r = b
        .post(
            "/platform/tenants",
            &[
                ("csrf", &csrf),
                ("slug", "Cocinas López"),
                ("name", "Cocinas López"),
                ("hosts", "cocinas.test"),
                ("language", "es"),
                ("time_zone", "Europe/Madrid"),
                ("plan", "free"),
                ("owner", "marta"),
                ("owner_password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{r}");
    assert!(r.text.contains("<code>slug</code>"), "{r}");
    assert!(r.text.contains("<code>owner.password</code>"), "{r}");
    assert!(r.text.contains("value=\"Cocinas López\""), "{r}");

    let r = b
        .post(
            "/platform/tenants",
            &[
                ("csrf", &csrf),
                ("slug", "lopez"),
                ("name", "Cocinas López"),
                ("hosts", "cocinas.test\nwww.cocinas.test"),
                ("language", "es"),
                ("time_zone", "Europe/Madrid"),
                ("plan", "free"),
                ("owner", "marta"),
                ("owner_password", "Segura-Clave-2026"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/platform/tenants/lopez?msg=created");
    let t = app.admin_get("/api/v1/platform/tenants/lopez").await.json();
    assert_eq!(t["hosts"], json!(["cocinas.test", "www.cocinas.test"]));
    let r = b
        .post(
            "/platform/tenants",
            &[("csrf", &csrf), ("slug", "lopez"), ("name", "Otra")],
        )
        .await;
    assert_eq!(r.status, 409, "{r}");
    assert!(r.text.contains("id=\"refused\""), "{r}");

    // The edit form: language, hosts and the modules.
    let page = b.get("/platform/tenants/lopez?msg=created").await;
    assert_eq!(page.status, 200, "{page}");
    assert!(page.text.contains("Tenant created"));
    let r = b
        .post(
            "/platform/tenants/lopez",
            &[
                ("csrf", &csrf),
                ("name", "Cocinas López e hijos"),
                ("hosts", "cocinas.test"),
                ("language", "ca"),
                ("time_zone", "Europe/Madrid"),
                ("plan", "pro"),
                ("module", "quiz"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/platform/tenants/lopez?msg=saved");
    let t = app.admin_get("/api/v1/platform/tenants/lopez").await.json();
    assert_eq!(t["name"], "Cocinas López e hijos");
    assert_eq!(t["language"], "ca");
    assert_eq!(t["plan"], "pro");
    assert_eq!(t["hosts"], json!(["cocinas.test"]));
    assert_eq!(t["modules"], json!(["quiz"]));
    let r = b
        .post(
            "/platform/tenants/lopez",
            &[
                ("csrf", &csrf),
                ("name", "x"),
                ("hosts", "not a host"),
                ("language", "fr"),
                ("time_zone", "Mars/Base"),
                ("plan", "pro"),
                ("all_modules", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{r}");
    for path in ["hosts", "language", "time_zone"] {
        assert!(r.text.contains(&format!("<code>{path}")), "{path}: {r}");
    }

    // Pause: its public pages answer 503; resume; maintenance on and off.
    let r = b
        .post("/platform/tenants/lopez/pause", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/platform/tenants/lopez?msg=pause");
    let public = app
        .send(
            app.request(Method::GET, "/api/v1/public/whoami")
                .header(HOST, "cocinas.test"),
        )
        .await;
    assert_eq!(public.status, 503, "{public}");
    let r = b
        .post("/platform/tenants/lopez/resume", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/platform/tenants/lopez?msg=resume");
    let r = b
        .post("/platform/tenants/lopez/maintenance-on", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/platform/tenants/lopez?msg=maintenance-on");
    assert_eq!(
        app.admin_get("/api/v1/platform/tenants/lopez").await.json()["maintenance"],
        true
    );
    b.post(
        "/platform/tenants/lopez/maintenance-off",
        &[("csrf", &csrf)],
    )
    .await;
    let r = b
        .post("/platform/tenants/default/pause", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 409, "the default tenant is never paused: {r}");
    assert_eq!(
        b.post("/platform/tenants/lopez/explode", &[("csrf", &csrf)])
            .await
            .status,
        404
    );

    // Entering its panel: an owner's session of that tenant, which cannot reach the console.
    let r = b
        .post("/platform/tenants/lopez/impersonate", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/admin");
    let staff = b.get("/admin/staff").await;
    assert_eq!(staff.status, 200, "{staff}");
    assert!(
        staff.text.contains(">marta<"),
        "the tenant's staff: {staff}"
    );
    assert!(!staff.text.contains("href=\"/platform\""));
    assert_eq!(b.get("/platform").await.status, 403);
    let audit = b.get("/admin/audit").await;
    assert!(
        audit.text.contains("data-action=\"tenant.impersonate\""),
        "{audit}"
    );
    // A change made now names the super-admin behind the session.
    let csrf = b.csrf();
    let r = b
        .post(
            "/admin/staff",
            &[
                ("csrf", &csrf),
                ("username", "nuria"),
                ("password", "Segura-Clave-2026"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/staff?msg=added");
    let audit = b.get("/admin/audit").await;
    assert!(audit.text.contains("as super-admin"), "{audit}");
}
both!(the_super_admin_creates_edits_pauses_and_enters_a_tenant);

async fn nobody_else_reaches_the_console(app: TestApp) {
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "olga", "password": "Segura-Clave-2026", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let mut b = Browser::new(&app);
    b.sign_in_as("olga", "Segura-Clave-2026").await;
    let page = b.get("/admin/visitors").await;
    assert!(!page.text.contains("href=\"/platform\""), "no console link");
    let r = b.get("/platform").await;
    assert_eq!(r.status, 403, "{r}");
    assert!(r.text.contains("super-admin"), "{r}");
    let csrf = b.csrf();
    let r = b
        .post(
            "/platform/tenants",
            &[("csrf", &csrf), ("slug", "sneaky"), ("name", "Sneaky")],
        )
        .await;
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(
        app.admin_get("/api/v1/platform/tenants/sneaky")
            .await
            .status,
        404
    );
    // Signed out: the sign-in page.
    let mut anon = Browser::new(&app);
    assert!(location(&anon.get("/platform").await).starts_with("/admin/login"));
}
both!(nobody_else_reaches_the_console);

async fn the_console_purges_a_paused_tenant_after_its_slug_is_typed(app: TestApp) {
    let r = app
        .admin_post(
            "/api/v1/platform/tenants",
            &json!({"slug": "adios", "name": "Adiós", "hosts": ["adios.test"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let page = b.get("/platform/tenants/adios").await;
    assert!(
        !page.text.contains("/platform/tenants/adios/purge"),
        "active: no purge form"
    );
    let csrf = b.csrf();
    let r = b
        .post(
            "/platform/tenants/adios/purge",
            &[("csrf", &csrf), ("confirm", "adios")],
        )
        .await;
    assert_eq!(r.status, 409, "not paused: {r}");
    b.post("/platform/tenants/adios/pause", &[("csrf", &csrf)])
        .await;
    let page = b.get("/platform/tenants/adios").await;
    assert!(
        page.text.contains("/platform/tenants/adios/purge"),
        "{page}"
    );
    let r = b
        .post(
            "/platform/tenants/adios/purge",
            &[("csrf", &csrf), ("confirm", "adio")],
        )
        .await;
    assert_eq!(r.status, 422, "{r}");
    assert!(r.text.contains("<code>confirm</code>"), "{r}");
    let r = b
        .post(
            "/platform/tenants/adios/purge",
            &[("csrf", &csrf), ("confirm", "adios")],
        )
        .await;
    assert_eq!(location(&r), "/platform?msg=purged");
    let home = b.get("/platform?msg=purged").await;
    assert!(home.text.contains("Purged"), "{home}");
    assert!(!home.text.contains("data-tenant=\"adios\""));
    assert_eq!(
        app.admin_get("/api/v1/platform/tenants/adios").await.status,
        404
    );
}
both!(the_console_purges_a_paused_tenant_after_its_slug_is_typed);

async fn the_console_edits_plans_and_their_quotas(app: TestApp) {
    let mut b = Browser::new(&app);
    b.sign_in().await;
    let console = b.get("/platform").await;
    assert!(
        console.text.contains("href=\"/platform/plans\""),
        "{console}"
    );
    let page = b.get("/platform/plans").await;
    assert_eq!(page.status, 200, "{page}");
    assert!(page.text.contains("id=\"no-plans\""), "{page}");
    // The default tenant is on `free`, which has no row yet: listed as unlimited.
    assert!(
        page.text
            .contains("<span class=\"qkey\">free</span>: 1 tenant(s)"),
        "{page}"
    );
    let csrf = b.csrf();

    // A bad name and a word for a number: both named, the typed values kept.
    let r = b
        .post(
            "/platform/plans",
            &[
                ("csrf", &csrf),
                ("name", "Pro Plan"),
                ("tests", "ten"),
                ("staff", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{r}");
    assert!(r.text.contains("<code>name</code>"), "{r}");
    assert!(r.text.contains("<code>quotas.tests</code>"), "{r}");
    assert!(r.text.contains("value=\"ten\""), "{r}");

    // Created with a spaced number and a blank (unlimited) field.
    let r = b
        .post(
            "/platform/plans",
            &[
                ("csrf", &csrf),
                ("name", "free"),
                ("tests", "1"),
                ("storage_mb", "1 000"),
                ("staff", ""),
            ],
        )
        .await;
    assert_eq!(location(&r), "/platform/plans?saved=free", "{r}");
    let page = b.get("/platform/plans?saved=free").await;
    assert!(page.text.contains("Saved plan free"), "{page}");
    assert!(page.text.contains("data-plan=\"free\""), "{page}");
    assert!(
        page.text
            .contains("id=\"free-storage_mb\" name=\"storage_mb\" value=\"1000\""),
        "{page}"
    );
    let plans = app.admin_get("/api/v1/platform/plans").await.json();
    assert_eq!(
        plans["items"][0]["quotas"],
        json!({"tests": 1, "storage_mb": 1000})
    );
    // In use by the default tenant: no delete button, and a forged delete is refused.
    assert!(!page.text.contains("/platform/plans/free/delete"), "{page}");
    let r = b
        .post("/platform/plans/free/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 409, "{r}");
    assert!(r.text.contains("move them to another plan first"), "{r}");

    // The tenant's settings page shows the plan's quotas, read-only.
    let settings = b.get("/admin/settings").await;
    assert!(settings.text.contains("tests: at most 1"), "{settings}");

    // An unused plan is deleted.
    let r = b
        .post(
            "/platform/plans",
            &[("csrf", &csrf), ("name", "spare"), ("tests", "3")],
        )
        .await;
    assert_eq!(location(&r), "/platform/plans?saved=spare", "{r}");
    let r = b
        .post("/platform/plans/spare/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/platform/plans?deleted=spare", "{r}");
    let staff = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "olga", "password": "Segura-Clave-2026", "role": "owner"}),
        )
        .await;
    assert_eq!(staff.status, 201, "{staff}");
    let mut olga = Browser::new(&app);
    olga.sign_in_as("olga", "Segura-Clave-2026").await;
    assert_eq!(olga.get("/platform/plans").await.status, 403);
}
both!(the_console_edits_plans_and_their_quotas);

async fn the_console_is_closed_outside_its_networks(app: TestApp) {
    let fenced = app.sibling(&[("SUPER_ADMIN_NETWORKS", "10.0.0.0/8")]).await;
    let mut b = Browser::new(&fenced);
    b.sign_in().await;
    let panel = b.get("/admin/visitors").await;
    assert_eq!(panel.status, 200, "{panel}");
    assert!(
        !panel.text.contains("href=\"/platform\""),
        "no console link"
    );
    let r = b.get("/platform").await;
    assert_eq!(r.status, 403, "{r}");
    assert_eq!(b.get("/platform/plans").await.status, 403);
}
both!(the_console_is_closed_outside_its_networks);
