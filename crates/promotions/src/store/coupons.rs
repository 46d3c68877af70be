//! The coupons' SQL: codes are unique per tenant by the primary key, so two batches written
//! at once cannot both keep a code (the second's insert skips it and the use case draws
//! again).

use std::collections::HashSet;

use faro_store::{Db, StoreError, TenantId, multi_row, placeholders};

use super::Tx;

/// Rows per `INSERT`: 8 parameters each, far below both databases' limits.
const ROWS_PER_STATEMENT: usize = 500;

pub struct NewCoupon {
    pub code: String,
    pub promotion_id: Option<String>,
    pub kind: &'static str,
    pub doc: String,
    pub expires_at: Option<i64>,
    pub batch_id: Option<String>,
}

/// Inserts the coupons, skipping codes already taken; how many were written (fewer than
/// asked only when a concurrent batch took a code first).
pub async fn insert(
    tx: &mut Tx,
    tenant: &TenantId,
    coupons: &[NewCoupon],
    now: i64,
) -> Result<u64, StoreError> {
    let mut written = 0;
    for chunk in coupons.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO promotions_coupons (tenant_id, code, promotion_id, kind, doc, \
             expires_at, batch_id, created_at) VALUES {} \
             ON CONFLICT (tenant_id, code) DO NOTHING",
            placeholders(chunk.len(), 8)
        );
        let mut q = multi_row(sql, chunk.len());
        for c in chunk {
            q = q
                .bind(tenant.as_str())
                .bind(c.code.clone())
                .bind(c.promotion_id.clone())
                .bind(c.kind)
                .bind(c.doc.clone())
                .bind(c.expires_at)
                .bind(c.batch_id.clone())
                .bind(now);
        }
        written += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(written)
}

/// The tenant's codes a batch of this prefix and length could draw again.
pub async fn taken(
    tx: &mut Tx,
    tenant: &TenantId,
    prefix: &str,
    len: usize,
) -> Result<HashSet<String>, StoreError> {
    // The prefix is A-Z and 0-9 only (checked by the domain), so it holds no LIKE wildcard.
    let codes: Vec<String> = sqlx::query_scalar(
        "SELECT code FROM promotions_coupons WHERE tenant_id = $1 AND code LIKE $2 \
         AND LENGTH(code) = $3",
    )
    .bind(tenant.as_str())
    .bind(format!("{prefix}%"))
    .bind(len as i64)
    .fetch_all(&mut **tx)
    .await?;
    Ok(codes.into_iter().collect())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CouponRow {
    pub code: String,
    pub doc: String,
    pub batch_id: Option<String>,
    pub uses: i64,
    pub created_at: i64,
}

/// A page of a promotion's coupons by code, after `after` (`limit + 1` rows).
pub async fn list(
    db: &Db,
    tenant: &TenantId,
    promotion_id: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<CouponRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT code, doc, batch_id, uses, created_at FROM promotions_coupons \
         WHERE tenant_id = $1 AND promotion_id = $2 AND code > $3 ORDER BY code LIMIT $4",
    )
    .bind(tenant.as_str())
    .bind(promotion_id)
    .bind(after.unwrap_or(""))
    .bind(limit as i64 + 1)
    .fetch_all(db.reader())
    .await?)
}

/// Whether the promotion exists (read in the coupon's transaction, so a coupon never
/// outlives a promotion deleted at the same moment).
pub async fn promotion_exists(
    tx: &mut Tx,
    tenant: &TenantId,
    promotion_id: &str,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM promotions_promotions WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(promotion_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n == 1)
}
