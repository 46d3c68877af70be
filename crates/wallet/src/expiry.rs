//! The expiry job: pending holds whose end has passed give their credits back (`plan_expiry`),
//! each in its own short write transaction, so one slow tenant or a long backlog never holds
//! the write lock for long. A hold past its end can no longer be posted or voided anyway; this
//! only stops it counting against the user's available credits.
//!
//! Safe with any number of instances: the scheduler runs each slot once across them, and even
//! if two runs met, each expiry locks the hold's accounts and reads its state under the locks,
//! so the second finds it expired and the ledger refuses to expire it twice.

use std::time::Duration;

use faro_store::{Db, Job, StoreError, TenantId, unix_now};
use faro_wallet_domain::{Refusal, TransferId};

use crate::accounts;

/// The job's name (its row's key): stable across releases.
pub const JOB: &str = "wallet.expire_holds";

/// How many due holds one query takes; a run goes on while batches come back full.
const BATCH: i64 = 100;

/// A run stops after this many batches, leaving the rest to the next slot (seconds later).
const MAX_BATCHES: usize = 50;

pub fn job() -> Job {
    Job::new(JOB, Duration::from_secs(5), |db: Db| async move {
        let expired = expire_due(&db, unix_now()).await?;
        if expired > 0 {
            tracing::info!(expired, "wallet holds expired");
        }
        Ok::<_, StoreError>(())
    })
}

/// Expires every hold due at `now` (up to the run's bound) and says how many it expired.
pub async fn expire_due(db: &Db, now: i64) -> Result<usize, StoreError> {
    let unit = accounts::credits().map_err(|e| StoreError::Other(e.to_string()))?;
    let mut expired = 0;
    for _ in 0..MAX_BATCHES {
        let due = crate::store::holds::due(db, now, BATCH).await?;
        let mut progress = false;
        for (tenant, id) in &due {
            if expire_one(db, tenant, id, &unit, now).await? {
                expired += 1;
                progress = true;
            }
        }
        // A short batch was the last; one where nothing moved would only come back the same.
        if due.len() < BATCH as usize || !progress {
            break;
        }
    }
    Ok(expired)
}

/// Expires one hold in its own transaction; `false` when another run (or a post or void just
/// before its end) got there first.
async fn expire_one(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    unit: &faro_wallet_domain::Unit,
    now: i64,
) -> Result<bool, StoreError> {
    let Ok(pending) = TransferId::parse(id) else {
        return Err(StoreError::corrupt(format!("hold id {id:?}")));
    };
    let mut tx = db.begin_write().await?;
    match crate::store::holds::expire(&mut tx, db.backend(), tenant, &pending, unit, now).await? {
        Ok(()) => {
            tx.commit().await?;
            Ok(true)
        }
        Err(
            Refusal::PendingTransferAlreadyPosted { .. }
            | Refusal::PendingTransferAlreadyVoided { .. }
            | Refusal::PendingTransferExpired { .. }
            | Refusal::PendingTransferNotExpired { .. },
        ) => Ok(false),
        Err(other) => {
            tracing::warn!(tenant = %tenant.as_str(), hold = id, refusal = %other,
                "a due hold could not be expired");
            Ok(false)
        }
    }
}
