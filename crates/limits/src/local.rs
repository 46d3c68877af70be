//! In-process limiter for single-instance deployments.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::{Decision, Quota, gcra};

/// Enough shards that request threads rarely wait on each other's lock.
const SHARDS: usize = 64;
/// Below this many entries per shard a sweep is not worth its cost.
const MIN_SWEEP_LEN: usize = 1024;
/// Sweep a shard at least this often even if it is not growing, so entries of clients that
/// went away do not linger for the life of the process.
const SWEEP_INTERVAL_US: u64 = 60_000_000;

pub(crate) struct LocalStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    /// A monotonic clock: wall-clock jumps (NTP, DST-confused hosts) must not hand out or take
    /// away burst.
    epoch: Instant,
}

struct Shard {
    /// Composite key to TAT. An entry whose TAT has passed carries no information (a missing
    /// entry means the same: full bucket), which is what makes sweeping safe.
    tats: HashMap<String, u64>,
    /// The shard sweeps when it reaches this size, then sets it to twice what survived: a flood
    /// of one-off keys is swept once their TATs pass, while a shard of live keys is not
    /// rescanned on every insert (amortised O(1)).
    sweep_at_len: usize,
    last_sweep_us: u64,
}

impl Shard {
    fn sweep_if_due(&mut self, now_us: u64) {
        let due = self.tats.len() >= self.sweep_at_len
            || now_us.saturating_sub(self.last_sweep_us) >= SWEEP_INTERVAL_US;
        if !due {
            return;
        }
        self.tats.retain(|_, tat| *tat > now_us);
        self.sweep_at_len = self.tats.len().saturating_mul(2).max(MIN_SWEEP_LEN);
        // `retain` keeps the allocation; give it back after a flood has drained.
        if self.tats.capacity() > self.sweep_at_len.saturating_mul(4) {
            self.tats.shrink_to(self.sweep_at_len);
        }
        self.last_sweep_us = now_us;
    }
}

impl LocalStore {
    pub(crate) fn new() -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    tats: HashMap::new(),
                    sweep_at_len: MIN_SWEEP_LEN,
                    last_sweep_us: 0,
                })
            })
            .collect();
        LocalStore {
            shards,
            hasher: RandomState::new(),
            epoch: Instant::now(),
        }
    }

    pub(crate) fn check(&self, bucket: &str, key: &str, quota: Quota) -> Decision {
        let now_us = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.check_at(bucket, key, quota, now_us)
    }

    /// [`Self::check`] on a caller-supplied clock, so tests can run hours in microseconds.
    pub(crate) fn check_at(&self, bucket: &str, key: &str, quota: Quota, now_us: u64) -> Decision {
        // Length-prefixed so that ("a:b", "c") and ("a", "b:c") stay different clients.
        let composite = format!("{}:{bucket}:{key}", bucket.len());
        let mut shard = self.shard(&composite);
        shard.sweep_if_due(now_us);
        let (new_tat, decision) = gcra::check(shard.tats.get(&composite).copied(), now_us, quota);
        if let Some(tat) = new_tat {
            shard.tats.insert(composite, tat);
        }
        decision
    }

    /// [`crate::gcra::check_boxed`] on this store: the box's end lives beside the TAT, under the
    /// composite key with a suffix no key can end with, and is swept the same way once past.
    pub(crate) fn check_boxed_at(
        &self,
        bucket: &str,
        key: &str,
        quota: Quota,
        penalty_us: u64,
        now_us: u64,
    ) -> Decision {
        let composite = format!("{}:{bucket}:{key}", bucket.len());
        let boxed_key = format!("{composite}\0box");
        let boxed = self.shard(&boxed_key).tats.get(&boxed_key).copied();
        let (write, decision) = {
            let mut shard = self.shard(&composite);
            shard.sweep_if_due(now_us);
            let tat = shard.tats.get(&composite).copied();
            let (write, decision) = gcra::check_boxed(tat, boxed, now_us, quota, penalty_us);
            if let Some(tat) = write.tat_us {
                shard.tats.insert(composite, tat);
            }
            (write, decision)
        };
        if let Some(until) = write.boxed_until_us {
            let mut shard = self.shard(&boxed_key);
            shard.sweep_if_due(now_us);
            shard.tats.insert(boxed_key, until);
        }
        decision
    }

    pub(crate) fn check_boxed(
        &self,
        bucket: &str,
        key: &str,
        quota: Quota,
        penalty_us: u64,
    ) -> Decision {
        let now_us = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.check_boxed_at(bucket, key, quota, penalty_us, now_us)
    }

    pub(crate) fn len(&self) -> usize {
        (0..self.shards.len())
            .map(|i| lock(&self.shards[i]).tats.len())
            .sum()
    }

    fn shard(&self, composite: &str) -> MutexGuard<'_, Shard> {
        let index = self.hasher.hash_one(composite) % self.shards.len() as u64;
        lock(&self.shards[index as usize])
    }
}

/// A panic while holding the lock cannot leave a map of plain integers inconsistent, so a
/// poisoned lock is used as is rather than failing every later request.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SECOND: u64 = 1_000_000;

    fn per_second(count: u32) -> Quota {
        Quota {
            count,
            period: Duration::from_secs(1),
        }
    }

    #[test]
    fn keys_and_buckets_are_separate() {
        let store = LocalStore::new();
        let one = per_second(1);
        assert!(store.check_at("a", "x", one, 0).allowed);
        assert!(!store.check_at("a", "x", one, 0).allowed);
        assert!(store.check_at("a", "y", one, 0).allowed);
        assert!(store.check_at("b", "x", one, 0).allowed);
        // Separator tricks do not merge clients.
        assert!(store.check_at("a:b", "c", one, 0).allowed);
        assert!(store.check_at("a", "b:c", one, 0).allowed);
        assert_eq!(store.len(), 5);
    }

    #[test]
    fn a_boxed_client_waits_out_the_penalty_alone() {
        let store = LocalStore::new();
        let two = per_second(2);
        let penalty = 60 * SECOND;
        assert!(store.check_boxed_at("p", "x", two, penalty, 0).allowed);
        assert!(store.check_boxed_at("p", "x", two, penalty, 0).allowed);
        let boxed = store.check_boxed_at("p", "x", two, penalty, 0);
        assert_eq!(boxed.retry_after, Some(Duration::from_secs(60)));
        // Refilled long ago, still boxed; another client is not.
        assert!(
            !store
                .check_boxed_at("p", "x", two, penalty, 30 * SECOND)
                .allowed
        );
        assert!(
            store
                .check_boxed_at("p", "y", two, penalty, 30 * SECOND)
                .allowed
        );
        assert!(
            store
                .check_boxed_at("p", "x", two, penalty, penalty)
                .allowed
        );
        // The box is swept once it is over, like any passed TAT.
        for i in 0..2_000 {
            store.check_at("p", &format!("later-{i}"), two, 200 * SECOND);
        }
        assert!(store.len() <= 2_000, "{}", store.len());
    }

    #[test]
    fn refusals_store_nothing() {
        let store = LocalStore::new();
        let one = per_second(1);
        for _ in 0..100 {
            store.check_at("a", "x", one, 0);
        }
        assert_eq!(store.len(), 1);
        assert!(store.check_at("a", "x", one, SECOND).allowed);
    }

    #[test]
    fn a_million_one_off_keys_are_swept_once_expired() {
        let store = LocalStore::new();
        let quota = per_second(1);
        let flood = 1_000_000u64;
        for i in 0..flood {
            store.check_at("starts", &format!("flood-{i}"), quota, 0);
        }
        assert_eq!(store.len(), flood as usize);

        // Long after every TAT has passed, ordinary traffic touching each shard reclaims them.
        for i in 0..10_000 {
            store.check_at("starts", &format!("later-{i}"), quota, 61 * SECOND);
        }
        assert!(store.len() <= 10_000, "{} entries survived", store.len());
        let capacity: usize = store.shards.iter().map(|s| lock(s).tats.capacity()).sum();
        assert!(
            capacity < 200_000,
            "allocation kept after the flood: {capacity}"
        );
    }

    #[test]
    fn a_sustained_key_flood_stays_bounded_by_the_live_set() {
        // 1M distinct keys at 10k per second with a one-second quota: at most ~10k are live at
        // any time, and the store must not grow towards 1M.
        let store = LocalStore::new();
        let quota = per_second(1);
        let rate = 10_000u64;
        let mut peak = 0;
        for i in 0..1_000_000u64 {
            let now = i * SECOND / rate;
            store.check_at("starts", &format!("k{i}"), quota, now);
            if i % 10_000 == 0 {
                peak = peak.max(store.len());
            }
        }
        // Per shard: twice the live keys at the last sweep, or the sweep floor.
        let bound = 2 * rate as usize + SHARDS * MIN_SWEEP_LEN + SHARDS;
        assert!(peak <= bound, "peak {peak} > {bound}");
        assert!(store.len() <= bound);
    }

    #[test]
    fn live_keys_are_never_swept() {
        let store = LocalStore::new();
        let quota = Quota {
            count: 1,
            period: Duration::from_secs(3600),
        };
        for i in 0..5_000 {
            assert!(store.check_at("b", &format!("k{i}"), quota, 0).allowed);
        }
        // Sweeps triggered by size and by time both happen before the hour is up.
        for i in 5_000..10_000 {
            assert!(
                store
                    .check_at("b", &format!("k{i}"), quota, 120 * SECOND)
                    .allowed
            );
        }
        for i in 0..10_000 {
            assert!(
                !store
                    .check_at("b", &format!("k{i}"), quota, 1800 * SECOND)
                    .allowed,
                "k{i}"
            );
        }
    }
}
