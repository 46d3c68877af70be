use sqlx::Row;

use crate::{Db, StoreError, unix_now};

/// Reads an instance-wide setting.
pub async fn get_setting(db: &Db, key: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(db.reader())
        .await?;
    row.map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
        .transpose()
}

/// Writes (or replaces) an instance-wide setting.
pub async fn put_setting(db: &Db, key: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (key, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .bind(unix_now())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Returns the stored value, or stores `make()` and returns it. When several instances start
/// at once, the first insert wins and every instance reads the same winner back.
pub async fn get_or_create_setting(
    db: &Db,
    key: &str,
    make: impl FnOnce() -> String,
) -> Result<String, StoreError> {
    if let Some(v) = get_setting(db, key).await? {
        return Ok(v);
    }
    sqlx::query(
        "INSERT INTO settings (key, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(make())
    .bind(unix_now())
    .execute(db.writer())
    .await?;
    // Read back from the writer: on SQLite the reader pool could be a snapshot behind.
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_one(db.writer())
        .await?;
    Ok(row.try_get::<String, _>(0)?)
}
