//! `promotion.started` and `promotion.ended`, once per boundary: a scheduled job reads where
//! it last looked for each tenant (`previous`), asks the domain for the boundaries crossed in
//! `(previous, now]` and, in one transaction, publishes them and moves the mark to `now`. A
//! boundary is published exactly when the mark moves past it, so a crash, a late tick or two
//! instances change nothing: each event exists once. A promotion created (or moved) with a
//! boundary already behind the mark has none published for it: nothing is replayed.

use std::time::Duration;

use faro_promotions_domain::{Promotion, transitions};
use faro_store::{Db, Job, NewEvent, StoreError, TenantId, unix_now};
use serde_json::json;

use crate::store;

/// The job's name (its row in `jobs`): stable across releases.
pub const JOB: &str = "promotions.windows";

/// How often the job looks: a boundary is published at most this late.
pub const EVERY: Duration = Duration::from_secs(60);

pub fn job(wake: faro_store::Wake) -> Job {
    Job::new(JOB, EVERY, move |db: Db| {
        let wake = wake.clone();
        async move {
            let mut published = 0;
            for t in store::window_tenants(&db).await? {
                published += tenant(&db, &TenantId::new(t.as_str()), unix_now()).await?;
            }
            if published > 0 {
                wake.notify();
            }
            Ok::<_, StoreError>(())
        }
    })
}

/// Publishes the tenant's boundaries up to `now`; how many.
pub async fn tenant(db: &Db, tenant: &TenantId, now: i64) -> Result<usize, StoreError> {
    let mut tx = db.begin_write().await?;
    let previous = store::lock_window(&mut tx, db.backend(), tenant, now).await?;
    if now <= previous {
        return Ok(0);
    }
    let mut promotions = Vec::new();
    for doc in store::promotion_docs(&mut tx, tenant).await? {
        match serde_json::from_str::<Promotion>(&doc) {
            Ok(p) => promotions.push(p),
            Err(e) => {
                tracing::warn!(tenant = %tenant.as_str(), error = %e, "a promotion that does not parse")
            }
        }
    }
    let crossed = transitions(&promotions, previous, now);
    let mut events = Vec::with_capacity(crossed.len());
    for t in &crossed {
        let Some(p) = promotions.iter().find(|p| p.id == t.promotion_id) else {
            continue;
        };
        events.push(
            NewEvent::new(
                tenant.as_str(),
                t.boundary.event(),
                &p.id,
                &json!({"promotion_id": p.id, "name": p.name, "at": t.at,
                        "starts_at": p.window.starts_at, "ends_at": p.window.ends_at}),
            )?
            .at(t.at),
        );
    }
    if !store::move_window(&mut tx, tenant, previous, now).await? {
        // Another run moved the mark first: it published these.
        return Ok(0);
    }
    faro_store::outbox::append(&mut tx, db.backend(), &events).await?;
    tx.commit().await?;
    Ok(events.len())
}
