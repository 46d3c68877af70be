//! The outbox's events and cursors: appending in the producer's transaction, reading after a
//! cursor, moving and purging. See the module documentation of `outbox` for the ordering
//! argument.

use std::future::Future;
use std::pin::Pin;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Backend, Db, StoreError, multi_row, placeholders};

/// A boxed, sendable future: what handlers and jobs return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The `LISTEN`/`NOTIFY` channel that wakes other instances' consumers on PostgreSQL.
pub const NOTIFY_CHANNEL: &str = "faro_events";

/// The advisory lock that serialises [`sequence`] on PostgreSQL ("faroevts").
const EVENTS_LOCK_KEY: i64 = 0x6661_726f_6576_7473;

/// Rows per `INSERT`: at most 7 parameters each, far below both engines' parameter limits.
const ROWS_PER_STATEMENT: usize = 500;

/// An event to append. `kind` is `"module.action"` (`"quiz.finished"`); `subject` is what it is
/// about (a session id, a user id); `payload` is JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub tenant: String,
    pub kind: String,
    pub subject: String,
    pub payload: String,
    /// Unix seconds; [`NewEvent::new`] sets the current time.
    pub occurred_at: i64,
}

impl NewEvent {
    /// An event with a JSON payload, occurring now.
    pub fn new(
        tenant: impl Into<String>,
        kind: impl Into<String>,
        subject: impl Into<String>,
        payload: &impl serde::Serialize,
    ) -> Result<NewEvent, StoreError> {
        Ok(NewEvent {
            tenant: tenant.into(),
            kind: kind.into(),
            subject: subject.into(),
            payload: serde_json::to_string(payload)
                .map_err(|e| StoreError::Other(format!("event payload: {e}")))?,
            occurred_at: crate::unix_now(),
        })
    }

    /// The same event, occurring at `unix` seconds (when the state change happened).
    pub fn at(mut self, unix: i64) -> NewEvent {
        self.occurred_at = unix;
        self
    }
}

/// A stored event: the envelope `{id, tenant, kind, subject, payload, occurred_at}` plus its
/// delivery position `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub seq: i64,
    pub id: String,
    pub tenant: String,
    pub kind: String,
    pub subject: String,
    /// JSON text, as appended.
    pub payload: String,
    /// Unix seconds.
    pub occurred_at: i64,
}

impl Event {
    /// The payload parsed as `T`.
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_str(&self.payload)
            .map_err(|e| StoreError::corrupt(format!("payload of event {}: {e}", self.id)))
    }
}

/// A consumer's position, for admin views and replays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub consumer: String,
    /// Every event up to and including this seq is handled.
    pub last_seq: i64,
    pub lease_owner: Option<String>,
    /// Unix milliseconds.
    pub lease_until: Option<i64>,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// Appends `events` in the caller's write transaction (from [`Db::begin_write`]) and returns
/// their ids, in append order; consumers receive them in that order.
///
/// On SQLite they are numbered here (the transaction holds the one write lock until it ends,
/// so call it late, as any write); on PostgreSQL they are inserted unnumbered and take no lock,
/// and [`sequence`] numbers them once committed. After the commit, call [`Wake::notify`]: it
/// wakes this process's consumers and, through [`Wake::listen_postgres`], other instances'.
///
/// [`Wake::notify`]: super::Wake::notify
/// [`Wake::listen_postgres`]: super::Wake::listen_postgres
pub async fn append(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    events: &[NewEvent],
) -> Result<Vec<String>, StoreError> {
    for e in events {
        check_kind(&e.kind)?;
    }
    let mut ids = Vec::with_capacity(events.len());
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        // The sequencer numbers by (transaction id, id): a transaction that started after
        // another committed has a larger id, whichever instance ran it, and UUIDv7s from one
        // process sort in creation order, so a transaction's events keep their append order.
        let chunk_ids: Vec<String> = chunk.iter().map(|_| crate::new_id()).collect();
        let sql = match backend {
            // The uncorrelated MAX is evaluated once per statement; column1 numbers the rows.
            Backend::Sqlite => format!(
                "INSERT INTO events (seq, id, tenant_id, kind, subject, payload, occurred_at) \
                 SELECT (SELECT COALESCE(MAX(seq), 0) FROM events) + v.column1, v.column2, \
                 v.column3, v.column4, v.column5, v.column6, v.column7 FROM (VALUES {}) AS v",
                placeholders(chunk.len(), 7)
            ),
            Backend::Postgres => format!(
                "INSERT INTO events (id, tenant_id, kind, subject, payload, occurred_at, tx) \
                 SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, \
                 pg_current_xact_id()::text::bigint FROM (VALUES {}) AS v",
                placeholders(chunk.len(), 6)
            ),
        };
        let mut q = multi_row(sql, chunk.len());
        for (i, (e, id)) in chunk.iter().zip(&chunk_ids).enumerate() {
            if backend == Backend::Sqlite {
                q = q.bind(i as i64 + 1);
            }
            q = q
                .bind(id)
                .bind(&e.tenant)
                .bind(&e.kind)
                .bind(&e.subject)
                .bind(&e.payload)
                .bind(e.occurred_at);
        }
        q.execute(&mut **tx).await?;
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// Events numbered per [`sequence`] transaction: bounds its locks and its WAL.
const SEQUENCE_CHUNK: i64 = 5_000;

/// Numbers committed, unnumbered events (PostgreSQL; a no-op on SQLite, which numbers at
/// append) and returns how many. Consumers call it before each read, so nobody else needs to.
///
/// Why this keeps `seq` order equal to commit order: numbering transactions are serialised by
/// `pg_advisory_xact_lock(EVENTS_LOCK_KEY)`; each `UPDATE` takes its snapshot after the lock
/// is granted, so it sees every earlier numbering (PostgreSQL makes a commit visible before it
/// releases its locks) and numbers from `MAX(seq) + 1`. Seqs therefore become visible in
/// increasing order, one numbering at a time, and a consumer that passed seq `n` can never
/// later meet a smaller one. A producer still in flight is simply numbered by a later call.
pub async fn sequence(db: &Db) -> Result<u64, StoreError> {
    if db.backend() != Backend::Postgres {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        // The probe reads the small partial index and takes no lock: the usual answer is "none".
        let waiting = sqlx::query("SELECT 1 FROM events WHERE seq IS NULL LIMIT 1")
            .fetch_optional(db.writer())
            .await?;
        if waiting.is_none() {
            return Ok(total);
        }
        let mut tx = db.writer().begin().await?;
        sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)")
            .bind(EVENTS_LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        // Transaction order first (see `append`), then creation order within a transaction;
        // `COLLATE "C"`: byte order, which is UUIDv7 creation order whatever the collation.
        let n = sqlx::query(
            "UPDATE events SET seq = m.top + n.rn \
             FROM (SELECT id, row_number() OVER (ORDER BY tx, id COLLATE \"C\") AS rn \
                   FROM events WHERE seq IS NULL ORDER BY tx, id COLLATE \"C\" LIMIT $1) AS n, \
                  (SELECT COALESCE(MAX(seq), 0) AS top FROM events) AS m \
             WHERE events.id = n.id",
        )
        .bind(SEQUENCE_CHUNK)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        total += n;
        if n < SEQUENCE_CHUNK as u64 {
            return Ok(total);
        }
    }
}

/// `"module.action"`: two non-empty parts of lowercase letters, digits and `_`.
fn check_kind(kind: &str) -> Result<(), StoreError> {
    let ok = kind.split_once('.').is_some_and(|(m, a)| {
        [m, a].iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
    });
    if ok {
        Ok(())
    } else {
        Err(StoreError::Other(format!(
            "event kind {kind:?} is not \"module.action\""
        )))
    }
}

const EVENT_COLUMNS: &str = "seq, id, tenant_id, kind, subject, payload, occurred_at";

fn event_of(r: &AnyRow) -> Result<Event, StoreError> {
    Ok(Event {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        tenant: r.try_get(2)?,
        kind: r.try_get(3)?,
        subject: r.try_get(4)?,
        payload: r.try_get(5)?,
        occurred_at: r.try_get(6)?,
    })
}

/// Up to `limit` events after `seq`, in seq order (every tenant: consumers are instance-wide).
pub async fn events_after(db: &Db, seq: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"
    )))
    .bind(seq)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(event_of).collect()
}

/// Up to `limit` events with `after < seq <= upto` whose kind is one of `kinds` (exact, or a
/// `"module.*"` prefix; empty: every kind), in seq order. The filter runs in the database, so
/// a consumer of a few kinds does not fetch the payloads of the many it skips. `upto` is a
/// horizon read before (see [`latest_seq`]): every event up to it is visible by then, so a
/// read that returns fewer than `limit` has seen every matching event up to `upto`.
pub async fn events_of_kinds(
    db: &Db,
    after: i64,
    upto: i64,
    kinds: &[String],
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let mut filter = Vec::new();
    let mut exact = Vec::new();
    let mut prefixes = Vec::new();
    for k in kinds {
        match k.strip_suffix('*') {
            Some(prefix) => prefixes.push(format!("{prefix}%")),
            None => exact.push(k.as_str()),
        }
    }
    let mut n = 3;
    if !exact.is_empty() {
        let list: Vec<String> = (0..exact.len())
            .map(|i| format!("${}", n + 1 + i))
            .collect();
        n += exact.len();
        filter.push(format!("kind IN ({})", list.join(", ")));
    }
    for _ in &prefixes {
        n += 1;
        // `_` in a kind is a LIKE wildcard too: a near miss is dropped by the caller's
        // `Consumer::matches`, which has the last word.
        filter.push(format!("kind LIKE ${n}"));
    }
    let kinds_sql = if filter.is_empty() {
        String::new()
    } else {
        format!(" AND ({})", filter.join(" OR "))
    };
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 AND seq <= $2{kinds_sql} \
         ORDER BY seq LIMIT $3"
    );
    let mut q = crate::multi_row(sql, 1).bind(after).bind(upto).bind(limit);
    for k in exact {
        q = q.bind(k);
    }
    for p in prefixes {
        q = q.bind(p);
    }
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter().map(event_of).collect()
}

/// The highest seq appended so far (0 when there is none).
pub async fn latest_seq(db: &Db) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM events")
        .fetch_one(db.reader())
        .await?
        .try_get(0)?)
}

const CURSOR_COLUMNS: &str = "consumer, last_seq, lease_owner, lease_until, updated_at";

fn cursor_of_row(r: &AnyRow) -> Result<Cursor, StoreError> {
    Ok(Cursor {
        consumer: r.try_get(0)?,
        last_seq: r.try_get(1)?,
        lease_owner: r.try_get(2)?,
        lease_until: r.try_get(3)?,
        updated_at: r.try_get(4)?,
    })
}

/// Where `consumer` stands, if it ever ran (or was reset).
pub async fn cursor_of(db: &Db, consumer: &str) -> Result<Option<Cursor>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CURSOR_COLUMNS} FROM event_cursors WHERE consumer = $1"
    )))
    .bind(consumer)
    .fetch_optional(db.reader())
    .await?
    .as_ref()
    .map(cursor_of_row)
    .transpose()
}

/// Every consumer's position, by name.
pub async fn list_cursors(db: &Db) -> Result<Vec<Cursor>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CURSOR_COLUMNS} FROM event_cursors ORDER BY consumer"
    )))
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(cursor_of_row).collect()
}

/// Moves `consumer`'s cursor to `to_seq` (creating it if needed): `0` replays everything still
/// stored, a higher value skips ahead. Safe while the consumer runs: its next compare-and-set
/// fails, and it continues from `to_seq`.
pub async fn reset_cursor(db: &Db, consumer: &str, to_seq: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO event_cursors (consumer, last_seq, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (consumer) DO UPDATE SET last_seq = excluded.last_seq, \
         updated_at = excluded.updated_at",
    )
    .bind(consumer)
    .bind(to_seq)
    .bind(crate::unix_now_ms())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Forgets a retired consumer, whose cursor would otherwise hold back
/// [`purge_delivered_all_tenants`] forever. Returns whether it existed.
pub async fn remove_cursor(db: &Db, consumer: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("DELETE FROM event_cursors WHERE consumer = $1")
        .bind(consumer)
        .execute(db.writer())
        .await?
        .rows_affected()
        > 0)
}

/// Rows per purge statement, so the SQLite writer is never held long.
const PURGE_CHUNK: i64 = 5_000;

/// Deletes events older than `older_than_days` that every consumer has handled, and returns how
/// many. The newest event is always kept, so seqs never restart below a cursor. With no cursor
/// at all, age alone decides. A consumer that never runs again holds everything back: retire it
/// with [`remove_cursor`].
pub async fn purge_delivered_all_tenants(db: &Db, older_than_days: i64) -> Result<u64, StoreError> {
    let cutoff = crate::unix_now() - older_than_days.max(0) * 86_400;
    // Unnumbered events are never purged; numbering them here keeps an installation without
    // any consumer from growing them forever.
    sequence(db).await?;
    let mut total = 0;
    loop {
        let n = sqlx::query(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events \
             WHERE occurred_at < $1 \
             AND seq < (SELECT MAX(seq) FROM events) \
             AND seq <= COALESCE((SELECT MIN(last_seq) FROM event_cursors), \
                                 (SELECT MAX(seq) FROM events)) \
             ORDER BY seq LIMIT $2)",
        )
        .bind(cutoff)
        .bind(PURGE_CHUNK)
        .execute(db.writer())
        .await?
        .rows_affected();
        total += n;
        if n < PURGE_CHUNK as u64 {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_module_dot_action() {
        assert!(check_kind("quiz.finished").is_ok());
        assert!(check_kind("lead_2.qualified").is_ok());
        for bad in [
            "quiz",
            "quiz.",
            ".finished",
            "Quiz.finished",
            "quiz.fin-ished",
            "",
        ] {
            assert!(check_kind(bad).is_err(), "{bad}");
        }
    }
}
