//! The penalty box when limits are shared through Redis, kept off the request path.
//!
//! Every request passes the penalty box, so asking Redis on each one cost a round trip per
//! request and halved the throughput of cheap reads (BENCHMARKS.md). Here a request is decided
//! in memory: by this instance's own exact box (a [`LocalStore`]: one instance alone can
//! never exceed the quota) and by the shared box state last heard from Redis. The requests
//! are counted locally and sent every [`FLUSH`] as one weighted GCRA call per client; when
//! Redis says a client went over, every instance that sent its count boxes it. The shared
//! budget can thus be overshot by at most one flush interval of a client's requests per
//! instance, and the box closes everywhere within about one interval.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::local::LocalStore;
use crate::{Decision, Quota};

/// How often the counts go to Redis.
pub(crate) const FLUSH: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, Debug)]
pub(crate) struct Pending {
    pub(crate) count: u32,
    pub(crate) quota: Quota,
    pub(crate) penalty_us: u64,
}

#[derive(Default)]
struct State {
    pending: HashMap<(String, String), Pending>,
    /// Clients the shared state boxed, until when.
    boxed: HashMap<(String, String), Instant>,
}

pub(crate) struct DeferredBox {
    local: LocalStore,
    state: Mutex<State>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl DeferredBox {
    pub(crate) fn new() -> Self {
        DeferredBox {
            local: LocalStore::new(),
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn check(&self, bucket: &str, key: &str, quota: Quota, penalty_us: u64) -> Decision {
        let mine = self.local.check_boxed(bucket, key, quota, penalty_us);
        if !mine.allowed {
            return mine;
        }
        let now = Instant::now();
        let id = (bucket.to_owned(), key.to_owned());
        let mut state = lock(&self.state);
        if let Some(&until) = state.boxed.get(&id) {
            if until > now {
                let rest = until - now;
                return Decision {
                    allowed: false,
                    limit: quota.count,
                    remaining: 0,
                    reset_after: rest,
                    retry_after: Some(rest),
                };
            }
            state.boxed.remove(&id);
        }
        state
            .pending
            .entry(id)
            .and_modify(|p| p.count = p.count.saturating_add(1))
            .or_insert(Pending {
                count: 1,
                quota,
                penalty_us,
            });
        mine
    }

    /// The counts since the last flush.
    pub(crate) fn take(&self) -> Vec<((String, String), Pending)> {
        let mut state = lock(&self.state);
        let now = Instant::now();
        state.boxed.retain(|_, until| *until > now);
        state.pending.drain().collect()
    }

    /// Redis says the client is boxed for `rest`.
    pub(crate) fn boxed(&self, id: (String, String), rest: Duration) {
        lock(&self.state).boxed.insert(id, Instant::now() + rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_wait_for_the_flush_and_a_shared_box_refuses() {
        let b = DeferredBox::new();
        let quota = Quota {
            count: 3,
            period: Duration::from_secs(60),
        };
        let penalty = 60_000_000;
        assert!(b.check("p", "x", quota, penalty).allowed);
        assert!(b.check("p", "x", quota, penalty).allowed);
        assert!(b.check("p", "y", quota, penalty).allowed);
        let mut taken = b.take();
        taken.sort_by(|a, b| a.0.cmp(&b.0));
        let counts: Vec<(&str, u32)> = taken
            .iter()
            .map(|(id, p)| (id.1.as_str(), p.count))
            .collect();
        assert_eq!(counts, [("x", 2), ("y", 1)]);
        assert!(b.take().is_empty(), "taken once");
        // Redis saw the other instances' requests too and boxed x.
        b.boxed(("p".into(), "x".into()), Duration::from_secs(60));
        let d = b.check("p", "x", quota, penalty);
        assert!(!d.allowed);
        assert!(d.retry_after.is_some_and(|r| r > Duration::from_secs(59)));
        assert!(b.check("p", "y", quota, penalty).allowed);
        // This instance alone is held to the quota at once: y's third request of the minute.
        assert!(b.check("p", "y", quota, penalty).allowed);
        assert!(!b.check("p", "y", quota, penalty).allowed);
    }
}
