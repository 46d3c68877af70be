//! The files module over real HTTP, on both databases and both storage backends: the local
//! disk, and S3 against a real S3-compatible server (moto's server mode, started per test by
//! `scripts/s3-server` and stopped with it). `files_test!(name)` makes `name::local_sqlite`,
//! `name::local_postgres`, `name::s3_sqlite` and `name::s3_postgres`. The backend is checked
//! directly (the file on disk, the keys in the bucket), not through the API under test.

mod lifecycle;
mod purge;
mod refusals;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use faro_files::testing::S3Server;
use faro_files::{BackendConfig, FileStore, ObjectKey, TenantId};
use faro_store::Backend;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};

use crate::common::{self, Resp, TestApp};

/// A 1×1 PNG.
pub const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99\x3d\x1d\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

const BOUNDARY: &str = "faro-files-test-7MA4YWxkTrZu0gW";

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Local,
    S3,
}

enum Storage {
    Local(PathBuf),
    S3(S3Server),
}

/// One test's app and a direct view of its storage.
pub struct Ctx {
    pub app: TestApp,
    storage: Arc<Storage>,
    /// The same backend the app uses, opened by the test.
    pub store: FileStore,
}

/// Declares the four runs of `async fn name(ctx: Ctx)`, with configuration overrides.
macro_rules! files_test {
    ($name:ident $(, $k:literal => $v:expr)* $(,)?) => {
        mod $name {
            use faro_store::Backend;
            use $crate::files::{Kind, run};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn local_sqlite() {
                run(Backend::Sqlite, Kind::Local, &[$(($k, $v)),*], super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn local_postgres() {
                run(Backend::Postgres, Kind::Local, &[$(($k, $v)),*], super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn s3_sqlite() {
                run(Backend::Sqlite, Kind::S3, &[$(($k, $v)),*], super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn s3_postgres() {
                run(Backend::Postgres, Kind::S3, &[$(($k, $v)),*], super::$name).await;
            }
        }
    };
}
pub(crate) use files_test;

/// Runs `body` against a fresh app whose files go to a fresh directory or a fresh S3 server.
pub async fn run<F, Fut>(db: Backend, kind: Kind, env: &[(&str, &str)], body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (storage, mut settings) = match kind {
        Kind::Local => {
            let dir = faro_files::testing::temp_dir("api");
            let settings = vec![("FILES_DIR", dir.display().to_string())];
            (Storage::Local(dir), settings)
        }
        Kind::S3 => {
            let server = S3Server::start("faro-api");
            let settings = server.settings();
            (Storage::S3(server), settings)
        }
    };
    let backend = match &storage {
        Storage::Local(dir) => BackendConfig::Local { root: dir.clone() },
        Storage::S3(server) => server.backend(),
    };
    let store = FileStore::new(&backend).expect("the test's view of the backend");
    settings.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let storage = Arc::new(storage);
    let held = storage.clone();
    common::run(db, &env, move |app| {
        body(Ctx {
            app,
            storage: held,
            store,
        })
    })
    .await;
    if let Storage::Local(dir) = &*storage {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A `multipart/form-data` body with one file part; returns its Content-Type and bytes.
pub fn form(field: &str, filename: &str, part_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n\
         Content-Type: {part_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// A download: status, headers and the body's exact bytes.
pub struct Download {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Download {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Ctx {
    pub fn s3(&self) -> Option<&S3Server> {
        match &*self.storage {
            Storage::S3(server) => Some(server),
            Storage::Local(_) => None,
        }
    }

    pub fn files_dir(&self) -> Option<&PathBuf> {
        match &*self.storage {
            Storage::Local(dir) => Some(dir),
            Storage::S3(_) => None,
        }
    }

    /// POST /api/v1/admin/files as the admin with one `file` part.
    pub async fn upload(&self, filename: &str, part_type: &str, bytes: &[u8]) -> Resp {
        let (ct, body) = form("file", filename, part_type, bytes);
        self.upload_raw(ct, body, None).await
    }

    /// POST /api/v1/admin/files with this body, as the admin or with `token`.
    pub async fn upload_raw(&self, ct: String, body: Vec<u8>, token: Option<&str>) -> Resp {
        let req = match token {
            Some(t) => self
                .app
                .request(Method::POST, "/api/v1/admin/files")
                .bearer_auth(t),
            None => self.app.admin(Method::POST, "/api/v1/admin/files").await,
        };
        self.app.send(req.header(CONTENT_TYPE, ct).body(body)).await
    }

    /// GET of an absolute URL, with extra headers, reading the body as bytes.
    pub async fn download(&self, url: &str, headers: &[(&str, &str)]) -> Download {
        let mut req = self.app.client.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.expect("the download reaches the server");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("the body is readable").to_vec();
        Download {
            status,
            headers,
            bytes,
        }
    }

    /// Whether the backend holds file `id` of `tenant`, asked of the backend itself.
    pub async fn stored(&self, tenant: &str, id: &str) -> bool {
        let key = ObjectKey::new(&TenantId::new(tenant), id).expect("a valid key");
        let in_store = self.store.head(&key).await.expect("head").is_some();
        match &*self.storage {
            Storage::Local(_) => {
                let on_disk = self.store.local_path(&key).expect("local").exists();
                assert_eq!(in_store, on_disk, "the store and the disk disagree");
            }
            Storage::S3(server) => {
                let listed = server.keys().await.contains(&key.to_string());
                assert_eq!(in_store, listed, "HEAD and the bucket listing disagree");
            }
        }
        in_store
    }

    /// Every object the backend holds, and for S3 no multipart upload left open.
    pub async fn all_objects(&self) -> Vec<String> {
        match &*self.storage {
            Storage::Local(dir) => {
                let mut found = Vec::new();
                for tenant in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                    for f in std::fs::read_dir(tenant.path())
                        .into_iter()
                        .flatten()
                        .flatten()
                    {
                        found.push(format!(
                            "{}/{}",
                            tenant.file_name().to_string_lossy(),
                            f.file_name().to_string_lossy()
                        ));
                    }
                }
                found
            }
            Storage::S3(server) => {
                assert_eq!(server.pending_uploads().await, 0, "an upload was left open");
                server.keys().await
            }
        }
    }
}

/// A second tenant with an admin, and that admin's bearer token.
pub async fn second_tenant(app: &TestApp, tenant: &str, role: faro_auth::Role) -> String {
    sqlx::query(
        "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, 0) ON CONFLICT (id) DO NOTHING",
    )
    .bind(tenant.to_string())
    .bind(format!("Tenant {tenant}"))
    .execute(app.core.db.writer())
    .await
    .expect("tenant");
    staff_token(app, tenant, "staff", role).await
}

/// A staff user of `tenant` with `role`, and a token for them.
pub async fn staff_token(
    app: &TestApp,
    tenant: &str,
    username: &str,
    role: faro_auth::Role,
) -> String {
    let hash = faro_auth::password::hash_blocking("a-long-staff-password".into())
        .await
        .expect("hash");
    let tid = faro_http::TenantId::new(tenant);
    faro::accounts::upsert_user(&app.core.db, &tid, username, &hash, role, false)
        .await
        .expect("staff user");
    let id: String =
        sqlx::query_scalar("SELECT id FROM users WHERE tenant_id = $1 AND username = $2")
            .bind(tenant.to_string())
            .bind(username.to_string())
            .fetch_one(app.core.db.reader())
            .await
            .expect("user id");
    app.core
        .keys
        .issue(
            &id,
            username,
            tenant,
            role,
            std::time::Duration::from_secs(600),
            faro_store::unix_now(),
        )
        .expect("token")
}

#[test]
fn bad_storage_settings_stop_the_start_with_the_key_named() {
    let base = |pairs: &[(&str, &str)]| {
        let mut env: std::collections::BTreeMap<String, String> =
            [("DATABASE_URL", "sqlite://unused.db"), ("FARO_LOG", "warn")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        for (k, v) in pairs {
            env.insert(k.to_string(), v.to_string());
        }
        faro::Config::from_sources(None, &env)
    };
    assert!(base(&[]).is_ok(), "the defaults start");
    for (pairs, key) in [
        (&[("FILES_BACKEND", "ftp")][..], "FILES_BACKEND"),
        (&[("FILES_BACKEND", "s3")][..], "S3_BUCKET"),
        (
            &[
                ("FILES_BACKEND", "s3"),
                ("S3_BUCKET", "b-1"),
                ("S3_ENDPOINT", "minio:9000"),
            ][..],
            "S3_ENDPOINT",
        ),
        (&[("FILES_MAX_BYTES", "lots")][..], "FILES_MAX_BYTES"),
        (&[("FILES_URL_TTL_SECS", "0")][..], "FILES_URL_TTL_SECS"),
    ] {
        let e = base(pairs).expect_err(key);
        assert_eq!(e.var, key, "{pairs:?}: {e}");
    }
    // The S3 secrets are masked wherever the configuration is printed.
    assert!(faro::config::secret_keys().contains(&"S3_SECRET_ACCESS_KEY"));
    assert!(faro::config::secret_keys().contains(&"S3_ACCESS_KEY_ID"));
}
