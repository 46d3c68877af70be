//! `Files`: the module's state and its use cases, the API other modules call (conversion
//! uploads, avatars, exports) as much as the admin endpoints do. No axum types here: bodies
//! come in as streams of bytes, files go out as metadata plus a stream.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::FromRef;
use faro_http::Core;
use faro_http::module::{ConfigError, Settings};
use futures_util::Stream;
use tokio::sync::OnceCell;

use crate::backend::{ByteStream, FileStore, ObjectKey, StoredObject};
use crate::config::FilesConfig;
use crate::signing::{self, UrlSigner};
use crate::store::{self, FileRow};
use crate::{FilesError, TenantId};

/// The module's handle: cheap to clone (one `Arc`). Another module builds its own with
/// [`Files::from_settings`] in its `mount` (same settings, same backend, same signing key).
#[derive(Clone)]
pub struct Files(Arc<FilesState>);

pub struct FilesState {
    pub core: Core,
    pub cfg: Arc<FilesConfig>,
    pub store: FileStore,
    /// Read from (or made in) `settings` on first use: `mount` cannot wait for the database.
    signer: OnceCell<UrlSigner>,
}

impl std::ops::Deref for Files {
    type Target = FilesState;

    fn deref(&self) -> &FilesState {
        &self.0
    }
}

impl FromRef<Files> for Core {
    fn from_ref(f: &Files) -> Core {
        f.core.clone()
    }
}

/// A stored file, as every caller sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    pub id: String,
    pub tenant: TenantId,
    /// The sanitised display name.
    pub name: String,
    /// Sniffed from the bytes.
    pub content_type: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the content (also the download's ETag).
    pub sha256: String,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub key: ObjectKey,
}

impl StoredFile {
    fn from_row(r: FileRow) -> Result<StoredFile, FilesError> {
        let tenant = TenantId::new(r.tenant_id);
        let key = ObjectKey::parse(&tenant, &r.key)?;
        if key.id() != r.id {
            return Err(FilesError::InvalidKey(format!(
                "row {} points at {}",
                r.id, r.key
            )));
        }
        Ok(StoredFile {
            id: r.id,
            tenant,
            name: r.name,
            content_type: r.content_type,
            size: u64::try_from(r.size).unwrap_or_default(),
            sha256: r.sha256,
            created_at: r.created_at,
            created_by: r.created_by,
            key,
        })
    }
}

/// What a caller stores.
#[derive(Clone, Debug, Default)]
pub struct NewFile<'a> {
    /// The client's file name (only shown, sanitised; it never becomes a path).
    pub name: &'a str,
    /// The staff user or module that stores it.
    pub created_by: Option<&'a str>,
    /// A lower limit than `FILES_MAX_BYTES` for this use (an avatar); never a higher one.
    pub max_bytes: Option<u64>,
    /// The sniffed types accepted (e.g. images only); `None`: any. A refused file is not kept.
    pub accept: Option<&'a [&'a str]>,
    /// The staff member storing it, for the audit log (`file.upload`); `None` for files a
    /// module makes.
    pub audit: Option<&'a faro_http::audit::Actor>,
}

/// A signed download link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedUrl {
    /// Absolute, on `PUBLIC_BASE_URL`.
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A file's usage figures for a tenant (what a quota compares with).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub files: u64,
    pub bytes: u64,
}

impl Files {
    pub fn new(core: Core, cfg: FilesConfig) -> Result<Files, FilesError> {
        let store = FileStore::new(&cfg.backend)?;
        Ok(Files(Arc::new(FilesState {
            core,
            cfg: Arc::new(cfg),
            store,
            signer: OnceCell::new(),
        })))
    }

    /// The handle another module's `mount` makes from the same settings.
    pub fn from_settings(core: &Core, settings: &Settings) -> Result<Files, ConfigError> {
        let cfg = FilesConfig::from_settings(settings)?;
        Files::new(core.clone(), cfg).map_err(|e| ConfigError::new("FILES_BACKEND", e.to_string()))
    }

    async fn signer(&self) -> Result<&UrlSigner, FilesError> {
        self.signer
            .get_or_try_init(|| async {
                let key = faro_store::get_or_create_setting(
                    &self.core.db,
                    signing::SETTING,
                    signing::random_key,
                )
                .await?;
                UrlSigner::new(key.as_bytes())
            })
            .await
    }

    /// Stores a file from a stream of bytes: streamed to the backend with the size limit
    /// enforced on the way (nothing is kept past it), then its row is written. `body` is
    /// borrowed so that the caller can drain the rest of a refused request.
    pub async fn put<S>(
        &self,
        tenant: &TenantId,
        file: NewFile<'_>,
        body: &mut S,
    ) -> Result<StoredFile, FilesError>
    where
        S: Stream<Item = Result<Bytes, FilesError>> + Unpin + Send,
    {
        let limit = file
            .max_bytes
            .map_or(self.cfg.max_bytes, |m| m.min(self.cfg.max_bytes));
        // A plan with less room than the size limit bounds the stream itself, so an upload
        // past the quota is refused as it crosses it, not after every byte is stored. The row's
        // transaction still decides (another upload may take the room meanwhile).
        let room = store::storage_room(&self.core.db, tenant).await?;
        let quota = room.and_then(|(plan, used)| {
            let left = plan
                .limit
                .saturating_mul(plan.quota.unit())
                .saturating_sub(used);
            (left < limit).then_some((plan, used, left))
        });
        let bound = quota.as_ref().map_or(limit, |(_, _, left)| *left);
        let object = match self.store.put(tenant, body, file.name, bound).await {
            Ok(object) => object,
            Err(FilesError::TooLarge { .. }) if let Some((plan, used, left)) = quota => {
                return Err(plan
                    .check(used, left.saturating_add(1))
                    .err()
                    .map_or(FilesError::TooLarge { limit }, FilesError::Quota));
            }
            Err(e) => return Err(e),
        };
        self.record(tenant, &file, object).await
    }

    /// Stores bytes already in memory (an export, a generated image).
    pub async fn put_bytes(
        &self,
        tenant: &TenantId,
        file: NewFile<'_>,
        bytes: Bytes,
    ) -> Result<StoredFile, FilesError> {
        let mut body = futures_util::stream::iter([Ok(bytes)]);
        self.put(tenant, file, &mut body).await
    }

    /// Writes the row of a stored object; when the type is refused or the row cannot be
    /// written, the object is removed again so that no object is left without a row.
    async fn record(
        &self,
        tenant: &TenantId,
        file: &NewFile<'_>,
        object: StoredObject,
    ) -> Result<StoredFile, FilesError> {
        if let Some(accept) = file.accept
            && !accept.contains(&object.content_type)
        {
            self.discard(&object.key).await;
            return Err(FilesError::TypeNotAccepted {
                found: object.content_type.to_string(),
            });
        }
        let row = FileRow {
            id: object.key.id().to_string(),
            tenant_id: tenant.as_str().to_string(),
            key: object.key.to_string(),
            name: object.name,
            content_type: object.content_type.to_string(),
            size: i64::try_from(object.size).unwrap_or(i64::MAX),
            sha256: object.sha256,
            created_at: faro_store::unix_now(),
            created_by: file.created_by.map(str::to_string),
        };
        let written = match store::insert(&self.core.db, &row, file.audit).await {
            Ok(fits) => fits.map_err(FilesError::Quota),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = written {
            self.discard(&object.key).await;
            return Err(e);
        }
        StoredFile::from_row(row)
    }

    async fn discard(&self, key: &ObjectKey) {
        if let Err(e) = self.store.delete(key).await {
            tracing::warn!(key = %key, error = %e, "an object without a row was left behind");
        }
    }

    /// A tenant's file; another tenant's id is `NotFound`.
    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<StoredFile, FilesError> {
        let row = store::get(&self.core.db, tenant, id)
            .await?
            .ok_or(FilesError::NotFound)?;
        StoredFile::from_row(row)
    }

    /// A page of a tenant's files, newest first, after the file `before` (a cursor).
    pub async fn list(
        &self,
        tenant: &TenantId,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredFile>, FilesError> {
        store::list(&self.core.db, tenant, before, limit as i64)
            .await?
            .into_iter()
            .map(StoredFile::from_row)
            .collect()
    }

    /// A file and its content as a stream.
    pub async fn open(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<(StoredFile, ByteStream), FilesError> {
        let file = self.get(tenant, id).await?;
        let stream = self.store.get(&file.key).await?;
        Ok((file, stream))
    }

    /// A file's whole content in memory (a conversion reading its input); sizes are bounded
    /// by `FILES_MAX_BYTES` when stored.
    pub async fn read(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<(StoredFile, Bytes), FilesError> {
        use futures_util::TryStreamExt;
        let (file, stream) = self.open(tenant, id).await?;
        let mut buf = Vec::with_capacity(usize::try_from(file.size).unwrap_or(0));
        let mut stream = stream;
        while let Some(chunk) = stream.try_next().await? {
            buf.extend_from_slice(&chunk);
        }
        Ok((file, Bytes::from(buf)))
    }

    /// Deletes a file: the object first, then the row, so a failure half-way leaves a row
    /// whose delete can be retried (deleting a missing object succeeds), never an orphan
    /// object nobody can find.
    pub async fn delete(
        &self,
        tenant: &TenantId,
        id: &str,
        by: Option<&faro_http::audit::Actor>,
    ) -> Result<(), FilesError> {
        let file = self.get(tenant, id).await?;
        self.store.delete(&file.key).await?;
        store::delete(&self.core.db, tenant, id, by).await?;
        Ok(())
    }

    /// How many files a tenant keeps and their total size, from the rows alone.
    pub async fn usage(&self, tenant: &TenantId) -> Result<Usage, FilesError> {
        let (files, bytes) = store::usage(&self.core.db, tenant).await?;
        Ok(Usage {
            files: u64::try_from(files).unwrap_or_default(),
            bytes: u64::try_from(bytes).unwrap_or_default(),
        })
    }

    /// A download link for `file`, valid for `FILES_URL_TTL_SECS`.
    pub async fn signed_url(&self, file: &StoredFile) -> Result<SignedUrl, FilesError> {
        let ttl = i64::try_from(self.cfg.url_ttl.as_secs()).unwrap_or(3600);
        let expires_at = faro_store::unix_now() + ttl;
        let path = self.signer().await?.path(&file.id, expires_at);
        Ok(SignedUrl {
            url: format!("{}{path}", self.core.web.public_base_url),
            expires_at,
        })
    }

    /// Opens the file a signed link names, checking the link first: a bad signature is
    /// `BadSignature`, a past expiry `Expired`, a deleted file `NotFound`. Returns the link's
    /// expiry with the file, for the response's cache lifetime.
    pub async fn open_signed(
        &self,
        id: &str,
        exp: Option<&str>,
        sig: Option<&str>,
    ) -> Result<(StoredFile, i64, ByteStream), FilesError> {
        let exp = self
            .signer()
            .await?
            .verify(id, exp, sig, faro_store::unix_now())?;
        let row = store::get_any_tenant(&self.core.db, id)
            .await?
            .ok_or(FilesError::NotFound)?;
        let file = StoredFile::from_row(row)?;
        let stream = self.store.get(&file.key).await?;
        Ok((file, exp, stream))
    }
}
