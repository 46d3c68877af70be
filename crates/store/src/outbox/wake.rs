//! Waking idle consumers when events are committed, so polling is only the fallback.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::events::NOTIFY_CHANNEL;
use crate::shutdown::stopped;
use crate::{Backend, StoreError, redact_url};

/// Wakes every consumer of this process; cheap to clone. Producers call [`Wake::notify`] after
/// committing events. On PostgreSQL, [`Wake::listen_postgres`] carries wake-ups between
/// instances: it sends `NOTIFY faro_events` for this process's commits and turns other
/// instances' notifications into local wake-ups.
///
/// A counter in a `watch` channel rather than a bare `Notify`: every consumer sees every bump
/// (broadcast), bumps coalesce, and a consumer marks the counter seen *before* it looks for
/// events, so a wake-up that arrives while it looks is kept for its next wait instead of lost.
///
/// The `NOTIFY` is sent by a task of its own, never inside a producer's transaction: PostgreSQL
/// takes a database-wide lock when a notifying transaction commits, which would serialise every
/// producer. Bumps that arrive while one is being sent coalesce into the next.
#[derive(Clone, Debug)]
pub struct Wake {
    /// Consumers of this process.
    tx: Arc<watch::Sender<u64>>,
    /// Commits of this process, for the `NOTIFY` sender.
    outgoing: Arc<watch::Sender<u64>>,
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
            outgoing: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Says events were committed: wakes every consumer waiting on this handle (and the next
    /// look of any that are busy), and other instances' through [`Wake::listen_postgres`].
    pub fn notify(&self) {
        self.wake_local();
        self.outgoing.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Wakes this process's consumers only (another instance's commit: no echo).
    fn wake_local(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// Until `stop`: listens on PostgreSQL's `faro_events` channel, waking this process's
    /// consumers on every notification, and notifies it after this process's commits, so every
    /// instance's consumers hear of every instance's events within about 50 ms. The first
    /// connections are made before returning (a wrong URL fails at start-up); later losses are
    /// reconnected in the background, with a wake-up after each (notifications sent while
    /// disconnected are lost; the consumers' poll finds their events).
    pub async fn listen_postgres(
        &self,
        url: &str,
        stop: watch::Receiver<bool>,
    ) -> Result<tokio::task::JoinHandle<()>, StoreError> {
        if Backend::from_url(url) != Some(Backend::Postgres) {
            return Err(StoreError::Other(format!(
                "listen_postgres needs a postgres:// URL, not {}",
                redact_url(url)
            )));
        }
        let listener = connect(url).await?;
        let sender = connect_sender(url).await?;
        let sending = self
            .clone()
            .send_notifications(sender, url.to_string(), stop.clone());
        let listening = self
            .clone()
            .receive_notifications(listener, url.to_string(), stop);
        Ok(tokio::spawn(async move {
            tokio::join!(listening, sending);
        }))
    }

    /// Turns other instances' notifications into local wake-ups.
    async fn receive_notifications(
        self,
        mut listener: sqlx::postgres::PgListener,
        url: String,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            let got = tokio::select! {
                got = listener.try_recv() => got,
                _ = stopped(&mut stop) => return,
            };
            match got {
                Ok(Some(_)) => self.wake_local(),
                // The connection dropped and was re-established: look, in case we missed one.
                Ok(None) => self.wake_local(),
                Err(e) => {
                    tracing::warn!(error = %e, "event listener lost PostgreSQL; reconnecting");
                    listener = match reconnect("event listener", &mut stop, || connect(&url)).await
                    {
                        Some(l) => l,
                        None => return,
                    };
                    self.wake_local();
                }
            }
        }
    }

    /// Sends one `NOTIFY` per burst of local commits, on a connection of its own.
    async fn send_notifications(
        self,
        mut conn: sqlx::PgConnection,
        url: String,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut commits = self.outgoing.subscribe();
        commits.mark_unchanged();
        loop {
            tokio::select! {
                changed = commits.changed() => if changed.is_err() { return },
                _ = stopped(&mut stop) => return,
            }
            // Seen before sending: a commit during the send is notified by the next round.
            commits.mark_unchanged();
            // Until it is sent (or we stop): a lost connection is re-made and the send retried.
            loop {
                let sent = sqlx::query("SELECT pg_notify($1, '')")
                    .bind(NOTIFY_CHANNEL)
                    .execute(&mut conn)
                    .await;
                let Err(e) = sent else { break };
                tracing::warn!(error = %e, "event notifier lost PostgreSQL; reconnecting");
                conn = match reconnect("event notifier", &mut stop, || connect_sender(&url)).await {
                    Some(c) => c,
                    None => return,
                };
            }
            // A short pause coalesces a burst of commits into one notification; consumers
            // gather for longer than this anyway.
            tokio::select! {
                _ = tokio::time::sleep(NOTIFY_COALESCE) => {}
                _ = stopped(&mut stop) => return,
            }
        }
    }
}

/// Least time between two `NOTIFY`s from one instance. Each is a round trip and a commit, and
/// every instance's listener (this one's too) is woken by it: under load one per finish batch
/// (hundreds a second) cost PostgreSQL CPU the sessions needed. Consumers gather wake-ups for
/// 100 ms anyway, so waking them at most every 50 ms loses them nothing.
const NOTIFY_COALESCE: Duration = Duration::from_millis(50);

/// Connects again after a lost connection, waiting 500 ms, doubling up to 30 s, before each
/// try; `None` when told to stop first.
async fn reconnect<T, Fut>(
    what: &str,
    stop: &mut watch::Receiver<bool>,
    connect: impl Fn() -> Fut,
) -> Option<T>
where
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut delay = Duration::from_millis(500);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stopped(stop) => return None,
        }
        match connect().await {
            Ok(c) => return Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "{what} cannot reconnect yet");
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}

async fn connect_sender(url: &str) -> Result<sqlx::PgConnection, StoreError> {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| StoreError::Unavailable(format!("event notifier: {e}")))
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
