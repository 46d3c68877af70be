//! Every SQL statement of the promotions module but the coupons' (`store/coupons.rs`). A
//! promotion's document is written whole, with its window copied into columns so "active
//! now" is one indexed query on both databases.

use faro_store::{Backend, Db, StoreError, TenantId};

pub mod coupons;

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

// ---- promotions -----------------------------------------------------------------------------

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PromotionRow {
    pub id: String,
    pub doc: String,
    pub uses: i64,
    pub spent: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const PROMOTION: &str = "id, doc, uses, spent, created_at, updated_at";

/// What a promotion's row holds besides its counters.
pub struct PromotionWrite<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub doc: &'a str,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub at: i64,
}

/// Inserts a promotion; `false` when the id is taken in the tenant.
pub async fn insert_promotion(
    tx: &mut Tx,
    tenant: &TenantId,
    p: &PromotionWrite<'_>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO promotions_promotions (tenant_id, id, name, doc, starts_at, ends_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (tenant_id, id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(p.id)
    .bind(p.name)
    .bind(p.doc)
    .bind(p.starts_at)
    .bind(p.ends_at)
    .bind(p.at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a promotion's document and window; `false` when there is no such promotion.
pub async fn update_promotion(
    tx: &mut Tx,
    tenant: &TenantId,
    p: &PromotionWrite<'_>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE promotions_promotions SET name = $3, doc = $4, starts_at = $5, ends_at = $6, \
         updated_at = $7 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(p.id)
    .bind(p.name)
    .bind(p.doc)
    .bind(p.starts_at)
    .bind(p.ends_at)
    .bind(p.at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a promotion with its coupons and every count of their uses; `false` when there
/// was no such promotion.
pub async fn delete_promotion(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &str,
) -> Result<bool, StoreError> {
    sqlx::query(
        "DELETE FROM promotions_user_uses WHERE tenant_id = $1 AND (offer = $2 OR offer IN \
         (SELECT 'coupon:' || code FROM promotions_coupons WHERE tenant_id = $1 \
         AND promotion_id = $3))",
    )
    .bind(tenant.as_str())
    .bind(format!("promotion:{id}"))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM promotions_coupons WHERE tenant_id = $1 AND promotion_id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let done = sqlx::query("DELETE FROM promotions_promotions WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A promotion's document, read in the transaction that changes it.
pub async fn promotion_doc(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar(
            "SELECT doc FROM promotions_promotions WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?,
    )
}

/// The tenant's promotions (counted in the writing transaction, for the cap).
pub async fn count_promotions(tx: &mut Tx, tenant: &TenantId) -> Result<i64, StoreError> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM promotions_promotions WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&mut **tx)
            .await?;
    Ok(n)
}

pub async fn promotion(
    db: &Db,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<PromotionRow>, StoreError> {
    let sql =
        format!("SELECT {PROMOTION} FROM promotions_promotions WHERE tenant_id = $1 AND id = $2");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(db.reader())
        .await?)
}

/// A page of the tenant's promotions by id, after `after`: `limit + 1` rows, so the caller
/// knows whether there is a next page.
pub async fn list_promotions(
    db: &Db,
    tenant: &TenantId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<PromotionRow>, StoreError> {
    let sql = format!(
        "SELECT {PROMOTION} FROM promotions_promotions WHERE tenant_id = $1 AND id > $2 \
         ORDER BY id LIMIT $3"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(after.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(db.reader())
        .await?)
}

/// The promotions whose window holds `now` (`[starts_at, ends_at)`), by id.
pub async fn active_promotions(
    db: &Db,
    tenant: &TenantId,
    now: i64,
) -> Result<Vec<PromotionRow>, StoreError> {
    let sql = format!(
        "SELECT {PROMOTION} FROM promotions_promotions WHERE tenant_id = $1 AND starts_at <= $2 \
         AND (ends_at IS NULL OR ends_at > $2) ORDER BY id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(now)
        .fetch_all(db.reader())
        .await?)
}

/// The documents of every promotion of the tenant, read in the window job's transaction.
pub async fn promotion_docs(tx: &mut Tx, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar(
            "SELECT doc FROM promotions_promotions WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant.as_str())
        .fetch_all(&mut **tx)
        .await?,
    )
}

// ---- people ---------------------------------------------------------------------------------

/// How often `user` used `offer` (`promotion:<id>`, `coupon:<code>`).
pub async fn user_uses(
    db: &Db,
    tenant: &TenantId,
    offer: &str,
    user: &str,
) -> Result<i64, StoreError> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT uses FROM promotions_user_uses WHERE tenant_id = $1 AND offer = $2 \
         AND user_id = $3",
    )
    .bind(tenant.as_str())
    .bind(offer)
    .bind(user)
    .fetch_optional(db.reader())
    .await?;
    Ok(n.unwrap_or(0))
}

/// The user's paid orders, as the outbox told them.
pub async fn paid_orders(db: &Db, tenant: &TenantId, user: &str) -> Result<i64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM promotions_orders WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant.as_str())
    .bind(user)
    .fetch_one(db.reader())
    .await?;
    Ok(n)
}

/// Records a paid order once (a second delivery of the same order changes nothing).
pub async fn record_order(
    tx: &mut Tx,
    tenant: &str,
    order_ref: &str,
    user: &str,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO promotions_orders (tenant_id, order_ref, user_id, paid_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, order_ref) DO NOTHING",
    )
    .bind(tenant)
    .bind(order_ref)
    .bind(user)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Everything the module holds about `user`: their orders and their use counts.
pub async fn erase_user(tx: &mut Tx, tenant: &str, user: &str) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM promotions_orders WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM promotions_user_uses WHERE tenant_id = $1 AND user_id = $2",
    ] {
        sqlx::query(sql)
            .bind(tenant)
            .bind(user)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrderRow {
    pub order_ref: String,
    pub paid_at: i64,
}

/// The user's recorded orders (their GDPR export).
pub async fn orders_of(
    db: &Db,
    tenant: &TenantId,
    user: &str,
) -> Result<Vec<OrderRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT order_ref, paid_at FROM promotions_orders WHERE tenant_id = $1 AND user_id = $2 \
         ORDER BY paid_at, order_ref",
    )
    .bind(tenant.as_str())
    .bind(user)
    .fetch_all(db.reader())
    .await?)
}

// ---- the window job -------------------------------------------------------------------------

/// Tenants with promotions, or with a window already looked at.
pub async fn window_tenants(db: &Db) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT tenant_id FROM promotions_promotions UNION SELECT tenant_id FROM promotions_windows",
    )
    .fetch_all(db.reader())
    .await?)
}

/// When the job last looked at the tenant's windows, the row held until `tx` ends. A tenant
/// never looked at starts from its first promotion's creation (or `now` without any), so
/// nothing before the module knew of a promotion is replayed.
pub async fn lock_window(
    tx: &mut Tx,
    backend: Backend,
    tenant: &TenantId,
    now: i64,
) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO promotions_windows (tenant_id, checked_at) \
         SELECT $1, COALESCE(MIN(created_at), $2) FROM promotions_promotions WHERE tenant_id = $1 \
         ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let sql = format!("SELECT checked_at FROM promotions_windows WHERE tenant_id = $1{lock}");
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .fetch_one(&mut **tx)
        .await?)
}

/// Moves the tenant's mark from `previous` to `now`; `false` when someone else moved it.
pub async fn move_window(
    tx: &mut Tx,
    tenant: &TenantId,
    previous: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE promotions_windows SET checked_at = $3 WHERE tenant_id = $1 AND checked_at = $2",
    )
    .bind(tenant.as_str())
    .bind(previous)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
