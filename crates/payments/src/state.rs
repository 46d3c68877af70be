//! The module's state: the platform's `Core`.

use std::sync::Arc;

use axum::extract::FromRef;
use faro_http::Core;

/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Payments(Arc<PaymentsState>);

pub struct PaymentsState {
    pub core: Core,
}

impl FromRef<Payments> for Core {
    fn from_ref(w: &Payments) -> Core {
        w.core.clone()
    }
}

impl Payments {
    pub fn new(core: Core) -> Payments {
        Payments(Arc::new(PaymentsState { core }))
    }
}

impl std::ops::Deref for Payments {
    type Target = PaymentsState;

    fn deref(&self) -> &PaymentsState {
        &self.0
    }
}
