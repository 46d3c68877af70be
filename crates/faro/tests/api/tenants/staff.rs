//! Staff management: owners and admins add staff, change roles, reset passwords and disable
//! accounts, never above their own rank, never leaving the tenant without an active owner,
//! every change audited.

use reqwest::Method;
use serde_json::{Value, json};

use super::{OWNER_PASSWORD, create_tenant, login_on, token_on, with_token};
use crate::both;
use crate::common::{Resp, TestApp};

const STAFF: &str = "/api/v1/admin/staff";

async fn send(app: &TestApp, token: &str, method: Method, path: &str, body: &Value) -> Resp {
    app.send(app.request(method, path).bearer_auth(token).json(body))
        .await
}

async fn add(app: &TestApp, token: &str, username: &str, role: &str) -> Value {
    let r = send(
        app,
        token,
        Method::POST,
        STAFF,
        &json!({"username": username, "password": OWNER_PASSWORD, "role": role}),
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    r.json()
}

async fn owners_and_admins_manage_staff_within_their_rank(app: TestApp) {
    create_tenant(&app, "acme", "acme.test").await;
    let owner = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let admin = add(&app, &owner, "alba", "admin").await;
    assert_eq!(admin["role"], "admin");
    assert_eq!(admin["disabled"], false);
    assert!(admin.get("pass_hash").is_none() && admin.get("password").is_none());
    let alba = token_on(&app, "acme.test", "alba", OWNER_PASSWORD).await;

    // An admin adds agents and viewers, not owners, and cannot touch the owner.
    let agent = add(&app, &alba, "aitor", "agent").await;
    let r = send(
        &app,
        &alba,
        Method::POST,
        STAFF,
        &json!({"username": "olga", "password": OWNER_PASSWORD, "role": "owner"}),
    )
    .await;
    r.assert_error(403, "role_above_yours");
    let list = with_token(&app, &owner, Method::GET, STAFF).await.json();
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| s["username"].as_str())
        .collect();
    assert_eq!(names, ["aitor", "alba", "owner"]);
    let owner_id = list["items"][2]["id"].as_str().expect("id").to_string();
    let r = send(
        &app,
        &alba,
        Method::PATCH,
        &format!("{STAFF}/{owner_id}"),
        &json!({"disabled": true}),
    )
    .await;
    r.assert_error(403, "role_above_yours");

    // Promote, reset a password, disable: the account can no longer sign in.
    let agent_id = agent["id"].as_str().expect("id");
    let r = send(
        &app,
        &alba,
        Method::PATCH,
        &format!("{STAFF}/{agent_id}"),
        &json!({"role": "viewer", "password": "Otra-Clave-Larga-99"}),
    )
    .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["role"], "viewer");
    let r = login_on(&app, "acme.test", "aitor", "Otra-Clave-Larga-99").await;
    assert_eq!(r.status, 200, "{r}");
    let aitor = r.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    // Signed in after the change, the new token works at once and says the new role.
    let me = with_token(&app, &aitor, Method::GET, "/api/v1/admin/me").await;
    assert_eq!(me.status, 200, "{me}");
    assert_eq!(me.json()["role"], "viewer");
    let r = send(
        &app,
        &alba,
        Method::PATCH,
        &format!("{STAFF}/{agent_id}"),
        &json!({"disabled": true}),
    )
    .await;
    assert_eq!(r.json()["disabled"], true, "{r}");
    let r = login_on(&app, "acme.test", "aitor", "Otra-Clave-Larga-99").await;
    r.assert_error(401, "invalid_credentials");
    // The token aitor had before being disabled is refused too (it would still say viewer).
    let r = with_token(&app, &aitor, Method::GET, "/api/v1/admin/me").await;
    r.assert_error(401, "unauthorized");
    assert!(r.text.contains("sign in again"), "{r}");

    // Viewers and agents manage nobody; each tenant sees its own staff only.
    let default_staff = app.admin_get(STAFF).await;
    assert!(!default_staff.text.contains("alba"), "{default_staff}");
    let r = with_token(&app, &owner, Method::GET, &format!("{STAFF}/no-such-id")).await;
    r.assert_error(404, "not_found");
    let default_id = default_staff.json()["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = with_token(&app, &owner, Method::GET, &format!("{STAFF}/{default_id}")).await;
    r.assert_error(404, "not_found");

    // Audited, the password never written.
    let audit = with_token(&app, &owner, Method::GET, "/api/v1/admin/audit").await;
    let actions: Vec<&str> = audit.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("staff."))
        .map(|a| {
            if a == "staff.create" {
                "create"
            } else {
                "update"
            }
        })
        .collect();
    assert_eq!(actions, ["update", "update", "create", "create"], "{audit}");
    assert!(audit.text.contains("\"password\":\"changed\""), "{audit}");
    assert!(!audit.text.contains("Otra-Clave"), "{audit}");
    assert!(!audit.text.contains("argon2"), "{audit}");
}
both!(owners_and_admins_manage_staff_within_their_rank);

async fn the_tenant_keeps_an_active_owner(app: TestApp) {
    create_tenant(&app, "acme", "acme.test").await;
    let owner = token_on(&app, "acme.test", "owner", OWNER_PASSWORD).await;
    let list = with_token(&app, &owner, Method::GET, STAFF).await.json();
    let owner_id = list["items"][0]["id"].as_str().expect("id").to_string();
    let me = format!("{STAFF}/{owner_id}");
    let r = send(&app, &owner, Method::PATCH, &me, &json!({"role": "admin"})).await;
    r.assert_error(409, "last_owner");
    let r = send(&app, &owner, Method::PATCH, &me, &json!({"disabled": true})).await;
    r.assert_error(409, "own_account");
    // With a second owner, the first may step down.
    add(&app, &owner, "olga", "owner").await;
    let r = send(&app, &owner, Method::PATCH, &me, &json!({"role": "admin"})).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["role"], "admin");
}
both!(the_tenant_keeps_an_active_owner);

async fn bad_staff_requests_say_what_is_wrong(app: TestApp) {
    let token = app.login().await;
    let r = send(
        &app,
        &token,
        Method::POST,
        STAFF,
        &json!({"username": "no spaces", "password": "short", "role": "boss"}),
    )
    .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["username", "password", "role"], "{r}");
    add(&app, &token, "vera", "viewer").await;
    let r = send(
        &app,
        &token,
        Method::POST,
        STAFF,
        &json!({"username": "vera", "password": OWNER_PASSWORD, "role": "viewer"}),
    )
    .await;
    r.assert_error(409, "username_taken");
    let r = send(&app, &token, Method::POST, STAFF, &json!({"username": "x"})).await;
    assert_eq!(r.status, 422, "{r}");
    let vera = app.login_as("vera", OWNER_PASSWORD).await;
    let vera = vera.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let r = with_token(&app, &vera, Method::GET, STAFF).await;
    assert_eq!(r.status, 403, "{r}");
}
both!(bad_staff_requests_say_what_is_wrong);

/// Two owners demoting each other at the same moment on two instances: one wins, the other
/// is told the tenant needs an owner; there is always an active owner left.
async fn two_owners_demoting_each_other_at_once_leave_one(a: TestApp) {
    let b = a.sibling(&[]).await;
    create_tenant(&a, "acme", "acme.test").await;
    for round in 0..5 {
        // Signed in afresh each round: last round's changes made older tokens worthless.
        let first = token_on(&a, "acme.test", "owner", OWNER_PASSWORD).await;
        let name = format!("olga{round}");
        add(&a, &first, &name, "owner").await;
        let second = token_on(&b, "acme.test", &name, OWNER_PASSWORD).await;
        let list = with_token(&a, &first, Method::GET, STAFF).await.json();
        let id_of = |u: &str| {
            list["items"]
                .as_array()
                .and_then(|i| i.iter().find(|s| s["username"] == u))
                .and_then(|s| s["id"].as_str())
                .expect("listed")
                .to_string()
        };
        let (first_id, second_id) = (id_of("owner"), id_of(&name));
        let demote = json!({"role": "admin"});
        let (to_second, to_first) = (
            format!("{STAFF}/{second_id}"),
            format!("{STAFF}/{first_id}"),
        );
        let (r1, r2) = tokio::join!(
            send(&a, &first, Method::PATCH, &to_second, &demote),
            send(&b, &second, Method::PATCH, &to_first, &demote),
        );
        // One wins. The other is refused: 409 `last_owner` when it counted the owners after
        // the winner, or 401 when the winner's demotion of its own account landed first (its
        // token now carries a role it no longer has).
        let mut statuses = [r1.status, r2.status];
        statuses.sort_unstable();
        assert!(
            statuses == [200, 409] || statuses == [200, 401],
            "round {round}: {r1}\n{r2}"
        );
        let owners = sqlx::query(
            "SELECT COUNT(*) AS n FROM users WHERE role = 'owner' AND disabled = 0 \
             AND tenant_id <> 'default'",
        )
        .fetch_one(a.core.db.writer())
        .await
        .expect("count");
        let owners: i64 = sqlx::Row::try_get(&owners, "n").expect("n");
        assert_eq!(owners, 1, "round {round}: one active owner left");
        // Put the first owner back for the next round (the winner is an owner).
        let winner = if r1.status == 200 { &first } else { &second };
        let r = send(
            &a,
            winner,
            Method::PATCH,
            &format!("{STAFF}/{first_id}"),
            &json!({"role": "owner"}),
        )
        .await;
        assert_eq!(r.status, 200, "{r}");
        let first = token_on(&a, "acme.test", "owner", OWNER_PASSWORD).await;
        let r = send(
            &a,
            &first,
            Method::PATCH,
            &format!("{STAFF}/{second_id}"),
            &json!({"disabled": true, "role": "admin"}),
        )
        .await;
        assert_eq!(r.status, 200, "{r}");
    }
}
crate::postgres_only!(two_owners_demoting_each_other_at_once_leave_one);
