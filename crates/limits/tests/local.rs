//! The in-process limiter through its public API.

use std::time::Duration;

use faro_limits::{Limiter, parse_quota};

#[tokio::test]
async fn thirty_an_hour_allows_exactly_thirty_then_asks_for_two_minutes() {
    let limiter = Limiter::local();
    assert_eq!(limiter.backend_name(), "local");
    let quota = parse_quota("30/hour").ok().flatten().expect("valid quota");
    for n in (0..30).rev() {
        let d = limiter.check("starts", "client-a", quota).await;
        assert!(d.allowed);
        assert_eq!(d.limit, 30);
        assert_eq!(d.remaining, n);
        assert_eq!(d.retry_after, None);
    }
    for _ in 0..5 {
        let d = limiter.check("starts", "client-a", quota).await;
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        let retry = d.retry_after.expect("refusal carries retry_after");
        // 120 s minus however long this test has run so far.
        assert!(
            retry <= Duration::from_secs(120) && retry > Duration::from_secs(115),
            "{retry:?}"
        );
        assert!(
            d.reset_after > Duration::from_secs(3595) && d.reset_after <= Duration::from_secs(3600)
        );
    }
    // Other clients and buckets are unaffected.
    assert!(limiter.check("starts", "client-b", quota).await.allowed);
    assert!(limiter.check("answers", "client-a", quota).await.allowed);
    assert_eq!(limiter.redis_errors(), 0);
    assert_eq!(limiter.tracked_keys(), Some(3));
}

#[tokio::test]
async fn clones_share_state() {
    let limiter = Limiter::local();
    let quota = parse_quota("2/minute").ok().flatten().expect("valid quota");
    let other = limiter.clone();
    assert!(limiter.check("b", "k", quota).await.allowed);
    assert!(other.check("b", "k", quota).await.allowed);
    assert!(!limiter.check("b", "k", quota).await.allowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checks_never_exceed_the_quota() {
    let limiter = Limiter::local();
    let quota = parse_quota("50/hour").ok().flatten().expect("valid quota");
    let tasks: Vec<_> = (0..400)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.check("starts", "shared", quota).await.allowed })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        allowed += u32::from(task.await.expect("task"));
    }
    assert_eq!(allowed, 50);
}

#[tokio::test]
async fn refills_one_request_per_interval() {
    let limiter = Limiter::local();
    let quota = parse_quota("10/second")
        .ok()
        .flatten()
        .expect("valid quota");
    for _ in 0..10 {
        assert!(limiter.check("b", "k", quota).await.allowed);
    }
    let d = limiter.check("b", "k", quota).await;
    assert!(!d.allowed);
    let retry = d.retry_after.expect("refused");
    assert!(retry <= Duration::from_millis(100));
    tokio::time::sleep(retry).await;
    assert!(limiter.check("b", "k", quota).await.allowed);
}
