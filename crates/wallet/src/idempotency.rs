//! `Idempotency-Key` for the writes that move value (conventions): the first completed
//! response is stored with a hash of the request, in the same transaction as its effects; the
//! same key and body replays it, the same key with another body is 409. Keys are scoped per
//! caller and endpoint. A refusal (4xx) rolls back and stores nothing.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::WalletError;
use crate::store::{self, Tx};
use faro_store::TenantId;

/// What a write answers: the body, and whether it is the stored first answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub body: serde_json::Value,
    pub replayed: bool,
}

/// The key a request sent, checked.
pub fn key(sent: Option<&str>) -> Result<String, WalletError> {
    let key = sent.ok_or(WalletError::MissingKey)?;
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(WalletError::BadKey);
    }
    Ok(key.to_owned())
}

/// The hash a key is bound to: the endpoint's parsed request (its fields in a fixed order).
pub fn hash(request: &impl Serialize) -> Result<String, WalletError> {
    let bytes = serde_json::to_vec(request)
        .map_err(|e| WalletError::Store(faro_store::StoreError::corrupt(e)))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// A transfer id derived from the caller and key: the ledger's own retry guard.
pub fn transfer_id(code: &str, actor: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(actor.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    format!("{code}:{}", &hex::encode(h.finalize())[..40])
}

/// Call with the accounts' locks held: the stored reply to this key, or `KeyReused`, or
/// `None` when the key is new.
pub async fn earlier(
    tx: &mut Tx,
    tenant: &TenantId,
    scope: &str,
    actor: &str,
    key: &str,
    hash: &str,
) -> Result<Option<Reply>, WalletError> {
    let Some(stored) = store::stored_response(tx, tenant, scope, actor, key).await? else {
        return Ok(None);
    };
    if stored.hash != hash {
        return Err(WalletError::KeyReused);
    }
    let body = serde_json::from_str(&stored.body)
        .map_err(|e| WalletError::Store(faro_store::StoreError::corrupt(e)))?;
    Ok(Some(Reply {
        body,
        replayed: true,
    }))
}

/// Stores the first reply (status 201) in `tx`.
#[allow(clippy::too_many_arguments)]
pub async fn remember(
    tx: &mut Tx,
    tenant: &TenantId,
    scope: &str,
    actor: &str,
    key: &str,
    hash: &str,
    body: &impl Serialize,
    now: i64,
) -> Result<Reply, WalletError> {
    let body = serde_json::to_value(body)
        .map_err(|e| WalletError::Store(faro_store::StoreError::corrupt(e)))?;
    store::store_response(
        tx,
        tenant,
        scope,
        actor,
        key,
        hash,
        201,
        &body.to_string(),
        now,
    )
    .await?;
    Ok(Reply {
        body,
        replayed: false,
    })
}
