//! The module's state: the platform's `Core`.

use std::sync::Arc;

use axum::extract::FromRef;
use faro_http::Core;

/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Wallet(Arc<WalletState>);

pub struct WalletState {
    pub core: Core,
}

impl FromRef<Wallet> for Core {
    fn from_ref(w: &Wallet) -> Core {
        w.core.clone()
    }
}

impl Wallet {
    pub fn new(core: Core) -> Wallet {
        Wallet(Arc::new(WalletState { core }))
    }
}

impl std::ops::Deref for Wallet {
    type Target = WalletState;

    fn deref(&self) -> &WalletState {
        &self.0
    }
}
