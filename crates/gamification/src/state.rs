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
}

impl FromRef<Gamification> for Core {
    fn from_ref(g: &Gamification) -> Core {
        g.core.clone()
    }
}

impl Gamification {
    pub fn new(core: Core) -> Gamification {
        Gamification(Arc::new(GamificationState {
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
