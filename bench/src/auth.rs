//! `faro-bench auth`: what authenticating costs a request, measured in process. An
//! authenticated read and an anonymous one run the same handler; what differs is the
//! extractor in front of it: `Viewer` (a staff JWT, or an API key) where an anonymous read
//! resolves `PublicTenant` from the host name. So the overhead is the difference between
//! those extractors, timed here on a real app (SQLite file, every module mounted, the key's
//! cache warm as it is after a key's first request) without the network's noise around it.
//! Goal (issue 10): under 50 µs per request.

use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Request, header};
use faro_auth::Role;
use faro_auth::token::Grant;
use faro_http::Core;
use faro_http::apikey::RouteModule;
use faro_http::auth::Viewer;
use faro_http::tenant::PublicTenant;

/// One figure of the report.
pub struct Cost {
    pub what: &'static str,
    pub per_request: Duration,
}

fn parts(core_host: &str, bearer: Option<&str>, module: Option<&'static str>) -> Parts {
    let mut req = Request::builder()
        .uri("/api/v1/admin/tests")
        .header(header::HOST, core_host);
    if let Some(t) = bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let (mut parts, ()) = req.body(()).expect("a request").into_parts();
    if let Some(m) = module {
        parts.extensions.insert(RouteModule(m));
    }
    parts
}

/// The median over `rounds` of the mean time of `n` runs of `f`.
async fn time<F, Fut>(n: u32, rounds: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut means = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..n {
            f().await;
        }
        means.push(start.elapsed() / n);
    }
    means.sort();
    means[rounds / 2]
}

pub async fn measure(iterations: u32) -> anyhow::Result<Vec<Cost>> {
    let dir = std::env::temp_dir().join(format!("faro-bench-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db_url = format!("sqlite://{}/faro.db?mode=rwc", dir.display());
    let env: std::collections::BTreeMap<String, String> = [
        ("DATABASE_URL", db_url.as_str()),
        ("ADMIN_USER", "admin"),
        ("ADMIN_PASSWORD", "bench-password-long-enough"),
        ("FARO_LOG", "error"),
        ("PUBLIC_BASE_URL", "http://localhost"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = faro::Config::from_sources(None, &env).context("bench configuration")?;
    let app = faro::App::build(config).await.context("building the app")?;
    let core: Core = app.core.clone();

    let tenant = faro_store::TenantId::default_tenant();
    let jwt = core.keys.issue_grant(
        &Grant {
            user_id: "bench",
            username: "bench",
            tenant_id: tenant.as_str(),
            role: Role::Viewer,
            super_admin: false,
            impersonator: None,
            mfa: false,
        },
        Duration::from_secs(3600),
        faro_store::unix_now(),
    )?;
    let created = faro_platform::api_keys::create(
        &core.db,
        &tenant,
        &core.key_modules,
        faro_platform::api_keys::NewKey {
            name: "bench".into(),
            scopes: vec!["quiz:read".into()],
            expires_at: None,
        },
        &faro_platform::audit::Actor::cli(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("making a key: {e}"))?;
    let key = created.key;

    // Warm: the host map and the key cache are read once, as a first request would.
    let mut p = parts("localhost", Some(&key), Some("quiz"));
    Viewer::from_request_parts(&mut p, &core)
        .await
        .map_err(|e| anyhow::anyhow!("the key is refused: {e:?}"))?;
    let mut p = parts("localhost", Some(&jwt), Some("quiz"));
    Viewer::from_request_parts(&mut p, &core)
        .await
        .map_err(|e| anyhow::anyhow!("the token is refused: {e:?}"))?;

    let rounds = 7;
    let anonymous = time(iterations, rounds, || {
        let core = core.clone();
        async move {
            let mut p = parts("localhost", None, Some("quiz"));
            let t = PublicTenant::from_request_parts(&mut p, &core).await;
            std::hint::black_box(t.is_ok());
        }
    })
    .await;
    let with_jwt = time(iterations, rounds, || {
        let core = core.clone();
        let jwt = jwt.as_str();
        async move {
            let mut p = parts("localhost", Some(jwt), Some("quiz"));
            let v = Viewer::from_request_parts(&mut p, &core).await;
            std::hint::black_box(v.is_ok());
        }
    })
    .await;
    let with_key = time(iterations, rounds, || {
        let core = core.clone();
        let key = key.as_str();
        async move {
            let mut p = parts("localhost", Some(key), Some("quiz"));
            let v = Viewer::from_request_parts(&mut p, &core).await;
            std::hint::black_box(v.is_ok());
        }
    })
    .await;
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(vec![
        Cost {
            what: "anonymous (PublicTenant)",
            per_request: anonymous,
        },
        Cost {
            what: "staff JWT (Viewer)",
            per_request: with_jwt,
        },
        Cost {
            what: "API key (Viewer)",
            per_request: with_key,
        },
    ])
}
