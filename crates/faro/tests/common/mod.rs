//! The test harness: a real `faro::App` on a random port over a fresh SQLite file or
//! PostgreSQL database, driven over real HTTP with one helper per endpoint.
//!
//! Every test body is an `async fn name(app: TestApp)`; `both!(name)` runs it as
//! `name::sqlite` and `name::postgres`, and `both!(name, "VAR" => "value", ...)` changes the
//! configuration for that test. PostgreSQL (`FARO_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and Redis (`FARO_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`) must be running: an unreachable server fails the test.
//!
//! Databases are dropped when the test ends (set `FARO_TEST_KEEP_DB=1` to keep them).

#![allow(dead_code)] // Each test module uses a different part of the harness.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use faro_store::Backend;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::{OnceCell, oneshot};
use tokio::task::JoinHandle;

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";
pub const DEMO: &str = "que-tipo-de-ahorrista-sos";

pub fn redis_url() -> String {
    std::env::var("FARO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Runs `body` against a fresh app on `backend` with the default test settings plus `env`, then
/// drops the database (also when the body panics, whose panic is then resumed).
pub async fn run<F, Fut>(backend: Backend, env: &[(&str, &str)], body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let app = TestApp::builder(backend).envs(env).spawn().await;
    let cleanup = Cleanup::of(&app);
    let outcome = tokio::spawn(body(app)).await;
    cleanup.run().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test body did not finish: {e}"),
        }
    }
}

/// Declares `name::sqlite` and `name::postgres` for `async fn name(app: TestApp)`, with
/// optional configuration overrides.
#[macro_export]
macro_rules! both {
    ($name:ident $(, $k:literal => $v:expr)* $(,)?) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run(faro_store::Backend::Sqlite, &[$(($k, $v)),*], super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run(faro_store::Backend::Postgres, &[$(($k, $v)),*], super::$name).await;
            }
        }
    };
}

/// Like `both!`, for what only makes sense on PostgreSQL (several instances on one database).
#[macro_export]
macro_rules! postgres_only {
    ($name:ident $(, $k:literal => $v:expr)* $(,)?) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run(faro_store::Backend::Postgres, &[$(($k, $v)),*], super::$name).await;
            }
        }
    };
}

/// Like `both!`, for what only makes sense on SQLite (the size of the database file).
#[macro_export]
macro_rules! sqlite_only {
    ($name:ident $(, $k:literal => $v:expr)* $(,)?) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run(faro_store::Backend::Sqlite, &[$(($k, $v)),*], super::$name).await;
            }
        }
    };
}

/// The settings every test app starts with: limits off, anti-bot off, catalog uncached,
/// a known admin, the demo seeded.
fn default_env() -> BTreeMap<String, String> {
    [
        ("ADMIN_USER", ADMIN_USER),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("RATE_LIMIT_SESSION_STARTS", "off"),
        ("RATE_LIMIT_ANSWERS", "off"),
        ("RATE_LIMIT_LOGIN", "off"),
        ("RATE_LIMIT_PENALTY", "off"),
        ("RATE_LIMIT_TENANT", "off"),
        ("RATE_LIMIT_USER", "off"),
        ("RATE_LIMIT_PUBLIC_WRITES", "off"),
        ("ANTIBOT_MIN_SECONDS", "0"),
        ("COUNTER_FLUSH_MS", "1000"),
        ("CATALOG_CACHE_MS", "0"),
        ("FARO_DEMO", "true"),
        ("FARO_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub struct Builder {
    backend: Backend,
    env: BTreeMap<String, String>,
    db_url: Option<String>,
}

impl Builder {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    pub fn envs(mut self, pairs: &[(&str, &str)]) -> Self {
        for (k, v) in pairs {
            self.env.insert(k.to_string(), v.to_string());
        }
        self
    }

    /// Use this database instead of a fresh one (a second instance).
    pub fn database(mut self, url: &str) -> Self {
        self.db_url = Some(url.to_string());
        self
    }

    pub async fn spawn(self) -> TestApp {
        let _ = faro::platform::metrics_handle();
        let db_url = match self.db_url {
            Some(u) => u,
            None => faro_store::testing::create_database(self.backend).await,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a random port");
        let addr = listener.local_addr().expect("local addr");
        let base = format!("http://{addr}");
        let mut env = self.env.clone();
        env.insert("DATABASE_URL".into(), db_url.clone());
        env.insert("FARO_BIND".into(), addr.to_string());
        // A test may name its own public address (an https one, to see Secure cookies).
        env.entry("PUBLIC_BASE_URL".into())
            .or_insert_with(|| base.clone());
        // Mail goes to a directory of this instance's own unless a test names a server.
        env.entry("MAIL_URL".into()).or_insert_with(|| {
            let dir = std::env::temp_dir().join(format!("faro-test-mail-{}", addr.port()));
            format!("file://{}", dir.display())
        });
        let config = faro::Config::from_sources(None, &env).expect("test configuration is valid");
        let app = faro::App::build(config).await.expect("the app builds");
        let core = app.core.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        TestApp {
            addr,
            base,
            client,
            core,
            backend: self.backend,
            db_url,
            env: self.env,
            token: OnceCell::new(),
            shutdown: Some(tx),
            server: Some(server),
        }
    }
}

/// One running instance and a client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`, also the app's PUBLIC_BASE_URL unless the test set one.
    pub base: String,
    pub client: reqwest::Client,
    /// The app's platform state: the database handle and the batched counters.
    pub core: faro_http::Core,
    pub backend: Backend,
    pub db_url: String,
    env: BTreeMap<String, String>,
    token: OnceCell<String>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Drops a test's database once the test is over.
struct Cleanup {
    backend: Backend,
    url: String,
}

impl Cleanup {
    fn of(app: &TestApp) -> Cleanup {
        Cleanup {
            backend: app.backend,
            url: app.db_url.clone(),
        }
    }

    async fn run(self) {
        drop_database(self.backend, &self.url).await;
    }
}

/// Removes a test database (the SQLite file and its WAL, or the PostgreSQL database), unless
/// `FARO_TEST_KEEP_DB` is set.
pub async fn drop_database(backend: Backend, url: &str) {
    if std::env::var_os("FARO_TEST_KEEP_DB").is_some() {
        return;
    }
    match backend {
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://").to_string();
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let Some((_, name)) = url.rsplit_once('/') else {
                return;
            };
            if let Ok(mut conn) =
                sqlx::PgConnection::connect(&faro_store::testing::pg_admin_url()).await
            {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
            }
        }
    }
}

/// A response, read whole.
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl fmt::Debug for Resp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.text)
    }
}

impl fmt::Display for Resp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): HTTP {} {}", self.status, self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// Asserts the contract's error body and returns its code.
    pub fn error_code(&self) -> String {
        let v = self.json();
        let e = v
            .get("error")
            .unwrap_or_else(|| panic!("no `error` object: {self}"));
        assert!(e["code"].is_string(), "error.code: {self}");
        assert!(e["message"].is_string(), "error.message: {self}");
        assert!(e.get("details").is_some(), "error.details: {self}");
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "error content type: {:?}",
            self.header("content-type")
        );
        e["code"].as_str().unwrap_or_default().to_string()
    }

    /// Asserts status and error code at once.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self}");
        assert_eq!(self.error_code(), code, "{self}");
    }

    /// `details.problems` of a validation error, as `(path, message)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        self.json()["error"]["details"]["problems"]
            .as_array()
            .unwrap_or_else(|| panic!("no details.problems: {self}"))
            .iter()
            .map(|p| {
                (
                    p["path"].as_str().unwrap_or_default().to_string(),
                    p["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

/// A started session.
pub struct Started {
    pub id: String,
    pub version: i64,
    pub first: Value,
}

impl TestApp {
    pub fn builder(backend: Backend) -> Builder {
        Builder {
            backend,
            env: default_env(),
            db_url: None,
        }
    }

    /// Another instance on the same database, with this one's settings plus `env`.
    pub async fn sibling(&self, env: &[(&str, &str)]) -> TestApp {
        let mut b = TestApp::builder(self.backend).database(&self.db_url);
        b.env = self.env.clone();
        b.envs(env).spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.expect("the request reaches the server");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("the body is readable");
        Resp {
            status,
            headers,
            text,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    /// A POST with exactly this body and content type (None: no Content-Type header).
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        ct: Option<&str>,
    ) -> Resp {
        let mut req = self.request(Method::POST, path).body(body);
        if let Some(ct) = ct {
            req = req.header(CONTENT_TYPE, ct);
        }
        self.send(req).await
    }

    // ---- the visitor's API -------------------------------------------------------------

    pub async fn catalog(&self, query: &str) -> Resp {
        self.get(&format!("/api/v1/tests{query}")).await
    }

    pub async fn test_detail(&self, slug: &str) -> Resp {
        self.get(&format!("/api/v1/tests/{slug}")).await
    }

    /// POST /tests/{slug}/sessions with no body; `query` may carry `?utm_source=...`.
    pub async fn start_session(&self, slug: &str, query: &str) -> Resp {
        self.send(self.request(
            Method::POST,
            &format!("/api/v1/tests/{slug}/sessions{query}"),
        ))
        .await
    }

    pub async fn start_session_with(&self, slug: &str, body: &Value) -> Resp {
        self.post_json(&format!("/api/v1/tests/{slug}/sessions"), body)
            .await
    }

    /// Starts a session and asserts it worked.
    pub async fn start(&self, slug: &str) -> Started {
        let r = self.start_session(slug, "").await;
        assert_eq!(r.status, 201, "{r}");
        started(&r)
    }

    pub async fn question(&self, sid: &str) -> Resp {
        self.get(&format!("/api/v1/sessions/{sid}/question")).await
    }

    pub async fn answer(&self, sid: &str, body: &Value) -> Resp {
        self.post_json(&format!("/api/v1/sessions/{sid}/answer"), body)
            .await
    }

    pub async fn finish(&self, sid: &str) -> Resp {
        self.send(self.request(Method::POST, &format!("/api/v1/sessions/{sid}/finish")))
            .await
    }

    /// GET /r/{token} as a browser (HTML) or as a client (`Accept: application/json`).
    pub async fn share(&self, token: &str, json: bool) -> Resp {
        let accept = if json {
            "application/json"
        } else {
            "text/html"
        };
        self.send(
            self.request(Method::GET, &format!("/r/{token}"))
                .header("accept", accept),
        )
        .await
    }

    /// Answers every question with `pick` until the result is ready; returns every question
    /// that was served, in order.
    pub async fn answer_all(
        &self,
        sid: &str,
        first: &Value,
        pick: impl Fn(&Value) -> Value,
    ) -> Vec<Value> {
        let mut served = vec![first.clone()];
        let mut current = first.clone();
        loop {
            let r = self.answer(sid, &pick(&current)).await;
            assert_eq!(r.status, 200, "answering {}: {r}", current["id"]);
            let v = r.json();
            if v["result_ready"] == json!(true) {
                assert!(v["next_question"].is_null(), "{v}");
                return served;
            }
            current = v["next_question"].clone();
            assert!(current.is_object(), "{v}");
            served.push(current.clone());
            assert!(served.len() <= 100, "the session never ends");
        }
    }

    /// Starts, answers everything with `pick` and finishes; returns the result.
    pub async fn complete(&self, slug: &str, pick: impl Fn(&Value) -> Value) -> Value {
        let s = self.start(slug).await;
        self.answer_all(&s.id, &s.first, pick).await;
        let r = self.finish(&s.id).await;
        assert_eq!(r.status, 200, "{r}");
        r.json()
    }

    // ---- the admin API -----------------------------------------------------------------

    /// Registers an end user with `email`; their id and access token.
    pub async fn register_user(&self, email: &str) -> (String, String) {
        let r = self
            .send(
                self.request(Method::POST, "/api/v1/auth/register")
                    .json(&json!({"email": email, "password": "Sol-y-Sombra-2026"})),
            )
            .await;
        assert_eq!(r.status, 201, "{r}");
        let v = r.json();
        (
            v["user"]["id"].as_str().expect("id").to_owned(),
            v["access_token"].as_str().expect("token").to_owned(),
        )
    }

    pub async fn login_as(&self, username: &str, password: &str) -> Resp {
        self.post_json(
            "/api/v1/admin/login",
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// The admin's bearer token (signed in once per app).
    pub async fn login(&self) -> String {
        self.token
            .get_or_init(|| async {
                let r = self.login_as(ADMIN_USER, ADMIN_PASSWORD).await;
                assert_eq!(r.status, 200, "admin login: {r}");
                r.json()["access_token"]
                    .as_str()
                    .expect("access_token")
                    .to_string()
            })
            .await
            .clone()
    }

    pub async fn admin(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let token = self.login().await;
        self.request(method, path).bearer_auth(token)
    }

    pub async fn admin_get(&self, path: &str) -> Resp {
        let req = self.admin(Method::GET, path).await;
        self.send(req).await
    }

    pub async fn admin_post(&self, path: &str, body: &Value) -> Resp {
        let req = self.admin(Method::POST, path).await.json(body);
        self.send(req).await
    }

    /// A POST with this exact body and Content-Type (YAML documents, empty bodies).
    pub async fn admin_post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        ct: Option<&str>,
    ) -> Resp {
        let mut req = self.admin(Method::POST, path).await.body(body);
        if let Some(ct) = ct {
            req = req.header(CONTENT_TYPE, ct);
        }
        self.send(req).await
    }

    pub async fn admin_put(&self, path: &str, body: &Value) -> Resp {
        let req = self.admin(Method::PUT, path).await.json(body);
        self.send(req).await
    }

    pub async fn admin_delete(&self, path: &str) -> Resp {
        let req = self.admin(Method::DELETE, path).await;
        self.send(req).await
    }

    /// Creates a test from a document; returns its id.
    pub async fn create_test(&self, doc: &Value) -> String {
        let r = self.admin_post("/api/v1/admin/tests", doc).await;
        assert_eq!(r.status, 201, "{r}");
        r.json()["id"].as_str().expect("id").to_string()
    }

    pub async fn publish(&self, test_id: &str, version: i64) -> Resp {
        let path = format!("/api/v1/admin/tests/{test_id}/versions/{version}/publish");
        let req = self.admin(Method::POST, &path).await;
        self.send(req).await
    }

    /// Creates and publishes a test; returns its id.
    pub async fn create_published(&self, doc: &Value) -> String {
        let id = self.create_test(doc).await;
        let r = self.publish(&id, 1).await;
        assert_eq!(r.status, 200, "{r}");
        id
    }

    /// The admin id of the test with this slug.
    pub async fn test_id(&self, slug: &str) -> String {
        let r = self.admin_get("/api/v1/admin/tests?limit=200").await;
        assert_eq!(r.status, 200, "{r}");
        r.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|t| t["slug"] == slug)
            .unwrap_or_else(|| panic!("no test {slug}"))["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// The id of version `n` of a test.
    pub async fn version_id(&self, test_id: &str, n: i64) -> String {
        let r = self
            .admin_get(&format!("/api/v1/admin/tests/{test_id}/versions/{n}"))
            .await;
        assert_eq!(r.status, 200, "{r}");
        r.json()["id"].as_str().expect("id").to_string()
    }

    /// Writes the batched counters now, then reads the analytics report.
    pub async fn analytics(&self, query: &str) -> Value {
        self.flush().await;
        let r = self
            .admin_get(&format!("/api/v1/admin/analytics?{query}"))
            .await;
        assert_eq!(r.status, 200, "{r}");
        r.json()
    }

    pub async fn flush(&self) {
        self.core
            .counters
            .flush(&self.core.db)
            .await
            .expect("counters flush");
    }

    // ---- direct database access ---------------------------------------------------------

    pub async fn scalar(&self, sql: &'static str) -> i64 {
        sqlx::query(sql)
            .fetch_one(self.core.db.writer())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .try_get::<i64, _>(0)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// A number from a query with one text parameter (`$1`).
    pub async fn scalar_where(&self, sql: &'static str, param: &str) -> i64 {
        sqlx::query(sql)
            .bind(param.to_string())
            .fetch_one(self.core.db.writer())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .try_get::<i64, _>(0)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs a statement with one text parameter (`$1`).
    pub async fn exec(&self, sql: &'static str, param: &str) -> u64 {
        sqlx::query(sql)
            .bind(param.to_string())
            .execute(self.core.db.writer())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .rows_affected()
    }

    /// Column names of a table, on either backend.
    pub async fn columns(&self, table: &str) -> Vec<String> {
        let rows = match self.backend {
            Backend::Sqlite => sqlx::query("SELECT name FROM pragma_table_info($1)")
                .bind(table.to_string())
                .fetch_all(self.core.db.reader())
                .await
                .expect("table info"),
            Backend::Postgres => sqlx::query(
                "SELECT column_name::text FROM information_schema.columns WHERE table_name = $1",
            )
            .bind(table.to_string())
            .fetch_all(self.core.db.reader())
            .await
            .expect("table info"),
        };
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).expect("name"))
            .collect()
    }
}

pub fn started(r: &Resp) -> Started {
    let v = r.json();
    Started {
        id: v["session_id"].as_str().expect("session_id").to_string(),
        version: v["test_version"].as_i64().expect("test_version"),
        first: v["first_question"].clone(),
    }
}

// ---- answering questions generically ----------------------------------------------------

fn option_ids(q: &Value) -> Vec<String> {
    q["options"]
        .as_array()
        .map(|o| {
            o.iter()
                .filter_map(|o| o["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The answer body for a question, built only from what the API serves: `cautious` picks the
/// first option, the fewest options allowed and the scale's minimum; otherwise the last
/// option, the most options allowed and the maximum. `overrides` force an option by question.
pub fn pick(q: &Value, cautious: bool, overrides: &[(&str, &str)]) -> Value {
    let id = q["id"].as_str().expect("question id");
    if let Some((_, opt)) = overrides.iter().find(|(k, _)| *k == id) {
        return json!({"question_id": id, "selected_option_ids": [opt]});
    }
    let options = option_ids(q);
    match q["type"].as_str().expect("question type") {
        "single" => {
            let o = if cautious {
                options.first()
            } else {
                options.last()
            };
            json!({"question_id": id, "selected_option_ids": [o.expect("an option")]})
        }
        "multi" => {
            let n = if cautious {
                q["min_select"].as_u64().unwrap_or(1) as usize
            } else {
                q["max_select"].as_u64().unwrap_or(options.len() as u64) as usize
            };
            let chosen: Vec<&String> = if cautious {
                options.iter().take(n).collect()
            } else {
                options.iter().rev().take(n).collect()
            };
            json!({"question_id": id, "selected_option_ids": chosen})
        }
        "scale" => {
            let end = if cautious { "min" } else { "max" };
            json!({"question_id": id, "value": q["scale"][end]})
        }
        other => panic!("unknown question type {other}"),
    }
}

pub fn cautious(q: &Value) -> Value {
    pick(q, true, &[])
}

/// The demo's most aggressive answers (stable income, so no question is skipped).
pub fn aggressive(q: &Value) -> Value {
    pick(q, false, &[("ingresos", "estables")])
}

// ---- documents --------------------------------------------------------------------------

/// A small valid definition: three questions (single, multi, scale), a jump, a rule and
/// three profiles covering 0..=100.
pub fn doc(slug: &str) -> Value {
    json!({
        "slug": slug,
        "title": format!("Test {slug}"),
        "description": "A test made by the API tests.",
        "lang": "en",
        "tags": ["savings", "risk"],
        "estimated_minutes": 2,
        "dimensions": [
            {"key": "horizon", "label": "Time horizon", "weight": 1},
            {"key": "tolerance", "label": "Loss tolerance", "weight": 2}
        ],
        "questions": [
            {"key": "q1", "type": "single", "text": "When will you need this money?",
             "options": [
                {"key": "a", "text": "Within a year", "scores": {"horizon": 0}},
                {"key": "b", "text": "In 1-5 years", "scores": {"horizon": 5}},
                {"key": "c", "text": "In 5+ years", "scores": {"horizon": 10}, "next": "q3"}]},
            {"key": "q2", "type": "multi", "text": "What have you invested in before?",
             "min_select": 0, "max_select": 2,
             "options": [
                {"key": "stocks", "text": "Stocks", "scores": {"tolerance": 3}},
                {"key": "bonds", "text": "Bonds", "scores": {"tolerance": 1}},
                {"key": "crypto", "text": "Crypto", "scores": {"tolerance": 4}}]},
            {"key": "q3", "type": "scale", "text": "How calm are you when markets fall?",
             "scale": {"min": 1, "max": 5, "scores_per_point": {"tolerance": 2}}}
        ],
        "rules": [
            {"if": {"question": "q2", "option": "crypto"}, "then": {"add": {"tolerance": 2}}}
        ],
        "profiles": [
            {"code": "LOW", "title": "Conservative", "summary": "Safety first.", "recommendations": ["Keep a reserve."], "min": 0, "max": 33},
            {"code": "MED", "title": "Moderate", "summary": "Balance.", "recommendations": ["Mix."], "min": 34, "max": 66},
            {"code": "HIGH", "title": "Aggressive", "summary": "Growth.", "recommendations": ["Diversify."], "min": 67, "max": 100}
        ]
    })
}

// ---- browser tests ----

pub fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// Every path the source hands to an axum `.route(` call, read from `crates/*/src`: the page
/// routes (which no document lists) and the few API routes served outside `routes!()`. A
/// route added anywhere is found without editing a list.
pub fn declared_routes() -> std::collections::BTreeSet<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    for krate in std::fs::read_dir(repo_root().join("crates"))
        .expect("crates")
        .flatten()
    {
        walk(&krate.path().join("src"), &mut files);
        walk(&krate.path().join("domain/src"), &mut files);
    }
    let mut routes = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for (i, _) in text.match_indices(".route(") {
            let rest = text[i + ".route(".len()..].trim_start();
            if let Some(lit) = rest.strip_prefix('"')
                && let Some(end) = lit.find('"')
            {
                routes.insert(lit[..end].to_string());
            }
        }
    }
    routes
}

/// Node, playwright-core and chromium must all be there: a missing one fails the test.
pub fn browser_prerequisites() -> std::path::PathBuf {
    let root = repo_root();
    let help =
        "run `npm ci --prefix e2e` (node and npm from Debian) and `apt-get install -y chromium`";
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is not installed: {help}"
    );
    assert!(
        root.join("e2e/node_modules/playwright-core/package.json")
            .exists(),
        "e2e/node_modules is missing playwright-core: {help}"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no chromium at {chromium}: {help}"
    );
    root
}

// ---- child processes (tests that run the real `faro` binary) ---------------------------

/// A port free at the time of asking, for a `faro serve` child to bind.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Reads a child's pipe on a thread so a chatty server never blocks on a full pipe.
pub fn collect(
    mut pipe: impl std::io::Read + Send + 'static,
) -> std::sync::Arc<std::sync::Mutex<String>> {
    let buf = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = buf.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    buf
}

/// `application/x-www-form-urlencoded` for a panel form's fields (values percent-encoded).
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}
