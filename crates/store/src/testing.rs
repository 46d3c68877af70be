//! Fresh databases for tests: a new SQLite file or a new PostgreSQL database per test, migrated.
//!
//! PostgreSQL comes from `FARO_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! the server every Faro machine runs). An unreachable server fails the test: storage code is
//! never considered tested on one backend only.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Backend, Db, DbOptions, Migrator};

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn pg_admin_url() -> String {
    std::env::var("FARO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A migrated database for one test. SQLite files are left in the temp dir and PostgreSQL
/// databases are left on the server (both useful after a failure); the API suite's harness
/// (`crates/faro/tests/common`) drops its own.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    pub backend: Backend,
}

fn unique_name() -> String {
    format!(
        "faro_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        crate::unix_now()
    )
}

/// Creates an empty (unmigrated) database and returns its URL.
pub async fn create_database(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("faro-tests");
            let _ = std::fs::create_dir_all(&dir);
            format!("sqlite://{}/{}.db", dir.display(), unique_name())
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = pg_admin_url();
            let name = unique_name();
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for tests and is unreachable at {admin}: {e}")
                });
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
            let _ = conn.close().await;
            match admin.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("FARO_TEST_PG_URL must end with /database"),
            }
        }
    }
}

impl TestDb {
    /// A database with the storage layer's own tables.
    pub async fn new(backend: Backend) -> TestDb {
        TestDb::with(backend, &[]).await
    }

    /// A database with the storage layer's tables and those of `modules`.
    pub async fn with(backend: Backend, modules: &[&Migrator]) -> TestDb {
        let url = create_database(backend).await;
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        db.migrate_with(modules)
            .await
            .unwrap_or_else(|e| panic!("migrate: {e}"));
        TestDb { db, url, backend }
    }

    /// `n` handles on this database (its own first), as `n` instances would hold.
    pub async fn handles(&self, n: usize) -> Vec<Db> {
        let mut out = vec![self.db.clone()];
        while out.len() < n {
            out.push(
                Db::connect(&self.url, &DbOptions::default())
                    .await
                    .unwrap_or_else(|e| panic!("another handle on {}: {e}", self.url)),
            );
        }
        out
    }
}

/// Declares one `#[tokio::test]` per backend for an `async fn(Db)` test body:
/// `both_backends!(counters_add_up);` makes `counters_add_up_sqlite` and `counters_add_up_postgres`.
/// A module's tests add its migrations: `both_backends!(with [&faro_quiz::MIGRATIONS]; name);`.
/// Tests that open more handles on the same database take the `TestDb` instead:
/// `both_backends!(test_db; name);` for an `async fn(&TestDb)`.
#[macro_export]
macro_rules! both_backends {
    (test_db; $($name:ident),+ $(,)?) => {
        $(
            $crate::__paste_test_db_tests!($name);
        )+
    };
    (with $migrations:tt; $($name:ident),+ $(,)?) => {
        $(
            $crate::__paste_backend_tests!($name, $migrations);
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(
            $crate::__paste_backend_tests!($name, []);
        )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __paste_backend_tests {
    ($name:ident, [$($m:expr),*]) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::testing::TestDb::with($crate::Backend::Sqlite, &[$($m),*]).await;
                super::$name(t.db.clone()).await;
                t.db.close().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let t = $crate::testing::TestDb::with($crate::Backend::Postgres, &[$($m),*]).await;
                super::$name(t.db.clone()).await;
                t.db.close().await;
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __paste_test_db_tests {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::testing::TestDb::new($crate::Backend::Sqlite).await;
                super::$name(&t).await;
                t.db.close().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let t = $crate::testing::TestDb::new($crate::Backend::Postgres).await;
                super::$name(&t).await;
                t.db.close().await;
            }
        }
    };
}
