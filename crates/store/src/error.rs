use thiserror::Error;

/// The storage layer's one error type. The HTTP layer maps it once: `Unavailable` to 503,
/// `Conflict` to 409, the rest to 500. `Clone` so one failed batch of writes can answer
/// each of its callers.
#[derive(Clone, Debug, Error)]
pub enum StoreError {
    /// The database cannot be reached right now (down, restarting, pool exhausted). Retryable.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused the write; carries the constraint or column it names.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database answered with something the code did not expect (corrupt row, bad JSON).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The file or directory cannot be written (read-only file, full disk).
    #[error("database is not writable: {0}")]
    ReadOnly(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(err.to_string())
            }
            sqlx::Error::Tls(_) => StoreError::Unavailable(err.to_string()),
            sqlx::Error::Database(db) => {
                let msg = db.message().to_string();
                if db.is_unique_violation() {
                    StoreError::Conflict(db.constraint().unwrap_or(&msg).to_string())
                } else if is_read_only(&msg) {
                    StoreError::ReadOnly(msg)
                } else if is_unavailable(db.code().as_deref(), &msg) {
                    StoreError::Unavailable(msg)
                } else {
                    StoreError::Other(msg)
                }
            }
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::TypeNotFound { .. } => StoreError::Corrupt(err.to_string()),
            _ => StoreError::Other(err.to_string()),
        }
    }
}

fn is_read_only(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("readonly")
        || m.contains("read-only")
        || m.contains("database or disk is full")
        || m.contains("read only")
}

/// PostgreSQL answers these while shutting down or starting up (class 57P: operator
/// intervention, 08: connection exception); SQLite says "database is locked" past busy_timeout.
fn is_unavailable(code: Option<&str>, msg: &str) -> bool {
    code.is_some_and(|c| c.starts_with("57P") || c.starts_with("08") || c == "53300")
        || msg.contains("database is locked")
}

impl StoreError {
    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}
