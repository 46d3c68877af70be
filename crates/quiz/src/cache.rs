//! In-process caches that make the visitor's reads free of database work where that is safe.
//!
//! - Published versions are frozen, so their parsed definitions are cached for good.
//! - The catalog (which tests are served, at which version) is reloaded when older than the
//!   configured TTL (1 s by default) and dropped at once when this instance changes it. Other
//!   instances see a publish or a switch-off within that TTL: the documented bound.

use faro_store::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use faro_quiz_domain::Definition;
use faro_store::{Db, StoreError};

use crate::store;

/// A published version, parsed once.
#[derive(Debug)]
pub struct Version {
    pub id: String,
    pub test_id: String,
    pub version: i64,
    pub def: Definition,
}

/// One servable test in the catalog.
#[derive(Clone, Debug)]
pub struct Entry {
    pub test_id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub lang: String,
    pub tags: Vec<String>,
    pub estimated_minutes: i64,
    pub version: i64,
    pub version_id: String,
}

#[derive(Debug)]
pub struct Catalog {
    loaded: Instant,
    pub entries: Vec<Entry>,
    by_slug: HashMap<String, usize>,
}

impl Catalog {
    pub fn get(&self, slug: &str) -> Option<&Entry> {
        self.by_slug.get(slug).and_then(|i| self.entries.get(*i))
    }
}

/// Bound on cached definitions; past it the map is cleared (versions reload on demand).
const MAX_VERSIONS: usize = 1024;

/// Results behind share links never change, so a viral link costs no query. A result whose
/// test was deleted on another instance disappears from this one's cache within this time.
pub const RESULT_TTL: Duration = Duration::from_secs(60);
/// About 2 KB each: a bounded few megabytes at most.
const MAX_RESULTS: usize = 2048;

/// A shared result as `visit::load_shared` returns it: the view and its version id.
pub type CachedResult = Arc<(crate::views::SharedResult, String)>;

pub struct Cache {
    ttl: Duration,
    catalogs: RwLock<HashMap<TenantId, Arc<Catalog>>>,
    versions: RwLock<HashMap<String, Arc<Version>>>,
    results: RwLock<HashMap<String, (Instant, CachedResult)>>,
}

impl Cache {
    pub fn new(ttl: Duration) -> Self {
        Cache {
            ttl,
            catalogs: RwLock::new(HashMap::new()),
            versions: RwLock::new(HashMap::new()),
            results: RwLock::new(HashMap::new()),
        }
    }

    pub async fn catalog(&self, db: &Db, tenant: &TenantId) -> Result<Arc<Catalog>, StoreError> {
        if let Some(c) = self
            .catalogs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
            && c.loaded.elapsed() < self.ttl
        {
            return Ok(c.clone());
        }
        let rows = store::served_tests(db, tenant).await?;
        let entries: Vec<Entry> = rows
            .into_iter()
            .filter_map(|t| {
                Some(Entry {
                    version: t.published_version?,
                    version_id: t.published_version_id?,
                    test_id: t.id,
                    slug: t.slug,
                    title: t.title,
                    description: t.description,
                    lang: t.lang,
                    tags: t.tags,
                    estimated_minutes: t.estimated_minutes,
                })
            })
            .collect();
        let by_slug = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.slug.clone(), i))
            .collect();
        let catalog = Arc::new(Catalog {
            loaded: Instant::now(),
            entries,
            by_slug,
        });
        self.catalogs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant.clone(), catalog.clone());
        Ok(catalog)
    }

    /// A cached shared result, keyed by tenant and token, if younger than `RESULT_TTL`.
    pub fn result(&self, key: &str) -> Option<CachedResult> {
        let map = self.results.read().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < RESULT_TTL)
            .map(|(_, r)| r.clone())
    }

    pub fn put_result(&self, key: String, result: CachedResult) {
        let mut map = self.results.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_RESULTS {
            map.retain(|_, (at, _)| at.elapsed() < RESULT_TTL);
            if map.len() >= MAX_RESULTS {
                map.clear();
            }
        }
        map.insert(key, (Instant::now(), result));
    }

    /// Called after this instance deletes a test: its share links must stop resolving here.
    pub fn forget_results(&self) {
        self.results
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Called after this instance publishes, switches or deletes a test.
    pub fn invalidate_catalog(&self, tenant: &TenantId) {
        self.catalogs
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(tenant);
    }

    /// The parsed definition of a published version.
    pub async fn version(
        &self,
        db: &Db,
        tenant: &TenantId,
        version_id: &str,
    ) -> Result<Option<Arc<Version>>, StoreError> {
        // Keyed by tenant too: a version id from one tenant must never resolve in another.
        let key = format!("{tenant}/{version_id}");
        if let Some(v) = self
            .versions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(Some(v.clone()));
        }
        let Some(row) = store::get_version_by_id(db, tenant, version_id).await? else {
            return Ok(None);
        };
        let def = crate::store::definition_from_storage(&row.definition)?;
        let v = Arc::new(Version {
            id: row.id,
            test_id: row.test_id,
            version: row.version,
            def,
        });
        // Only frozen versions may be cached: a draft's definition still changes.
        if row.status == store::STATUS_PUBLISHED {
            let mut map = self.versions.write().unwrap_or_else(|p| p.into_inner());
            if map.len() >= MAX_VERSIONS {
                map.clear();
            }
            map.insert(key, v.clone());
        }
        Ok(Some(v))
    }
}
