//! Platform endpoints: liveness, readiness, metrics, request ids, the OpenAPI document and
//! JSON errors for what no handler serves.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::both;
use crate::common::{DEMO, TestApp};

async fn health_answers_ok(app: TestApp) {
    let r = app.get("/api/v1/health").await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["status"], "ok");
}
both!(health_answers_ok);

async fn ready_names_the_database_and_the_limiter(app: TestApp) {
    let r = app.get("/api/v1/ready").await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["status"], "ready");
    assert_eq!(v["database"], app.backend.name());
    assert_eq!(v["rate_limits"], "local");
}
both!(ready_names_the_database_and_the_limiter);

async fn metrics_count_requests_and_started_sessions(app: TestApp) {
    app.start(DEMO).await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status, 200, "{r}");
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{:?}",
        r.header("content-type")
    );
    assert!(r.text.contains("faro_http_requests_total"), "{}", r.text);
    assert!(
        r.text.contains("faro_quiz_sessions_started_total"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .lines()
            .any(|l| l.starts_with("faro_http_requests_total{")
                && l.contains("route=\"/api/v1/tests/{slug}/sessions\"")
                && l.contains("status=\"201\"")),
        "the start is counted under its route template: {}",
        r.text
    );
}
both!(metrics_count_requests_and_started_sessions);

async fn every_response_carries_a_request_id(app: TestApp) {
    for path in [
        "/api/v1/health",
        "/api/v1/tests",
        "/api/v1/tests/nope",
        "/api/v1/nope",
        "/api/v1/admin/tests",
        "/r/aaaaaaaaaaaaaaaaaaaaaa",
        "/metrics",
    ] {
        let r = app.get(path).await;
        let id = r.header("x-request-id").unwrap_or_default();
        assert_eq!(id.len(), 32, "{path}: x-request-id {id:?}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{path}: {id}");
    }
    let r = app
        .post_raw("/api/v1/sessions/x/answer", "{", Some("application/json"))
        .await;
    assert!(r.header("x-request-id").is_some(), "errors too: {r}");
}
both!(every_response_carries_a_request_id);

async fn a_valid_incoming_request_id_is_echoed(app: TestApp) {
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/health")
                .header("x-request-id", "lb-7f3a_9.x:1"),
        )
        .await;
    assert_eq!(r.header("x-request-id"), Some("lb-7f3a_9.x:1"));
}
both!(a_valid_incoming_request_id_is_echoed);

async fn an_invalid_incoming_request_id_is_replaced(app: TestApp) {
    let long = "a".repeat(65);
    for bad in ["has space", "quote\"d", "semi;colon", long.as_str()] {
        let r = app
            .send(
                app.request(Method::GET, "/api/v1/health")
                    .header("x-request-id", bad),
            )
            .await;
        let id = r.header("x-request-id").unwrap_or_default();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32, "{bad:?} replaced by a fresh id, got {id:?}");
    }
}
both!(an_invalid_incoming_request_id_is_replaced);

async fn openapi_documents_every_served_route_with_its_methods(app: TestApp) {
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200, "{r}");
    let doc: Value = r.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 60, "only {} paths documented", paths.len());
    // `routes!()` documents what it serves by construction; a route handed to axum directly
    // is found in the source: under /api/ each must be documented (but the document itself).
    let declared = crate::common::declared_routes();
    assert!(
        declared.contains("/admin/tests/{id}"),
        "the source scan works"
    );
    for route in declared.iter().filter(|r| r.starts_with("/api/")) {
        if route != "/api/v1/openapi.json" {
            assert!(
                paths.contains_key(route),
                "{route} is served but not in openapi.json"
            );
        }
    }
    for (path, item) in paths {
        for (m, op) in item.as_object().expect("path item") {
            if ["get", "post", "put", "delete", "patch"].contains(&m.as_str()) {
                assert!(
                    op["responses"].is_object(),
                    "{m} {path} documents its responses"
                );
            }
        }
    }
    assert!(
        doc["components"]["securitySchemes"]["bearer"].is_object(),
        "the bearer scheme is documented"
    );

    // Endpoints that take a body document it, and every endpoint that takes input documents
    // its errors.
    for (path, method) in [
        ("/api/v1/admin/login", "post"),
        ("/api/v1/tests/{slug}/sessions", "post"),
        ("/api/v1/sessions/{session_id}/answer", "post"),
        ("/api/v1/admin/tests", "post"),
        ("/api/v1/admin/tests/{id}", "put"),
        ("/api/v1/admin/tests/{id}/versions", "post"),
        ("/api/v1/admin/tests/{id}/versions/{version}", "put"),
        ("/api/v1/admin/questions", "post"),
        ("/api/v1/admin/questions/{key}", "put"),
        ("/api/v1/admin/webhooks", "post"),
        ("/api/v1/admin/webhooks/{id}", "patch"),
        ("/api/v1/admin/files", "post"),
    ] {
        let op = &paths[path][method];
        assert!(
            op["requestBody"].is_object(),
            "{method} {path} documents its body"
        );
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("item") {
            if path == "/api/v1/health" || path == "/api/v1/admin/logout" {
                continue;
            }
            let errors = op["responses"]
                .as_object()
                .map(|r| {
                    r.keys()
                        .filter(|k| k.starts_with('4') || k.starts_with('5'))
                        .count()
                })
                .unwrap_or(0);
            assert!(errors > 0, "{method} {path} documents its errors");
        }
    }

    // And the router really serves each documented operation: no "no such endpoint", no 405.
    for (path, item) in paths {
        let concrete = path
            .replace("{slug}", DEMO)
            .replace("{session_id}", "00000000-0000-4000-8000-000000000000")
            .replace("{share_token}", "aaaaaaaaaaaaaaaaaaaaaa")
            .replace("{version}", "1")
            .replace("{key}", "q1")
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for m in item.as_object().expect("path item").keys() {
            if !["get", "post", "put", "delete", "patch"].contains(&m.as_str()) {
                continue;
            }
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).expect("method");
            let r = app.send(app.request(method, &concrete)).await;
            assert_ne!(r.status, 405, "{m} {concrete}: {r}");
            if r.status == 404 && r.header("content-type").is_some_and(|c| c.contains("json")) {
                assert_ne!(
                    r.json()["error"]["message"],
                    "no such endpoint",
                    "{m} {concrete} is not routed"
                );
            }
        }
    }
}
both!(openapi_documents_every_served_route_with_its_methods);

async fn an_unknown_api_path_is_a_json_404(app: TestApp) {
    let r = app.get("/api/v1/does-not-exist").await;
    r.assert_error(404, "not_found");
    let r = app.get("/api/v2/tests").await;
    r.assert_error(404, "not_found");
}
both!(an_unknown_api_path_is_a_json_404);

async fn a_wrong_method_is_a_json_405_with_allow(app: TestApp) {
    let r = app
        .send(app.request(Method::DELETE, "/api/v1/health"))
        .await;
    r.assert_error(405, "method_not_allowed");
    assert!(
        r.header("allow").is_some_and(|a| a.contains("GET")),
        "{:?}",
        r.headers
    );
}
both!(a_wrong_method_is_a_json_405_with_allow);

async fn responses_carry_the_security_headers(app: TestApp) {
    let r = app.get("/api/v1/tests").await;
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert!(r.header("content-security-policy").is_some());
    assert!(r.header("referrer-policy").is_some());
}
both!(responses_carry_the_security_headers);

async fn cors_allows_only_the_configured_origins(app: TestApp) {
    let preflight = |origin: &'static str| {
        app.send(
            app.request(Method::OPTIONS, &format!("/api/v1/tests/{DEMO}/sessions"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type"),
        )
    };
    let ok = preflight("https://campaign.example").await;
    assert!(ok.status < 300, "{ok}");
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://campaign.example")
    );
    let other = preflight("https://evil.example").await;
    assert!(
        other.header("access-control-allow-origin").is_none(),
        "{:?}",
        other.headers
    );
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/tests")
                .header("origin", "https://campaign.example"),
        )
        .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://campaign.example")
    );
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        exposed.contains("ratelimit-remaining") && exposed.contains("x-request-id"),
        "{exposed}"
    );
}
both!(cors_allows_only_the_configured_origins, "CORS_ALLOWED_ORIGINS" => "https://campaign.example");

async fn a_request_that_takes_too_long_is_a_json_503(app: TestApp) {
    // Another connection holds the write lock, so the start cannot insert its session within
    // REQUEST_TIMEOUT_SECS.
    let other = faro_store::Db::connect(&app.db_url, &faro_store::DbOptions::default())
        .await
        .expect("second connection");
    let mut tx = other.begin_write().await.expect("begin");
    if app.backend == faro_store::Backend::Postgres {
        sqlx::query("LOCK TABLE quiz_sessions IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .expect("lock");
    } else {
        sqlx::query("DELETE FROM quiz_sessions WHERE id = 'none'")
            .execute(&mut *tx)
            .await
            .expect("take the write lock");
    }
    let started = std::time::Instant::now();
    let r = app.start_session(DEMO, "").await;
    let took = started.elapsed();
    tx.rollback().await.expect("rollback");
    other.close().await;
    assert_eq!(
        r.status, 503,
        "a timeout is retryable, not an internal error: {r}"
    );
    assert_eq!(r.error_code(), "request_timeout");
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    assert!(r.header("x-request-id").is_some());
    assert!(
        took < std::time::Duration::from_secs(4),
        "cut at the timeout: {took:?}"
    );
    // The server recovers once the lock is gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = app.start_session(DEMO, "").await;
        if r.status == 201 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{r}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
both!(a_request_that_takes_too_long_is_a_json_503, "REQUEST_TIMEOUT_SECS" => "1");

async fn an_internal_error_carries_only_the_request_id(app: TestApp) {
    // A stored definition that no longer parses: the server cannot serve the test.
    app.exec(
        "UPDATE quiz_versions SET definition = $1",
        "{\"slug\": \"secret-internal-detail\"",
    )
    .await;
    let r = app
        .send(
            app.request(Method::GET, &format!("/api/v1/tests/{DEMO}"))
                .header("x-request-id", "trace-me-42"),
        )
        .await;
    r.assert_error(500, "internal");
    let v = r.json();
    assert_eq!(
        v["error"]["details"],
        serde_json::json!({"request_id": "trace-me-42"})
    );
    for leak in [
        "secret-internal-detail",
        "corrupt",
        "sql",
        "definition",
        "EOF",
    ] {
        assert!(
            !r.text.to_lowercase().contains(&leak.to_lowercase()),
            "{leak} leaked: {r}"
        );
    }
}
both!(an_internal_error_carries_only_the_request_id);

async fn ready_is_503_when_the_database_is_gone(app: TestApp) {
    app.core.db.close().await;
    let r = app.get("/api/v1/ready").await;
    r.assert_error(503, "database_unavailable");
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    // Liveness does not depend on the database.
    assert_eq!(app.get("/api/v1/health").await.status, 200);
    let r = app.start_session(DEMO, "").await;
    assert_eq!(r.status, 503, "{r}");
}
both!(ready_is_503_when_the_database_is_gone);

async fn staff_see_the_jobs_with_their_last_run_and_the_consumers_lag(app: TestApp) {
    assert_eq!(app.get("/api/v1/admin/jobs").await.status, 401);
    // The scheduler runs a new job as soon as it registers it.
    let mut purge = Value::Null;
    for _ in 0..100 {
        let r = app.admin_get("/api/v1/admin/jobs").await;
        assert_eq!(r.status, 200, "{r}");
        let v = r.json();
        if let Some(job) = v["items"]
            .as_array()
            .and_then(|items| items.iter().find(|j| j["name"] == "quiz.purge_sessions"))
            && job["runs"].as_i64() >= Some(1)
            && !job["last_finished_at"].is_null()
        {
            purge = job.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(purge["every_seconds"], 3600, "{purge}");
    assert_eq!(purge["failures"], 0, "{purge}");
    assert!(purge["last_error"].is_null(), "{purge}");
    assert!(
        purge["next_run_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{purge}"
    );
    assert!(purge["last_duration_ms"].as_i64().is_some(), "{purge}");
}
both!(staff_see_the_jobs_with_their_last_run_and_the_consumers_lag);

async fn server_errors_are_kept_for_the_tenants_admins_with_their_request_id(app: TestApp) {
    app.exec(
        "UPDATE quiz_versions SET definition = $1",
        "{\"slug\": \"broken\"",
    )
    .await;
    let r = app
        .send(
            app.request(Method::GET, &format!("/api/v1/tests/{DEMO}"))
                .header("x-request-id", "kept-error-1"),
        )
        .await;
    assert_eq!(r.status, 500, "{r}");
    // The cause is written in the background, after the response.
    let mut items = Vec::new();
    for _ in 0..50 {
        let r = app.admin_get("/api/v1/admin/errors").await;
        assert_eq!(r.status, 200, "{r}");
        items = r.json()["items"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(items.len(), 1, "{items:?}");
    let e = &items[0];
    assert_eq!(e["request_id"], "kept-error-1");
    assert_eq!(e["route"], "/api/v1/tests/{slug}");
    assert_eq!(
        (e["method"].as_str(), e["status"].as_i64()),
        (Some("GET"), Some(500))
    );
    assert!(
        e["cause"].as_str().is_some_and(|c| c.contains("corrupt")),
        "the internal cause is kept for staff: {e}"
    );
    // The panel lists it too; signed out, neither answers.
    let page = app
        .send(app.admin(Method::GET, "/admin/errors").await)
        .await;
    assert_eq!(page.status, 200, "{page}");
    assert!(page.text.contains("kept-error-1"), "{}", page.text);
    assert_eq!(app.get("/api/v1/admin/errors").await.status, 401);
}
both!(server_errors_are_kept_for_the_tenants_admins_with_their_request_id);

/// With every switchable module off, only the platform serves: the quiz's routes are gone,
/// and the panel's home (the quiz's tests list otherwise) leads to the first remaining link.
async fn with_the_quiz_off_its_routes_are_gone_and_the_panel_home_moves(app: TestApp) {
    assert_eq!(app.get(&format!("/api/v1/tests/{DEMO}")).await.status, 404);
    assert_eq!(app.get("/admin/tests").await.status, 404);
    let home = app.get("/admin").await;
    assert_eq!(home.status, 303, "{home}");
    assert_eq!(home.header("location"), Some("/admin/visitors"));
    let page = app
        .send(app.admin(Method::GET, "/admin/webhooks").await)
        .await;
    assert_eq!(page.status, 200, "{page}");
    assert!(
        !page.text.contains("href=\"/admin/tests\""),
        "no link to the quiz"
    );
}
both!(with_the_quiz_off_its_routes_are_gone_and_the_panel_home_moves, "FARO_MODULES" => "");

/// The properties of the schema a `$ref` names in the document's components.
fn schema_properties(doc: &Value, reference: &Value) -> BTreeSet<String> {
    let name = reference
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .unwrap_or_else(|| panic!("{reference} is a component reference"));
    doc["components"]["schemas"][name]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {name} has properties"))
        .keys()
        .cloned()
        .collect()
}

/// Two response types with one schema name once made `/api/v1/admin/me` document the end
/// user's profile (Schemathesis found it): each "me" documents the body it really returns.
async fn each_me_endpoint_documents_its_own_body(app: TestApp) {
    let doc: Value = app.get("/api/v1/openapi.json").await.json();
    let staff = &doc["paths"]["/api/v1/admin/me"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["$ref"];
    let staff = schema_properties(&doc, staff);
    let token = app.login().await;
    let body: Value = app
        .send(
            app.request(Method::GET, "/api/v1/admin/me")
                .bearer_auth(&token),
        )
        .await
        .json();
    let returned: BTreeSet<String> = body.as_object().expect("object").keys().cloned().collect();
    assert_eq!(
        staff, returned,
        "GET /api/v1/admin/me documents what it returns"
    );

    let user = &doc["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["$ref"];
    let user = schema_properties(&doc, user);
    assert!(
        user.contains("email") && !user.contains("username"),
        "{user:?}"
    );
}
both!(each_me_endpoint_documents_its_own_body);

/// utoipa keys component schemas by type name, so a second `ToSchema` type with the same
/// name silently replaces the first in openapi.json. Scan the sources for such pairs.
#[test]
fn no_two_schema_types_share_a_name() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).expect("crates").flatten() {
        let src = krate.path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut clashes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !(line.contains("derive(") && line.contains("ToSchema")) {
                continue;
            }
            let mut alias = None;
            for next in lines.iter().skip(i).take(12) {
                if let Some(rest) = next.split("schema(").nth(1)
                    && let Some(a) = rest.split(" as = ").nth(1)
                {
                    alias = a
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .map(str::to_owned);
                }
                let item = next.trim_start().trim_start_matches("pub ").trim_start();
                let item = item.trim_start_matches("pub(crate) ");
                if let Some(rest) = item
                    .strip_prefix("struct ")
                    .or_else(|| item.strip_prefix("enum "))
                {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let name = alias.take().unwrap_or(name);
                    let at = format!("{}:{}", file.display(), i + 1);
                    if let Some(first) = seen.insert(name.clone(), at.clone()) {
                        clashes.push(format!("{name}: {first} and {at}"));
                    }
                    break;
                }
            }
        }
    }
    assert!(
        seen.len() > 50,
        "the scan finds the schema types ({})",
        seen.len()
    );
    assert!(clashes.is_empty(), "schema names used twice: {clashes:#?}");
}
