//! Consumers: read events after a cursor, handle them and move the cursor in one transaction.
//!
//! # Exactly once per consumer
//!
//! A batch is: read the cursor and the events after it (no lock), then, in one write
//! transaction, a compare-and-set `UPDATE event_cursors SET last_seq = <last of batch> WHERE
//! consumer = $1 AND last_seq = <what we read> AND lease_owner = <us>`, then the handler, then
//! `COMMIT`. The compare-and-set comes first so it also locks the cursor row: on PostgreSQL a
//! second instance's compare-and-set waits for our commit and then matches nothing (READ
//! COMMITTED re-checks the `WHERE` on the new row version), on SQLite the write lock orders
//! them. Either way exactly one transaction moves the cursor past a given event, and the
//! handler's writes commit with it or not at all. A crash or an aborted task mid-batch rolls back
//! the whole transaction, so the batch is handled again later. That is the guarantee; it does
//! not depend on the lease or on clocks.
//!
//! # The lease
//!
//! So that instances do not all read and handle the same batch only for all but one to roll
//! back, one instance at a time holds a consumer's lease (`lease_owner`, `lease_until`),
//! renewed by every batch it commits and taken over by anyone once it has expired. Others only
//! read the cursor row while waiting. A lease that expires mid-batch costs at most one wasted
//! batch (the compare-and-set includes `lease_owner`, so the old holder's commit fails).
//!
//! # Quiet batches
//!
//! Most consumers want a few kinds among many events (the quiz's people consumer wants
//! erasures, not the thousands of `quiz.finished` a busy hour brings). A batch with nothing
//! for the handler changes nothing but the cursor, so the running consumer ([`run_consumer`])
//! remembers how far it read ([`Ahead`]) and writes the cursor at most once per
//! [`Consumer::quiet_write`] instead of once per batch: on SQLite every such write was a turn
//! of the one writer, taken from the requests. Exactly-once is untouched: the skipped events
//! had no handler to run, a crash only means they are read (and skipped) again, and the next
//! write is the same compare-and-set from the stored cursor, so a reset or another instance's
//! move voids what was remembered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Row;

use super::events::{BoxFuture, Cursor, Event, cursor_of, events_of_kinds, latest_seq, sequence};
use super::wake::Wake;
use crate::shutdown::stopped;
use crate::{Db, StoreError, unix_now_ms};

/// The transaction a handler writes in; it commits together with the cursor.
pub type ConsumerTx = sqlx::Transaction<'static, sqlx::Any>;

/// Handles one batch of events (in seq order, all matching the consumer's kinds) inside the
/// transaction that moves the cursor past them. An `Err` rolls everything back; the same batch
/// is retried after a back-off.
///
/// Keep handlers to database work: the transaction holds the cursor row (and, on SQLite, the
/// one write lock) until it ends. Slow side effects (an HTTP call for a webhook) belong in a
/// queue the handler writes to, delivered outside the transaction. A handler that appends
/// events of its own does so last, like any producer.
pub type Handler = Arc<
    dyn for<'t> Fn(&'t mut ConsumerTx, &'t [Event]) -> BoxFuture<'t, Result<(), StoreError>>
        + Send
        + Sync,
>;

/// A cheap read answering whether the handler has anything to do at all right now (the
/// webhooks consumer: is any endpoint enabled?). When it says no, a batch is quiet, as if no
/// event matched its kinds.
pub type Active =
    Arc<dyn for<'d> Fn(&'d Db) -> BoxFuture<'d, Result<bool, StoreError>> + Send + Sync>;

/// A registered consumer. `name` is stable across releases (it keys the cursor) and comes from
/// a closed set (it labels metrics).
#[derive(Clone)]
pub struct Consumer {
    pub name: &'static str,
    /// Kinds handed to the handler: exact (`"quiz.finished"`) or a module prefix (`"quiz.*"`).
    /// Empty means all. Other events are skipped, and the cursor still moves past them.
    pub kinds: Vec<String>,
    /// Most events read per batch.
    pub batch: usize,
    /// How often an idle consumer looks for events without a wake-up.
    pub poll: Duration,
    /// How long a lease lasts without renewal; longer than the slowest batch.
    pub lease: Duration,
    /// First back-off after a failed batch; doubles up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// After a wake-up, how long to let more commits arrive before reading: under load, one
    /// consumer transaction then takes the events of many producer commits instead of
    /// competing with each of them for the writer (SQLite's is single).
    pub gather: Duration,
    /// How often a running consumer writes its cursor while none of the events it reads are
    /// for it (see "Quiet batches"); a batch with work for the handler always writes.
    pub quiet_write: Duration,
    /// See [`Active`]; `None`: always.
    pub active: Option<Active>,
    pub handler: Handler,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("name", &self.name)
            .field("kinds", &self.kinds)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// A consumer of every event with default settings (batches of 100, polling every second,
    /// gathering wake-ups for 100 ms, 30 s lease, back-off from 1 s doubling to 30 s).
    ///
    /// ```ignore
    /// Consumer::new("gamification", |tx, events| Box::pin(async move {
    ///     for e in events { award(&mut **tx, e).await?; }
    ///     Ok(())
    /// }))
    /// .kinds(&["quiz.finished"])
    /// ```
    pub fn new<F>(name: &'static str, handler: F) -> Consumer
    where
        F: for<'t> Fn(&'t mut ConsumerTx, &'t [Event]) -> BoxFuture<'t, Result<(), StoreError>>
            + Send
            + Sync
            + 'static,
    {
        Consumer {
            name,
            kinds: Vec::new(),
            batch: 100,
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(30),
            gather: Duration::from_millis(100),
            quiet_write: Duration::from_secs(1),
            active: None,
            handler: Arc::new(handler),
        }
    }

    pub fn gather(mut self, window: Duration) -> Consumer {
        self.gather = window;
        self
    }

    pub fn quiet_write(mut self, every: Duration) -> Consumer {
        self.quiet_write = every;
        self
    }

    /// Makes batches quiet while `check` answers `false` (see [`Active`]).
    pub fn active_when<F>(mut self, check: F) -> Consumer
    where
        F: for<'d> Fn(&'d Db) -> BoxFuture<'d, Result<bool, StoreError>> + Send + Sync + 'static,
    {
        self.active = Some(Arc::new(check));
        self
    }

    pub fn kinds(mut self, kinds: &[&str]) -> Consumer {
        self.kinds = kinds.iter().map(|k| k.to_string()).collect();
        self
    }

    pub fn batch(mut self, n: usize) -> Consumer {
        self.batch = n.max(1);
        self
    }

    pub fn poll(mut self, every: Duration) -> Consumer {
        self.poll = every;
        self
    }

    pub fn lease(mut self, lease: Duration) -> Consumer {
        self.lease = lease;
        self
    }

    pub fn retry(mut self, min: Duration, max: Duration) -> Consumer {
        self.retry_min = min;
        self.retry_max = max.max(min);
        self
    }

    /// Whether events of `kind` go to the handler.
    pub fn matches(&self, kind: &str) -> bool {
        self.kinds.is_empty()
            || self.kinds.iter().any(|k| match k.strip_suffix('*') {
                Some(prefix) => kind.starts_with(prefix),
                None => k == kind,
            })
    }
}

/// What one [`consume_batch`] did.
#[derive(Clone, Debug)]
pub enum Batch {
    /// The cursor moved to `last_seq` (committed, or remembered in [`Ahead`] for a quiet
    /// batch); `events` were read (only those of the consumer's kinds are), `handled` of them
    /// went to the handler. `events` equal to the batch size means more may be waiting.
    Done {
        events: usize,
        handled: usize,
        last_seq: i64,
    },
    /// Nothing after the cursor.
    Idle,
    /// Another instance holds the lease.
    Leased,
    /// Another instance (or a reset) moved the cursor first; nothing was written.
    Lost,
    /// The handler failed on the events `first_seq..=last_seq`; everything was rolled back.
    Failed {
        first_seq: i64,
        last_seq: i64,
        error: StoreError,
    },
}

/// How far a running consumer has read past its stored cursor through events none of which
/// were for its handler (see "Quiet batches"). Only meaningful while the stored cursor is
/// still `stored`: anything else (a reset, another instance) voids it.
#[derive(Clone, Debug, Default)]
pub struct Ahead {
    stored: i64,
    read_to: i64,
    /// When this consumer last wrote its cursor; `None`: not yet, so the next batch writes.
    written_at: Option<Instant>,
}

impl Ahead {
    /// Where to read from, given the stored cursor.
    fn start(&mut self, stored: i64) -> i64 {
        if self.stored == stored && self.read_to > stored {
            self.read_to
        } else {
            self.stored = stored;
            self.read_to = stored;
            stored
        }
    }

    /// Whether a write can wait: one happened less than `every` ago.
    fn recently_written(&self, every: Duration) -> bool {
        self.written_at.is_some_and(|t| t.elapsed() < every)
    }

    fn wrote(&mut self, seq: i64) {
        *self = Ahead {
            stored: seq,
            read_to: seq,
            written_at: Some(Instant::now()),
        };
    }
}

/// Runs one batch of `consumer` as lease owner `owner`, writing the cursor whatever the batch
/// held. `Err` is a storage failure around the handler (nothing committed either).
pub async fn consume_batch(db: &Db, consumer: &Consumer, owner: &str) -> Result<Batch, StoreError> {
    consume_batch_ahead(db, consumer, owner, &mut Ahead::default()).await
}

/// [`consume_batch`] for a running consumer: a batch with nothing for the handler only moves
/// `ahead`, unless the cursor was last written `quiet_write` ago or more.
pub async fn consume_batch_ahead(
    db: &Db,
    consumer: &Consumer,
    owner: &str,
    ahead: &mut Ahead,
) -> Result<Batch, StoreError> {
    let now = unix_now_ms();
    let lease_ms = consumer.lease.as_millis() as i64;
    let cursor = ensure_cursor(db, consumer.name).await?;
    let ours = cursor.lease_owner.as_deref() == Some(owner);
    if !ours && cursor.lease_owner.is_some() && cursor.lease_until.unwrap_or(0) >= now {
        *ahead = Ahead::default();
        set_lag(db, consumer.name, cursor.last_seq).await;
        return Ok(Batch::Leased);
    }
    let from = ahead.start(cursor.last_seq);
    // Number what producers committed since (PostgreSQL), then read how far events go: every
    // event up to `horizon` is visible from now on (see `events_of_kinds`).
    sequence(db).await?;
    let horizon = latest_seq(db).await?;
    if horizon <= from {
        // Caught up; what was read quietly is written once it is due.
        if from > cursor.last_seq && !ahead.recently_written(consumer.quiet_write) {
            if !move_cursor(db, consumer, owner, cursor.last_seq, from).await? {
                *ahead = Ahead::default();
                return Ok(Batch::Lost);
            }
            ahead.wrote(from);
        }
        show_lag(consumer.name, 0);
        return Ok(Batch::Idle);
    }
    // Take (or take over) the lease before working, unless ours has most of its time left.
    if !(ours && cursor.lease_until.unwrap_or(0) > now + lease_ms / 2) {
        let took = sqlx::query(
            "UPDATE event_cursors SET lease_owner = $2, lease_until = $3, updated_at = $4 \
             WHERE consumer = $1 AND (lease_owner = $2 OR lease_owner IS NULL \
             OR lease_until IS NULL OR lease_until < $4)",
        )
        .bind(consumer.name)
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .execute(db.writer())
        .await?
        .rows_affected();
        if took == 0 {
            return Ok(Batch::Leased);
        }
    }
    // A consumer with nothing to do at all (no webhook endpoint) reads no event: it skips to
    // the horizon. Others read only their kinds, filtered by the database.
    let active = match &consumer.active {
        Some(check) => check(db).await?,
        None => true,
    };
    let read = if active {
        events_of_kinds(db, from, horizon, &consumer.kinds, consumer.batch as i64).await?
    } else {
        Vec::new()
    };
    // A full read may have more after it; otherwise everything up to the horizon is seen.
    let last_seq = match read.last() {
        Some(last) if read.len() >= consumer.batch => last.seq,
        _ => horizon,
    };
    let events = read.len();
    let matched: Vec<Event> = read
        .into_iter()
        .filter(|e| consumer.matches(&e.kind))
        .collect();
    let first_seq = matched.first().map_or(from + 1, |e| e.seq);
    if matched.is_empty() && ahead.recently_written(consumer.quiet_write) {
        ahead.read_to = last_seq;
        show_lag(consumer.name, horizon - last_seq);
        return Ok(Batch::Done {
            events,
            handled: 0,
            last_seq,
        });
    }

    let mut tx = db.begin_write().await?;
    // Compare-and-set first: it locks the cursor row, so a rival waits here, then matches nothing.
    let moved = sqlx::query(
        "UPDATE event_cursors SET last_seq = $2, lease_until = $3, updated_at = $4 \
         WHERE consumer = $1 AND last_seq = $5 AND lease_owner = $6",
    )
    .bind(consumer.name)
    .bind(last_seq)
    .bind(unix_now_ms() + lease_ms)
    .bind(unix_now_ms())
    .bind(cursor.last_seq)
    .bind(owner)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        let _ = tx.rollback().await;
        *ahead = Ahead::default();
        return Ok(Batch::Lost);
    }
    if !matched.is_empty()
        && let Err(error) = (consumer.handler)(&mut tx, &matched).await
    {
        let _ = tx.rollback().await;
        metrics::counter!("faro_outbox_failures_total", "consumer" => consumer.name).increment(1);
        return Ok(Batch::Failed {
            first_seq,
            last_seq,
            error,
        });
    }
    tx.commit().await?;
    ahead.wrote(last_seq);
    metrics::counter!("faro_outbox_handled_total", "consumer" => consumer.name)
        .increment(matched.len() as u64);
    show_lag(consumer.name, horizon - last_seq);
    Ok(Batch::Done {
        events,
        handled: matched.len(),
        last_seq,
    })
}

/// Writes the cursor from `stored` to `to` with nothing to handle (the compare-and-set of a
/// batch, alone); `false` when someone else moved it first or the lease is no longer ours.
async fn move_cursor(
    db: &Db,
    consumer: &Consumer,
    owner: &str,
    stored: i64,
    to: i64,
) -> Result<bool, StoreError> {
    let now = unix_now_ms();
    let moved = sqlx::query(
        "UPDATE event_cursors SET last_seq = $2, lease_until = $3, updated_at = $4 \
         WHERE consumer = $1 AND last_seq = $5 AND lease_owner = $6",
    )
    .bind(consumer.name)
    .bind(to)
    .bind(now + consumer.lease.as_millis() as i64)
    .bind(now)
    .bind(stored)
    .bind(owner)
    .execute(db.writer())
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// `faro_outbox_lag{consumer}`: events appended but not yet past the cursor. Best effort.
async fn set_lag(db: &Db, name: &'static str, last_seq: i64) {
    if let Ok(latest) = latest_seq(db).await {
        show_lag(name, latest - last_seq);
    }
}

/// Sets `faro_outbox_lag{consumer}` from a horizon the batch has read already.
fn show_lag(name: &'static str, lag: i64) {
    metrics::gauge!("faro_outbox_lag", "consumer" => name).set(lag.max(0) as f64);
}

/// The cursor row, created at seq 0 (the oldest stored event) on first use.
async fn ensure_cursor(db: &Db, name: &str) -> Result<Cursor, StoreError> {
    if let Some(c) = cursor_of(db, name).await? {
        return Ok(c);
    }
    sqlx::query(
        "INSERT INTO event_cursors (consumer, last_seq, updated_at) VALUES ($1, 0, $2) \
         ON CONFLICT (consumer) DO NOTHING",
    )
    .bind(name)
    .bind(unix_now_ms())
    .execute(db.writer())
    .await?;
    // Read back from the writer, as settings do: it certainly sees the row just written.
    let row = sqlx::query(
        "SELECT consumer, last_seq, lease_owner, lease_until, updated_at \
         FROM event_cursors WHERE consumer = $1",
    )
    .bind(name)
    .fetch_one(db.writer())
    .await?;
    Ok(Cursor {
        consumer: row.try_get(0)?,
        last_seq: row.try_get(1)?,
        lease_owner: row.try_get(2)?,
        lease_until: row.try_get(3)?,
        updated_at: row.try_get(4)?,
    })
}

/// Runs `consumer` until `stop` turns true: batch after batch while there are events; when idle
/// (or another instance holds the lease), waits for `wake` or `consumer.poll`. A failed batch is
/// logged and retried, the same batch, after a back-off doubling from `retry_min` to
/// `retry_max`: events are never skipped. On stop, a batch in progress finishes and the lease
/// is released.
pub async fn run_consumer(
    db: Db,
    consumer: Consumer,
    wake: Wake,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // One owner per run: a restarted process waits out its previous lease (or a clean stop
    // released it).
    let owner = format!("{}/{}", consumer.name, crate::new_id());
    let mut woken = wake.subscribe();
    let mut backoff = consumer.retry_min;
    let mut ahead = Ahead::default();
    loop {
        if *stop.borrow() {
            break;
        }
        // Mark wake-ups seen *before* looking, so one arriving while we look is not lost.
        woken.mark_unchanged();
        let wait = match consume_batch_ahead(&db, &consumer, &owner, &mut ahead).await {
            // A full batch: more may be waiting, read on at once.
            Ok(Batch::Done { events, .. }) if events >= consumer.batch => {
                backoff = consumer.retry_min;
                continue;
            }
            Ok(Batch::Lost) => {
                backoff = consumer.retry_min;
                continue;
            }
            // Caught up: wait for the next commit (or the poll).
            Ok(Batch::Done { .. }) => {
                backoff = consumer.retry_min;
                None
            }
            Ok(Batch::Idle | Batch::Leased) => {
                backoff = consumer.retry_min;
                None
            }
            Ok(Batch::Failed {
                first_seq,
                last_seq,
                error,
            }) => {
                tracing::warn!(consumer = consumer.name, first_seq, last_seq, error = %error,
                    retry_in_ms = backoff.as_millis() as u64, "event handler failed; will retry the batch");
                Some(backoff)
            }
            Err(error) => {
                tracing::warn!(consumer = consumer.name, error = %error,
                    retry_in_ms = backoff.as_millis() as u64, "event consumer failed; will retry");
                Some(backoff)
            }
        };
        match wait {
            Some(delay) => {
                backoff = (backoff * 2).min(consumer.retry_max);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stopped(&mut stop) => break,
                }
            }
            None => {
                let woke = tokio::select! {
                    _ = tokio::time::sleep(consumer.poll) => false,
                    _ = woken.changed() => true,
                    _ = stopped(&mut stop) => break,
                };
                if woke && !consumer.gather.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(consumer.gather) => {}
                        _ = stopped(&mut stop) => break,
                    }
                }
            }
        }
    }
    // Let another instance take over at once instead of after the lease.
    let released = sqlx::query(
        "UPDATE event_cursors SET lease_owner = NULL, lease_until = NULL \
         WHERE consumer = $1 AND lease_owner = $2",
    )
    .bind(consumer.name)
    .bind(&owner)
    .execute(db.writer())
    .await;
    if let Err(e) = released {
        tracing::warn!(consumer = consumer.name, error = %e, "could not release the consumer lease");
    }
}
