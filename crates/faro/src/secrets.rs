//! `faro secrets rotate`: re-seals every sealed value (each module declares its columns in
//! `Module::sealed`) with the newest key of `DATA_KEYS`, and seals values still in clear
//! (rows from before sealing). Run it after putting a new key first in `DATA_KEYS`; once it
//! reports nothing left under older keys, the old key can leave the list.
//!
//! Row by row, each its own short write keyed by the old value (compare-and-set): a value
//! changed meanwhile (a new endpoint secret) is left alone, and the command can be stopped
//! and run again at any time.

use faro_auth::seal::{Sealer, is_sealed};
use faro_http::module::SealedColumn;
use faro_store::{Db, StoreError};
use sqlx::Row;

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Values re-sealed with the newest key (or sealed for the first time).
    pub resealed: u64,
    /// Values already under the newest key.
    pub current: u64,
    /// Values that did not open (another place's, tampered, or an unknown key): listed by
    /// `table.column` and key, never their content.
    pub failed: Vec<String>,
}

const PAGE: i64 = 500;

pub async fn rotate(
    db: &Db,
    sealer: &Sealer,
    columns: &[SealedColumn],
) -> Result<Rotated, StoreError> {
    let mut out = Rotated::default();
    for c in columns {
        let mut after = String::new();
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {key}, {tenant} AS tenant_id, {col} FROM {table} \
                 WHERE {key} > $1 AND ({only}) ORDER BY {key} LIMIT $2",
                tenant = if c.tenantless { "''" } else { "tenant_id" },
                key = c.key,
                col = c.column,
                table = c.table,
                only = c.only.unwrap_or("1 = 1"),
            )))
            .bind(&after)
            .bind(PAGE)
            .fetch_all(db.reader())
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0)?;
            for r in &rows {
                let id: String = r.try_get(0)?;
                let tenant: String = r.try_get(1)?;
                let value: Option<String> = r.try_get(2)?;
                let Some(value) = value else { continue };
                let context = c.context_for(&tenant);
                let next = if is_sealed(&value) {
                    match sealer.reseal(&context, &value) {
                        Ok(Some(next)) => next,
                        Ok(None) => {
                            out.current += 1;
                            continue;
                        }
                        Err(e) => {
                            out.failed
                                .push(format!("{}.{} {id}: {e}", c.table, c.column));
                            continue;
                        }
                    }
                } else {
                    sealer.seal_str(&context, &value)
                };
                let n = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET {col} = $1 WHERE {key} = $2 AND {col} = $3",
                    key = c.key,
                    col = c.column,
                    table = c.table
                )))
                .bind(&next)
                .bind(&id)
                .bind(&value)
                .execute(db.writer())
                .await?
                .rows_affected();
                out.resealed += n;
            }
        }
    }
    Ok(out)
}
