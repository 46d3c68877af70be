//! API keys as credentials: `Authorization: Bearer faro_…`. A key belongs to one tenant and
//! carries scopes per module (`quiz:read`, `quiz:write`); it reaches only the API routes of
//! the modules it names (the route's module is a request extension set at mount time,
//! [`RouteModule`]) and never the platform's own staff routes (keys, staff, audit, console).
//!
//! Checking one must cost next to nothing per request (the goal: under 50 µs over an anonymous
//! read), so checked keys are kept in memory for [`KEY_CACHE_TTL`]: a revocation made on this
//! instance applies at once, on another instance within that time. The last-used time is
//! written behind the request, at most once a [`TOUCH_EVERY_SECS`] per key and instance.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use faro_store::api_keys::{ApiKeyRow, api_key_by_hash_any_tenant, touch_api_key};
use faro_store::{Db, StoreError};

use crate::ttl::TtlMap;

/// Every key starts with this, so a bearer credential is told apart from a JWT at a glance
/// (and secret scanners recognise a leaked one).
pub const KEY_PREFIX: &str = "faro_";
/// How long a checked key (or an unknown one) is believed without asking the database.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(10);
/// How often a key's `last_used_at` is written, at most, per instance.
pub const TOUCH_EVERY_SECS: i64 = 60;
/// Beyond this many cached keys the cache starts afresh (a flood of made-up keys cannot grow it).
const MAX_CACHED: usize = 10_000;

/// The module whose API a route belongs to: set on every module's routes when the binary
/// mounts them, read by the extractors to check an API key's scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteModule(pub &'static str);

/// What a route needs of a key: reading needs `module:read` (or `:write`), writing `module:write`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Whether `scopes` allow `access` to `module`'s API.
pub fn allows(scopes: &[String], module: &str, access: Access) -> bool {
    scopes.iter().any(|s| match s.split_once(':') {
        Some((m, "write")) => m == module,
        Some((m, "read")) => m == module && access == Access::Read,
        _ => false,
    })
}

/// Why a presented key does not count.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyRefusal {
    Unknown,
    Revoked,
    Expired,
}

struct Cached {
    key: Option<Arc<ApiKeyRow>>,
    /// When this instance last wrote the key's `last_used_at` (unix seconds).
    touched: AtomicI64,
}

/// Checked keys by hash, kept for [`KEY_CACHE_TTL`].
pub struct ApiKeyCache {
    map: TtlMap<String, Arc<Cached>>,
}

impl Default for ApiKeyCache {
    fn default() -> Self {
        ApiKeyCache {
            map: TtlMap::new(MAX_CACHED),
        }
    }
}

impl ApiKeyCache {
    /// The live key behind `key` (the whole `faro_…` string) at `now` (unix seconds).
    pub async fn check(
        &self,
        db: &Db,
        key: &str,
        now: i64,
    ) -> Result<Result<Arc<ApiKeyRow>, KeyRefusal>, StoreError> {
        let hash = faro_auth::secret::hash(key);
        let entry = match self.map.fresh(&hash, KEY_CACHE_TTL) {
            Some(c) => c,
            None => {
                let row = api_key_by_hash_any_tenant(db, &hash).await?;
                let entry = Arc::new(Cached {
                    touched: AtomicI64::new(row.as_ref().and_then(|r| r.last_used_at).unwrap_or(0)),
                    key: row.map(Arc::new),
                });
                self.map.insert(hash, entry.clone());
                entry
            }
        };
        let Some(row) = entry.key.clone() else {
            return Ok(Err(KeyRefusal::Unknown));
        };
        if row.revoked_at.is_some() {
            return Ok(Err(KeyRefusal::Revoked));
        }
        if row.expires_at.is_some_and(|at| at <= now) {
            return Ok(Err(KeyRefusal::Expired));
        }
        let last = entry.touched.load(Ordering::Relaxed);
        if now - last >= TOUCH_EVERY_SECS
            && entry
                .touched
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let db = db.clone();
            let id = row.id.clone();
            tokio::spawn(async move {
                if let Err(e) = touch_api_key(&db, &id, now).await {
                    tracing::debug!(error = %e, "api key last use not recorded");
                }
            });
        }
        Ok(Ok(row))
    }

    /// Forgets the key `id` on this instance (after a revocation here).
    pub fn forget(&self, id: &str) {
        self.map
            .retain(|_, c| c.key.as_ref().is_none_or(|k| k.id != id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn write_implies_read_and_modules_do_not_mix() {
        let s = scopes(&["quiz:write", "webhooks:read"]);
        assert!(allows(&s, "quiz", Access::Read));
        assert!(allows(&s, "quiz", Access::Write));
        assert!(allows(&s, "webhooks", Access::Read));
        assert!(!allows(&s, "webhooks", Access::Write));
        assert!(!allows(&s, "files", Access::Read));
        assert!(!allows(&scopes(&["quiz"]), "quiz", Access::Read));
        assert!(!allows(&scopes(&["quiz:admin"]), "quiz", Access::Read));
        assert!(!allows(&[], "quiz", Access::Read));
    }
}
