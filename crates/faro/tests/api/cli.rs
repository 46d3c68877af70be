//! The `faro` binary itself: help, configuration errors, import/export, purge, create-admin
//! and the first start of `serve` on an empty data directory.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faro_store::Backend;
use serde_json::{Value, json};

use crate::common::{DEMO, TestApp, cautious, collect, doc, drop_database, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_faro");
static N: AtomicU32 = AtomicU32::new(0);

/// A scratch directory and database for one test.
struct Scratch {
    dir: PathBuf,
    url: String,
    backend: Backend,
}

impl Scratch {
    async fn new(backend: Backend) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "faro-cli-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}/faro.db", dir.display()),
            Backend::Postgres => faro_store::testing::create_database(backend).await,
        };
        Scratch { dir, url, backend }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// Runs `faro ARGS` with a clean environment: DATABASE_URL plus `env`.
    async fn faro(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        let mut all: Vec<(String, String)> = vec![("DATABASE_URL".into(), self.url.clone())];
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        run_faro(args, all, stdin).await
    }

    async fn app(&self) -> TestApp {
        TestApp::builder(self.backend)
            .database(&self.url)
            .spawn()
            .await
    }

    /// Removes the scratch directory and database (also on panic, through `Drop`).
    async fn cleanup(self) {
        drop(self);
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let (backend, url) = (self.backend, self.url.clone());
        // Drop can run while unwinding inside the runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_database(backend, &url));
            }
        })
        .join();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn run_faro(args: &[&str], env: Vec<(String, String)>, stdin: Option<&str>) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let stdin = stdin.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(BIN);
        cmd.args(&args)
            .env_clear()
            .envs(env)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run the faro binary");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("faro output")
    })
    .await
    .expect("join")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        out(o),
        err(o)
    );
}

/// The questions without `"required": true`, which the export spells out and the original
/// left to its default.
fn without_defaults(questions: &Value) -> Value {
    let mut q = questions.clone();
    for item in q.as_array_mut().into_iter().flatten() {
        if item["required"] == json!(true) {
            item.as_object_mut().map(|m| m.remove("required"));
        }
    }
    q
}

fn question_keys(def: &Value) -> Vec<String> {
    def["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .filter_map(|q| q["key"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["import", "--help"],
        vec!["export", "--help"],
        vec!["purge", "--help"],
        vec!["create-admin", "--help"],
        vec!["help", "import"],
    ] {
        let o = run_faro(&args, Vec::new(), None).await;
        ok(&o);
        assert!(out(&o).contains("Usage"), "{args:?}: {}", out(&o));
    }
    let o = run_faro(&["--version"], Vec::new(), None).await;
    ok(&o);
    assert!(out(&o).starts_with("faro "), "{}", out(&o));
    let o = run_faro(&["frobnicate"], Vec::new(), None).await;
    assert!(!o.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_configuration_exits_with_one_line_naming_the_variable() {
    let s = Scratch::new(Backend::Sqlite).await;
    for (var, value) in [
        ("RATE_LIMIT_ANSWERS", "lots"),
        ("SESSION_TTL_DAYS", "0"),
        ("DATABASE_URL", "mysql://localhost/faro"),
        ("PUBLIC_BASE_URL", "example.com"),
        ("STORE_ANSWERS", "maybe"),
    ] {
        for command in ["serve", "migrate"] {
            let o = s.faro(&[command], &[(var, value)], None).await;
            assert!(!o.status.success(), "{var}={value} {command} must fail");
            let stderr = err(&o);
            let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(lines.len(), 1, "{var}: {stderr}");
            assert!(lines[0].contains(var), "{var}: {stderr}");
            assert!(out(&o).is_empty(), "nothing on stdout: {}", out(&o));
        }
    }
    // A configuration file with a typo is refused the same way.
    let file = s.file("faro.toml", "databse_url = \"sqlite://x.db\"\n");
    let o = s
        .faro(
            &["migrate"],
            &[("FARO_CONFIG", file.to_str().expect("path"))],
            None,
        )
        .await;
    assert!(!o.status.success());
    assert!(
        err(&o).contains("FARO_CONFIG") && err(&o).contains("databse_url"),
        "{}",
        err(&o)
    );
    s.cleanup().await;
}

async fn import_then_export_gives_the_document_back(backend: Backend) {
    let s = Scratch::new(backend).await;
    let original = doc("imported");
    let file = s.file(
        "imported.json",
        &serde_json::to_string_pretty(&original).expect("json"),
    );
    let o = s
        .faro(
            &["import", file.to_str().expect("path"), "--publish"],
            &[],
            None,
        )
        .await;
    ok(&o);
    assert!(
        out(&o).contains("imported imported as version 1"),
        "{}",
        out(&o)
    );
    assert!(out(&o).contains("(published)"), "{}", out(&o));

    // Default log level: stdout carries only the document.
    let o = s.faro(&["export", "imported"], &[], None).await;
    ok(&o);
    let exported: Value =
        serde_json::from_str(&out(&o)).unwrap_or_else(|e| panic!("{e}: {}", out(&o)));
    assert_eq!(question_keys(&exported), ["q1", "q2", "q3"]);
    assert_eq!(
        without_defaults(&exported["questions"]),
        without_defaults(&original["questions"]),
        "same questions"
    );
    assert_eq!(exported["profiles"], original["profiles"]);
    assert_eq!(exported["slug"], "imported");

    let o = s.faro(&["export", "imported", "--yaml"], &[], None).await;
    ok(&o);
    let yaml: Value = yaml_serde::from_str(&out(&o)).unwrap_or_else(|e| panic!("{e}: {}", out(&o)));
    assert_eq!(yaml, exported, "the YAML says the same");

    // The YAML export imports again, as version 2 of the same test.
    let again = s.file("again.yaml", &out(&o));
    let o = s
        .faro(&["import", again.to_str().expect("path")], &[], None)
        .await;
    ok(&o);
    assert!(
        out(&o).contains("version 2") && out(&o).contains("(draft)"),
        "{}",
        out(&o)
    );

    // The server serves the import.
    let app = s.app().await;
    let listed = app.catalog("?lang=en").await.json();
    assert_eq!(listed["items"][0]["slug"], "imported");
    assert_eq!(listed["items"][0]["version"], 1);
    let result = app.complete("imported", cautious).await;
    assert!(result["profile_code"].is_string());
    drop(app);

    let o = s.faro(&["export", "no-such-test"], &[], None).await;
    assert!(!o.status.success());
    assert!(err(&o).contains("no test"), "{}", err(&o));
    s.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_then_export_gives_the_document_back_on_sqlite() {
    import_then_export_gives_the_document_back(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_then_export_gives_the_document_back_on_postgres() {
    import_then_export_gives_the_document_back(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_an_invalid_file_lists_its_problems_and_fails() {
    let s = Scratch::new(Backend::Sqlite).await;
    let mut bad = doc("Bad Slug");
    bad["lang"] = json!("english");
    let file = s.file("bad.json", &bad.to_string());
    let o = s
        .faro(&["import", file.to_str().expect("path")], &[], None)
        .await;
    assert!(!o.status.success());
    let stderr = err(&o);
    assert!(
        stderr.contains("slug") && stderr.contains("lang"),
        "{stderr}"
    );
    assert!(stderr.contains("2 problem"), "{stderr}");
    let o = s.faro(&["import", "/no/such/file.yaml"], &[], None).await;
    assert!(!o.status.success());
    assert!(err(&o).contains("cannot read"), "{}", err(&o));
    // A draft with a profile gap imports, but not with --publish.
    let mut gap = doc("gap");
    gap["profiles"][1]["min"] = json!(40);
    let file = s.file("gap.yaml", &yaml_serde::to_string(&gap).expect("yaml"));
    let o = s
        .faro(
            &["import", file.to_str().expect("path"), "--publish"],
            &[],
            None,
        )
        .await;
    assert!(!o.status.success());
    assert!(err(&o).contains("profiles"), "{}", err(&o));
    s.cleanup().await;
}

async fn purge_removes_expired_sessions_and_keeps_results(backend: Backend) {
    let s = Scratch::new(backend).await;
    let app = s.app().await;
    let finished = app.start(DEMO).await;
    app.answer_all(&finished.id, &finished.first, cautious)
        .await;
    let result = app.finish(&finished.id).await.json();
    let token = result["share_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("token")
        .to_string();
    let abandoned = app.start(DEMO).await;
    let live = app.start(DEMO).await;
    // The server's own hourly purge runs once at start; on a busy machine that first run can
    // come late, after the sessions below expire, and leave nothing for the command. Wait
    // for it first.
    for _ in 0..200 {
        let runs = app
            .scalar("SELECT COUNT(*) FROM jobs WHERE name = 'quiz.purge_sessions' AND runs > 0")
            .await;
        if runs > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for id in [&finished.id, &abandoned.id] {
        app.exec(
            "UPDATE quiz_sessions SET expires_at = 1000 WHERE id = $1",
            id,
        )
        .await;
    }

    // Beside the running server, as an operator would.
    let o = s.faro(&["purge"], &[("FARO_LOG", "warn")], None).await;
    ok(&o);
    assert_eq!(out(&o).trim(), "purged 2 session row(s)");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM quiz_sessions").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM quiz_results").await,
        1,
        "results stay"
    );
    assert_eq!(
        app.share(&token, true).await.status,
        200,
        "share links keep working"
    );
    app.question(&abandoned.id)
        .await
        .assert_error(404, "session_not_found");
    assert_eq!(
        app.question(&live.id).await.status,
        200,
        "live sessions stay"
    );

    let o = s.faro(&["purge"], &[("FARO_LOG", "warn")], None).await;
    ok(&o);
    assert_eq!(out(&o).trim(), "purged 0 session row(s)");
    let o = s
        .faro(
            &["purge", "--older-than", "0s"],
            &[("FARO_LOG", "warn")],
            None,
        )
        .await;
    ok(&o);
    // `started_at < now` may or may not hold within the same second.
    assert!(out(&o).starts_with("purged "), "{}", out(&o));
    let o = s.faro(&["purge", "--older-than", "3x"], &[], None).await;
    assert!(!o.status.success());
    assert!(err(&o).contains("unit"), "{}", err(&o));
    drop(app);
    s.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_expired_sessions_and_keeps_results_on_sqlite() {
    purge_removes_expired_sessions_and_keeps_results(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_expired_sessions_and_keeps_results_on_postgres() {
    purge_removes_expired_sessions_and_keeps_results(Backend::Postgres).await;
}

async fn create_admin_makes_a_viewer_who_can_sign_in(backend: Backend) {
    let s = Scratch::new(backend).await;
    let o = s
        .faro(
            &[
                "create-admin",
                "bob",
                "--role",
                "viewer",
                "--password-stdin",
            ],
            &[("FARO_LOG", "warn")],
            Some("bob-password-123\n"),
        )
        .await;
    ok(&o);
    assert_eq!(out(&o).trim(), "account bob (viewer) is ready");
    // Without --password-stdin a password is generated and printed once.
    let o = s
        .faro(&["create-admin", "carol"], &[("FARO_LOG", "warn")], None)
        .await;
    ok(&o);
    let printed = out(&o);
    let carol_password = printed
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap_or_else(|| panic!("{printed}"))
        .to_string();
    let o = s
        .faro(
            &["create-admin", "dave", "--password-stdin"],
            &[],
            Some("short\n"),
        )
        .await;
    assert!(!o.status.success(), "short passwords are refused");
    let o = s
        .faro(
            &["create-admin", "bad name", "--password-stdin"],
            &[],
            Some("long-enough-1\n"),
        )
        .await;
    assert!(!o.status.success(), "invalid usernames are refused");

    let app = s.app().await;
    let r = app.login_as("bob", "bob-password-123").await;
    assert_eq!(r.status, 200, "{r}");
    let token = r.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let me = app
        .send(
            app.request(reqwest::Method::GET, "/api/v1/admin/me")
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(me.json()["role"], "viewer");
    let write = app
        .send(
            app.request(reqwest::Method::POST, "/api/v1/admin/tests")
                .bearer_auth(&token)
                .json(&doc("by-bob")),
        )
        .await;
    write.assert_error(403, "forbidden");
    let r = app.login_as("carol", &carol_password).await;
    assert_eq!(r.status, 200, "{r}");
    let me = app
        .send(
            app.request(reqwest::Method::GET, "/api/v1/admin/me")
                .bearer_auth(r.json()["access_token"].as_str().unwrap_or("")),
        )
        .await;
    assert_eq!(me.json()["role"], "admin");
    drop(app);

    // Running it again resets the password.
    let o = s
        .faro(
            &[
                "create-admin",
                "bob",
                "--role",
                "viewer",
                "--password-stdin",
            ],
            &[],
            Some("another-password-9"),
        )
        .await;
    ok(&o);
    let app = s.app().await;
    assert_eq!(app.login_as("bob", "bob-password-123").await.status, 401);
    assert_eq!(app.login_as("bob", "another-password-9").await.status, 200);
    drop(app);
    s.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_admin_makes_a_viewer_who_can_sign_in_on_sqlite() {
    create_admin_makes_a_viewer_who_can_sign_in(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_admin_makes_a_viewer_who_can_sign_in_on_postgres() {
    create_admin_makes_a_viewer_who_can_sign_in(Backend::Postgres).await;
}

async fn tenant_commands_create_list_and_pause(backend: Backend) {
    let s = Scratch::new(backend).await;
    let quiet = [("FARO_LOG", "warn")];
    let o = s
        .faro(
            &[
                "tenant",
                "create",
                "acme",
                "--name",
                "Acme Kitchens",
                "--host",
                "Acme.Test",
                "--language",
                "pt",
                "--owner",
                "ana",
            ],
            &quiet,
            None,
        )
        .await;
    ok(&o);
    let printed = out(&o);
    assert!(printed.starts_with("tenant acme created (id "), "{printed}");
    let password = printed
        .lines()
        .find_map(|l| l.strip_prefix("owner ana, password (shown once): "))
        .unwrap_or_else(|| panic!("{printed}"))
        .to_string();

    // Refusals name every problem and change nothing.
    let o = s
        .faro(
            &[
                "tenant",
                "create",
                "Bad!",
                "--host",
                "acme.test",
                "--time-zone",
                "Mars/Base",
            ],
            &quiet,
            None,
        )
        .await;
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("slug:") && err.contains("time_zone:"), "{err}");
    let o = s.faro(&["tenant", "create", "acme"], &quiet, None).await;
    assert!(!o.status.success(), "the slug is taken");

    let o = s.faro(&["tenant", "list"], &quiet, None).await;
    ok(&o);
    let listing = out(&o);
    let rows: Vec<&str> = listing.lines().collect();
    assert_eq!(rows.len(), 3, "{listing}");
    assert!(
        rows[1].starts_with("acme ")
            && rows[1].contains("active")
            && rows[1].ends_with("acme.test"),
        "{listing}"
    );
    assert!(rows[2].starts_with("default "), "{listing}");

    // The owner signs in on the tenant's host name.
    let app = s.app().await;
    let login = |app: &TestApp, password: String| {
        app.request(reqwest::Method::POST, "/api/v1/admin/login")
            .header(reqwest::header::HOST, "acme.test")
            .json(&json!({"username": "ana", "password": password}))
    };
    assert_eq!(app.send(login(&app, password.clone())).await.status, 200);

    let o = s.faro(&["tenant", "pause", "acme"], &quiet, None).await;
    ok(&o);
    assert_eq!(out(&o).trim(), "tenant acme paused");
    // Another process changed it: this instance sees it within the host map's lifetime.
    tokio::time::sleep(faro_http::tenant::HOSTS_TTL + Duration::from_millis(200)).await;
    app.send(login(&app, password.clone()))
        .await
        .assert_error(403, "tenant_paused");
    let o = s.faro(&["tenant", "resume", "acme"], &quiet, None).await;
    ok(&o);
    let o = s.faro(&["tenant", "pause", "nobody"], &quiet, None).await;
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such tenant"));
    drop(app);
    s.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_commands_create_list_and_pause_on_sqlite() {
    tenant_commands_create_list_and_pause(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_commands_create_list_and_pause_on_postgres() {
    tenant_commands_create_list_and_pause(Backend::Postgres).await;
}

/// A running `faro serve` with its output collected.
struct Server {
    child: std::process::Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    base: String,
}

impl Server {
    async fn start(data_url: &str) -> Server {
        let port = free_port();
        let mut child = Command::new(BIN)
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", data_url)
            .env("FARO_BIND", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("faro serve");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        let server = Server {
            child,
            stdout,
            stderr,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let health = client
                .get(format!("{}/api/v1/health", server.base))
                .send()
                .await;
            if health.is_ok_and(|r| r.status() == 200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "faro serve did not answer /api/v1/health: {}",
                server.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// SIGTERM, then wait for a graceful exit.
    async fn stop(mut self) -> (String, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "graceful exit: {status:?}");
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("faro serve did not stop on SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        (self.stdout(), self.stderr())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_generated_credentials_once_and_logs_json_lines() {
    let s = Scratch::new(Backend::Sqlite).await;
    let url = format!("sqlite://{}/data/faro.db", s.dir.display());
    let first = Server::start(&url).await;
    assert!(
        s.dir.join("data/faro.db").exists(),
        "the data directory is created"
    );
    let stderr = first.stderr();
    assert_eq!(stderr.matches("password:").count(), 1, "{stderr}");
    let password = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_string();
    assert!(stderr.contains("username: admin"), "{stderr}");
    assert!(password.len() >= 16, "{password}");
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/api/v1/admin/login", first.base))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200, "the printed password works");
    let catalog: Value = client
        .get(format!("{}/api/v1/tests", first.base))
        .send()
        .await
        .expect("catalog")
        .json()
        .await
        .expect("json");
    assert_eq!(catalog["items"][0]["slug"], DEMO, "the demo is seeded");
    let (stdout, _) = first.stop().await;
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "serve logs something");
    for line in &lines {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    assert!(!stdout.contains(&password), "the password is not logged");
    assert!(stdout.contains("starting faro"), "{stdout}");

    let second = Server::start(&url).await;
    let (stdout, stderr) = second.stop().await;
    assert!(
        !stderr.contains("password"),
        "credentials are printed only once: {stderr}"
    );
    assert!(!stdout.contains(&password));
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
    }
    s.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_the_schema_and_is_idempotent() {
    let s = Scratch::new(Backend::Sqlite).await;
    for _ in 0..2 {
        let o = s.faro(&["migrate"], &[("FARO_LOG", "warn")], None).await;
        ok(&o);
        assert_eq!(out(&o).trim(), "database schema is up to date");
    }
    let app = s.app().await;
    assert_eq!(app.get("/api/v1/ready").await.status, 200);
    drop(app);
    s.cleanup().await;
}

async fn secrets_rotate_reseals_with_the_newest_key(backend: Backend) {
    let s = Scratch::new(backend).await;
    let k1 = faro_auth::seal::Sealer::generate("k1");
    let k2 = faro_auth::seal::Sealer::generate("k2");
    let app = TestApp::builder(s.backend)
        .database(&s.url)
        .envs(&[("DATA_KEYS", k1.as_str())])
        .spawn()
        .await;
    let mut secrets = Vec::new();
    for n in 0..2 {
        let r = app
            .admin_post(
                "/api/v1/admin/webhooks",
                &json!({"url": format!("https://receiver.example/{n}"), "event_kinds": ["quiz.finished"]}),
            )
            .await;
        assert_eq!(r.status, 201, "{r}");
        let v = r.json();
        secrets.push((
            v["id"].as_str().expect("id").to_string(),
            v["secret"].as_str().expect("secret").to_string(),
        ));
    }
    let stored = |id: String| {
        let db = app.core.db.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT secret FROM webhook_endpoints WHERE id = $1")
                .bind(id)
                .fetch_one(db.writer())
                .await
                .expect("row")
        }
    };
    // Sealed at rest: the database holds no signing secret in clear.
    let first = stored(secrets[0].0.clone()).await;
    assert!(
        first.starts_with("s1.k1.") && !first.contains("whsec"),
        "{first}"
    );
    // A row from before sealing holds its secret in clear.
    app.exec(
        "UPDATE webhook_endpoints SET secret = 'whsec_legacy' WHERE id = $1",
        &secrets[1].0,
    )
    .await;
    secrets[1].1 = "whsec_legacy".into();

    let quiet = [("FARO_LOG", "warn")];
    let both = format!("{k2},{k1}");
    let o = s
        .faro(
            &["secrets", "rotate"],
            &[quiet[0], ("DATA_KEYS", &both)],
            None,
        )
        .await;
    ok(&o);
    // The two endpoints' secrets, and the blind index's key.
    assert_eq!(
        out(&o).trim(),
        "3 value(s) sealed with key k2, 0 already were"
    );
    let o = s
        .faro(
            &["secrets", "rotate"],
            &[quiet[0], ("DATA_KEYS", &both)],
            None,
        )
        .await;
    ok(&o);
    assert_eq!(
        out(&o).trim(),
        "0 value(s) sealed with key k2, 3 already were"
    );
    // The newest key alone now opens every one.
    let newest = faro_auth::seal::Sealer::parse(&k2).expect("k2");
    for (id, secret) in &secrets {
        let value = stored(id.clone()).await;
        assert!(value.starts_with("s1.k2."), "{value}");
        let context = format!("webhook_endpoints.secret|{}", faro_store::DEFAULT_TENANT);
        assert_eq!(
            newest.open_str(&context, &value).as_deref(),
            Ok(secret.as_str())
        );
    }
    // With a ring that opens nothing, it says so and fails.
    let k3 = faro_auth::seal::Sealer::generate("k3");
    let o = s
        .faro(
            &["secrets", "rotate"],
            &[quiet[0], ("DATA_KEYS", &k3)],
            None,
        )
        .await;
    assert!(!o.status.success());
    assert!(err(&o).contains("did not open"), "{}", err(&o));
    assert!(!err(&o).contains("whsec"), "{}", err(&o));

    // A new key to put first; a bad id is refused.
    let o = s
        .faro(&["secrets", "new-key", "2027-01"], &quiet, None)
        .await;
    ok(&o);
    assert!(
        faro_auth::seal::Sealer::parse(out(&o).trim()).is_ok(),
        "{}",
        out(&o)
    );
    let o = s
        .faro(&["secrets", "new-key", "Bad Id"], &quiet, None)
        .await;
    assert!(!o.status.success());
    drop(app);
    s.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_rotate_reseals_with_the_newest_key_on_sqlite() {
    secrets_rotate_reseals_with_the_newest_key(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_rotate_reseals_with_the_newest_key_on_postgres() {
    secrets_rotate_reseals_with_the_newest_key(Backend::Postgres).await;
}

/// An installation that started without DATA_KEYS (its key kept in the database) moves to
/// DATA_KEYS with no export: the stored key still opens what it sealed until a rotation.
async fn moving_to_data_keys_needs_only_a_rotation(backend: Backend) {
    let s = Scratch::new(backend).await;
    let app = s.app().await;
    let r = app
        .admin_post(
            "/api/v1/admin/webhooks",
            &json!({"url": "https://receiver.example/x", "event_kinds": ["quiz.finished"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let (id, secret) = (
        r.json()["id"].as_str().expect("id").to_string(),
        r.json()["secret"].as_str().expect("secret").to_string(),
    );
    let k1 = faro_auth::seal::Sealer::generate("k1");
    let o = s
        .faro(
            &["secrets", "rotate"],
            &[("FARO_LOG", "warn"), ("DATA_KEYS", &k1)],
            None,
        )
        .await;
    ok(&o);
    assert_eq!(
        out(&o).trim(),
        "2 value(s) sealed with key k1, 0 already were"
    );
    let stored: String = sqlx::query_scalar("SELECT secret FROM webhook_endpoints WHERE id = $1")
        .bind(&id)
        .fetch_one(app.core.db.writer())
        .await
        .expect("row");
    let k1 = faro_auth::seal::Sealer::parse(&k1).expect("k1");
    let context = format!("webhook_endpoints.secret|{}", faro_store::DEFAULT_TENANT);
    assert_eq!(
        k1.open_str(&context, &stored).as_deref(),
        Ok(secret.as_str())
    );
    drop(app);
    s.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_to_data_keys_needs_only_a_rotation_on_sqlite() {
    moving_to_data_keys_needs_only_a_rotation(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_to_data_keys_needs_only_a_rotation_on_postgres() {
    moving_to_data_keys_needs_only_a_rotation(Backend::Postgres).await;
}
