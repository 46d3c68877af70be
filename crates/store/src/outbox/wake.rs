//! Waking idle consumers when events are committed, so polling is only the fallback.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::events::NOTIFY_CHANNEL;
use crate::shutdown::stopped;
use crate::{Backend, StoreError, redact_url};

/// Wakes every consumer of this process; cheap to clone. Producers call [`Wake::notify`] after
/// committing events; on PostgreSQL [`Wake::listen_postgres`] also turns other instances'
/// commits (`NOTIFY faro_events`) into wake-ups.
///
/// A counter in a `watch` channel rather than a bare `Notify`: every consumer sees every bump
/// (broadcast), bumps coalesce, and a consumer marks the counter seen *before* it looks for
/// events, so a wake-up that arrives while it looks is kept for its next wait instead of lost.
#[derive(Clone, Debug)]
pub struct Wake {
    tx: Arc<watch::Sender<u64>>,
}

impl Default for Wake {
    fn default() -> Self {
        Wake::new()
    }
}

impl Wake {
    pub fn new() -> Wake {
        Wake {
            tx: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Wakes every consumer waiting on this handle (and the next look of any that are busy).
    pub fn notify(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// Listens on PostgreSQL's `faro_events` channel until `stop`, waking this handle on every
    /// notification, so consumers here see other instances' events within milliseconds. The
    /// first connection is made before returning (a wrong URL fails at start-up); later losses
    /// are reconnected in the background, with a wake-up after each (notifications sent while
    /// disconnected are lost; the consumers' look finds their events).
    pub async fn listen_postgres(
        &self,
        url: &str,
        mut stop: watch::Receiver<bool>,
    ) -> Result<tokio::task::JoinHandle<()>, StoreError> {
        if Backend::from_url(url) != Some(Backend::Postgres) {
            return Err(StoreError::Other(format!(
                "listen_postgres needs a postgres:// URL, not {}",
                redact_url(url)
            )));
        }
        let mut listener = connect(url).await?;
        let url = url.to_string();
        let wake = self.clone();
        Ok(tokio::spawn(async move {
            loop {
                let got = tokio::select! {
                    got = listener.try_recv() => got,
                    _ = stopped(&mut stop) => return,
                };
                match got {
                    Ok(Some(_)) => wake.notify(),
                    // The connection dropped and was re-established: look, in case we missed one.
                    Ok(None) => wake.notify(),
                    Err(e) => {
                        tracing::warn!(error = %e, "event listener lost PostgreSQL; reconnecting");
                        let mut delay = Duration::from_millis(500);
                        listener = loop {
                            tokio::select! {
                                _ = tokio::time::sleep(delay) => {}
                                _ = stopped(&mut stop) => return,
                            }
                            match connect(&url).await {
                                Ok(l) => break l,
                                Err(e) => {
                                    tracing::warn!(error = %e, "event listener cannot reconnect yet");
                                    delay = (delay * 2).min(Duration::from_secs(30));
                                }
                            }
                        };
                        wake.notify();
                    }
                }
            }
        }))
    }
}

async fn connect(url: &str) -> Result<sqlx::postgres::PgListener, StoreError> {
    let mut listener = sqlx::postgres::PgListener::connect(url)
        .await
        .map_err(|e| StoreError::Unavailable(format!("event listener: {e}")))?;
    listener
        .listen(NOTIFY_CHANNEL)
        .await
        .map_err(|e| StoreError::Unavailable(format!("event listener: {e}")))?;
    Ok(listener)
}
