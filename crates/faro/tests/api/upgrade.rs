//! A database made by the release before modules (fixtures in `tests/fixtures/before-modules`)
//! upgrades in place: the migrations that moved from `faro-store` into the quiz crate are
//! recognised as applied (same version, same checksum), the new ones run, and everything the
//! old release stored is served as before.

use faro_store::Backend;
use serde_json::Value;
use sqlx::Row;

use crate::common::{DEMO, TestApp};

const SQLITE_TOKEN: &str = "oay6CLqu1SU_gkUYNA0GqA";
const POSTGRES_TOKEN: &str = "6f-iSaTqQDZy9n1sjG1y6A";

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/before-modules")
        .join(name)
}

/// A copy of the old release's database, as a URL the app can open.
async fn old_database(backend: Backend) -> String {
    let url = faro_store::testing::create_database(backend).await;
    match backend {
        Backend::Sqlite => {
            let path = url
                .strip_prefix("sqlite://")
                .expect("a sqlite:// URL")
                .to_string();
            std::fs::copy(fixture("faro.db"), &path).expect("copy the SQLite fixture");
            // As its operator left it after the start-up message of a 0644 file holding keys.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .expect("chmod 600");
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let dump = std::fs::read_to_string(fixture("postgres.sql")).expect("the dump");
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::raw_sql(sqlx::AssertSqlSafe(dump))
                .execute(&mut conn)
                .await
                .expect("restore the dump");
            let _ = conn.close().await;
        }
    }
    url
}

/// `(version, checksum as hex)` of every recorded migration, and how many did not succeed.
async fn applied(app: &TestApp) -> (Vec<(i64, String)>, i64) {
    let rows = sqlx::query("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")
        .fetch_all(app.core.db.reader())
        .await
        .expect("the migrations table");
    let done = rows
        .iter()
        .map(|r| {
            let checksum: Vec<u8> = r.try_get("checksum").expect("checksum");
            let hex: String = checksum.iter().map(|b| format!("{b:02X}")).collect();
            (r.try_get("version").expect("version"), hex)
        })
        .collect();
    // sqlx's `success` is a BOOLEAN, which the Any driver cannot decode on SQLite: count instead.
    let failed: i64 = sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = false")
        .fetch_one(app.core.db.reader())
        .await
        .expect("count")
        .try_get(0)
        .expect("a count");
    (done, failed)
}

async fn upgrades_in_place(backend: Backend, token: &str) {
    let url = old_database(backend).await;
    let app = TestApp::builder(backend).database(&url).spawn().await;

    // The old migrations, recorded by the old release, are still the same ones.
    let (migrations, failed) = applied(&app).await;
    assert_eq!(failed, 0, "{migrations:?}");
    assert!(
        migrations.len() > 2,
        "the new migrations ran: {migrations:?}"
    );
    assert_eq!(
        migrations[0],
        (
            20261122000001,
            "DBF7351D177C578045BC0911D7081F170C380B3CCAA1BBB7B3874D1A7D2B3367627006CCAE66106CFB96EAAE9B12EEF4".into(),
        )
    );
    assert_eq!(
        migrations[1],
        (
            20261122000002,
            "A4E6AE0790D11F0DF79DAEC886DA0622D71A11F91D2236E0756DC2DD25BA94D7339685B74F65AD281159CADB93A7F6B2".into(),
        )
    );

    // What the old release stored is served as before.
    let catalog = app.catalog("").await.json();
    assert_eq!(catalog["items"][0]["slug"], DEMO, "{catalog}");
    let shared = app.share(token, true).await;
    assert_eq!(shared.status, 200, "{shared}");
    let v: Value = shared.json();
    assert_eq!(v["profile_code"], "CONSERVADOR");
    // The admin it created still signs in (the tests' ADMIN_* match the fixture's).
    assert_eq!(
        app.login_as("admin", crate::common::ADMIN_PASSWORD)
            .await
            .status,
        200
    );
    // And it keeps working: a new session finishes and writes its event.
    let result = app
        .complete(DEMO, |q| crate::common::pick(q, false, &[]))
        .await;
    assert!(result["share_url"].is_string(), "{result}");
    drop(app);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    crate::common::drop_database(backend, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_of_the_release_before_modules_upgrades_in_place() {
    upgrades_in_place(Backend::Sqlite, SQLITE_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_of_the_release_before_modules_upgrades_in_place() {
    upgrades_in_place(Backend::Postgres, POSTGRES_TOKEN).await;
}
