//! The shared limiter against a real Redis (`FARO_TEST_REDIS_URL`, default 127.0.0.1:6379).
//! Every test uses its own random key prefix, so runs and tests never share budgets.

use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use faro_limits::{LimitError, Limiter, Quota, parse_quota};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

fn url() -> String {
    std::env::var("FARO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn prefix(tag: &str) -> String {
    let nonce = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    format!("faro-test:{tag}:{nonce:016x}")
}

fn quota(s: &str) -> Quota {
    parse_quota(s).ok().flatten().expect("valid quota")
}

async fn limiter(prefix: &str) -> Limiter {
    Limiter::redis_with_prefix(&url(), prefix)
        .await
        .expect("Redis must be running for these tests (see crate docs)")
}

async fn redis_con() -> redis::aio::MultiplexedConnection {
    redis::Client::open(url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is running")
}

#[tokio::test]
async fn thirty_an_hour_allows_exactly_thirty_then_asks_for_two_minutes() {
    let prefix = prefix("thirty");
    let limiter = limiter(&prefix).await;
    assert_eq!(limiter.backend_name(), "redis");
    assert_eq!(limiter.tracked_keys(), None);
    let q = quota("30/hour");
    for n in (0..30).rev() {
        let d = limiter.check("starts", "client-a", q).await;
        assert!(d.allowed);
        assert_eq!(d.limit, 30);
        assert_eq!(d.remaining, n);
        assert_eq!(d.retry_after, None);
    }
    for _ in 0..5 {
        let d = limiter.check("starts", "client-a", q).await;
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        let retry = d.retry_after.expect("refusal carries retry_after");
        assert!(
            retry <= Duration::from_secs(120) && retry > Duration::from_secs(115),
            "{retry:?}"
        );
        assert!(
            d.reset_after > Duration::from_secs(3595) && d.reset_after <= Duration::from_secs(3600)
        );
    }
    assert!(limiter.check("starts", "client-b", q).await.allowed);
    assert!(limiter.check("answers", "client-a", q).await.allowed);
    assert_eq!(limiter.redis_errors(), 0);
    assert_eq!(limiter.failed_open(), 0);

    // Keys are `{prefix}:{bucket}:{key}` and expire when the bucket would be full again.
    let mut con = redis_con().await;
    let pttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}:starts:client-a"))
        .query_async(&mut con)
        .await
        .expect("PTTL");
    assert!((3_590_000..=3_600_000).contains(&pttl), "{pttl}");
    let pttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}:starts:client-b"))
        .query_async(&mut con)
        .await
        .expect("PTTL");
    assert!((115_000..=120_000).contains(&pttl), "{pttl}");
}

#[tokio::test]
async fn default_prefix_is_faro_rl() {
    let limiter = Limiter::redis(&url()).await.expect("Redis is running");
    let key = format!("k-{}", prefix("default").replace(':', "-"));
    assert!(
        limiter
            .check("test-bucket", &key, quota("1/second"))
            .await
            .allowed
    );
    let mut con = redis_con().await;
    let exists: bool = redis::cmd("EXISTS")
        .arg(format!("faro:rl:test-bucket:{key}"))
        .query_async(&mut con)
        .await
        .expect("EXISTS");
    assert!(exists);
}

#[tokio::test]
async fn two_instances_share_one_budget() {
    let prefix = prefix("shared");
    let a = limiter(&prefix).await;
    let b = limiter(&prefix).await;
    let q = quota("30/hour");
    let mut allowed = 0;
    for i in 0..30 {
        let limiter = if i % 2 == 0 { &a } else { &b };
        let d = limiter.check("starts", "client", q).await;
        assert!(d.allowed, "request {i}");
        assert_eq!(d.remaining, 29 - i);
        allowed += 1;
    }
    assert_eq!(allowed, 30);
    assert!(!a.check("starts", "client", q).await.allowed);
    assert!(!b.check("starts", "client", q).await.allowed);

    // A different prefix is a different budget.
    let other = limiter(&format!("{prefix}-other")).await;
    assert!(other.check("starts", "client", q).await.allowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checks_from_many_tasks_never_exceed_the_quota() {
    let prefix = prefix("concurrent");
    let instances = [
        limiter(&prefix).await,
        limiter(&prefix).await,
        limiter(&prefix).await,
    ];
    let q = quota("50/hour");
    let mut tasks = JoinSet::new();
    for i in 0..600 {
        let limiter = instances[i % instances.len()].clone();
        tasks.spawn(async move { limiter.check("starts", "hot-client", q).await });
    }
    let mut allowed = 0;
    let mut remaining_seen = Vec::new();
    while let Some(d) = tasks.join_next().await {
        let d = d.expect("task");
        if d.allowed {
            allowed += 1;
            remaining_seen.push(d.remaining);
        }
    }
    // Exactly the quota: nothing failed open, nothing double-spent.
    for limiter in &instances {
        assert_eq!(limiter.redis_errors(), 0);
    }
    assert_eq!(allowed, 50);
    remaining_seen.sort_unstable();
    assert_eq!(remaining_seen, (0..50).collect::<Vec<u32>>());
}

#[tokio::test]
async fn unreachable_redis_fails_at_start() {
    let started = Instant::now();
    // Nothing listens on port 1.
    let err = Limiter::redis("redis://127.0.0.1:1")
        .await
        .expect_err("must fail");
    assert!(matches!(err, LimitError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );

    let err = Limiter::redis("not a url").await.expect_err("must fail");
    assert!(matches!(err, LimitError::InvalidUrl { .. }), "{err:?}");

    let err = Limiter::redis("redis://:secret@127.0.0.1:1")
        .await
        .expect_err("must fail");
    assert!(!err.to_string().contains("secret"), "{err}");
}

#[tokio::test]
async fn silent_redis_fails_at_start_within_the_timeout() {
    // Accepts connections and never answers: a black hole rather than a refusal.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let err = Limiter::redis(&format!("redis://{addr}"))
        .await
        .expect_err("must fail");
    assert!(
        matches!(err, LimitError::Timeout { .. } | LimitError::Connect { .. }),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    hold.abort();
}

/// A TCP relay to the real Redis that the test can cut and restore, to simulate an outage
/// without touching the shared server.
struct Relay {
    addr: SocketAddr,
    tasks: JoinSet<()>,
}

impl Relay {
    async fn start(addr: SocketAddr) -> Relay {
        let listener = TcpListener::bind(addr).await.expect("bind relay");
        let addr = listener.local_addr().expect("addr");
        let upstream = url()
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut down, _)) = listener.accept().await {
                let upstream = upstream.clone();
                conns.spawn(async move {
                    if let Ok(mut up) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
            }
        });
        Relay { addr, tasks }
    }

    /// Dropping the accept task drops its listener and every relayed connection with it.
    async fn cut(mut self) -> SocketAddr {
        self.tasks.shutdown().await;
        self.addr
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_at_runtime_fails_open_then_recovers() {
    let prefix = prefix("outage");
    let relay = Relay::start("127.0.0.1:0".parse().expect("addr")).await;
    let limiter = Limiter::redis_with_prefix(&format!("redis://{}", relay.addr), &prefix)
        .await
        .expect("Redis through the relay");
    let one = quota("1/hour");
    assert!(limiter.check("b", "k", one).await.allowed);
    assert!(
        !limiter.check("b", "k", one).await.allowed,
        "Redis enforces while up"
    );

    let addr = relay.cut().await;
    // Refused while up, but now Redis is gone: availability wins.
    let started = Instant::now();
    let d = limiter.check("b", "k", one).await;
    assert!(d.allowed);
    assert_eq!(d.limit, 1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(limiter.redis_errors() >= 1);

    // While the outage lasts, requests do not each wait for Redis, including when many arrive
    // at once as the skip window ends: one probes Redis, the rest go straight through.
    let started = Instant::now();
    for _ in 0..200 {
        assert!(limiter.check("b", "k", one).await.allowed);
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut burst = JoinSet::new();
    for _ in 0..100 {
        let limiter = limiter.clone();
        burst.spawn(async move {
            let started = Instant::now();
            let allowed = limiter.check("b", "k", one).await.allowed;
            (allowed, started.elapsed())
        });
    }
    let mut slow = 0;
    while let Some(result) = burst.join_next().await {
        let (allowed, took) = result.expect("task");
        assert!(allowed);
        slow += usize::from(took > Duration::from_millis(200));
    }
    assert!(slow <= 1, "{slow} requests waited for a dead Redis");
    assert!(limiter.failed_open() >= 301);
    let errors_during_outage = limiter.redis_errors();
    assert!(
        errors_during_outage <= 4,
        "{errors_during_outage} errors: Redis is being hammered"
    );

    // Redis comes back on the same address: the stored TAT is enforced again.
    let _relay = Relay::start(addr).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if !limiter.check("b", "k", one).await.allowed {
            break;
        }
        assert!(Instant::now() < deadline, "limiter never reconnected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
