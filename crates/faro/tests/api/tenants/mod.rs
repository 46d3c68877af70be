//! Tenants and the super-admin's console API: creating, listing, editing, pausing, the
//! tenant's own owner signing in on its host name, and the audit log of every change.

mod api_keys;
mod audit;
mod lifecycle;
mod networks;
mod purge;
mod quotas;
mod settings;
mod staff;
mod usage;
mod walk;

use reqwest::Method;
use reqwest::header::HOST;
use serde_json::{Value, json};

use crate::common::{Resp, TestApp};

/// A password the policy accepts.
pub const OWNER_PASSWORD: &str = "Cocina-Azul-2026";

/// Creates a tenant as the super-admin; returns its JSON.
pub async fn create_tenant(app: &TestApp, slug: &str, host: &str) -> Value {
    let r = app
        .admin_post(
            "/api/v1/platform/tenants",
            &json!({
                "slug": slug,
                "name": format!("Tenant {slug}"),
                "hosts": [host],
                "language": "ca",
                "time_zone": "Europe/Madrid",
                "owner": {"username": "owner", "password": OWNER_PASSWORD},
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    r.json()
}

/// Sends `req` as if to `host`.
pub async fn on_host(app: &TestApp, host: &str, req: reqwest::RequestBuilder) -> Resp {
    app.send(req.header(HOST, host)).await
}

/// Signs in as `username` on `host`; returns the response.
pub async fn login_on(app: &TestApp, host: &str, username: &str, password: &str) -> Resp {
    let req = app
        .request(Method::POST, "/api/v1/admin/login")
        .json(&json!({"username": username, "password": password}));
    on_host(app, host, req).await
}

/// The bearer token of `username` on `host`.
pub async fn token_on(app: &TestApp, host: &str, username: &str, password: &str) -> String {
    let r = login_on(app, host, username, password).await;
    assert_eq!(r.status, 200, "{r}");
    r.json()["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// A request with `token`.
pub async fn with_token(app: &TestApp, token: &str, method: Method, path: &str) -> Resp {
    app.send(app.request(method, path).bearer_auth(token)).await
}
