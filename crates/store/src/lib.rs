//! Storage plumbing shared by every module: the database handle, migrations, the error type of
//! the storage layer, group commit, batched counters, instance-wide settings, the transactional
//! outbox through which modules talk to each other, and the job scheduler shared by instances.
//!
//! One code path serves SQLite and PostgreSQL: queries go through sqlx's `Any` driver with `$N`
//! placeholders (SQLite reads `$N` as the N-th parameter), and the migrations use a portable
//! subset of SQL. See `docs/decisions/0001-data-access.md` for why and for the measurements.

pub mod api_keys;
mod batch;
mod counters;
mod db;
mod error;
pub mod idempotency;
pub mod outbox;
pub mod quota;
pub mod request_errors;
pub mod revoked_tokens;
pub mod scheduler;
mod settings;
mod shutdown;
mod sql;
mod tenant;
#[cfg(feature = "testing")]
pub mod testing;
pub mod visitors;

pub use batch::{BatchOptions, BatchWrite, Batcher};
pub use counters::{CounterKey, Counters};
pub use db::{Backend, Db, DbOptions, MIGRATIONS, redact_url, sqlite_file};
pub use error::StoreError;
pub use outbox::{BoxFuture, Consumer, Event, NewEvent, Wake};
pub use scheduler::{Job, Scheduler, unix_now_ms};
pub use settings::{get_or_create_setting, get_setting, put_setting};
pub use sql::{multi_row, placeholders};
/// Migration sets: each module owns one, and the binary runs them together.
pub use sqlx::migrate::Migrator;
pub use tenant::{
    DEFAULT_TENANT, TenantId, TenantStateRow, staff_tokens_after_any_tenant,
    tenant_hosts_all_tenants, tenant_states_all_tenants,
};

/// Current time in unix seconds. Kept in one place so storage code never disagrees on the unit.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The UTC calendar day (`YYYY-MM-DD`) of a unix timestamp: the key of every daily aggregate.
pub fn day_of(unix: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A fresh public identifier. UUIDv7 keeps primary-key inserts roughly ordered (cheap B-tree
/// appends) while staying opaque to visitors.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_of_formats_utc_dates() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(1_795_000_000), "2026-11-18");
    }
}
