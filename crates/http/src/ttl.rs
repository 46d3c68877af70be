//! A small bounded map of values with their age, shared by the per-instance caches that keep
//! a request off the database (API keys, revoked tokens, staff accounts' token times, visitors
//! seen lately). Each decides what age it trusts; this only stores, and starts afresh when
//! full, so a flood of made-up keys cannot grow it.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

pub struct TtlMap<K, V> {
    map: RwLock<HashMap<K, (V, Instant)>>,
    max: usize,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    pub fn new(max: usize) -> Self {
        TtlMap {
            map: RwLock::new(HashMap::new()),
            max,
        }
    }

    // A panic while holding the lock leaves a map that is still a valid cache.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<K, (V, Instant)>> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<K, (V, Instant)>> {
        self.map.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The value and how long ago it was inserted.
    pub fn get<Q>(&self, key: &Q) -> Option<(V, Duration)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.read()
            .get(key)
            .map(|(v, at)| (v.clone(), at.elapsed()))
    }

    /// The value if it was inserted less than `ttl` ago.
    pub fn fresh<Q>(&self, key: &Q, ttl: Duration) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).filter(|(_, age)| *age < ttl).map(|(v, _)| v)
    }

    pub fn insert(&self, key: K, value: V) {
        let mut map = self.write();
        if map.len() >= self.max {
            map.clear();
        }
        map.insert(key, (value, Instant::now()));
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.write().remove(key);
    }

    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) {
        self.write().retain(|k, (v, _)| keep(k, v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_age_and_a_full_map_starts_afresh() {
        let m: TtlMap<String, i64> = TtlMap::new(2);
        m.insert("a".into(), 1);
        assert_eq!(m.fresh("a", Duration::from_secs(60)), Some(1));
        assert_eq!(m.fresh("a", Duration::ZERO), None);
        m.insert("b".into(), 2);
        m.insert("c".into(), 3);
        assert_eq!(m.get("a"), None, "full: started afresh");
        assert_eq!(m.fresh("c", Duration::from_secs(60)), Some(3));
        m.retain(|_, v| *v != 3);
        m.remove("b");
        assert_eq!(m.get("c"), None);
    }
}
