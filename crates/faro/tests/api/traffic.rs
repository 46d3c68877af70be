//! The limits every request passes before its handler: the penalty box per address, the
//! shared budget of a tenant's API keys, each account's budget, anonymous public writes, and
//! the switch that turns them all off.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Resp, TestApp};
use crate::{both, postgres_only};

/// A request as if from `ip` behind the trusted local proxy.
async fn from(app: &TestApp, ip: &str, method: Method, path: &str) -> Resp {
    app.send(app.request(method, path).header("x-forwarded-for", ip))
        .await
}

#[track_caller]
fn refused(r: &Resp, code: &str, bucket: &str) -> u64 {
    r.assert_error(429, code);
    assert_eq!(r.json()["error"]["details"]["bucket"], bucket, "{r}");
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!(retry >= 1, "{retry}");
    retry
}

async fn the_penalty_box_refuses_an_address_everything_for_the_set_time(app: TestApp) {
    const ME: &str = "198.51.100.7";
    for i in 0..5 {
        let r = from(&app, ME, Method::GET, "/api/v1/tests").await;
        assert_eq!(r.status, 200, "request {i}: {r}");
    }
    let r = from(&app, ME, Method::GET, "/api/v1/tests").await;
    let retry = refused(&r, "penalty_box", "penalty");
    assert!(
        (59..=60).contains(&retry),
        "boxed for the whole minute: {retry}"
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("1 more minute"))
    );
    // Everything is refused now, writes and the staff API included...
    refused(
        &from(&app, ME, Method::POST, "/api/v1/auth/login").await,
        "penalty_box",
        "penalty",
    );
    refused(
        &from(&app, ME, Method::GET, "/api/v1/admin/me").await,
        "penalty_box",
        "penalty",
    );
    // ...but not the probes, and not another address.
    assert_eq!(
        from(&app, ME, Method::GET, "/api/v1/health").await.status,
        200
    );
    assert_eq!(
        from(&app, ME, Method::GET, "/api/v1/ready").await.status,
        200
    );
    let other = from(&app, "198.51.100.8", Method::GET, "/api/v1/tests").await;
    assert_eq!(other.status, 200, "{other}");
}
both!(
    the_penalty_box_refuses_an_address_everything_for_the_set_time,
    "RATE_LIMIT_PENALTY" => "5/minute",
    "PENALTY_BOX_MINUTES" => "1",
    "TRUSTED_PROXIES" => "127.0.0.1/32",
);

async fn anonymous_public_writes_are_limited_per_address(app: TestApp) {
    let login = |ip: &'static str| {
        app.send(
            app.request(Method::POST, "/api/v1/auth/login")
                .header("x-forwarded-for", ip)
                .json(&json!({"email": "nobody@example.com", "password": "wrong-password-1"})),
        )
    };
    for _ in 0..2 {
        login("198.51.100.20")
            .await
            .assert_error(401, "invalid_credentials");
    }
    refused(
        &login("198.51.100.20").await,
        "rate_limited",
        "public_writes",
    );
    // Reads are not writes; another address has its own budget.
    assert_eq!(
        from(&app, "198.51.100.20", Method::GET, "/api/v1/tests")
            .await
            .status,
        200
    );
    login("198.51.100.21")
        .await
        .assert_error(401, "invalid_credentials");
    // Staff writes are the staff's, not the public's.
    for i in 0..3 {
        let r = app
            .admin_post(
                "/api/v1/admin/api-keys",
                &json!({"name": format!("k{i}"), "scopes": ["quiz:read"]}),
            )
            .await;
        assert_eq!(r.status, 201, "{r}");
    }
}
both!(
    anonymous_public_writes_are_limited_per_address,
    "RATE_LIMIT_PUBLIC_WRITES" => "2/minute",
    "TRUSTED_PROXIES" => "127.0.0.1/32",
);

async fn new_key(app: &TestApp, name: &str) -> String {
    let r = app
        .admin_post(
            "/api/v1/admin/api-keys",
            &json!({"name": name, "scopes": ["quiz:read"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    r.json()["key"].as_str().expect("key").to_string()
}

async fn with(app: &TestApp, token: &str, path: &str) -> Resp {
    app.send(app.request(Method::GET, path).bearer_auth(token))
        .await
}

async fn a_tenants_api_keys_share_one_budget(app: TestApp) {
    let one = new_key(&app, "CRM").await;
    let two = new_key(&app, "newsletter").await;
    for key in [&one, &two, &one] {
        let r = with(&app, key, "/api/v1/admin/tests").await;
        assert_eq!(r.status, 200, "{r}");
    }
    let r = with(&app, &two, "/api/v1/admin/tests").await;
    refused(&r, "rate_limited", "tenant");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("API keys"))
    );
    // A made-up key spends nothing and is told it is not a key.
    let bogus = "faro_0000000000000000000000000000000000000000000";
    with(&app, bogus, "/api/v1/admin/tests")
        .await
        .assert_error(401, "unauthorized");
    // The staff's own token is not the keys' budget.
    assert_eq!(app.admin_get("/api/v1/admin/tests").await.status, 200);
}
both!(
    a_tenants_api_keys_share_one_budget,
    "RATE_LIMIT_TENANT" => "3/minute",
);

async fn each_signed_in_account_has_its_own_budget(app: TestApp) {
    let token = app.login().await;
    // A second account, made before the first spends its budget.
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "reader", "password": "Lectura-Segura-77", "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let r = app.login_as("reader", "Lectura-Segura-77").await;
    let reader = r.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    // One budget spent on the creation above; two more.
    for _ in 0..2 {
        assert_eq!(with(&app, &token, "/api/v1/admin/me").await.status, 200);
    }
    let r = with(&app, &token, "/api/v1/admin/me").await;
    refused(&r, "rate_limited", "user");
    // A forged token spends nobody's budget: it is refused as a token.
    let forged = format!("{}x", &token[..token.len() - 1]);
    with(&app, &forged, "/api/v1/admin/me")
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(with(&app, &reader, "/api/v1/admin/me").await.status, 200);
}
both!(
    each_signed_in_account_has_its_own_budget,
    "RATE_LIMIT_USER" => "3/minute",
);

async fn rate_limits_off_switches_every_limit_off(app: TestApp) {
    for _ in 0..6 {
        let r = app.login_as("admin", "not-the-password").await;
        r.assert_error(401, "invalid_credentials");
    }
    let config = app.get("/api/v1/health").await;
    assert_eq!(config.status, 200);
}
both!(
    rate_limits_off_switches_every_limit_off,
    "RATE_LIMITS" => "off",
    "RATE_LIMIT_LOGIN" => "1/minute",
    "RATE_LIMIT_PENALTY" => "3/minute",
    "RATE_LIMIT_PUBLIC_WRITES" => "1/minute",
);

/// Three instances on one PostgreSQL and one Redis: each decides in memory and sends its
/// counts to Redis every 100 ms, so an address spreading requests over them is boxed by all
/// of them within a moment, though no one instance saw it go over.
async fn three_instances_share_one_penalty_box(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    const ME: &str = "198.51.100.30";
    let mut sends = Vec::new();
    for app in [&a, &b, &c] {
        for _ in 0..4 {
            sends.push(from(app, ME, Method::GET, "/api/v1/tests"));
        }
    }
    // 12 requests, 4 per instance: each instance alone is within the quota of 6.
    let answers: Vec<Resp> = futures_util::future::join_all(sends).await;
    assert!(
        answers.iter().all(|r| r.status == 200),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    // An instance learns of the box when it next sends its counts: the fifth request on
    // each may still pass on one that sent its four before the others; by the sixth (still
    // within what any instance saw alone) every instance refuses: the box is the shared one.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    for app in [&a, &b, &c] {
        from(app, ME, Method::GET, "/api/v1/tests").await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    for app in [&a, &b, &c] {
        let r = from(app, ME, Method::GET, "/api/v1/tests").await;
        refused(&r, "penalty_box", "penalty");
    }
    let v: Value = from(&b, "198.51.100.31", Method::GET, "/api/v1/tests")
        .await
        .json();
    assert!(v["items"].is_array(), "{v}");
}
postgres_only!(
    three_instances_share_one_penalty_box,
    "REDIS_URL" => crate::common::redis_url().as_str(),
    "RATE_LIMIT_PENALTY" => "6/minute",
    "TRUSTED_PROXIES" => "127.0.0.1/32",
);
