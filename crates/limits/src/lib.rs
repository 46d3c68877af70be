//! Rate limits for Faro.
//!
//! One process keeps its limits in memory ([`Limiter::local`]); several stateless instances
//! must agree on one budget per client, so they keep it in a shared Redis
//! ([`Limiter::redis`]). Both run the same algorithm ([`gcra`]), so switching deployment shape
//! does not change what clients observe.

mod deferred;
pub mod gcra;
mod local;
mod quota;
mod redis_store;

use std::sync::Arc;
use std::time::Duration;

pub use quota::{Quota, QuotaError, parse_quota};

use local::LocalStore;
use redis_store::RedisStore;

/// The outcome of one check, carrying what the HTTP layer needs for the `RateLimit-*` and
/// `Retry-After` headers so clients can pace themselves instead of probing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Requests that would still be allowed right now, after this one.
    pub remaining: u32,
    /// Until the bucket is full again (`RateLimit-Reset`).
    pub reset_after: Duration,
    /// Set only on refusal: the exact wait after which one request is allowed. Sub-second, so
    /// the caller rounds it up for `Retry-After`.
    pub retry_after: Option<Duration>,
}

/// Why a shared limiter could not start. Deliberately fatal at start-up (unlike failures at
/// runtime, which let requests through): a misconfigured Redis should stop a deploy, not
/// silently leave every instance unlimited.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("invalid Redis URL {url:?} for rate limits: {source}")]
    InvalidUrl {
        url: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("cannot connect to Redis at {url} for rate limits: {source}")]
    Connect {
        url: String,
        #[source]
        source: redis::RedisError,
    },
    #[error(
        "Redis at {url} refused the rate-limit script (its user needs EVALSHA, SCRIPT LOAD, TIME, GET and SET on a writable primary): {source}"
    )]
    Script {
        url: String,
        #[source]
        source: redis::RedisError,
    },
    #[error(
        "Redis at {url} did not answer within {after:?}; rate limits need it reachable at start-up"
    )]
    Timeout { url: String, after: Duration },
}

/// The key namespace in Redis; see [`Limiter::redis_with_prefix`].
pub const DEFAULT_PREFIX: &str = "faro:rl";

/// Checks requests against quotas. Clones share state, so one limiter built at start-up can be
/// handed to every handler.
#[derive(Clone)]
pub struct Limiter {
    backend: Arc<Backend>,
}

enum Backend {
    Local(LocalStore),
    // Boxed: the Redis store (connection, counters, the deferred box) is far larger.
    Redis(Box<RedisStore>),
}

impl Limiter {
    /// Limits held in this process: right for a single instance, wrong for several (each would
    /// grant the full quota). Memory is bounded by the clients active within a period; entries
    /// of clients whose bucket has refilled are swept.
    pub fn local() -> Limiter {
        Limiter {
            backend: Arc::new(Backend::Local(LocalStore::new())),
        }
    }

    /// Limits shared through Redis under keys `faro:rl:{bucket}:{key}`.
    ///
    /// Fails within a few seconds if Redis is unreachable or refuses the script, so a broken
    /// deployment is noticed at boot; later outages fail open instead (see [`Limiter::check`]).
    pub async fn redis(url: &str) -> Result<Limiter, LimitError> {
        Limiter::redis_with_prefix(url, DEFAULT_PREFIX).await
    }

    /// [`Limiter::redis`] with keys `{prefix}:{bucket}:{key}`, so several deployments (or test
    /// runs) can share one Redis without sharing budgets. Instances share a budget exactly when
    /// they use the same Redis and prefix.
    pub async fn redis_with_prefix(url: &str, prefix: &str) -> Result<Limiter, LimitError> {
        let store = RedisStore::connect(url, prefix).await?;
        let backend = Arc::new(Backend::Redis(Box::new(store)));
        tokio::spawn(flush_penalty_counts(Arc::downgrade(&backend)));
        Ok(Limiter { backend })
    }

    /// Spends one request of `quota` for `key` (a hashed client id) in `bucket` (the endpoint
    /// family, e.g. `"starts"`), unless it is refused.
    ///
    /// Never fails: if Redis errors or takes longer than a few hundred milliseconds, the request
    /// is allowed, because the quiz staying up matters more than the limit. Such failures are
    /// logged (at most one warning per ten seconds) and counted in [`Limiter::redis_errors`];
    /// after one, Redis is skipped for a second so an outage does not slow every request.
    pub async fn check(&self, bucket: &str, key: &str, quota: Quota) -> Decision {
        match &*self.backend {
            Backend::Local(store) => store.check(bucket, key, quota),
            Backend::Redis(store) => store.check(bucket, key, quota).await,
        }
    }

    /// [`Limiter::check`] with a penalty box: the first refusal refuses every request of `key`
    /// in `bucket` for `penalty`, however the client behaves meanwhile (see
    /// [`gcra::check_boxed`]). Fails open like [`Limiter::check`].
    pub async fn check_boxed(
        &self,
        bucket: &str,
        key: &str,
        quota: Quota,
        penalty: Duration,
    ) -> Decision {
        let penalty_us = u64::try_from(penalty.as_micros()).unwrap_or(u64::MAX);
        match &*self.backend {
            Backend::Local(store) => store.check_boxed(bucket, key, quota, penalty_us),
            Backend::Redis(store) => store.deferred.check(bucket, key, quota, penalty_us),
        }
    }

    /// For logs and metrics labels.
    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            Backend::Local(_) => "local",
            Backend::Redis(_) => "redis",
        }
    }

    /// Failed or timed-out Redis calls since start (always 0 for the local backend), for a
    /// metrics counter: the warnings are rate-limited, this is not.
    pub fn redis_errors(&self) -> u64 {
        match &*self.backend {
            Backend::Local(_) => 0,
            Backend::Redis(store) => store.redis_errors(),
        }
    }

    /// Checks allowed without consulting Redis (after an error, or while skipping Redis after
    /// one): how many requests went unlimited. Always 0 for the local backend.
    pub fn failed_open(&self) -> u64 {
        match &*self.backend {
            Backend::Local(_) => 0,
            Backend::Redis(store) => store.failed_open(),
        }
    }

    /// Clients currently tracked in memory, for a gauge that shows the sweeping keeps up;
    /// `None` for Redis, whose keys expire on their own.
    pub fn tracked_keys(&self) -> Option<usize> {
        match &*self.backend {
            Backend::Local(store) => Some(store.len()),
            Backend::Redis(_) => None,
        }
    }
}

/// Sends the penalty box's counts to Redis every [`deferred::FLUSH`] until the limiter is
/// dropped (see [`deferred`]). Up to 64 calls at a time on the multiplexed connection.
async fn flush_penalty_counts(backend: std::sync::Weak<Backend>) {
    let mut tick = tokio::time::interval(deferred::FLUSH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(backend) = backend.upgrade() else {
            return;
        };
        let Backend::Redis(store) = &*backend else {
            return;
        };
        let pending = store.deferred.take();
        for chunk in pending.chunks(64) {
            let checks = chunk.iter().map(|((bucket, key), p)| async move {
                let d = store
                    .check_weighted(bucket, key, p.quota, p.penalty_us, p.count)
                    .await;
                ((bucket, key), d)
            });
            for ((bucket, key), d) in futures_util::future::join_all(checks).await {
                if let (false, Some(rest)) = (d.allowed, d.retry_after) {
                    store.deferred.boxed((bucket.clone(), key.clone()), rest);
                }
            }
        }
    }
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Limiter");
        d.field("backend", &self.backend_name());
        if let Backend::Redis(store) = &*self.backend {
            d.field("prefix", &store.prefix());
        }
        d.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}

    #[test]
    fn limiter_and_its_checks_can_cross_threads() {
        let limiter = Limiter::local();
        assert_send_sync(&limiter);
        let quota = Quota {
            count: 1,
            period: Duration::from_secs(1),
        };
        // Handlers await `check` inside spawned tasks; its future must be `Send`.
        fn assert_send<T: Send>(_: T) {}
        assert_send(limiter.check("b", "k", quota));
    }
}
