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
        }))
    }
}

impl std::ops::Deref for Gamification {
    type Target = GamificationState;

    fn deref(&self) -> &GamificationState {
        &self.0
    }
}
