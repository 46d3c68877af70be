//! The module's state: the platform's `Core`, the settings, the outgoing client and the kick
//! that wakes this instance's sender.

use std::sync::Arc;

use axum::extract::FromRef;
use faro_http::Core;
use tokio::sync::watch;

use crate::config::WebhooksConfig;
use crate::outbound::Outbound;

/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Webhooks(Arc<WebhooksState>);

pub struct WebhooksState {
    pub core: Core,
    pub cfg: WebhooksConfig,
    pub outbound: Outbound,
    /// Wakes this instance's sender: deliveries were queued (or replayed).
    pub kick: Kick,
}

impl FromRef<Webhooks> for Core {
    fn from_ref(w: &Webhooks) -> Core {
        w.core.clone()
    }
}

impl Webhooks {
    pub fn new(core: Core, cfg: WebhooksConfig) -> Webhooks {
        let outbound = Outbound::new(cfg.allow_private_targets, cfg.timeout);
        Webhooks(Arc::new(WebhooksState {
            core,
            cfg,
            outbound,
            kick: Kick::default(),
        }))
    }
}

impl std::ops::Deref for Webhooks {
    type Target = WebhooksState;

    fn deref(&self) -> &WebhooksState {
        &self.0
    }
}

/// A wake-up signal as a counter in a `watch` channel (like the outbox's `Wake`): kicks
/// coalesce, and a sender marks the counter seen *before* it looks, so a kick arriving while it
/// looks is kept for its next wait instead of lost.
#[derive(Clone, Debug)]
pub struct Kick {
    tx: Arc<watch::Sender<u64>>,
}

impl Default for Kick {
    fn default() -> Self {
        Kick {
            tx: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Kick {
    pub fn notify(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}
