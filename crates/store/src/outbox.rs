//! Transactional outbox: how one module reacts to what another did (a quiz finished, a lead
//! qualified) without depending on it.
//!
//! **Producers** call [`append`] inside the same write transaction as the state change, as its
//! last statement before `COMMIT`: the event exists exactly when the change does, and a rolled
//! back change leaves no event. After the commit they call [`Wake::notify`] so consumers in this
//! process look at once.
//!
//! **Consumers** ([`Consumer`], run by [`run_consumer`]) read events in `seq` order after their
//! cursor and hand them to a handler that runs in one transaction with the move of the cursor,
//! so a handler's own writes and "these events are done" commit together: each event is handled
//! exactly once per consumer, across instances and crashes.
//!
//! # Why `seq` order is commit order
//!
//! A consumer reads `seq > last_seq` and then moves `last_seq` to the highest seq it saw. That is
//! only safe if no event with a smaller seq can become visible later, i.e. if seqs become visible
//! in commit order. [`append`] allocates seqs as `MAX(seq) + n` (one multi-row `INSERT ...
//! SELECT`) while event-writing transactions are serialised from the allocation to the commit:
//!
//! - **SQLite**: write transactions start with `BEGIN IMMEDIATE` ([`Db::begin_write`]), which
//!   takes the database's one write lock, across connections and processes, until the commit.
//!   So `MAX(seq)` sees every committed event, and nobody else can commit between the
//!   allocation and our commit.
//! - **PostgreSQL**: [`append`] first takes `pg_advisory_xact_lock(EVENTS_LOCK_KEY)`, held
//!   until the transaction ends. A transaction that allocates after us waits for that lock; the
//!   lock is released only after our commit is visible (PostgreSQL marks a transaction committed
//!   before it releases its locks), and the `INSERT` that reads `MAX(seq)` takes its snapshot
//!   after the lock is granted (READ COMMITTED: a snapshot per statement), so it sees our rows.
//!   Hence at any moment the committed events are exactly the seqs `1..=M` (less purged ones),
//!   plus at most one in-flight transaction holding seqs above `M`; a consumer can never pass a
//!   seq that is still to come.
//!
//! Consequences producers must respect: **append last, just before commit** (on PostgreSQL the
//! lock serialises every event-writing transaction from the append to its commit, so work done
//! after the append lengthens everyone's wait and, if it waits on a row another producer holds
//! while that producer waits for the lock, PostgreSQL breaks the deadlock by aborting one); use
//! the default READ COMMITTED isolation (under REPEATABLE READ a snapshot taken before the lock
//! would reuse a seq, which the primary key refuses: a loud failure, never a silent skip).
//! Batching many events into one transaction (group commit) is how to go fast.
//!
//! Seqs stay contiguous (a rolled back allocation is reused by the next producer), and
//! [`purge_delivered_all_tenants`] never deletes the newest event, so `MAX(seq)` never goes
//! backwards.

mod consumer;
mod events;
mod wake;

pub use consumer::{Batch, Consumer, ConsumerTx, Handler, consume_batch, run_consumer};
pub use events::{
    BoxFuture, Cursor, Event, NOTIFY_CHANNEL, NewEvent, append, cursor_of, events_after,
    latest_seq, list_cursors, purge_delivered_all_tenants, remove_cursor, reset_cursor,
};
pub use wake::Wake;
