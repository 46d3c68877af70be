//! The module's state: the platform's `Core`, the providers' HTTPS client and where Stripe's
//! API is (an installation setting, so tests can point it at a local fake).

use std::sync::Arc;

use axum::extract::FromRef;
use faro_http::Core;

use crate::http::ProviderClient;

/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Payments(Arc<PaymentsState>);

pub struct PaymentsState {
    pub core: Core,
    pub client: ProviderClient,
    /// `PAYMENTS_STRIPE_API`: `https://api.stripe.com` unless a test says otherwise.
    pub stripe_api: String,
}

impl FromRef<Payments> for Core {
    fn from_ref(p: &Payments) -> Core {
        p.core.clone()
    }
}

impl Payments {
    pub fn new(core: Core, client: ProviderClient, stripe_api: String) -> Payments {
        Payments(Arc::new(PaymentsState {
            core,
            client,
            stripe_api,
        }))
    }
}

impl std::ops::Deref for Payments {
    type Target = PaymentsState;

    fn deref(&self) -> &PaymentsState {
        &self.0
    }
}
