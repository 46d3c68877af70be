//! Limiter state in Redis, shared by every instance that points at the same server and prefix.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncConnectionConfig, Client, Script};

use crate::gcra::{self, Params};
use crate::{Decision, LimitError, Quota};

/// Bounds the whole start-up probe, so a black-holed address fails the boot in seconds instead
/// of hanging it.
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(3);
/// A request waits at most this long for Redis before it is let through; the script itself
/// takes well under a millisecond, so anything slower is an outage, not load.
const CHECK_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failure, requests skip Redis for this long, then a single request probes it while
/// the rest keep skipping: an outage then costs one slow request per interval rather than
/// `CHECK_TIMEOUT` on every request, while the connection manager reconnects in the background.
const BREAKER_COOLDOWN_US: u64 = 1_000_000;
/// At most one warning per interval: an outage under load would otherwise log per request.
const LOG_INTERVAL_US: u64 = 10_000_000;

const SCRIPT: &str = include_str!("gcra.lua");

pub(crate) struct RedisStore {
    /// The penalty box, decided in memory and counted here in the background.
    pub(crate) deferred: crate::deferred::DeferredBox,
    manager: ConnectionManager,
    script: Script,
    prefix: String,
    epoch: Instant,
    /// 0 while Redis is healthy; after a failure, the monotonic µs (since `epoch`) until which
    /// Redis is not tried at all.
    breaker_until_us: AtomicU64,
    /// Set while the one request allowed to probe a failed Redis is in flight.
    probing: AtomicBool,
    errors: AtomicU64,
    failed_open: AtomicU64,
    errors_since_log: AtomicU64,
    /// Monotonic µs + 1 of the last warning; 0 = never warned.
    last_log_us: AtomicU64,
    degraded: AtomicBool,
}

/// What one script call spends: `weight` requests, boxing the client for `penalty_us` when
/// they do not fit (no box with 0).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spend {
    pub(crate) penalty_us: u64,
    pub(crate) weight: u32,
}

impl Spend {
    const ONE: Spend = Spend {
        penalty_us: 0,
        weight: 1,
    };
}

#[derive(Debug)]
enum CheckError {
    Redis(redis::RedisError),
    Timeout,
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::Redis(e) => e.fmt(f),
            CheckError::Timeout => write!(f, "no answer within {CHECK_TIMEOUT:?}"),
        }
    }
}

impl RedisStore {
    pub(crate) async fn connect(url: &str, prefix: &str) -> Result<Self, LimitError> {
        let shown = redact(url);
        let client = Client::open(url).map_err(|source| LimitError::InvalidUrl {
            url: shown.clone(),
            source,
        })?;
        let script = Script::new(SCRIPT);
        let prefix = prefix.to_owned();

        // One direct attempt first: the connection manager would retry a refused connection
        // with back-off for several seconds, and start-up should fail at once instead.
        let probe = async {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(STARTUP_TIMEOUT))
                .set_response_timeout(Some(STARTUP_TIMEOUT));
            let mut con = client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(|source| LimitError::Connect {
                    url: shown.clone(),
                    source,
                })?;
            // Running the real script once proves what runtime depends on (EVALSHA, TIME, GET,
            // SET permitted by ACLs, a writable primary) while failing loudly is still possible;
            // at runtime the same problem would only show as every request failing open.
            let probe_key = format!("{prefix}:__startup_probe__");
            let probe = Params {
                interval_us: 1,
                tolerance_us: 1,
            };
            invoke(&script, &mut con, &probe_key, probe, Spend::ONE, None)
                .await
                .map_err(|source| LimitError::Script {
                    url: shown.clone(),
                    source,
                })?;
            let manager_config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(1)))
                .set_response_timeout(Some(CHECK_TIMEOUT))
                .set_max_delay(Duration::from_secs(2));
            ConnectionManager::new_with_config(client.clone(), manager_config)
                .await
                .map_err(|source| LimitError::Connect {
                    url: shown.clone(),
                    source,
                })
        };
        let manager = tokio::time::timeout(STARTUP_TIMEOUT, probe)
            .await
            .map_err(|_| LimitError::Timeout {
                url: shown.clone(),
                after: STARTUP_TIMEOUT,
            })??;

        tracing::info!(url = %shown, prefix = %prefix, "rate limits shared through Redis");
        Ok(RedisStore {
            deferred: crate::deferred::DeferredBox::new(),
            manager,
            script,
            prefix,
            epoch: Instant::now(),
            breaker_until_us: AtomicU64::new(0),
            probing: AtomicBool::new(false),
            errors: AtomicU64::new(0),
            failed_open: AtomicU64::new(0),
            errors_since_log: AtomicU64::new(0),
            last_log_us: AtomicU64::new(0),
            degraded: AtomicBool::new(false),
        })
    }

    pub(crate) async fn check(&self, bucket: &str, key: &str, quota: Quota) -> Decision {
        self.check_weighted(bucket, key, quota, 0, 1).await
    }

    /// [`crate::gcra::check_boxed_weighted`] through the script, with the box's end under
    /// `<key>:box` (no box with `penalty_us` 0).
    pub(crate) async fn check_weighted(
        &self,
        bucket: &str,
        key: &str,
        quota: Quota,
        penalty_us: u64,
        weight: u32,
    ) -> Decision {
        let Some(params) = gcra::params(quota) else {
            return gcra::check(None, 0, quota).1;
        };
        let now_us = self.now_us();
        let tripped_until = self.breaker_until_us.load(Ordering::Relaxed);
        let _probe = if tripped_until == 0 {
            None
        } else if now_us < tripped_until {
            return self.fail_open(quota);
        } else {
            match Probe::claim(&self.probing) {
                Some(probe) => Some(probe),
                None => return self.fail_open(quota),
            }
        };
        match self
            .eval(
                bucket,
                key,
                quota,
                params,
                Spend { penalty_us, weight },
                None,
            )
            .await
        {
            Ok(decision) => {
                self.breaker_until_us.store(0, Ordering::Relaxed);
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis rate limiting works again; limits are enforced");
                }
                decision
            }
            Err(error) => {
                // Never 0, which means healthy.
                let until = now_us.saturating_add(BREAKER_COOLDOWN_US).max(1);
                self.breaker_until_us.store(until, Ordering::Relaxed);
                self.record_error(&error, now_us);
                self.fail_open(quota)
            }
        }
    }

    /// The Redis key of a client; public to the crate so tests can inspect it.
    pub(crate) fn key(&self, bucket: &str, key: &str) -> String {
        format!("{}:{bucket}:{key}", self.prefix)
    }

    async fn eval(
        &self,
        bucket: &str,
        key: &str,
        quota: Quota,
        params: Params,
        spend: Spend,
        now_us: Option<u64>,
    ) -> Result<Decision, CheckError> {
        let mut con = self.manager.clone();
        let redis_key = self.key(bucket, key);
        let reply = invoke(&self.script, &mut con, &redis_key, params, spend, now_us);
        let (allowed, remaining, reset_us, retry_us) = tokio::time::timeout(CHECK_TIMEOUT, reply)
            .await
            .map_err(|_| CheckError::Timeout)?
            .map_err(CheckError::Redis)?;
        let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
        Ok(Decision {
            allowed: allowed == 1,
            limit: quota.count,
            remaining: u32::try_from(remaining).unwrap_or(0),
            reset_after: micros(reset_us),
            retry_after: (allowed != 1).then(|| micros(retry_us)),
        })
    }

    /// Availability of the quiz matters more than the limit: while Redis is unusable every
    /// request is treated as the first of a full bucket.
    fn fail_open(&self, quota: Quota) -> Decision {
        self.failed_open.fetch_add(1, Ordering::Relaxed);
        gcra::check(None, 0, quota).1
    }

    fn record_error(&self, error: &CheckError, now_us: u64) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.errors_since_log.fetch_add(1, Ordering::Relaxed);
        self.degraded.store(true, Ordering::Relaxed);
        let last = self.last_log_us.load(Ordering::Relaxed);
        let stamp = now_us.saturating_add(1);
        let due = last == 0 || stamp.saturating_sub(last) >= LOG_INTERVAL_US;
        // Only the thread that wins the exchange logs, so a burst of failures yields one line.
        if due
            && self
                .last_log_us
                .compare_exchange(last, stamp, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let failures = self.errors_since_log.swap(0, Ordering::Relaxed);
            tracing::warn!(
                error = %error,
                failures,
                total = self.errors.load(Ordering::Relaxed),
                "Redis rate limiting failed; letting requests through unlimited until it recovers"
            );
        }
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    pub(crate) fn redis_errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub(crate) fn failed_open(&self) -> u64 {
        self.failed_open.load(Ordering::Relaxed)
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// The right to probe a failed Redis, released on drop: a probing request whose handler is
/// cancelled (client gone) must not leave Redis skipped forever.
struct Probe<'a>(&'a AtomicBool);

impl<'a> Probe<'a> {
    fn claim(flag: &'a AtomicBool) -> Option<Self> {
        flag.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Probe(flag))
    }
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

async fn invoke(
    script: &Script,
    con: &mut impl redis::aio::ConnectionLike,
    key: &str,
    params: Params,
    spend: Spend,
    now_us: Option<u64>,
) -> redis::RedisResult<(i64, i64, i64, i64)> {
    let Spend { penalty_us, weight } = spend;
    let mut invocation = script.prepare_invoke();
    invocation.key(key);
    if penalty_us > 0 {
        invocation.key(format!("{key}:box"));
    }
    invocation
        .arg(params.interval_us)
        .arg(params.tolerance_us)
        .arg(penalty_us)
        .arg(weight.max(1));
    if let Some(now) = now_us {
        invocation.arg(now);
    }
    // EVALSHA, falling back to loading the script when the server lost it (restart, failover).
    invocation.invoke_async(con).await
}

/// Keeps passwords out of logs and error messages: drops the user-info and the query string.
pub(crate) fn redact(url: &str) -> String {
    let url = url.split_once('?').map_or(url, |(base, _)| base);
    let Some((scheme, rest)) = url.split_once("://") else {
        return if url.contains('@') {
            "<redacted>".to_owned()
        } else {
            url.to_owned()
        };
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn test_url() -> String {
        std::env::var("FARO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    fn unique(tag: &str) -> String {
        use std::hash::BuildHasher;
        let nonce = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
        format!("faro-test:{tag}:{nonce:016x}")
    }

    #[test]
    fn a_dropped_probe_releases_the_claim() {
        let flag = AtomicBool::new(false);
        let probe = Probe::claim(&flag);
        assert!(probe.is_some());
        assert!(Probe::claim(&flag).is_none(), "only one probe at a time");
        drop(probe);
        assert!(Probe::claim(&flag).is_some());
    }

    #[test]
    fn redacts_credentials() {
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(
            redact("redis://:hunter2@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(redact("rediss://user:p@ss@host/1"), "rediss://***@host/1");
        assert_eq!(redact("redis://host/0?password=x"), "redis://host/0");
        assert_eq!(redact("user:pw@host"), "<redacted>");
        assert_eq!(
            redact("redis+unix:///tmp/r.sock"),
            "redis+unix:///tmp/r.sock"
        );
    }

    fn quota_strategy() -> impl Strategy<Value = Quota> {
        // Periods of a minute and more keep every key's TTL far longer than a test case takes,
        // so real time passing between simulated steps cannot expire a key early.
        (
            1u32..=40,
            prop::sample::select(vec![60u64, 61, 3600, 86_400]),
        )
            .prop_map(|(count, secs)| Quota {
                count,
                period: Duration::from_secs(secs),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The Lua script and the Rust function are two copies of one algorithm; replaying the
        /// same timelines through both proves they have not drifted apart.
        #[test]
        fn lua_script_matches_rust_gcra(
            quota in quota_strategy(),
            gaps in prop::collection::vec(prop_oneof![2 => Just(0u64), 3 => 0u64..5_000_000, 1 => 0u64..100_000_000], 1..40),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let store = RedisStore::connect(&test_url(), &unique("lua")).await.expect("Redis is running");
                let params = gcra::params(quota).expect("valid quota");
                let mut now = 1_700_000_000_000_000u64;
                let mut tat = None;
                for gap in gaps {
                    now += gap;
                    let (next, want) = gcra::check(tat, now, quota);
                    if next.is_some() {
                        tat = next;
                    }
                    let got = store.eval("b", "k", quota, params, Spend::ONE, Some(now)).await.expect("script runs");
                    prop_assert_eq!(got, want, "at {}", now);
                }
                // Simulated days would otherwise leave day-long TTLs in the test server.
                let mut con = store.manager.clone();
                let _: redis::RedisResult<()> =
                    redis::cmd("DEL").arg(store.key("b", "k")).query_async(&mut con).await;
                Ok::<(), TestCaseError>(())
            })?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// The penalty box in Lua and in Rust make the same decisions on the same timelines.
        #[test]
        fn lua_penalty_box_matches_rust(
            quota in quota_strategy(),
            penalty_s in 1u64..900,
            gaps in prop::collection::vec((prop_oneof![3 => Just(0u64), 2 => 0u64..5_000_000, 1 => 0u64..700_000_000], 1u32..8), 1..40),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let store = RedisStore::connect(&test_url(), &unique("box")).await.expect("Redis is running");
                let params = gcra::params(quota).expect("valid quota");
                let penalty = penalty_s * 1_000_000;
                let mut now = 1_700_000_000_000_000u64;
                let (mut tat, mut boxed) = (None, None);
                for (gap, weight) in gaps {
                    now += gap;
                    let (write, want) = gcra::check_boxed_weighted(tat, boxed, now, quota, penalty, weight);
                    tat = write.tat_us.or(tat);
                    boxed = write.boxed_until_us.or(boxed);
                    let got = store.eval("b", "k", quota, params, Spend { penalty_us: penalty, weight }, Some(now)).await.expect("script runs");
                    prop_assert_eq!(got, want, "at {}", now);
                }
                let mut con = store.manager.clone();
                let key = store.key("b", "k");
                let _: redis::RedisResult<()> =
                    redis::cmd("DEL").arg(&key).arg(format!("{key}:box")).query_async(&mut con).await;
                Ok::<(), TestCaseError>(())
            })?;
        }
    }

    #[tokio::test]
    async fn stored_value_is_the_tat_with_a_matching_ttl() {
        let store = RedisStore::connect(&test_url(), &unique("ttl"))
            .await
            .expect("Redis is running");
        let quota = Quota {
            count: 30,
            period: Duration::from_secs(3600),
        };
        let params = gcra::params(quota).expect("valid quota");
        let now = 1_800_000_000_123_456u64;
        store
            .eval("starts", "abc", quota, params, Spend::ONE, Some(now))
            .await
            .expect("script runs");
        let mut con = store.manager.clone();
        let key = store.key("starts", "abc");
        let value: String = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("GET");
        assert_eq!(value, (now + 120_000_000).to_string());
        let pttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("PTTL");
        assert!((119_000..=120_000).contains(&pttl), "{pttl}");
    }
}
