//! The module's state: the platform's `Core`.

use std::sync::Arc;

use axum::extract::FromRef;
use faro_http::Core;

/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Promotions(Arc<PromotionsState>);

pub struct PromotionsState {
    pub core: Core,
}

impl FromRef<Promotions> for Core {
    fn from_ref(p: &Promotions) -> Core {
        p.core.clone()
    }
}

impl Promotions {
    pub fn new(core: Core) -> Promotions {
        Promotions(Arc::new(PromotionsState { core }))
    }
}

impl std::ops::Deref for Promotions {
    type Target = PromotionsState;

    fn deref(&self) -> &PromotionsState {
        &self.0
    }
}
