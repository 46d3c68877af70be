//! Measures the data-access choice on the quiz's session workload: per session one INSERT,
//! eight read + compare-and-set UPDATEs, and one finishing transaction (UPDATE + INSERT).
//!
//! Compares Faro's `Db` (sqlx Any driver, single writer on SQLite) with sqlx's native pools.
//! Run: `cargo run --release -p faro-store --example session_workload [sessions] [concurrency]`
//! (PostgreSQL from FARO_TEST_PG_URL). Numbers are recorded in docs/decisions/0001-data-access.md.

use std::sync::Arc;
use std::time::Instant;

use faro_store::{Backend, Db, DbOptions, testing};
use sqlx::{Executor, Row};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS w_sessions (id TEXT PRIMARY KEY, state TEXT NOT NULL, \
     rev BIGINT NOT NULL, status TEXT NOT NULL); \
     CREATE TABLE IF NOT EXISTS w_results (token TEXT PRIMARY KEY, body TEXT NOT NULL)";

/// The workload, written once per pool type through a tiny trait so every variant runs the
/// same statements.
trait Pools: Send + Sync + 'static {
    fn session(
        &self,
        n: usize,
    ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send;
}

struct AnyDb(Db);

impl Pools for AnyDb {
    async fn session(&self, n: usize) -> Result<(), sqlx::Error> {
        let id = format!("s{n}-{}", uuid::Uuid::new_v4());
        sqlx::query(
            "INSERT INTO w_sessions (id, state, rev, status) VALUES ($1, $2, 0, 'started')",
        )
        .bind(&id)
        .bind("{\"c\":0,\"a\":[]}")
        .execute(self.0.writer())
        .await?;
        for i in 0..8i64 {
            let row = sqlx::query("SELECT state, rev FROM w_sessions WHERE id = $1")
                .bind(&id)
                .fetch_one(self.0.reader())
                .await?;
            let rev: i64 = row.try_get(1)?;
            sqlx::query(
                "UPDATE w_sessions SET state = $1, rev = rev + 1 WHERE id = $2 AND rev = $3",
            )
            .bind(format!("{{\"c\":{},\"a\":[{}]}}", i + 1, i))
            .bind(&id)
            .bind(rev)
            .execute(self.0.writer())
            .await?;
        }
        let mut tx = self
            .0
            .begin_write()
            .await
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        sqlx::query(
            "UPDATE w_sessions SET status = 'finished' WHERE id = $1 AND status = 'started'",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO w_results (token, body) VALUES ($1, $2)")
            .bind(format!("t-{id}"))
            .bind("{\"score\":50}")
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}

macro_rules! native_pool {
    ($name:ident, $pool:ty, $begin:expr) => {
        struct $name($pool);
        impl Pools for $name {
            async fn session(&self, n: usize) -> Result<(), sqlx::Error> {
                let id = format!("s{n}-{}", uuid::Uuid::new_v4());
                sqlx::query("INSERT INTO w_sessions (id, state, rev, status) VALUES ($1, $2, 0, 'started')")
                    .bind(&id)
                    .bind("{\"c\":0,\"a\":[]}")
                    .execute(&self.0)
                    .await?;
                for i in 0..8i64 {
                    let row = sqlx::query("SELECT state, rev FROM w_sessions WHERE id = $1")
                        .bind(&id)
                        .fetch_one(&self.0)
                        .await?;
                    let rev: i64 = row.try_get(1)?;
                    sqlx::query("UPDATE w_sessions SET state = $1, rev = rev + 1 WHERE id = $2 AND rev = $3")
                        .bind(format!("{{\"c\":{},\"a\":[{}]}}", i + 1, i))
                        .bind(&id)
                        .bind(rev)
                        .execute(&self.0)
                        .await?;
                }
                let mut tx = self.0.begin_with($begin).await?;
                sqlx::query("UPDATE w_sessions SET status = 'finished' WHERE id = $1 AND status = 'started'")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO w_results (token, body) VALUES ($1, $2)")
                    .bind(format!("t-{id}"))
                    .bind("{\"score\":50}")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }
        }
    };
}

native_pool!(NativeSqlite, sqlx::SqlitePool, "BEGIN IMMEDIATE");
native_pool!(NativePg, sqlx::PgPool, "BEGIN");

async fn run<P: Pools>(label: &str, pools: P, sessions: usize, concurrency: usize) {
    let pools = Arc::new(pools);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (pools, next, errors) = (pools.clone(), next.clone(), errors.clone());
        let label = label.to_string();
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= sessions {
                    break;
                }
                if let Err(e) = pools.session(n).await
                    && errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3
                {
                    eprintln!("{label}: {e}");
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "| {label} | {sessions} | {concurrency} | {:.0} | {:.0} | {} |",
        sessions as f64 / secs,
        sessions as f64 * 10.0 / secs,
        errors.load(std::sync::atomic::Ordering::Relaxed)
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let sessions: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    println!("| variant | sessions | concurrency | sessions/s | statements/s | errors |");
    println!("|---|---|---|---|---|---|");

    for backend in [Backend::Sqlite, Backend::Postgres] {
        let url = testing::create_database(backend).await;
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .expect("connect");
        db.writer().execute(SCHEMA).await.expect("schema");
        run(
            &format!("Faro Db (Any, {})", backend.name()),
            AnyDb(db.clone()),
            sessions,
            concurrency,
        )
        .await;
        match backend {
            Backend::Sqlite => {
                let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().expect("url");
                let opts = opts
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(std::time::Duration::from_secs(5));
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts)
                    .await
                    .expect("native sqlite");
                run(
                    "native SqlitePool, 8 writers",
                    NativeSqlite(pool),
                    sessions,
                    concurrency,
                )
                .await;
            }
            Backend::Postgres => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(8)
                    .connect(&url)
                    .await
                    .expect("native pg");
                run("native PgPool", NativePg(pool), sessions, concurrency).await;
            }
        }
        db.close().await;
    }
}
