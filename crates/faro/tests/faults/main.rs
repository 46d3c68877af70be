//! Fault tests (issue 5): the real `faro serve` binary stopped under load (SIGKILL and
//! SIGTERM), its PostgreSQL stopped and restarted under load, its SQLite file read-only and its
//! disk full.
//!
//! Each test starts `faro serve` as a child process, drives it over real HTTP with concurrent
//! visitors doing whole sessions on the demo test, breaks something underneath it, and checks
//! what the issue promises: acknowledged results survive, analytics lose at most one counter
//! flush interval (`COUNTER_FLUSH_MS`, 1000 ms) on a crash and nothing on SIGTERM, a database
//! fault is a bounded 503 with the contract's JSON error (never a hang, never a 500), and the
//! service recovers by itself.
//!
//! The PostgreSQL outage uses a throwaway cluster (`initdb` + `pg_ctl` on a free port): the
//! shared server on 5432 is never stopped. The full disk is a small tmpfs, which needs root
//! (CI runs as root); PostgreSQL's tools and an unprivileged `faro` run as the `postgres` and
//! `nobody` users through `runuser` when the tests run as root, because `initdb` refuses root
//! and file permissions do not stop root's writes.

#[path = "../common/mod.rs"]
mod common;
mod gamification;
mod outbox;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{collect, free_port};
use faro_store::Backend;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_faro");
const DEMO: &str = "que-tipo-de-ahorrista-sos";
const ADMIN_USER: &str = "admin";
const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";

/// `COUNTER_FLUSH_MS` for every test (also faro's default): a crash may lose the counts of
/// at most this long, which is what the crash test measures.
const FLUSH_MS: u64 = 1000;

/// Added to the flush interval when deciding which finishes a crash may have lost: the flush
/// that was running at the kill had taken its snapshot up to one interval earlier, and on a
/// loaded two-core machine the tick itself and the write transaction can be late by a few
/// hundred milliseconds. The promise is one interval; this keeps the test from flaking on
/// scheduling noise without hiding a lost flush (which would be several intervals).
const FLUSH_SLACK_MS: u64 = 500;

/// A request during a database outage must be answered within this. A write can wait twice
/// for the pool's 3 s acquire timeout, not more: once queued behind the group-commit batches
/// already waiting for a connection (at most one acquire long: a batch that fails makes the
/// queue fail fast), then for its own connection, which right after the restart may be slow
/// to come (two full-suite runs saw a start answered 201 after 5.6 s this way). A request
/// that hangs, or waits for three, does not fit.
const OUTAGE_ANSWER_BOUND: Duration = Duration::from_secs(7);

static N: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

fn text(buf: &Arc<Mutex<String>>) -> String {
    buf.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// How to launch `faro serve`.
struct Launch {
    db_url: String,
    /// Share URLs are built from this; kept across restarts so they stay the same.
    public_base: Option<String>,
    /// Run as this OS user (through `runuser`) when the tests run as root.
    user: Option<&'static str>,
    /// More settings, after (and over) the defaults below.
    env: Vec<(&'static str, String)>,
}

impl Launch {
    fn new(db_url: &str) -> Launch {
        Launch {
            db_url: db_url.to_string(),
            public_base: None,
            user: None,
            env: Vec::new(),
        }
    }

    fn command(&self, port: u16) -> Command {
        let mut cmd = match self.user {
            Some(user) if is_root() => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--", BIN, "serve"]);
                c
            }
            _ => {
                let mut c = Command::new(BIN);
                c.arg("serve");
                c
            }
        };
        let base = format!("http://127.0.0.1:{port}");
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.db_url)
            .env("FARO_BIND", format!("127.0.0.1:{port}"))
            .env(
                "PUBLIC_BASE_URL",
                self.public_base.clone().unwrap_or(base.clone()),
            )
            .env("FARO_DEMO", "true")
            .env("ADMIN_USER", ADMIN_USER)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RATE_LIMIT_SESSION_STARTS", "off")
            .env("RATE_LIMIT_ANSWERS", "off")
            .env("RATE_LIMIT_LOGIN", "off")
            .env("RATE_LIMITS", "off")
            .env("ANTIBOT_MIN_SECONDS", "0")
            .env("COUNTER_FLUSH_MS", FLUSH_MS.to_string())
            .env("FARO_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Starts the server and waits until it answers `/api/v1/health`.
    async fn start(&self) -> Faro {
        let port = free_port();
        let mut child = self.command(port).spawn().expect("spawn faro serve");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        let mut faro = Faro {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stdout,
            stderr,
        };
        let http = client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = faro.child.try_wait() {
                panic!(
                    "faro serve exited at start-up ({status}): {}{}",
                    faro.stderr(),
                    faro.stdout()
                );
            }
            let health = http
                .get(format!("{}/api/v1/health", faro.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if health.is_ok_and(|r| r.status() == 200) {
                return faro;
            }
            assert!(
                Instant::now() < deadline,
                "faro serve did not answer /api/v1/health within 60 s: {}",
                faro.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `faro serve` expecting it to refuse to start; returns its exit success and stderr.
    async fn start_expecting_failure(&self) -> (bool, String) {
        let mut child = self.command(free_port()).spawn().expect("spawn faro serve");
        let stderr = collect(child.stderr.take().expect("stderr"));
        let _stdout = collect(child.stdout.take().expect("stdout"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                // Let the reader thread drain what is left in the pipe.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return (status.success(), text(&stderr));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "faro serve kept running on an unusable database: {}",
                    text(&stderr)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A running `faro serve`; killed when dropped (a failed test leaves no server behind).
struct Faro {
    child: Child,
    base: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Faro {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn stdout(&self) -> String {
        text(&self.stdout)
    }

    fn stderr(&self) -> String {
        text(&self.stderr)
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no flush, no graceful anything.
    fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL faro");
        self.child.wait().expect("reap faro");
    }

    /// SIGTERM, then a graceful exit with status 0.
    async fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(
                    status.success(),
                    "graceful exit: {status}: {}",
                    self.stderr()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "faro serve did not stop on SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn admin_token(&self) -> String {
        let r = client()
            .post(self.url("/api/v1/admin/login"))
            .json(&json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200, "admin login");
        let v: Value = r.json().await.expect("login json");
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// The demo test's finishes as the admin analytics API reports them.
    async fn analytics_finishes(&self) -> i64 {
        let token = self.admin_token().await;
        let http = client();
        let tests: Value = http
            .get(self.url("/api/v1/admin/tests?limit=200"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("admin tests")
            .json()
            .await
            .expect("admin tests json");
        let id = tests["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|t| t["slug"] == DEMO)
            .and_then(|t| t["id"].as_str())
            .expect("the demo test")
            .to_string();
        let r = http
            .get(self.url(&format!("/api/v1/admin/analytics?test_id={id}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("analytics");
        assert_eq!(r.status(), 200, "analytics");
        let report: Value = r.json().await.expect("analytics json");
        report["finishes"].as_i64().expect("finishes")
    }
}

impl Drop for Faro {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A fresh database for one test, removed when dropped (also on panic).
struct ScratchDb {
    url: String,
    backend: Backend,
    dir: PathBuf,
}

impl ScratchDb {
    async fn new(backend: Backend) -> ScratchDb {
        let dir = std::env::temp_dir().join(unique("faro-faults"));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}/faro.db", dir.display()),
            Backend::Postgres => faro_store::testing::create_database(backend).await,
        };
        ScratchDb { url, backend, dir }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if self.backend != Backend::Postgres || std::env::var_os("FARO_TEST_KEEP_DB").is_some() {
            return;
        }
        let Some((_, name)) = self.url.rsplit_once('/') else {
            return;
        };
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        // Drop can run while unwinding inside the runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            use sqlx::Connection;
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) =
                    sqlx::PgConnection::connect(&faro_store::testing::pg_admin_url()).await
                {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

// ---- visitors ---------------------------------------------------------------------------

/// An answer built only from what the API serves: the first (or last) option, the fewest
/// (or most) options allowed, the scale's minimum (or maximum).
fn answer_for(q: &Value, low: bool) -> Value {
    let id = q["id"].as_str().expect("question id");
    let options: Vec<&str> = q["options"]
        .as_array()
        .map(|o| o.iter().filter_map(|o| o["id"].as_str()).collect())
        .unwrap_or_default();
    match q["type"].as_str().expect("question type") {
        "single" => {
            let o = if low { options.first() } else { options.last() };
            json!({"question_id": id, "selected_option_ids": [o.expect("an option")]})
        }
        "multi" => {
            let n = if low {
                q["min_select"].as_u64().unwrap_or(1).max(1) as usize
            } else {
                q["max_select"].as_u64().unwrap_or(options.len() as u64) as usize
            };
            let chosen: Vec<&str> = if low {
                options.iter().take(n).copied().collect()
            } else {
                options.iter().rev().take(n).copied().collect()
            };
            json!({"question_id": id, "selected_option_ids": chosen})
        }
        "scale" => {
            let end = if low { "min" } else { "max" };
            json!({"question_id": id, "value": q["scale"][end]})
        }
        other => panic!("unknown question type {other}"),
    }
}

/// One HTTP exchange as a visitor saw it.
#[derive(Debug)]
struct Exchange {
    what: &'static str,
    sent: Instant,
    took: Duration,
    /// `None`: no response (connection refused or reset, or the client's timeout).
    status: Option<u16>,
    retry_after: bool,
    body: String,
}

impl Exchange {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn ok(&self) -> bool {
        matches!(self.status, Some(200 | 201))
    }
}

async fn exchange(what: &'static str, req: reqwest::RequestBuilder) -> Exchange {
    let sent = Instant::now();
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let retry_after = r.headers().contains_key("retry-after");
            let body = r.text().await.unwrap_or_default();
            Exchange {
                what,
                sent,
                took: sent.elapsed(),
                status: Some(status),
                retry_after,
                body,
            }
        }
        Err(e) => Exchange {
            what,
            sent,
            took: sent.elapsed(),
            status: None,
            retry_after: false,
            body: e.to_string(),
        },
    }
}

/// A finish that returned 200.
#[derive(Debug)]
struct Finished {
    token: String,
    profile_code: String,
    at: Instant,
}

/// Everything one visitor did.
#[derive(Default, Debug)]
struct Visits {
    finished: Vec<Finished>,
    /// Finishes sent that got no response (the server died under them).
    finish_no_response: usize,
    exchanges: Vec<Exchange>,
}

impl Visits {
    /// Adds another visitor's record to this one.
    fn absorb(&mut self, other: Visits) {
        self.finished.extend(other.finished);
        self.finish_no_response += other.finish_no_response;
        self.exchanges.extend(other.exchanges);
    }
}

/// Starts a session on the demo; returns its id and first question. A failed exchange is
/// recorded and gives `None`.
async fn start_session(
    http: &reqwest::Client,
    base: &str,
    v: &mut Visits,
) -> Option<(String, Value)> {
    let e = exchange(
        "start",
        http.post(format!("{base}/api/v1/tests/{DEMO}/sessions")),
    )
    .await;
    let started = e.json();
    let ok = e.ok();
    v.exchanges.push(e);
    if !ok {
        return None;
    }
    let sid = started["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    Some((sid, started["first_question"].clone()))
}

/// Answers from question `q` on until the result is ready; false at the first failed
/// exchange (recorded).
async fn answer_rest(
    http: &reqwest::Client,
    base: &str,
    sid: &str,
    mut q: Value,
    low: bool,
    v: &mut Visits,
) -> bool {
    for _ in 0..100 {
        let e = exchange(
            "answer",
            http.post(format!("{base}/api/v1/sessions/{sid}/answer"))
                .json(&answer_for(&q, low)),
        )
        .await;
        let next = e.json();
        let ok = e.ok();
        v.exchanges.push(e);
        if !ok {
            return false;
        }
        if next["result_ready"] == json!(true) {
            return true;
        }
        q = next["next_question"].clone();
        assert!(q.is_object(), "{next}");
    }
    panic!("the demo session never ended");
}

/// Finishes a session whose result is ready; a 200 is kept in `v.finished`.
async fn finish_session(http: &reqwest::Client, base: &str, sid: &str, v: &mut Visits) -> bool {
    let e = exchange(
        "finish",
        http.post(format!("{base}/api/v1/sessions/{sid}/finish")),
    )
    .await;
    if e.status.is_none() {
        v.finish_no_response += 1;
    }
    if e.status == Some(200) {
        let result = e.json();
        let share_url = result["share_url"].as_str().expect("share_url");
        v.finished.push(Finished {
            token: share_url
                .rsplit('/')
                .next()
                .expect("a share token")
                .to_string(),
            profile_code: result["profile_code"]
                .as_str()
                .expect("profile_code")
                .to_string(),
            at: Instant::now(),
        });
    }
    let ok = e.status == Some(200);
    v.exchanges.push(e);
    ok
}

/// One full session: start, answer every served question, finish. Stops at the first
/// exchange that fails, which is recorded; returns whether the session finished.
async fn one_session(http: &reqwest::Client, base: &str, low: bool, v: &mut Visits) -> bool {
    let Some((sid, first)) = start_session(http, base, v).await else {
        return false;
    };
    answer_rest(http, base, &sid, first, low, v).await && finish_session(http, base, &sid, v).await
}

/// Visitors doing whole sessions until `stop`; with `stop_at_failure` a visitor gives up at
/// its first failed exchange (the server was killed), otherwise it pauses and starts over.
fn spawn_visitors(
    n: usize,
    base: &str,
    stop: &Arc<AtomicBool>,
    finishes: &Arc<AtomicUsize>,
    stop_at_failure: bool,
) -> Vec<tokio::task::JoinHandle<Visits>> {
    (0..n)
        .map(|i| {
            let (base, stop, finishes) = (base.to_string(), stop.clone(), finishes.clone());
            tokio::spawn(async move {
                let http = client();
                let mut v = Visits::default();
                let mut round = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    if one_session(&http, &base, (i + round).is_multiple_of(2), &mut v).await {
                        finishes.fetch_add(1, Ordering::Relaxed);
                    } else if stop_at_failure {
                        break;
                    } else {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                v
            })
        })
        .collect()
}

async fn join_all(handles: Vec<tokio::task::JoinHandle<Visits>>) -> Visits {
    let mut all = Visits::default();
    for h in handles {
        all.absorb(h.await.expect("a visitor task"));
    }
    all
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- 1. kill -9 (and SIGTERM) under load ----------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    /// SIGKILL: no flush, no graceful anything.
    Kill,
    /// SIGTERM: graceful shutdown, in-flight requests complete, counters flushed.
    Term,
}

/// Stops the server under load, restarts it on the same database, and checks what survived:
/// every acknowledged finish is readable at its share URL with the same profile, and the
/// finishes counted are at most the acknowledged plus in-flight ones and at least the
/// acknowledged ones minus (after SIGKILL) those of the last flush interval.
async fn stop_under_load(backend: Backend, ending: Ending) {
    let db = ScratchDb::new(backend).await;
    let mut launch = Launch::new(&db.url);
    let mut first = launch.start().await;
    launch.public_base = Some(first.base.clone());

    let stop = Arc::new(AtomicBool::new(false));
    let finishes = Arc::new(AtomicUsize::new(0));
    let load_started = Instant::now();
    let visitors = spawn_visitors(16, &first.base, &stop, &finishes, true);
    // Several flushes happen under load, and enough finishes that the lower bound means
    // something, before the stop; a varying phase lands it anywhere between two flushes
    // (from run to run), not always just after one.
    let phase = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_millis()) % FLUSH_MS)
        .unwrap_or(0);
    let load_for = Duration::from_millis(3 * FLUSH_MS + phase);
    wait_for("finishes under load", Duration::from_secs(60), || {
        load_started.elapsed() >= load_for && finishes.load(Ordering::Relaxed) >= 40
    })
    .await;
    let stopped_at = Instant::now();
    match ending {
        Ending::Kill => first.kill9(),
        Ending::Term => first.stop().await,
    }
    stop.store(true, Ordering::Relaxed);
    let visits = join_all(visitors).await;

    // Every failure is the stop's doing (no response: the server is gone or going); nothing
    // failed while it was up, and nothing got an error status.
    for e in visits.exchanges.iter().filter(|e| !e.ok()) {
        assert!(
            e.sent + e.took >= stopped_at,
            "{} failed before the stop: {:?} {}",
            e.what,
            e.status,
            e.body
        );
        assert!(
            e.status.is_none(),
            "{} answered {:?}: {}",
            e.what,
            e.status,
            e.body
        );
    }
    let acked = visits.finished.len() as i64;
    let in_flight = visits.finish_no_response as i64;
    let window = Duration::from_millis(FLUSH_MS + FLUSH_SLACK_MS);
    let may_lose = match ending {
        Ending::Kill => visits
            .finished
            .iter()
            .filter(|f| f.at + window >= stopped_at)
            .count() as i64,
        Ending::Term => 0,
    };
    assert!(acked >= 40, "load ran: {acked} finishes");

    let mut second = launch.start().await;
    let http = client();
    for f in &visits.finished {
        let r = http
            .get(second.url(&format!("/r/{}", f.token)))
            .header("accept", "application/json")
            .send()
            .await
            .expect("share");
        assert_eq!(r.status(), 200, "share {} after {ending:?}", f.token);
        let shared: Value = r.json().await.expect("share json");
        assert_eq!(shared["profile_code"], f.profile_code.as_str(), "{shared}");
    }
    let counted = second.analytics_finishes().await;
    // How far back before the stop the lost counts reach (the newest `lost` acknowledgements).
    let lost = (acked - counted).max(0) as usize;
    let mut times: Vec<Instant> = visits.finished.iter().map(|f| f.at).collect();
    times.sort();
    let lost_since = times
        .len()
        .checked_sub(lost)
        .and_then(|i| times.get(i))
        .filter(|_| lost > 0)
        .map(|t| stopped_at.saturating_duration_since(*t));
    eprintln!(
        "{backend:?} {ending:?}: {acked} finishes acknowledged, {in_flight} in flight, \
         {counted} counted after restart; {lost} lost, acknowledged within {lost_since:?} \
         before the stop"
    );
    assert!(
        counted <= acked + in_flight,
        "counted {counted} > acknowledged {acked} + in flight {in_flight}"
    );
    assert!(
        counted >= acked - may_lose,
        "counted {counted} < acknowledged {acked} - {may_lose} acknowledged within \
         {window:?} of the stop"
    );
    second.stop().await;
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_result_on_sqlite() {
    stop_under_load(Backend::Sqlite, Ending::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_result_on_postgres() {
    stop_under_load(Backend::Postgres, Ending::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_nothing_on_sqlite() {
    stop_under_load(Backend::Sqlite, Ending::Term).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_loses_nothing_on_postgres() {
    stop_under_load(Backend::Postgres, Ending::Term).await;
}

// ---- 2. PostgreSQL stopped and restarted under load --------------------------------------

/// A throwaway PostgreSQL cluster on a free port, stopped and removed when dropped.
struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl PgCluster {
    fn bin_dir() -> PathBuf {
        let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .expect(
                "PostgreSQL server binaries in /usr/lib/postgresql (apt-get install postgresql)",
            )
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").exists().then_some((v, bin))
            })
            .collect();
        dirs.sort();
        dirs.pop()
            .map(|(_, b)| b)
            .expect("initdb under /usr/lib/postgresql/*/bin")
    }

    /// Runs a PostgreSQL tool, as the `postgres` user when we are root (they refuse root).
    fn tool(&self, name: &str, args: &[&str]) {
        let path = self.bin.join(name);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {name}: {e}"));
        assert!(
            out.status.success(),
            "{name} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn init() -> PgCluster {
        let dir = std::env::temp_dir().join(unique("faro-faults-pg"));
        std::fs::create_dir_all(dir.join("sock")).expect("cluster dir");
        if is_root() {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status();
            assert!(chown.is_ok_and(|s| s.success()), "chown the cluster dir");
        }
        let cluster = PgCluster {
            dir,
            bin: Self::bin_dir(),
            port: free_port(),
        };
        cluster.tool(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.join("sock").display()
        );
        let log = self.dir.join("log").display().to_string();
        self.tool(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &opts,
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    fn stop(&self, mode: &str) {
        self.tool(
            "pg_ctl",
            &["-D", &self.data(), "-m", mode, "-w", "-t", "60", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let _ = cmd.args(args).stdin(Stdio::null()).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn blocking(f: impl FnOnce() + Send + 'static) {
    tokio::task::spawn_blocking(f).await.expect("join");
}

/// GET /api/v1/ready until `pred` holds for its status, or `limit` passes.
async fn ready_becomes(faro: &Faro, status: u16, limit: Duration) -> Exchange {
    let http = client();
    let deadline = Instant::now() + limit;
    loop {
        let e = exchange("ready", http.get(faro.url("/api/v1/ready"))).await;
        if e.status == Some(status) || Instant::now() > deadline {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks a response given while the database was down: a bounded 503 with the contract's
/// JSON error, a `Retry-After`, and no internals.
#[track_caller]
fn assert_clean_503(e: &Exchange, codes: &[&str]) {
    assert_eq!(
        e.status,
        Some(503),
        "{} during the outage: {}",
        e.what,
        e.body
    );
    let v = e.json();
    let code = v["error"]["code"].as_str().unwrap_or_default();
    assert!(
        codes.contains(&code),
        "{}: code {code:?}: {}",
        e.what,
        e.body
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        e.body
    );
    assert!(v["error"]["details"].is_object(), "{}", e.body);
    assert!(e.retry_after, "{} 503 without Retry-After", e.what);
    let lower = e.body.to_lowercase();
    for leak in [
        "sqlx",
        "os error",
        "refused",
        "57p",
        "postgres://",
        "panicked",
    ] {
        assert!(!lower.contains(leak), "{leak} leaked: {}", e.body);
    }
}

/// PostgreSQL stopped (fast, then immediate) and started again under load: while it is down
/// every request is a 503 `database_unavailable` within 7 s (two pool waits at most) and
/// /ready says not ready; once it is back, sessions finish again without restarting faro.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_gives_bounded_503s_and_recovers_by_itself() {
    let pg = Arc::new(PgCluster::init());
    {
        let pg = pg.clone();
        blocking(move || pg.start()).await;
    }
    let mut faro = Launch::new(&pg.url()).start().await;
    assert_eq!(
        ready_becomes(&faro, 200, Duration::from_secs(10))
            .await
            .status,
        Some(200)
    );

    let stop = Arc::new(AtomicBool::new(false));
    let finishes = Arc::new(AtomicUsize::new(0));
    let visitors = spawn_visitors(8, &faro.base, &stop, &finishes, false);
    let mut outages = Vec::new();
    let mut ready_probes = Vec::new();
    for mode in ["fast", "immediate"] {
        let before = finishes.load(Ordering::Relaxed);
        wait_for(
            "finishes before the outage",
            Duration::from_secs(60),
            || finishes.load(Ordering::Relaxed) >= before + 10,
        )
        .await;
        {
            let pg = pg.clone();
            blocking(move || pg.stop(mode)).await;
        }
        let down = Instant::now();
        // Keep it down long enough for every visitor to hit it more than once.
        let probe = ready_becomes(&faro, 503, Duration::from_secs(10)).await;
        assert_clean_503(&probe, &["database_unavailable"]);
        ready_probes.push(probe);
        tokio::time::sleep(Duration::from_secs(4)).await;
        let probe = exchange("ready", client().get(faro.url("/api/v1/ready"))).await;
        assert_clean_503(&probe, &["database_unavailable"]);
        {
            let pg = pg.clone();
            blocking(move || pg.start()).await;
        }
        let up = Instant::now();
        outages.push((mode, down, up));
        let at_restart = finishes.load(Ordering::Relaxed);
        wait_for(
            "sessions to finish again after PostgreSQL came back",
            Duration::from_secs(30),
            || finishes.load(Ordering::Relaxed) >= at_restart + 8,
        )
        .await;
        eprintln!(
            "stop -m {mode}: down {:?}, recovered {:?} after restart",
            up - down,
            up.elapsed()
        );
        assert_eq!(
            ready_becomes(&faro, 200, Duration::from_secs(10))
                .await
                .status,
            Some(200),
            "ready again"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let visits = join_all(visitors).await;

    let slow: Vec<String> = visits
        .exchanges
        .iter()
        .filter(|e| e.took >= OUTAGE_ANSWER_BOUND)
        .map(|e| format!("{} {:?} in {:?}", e.what, e.status, e.took))
        .collect();
    assert!(
        slow.is_empty(),
        "{} of {} requests took {OUTAGE_ANSWER_BOUND:?} or more: {slow:#?}",
        slow.len(),
        visits.exchanges.len()
    );
    for e in visits.exchanges.iter().filter(|e| !e.ok()) {
        assert_clean_503(e, &["database_unavailable"]);
    }
    for (mode, down, up) in &outages {
        let refused = visits
            .exchanges
            .iter()
            .filter(|e| e.sent >= *down && e.sent < *up && e.status == Some(503))
            .count();
        assert!(
            refused > 0,
            "no 503 seen while PostgreSQL was down (-m {mode})"
        );
    }
    faro.stop().await;
    drop(pg);
}

// ---- 3. read-only and full SQLite ----------------------------------------------------------

/// A database file faro cannot write: as root (whom permissions do not stop) faro runs as
/// `nobody` beside a root-owned file; otherwise the file and its folder are made read-only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_sqlite_file_stops_start_up_with_one_clear_line() {
    let db = ScratchDb::new(Backend::Sqlite).await;
    // A real, migrated database with the demo in it.
    let mut faro = Launch::new(&db.url).start().await;
    faro.stop().await;
    let file = db.dir.join("faro.db");
    assert!(file.exists());
    let mut launch = Launch::new(&db.url);
    if is_root() {
        launch.user = Some("nobody");
        for f in std::fs::read_dir(&db.dir).expect("scratch dir").flatten() {
            set_mode(&f.path(), 0o644);
        }
        set_mode(&db.dir, 0o755);
    } else {
        set_mode(&file, 0o444);
        set_mode(&db.dir, 0o555);
    }
    let (success, stderr) = launch.start_expecting_failure().await;
    if !is_root() {
        set_mode(&db.dir, 0o755);
    }
    assert!(!success, "start-up must fail: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    eprintln!("start-up refused with: {}", lines[0]);
    let line = lines[0].to_lowercase();
    assert!(
        line.contains("not writable") || line.contains("read-only") || line.contains("readonly"),
        "names the problem: {stderr}"
    );
    assert!(line.contains("faro.db"), "names the file: {stderr}");
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// A small tmpfs mounted for one test, unmounted and removed when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = std::env::temp_dir().join(unique("faro-faults-tmpfs"));
        std::fs::create_dir_all(&dir).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "the full-disk test mounts a small tmpfs, which needs root with CAP_SYS_ADMIN \
             (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes zeros to `path` until the file system says it is full.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).expect("filler file");
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match f.write_all(&chunk).and_then(|()| f.sync_all()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(28) => return,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
}

/// The disk fills while faro serves: writes get a clear 503 (never a 500 with internals),
/// reads keep working, and writes work again once space is freed, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_cleanly_and_keeps_serving_reads() {
    let fs = Tmpfs::mount("16m");
    let db_url = format!("sqlite://{}/faro.db", fs.dir.display());
    let mut faro = Launch::new(&db_url).start().await;
    let http = client();
    // Before the disk fills: one finished result, one session ready to finish, one started.
    let mut before = Visits::default();
    assert!(
        one_session(&http, &faro.base, true, &mut before).await,
        "{:?}",
        before.exchanges
    );
    let token = before.finished[0].token.clone();
    let (ready_sid, first) = start_session(&http, &faro.base, &mut before)
        .await
        .expect("a session");
    assert!(answer_rest(&http, &faro.base, &ready_sid, first, false, &mut before).await);
    let (open_sid, open_first) = start_session(&http, &faro.base, &mut before)
        .await
        .expect("a session");

    let filler = fs.dir.join("filler");
    {
        let filler = filler.clone();
        blocking(move || fill(&filler)).await;
    }
    // Every kind of write: a finish, an answer, then starts until the WAL has to grow into
    // the full disk. Each may fit in space the database already holds; what fails must fail
    // cleanly.
    let mut v = Visits::default();
    let finished_on_full = finish_session(&http, &faro.base, &ready_sid, &mut v).await;
    let answered_on_full = answer_rest(
        &http,
        &faro.base,
        &open_sid,
        open_first.clone(),
        true,
        &mut v,
    )
    .await;
    for _ in 0..200 {
        if !one_session(&http, &faro.base, true, &mut v).await {
            break;
        }
    }
    let refused: Vec<&Exchange> = v.exchanges.iter().filter(|e| !e.ok()).collect();
    assert!(!refused.is_empty(), "200 sessions fitted on a full disk?");
    for e in &refused {
        if e.status == Some(500) {
            // The cause is only in faro's log; give its writer a moment.
            tokio::time::sleep(Duration::from_millis(500)).await;
            eprintln!("faro's log: {}", faro.stdout());
        }
        assert_storage_refusal(e);
    }
    // Reads keep working.
    for path in [
        "/api/v1/health".to_string(),
        "/api/v1/tests".to_string(),
        format!("/api/v1/tests/{DEMO}"),
        format!("/api/v1/sessions/{open_sid}/question"),
    ] {
        let r = http.get(faro.url(&path)).send().await.expect("read");
        assert_eq!(r.status(), 200, "{path} on a full disk");
    }
    let r = http
        .get(faro.url(&format!("/r/{token}")))
        .header("accept", "application/json")
        .send()
        .await
        .expect("share");
    assert_eq!(r.status(), 200, "a share page on a full disk");

    // Space comes back: without a restart, the refused writes go through on a retry and new
    // sessions work.
    std::fs::remove_file(&filler).expect("remove filler");
    let mut after = Visits::default();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !one_session(&http, &faro.base, false, &mut after).await {
        assert!(
            Instant::now() < deadline,
            "writes did not recover after space was freed: {:?}",
            after.exchanges.last()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if !finished_on_full {
        assert!(
            finish_session(&http, &faro.base, &ready_sid, &mut after).await,
            "finish after the disk was freed: {:?}",
            after.exchanges.last()
        );
    }
    if !answered_on_full {
        assert!(
            answer_rest(&http, &faro.base, &open_sid, open_first, true, &mut after).await,
            "answer after the disk was freed: {:?}",
            after.exchanges.last()
        );
    }
    faro.stop().await;
}

/// A write refused for lack of space: 503 (or 507) with the contract's JSON error and a
/// code saying why, and nothing of the file or the driver in it.
#[track_caller]
fn assert_storage_refusal(e: &Exchange) {
    assert!(
        matches!(e.status, Some(503 | 507)),
        "{} on a full disk: {:?} {}",
        e.what,
        e.status,
        e.body
    );
    let v = e.json();
    let code = v["error"]["code"].as_str().unwrap_or_default();
    assert_eq!(code, "storage_read_only", "{}: {}", e.what, e.body);
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        e.body
    );
    let lower = e.body.to_lowercase();
    for leak in ["sqlx", "sqlite", "os error", "panicked", "faro.db"] {
        assert!(!lower.contains(leak), "{leak} leaked: {}", e.body);
    }
}
