//! Two-factor sign-in for staff: turned on with a first code, then every sign-in needs a code
//! (each good once, on every instance) or a recovery code (each good once); turned off with
//! a code; the secret sealed at rest; every change audited.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{ADMIN_PASSWORD, ADMIN_USER, Resp, TestApp};
use crate::{both, postgres_only};

const TOTP: &str = "/api/v1/admin/me/totp";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The code the app would show `steps` steps from now.
fn code(secret: &[u8], steps: i64) -> String {
    let at = (now() as i64 + steps * faro_auth::totp::STEP as i64) as u64;
    faro_auth::totp::code_at(secret, at)
}

async fn login(app: &TestApp, totp: Option<&str>) -> Resp {
    let mut body = json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD});
    if let Some(t) = totp {
        body["totp"] = json!(t);
    }
    app.send(app.request(Method::POST, "/api/v1/admin/login").json(&body))
        .await
}

/// Turns two-factor on for the admin; returns the raw secret, the recovery codes and the
/// code that confirmed it.
async fn turn_on(app: &TestApp) -> (Vec<u8>, Vec<String>, String) {
    let r = app.admin_post(TOTP, &json!({})).await;
    assert_eq!(r.status, 201, "{r}");
    let v = r.json();
    let url = v["otpauth_url"].as_str().expect("url");
    assert!(
        url.starts_with("otpauth://totp/Faro%20%28default%29:admin?secret="),
        "{url}"
    );
    let secret =
        faro_auth::totp::secret_from_text(v["secret"].as_str().expect("secret")).expect("base32");
    assert_eq!(secret.len(), 20);
    let first = code(&secret, 0);
    let r = app
        .admin_post(&format!("{TOTP}/confirm"), &json!({"code": first}))
        .await;
    assert_eq!(r.status, 200, "{r}");
    let codes: Vec<String> = r.json()["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    (secret, codes, first)
}

async fn signing_in_needs_a_code_once_turned_on(app: TestApp) {
    // Started but not confirmed: nothing changes for the sign-in.
    let r = app.admin_post(TOTP, &json!({})).await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(login(&app, None).await.status, 200);
    let r = app
        .admin_post(&format!("{TOTP}/confirm"), &json!({"code": "000000"}))
        .await;
    r.assert_error(401, "invalid_totp");

    let (secret, recovery, first) = turn_on(&app).await;
    assert_eq!(recovery.len(), 10);
    app.admin_post(TOTP, &json!({}))
        .await
        .assert_error(409, "totp_enabled");
    let stored: String = sqlx::query_scalar("SELECT totp_secret FROM users WHERE username = $1")
        .bind(ADMIN_USER)
        .fetch_one(app.core.db.writer())
        .await
        .expect("row");
    assert!(stored.starts_with("s1."), "sealed at rest: {stored}");

    login(&app, None).await.assert_error(401, "totp_required");
    // The confirming code was spent; the next step's is good, once.
    login(&app, Some(&first))
        .await
        .assert_error(401, "invalid_totp");
    let next = code(&secret, 1);
    assert_eq!(login(&app, Some(&next)).await.status, 200);
    login(&app, Some(&next))
        .await
        .assert_error(401, "invalid_totp");
    // A wrong password never reaches the code.
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/admin/login").json(
                &json!({"username": ADMIN_USER, "password": "wrong", "totp": code(&secret, 1)}),
            ),
        )
        .await;
    r.assert_error(401, "invalid_credentials");

    // A recovery code works once, however it is typed.
    let typed = recovery[0].to_lowercase().replace('-', " ");
    assert_eq!(login(&app, Some(&typed)).await.status, 200);
    login(&app, Some(&recovery[0]))
        .await
        .assert_error(401, "invalid_totp");

    // Turning it off needs a code too.
    let off = |c: String| {
        let app = &app;
        async move {
            let req = app
                .admin(Method::DELETE, TOTP)
                .await
                .json(&json!({"code": c}));
            app.send(req).await
        }
    };
    off("123456".into()).await.assert_error(401, "invalid_totp");
    assert_eq!(off(recovery[1].clone()).await.status, 204);
    off(recovery[2].clone()).await.assert_error(409, "totp_off");
    assert_eq!(login(&app, None).await.status, 200);

    let audit: Value = app.admin_get("/api/v1/admin/audit").await.json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"staff.totp_on") && actions.contains(&"staff.totp_off"),
        "{actions:?}"
    );
}
both!(signing_in_needs_a_code_once_turned_on);

/// One code sent to two instances at the same moment signs in once.
async fn a_code_signs_in_once_across_instances(a: TestApp) {
    let (secret, _, _) = turn_on(&a).await;
    let b = a.sibling(&[]).await;
    let next = code(&secret, 1);
    let (x, y) = tokio::join!(login(&a, Some(&next)), login(&b, Some(&next)));
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "{x} / {y}");
}
postgres_only!(a_code_signs_in_once_across_instances);

/// A site that requires two factors: a token signed in with the password alone reaches only
/// the way to turn two-factor on; signing in again with a code opens everything; it cannot be
/// turned off while required; API keys (integrations) are not people and keep working.
async fn a_site_can_require_two_factor_sign_in_of_all_staff(app: TestApp) {
    let key = app
        .admin_post(
            "/api/v1/admin/api-keys",
            &json!({"name": "CRM", "scopes": ["quiz:read"]}),
        )
        .await;
    assert_eq!(key.status, 201, "{key}");
    let key = key.json()["key"].as_str().expect("key").to_string();
    let r = app
        .admin_put(
            "/api/v1/admin/settings",
            &json!({"doc": {"security": {"require_totp": "yes"}}}),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let r = app
        .admin_put(
            "/api/v1/admin/settings",
            &json!({"doc": {"security": {"require_totp": true}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");

    // The token from before: only "who am I" and turning two-factor on.
    let r = app.admin_get("/api/v1/admin/tests").await;
    r.assert_error(403, "totp_required");
    assert_eq!(app.admin_get("/api/v1/admin/me").await.status, 200);
    let with_key = app
        .send(
            app.request(Method::GET, "/api/v1/admin/tests")
                .bearer_auth(&key),
        )
        .await;
    assert_eq!(with_key.status, 200, "{with_key}");

    let (secret, recovery, _) = turn_on(&app).await;
    // Still the old token: sign in again, with a code.
    app.admin_get("/api/v1/admin/tests")
        .await
        .assert_error(403, "totp_required");
    let r = login(&app, Some(&code(&secret, 1))).await;
    assert_eq!(r.status, 200, "{r}");
    let token = r.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let tests = app
        .send(
            app.request(Method::GET, "/api/v1/admin/tests")
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(tests.status, 200, "{tests}");
    let off = app
        .send(
            app.request(Method::DELETE, TOTP)
                .bearer_auth(&token)
                .json(&json!({"code": recovery[0]})),
        )
        .await;
    off.assert_error(409, "totp_required_by_site");
}
both!(a_site_can_require_two_factor_sign_in_of_all_staff);
