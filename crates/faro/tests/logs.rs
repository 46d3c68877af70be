//! What the logs must never carry: the visitor's IP, what they answered, passwords, tokens,
//! cookies or the signing secret. The real `faro` binary runs with `FARO_LOG=debug` (every
//! target, sqlx and hyper included) behind a trusted proxy that names a distinctive client IP;
//! one test drives everything that could leak (sign-ins good and bad, the panel, a whole
//! session through the API and the pages, the share page, errors), then reads every line
//! the process wrote to stdout and stderr.

mod common;

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::free_port;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

const CLIENT_IP: &str = "203.0.113.77";
const ADMIN_USER: &str = "logs-admin";
const ADMIN_PASSWORD: &str = "Narwhal-Pa55word-4417-zq";
const WRONG_PASSWORD: &str = "Quokka-Wr0ng-9931-xv";
const JWT_SECRET: &str = "jwt-canary-6f1d2c9b8a7e4d3c2b1a0f9e8d7c6b5a";
const USER_AGENT: &str = "Mozilla/5.0 (LeakCanary 77.1)";
/// Option keys only this test uses: if one shows up in a log, an answer leaked.
const OPTIONS: [&str; 6] = [
    "ans-heron-5521",
    "ans-ibex-6632",
    "ans-jackal-7743",
    "ans-koala-8854",
    "ans-lemur-9965",
    "ans-marmot-1076",
];
/// An unknown option a visitor sends: refused answers must not be logged either.
const BOGUS_OPTION: &str = "bogus-canary-3141";

struct Server {
    child: Child,
    base: String,
    stdout: std::path::PathBuf,
    stderr: std::path::PathBuf,
    _dir: TempDir,
}

/// A directory removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("faro-logs-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn spawn_server() -> Server {
    spawn_server_with(&[("FARO_LOG", "debug")]).await
}

async fn spawn_server_with(env: &[(&str, &str)]) -> Server {
    let dir = TempDir::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let stdout = dir.0.join("stdout.log");
    let stderr = dir.0.join("stderr.log");
    let child = Command::new(env!("CARGO_BIN_EXE_faro"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.0.join("faro.db").display()),
        )
        .env("FARO_BIND", format!("127.0.0.1:{port}"))
        .env("PUBLIC_BASE_URL", &base)
        .env("TRUSTED_PROXIES", "127.0.0.1")
        .env("ADMIN_USER", ADMIN_USER)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("JWT_SECRET", JWT_SECRET)
        .env("FARO_DEMO", "true")
        .env("ANTIBOT_MIN_SECONDS", "0")
        .env("CATALOG_CACHE_MS", "0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(File::create(&stdout).expect("stdout file"))
        .stderr(File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("start the faro binary");
    let mut server = Server {
        child,
        base,
        stdout,
        stderr,
        _dir: dir,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client
            .get(format!("{}/api/v1/ready", server.base))
            .send()
            .await
            && r.status() == 200
        {
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("faro exited at start-up ({status}):\n{}", server.logs());
        }
        assert!(
            Instant::now() < deadline,
            "faro did not become ready:\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn read(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

impl Server {
    fn logs(&self) -> String {
        format!("{}{}", read(&self.stdout), read(&self.stderr))
    }

    /// SIGTERM, so the shutdown path logs too; then waits for the process to exit.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("faro did not stop after SIGTERM");
    }
}

/// Every request comes through "the proxy" (127.0.0.1, trusted) on behalf of CLIENT_IP.
fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", CLIENT_IP.parse().expect("header value"));
    headers.insert("x-real-ip", CLIENT_IP.parse().expect("header value"));
    reqwest::Client::builder()
        .default_headers(headers)
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

fn test_document() -> Value {
    json!({
        "slug": "log-canary",
        "title": "Log canary",
        "lang": "en",
        "dimensions": [{"key": "d", "label": "D"}],
        "questions": [
            {"key": "first", "type": "single", "text": "First?", "options": [
                {"key": OPTIONS[0], "text": "A", "scores": {"d": 0}},
                {"key": OPTIONS[1], "text": "B", "scores": {"d": 5}}]},
            {"key": "second", "type": "multi", "text": "Second?", "min_select": 1, "max_select": 2,
             "options": [
                {"key": OPTIONS[2], "text": "C", "scores": {"d": 1}},
                {"key": OPTIONS[3], "text": "D", "scores": {"d": 2}},
                {"key": OPTIONS[4], "text": "E", "scores": {"d": 3}}]},
            {"key": "third", "type": "scale", "text": "Third?",
             "scale": {"min": 1, "max": 9, "scores_per_point": {"d": 1}}},
            {"key": "fourth", "type": "single", "text": "Fourth?", "options": [
                {"key": OPTIONS[5], "text": "F", "scores": {"d": 1}},
                {"key": "plain", "text": "G", "scores": {"d": 0}}]}
        ],
        "profiles": [{"code": "ALL", "title": "All", "min": 0, "max": 100}]
    })
}

/// A form body, as a browser sends it (reqwest here has no `form` feature).
fn form(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

const FORM: &str = "application/x-www-form-urlencoded";

/// `name=value` of each cookie a response sets.
fn set_cookies(r: &reqwest::Response) -> Vec<(String, String)> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Drives everything that could leak; returns the secrets the run handed out (tokens,
/// cookies, session ids, share tokens) that must not be in the logs either.
async fn drive(base: &str) -> Vec<String> {
    let http = client();
    let url = |p: &str| format!("{base}{p}");
    let mut handed_out = Vec::new();

    // Sign-ins: a wrong password, an unknown user, then the right one.
    for (user, password) in [
        (ADMIN_USER, WRONG_PASSWORD),
        ("nobody-here", WRONG_PASSWORD),
    ] {
        let r = http
            .post(url("/api/v1/admin/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 401);
    }
    let r = http
        .post(url("/api/v1/admin/login"))
        .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    for (_, v) in set_cookies(&r) {
        handed_out.push(v);
    }
    let body: Value = r.json().await.expect("login body");
    let token = body["access_token"].as_str().expect("token").to_string();
    handed_out.push(body["csrf_token"].as_str().expect("csrf").to_string());
    handed_out.push(token.clone());

    // A tampered token and a malformed one: refused, and not echoed into the logs.
    let tampered = format!("{}x", token);
    for bad in [tampered.as_str(), "not-a-jwt-canary-2718"] {
        let r = http
            .get(url("/api/v1/admin/me"))
            .bearer_auth(bad)
            .send()
            .await
            .expect("me");
        assert_eq!(r.status(), 401);
    }
    handed_out.push(tampered);
    handed_out.push("not-a-jwt-canary-2718".into());

    // The panel's form sign-in, with a wrong password first, then a page while signed in.
    let r = http.get(url("/admin/login")).send().await.expect("form");
    let csrf = set_cookies(&r)
        .into_iter()
        .find(|(k, _)| k == "faro_csrf")
        .map(|(_, v)| v)
        .expect("a login csrf cookie");
    handed_out.push(csrf.clone());
    for password in [WRONG_PASSWORD, ADMIN_PASSWORD] {
        let r = http
            .post(url("/admin/login"))
            .header(COOKIE, format!("faro_csrf={csrf}"))
            .header(CONTENT_TYPE, FORM)
            .body(form(&[
                ("username", ADMIN_USER),
                ("password", password),
                ("csrf", csrf.as_str()),
                ("next", "/admin"),
            ]))
            .send()
            .await
            .expect("form login");
        if password == ADMIN_PASSWORD {
            assert_eq!(r.status(), 303);
            let cookies = set_cookies(&r);
            let session = cookies
                .iter()
                .find(|(k, _)| k == "faro_session")
                .map(|(_, v)| v.clone())
                .expect("a session cookie");
            let r = http
                .get(url("/admin"))
                .header(COOKIE, format!("faro_session={session}"))
                .send()
                .await
                .expect("panel");
            assert_eq!(r.status(), 200);
            handed_out.extend(cookies.into_iter().map(|(_, v)| v));
        } else {
            assert_ne!(r.status(), 303, "a wrong password signed in");
        }
    }

    // Import and publish the canary test through the admin API.
    let r = http
        .post(url("/api/v1/admin/tests"))
        .bearer_auth(&token)
        .json(&test_document())
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.expect("created");
    let id = created["id"].as_str().expect("id").to_string();
    let r = http
        .post(url(&format!("/api/v1/admin/tests/{id}/versions/1/publish")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("publish");
    assert_eq!(r.status(), 200);

    // A visitor through the API, with refused answers on the way.
    let r = http
        .post(url("/api/v1/tests/log-canary/sessions?utm_source=logs"))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status(), 201);
    let started: Value = r.json().await.expect("started");
    let sid = started["session_id"].as_str().expect("sid").to_string();
    handed_out.push(sid.clone());
    let answer = |body: Value| {
        let http = http.clone();
        let u = url(&format!("/api/v1/sessions/{sid}/answer"));
        async move { http.post(u).json(&body).send().await.expect("answer") }
    };
    let r = answer(json!({"question_id": "first", "selected_option_ids": [BOGUS_OPTION]})).await;
    assert_eq!(r.status(), 422);
    let r = answer(json!({"question_id": "second", "selected_option_ids": [OPTIONS[2]]})).await;
    assert_eq!(r.status(), 409);
    let r = http
        .post(url(&format!("/api/v1/sessions/{sid}/answer")))
        .header(CONTENT_TYPE, "application/json")
        .body(format!(
            "{{\"question_id\": \"first\", \"selected_option_ids\": [\"{BOGUS_OPTION}\""
        ))
        .send()
        .await
        .expect("malformed");
    assert_eq!(r.status(), 400);
    for body in [
        json!({"question_id": "first", "selected_option_ids": [OPTIONS[1]]}),
        json!({"question_id": "second", "selected_option_ids": [OPTIONS[3], OPTIONS[4]]}),
        json!({"question_id": "third", "value": 7}),
        json!({"question_id": "fourth", "selected_option_ids": [OPTIONS[5]]}),
    ] {
        let r = answer(body).await;
        assert_eq!(r.status(), 200);
    }
    let r = http
        .post(url(&format!("/api/v1/sessions/{sid}/finish")))
        .send()
        .await
        .expect("finish");
    assert_eq!(r.status(), 200);
    let result: Value = r.json().await.expect("result");
    let share_url = result["share_url"].as_str().expect("share_url").to_string();
    let share_token = share_url.rsplit('/').next().expect("token").to_string();
    handed_out.push(share_token.clone());

    // The share page as a browser, as JSON, its card; and an unknown token.
    for (path, accept) in [
        (format!("/r/{share_token}"), "text/html"),
        (format!("/r/{share_token}"), "application/json"),
        (format!("/r/{share_token}/card.png"), "image/png"),
    ] {
        let r = http
            .get(url(&path))
            .header("accept", accept)
            .send()
            .await
            .expect("share");
        assert_eq!(r.status(), 200, "{path}");
    }
    let r = http
        .get(url("/r/unknown-share-canary-1618"))
        .send()
        .await
        .expect("unknown share");
    assert_eq!(r.status(), 404);
    handed_out.push("unknown-share-canary-1618".into());

    // The same test through the pages (plain forms), answering with the canary options.
    let r = http
        .post(url("/t/log-canary/start"))
        .header(CONTENT_TYPE, FORM)
        .body(form(&[("utm_source", "logs")]))
        .send()
        .await
        .expect("page start");
    assert_eq!(r.status(), 303);
    let mut location = r
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_string();
    if let Some(page_sid) = location.rsplit('/').next() {
        handed_out.push(page_sid.to_string());
    }
    for fields in [
        vec![("question_id", "first"), ("option", OPTIONS[0])],
        vec![
            ("question_id", "second"),
            ("option", OPTIONS[2]),
            ("option", OPTIONS[4]),
        ],
        vec![("question_id", "third"), ("value", "3")],
        vec![("question_id", "fourth"), ("option", OPTIONS[5])],
    ] {
        let r = http
            .post(url(&format!("{location}/answer")))
            .header(CONTENT_TYPE, FORM)
            .body(form(&fields))
            .send()
            .await
            .expect("page answer");
        assert_eq!(r.status(), 303, "{fields:?}");
        location = r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .expect("location")
            .to_string();
    }
    // The last answer redirects to the result page.
    assert!(location.starts_with("/r/"), "{location}");
    let page_token = location.trim_start_matches("/r/").to_string();
    let r = http.get(url(&location)).send().await.expect("result page");
    assert_eq!(r.status(), 200);
    handed_out.push(page_token);

    // A few more errors: unknown routes and sessions, a wrong method.
    for path in [
        "/api/v1/does-not-exist",
        "/api/v1/sessions/5b0c4a0e-8f8e-4a57-9d0c-2f6a1c3e9b11/question",
        "/t/no-such-test",
    ] {
        let r = http.get(url(path)).send().await.expect("error");
        assert_eq!(r.status(), 404, "{path}");
    }
    handed_out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_no_ip_answer_password_token_or_secret() {
    let mut server = spawn_server().await;
    let handed_out = drive(&server.base).await;
    server.stop();
    let stdout = read(&server.stdout);
    let stderr = read(&server.stderr);
    let logs = format!("{stdout}\n{stderr}");

    // The capture works: debug lines of requests made above, as JSON with a request id.
    let lines: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let served = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request served")
        .count();
    assert!(
        served >= 30,
        "only {served} `request served` lines:\n{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["route"] == "/api/v1/sessions/{session_id}/answer"),
        "no answer request was logged:\n{stdout}"
    );

    // The settings are logged at start, with the secrets masked (not left out).
    assert!(
        stdout.contains(r#"\"JWT_SECRET\":\"***\""#)
            && stdout.contains(r#"\"ADMIN_PASSWORD\":\"***\""#),
        "the start-up settings line does not show the masked secrets:\n{stdout}"
    );

    let mut forbidden: Vec<(&str, String)> = vec![
        ("the client IP", CLIENT_IP.to_string()),
        ("the admin password", ADMIN_PASSWORD.to_string()),
        ("a wrong password", WRONG_PASSWORD.to_string()),
        ("the JWT secret", JWT_SECRET.to_string()),
        ("the user agent", "LeakCanary".to_string()),
        ("a refused option id", BOGUS_OPTION.to_string()),
    ];
    for o in OPTIONS {
        forbidden.push(("an answered option id", o.to_string()));
    }
    for secret in &handed_out {
        forbidden.push(("a token, cookie, session id or share token", secret.clone()));
    }
    let mut leaks = Vec::new();
    for (what, needle) in &forbidden {
        assert!(needle.len() >= 8, "too short to search for: {needle}");
        if let Some(line) = logs.lines().find(|l| l.contains(needle.as_str())) {
            leaks.push(format!("{what} ({needle}) in: {line}"));
        }
    }
    assert!(leaks.is_empty(), "the logs leak:\n{}", leaks.join("\n"));
}

/// The request log: at `info`, one JSON line per request with its id, tenant, route, status,
/// latency and size; `REQUEST_LOG=false` turns the line off (down to debug) and keeps errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_leaves_one_info_line_unless_switched_off() {
    for (switch, expected) in [("true", true), ("false", false)] {
        let mut server = spawn_server_with(&[("FARO_LOG", "info"), ("REQUEST_LOG", switch)]).await;
        let client = reqwest::Client::new();
        let r = client
            .get(format!("{}/api/v1/tests", server.base))
            .header("x-request-id", "req-log-check")
            .send()
            .await
            .expect("catalog");
        assert_eq!(r.status(), 200);
        let body = r.bytes().await.expect("body");
        server.stop();
        let stdout = read(&server.stdout);
        let lines: Vec<Value> = stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|l: &Value| l["span"]["request_id"] == "req-log-check")
            .collect();
        if !expected {
            assert!(lines.is_empty(), "REQUEST_LOG=false still logs: {lines:?}");
            continue;
        }
        assert_eq!(lines.len(), 1, "one line per request: {stdout}");
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["message"], "request served");
        assert_eq!(line["fields"]["status"], 200);
        assert!(line["fields"]["elapsed_ms"].as_f64().is_some(), "{line}");
        assert_eq!(line["span"]["route"], "/api/v1/tests");
        assert_eq!(line["span"]["method"], "GET");
        assert_eq!(line["span"]["tenant"], "default");
        // Uncompressed here (no Accept-Encoding), so the size is known.
        assert_eq!(
            line["fields"]["bytes"].as_u64(),
            Some(body.len() as u64),
            "{line}"
        );
    }
}

/// A real OTLP/HTTP receiver: `tests/otlp_receiver.py`, which decodes what it gets with the
/// OpenTelemetry project's `opentelemetry-proto` package and appends each span as a JSON line.
struct OtlpReceiver {
    child: Child,
    port: u16,
    spans: std::path::PathBuf,
    _dir: TempDir,
}

impl OtlpReceiver {
    fn start() -> OtlpReceiver {
        use std::io::BufRead;
        let dir = TempDir::new();
        let spans = dir.0.join("spans.jsonl");
        let mut child = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/otlp_receiver.py"
            ))
            .arg(&spans)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/otlp_receiver.py");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("receiver stdout");
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let Some(port) = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            panic!(
                "the OTLP receiver did not start ({line:?}); pip install -r scripts/test-requirements.txt"
            );
        };
        OtlpReceiver {
            child,
            port,
            spans,
            _dir: dir,
        }
    }

    fn spans(&self) -> Vec<Value> {
        read(&self.spans)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON span line"))
            .collect()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the process runs the OpenTelemetry SDK's batch thread (named
/// `OpenTelemetry.Traces.BatchProcessor`, cut to 15 bytes by Linux).
fn has_exporter_thread(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("/proc")
        .filter_map(Result::ok)
        .any(|task| read(&task.path().join("comm")).starts_with("OpenTelemetry"))
}

/// OTLP export: with OTEL_EXPORTER_OTLP_ENDPOINT, the `request` span of every request reaches
/// a collector, with the fields every log line carries and `service.name` in the resource, and
/// the API key header arrives while the start-up line masks it; the last spans are sent at
/// SIGTERM. Without the endpoint, no exporter thread runs and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_an_otlp_collector_only_when_configured() {
    let receiver = OtlpReceiver::start();
    let endpoint = format!("http://127.0.0.1:{}", receiver.port);
    let otel = [
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-collector-key=otlp-canary%20key",
        ),
        ("FARO_LOG", "info"),
    ];
    let mut server = spawn_server_with(
        &[
            otel.as_slice(),
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
        ]
        .concat(),
    )
    .await;
    assert!(has_exporter_thread(server.child.id()));
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/api/v1/tests", server.base))
        .header("x-request-id", "otlp-trace-check")
        .send()
        .await
        .expect("catalog");
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{}/api/v1/does-not-exist", server.base))
        .send()
        .await
        .expect("unknown route");
    assert_eq!(r.status(), 404);
    // Batches leave every 5 s; these are still queued at the stop, which must send them.
    server.stop();
    let stdout = read(&server.stdout);
    assert!(
        stdout.contains(r#"\"OTEL_EXPORTER_OTLP_HEADERS\":\"***\""#) && !stdout.contains("canary"),
        "the start-up line must mask OTEL_EXPORTER_OTLP_HEADERS:\n{stdout}"
    );

    let spans = receiver.spans();
    let requests: Vec<&Value> = spans.iter().filter(|s| s["name"] == "request").collect();
    let Some(span) = requests
        .iter()
        .find(|s| s["attributes"]["request_id"] == "otlp-trace-check")
    else {
        panic!("no `request` span with the request id among {spans:#?}");
    };
    let attrs = &span["attributes"];
    assert_eq!(attrs["route"], "/api/v1/tests", "{span}");
    assert_eq!(attrs["method"], "GET", "{span}");
    assert_eq!(attrs["tenant"], "default", "{span}");
    assert_eq!(span["resource"]["service.name"], "faro", "{span}");
    assert_eq!(span["headers"]["x-collector-key"], "otlp-canary key");
    assert!(
        span["events"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["name"] == "request served")),
        "the request's log line is a span event: {span}"
    );
    assert!(
        requests
            .iter()
            .any(|s| s["attributes"]["route"] == "unmatched"),
        "the 404's span is exported too: {requests:#?}"
    );

    // Without the endpoint (the other OTEL_ settings set): no exporter, nothing sent.
    let sent = spans.len();
    let mut server = spawn_server_with(&otel).await;
    assert!(!has_exporter_thread(server.child.id()));
    let r = client
        .get(format!("{}/api/v1/tests", server.base))
        .send()
        .await
        .expect("catalog");
    assert_eq!(r.status(), 200);
    server.stop();
    assert_eq!(
        receiver.spans().len(),
        sent,
        "spans sent without an endpoint"
    );
    let stdout = read(&server.stdout);
    assert!(
        stdout.contains(r#"\"OTEL_EXPORTER_OTLP_ENDPOINT\":\"(unset)\""#),
        "{stdout}"
    );
}
