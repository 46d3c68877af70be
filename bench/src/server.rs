//! The system under test: the release `faro` binary, started on a free port with a data
//! directory in a temp dir and a fresh database (a SQLite file there, or a new PostgreSQL
//! database that is dropped afterwards), and its memory read from `/proc/<pid>/status`.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

/// The demo test every fresh Faro seeds and publishes.
pub const DEMO_SLUG: &str = "que-tipo-de-ahorrista-sos";
/// The admin the harness configures (ADMIN_USER / ADMIN_PASSWORD) for the analytics scenario.
pub const ADMIN_USER: &str = "bench";
pub const ADMIN_PASSWORD: &str = "faro-bench-admin-password";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A connection to the PostgreSQL server for creating and dropping databases, without sqlx's
/// statement logging (a `DROP DATABASE` that waits for a checkpoint is not news).
pub async fn pg_admin(url: &str) -> anyhow::Result<PgConnection> {
    let opts = PgConnectOptions::from_str(url)
        .with_context(|| format!("not a PostgreSQL URL: {url}"))?
        .disable_statement_logging();
    opts.connect()
        .await
        .with_context(|| format!("PostgreSQL is unreachable at {url}"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Where the workspace is: the bench crate's parent.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Builds `faro` with cargo (release, or dev when `release` is false) and returns the
/// executable cargo reports.
pub fn build_faro(release: bool) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace_root())
        .args(["build", "-p", "faro", "--bin", "faro"])
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if release {
        cmd.arg("--release");
    }
    eprintln!(
        "faro-bench: building faro ({}) with {cargo}",
        if release { "release" } else { "dev" }
    );
    let mut child = cmd.spawn().with_context(|| format!("cannot run {cargo}"))?;
    let mut exe = None;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if msg["reason"] == "compiler-artifact"
                && msg["target"]["name"] == "faro"
                && let Some(path) = msg["executable"].as_str()
            {
                exe = Some(PathBuf::from(path));
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("building faro failed ({status})");
    }
    exe.context("cargo built faro but reported no executable")
}

/// A fresh database for one run.
pub struct Database {
    pub url: String,
    /// For PostgreSQL: the admin URL and the database name to drop afterwards.
    pg: Option<(String, String)>,
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Database {
    pub async fn create(backend: Backend, dir: &Path, pg_url: &str) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => Ok(Database {
                url: format!("sqlite://{}", dir.join("faro.db").display()),
                pg: None,
            }),
            Backend::Postgres => {
                let name = unique("faro_bench");
                let mut conn = pg_admin(pg_url).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .with_context(|| format!("cannot create database {name}"))?;
                let _ = conn.close().await;
                let base = pg_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .context("the PostgreSQL URL must end with /database")?;
                Ok(Database {
                    url: format!("{base}/{name}"),
                    pg: Some((pg_url.to_string(), name)),
                })
            }
        }
    }

    /// Drops a PostgreSQL database (SQLite files go with the temp dir).
    pub async fn drop_db(self) -> anyhow::Result<()> {
        if let Some((admin, name)) = self.pg {
            let mut conn = pg_admin(&admin).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot drop database {name}"))?;
            let _ = conn.close().await;
        }
        Ok(())
    }
}

/// A temp dir removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(unique("faro-bench"));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Memory of a process from `/proc/<pid>/status`, in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub rss_kb: u64,
    pub hwm_kb: u64,
}

pub fn memory(pid: u32) -> anyhow::Result<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    Ok(Memory {
        rss_kb: field("VmRSS:"),
        hwm_kb: field("VmHWM:"),
    })
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`
/// (`self` for this process).
pub fn cpu_seconds(pid: &str) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // USER_HZ is 100 on every Linux this runs on.
    (ticks(11) + ticks(12)) / 100.0
}

/// A running Faro.
pub struct Server {
    child: Child,
    pub base_url: String,
    log: PathBuf,
}

fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Server {
    /// Starts `bin` on `db` and waits until it serves the demo test.
    pub async fn start(bin: &Path, db: &Database, dir: &Path) -> anyhow::Result<Server> {
        let port = free_port()?;
        let bind = format!("127.0.0.1:{port}");
        let log = dir.join("faro.log");
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .current_dir(dir)
            // Only what we set: no FARO_CONFIG, REDIS_URL... leaking in from the shell.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &db.url)
            .env("FARO_BIND", &bind)
            .env("FARO_LOG", "warn")
            .env("FARO_DEMO", "true")
            .env("ADMIN_USER", ADMIN_USER)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RATE_LIMIT_SESSION_STARTS", "off")
            .env("RATE_LIMIT_ANSWERS", "off")
            .env("RATE_LIMIT_LOGIN", "off")
            // The harness sends thousands of requests from one address.
            .env("RATE_LIMITS", "off")
            .env("ANTIBOT_MIN_SECONDS", "0")
            // `FARO_BENCH_SERVER_FARO_LOG=info` runs the server with FARO_LOG=info: for
            // measuring a setting's cost (the request log) without another harness.
            .envs(std::env::vars().filter_map(|(k, v)| {
                k.strip_prefix("FARO_BENCH_SERVER_")
                    .map(|name| (name.to_string(), v))
            }))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let mut server = Server {
            child,
            base_url: format!("http://{bind}"),
            log,
        };
        if let Err(e) = server.wait_ready().await {
            let tail = server.log_tail();
            server.kill();
            return Err(e.context(format!("faro did not become ready; its log:\n{tail}")));
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/api/v1/tests", self.base_url);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("faro exited during start-up ({status})");
            }
            if let Ok(resp) = client.get(&url).send().await
                && resp.status().is_success()
            {
                let body = resp.text().await.unwrap_or_default();
                if body.contains(DEMO_SLUG) {
                    return Ok(());
                }
                bail!("the catalog does not list the demo test {DEMO_SLUG}: {body}");
            }
            if Instant::now() > deadline {
                bail!("no answer on {url} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn memory(&self) -> anyhow::Result<Memory> {
        memory(self.pid())
    }

    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the graceful shutdown (SIGKILL after 30 s). Returns whether it
    /// exited cleanly.
    pub fn stop(mut self) -> anyhow::Result<bool> {
        let pid = self.pid().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", &pid])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.success());
            }
            if Instant::now() > deadline {
                self.kill();
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}
