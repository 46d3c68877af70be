//! A purged tenant's bytes: the platform's purge deletes the tenant's rows (its files'
//! records among them) and publishes `tenant.purged`; this consumer then deletes every object
//! under the tenant's key prefix in the storage backend. Deleting is idempotent, so a retry
//! after a crash finishes the job.

use faro_store::{Consumer, StoreError, TenantId};
use serde::Deserialize;

use crate::FileStore;

const CONSUMER: &str = "files.tenant_purge";

#[derive(Deserialize)]
struct Purged {
    tenant_id: String,
}

pub fn consumer(store: FileStore) -> Consumer {
    Consumer::new(CONSUMER, move |_tx, events| {
        let store = store.clone();
        Box::pin(async move {
            for event in events {
                let p: Purged = event.payload_as()?;
                let deleted = store
                    .delete_tenant(&TenantId::new(p.tenant_id.as_str()))
                    .await
                    .map_err(|e| {
                        StoreError::Other(format!("deleting a purged tenant's files: {e}"))
                    })?;
                tracing::info!(tenant = %p.tenant_id, deleted, "a purged tenant's files deleted");
            }
            Ok(())
        })
    })
    .kinds(&["tenant.purged"])
}
