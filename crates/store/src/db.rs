use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::StoreError;

/// The storage layer's own tables: tenants, staff accounts, settings and daily counters (the
/// foundation every module's tables refer to), the event outbox and the job table.
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// Which engine a `DATABASE_URL` selects. Chosen once from the URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub struct DbOptions {
    /// Connections for reads (SQLite) or for everything (PostgreSQL).
    pub max_connections: u32,
    /// How long a request waits for a connection before it fails with 503 instead of hanging.
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// The database handle every module shares; cheap to clone.
///
/// On SQLite, writes go through a pool of exactly one connection: SQLite allows one writer at a
/// time anyway, and a single writer connection means no transaction ever has to upgrade a read
/// lock (the source of "database is locked" under load) and no writer spins in `busy_timeout`.
/// Reads use their own pool and run concurrently thanks to WAL. On PostgreSQL both handles are
/// the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
}

impl Db {
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| {
            StoreError::Other(format!(
                "unsupported DATABASE_URL scheme in {:?}: use sqlite://path or postgres://...",
                redact_url(url)
            ))
        })?;
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url_with_create(url)?;
                let connect = AnyConnectOptions::from_str(&url).map_err(StoreError::from)?;
                // The pool retries a failing after_connect until acquire_timeout and then says only
                // "pool timed out": one connection opened by hand first reports the real cause
                // ("attempt to write a readonly database") at start-up.
                {
                    use sqlx::Connection;
                    let mut first = sqlx::AnyConnection::connect_with(&connect)
                        .await
                        .map_err(|e| sqlite_open_error(&url, e))?;
                    first
                        .execute("PRAGMA journal_mode = WAL")
                        .await
                        .map_err(|e| sqlite_open_error(&url, e))?;
                    let _ = first.close().await;
                }
                let write = sqlite_pool(1, opts.acquire_timeout)
                    .connect_with(connect.clone())
                    .await
                    .map_err(|e| sqlite_open_error(&url, e))?;
                // Fail at start, not on the first visitor, when the file is read-only or the disk full.
                probe_writable(&write).await?;
                let read = sqlite_pool(opts.max_connections.max(1), opts.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(|e| sqlite_open_error(&url, e))?;
                Ok(Db {
                    read,
                    write,
                    backend,
                })
            }
            Backend::Postgres => {
                let connect = AnyConnectOptions::from_str(url).map_err(StoreError::from)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections.max(2))
                    .min_connections(1)
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(|e| {
                        StoreError::Unavailable(format!(
                            "cannot connect to {}: {e}",
                            redact_url(url)
                        ))
                    })?;
                Ok(Db {
                    read: pool.clone(),
                    write: pool,
                    backend,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for statements that only read.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for statements that write (the single writer on SQLite).
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up
    /// front, so a read-then-write transaction can never fail half-way with "database is locked".
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    /// Applies the storage layer's own pending migrations (the foundation tables, the outbox
    /// and the job table). The binary uses [`Db::migrate_with`] to add every module's.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.migrate_with(&[]).await
    }

    /// Applies the storage layer's migrations and those of `modules` as one set, in version
    /// order, recorded in the one `_sqlx_migrations` table: a migration keeps its version and
    /// checksum whichever crate holds it. Safe to run from several instances at once on
    /// PostgreSQL (sqlx takes an advisory lock).
    pub async fn migrate_with(&self, modules: &[&Migrator]) -> Result<(), StoreError> {
        let all = std::iter::once(&MIGRATIONS)
            .chain(modules.iter().copied())
            .flat_map(|m| m.iter().cloned())
            .collect();
        Migrator::with_migrations(all)
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    /// Readiness probe: one round trip on each pool.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        if self.backend == Backend::Sqlite {
            sqlx::query("SELECT 1").execute(&self.write).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

fn sqlite_pool(max: u32, acquire_timeout: Duration) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(acquire_timeout)
        // Idle connections are cheap on SQLite and reopening one re-reads the schema.
        .idle_timeout(None)
        .max_lifetime(None)
        // A failed COMMIT (disk full, I/O error) makes SQLite roll the transaction back itself;
        // sqlx's ROLLBACK on drop then fails and leaves its transaction depth at 1, so every
        // later BEGIN on that connection (the only writer) fails until restart. Such a connection
        // is closed and replaced instead of being handed out again.
        .before_acquire(|conn, _meta| {
            Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
        })
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers run beside the writer; NORMAL sync is durable across process
                // crashes (the WAL is fsynced at checkpoints); busy_timeout covers other processes
                // (`faro purge` beside `faro serve`). A 256 KB page cache per connection (SQLite's
                // default is 2 MB): nine connections otherwise grow the heap by up to 18 MB as
                // they touch a growing file, slowly enough to look like a leak in the 10-minute
                // soak; pages past it come from the OS page cache, at no measured cost to
                // session throughput (BENCHMARKS.md, soak).
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -256; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                )
                .await?;
                Ok(())
            })
        })
}

/// The file a SQLite URL names; `None` for PostgreSQL and an in-memory database.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// `sqlite://data/faro.db` must create the file (and its folder) on first start: the folder
/// 0700 and the file 0600.
fn sqlite_url_with_create(url: &str) -> Result<String, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(StoreError::Other(
            "DATABASE_URL names no SQLite file".into(),
        ));
    }
    if path != ":memory:"
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        // Only its owner may list or enter it: the database holds keys and personal data.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent).map_err(|e| {
            StoreError::ReadOnly(format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    if path != ":memory:" && !std::path::Path::new(path).exists() {
        // Made here, owner-only, rather than by SQLite with the umask's 0644 (its -wal and
        // -shm files take the database's mode).
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::ReadOnly(format!("cannot create {path}: {e}"))),
        }
    }
    Ok(match query {
        Some(q) if q.contains("mode=") => format!("sqlite://{path}?{q}"),
        Some(q) => format!("sqlite://{path}?{q}&mode=rwc"),
        None => format!("sqlite://{path}?mode=rwc"),
    })
}

fn sqlite_open_error(url: &str, err: sqlx::Error) -> StoreError {
    match StoreError::from(err) {
        StoreError::ReadOnly(m) => StoreError::ReadOnly(format!("{url}: {m}")),
        other => StoreError::Other(format!("cannot open {url}: {other}")),
    }
}

async fn probe_writable(pool: &AnyPool) -> Result<(), StoreError> {
    // BEGIN IMMEDIATE takes the write lock: it fails on a read-only file or directory.
    let mut tx =
        pool.begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::ReadOnly(m) | StoreError::Other(m) => StoreError::ReadOnly(m),
                other => other,
            })?;
    sqlx::query("CREATE TABLE IF NOT EXISTS _faro_probe (x BIGINT)")
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::ReadOnly(e.to_string()))?;
    sqlx::query("DROP TABLE _faro_probe")
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::ReadOnly(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| StoreError::ReadOnly(e.to_string()))?;
    Ok(())
}

/// Hides the password of a database URL for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        assert_eq!(Backend::from_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::from_url("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://u@h/db"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://faro:s3cret@db:5432/faro"),
            "postgres://faro:***@db:5432/faro"
        );
        assert_eq!(
            redact_url("postgres://faro@db/faro"),
            "postgres://faro@db/faro"
        );
        assert_eq!(redact_url("sqlite://data/faro.db"), "sqlite://data/faro.db");
    }

    #[test]
    fn sqlite_urls_create_the_file() {
        let dir = std::env::temp_dir().join(format!("faro-url-{}", std::process::id()));
        let url = format!("sqlite://{}/sub/x.db", dir.display());
        let out = sqlite_url_with_create(&url).expect("url");
        assert!(out.ends_with("?mode=rwc"));
        assert!(dir.join("sub").is_dir());
        let _ = std::fs::remove_dir_all(dir);
    }
}
