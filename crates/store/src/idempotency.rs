//! `Idempotency-Key` for the writes that move value (api conventions), shared by every module:
//! the first completed reply is stored with a hash of the request, **in the same transaction
//! as its effects**; the same key and body replays it, the same key with another body is
//! refused. Keys are scoped per caller and endpoint. A refusal (4xx) rolls back and stores
//! nothing, so fixing the request and retrying with the same key works.
//!
//! Look the key up only after taking the locks the write needs (the ledger's accounts, a row
//! `FOR UPDATE`): two concurrent requests with one key then cannot both apply.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{StoreError, TenantId};

/// What a write answers: the body, and whether it is the stored first answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    pub replayed: bool,
}

/// Why a key cannot be used; each module maps these onto its own error type.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error(
        "send an Idempotency-Key header (1 to 128 visible ASCII characters, a new one per \
         operation): a retry with the same key then returns the first result instead of \
         doing the operation twice"
    )]
    Missing,
    #[error("the Idempotency-Key must be 1 to 128 visible ASCII characters without spaces")]
    Bad,
    #[error(
        "this Idempotency-Key was already used with a different request: use a new key for a \
         new operation, or repeat the first request exactly"
    )]
    Reused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for IdempotencyError {
    fn from(e: sqlx::Error) -> Self {
        IdempotencyError::Store(e.into())
    }
}

/// The key a request sent, checked.
pub fn key(sent: Option<&str>) -> Result<String, IdempotencyError> {
    let key = sent.ok_or(IdempotencyError::Missing)?;
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(IdempotencyError::Bad);
    }
    Ok(key.to_owned())
}

/// The hash a key is bound to: the endpoint's parsed request (its fields in a fixed order),
/// so formatting and key order of the JSON sent do not matter.
pub fn hash(request: &impl Serialize) -> Result<String, StoreError> {
    let bytes = serde_json::to_vec(request).map_err(StoreError::corrupt)?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// An id derived from the caller and key (`<code>:<40 hex>`): a ledger transfer's or a
/// payment's, so the write's own uniqueness guards a retry too.
pub fn derived_id(code: &str, actor: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(actor.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    format!("{code}:{}", &hex::encode(h.finalize())[..40])
}

/// Call with the write's locks held: the stored reply to this key, or `Reused`, or `None`
/// when the key is new.
pub async fn earlier(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    tenant: &TenantId,
    scope: &str,
    actor: &str,
    key: &str,
    hash: &str,
) -> Result<Option<Reply>, IdempotencyError> {
    let row = sqlx::query(
        "SELECT request_hash, status, body FROM idempotency_replies WHERE tenant_id = $1 \
         AND scope = $2 AND actor = $3 AND idem_key = $4",
    )
    .bind(tenant.as_str())
    .bind(scope)
    .bind(actor)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let stored: String = row.try_get(0)?;
    if stored != hash {
        return Err(IdempotencyError::Reused);
    }
    let status: i64 = row.try_get(1)?;
    let body: String = row.try_get(2)?;
    Ok(Some(Reply {
        status: u16::try_from(status).map_err(StoreError::corrupt)?,
        body: serde_json::from_str(&body).map_err(StoreError::corrupt)?,
        replayed: true,
    }))
}

/// Stores the first reply in `tx` (committed with the write's effects).
#[allow(clippy::too_many_arguments)]
pub async fn remember(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    tenant: &TenantId,
    scope: &str,
    actor: &str,
    key: &str,
    hash: &str,
    status: u16,
    body: &impl Serialize,
    now: i64,
) -> Result<Reply, StoreError> {
    let body = serde_json::to_value(body).map_err(StoreError::corrupt)?;
    sqlx::query(
        "INSERT INTO idempotency_replies (tenant_id, scope, actor, idem_key, request_hash, \
         status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_str())
    .bind(scope)
    .bind(actor)
    .bind(key)
    .bind(hash)
    .bind(i64::from(status))
    .bind(body.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Reply {
        status,
        body,
        replayed: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(matches!(key(None), Err(IdempotencyError::Missing)));
        assert!(matches!(key(Some("")), Err(IdempotencyError::Bad)));
        assert!(matches!(key(Some("a b")), Err(IdempotencyError::Bad)));
        assert!(matches!(
            key(Some(&"k".repeat(129))),
            Err(IdempotencyError::Bad)
        ));
        assert_eq!(key(Some("order-1")).expect("a good key"), "order-1");
    }

    #[test]
    fn derived_ids_separate_actor_and_key() {
        let a = derived_id("grant", "ab", "c");
        assert_ne!(a, derived_id("grant", "a", "bc"));
        assert_eq!(a, derived_id("grant", "ab", "c"));
        assert!(a.starts_with("grant:") && a.len() == 46);
    }
}
