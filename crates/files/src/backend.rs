//! Where the bytes live: `FileStore`, one interface over the local disk and S3-compatible
//! services, both through `object_store` (its `LocalFileSystem` and `AmazonS3`), so the
//! streaming writer, the size limit, hashing and sniffing are one code path whichever backend
//! is configured, and the tests of the local backend exercise the code S3 deployments run.
//!
//! Keys are always `<tenant>/<uuid-v7>`, made here: no client-supplied text ever becomes part
//! of a path, and both parts are validated again whenever a key is read back from a row.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::config::{BackendConfig, S3Config};
use crate::sniff::{self, Sniffer};
use crate::{FilesError, TenantId};

/// Bodies up to this size are sent in one PUT; larger ones stream as a multipart upload in
/// parts of this size (S3's smallest part), so an upload holds at most about two parts in memory.
pub const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts of one upload in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

/// A file's content as it streams out of the backend.
pub type ByteStream = BoxStream<'static, Result<Bytes, FilesError>>;

/// The location of an object: `<tenant>/<id>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey {
    tenant: String,
    id: String,
}

impl ObjectKey {
    /// The key of file `id` of `tenant`. Tenant ids are `[A-Za-z0-9_-]{1,64}`; ids are UUIDs.
    pub fn new(tenant: &TenantId, id: &str) -> Result<ObjectKey, FilesError> {
        let t = tenant.as_str();
        let tenant_ok = (1..=64).contains(&t.len())
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !tenant_ok {
            return Err(FilesError::InvalidKey(format!(
                "tenant id {t:?} cannot name a folder"
            )));
        }
        let uuid = uuid_like(id);
        if !uuid {
            return Err(FilesError::InvalidKey(format!(
                "file id {id:?} is not a UUID"
            )));
        }
        Ok(ObjectKey {
            tenant: t.to_string(),
            id: id.to_string(),
        })
    }

    /// Reads a key back from a row, checking it is one this module made.
    pub fn parse(tenant: &TenantId, key: &str) -> Result<ObjectKey, FilesError> {
        match key.split_once('/') {
            Some((t, id)) if t == tenant.as_str() => ObjectKey::new(tenant, id),
            _ => Err(FilesError::InvalidKey(format!(
                "{key:?} is not a key of tenant {tenant}"
            ))),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn path(&self) -> Path {
        Path::from_iter([self.tenant.as_str(), self.id.as_str()])
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.tenant, self.id)
    }
}

/// `8-4-4-4-12` lower-case hex, as `faro_store::new_id` makes them.
fn uuid_like(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// What `put` stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub key: ObjectKey,
    /// The sanitised display name.
    pub name: String,
    /// Sniffed from the bytes.
    pub content_type: &'static str,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// The storage backend. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FileStore(Arc<Backend>);

#[derive(Debug)]
enum Backend {
    /// Made on first use: the directory is created (0700) only when a file is first stored
    /// or read, so a server that never stores a file leaves no folder behind.
    Local {
        root: PathBuf,
        store: OnceCell<Arc<dyn ObjectStore>>,
    },
    S3 {
        bucket: String,
        store: Arc<dyn ObjectStore>,
    },
}

impl FileStore {
    /// The configured backend. Builds the S3 client (no network traffic yet).
    pub fn new(cfg: &BackendConfig) -> Result<FileStore, FilesError> {
        Ok(FileStore(Arc::new(match cfg {
            BackendConfig::Local { root } => Backend::Local {
                root: root.clone(),
                store: OnceCell::new(),
            },
            BackendConfig::S3(s3) => Backend::S3 {
                bucket: s3.bucket.clone(),
                store: s3_store(s3)?,
            },
        })))
    }

    /// `local` or `s3`, for logs.
    pub fn kind(&self) -> &'static str {
        match &*self.0 {
            Backend::Local { .. } => "local",
            Backend::S3 { .. } => "s3",
        }
    }

    /// Where a key's file is on the local disk (`None` for S3): for tests and operators.
    pub fn local_path(&self, key: &ObjectKey) -> Option<PathBuf> {
        match &*self.0 {
            Backend::Local { root, .. } => Some(root.join(&key.tenant).join(&key.id)),
            Backend::S3 { .. } => None,
        }
    }

    /// The S3 bucket (`None` for the local disk).
    pub fn bucket(&self) -> Option<&str> {
        match &*self.0 {
            Backend::Local { .. } => None,
            Backend::S3 { bucket, .. } => Some(bucket),
        }
    }

    async fn store(&self) -> Result<&Arc<dyn ObjectStore>, FilesError> {
        match &*self.0 {
            Backend::S3 { store, .. } => Ok(store),
            Backend::Local { root, store } => {
                store
                    .get_or_try_init(|| async {
                        let root = root.clone();
                        tokio::task::spawn_blocking(move || local_store(&root))
                            .await
                            .map_err(|e| FilesError::Backend(e.to_string()))?
                    })
                    .await
            }
        }
    }

    /// Stores `body` as a new file of `tenant`, streaming: the size limit is enforced as the
    /// bytes arrive (past `max_bytes` the upload is aborted and nothing is kept), the SHA-256
    /// and the content type are computed on the way. `body` is borrowed so that a caller can
    /// drain what is left of a refused request.
    pub async fn put<S>(
        &self,
        tenant: &TenantId,
        body: &mut S,
        declared_name: &str,
        max_bytes: u64,
    ) -> Result<StoredObject, FilesError>
    where
        S: Stream<Item = Result<Bytes, FilesError>> + Unpin + Send,
    {
        let key = ObjectKey::new(tenant, &faro_store::new_id())?;
        let path = key.path();
        let store = self.store().await?;
        let mut sniffer = Sniffer::default();
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut buffered: Vec<Bytes> = Vec::new();
        let mut buffered_len = 0usize;
        let mut writer: Option<WriteMultipart> = None;
        let outcome: Result<(), FilesError> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                if size > max_bytes {
                    return Err(FilesError::TooLarge { limit: max_bytes });
                }
                hasher.update(&chunk);
                sniffer.feed(&chunk);
                match writer.as_mut() {
                    Some(w) => {
                        w.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                        w.put(chunk);
                    }
                    None => {
                        buffered_len += chunk.len();
                        buffered.push(chunk);
                        if buffered_len >= PART_BYTES {
                            let upload = store.put_multipart(&path).await?;
                            let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
                            for b in buffered.drain(..) {
                                w.put(b);
                            }
                            writer = Some(w);
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        match (outcome, writer) {
            (Ok(()), Some(w)) => {
                w.finish().await?;
            }
            (Ok(()), None) => {
                store.put(&path, PutPayload::from_iter(buffered)).await?;
            }
            (Err(e), Some(w)) => {
                if let Err(abort) = w.abort().await {
                    tracing::warn!(key = %key, error = %abort, "aborting a refused upload failed");
                }
                return Err(e);
            }
            (Err(e), None) => return Err(e),
        }
        Ok(StoredObject {
            content_type: sniffer.finish(declared_name),
            name: sniff::display_name(declared_name),
            key,
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    /// Stores bytes already in memory (exports, generated images) with the same checks.
    pub async fn put_bytes(
        &self,
        tenant: &TenantId,
        bytes: Bytes,
        declared_name: &str,
        max_bytes: u64,
    ) -> Result<StoredObject, FilesError> {
        let mut body = futures_util::stream::iter([Ok(bytes)]);
        self.put(tenant, &mut body, declared_name, max_bytes).await
    }

    /// The object's bytes as a stream. A missing object is `NotFound`.
    pub async fn get(&self, key: &ObjectKey) -> Result<ByteStream, FilesError> {
        let result = self.store().await?.get(&key.path()).await?;
        Ok(result.into_stream().map_err(FilesError::from).boxed())
    }

    /// The object's size, or `None` when there is no such object.
    pub async fn head(&self, key: &ObjectKey) -> Result<Option<u64>, FilesError> {
        match self.store().await?.head(&key.path()).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes every object of `tenant` (its key prefix); the number deleted. For a purged
    /// tenant, whose rows are gone already: what is left to find is the backend's listing.
    pub async fn delete_tenant(&self, tenant: &TenantId) -> Result<u64, FilesError> {
        let store = self.store().await?;
        let prefix = Path::from(tenant.as_str());
        let keys: Vec<Path> = store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await?;
        let mut deleted = 0;
        for key in keys {
            match store.delete(&key).await {
                Ok(()) => deleted += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(deleted)
    }

    /// Deletes the object; deleting one that is not there succeeds (retries are safe).
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), FilesError> {
        match self.store().await?.delete(&key.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The local directory as an object store: created 0700 when missing; files written to a
/// staging file, fsynced and renamed into place, so a crash never leaves half a file.
fn local_store(root: &FsPath) -> Result<Arc<dyn ObjectStore>, FilesError> {
    if !root.is_dir() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(root).map_err(|e| {
            FilesError::Backend(format!("cannot create FILES_DIR {}: {e}", root.display()))
        })?;
    }
    let store = object_store::local::LocalFileSystem::new_with_prefix(root)
        .map_err(|e| FilesError::Backend(format!("FILES_DIR {}: {e}", root.display())))?
        .with_fsync(true);
    Ok(Arc::new(store))
}

fn s3_store(cfg: &S3Config) -> Result<Arc<dyn ObjectStore>, FilesError> {
    let retry = object_store::RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(15),
        ..Default::default()
    };
    let mut builder = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(&cfg.bucket)
        .with_region(&cfg.region)
        .with_allow_http(cfg.allow_http)
        .with_http_connector(crate::http::HyperConnector {
            allow_http: cfg.allow_http,
        })
        .with_retry(retry);
    if let Some(endpoint) = &cfg.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let (Some(id), Some(secret)) = (&cfg.access_key_id, &cfg.secret_access_key) {
        builder = builder
            .with_access_key_id(id)
            .with_secret_access_key(secret);
    }
    let store = builder
        .build()
        .map_err(|e| FilesError::Backend(format!("S3 configuration: {e}")))?;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_tenant_and_uuid_only() {
        let t = TenantId::new("acme_1");
        let id = faro_store::new_id();
        let key = ObjectKey::new(&t, &id).expect("valid");
        assert_eq!(key.to_string(), format!("acme_1/{id}"));
        assert_eq!(ObjectKey::parse(&t, &key.to_string()).ok(), Some(key));
        for bad_tenant in ["", "..", "a/b", "a.b", "ü", &"x".repeat(65)] {
            assert!(
                ObjectKey::new(&TenantId::new(bad_tenant), &id).is_err(),
                "{bad_tenant}"
            );
        }
        for bad_id in [
            "..",
            "../../etc/passwd",
            "",
            &id.to_uppercase(),
            &format!("{id}/x"),
        ] {
            assert!(ObjectKey::new(&t, bad_id).is_err(), "{bad_id}");
        }
        // A row's key must be of the tenant asking for it.
        assert!(ObjectKey::parse(&TenantId::new("other"), &format!("acme_1/{id}")).is_err());
        assert!(ObjectKey::parse(&t, &format!("acme_1/../{id}")).is_err());
    }

    fn temp_root(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "faro-files-{name}-{}-{}",
            std::process::id(),
            faro_store::new_id()
        ))
    }

    fn chunks(bytes: &[u8], size: usize) -> impl Stream<Item = Result<Bytes, FilesError>> + Unpin {
        let parts: Vec<_> = bytes
            .chunks(size)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures_util::stream::iter(parts)
    }

    #[tokio::test]
    async fn local_round_trip_streams_hashes_and_deletes() {
        let root = temp_root("rt");
        let store = FileStore::new(&BackendConfig::Local { root: root.clone() }).expect("store");
        assert!(!root.exists(), "nothing is created before the first file");
        let t = TenantId::new("default");
        // Larger than one part: the multipart path.
        let data: Vec<u8> = (0..PART_BYTES + 123_457).map(|i| (i % 251) as u8).collect();
        let stored = store
            .put(
                &t,
                &mut chunks(&data, 64 * 1024),
                "big.bin",
                10 * 1024 * 1024,
            )
            .await
            .expect("put");
        assert_eq!(stored.size, data.len() as u64);
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(&data)));
        assert_eq!(stored.content_type, sniff::OCTET_STREAM);
        let path = store.local_path(&stored.key).expect("local");
        assert_eq!(std::fs::read(&path).expect("file"), data);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&root).expect("root").permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let mut back = Vec::new();
        let mut stream = store.get(&stored.key).await.expect("get");
        while let Some(c) = stream.next().await {
            back.extend_from_slice(&c.expect("chunk"));
        }
        assert_eq!(back, data);
        assert_eq!(
            store.head(&stored.key).await.expect("head"),
            Some(data.len() as u64)
        );
        store.delete(&stored.key).await.expect("delete");
        assert!(!path.exists());
        assert_eq!(store.head(&stored.key).await.expect("head"), None);
        store
            .delete(&stored.key)
            .await
            .expect("deleting twice is fine");
        assert!(matches!(
            store.get(&stored.key).await,
            Err(FilesError::NotFound)
        ));
        let _ = std::fs::remove_dir_all(root);
    }

    #[tokio::test]
    async fn over_the_limit_nothing_is_kept() {
        let root = temp_root("limit");
        let store = FileStore::new(&BackendConfig::Local { root: root.clone() }).expect("store");
        let t = TenantId::new("default");
        for (len, limit) in [(1_001, 1_000), (PART_BYTES + 10, PART_BYTES + 9)] {
            let data = vec![b'a'; len];
            let r = store
                .put(&t, &mut chunks(&data, 100_000), "a.txt", limit as u64)
                .await;
            assert!(matches!(r, Err(FilesError::TooLarge { limit: l }) if l == limit as u64));
        }
        // Exactly the limit is fine.
        let ok = store
            .put_bytes(&t, Bytes::from_static(b"12345"), "a.txt", 5)
            .await
            .expect("at the limit");
        assert_eq!(ok.content_type, sniff::TEXT_PLAIN);
        // Only that file is in the tenant's folder: no staging files are left behind.
        let left: Vec<_> = std::fs::read_dir(root.join("default"))
            .expect("tenant dir")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(left, [std::ffi::OsString::from(ok.key.id())]);
        let _ = std::fs::remove_dir_all(root);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn s3_round_trip_and_refusals_against_a_real_server() {
        let server = crate::testing::S3Server::start("faro-unit");
        let store = FileStore::new(&server.backend()).expect("s3 store");
        assert_eq!(store.bucket(), Some("faro-unit"));
        let t = TenantId::new("default");
        // One PUT, then a multipart upload (two parts).
        let small = store
            .put_bytes(&t, Bytes::from_static(b"%PDF-1.4\n..."), "a.bin", 1 << 20)
            .await
            .expect("small put");
        assert_eq!(small.content_type, "application/pdf");
        let data: Vec<u8> = (0..PART_BYTES + 4_321).map(|i| (i % 253) as u8).collect();
        let big = store
            .put(&t, &mut chunks(&data, 256 * 1024), "big", 8 << 20)
            .await
            .expect("multipart put");
        assert_eq!(
            store.head(&big.key).await.expect("head"),
            Some(data.len() as u64)
        );
        let mut back = Vec::new();
        let mut stream = store.get(&big.key).await.expect("get");
        while let Some(c) = stream.next().await {
            back.extend_from_slice(&c.expect("chunk"));
        }
        assert!(back == data, "the multipart object reads back as written");
        let mut keys = server.keys().await;
        keys.sort();
        let mut expected = vec![small.key.to_string(), big.key.to_string()];
        expected.sort();
        assert_eq!(keys, expected);

        // Over the limit after the multipart upload started: aborted, nothing kept.
        let r = store
            .put(
                &t,
                &mut chunks(&data, 256 * 1024),
                "big",
                PART_BYTES as u64 + 1,
            )
            .await;
        assert!(matches!(r, Err(FilesError::TooLarge { .. })));
        assert_eq!(server.keys().await.len(), 2);
        assert_eq!(server.pending_uploads().await, 0);

        store.delete(&big.key).await.expect("delete");
        store.delete(&big.key).await.expect("again");
        assert_eq!(store.head(&big.key).await.expect("head"), None);
        assert_eq!(server.keys().await, [small.key.to_string()]);
        assert!(matches!(
            store.get(&big.key).await,
            Err(FilesError::NotFound)
        ));
    }
}
