//! The demo content of a fresh install: the domain's demo promotions (a welcome coupon's 10 %
//! off a first order, a summer 2×1, bonus credits from 30.00, a Gold members' 5 %) and the
//! welcome coupon `WELCOME10`, on the default tenant.

use faro_promotions_domain::demo;
use faro_store::{Db, StoreError, TenantId, unix_now};

use crate::coupons::code_format;
use crate::store::{self, PromotionWrite, coupons as coupon_store};

/// Seeds the demo unless the tenant has promotions: true when it did.
pub async fn seed(db: &Db, tenant: &TenantId) -> Result<bool, StoreError> {
    let now = unix_now();
    let mut tx = db.begin_write().await?;
    if store::count_promotions(&mut tx, tenant).await? > 0 {
        return Ok(false);
    }
    let promotions = demo::promotions();
    let ids: Vec<&str> = promotions.iter().map(|p| p.id.as_str()).collect();
    for p in &promotions {
        let problems = p.check(&crate::manage::tier_names());
        if !problems.is_empty() {
            return Err(StoreError::Other(format!(
                "demo promotion {}: {problems:?}",
                p.id
            )));
        }
        let doc = serde_json::to_string(p).map_err(|e| StoreError::Other(e.to_string()))?;
        let write = PromotionWrite {
            id: &p.id,
            name: &p.name,
            doc: &doc,
            starts_at: p.window.starts_at,
            ends_at: p.window.ends_at,
            at: now,
        };
        store::insert_promotion(&mut tx, tenant, &write).await?;
    }
    let mut rows = Vec::new();
    for c in demo::coupons() {
        let problems = c.check(&code_format(), &ids);
        if !problems.is_empty() {
            return Err(StoreError::Other(format!(
                "demo coupon {}: {problems:?}",
                c.code
            )));
        }
        rows.push(crate::coupons::new_row(&c, None)?);
    }
    coupon_store::insert(&mut tx, tenant, &rows, now).await?;
    tx.commit().await?;
    Ok(true)
}
