//! Sessions being answered right now, kept in memory between a visitor's requests, so an
//! answer costs one (group-committed) write and no read.
//!
//! The copy here is a cache, never the truth: every write is a compare-and-set on the row's
//! `rev`, so an entry made stale by another instance (or by a purge, or a deleted test) makes
//! that write lose, and the caller re-reads the row and tries again. Plain reads (the current
//! question, the question page) still read the database, so they can never show a state older
//! than what another instance committed. Losing the cache loses nothing but one read.
//!
//! Each session has a slot with an async lock: requests for one session on one instance run
//! one after the other, which also keeps two writes of one session out of the same batch.

use faro_store::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use faro_quiz_domain::SessionState;

use crate::store::SessionRow;

/// A session as this instance last wrote or read it.
#[derive(Clone, Debug)]
pub struct Cached {
    /// The row; its `state` text is left empty (the parsed `state` below is what counts).
    pub row: SessionRow,
    pub state: SessionState,
}

/// `None` until loaded; emptied when a write shows it stale.
pub type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// Sessions per generation. Two generations are kept: an entry untouched for a whole
/// generation is dropped. A cached session is well under 1 KB, so this bounds the cache to a
/// few megabytes however many visitors come.
const GENERATION: usize = 4096;

#[derive(Default)]
pub struct LiveSessions {
    gens: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<String, Slot>,
    previous: HashMap<String, Slot>,
}

impl LiveSessions {
    /// The slot of a session (keyed by tenant and id), created empty if unknown.
    pub fn slot(&self, tenant: &TenantId, id: &str) -> Slot {
        let key = format!("{tenant}/{id}");
        let mut g = self.gens.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = g.current.get(&key) {
            return slot.clone();
        }
        let slot = g.previous.remove(&key).unwrap_or_default();
        if g.current.len() >= GENERATION {
            g.previous = std::mem::take(&mut g.current);
        }
        g.current.insert(key, slot.clone());
        slot
    }

    /// Drops a session that is over (finished, gone).
    pub fn forget(&self, tenant: &TenantId, id: &str) {
        let key = format!("{tenant}/{id}");
        let mut g = self.gens.lock().unwrap_or_else(|p| p.into_inner());
        g.current.remove(&key);
        g.previous.remove(&key);
    }

    /// Sessions held (both generations), for tests.
    pub fn len(&self) -> usize {
        let g = self.gens.lock().unwrap_or_else(|p| p.into_inner());
        g.current.len() + g.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_shared_by_every_request_of_a_session() {
        let live = LiveSessions::default();
        let a = live.slot(&faro_store::TenantId::new("t"), "s1");
        let b = live.slot(&faro_store::TenantId::new("t"), "s1");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(
            &a,
            &live.slot(&faro_store::TenantId::new("other"), "s1")
        ));
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_recent_sessions() {
        let live = LiveSessions::default();
        let first = live.slot(&faro_store::TenantId::new("t"), "first");
        for i in 0..(3 * GENERATION) {
            live.slot(&faro_store::TenantId::new("t"), &i.to_string());
            if i % 100 == 0 {
                // Touched regularly: survives every rotation.
                assert!(Arc::ptr_eq(
                    &first,
                    &live.slot(&faro_store::TenantId::new("t"), "first")
                ));
            }
        }
        assert!(live.len() <= 2 * GENERATION + 1);
        let last = (3 * GENERATION - 1).to_string();
        assert!(Arc::ptr_eq(
            &live.slot(&faro_store::TenantId::new("t"), &last),
            &live.slot(&faro_store::TenantId::new("t"), &last)
        ));
    }

    #[test]
    fn forgotten_sessions_get_a_new_empty_slot() {
        let live = LiveSessions::default();
        let a = live.slot(&faro_store::TenantId::new("t"), "s");
        live.forget(&faro_store::TenantId::new("t"), "s");
        assert!(!Arc::ptr_eq(
            &a,
            &live.slot(&faro_store::TenantId::new("t"), "s")
        ));
        assert_eq!(live.len(), 1);
    }
}
