//! The files module: a storage service for every module that keeps files (uploads to convert,
//! avatars, exports) and the admin API over it.
//!
//! - `FileStore` (`backend.rs`): the bytes, on the local disk (`FILES_DIR`, the default) or in
//!   an S3-compatible bucket, both through `object_store`; keys are `<tenant>/<uuid-v7>`.
//! - `files` rows (`store.rs`): name, sniffed type, size, SHA-256, who and when, so listing
//!   and quotas never ask the backend.
//! - `Files` (`service.rs`): put (streaming, size-limited, sniffed), get, open, read, list,
//!   delete, usage and signed download links; what other modules call, with no axum types.
//! - `api.rs`: `/api/v1/admin/files` (list, upload, get, delete) and `GET /files/{id}`, the
//!   signed download that works the same for both backends.
//!
//! Another module that stores files depends on this crate and builds its handle in its own
//! `mount`: `let files = faro_files::Files::from_settings(core, settings)?;`, then
//! `files.put_bytes(&tenant, NewFile { name: "export.csv", ..Default::default() }, bytes)`
//! and `files.signed_url(&stored)`.

pub mod api;
pub mod backend;
pub mod config;
pub mod error;
mod http;
pub mod purge;
pub mod service;
pub mod signing;
pub mod sniff;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use faro_http::module::{ConfigError, Module, Mounted};
use faro_store::Migrator;

pub use backend::{ByteStream, FileStore, ObjectKey, StoredObject};
pub use config::{BackendConfig, FilesConfig, S3Config};
pub use error::FilesError;
pub use faro_store::TenantId;
pub use service::{Files, NewFile, SignedUrl, StoredFile, Usage};

/// The `files` table.
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The files module as the binary lists it. Not switchable: links other modules hand out
/// (avatars, exports) are served by its download route, so switching it off would break them.
pub fn module() -> Module {
    Module {
        name: "files",
        optional: false,
        api_keys: true,
        keys: config::KEYS,
        secret_keys: config::SECRET_KEYS,
        check: |settings| FilesConfig::from_settings(settings).map(drop),
        migrations: &MIGRATIONS,
        nav: &[],
        mount: |core, settings| {
            let files = Files::new(core.clone(), FilesConfig::from_settings(settings)?)
                .map_err(|e| ConfigError::new("FILES_BACKEND", e.to_string()))?;
            tracing::debug!(backend = files.store.kind(), "files mounted");
            let consumer = purge::consumer(files.store.clone());
            let mut mounted = Mounted::new(api::router(files), axum::Router::new());
            mounted.consumers.push(consumer);
            Ok(mounted)
        },
        demo: None,
        cli: None,
        sealed: &[],
    }
}
