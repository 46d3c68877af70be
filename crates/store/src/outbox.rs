//! Transactional outbox: how one module reacts to what another did (a quiz finished, a lead
//! qualified) without depending on it.
//!
//! **Producers** call [`append`] inside the same write transaction as the state change: the
//! event exists exactly when the change does, and a rolled back change leaves no event. After
//! the commit they call [`Wake::notify`] so consumers look at once, here and (PostgreSQL, via
//! `NOTIFY` sent outside any producer transaction) in the other instances.
//!
//! **Consumers** ([`Consumer`], run by [`run_consumer`]) read events in `seq` order after their
//! cursor and hand them to a handler that runs in one transaction with the move of the cursor,
//! so a handler's own writes and "these events are done" commit together: each event is handled
//! exactly once per consumer, across instances and crashes.
//!
//! # Why `seq` order is commit order
//!
//! A consumer reads the horizon `MAX(seq)`, then the events of its kinds with
//! `last_seq < seq <= horizon`, and moves `last_seq` to the horizon (or to the last event of a
//! full batch). That is only safe if no event with a smaller seq can become visible later, i.e.
//! if seqs become visible in increasing order: then every event up to the horizon is visible to
//! the read that follows it.
//!
//! - **SQLite**: [`append`] numbers events as `MAX(seq) + n` (one multi-row `INSERT ...
//!   SELECT`) in a transaction begun with `BEGIN IMMEDIATE` ([`Db::begin_write`]), which holds
//!   the database's one write lock, across connections and processes, until the commit. So
//!   `MAX(seq)` sees every committed event and nobody else commits in between.
//! - **PostgreSQL**: [`append`] inserts events with `seq` NULL and takes no lock, so producers
//!   never wait for each other (an earlier design numbered at insert under an advisory lock
//!   held to the commit, and `NOTIFY` in the producer's transaction takes a database-wide lock
//!   at commit: together they serialised every quiz finish and cost 15% of session
//!   throughput). [`sequence`], which every consumer runs before it reads, numbers committed
//!   events in one `UPDATE` per batch under `pg_advisory_xact_lock(EVENTS_LOCK_KEY)`: numbering
//!   transactions run one at a time, each sees the previous one's seqs (its snapshot is taken
//!   after the lock is granted, and PostgreSQL makes a commit visible before releasing locks),
//!   so seqs appear in increasing order and a consumer never passes one still to come. Among
//!   events committed by the time of a numbering, the order is the producers' transaction ids
//!   (assigned at a transaction's first write, from one counter: a transaction that began
//!   after another committed comes after it, on any instance), then append order within a
//!   transaction (UUIDv7 ids from one process, sorted bytewise).
//!
//! Producers use the default READ COMMITTED isolation and may batch many events into one
//! transaction (group commit): that is how to go fast. Seqs stay contiguous, and
//! [`purge_delivered_all_tenants`] never deletes the newest event, so `MAX(seq)` never goes
//! backwards.

mod consumer;
mod events;
mod wake;

pub use consumer::{
    Ahead, Batch, Consumer, ConsumerTx, Handler, consume_batch, consume_batch_ahead, run_consumer,
};
pub use events::{
    BoxFuture, Cursor, Event, NOTIFY_CHANNEL, NewEvent, append, cursor_of, events_after,
    events_of_kinds, latest_seq, list_cursors, purge_delivered_all_tenants, remove_cursor,
    reset_cursor, sequence,
};
pub use wake::Wake;
