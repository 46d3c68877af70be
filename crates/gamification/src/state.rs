//! The module's state: the platform's `Core` and the tenants' designs read lately.

use std::sync::Arc;

use axum::extract::FromRef;
use faro_http::Core;
use faro_http::ttl::TtlMap;

use crate::design::Loaded;

/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Gamification(Arc<GamificationState>);

pub struct GamificationState {
    pub core: Core,
    /// Tenant id → its design and time zone, believed for [`crate::design::CACHE_TTL`].
    pub designs: TtlMap<String, Arc<Loaded>>,
    /// Tenant id → its all-time board as last read, for ranks (see `ranks.rs`).
    pub boards: TtlMap<String, Arc<faro_gamification_domain::leaderboard::Standings>>,
    /// Tenants whose board is being read again in the background.
    pub refreshing: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Held while a tenant's board is read for the first time.
    pub first_board_read: tokio::sync::Mutex<()>,
    /// Events wait here for their batch (group commit, `sheets.rs`).
    pub events: faro_store::Batcher<crate::ingest::Job, crate::ingest::Outcomes>,
    /// The weeks' challenge rows read lately (they never change once created).
    pub weeks: crate::sheets::Weeks,
}

impl FromRef<Gamification> for Core {
    fn from_ref(g: &Gamification) -> Core {
        g.core.clone()
    }
}

impl Gamification {
    /// Starts the event writer: call within the tokio runtime.
    pub fn new(core: Core) -> Gamification {
        let weeks: crate::sheets::Weeks = Arc::new(TtlMap::new(1_000));
        let events = faro_store::Batcher::spawn(
            core.db.clone(),
            crate::ingest::EventWrites {
                weeks: weeks.clone(),
                wake: core.wake.clone(),
            },
            faro_store::BatchOptions::for_db(&core.db),
        );
        Gamification(Arc::new(GamificationState {
            events,
            weeks,
            core,
            designs: TtlMap::new(10_000),
            boards: TtlMap::new(crate::ranks::MAX_BOARDS),
            refreshing: Default::default(),
            first_board_read: Default::default(),
        }))
    }
}

impl std::ops::Deref for Gamification {
    type Target = GamificationState;

    fn deref(&self) -> &GamificationState {
        &self.0
    }
}
